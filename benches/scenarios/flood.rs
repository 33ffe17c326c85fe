//! Benchmark 6, log flood: `yes` in a container while the TUI follows its log; key → screen latency and peak RSS.

use std::time::{Duration, Instant};

use crate::common::BUSYBOX;
use crate::report::{Bench, Row, median, ms, pct};
use crate::support::{cleanup_label, close_tui, proc_stats, start_tui, tui_pid, wait_screen};

pub async fn flood(window: Duration) -> Bench {
    let node = format!("bench-flood-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flood.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: flood\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: noisy\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'yes \"flood line with some text 0123456789 abcdefghijklmnopqrstuvwxyz\"']\n"),
    )
    .unwrap();
    let tmux = start_tui("flood", dir.path(), &node, state.path());
    wait_screen(&tmux, 60, |s| s.contains("Running"));
    tmux.press("l");
    wait_screen(&tmux, 30, |s| s.contains("flood line"));
    let pid = tui_pid(&tmux).unwrap();
    let t0 = Instant::now();
    let mut latencies = Vec::new();
    let mut wrap_on = true;
    while t0.elapsed() < window {
        tmux.press("w");
        wrap_on = !wrap_on;
        let want = if wrap_on { "wrap on" } else { "wrap off" };
        if let Some(d) = wait_screen(&tmux, 5, |s| s.contains(want)) {
            latencies.push(ms(d));
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    let rss = proc_stats(pid).unwrap().hwm_kb;
    let lines = tmux.screen();
    let count = lines
        .lines()
        .find(|l| l.contains("Logs noisy"))
        .unwrap_or_default()
        .to_string();
    close_tui(tmux, pid);
    cleanup_label(&format!("dev.podtui.node={node}"));
    let rss_mb = rss as f64 / 1024.0;
    let p50 = median(&latencies);
    let met = rss_mb <= 80.0 && p50 <= 100.0;
    Bench {
        baseline: false,
        title: format!("6. Log flood: `yes` for {} s while the TUI follows its log", window.as_secs()),
        rows: vec![
            Row { label: "key → screen latency through tmux (median; p95 and max below)".into(), samples: latencies.clone(), unit: "ms" },
            Row { label: "TUI peak RSS".into(), samples: vec![rss_mb], unit: "MB" },
        ],
        target: ("RSS stays under the bound (80 MB: an 8 MiB text buffer, 20 000 lines, plus the engine) and a key shows within 100 ms".into(), Some(met), String::new()),
        notes: vec![
            format!("latency p95 {:.0} ms, max {:.0} ms over {} presses; the latency includes tmux's own capture-pane polling (5 ms)", pct(&latencies, 0.95), pct(&latencies, 1.0), latencies.len()),
            format!("the log view's title at the end: `{}`", count.trim().trim_matches('│').trim()),
        ],
    }
}
