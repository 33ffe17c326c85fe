//! subPath must never reach past its volume (CVE-2017-1002101's class), against the real dockerd: symlinks that an
//! init container or a running container plants in the volume, hostPath subPaths, and a container that swaps a
//! directory for a symlink while the next containers are being started.

use crate::common::engine::{TestEngine, container_status, fast_backoff, running_id};
use crate::common::{BUSYBOX, docker};

fn waiting_message(p: &podtui::engine::PodView, name: &str) -> Option<(String, String)> {
    let st = container_status(p, name);
    let w = st.state.as_ref()?.waiting.as_ref()?;
    Some((
        w.reason.clone().unwrap_or_default(),
        w.message.clone().unwrap_or_default(),
    ))
}

fn refused(p: &podtui::engine::PodView, name: &str) -> bool {
    waiting_message(p, name).is_some_and(|(r, _)| r == "CreateContainerConfigError")
}

/// Once the engine has stopped, no mount under the test's state dir survives (every pin was released; a start
/// in flight when the engine stopped releases its pin when it ends).
async fn assert_no_pins_left(t: &mut TestEngine) {
    t.stop().await;
    let state = t.state.path().to_str().unwrap().to_string();
    let pins = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.contains(&state))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let left = crate::common::eventually(pins, |l| l.is_empty()).await;
    assert!(left.is_empty(), "pins left mounted: {left:?}");
}

#[tokio::test]
async fn symlinks_planted_by_an_init_container_are_not_followed_out_of_the_volume() {
    let mut t = TestEngine::new("subpath-init");
    // Docker's containers dir holds every container's config (env secrets among them): the target of the attack.
    // The sandbox prepared each subPath as a directory: the attack replaces them.
    let plant = "rm -rf /vol/abs /vol/up /vol/inside && mkdir -p /vol/real && echo inside > /vol/real/marker && \
                 ln -s /var/lib/docker/containers /vol/abs && \
                 ln -s ../../../../../../../../var/lib/docker/containers /vol/up && \
                 ln -s real /vol/inside";
    t.write(
        "p.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: plant
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: planter
    image: {BUSYBOX}
    command: [sh, -c, '{plant}']
    volumeMounts: [{{name: vol, mountPath: /vol}}]
  containers:
  - name: abs
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: vol, mountPath: /m, subPath: abs}}]
  - name: up
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: vol, mountPath: /m, subPath: up}}]
  - name: inside
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: vol, mountPath: /m, subPath: inside}}]
  volumes:
  - name: vol
    emptyDir: {{}}
"#
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("plant", "abs and up refused, inside running", 60, |p| {
            refused(p, "abs") && refused(p, "up") && running_id(p, "inside").is_some()
        })
        .await;
    let (_, abs) = waiting_message(&p, "abs").unwrap();
    assert!(
        abs.contains("leaves the volume") && abs.contains("/var/lib/docker/containers"),
        "{abs}"
    );
    let (_, up) = waiting_message(&p, "up").unwrap();
    assert!(up.contains("above the volume's root"), "{up}");
    assert!(p.observed.instances("abs").is_empty(), "never created");
    assert!(p.observed.instances("up").is_empty(), "never created");
    let inside = running_id(&p, "inside").unwrap();
    assert_eq!(
        docker(&["exec", &inside, "cat", "/m/marker"]),
        "inside",
        "a symlink that stays inside the volume is followed, as the kubelet allows"
    );
    assert!(
        p.events
            .iter()
            .any(|e| e.reason == "Failed" && e.message.contains("leaves the volume")),
        "the refusal is an event"
    );
    assert_no_pins_left(&mut t).await;
}

#[tokio::test]
async fn host_path_sub_paths_stay_inside_the_host_path() {
    let mut t = TestEngine::new("subpath-host");
    let host = tempfile::tempdir().unwrap();
    std::fs::create_dir(host.path().join("sub")).unwrap();
    std::fs::write(host.path().join("sub/data"), "from-the-host-path").unwrap();
    std::os::unix::fs::symlink("/etc", host.path().join("link")).unwrap();
    t.write(
        "h.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: hp
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: escape
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: h, mountPath: /m, subPath: link}}]
  - name: fine
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: h, mountPath: /m, subPath: sub, readOnly: true}}]
  - name: created
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: h, mountPath: /m, subPath: new/dir}}]
  volumes:
  - name: h
    hostPath:
      path: {}
"#,
            host.path().display()
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("hp", "escape refused, fine running", 60, |p| {
            refused(p, "escape")
                && running_id(p, "fine").is_some()
                && running_id(p, "created").is_some()
        })
        .await;
    let (_, msg) = waiting_message(&p, "escape").unwrap();
    assert!(msg.contains("absolute path \"/etc\""), "{msg}");
    let fine = running_id(&p, "fine").unwrap();
    assert_eq!(
        docker(&["exec", &fine, "cat", "/m/data"]),
        "from-the-host-path"
    );
    assert!(
        host.path().join("new/dir").is_dir(),
        "a missing subPath is created inside the host path"
    );
    assert_no_pins_left(&mut t).await;
}

/// A running container swaps a directory for a symlink to `/` as fast as it can while the pod's next containers
/// are created and started with that directory as their subPath. Each start either gets the real directory or is
/// refused; none may ever see the host.
#[tokio::test]
async fn a_directory_swapped_for_a_symlink_during_starts_never_exposes_the_host() {
    let mut t = TestEngine::new("subpath-race");
    let marker = format!("podtui-marker-{}", t.node);
    let marker_path = std::path::Path::new("/tmp").join(&marker);
    std::fs::write(&marker_path, "host").unwrap();
    // Half a second a directory, half a second a symlink to the host's root.
    let flip = "while :; do rm -rf /vol/d; mkdir /vol/d; touch /vol/d/inside; sleep 0.5; rm -rf /vol/d; ln -s / /vol/d; sleep 0.5; done";
    let victims: String = (0..10)
        .map(|i| {
            format!(
                r#"  - name: victim{i}
    image: {BUSYBOX}
    command: [sh, -c, 'echo ran >> /report/ran; if [ -e /m/tmp/{marker} ]; then echo victim{i} >> /report/escaped; fi; exec sleep 3600']
    volumeMounts: [{{name: vol, mountPath: /m, subPath: d}}, {{name: report, mountPath: /report}}]
"#
            )
        })
        .collect();
    t.write(
        "race.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: race
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: flipper
    image: {BUSYBOX}
    command: [sh, -c, '{flip}']
    volumeMounts: [{{name: vol, mountPath: /vol}}, {{name: report, mountPath: /report}}]
{victims}  volumes:
  - name: vol
    emptyDir: {{}}
  - name: report
    emptyDir: {{}}
"#
        ),
    );
    t.start(fast_backoff());
    // Every victim has had a try: it was created (it ran, or its start failed because the directory it was
    // pinned to was deleted meanwhile), or it was refused (a symlink at the time of the check).
    let p = t
        .wait_pod("race", "every victim tried", 90, |p| {
            (0..10).all(|i| {
                let n = format!("victim{i}");
                !p.observed.instances(&n).is_empty() || refused(p, &n)
            })
        })
        .await;
    let flipper = running_id(&p, "flipper").unwrap();
    let report = |file: &str| {
        docker(&[
            "exec",
            &flipper,
            "sh",
            "-c",
            &format!("cat /report/{file} 2>/dev/null; true"),
        ])
    };
    let ran = crate::common::eventually(|| report("ran").lines().count(), |n| *n >= 3).await;
    let escaped = report("escaped");
    let _ = std::fs::remove_file(&marker_path);
    assert_eq!(
        escaped, "",
        "a container saw the host's /tmp through its subPath"
    );
    eprintln!("race: {ran} victim starts ran");
    assert!(
        ran >= 3,
        "victims must have run for the check to mean anything"
    );
    assert_no_pins_left(&mut t).await;
}

/// Without a way to pin (not root, or podtui away from the Docker host) and on an engine without its own safe
/// subpath mounts (this dockerd: API 1.41), a subPath mount is refused with the reason; it is never handed to
/// Docker as a path to resolve on the host.
#[tokio::test]
async fn without_pinning_a_sub_path_is_refused_not_mounted_unsafely() {
    let mut t = TestEngine::new("subpath-nopin");
    t.write(
        "n.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: nopin
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: vol, mountPath: /m, subPath: d}}]
  - name: plain
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts: [{{name: vol, mountPath: /vol}}]
  volumes:
  - name: vol
    emptyDir: {{}}
"#
        ),
    );
    t.start_with(fast_backoff(), |cfg| cfg.settings.subpath_dir = None);
    let p = t
        .wait_pod("nopin", "app refused", 60, |p| {
            refused(p, "app") && running_id(p, "plain").is_some()
        })
        .await;
    let (_, msg) = waiting_message(&p, "app").unwrap();
    assert!(
        msg.contains("cannot mount subPath \"d\" safely") && msg.contains("API 1.45"),
        "{msg}"
    );
    t.stop().await;
}
