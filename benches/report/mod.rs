//! The results: one [`Bench`] per scenario (rows of samples, a target, notes), and the markdown they become
//! (docs/performance.md): the machine, the targets table, then each benchmark's table.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::common::docker;

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of a benchmark's table: what was measured, every sample, the unit.
pub struct Row {
    /// What the row measures.
    pub label: String,
    /// Every sample, in the order taken.
    pub samples: Vec<f64>,
    /// `ms`, `s`, `%`, `MB`.
    pub unit: &'static str,
}

impl Row {
    /// The median sample.
    pub fn median(&self) -> f64 {
        median(&self.samples)
    }
}

/// The median of `v` (NaN when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// The `p` quantile of `v` (0.0 the minimum, 1.0 the maximum; NaN when empty).
pub fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    s[((s.len() - 1) as f64 * p).round() as usize]
}

/// One benchmark: its section of docs/performance.md.
pub struct Bench {
    /// The section title (numbered).
    pub title: String,
    /// The rows after the first are baselines the first (podtui) row is compared with.
    pub baseline: bool,
    /// The table.
    pub rows: Vec<Row>,
    /// (target text, met?, explanation)
    pub target: (String, Option<bool>, String),
    /// Paragraphs under the table.
    pub notes: Vec<String>,
}

/// The machine the numbers come from: CPU, memory, kernel, Docker engine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or_default().trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines().next().map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<u64>()
                    .unwrap_or(0)
                    / 1024
                    / 1024
            })
        })
        .unwrap_or(0);
    let kernel = String::from_utf8_lossy(&Command::new("uname").arg("-r").output().unwrap().stdout)
        .trim()
        .to_string();
    let dockerv = docker(&[
        "version",
        "-f",
        "{{.Server.Version}} (API {{.Server.APIVersion}}), storage {{.Server.Os}}",
    ]);
    let driver = docker(&["info", "-f", "{{.Driver}}, cgroup v{{.CgroupVersion}}"]);
    format!(
        "- CPU: {cpu}, {} cores\n- Memory: {mem} GiB\n- Kernel: {kernel}\n- Docker engine: {dockerv}, {driver}\n- podtui {} (release build)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        env!("CARGO_PKG_VERSION")
    )
}

/// The whole of docs/performance.md.
pub fn report(benches: &[Bench], quick: bool, started: jiff::Timestamp) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# podtui performance\n");
    let _ = writeln!(
        out,
        "Written by `bash scripts/bench.sh`{} on {}. podtui and each baseline run in the same session, alternating; tables give medians (and ratios where there is a baseline). Rerun it to check these numbers on your machine.\n",
        if quick {
            " (`--quick`: fewer repetitions)"
        } else {
            ""
        },
        started.strftime("%Y-%m-%d %H:%M UTC")
    );
    let _ = writeln!(out, "## Machine\n\n{}", machine());
    let _ = writeln!(
        out,
        "## Peers\n\nThe baselines are the Docker Engine API called directly (the floor any Docker-based runner sits on) and the `docker` CLI. `podman kube play`, the natural peer for running Pod manifests locally, has its own section (podman 4.3 from Debian, with the two settings scripts/setup-podman.sh writes), beside podtui on podman. A kubelet with static pods needs a container runtime over CRI and is not installable offline here either.\n"
    );
    let _ = writeln!(
        out,
        "## Targets\n\n| benchmark | target | result |\n|---|---|---|"
    );
    for b in benches {
        let verdict = match b.target.1 {
            Some(true) => "**met**",
            Some(false) => "**missed**",
            None => "reported",
        };
        let _ = writeln!(out, "| {} | {} | {verdict} |", b.title, b.target.0);
    }
    let _ = writeln!(out);
    for b in benches {
        let _ = writeln!(out, "## {}\n", b.title);
        let podtui = b.rows.first().map(Row::median).unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "| | median | samples | podtui ÷ this |\n|---|---|---|---|"
        );
        for (i, r) in b.rows.iter().enumerate() {
            let ratio = if b.baseline && i > 0 {
                format!("{:.2}×", podtui / r.median())
            } else {
                String::new()
            };
            let samples = r
                .samples
                .iter()
                .map(|s| format!("{s:.1}"))
                .collect::<Vec<_>>()
                .join(", ");
            let samples = if samples.len() > 120 {
                format!(
                    "{} values, min {:.1}, max {:.1}",
                    r.samples.len(),
                    pct(&r.samples, 0.0),
                    pct(&r.samples, 1.0)
                )
            } else {
                samples
            };
            let _ = writeln!(
                out,
                "| {} | {:.1} {} | {samples} | {ratio} |",
                r.label,
                r.median(),
                r.unit
            );
        }
        let _ = writeln!(
            out,
            "\nTarget: {} — {}.",
            b.target.0,
            match b.target.1 {
                Some(true) => "met",
                Some(false) => "missed",
                None => "reported only",
            }
        );
        if !b.target.2.is_empty() {
            let _ = writeln!(out, "{}", b.target.2);
        }
        for n in &b.notes {
            let _ = writeln!(out, "\n{n}");
        }
        let _ = writeln!(out);
    }
    out
}
