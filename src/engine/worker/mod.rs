//! One worker per pod: a task that reads the engine afresh, plans, acts, publishes the pod's status and sleeps
//! until the engine reports a change, a back-off ends, or a message arrives. Pods never wait on each other.
//!
//! The loop is here; each phase of a pod's life has its own file: [`sandbox`] (the pause container),
//! [`volumes`] (volumes, host paths, subPath pins), [`images`] (pull policy, pulls, pull back-off), [`start`]
//! (creating and starting a container), [`hooks`] (postStart, preStop, probe targets), [`probes`] (the prober's
//! verdicts), [`termination`] (deletion, deadlines, stop order) and [`messages`] (termination messages). Users'
//! requests (kill, restart) are recorded here and carried out by the plan from the next fresh look.

mod hooks;
mod images;
mod messages;
mod overlap;
mod probes;
mod sandbox;
mod start;
mod termination;
mod volumes;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, watch};

use super::backoff::{self, Backoff, BackoffConfig};
use super::events::{EventLog, EventType, PodEvent, container_object};
use super::handler::ProbeVia;
use super::plan::{Plan, PlanSpec, Step, plan};
use super::pod_view;
use super::prober::{ProbeOutcome, Prober};
use super::request::Request;
use super::snapshot::PodView;
use super::status::Waiting;
use super::{RESYNC, clock};
use crate::manifest::DesiredPod;
use crate::runtime::observe::{InspectCache, ObservedPod, observe_listed, observe_pod};
use crate::runtime::types::ContainerSummary;
use crate::runtime::{RtResult, Runtime, RuntimeError};
use images::ImagePulls;
use termination::Termination;
pub use termination::{DEADLINE_MESSAGE, MIN_GRACE};

/// Which sandbox image to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseImage {
    /// podtui's own, built locally.
    Own,
    /// Another image, pulled if absent.
    Custom(String),
}

/// Settings every worker shares.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Node name.
    pub node: String,
    /// Address for hostPorts without hostIP.
    pub host_port_address: std::net::IpAddr,
    /// Crash-loop and pull back-off.
    pub backoff: BackoffConfig,
    /// Sandbox image.
    pub pause: PauseImage,
    /// Where termination-message files live (`<state dir>/termination`); used when podtui runs on the Docker host.
    pub termination_dir: Option<std::path::PathBuf>,
    /// How network probes reach pods; `None` decides per connection (see [`super::handler::probe_via`]).
    pub probe_via: Option<ProbeVia>,
    /// Where subPaths are pinned for a safe bind (`<state dir>/subpaths`; see `runtime::subpath`).
    pub subpath_dir: Option<std::path::PathBuf>,
}

/// Messages to a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// The engine reported a change to one of the pod's containers.
    Changed(String),
    /// Look again (resync, reconnect).
    Wake,
    /// Terminate the pod; `None` ⇒ its own grace period.
    Terminate(Option<Duration>),
    /// A user's request about this pod (kill it, restart one of its containers).
    Request(Request),
    /// A probe ran.
    Probe(ProbeOutcome),
}

/// What a worker tells the engine.
#[derive(Debug)]
pub enum WorkerReport {
    /// The pod's latest view.
    Status(Arc<PodView>),
    /// A new event (for `run`'s event lines).
    Event {
        /// `namespace/name`.
        pod: String,
        /// The event.
        event: PodEvent,
    },
    /// The pod is gone from the engine; the worker ended.
    Gone {
        /// UID.
        uid: String,
    },
}

/// Identity of a pod that is only in the engine (no manifest asks for it any more).
#[derive(Clone, Debug)]
pub struct OrphanIdentity {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Source label.
    pub source: String,
    /// Grace period label.
    pub grace_seconds: Option<u32>,
}

/// What a pass of the loop asks for next.
enum Next {
    /// Look again now (something changed).
    Again,
    /// Sleep until this time (or the resync, or a message).
    Wait(Option<Timestamp>),
    /// The pod is gone.
    Done,
}

/// What users asked of the pod that the plan has not carried out yet.
#[derive(Debug, Default)]
struct Requests {
    /// Kill every running container.
    kill: bool,
    /// Restart these containers.
    restarts: BTreeSet<String>,
}

/// What the worker remembers of each container between looks.
#[derive(Debug, Default)]
struct ContainerMemo {
    /// Why a container cannot start (image, config), by name.
    waiting: HashMap<String, Waiting>,
    /// The back-off end already announced by a `BackOff` event, by name.
    backoff_recorded: HashMap<String, Timestamp>,
    /// Last condition transitions, for the pod's conditions.
    transitions: HashMap<String, (String, Timestamp)>,
    /// Termination messages read, by instance ID.
    messages: HashMap<String, String>,
}

/// The per-pod task.
pub struct PodWorker {
    uid: String,
    desired: Option<Arc<DesiredPod>>,
    orphan: Option<OrphanIdentity>,
    settings: Arc<WorkerSettings>,
    runtime: watch::Receiver<Option<Runtime>>,
    inbox: mpsc::UnboundedReceiver<WorkerMsg>,
    report: mpsc::UnboundedSender<WorkerReport>,
    cache: InspectCache,
    /// Crash-loop back-off, by container name.
    backoff: Backoff,
    pulls: ImagePulls,
    memo: ContainerMemo,
    requests: Requests,
    termination: Termination,
    events: EventLog,
    /// Failed passes in a row (for the retry delay).
    errors: u32,
    last_view: Option<Arc<PodView>>,
    last_observed: ObservedPod,
    last_plan: Plan,
    /// Where each pod volume's data lives on the engine host.
    mountpoints: HashMap<String, String>,
    /// Messages that arrived during a pull, handled after it.
    deferred: Vec<WorkerMsg>,
    prober: Prober,
    first_seen: Timestamp,
    /// The earliest creation time of any instance of this pod seen so far: the pod's start time (AGE, the
    /// activeDeadlineSeconds clock), which must not move when old instances are garbage-collected.
    pod_start: Option<Timestamp>,
    /// Containers created ahead in the current sandbox, waiting for their start (see [`overlap`]).
    precreated: HashMap<String, overlap::Precreated>,
    /// The plan's [`Step::Precreate`], for the [`Step::CreateSandbox`] it overlaps with.
    ahead: Vec<(String, crate::runtime::observe::Role, u32)>,
    /// The engine's fresh listing of this pod's containers, for the first look (adoption: no list per pod).
    listing: Option<Vec<ContainerSummary>>,
}

impl PodWorker {
    /// A worker for a desired pod, or (with `desired: None`) for an orphan that is to be removed.
    pub fn new(
        uid: String,
        desired: Option<Arc<DesiredPod>>,
        orphan: Option<OrphanIdentity>,
        settings: Arc<WorkerSettings>,
        runtime: watch::Receiver<Option<Runtime>>,
        inbox: (
            mpsc::UnboundedSender<WorkerMsg>,
            mpsc::UnboundedReceiver<WorkerMsg>,
        ),
        report: mpsc::UnboundedSender<WorkerReport>,
    ) -> Self {
        let (self_tx, inbox) = inbox;
        Self {
            uid,
            desired,
            orphan,
            settings,
            runtime,
            inbox,
            report,
            cache: InspectCache::default(),
            backoff: Backoff::default(),
            pulls: ImagePulls::default(),
            memo: ContainerMemo::default(),
            requests: Requests::default(),
            termination: Termination::default(),
            events: EventLog::default(),
            errors: 0,
            last_view: None,
            last_observed: ObservedPod::default(),
            last_plan: Plan::default(),
            mountpoints: HashMap::new(),
            deferred: Vec::new(),
            prober: Prober::new(self_tx.downgrade()),
            first_seen: clock::now(),
            pod_start: None,
            precreated: HashMap::new(),
            ahead: Vec::new(),
            listing: None,
        }
    }

    /// The first look starts from `listing` (the engine's scan, just made) instead of listing again.
    pub fn with_listing(mut self, listing: Vec<ContainerSummary>) -> Self {
        self.listing = Some(listing);
        self
    }

    fn name(&self) -> String {
        match (&self.desired, &self.orphan) {
            (Some(d), _) => d.name.clone(),
            (None, Some(o)) => o.name.clone(),
            _ => self.uid.clone(),
        }
    }

    fn namespace(&self) -> String {
        match (&self.desired, &self.orphan) {
            (Some(d), _) => d.namespace.clone(),
            (None, Some(o)) => o.namespace.clone(),
            _ => String::new(),
        }
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace(), self.name())
    }

    /// The pod's grace period (at least [`MIN_GRACE`]).
    fn grace(&self) -> Duration {
        let secs = match (&self.desired, &self.orphan) {
            (Some(d), _) => d
                .pod
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
                .unwrap_or(30)
                .max(0) as u64,
            (None, Some(o)) => u64::from(o.grace_seconds.unwrap_or(30)),
            _ => 30,
        };
        Duration::from_secs(secs).max(MIN_GRACE)
    }

    fn desired(&self) -> RtResult<Arc<DesiredPod>> {
        self.desired
            .clone()
            .ok_or_else(|| RuntimeError::failed("plan", "no manifest for this pod"))
    }

    fn event(&mut self, kind: EventType, reason: &str, object: &str, message: String) {
        let e = self
            .events
            .record(kind, reason, object, message, clock::now());
        match kind {
            EventType::Warning => tracing::warn!(pod = %self.key(), reason, "{}", e.message),
            EventType::Normal => tracing::info!(pod = %self.key(), reason, "{}", e.message),
        }
        let _ = self.report.send(WorkerReport::Event {
            pod: self.key(),
            event: e,
        });
    }

    /// The event object of container `name` (init or app).
    fn object_of(&self, name: &str) -> String {
        let init = self
            .desired
            .as_ref()
            .and_then(|d| d.pod.spec.as_ref())
            .is_some_and(|s| s.init_containers.iter().flatten().any(|c| c.name == name));
        container_object(name, init)
    }

    /// Runs until the pod is gone.
    pub async fn run(mut self) {
        if self.desired.is_none() {
            self.termination.begin(clock::now() + self.grace());
        }
        let mut wake_at: Option<tokio::time::Instant> = Some(tokio::time::Instant::now());
        loop {
            let sleep = async {
                match wake_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = self.inbox.recv() => match msg {
                    Some(m) => self.handle(m).await,
                    // The engine is gone: stop quietly, leaving the pod as it is.
                    None => return,
                },
                _ = sleep => {}
                changed = self.runtime.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.cache.clear();
                }
            }
            while let Ok(m) = self.inbox.try_recv() {
                self.handle(m).await;
            }
            for m in std::mem::take(&mut self.deferred) {
                self.handle(m).await;
            }
            let rt = self.runtime.borrow().clone();
            let Some(rt) = rt else {
                wake_at = None;
                continue;
            };
            let next = self.reconcile(&rt).await;
            match next {
                Ok(Next::Done) => {
                    let _ = self.report.send(WorkerReport::Gone {
                        uid: self.uid.clone(),
                    });
                    return;
                }
                Ok(next) => {
                    self.errors = 0;
                    wake_at = Some(wake_time(next));
                }
                Err(e) => {
                    self.errors += 1;
                    let delay = backoff::retry_delay(self.errors);
                    if !e.is_connection() {
                        self.event(
                            EventType::Warning,
                            "FailedSync",
                            "",
                            format!("error syncing pod, retrying in {}s: {e}", delay.as_secs()),
                        );
                    }
                    tracing::debug!(pod = %self.key(), "reconcile failed: {e}");
                    wake_at = Some(tokio::time::Instant::now() + delay);
                }
            }
        }
    }

    fn begin_termination(&mut self, grace: Option<Duration>) {
        let grace = grace.unwrap_or_else(|| self.grace()).max(MIN_GRACE);
        self.termination.begin(clock::now() + grace);
    }

    async fn handle(&mut self, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Changed(id) => self.cache.invalidate(&id),
            WorkerMsg::Wake => {}
            WorkerMsg::Terminate(grace) => self.begin_termination(grace),
            WorkerMsg::Request(r) => self.record(r),
            WorkerMsg::Probe(o) => self.on_probe(o).await,
        }
    }

    /// Records a user's request; the next pass carries it out from what the engine has then.
    fn record(&mut self, request: Request) {
        if self.termination.deadline.is_some() {
            return;
        }
        match request {
            Request::KillPod { .. } => {
                self.requests.kill = true;
                self.event(
                    EventType::Warning,
                    "Killing",
                    "",
                    "killing the pod's containers on request (SIGKILL)".into(),
                );
            }
            Request::RestartContainer { container, .. } => {
                let object = self.object_of(&container);
                self.event(
                    EventType::Normal,
                    "Killing",
                    &object,
                    format!("Stopping container {container} to restart it on request"),
                );
                self.backoff.reset(&container);
                self.requests.restarts.insert(container);
            }
            // Manifest writes are the engine's; they never reach a worker.
            _ => {}
        }
    }

    async fn reconcile(&mut self, rt: &Runtime) -> RtResult<Next> {
        let observed = match self.listing.take() {
            Some(l) => observe_listed(&**rt, &l, &mut self.cache).await?,
            None => observe_pod(&**rt, &self.settings.node, &self.uid, &mut self.cache).await?,
        };
        self.last_observed = observed.clone();
        if self.termination.deadline.is_some() {
            return self.terminate(rt, observed).await;
        }
        let Some(desired) = self.desired.clone() else {
            return Ok(Next::Done);
        };
        let spec = desired.pod.spec.clone().unwrap_or_default();
        let now = clock::now();
        self.pod_start = observed.started().into_iter().chain(self.pod_start).min();
        let mut plan_spec = PlanSpec::from_spec(&spec);
        let deadline_wake = self.check_deadline(&spec, &mut plan_spec, now);
        self.sync_probes(rt, &observed, &spec);
        plan_spec.unstarted = self
            .prober
            .started()
            .into_iter()
            .filter_map(|(name, started)| (!started).then_some(name))
            .collect();
        plan_spec.kill_requested = self.requests.kill;
        plan_spec.restart_requested = self.requests.restarts.iter().cloned().collect();
        plan_spec.precreate = overlap::enabled();
        plan_spec.precreated = self.precreated_in(&observed);
        self.read_termination_messages(rt, &observed, &spec).await;
        let cfg = self.settings.backoff;
        let backoff = &self.backoff;
        let p = plan(
            &plan_spec,
            &observed,
            &|name, fin| backoff.until(&cfg, name, fin, now),
            now,
        );
        self.forget_done_requests(&p, &plan_spec);
        self.announce_backoffs(&p, &plan_spec, &desired.name);
        self.last_plan = p.clone();
        self.publish(&observed);
        let wake = [p.wake_at, deadline_wake].into_iter().flatten().min();
        if p.steps.is_empty() {
            return Ok(Next::Wait(self.next_wake(wake)));
        }
        let mut progress = false;
        self.ahead = overlap::ahead(&p);
        for step in p.steps.clone() {
            progress |= self.execute(rt, step, &observed).await?;
        }
        if progress {
            Ok(Next::Again)
        } else {
            let observed =
                observe_pod(&**rt, &self.settings.node, &self.uid, &mut self.cache).await?;
            self.last_observed = observed.clone();
            self.publish(&observed);
            Ok(Next::Wait(self.next_wake(wake)))
        }
    }

    /// activeDeadlineSeconds: marks the plan when it has passed; otherwise, when it will.
    fn check_deadline(
        &mut self,
        spec: &k8s_openapi::api::core::v1::PodSpec,
        plan_spec: &mut PlanSpec,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let ads = spec.active_deadline_seconds.filter(|s| *s > 0)?;
        let start = self.pod_start.unwrap_or(self.first_seen);
        let end = start + Duration::from_secs(ads as u64);
        if now < end {
            return Some(end);
        }
        plan_spec.deadline_exceeded = true;
        if !self.termination.deadline_recorded {
            self.termination.deadline_recorded = true;
            self.event(
                EventType::Normal,
                "DeadlineExceeded",
                "",
                DEADLINE_MESSAGE.into(),
            );
        }
        None
    }

    /// Requests the plan has nothing left to do for are done: a kill with nothing running, a restart of a
    /// container that is not (or no longer) in the spec or that the plan will not touch.
    fn forget_done_requests(&mut self, p: &Plan, spec: &PlanSpec) {
        if !p.steps.iter().any(|s| matches!(s, Step::Kill { .. })) {
            self.requests.kill = false;
        }
        let restartable: Vec<&String> = spec
            .app
            .iter()
            .chain(
                spec.init
                    .iter()
                    .filter(|(_, sidecar)| *sidecar)
                    .map(|(n, _)| n),
            )
            .collect();
        if p.terminal.is_some() {
            // The pod has ended and its sandbox is gone: nothing to restart in.
            self.requests.restarts.clear();
        }
        self.requests
            .restarts
            .retain(|name| restartable.contains(&name));
    }

    /// A `BackOff` event for each new crash-loop back-off of the plan.
    fn announce_backoffs(&mut self, p: &Plan, spec: &PlanSpec, pod: &str) {
        for (name, until) in p.backoff.clone() {
            if self.memo.backoff_recorded.get(&name) != Some(&until) {
                self.memo.backoff_recorded.insert(name.clone(), until);
                let init = spec.init.iter().any(|(n, _)| *n == name);
                self.event(
                    EventType::Warning,
                    "BackOff",
                    &container_object(&name, init),
                    format!("Back-off restarting failed container {name} in pod {pod}"),
                );
            }
        }
    }

    /// The plan's wake time, or the end of an image pull back-off, whichever is first.
    fn next_wake(&self, plan_wake: Option<Timestamp>) -> Option<Timestamp> {
        let pulls = self.pulls.next_wake(&self.settings.backoff, clock::now());
        plan_wake.into_iter().chain(pulls).min()
    }

    /// Executes one step; returns whether it changed anything in the engine.
    async fn execute(
        &mut self,
        rt: &Runtime,
        step: Step,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        match step {
            Step::Remove { ids } => {
                for id in &ids {
                    rt.remove(id).await?;
                    self.cache.invalidate(id);
                }
                Ok(true)
            }
            Step::Kill { ids } => {
                for id in &ids {
                    rt.kill(id, "SIGKILL").await?;
                    self.cache.invalidate(id);
                }
                self.requests.kill = false;
                Ok(true)
            }
            Step::Stop { ids, reason } => self.stop(rt, ids, reason, observed).await,
            Step::CreateSandbox { attempt } => self.create_sandbox(rt, attempt).await,
            // Carried out with the sandbox it overlaps with (`self.ahead`).
            Step::Precreate { .. } => Ok(false),
            Step::Start {
                name,
                role,
                restart_count,
                previous_finished,
            } => {
                let started = self
                    .start_container(rt, &name, role, restart_count, previous_finished, observed)
                    .await?;
                if started {
                    self.requests.restarts.remove(&name);
                }
                Ok(started)
            }
        }
    }

    fn publish(&mut self, observed: &ObservedPod) {
        let view = Arc::new(self.view(observed));
        if self.last_view.as_deref() != Some(&*view) {
            self.last_view = Some(view.clone());
            let _ = self.report.send(WorkerReport::Status(view));
        }
    }

    fn view(&mut self, observed: &ObservedPod) -> PodView {
        let backoff = &self.backoff;
        let delay = |n: &str| backoff.delay(n);
        let host_ip = self
            .runtime
            .borrow()
            .as_ref()
            .and_then(|r| r.info().host_ip.clone());
        let orphan_source = self
            .orphan
            .as_ref()
            .map(|o| o.source.clone())
            .unwrap_or_default();
        let (name, namespace) = (self.name(), self.namespace());
        let grace = self.grace();
        let readiness = self.prober.readiness();
        let started = self.prober.started();
        pod_view::build(pod_view::PodViewInput {
            uid: &self.uid,
            name: &name,
            namespace: &namespace,
            desired: self.desired.as_deref(),
            orphan_source,
            observed,
            plan: &self.last_plan,
            waiting: &self.memo.waiting,
            backoff_delay: &delay,
            terminating: self.termination.deadline.map(|t| (t, grace)),
            host_ip,
            start_time: self.pod_start,
            seen: Some(self.first_seen),
            pulls: self.pulls.progress.values().cloned().collect(),
            pull_retry: self.pulls.retries(&self.settings.backoff, clock::now()),
            events: self.events.all().to_vec(),
            transitions: Some(&mut self.memo.transitions),
            readiness: Some(&readiness),
            started: Some(&started),
            messages: &self.memo.messages,
            probes: self.prober.views(),
            reason: self
                .termination
                .deadline_recorded
                .then(|| ("DeadlineExceeded".to_string(), DEADLINE_MESSAGE.to_string())),
        })
    }
}

/// When to look again for `next` (never later than the resync).
fn wake_time(next: Next) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    match next {
        Next::Again => now,
        Next::Wait(Some(t)) => {
            let d = t.duration_since(clock::now()).max(SignedDuration::ZERO);
            let d = Duration::try_from(d).unwrap_or_default() + Duration::from_millis(5);
            (now + d).min(now + RESYNC)
        }
        Next::Wait(None) | Next::Done => now + RESYNC,
    }
}
