//! Proves the Docker harness: through podtui's runtime boundary (its Docker implementation), create, start,
//! inspect and remove a labelled container on the real engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use podtui::runtime::{ContainerConfig, ContainerRuntime, DockerRuntime, labels};

#[tokio::test]
async fn create_start_inspect_remove_through_bollard() {
    let id = common::run_id("smoke");
    let _cleanup = common::Cleanup::run(&id);
    let rt = DockerRuntime::connect()
        .await
        .expect("a Docker engine answers (run scripts/setup-docker.sh)");
    assert!(!rt.info().version.is_empty());
    assert!(rt.info().api_version.starts_with("1."), "{:?}", rt.info());

    let body = ContainerConfig {
        image: common::BUSYBOX.into(),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "echo hello from $HOSTNAME; sleep 30".into(),
        ]),
        labels: HashMap::from([
            (common::RUN_LABEL.to_string(), id.clone()),
            (labels::POD_UID.to_string(), id.clone()),
        ]),
        network_mode: "none".into(),
        ..Default::default()
    };
    let name = format!("podtui-smoke-{id}");
    let cid = rt.create(&name, body).await.unwrap();
    assert_eq!(
        common::containers_with(&format!("{}={id}", common::RUN_LABEL)),
        vec![cid.clone()]
    );

    rt.start(&cid, &name).await.unwrap();
    let inspected = rt.inspect(&cid).await.unwrap().expect("one of podtui's");
    assert_eq!(inspected.docker_name, name);
    assert!(inspected.state.is_running(), "{:?}", inspected.state);
    assert_eq!(inspected.labels.get(common::RUN_LABEL), Some(&id));
    assert_eq!(inspected.network_mode, "none");

    rt.remove(&cid).await.unwrap();
    assert!(rt.inspect(&cid).await.unwrap_err().is_not_found());
    assert!(common::containers_with(&format!("{}={id}", common::RUN_LABEL)).is_empty());
}

#[tokio::test]
async fn pause_image_is_built_locally_and_behaves() {
    let id = common::run_id("pause");
    let _cleanup = common::Cleanup::run(&id);
    let rt = DockerRuntime::connect().await.unwrap();
    let image = podtui::runtime::pause::ensure_pause_image(&rt)
        .await
        .unwrap();
    assert!(image.starts_with("localhost/podtui-pause:"));
    // Idempotent: a second call reuses it.
    assert_eq!(
        podtui::runtime::pause::ensure_pause_image(&rt)
            .await
            .unwrap(),
        image
    );

    let out = common::docker(&[
        "run",
        "--rm",
        "--label",
        &format!("{}={id}", common::RUN_LABEL),
        &image,
        "-v",
    ]);
    assert_eq!(
        out,
        format!("podtui-pause {}", podtui::runtime::pause::PAUSE_VERSION)
    );

    // PID 1, exits 0 on SIGTERM at once (no grace period wasted), and prepares directories.
    let name = format!("podtui-pause-{id}");
    let label = format!("{}={id}", common::RUN_LABEL);
    let vol = common::docker(&["volume", "create", "--label", &label]);
    let mount = format!("type=volume,src={vol},dst=/v,volume-nocopy");
    common::docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        &label,
        "--mount",
        &mount,
        &image,
        "--prepare-dir",
        "/v/a/b",
    ]);
    let mode = common::docker(&[
        "run",
        "--rm",
        "--label",
        &label,
        "--mount",
        &mount,
        common::BUSYBOX,
        "stat",
        "-c",
        "%a",
        "/v/a/b",
    ]);
    assert_eq!(mode, "777");
    let started = std::time::Instant::now();
    common::docker(&["stop", "-t", "10", &name]);
    assert!(started.elapsed().as_secs() < 5, "pause ignored SIGTERM");
    assert_eq!(
        common::docker(&["inspect", "-f", "{{.State.ExitCode}}", &name]),
        "0"
    );
}
