//! `podtui debug` against the real Docker engine: a debug container with `-c target` sees the target's
//! processes and the pod's localhost, is gone after its command exits, is never adopted or restarted by the
//! engine, and leaves the pod's restart counts alone; a missing image is said to be missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::{BIN, PodtuiRun};
use common::{BUSYBOX, Cleanup, containers_with};

/// `web` (PID 1: busybox httpd on :8080) and a sleeper `side`.
fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [httpd, -f, -p, '8080', -h, /etc]\n  - name: side\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, \"{}\"]\n",
        common::pods::SLEEPER
    )
}

async fn wait_ready(run: &PodtuiRun) -> podtui::engine::Snapshot {
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(s) = podtui::engine::server::fetch_snapshot(run.state.path()).await
            && s.pods.iter().any(|p| p.columns.ready == "2/2")
        {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "pod dbg not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn debug(node: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["debug", "--node-name", node])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_container_sees_the_targets_processes_and_the_pods_localhost() {
    let node = common::run_id("debug");
    let _cleanup = Cleanup::node(&node);
    let run = PodtuiRun::start(&node, &[]);
    run.ready(60).await;
    run.write("dbg.yaml", &pod("dbg"));
    let before = wait_ready(&run).await;
    let pod_filter = format!("io.kubernetes.pod.name={}", run.full("dbg"));
    let ids_before = containers_with(&pod_filter);

    let out = debug(
        &node,
        &[
            "dbg",
            "-c",
            "web",
            "--image",
            BUSYBOX,
            "--",
            "sh",
            "-c",
            "ps -o pid,args; wget -qO- http://127.0.0.1:8080/hostname",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The target's PID 1 is its command: the PID namespace is web's.
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("1 ") && l.contains("httpd -f -p 8080")),
        "ps does not show web's PID 1:\n{stdout}"
    );
    // The pod's localhost: web's httpd serves /etc, and /etc/hostname is the pod's hostname.
    assert!(
        stdout.contains("dbg"),
        "no answer from 127.0.0.1:8080:\n{stdout}"
    );
    assert!(stderr.contains("Debug container debugger-"), "{stderr}");

    // Gone after exit; no other container came or went; restart counts untouched.
    assert_eq!(containers_with(&pod_filter), ids_before);
    assert!(
        containers_with("dev.podtui.ephemeral=true")
            .iter()
            .all(|id| !ids_before.contains(id))
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = wait_ready(&run).await;
    let restarts =
        |s: &podtui::engine::Snapshot| s.pods.iter().map(|p| p.columns.restarts).sum::<u32>();
    assert_eq!(restarts(&after), restarts(&before));
    assert_eq!(restarts(&after), 0);

    // --keep keeps it, labelled as the pod's ephemeral container, and the engine does not adopt it.
    let out = debug(&node, &["dbg", "--keep", "--image", BUSYBOX, "--", "true"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = containers_with("dev.podtui.ephemeral=true")
        .into_iter()
        .filter(|id| containers_with(&pod_filter).contains(id))
        .collect::<Vec<_>>();
    assert_eq!(kept.len(), 1, "one kept debug container");
    let name = common::docker(&["inspect", "-f", "{{.Name}}", &kept[0]]);
    assert!(
        name.starts_with("/k8s_debugger-") && name.contains(&run.full("dbg")),
        "{name}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let snap = wait_ready(&run).await;
    let p = snap.pods.first().unwrap();
    assert!(
        p.observed.all().all(|c| c.id != kept[0]),
        "the engine adopted the debug container"
    );
    assert_eq!(restarts(&snap), 0);
    // The pod shows it as its ephemeral container, as the API serves it: spec and status.
    assert_eq!(
        p.observed
            .ephemeral
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>(),
        kept
    );
    let eph = p.pod.spec.as_ref().unwrap().ephemeral_containers.clone();
    let eph = eph.expect("spec.ephemeralContainers");
    assert!(eph[0].name.starts_with("debugger-") && eph[0].image.as_deref() == Some(BUSYBOX));
    let statuses = p.pod.status.as_ref().unwrap();
    let st = &statuses.ephemeral_container_statuses.as_ref().unwrap()[0];
    assert_eq!(st.name, eph[0].name);
    assert!(st.state.as_ref().unwrap().running.is_some(), "{st:?}");
    assert_eq!(
        statuses.container_statuses.as_ref().unwrap().len(),
        2,
        "not counted with the app containers"
    );
    // Deleting the pod removes its debug container with it (before the sandbox it joined).
    std::fs::remove_file(run.dir.path().join("dbg.yaml")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !containers_with(&pod_filter).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the pod's containers were not all removed: {:?}",
            containers_with(&pod_filter)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_with_a_missing_image_says_so() {
    let node = common::run_id("debug-img");
    let _cleanup = Cleanup::node(&node);
    let run = PodtuiRun::start(&node, &[]);
    run.ready(60).await;
    run.write("dbg.yaml", &pod("dbg"));
    wait_ready(&run).await;
    let out = debug(
        &node,
        &[
            "dbg",
            "--image",
            "localhost/podtui-test/missing:1",
            "--",
            "true",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "image \"localhost/podtui-test/missing:1\" is not present locally and cannot be pulled"
        ),
        "{stderr}"
    );
}
