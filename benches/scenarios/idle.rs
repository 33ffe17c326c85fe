//! Benchmark 5, idle cost with 20 pods running: CPU and peak RSS of `podtui run` (stats: the 10 s baseline
//! sampling), then of the TUI that takes over with live stats on (every pod shown, so every container's stats
//! stream open).

use std::collections::BTreeSet;
use std::time::Duration;

use podtui::runtime::DockerRuntime;

use crate::common::pods::sleeper_pod;
use crate::report::{Bench, Row};
use crate::support::{
    cleanup_label, close_tui, events, into_tui, podtui_run, proc_stats, tui_pid, wait_events,
    wait_screen,
};

pub async fn idle(rt: &DockerRuntime, window: Duration) -> Bench {
    let p = podtui_run("idle", &[]).await;
    let mut rx = events(rt, p.label()).await;
    let names: Vec<String> = (0..20).map(|i| format!("idle{i}")).collect();
    for x in &names {
        std::fs::write(p.dir.path().join(format!("{x}.yaml")), sleeper_pod(x)).unwrap();
    }
    let pods: BTreeSet<String> = names.iter().map(|x| p.full(x)).collect();
    wait_events(&mut rx, "start", &pods, 60, Duration::from_secs(300)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = p.child.id();
    let c0 = proc_stats(pid).unwrap().cpu;
    tokio::time::sleep(window).await;
    let end = proc_stats(pid).unwrap();
    let (c1, rss_run) = (end.cpu, end.hwm_kb);
    let run_cpu = (c1 - c0) / window.as_secs_f64() * 100.0;
    // The TUI on the same directory (the engine inside it adopts the 20 pods).
    let tui = into_tui(p, "idle");
    // Stats on: the table's CPU and MEM columns are filled for every pod (the TUI samples what it shows).
    let stats = wait_screen(&tui.tmux, 60, |s| {
        s.contains("Pods (20/20)")
            && s.matches("Running").count() >= 20
            && s.lines()
                .filter(|l| l.contains("Running") && l.contains("Mi "))
                .count()
                >= 20
    });
    assert!(
        stats.is_some(),
        "the TUI did not show 20 running pods with their usage"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tpid = tui_pid(&tui.tmux).unwrap();
    let t0 = proc_stats(tpid).unwrap().cpu;
    tokio::time::sleep(window).await;
    let end = proc_stats(tpid).unwrap();
    let (t1, rss_tui) = (end.cpu, end.hwm_kb);
    let tui_cpu = (t1 - t0) / window.as_secs_f64() * 100.0;
    close_tui(tui.tmux, tpid);
    cleanup_label(&format!("dev.podtui.node={}", tui.node));
    drop(tui.dir);
    let met = run_cpu <= 0.5 && tui_cpu <= 0.5 && rss_run <= 50 * 1024 && rss_tui <= 50 * 1024;
    Bench {
        baseline: false,
        title: format!(
            "5. Idle cost with 20 pods running and live stats on, over {} s",
            window.as_secs()
        ),
        rows: vec![
            Row {
                label: "podtui run: CPU (% of one core)".into(),
                samples: vec![run_cpu],
                unit: "%",
            },
            Row {
                label: "podtui run: peak RSS".into(),
                samples: vec![rss_run as f64 / 1024.0],
                unit: "MB",
            },
            Row {
                label: "TUI in tmux: CPU (% of one core)".into(),
                samples: vec![tui_cpu],
                unit: "%",
            },
            Row {
                label: "TUI in tmux: peak RSS".into(),
                samples: vec![rss_tui as f64 / 1024.0],
                unit: "MB",
            },
        ],
        target: (
            "≤ 0.5 % of one core and RSS ≤ 50 MB, each".into(),
            Some(met),
            String::new(),
        ),
        notes: vec!["CPU from /proc/<pid>/stat (utime + stime), peak RSS from VmHWM. The TUI is measured once its table shows CPU and MEM for all 20 pods: it streams Docker's stats for the containers of every pod it shows; `podtui run` keeps only the 10 s baseline sampling that `top` and the API read.".into()],
    }
}
