//! Two engines with the same node name (issue 10, item 2): two users on one machine both default to the host
//! name. The node's lease keeps the second engine's hands off the first one's pods (it refuses, naming the
//! holder), a stale lease is taken over, a lost lease stops the engine acting, and an engine (or `down`)
//! removes only pods its own state dir created.

use std::sync::Arc;
use std::time::Duration;

use podtui::engine::lease::NodeHeld;
use podtui::engine::{DockerState, Engine, EngineHandle, PodView, Snapshot};

use crate::common::engine::{config, describe, fast_backoff, running_id, sandbox_id};
use crate::common::{BUSYBOX, Cleanup, docker, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn pod_yaml(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n"
    )
}

/// One engine's directories (the node name is shared).
struct Side {
    manifests: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl Side {
    fn new(pod: &str) -> Self {
        let s = Self {
            manifests: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
        };
        std::fs::write(
            s.manifests.path().join(format!("{pod}.yaml")),
            pod_yaml(pod),
        )
        .unwrap();
        s
    }

    fn start(&self, node: &str) -> EngineHandle {
        Engine::start(config(
            node,
            self.manifests.path(),
            self.state.path(),
            fast_backoff(),
        ))
        .unwrap()
    }

    /// The state dir as the lease names it.
    fn state_dir(&self) -> String {
        std::fs::canonicalize(self.state.path())
            .unwrap()
            .display()
            .to_string()
    }

    fn podtui(&self, node: &str, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .arg("--node-name")
            .arg(node)
            .arg("--state-dir")
            .arg(self.state.path())
            .kill_on_drop(true);
        c
    }
}

async fn wait(
    h: &EngineHandle,
    what: &str,
    secs: u64,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let mut rx = h.snapshot.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let snap = rx.borrow_and_update().clone();
        if pred(&snap) {
            return snap;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(
            !left.is_zero(),
            "timed out after {secs}s waiting for {what}: {}",
            describe(&snap)
        );
        let _ = tokio::time::timeout(left.min(Duration::from_millis(500)), rx.changed()).await;
    }
}

fn pod<'a>(s: &'a Snapshot, name: &str) -> Option<&'a Arc<PodView>> {
    s.pods.iter().find(|p| p.name == name)
}

async fn wait_running(h: &EngineHandle, name: &str) -> Arc<PodView> {
    let s = wait(h, &format!("{name} running"), 60, |s| {
        pod(s, name).is_some_and(|p| p.desired && running_id(p, "app").is_some())
    })
    .await;
    pod(&s, name).unwrap().clone()
}

fn held(s: &Snapshot) -> Option<(&NodeHeld, bool, jiff::Timestamp)> {
    match &s.docker {
        DockerState::NodeHeld {
            held,
            lost,
            retry_at,
            ..
        } => Some((held, *lost, *retry_at)),
        _ => None,
    }
}

/// IDs of every container (any state) of pod `name`.
fn containers_of(name: &str) -> Vec<String> {
    let mut v = crate::common::containers_with(&format!("io.kubernetes.pod.name={name}"));
    v.sort();
    v
}

/// The lease volumes of `node`: (name, state dir label).
fn leases(node: &str) -> Vec<(String, String)> {
    docker(&[
        "volume",
        "ls",
        "--filter",
        &format!("label=dev.podtui.lease.node={node}"),
        "--format",
        "{{.Name}} {{.Label \"dev.podtui.lease.state-dir\"}}",
    ])
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_node_refuses_and_never_touches_the_first_ones_pods() {
    let node = run_id("owner");
    let _cleanup = Cleanup::node(&node);
    let (a, b) = (Side::new("a"), Side::new("b"));
    let (pod_a, pod_b) = (format!("a-{node}"), format!("b-{node}"));

    let engine_a = a.start(&node);
    let before = wait_running(&engine_a, &pod_a).await;
    let ids_a = containers_of(&pod_a);
    assert_eq!(ids_a.len(), 2, "one sandbox and one container");
    assert_eq!(
        leases(&node),
        [(format!("podtui-node-{node}_1"), a.state_dir())]
    );

    // The second engine refuses, naming the holder; it retries and keeps refusing.
    let engine_b = b.start(&node);
    let first = wait(&engine_b, "B refused the node", 30, |s| held(s).is_some()).await;
    let (h, lost, first_retry) = held(&first).unwrap();
    assert!(!lost);
    assert_eq!(h.holder.state_dir, a.state_dir());
    assert_eq!(h.holder.pid, std::process::id());
    let msg = h.to_string();
    for part in [
        format!("node {node} is held by another podtui engine"),
        format!("pid {}", std::process::id()),
        format!("state dir {}", a.state_dir()),
        "--node-name".to_string(),
    ] {
        assert!(msg.contains(&part), "{part:?} in {msg}");
    }
    wait(&engine_b, "B asked again", 30, |s| {
        held(s).is_some_and(|(_, _, at)| at > first_retry)
    })
    .await;
    // A's pod is untouched: same containers, no new sandbox; B created nothing.
    assert_eq!(containers_of(&pod_a), ids_a);
    assert!(containers_of(&pod_b).is_empty());
    let snap_a = engine_a.snapshot.borrow().clone();
    assert!(snap_a.docker.is_connected(), "{:?}", snap_a.docker);
    let now_a = pod(&snap_a, &pod_a).unwrap();
    assert_eq!(sandbox_id(now_a), sandbox_id(&before));
    assert_eq!(now_a.observed.sandboxes.len(), 1);

    // `podtui run` with another state dir refuses too, naming the holder; `podtui down --all` there removes only
    // what that state dir's engine created: nothing.
    let c = Side::new("c");
    let run = tokio::time::timeout(
        Duration::from_secs(30),
        c.podtui(&node, &["run", c.manifests.path().to_str().unwrap()])
            .output(),
    )
    .await
    .expect("podtui run exits when the node is held")
    .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains("NodeHeld") && err.contains(&a.state_dir()),
        "{err}"
    );
    let down = c.podtui(&node, &["down", "--all"]).output().await.unwrap();
    let err = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("state dir {}", a.state_dir()))
            && err.contains(&format!("leaving default/{pod_a} alone")),
        "{err}"
    );
    assert_eq!(containers_of(&pod_a), ids_a);

    // A stops cleanly (its pods keep running) and releases the node: B takes it, runs its own pod, and leaves
    // A's pod alone although no manifest of B's asks for it.
    engine_a.shutdown(false).await;
    let p = wait_running(&engine_b, &pod_b).await;
    assert!(p.desired);
    assert_eq!(leases(&node).len(), 1);
    assert_eq!(leases(&node)[0].1, b.state_dir());
    let snap_b = engine_b.snapshot.borrow().clone();
    assert!(pod(&snap_b, &pod_a).is_none(), "{}", describe(&snap_b));
    assert_eq!(containers_of(&pod_a), ids_a);

    // down (B's state dir, no engine running) removes B's pod only.
    engine_b.shutdown(false).await;
    assert!(leases(&node).is_empty(), "released on a clean shutdown");
    let down = b.podtui(&node, &["down", "--all"]).output().await.unwrap();
    let err = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("pod default/{pod_b} removed")),
        "{err}"
    );
    assert!(
        err.contains(&format!("leaving default/{pod_a} alone")),
        "{err}"
    );
    assert!(containers_of(&pod_b).is_empty());
    assert_eq!(containers_of(&pod_a), ids_a);

    // A again: it adopts its pod (same containers).
    let engine_a = a.start(&node);
    let again = wait_running(&engine_a, &pod_a).await;
    assert_eq!(sandbox_id(&again), sandbox_id(&before));
    assert_eq!(containers_of(&pod_a), ids_a);
    engine_a.shutdown(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_lease_is_taken_over() {
    let node = run_id("stale");
    let _cleanup = Cleanup::node(&node);
    let (a, b) = (Side::new("a"), Side::new("b"));
    let (pod_a, pod_b) = (format!("a-{node}"), format!("b-{node}"));

    // A runs as a process and is killed: its lease stays behind, naming a process that is gone.
    let mut child = a
        .podtui(&node, &["run", a.manifests.path().to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while containers_of(&pod_a).len() < 2 || running_id_of(&pod_a).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "A's pod runs");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().await.unwrap();
    let ids_a = containers_of(&pod_a);
    assert_eq!(leases(&node).len(), 1);
    assert_eq!(leases(&node)[0].1, a.state_dir());

    // B (another state dir) finds the holder gone and takes the node over.
    let engine_b = b.start(&node);
    wait_running(&engine_b, &pod_b).await;
    assert_eq!(
        leases(&node),
        [(format!("podtui-node-{node}_2"), b.state_dir())],
        "the next generation, the stale one removed"
    );
    // A's pod was not B's to remove.
    assert_eq!(containers_of(&pod_a), ids_a);
    engine_b.shutdown(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_the_engine_acting_until_it_is_back() {
    let node = run_id("lost");
    let _cleanup = Cleanup::node(&node);
    let a = Side::new("a");
    let pod_a = format!("a-{node}");
    let engine_a = a.start(&node);
    wait_running(&engine_a, &pod_a).await;
    let ids_a = containers_of(&pod_a);

    // Another live engine (this process holds its state dir's lock) shows up with a newer lease.
    let other = tempfile::tempdir().unwrap();
    let lock = podtui::engine::lock::EngineLock::acquire(other.path(), &node).unwrap();
    let other_dir = lock.dir().display().to_string();
    let pid = std::process::id().to_string();
    let host = podtui::config::host_name();
    let lease = format!("podtui-node-{node}_2");
    let labels = [
        ("dev.podtui.lease.node", node.as_str()),
        ("dev.podtui.lease.generation", "2"),
        ("dev.podtui.lease.engine", "someone-else"),
        ("dev.podtui.lease.instance", "someone-else-1"),
        ("dev.podtui.lease.state-dir", other_dir.as_str()),
        ("dev.podtui.lease.host", host.as_str()),
        ("dev.podtui.lease.user", "mallory"),
        ("dev.podtui.lease.pid", pid.as_str()),
    ];
    let mut args = vec!["volume".to_string(), "create".to_string()];
    for (k, v) in labels {
        args.push("--label".into());
        args.push(format!("{k}={v}"));
    }
    args.push(lease.clone());
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // A notices at its next check, says so, and stops acting: a deleted manifest leaves the pod running.
    let s = wait(&engine_a, "A lost the node", 30, |s| {
        held(s).is_some_and(|(_, lost, _)| lost)
    })
    .await;
    let (h, _, _) = held(&s).unwrap();
    assert_eq!(h.holder.user, "mallory");
    assert!(h.to_string().contains(&other_dir), "{h}");
    std::fs::remove_file(a.manifests.path().join("a.yaml")).unwrap();
    wait(&engine_a, "A read the deletion", 30, |s| s.files.is_empty()).await;
    assert_eq!(containers_of(&pod_a), ids_a);

    // The other engine stops (its lock is free, its lease stale): A takes the node back and acts again (the
    // pod no manifest asks for goes).
    drop(lock);
    wait(&engine_a, "A has the node back", 30, |s| {
        s.docker.is_connected()
    })
    .await;
    assert_eq!(
        leases(&node),
        [(format!("podtui-node-{node}_3"), a.state_dir())]
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !containers_of(&pod_a).is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "A removed its pod");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    engine_a.shutdown(false).await;
}

/// The running container `app` of pod `name`, from Docker.
fn running_id_of(name: &str) -> Option<String> {
    let out = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=io.kubernetes.pod.name={name}"),
        "--filter",
        "label=io.kubernetes.container.name=app",
    ]);
    out.lines().next().map(String::from)
}

#[test]
fn the_header_says_who_holds_the_node() {
    let mut app = crate::common::tui::app();
    let mut snap = (*app.snap).clone();
    let holder: podtui::engine::lease::NodeHolder = serde_json::from_value(serde_json::json!({
        "node": "demo", "engine": "e", "instance": "i", "state_dir": "/home/alice/.local/state/podtui",
        "host": "box", "user": "alice", "pid": 4242, "pid_start": null, "started": "2025-01-01T00:00:00Z"
    }))
    .unwrap();
    snap.docker = DockerState::NodeHeld {
        endpoint: "unix:///var/run/docker.sock".into(),
        held: Box::new(NodeHeld {
            holder,
            lease: "podtui-node-demo_1".into(),
            remote: false,
        }),
        lost: false,
        retry_at: app.now + Duration::from_secs(2),
    };
    app.on_snapshot(Arc::new(snap));
    let screen = crate::common::tui::render(&mut app, 240, 30);
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains(
            "node demo held by another podtui engine (pid 4242, user alice, state dir /home/alice/.local/state/podtui)"
        ),
        "{screen}"
    );
}
