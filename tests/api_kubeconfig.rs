//! The API as users meet it: `podtui run` says where the API listens and how to point kubectl at it,
//! `podtui kubeconfig` prints the kubeconfig's path (`export KUBECONFIG=$(podtui kubeconfig)`) and merges its
//! one context into ~/.kube/config; a restart keeps the port, CA and token; files are private; `--api off`
//! serves nothing; the TUI's header shows the API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api_support::{kubectl_binary, nginx_pod};
use common::tmux::Tmux;
use common::{Cleanup, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

struct Run {
    child: Child,
    lines: Vec<String>,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `podtui run` and reads its stderr until the line containing `until` (or it exits).
fn podtui_run(dir: &Path, node: &str, state: &Path, extra: &[&str], until: &str) -> Run {
    let mut child = Command::new(BIN)
        .args([
            "run",
            dir.to_str().unwrap(),
            "--node-name",
            node,
            "--state-dir",
            state.to_str().unwrap(),
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    let mut line = String::new();
    while err.read_line(&mut line).unwrap_or(0) > 0 {
        lines.push(line.trim_end().to_string());
        line.clear();
        if lines.last().unwrap().contains(until) {
            break;
        }
    }
    // Keep draining stderr so the process never blocks on a full pipe.
    std::thread::spawn(move || {
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            line.clear()
        }
    });
    Run { child, lines }
}

fn kubectl(home: &Path, kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(kubectl_binary())
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(args)
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn podtui(args: &[&str], home: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Polls kubectl until the pod `full` is listed (the engine may still be starting it).
fn wait_listed(home: &Path, kubeconfig: &Path, full: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (ok, out, err) = kubectl(home, kubeconfig, &["get", "pods"]);
        if ok && out.contains(full) {
            return out;
        }
        assert!(Instant::now() < deadline, "{full} never listed: {out}{err}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn podtui_run_points_kubectl_at_the_playground() {
    let node = run_id("api-kubeconfig");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nginx.yaml"), nginx_pod()).unwrap();
    let s = state.path().to_str().unwrap();
    let flags = ["--node-name", node.as_str(), "--state-dir", s];

    let run = podtui_run(dir.path(), &node, state.path(), &[], "Kubeconfig:");
    let listening = run
        .lines
        .iter()
        .find(|l| l.contains("api Listening:"))
        .expect("the API line");
    let url = listening
        .split_whitespace()
        .find(|w| w.starts_with("https://127.0.0.1:"))
        .unwrap()
        .to_string();
    let kube_line = run.lines.last().unwrap();
    // `podtui kubeconfig` prints the path the run line names.
    let (code, out, _) = podtui(&[&["kubeconfig"][..], &flags].concat(), home.path());
    assert_eq!(code, 0);
    let path = out.trim().to_string();
    assert_eq!(Path::new(&path), state.path().join("kubeconfig"));
    assert!(
        kube_line.contains(&format!("export KUBECONFIG={path}")),
        "{kube_line}"
    );
    let kubeconfig = std::fs::read_to_string(&path).unwrap();
    assert!(
        kubeconfig.contains(&format!("server: {url}")),
        "{kubeconfig}"
    );
    assert!(kubeconfig.contains(&format!("current-context: podtui-{node}")));
    // Private files.
    assert_eq!(mode(Path::new(&path)), 0o600);
    let api_dir = state.path().join("api");
    assert_eq!(mode(&api_dir), 0o700);
    for f in std::fs::read_dir(&api_dir).unwrap() {
        assert_eq!(mode(&f.unwrap().path()), 0o600);
    }
    let out = wait_listed(home.path(), Path::new(&path), &format!("nginx-{node}"));
    eprintln!("{out}");
    drop(run);

    // A restart keeps the port, the CA and the token: the same kubeconfig still works.
    let run = podtui_run(dir.path(), &node, state.path(), &[], "Kubeconfig:");
    assert!(
        run.lines.iter().any(|l| l.contains(&url)),
        "same address: {:?}",
        run.lines
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), kubeconfig);
    wait_listed(home.path(), Path::new(&path), &format!("nginx-{node}"));

    // --merge adds the context to ~/.kube/config after a backup, leaving the other context alone.
    let kube = home.path().join(".kube");
    std::fs::create_dir_all(&kube).unwrap();
    let theirs = "apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster:\n    server: https://10.0.0.1:6443\nusers:\n- name: work\n  user:\n    token: work-token\ncontexts:\n- name: work\n  context:\n    cluster: work\n    user: work\ncurrent-context: work\n";
    std::fs::write(kube.join("config"), theirs).unwrap();
    let (code, out, err) = podtui(
        &[&["kubeconfig", "--merge"][..], &flags].concat(),
        home.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("context podtui-{node} merged")),
        "{out}"
    );
    let backups: Vec<_> = std::fs::read_dir(&kube)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("config.podtui-backup-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), theirs);
    let merged = kube.join("config");
    let (_, contexts, _) = kubectl(
        home.path(),
        &merged,
        &["config", "get-contexts", "-o", "name"],
    );
    let mut contexts: Vec<&str> = contexts.lines().collect();
    contexts.sort();
    assert_eq!(contexts, [format!("podtui-{node}").as_str(), "work"]);
    let (_, current, _) = kubectl(home.path(), &merged, &["config", "current-context"]);
    assert_eq!(current.trim(), "work", "the current context is kept");
    let (_, work, _) = kubectl(
        home.path(),
        &merged,
        &[
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.users[?(@.name==\"work\")].user.token}",
        ],
    );
    assert_eq!(work, "work-token");
    let (ok, out, err) = kubectl(
        home.path(),
        &merged,
        &["--context", &format!("podtui-{node}"), "get", "pods"],
    );
    assert!(ok && out.contains(&format!("nginx-{node}")), "{out}{err}");
    let (code, _, err) = podtui(
        &[&["kubeconfig", "--merge", "--set-current"][..], &flags].concat(),
        home.path(),
    );
    assert_eq!(code, 0, "{err}");
    let (_, current, _) = kubectl(home.path(), &merged, &["config", "current-context"]);
    assert_eq!(current.trim(), format!("podtui-{node}"));
    assert_eq!(mode(&merged), 0o600);
    drop(run);

    // --api off: no API lines.
    let run = podtui_run(
        dir.path(),
        &node,
        state.path(),
        &["--api", "off"],
        "Manifest:",
    );
    assert!(
        !run.lines.iter().any(|l| l.contains(" api ")),
        "{:?}",
        run.lines
    );
}

#[test]
fn the_tui_header_says_where_the_api_listens() {
    let node = run_id("api-tui");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let cmd = format!(
        "XDG_CONFIG_HOME={} TERM=xterm-256color {BIN} {} --node-name {node} --state-dir {}; sleep 600",
        config.path().display(),
        dir.path().display(),
        state.path().display()
    );
    let t = Tmux::start(&node, 220, 30, &cmd);
    let screen = t.wait("the API in the header", 60, |s| {
        s.contains("API https://127.0.0.1:")
    });
    let kubeconfig = state.path().join("kubeconfig");
    let header = screen.lines().nth(1).unwrap();
    assert!(
        header.contains(&format!("KUBECONFIG={}", kubeconfig.display())),
        "{header}"
    );
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let port = header
        .split("https://127.0.0.1:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        text.contains(&format!("server: https://127.0.0.1:{port}")),
        "{text}"
    );
    t.send(&["q"]);
}
