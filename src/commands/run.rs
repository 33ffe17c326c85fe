//! `podtui run [PATH]`: the engine without a UI. Event lines go to stderr (text or JSON); Ctrl-C or SIGTERM
//! stops the engine and leaves the pods running (the next start adopts them), unless `--cleanup-on-exit`.

use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{EngineArgs, LogFormat, RunArgs};
use crate::config::Common;
use crate::engine::backoff::BackoffConfig;
use crate::engine::events::EventType;
use crate::engine::worker::{PauseImage, WorkerSettings};
use crate::engine::{DockerState, Engine, EngineConfig, EngineEvent, Snapshot};
use crate::manifest::FileState;
use crate::text::escape_controls;

/// Engine settings from the flags.
pub fn engine_config(common: &Common, path: &std::path::Path, engine: &EngineArgs) -> EngineConfig {
    EngineConfig {
        state_dir: common.state_dir.clone(),
        sources: crate::manifest::SourcesConfig {
            last_good_dir: Some(common.state_dir.join("lastgood")),
            ..common.sources(Some(path))
        },
        settings: WorkerSettings {
            node: common.node_name.clone(),
            host_port_address: engine.host_port_address,
            backoff: BackoffConfig {
                initial: engine.backoff_initial,
                max: engine.backoff_max.max(engine.backoff_initial),
            },
            pause: match &engine.pause_image {
                Some(img) => PauseImage::Custom(img.clone()),
                None => PauseImage::Own,
            },
            termination_dir: Some(common.state_dir.join("termination")),
            probe_via: None,
            subpath_dir: Some(common.state_dir.join("subpaths")),
        },
        serve_socket: true,
    }
}

struct Printer {
    format: LogFormat,
}

impl Printer {
    /// One event line. In text, every field has its control characters escaped: file names, Docker's errors and
    /// container output quoted in messages can neither drive the terminal nor start a line that looks like an
    /// event of its own. (JSON escapes them itself.)
    fn line(&self, time: Timestamp, kind: &str, subject: &str, reason: &str, message: &str) {
        let mut err = std::io::stderr().lock();
        let _ = match self.format {
            LogFormat::Text => writeln!(
                err,
                "{} {kind:<7} {} {}: {}",
                time.strftime("%H:%M:%S"),
                escape_controls(subject),
                escape_controls(reason),
                escape_controls(message)
            ),
            LogFormat::Json => writeln!(
                err,
                "{}",
                serde_json::json!({"time": time, "type": kind, "object": subject, "reason": reason, "message": message})
            ),
        };
    }

    fn event(&self, e: &EngineEvent) {
        let kind = match e.event.kind {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        };
        let mut subject = e.pod.clone().unwrap_or_default();
        if !e.event.object.is_empty() {
            subject = format!("{subject} {}", e.event.object);
        }
        self.line(e.time, kind, &subject, &e.event.reason, &e.event.message);
    }

    /// Lines for what changed between two snapshots outside pod events: Docker and manifest files.
    fn diff(&self, prev: &Snapshot, next: &Snapshot) {
        let now = Timestamp::now();
        if std::mem::discriminant(&prev.docker) != std::mem::discriminant(&next.docker) {
            match &next.docker {
                DockerState::Connected(i) => self.line(
                    now,
                    "Normal",
                    "docker",
                    "Connected",
                    &format!("{} ({}, API {})", i.endpoint, i.engine(), i.api_version),
                ),
                DockerState::Disconnected {
                    endpoint, error, ..
                } => self.line(
                    now,
                    "Warning",
                    "docker",
                    "Disconnected",
                    &format!("{endpoint}: {error}; retrying"),
                ),
                DockerState::NodeHeld { held, .. } => {
                    self.line(now, "Warning", "docker", "NodeHeld", &held.to_string())
                }
                DockerState::Connecting { .. } => {}
            }
        }
        for f in &next.files {
            let before = prev.files.iter().find(|p| p.path == f.path);
            if before == Some(f) {
                continue;
            }
            let (kind, word) = match &f.state {
                FileState::Applied => ("Normal", "applied".to_string()),
                FileState::Invalid { stale: true } => (
                    "Warning",
                    "invalid (the running version is stale)".to_string(),
                ),
                FileState::Invalid { stale: false } => ("Warning", "invalid".to_string()),
                FileState::Conflict => ("Warning", "conflict".to_string()),
                FileState::Skipped { reason } => ("Normal", format!("skipped ({reason})")),
                FileState::Pending => continue,
            };
            let mut msg = word;
            if !f.pods.is_empty() {
                msg.push_str(&format!("; pods: {}", f.pods.join(", ")));
            }
            for c in &f.conflicts {
                msg.push_str(&format!(
                    "; pod {} is already defined in {}",
                    c.pod, c.owner
                ));
            }
            self.line(now, kind, &format!("manifest {}", f.path), "Manifest", &msg);
            for finding in &f.findings {
                self.line(
                    now,
                    if finding.is_error() {
                        "Warning"
                    } else {
                        "Normal"
                    },
                    &format!("manifest {}", f.path),
                    "Finding",
                    &finding.to_string(),
                );
            }
        }
        for f in &prev.files {
            if !next.files.iter().any(|n| n.path == f.path) {
                self.line(
                    now,
                    "Normal",
                    &format!("manifest {}", f.path),
                    "Manifest",
                    "deleted; its pods are removed",
                );
            }
        }
    }
}

/// Which container engine runs the pods, for the first line: the engine's first connection is waited for (at most
/// [`ENGINE_WAIT`]), so that the line can say `engine podman 4.3.1 at unix:///…`.
async fn engine_words(handle: &crate::engine::EngineHandle) -> String {
    let mut rx = handle.snapshot.clone();
    let settled = rx.wait_for(|s| !matches!(s.docker, DockerState::Connecting { .. }));
    let _ = tokio::time::timeout(ENGINE_WAIT, settled).await;
    let state = rx.borrow().docker.clone();
    match state {
        DockerState::Connected(i) => format!("engine {} at {}", i.engine(), i.endpoint),
        DockerState::Connecting { endpoint } | DockerState::Disconnected { endpoint, .. } => {
            format!("engine at {endpoint} (not answering yet)")
        }
        DockerState::NodeHeld { .. } => "engine connected (the node is held)".to_string(),
    }
}

/// How long the first line waits for the engine's first connection.
const ENGINE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs the engine until a signal; returns the exit code.
pub async fn run(args: &RunArgs, common: &Common) -> i32 {
    let log = crate::logging::to_file(&common.state_dir);
    let handle = match Engine::start(engine_config(common, &args.path, &args.engine)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("podtui run: {}", escape_controls(&e.to_string()));
            return 1;
        }
    };
    let printer = Printer {
        format: args.log_format,
    };
    let mut events = handle.subscribe();
    let engine = engine_words(&handle).await;
    let now = Timestamp::now();
    printer.line(
        now,
        "Normal",
        "podtui",
        "Starting",
        &format!(
            "node {}, manifests {}, state dir {}, {engine}{}",
            common.node_name,
            args.path.display(),
            common.state_dir.display(),
            log.map(|p| format!(", log {}", p.display()))
                .unwrap_or_default()
        ),
    );
    let api = crate::api::serve_engine(&handle, common, &args.engine).await;
    for (kind, reason, message) in crate::api::announce(&api) {
        printer.line(now, kind, "api", reason, &message);
    }
    let mut snaps = handle.snapshot.clone();
    let mut prev: Arc<Snapshot> = Arc::new(Snapshot::empty("", "", ""));
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("podtui run: cannot install signal handlers");
        return 1;
    };
    let mut code = 0;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            e = events.recv() => match e {
                Ok(e) => printer.event(&e),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    printer.line(Timestamp::now(), "Warning", "podtui", "Lagged", &format!("{n} event lines skipped"));
                }
                Err(_) => break,
            },
            changed = snaps.changed() => {
                if changed.is_err() { break; }
                let next = snaps.borrow_and_update().clone();
                printer.diff(&prev, &next);
                // Another engine holds the node: refuse (the engine has touched nothing) rather than wait.
                let held = matches!(next.docker, DockerState::NodeHeld { .. });
                prev = next;
                if held {
                    code = 1;
                    break;
                }
            }
        }
    }
    let what = if args.cleanup_on_exit {
        "stopping: terminating every pod first (--cleanup-on-exit)"
    } else {
        "stopping; pods keep running (the next start adopts them)"
    };
    printer.line(Timestamp::now(), "Normal", "podtui", "Stopping", what);
    if let Some(Ok(api)) = api {
        api.shutdown().await;
    }
    let cleanup = args.cleanup_on_exit;
    let mut events = handle.subscribe();
    let shutdown = handle.shutdown(cleanup);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Ok(e) = events.recv() => printer.event(&e),
        }
    }
    code
}
