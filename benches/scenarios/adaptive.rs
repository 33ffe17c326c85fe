//! Adaptive start concurrency: N pods written at once → every container started, with podtui's adaptive window
//! and with each fixed window of a sweep (`PODTUI_START_CONCURRENCY` = 4, 8, 16, 32), alternating in the same
//! run; the adaptive time ÷ the best fixed one, and the Docker call timeouts podtui logged (none may be).

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;

use crate::common::pods::sleeper_pod;
use crate::common::process::{BIN, PodtuiRun};
use crate::report::{Bench, Row, median};
use crate::support::{cleanup_label, events, wait_events};

/// The fixed windows of the sweep.
const SWEEP: [usize; 4] = [4, 8, 16, 32];

/// `podtui run` on a fresh node with `PODTUI_START_CONCURRENCY=fixed` (or none: adaptive), ready.
async fn run_with(tag: &str, fixed: Option<usize>) -> PodtuiRun {
    let node = format!("bench-{tag}-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", dir.path().to_str().unwrap(), "--node-name", &node])
        .args(["--state-dir", state.path().to_str().unwrap()])
        .env_remove("PODTUI_START_CONCURRENCY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(n) = fixed {
        cmd.env("PODTUI_START_CONCURRENCY", n.to_string());
    }
    let run = PodtuiRun {
        child: cmd.spawn().unwrap(),
        node,
        dir,
        state,
    };
    run.ready(60).await;
    run
}

/// Lines of podtui's log that report a Docker call timing out.
fn timeouts(run: &PodtuiRun) -> usize {
    std::fs::read_to_string(run.state.path().join("podtui.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("did not answer within"))
        .count()
}

/// One size: every variant `reps` times, each going first in turn.
pub async fn adaptive(rt: &DockerRuntime, n: usize, reps: usize) -> Bench {
    let variants: Vec<Option<usize>> = std::iter::once(None)
        .chain(SWEEP.iter().copied().map(Some))
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut timed_out = 0;
    for r in 0..reps {
        for turn in 0..variants.len() {
            let v = (r + turn) % variants.len();
            tokio::time::sleep(Duration::from_secs(5)).await;
            let p = run_with(&format!("adapt{n}-{r}-{v}"), variants[v]).await;
            let mut rx = events(rt, p.label()).await;
            let names: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
            let pods: BTreeSet<String> = names.iter().map(|x| p.full(x)).collect();
            let t0 = Instant::now();
            for x in &names {
                p.write(&format!("{x}.yaml"), &sleeper_pod(x));
            }
            if let Some(at) =
                wait_events(&mut rx, "start", &pods, 3 * n, Duration::from_secs(900)).await
            {
                samples[v].push((at - t0).as_secs_f64());
            }
            timed_out += timeouts(&p);
            let label = p.label();
            drop(p);
            cleanup_label(&label);
        }
    }
    let adaptive = median(&samples[0]);
    let best = samples[1..]
        .iter()
        .map(|s| median(s))
        .filter(|m| m.is_finite() && *m > 0.0)
        .fold(f64::INFINITY, f64::min);
    let ratio = adaptive / best;
    let mut rows = vec![Row {
        label: format!("podtui, adaptive window ({n} pods → all started)"),
        samples: samples[0].clone(),
        unit: "s",
    }];
    for (i, n) in SWEEP.iter().enumerate() {
        rows.push(Row {
            label: format!("podtui, PODTUI_START_CONCURRENCY={n}"),
            samples: samples[i + 1].clone(),
            unit: "s",
        });
    }
    Bench {
        baseline: true,
        title: format!("Adaptive start concurrency, {n} pods at once"),
        rows,
        target: (
            format!(
                "≤ 1.1× the best fixed window, no Docker timeout (measured {ratio:.2}×, {timed_out} timeouts)"
            ),
            Some(ratio <= 1.1 && timed_out == 0),
            String::new(),
        ),
        notes: vec![],
    }
}
