//! One worker per pod: a task that reads Docker afresh, plans, acts, publishes the pod's status and sleeps until
//! Docker reports a change, a back-off ends, or the engine sends a message. Pods never wait on each other.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Container, PodSpec};
use tokio::sync::{mpsc, watch};

use super::backoff::{Backoff, BackoffConfig};
use super::events::{EventLog, EventType, PodEvent, container_object};
use super::plan::{Action, Plan, PlanSpec, StopReason, plan};
use super::pod_view;
use super::probe::{self, ProbeKind, Target};
use super::prober::{ProbeOutcome, Prober, Verdict};
use super::security;
use super::snapshot::{PodView, PullProgress};
use super::spec::{
    self, ContainerContext, NodeContext, PodVolume, RuntimeFacts, SubPathSource, VolumeKind,
};
use super::status::Waiting;
use super::termination_log::TerminationFiles;
use crate::manifest::DesiredPod;
use crate::runtime::docker::{DockerRuntime, RtResult, RuntimeError};
use crate::runtime::labels;
use crate::runtime::observe::{InspectCache, Instance, ObservedPod, Role, observe_pod};
use crate::runtime::pause::ensure_pause_image;
use crate::runtime::subpath::{Pin, SubpathPins};

/// Minimum grace period, as the kubelet's.
pub const MIN_GRACE: Duration = Duration::from_secs(2);
/// The kubelet's message for activeDeadlineSeconds.
pub const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";

/// How often a worker looks at Docker even when nothing woke it.
pub const RESYNC: Duration = Duration::from_secs(30);

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
    /// How network probes reach pods; `None` decides per connection (see [`probe::probe_via`]).
    pub probe_via: Option<probe::ProbeVia>,
    /// Where subPaths are pinned for a safe bind (`<state dir>/subpaths`; see `runtime::subpath`).
    pub subpath_dir: Option<std::path::PathBuf>,
}

/// Messages to a worker.
#[derive(Debug)]
pub enum WorkerMsg {
    /// Docker reported a change to one of the pod's containers.
    Changed(String),
    /// Look again (resync, reconnect).
    Wake,
    /// Terminate the pod; `None` ⇒ its own grace period.
    Terminate(Option<Duration>),
    /// A user's request about this pod (kill it, restart one of its containers).
    Request(super::Request),
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
    /// The pod is gone from Docker; the worker ended.
    Gone {
        /// UID.
        uid: String,
    },
}

/// Identity of a pod that is only in Docker (no manifest asks for it any more).
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

enum Step {
    Again,
    Wait(Option<Timestamp>),
    Done,
}

/// The per-pod task.
pub struct PodWorker {
    uid: String,
    desired: Option<Arc<DesiredPod>>,
    orphan: Option<OrphanIdentity>,
    settings: Arc<WorkerSettings>,
    runtime: watch::Receiver<Option<DockerRuntime>>,
    inbox: mpsc::UnboundedReceiver<WorkerMsg>,
    report: mpsc::UnboundedSender<WorkerReport>,
    cache: InspectCache,
    backoff: Backoff,
    pull_backoff: Backoff,
    pull_failed_at: HashMap<String, Timestamp>,
    waiting: HashMap<String, Waiting>,
    events: EventLog,
    terminating: Option<Timestamp>,
    pulls: BTreeMap<String, PullProgress>,
    backoff_recorded: HashMap<String, Timestamp>,
    killing_recorded: bool,
    errors: u32,
    last_view: Option<Arc<PodView>>,
    last_observed: ObservedPod,
    last_plan: Plan,
    mountpoints: HashMap<String, String>,
    transitions: HashMap<String, (String, Timestamp)>,
    deferred: Vec<WorkerMsg>,
    prober: Prober,
    messages: HashMap<String, String>,
    deadline_recorded: bool,
    pre_stop_done: bool,
    first_seen: Timestamp,
    /// The earliest creation time of any instance of this pod seen so far: the pod's start time (AGE, the
    /// activeDeadlineSeconds clock), which must not move when old instances are garbage-collected.
    pod_start: Option<Timestamp>,
}

impl PodWorker {
    /// A worker for a desired pod, or (with `desired: None`) for an orphan that is to be removed.
    pub fn new(
        uid: String,
        desired: Option<Arc<DesiredPod>>,
        orphan: Option<OrphanIdentity>,
        settings: Arc<WorkerSettings>,
        runtime: watch::Receiver<Option<DockerRuntime>>,
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
            pull_backoff: Backoff::default(),
            pull_failed_at: HashMap::new(),
            waiting: HashMap::new(),
            events: EventLog::default(),
            terminating: None,
            pulls: BTreeMap::new(),
            backoff_recorded: HashMap::new(),
            killing_recorded: false,
            errors: 0,
            last_view: None,
            last_observed: ObservedPod::default(),
            last_plan: Plan::default(),
            mountpoints: HashMap::new(),
            transitions: HashMap::new(),
            deferred: Vec::new(),
            prober: Prober::new(self_tx.downgrade()),
            messages: HashMap::new(),
            deadline_recorded: false,
            pre_stop_done: false,
            first_seen: Timestamp::now(),
            pod_start: None,
        }
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

    fn event(&mut self, kind: EventType, reason: &str, object: &str, message: String) {
        let e = self
            .events
            .record(kind, reason, object, message, Timestamp::now());
        match kind {
            EventType::Warning => tracing::warn!(pod = %self.key(), reason, "{}", e.message),
            EventType::Normal => tracing::info!(pod = %self.key(), reason, "{}", e.message),
        }
        let _ = self.report.send(WorkerReport::Event {
            pod: self.key(),
            event: e,
        });
    }

    /// Runs until the pod is gone.
    pub async fn run(mut self) {
        if self.desired.is_none() {
            self.terminating = Some(Timestamp::now() + self.grace());
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
            match self.reconcile(&rt).await {
                Ok(Step::Done) => {
                    let _ = self.report.send(WorkerReport::Gone {
                        uid: self.uid.clone(),
                    });
                    return;
                }
                Ok(Step::Again) => {
                    self.errors = 0;
                    wake_at = Some(tokio::time::Instant::now());
                }
                Ok(Step::Wait(at)) => {
                    self.errors = 0;
                    let resync = tokio::time::Instant::now() + RESYNC;
                    wake_at = Some(match at {
                        Some(t) => {
                            let d = t.duration_since(Timestamp::now()).max(SignedDuration::ZERO);
                            let d = Duration::try_from(d).unwrap_or_default()
                                + Duration::from_millis(5);
                            (tokio::time::Instant::now() + d).min(resync)
                        }
                        None => resync,
                    });
                }
                Err(e) => {
                    self.errors += 1;
                    let delay = Duration::from_millis(500 * 2u64.pow(self.errors.min(6)));
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
        if self.terminating.is_none() {
            let grace = grace.unwrap_or_else(|| self.grace()).max(MIN_GRACE);
            self.terminating = Some(Timestamp::now() + grace);
        }
    }

    async fn handle(&mut self, msg: WorkerMsg) {
        match msg {
            WorkerMsg::Changed(id) => self.cache.invalidate(&id),
            WorkerMsg::Wake => {}
            WorkerMsg::Terminate(grace) => self.begin_termination(grace),
            WorkerMsg::Request(super::Request::KillPod { .. }) => {
                if self.terminating.is_some() {
                    return;
                }
                let rt = self.runtime.borrow().clone();
                if let Some(rt) = rt {
                    let ids: Vec<String> = self
                        .last_observed
                        .all()
                        .filter(|i| i.state.is_running())
                        .map(|i| i.id.clone())
                        .collect();
                    self.event(
                        EventType::Warning,
                        "Killing",
                        "",
                        format!(
                            "killing {} container(s) of the pod on request (SIGKILL)",
                            ids.len()
                        ),
                    );
                    for id in ids {
                        if let Err(e) = rt.kill(&id, "SIGKILL").await {
                            self.event(
                                EventType::Warning,
                                "Failed",
                                "",
                                format!("kill {}: {e}", crate::runtime::docker::short(&id)),
                            );
                        }
                        self.cache.invalidate(&id);
                    }
                }
            }
            WorkerMsg::Probe(o) => {
                if self.terminating.is_some() {
                    return;
                }
                let rt = self.runtime.borrow().clone();
                let Some(rt) = rt else { return };
                let (events, verdict) = self.prober.on_outcome(&rt, o);
                for (kind, reason, name, msg) in events {
                    let obj = self.object_of(&name);
                    self.event(kind, reason, &obj, msg);
                }
                if let Verdict::Kill {
                    id,
                    name,
                    kind,
                    grace,
                } = verdict
                {
                    self.kill_for_probe(&rt, &id, &name, kind, grace).await;
                }
                let obs = self.last_observed.clone();
                self.publish(&obs);
            }
            WorkerMsg::Request(super::Request::RestartContainer {
                container: name, ..
            }) => {
                if self.terminating.is_some() {
                    return;
                }
                let rt = self.runtime.borrow().clone();
                let Some(rt) = rt else { return };
                let last = self
                    .last_observed
                    .instances(&name)
                    .first()
                    .map(|i| (*i).clone());
                if let Some(inst) = last {
                    let object = container_object(&name, inst.role == Role::Init);
                    self.event(
                        EventType::Normal,
                        "Killing",
                        &object,
                        format!("Stopping container {name} to restart it on request"),
                    );
                    if inst.state.is_running() {
                        let left = self.pre_stop(&rt, &inst, self.grace()).await;
                        let _ = rt.stop(&inst.id, left).await;
                        self.prober.stop(&inst.id);
                    }
                    self.cache.invalidate(&inst.id);
                    self.backoff.reset(&name);
                    let action = Action::Start {
                        name: name.clone(),
                        role: inst.role,
                        restart_count: inst.count + 1,
                        previous_finished: None,
                    };
                    if let Ok(obs) =
                        observe_pod(&rt, &self.settings.node, &self.uid, &mut self.cache).await
                        && let Err(e) = self.execute(&rt, action, &obs).await
                    {
                        self.event(
                            EventType::Warning,
                            "Failed",
                            &object,
                            format!("restart: {e}"),
                        );
                    }
                }
            }
            // Manifest writes are the engine's; they never reach a worker.
            WorkerMsg::Request(_) => {}
        }
    }

    async fn reconcile(&mut self, rt: &DockerRuntime) -> RtResult<Step> {
        let observed = observe_pod(rt, &self.settings.node, &self.uid, &mut self.cache).await?;
        self.last_observed = observed.clone();
        if let Some(deadline) = self.terminating {
            return self.terminate(rt, observed, deadline).await;
        }
        let Some(desired) = self.desired.clone() else {
            return Ok(Step::Done);
        };
        let spec = desired.pod.spec.clone().unwrap_or_default();
        let mut plan_spec = PlanSpec::from_spec(&spec);
        let now = Timestamp::now();
        let mut deadline_wake = None;
        self.pod_start = observed
            .all()
            .filter_map(|i| i.created)
            .chain(self.pod_start)
            .min();
        if let Some(ads) = spec.active_deadline_seconds.filter(|s| *s > 0) {
            let start = self.pod_start.unwrap_or(self.first_seen);
            let end = start + Duration::from_secs(ads as u64);
            if now >= end {
                plan_spec.deadline_exceeded = true;
                if !self.deadline_recorded {
                    self.deadline_recorded = true;
                    self.event(
                        EventType::Normal,
                        "DeadlineExceeded",
                        "",
                        DEADLINE_MESSAGE.into(),
                    );
                }
            } else {
                deadline_wake = Some(end);
            }
        }
        self.sync_probes(rt, &observed, &spec);
        plan_spec.unstarted = self
            .prober
            .started()
            .into_iter()
            .filter_map(|(name, started)| (!started).then_some(name))
            .collect();
        self.read_termination_messages(rt, &observed, &spec).await;
        let cfg = self.settings.backoff;
        let backoff = &self.backoff;
        let p = plan(
            &plan_spec,
            &observed,
            &|name, fin| backoff.until(&cfg, name, fin, now),
            now,
        );
        for (name, until) in p.backoff.clone() {
            if self.backoff_recorded.get(&name) != Some(&until) {
                self.backoff_recorded.insert(name.clone(), until);
                let init = plan_spec.init.iter().any(|(n, _)| *n == name);
                self.event(
                    EventType::Warning,
                    "BackOff",
                    &container_object(&name, init),
                    format!(
                        "Back-off restarting failed container {name} in pod {}",
                        desired.name
                    ),
                );
            }
        }
        self.last_plan = p.clone();
        self.publish(&observed);
        let wake = [p.wake_at, deadline_wake].into_iter().flatten().min();
        if p.actions.is_empty() {
            return Ok(Step::Wait(self.next_wake(wake)));
        }
        let mut progress = false;
        for action in p.actions.clone() {
            progress |= self.execute(rt, action, &observed).await?;
        }
        if progress {
            Ok(Step::Again)
        } else {
            let observed = observe_pod(rt, &self.settings.node, &self.uid, &mut self.cache).await?;
            self.last_observed = observed.clone();
            self.publish(&observed);
            Ok(Step::Wait(self.next_wake(wake)))
        }
    }

    /// The plan's wake time, or the end of an image pull back-off, whichever is first.
    fn next_wake(&self, plan_wake: Option<Timestamp>) -> Option<Timestamp> {
        let cfg = self.settings.backoff;
        let now = Timestamp::now();
        let pulls = self
            .pull_failed_at
            .iter()
            .filter_map(|(img, at)| self.pull_backoff.until(&cfg, img, *at, now));
        plan_wake.into_iter().chain(pulls).min()
    }

    /// Executes one action; returns whether it changed anything in Docker.
    async fn execute(
        &mut self,
        rt: &DockerRuntime,
        action: Action,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        match action {
            Action::Remove { ids } => {
                for id in &ids {
                    rt.remove(id).await?;
                    self.cache.invalidate(id);
                }
                Ok(true)
            }
            Action::Stop { ids, reason } => {
                match reason {
                    StopReason::SandboxDied => self.event(
                        EventType::Normal,
                        "SandboxChanged",
                        "",
                        "Pod sandbox changed, it will be killed and re-created.".into(),
                    ),
                    StopReason::PodCompleted => {}
                    StopReason::DeadlineExceeded => {
                        return self.stop_for_deadline(rt, observed).await;
                    }
                    StopReason::SandboxChanged => self.event(
                        EventType::Normal,
                        "Killing",
                        "",
                        "Stopping containers left in an old sandbox".into(),
                    ),
                }
                let grace = if reason == StopReason::PodCompleted {
                    MIN_GRACE
                } else {
                    self.grace()
                };
                let results = join_all(ids.iter().map(|id| rt.stop(id, grace))).await;
                for (id, r) in ids.iter().zip(results) {
                    self.cache.invalidate(id);
                    r?;
                }
                Ok(true)
            }
            Action::CreateSandbox { attempt } => self.create_sandbox(rt, attempt).await,
            Action::Start {
                name,
                role,
                restart_count,
                previous_finished,
            } => {
                self.start_container(rt, &name, role, restart_count, previous_finished, observed)
                    .await
            }
        }
    }

    fn desired(&self) -> RtResult<Arc<DesiredPod>> {
        self.desired.clone().ok_or_else(|| RuntimeError::Docker {
            op: "plan".into(),
            message: "no manifest for this pod".into(),
            status: None,
        })
    }

    async fn create_sandbox(&mut self, rt: &DockerRuntime, attempt: u32) -> RtResult<bool> {
        let desired = self.desired()?;
        let pause = self.settings.pause.clone();
        let (image, own) = match &pause {
            PauseImage::Own => (ensure_pause_image(rt).await?, true),
            PauseImage::Custom(img) => {
                if let Err(w) = self.ensure_image(rt, img, "IfNotPresent", "").await {
                    self.event(
                        EventType::Warning,
                        "FailedCreatePodSandBox",
                        "",
                        format!("{}: {}", w.reason, w.message),
                    );
                    return Ok(false);
                }
                (img.clone(), false)
            }
        };
        let volumes = spec::pod_volumes(&desired);
        if let Err(msg) = self.prepare_volumes(rt, &desired, &volumes).await? {
            self.event(EventType::Warning, "FailedMount", "", msg);
            return Ok(false);
        }
        let ctx = self.node_context(rt);
        let (name, body) = spec::sandbox_body(&desired, &ctx, &image, attempt, &volumes, own);
        let id = self.create_named(rt, &name, body).await.inspect_err(|e| {
            tracing::warn!("create sandbox: {e}");
        });
        let id = match id {
            Ok(id) => id,
            Err(e) if !e.is_connection() => {
                self.event(
                    EventType::Warning,
                    "FailedCreatePodSandBox",
                    "",
                    format!("Failed to create pod sandbox: {e}"),
                );
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        for v in &volumes {
            if let VolumeKind::DownwardApi { files, .. } = &v.kind {
                let tar = downward_tar(files).map_err(|e| RuntimeError::Docker {
                    op: "build downwardAPI files".into(),
                    message: e.to_string(),
                    status: None,
                })?;
                rt.upload(&id, &v.sandbox_path(), tar).await?;
            }
        }
        if let Err(e) = rt.start(&id, &name).await {
            self.event(
                EventType::Warning,
                "FailedCreatePodSandBox",
                "",
                format!("Failed to start pod sandbox: {e}"),
            );
            let _ = rt.remove(&id).await;
            return Err(e);
        }
        if !own {
            self.prepare_dirs_with_helper(rt, &desired, &volumes)
                .await?;
        }
        self.event(
            EventType::Normal,
            "SandboxCreated",
            "",
            format!("Created and started pod sandbox {name} (image {image})"),
        );
        Ok(true)
    }

    /// With a custom pause image, podtui's own pause program prepares the emptyDir directories in a one-shot
    /// container (`--prepare-only`).
    async fn prepare_dirs_with_helper(
        &mut self,
        rt: &DockerRuntime,
        desired: &DesiredPod,
        volumes: &[PodVolume],
    ) -> RtResult<()> {
        let dirs = spec::prepare_dirs(desired, volumes);
        if dirs.is_empty() {
            return Ok(());
        }
        let image = ensure_pause_image(rt).await?;
        let ctx = self.node_context(rt);
        let (_, mut body) = spec::sandbox_body(desired, &ctx, &image, 0, volumes, true);
        if let Some(cmd) = body.cmd.as_mut() {
            cmd.push("--prepare-only".into());
        }
        body.exposed_ports = None;
        body.hostname = None;
        if let Some(hc) = body.host_config.as_mut() {
            hc.port_bindings = None;
            hc.network_mode = Some("none".into());
            hc.ipc_mode = None;
            hc.dns = None;
            hc.dns_search = None;
            hc.dns_options = None;
            hc.extra_hosts = None;
        }
        if let Some(l) = body.labels.as_mut() {
            l.remove(labels::POD_UID);
        }
        let name = format!("podtui_prepare_{}", self.uid);
        let _ = rt.remove(&name).await;
        let id = rt.create(&name, body).await?;
        rt.start(&id, &name).await?;
        let _ = rt
            .client()
            .wait_container(&id, None::<bollard::query_parameters::WaitContainerOptions>)
            .next()
            .await;
        rt.remove(&id).await
    }

    fn node_context(&self, rt: &DockerRuntime) -> NodeContext {
        NodeContext {
            node: self.settings.node.clone(),
            host_port_address: self.settings.host_port_address,
            engine: rt.info().clone(),
        }
    }

    /// Creates Docker volumes and checks host paths. `Ok(Err(msg))`: a mount problem the user must fix.
    async fn prepare_volumes(
        &mut self,
        rt: &DockerRuntime,
        desired: &DesiredPod,
        volumes: &[PodVolume],
    ) -> RtResult<Result<(), String>> {
        for v in volumes {
            match &v.kind {
                VolumeKind::HostPath { path, type_ } => {
                    if let Err(msg) = check_host_path(path, type_) {
                        return Ok(Err(format!(
                            "MountVolume.SetUp failed for volume {:?}: {msg}",
                            v.name
                        )));
                    }
                }
                VolumeKind::EmptyDir {
                    docker_volume,
                    memory,
                    size,
                } => {
                    let mut opts = HashMap::new();
                    if *memory {
                        opts.insert("type".to_string(), "tmpfs".to_string());
                        opts.insert("device".to_string(), "tmpfs".to_string());
                        let mut o = vec!["mode=0777".to_string()];
                        if let Some(s) = size {
                            o.push(format!("size={s}"));
                        }
                        opts.insert("o".to_string(), o.join(","));
                    }
                    rt.create_volume(docker_volume, self.volume_labels(desired, &v.name), opts)
                        .await?;
                }
                VolumeKind::DownwardApi { docker_volume, .. } => {
                    rt.create_volume(
                        docker_volume,
                        self.volume_labels(desired, &v.name),
                        HashMap::new(),
                    )
                    .await?;
                }
            }
        }
        Ok(Ok(()))
    }

    fn volume_labels(&self, desired: &DesiredPod, volume: &str) -> HashMap<String, String> {
        let mut l = labels::pod_labels(
            &self.settings.node,
            &desired.source,
            &desired.name,
            &desired.namespace,
            &desired.uid,
        );
        l.insert(labels::VOLUME_NAME.into(), volume.into());
        l
    }

    /// Creates a container, replacing a leftover of the same name (a crash between create and start).
    async fn create_named(
        &mut self,
        rt: &DockerRuntime,
        name: &str,
        body: bollard::models::ContainerCreateBody,
    ) -> RtResult<String> {
        match rt.create(name, body.clone()).await {
            Err(e) if e.is_conflict() => {
                rt.remove(name).await?;
                rt.create(name, body).await
            }
            other => other,
        }
    }

    async fn start_container(
        &mut self,
        rt: &DockerRuntime,
        name: &str,
        role: Role,
        restart_count: u32,
        previous_finished: Option<Timestamp>,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let desired = self.desired()?;
        let spec: PodSpec = desired.pod.spec.clone().unwrap_or_default();
        let init = role == Role::Init;
        let list = if init {
            spec.init_containers.clone().unwrap_or_default()
        } else {
            spec.containers.clone()
        };
        let Some(c) = list.into_iter().find(|c| c.name == name) else {
            return Ok(false);
        };
        let object = container_object(name, init);
        let image = c.image.clone().unwrap_or_default();
        let policy = c
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| "IfNotPresent".into());
        if let Err(w) = self.ensure_image(rt, &image, &policy, &object).await {
            self.waiting.insert(name.to_string(), w);
            self.publish(observed);
            return Ok(false);
        }
        let Some(sandbox) = observed
            .latest_sandbox()
            .filter(|s| s.state.is_running())
            .cloned()
        else {
            return Ok(false);
        };
        let sec = security::effective(&spec, &c);
        // The image's user matters only for runAsNonRoot and for a group without a user: ask Docker only then.
        let image_user = if sec.non_root || (sec.group.is_some() && sec.user.is_none()) {
            rt.image_user(&image).await.unwrap_or_default()
        } else {
            String::new()
        };
        if let Some(msg) = security::non_root_violation(&sec, &image_user, &desired.name, name) {
            self.config_error(name, &object, spec::ConfigError(msg));
            return Ok(false);
        }
        let termination_file = self.termination_file(rt, name, restart_count, sec.user);
        let volumes = spec::pod_volumes(&desired);
        let facts = RuntimeFacts {
            pod_ip: if spec.host_network == Some(true) {
                rt.info().host_ip.clone()
            } else {
                sandbox.ip.clone()
            },
            host_ip: rt.info().host_ip.clone(),
        };
        let ctx = self.node_context(rt);
        let env = spec::container_env(&desired, &c, &ctx, &facts);
        // The pins must outlive the container's start: Docker mounts the pinned paths then.
        let prepared = match spec::sub_path_mounts(&c, &env, &volumes) {
            Ok(subs) => self.pin_sub_paths(rt, &subs).await?,
            Err(e) => Err(e),
        };
        let (sub_paths, pins) = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.config_error(name, &object, e);
                return Ok(false);
            }
        };
        let cc = ContainerContext {
            sandbox_id: &sandbox.id,
            host_network: spec.host_network == Some(true),
            facts: &facts,
            sub_paths: &sub_paths,
            image_user: &image_user,
            termination_file: termination_file.as_deref(),
        };
        let (docker_name, body) =
            match spec::container_body(&desired, &c, role, restart_count, &ctx, &cc, &volumes) {
                Ok(x) => x,
                Err(e) => {
                    self.config_error(name, &object, e);
                    return Ok(false);
                }
            };
        let id = match self.create_named(rt, &docker_name, body).await {
            Ok(id) => id,
            Err(e) if e.is_connection() => return Err(e),
            Err(e) => {
                self.event(
                    EventType::Warning,
                    "Failed",
                    &object,
                    format!("Error: {}", e.message()),
                );
                self.waiting.insert(
                    name.to_string(),
                    Waiting {
                        reason: "CreateContainerError".into(),
                        message: e.message(),
                    },
                );
                return Ok(false);
            }
        };
        self.waiting.remove(name);
        if let Some(fin) = previous_finished {
            self.backoff
                .next(&self.settings.backoff, name, fin, Timestamp::now());
        }
        self.event(
            EventType::Normal,
            "Created",
            &object,
            format!("Created container {name}"),
        );
        match rt.start(&id, &docker_name).await {
            Ok(()) => {
                self.event(
                    EventType::Normal,
                    "Started",
                    &object,
                    format!("Started container {name}"),
                );
                self.post_start(rt, &c, &id, &sandbox, &object).await;
            }
            Err(e) if e.is_connection() => return Err(e),
            Err(e) => self.event(
                EventType::Warning,
                "Failed",
                &object,
                format!("Error: failed to start container {name:?}: {}", e.message()),
            ),
        }
        drop(pins);
        self.cache.invalidate(&id);
        Ok(true)
    }

    /// The container cannot be configured: a `Failed` event and the waiting reason `CreateContainerConfigError`.
    fn config_error(&mut self, name: &str, object: &str, e: spec::ConfigError) {
        self.event(EventType::Warning, "Failed", object, format!("Error: {e}"));
        self.waiting.insert(
            name.to_string(),
            Waiting {
                reason: "CreateContainerConfigError".into(),
                message: e.0,
            },
        );
    }

    /// Makes each subPath mount safe to give Docker (see `runtime::subpath`): resolved beneath its volume and
    /// pinned when podtui runs as root on the Docker host; else a volume mount with Docker's own subpath (Engine
    /// API 1.45+, which resolves it safely itself); else refused. A path that leaves its volume is refused.
    async fn pin_sub_paths(
        &mut self,
        rt: &DockerRuntime,
        subs: &[spec::SubPathMount],
    ) -> RtResult<Result<(HashMap<usize, SubPathSource>, Vec<Pin>), spec::ConfigError>> {
        let mut sources = HashMap::new();
        let mut pins = Vec::new();
        let local = probe::is_docker_host(rt.info().host_ip.as_deref());
        for s in subs {
            let at = format!("volumeMounts[{}] (volume {:?})", s.index, s.volume.name);
            let (root, mkdir_mode) = match &s.volume.kind {
                VolumeKind::HostPath { path, .. } => {
                    // New directories take the mode of the volume's root, as the kubelet's do.
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path)
                        .map(|m| m.permissions().mode() & 0o7777)
                        .unwrap_or(0o755);
                    (std::path::PathBuf::from(path), Some(mode))
                }
                VolumeKind::EmptyDir { docker_volume, .. } => (
                    self.mountpoint(rt, docker_volume).await?.into(),
                    Some(0o777),
                ),
                VolumeKind::DownwardApi { docker_volume, .. } => {
                    (self.mountpoint(rt, docker_volume).await?.into(), None)
                }
            };
            let mut refused = "podtui is not on the Docker host".to_string();
            if let (Some(dir), true) = (&self.settings.subpath_dir, local) {
                let pinned =
                    SubpathPins::new(dir.clone()).pin(&self.uid, &root, &s.sub_path, mkdir_mode);
                match pinned {
                    Ok(pin) => {
                        sources.insert(
                            s.index,
                            SubPathSource::Pinned(pin.path().display().to_string()),
                        );
                        pins.push(pin);
                        continue;
                    }
                    Err(e) if e.is_not_permitted() => refused = e.to_string(),
                    Err(e) => return Ok(Err(spec::ConfigError(format!("{at}: {e}")))),
                }
            }
            if s.volume.docker_volume().is_some() && api_at_least(&rt.info().api_version, 1, 45) {
                sources.insert(s.index, SubPathSource::EngineSubpath(s.sub_path.clone()));
                continue;
            }
            return Ok(Err(spec::ConfigError(format!(
                "{at}: cannot mount subPath {:?} safely ({refused}): podtui must run as root on the Docker \
                 host to pin it, or (for emptyDir and downwardAPI volumes) the engine must offer Docker's own \
                 subpath mounts (Engine API 1.45+, Docker 26); refused rather than let Docker follow links out of the volume",
                s.sub_path
            ))));
        }
        Ok(Ok((sources, pins)))
    }

    /// Where a pod volume's data lives on the engine host (asked once per volume).
    async fn mountpoint(&mut self, rt: &DockerRuntime, docker_volume: &str) -> RtResult<String> {
        if let Some(mp) = self.mountpoints.get(docker_volume) {
            return Ok(mp.clone());
        }
        let mp = rt.volume_mountpoint(docker_volume).await?;
        self.mountpoints
            .insert(docker_volume.to_string(), mp.clone());
        Ok(mp)
    }

    /// Makes `image` available per the pull policy. `Err` is the container's waiting reason.
    async fn ensure_image(
        &mut self,
        rt: &DockerRuntime,
        image: &str,
        policy: &str,
        object: &str,
    ) -> Result<(), Waiting> {
        let wait = |reason: &str, message: String| Waiting {
            reason: reason.into(),
            message,
        };
        if !valid_image_reference(image) {
            let msg = format!(
                "Failed to apply default image tag {image:?}: couldn't parse image name: invalid reference format"
            );
            self.event(EventType::Warning, "InspectFailed", object, msg.clone());
            return Err(wait("InvalidImageName", msg));
        }
        let present = match rt.image_id(image).await {
            Ok(p) => p.is_some(),
            Err(e) => return Err(wait("ErrImagePull", e.to_string())),
        };
        let already = |w: &mut Self| {
            w.event(
                EventType::Normal,
                "Pulled",
                object,
                format!("Container image {image:?} already present on machine"),
            );
        };
        match policy {
            "Never" | "IfNotPresent" if present => {
                already(self);
                return Ok(());
            }
            "Never" => {
                let msg =
                    format!("Container image {image:?} is not present with pull policy of Never");
                self.event(EventType::Warning, "ErrImageNeverPull", object, msg.clone());
                return Err(wait("ErrImageNeverPull", msg));
            }
            _ => {}
        }
        let cfg = self.settings.backoff;
        let now = Timestamp::now();
        if let Some(at) = self.pull_failed_at.get(image)
            && self.pull_backoff.until(&cfg, image, *at, now).is_some()
        {
            if present {
                return Ok(());
            }
            let msg = format!("Back-off pulling image {image:?}");
            self.event(EventType::Normal, "BackOff", object, msg.clone());
            return Err(wait("ImagePullBackOff", msg));
        }
        self.event(
            EventType::Normal,
            "Pulling",
            object,
            format!("Pulling image {image:?}"),
        );
        let started = std::time::Instant::now();
        match self.pull(rt, image).await {
            Ok(()) => {
                self.pull_failed_at.remove(image);
                self.pull_backoff.reset(image);
                self.event(
                    EventType::Normal,
                    "Pulled",
                    object,
                    format!(
                        "Successfully pulled image {image:?} in {:.3}s",
                        started.elapsed().as_secs_f64()
                    ),
                );
                Ok(())
            }
            Err(e) => {
                self.pull_backoff.next(&cfg, image, now, now);
                self.pull_failed_at.insert(image.to_string(), now);
                if present {
                    self.event(
                        EventType::Warning,
                        "PullFailedUsingLocal",
                        object,
                        format!(
                            "Failed to pull image {image:?} ({e}); using the image present locally"
                        ),
                    );
                    Ok(())
                } else {
                    let msg = format!("Failed to pull image {image:?}: {e}");
                    self.event(EventType::Warning, "Failed", object, msg.clone());
                    self.event(
                        EventType::Warning,
                        "Failed",
                        object,
                        "Error: ErrImagePull".into(),
                    );
                    Err(wait("ErrImagePull", msg))
                }
            }
        }
    }

    async fn pull(&mut self, rt: &DockerRuntime, image: &str) -> Result<(), String> {
        let mut stream = Box::pin(rt.pull(image));
        let mut layers: HashMap<String, (u64, u64)> = HashMap::new();
        let mut last_publish = std::time::Instant::now();
        let result = loop {
            let Some(item) = stream.next().await else {
                break Ok(());
            };
            match item {
                Err(e) => break Err(e.message()),
                Ok(info) => {
                    if let Some(err) = info.error_detail.and_then(|d| d.message) {
                        break Err(err);
                    }
                    if let (Some(id), Some(detail)) = (info.id.clone(), info.progress_detail) {
                        let cur = detail.current.unwrap_or(0).max(0) as u64;
                        let tot = detail.total.unwrap_or(0).max(0) as u64;
                        let e = layers.entry(id).or_default();
                        *e = (cur.max(e.0), tot.max(e.1));
                    }
                    let (current, total) =
                        layers.values().fold((0, 0), |a, l| (a.0 + l.0, a.1 + l.1));
                    self.pulls.insert(
                        image.to_string(),
                        PullProgress {
                            image: image.to_string(),
                            current,
                            total,
                            status: info.status.unwrap_or_default(),
                        },
                    );
                    if last_publish.elapsed() > Duration::from_millis(250) {
                        last_publish = std::time::Instant::now();
                        let obs = self.last_observed.clone();
                        self.publish(&obs);
                    }
                }
            }
            // A termination request interrupts a pull; other messages wait for the worker's loop.
            while let Ok(msg) = self.inbox.try_recv() {
                match msg {
                    WorkerMsg::Terminate(g) => self.begin_termination(g),
                    other => self.deferred.push(other),
                }
            }
            if self.terminating.is_some() {
                break Err("pull abandoned: the pod is terminating".into());
            }
        };
        self.pulls.remove(image);
        result
    }

    /// A `Killing` event for each container about to be stopped.
    fn record_killing(&mut self, running: &[Instance]) {
        for c in running {
            let obj = container_object(&c.name, c.role == Role::Init);
            self.event(
                EventType::Normal,
                "Killing",
                &obj,
                format!("Stopping container {}", c.name),
            );
        }
    }

    /// Runs the preStop hooks of `running` in parallel, within the time left until `deadline`.
    async fn run_pre_stop_hooks(
        &mut self,
        rt: &DockerRuntime,
        running: &[Instance],
        observed: &ObservedPod,
        deadline: Timestamp,
    ) {
        let left =
            Duration::try_from(deadline.duration_since(Timestamp::now())).unwrap_or_default();
        let hooks: Vec<(String, probe::Handler, Target)> = running
            .iter()
            .filter_map(|inst| {
                let (c, target) = self.hook_target(rt, inst, observed)?;
                let h = c.lifecycle.as_ref()?.pre_stop.as_ref()?;
                Some((c.name.clone(), probe::hook_handler(h, &c).ok()?, target))
            })
            .collect();
        let results = join_all(hooks.iter().map(|(_, h, t)| probe::run(rt, h, t, left))).await;
        for ((name, _, _), r) in hooks.iter().zip(results) {
            if let Err(e) = r {
                let obj = self.object_of(name);
                self.event(
                    EventType::Warning,
                    "FailedPreStopHook",
                    &obj,
                    format!("PreStopHook failed: {e}"),
                );
            }
        }
    }

    /// Stops `running` with the grace left until `deadline`, then the pod's running sandboxes.
    async fn stop_with_sandboxes(
        &mut self,
        rt: &DockerRuntime,
        running: &[Instance],
        observed: &ObservedPod,
        deadline: Timestamp,
    ) -> RtResult<()> {
        // After a preStop hook the stop signal still gets at least the minimum grace, as in the kubelet.
        let left = deadline.duration_since(Timestamp::now());
        let left = Duration::try_from(left).unwrap_or_default().max(MIN_GRACE);
        let results = join_all(running.iter().map(|c| rt.stop(&c.id, left))).await;
        for r in results {
            r?;
        }
        let sandboxes: Vec<&Instance> = observed
            .sandboxes
            .iter()
            .filter(|s| s.state.is_running())
            .collect();
        let results = join_all(sandboxes.iter().map(|s| rt.stop(&s.id, MIN_GRACE))).await;
        for r in results {
            r?;
        }
        for i in running.iter().chain(sandboxes) {
            self.cache.invalidate(&i.id);
        }
        Ok(())
    }

    async fn terminate(
        &mut self,
        rt: &DockerRuntime,
        observed: ObservedPod,
        deadline: Timestamp,
    ) -> RtResult<Step> {
        self.last_plan = Plan::default();
        let running: Vec<Instance> = observed
            .containers
            .iter()
            .filter(|c| c.state.is_running())
            .cloned()
            .collect();
        if !self.killing_recorded {
            self.killing_recorded = true;
            self.record_killing(&running);
        }
        self.prober.stop_all();
        self.publish(&observed);
        if !self.pre_stop_done {
            self.pre_stop_done = true;
            self.run_pre_stop_hooks(rt, &running, &observed, deadline)
                .await;
        }
        self.stop_with_sandboxes(rt, &running, &observed, deadline)
            .await?;
        for i in observed.all() {
            rt.remove(&i.id).await?;
        }
        let mut filter = labels::node_filter(&self.settings.node);
        filter.push(format!("{}={}", labels::POD_UID, self.uid));
        for (name, _) in rt.list_volumes(&filter).await? {
            rt.remove_volume(&name).await?;
        }
        // Anything created meanwhile (a race with a Docker restart) is caught by the next look.
        let again = observe_pod(rt, &self.settings.node, &self.uid, &mut self.cache).await?;
        if again.all().next().is_some() {
            return Ok(Step::Again);
        }
        if let Some(files) = self.termination_files() {
            files.remove_pod(&self.uid);
        }
        Ok(Step::Done)
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

    fn probe_target(
        &self,
        rt: &DockerRuntime,
        container_id: &str,
        sandbox: &Instance,
        host_network: bool,
    ) -> Target {
        Target {
            container_id: container_id.to_string(),
            sandbox_id: sandbox.id.clone(),
            pod_ip: if host_network {
                rt.info().host_ip.clone()
            } else {
                sandbox.ip.clone()
            },
            host_network,
            via: self
                .settings
                .probe_via
                .unwrap_or_else(|| probe::probe_via(rt.info().host_ip.as_deref())),
        }
    }

    /// The spec and probe target of a running instance (for hooks).
    fn hook_target(
        &self,
        rt: &DockerRuntime,
        inst: &Instance,
        observed: &ObservedPod,
    ) -> Option<(Container, Target)> {
        let spec = self.desired.as_ref()?.pod.spec.clone()?;
        let c = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .find(|c| c.name == inst.name)?
            .clone();
        let sandbox = observed.latest_sandbox()?;
        let target = self.probe_target(rt, &inst.id, sandbox, spec.host_network == Some(true));
        Some((c, target))
    }

    /// Starts and stops probe tasks to match the running containers of the current sandbox.
    fn sync_probes(&mut self, rt: &DockerRuntime, observed: &ObservedPod, spec: &PodSpec) {
        let Some(sandbox) = observed
            .latest_sandbox()
            .filter(|s| s.state.is_running())
            .cloned()
        else {
            self.prober.stop_all();
            return;
        };
        let host_network = spec.host_network == Some(true);
        let mut running = Vec::new();
        let sidecars = spec
            .init_containers
            .iter()
            .flatten()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        for c in sidecars.chain(spec.containers.iter()) {
            if let Some(inst) = observed.instances(&c.name).first()
                && inst.state.is_running()
                && inst.sandbox_id.as_deref() == Some(sandbox.id.as_str())
            {
                running.push((
                    inst.id.clone(),
                    c,
                    self.probe_target(rt, &inst.id, &sandbox, host_network),
                ));
            }
        }
        let events = self.prober.sync(rt, running);
        for (kind, reason, name, msg) in events {
            let obj = self.object_of(&name);
            self.event(kind, reason, &obj, msg);
        }
    }

    /// Liveness or startup failed: kill the container (preStop first); the plan restarts it per restartPolicy.
    async fn kill_for_probe(
        &mut self,
        rt: &DockerRuntime,
        id: &str,
        name: &str,
        kind: ProbeKind,
        grace: Option<Duration>,
    ) {
        let obj = self.object_of(name);
        self.event(
            EventType::Normal,
            "Killing",
            &obj,
            format!(
                "Container {name} failed {} probe, will be restarted",
                kind.title().to_lowercase()
            ),
        );
        let grace = grace.unwrap_or_else(|| self.grace()).max(MIN_GRACE);
        let inst = self
            .last_observed
            .containers
            .iter()
            .find(|c| c.id == id)
            .cloned();
        let left = match inst {
            Some(i) => self.pre_stop(rt, &i, grace).await,
            None => grace,
        };
        if let Err(e) = rt.stop(id, left).await {
            self.event(EventType::Warning, "Failed", &obj, format!("kill: {e}"));
        }
        self.prober.stop(id);
        self.cache.invalidate(id);
    }

    /// Stops a pod past its `activeDeadlineSeconds` as a deleted pod is stopped (the kubelet kills it the same
    /// way): preStop hooks, the pod's grace period, the sandbox last. Unlike a deletion, everything stays.
    async fn stop_for_deadline(
        &mut self,
        rt: &DockerRuntime,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let deadline = Timestamp::now() + self.grace();
        let running: Vec<Instance> = observed
            .containers
            .iter()
            .filter(|c| c.state.is_running())
            .cloned()
            .collect();
        self.record_killing(&running);
        self.run_pre_stop_hooks(rt, &running, observed, deadline)
            .await;
        self.stop_with_sandboxes(rt, &running, observed, deadline)
            .await?;
        Ok(true)
    }

    /// Runs the container's preStop hook within `grace`; returns the grace left for the stop signal.
    async fn pre_stop(&mut self, rt: &DockerRuntime, inst: &Instance, grace: Duration) -> Duration {
        let observed = self.last_observed.clone();
        let Some((c, target)) = self.hook_target(rt, inst, &observed) else {
            return grace;
        };
        let Some(h) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) else {
            return grace;
        };
        let started = std::time::Instant::now();
        let result = match probe::hook_handler(h, &c) {
            Ok(handler) => probe::run(rt, &handler, &target, grace).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let obj = self.object_of(&c.name);
            self.event(
                EventType::Warning,
                "FailedPreStopHook",
                &obj,
                format!("PreStopHook failed: {e}"),
            );
        }
        grace.saturating_sub(started.elapsed()).max(MIN_GRACE)
    }

    /// Runs the postStart hook; if it fails the container is killed (`FailedPostStartHook`).
    async fn post_start(
        &mut self,
        rt: &DockerRuntime,
        c: &Container,
        id: &str,
        sandbox: &Instance,
        object: &str,
    ) {
        let Some(h) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) else {
            return;
        };
        let host_network = self
            .desired
            .as_ref()
            .and_then(|d| d.pod.spec.as_ref())
            .and_then(|s| s.host_network)
            == Some(true);
        let target = self.probe_target(rt, id, sandbox, host_network);
        let result = match probe::hook_handler(h, c) {
            Ok(handler) => probe::run(rt, &handler, &target, self.grace()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            self.event(
                EventType::Warning,
                "FailedPostStartHook",
                object,
                format!("PostStartHook failed: {e}"),
            );
            self.event(
                EventType::Normal,
                "Killing",
                object,
                "FailedPostStartHook".into(),
            );
            let _ = rt.stop(id, self.grace()).await;
        }
    }

    /// A host file for the container's termination message, bound into it (only when podtui runs on the Docker
    /// host, so the file can be read back after the container exits). See `termination_log`.
    fn termination_file(
        &self,
        rt: &DockerRuntime,
        name: &str,
        count: u32,
        user: Option<i64>,
    ) -> Option<String> {
        let files = self.termination_files()?;
        if !probe::is_docker_host(rt.info().host_ip.as_deref()) {
            return None;
        }
        let user = user.and_then(|u| u32::try_from(u).ok());
        match files.create(&self.uid, name, count, user) {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                tracing::warn!(pod = %self.key(), "cannot create the termination message file of {name}: {e}");
                None
            }
        }
    }

    fn termination_files(&self) -> Option<TerminationFiles> {
        self.settings
            .termination_dir
            .clone()
            .map(TerminationFiles::new)
    }

    /// Reads the termination message of every exited instance not read yet: the file, or with
    /// `FallbackToLogsOnError` the end of the log when the file is empty and the container failed.
    async fn read_termination_messages(
        &mut self,
        rt: &DockerRuntime,
        observed: &ObservedPod,
        spec: &PodSpec,
    ) {
        for inst in &observed.containers {
            let crate::runtime::observe::InstanceState::Exited { exit_code, .. } = inst.state
            else {
                continue;
            };
            if self.messages.contains_key(&inst.id) {
                continue;
            }
            let mut msg = self
                .termination_files()
                .map(|f| f.read(&self.uid, &inst.name, inst.count))
                .unwrap_or_default();
            let fallback = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .find(|c| c.name == inst.name)
                .and_then(|c| c.termination_message_policy.as_deref())
                == Some("FallbackToLogsOnError");
            if msg.is_empty() && fallback && exit_code != 0 {
                msg = log_tail(rt, &inst.id).await;
            }
            self.messages.insert(inst.id.clone(), msg);
        }
        self.messages
            .retain(|id, _| observed.containers.iter().any(|c| c.id == *id));
        if let Some(files) = self.termination_files() {
            let keep: Vec<(String, u32)> = observed
                .containers
                .iter()
                .map(|c| (c.name.clone(), c.count))
                .collect();
            files.retain(&self.uid, &keep);
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
            waiting: &self.waiting,
            backoff_delay: &delay,
            terminating: self.terminating.map(|t| (t, grace)),
            host_ip,
            start_time: self.pod_start,
            pulls: self.pulls.values().cloned().collect(),
            events: self.events.all().to_vec(),
            transitions: Some(&mut self.transitions),
            readiness: Some(&readiness),
            started: Some(&started),
            messages: &self.messages,
            probes: self.prober.views(),
            reason: self
                .deadline_recorded
                .then(|| ("DeadlineExceeded".to_string(), DEADLINE_MESSAGE.to_string())),
        })
    }
}

/// The last 80 lines (at most 2048 bytes) of a container's log, for `FallbackToLogsOnError`.
async fn log_tail(rt: &DockerRuntime, id: &str) -> String {
    let opts = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        tail: "80".into(),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut stream = Box::pin(rt.logs(id, opts));
    while let Some(Ok(frame)) = stream.next().await {
        out.extend_from_slice(&frame.into_bytes());
    }
    let start = out.len().saturating_sub(2048);
    String::from_utf8_lossy(&out[start..])
        .trim_end()
        .to_string()
}

/// A tar of the downwardAPI files, each with its mode (`mode`, else `defaultMode`, else 0644).
fn downward_tar(files: &BTreeMap<String, (String, u32)>) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, (content, mode)) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(Timestamp::now().as_second().max(0) as u64);
        h.set_cksum();
        b.append_data(&mut h, path, content.as_bytes())?;
    }
    b.into_inner()
}

/// Checks (and for the *OrCreate types, creates) a hostPath, as the kubelet does.
pub fn check_host_path(path: &str, type_: &str) -> Result<(), String> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(path);
    match type_ {
        "" => Ok(()),
        "DirectoryOrCreate" => match meta {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(format!(
                "hostPath type check failed: {path} is not a directory"
            )),
            Err(_) => {
                std::fs::create_dir_all(path).map_err(|e| format!("cannot create {path}: {e}"))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| e.to_string())
            }
        },
        "FileOrCreate" => match meta {
            Ok(m) if m.is_file() => Ok(()),
            Ok(_) => Err(format!("hostPath type check failed: {path} is not a file")),
            Err(_) => {
                if let Some(parent) = std::path::Path::new(path).parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                std::fs::write(path, b"").map_err(|e| format!("cannot create {path}: {e}"))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
                    .map_err(|e| e.to_string())
            }
        },
        kind => {
            let m = meta.map_err(|_| {
                format!("hostPath type check failed: {path} does not exist (type {kind})")
            })?;
            let ft = m.file_type();
            let ok = match kind {
                "Directory" => ft.is_dir(),
                "File" => ft.is_file(),
                "Socket" => ft.is_socket(),
                "CharDevice" => ft.is_char_device(),
                "BlockDevice" => ft.is_block_device(),
                _ => true,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "hostPath type check failed: {path} is not a {kind}"
                ))
            }
        }
    }
}

/// Whether the negotiated API version `version` (`1.41`) is at least `major.minor`.
fn api_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let v = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    v >= (major, minor)
}

/// A coarse check of Docker's reference grammar: no uppercase in the repository, no empty parts.
pub fn valid_image_reference(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or_default();
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    let repo = match name[last_slash..].rfind(':') {
        Some(i) => &name[..last_slash + i],
        None => name,
    };
    let path = match repo.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => repo,
    };
    !path.is_empty()
        && path.split('/').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_reference_check() {
        assert!(valid_image_reference("busybox"));
        assert!(valid_image_reference("localhost/podtui-test/busybox:1"));
        assert!(valid_image_reference("registry.k8s.io/pause:3.10"));
        assert!(valid_image_reference("localhost:5000/a/b@sha256:abc"));
        assert!(!valid_image_reference("BusyBox"));
        assert!(!valid_image_reference("a//b"));
    }

    #[test]
    fn host_path_types() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("new/dir");
        assert!(check_host_path(d.to_str().unwrap(), "Directory").is_err());
        check_host_path(d.to_str().unwrap(), "DirectoryOrCreate").unwrap();
        assert!(d.is_dir());
        let f = dir.path().join("f/file");
        check_host_path(f.to_str().unwrap(), "FileOrCreate").unwrap();
        assert!(f.is_file());
        assert!(
            check_host_path(f.to_str().unwrap(), "Directory")
                .unwrap_err()
                .contains("is not a Directory")
        );
        check_host_path("/nonexistent/x", "").unwrap();
    }
}
