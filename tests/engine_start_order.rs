//! The kubelet's observable start order survives podtui's overlap (containers created while the sandbox starts):
//! Docker's `State.StartedAt` of each container in spec order, init containers one at a time to completion, a
//! postStart hook's marker (written to an emptyDir) there before the next container starts, and a sidecar's
//! startup probe holding back the containers after it. And the overlap itself: a later container was created
//! before an earlier one started.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::engine::{TestEngine, fast_backoff};
use common::{BUSYBOX, docker};

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// Docker's view of each container of pod `full` (by its Kubernetes name): created, started, finished.
fn times(full: &str) -> HashMap<String, (String, String, String)> {
    let ids = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=io.kubernetes.pod.name={full}"),
    ]);
    let mut out = HashMap::new();
    for id in ids.lines() {
        let line = docker(&[
            "inspect",
            "--format",
            r#"{{index .Config.Labels "io.kubernetes.container.name"}} {{.Created}} {{.State.StartedAt}} {{.State.FinishedAt}}"#,
            id,
        ]);
        let f: Vec<&str> = line.split_whitespace().collect();
        out.insert(
            f[0].to_string(),
            (f[1].to_string(), f[2].to_string(), f[3].to_string()),
        );
    }
    out
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Apps only: every one is created ahead; a postStart hook (1 s) blocks the next start.
fn apps_pod() -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: apps}}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{{name: shared, emptyDir: {{}}}}]
  containers:
  - name: a
    image: {BUSYBOX}
    command: [/bin/sh, -c, "{LOOP}"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
    lifecycle:
      postStart: {{exec: {{command: [/bin/sh, -c, "sleep 1; touch /shared/a-hook"]}}}}
  - name: b
    image: {BUSYBOX}
    command: [/bin/sh, -c, "if [ -f /shared/a-hook ]; then echo after > /shared/b-saw; else echo before > /shared/b-saw; fi; {LOOP}"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: c
    image: {BUSYBOX}
    command: [/bin/sh, -c, "{LOOP}"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
"#
    )
}

/// An init container, then a sidecar whose startup probe passes ~1.5 s after it starts, then an app.
fn init_pod() -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: inits}}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{{name: shared, emptyDir: {{}}}}]
  initContainers:
  - name: first
    image: {BUSYBOX}
    command: [/bin/sh, -c, "sleep 0.5; touch /shared/first-done"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: side
    image: {BUSYBOX}
    restartPolicy: Always
    command: [/bin/sh, -c, "sleep 1.5; touch /shared/side-ready; {LOOP}"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
    startupProbe:
      exec: {{command: [test, -f, /shared/side-ready]}}
      periodSeconds: 1
      failureThreshold: 30
  containers:
  - name: app
    image: {BUSYBOX}
    command: [/bin/sh, -c, "[ -f /shared/side-ready ] && echo ready > /shared/app-saw || echo early > /shared/app-saw; {LOOP}"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
"#
    )
}

#[tokio::test]
async fn overlapped_creates_keep_the_kubelets_start_order() {
    let mut t = TestEngine::new("startorder");
    t.write("apps.yaml", &apps_pod());
    t.write("inits.yaml", &init_pod());
    t.start(fast_backoff());
    let apps = t
        .wait_pod("apps", "running", 90, |p| {
            p.columns.status == "Running" && p.columns.ready == "3/3"
        })
        .await;
    let inits = t
        .wait_pod("inits", "running", 90, |p| {
            p.columns.status == "Running" && common::engine::running_id(p, "app").is_some()
        })
        .await;

    let a = times(&t.pod_name("apps"));
    let (sb, ca, cb, cc) = (&a["POD"], &a["a"], &a["b"], &a["c"]);
    // Starts in spec order, the sandbox first.
    assert!(ts(&sb.1) < ts(&ca.1), "{a:?}");
    assert!(ts(&ca.1) < ts(&cb.1) && ts(&cb.1) < ts(&cc.1), "{a:?}");
    // a's postStart hook (1 s) ran to its end before b started: b saw its marker, and started ≥ 1 s after a.
    let app = common::engine::running_id(&apps, "b").unwrap();
    let saw = docker(&["exec", &app, "cat", "/shared/b-saw"]);
    assert_eq!(
        saw.trim(),
        "after",
        "b started before a's postStart hook ended"
    );
    assert!(
        ts(&cb.1).duration_since(ts(&ca.1)).as_secs_f64() >= 1.0,
        "{a:?}"
    );
    // The overlap: c (and b) were created before a started, while the sandbox started.
    assert!(ts(&cb.0) < ts(&ca.1) && ts(&cc.0) < ts(&ca.1), "{a:?}");

    let i = times(&t.pod_name("inits"));
    let (first, side, app) = (&i["first"], &i["side"], &i["app"]);
    // The init container ran to completion before the sidecar started; the app started after the sidecar's
    // startup probe passed (it saw the marker the probe checks).
    assert!(ts(&first.2) <= ts(&side.1), "{i:?}");
    assert!(ts(&side.1) < ts(&app.1), "{i:?}");
    assert!(
        ts(&app.1).duration_since(ts(&side.1)).as_secs_f64() >= 1.5,
        "{i:?}"
    );
    let id = common::engine::running_id(&inits, "app").unwrap();
    let saw = docker(&["exec", &id, "cat", "/shared/app-saw"]);
    assert_eq!(
        saw.trim(),
        "ready",
        "the app started before the sidecar's startup probe passed"
    );
    t.stop().await;
}
