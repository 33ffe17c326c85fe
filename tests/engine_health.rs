//! Probes, lifecycle hooks, resources and security against the real dockerd: each runs a pod and checks what
//! Docker and podtui report.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::engine::{TestEngine, container_status, fast_backoff, running_id};
use common::{BUSYBOX, docker};
use podtui::engine::PodView;
use podtui::engine::handler::ProbeVia;

const HTTPD_ONLY: &str = "localhost/podtui-test/httpd-only:1";

fn exec(id: &str, cmd: &str) -> String {
    docker(&["exec", id, "sh", "-c", cmd])
}

fn ready(p: &PodView) -> bool {
    p.columns.ready == "1/1"
}

fn unhealthy(p: &PodView, kind: &str) -> bool {
    p.events
        .iter()
        .any(|e| e.reason == "Unhealthy" && e.message.starts_with(kind))
}

/// The liveness probe of a pod's (only) container.
fn liveness(p: &PodView) -> Option<&podtui::engine::prober::ProbeView> {
    p.probes
        .iter()
        .find(|x| x.kind == podtui::engine::handler::ProbeKind::Liveness)
}

fn pod(name: &str, body: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n{body}"
    )
}

#[tokio::test]
async fn http_readiness_follows_the_page() {
    let mut t = TestEngine::new("readiness-http");
    t.write(
        "web.yaml",
        &pod(
            "web",
            &format!(
                "  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'mkdir -p /www; exec httpd -f -p 8080 -h /www']\n    ports: [{{name: http, containerPort: 8080}}]\n    readinessProbe:\n      httpGet: {{port: http, path: /index.html}}\n      periodSeconds: 1\n      failureThreshold: 1\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod(
            "web",
            "running but not ready: the page is missing",
            60,
            |p| {
                // The first failures may be "connection refused" until httpd listens: wait for the 404.
                p.columns.status == "Running"
                    && p.columns.ready == "0/1"
                    && p.events.iter().any(|e| {
                        e.reason == "Unhealthy"
                            && e.message.starts_with("Readiness")
                            && e.message.contains("HTTP probe failed with statuscode: 404")
                    })
            },
        )
        .await;
    let ready_cond = p
        .pod
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert_eq!(ready_cond.status, "False");
    assert!(
        p.events
            .iter()
            .any(|e| e.message.contains("HTTP probe failed with statuscode: 404")),
        "{:?}",
        p.events
    );
    let id = running_id(&p, "web").unwrap();
    exec(&id, "echo up > /www/index.html");
    let p = t
        .wait_pod("web", "ready once the page exists", 20, ready)
        .await;
    let probe = p.probes.iter().find(|x| x.container == "web").unwrap();
    assert!(probe.last.as_ref().unwrap().0);
    assert!(probe.next.is_some());
    exec(&id, "rm /www/index.html");
    let p = t
        .wait_pod("web", "unready once the page is gone", 20, |p| {
            p.columns.ready == "0/1"
        })
        .await;
    assert_eq!(
        p.columns.restarts, 0,
        "readiness never restarts a container"
    );
    t.stop().await;
}

#[tokio::test]
async fn failing_liveness_restarts_with_unhealthy_events() {
    let mut t = TestEngine::new("liveness");
    t.write(
        "live.yaml",
        &pod(
            "live",
            &format!(
                "  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'touch /tmp/alive; sleep 2; rm /tmp/alive; trap \"exit 0\" TERM; while true; do sleep 1; done']\n    livenessProbe:\n      exec: {{command: [test, -f, /tmp/alive]}}\n      periodSeconds: 1\n      failureThreshold: 2\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("live", "restarted by liveness", 60, |p| {
            p.columns.restarts >= 1
        })
        .await;
    assert!(unhealthy(&p, "Liveness probe failed"), "{:?}", p.events);
    assert!(p.events.iter().any(|e| {
        e.reason == "Killing"
            && e.message
                .contains("failed liveness probe, will be restarted")
    }));
    let st = container_status(&p, "app");
    assert!(st.last_state.as_ref().unwrap().terminated.is_some());
    t.stop().await;
}

#[tokio::test]
async fn startup_probe_gates_liveness() {
    let mut t = TestEngine::new("startup");
    // Liveness would fail for the first 3 s; the startup probe holds it back until the app is up. Generous
    // timeouts: on a loaded machine a `docker exec` can take over the default 1 s, and one liveness timeout
    // (failureThreshold 1) would restart the container for a reason this test is not about.
    t.write(
        "slow.yaml",
        &pod(
            "slow",
            &format!(
                "  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'sleep 3; touch /tmp/started /tmp/live; trap \"exit 0\" TERM; while true; do sleep 1; done']\n    startupProbe:\n      exec: {{command: [test, -f, /tmp/started]}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n      failureThreshold: 20\n    livenessProbe:\n      exec: {{command: [test, -f, /tmp/live]}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n      failureThreshold: 1\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let early = t
        .wait_pod("slow", "starting", 30, |p| p.columns.status == "Running")
        .await;
    let st = container_status(&early, "app");
    assert_eq!(st.started, Some(false));
    assert!(!st.ready);
    let gated = early
        .probes
        .iter()
        .find(|x| x.kind == podtui::engine::handler::ProbeKind::Liveness)
        .unwrap();
    assert!(
        gated.gated && gated.last.is_none(),
        "liveness waits for startup: {gated:?}"
    );
    let p = t.wait_pod("slow", "started and ready", 30, ready).await;
    assert_eq!(container_status(&p, "app").started, Some(true));
    // Liveness (failureThreshold 1) has had its chance to fail: wait until it has run twice since the gate lifted.
    let now = t
        .wait_pod("slow", "liveness ran twice after startup", 30, |x| {
            x.uid == p.uid
                && liveness(x)
                    .is_some_and(|l| !l.gated && l.last.is_some() && l.successes + l.failures >= 2)
        })
        .await;
    let live = liveness(&now).unwrap();
    assert!(
        live.last.as_ref().is_some_and(|l| l.0) && live.failures == 0,
        "{live:?}"
    );
    assert_eq!(
        now.columns.restarts, 0,
        "liveness never ran before the app was up: {:?} {:?}",
        now.probes, now.events
    );
    assert!(unhealthy(&now, "Startup probe failed"));
    assert!(!unhealthy(&now, "Liveness"));
    t.stop().await;
}

#[tokio::test]
async fn tcp_probes_and_a_probe_against_an_image_with_no_shell_from_host_and_from_inside_the_pod() {
    if common::skip_on_podman(
        "on podman the pod is ready before its liveness probe has a first result (line 200 races)",
    ) {
        return;
    }
    for via in [ProbeVia::Host, ProbeVia::Sandbox] {
        let mut t = TestEngine::new(&format!("noshell-{via:?}"));
        t.write(
            "bare.yaml",
            &pod(
                "bare",
                &format!(
                    "  containers:\n  - name: web\n    image: {HTTPD_ONLY}\n    ports: [{{name: http, containerPort: 8080}}]\n    readinessProbe:\n      httpGet: {{port: http, path: /index.html, httpHeaders: [{{name: X-Probe, value: podtui}}]}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n    livenessProbe:\n      tcpSocket: {{port: 8080}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n"
                ),
            ),
        );
        t.write(
            "closed.yaml",
            &pod(
                "closed",
                &format!("  containers:\n  - name: web\n    image: {HTTPD_ONLY}\n    readinessProbe:\n      tcpSocket: {{port: 9999}}\n      periodSeconds: 1\n      failureThreshold: 1\n"),
            ),
        );
        let mut cfg =
            common::engine::config(&t.node, t.manifests.path(), t.state.path(), fast_backoff());
        cfg.settings.probe_via = Some(via);
        t.handle = Some(podtui::engine::Engine::start(cfg).unwrap());
        // Readiness can pass before liveness has run once (or while its last result is still the "connection
        // refused" of before httpd listened): wait until each probe's latest result is a pass.
        let p = t
            .wait_pod(
                "bare",
                &format!("ready via {via:?}, both probes passing"),
                60,
                |p| {
                    ready(p)
                        && p.probes
                            .iter()
                            .all(|x| x.last.as_ref().is_some_and(|l| l.0))
                },
            )
            .await;
        let mut kinds: Vec<String> = p
            .probes
            .iter()
            .map(|x| format!("{}/{:?}", x.container, x.kind))
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["web/Liveness", "web/Readiness"],
            "{via:?}: {:?}",
            p.probes
        );
        let c = t
            .wait_pod("closed", "tcp probe failing", 30, |p| {
                unhealthy(p, "Readiness probe failed")
            })
            .await;
        assert_eq!(c.columns.ready, "0/1");
        assert!(
            c.events.iter().any(|e| e.message.contains("9999")),
            "{:?}",
            c.events
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn grpc_health_probe_against_a_real_grpc_server() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let control = dir.path().join("status");
    let mut server = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/grpc_health_server.py"
        ))
        .arg(port.to_string())
        .arg(&control)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with grpcio (scripts/setup-docker.sh installs it)");
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(server.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the gRPC server did not start");
    }
    let mut t = TestEngine::new("grpc");
    // The pod shares the host's network: its probe reaches the server on 127.0.0.1.
    t.write(
        "g.yaml",
        &pod(
            "g",
            &format!("  hostNetwork: true\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    readinessProbe:\n      grpc: {{port: {port}, service: health}}\n      periodSeconds: 1\n      failureThreshold: 1\n"),
        ),
    );
    t.start(fast_backoff());
    let result = async {
        t.wait_pod("g", "ready: SERVING", 60, ready).await;
        std::fs::write(&control, "NOT_SERVING").unwrap();
        let p = t
            .wait_pod("g", "unready: NOT_SERVING", 20, |p| {
                p.columns.ready == "0/1"
            })
            .await;
        assert!(
            p.events.iter().any(|e| e.message.contains("NOT_SERVING")),
            "{:?}",
            p.events
        );
        std::fs::write(&control, "SERVING").unwrap();
        t.wait_pod("g", "ready again", 20, ready).await;
    }
    .await;
    let _ = server.kill();
    let _ = server.wait();
    t.stop().await;
    result
}

#[tokio::test]
async fn pre_stop_runs_first_and_delays_the_stop() {
    let mut t = TestEngine::new("prestop");
    let host = tempfile::tempdir().unwrap();
    t.write(
        "p.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  terminationGracePeriodSeconds: 10\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    lifecycle:\n      preStop:\n        exec: {{command: [/bin/sh, -c, 'sleep 2; echo ran > /host/prestop']}}\n    volumeMounts: [{{name: h, mountPath: /host}}]\n  volumes:\n  - name: h\n    hostPath: {{path: {}}}\n",
            host.path().display()
        ),
    );
    t.start(fast_backoff());
    t.wait_pod("p", "running", 60, |p| p.columns.status == "Running")
        .await;
    let started = Instant::now();
    std::fs::remove_file(t.path("p.yaml")).unwrap();
    t.wait("gone", 30, |s| s.pods.is_empty()).await;
    let took = started.elapsed();
    assert_eq!(
        std::fs::read_to_string(host.path().join("prestop")).unwrap(),
        "ran\n"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "{took:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn post_start_failure_kills_the_container() {
    let mut t = TestEngine::new("poststart");
    t.write(
        "p.yaml",
        &pod(
            "p",
            &format!("  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    lifecycle:\n      postStart:\n        exec: {{command: [/bin/sh, -c, 'echo nope; exit 3']}}\n"),
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("p", "FailedPostStartHook", 60, |p| {
            p.events.iter().any(|e| e.reason == "FailedPostStartHook") && p.columns.restarts >= 1
        })
        .await;
    let e = p
        .events
        .iter()
        .find(|e| e.reason == "FailedPostStartHook")
        .unwrap();
    assert!(e.message.contains("exited with 3"), "{e:?}");
    t.stop().await;
}

#[tokio::test]
async fn memory_hog_is_oom_killed_and_cpu_quota_is_set() {
    if common::skip_on_podman(
        "podman 4.3 reports neither State.OOMKilled nor an oom event here (exit 137 only)",
    ) {
        return;
    }
    let mut t = TestEngine::new("resources");
    t.write(
        "hog.yaml",
        &pod(
            "hog",
            &format!("  restartPolicy: Never\n  containers:\n  - name: hog\n    image: {BUSYBOX}\n    command: [tail, /dev/zero]\n    resources:\n      limits: {{memory: 32Mi, cpu: 250m}}\n      requests: {{cpu: 100m}}\n"),
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("hog", "OOMKilled", 60, |p| p.columns.status == "OOMKilled")
        .await;
    let st = container_status(&p, "hog");
    assert_eq!(
        st.state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("OOMKilled")
    );
    let id = p.observed.instances("hog")[0].id.clone();
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}",
            &id
        ]),
        format!("{0} {0}", 32 * 1024 * 1024)
    );
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuShares}}",
            &id
        ]),
        "25000 100000 102"
    );
    t.stop().await;
}

#[tokio::test]
async fn security_context_user_readonly_root_capabilities_and_non_root_refusal() {
    let mut t = TestEngine::new("security");
    t.write(
        "locked.yaml",
        &pod(
            "locked",
            &format!(
                "  securityContext:\n    runAsUser: 1234\n    runAsGroup: 4321\n    supplementalGroups: [5555]\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    securityContext:\n      readOnlyRootFilesystem: true\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [ALL]\n"
            ),
        ),
    );
    t.write(
        "rootless.yaml",
        &pod("rootless", &format!("  containers:\n  - name: app\n    image: {BUSYBOX}\n    securityContext:\n      runAsNonRoot: true\n")),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("locked", "running", 60, |p| p.columns.status == "Running")
        .await;
    let id = running_id(&p, "app").unwrap();
    assert_eq!(exec(&id, "id -u; id -g"), "1234\n4321");
    assert!(exec(&id, "id -G").split_whitespace().any(|g| g == "5555"));
    let write = docker(&["exec", &id, "sh", "-c", "touch /new 2>&1; true"]);
    assert!(write.contains("Read-only file system"), "{write}");
    assert_eq!(
        exec(&id, "grep CapEff /proc/self/status | awk '{print $2}'"),
        "0000000000000000"
    );
    assert!(exec(&id, "grep NoNewPrivs /proc/self/status").ends_with('1'));
    let r = t
        .wait_pod("rootless", "CreateContainerConfigError", 30, |p| {
            p.columns.status == "CreateContainerConfigError"
        })
        .await;
    let w = container_status(&r, "app")
        .state
        .as_ref()
        .unwrap()
        .waiting
        .as_ref()
        .unwrap()
        .clone();
    assert!(
        w.message
            .unwrap()
            .contains("runAsNonRoot and image will run as root")
    );
    assert!(r.observed.instances("app").is_empty(), "never created");
    t.stop().await;
}

#[tokio::test]
async fn termination_messages_deadline_and_shared_process_namespace() {
    let mut t = TestEngine::new("termination");
    t.write(
        "msg.yaml",
        &pod(
            "msg",
            &format!(
                "  restartPolicy: Never\n  containers:\n  - name: file\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'echo \"bad config\" > /dev/termination-log; exit 2']\n  - name: logs\n    image: {BUSYBOX}\n    terminationMessagePolicy: FallbackToLogsOnError\n    command: [/bin/sh, -c, 'echo \"last words\"; exit 1']\n"
            ),
        ),
    );
    t.write(
        "deadline.yaml",
        // Past its deadline the pod is killed as on deletion: preStop, then the pod's grace period (the app needs
        // 3 s after SIGTERM, more than podtui's 2 s minimum stop timeout, and exits 0 when given the time).
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: deadline\nspec:\n  activeDeadlineSeconds: 3\n  terminationGracePeriodSeconds: 15\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"sleep 3; exit 0\" TERM; while true; do sleep 1; done']\n    lifecycle:\n      preStop:\n        exec:\n          command: [/bin/sh, -c, 'echo prestop-ran > /proc/1/fd/1']\n"),
    );
    t.write(
        "shared.yaml",
        &pod(
            "shared",
            &format!(
                "  shareProcessNamespace: true\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n  - name: b\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'exec sleep 3601']\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let m = t
        .wait_pod("msg", "failed", 60, |p| {
            p.pod.status.as_ref().unwrap().phase.as_deref() == Some("Failed")
        })
        .await;
    let msg = |name: &str| {
        container_status(&m, name)
            .state
            .as_ref()
            .unwrap()
            .terminated
            .as_ref()
            .unwrap()
            .message
            .clone()
            .unwrap_or_default()
    };
    assert_eq!(msg("file"), "bad config\n");
    assert_eq!(msg("logs"), "last words");
    let d = t
        .wait_pod("deadline", "DeadlineExceeded", 30, |p| {
            p.columns.status == "DeadlineExceeded"
        })
        .await;
    assert_eq!(
        d.pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Failed")
    );
    let d = t
        .wait_pod("deadline", "every container stopped", 30, |p| {
            p.observed.all().all(|i| !i.state.is_running())
        })
        .await;
    let app = d.observed.instances("app")[0].id.clone();
    assert!(
        common::docker(&["logs", &app]).contains("prestop-ran"),
        "the preStop hook ran before the stop"
    );
    let term = container_status(&d, "app")
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(term.exit_code, 0, "the app had its grace period: {term:?}");
    let s = t
        .wait_pod("shared", "running", 60, |p| p.columns.ready == "2/2")
        .await;
    let a = running_id(&s, "a").unwrap();
    assert!(
        exec(&a, "ps").contains("sleep 3601"),
        "a sees b's processes"
    );
    t.stop().await;
}
