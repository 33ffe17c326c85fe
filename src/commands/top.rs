//! `podtui top pods [PATH] [--containers]`: `kubectl top`'s columns (NAME CPU(cores) MEMORY(bytes)) from the
//! running engine's stats sampler, over the state dir's socket as `get` reads the snapshot. Without an engine
//! there is nothing sampled, and it says so.

use std::io::Write;
use std::time::Duration;

use crate::cli::TopArgs;
use crate::config::Common;
use crate::engine::server::{fetch_snapshot, fetch_stats};
use crate::engine::stats::StatsView;
use crate::engine::stats::math::{cpu_text, memory_text};
use crate::engine::{PodView, Snapshot};
use crate::text::{display_path, escape_controls};

use super::get::table;

/// How long `top` waits for a first figure of every running pod (a rate needs two samples a second apart).
const WAIT: Duration = Duration::from_secs(6);

/// `kubectl top pod`'s rows: NAME CPU(cores) MEMORY(bytes).
pub fn pod_rows(snap: &Snapshot, stats: &StatsView) -> Vec<Vec<String>> {
    snap.pods
        .iter()
        .filter_map(|p| {
            let u = stats.pod(&p.uid)?;
            Some(vec![
                p.name.clone(),
                cpu_text(u.cpu_millis()),
                memory_text(u.memory_bytes()),
            ])
        })
        .collect()
}

/// `kubectl top pod --containers`' rows: POD NAME CPU(cores) MEMORY(bytes).
pub fn container_rows(snap: &Snapshot, stats: &StatsView) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in &snap.pods {
        let Some(u) = stats.pod(&p.uid) else { continue };
        for c in &u.containers {
            rows.push(vec![
                p.name.clone(),
                c.name.clone(),
                cpu_text(c.cpu_millis),
                memory_text(c.memory_bytes),
            ]);
        }
    }
    rows
}

/// True when every pod with a running app container has a CPU rate for each of them.
fn complete(snap: &Snapshot, stats: &StatsView) -> bool {
    snap.pods.iter().all(|p| {
        let running = running_apps(p);
        running == 0
            || stats.pod(&p.uid).is_some_and(|u| {
                u.containers.len() >= running
                    && u.containers.iter().all(|c| !c.cpu_history.is_empty())
            })
    })
}

fn running_apps(p: &PodView) -> usize {
    p.observed
        .containers
        .iter()
        .filter(|c| c.state.is_running())
        .count()
}

/// Runs `top`; returns the exit code.
pub async fn run(args: &TopArgs, common: &Common, out: &mut dyn Write) -> std::io::Result<i32> {
    let Some(mut snap) = fetch_snapshot(&common.state_dir)
        .await
        .filter(|s| s.node_name == common.node_name)
    else {
        eprintln!(
            "podtui top: no podtui engine is running for state dir {} (node {}): resource use is sampled by the engine; start `podtui run {}` or the TUI",
            display_path(&common.state_dir),
            escape_controls(&common.node_name),
            display_path(&args.path)
        );
        return Ok(1);
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut stats = fetch_stats(&common.state_dir).await.unwrap_or_default();
    while !complete(&snap, &stats) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stats = fetch_stats(&common.state_dir).await.unwrap_or_default();
        if let Some(s) = fetch_snapshot(&common.state_dir).await {
            snap = s;
        }
    }
    let rows = if args.containers {
        container_rows(&snap, &stats)
    } else {
        pod_rows(&snap, &stats)
    };
    if rows.is_empty() {
        eprintln!("error: metrics not available yet");
        return Ok(1);
    }
    let header: &[&str] = if args.containers {
        &["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    } else {
        &["NAME", "CPU(cores)", "MEMORY(bytes)"]
    };
    out.write_all(table(header, &rows).as_bytes())?;
    Ok(0)
}
