//! The Kubernetes API's benchmarks (`--only api`): `kubectl get pods` against podtui's API beside kubectl's own
//! start-up, the delay from a Docker event to the `kubectl get pods -w` line, and what serving the API costs
//! `podtui run` at idle (RSS and CPU with `--api on` and `--api off`, with a kubectl watch open).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use podtui::runtime::DockerRuntime;
use tokio::sync::mpsc;

use crate::common::docker;
use crate::common::pods::sleeper_pod;
use crate::common::process::PodtuiRun;
use crate::report::{Bench, Row, median, ms, pct};
use crate::support::{cleanup_label, events, podtui_run, proc_stats, wait_events};

/// `podtui run` on its own directory, node and state dir, with `extra` flags, and a HOME for kubectl.
struct Run {
    run: PodtuiRun,
    home: tempfile::TempDir,
}

impl Run {
    async fn start(tag: &str, extra: &[&str]) -> Self {
        Self {
            run: podtui_run(tag, extra).await,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn label(&self) -> String {
        self.run.label()
    }

    fn kubeconfig(&self) -> PathBuf {
        self.run.state.path().join("kubeconfig")
    }

    /// kubectl with this run's kubeconfig, a private HOME and discovery cache.
    fn kubectl(&self, args: &[&str]) -> Command {
        let mut c = Command::new("kubectl");
        c.arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.kubeconfig())
            .stdin(Stdio::null());
        c
    }

    /// Writes `n` sleeper pods and waits until their 2n containers have started.
    async fn pods(&self, rt: &DockerRuntime, n: usize) -> BTreeSet<String> {
        let mut rx = events(rt, self.label()).await;
        let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        for x in &names {
            self.run.write(&format!("{x}.yaml"), &sleeper_pod(x));
        }
        let pods: BTreeSet<String> = names.iter().map(|x| self.run.full(x)).collect();
        wait_events(&mut rx, "start", &pods, 2 * n, Duration::from_secs(300)).await;
        pods
    }

    /// Waits until kubectl lists `n` pods.
    fn wait_listed(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(o) = self.kubectl(&["get", "pods", "--no-headers"]).output()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| l.contains("Running"))
                    .count()
                    >= n
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("kubectl never listed {n} running pods");
    }

    fn stop(self) {
        let label = self.label();
        drop(self.run);
        cleanup_label(&label);
    }
}

fn kubectl_present() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn timed(mut c: Command) -> f64 {
    let t0 = Instant::now();
    let out = c
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success(), "{c:?} failed");
    ms(t0.elapsed())
}

async fn get_pods(rt: &DockerRuntime, reps: usize) -> Bench {
    let run = Run::start("api-get", &[]).await;
    run.pods(rt, 4).await;
    run.wait_listed(4);
    let (mut get, mut version) = (Vec::new(), Vec::new());
    for i in 0..reps {
        // Take turns going first.
        if i % 2 == 0 {
            get.push(timed(run.kubectl(&["get", "pods"])));
            version.push(timed(run.kubectl(&["version", "--client"])));
        } else {
            version.push(timed(run.kubectl(&["version", "--client"])));
            get.push(timed(run.kubectl(&["get", "pods"])));
        }
    }
    let ratio = median(&get) / median(&version);
    run.stop();
    Bench {
        baseline: true,
        title: "9. `kubectl get pods` against podtui's API vs kubectl's own start-up".into(),
        rows: vec![
            Row { label: "kubectl get pods (4 pods, discovery cached)".into(), samples: get, unit: "ms" },
            Row { label: "kubectl version --client (no server)".into(), samples: version, unit: "ms" },
        ],
        target: (format!("≤ 1.3× kubectl's start-up (measured {ratio:.2}×)"), Some(ratio <= 1.3), String::new()),
        notes: vec!["Each `kubectl get pods` is a new process: TLS handshake, the Table request, printing. Discovery is cached by kubectl (6 h), as it is for every user after their first command; the first command of all also fetches /api, /apis and three resource lists.".into()],
    }
}

/// Lines of a child's stdout with the time each arrived.
fn lines_of(child: &mut Child) -> mpsc::UnboundedReceiver<(Instant, String)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { return };
            if tx.send((Instant::now(), line)).is_err() {
                return;
            }
        }
    });
    rx
}

async fn watch_latency(rt: &DockerRuntime, kills: usize) -> Bench {
    let run = Run::start("api-watch", &[]).await;
    let pods = run.pods(rt, kills).await;
    run.wait_listed(kills);
    let mut docker_events = events(rt, run.label()).await;
    let mut watch = run
        .kubectl(&["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = lines_of(&mut watch);
    // The header and one line per pod first.
    for _ in 0..=kills {
        tokio::time::timeout(Duration::from_secs(30), lines.recv())
            .await
            .unwrap();
    }
    let mut samples = Vec::new();
    for pod in &pods {
        let id = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=io.kubernetes.pod.name={pod}"),
            "--filter",
            "label=io.kubernetes.container.name=a",
        ]);
        while lines.try_recv().is_ok() {}
        docker(&["kill", &id]);
        let died = loop {
            let (at, e) = tokio::time::timeout(Duration::from_secs(10), docker_events.recv())
                .await
                .unwrap()
                .unwrap();
            if matches!(e.action, podtui::runtime::EventAction::Die { .. })
                && e.labels.get("io.kubernetes.pod.name") == Some(pod)
            {
                break at;
            }
        };
        let shown = loop {
            let (at, line) = tokio::time::timeout(Duration::from_secs(10), lines.recv())
                .await
                .unwrap()
                .unwrap();
            if line.starts_with(pod.as_str()) {
                break at;
            }
        };
        samples.push(ms(shown.saturating_duration_since(died)));
        // Let the restart settle before the next kill.
        wait_events(
            &mut docker_events,
            "start",
            &BTreeSet::from([pod.clone()]),
            1,
            Duration::from_secs(30),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = watch.kill();
    let _ = watch.wait();
    run.stop();
    let worst = pct(&samples, 1.0);
    Bench {
        baseline: false,
        title: "10. Watch latency: `docker kill` (Docker's die event) → the `kubectl get pods -w` line".into(),
        rows: vec![Row { label: "podtui API".into(), samples, unit: "ms" }],
        target: (format!("every line ≤ 200 ms after the Docker event (worst {worst:.1} ms)"), Some(worst <= 200.0), String::new()),
        notes: vec!["One app container killed per pod, one pod at a time; the time runs from Docker's `die` event as the bench's own event subscription receives it to the line kubectl prints.".into()],
    }
}

/// One idle window of `podtui run` with 20 pods; with the API, after a `kubectl get pods` and with a watch open.
async fn idle_once(rt: &DockerRuntime, api: bool, window: Duration) -> (f64, f64, f64) {
    let run = Run::start(
        if api { "api-idle-on" } else { "api-idle-off" },
        if api { &[] } else { &["--api", "off"] },
    )
    .await;
    run.pods(rt, 20).await;
    let mut watch = None;
    if api {
        run.wait_listed(20);
        for _ in 0..5 {
            timed(run.kubectl(&["get", "pods", "-o", "wide"]));
        }
        let mut w = run
            .kubectl(&["get", "pods", "-w"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let _lines = lines_of(&mut w);
        watch = Some(w);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = run.run.child.id();
    let c0 = proc_stats(pid).unwrap().cpu;
    tokio::time::sleep(window).await;
    let end = proc_stats(pid).unwrap();
    let (c1, rss, hwm) = (end.cpu, end.rss_kb, end.hwm_kb);
    if let Some(mut w) = watch {
        let _ = w.kill();
        let _ = w.wait();
    }
    run.stop();
    (
        (c1 - c0) / window.as_secs_f64() * 100.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
    )
}

async fn idle_cost(rt: &DockerRuntime, rounds: usize, window: Duration) -> Bench {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        for api in if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        } {
            let s = idle_once(rt, api, window).await;
            if api { on.push(s) } else { off.push(s) }
        }
    }
    let col = |v: &[(f64, f64, f64)], k: usize| {
        v.iter().map(|s| [s.0, s.1, s.2][k]).collect::<Vec<f64>>()
    };
    let rss_added = median(&col(&on, 2)) - median(&col(&off, 2));
    let cpu_added = median(&col(&on, 0)) - median(&col(&off, 0));
    let met = rss_added <= 5.0 && cpu_added <= 0.1;
    Bench {
        baseline: false,
        title: format!("11. What the API costs `podtui run` at idle, 20 pods, over {} s", window.as_secs()),
        rows: vec![
            Row { label: "API on (a kubectl watch open): CPU (% of one core)".into(), samples: col(&on, 0), unit: "%" },
            Row { label: "--api off: CPU (% of one core)".into(), samples: col(&off, 0), unit: "%" },
            Row { label: "API on: peak RSS".into(), samples: col(&on, 2), unit: "MB" },
            Row { label: "--api off: peak RSS".into(), samples: col(&off, 2), unit: "MB" },
            Row { label: "API on: RSS at the end".into(), samples: col(&on, 1), unit: "MB" },
            Row { label: "--api off: RSS at the end".into(), samples: col(&off, 1), unit: "MB" },
        ],
        target: (
            format!("≤ 5 MB more peak RSS and no CPU at idle (measured +{rss_added:.1} MB, +{cpu_added:.2} % of a core)"),
            Some(met),
            String::new(),
        ),
        notes: vec!["The API run has served five `kubectl get pods -o wide` and holds a `kubectl get pods -w` open through the window. CPU from /proc/<pid>/stat (utime + stime), RSS from VmRSS and VmHWM.".into()],
    }
}

/// The API benchmarks.
pub async fn benches(rt: &DockerRuntime, quick: bool) -> Vec<Bench> {
    if !kubectl_present() {
        eprintln!("api benches skipped: no kubectl on PATH");
        return Vec::new();
    }
    vec![
        get_pods(rt, if quick { 10 } else { 30 }).await,
        watch_latency(rt, if quick { 5 } else { 15 }).await,
        idle_cost(
            rt,
            if quick { 1 } else { 2 },
            Duration::from_secs(if quick { 10 } else { 30 }),
        )
        .await,
    ]
}
