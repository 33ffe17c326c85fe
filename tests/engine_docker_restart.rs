//! The Docker engine restarts under a running podtui: podtui shows it disconnected, reconnects, and converges
//! with no duplicate or orphan containers. This binary restarts the machine's dockerd, so it holds one test only
//! (cargo runs test binaries one after another). It needs root, as CI has; elsewhere set
//! PODTUI_SKIP_DOCKERD_RESTART=1 to skip it explicitly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::dockerd::restart_dockerd;
use common::engine::{TestEngine, fast_backoff, running_id, sandbox_id};
use common::{BUSYBOX, docker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_after_dockerd_restarts() {
    if std::env::var_os("PODTUI_SKIP_DOCKERD_RESTART").is_some() {
        eprintln!("skipped: PODTUI_SKIP_DOCKERD_RESTART is set");
        return;
    }
    let mut t = TestEngine::new("dockerd-restart");
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    volumeMounts: [{{name: d, mountPath: /d}}]\n  - name: b\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n  volumes:\n  - name: d\n    emptyDir: {{}}\n"
        )
    };
    t.write("one.yaml", &pod("one"));
    t.write("two.yaml", &pod("two"));
    t.start(fast_backoff());
    let one = t
        .wait_pod("one", "one running", 60, |p| p.columns.status == "Running")
        .await;
    let two = t
        .wait_pod("two", "two running", 60, |p| p.columns.status == "Running")
        .await;
    let old_sandboxes = [sandbox_id(&one).unwrap(), sandbox_id(&two).unwrap()];
    let mut states = t.handle().snapshot.clone();
    let saw_disconnect = tokio::spawn(async move {
        while states.changed().await.is_ok() {
            if matches!(
                states.borrow_and_update().docker,
                podtui::engine::DockerState::Disconnected { .. }
            ) {
                return true;
            }
        }
        false
    });

    tokio::task::spawn_blocking(restart_dockerd).await.unwrap();

    // podtui noticed (the disconnected state is published) and converged afterwards.
    for name in ["one", "two"] {
        let p = t
            .wait_pod(name, "converged after the restart", 90, |p| {
                p.columns.status == "Running"
                    && sandbox_id(p).is_some_and(|s| !old_sandboxes.contains(&s))
                    && running_id(p, "a").is_some()
                    && running_id(p, "b").is_some()
            })
            .await;
        let sb = sandbox_id(&p).unwrap();
        for c in ["a", "b"] {
            let id = running_id(&p, c).unwrap();
            assert_eq!(
                docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", &id]),
                format!("container:{sb}")
            );
        }
        // No duplicates: one running sandbox, one running instance of each container.
        let running = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=io.kubernetes.pod.uid={}", p.uid),
        ]);
        assert_eq!(running.lines().count(), 3, "{running}");
        let all = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=io.kubernetes.pod.uid={}", p.uid),
        ]);
        assert!(
            all.lines().count() <= 6,
            "old instances are cleaned up: {all}"
        );
    }
    assert!(
        saw_disconnect.await.unwrap(),
        "the engine published the disconnected state"
    );
    // No orphans: every container and volume of this node belongs to one of the two pods.
    let snap = t.snapshot();
    let uids: Vec<&str> = snap.pods.iter().map(|p| p.uid.as_str()).collect();
    assert_eq!(uids.len(), 2);
    let labels = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=dev.podtui.node={}", t.node),
        "--format",
        "{{.Label \"io.kubernetes.pod.uid\"}}",
    ]);
    assert!(labels.lines().all(|u| uids.contains(&u)), "{labels}");
    let vols = docker(&[
        "volume",
        "ls",
        "--filter",
        &format!("label=dev.podtui.node={}", t.node),
        "--format",
        "{{.Name}}",
    ]);
    assert_eq!(vols.lines().count(), 2, "one emptyDir per pod: {vols}");
    t.stop().await;
}
