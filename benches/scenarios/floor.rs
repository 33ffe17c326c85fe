//! The baselines podtui is compared with: the example pod's objects (a volume, the sandbox, two containers)
//! made by direct, sequential Docker API calls (through podtui's own `ContainerRuntime`, as podtui makes them),
//! and the same made with the `docker` CLI.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use podtui::runtime::{ContainerConfig, ContainerRuntime, DockerRuntime, MountSource, MountSpec};

use crate::common::docker;
use crate::common::pods::SLEEPER;

/// A pause container's body: a sandbox in network mode `network`, its IPC namespace shareable.
fn sandbox(pause: &str, labels: HashMap<String, String>, network: &str) -> ContainerConfig {
    ContainerConfig {
        image: pause.into(),
        labels,
        network_mode: network.into(),
        ipc_mode: Some("shareable".into()),
        ..Default::default()
    }
}

/// How long the floor's three starts took: the sandbox's, then each container's.
pub struct Starts {
    /// The sandbox's start (it makes the pod's network namespace).
    pub sandbox: Duration,
    /// The two containers' starts, in order.
    pub containers: [Duration; 2],
}

/// The example pod's containers created and started by direct, sequential Docker API calls; returns how long
/// the starts took.
pub async fn api_pod(
    rt: &DockerRuntime,
    pause: &str,
    name: &str,
    label: &str,
    images: (&str, &str),
) -> Starts {
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
            sandbox(pause, labels.clone(), "bridge"),
        )
        .await
        .unwrap();
    let t = Instant::now();
    rt.start(&sb, name).await.unwrap();
    let mut starts = Starts {
        sandbox: t.elapsed(),
        containers: [Duration::ZERO; 2],
    };
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
        let t = Instant::now();
        rt.start(&id, name).await.unwrap();
        starts.containers[i] = t.elapsed();
    }
    starts
}

/// Creates a pause container labelled `label` in the host's network namespace and returns how long its start
/// took: a sandbox's start without making a network namespace (for the cold start's breakdown).
pub async fn host_sandbox_start(
    rt: &DockerRuntime,
    pause: &str,
    name: &str,
    label: &str,
) -> Duration {
    let (k, v) = label.split_once('=').unwrap();
    let id = rt
        .create(
            name,
            sandbox(
                pause,
                HashMap::from([(k.to_string(), v.to_string())]),
                "host",
            ),
        )
        .await
        .unwrap();
    let t = Instant::now();
    rt.start(&id, name).await.unwrap();
    t.elapsed()
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
    let pause_body = sandbox(pause, labels.clone(), "bridge");
    let pause_name = format!("{name}-pause");
    let (v, sb) = tokio::join!(
        rt.create_volume(&vol, labels.clone(), HashMap::new()),
        rt.create(&pause_name, pause_body)
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
