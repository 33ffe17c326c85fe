//! The engine against the real Docker engine: the example pod with real pause semantics, and the pod lifecycle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::engine::{TestEngine, container_status, fast_backoff, running_id, sandbox_id};
use common::{BUSYBOX, SEEDED, docker};

/// manifests/nginx.yaml with the offline test images: the "nginx" container serves HTTP on :80 with busybox
/// httpd from an image that, like nginx's, has files at /var/log/nginx.
fn example_pod() -> String {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/nginx.yaml"))
            .unwrap();
    text.replace(
        "    image: nginx\n",
        &format!(
            "    image: {SEEDED}\n    command: [/bin/sh, -c, 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www']\n"
        ),
    )
    .replace("image: busybox", &format!("image: {BUSYBOX}"))
    .replace("spec:\n", "spec:\n  terminationGracePeriodSeconds: 2\n")
}

fn exec(id: &str, cmd: &str) -> String {
    docker(&["exec", id, "sh", "-c", cmd])
}

#[tokio::test]
async fn example_pod_has_real_pause_semantics() {
    let mut t = TestEngine::new("example");
    t.write("nginx.yaml", &example_pod());
    t.start(fast_backoff());
    let pod = t
        .wait_pod("nginx", "example pod Running 2/2", 60, |p| {
            p.columns.status == "Running" && p.columns.ready == "2/2"
        })
        .await;
    let uid = pod.uid.clone();
    let name = t.pod_name("nginx");

    // Three containers, named as the kubelet names them.
    let sandbox = sandbox_id(&pod).unwrap();
    let web = running_id(&pod, "nginx").unwrap();
    let sidecar = running_id(&pod, "log-truncator").unwrap();
    let names = docker(&[
        "ps",
        "--filter",
        &format!("label=io.kubernetes.pod.uid={uid}"),
        "--format",
        "{{.Names}}",
    ]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("k8s_POD_{name}_default_{uid}_0"),
            format!("k8s_log-truncator_{name}_default_{uid}_0"),
            format!("k8s_nginx_{name}_default_{uid}_0"),
        ]
    );

    // Both app containers join the sandbox's network and IPC namespaces; the pod IP is the sandbox's.
    for id in [&web, &sidecar] {
        assert_eq!(
            docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", id]),
            format!("container:{sandbox}")
        );
        assert_eq!(
            docker(&["inspect", "-f", "{{.HostConfig.IpcMode}}", id]),
            format!("container:{sandbox}")
        );
        assert_eq!(
            docker(&["inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", id]),
            "no"
        );
    }
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.IpcMode}}", &sandbox]),
        "shareable"
    );
    let sandbox_ip = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", &sandbox]);
    assert_eq!(pod.ip(), Some(sandbox_ip.as_str()));
    let ip_in_sidecar = exec(
        &sidecar,
        "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1",
    );
    assert_eq!(ip_in_sidecar, sandbox_ip);
    assert_eq!(exec(&web, "hostname"), name);

    // The sidecar reaches the web container on localhost.
    assert_eq!(
        exec(&sidecar, "wget -qO- http://localhost:80/"),
        "hello-from-web"
    );

    // The emptyDir started empty (the image's files at /var/log/nginx were not copied up), is mode 0777, and is shared.
    let listing = exec(&web, "ls -A /var/log/nginx");
    assert!(listing.is_empty() || listing == "access.log", "{listing:?}");
    assert_eq!(exec(&web, "stat -c %a /var/log/nginx"), "777");
    assert!(
        !exec(
            &web,
            "[ -L /var/log/nginx/error.log ] && echo link || echo none"
        )
        .contains("link"),
        "copy-up happened"
    );
    exec(&web, "echo shared > /var/log/nginx/probe");
    assert_eq!(exec(&sidecar, "cat /logdir/probe"), "shared");

    // Status as kubectl would print it.
    let st = pod.pod.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    for c in st.conditions.iter().flatten() {
        assert_eq!(c.status, "True", "{c:?}");
    }
    assert_eq!(
        container_status(&pod, "nginx").container_id.as_deref(),
        Some(format!("docker://{web}").as_str())
    );
    t.stop().await;
}

#[tokio::test]
async fn delete_edit_and_identical_rewrite() {
    let mut t = TestEngine::new("lifecycle");
    let pod = |msg: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  terminationGracePeriodSeconds: 3\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; echo {msg}; while true; do sleep 1; done']\n    readinessProbe:\n      exec: {{command: [\"true\"]}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n"
        )
    };
    t.write("web.yaml", &pod("one"));
    t.start(fast_backoff());
    let v1 = t
        .wait_pod("web", "web running", 60, |p| p.columns.status == "Running")
        .await;
    let id1 = running_id(&v1, "app").unwrap();

    // An identical rewrite (and a formatting-only change) changes nothing. The barrier: the engine has
    // reconciled against both writes; then the pod's worker publishes a readiness result from after the
    // barrier, so it has handled anything the engine told it (a replacement would show it terminating).
    t.write("web.yaml", &pod("one"));
    t.write("web.yaml", &format!("# reformatted\n{}", pod("one")));
    t.barrier().await;
    let after = jiff::Timestamp::now();
    let snap = t.worker_caught_up(&v1.uid, after).await;
    assert_eq!(snap.pods.len(), 1, "{}", common::engine::describe(&snap));
    let same = &snap.pods[0];
    assert!(
        same.uid == v1.uid && same.desired && same.terminating.is_none(),
        "{}",
        common::engine::describe(&snap)
    );
    assert_eq!(running_id(same, "app").unwrap(), id1);
    assert_eq!(sandbox_id(same), sandbox_id(&v1));

    // An edit replaces the pod: new UID, new sandbox, restarts reset; the old one is gone.
    t.write("web.yaml", &pod("two"));
    let v2 = t
        .wait_pod("web", "replaced", 60, |p| {
            p.uid != v1.uid && p.columns.status == "Running"
        })
        .await;
    assert_ne!(running_id(&v2, "app").unwrap(), id1);
    assert_eq!(v2.columns.restarts, 0);
    assert!(common::containers_with(&format!("io.kubernetes.pod.uid={}", v1.uid)).is_empty());
    let app2 = running_id(&v2, "app").unwrap();
    assert_eq!(
        common::eventually(|| docker(&["logs", &app2]), |l| !l.is_empty()).await,
        "two"
    );

    // Deleting the manifest removes the pod within its grace period.
    let started = std::time::Instant::now();
    std::fs::remove_file(t.path("web.yaml")).unwrap();
    t.wait("pod gone", 30, |s| s.pods.is_empty()).await;
    assert!(
        started.elapsed() < Duration::from_secs(3 + 5),
        "{:?}",
        started.elapsed()
    );
    assert!(common::containers_with(&format!("io.kubernetes.pod.uid={}", v2.uid)).is_empty());
    t.stop().await;
}

#[tokio::test]
async fn crash_loop_backs_off_with_growing_gaps() {
    let mut t = TestEngine::new("crashloop");
    t.write(
        "crash.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: crash\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'echo boom; exit 3']\n"),
    );
    t.start(fast_backoff());
    let mut events = t.handle().subscribe();
    // Times of the container's starts, from the engine's own events.
    let mut starts: Vec<std::time::Instant> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while starts.len() < 5 {
        let e = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("5 starts within 60 s")
            .unwrap();
        if e.event.reason == "Started" && e.event.object == "spec.containers{c}" {
            starts.push(std::time::Instant::now());
        }
    }
    let gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    // First restart immediate, then 1 s, 2 s, 4 s (the cap): each gap at least the back-off, and growing.
    assert!(gaps[0] < 1.0, "{gaps:?}");
    assert!(
        gaps[1] >= 0.9 && gaps[2] >= 1.9 && gaps[3] >= 3.9,
        "{gaps:?}"
    );
    assert!(gaps[1] < gaps[2] && gaps[2] < gaps[3], "{gaps:?}");

    let pod = t
        .wait_pod("crash", "CrashLoopBackOff", 30, |p| {
            p.columns.status == "CrashLoopBackOff"
        })
        .await;
    let st = container_status(&pod, "c");
    let waiting = st.state.as_ref().unwrap().waiting.as_ref().unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
    assert!(
        waiting
            .message
            .as_deref()
            .unwrap()
            .starts_with("back-off 4s restarting failed container=c"),
        "{waiting:?}"
    );
    assert_eq!(
        st.last_state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .exit_code,
        3
    );
    assert!(st.restart_count >= 4);
    assert!(pod.events.iter().any(|e| e.reason == "BackOff"));
    // Only the newest instance and the one before it are kept (with the sandbox). The oldest is removed just
    // after a new instance starts, so right then Docker can still list it: wait for the removal.
    let filter = format!("io.kubernetes.pod.uid={}", pod.uid);
    let ids = common::eventually(|| common::containers_with(&filter), |ids| ids.len() <= 3).await;
    assert!(ids.len() <= 3, "old instances are removed: {ids:?}");
    t.stop().await;
}

#[tokio::test]
async fn restart_policies_end_in_the_right_phase() {
    let mut t = TestEngine::new("phases");
    let pod = |name: &str, policy: &str, code: u8| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  restartPolicy: {policy}\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: job\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'sleep 1; exit {code}']\n"
        )
    };
    t.write("a.yaml", &pod("ok", "OnFailure", 0));
    t.write("b.yaml", &pod("fail", "Never", 2));
    t.write("c.yaml", &pod("retry", "OnFailure", 1));
    t.start(fast_backoff());
    let ok = t
        .wait_pod("ok", "Succeeded", 60, |p| {
            p.pod.status.as_ref().unwrap().phase.as_deref() == Some("Succeeded")
        })
        .await;
    assert_eq!(ok.columns.status, "Completed");
    assert_eq!(ok.columns.restarts, 0);
    let fail = t
        .wait_pod("fail", "Failed", 60, |p| {
            p.pod.status.as_ref().unwrap().phase.as_deref() == Some("Failed")
        })
        .await;
    assert_eq!(fail.columns.status, "Error");
    // Terminal pods are not restarted and their sandbox is stopped. Measured against the retrying pod, which
    // started at the same time and fails the same way: once it has been restarted twice (the immediate restart
    // and one back-off), a restart of the failed pod would have happened too.
    let fail_uid = fail.uid.clone();
    let retry_name = t.pod_name("retry");
    let snap = t
        .wait("retry restarted twice, fail's sandbox stopped", 60, |s| {
            s.pods
                .iter()
                .any(|p| p.name == retry_name && p.columns.restarts >= 2)
                && s.pods
                    .iter()
                    .any(|p| p.uid == fail_uid && sandbox_id(p).is_none())
        })
        .await;
    let fail = snap.pods.iter().find(|p| p.uid == fail.uid).unwrap();
    assert_eq!(fail.columns.restarts, 0);
    assert!(
        sandbox_id(fail).is_none(),
        "the sandbox of a finished pod is stopped"
    );
    let retry = snap
        .pods
        .iter()
        .find(|p| p.name == t.pod_name("retry"))
        .unwrap();
    assert!(
        retry.columns.restarts >= 1,
        "OnFailure restarts a failing container"
    );
    assert_eq!(
        retry.pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
    t.stop().await;
}

#[tokio::test]
async fn init_containers_run_in_order_and_failures_block_the_pod() {
    let mut t = TestEngine::new("init");
    t.write(
        "ordered.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ordered\nspec:\n  terminationGracePeriodSeconds: 2\n  initContainers:\n  - name: first\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'sleep 1; echo -n 1 >> /w/order']\n    volumeMounts: [{{name: w, mountPath: /w}}]\n  - name: second\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'echo -n 2 >> /w/order']\n    volumeMounts: [{{name: w, mountPath: /w}}]\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'cat /w/order; echo; trap \"exit 0\" TERM; while true; do sleep 1; done']\n    volumeMounts: [{{name: w, mountPath: /w}}]\n  volumes:\n  - name: w\n    emptyDir: {{}}\n"
        ),
    );
    t.write(
        "broken.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 2\n  initContainers:\n  - name: fails\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'exit 7']\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '60']\n"
        ),
    );
    t.write(
        "looping.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: looping\nspec:\n  terminationGracePeriodSeconds: 2\n  initContainers:\n  - name: fails\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'exit 1']\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '60']\n"
        ),
    );
    t.start(fast_backoff());
    let ordered = t
        .wait_pod("ordered", "ordered Running", 60, |p| {
            p.columns.status == "Running"
        })
        .await;
    let app = running_id(&ordered, "app").unwrap();
    assert_eq!(
        common::eventually(|| docker(&["logs", &app]), |l| !l.is_empty()).await,
        "12"
    );
    let broken = t
        .wait_pod("broken", "Init:Error", 60, |p| {
            p.columns.status == "Init:Error"
        })
        .await;
    assert_eq!(
        broken.pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Failed")
    );
    assert!(
        broken.observed.instances("app").is_empty(),
        "the app container never starts"
    );
    let looping = t
        .wait_pod("looping", "Init:CrashLoopBackOff", 60, |p| {
            p.columns.status == "Init:CrashLoopBackOff"
        })
        .await;
    assert_eq!(looping.columns.ready, "0/1");
    assert!(looping.observed.instances("app").is_empty());
    t.stop().await;
}

#[tokio::test]
async fn missing_image_backs_off_while_another_pod_starts() {
    let mut t = TestEngine::new("pull");
    t.write(
        "missing.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: missing\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: localhost/podtui-test/does-not-exist:1\n",
    );
    t.write(
        "fine.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: fine\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sleep, '60']\n"),
    );
    t.start(fast_backoff());
    t.wait_pod("fine", "the other pod runs", 60, |p| {
        p.columns.status == "Running"
    })
    .await;
    let err = t
        .wait_pod("missing", "ErrImagePull", 60, |p| {
            p.events
                .iter()
                .any(|e| e.message.contains("Error: ErrImagePull"))
        })
        .await;
    assert!(err.events.iter().any(|e| e.reason == "Pulling"));
    let backoff = t
        .wait_pod("missing", "ImagePullBackOff", 60, |p| {
            p.columns.status == "ImagePullBackOff"
        })
        .await;
    assert_eq!(
        backoff.pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    t.stop().await;
}

#[tokio::test]
async fn killed_pause_container_restarts_the_whole_pod() {
    let mut t = TestEngine::new("pause-killed");
    t.write(
        "p.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n"),
    );
    t.start(fast_backoff());
    let before = t
        .wait_pod("p", "running", 60, |p| p.columns.status == "Running")
        .await;
    let old_sandbox = sandbox_id(&before).unwrap();
    docker(&["kill", &old_sandbox]);
    let after = t
        .wait_pod("p", "new sandbox", 60, |p| {
            p.columns.status == "Running" && sandbox_id(p).is_some_and(|s| s != old_sandbox)
        })
        .await;
    let sb = after.observed.latest_sandbox().unwrap();
    assert_eq!(sb.count, 1, "sandbox attempt 1");
    let app = running_id(&after, "app").unwrap();
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", &app]),
        format!("container:{}", sb.id)
    );
    assert_eq!(after.columns.restarts, 1);
    assert!(after.events.iter().any(|e| e.reason == "SandboxChanged"));
    // The app container reaches the network again (it is not stuck in the dead namespace).
    let eth0 = docker(&["exec", &app, "sh", "-c", "ip -4 -o addr show eth0 | wc -l"]);
    assert_eq!(eth0, "1");
    t.stop().await;
}

#[tokio::test]
async fn host_ports_are_published_on_loopback() {
    let mut t = TestEngine::new("ports");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    t.write(
        "web.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'mkdir /www && echo published > /www/index.html && exec httpd -f -p 8080 -h /www']\n    ports:\n    - containerPort: 8080\n      hostPort: {port}\n"),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("web", "running", 60, |p| p.columns.status == "Running")
        .await;
    let sb = sandbox_id(&pod).unwrap();
    assert_eq!(
        docker(&["port", &sb]),
        format!("8080/tcp -> 127.0.0.1:{port}")
    );
    let mut body = String::new();
    for _ in 0..50 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            s.read_to_string(&mut body).unwrap();
            if body.contains("published") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(body.contains("published"), "{body}");
    t.stop().await;
}

/// Issue 15, item 14: a restart a user asks for (`r`) shows the container stopping for its whole grace period
/// (it ignores SIGTERM here, so it takes all of it), in the view and the pod view's Containers tab, then a new
/// instance.
#[tokio::test]
async fn a_requested_restart_shows_the_container_stopping_until_it_is_replaced() {
    let mut t = TestEngine::new("restart-stopping");
    t.write(
        "stubborn.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n  terminationGracePeriodSeconds: 4\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"\" TERM; while true; do sleep 1; done']\n"
        ),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("stubborn", "Running", 60, |p| {
            running_id(p, "app").is_some()
        })
        .await;
    assert!(pod.stopping.is_empty(), "{:?}", pod.stopping);
    let first = running_id(&pod, "app").unwrap();
    let asked = std::time::Instant::now();
    t.handle()
        .request(podtui::engine::Request::RestartContainer {
            uid: pod.uid.clone(),
            container: "app".into(),
        })
        .await;
    let stopping = t
        .wait_pod("stubborn", "app stopping", 10, |p| {
            p.stopping == ["app"] && running_id(p, "app").as_deref() == Some(first.as_str())
        })
        .await;
    assert!(asked.elapsed() < Duration::from_secs(2), "shown at once");
    // The pod view's Containers tab says so on the container's row.
    let mut snap = (*t.snapshot()).clone();
    snap.pods = vec![stopping.clone()];
    let mut app = podtui::tui::app::App::new(
        common::tui::config(t.state.path(), None),
        std::sync::Arc::new(snap),
    );
    app.on_key(common::tui::code(crossterm::event::KeyCode::Enter));
    let screen = common::tui::render(&mut app, 120, 30);
    let row = screen
        .lines()
        .find(|l| l.contains("app") && l.contains(&first[..12]))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        row.contains("stopping") && row.contains("restart requested"),
        "{row}"
    );

    let after = t
        .wait_pod("stubborn", "a new instance of app", 30, |p| {
            running_id(p, "app").is_some_and(|id| id != first)
        })
        .await;
    assert!(
        asked.elapsed() >= Duration::from_secs(3),
        "the grace period was run out: {:?}",
        asked.elapsed()
    );
    assert!(after.stopping.is_empty(), "{:?}", after.stopping);
    assert_eq!(container_status(&after, "app").restart_count, 1);
}

/// Issue 15, items 5 and 6: a pull that fails shows `ErrImagePull` once, then `ImagePullBackOff` with the pull's
/// error in its message and a countdown to the next pull, right away (it used to wait for the 30 s resync), and
/// pulls again when the back-off ends.
#[tokio::test]
async fn a_failed_pull_turns_to_image_pull_backoff_at_once_with_its_error_and_a_countdown() {
    let mut t = TestEngine::new("pull-backoff");
    let image = "localhost/podtui-test/not-there:1";
    t.write(
        "missing.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: missing\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {image}\n"),
    );
    t.start(podtui::engine::backoff::BackoffConfig {
        initial: Duration::from_secs(6),
        max: Duration::from_secs(12),
    });
    let waiting = |p: &podtui::engine::PodView| {
        p.pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|c| c.first())
            .and_then(|c| c.state.as_ref()?.waiting.clone())
            .unwrap_or_default()
    };
    t.wait_pod("missing", "ErrImagePull", 60, |p| {
        waiting(p).reason.as_deref() == Some("ErrImagePull")
    })
    .await;
    let seen = std::time::Instant::now();
    let backoff = t
        .wait_pod("missing", "ImagePullBackOff", 5, |p| {
            waiting(p).reason.as_deref() == Some("ImagePullBackOff")
        })
        .await;
    assert!(
        seen.elapsed() < Duration::from_secs(4),
        "ImagePullBackOff {:?} after ErrImagePull",
        seen.elapsed()
    );
    let message = waiting(&backoff).message.unwrap_or_default();
    let prefix = format!("Back-off pulling image {image:?}: ErrImagePull: ");
    assert!(
        message.starts_with(&prefix) && message.len() > prefix.len(),
        "the pull's error is in the message: {message}"
    );
    assert!(
        backoff
            .events
            .iter()
            .any(|e| e.reason == "BackOff" && e.message.contains("Back-off pulling image")),
        "{:?}",
        backoff.events
    );
    assert_eq!(backoff.columns.status, "ImagePullBackOff");
    let (_, retry) = backoff
        .pull_retry
        .iter()
        .find(|(i, _)| i == image)
        .cloned()
        .expect("a countdown to the next pull");
    // The first back-off is 6 s, the next ones 12 s (on a loaded machine the first may pass unobserved).
    let left = retry.duration_since(jiff::Timestamp::now()).as_secs_f64();
    assert!((0.5..=12.5).contains(&left), "next pull in {left}s");
    // The pod view shows the countdown on the container's row.
    let mut snap = (*t.snapshot()).clone();
    snap.pods = vec![backoff.clone()];
    let mut app = podtui::tui::app::App::new(
        common::tui::config(t.state.path(), None),
        std::sync::Arc::new(snap),
    );
    app.on_key(common::tui::code(crossterm::event::KeyCode::Enter));
    let screen = common::tui::render(&mut app, 160, 30);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("ImagePullBackOff, pulling again in")),
        "{screen}"
    );
    // When the back-off ends, it pulls again (and fails again).
    t.wait_pod("missing", "a second pull", 15, |p| {
        p.events
            .iter()
            .any(|e| e.reason == "Pulling" && e.count >= 2)
    })
    .await;
    t.stop().await;
}

/// Issue 15, k9s' kill: ctrl-k on a pod that is terminating (its file deleted, a container that ignores
/// SIGTERM with a 60 s grace period) kills it now, and the pod is gone in seconds instead of a minute.
#[tokio::test]
async fn a_kill_during_termination_skips_the_rest_of_the_grace_period() {
    let mut t = TestEngine::new("force-kill");
    t.write(
        "stubborn.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n  terminationGracePeriodSeconds: 60\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"\" TERM; while true; do sleep 1; done']\n"
        ),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("stubborn", "Running", 60, |p| {
            running_id(p, "app").is_some()
        })
        .await;
    std::fs::remove_file(t.path("stubborn.yaml")).unwrap();
    t.wait("stubborn terminating", 10, |s| {
        s.pods
            .iter()
            .any(|p| p.uid == pod.uid && p.terminating.is_some())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let asked = std::time::Instant::now();
    let reply = t
        .handle()
        .request(podtui::engine::Request::KillPod {
            uid: pod.uid.clone(),
        })
        .await;
    assert!(matches!(reply, podtui::engine::Reply::Accepted), "{reply}");
    t.wait("the pod gone", 20, |s| {
        s.pods.iter().all(|p| p.uid != pod.uid)
    })
    .await;
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "the grace period was not cut short: {:?}",
        asked.elapsed()
    );
    assert!(
        common::containers_with(&format!("io.kubernetes.pod.uid={}", pod.uid)).is_empty(),
        "every container removed"
    );
}
