//! Watches against the API: `kubectl get pods -w` shows a `docker kill` of an app container as a new line
//! within a second; raw watches resume from a resourceVersion, end after `timeoutSeconds`, answer a too old
//! version with 410 Expired, and end the initial events of `sendInitialEvents=true` with the
//! `k8s.io/initial-events-end` bookmark (what client-go >= 0.35 informers wait for).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use api_support::{Playground, nginx_pod};
use common::docker;
use common::engine::running_id;
use tokio::io::{AsyncBufReadExt, BufReader};

fn events(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_follow_the_engine_and_resume() {
    let mut p = Playground::start("api-watch", &[("nginx.yaml", nginx_pod())]).await;
    let name = p.pod("nginx");
    let pod =
        p.t.wait_pod("nginx", "Running 2/2", 90, |v| {
            v.columns.ready == "2/2" && v.columns.status == "Running"
        })
        .await;
    let list: serde_json::Value = serde_json::from_str(
        &p.ok(&["get", "--raw", "/api/v1/namespaces/default/pods"])
            .await,
    )
    .unwrap();
    assert_eq!(list["kind"], "PodList");
    let list_rv: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // kubectl get pods -w: the initial line, then a new one within a second of the kill.
    let mut child = p
        .command(&p.kubeconfig(), &["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(header.starts_with("NAME"), "{header}");
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        first.starts_with(&name) && first.contains("Running"),
        "{first}"
    );
    let sidecar = running_id(&pod, "log-truncator").unwrap();
    docker(&["kill", &sidecar]);
    let killed = Instant::now();
    let line = tokio::time::timeout(Duration::from_secs(1), lines.next_line())
        .await
        .expect("a watch line within a second of the kill")
        .unwrap()
        .unwrap();
    eprintln!("watch line {:?} after the kill: {line}", killed.elapsed());
    assert!(line.starts_with(&name), "{line}");
    assert!(
        !line.contains("2/2   Running   0 "),
        "the line shows the change: {line}"
    );
    let _ = child.kill().await;

    // The engine restarts the container; a watch from the list's version replays what happened since.
    p.t.wait_pod("nginx", "restarted", 60, |v| {
        v.columns.restarts >= 1 && v.columns.ready == "2/2"
    })
    .await;
    let from = format!(
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion={list_rv}&timeoutSeconds=1"
    );
    let started = Instant::now();
    let ev = events(&p.ok(&["get", "--raw", &from]).await);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "timeoutSeconds ends the watch"
    );
    assert!(
        !ev.is_empty() && ev.iter().all(|e| e["type"] == "MODIFIED"),
        "{ev:?}"
    );
    let rvs: Vec<u64> = ev
        .iter()
        .map(|e| {
            e["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        rvs.windows(2).all(|w| w[0] < w[1]) && rvs[0] > list_rv,
        "versions increase: {rvs:?}"
    );
    let last = ev.last().unwrap();
    assert_eq!(
        last["object"]["status"]["containerStatuses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Too old: an ERROR event with 410 Expired.
    let ev = events(
        &p.ok(&["get", "--raw", "/api/v1/pods?watch=true&resourceVersion=1"])
            .await,
    );
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["type"], "ERROR");
    assert_eq!(ev[0]["object"]["code"], 410);
    assert_eq!(ev[0]["object"]["reason"], "Expired");

    // WatchList: the current pods as ADDED, then the bookmark that ends the initial events.
    let q = "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1";
    let ev = events(&p.ok(&["get", "--raw", q]).await);
    assert_eq!(ev[0]["type"], "ADDED");
    assert_eq!(ev[0]["object"]["metadata"]["name"], name.as_str());
    assert_eq!(ev[1]["type"], "BOOKMARK");
    assert_eq!(ev[1]["object"]["kind"], "Pod");
    assert_eq!(
        ev[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let bookmark_rv: u64 = ev[1]["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bookmark_rv > list_rv);

    // A selector the pod leaves: a MODIFIED that no longer matches is sent as DELETED.
    let q = format!(
        "/api/v1/pods?watch=true&fieldSelector=status.phase%3DRunning&resourceVersion={bookmark_rv}&timeoutSeconds=5"
    );
    let mut watch = p
        .command(&p.kubeconfig(), &["get", "--raw", &q])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(watch.stdout.take().unwrap()).lines();
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::remove_file(p.t.path("nginx.yaml")).unwrap();
    let mut seen = Vec::new();
    while let Ok(Some(l)) = out.next_line().await {
        let e: serde_json::Value = serde_json::from_str(&l).unwrap();
        seen.push(e["type"].as_str().unwrap().to_string());
        if e["type"] == "DELETED" {
            break;
        }
    }
    assert_eq!(seen.last().map(String::as_str), Some("DELETED"), "{seen:?}");
    let _ = watch.kill().await;
    p.stop().await;
}
