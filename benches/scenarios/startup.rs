//! Benchmarks of start-up: exec of `podtui DIR` → the TUI's first frame (`PODTUI_FIRST_FRAME_FILE` makes the TUI
//! write the wall-clock time of its first draw; the exec time is taken by the shell in tmux just before `exec`),
//! exec → every example pod running; and adoption: `podtui run` SIGKILLed with N running pods and restarted →
//! a snapshot with every pod adopted, the Docker API calls that took (counted by a proxy on a unix socket
//! between podtui and dockerd: one count per HTTP request line) and the containers restarted (none may be).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use crate::common::docker;
use crate::common::pods::{example_pod, sleeper_pod};
use crate::common::process::BIN;
use crate::common::tmux::Tmux;
use crate::report::{Bench, Row, median};
use crate::support::{cleanup_label, close_tui, podtui_run};

/// Wall-clock Unix nanoseconds now.
fn now_ns() -> i128 {
    jiff::Timestamp::now().as_nanosecond()
}

fn read_ns(path: &Path) -> Option<i128> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Every container of `label` and whether it runs.
fn containers(label: &str) -> BTreeMap<String, String> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label={label}"),
        "--format",
        "{{.ID}} {{.State}}",
    ])
    .lines()
    .filter_map(|l| l.split_once(' '))
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// exec → first frame and exec → all `pods` example pods running, `reps` times.
pub async fn startup(reps: usize, pods: usize) -> Bench {
    let (mut frame, mut running) = (Vec::new(), Vec::new());
    for r in 0..reps {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let node = format!("bench-startup{r}-{}", std::process::id());
        for i in 0..pods {
            let name = format!("ex{i}");
            std::fs::write(dir.path().join(format!("{name}.yaml")), example_pod(&name)).unwrap();
        }
        let marks = tempfile::tempdir().unwrap();
        let (t0f, f1) = (marks.path().join("exec"), marks.path().join("frame"));
        let tmux = Tmux::start(
            &format!("bench-startup{r}-{}", std::process::id()),
            120,
            40,
            &format!(
                "date +%s%N > {t0}; TERM=xterm-256color PODTUI_FIRST_FRAME_FILE={f1} exec {BIN} {} --node-name {node} --state-dir {}",
                dir.path().display(),
                state.path().display(),
                t0 = t0f.display(),
                f1 = f1.display(),
            ),
        );
        let label = format!("dev.podtui.node={node}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut all_at = None;
        while Instant::now() < deadline {
            let c = containers(&label);
            if c.len() == 3 * pods && c.values().all(|s| s == "running") {
                all_at = Some(now_ns());
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let (Some(t0), Some(f)) = (read_ns(&t0f), read_ns(&f1)) {
            frame.push((f - t0) as f64 / 1e6);
            if let Some(all) = all_at {
                running.push((all - t0) as f64 / 1e6);
            }
        }
        match tmux.pane_program("podtui") {
            Some(pid) => close_tui(tmux, pid),
            None => drop(tmux),
        }
        cleanup_label(&label);
    }
    let (f, a) = (median(&frame), median(&running));
    Bench {
        baseline: false,
        title: format!("Start-up: exec of `podtui DIR` ({pods} example pods, images present) → first frame, → every pod running"),
        rows: vec![
            Row { label: "exec → first TUI frame".into(), samples: frame, unit: "ms" },
            Row { label: format!("exec → all {pods} example pods running (docker ps, polled every 10 ms)"), samples: running, unit: "ms" },
        ],
        target: (
            format!("first frame ≤ 150 ms, all running ≤ 2 s (measured {f:.0} ms, {a:.0} ms)"),
            Some(f <= 150.0 && a <= 2000.0),
            String::new(),
        ),
        notes: vec![
            "Published figures of the tools users pick instead, to a running app (minikube's own timeToK8s benchmark, v1.36: https://minikube.sigs.k8s.io/docs/benchmarks/timetok8s/v1.36.0/): kind 33 s, k3d 20 s, minikube 51 s — cluster creation included, which podtui does not have.".into(),
        ],
    }
}

/// A unix-socket proxy to dockerd that counts requests (by method and first path segment after the version).
pub struct Counter {
    pub socket: std::path::PathBuf,
    pub calls: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

pub fn counting_proxy() -> Counter {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let c = c.clone();
            tokio::spawn(async move {
                let Ok(mut server) = UnixStream::connect("/var/run/docker.sock").await else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let text = String::from_utf8_lossy(&buf[..n]);
                        for line in text.split("\r\n").filter(|l| l.ends_with(" HTTP/1.1")) {
                            c.lock().unwrap().push(kind(line));
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    Counter {
        socket,
        calls,
        _dir: dir,
    }
}

/// `GET /v1.41/containers/abc/json?x HTTP/1.1` → `GET containers/…/json`.
fn kind(line: &str) -> String {
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("").split('?').next().unwrap_or("");
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let segs = if segs.first().is_some_and(|s| s.starts_with('v')) {
        &segs[1..]
    } else {
        &segs[..]
    };
    let shape: Vec<&str> = match segs {
        [a, _, b, ..] if *a == "containers" || *a == "images" => vec![a, "…", b],
        [a, b] if *b != "json" && *b != "create" => vec![a, "…"],
        other => other.to_vec(),
    };
    format!("{method} {}", shape.join("/"))
}

/// `n` running pods, podtui SIGKILLed and restarted: restart → all adopted, API calls, restarts.
pub async fn adopt(n: usize, reps: usize) -> Bench {
    let (mut times, mut calls_n) = (Vec::new(), Vec::new());
    let mut breakdown = String::new();
    let mut restarted = 0usize;
    for r in 0..reps {
        let mut run = podtui_run(&format!("adopt{r}"), &[]).await;
        let names: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        for x in &names {
            run.write(&format!("{x}.yaml"), &sleeper_pod(x));
        }
        let label = run.label();
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            let c = containers(&label);
            if c.len() == 3 * n && c.values().all(|s| s == "running") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = containers(&label);
        run.kill();
        let proxy = counting_proxy();
        // The same podtui restarted: same directory, node and state dir.
        let state = &run.state;
        let t0 = Instant::now();
        let mut child = Command::new(BIN)
            .args([
                "run",
                run.dir.path().to_str().unwrap(),
                "--node-name",
                &run.node,
            ])
            .args(["--state-dir", state.path().to_str().unwrap()])
            .env("DOCKER_HOST", format!("unix://{}", proxy.socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let want: BTreeSet<String> = names.iter().map(|x| run.full(x)).collect();
        let mut adopted = None;
        while t0.elapsed() < Duration::from_secs(60) {
            if let Some(s) = podtui::engine::server::fetch_snapshot(state.path()).await {
                let ok: BTreeSet<String> = s
                    .pods
                    .iter()
                    .filter(|p| p.columns.status == "Running" && p.columns.ready == "2/2")
                    .map(|p| p.name.clone())
                    .collect();
                if want.is_subset(&ok) {
                    adopted = Some(t0.elapsed());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let calls = proxy.calls.lock().unwrap().clone();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = containers(&label);
        restarted += before.keys().filter(|id| !after.contains_key(*id)).count()
            + after.iter().filter(|(_, s)| *s != "running").count();
        if let Some(t) = adopted {
            times.push(crate::report::ms(t));
            calls_n.push(calls.len() as f64);
            let mut by: BTreeMap<String, usize> = BTreeMap::new();
            for c in &calls {
                *by.entry(c.clone()).or_default() += 1;
            }
            breakdown = by
                .iter()
                .map(|(k, v)| format!("{v}× {k}"))
                .collect::<Vec<_>>()
                .join(", ");
        }
        let _ = child.kill();
        let _ = child.wait();
        drop(run);
        cleanup_label(&label);
    }
    let t = median(&times);
    Bench {
        baseline: false,
        title: format!(
            "Adoption: podtui run SIGKILLed with {n} running pods, restarted → snapshot with every pod adopted"
        ),
        rows: vec![
            Row {
                label: "restart → all adopted".into(),
                samples: times,
                unit: "ms",
            },
            Row {
                label: "Docker API calls until then (counting proxy)".into(),
                samples: calls_n,
                unit: "calls",
            },
        ],
        target: (
            format!(
                "≤ 1 s and zero container restarts (measured {t:.0} ms, {restarted} restarted)"
            ),
            Some(t <= 1000.0 && restarted == 0),
            String::new(),
        ),
        notes: vec![format!("Calls of the last run: {breakdown}.")],
    }
}
