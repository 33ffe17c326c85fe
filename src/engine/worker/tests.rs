//! The worker's timing and ordering against the in-memory engine (`runtime::fake`) with tokio's paused clock:
//! crash-loop back-off, the termination order, probe timing, and users' requests carried out by the plan.
//! No Docker, no real sleeps; the Docker tests prove the features, these pin the kubelet's timing down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::{PauseImage, PodWorker, WorkerMsg, WorkerReport, WorkerSettings};
use crate::engine::backoff::BackoffConfig;
use crate::engine::clock;
use crate::engine::handler::ProbeVia;
use crate::engine::request::Request;
use crate::manifest::{Format, ParseInput, SourceId, parse_manifest};
use crate::runtime::Runtime;
use crate::runtime::fake::{Call, FakeRuntime};

const NODE: &str = "n";

/// One worker on the fake engine, with the engine's events forwarded to it as the supervisor does.
struct Harness {
    rt: Arc<FakeRuntime>,
    tx: mpsc::UnboundedSender<WorkerMsg>,
    reports: mpsc::UnboundedReceiver<WorkerReport>,
    uid: String,
    _runtime: watch::Sender<Option<Runtime>>,
}

fn pod(body: &str) -> String {
    format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{body}")
}

fn start(yaml: &str) -> Harness {
    let source = SourceId::File("/m/p.yaml".into());
    let parsed = parse_manifest(&ParseInput {
        display: "p.yaml",
        text: yaml,
        format: Format::Yaml,
        node_name: NODE,
        source: &source,
    });
    assert!(!parsed.has_errors(), "{:?}", parsed.findings);
    let desired = Arc::new(parsed.pods.into_iter().next().unwrap());
    let uid = desired.uid.clone();
    let rt = Arc::new(FakeRuntime::default());
    let dyn_rt: Runtime = rt.clone();
    let (runtime_tx, runtime_rx) = watch::channel(Some(dyn_rt));
    let settings = Arc::new(WorkerSettings {
        node: NODE.into(),
        host_port_address: std::net::IpAddr::from([127, 0, 0, 1]),
        backoff: BackoffConfig::default(),
        pause: PauseImage::Own,
        termination_dir: None,
        probe_via: Some(ProbeVia::Host),
        subpath_dir: None,
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let (report_tx, reports) = mpsc::unbounded_channel();
    let worker = PodWorker::new(
        uid.clone(),
        Some(desired),
        None,
        settings,
        runtime_rx,
        (tx.clone(), rx),
        report_tx,
    );
    let mut events = rt.subscribe();
    let forward = tx.clone();
    tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            if forward.send(WorkerMsg::Changed(ev.container_id)).is_err() {
                break;
            }
        }
    });
    tokio::spawn(worker.run());
    Harness {
        rt,
        tx,
        reports,
        uid,
        _runtime: runtime_tx,
    }
}

impl Harness {
    /// Lets the worker run for `secs` of the engine's (paused) clock.
    async fn run_for(&self, secs: u64) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }

    fn calls(&self, op: &str, container: &str) -> Vec<Call> {
        self.rt
            .calls()
            .into_iter()
            .filter(|c| c.op == op && c.container == container)
            .collect()
    }

    /// Waits (on the paused clock) until the worker reports the pod gone.
    async fn gone(&mut self) {
        let wait = async {
            while let Some(r) = self.reports.recv().await {
                if matches!(r, WorkerReport::Gone { .. }) {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(600), wait)
            .await
            .expect("the pod is removed");
    }
}

fn secs_between(a: Timestamp, b: Timestamp) -> f64 {
    b.duration_since(a).as_secs_f64()
}

#[tokio::test(start_paused = true)]
async fn a_crash_loop_restarts_at_once_then_after_10_20_40_80_160_and_300_seconds() {
    let h = start(&pod(
        "  containers:\n  - name: app\n    image: fake/exit:1\n",
    ));
    h.run_for(1000).await;
    let starts: Vec<Timestamp> = h.calls("start", "app").into_iter().map(|c| c.at).collect();
    assert!(starts.len() >= 8, "{} starts", starts.len());
    let gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| secs_between(w[0], w[1]))
        .collect();
    let expected = [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0];
    for (gap, want) in gaps.iter().zip(expected) {
        assert!(
            *gap >= want && *gap < want + 0.5,
            "gaps {gaps:?}, expected about {expected:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn deletion_runs_pre_stop_then_stops_with_the_grace_left_then_the_sandbox_then_removes_it() {
    let mut h = start(&pod(
        "  terminationGracePeriodSeconds: 30\n  containers:\n  - name: a\n    image: fake/sleep\n    lifecycle:\n      preStop:\n        exec:\n          command: [fake-sleep, '5']\n  - name: b\n    image: fake/ignore-term\n",
    ));
    h.run_for(1).await;
    assert_eq!(h.calls("start", "b").len(), 1, "both containers run");
    let asked = clock::now();
    h.tx.send(WorkerMsg::Terminate(None)).unwrap();
    h.gone().await;
    let at = |op: &str, c: &str| {
        let calls = h.calls(op, c);
        assert_eq!(calls.len(), 1, "one {op} of {c}: {calls:?}");
        (secs_between(asked, calls[0].at), calls[0].detail.clone())
    };
    let (hook, cmd) = at("exec", "a");
    assert!(hook < 0.5 && cmd == "fake-sleep 5", "{hook} {cmd}");
    let (stop_a, grace_a) = at("stop", "a");
    let (stop_b, grace_b) = at("stop", "b");
    // The hooks run first (b has none, but stops after them too); the stop signal gets the grace left.
    assert!(
        (5.0..5.5).contains(&stop_a) && (5.0..5.5).contains(&stop_b),
        "{stop_a} {stop_b}"
    );
    assert_eq!((grace_a.as_str(), grace_b.as_str()), ("25s", "25s"));
    // b ignores SIGTERM: it takes its whole grace; the sandbox stops after every container.
    let (stop_sandbox, sandbox_grace) = at("stop", "POD");
    assert!((30.0..31.0).contains(&stop_sandbox), "{stop_sandbox}");
    assert_eq!(sandbox_grace, "2s");
    let removed: Vec<String> =
        h.rt.calls()
            .into_iter()
            .filter(|c| c.op == "remove")
            .map(|c| c.container)
            .collect();
    assert_eq!(
        removed.last().map(String::as_str),
        Some("POD"),
        "{removed:?}"
    );
    assert!(removed.contains(&"a".into()) && removed.contains(&"b".into()));
}

#[tokio::test(start_paused = true)]
async fn a_liveness_probe_runs_after_its_delay_every_period_and_kills_at_the_threshold() {
    let h = start(&pod(
        "  containers:\n  - name: app\n    image: fake/sleep\n    livenessProbe:\n      exec:\n        command: [fake-fail]\n      initialDelaySeconds: 5\n      periodSeconds: 3\n      failureThreshold: 2\n",
    ));
    h.run_for(20).await;
    let started = h.calls("start", "app")[0].at;
    let probes: Vec<f64> = h
        .calls("exec", "app")
        .iter()
        .map(|c| secs_between(started, c.at))
        .collect();
    assert!(probes.len() >= 2, "{probes:?}");
    assert!((5.0..5.5).contains(&probes[0]), "initial delay: {probes:?}");
    assert!((8.0..8.5).contains(&probes[1]), "period: {probes:?}");
    let stops = h.calls("stop", "app");
    assert!(!stops.is_empty(), "killed after two failures");
    let killed = secs_between(started, stops[0].at);
    assert!((8.0..8.5).contains(&killed), "{killed}");
    assert!(
        h.calls("start", "app").len() >= 2,
        "restarted by the plan (restartPolicy Always)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_kill_request_is_carried_out_from_a_fresh_look_and_the_pod_comes_back() {
    let h = start(&pod(
        "  containers:\n  - name: app\n    image: fake/sleep\n",
    ));
    h.run_for(1).await;
    h.tx.send(WorkerMsg::Request(Request::KillPod { uid: h.uid.clone() }))
        .unwrap();
    h.run_for(1).await;
    let killed: Vec<String> =
        h.rt.calls()
            .into_iter()
            .filter(|c| c.op == "kill")
            .map(|c| format!("{} {}", c.container, c.detail))
            .collect();
    assert_eq!(killed, ["POD SIGKILL", "app SIGKILL"]);
    assert_eq!(h.calls("create", "POD").len(), 2, "a new sandbox attempt");
    assert_eq!(h.calls("start", "app").len(), 2, "the app runs again");
    // A second look finds nothing to kill: the request is done.
    h.run_for(60).await;
    assert_eq!(h.rt.calls().iter().filter(|c| c.op == "kill").count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_restart_request_stops_with_pre_stop_then_starts_anew_even_with_restart_policy_never() {
    let h = start(&pod(
        "  restartPolicy: Never\n  terminationGracePeriodSeconds: 10\n  containers:\n  - name: app\n    image: fake/sleep\n    lifecycle:\n      preStop:\n        exec:\n          command: [fake-sleep, '3']\n",
    ));
    h.run_for(1).await;
    let asked = clock::now();
    h.tx.send(WorkerMsg::Request(Request::RestartContainer {
        uid: h.uid.clone(),
        container: "app".into(),
    }))
    .unwrap();
    h.run_for(10).await;
    let stop = &h.calls("stop", "app")[0];
    assert!(
        (3.0..3.5).contains(&secs_between(asked, stop.at)),
        "after preStop"
    );
    assert_eq!(stop.detail, "7s", "the grace left after the hook");
    let starts = h.calls("start", "app");
    assert_eq!(starts.len(), 2);
    assert!(
        secs_between(stop.at, starts[1].at) < 0.5,
        "at once, no back-off"
    );
    h.run_for(60).await;
    assert_eq!(
        h.calls("start", "app").len(),
        2,
        "Never: no further restart"
    );
}
