//! The example pod on podman (issue 16): `podman kube play` of the same manifest beside podtui on podman, and
//! podtui on podman beside podtui on Docker. Each is timed from "go" to every container of the pod running, as
//! the engine lists them (the sandbox/infra container included), polled every 5 ms on both engines alike; kube
//! play is timed to its exit (it returns once the pod's containers have started) and checked the same way.
//!
//! Runs when `PODTUI_BENCH_PODMAN_HOST` names podman's socket (`bash scripts/bench.sh` sets podman up with
//! scripts/setup-podman.sh and sets it); otherwise the section says why it did not run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use podtui::runtime::{ContainerRuntime, DockerRuntime};

use crate::common::pods::example_pod;
use crate::common::process::PodtuiRun;
use crate::report::{Bench, Row, median, ms};

/// The variable naming podman's socket (`unix:///…/podman.sock`).
pub const HOST_ENV: &str = "PODTUI_BENCH_PODMAN_HOST";

const TITLE: &str =
    "12. The example pod on podman: podtui beside `podman kube play`, and beside podtui on Docker";

/// podman's CLI, with the containers.conf the service was started with (next to its socket).
fn podman_cli(host: &str) -> Command {
    let sock = PathBuf::from(host.trim_start_matches("unix://"));
    let mut c = Command::new("podman");
    if let Some(dir) = sock.parent() {
        c.env("CONTAINERS_CONF", dir.join("containers.conf"));
    }
    c
}

/// How many of the containers labelled `label` run (`None` when the engine does not answer).
async fn running(rt: &DockerRuntime, label: &str) -> Option<usize> {
    let list = rt.list_containers(&[label.to_string()]).await.ok()?;
    Some(list.iter().filter(|c| c.state == "running").count())
}

/// Polls until `n` containers labelled `label` run (`Some(time)`), or 60 s pass (`None`).
async fn until_running(rt: &DockerRuntime, label: &str, n: usize, t0: Instant) -> Option<f64> {
    while t0.elapsed() < Duration::from_secs(60) {
        if running(rt, label).await.unwrap_or(0) >= n {
            return Some(ms(t0.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// Polls until nothing labelled `label` is left (60 s at most).
async fn until_gone(rt: &DockerRuntime, label: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if rt
            .list_containers(&[label.to_string()])
            .await
            .is_ok_and(|l| l.is_empty())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One podtui start of the example pod `name` on `run`'s engine (`rt`): write → sandbox + 2 containers running;
/// then the file is removed and the pod waited out.
async fn podtui_once(run: &PodtuiRun, rt: &DockerRuntime, name: &str) -> Option<f64> {
    let file = run.dir.path().join(format!("{name}.yaml"));
    let label = format!("io.kubernetes.pod.name={}", run.full(name));
    let t0 = Instant::now();
    std::fs::write(&file, example_pod(name)).unwrap();
    let took = until_running(rt, &label, 3, t0).await;
    std::fs::remove_file(&file).unwrap();
    until_gone(rt, &label).await;
    took
}

/// One `podman kube play` of the example pod `name`, timed to its exit, then `kube down`.
async fn kube_play_once(host: &str, dir: &Path, name: &str) -> Option<f64> {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, example_pod(name)).unwrap();
    let t0 = Instant::now();
    let out = podman_cli(host)
        .args(["kube", "play"])
        .arg(&file)
        .output()
        .ok()?;
    let took = ms(t0.elapsed());
    let ok = out.status.success();
    // Every container of the pod (infra + 2) must run, else the time means nothing.
    let pod_running = podman_cli(host)
        .args([
            "ps",
            "-q",
            "--filter",
            &format!("pod={name}"),
            "--filter",
            "status=running",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().count())
        .unwrap_or(0);
    let _ = podman_cli(host).args(["kube", "down"]).arg(&file).output();
    if !ok || pod_running < 3 {
        eprintln!(
            "podman kube play {name}: {} ({pod_running} running)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    Some(took)
}

/// The section, or why it did not run.
pub async fn podman(docker: &DockerRuntime, reps: usize) -> Bench {
    let not_run = |why: String| Bench {
        baseline: false,
        title: TITLE.into(),
        rows: vec![],
        target: (
            "no target; reported".into(),
            None,
            format!("Not run: {why}."),
        ),
        notes: vec![],
    };
    let Some(host) = std::env::var(HOST_ENV).ok().filter(|h| !h.is_empty()) else {
        return not_run(format!(
            "{HOST_ENV} is not set (bash scripts/bench.sh sets podman up with scripts/setup-podman.sh)"
        ));
    };
    let pm = match DockerRuntime::connect_to(&host).await {
        Ok(rt) => rt,
        Err(e) => return not_run(format!("podman at {host} does not answer: {e}")),
    };
    let version = pm.info().engine();
    let on_podman = PodtuiRun::start_on(
        Some(&host),
        &format!("bench-podman-{}", std::process::id()),
        &[],
    );
    on_podman.ready(60).await;
    let on_docker =
        PodtuiRun::start_on(None, &format!("bench-pmdocker-{}", std::process::id()), &[]);
    on_docker.ready(60).await;
    let play_dir = tempfile::tempdir().unwrap();
    let (mut t_pm, mut t_play, mut t_docker) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..reps {
        // Each of the three goes first in turn, after 2 s of quiet on both engines.
        for turn in 0..3 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let name = format!("pm{i}t{turn}");
            match (i + turn) % 3 {
                0 => t_pm.extend(podtui_once(&on_podman, &pm, &name).await),
                1 => t_play.extend(kube_play_once(&host, play_dir.path(), &name).await),
                _ => t_docker.extend(podtui_once(&on_docker, docker, &name).await),
            }
        }
    }
    drop(on_podman);
    drop(on_docker);
    let ratio = |a: &[f64], b: &[f64]| median(a) / median(b);
    Bench {
        baseline: true,
        title: TITLE.into(),
        rows: vec![
            Row { label: "podtui on podman (write → sandbox + 2 containers running)".into(), samples: t_pm.clone(), unit: "ms" },
            Row { label: "`podman kube play` (the same manifest; to its exit, infra + 2 containers running)".into(), samples: t_play.clone(), unit: "ms" },
            Row { label: "podtui on Docker (the same, the Docker engine of the other sections)".into(), samples: t_docker.clone(), unit: "ms" },
        ],
        target: (
            format!(
                "no target; reported (podtui on podman ÷ kube play {:.2}×, ÷ podtui on Docker {:.2}×)",
                ratio(&t_pm, &t_play),
                ratio(&t_pm, &t_docker)
            ),
            None,
            String::new(),
        ),
        notes: vec![format!(
            "podman: {version}, through its Docker-compatible API (`podman system service`, scripts/setup-podman.sh). kube play runs the pod with podman's own infra container and creates the containers one at a time (podman issue #19716); podtui's time includes noticing the file. Both engines share the machine's 2 cores; each run starts after 2 s of quiet."
        )],
    }
}
