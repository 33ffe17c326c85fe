//! Benchmarks 3 and 4: many pods written at once → all running, and their teardown, beside the API floor (sequential and
//! all at once) and the docker CLI.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use podtui::runtime::{ContainerRuntime, DockerRuntime};

use super::floor::{api_pod, cli_pod};
use crate::common::pods::sleeper_pod;
use crate::common::{BUSYBOX, docker};
use crate::report::{Bench, Row, median};
use crate::support::{cleanup_label, events, podtui_run, wait_events};

pub async fn fifty(rt: &DockerRuntime, pause: &str, reps: usize, n: usize) -> (Bench, Bench) {
    let (mut up_podtui, mut up_api, mut up_cli) = (Vec::new(), Vec::new(), Vec::new());
    let (mut down_podtui, mut down_api, mut down_cli) = (Vec::new(), Vec::new(), Vec::new());
    let (mut up_par, mut down_par) = (Vec::new(), Vec::new());
    for r in 0..reps {
        // Each variant goes first in turn, on an engine that has been quiet for 5 s (the kernel tears network
        // namespaces down in the background after containers are removed).
        for turn in 0..4 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            match (r + turn) % 4 {
                0 => {
                    // podtui: every manifest written at once.
                    let p = podtui_run(&format!("fifty{r}"), &[]).await;
                    let mut rx = events(rt, p.label()).await;
                    let names: Vec<String> = (0..n).map(|i| format!("f{i}")).collect();
                    let pods: BTreeSet<String> = names.iter().map(|x| p.full(x)).collect();
                    let t0 = Instant::now();
                    for x in &names {
                        std::fs::write(p.dir.path().join(format!("{x}.yaml")), sleeper_pod(x))
                            .unwrap();
                    }
                    if let Some(at) =
                        wait_events(&mut rx, "start", &pods, 3 * n, Duration::from_secs(600)).await
                    {
                        up_podtui.push((at - t0).as_secs_f64());
                    }
                    let t0 = Instant::now();
                    for x in &names {
                        std::fs::remove_file(p.dir.path().join(format!("{x}.yaml"))).unwrap();
                    }
                    if let Some(at) =
                        wait_events(&mut rx, "destroy", &pods, 3 * n, Duration::from_secs(600))
                            .await
                    {
                        down_podtui.push((at - t0).as_secs_f64());
                    }
                    let label = p.label();
                    drop(p);
                    cleanup_label(&label);
                }
                1 => {
                    // API floor, sequential.
                    let label = format!("bench.run=fifty-api-{}", std::process::id());
                    let t0 = Instant::now();
                    for i in 0..n {
                        api_pod(
                            rt,
                            pause,
                            &format!("fa{i}-{}", std::process::id()),
                            &label,
                            (BUSYBOX, BUSYBOX),
                        )
                        .await;
                    }
                    up_api.push(t0.elapsed().as_secs_f64());
                    let t0 = Instant::now();
                    let ids: Vec<String> =
                        docker(&["ps", "-q", "--filter", &format!("label={label}")])
                            .lines()
                            .map(String::from)
                            .collect();
                    for id in &ids {
                        rt.stop(id, Duration::from_secs(2)).await.unwrap();
                        rt.remove(id).await.unwrap();
                    }
                    for v in docker(&["volume", "ls", "-q", "--filter", &format!("label={label}")])
                        .lines()
                    {
                        rt.remove_volume(v).await.unwrap();
                    }
                    down_api.push(t0.elapsed().as_secs_f64());
                    cleanup_label(&label);
                }
                2 => {
                    // API floor, every pod at once (each pod's own calls in order): what any parallel runner is bounded by.
                    let label = format!("bench.run=fifty-par-{}", std::process::id());
                    let t0 = Instant::now();
                    join_all((0..n).map(|i| {
                        let name = format!("fp{i}-{}", std::process::id());
                        let label = label.clone();
                        async move { api_pod(rt, pause, &name, &label, (BUSYBOX, BUSYBOX)).await }
                    }))
                    .await;
                    up_par.push(t0.elapsed().as_secs_f64());
                    let t0 = Instant::now();
                    let ids: Vec<String> =
                        docker(&["ps", "-q", "--filter", &format!("label={label}")])
                            .lines()
                            .map(String::from)
                            .collect();
                    join_all(ids.iter().map(|id| async move {
                        rt.stop(id, Duration::from_secs(2)).await.unwrap();
                        rt.remove(id).await.unwrap();
                    }))
                    .await;
                    for v in docker(&["volume", "ls", "-q", "--filter", &format!("label={label}")])
                        .lines()
                    {
                        rt.remove_volume(v).await.unwrap();
                    }
                    down_par.push(t0.elapsed().as_secs_f64());
                    cleanup_label(&label);
                }
                _ => {
                    // docker CLI, sequential.
                    let label = format!("bench.run=fifty-cli-{}", std::process::id());
                    let t0 = Instant::now();
                    for i in 0..n {
                        cli_pod(
                            pause,
                            &format!("fc{i}-{}", std::process::id()),
                            &label,
                            (BUSYBOX, BUSYBOX),
                        );
                    }
                    up_cli.push(t0.elapsed().as_secs_f64());
                    let t0 = Instant::now();
                    let ids: Vec<String> =
                        docker(&["ps", "-q", "--filter", &format!("label={label}")])
                            .lines()
                            .map(String::from)
                            .collect();
                    for id in &ids {
                        docker(&["stop", "-t", "2", id]);
                        docker(&["rm", id]);
                    }
                    for v in docker(&["volume", "ls", "-q", "--filter", &format!("label={label}")])
                        .lines()
                    {
                        docker(&["volume", "rm", v]);
                    }
                    down_cli.push(t0.elapsed().as_secs_f64());
                    cleanup_label(&label);
                }
            }
        }
    }
    let ratio = median(&up_podtui) / median(&up_cli);
    let bound = if ratio <= 0.5 {
        String::new()
    } else {
        format!(
            "Direct API calls with every pod at once reach {:.2}× the CLI time on this machine: that is the bound for any parallel runner here, and podtui is at {:.2}× that bound.",
            median(&up_par) / median(&up_cli),
            median(&up_podtui) / median(&up_par)
        )
    };
    let up = Bench {
        baseline: true,
        title: format!("3. {n} pods written at once → all running"),
        rows: vec![
            Row {
                label: "podtui (pods start in parallel, one worker each)".into(),
                samples: up_podtui,
                unit: "s",
            },
            Row {
                label: "API floor (sequential)".into(),
                samples: up_api.clone(),
                unit: "s",
            },
            Row {
                label: "API floor, all pods at once (the parallel bound)".into(),
                samples: up_par,
                unit: "s",
            },
            Row {
                label: "docker CLI (sequential)".into(),
                samples: up_cli,
                unit: "s",
            },
        ],
        target: (
            format!("≤ 0.5× the sequential CLI time (measured {ratio:.2}×)"),
            Some(ratio <= 0.5),
            bound,
        ),
        notes: vec![format!(
            "{n} pods of 2 busybox containers + pause + an emptyDir each; the machine has {} cores. Most of a pod start is dockerd, containerd, runc and the kernel setting up the sandbox's network namespace, so parallel starts gain far less than {n}×.",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        )],
    };
    let down = Bench {
        baseline: true,
        title: format!("4. Teardown of those {n} pods (processes exit on SIGTERM)"),
        rows: vec![
            Row {
                label: "podtui (manifests deleted → every container removed)".into(),
                samples: down_podtui,
                unit: "s",
            },
            Row {
                label: "API floor (stop + remove, sequential)".into(),
                samples: down_api,
                unit: "s",
            },
            Row {
                label: "API floor, all containers at once".into(),
                samples: down_par,
                unit: "s",
            },
            Row {
                label: "docker CLI (stop + rm, sequential)".into(),
                samples: down_cli,
                unit: "s",
            },
        ],
        target: ("no target; reported".into(), None, String::new()),
        notes: vec![],
    };
    (up, down)
}
