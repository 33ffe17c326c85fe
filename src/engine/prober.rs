//! The probes of one pod's running containers: a task per probe runs it every period and reports to the pod's
//! worker; this tracker counts successes and failures against the thresholds and says what follows — READY
//! flips, `Unhealthy` events, a kill when liveness or startup fails. Startup gates the other two; a new
//! instance of a container starts over.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Container;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::events::EventType;
use super::handler::{self, ProbeKind, ProbeSpec, Target};
use super::worker::WorkerMsg;
use crate::runtime::Runtime;

/// One run of one probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeOutcome {
    /// Container instance.
    pub id: String,
    /// Which probe.
    pub kind: ProbeKind,
    /// Passed.
    pub ok: bool,
    /// Detail.
    pub message: String,
    /// When it ran.
    pub at: Timestamp,
    /// When it runs next.
    pub next: Timestamp,
}

/// A probe's state, for the UI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeView {
    /// Container.
    pub container: String,
    /// Which probe.
    pub kind: ProbeKind,
    /// What it checks, in short (`httpGet :8080/ready`).
    pub handler: String,
    /// The last result: passed, message, when.
    pub last: Option<(bool, String, Timestamp)>,
    /// Failures in a row.
    pub failures: u32,
    /// Successes in a row.
    pub successes: u32,
    /// The next run.
    pub next: Option<Timestamp>,
    /// Not running yet (waiting for the startup probe).
    pub gated: bool,
}

struct Track {
    spec: ProbeSpec,
    successes: u32,
    failures: u32,
    last: Option<(bool, String, Timestamp)>,
    next: Option<Timestamp>,
    task: Option<JoinHandle<()>>,
}

struct Probed {
    name: String,
    /// When probing of this instance began (just after it started): `initialDelaySeconds` counts from here,
    /// also for liveness and readiness probes that wait for the startup probe.
    origin: tokio::time::Instant,
    started: bool,
    ready: bool,
    killed: bool,
    target: Target,
    tracks: Vec<Track>,
}

/// What the worker must do after an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing beyond the events.
    Nothing,
    /// Liveness or startup failed: kill the container (with this grace, if the probe sets one).
    Kill {
        /// Container instance.
        id: String,
        /// Container name.
        name: String,
        /// Which probe.
        kind: ProbeKind,
        /// Probe-level grace period.
        grace: Option<Duration>,
    },
}

/// An event the worker records: type, reason, container name, message.
pub type ProbeEvent = (EventType, &'static str, String, String);

/// All probes of one pod.
pub struct Prober {
    containers: HashMap<String, Probed>,
    tx: mpsc::WeakUnboundedSender<WorkerMsg>,
}

fn describe(h: &handler::Handler) -> String {
    match h {
        handler::Handler::Exec(cmd) => format!("exec {}", cmd.join(" ")),
        handler::Handler::Http {
            scheme, port, path, ..
        } => format!("httpGet {scheme}://:{port}{path}"),
        handler::Handler::Tcp { port, .. } => format!("tcpSocket :{port}"),
        handler::Handler::Grpc { port, service } if service.is_empty() => format!("grpc :{port}"),
        handler::Handler::Grpc { port, service } => format!("grpc :{port} {service}"),
        handler::Handler::Sleep(d) => format!("sleep {}s", d.as_secs()),
    }
}

async fn probe_loop(
    rt: Runtime,
    spec: ProbeSpec,
    target: Target,
    id: String,
    origin: tokio::time::Instant,
    tx: mpsc::WeakUnboundedSender<WorkerMsg>,
) {
    tokio::time::sleep_until(origin + spec.initial_delay).await;
    loop {
        let r = handler::run(&*rt, &spec.handler, &target, spec.timeout).await;
        let at = crate::engine::clock::now();
        let ok = r.is_ok();
        let message = r.unwrap_or_else(|e| e);
        let outcome = ProbeOutcome {
            id: id.clone(),
            kind: spec.kind,
            ok,
            message,
            at,
            next: at + spec.period,
        };
        // The worker holds the only strong senders: when it is gone, the probe ends.
        let Some(strong) = tx.upgrade() else { return };
        if strong.send(WorkerMsg::Probe(outcome)).is_err() {
            return;
        }
        drop(strong);
        if spec.kind == ProbeKind::Startup && ok {
            return;
        }
        tokio::time::sleep(spec.period).await;
    }
}

impl Prober {
    /// A tracker reporting to a worker's inbox (a weak sender, so the inbox still closes when the engine
    /// drops the worker).
    pub fn new(tx: mpsc::WeakUnboundedSender<WorkerMsg>) -> Self {
        Self {
            containers: HashMap::new(),
            tx,
        }
    }

    fn spawn(
        &self,
        rt: &Runtime,
        t: &mut Track,
        target: &Target,
        id: &str,
        origin: tokio::time::Instant,
    ) {
        if t.task.is_none() {
            t.task = Some(tokio::spawn(probe_loop(
                rt.clone(),
                t.spec.clone(),
                target.clone(),
                id.to_string(),
                origin,
                self.tx.clone(),
            )));
        }
    }

    /// Makes the running instances' probes run, and stops those of instances that are gone.
    /// `running`: (instance ID, its container spec, where to probe).
    pub fn sync(
        &mut self,
        rt: &Runtime,
        running: Vec<(String, &Container, Target)>,
    ) -> Vec<ProbeEvent> {
        let mut events = Vec::new();
        let ids: Vec<&String> = running.iter().map(|(id, _, _)| id).collect();
        let gone: Vec<String> = self
            .containers
            .keys()
            .filter(|id| !ids.contains(id))
            .cloned()
            .collect();
        for id in gone {
            self.stop(&id);
        }
        for (id, c, target) in running {
            if self.containers.contains_key(&id) {
                continue;
            }
            let mut tracks = Vec::new();
            for spec in handler::probes_of(c) {
                match spec {
                    Ok(spec) => tracks.push(Track {
                        spec,
                        successes: 0,
                        failures: 0,
                        last: None,
                        next: None,
                        task: None,
                    }),
                    Err(e) => events.push((
                        EventType::Warning,
                        "Unhealthy",
                        c.name.clone(),
                        format!("the probe cannot run: {e}"),
                    )),
                }
            }
            if tracks.is_empty() {
                continue;
            }
            let has_startup = tracks.iter().any(|t| t.spec.kind == ProbeKind::Startup);
            let origin = tokio::time::Instant::now();
            let mut p = Probed {
                name: c.name.clone(),
                origin,
                started: !has_startup,
                ready: false,
                killed: false,
                target,
                tracks,
            };
            let (target, started) = (p.target.clone(), p.started);
            for t in p.tracks.iter_mut() {
                if t.spec.kind == ProbeKind::Startup || started {
                    self.spawn(rt, t, &target, &id, origin);
                }
            }
            self.containers.insert(id, p);
        }
        events
    }

    /// Stops the probes of one instance.
    pub fn stop(&mut self, id: &str) {
        if let Some(p) = self.containers.remove(id) {
            for t in p.tracks {
                if let Some(task) = t.task {
                    task.abort();
                }
            }
        }
    }

    /// Stops every probe (the pod is terminating).
    pub fn stop_all(&mut self) {
        let ids: Vec<String> = self.containers.keys().cloned().collect();
        for id in ids {
            self.stop(&id);
        }
    }

    /// Takes in an outcome: counts it and says what follows.
    pub fn on_outcome(&mut self, rt: &Runtime, o: ProbeOutcome) -> (Vec<ProbeEvent>, Verdict) {
        let mut events = Vec::new();
        let tx = self.tx.clone();
        let Some(p) = self.containers.get_mut(&o.id) else {
            return (events, Verdict::Nothing);
        };
        if p.killed {
            return (events, Verdict::Nothing);
        }
        let Some(t) = p.tracks.iter_mut().find(|t| t.spec.kind == o.kind) else {
            return (events, Verdict::Nothing);
        };
        t.last = Some((o.ok, o.message.clone(), o.at));
        t.next = (!(o.kind == ProbeKind::Startup && o.ok)).then_some(o.next);
        if o.ok {
            t.successes += 1;
            t.failures = 0;
        } else {
            t.failures += 1;
            t.successes = 0;
            events.push((
                EventType::Warning,
                "Unhealthy",
                p.name.clone(),
                format!("{} probe failed: {}", o.kind.title(), o.message),
            ));
        }
        let (successes, failures, spec) = (t.successes, t.failures, t.spec.clone());
        match o.kind {
            ProbeKind::Startup if o.ok => {
                p.started = true;
                let target = p.target.clone();
                for t in p
                    .tracks
                    .iter_mut()
                    .filter(|t| t.spec.kind != ProbeKind::Startup)
                {
                    if t.task.is_none() {
                        t.task = Some(tokio::spawn(probe_loop(
                            rt.clone(),
                            t.spec.clone(),
                            target.clone(),
                            o.id.clone(),
                            p.origin,
                            tx.clone(),
                        )));
                    }
                }
            }
            ProbeKind::Readiness => {
                if o.ok && successes >= spec.success_threshold {
                    p.ready = true;
                } else if !o.ok && failures >= spec.failure_threshold {
                    p.ready = false;
                }
            }
            ProbeKind::Liveness | ProbeKind::Startup
                if !o.ok && failures >= spec.failure_threshold =>
            {
                p.killed = true;
                return (
                    events,
                    Verdict::Kill {
                        id: o.id,
                        name: p.name.clone(),
                        kind: o.kind,
                        grace: spec.termination_grace,
                    },
                );
            }
            _ => {}
        }
        (events, Verdict::Nothing)
    }

    /// READY per container name for containers that have probes: started, and passing readiness if it has one.
    pub fn readiness(&self) -> HashMap<String, bool> {
        self.containers
            .values()
            .map(|p| {
                let has_readiness = p.tracks.iter().any(|t| t.spec.kind == ProbeKind::Readiness);
                (
                    p.name.clone(),
                    p.started && (!has_readiness || p.ready) && !p.killed,
                )
            })
            .collect()
    }

    /// `started` per container name (false until a startup probe passed).
    pub fn started(&self) -> HashMap<String, bool> {
        self.containers
            .values()
            .map(|p| (p.name.clone(), p.started))
            .collect()
    }

    /// Every probe's state.
    pub fn views(&self) -> Vec<ProbeView> {
        let mut v: Vec<ProbeView> = self
            .containers
            .values()
            .flat_map(|p| {
                p.tracks.iter().map(move |t| ProbeView {
                    container: p.name.clone(),
                    kind: t.spec.kind,
                    handler: describe(&t.spec.handler),
                    last: t.last.clone(),
                    failures: t.failures,
                    successes: t.successes,
                    next: t.next,
                    gated: t.task.is_none() && t.last.is_none(),
                })
            })
            .collect();
        v.sort_by(|a, b| {
            a.container
                .cmp(&b.container)
                .then((a.kind as u8).cmp(&(b.kind as u8)))
        });
        v
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop_all();
    }
}
