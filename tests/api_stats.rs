//! Live resource use on the real dockerd: the engine's sampler against `docker stats` for a busy container, the
//! working set climbing to a memory limit before the OOM kill, the 60-sample history, and what `podtui top
//! pods`, `kubectl top pod [--containers]` and `kubectl top node` print from the same samples.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use std::time::Duration;

use api_support::Playground;
use common::engine::running_id;
use common::{BUSYBOX, docker};
use podtui::engine::Request;
use podtui::engine::stats::{ContainerUsage, HISTORY, StatsView};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn busy_pod() -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: busy
  labels: {{app: busy}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: spin
    image: {BUSYBOX}
    command: [sh, -c, 'while :; do :; done']
    resources:
      limits: {{cpu: 500m, memory: 64Mi}}
"
    )
}

fn hog_pod() -> String {
    // 1 MiB more every 0.25 s, each MiB in a variable of its own (growing one string would copy it, so the
    // peak would be twice what a sample sees): the working set climbs for ~12 s to the 48Mi limit, slowly
    // enough for one-second samples to see it near the top.
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: {BUSYBOX}
    command: [sh, -c, 'x=$(head -c 1048576 /dev/zero | tr \"\\\\0\" a); i=0; while :; do eval \"v$i=\\$x\"; i=$((i+1)); sleep 0.25; done']
    resources:
      limits: {{memory: 48Mi}}
"
    )
}

fn container<'a>(v: &'a StatsView, uid: &str, name: &str) -> Option<&'a ContainerUsage> {
    v.pod(uid)?.containers.iter().find(|c| c.name == name)
}

async fn wait_stats(
    p: &Playground,
    what: &str,
    secs: u64,
    pred: impl Fn(&StatsView) -> bool,
) -> StatsView {
    let mut rx = p.t.handle().stats.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let v = rx.borrow_and_update().clone();
        if pred(&v) {
            return (*v).clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}; stats: {v:?}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), rx.changed()).await;
    }
}

/// `docker stats --no-stream`'s CPU of a container, in millicores (it prints a percentage of one core).
fn docker_cpu_millis(id: &str) -> u64 {
    let perc = docker(&["stats", "--no-stream", "--format", "{{.CPUPerc}}", id]);
    let v: f64 = perc.trim().trim_end_matches('%').parse().unwrap();
    (v * 10.0).round() as u64
}

fn top(p: &Playground, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(args)
        .arg("--state-dir")
        .arg(p.t.state.path())
        .arg("--node-name")
        .arg(&p.t.node)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    eprintln!(
        "$ podtui {}\n{stdout}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "podtui {args:?} failed");
    stdout
}

fn cpu_cell(cell: &str) -> u64 {
    cell.trim_end_matches('m').parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_container_is_sampled_as_docker_stats_sees_it_and_top_prints_it() {
    let mut p = Playground::start("stats-busy", &[("busy.yaml", busy_pod())]).await;
    let full = p.pod("busy");
    let pod =
        p.t.wait_pod("busy", "busy Running", 120, |v| {
            running_id(v, "spin").is_some()
        })
        .await;
    let (uid, id) = (pod.uid.clone(), running_id(&pod, "spin").unwrap());
    p.t.handle()
        .request(Request::WatchStats {
            client: "test".into(),
            pods: Some(vec![uid.clone()]),
            sandboxes: true,
        })
        .await;
    let v = wait_stats(&p, "three live CPU samples of spin", 60, |v| {
        container(v, &uid, "spin").is_some_and(|c| c.live && c.cpu_history.len() >= 3)
    })
    .await;
    // Throttled at its 500m limit: both sides must see about half a core. The two read different one-second
    // windows (docker stats takes its own two samples), so allow 10 % or 50m, whichever is larger.
    let docker_m = docker_cpu_millis(&id);
    let ours = p.t.handle().stats.borrow().clone();
    let c = container(&ours, &uid, "spin").unwrap();
    let tolerance = (docker_m / 10).max(50);
    assert!(
        c.cpu_millis.abs_diff(docker_m) <= tolerance,
        "podtui {}m vs docker stats {docker_m}m (±{tolerance}m)",
        c.cpu_millis
    );
    assert!(
        c.cpu_millis >= 300,
        "a spinning container throttled at 500m uses {}m",
        c.cpu_millis
    );
    assert_eq!(c.cpu_limit, Some(500));
    assert!(c.cpu_percent_of_limit().unwrap() >= 60);
    assert!(c.memory_bytes > 0 && c.memory_limit == Some(64 << 20));
    // The pause container's own cost is sampled too.
    let sandbox = v
        .pod(&uid)
        .unwrap()
        .sandbox
        .clone()
        .expect("the sandbox is sampled");
    assert!(sandbox.memory_bytes > 0, "{sandbox:?}");

    // podtui top and kubectl top print the same samples.
    let out = top(&p, &["top", "pods"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("CPU(cores)")
            && lines[0].contains("MEMORY(bytes)"),
        "{out}"
    );
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.starts_with(&full))
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(cpu_cell(row[1]) >= 300 && row[2].ends_with("Mi"), "{out}");
    let out = top(&p, &["top", "pods", "--containers"]);
    assert!(
        out.lines().next().unwrap().starts_with("POD")
            && out
                .lines()
                .any(|l| l.starts_with(&full) && l.contains(" spin ")),
        "{out}"
    );

    let out = p.ok(&["top", "pod"]).await;
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with(&full))
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(
        out.starts_with("NAME") && cpu_cell(row[1]) >= 300 && row[2].ends_with("Mi"),
        "{out}"
    );
    let out = p.ok(&["top", "pod", "busy", "--containers"]).await;
    assert!(
        out.lines()
            .any(|l| l.starts_with(&full) && l.contains("spin")),
        "{out}"
    );
    let out = p.ok(&["top", "pod", "-A", "-l", "app=busy"]).await;
    assert!(out.contains(&full), "{out}");
    let out = p.ok(&["top", "node"]).await;
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with(&p.t.node))
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(cpu_cell(row[1]) >= 300, "{out}");

    // History stays bounded at 60 samples (the interest is renewed: it lasts 30 s).
    let requests = p.t.handle().requests();
    let watch = Request::WatchStats {
        client: "test".into(),
        pods: Some(vec![uid.clone()]),
        sandboxes: true,
    };
    let renew = tokio::spawn(async move {
        loop {
            requests.send(watch.clone()).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let v = wait_stats(&p, "a full history", 120, |v| {
        container(v, &uid, "spin").is_some_and(|c| c.cpu_history.len() == HISTORY)
    })
    .await;
    let first = container(&v, &uid, "spin").unwrap().memory_history.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = p.t.handle().stats.borrow().clone();
    let c = container(&later, &uid, "spin").unwrap();
    assert!(
        first <= HISTORY && c.cpu_history.len() == HISTORY && c.memory_history.len() == HISTORY
    );
    renew.abort();
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_working_set_climbs_to_the_limit_before_the_oom_kill() {
    let mut p = Playground::start("stats-oom", &[("hog.yaml", hog_pod())]).await;
    let pod =
        p.t.wait_pod("hog", "hog Running", 120, |v| {
            running_id(v, "hog").is_some()
        })
        .await;
    let uid = pod.uid.clone();
    p.t.handle()
        .request(Request::WatchStats {
            client: "test".into(),
            pods: Some(vec![uid.clone()]),
            sandboxes: true,
        })
        .await;
    let limit = 48u64 << 20;
    let mut rx = p.t.handle().stats.clone();
    let mut peak = 0u64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(c) = container(&rx.borrow_and_update(), &uid, "hog") {
            peak = peak.max(c.memory_bytes);
        }
        let snap = p.t.snapshot();
        let oom = snap.pods.iter().find(|x| x.uid == uid).is_some_and(|x| {
            x.observed.containers.iter().any(|c| {
                matches!(
                    c.state,
                    podtui::runtime::observe::InstanceState::Exited {
                        oom_killed: true,
                        ..
                    }
                )
            })
        });
        if oom {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no OOM kill in 90 s; peak {peak}"
        );
        let _ = tokio::time::timeout(Duration::from_millis(300), rx.changed()).await;
    }
    assert!(
        peak >= limit * 3 / 4 && peak <= limit,
        "working set peaked at {} MiB before the OOM kill (limit 48 MiB)",
        peak >> 20
    );
    p.stop().await;
}
