//! Helpers shared by the Docker tests: a unique run id per test, and a guard that removes every container and
//! volume labelled with it when the test ends, pass or fail.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The busybox test image built by scripts/setup-docker.sh (explicit tag: never pulled).
pub const BUSYBOX: &str = "localhost/podtui-test/busybox:1";

/// Label every test object carries, with the run id as its value.
pub const RUN_LABEL: &str = "dev.podtui.test-run";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique id for one test: usable as a podtui node name (lowercase RFC 1123) and as a label value.
pub fn run_id(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let slug: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(20)
        .collect();
    format!("t{}-{n}-{:x}-{slug}", std::process::id(), nanos % 0xfffff)
        .trim_end_matches('-')
        .to_string()
}

/// Removes every container and volume that carries `label=value` when dropped.
pub struct Cleanup {
    filters: Vec<String>,
}

impl Cleanup {
    /// Cleans up objects labelled `RUN_LABEL=<id>`.
    pub fn run(id: &str) -> Self {
        Self {
            filters: vec![format!("{RUN_LABEL}={id}")],
        }
    }

    /// Cleans up objects owned by podtui node `node` (the engine's own labels), and the node's lease.
    pub fn node(node: &str) -> Self {
        Self {
            filters: vec![
                format!("dev.podtui.node={node}"),
                format!("dev.podtui.lease.node={node}"),
            ],
        }
    }
}

/// IDs of containers matching a label filter.
pub fn containers_with(filter: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("label={filter}"),
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Names of volumes matching a label filter.
pub fn volumes_with(filter: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["volume", "ls", "-q", "--filter", &format!("label={filter}")])
        .output()
        .expect("docker volume ls");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Removes every container (with its anonymous volumes) and every volume matching a label filter; returns
/// whether there was anything to remove.
pub fn remove_with(filter: &str) -> bool {
    let ids = containers_with(filter);
    // A second round for podman, which refuses to remove a sandbox while a container that joins it exists, even
    // when both are in the same `rm`: the first round removes the containers, the second their sandboxes.
    let mut left = ids.clone();
    for _ in 0..2 {
        if left.is_empty() {
            break;
        }
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&left)
            .output();
        left = containers_with(filter);
    }
    let vols = volumes_with(filter);
    if !vols.is_empty() {
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f"])
            .args(&vols)
            .output();
    }
    !ids.is_empty() || !vols.is_empty()
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for f in &self.filters {
            remove_with(f);
        }
    }
}

/// Output of `docker <args>` (stdout, trimmed); panics when docker fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `f` until `ok` accepts its value (at most 10 s); returns the last value.
pub async fn eventually<T>(f: impl Fn() -> T, ok: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let v = f();
        if ok(&v) || std::time::Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The snapshot a podtui engine running on `state_dir` serves on its socket (what `podtui get` reads), if one
/// answers. Blocking, for tests that run podtui as a process (not from inside a tokio runtime).
pub fn engine_snapshot(state_dir: &std::path::Path) -> Option<podtui::engine::Snapshot> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(podtui::engine::server::fetch_snapshot(state_dir))
}

/// Polls the snapshot of the engine on `state_dir` until `pred` holds and returns it; fails the test after
/// `secs` with what the engine last said. Blocking, like [`engine_snapshot`].
pub fn wait_engine_snapshot(
    state_dir: &std::path::Path,
    what: &str,
    secs: u64,
    pred: impl Fn(&podtui::engine::Snapshot) -> bool,
) -> podtui::engine::Snapshot {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let snap = engine_snapshot(state_dir);
        if let Some(s) = snap.as_ref().filter(|s| pred(s)) {
            return s.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}; engine: {}",
            snap.as_ref()
                .map_or("no answer on its socket".to_string(), engine::describe)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The seeded test image: busybox plus files at /var/log/nginx, as the real nginx image has.
pub const SEEDED: &str = "localhost/podtui-test/seeded:1";

pub mod engine {
    //! Running podtui's engine in-process against the real Docker engine.

    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::time::Duration;

    use podtui::engine::backoff::BackoffConfig;
    use podtui::engine::worker::{PauseImage, WorkerSettings};
    use podtui::engine::{Engine, EngineConfig, EngineHandle, PodView, Snapshot};
    use podtui::manifest::SourcesConfig;

    /// An engine on a temporary manifest directory and state dir, with a unique node name; everything it
    /// creates in Docker is removed when the test ends.
    pub struct TestEngine {
        pub handle: Option<EngineHandle>,
        pub node: String,
        pub manifests: tempfile::TempDir,
        pub state: tempfile::TempDir,
        _cleanup: super::Cleanup,
    }

    /// Fast back-off for tests.
    pub fn fast_backoff() -> BackoffConfig {
        BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(4),
        }
    }

    pub fn config(
        node: &str,
        manifests: &Path,
        state: &Path,
        backoff: BackoffConfig,
    ) -> EngineConfig {
        EngineConfig {
            state_dir: state.to_path_buf(),
            sources: SourcesConfig {
                path: Some(manifests.to_path_buf()),
                url: None,
                url_headers: vec![],
                node_name: node.to_string(),
                file_check_frequency: Duration::from_secs(5),
                http_check_frequency: Duration::from_secs(20),
                last_good_dir: Some(state.join("lastgood")),
            },
            settings: WorkerSettings {
                node: node.to_string(),
                host_port_address: std::net::IpAddr::from([127, 0, 0, 1]),
                backoff,
                pause: PauseImage::Own,
                termination_dir: Some(state.join("termination")),
                probe_via: None,
                subpath_dir: Some(state.join("subpaths")),
            },
            serve_socket: true,
        }
    }

    impl TestEngine {
        /// Writes nothing yet; call [`TestEngine::write`] before or after [`TestEngine::start`].
        pub fn new(test: &str) -> Self {
            let node = super::run_id(test);
            Self {
                handle: None,
                _cleanup: super::Cleanup::node(&node),
                node,
                manifests: tempfile::tempdir().unwrap(),
                state: tempfile::tempdir().unwrap(),
            }
        }

        pub fn path(&self, file: &str) -> PathBuf {
            self.manifests.path().join(file)
        }

        pub fn write(&self, file: &str, text: &str) {
            std::fs::write(self.path(file), text).unwrap();
        }

        pub fn start(&mut self, backoff: BackoffConfig) {
            self.start_with(backoff, |_| {});
        }

        /// Starts the engine with the test config changed by `adjust`.
        pub fn start_with(
            &mut self,
            backoff: BackoffConfig,
            adjust: impl FnOnce(&mut EngineConfig),
        ) {
            let mut cfg = config(
                &self.node,
                self.manifests.path(),
                self.state.path(),
                backoff,
            );
            adjust(&mut cfg);
            self.handle = Some(Engine::start(cfg).unwrap());
        }

        pub fn handle(&self) -> &EngineHandle {
            self.handle.as_ref().expect("engine started")
        }

        pub fn snapshot(&self) -> Arc<Snapshot> {
            self.handle().snapshot.borrow().clone()
        }

        /// The full pod name for `name`.
        pub fn pod_name(&self, name: &str) -> String {
            format!("{name}-{}", self.node)
        }

        /// Waits until `pred` holds for the snapshot.
        pub async fn wait(
            &self,
            what: &str,
            secs: u64,
            pred: impl Fn(&Snapshot) -> bool,
        ) -> Arc<Snapshot> {
            let mut rx = self.handle().snapshot.clone();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
            loop {
                let snap = rx.borrow_and_update().clone();
                if pred(&snap) {
                    return snap;
                }
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if left.is_zero() {
                    panic!(
                        "timed out after {secs}s waiting for {what}; pods: {}",
                        describe(&snap)
                    );
                }
                let _ =
                    tokio::time::timeout(left.min(Duration::from_millis(500)), rx.changed()).await;
            }
        }

        /// Waits until pod `name` (short name) satisfies `pred`.
        pub async fn wait_pod(
            &self,
            name: &str,
            what: &str,
            secs: u64,
            pred: impl Fn(&PodView) -> bool,
        ) -> Arc<PodView> {
            let full = self.pod_name(name);
            let snap = self
                .wait(what, secs, |s| {
                    s.pods
                        .iter()
                        .any(|p| p.name == full && p.desired && pred(p))
                })
                .await;
            snap.pods
                .iter()
                .find(|p| p.name == full && p.desired && pred(p))
                .unwrap()
                .clone()
        }

        /// Waits until the engine has taken in every manifest write made so far. Writes a file that is not a
        /// manifest (`zz-barrier-<n>.txt`, reported as skipped): the source reads each written path a few ms
        /// after its writer closed it, in the order they were written, so once the engine's snapshot lists
        /// the barrier file, the engine has reconciled against the earlier writes (a changed pod has already
        /// been told to terminate). The barrier file stays in the directory (as a skipped file).
        pub async fn barrier(&self) -> Arc<Snapshot> {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("zz-barrier-{n}.txt");
            self.write(&name, "not a manifest\n");
            self.wait(&format!("the engine to list {name}"), 30, |s| {
                s.files.iter().any(|f| {
                    f.path.ends_with(&name)
                        && matches!(f.state, podtui::manifest::FileState::Skipped { .. })
                })
            })
            .await
        }

        /// Waits until the worker of pod `uid` has handled everything the engine told it before `after`, and
        /// returns the snapshot then. The pod needs a probe that runs every second (a readiness `exec: [true]`
        /// will do): a probe result stamped after `after` reaches the worker after any earlier message, so the
        /// view carrying it shows a pod told to terminate as terminating. Also returns as soon as the pod is no
        /// longer desired, is terminating, or is gone, for the caller's assertions to report.
        pub async fn worker_caught_up(&self, uid: &str, after: jiff::Timestamp) -> Arc<Snapshot> {
            self.wait(
                "the pod's worker to publish a probe result from after the change",
                30,
                |s| match s.pods.iter().find(|p| p.uid == uid) {
                    None => true,
                    Some(p) => {
                        !p.desired
                            || p.terminating.is_some()
                            || p.probes
                                .iter()
                                .any(|x| x.last.as_ref().is_some_and(|l| l.2 > after))
                    }
                },
            )
            .await
        }

        pub async fn stop(&mut self) {
            if let Some(h) = self.handle.take() {
                h.shutdown(false).await;
            }
        }
    }

    /// One line per pod for failure messages.
    pub fn describe(s: &Snapshot) -> String {
        let mut out = format!("docker={:?}\n", s.docker);
        for p in &s.pods {
            out.push_str(&format!(
                "  {} uid={} ready={} status={} restarts={} desired={} events={:?}\n",
                p.name,
                &p.uid[..8],
                p.columns.ready,
                p.columns.status,
                p.columns.restarts,
                p.desired,
                p.events
                    .iter()
                    .rev()
                    .take(6)
                    .map(|e| format!("{} {}", e.reason, e.message))
                    .collect::<Vec<_>>()
            ));
        }
        for f in &s.files {
            out.push_str(&format!(
                "  file {} {:?} {:?}\n",
                f.path,
                f.state,
                f.findings.iter().map(|x| x.to_string()).collect::<Vec<_>>()
            ));
        }
        out
    }

    /// The ID of the running instance of container `name` of the pod.
    pub fn running_id(p: &PodView, name: &str) -> Option<String> {
        p.observed
            .instances(name)
            .first()
            .filter(|i| i.state.is_running())
            .map(|i| i.id.clone())
    }

    /// The running sandbox's ID.
    pub fn sandbox_id(p: &PodView) -> Option<String> {
        p.observed
            .latest_sandbox()
            .filter(|s| s.state.is_running())
            .map(|s| s.id.clone())
    }

    /// Container status `name` of a pod view.
    pub fn container_status<'a>(
        p: &'a PodView,
        name: &str,
    ) -> &'a k8s_openapi::api::core::v1::ContainerStatus {
        let st = p.pod.status.as_ref().unwrap();
        st.container_statuses
            .iter()
            .flatten()
            .chain(st.init_container_statuses.iter().flatten())
            .find(|c| c.name == name)
            .unwrap()
    }
}

pub mod dockerd;
pub mod http;
pub mod podman;
pub mod pods;
pub mod process;
pub mod tmux;
pub mod tui;
#[allow(unused_imports)]
pub use podman::{engine_scheme, on_podman, skip_on_podman};
