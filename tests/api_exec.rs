//! `kubectl exec` against the API over WebSocket (v5.channel.k8s.io), with the real kubectl: the exit code of
//! the command, piped stdin, `-c`, the default-container annotation, the error for a pod that is not running,
//! and `-it` in a real terminal (tmux): a command typed and read back, `exit`, the terminal restored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use api_support::Playground;
use common::BUSYBOX;
use common::tmux::Tmux;

fn two_containers() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: duo\n  annotations:\n    kubectl.kubernetes.io/default-container: second\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: first\n    image: {BUSYBOX}\n    command: [sh, -c, 'echo one > /who; exec sleep 3600']\n  - name: second\n    image: {BUSYBOX}\n    command: [sh, -c, 'echo two > /who; exec sleep 3600']\n"
    )
}

fn done_pod() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: done\nspec:\n  restartPolicy: Never\n  containers:\n  - name: c\n    image: {BUSYBOX}\n    command: [sh, -c, 'exit 0']\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_runs_commands_with_their_exit_codes_and_stdin() {
    let mut p = Playground::start(
        "api-exec",
        &[("duo.yaml", two_containers()), ("done.yaml", done_pod())],
    )
    .await;
    p.t.wait_pod("duo", "Running", 60, |v| v.columns.status == "Running")
        .await;
    let duo = p.pod("duo");

    let out = p.run(&["exec", &duo, "--", "sh", "-c", "exit 7"]).await;
    assert_eq!(
        out.status.code(),
        Some(7),
        "kubectl exits with the command's code"
    );
    let out = p
        .run(&["exec", &duo, "--", "sh", "-c", "echo out; echo err >&2"])
        .await;
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");

    // The default container is the annotation's; -c picks another.
    assert_eq!(p.ok(&["exec", &duo, "--", "cat", "/who"]).await, "two\n");
    assert_eq!(
        p.ok(&["exec", &duo, "-c", "first", "--", "cat", "/who"])
            .await,
        "one\n"
    );
    let err = p.fails(&["exec", &duo, "-c", "third", "--", "true"]).await;
    assert!(err.contains("container third is not valid"), "{err}");

    // Piped stdin reaches the command, and its end ends it.
    let out = p
        .run_stdin(&["exec", "-i", &duo, "--", "cat"], "hi\nthere\n")
        .await;
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\nthere\n");

    // A pod that is not running.
    p.t.wait_pod("done", "Completed", 60, |v| v.columns.status == "Completed")
        .await;
    let err = p.fails(&["exec", &p.pod("done"), "--", "true"]).await;
    assert!(err.contains("completed pod"), "{err}");
    p.stop().await;
}

fn reader_pod() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: reader\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: side\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n  - name: r\n    image: {BUSYBOX}\n    stdin: true\n    command: [sh, -c, 'echo before; read l; echo \"got $l\"; echo done >&2']\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_attach_reaches_the_main_process() {
    let mut p = Playground::start("api-attach", &[("reader.yaml", reader_pod())]).await;
    p.t.wait_pod("reader", "Running", 60, |v| v.columns.status == "Running")
        .await;
    // Output from the attach on (not "before"), stdout and stderr apart, and stdin reaches the process; kubectl
    // returns when the process exits.
    let out = p
        .run_stdin(&["attach", "-i", "reader", "-c", "r"], "hi\n")
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got hi\n");
    assert!(stderr.ends_with("done\n"), "{stderr}");
    // The container has exited now: attach says why it cannot.
    p.t.wait_pod("reader", "r exited", 60, |v| {
        v.pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c.name == "r" && c.state.as_ref().is_some_and(|s| s.terminated.is_some())
                })
            })
    })
    .await;
    let err = p.fails(&["attach", "reader", "-c", "r"]).await;
    assert!(
        err.contains("container r in pod") && err.contains("not running"),
        "{err}"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_exec_it_is_a_terminal_and_restores_it() {
    let mut p = Playground::start("api-exec-tty", &[("duo.yaml", two_containers())]).await;
    p.t.wait_pod("duo", "Running", 60, |v| v.columns.status == "Running")
        .await;
    let script = format!(
        "HOME={home} KUBECONFIG={kc} {kubectl} --cache-dir {home}/cache exec -it {pod} -- sh; echo EXITED-$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e icanon | tr '\\n' ' '; echo; sleep 60",
        home = p.home.path().display(),
        kc = p.kubeconfig().display(),
        kubectl = p.kubectl.display(),
        pod = p.pod("duo"),
    );
    let t = Tmux::start(&common::run_id("api-exec-tty"), 100, 30, &script);
    t.wait("the shell's prompt", 30, |s| s.contains("/ #"));
    t.type_text("echo $((6*7)) $(cat /who); stty size");
    t.send(&["Enter"]);
    t.wait("the command's output", 10, |s| {
        s.contains("42 two") && s.contains("30 100")
    });
    t.type_text("exit 3");
    t.send(&["Enter"]);
    let s = t.wait("kubectl's end", 20, |s| s.contains("EXITED-"));
    assert!(s.contains("EXITED-3"), "{s}");
    let s = t.wait("stty", 5, |s| s.contains("icanon echo"));
    assert!(s.contains("icanon echo"), "terminal restored: {s}");
    drop(t);
    p.stop().await;
}

/// `web` (PID 1: busybox httpd on :8080, serving /etc) and a sleeper.
fn debuggee_pod() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dbg\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [httpd, -f, -p, '8080', -h, /etc]\n  - name: side\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_debug_adds_an_ephemeral_container_that_shares_the_targets_processes() {
    let mut p = Playground::start("api-debug", &[("dbg.yaml", debuggee_pod())]).await;
    p.t.wait_pod("dbg", "Running", 60, |v| v.columns.ready == "2/2")
        .await;
    let dbg = p.pod("dbg");
    let out = p
        .run_stdin(
            &[
                "debug", "-i", &dbg, "--image", BUSYBOX, "--target", "web", "-c", "dbg1",
            ],
            "ps -o pid,args; wget -qO- http://127.0.0.1:8080/hostname; exit\n",
        )
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("1 ") && l.contains("httpd -f -p 8080")),
        "the debug shell does not see web's PID 1:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.trim() == dbg),
        "no answer from the pod's localhost:\n{stdout}"
    );

    // The pod lists it as an ephemeral container, terminated once its shell exited; never restarted, and the
    // pod's own containers are untouched.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let reason = p
            .ok(&[
                "get",
                "pod",
                &dbg,
                "-o",
                "jsonpath={.spec.ephemeralContainers[0].targetContainerName} {.status.ephemeralContainerStatuses[0].name} {.status.ephemeralContainerStatuses[0].state.terminated.reason} {.status.containerStatuses[*].restartCount}",
            ])
            .await;
        if reason == "web dbg1 Completed 0 0" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{reason:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let describe = p.ok(&["describe", "pod", &dbg]).await;
    assert!(
        describe.contains("Ephemeral Containers:\n  dbg1:"),
        "{describe}"
    );

    // A command that is done before kubectl attaches: kubectl falls back to its log, as with a node.
    let out = p
        .run_stdin(
            &[
                "debug",
                "-i",
                &dbg,
                "--image",
                BUSYBOX,
                "--",
                "echo",
                "QUICK-OUT",
            ],
            "",
        )
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("QUICK-OUT"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What the API server refuses, it refuses here too, with the field.
    let err = p
        .fails(&["debug", &dbg, "--image", BUSYBOX, "-c", "web", "--", "true"])
        .await;
    assert!(err.contains("].name: Duplicate value: \"web\""), "{err}");
    let err = p
        .fails(&[
            "debug", &dbg, "--image", BUSYBOX, "-c", "dbg1", "--", "true",
        ])
        .await;
    assert!(
        err.contains("Forbidden: existing ephemeral containers may not be changed"),
        "{err}"
    );
    let err = p
        .fails(&[
            "debug",
            &dbg,
            "--image",
            "localhost/podtui-test/missing:1",
            "--",
            "true",
        ])
        .await;
    assert!(
        err.contains("is not present locally and cannot be pulled"),
        "{err}"
    );
    p.stop().await;
}
