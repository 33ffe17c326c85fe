//! The baselines podtui is compared with: the example pod's objects (a volume, the sandbox, two containers)
//! made by direct, sequential Docker API calls (through podtui's own `ContainerRuntime`, as podtui makes them),
//! and the same made with the `docker` CLI.

use std::collections::HashMap;

use podtui::runtime::{ContainerConfig, ContainerRuntime, DockerRuntime, MountSource, MountSpec};

use crate::common::docker;
use crate::common::pods::SLEEPER;

/// The example pod's containers created and started by direct, sequential Docker API calls.
pub async fn api_pod(
    rt: &DockerRuntime,
    pause: &str,
    name: &str,
    label: &str,
    images: (&str, &str),
) {
    let labels = HashMap::from([
        (
            label.split('=').next().unwrap().to_string(),
            label.split('=').nth(1).unwrap().to_string(),
        ),
        ("bench.pod".to_string(), name.to_string()),
    ]);
    let vol = format!("{name}-vol");
    rt.create_volume(&vol, labels.clone(), HashMap::new())
        .await
        .unwrap();
    let sb = rt
        .create(
            &format!("{name}-pause"),
            ContainerConfig {
                image: pause.into(),
                labels: labels.clone(),
                network_mode: "bridge".into(),
                ipc_mode: Some("shareable".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    rt.start(&sb, name).await.unwrap();
    for (i, (image, cmd)) in [
        (images.0, "mkdir -p /www; exec httpd -f -p 80 -h /www"),
        (images.1, SLEEPER),
    ]
    .into_iter()
    .enumerate()
    {
        let target = if i == 0 { "/var/log/nginx" } else { "/logdir" };
        let id = rt
            .create(
                &format!("{name}-c{i}"),
                ContainerConfig {
                    image: image.into(),
                    cmd: Some(vec!["/bin/sh".into(), "-c".into(), cmd.into()]),
                    labels: labels.clone(),
                    network_mode: format!("container:{sb}"),
                    ipc_mode: Some(format!("container:{sb}")),
                    mounts: vec![MountSpec {
                        source: MountSource::Volume {
                            name: vol.clone(),
                            no_copy: true,
                            subpath: None,
                        },
                        target: target.into(),
                        read_only: false,
                    }],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        rt.start(&id, name).await.unwrap();
    }
}

/// The same with the docker CLI, one command after another.
pub fn cli_pod(pause: &str, name: &str, label: &str, images: (&str, &str)) {
    let pl = format!("bench.pod={name}");
    let vol = format!("{name}-vol");
    docker(&["volume", "create", "--label", label, "--label", &pl, &vol]);
    let sb = docker(&[
        "run",
        "-d",
        "--name",
        &format!("{name}-pause"),
        "--label",
        label,
        "--label",
        &pl,
        "--ipc",
        "shareable",
        pause,
    ]);
    for (i, (image, cmd, dst)) in [
        (
            images.0,
            "mkdir -p /www; exec httpd -f -p 80 -h /www",
            "/var/log/nginx",
        ),
        (images.1, SLEEPER, "/logdir"),
    ]
    .into_iter()
    .enumerate()
    {
        docker(&[
            "run",
            "-d",
            "--name",
            &format!("{name}-c{i}"),
            "--label",
            label,
            "--label",
            &pl,
            "--network",
            &format!("container:{sb}"),
            "--ipc",
            &format!("container:{sb}"),
            "--mount",
            &format!("type=volume,src={vol},dst={dst},volume-nocopy"),
            image,
            "/bin/sh",
            "-c",
            cmd,
        ]);
    }
}

/// The same objects with the same calls overlapped as far as a client can (the best podtui could do): the volume
/// and the sandbox created at once, then both containers created while the sandbox starts, then the two starts
/// one after another (the kubelet's start order).
pub async fn api_pod_parallel(
    rt: &DockerRuntime,
    pause: &str,
    name: &str,
    label: &str,
    images: (&str, &str),
) {
    let labels = HashMap::from([
        (
            label.split('=').next().unwrap().to_string(),
            label.split('=').nth(1).unwrap().to_string(),
        ),
        ("bench.pod".to_string(), name.to_string()),
    ]);
    let vol = format!("{name}-vol");
    let sandbox = ContainerConfig {
        image: pause.into(),
        labels: labels.clone(),
        network_mode: "bridge".into(),
        ipc_mode: Some("shareable".into()),
        ..Default::default()
    };
    let pause_name = format!("{name}-pause");
    let (v, sb) = tokio::join!(
        rt.create_volume(&vol, labels.clone(), HashMap::new()),
        rt.create(&pause_name, sandbox)
    );
    v.unwrap();
    let sb = sb.unwrap();
    let body = |i: usize, image: &str, cmd: &str| {
        let target = if i == 0 { "/var/log/nginx" } else { "/logdir" };
        ContainerConfig {
            image: image.into(),
            cmd: Some(vec!["/bin/sh".into(), "-c".into(), cmd.into()]),
            labels: labels.clone(),
            network_mode: format!("container:{sb}"),
            ipc_mode: Some(format!("container:{sb}")),
            mounts: vec![MountSpec {
                source: MountSource::Volume {
                    name: vol.clone(),
                    no_copy: true,
                    subpath: None,
                },
                target: target.into(),
                read_only: false,
            }],
            ..Default::default()
        }
    };
    let (n0, n1) = (format!("{name}-c0"), format!("{name}-c1"));
    let (started, c0, c1) = tokio::join!(
        rt.start(&sb, name),
        rt.create(
            &n0,
            body(0, images.0, "mkdir -p /www; exec httpd -f -p 80 -h /www")
        ),
        rt.create(&n1, body(1, images.1, SLEEPER))
    );
    started.unwrap();
    rt.start(&c0.unwrap(), name).await.unwrap();
    rt.start(&c1.unwrap(), name).await.unwrap();
}
