//! `kubectl logs` against the API: the whole log, `--tail`, `-c`, `--timestamps`, `--limit-bytes`,
//! `--since-time`, `--previous` of the crash-loop example, `-f` streaming until the container stops, and the
//! errors kubectl prints for a container that cannot have logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use std::process::Stdio;
use std::time::Duration;

use api_support::{Playground, crashloop_pod, job_pod};
use common::BUSYBOX;
use tokio::io::{AsyncBufReadExt, BufReader};

fn never_pod() -> String {
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: never\nspec:\n  containers:\n  - name: app\n    image: localhost/podtui-test/absent:1\n    imagePullPolicy: Never\n".to_string()
}

fn ticker_pod() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ticker\nspec:\n  restartPolicy: Never\n  containers:\n  - name: tick\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'echo start; sleep 3; echo end']\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_logs_reads_every_instance_as_from_a_cluster() {
    let mut p = Playground::start(
        "api-logs",
        &[
            ("job.yaml", job_pod()),
            ("crashloop.yaml", crashloop_pod()),
            ("never.yaml", never_pod()),
        ],
    )
    .await;
    let job = p.pod("countdown");
    p.t.wait_pod("countdown", "Completed", 60, |v| {
        v.columns.status == "Completed"
    })
    .await;
    p.t.wait_pod("crashloop", "restarted once", 60, |v| {
        v.columns.restarts >= 1
    })
    .await;
    p.t.wait_pod("never", "ErrImageNeverPull", 60, |v| {
        v.columns.status == "ErrImageNeverPull"
    })
    .await;

    let all = "5...\n4...\n3...\n2...\n1...\nliftoff\n";
    assert_eq!(p.ok(&["logs", "countdown"]).await, all);
    assert_eq!(p.ok(&["logs", &job]).await, all);
    assert_eq!(p.ok(&["logs", "countdown", "-c", "count"]).await, all);
    assert_eq!(
        p.ok(&["logs", "countdown", "--tail", "2"]).await,
        "1...\nliftoff\n"
    );
    assert_eq!(
        p.ok(&["logs", "countdown", "--limit-bytes", "6"]).await,
        "5...\n4"
    );
    assert_eq!(p.ok(&["logs", "countdown", "--since", "1h"]).await, all);
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600)).to_string();
    assert_eq!(
        p.ok(&["logs", "countdown", "--since-time", &later]).await,
        ""
    );
    let stamped = p.ok(&["logs", "countdown", "--timestamps"]).await;
    assert_eq!(stamped.lines().count(), 6);
    for (line, want) in stamped.lines().zip(all.lines()) {
        let (stamp, text) = line.split_once(' ').unwrap();
        assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{line}");
        assert_eq!(text, want);
    }
    // Since the third line's time: the lines from it on (sub-second precision, as the kubelet filters).
    let third = stamped
        .lines()
        .nth(2)
        .unwrap()
        .split_once(' ')
        .unwrap()
        .0
        .to_string();
    assert_eq!(
        p.ok(&["logs", "countdown", "--since-time", &third]).await,
        "3...\n2...\n1...\nliftoff\n"
    );

    // The crash loop: --previous is the last exited instance.
    let prev = p.ok(&["logs", "crashloop", "--previous"]).await;
    assert_eq!(prev, "starting, will fail in 3s\ngiving up\n");
    assert!(
        p.ok(&["logs", "crashloop"])
            .await
            .starts_with("starting, will fail in 3s\n")
    );

    // Errors as kubectl prints them from a cluster (the pod under the name asked for).
    let e = p.fails(&["logs", "countdown", "--previous"]).await;
    assert_eq!(
        e.trim(),
        format!(
            "Error from server (BadRequest): previous terminated container \"count\" in pod \"countdown\" not found"
        )
    );
    // kubectl checks a container name itself; the server answers the same to a raw request.
    let e = p.fails(&["logs", "countdown", "-c", "nope"]).await;
    assert_eq!(
        e.trim(),
        format!("error: container nope is not valid for pod countdown")
    );
    let raw = format!("/api/v1/namespaces/default/pods/{job}/log?container=nope");
    let e = p.fails(&["get", "--raw", &raw]).await;
    assert_eq!(
        e.trim(),
        format!("Error from server (BadRequest): container nope is not valid for pod {job}")
    );
    let e = p.fails(&["logs", "never"]).await;
    assert_eq!(
        e.trim(),
        "Error from server (BadRequest): container \"app\" in pod \"never\" is waiting to start: ErrImageNeverPull"
    );
    let e = p.fails(&["logs", "nope"]).await;
    assert_eq!(
        e.trim(),
        "error: error from server (NotFound): pods \"nope\" not found in namespace \"default\""
    );

    // -f streams while the container runs and ends when it stops.
    p.t.write("ticker.yaml", &ticker_pod());
    p.t.wait_pod("ticker", "Running", 60, |v| v.columns.status == "Running")
        .await;
    let mut child = p
        .command(&p.kubeconfig(), &["logs", "-f", "ticker"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.as_deref(), Some("start"));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still following while the container runs"
    );
    let second = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.as_deref(), Some("end"));
    let rest = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, None, "the stream ends when the container stops");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    p.stop().await;
}
