//! `podtui port-forward` against the real Docker engine: a pod serving HTTP with busybox httpd and a
//! byte-counting echo, a `podtui run` engine, and the forward as a child process. 100 parallel requests pass
//! through; a `docker kill` of the app container does not end the forward; the sandbox path (forced with
//! `PODTUI_FORWARD_VIA=sandbox`) carries the same; a half-closed connection still gets its reply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::process::{BIN, PodtuiRun};
use common::{BUSYBOX, Cleanup, docker};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `web` serves /www/index.html on :8080 (busybox httpd); `count` answers each connection on :9000 with the
/// number of bytes it received once the client has shut its write side (`wc -c`).
fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'mkdir -p /www; echo hello-from-pod > /www/index.html; exec httpd -f -p 8080 -h /www']\n    ports: [{{containerPort: 8080}}]\n  - name: count\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'exec nc -ll -p 9000 -e wc -c']\n"
    )
}

/// A running `podtui port-forward` and the local port it printed.
struct Forwarder {
    child: Child,
    port: u16,
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward(node: &str, pod: &str, pair: &str, via: Option<&str>) -> Forwarder {
    let mut cmd = Command::new(BIN);
    cmd.args(["port-forward", pod, pair, "--node-name", node])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(v) = via {
        cmd.env("PODTUI_FORWARD_VIA", v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Forwarding from 127.0.0.1:PORT -> REMOTE", as kubectl prints it.
    let port = line
        .strip_prefix("Forwarding from 127.0.0.1:")
        .and_then(|r| r.split_once(" -> "))
        .and_then(|(p, _)| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Forwarder { child, port }
}

async fn get(port: u16) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_string(&mut out))
        .await
        .map_err(|_| "read timed out".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(out)
}

async fn hundred_parallel(port: u16) {
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        tasks.spawn(get(port));
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        let body = r.unwrap().unwrap_or_else(|e| panic!("request {ok}: {e}"));
        assert!(
            body.contains("200 OK") && body.contains("hello-from-pod"),
            "{body:?}"
        );
        ok += 1;
    }
    assert_eq!(ok, 100);
    eprintln!(
        "100 parallel requests through :{port} took {:?}",
        started.elapsed()
    );
}

/// Sends `n` bytes, shuts the write side, and reads the reply (the byte count).
async fn half_close(port: u16, n: usize) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(&vec![b'x'; n]).await.unwrap();
    s.shutdown().await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_string(&mut out))
        .await
        .expect("the reply after a half-close")
        .unwrap();
    out.trim().to_string()
}

async fn eventually_get(port: u16, secs: u64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match get(port).await {
            Ok(b) if b.contains("hello-from-pod") => return b,
            other => assert!(
                std::time::Instant::now() < deadline,
                "no answer through the forward after {secs}s: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the engine's snapshot has a pod for which `pred` holds.
async fn wait_pod(run: &PodtuiRun, what: &str, pred: impl Fn(&podtui::engine::PodView) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let snap = podtui::engine::server::fetch_snapshot(run.state.path()).await;
        if snap.is_some_and(|s| s.pods.iter().any(|p| pred(p))) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `podtui run` with pod `pf` running both containers.
/// The engine, its pod `pf` running, and the cleanup of its node. Keep the order when destructuring: locals
/// drop in reverse, so the engine is killed before the cleanup runs (else it recreates what was removed).
async fn start_pod(test: &str) -> (Cleanup, PodtuiRun, String) {
    let node = common::run_id(test);
    let cleanup = Cleanup::node(&node);
    let run = PodtuiRun::start(&node, &[]);
    run.ready(60).await;
    run.write("pf.yaml", &pod("pf"));
    wait_pod(&run, "pod pf running", |p| p.columns.ready == "2/2").await;
    (cleanup, run, node)
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_carries_parallel_requests_and_survives_a_container_kill() {
    let (_cleanup, run, node) = start_pod("pf-direct").await;
    let f = forward(&node, "pf", ":8080", Some("direct"));
    eventually_get(f.port, 60).await;
    hundred_parallel(f.port).await;

    // Kill the app container: the engine restarts it, and new connections through the same forward work.
    let web = docker(&[
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        &format!("label=dev.podtui.node={node}"),
        "--filter",
        "label=io.kubernetes.container.name=web",
    ]);
    assert!(!web.is_empty());
    docker(&["kill", &web]);
    wait_pod(&run, "web restarted", |p| {
        p.columns.restarts >= 1 && common::engine::running_id(p, "web").is_some_and(|id| id != web)
    })
    .await;
    eventually_get(f.port, 30).await;
    hundred_parallel(f.port).await;
    assert_eq!(
        half_close(forward(&node, "pf", ":9000", Some("direct")).port, 100_000).await,
        "100000"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_through_the_sandbox_relays_and_passes_half_closes_on() {
    let (_cleanup, _run, node) = start_pod("pf-sandbox").await;
    let f = forward(&node, "pf", ":8080", Some("sandbox"));
    eventually_get(f.port, 60).await;
    hundred_parallel(f.port).await;
    let c = forward(&node, "pf", ":9000", Some("sandbox"));
    assert_eq!(half_close(c.port, 1_000_000).await, "1000000");
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_of_a_missing_pod_says_so() {
    let node = common::run_id("pf-missing");
    let out = Command::new(BIN)
        .args(["port-forward", "nope", "8080", "--node-name", &node])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pod default/nope not found"), "{err}");
}
