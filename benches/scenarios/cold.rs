//! Benchmark 2, cold start of the example pod: manifest written → every container running, beside the API floor and the
//! docker CLI making the same objects.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;

use super::floor::{api_pod, cli_pod};
use crate::common::pods::example_pod;
use crate::common::{BUSYBOX, SEEDED};
use crate::report::{Bench, Row, median, ms};
use crate::support::{cleanup_label, events, podtui_run, wait_events};

pub async fn cold_start(rt: &DockerRuntime, pause: &str, reps: usize) -> Bench {
    let p = podtui_run("cold", &[]).await;
    let node_label = p.label();
    let mut rx = events(rt, node_label.clone()).await;
    let (mut t_podtui, mut t_api, mut t_cli) = (Vec::new(), Vec::new(), Vec::new());
    let label = format!("bench.run=cold-{}", std::process::id());
    for i in 0..reps {
        // Each of the three goes first in turn, and each starts on an engine that has been quiet for 2 s (the
        // kernel tears network namespaces down in the background after a container is removed).
        for turn in 0..3 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            match (i + turn) % 3 {
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
    Bench {
        baseline: true,
        title: "2. Cold start of the example pod: write → every container running".into(),
        rows: vec![
            Row { label: "podtui (write → 3 containers started)".into(), samples: t_podtui, unit: "ms" },
            Row { label: "API floor (volume, sandbox, 2 containers; sequential bollard calls)".into(), samples: t_api, unit: "ms" },
            Row { label: "docker CLI (the same, 4 commands)".into(), samples: t_cli, unit: "ms" },
        ],
        target: (format!("≤ 1.1× the API floor (measured {ratio:.2}×)"), Some(ratio <= 1.1), String::new()),
        notes: vec!["podtui's time includes noticing the file and everything a kubelet does besides create+start: image checks per pull policy, the pause image check, labels, status.".into()],
    }
}
