//! podtui as a process: SIGKILL and restart adopt the running pods, a manifest deleted while podtui was down
//! removes its pod at start, one engine per state dir, engines of different node names leave each other alone,
//! and the output of `get`, `logs` and `down`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BUSYBOX, Cleanup, containers_with, docker, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn pod_yaml(name: &str, msg: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; echo {msg}; sleep 0.2; echo {msg}-err >&2; while true; do sleep 1; done']\n  - name: side\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n"
    )
}

struct Setup {
    node: String,
    manifests: tempfile::TempDir,
    state: tempfile::TempDir,
    _cleanup: Cleanup,
}

impl Setup {
    fn new(test: &str) -> Self {
        let node = run_id(test);
        Self {
            _cleanup: Cleanup::node(&node),
            node,
            manifests: tempfile::tempdir().unwrap(),
            state: tempfile::tempdir().unwrap(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--node-name")
            .arg(&self.node)
            .arg("--state-dir")
            .arg(self.state.path())
            .env("PODTUI_BACKOFF_INITIAL", "1s")
            .env("PODTUI_BACKOFF_MAX", "4s");
        c
    }

    fn spawn_run(&self) -> Running {
        Running(
            self.cmd(&["run", self.manifests.path().to_str().unwrap()])
                .stderr(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn output(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Running containers of this node: name → id.
    fn running(&self) -> Vec<(String, String)> {
        let out = docker(&[
            "ps",
            "--no-trunc",
            "--filter",
            &format!("label=dev.podtui.node={}", self.node),
            "--format",
            "{{.Names}} {{.ID}}",
        ]);
        let mut v: Vec<(String, String)> = out
            .lines()
            .filter_map(|l| {
                l.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect();
        v.sort();
        v
    }

    /// Waits until this node's engine (over its socket) has scanned Docker and reports its one pod running
    /// with all its containers ready, and with exactly the `running` containers (name, id) of [`Setup::running`]
    /// (the sandbox included).
    fn wait_pod_sees(&self, running: &[(String, String)], what: &str) {
        let ids: std::collections::BTreeSet<&str> =
            running.iter().map(|(_, id)| id.as_str()).collect();
        common::wait_engine_snapshot(self.state.path(), what, 30, |snap| {
            snap.last_sync.is_some()
                && snap.pods.len() == 1
                && snap.pods.iter().all(|p| {
                    let all_ready = p
                        .columns
                        .ready
                        .split_once('/')
                        .is_some_and(|(ready, total)| ready == total);
                    let seen: std::collections::BTreeSet<&str> = p
                        .observed
                        .latest_sandbox()
                        .into_iter()
                        .chain(p.observed.containers.iter())
                        .filter(|c| c.state.is_running())
                        .map(|c| c.id.as_str())
                        .collect();
                    p.columns.status == "Running" && all_ready && seen == ids
                })
        });
    }

    fn wait_running(&self, n: usize, secs: u64) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let r = self.running();
            if r.len() == n {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} running containers, have {r:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A `podtui run` child that is killed when dropped, so a test that fails half-way leaves no engine behind
/// (one left running recreates its node's lease and pods after the cleanup).
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // std's kill does not signal a child it has already reaped.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kill9(child: &mut Child) {
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

#[test]
fn sigkill_and_restart_adopts_the_same_containers() {
    let s = Setup::new("adopt");
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "hello")).unwrap();
    let mut p = s.spawn_run();
    let before = s.wait_running(3, 60);
    s.wait_pod_sees(&before, "the first engine reports the pod running");
    kill9(&mut p);
    // The pods keep running without podtui.
    assert_eq!(s.running(), before);

    let mut p = s.spawn_run();
    // The restarted engine has scanned Docker and its worker has observed, planned and published the pod: a
    // plan to replace anything shows as other containers, or fewer running ones, than before.
    s.wait_pod_sees(&before, "the restarted engine reports the adopted pod");
    assert_eq!(
        s.running(),
        before,
        "a restarted podtui adopts the running pod without restarting it"
    );
    let (code, out, _) = s.output(&["get", "pods", s.manifests.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    let row = out.lines().nth(1).unwrap();
    assert!(row.contains("2/2") && row.contains("Running"), "{out}");
    assert!(
        row.split_whitespace().nth(3) == Some("0"),
        "restart count kept at 0: {out}"
    );
    kill9(&mut p);
}

/// Issue 15, item 4: a pod's start time (AGE) is the pod's, not its latest sandbox's. The sandbox is removed
/// under a running engine, which recreates it (and the pod's containers) and removes the old one; then the
/// engine is SIGKILLed and started again. Every engine reports the first start, and so does `get` without
/// an engine (it derives status from Docker alone).
#[test]
fn a_pods_start_time_survives_a_recreated_sandbox_and_a_restart() {
    let s = Setup::new("start-time");
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "hi")).unwrap();
    let mut p = s.spawn_run();
    let before = s.wait_running(3, 60);
    s.wait_pod_sees(&before, "the pod running");
    let start_of = |snap: &podtui::engine::Snapshot| snap.pods[0].start_time();
    let first = start_of(&common::engine_snapshot(s.state.path()).unwrap()).unwrap();
    let sandbox = common::engine_snapshot(s.state.path()).unwrap().pods[0]
        .observed
        .latest_sandbox()
        .unwrap()
        .id
        .clone();
    // A later sandbox is created at least a second later, so a start taken from it shows.
    std::thread::sleep(Duration::from_millis(1100));
    docker(&["kill", &sandbox]);
    let snap = common::wait_engine_snapshot(s.state.path(), "a new sandbox, running", 60, |snap| {
        snap.pods.len() == 1
            && snap.pods[0].columns.status == "Running"
            && snap.pods[0]
                .observed
                .latest_sandbox()
                .is_some_and(|sb| sb.id != sandbox && sb.state.is_running())
    });
    let recreated = snap.pods[0].observed.latest_sandbox().unwrap();
    assert!(recreated.created.unwrap() > first, "{recreated:?}");
    assert_eq!(
        start_of(&snap),
        Some(first),
        "the running engine remembers it"
    );
    kill9(&mut p);
    // Every older instance goes (containers before their sandbox: podman refuses the other order), so only the
    // new sandbox and its containers are left to tell when the pod started.
    let node = format!("label=dev.podtui.node={}", s.node);
    for kind in ["container", "podsandbox"] {
        let type_ = format!("label=io.kubernetes.docker.type={kind}");
        let old = docker(&[
            "ps",
            "-aq",
            "--filter",
            &node,
            "--filter",
            &type_,
            "--filter",
            "status=exited",
        ]);
        for id in old.split_whitespace() {
            docker(&["rm", "-f", id]);
        }
    }
    assert!(
        !docker(&["ps", "-aq", "--no-trunc", "--filter", &node]).contains(&sandbox),
        "the first sandbox is gone"
    );

    let (code, out, _) = s.output(&[
        "get",
        "pods",
        "-o",
        "json",
        s.manifests.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let derived: jiff::Timestamp = list["items"][0]["status"]["startTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        derived.as_second(),
        first.as_second(),
        "derived from Docker alone: {out}"
    );

    let mut p = s.spawn_run();
    let now_running = s.wait_running(3, 60);
    s.wait_pod_sees(&now_running, "the restarted engine reports the adopted pod");
    assert_eq!(
        start_of(&common::engine_snapshot(s.state.path()).unwrap()),
        Some(first),
        "a restarted engine reports the pod's first start, not its sandbox's"
    );
    kill9(&mut p);
}

#[test]
fn manifest_deleted_while_down_is_removed_at_start_and_the_lock_is_exclusive() {
    let s = Setup::new("gone-while-down");
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "x")).unwrap();
    std::fs::write(s.manifests.path().join("b.yaml"), pod_yaml("b", "y")).unwrap();
    let mut p = s.spawn_run();
    s.wait_running(6, 60);

    // A second engine on the same state dir refuses to start and names the holder.
    let (code, _, err) = s.output(&["run", s.manifests.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("pid {}", p.id())) && err.contains("engine.lock"),
        "{err}"
    );

    kill9(&mut p);
    std::fs::remove_file(s.manifests.path().join("b.yaml")).unwrap();
    let mut p = s.spawn_run();
    let left = s.wait_running(3, 30);
    assert!(
        left.iter()
            .all(|(n, _)| n.contains(&format!("_a-{}_", s.node))),
        "{left:?}"
    );
    kill9(&mut p);
}

#[test]
fn engines_of_different_nodes_leave_each_other_alone() {
    let one = Setup::new("node-one");
    let two = Setup::new("node-two");
    std::fs::write(one.manifests.path().join("a.yaml"), pod_yaml("a", "1")).unwrap();
    std::fs::write(two.manifests.path().join("a.yaml"), pod_yaml("a", "2")).unwrap();
    let mut p1 = one.spawn_run();
    let mut p2 = two.spawn_run();
    one.wait_running(3, 60);
    let two_running = two.wait_running(3, 60);
    // Node one's manifest goes away: only node one's pod is removed. Node one's engine reports the pod gone
    // once its worker has removed everything (containers, sandbox, volumes): then node two's are checked.
    std::fs::remove_file(one.manifests.path().join("a.yaml")).unwrap();
    one.wait_running(0, 30);
    common::wait_engine_snapshot(
        one.state.path(),
        "node one's engine to finish removing its pod",
        30,
        |snap| snap.pods.is_empty(),
    );
    assert!(containers_with(&format!("dev.podtui.node={}", one.node)).is_empty());
    assert_eq!(two.running(), two_running);
    two.wait_pod_sees(&two_running, "node two's engine still reports its pod");
    kill9(&mut p1);
    kill9(&mut p2);
}

#[test]
fn get_logs_and_down() {
    let s = Setup::new("cli");
    let dir = s.manifests.path().to_str().unwrap().to_string();
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "hello")).unwrap();
    let mut p = s.spawn_run();
    s.wait_running(3, 60);
    let pod = format!("a-{}", s.node);

    // get: from the engine's socket.
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let (code, out, err) = s.output(&["get", "pods", &dir, "-o", "wide"]);
        assert_eq!(code, 0, "{err}");
        if out.contains("Running") || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "FILE", "ENGINE"
        ]
    );
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[0], pod);
    assert_eq!(&cells[1..4], ["2/2", "Running", "0"]);
    assert!(
        cells[5].starts_with("172.") || cells[5].contains('.'),
        "{out}"
    );
    assert_eq!(cells[6], s.node);
    assert!(cells[7].ends_with("a.yaml"));
    assert!(cells[8].starts_with(common::engine_scheme()), "{out}");

    // get -o json: a List of Pods with status.
    let (_, json, _) = s.output(&["get", "pods", &dir, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"][0]["metadata"]["name"], pod);
    assert_eq!(v["items"][0]["status"]["phase"], "Running");
    let (_, yaml, _) = s.output(&["get", "pods", &dir, "-o", "yaml"]);
    assert!(
        yaml.contains("kind: List") && yaml.contains("phase: Running"),
        "{yaml}"
    );

    // logs: stdout and stderr both on stdout in the order written (as kubectl logs prints them, so a pipe sees
    // every line; the pod writes them 0.2 s apart, since two pipes written at once have no order), the default container with a note on stderr, -c, --previous.
    let (code, out, err) = s.output(&["logs", "a", &dir]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hello\nhello-err\n");
    assert!(
        !err.contains("hello-err") && err.contains("Defaulted container \"app\" out of: app, side"),
        "{err}"
    );
    let (code, out, _) = s.output(&["logs", &pod, &dir, "-c", "app", "--timestamps"]);
    assert_eq!(code, 0);
    let stamped: Vec<&str> = out.lines().collect();
    assert!(
        stamped.len() == 2
            && stamped[0].starts_with("20")
            && stamped[0].ends_with(" hello")
            && stamped[1].ends_with(" hello-err"),
        "{out}"
    );
    let (code, _, err) = s.output(&["logs", "a", &dir, "--previous"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("previous terminated container not found"),
        "{err}"
    );

    // down refuses while the engine runs: the engine would only start the pods again.
    let (code, _, err) = s.output(&["down", &dir]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("engine") && err.contains("is running"),
        "{err}"
    );
    assert!(!containers_with(&format!("dev.podtui.node={}", s.node)).is_empty());

    // get without an engine: derived from Docker, with a note.
    kill9(&mut p);
    let (code, out, err) = s.output(&["get", "pods", &dir]);
    assert_eq!(code, 0);
    assert!(err.contains("no podtui engine is running"), "{err}");
    assert!(out.contains(&pod) && out.contains("Running"), "{out}");

    // down: terminates with the grace period and removes everything, volumes included.
    let (code, _, err) = s.output(&["down", &dir]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("pod default/{pod} removed")), "{err}");
    assert!(containers_with(&format!("dev.podtui.node={}", s.node)).is_empty());
    assert!(common::volumes_with(&format!("dev.podtui.node={}", s.node)).is_empty());
    let (_, out, err) = s.output(&["get", "pods", &dir]);
    assert!(
        out.lines().nth(1).is_none_or(|l| !l.contains("Running")),
        "{out}{err}"
    );
}

#[test]
fn run_prints_event_lines_and_stops_on_sigterm_leaving_pods() {
    let s = Setup::new("run-lines");
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "hi")).unwrap();
    let child = s
        .cmd(&[
            "run",
            s.manifests.path().to_str().unwrap(),
            "--log-format",
            "json",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    s.wait_running(3, 60);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    let reasons: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|_| panic!("not JSON: {l}"))
        })
        .map(|v| v["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    for r in [
        "Starting",
        "Manifest",
        "Connected",
        "SandboxCreated",
        "Created",
        "Started",
        "Stopping",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "{r} missing from {reasons:?}"
        );
    }
    assert_eq!(s.running().len(), 3, "pods keep running after podtui stops");
    assert!(
        !Path::new(&s.state.path().join("engine.sock")).exists(),
        "the socket is removed"
    );
}

#[test]
fn cleanup_on_exit_terminates_the_pods() {
    let s = Setup::new("cleanup-exit");
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "bye")).unwrap();
    let child = s
        .cmd(&[
            "run",
            s.manifests.path().to_str().unwrap(),
            "--cleanup-on-exit",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    s.wait_running(3, 60);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("terminating every pod first"));
    assert!(containers_with(&format!("dev.podtui.node={}", s.node)).is_empty());
    assert!(common::volumes_with(&format!("dev.podtui.node={}", s.node)).is_empty());
}

#[test]
fn cli_help_version_and_env_flags() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "run",
        "validate",
        "get",
        "logs",
        "down",
        "--node-name",
        "--state-dir",
        "--file-check-frequency",
        "--manifest-url",
        "--manifest-url-header",
        "--http-check-frequency",
        "PODTUI_NODE_NAME",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from --help:\n{help}");
    }
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("podtui {}", env!("CARGO_PKG_VERSION"))
    );
    let out = Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--pause-image",
        "--host-port-address",
        "--backoff-initial",
        "--backoff-max",
        "--log-format",
        "--cleanup-on-exit",
    ] {
        assert!(help.contains(flag), "{flag} missing from run --help");
    }
    // Flags from the environment; a usage error exits 2.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), pod_yaml("a", "x")).unwrap();
    let out = Command::new(BIN)
        .args(["validate", "-o", "json", dir.path().to_str().unwrap()])
        .env("PODTUI_NODE_NAME", "From-Env")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("default/a-from-env"),
        "the node name comes from PODTUI_NODE_NAME, lowercased"
    );
    // A file named twice, or named and inside a directory named, is read once: no conflict with itself.
    let a = dir.path().join("a.yaml");
    let out = Command::new(BIN)
        .args(["validate", dir.path().to_str().unwrap()])
        .args([&a, &a])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("1 manifest file(s), 1 pod(s)"), "{text}");
    let out = Command::new(BIN).args(["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["validate", "/nonexistent/podtui"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_reports_every_finding_and_exits_by_severity() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/manifests");
    let out = Command::new(BIN)
        .args([
            "validate",
            &format!("{fixtures}/valid"),
            "--node-name",
            "node1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("warning: spec.containers[0].imagePullPolcy: unknown field (did you mean imagePullPolicy?)"), "{text}");
    let out = Command::new(BIN)
        .args([
            "validate",
            &format!("{fixtures}/invalid"),
            "--node-name",
            "node1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("04-container-name-invalid.yaml:9: spec.containers[1].name: \"Web\" is not a valid container name (lowercase RFC 1123 label)"), "{text}");
    let out = Command::new(BIN)
        .args([
            "validate",
            "-o",
            "json",
            &format!("{fixtures}/invalid/20-kind-deployment.yaml"),
            "--node-name",
            "node1",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], 1);
    assert_eq!(v["files"][0]["state"], "invalid");
    assert_eq!(v["files"][0]["findings"][0]["path"], "kind");
    assert_eq!(v["files"][0]["findings"][0]["line"], 2);
}

/// `podtui describe`, `exec` and `delete` (issue 15: the CLI matches `get`/`logs`), against a running engine.
#[test]
fn describe_exec_and_delete() {
    let s = Setup::new("cli-ded");
    let dir = s.manifests.path().to_str().unwrap().to_string();
    std::fs::write(s.manifests.path().join("a.yaml"), pod_yaml("a", "hello")).unwrap();
    let mut p = s.spawn_run();
    s.wait_running(3, 60);
    let pod = format!("a-{}", s.node);
    let words = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };

    // describe: kubectl's text, with the kubelet's events; `pod a` and `pod/a` name the same pod.
    let deadline = Instant::now() + Duration::from_secs(20);
    let out = loop {
        let (code, out, err) = s.output(&["describe", "a", &dir]);
        assert_eq!(code, 0, "{err}");
        if out.contains("Started") || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let lines = words(&out);
    for want in [
        format!("Name: {pod}"),
        "Namespace: default".to_string(),
        format!("Node: {}/", s.node),
        "Containers:".into(),
        "app:".into(),
        "side:".into(),
        "State: Running".into(),
        "Restart Count: 0".into(),
        "QoS Class: BestEffort".into(),
        "Events:".into(),
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "{want:?} in:\n{out}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Normal Started") && l.contains("kubelet")),
        "{out}"
    );
    for alias in [
        &["describe", "pod", "a", &dir][..],
        &["describe", "pod/a", &dir],
    ] {
        let (code, other, err) = s.output(alias);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            other.split("Events:").next(),
            out.split("Events:").next(),
            "{alias:?}"
        );
    }
    let (code, _, err) = s.output(&["describe", "nosuch", &dir]);
    assert_eq!(code, 1);
    assert!(err.contains("pod nosuch not found"), "{err}");

    // exec: the command's output and exit code, the default container with kubectl's note, -c, -i.
    let exec = |args: &[&str], stdin: &str| -> (i32, String, String) {
        use std::io::Write;
        let mut c = Command::new(BIN)
            .args(["exec", "--node-name", &s.node, "--state-dir"])
            .arg(s.state.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = c.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = exec(
        &[
            "a",
            "--",
            "sh",
            "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; echo oops >&2; exit 3",
        ],
        "",
    );
    assert_eq!(code, 3, "{err}");
    assert!(
        out.contains("echo hello"),
        "the app container's PID 1: {out}"
    );
    assert!(
        err.contains("oops")
            && err.contains("Defaulted container \"app\" out of: app, side")
            && err.contains("command terminated with exit code 3"),
        "{err}"
    );
    let (code, out, err) = exec(
        &["a", "-c", "side", "--", "sh", "-c", "cat /proc/1/cmdline"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("echo hello") && out.contains("while true"),
        "{out}"
    );
    let (code, out, _) = exec(&["-i", "a", "--", "cat"], "piped-in\n");
    assert_eq!((code, out.as_str()), (0, "piped-in\n"));
    let (code, out, _) = exec(&["a", "--", "cat"], "not passed without -i\n");
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, _, err) = exec(&["a", "-c", "nope", "--", "true"], "");
    assert_eq!(code, 1);
    assert!(err.contains("container nope not found"), "{err}");

    // delete: the manifest goes to the trash and the engine removes the pod; a second delete finds nothing.
    let (code, out, err) = s.output(&["delete", "pod", "a", "--path", &dir]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("pod \"a\" deleted (") && out.contains("trash"),
        "{out}"
    );
    assert!(!s.manifests.path().join("a.yaml").exists());
    let trashed = std::fs::read_dir(s.state.path().join("trash"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with("a.yaml"));
    assert!(trashed, "the manifest is in the trash");
    s.wait_running(0, 30);
    common::wait_engine_snapshot(s.state.path(), "the pod gone", 30, |snap| {
        snap.pods.is_empty()
    });
    let (code, _, err) = s.output(&["delete", "a", "--path", &dir]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");

    // Several pods of one file in one command: each document found by its name in the file as it is then
    // (the engine has not re-read it between the two), the file trashed with its last pod.
    let multi = s.manifests.path().join("multi.yaml");
    let text = ["b", "c", "d"]
        .iter()
        .map(|n| pod_yaml(n, n))
        .collect::<Vec<_>>()
        .join("---\n");
    std::fs::write(&multi, &text).unwrap();
    s.wait_running(9, 60);
    let (code, out, err) = s.output(&["delete", "b", "c", "--path", &dir]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let left = std::fs::read_to_string(&multi).unwrap();
    assert!(
        left.contains("name: d\n") && !left.contains("name: b\n") && !left.contains("name: c\n"),
        "{left}"
    );
    s.wait_running(3, 30);
    let (code, _, err) = s.output(&["delete", "pod/d", "--path", &dir]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !multi.exists(),
        "the file of the last pod goes to the trash"
    );
    s.wait_running(0, 30);
    kill9(&mut p);
}
