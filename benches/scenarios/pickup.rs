//! Benchmark 1, pickup latency: a manifest written → the first container created, from Docker's own event.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;

use crate::common::pods::sleeper_pod;
use crate::report::{Bench, Row, median, ms};
use crate::support::{cleanup_label, events, podtui_run, wait_events};

pub async fn pickup(rt: &DockerRuntime, reps: usize) -> Bench {
    let p = podtui_run("pickup", &[]).await;
    let label = p.label();
    let mut rx = events(rt, label.clone()).await;
    let mut samples = Vec::new();
    for i in 0..reps {
        let name = format!("pick{i}");
        let t0 = Instant::now();
        std::fs::write(
            p.dir.path().join(format!("{name}.yaml")),
            sleeper_pod(&name),
        )
        .unwrap();
        let pods = BTreeSet::from([p.full(&name)]);
        if let Some(at) = wait_events(&mut rx, "create", &pods, 1, Duration::from_secs(30)).await {
            samples.push(ms(at - t0));
        }
        wait_events(&mut rx, "start", &pods, 3, Duration::from_secs(30)).await;
    }
    drop(p);
    cleanup_label(&label);
    let m = median(&samples);
    Bench {
        baseline: false,
        title: "1. Pickup latency: manifest written → first container created (Docker event)".into(),
        rows: vec![Row { label: "podtui".into(), samples, unit: "ms" }],
        target: ("median ≤ 100 ms (a kubelet may take up to its 20 s relist)".into(), Some(m <= 100.0), String::new()),
        notes: vec!["The file is written in one go; podtui reads it 5 ms after the writer closes it (the debounce that keeps it from reading half-written files)".into()],
    }
}
