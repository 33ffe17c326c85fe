//! Benchmark 2, cold start of the example pod: manifest written → every container running, beside the API floor and the
//! docker CLI making the same objects.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;

use super::floor::{api_pod, api_pod_parallel, cli_pod};
use crate::common::pods::example_pod;
use crate::common::{BUSYBOX, SEEDED};
use crate::report::{Bench, Row, median, ms};
use crate::support::{cleanup_label, events, podtui_run, wait_events};

pub async fn cold_start(rt: &DockerRuntime, pause: &str, reps: usize) -> Bench {
    let p = podtui_run("cold", &[]).await;
    let node_label = p.label();
    let mut rx = events(rt, node_label.clone()).await;
    let (mut t_podtui, mut t_api, mut t_cli, mut t_par) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let label = format!("bench.run=cold-{}", std::process::id());
    for i in 0..reps {
        // Each of the four goes first in turn, and each starts on an engine that has been quiet for 2 s (the
        // kernel tears network namespaces down in the background after a container is removed).
        for turn in 0..4 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            match (i + turn) % 4 {
                0 => {
                    let name = format!("cold{i}");
                    let file = p.dir.path().join(format!("{name}.yaml"));
                    let pods = BTreeSet::from([p.full(&name)]);
                    let t0 = Instant::now();
                    std::fs::write(&file, example_pod(&name)).unwrap();
                    if let Some(at) =
                        wait_events(&mut rx, "start", &pods, 3, Duration::from_secs(60)).await
                    {
                        t_podtui.push(ms(at - t0));
                    }
                    std::fs::remove_file(&file).unwrap();
                    wait_events(&mut rx, "destroy", &pods, 3, Duration::from_secs(60)).await;
                }
                1 => {
                    let t0 = Instant::now();
                    api_pod(
                        rt,
                        pause,
                        &format!("api{i}-{}", std::process::id()),
                        &label,
                        (SEEDED, BUSYBOX),
                    )
                    .await;
                    t_api.push(ms(t0.elapsed()));
                    cleanup_label(&label);
                }
                2 => {
                    let t0 = Instant::now();
                    api_pod_parallel(
                        rt,
                        pause,
                        &format!("par{i}-{}", std::process::id()),
                        &label,
                        (SEEDED, BUSYBOX),
                    )
                    .await;
                    t_par.push(ms(t0.elapsed()));
                    cleanup_label(&label);
                }
                _ => {
                    let t0 = Instant::now();
                    cli_pod(
                        pause,
                        &format!("cli{i}-{}", std::process::id()),
                        &label,
                        (SEEDED, BUSYBOX),
                    );
                    t_cli.push(ms(t0.elapsed()));
                    cleanup_label(&label);
                }
            }
        }
    }
    drop(p);
    cleanup_label(&node_label);
    cleanup_label(&label);
    let ratio = median(&t_podtui) / median(&t_api);
    let (r_cli, r_par) = (
        median(&t_podtui) / median(&t_cli),
        median(&t_podtui) / median(&t_par),
    );
    let met = ratio <= 0.85 && r_cli <= 0.8 && r_par <= 1.1;
    Bench {
        baseline: true,
        title: "2. Cold start of the example pod: write → every container running".into(),
        rows: vec![
            Row { label: "podtui (write → 3 containers started)".into(), samples: t_podtui, unit: "ms" },
            Row { label: "API floor (volume, sandbox, 2 containers; sequential bollard calls)".into(), samples: t_api, unit: "ms" },
            Row { label: "docker CLI (the same, 4 commands)".into(), samples: t_cli, unit: "ms" },
            Row { label: "parallel API floor (the same calls overlapped: volume ∥ sandbox create; creates ∥ sandbox start; starts in order)".into(), samples: t_par, unit: "ms" },
        ],
        target: (
            format!("≤ 0.85× the sequential API floor, ≤ 0.8× the docker CLI, ≤ 1.1× the parallel API floor (measured {ratio:.2}×, {r_cli:.2}×, {r_par:.2}×)"),
            Some(met),
            String::new(),
        ),
        notes: vec!["podtui's time includes noticing the file and everything a kubelet does besides create+start: image checks per pull policy, the pause image check, labels, status.".into()],
    }
}
