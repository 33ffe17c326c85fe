//! Benchmark 8, scale: many pods through `podtui run`, then the TUI over them (filter latency, scrolling, RSS).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;

use crate::common::pods::sleeper_pod;
use crate::report::{Bench, Row, ms};
use crate::support::{
    cleanup_label, close_tui, events, into_tui, podtui_run, proc_stats, tui_pid, wait_events,
    wait_screen,
};

pub async fn scale(rt: &DockerRuntime, n: usize) -> Bench {
    let p = podtui_run("scale", &[]).await;
    let mut rx = events(rt, p.label()).await;
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let pods: BTreeSet<String> = names.iter().map(|x| p.full(x)).collect();
    let t0 = Instant::now();
    for x in &names {
        std::fs::write(p.dir.path().join(format!("{x}.yaml")), sleeper_pod(x)).unwrap();
    }
    let up = wait_events(&mut rx, "start", &pods, 3 * n, Duration::from_secs(1200))
        .await
        .map(|at| (at - t0).as_secs_f64());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_run = proc_stats(p.child.id()).unwrap().hwm_kb;
    // The TUI over the same pods: key latency while scrolling.
    let tui = into_tui(p, "scale");
    let (tmux, node) = (&tui.tmux, &tui.node);
    wait_screen(tmux, 120, |s| s.contains(&format!("Pods ({n}/{n})")));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut latencies = Vec::new();
    for i in 0..20 {
        let target = format!("s{}", 10 + i * 5);
        tmux.press("/");
        tmux.run(&[
            "send-keys",
            "-t",
            &tmux.session,
            "-l",
            &format!("{target}-"),
        ]);
        let t0 = Instant::now();
        tmux.press("Enter");
        if wait_screen(tmux, 10, |s| {
            s.contains("Pods (1/") && s.contains(&format!("{target}-{node}"))
        })
        .is_some()
        {
            latencies.push(ms(t0.elapsed()));
        }
        tmux.press("Escape");
        std::thread::sleep(Duration::from_millis(200));
    }
    let tpid = tui_pid(tmux).unwrap();
    for _ in 0..30 {
        tmux.press("pgdn");
    }
    let last = names.iter().max().cloned().unwrap_or_default();
    let scrolled = wait_screen(tmux, 10, |s| s.contains(&format!("{last}-"))).is_some();
    let rss_tui = proc_stats(tpid).unwrap().hwm_kb;
    let node_label = format!("dev.podtui.node={node}");
    close_tui(tui.tmux, tpid);
    cleanup_label(&node_label);
    drop(tui.dir);
    Bench {
        baseline: false,
        title: format!("8. Scale: {n} pods"),
        rows: vec![
            Row {
                label: format!("{n} manifests written → all {} containers started", 3 * n),
                samples: up.into_iter().collect(),
                unit: "s",
            },
            Row {
                label: "podtui run: peak RSS".into(),
                samples: vec![rss_run as f64 / 1024.0],
                unit: "MB",
            },
            Row {
                label: "TUI: filter to one pod → on screen (through tmux)".into(),
                samples: latencies,
                unit: "ms",
            },
            Row {
                label: "TUI: peak RSS".into(),
                samples: vec![rss_tui as f64 / 1024.0],
                unit: "MB",
            },
        ],
        target: (
            "no target; the TUI must still scroll".into(),
            Some(scrolled),
            if scrolled {
                String::new()
            } else {
                "page down did not reach the end of the table".into()
            },
        ),
        notes: vec![],
    }
}
