//! Kubernetes → Docker mapping details against the real engine: env and command expansion, volumes of every
//! supported kind, DNS and host aliases, host networking, the offline pull fallback, termination with its grace
//! period, an invalid edit that leaves the pod alone, and another pause image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::engine::{TestEngine, container_status, fast_backoff, running_id, sandbox_id};
use common::{BUSYBOX, docker};
use podtui::manifest::FileState;

fn exec(id: &str, cmd: &str) -> String {
    docker(&["exec", id, "sh", "-c", cmd])
}

const SLEEPER: &str = "[/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']";

#[tokio::test]
async fn env_field_refs_and_command_expansion() {
    let mut t = TestEngine::new("env");
    t.write(
        "env.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: env
  namespace: team
  labels: {{app: demo}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: {BUSYBOX}
    workingDir: /tmp
    command: [/bin/sh, -c]
    args: ['echo "$(GREETING) from $(POD_NAME) at $(POD_IP) in $$(pwd)"; {sleep}']
    env:
    - name: GREETING
      value: hello
    - name: COMPOSED
      value: $(GREETING)-world
    - name: POD_NAME
      valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
    - name: POD_NAMESPACE
      valueFrom: {{fieldRef: {{fieldPath: metadata.namespace}}}}
    - name: POD_UID
      valueFrom: {{fieldRef: {{fieldPath: metadata.uid}}}}
    - name: POD_IP
      valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}
    - name: APP_LABEL
      valueFrom: {{fieldRef: {{fieldPath: "metadata.labels['app']"}}}}
    - name: NODE
      valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}
"#,
            sleep = "trap \"exit 0\" TERM; while true; do sleep 1; done"
        ),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("env", "running", 60, |p| p.columns.status == "Running")
        .await;
    let id = running_id(&pod, "app").unwrap();
    let ip = pod.ip().unwrap().to_string();
    let env = exec(&id, "env");
    for want in [
        format!("POD_NAME={}", t.pod_name("env")),
        "POD_NAMESPACE=team".to_string(),
        format!("POD_UID={}", pod.uid),
        format!("POD_IP={ip}"),
        "APP_LABEL=demo".into(),
        "COMPOSED=hello-world".into(),
        format!("NODE={}", t.node),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing from\n{env}");
    }
    let log = common::eventually(|| docker(&["logs", &id]), |l| !l.is_empty()).await;
    assert_eq!(
        log,
        format!("hello from {} at {ip} in /tmp", t.pod_name("env"))
    );
    t.stop().await;
}

#[tokio::test]
async fn volumes_of_every_kind() {
    let mut t = TestEngine::new("volumes");
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("greeting"), "from the host\n").unwrap();
    let created = host.path().join("made/by/podtui");
    t.write(
        "vol.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: vol
  labels: {{tier: backend}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: a
    image: {BUSYBOX}
    command: {SLEEPER}
    volumeMounts:
    - {{name: scratch, mountPath: /scratch}}
    - {{name: mem, mountPath: /mem}}
    - {{name: host, mountPath: /host, readOnly: true}}
    - {{name: made, mountPath: /made}}
    - {{name: info, mountPath: /info}}
    - {{name: scratch, mountPath: /sub, subPath: nested/dir}}
  - name: b
    image: {BUSYBOX}
    command: {SLEEPER}
    volumeMounts:
    - {{name: scratch, mountPath: /data}}
    - {{name: mem, mountPath: /mem}}
  volumes:
  - name: scratch
    emptyDir: {{}}
  - name: mem
    emptyDir: {{medium: Memory, sizeLimit: 8Mi}}
  - name: host
    hostPath: {{path: {host}, type: Directory}}
  - name: made
    hostPath: {{path: {made}, type: DirectoryOrCreate}}
  - name: info
    downwardAPI:
      items:
      - {{path: labels, fieldRef: {{fieldPath: metadata.labels}}}}
      - {{path: name, fieldRef: {{fieldPath: metadata.name}}}}
"#,
            host = host.path().display(),
            made = created.display()
        ),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("vol", "running", 60, |p| {
            p.columns.status == "Running" && p.columns.ready == "2/2"
        })
        .await;
    let a = running_id(&pod, "a").unwrap();
    let b = running_id(&pod, "b").unwrap();
    // emptyDir: shared, mode 0777; subPath is a directory inside it.
    exec(&a, "echo one > /scratch/f && echo two > /sub/g");
    assert_eq!(exec(&b, "cat /data/f /data/nested/dir/g"), "one\ntwo");
    assert_eq!(exec(&a, "stat -c %a /scratch"), "777");
    // medium: Memory is a tmpfs of the given size, shared.
    assert!(exec(&a, "grep ' /mem ' /proc/mounts").contains("tmpfs"));
    exec(&a, "echo m > /mem/x");
    assert_eq!(exec(&b, "cat /mem/x"), "m");
    let size_kb: u64 = exec(&a, "df -k /mem | tail -1 | awk '{print $2}'")
        .parse()
        .unwrap();
    // podman 4.3 cannot size a tmpfs volume (it reads size= as a project quota): the size holds on Docker only.
    assert!(common::on_podman() || size_kb == 8 * 1024, "{size_kb} KiB");
    // hostPath, read-only.
    assert_eq!(exec(&a, "cat /host/greeting"), "from the host");
    let rw = docker(&[
        "exec",
        &a,
        "sh",
        "-c",
        "touch /host/nope 2>&1 || echo refused",
    ]);
    assert!(
        rw.contains("Read-only file system") || rw.contains("refused"),
        "{rw}"
    );
    // DirectoryOrCreate made the directory.
    assert!(created.is_dir());
    // downwardAPI files.
    assert_eq!(exec(&a, "cat /info/labels"), "tier=\"backend\"");
    assert_eq!(exec(&a, "cat /info/name"), t.pod_name("vol"));
    // The volumes view says who mounts what.
    let scratch = pod.volumes.iter().find(|v| v.name == "scratch").unwrap();
    assert_eq!(scratch.mounts.len(), 3);
    // Deleting the pod removes its Docker volumes.
    std::fs::remove_file(t.path("vol.yaml")).unwrap();
    t.wait("pod gone", 30, |s| s.pods.is_empty()).await;
    assert!(common::volumes_with(&format!("dev.podtui.node={}", t.node)).is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_missing_host_path_is_reported_and_the_pod_waits() {
    let mut t = TestEngine::new("hostpath-missing");
    t.write(
        "hp.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: hp\nspec:\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    volumeMounts: [{{name: h, mountPath: /h}}]\n  volumes:\n  - name: h\n    hostPath: {{path: /nonexistent/podtui-test, type: Directory}}\n"),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("hp", "FailedMount", 30, |p| {
            p.events.iter().any(|e| e.reason == "FailedMount")
        })
        .await;
    assert!(pod.events.iter().any(|e| {
        e.message
            .contains("/nonexistent/podtui-test does not exist")
    }));
    assert_eq!(
        pod.pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert!(pod.observed.all().next().is_none(), "nothing is created");
    t.stop().await;
}

#[tokio::test]
async fn dns_host_aliases_and_host_network() {
    let mut t = TestEngine::new("net");
    t.write(
        "dns.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: dns
spec:
  terminationGracePeriodSeconds: 2
  hostname: custom-host
  dnsPolicy: None
  dnsConfig:
    nameservers: [127.0.0.53]
    searches: [example.test]
    options: [{{name: ndots, value: "2"}}]
  hostAliases:
  - ip: 127.0.0.2
    hostnames: [alias.test, other.test]
  containers:
  - name: a
    image: {BUSYBOX}
    command: {SLEEPER}
"#
        ),
    );
    t.write(
        "hostnet.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostnet\nspec:\n  terminationGracePeriodSeconds: 2\n  hostNetwork: true\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: {SLEEPER}\n"),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("dns", "running", 60, |p| p.columns.status == "Running")
        .await;
    let a = running_id(&pod, "a").unwrap();
    assert_eq!(exec(&a, "hostname"), "custom-host");
    let resolv = exec(&a, "cat /etc/resolv.conf");
    assert!(
        resolv.contains("nameserver 127.0.0.53")
            && resolv.contains("search example.test")
            && resolv.contains("ndots:2"),
        "{resolv}"
    );
    let hosts = exec(&a, "cat /etc/hosts");
    assert!(
        hosts
            .lines()
            .any(|l| l.starts_with("127.0.0.2") && l.contains("alias.test")),
        "{hosts}"
    );

    let hn = t
        .wait_pod("hostnet", "running", 60, |p| p.columns.status == "Running")
        .await;
    let sb = sandbox_id(&hn).unwrap();
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", &sb]),
        "host"
    );
    let app = running_id(&hn, "a").unwrap();
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", &app]),
        "host"
    );
    assert_eq!(
        docker(&["inspect", "-f", "{{.HostConfig.IpcMode}}", &app]),
        format!("container:{sb}")
    );
    t.stop().await;
}

#[tokio::test]
async fn always_pull_falls_back_to_the_local_image_with_a_warning() {
    let mut t = TestEngine::new("pull-fallback");
    t.write(
        "p.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    imagePullPolicy: Always\n    command: {SLEEPER}\n"),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("p", "running", 60, |p| p.columns.status == "Running")
        .await;
    let warning = pod
        .events
        .iter()
        .find(|e| e.reason == "PullFailedUsingLocal")
        .expect("a warning event");
    assert!(
        warning.message.contains("using the image present locally"),
        "{warning:?}"
    );
    assert!(pod.events.iter().any(|e| e.reason == "Pulling"));
    t.stop().await;
}

#[tokio::test]
async fn termination_uses_the_grace_period_and_shows_terminating() {
    let mut t = TestEngine::new("grace");
    // `sleep` as PID 1 ignores SIGTERM: the stop takes the whole grace period, then SIGKILL.
    t.write(
        "g.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: g\nspec:\n  terminationGracePeriodSeconds: 4\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n  - name: b\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n"),
    );
    t.start(fast_backoff());
    let pod = t
        .wait_pod("g", "running", 60, |p| p.columns.status == "Running")
        .await;
    let uid = pod.uid.clone();
    let started = Instant::now();
    std::fs::remove_file(t.path("g.yaml")).unwrap();
    let term = t
        .wait("Terminating", 10, |s| {
            s.pods
                .iter()
                .any(|p| p.uid == uid && p.columns.status == "Terminating")
        })
        .await;
    let p = term.pods.iter().find(|p| p.uid == uid).unwrap();
    let left = p
        .terminating
        .unwrap()
        .duration_since(jiff::Timestamp::now())
        .as_secs();
    assert!((1..=4).contains(&left), "{left}s left");
    assert!(p.events.iter().any(|e| e.reason == "Killing"));
    t.wait("gone", 30, |s| s.pods.is_empty()).await;
    let took = started.elapsed();
    // Both containers are stopped in parallel: about 4 s, not 8.
    assert!(
        took >= Duration::from_millis(3500) && took < Duration::from_secs(7),
        "{took:?}"
    );
    let codes = common::containers_with(&format!("io.kubernetes.pod.uid={uid}"));
    assert!(codes.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn an_invalid_edit_leaves_the_running_pod_alone() {
    let mut t = TestEngine::new("invalid-edit");
    let good = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: {SLEEPER}\n    readinessProbe:\n      exec: {{command: [\"true\"]}}\n      periodSeconds: 1\n      timeoutSeconds: 10\n"
    );
    t.write("w.yaml", &good);
    t.start(fast_backoff());
    let pod = t
        .wait_pod("w", "running", 60, |p| p.columns.status == "Running")
        .await;
    let id = running_id(&pod, "a").unwrap();
    t.write(
        "w.yaml",
        &good
            .replace("name: a", "name: A")
            .replace("image:", "imagePullPolcy: Always\n    image:"),
    );
    let snap = t
        .wait("invalid", 10, |s| {
            s.files
                .iter()
                .any(|f| matches!(f.state, FileState::Invalid { .. }))
        })
        .await;
    let f = &snap.files[0];
    assert_eq!(f.state, FileState::Invalid { stale: true });
    assert!(
        f.findings.iter().any(|x| x
            .to_string()
            .contains("w.yaml:8: spec.containers[0].name: \"A\" is not a valid container name")),
        "{:?}",
        f.findings
    );
    // The engine has taken in the invalid version (the snapshot shows it); its worker then publishes a probe
    // result from after that, so it has handled anything the engine told it.
    let after = jiff::Timestamp::now();
    let now = t.worker_caught_up(&pod.uid, after).await;
    let p = now.pods.iter().find(|p| p.uid == pod.uid).unwrap();
    assert!(
        p.desired && p.terminating.is_none(),
        "{}",
        common::engine::describe(&now)
    );
    assert_eq!(
        running_id(p, "a").unwrap(),
        id,
        "the running pod is untouched"
    );
    assert_eq!(container_status(p, "a").restart_count, 0);
    t.stop().await;
}

#[tokio::test]
async fn another_pause_image_is_used_and_empty_dirs_are_still_prepared() {
    let mut t = TestEngine::new("custom-pause");
    // A locally present image playing registry.k8s.io/pause: podtui's own pause under another name.
    let rt = podtui::runtime::DockerRuntime::connect().await.unwrap();
    let own = podtui::runtime::pause::ensure_pause_image(&rt)
        .await
        .unwrap();
    let custom = format!("localhost/podtui-test/custom-pause:{}", t.node);
    docker(&["tag", &own, &custom]);
    let mut cfg =
        common::engine::config(&t.node, t.manifests.path(), t.state.path(), fast_backoff());
    cfg.settings.pause = podtui::engine::worker::PauseImage::Custom(custom.clone());
    t.write(
        "c.yaml",
        &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: c\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: a\n    image: {BUSYBOX}\n    command: {SLEEPER}\n    volumeMounts: [{{name: d, mountPath: /d}}]\n  volumes:\n  - name: d\n    emptyDir: {{}}\n"),
    );
    t.handle = Some(podtui::engine::Engine::start(cfg).unwrap());
    let pod = t
        .wait_pod("c", "running", 60, |p| p.columns.status == "Running")
        .await;
    assert_eq!(pod.observed.latest_sandbox().unwrap().image, custom);
    let a = running_id(&pod, "a").unwrap();
    assert_eq!(exec(&a, "stat -c %a /d"), "777");
    t.stop().await;
    drop(t);
    let _ = std::process::Command::new("docker")
        .args(["rmi", &custom])
        .output();
}
