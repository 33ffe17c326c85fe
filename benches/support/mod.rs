//! What the scenarios share beyond the tests' helpers (`crate::common`, from tests/common): Docker's events with
//! their arrival times, `podtui run` on a fresh node and the TUI in tmux on the same directory, process CPU and
//! memory from /proc, and removal by label that outlasts a podtui still exiting.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use podtui::runtime::{ContainerRuntime, DockerRuntime, EventAction, RuntimeEvent};
use tokio::sync::mpsc;

use crate::common::process::{BIN, PodtuiRun};
use crate::common::remove_with;
use crate::common::tmux::Tmux;

/// Removes every container and volume labelled `label`, again until nothing is left: a podtui that is still
/// exiting may create a container after the first pass.
///
/// A node's label (`dev.podtui.node=X`) takes the node's lease volume (`dev.podtui.lease.node=X`) with it.
pub fn cleanup_label(label: &str) {
    let lease = label
        .strip_prefix("dev.podtui.node=")
        .map(|node| format!("dev.podtui.lease.node={node}"));
    for _ in 0..10 {
        let removed = remove_with(label);
        let lease_removed = lease.as_deref().is_some_and(remove_with);
        if !removed && !lease_removed {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Container events of everything labelled `label`, into a channel, with the time they arrived.
pub async fn events(
    rt: &DockerRuntime,
    label: String,
) -> mpsc::UnboundedReceiver<(Instant, RuntimeEvent)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut stream = rt.events(&[label]);
    tokio::spawn(async move {
        while let Some(Ok(e)) = stream.next().await {
            if tx.send((Instant::now(), e)).is_err() {
                return;
            }
        }
    });
    // Let the subscription settle before anything happens.
    tokio::time::sleep(Duration::from_millis(200)).await;
    rx
}

/// The engine's word for an event's action, as `docker events` prints it.
fn action_word(a: &EventAction) -> &str {
    match a {
        EventAction::Create => "create",
        EventAction::Start => "start",
        EventAction::Die { .. } => "die",
        EventAction::Oom => "oom",
        EventAction::Destroy => "destroy",
        EventAction::Other(w) => w,
    }
}

/// After this long without an event, [`wait_events`] asks dockerd whether it still answers.
const SILENCE: Duration = Duration::from_secs(15);

/// Panics unless dockerd answers `GET /info` within 20 s. `/info` takes the locks a stuck dockerd holds (20.10
/// once deadlocked on its libnetwork lock at 50 pods at once: `/_ping` still answered, `/info` and every
/// create hung), so a bench fails at once rather than waiting out its timeouts on an engine that will not
/// move again.
async fn engine_answers() {
    let answered = tokio::task::spawn_blocking(|| {
        std::process::Command::new("timeout")
            .args(["20", "docker", "info", "--format", "{{.ID}}"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .await
    .unwrap_or(false);
    assert!(
        answered,
        "bench: dockerd stopped answering GET /info within 20 s (stuck: restart dockerd and rerun)"
    );
}

/// Waits until `n` events with `action` have arrived for pods whose name is in `pods`; returns the arrival time
/// of the last one. After [`SILENCE`] without an event it checks that dockerd still answers, and panics if not.
pub async fn wait_events(
    rx: &mut mpsc::UnboundedReceiver<(Instant, RuntimeEvent)>,
    action: &str,
    pods: &BTreeSet<String>,
    n: usize,
    timeout: Duration,
) -> Option<Instant> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = 0;
    loop {
        let quiet = (tokio::time::Instant::now() + SILENCE).min(deadline);
        let (at, e) = match tokio::time::timeout_at(quiet, rx.recv()).await {
            Ok(got) => got?,
            Err(_) if quiet < deadline => {
                engine_answers().await;
                continue;
            }
            Err(_) => return None,
        };
        let pod = e
            .labels
            .get("io.kubernetes.pod.name")
            .or_else(|| e.labels.get("bench.pod"));
        if action_word(&e.action) == action && pod.is_some_and(|p| pods.contains(p)) {
            seen += 1;
            if seen >= n {
                return Some(at);
            }
        }
    }
}

/// `podtui run` on a fresh node `bench-<tag>-<pid>`, ready (connected, sources read) when returned.
pub async fn podtui_run(tag: &str, extra: &[&str]) -> PodtuiRun {
    let run = PodtuiRun::start(&format!("bench-{tag}-{}", std::process::id()), extra);
    run.ready(60).await;
    run
}

/// The TUI on `dir` in a detached 120x40 tmux session `bench-<tag>-<pid>`.
pub fn start_tui(tag: &str, dir: &Path, node: &str, state: &Path) -> Tmux {
    Tmux::start(
        &format!("bench-{tag}-{}", std::process::id()),
        120,
        40,
        &format!(
            "TERM=xterm-256color {BIN} {} --node-name {node} --state-dir {}",
            dir.display(),
            state.display()
        ),
    )
}

/// The TUI that took over from a `podtui run`, and what must live while it runs.
pub struct Tui {
    /// Its tmux session.
    pub tmux: Tmux,
    /// The node (the run's).
    pub node: String,
    /// The run's manifest directory.
    pub dir: tempfile::TempDir,
    _state: tempfile::TempDir,
}

/// Stops `podtui run` (its pods keep running) and opens the TUI on the same directory and node, with a new state
/// dir; its engine adopts the pods.
pub fn into_tui(mut run: PodtuiRun, tag: &str) -> Tui {
    run.kill();
    let state = tempfile::tempdir().unwrap();
    let tmux = start_tui(tag, run.dir.path(), &run.node, state.path());
    let node = run.node.clone();
    // The run's directory outlives it: the TUI watches it.
    let dir = std::mem::replace(&mut run.dir, tempfile::tempdir().unwrap());
    Tui {
        tmux,
        node,
        dir,
        _state: state,
    }
}

/// Polls the screen every 5 ms until `pred` holds; how long that took, or `None` after `secs`.
pub fn wait_screen(tmux: &Tmux, secs: u64, pred: impl Fn(&str) -> bool) -> Option<Duration> {
    tmux.poll(secs, Duration::from_millis(5), pred)
}

/// podtui's PID inside a tmux session.
pub fn tui_pid(tmux: &Tmux) -> Option<u32> {
    tmux.pane_program("podtui")
}

/// Kills the tmux session and waits until podtui (pid `pid`) has exited, so it creates nothing after cleanup.
pub fn close_tui(tmux: Tmux, pid: u32) {
    drop(tmux);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process's CPU seconds (user + system) and its current and peak RSS (kB), from /proc.
pub struct ProcStats {
    /// utime + stime, in seconds.
    pub cpu: f64,
    /// VmRSS.
    pub rss_kb: u64,
    /// VmHWM.
    pub hwm_kb: u64,
}

/// [`ProcStats`] of process `pid`, if it runs.
pub fn proc_stats(pid: u32) -> Option<ProcStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| -> Option<u64> {
        status
            .lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some(ProcStats {
        cpu: ticks / 100.0,
        rss_kb: kb("VmRSS:").unwrap_or(0),
        hwm_kb: kb("VmHWM:")?,
    })
}
