//! Planning, as a pure function: from the pod's spec, what Docker has, and the back-off state, the next steps
//! that make Docker match the spec. Level-triggered: the plan never depends on which event woke the worker.
//!
//! The rules are the kubelet's (`computePodActions`): sandbox first (a dead sandbox means the whole pod starts
//! over in a new one), init containers one at a time (each must exit 0), then every app container in spec order,
//! restarts by restartPolicy with crash-loop back-off, and a pod in a terminal phase is never restarted.
//!
//! One thing is not the kubelet's: with a new sandbox the plan also asks to create, ahead, the containers that
//! start first in it ([`Step::Precreate`]: the first init container, or with none every app container), so the
//! worker can create them while the sandbox starts. Only creation moves: the starts keep the kubelet's order
//! (a pre-created container is started by the same [`Step::Start`] in the same place as any other).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodSpec;

use crate::runtime::observe::{InstanceState, ObservedContainer, ObservedPod, Role};

/// The pod's restartPolicy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Restart on any exit.
    Always,
    /// Restart on a non-zero exit.
    OnFailure,
    /// Never restart.
    Never,
}

impl RestartPolicy {
    /// From the spec (default Always).
    pub fn from_spec(spec: &PodSpec) -> Self {
        match spec.restart_policy.as_deref() {
            Some("OnFailure") => RestartPolicy::OnFailure,
            Some("Never") => RestartPolicy::Never,
            _ => RestartPolicy::Always,
        }
    }

    /// Whether a container that exited with `exit_code` is restarted.
    pub fn restarts(self, exit_code: i64) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => exit_code != 0,
            RestartPolicy::Never => false,
        }
    }
}

/// What planning needs of the spec.
#[derive(Clone, Debug)]
pub struct PlanSpec {
    /// Init containers in order, with whether each is a native sidecar (`restartPolicy: Always`).
    pub init: Vec<(String, bool)>,
    /// App containers in order.
    pub app: Vec<String>,
    /// restartPolicy.
    pub restart: RestartPolicy,
    /// activeDeadlineSeconds has passed: the pod fails and everything stops.
    pub deadline_exceeded: bool,
    /// Running containers whose startup probe has not passed yet: a native sidecar among them holds back the
    /// containers after it, as in the kubelet.
    pub unstarted: Vec<String>,
    /// A user asked to kill every container of the pod (`Request::KillPod`).
    pub kill_requested: bool,
    /// Containers a user asked to restart (`Request::RestartContainer`): stopped if running, then started anew
    /// whatever the restartPolicy and back-off say.
    pub restart_requested: Vec<String>,
    /// Plan [`Step::Precreate`] with each new sandbox.
    pub precreate: bool,
    /// Containers never pre-created: those whose create body needs the pod's IP (downward API
    /// `status.podIP(s)`; the sandbox has no IP before it starts), and those with a `subPath`/`subPathExpr`
    /// mount (its directory is resolved and pinned at create time; the kubelet resolves it just before the
    /// container starts, after the earlier containers may have changed the volume).
    pub not_ahead: Vec<String>,
    /// Containers the worker pre-created in the current sandbox that have not started yet: their `Created`
    /// instance is started, not replaced as a leftover.
    pub precreated: Vec<String>,
}

impl PlanSpec {
    /// From the pod spec.
    pub fn from_spec(spec: &PodSpec) -> Self {
        Self {
            init: spec
                .init_containers
                .iter()
                .flatten()
                .map(|c| {
                    (
                        c.name.clone(),
                        c.restart_policy.as_deref() == Some("Always"),
                    )
                })
                .collect(),
            app: spec.containers.iter().map(|c| c.name.clone()).collect(),
            restart: RestartPolicy::from_spec(spec),
            deadline_exceeded: false,
            unstarted: Vec::new(),
            kill_requested: false,
            restart_requested: Vec::new(),
            precreate: true,
            not_ahead: spec
                .init_containers
                .iter()
                .flatten()
                .chain(&spec.containers)
                .filter(|c| (spec.host_network != Some(true) && needs_pod_ip(c)) || has_sub_path(c))
                .map(|c| c.name.clone())
                .collect(),
            precreated: Vec::new(),
        }
    }
}

/// Whether a container's env takes the pod's IP from the downward API.
fn needs_pod_ip(c: &k8s_openapi::api::core::v1::Container) -> bool {
    c.env.iter().flatten().any(|e| {
        e.value_from
            .as_ref()
            .and_then(|v| v.field_ref.as_ref())
            .is_some_and(|f| f.field_path.starts_with("status.podIP"))
    })
}

/// Whether a container mounts a volume's sub path.
fn has_sub_path(c: &k8s_openapi::api::core::v1::Container) -> bool {
    c.volume_mounts.iter().flatten().any(|m| {
        m.sub_path.as_deref().is_some_and(|p| !p.is_empty())
            || m.sub_path_expr.as_deref().is_some_and(|p| !p.is_empty())
    })
}

/// Why containers are stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The sandbox died: the containers are stuck in a dead network namespace.
    SandboxDied,
    /// The pod reached Succeeded or Failed: its sandbox (and anything left) stops.
    PodCompleted,
    /// A container runs in an older sandbox than the current one.
    SandboxChanged,
    /// `activeDeadlineSeconds` passed: the pod is killed as on deletion (preStop, then the grace period).
    DeadlineExceeded,
    /// A user asked to restart the container: preStop, then its grace period.
    RestartRequested,
}

/// One step towards the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Kill running containers at once (SIGKILL), on a user's request.
    Kill {
        /// Docker IDs.
        ids: Vec<String>,
    },
    /// Create and start sandbox attempt `attempt` (its volumes first).
    CreateSandbox {
        /// Attempt number.
        attempt: u32,
    },
    /// Create (not start) these containers in the sandbox the step before makes, while it starts: name, role
    /// and the instance's restart count. A container that cannot be created ahead (its image must be pulled)
    /// is simply created by its [`Step::Start`] later.
    Precreate {
        /// Name, role and restart count of each.
        containers: Vec<(String, Role, u32)>,
    },
    /// Stop running containers.
    Stop {
        /// Docker IDs.
        ids: Vec<String>,
        /// Why.
        reason: StopReason,
    },
    /// Create and start a container instance.
    Start {
        /// Container name.
        name: String,
        /// Init or app.
        role: Role,
        /// The instance's restart count.
        restart_count: u32,
        /// When the previous instance finished, if this is a restart that counts for back-off.
        previous_finished: Option<Timestamp>,
    },
    /// Remove containers that are no longer needed.
    Remove {
        /// Docker IDs.
        ids: Vec<String>,
    },
}

/// Where the pod ended, when it is done for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// Every container exited 0 and none restarts.
    Succeeded,
    /// A container failed and nothing restarts it.
    Failed,
}

/// The steps to take now, and when to look again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// In order.
    pub steps: Vec<Step>,
    /// Containers waiting out a crash-loop back-off, with the time it ends.
    pub backoff: Vec<(String, Timestamp)>,
    /// The earliest time the plan changes by itself (a back-off ends).
    pub wake_at: Option<Timestamp>,
    /// Set when the pod is in a terminal phase.
    pub terminal: Option<Terminal>,
}

impl Plan {
    /// A restart a user asked for: stop the running instance (preStop, grace), or once it has stopped, start
    /// the next one at once.
    fn restart(&mut self, last: &ObservedContainer, role: Role) {
        if last.state.is_running() {
            self.steps.push(Step::Stop {
                ids: vec![last.id.clone()],
                reason: StopReason::RestartRequested,
            });
        } else {
            self.start(&last.name, role, last.count + 1, None);
        }
    }

    fn wait(&mut self, name: &str, until: Timestamp) {
        self.backoff.push((name.to_string(), until));
        self.wake_at = Some(self.wake_at.map_or(until, |w| w.min(until)));
    }

    fn start(
        &mut self,
        name: &str,
        role: Role,
        restart_count: u32,
        previous_finished: Option<Timestamp>,
    ) {
        self.steps.push(Step::Start {
            name: name.to_string(),
            role,
            restart_count,
            previous_finished,
        });
    }
}

/// Whether the pod is done for good (kubelet: a pod in phase Succeeded or Failed is never restarted).
pub fn terminal_phase(spec: &PlanSpec, obs: &ObservedPod) -> Option<Terminal> {
    if spec.deadline_exceeded {
        return Some(Terminal::Failed);
    }
    if spec.restart == RestartPolicy::Always {
        return None;
    }
    for (name, sidecar) in &spec.init {
        if *sidecar {
            continue;
        }
        if let Some(i) = obs.instances(name).first()
            && let InstanceState::Exited { exit_code, .. } = i.state
            && exit_code != 0
            && spec.restart == RestartPolicy::Never
        {
            return Some(Terminal::Failed);
        }
    }
    let mut all_zero = true;
    for name in &spec.app {
        match obs.instances(name).first().map(|i| &i.state) {
            Some(InstanceState::Exited { exit_code, .. }) => all_zero &= *exit_code == 0,
            _ => return None,
        }
    }
    if spec.app.is_empty() {
        return None;
    }
    match (spec.restart, all_zero) {
        (_, true) => Some(Terminal::Succeeded),
        (RestartPolicy::Never, false) => Some(Terminal::Failed),
        _ => None,
    }
}

/// When the instance ended; for one that never started (Docker leaves FinishedAt unset), when it was created,
/// so its back-off still counts from a fixed moment and grows.
fn finished_at(i: &ObservedContainer, now: Timestamp) -> Timestamp {
    match &i.state {
        InstanceState::Exited { finished_at, .. } => finished_at.or(i.created).unwrap_or(now),
        _ => now,
    }
}

/// Old instances to remove: of each container, the newest and the one before it (for previous logs) are kept;
/// of sandboxes, the newest, and older ones while any container of theirs is left (as the kubelet's garbage
/// collector; podman refuses to remove a sandbox that other containers, even exited ones, join).
fn garbage(spec: &PlanSpec, obs: &ObservedPod) -> Vec<String> {
    let mut ids = Vec::new();
    let names = spec.init.iter().map(|(n, _)| n).chain(spec.app.iter());
    for name in names {
        for old in obs.instances(name).into_iter().skip(2) {
            if !old.state.is_running() {
                ids.push(old.id.clone());
            }
        }
    }
    let known: Vec<&String> = spec
        .init
        .iter()
        .map(|(n, _)| n)
        .chain(spec.app.iter())
        .collect();
    for c in &obs.containers {
        if !known.contains(&&c.name) && !c.state.is_running() {
            ids.push(c.id.clone());
        }
    }
    if let Some(latest) = obs.latest_sandbox() {
        // A debug container kept (`--keep`) stays while its sandbox does; once that was replaced, an exited one
        // goes (it is never restarted) and frees the old sandbox.
        for e in &obs.ephemeral {
            if e.sandbox_id.as_deref() != Some(latest.id.as_str()) && !e.state.is_running() {
                ids.push(e.id.clone());
            }
        }
        for sb in &obs.sandboxes {
            let in_use = obs
                .containers
                .iter()
                .chain(&obs.ephemeral)
                .any(|c| c.sandbox_id.as_deref() == Some(sb.id.as_str()));
            if sb.id != latest.id && !sb.state.is_running() && !in_use {
                ids.push(sb.id.clone());
            }
        }
    }
    ids
}

/// The back-off lookup the plan gets: until when container `name` must wait before a restart after an exit
/// at `finished_at`.
pub type InBackoff<'a> = &'a dyn Fn(&str, Timestamp) -> Option<Timestamp>;

/// What the init and app passes share.
struct Pass<'a> {
    spec: &'a PlanSpec,
    obs: &'a ObservedPod,
    in_backoff: InBackoff<'a>,
    now: Timestamp,
    /// The running sandbox.
    sandbox: &'a ObservedContainer,
}

impl Pass<'_> {
    fn current(&self, i: &ObservedContainer) -> bool {
        i.sandbox_id.as_deref() == Some(self.sandbox.id.as_str())
    }

    /// Init containers one at a time; `false` while one has not completed (app containers wait).
    fn init(&self, plan: &mut Plan) -> bool {
        let spec = self.spec;
        for (name, sidecar) in &spec.init {
            let Some(last) = self.obs.instances(name).first().copied() else {
                plan.start(name, Role::Init, 0, None);
                return false;
            };
            if !self.current(last) {
                // The pod moved to a new sandbox: every init container runs again.
                if !last.state.is_running() {
                    plan.start(name, Role::Init, last.count + 1, None);
                }
                return false;
            }
            if *sidecar && spec.restart_requested.contains(name) {
                plan.restart(last, Role::Init);
                if last.state.is_running() {
                    continue;
                }
                return false;
            }
            match &last.state {
                InstanceState::Running { .. } if *sidecar && !spec.unstarted.contains(name) => {}
                InstanceState::Running { .. } | InstanceState::Other { .. } => return false,
                InstanceState::Created if spec.precreated.contains(name) => {
                    plan.start(name, Role::Init, last.count, None);
                    return false;
                }
                InstanceState::Created => {
                    plan.steps.push(Step::Remove {
                        ids: vec![last.id.clone()],
                    });
                    plan.start(name, Role::Init, last.count, None);
                    return false;
                }
                InstanceState::Exited { exit_code: 0, .. } if !sidecar => {}
                InstanceState::Exited { .. } => {
                    if *sidecar || spec.restart != RestartPolicy::Never {
                        self.restart_after_exit(plan, last, Role::Init);
                    }
                    return false;
                }
            }
        }
        true
    }

    /// Every app container, in spec order.
    fn apps(&self, plan: &mut Plan) {
        for name in &self.spec.app {
            let Some(last) = self.obs.instances(name).first().copied() else {
                plan.start(name, Role::App, 0, None);
                continue;
            };
            if self.spec.restart_requested.contains(name) {
                plan.restart(last, Role::App);
                continue;
            }
            match &last.state {
                InstanceState::Running { .. } | InstanceState::Other { .. } => {}
                InstanceState::Created if self.spec.precreated.contains(name) => {
                    plan.start(name, Role::App, last.count, None);
                }
                InstanceState::Created => {
                    plan.steps.push(Step::Remove {
                        ids: vec![last.id.clone()],
                    });
                    plan.start(name, Role::App, last.count, None);
                }
                InstanceState::Exited { exit_code, .. } => {
                    if !self.spec.restart.restarts(*exit_code) {
                        continue;
                    }
                    if self.current(last) {
                        self.restart_after_exit(plan, last, Role::App);
                    } else {
                        plan.start(name, Role::App, last.count + 1, None);
                    }
                }
            }
        }
    }

    /// An exited container restarts: at once, or when its crash-loop back-off ends.
    fn restart_after_exit(&self, plan: &mut Plan, last: &ObservedContainer, role: Role) {
        let fin = finished_at(last, self.now);
        match (self.in_backoff)(&last.name, fin) {
            Some(until) => plan.wait(&last.name, until),
            None => plan.start(&last.name, role, last.count + 1, Some(fin)),
        }
    }
}

/// Every running instance's ID (sandboxes too, with `with_sandboxes`).
fn running_ids(obs: &ObservedPod, with_sandboxes: bool) -> Vec<String> {
    obs.all()
        .filter(|i| (with_sandboxes || i.role != Role::Sandbox) && i.state.is_running())
        .map(|i| i.id.clone())
        .collect()
}

/// The pod has ended: everything still running stops.
fn finish(plan: &mut Plan, spec: &PlanSpec, obs: &ObservedPod, t: Terminal) {
    plan.terminal = Some(t);
    let running = running_ids(obs, true);
    if !running.is_empty() {
        plan.steps.push(Step::Stop {
            ids: running,
            reason: if spec.deadline_exceeded {
                StopReason::DeadlineExceeded
            } else {
                StopReason::PodCompleted
            },
        });
    }
}

/// The sandbox to run the pod's containers in; `None` when the plan must first make one (or let the pod end).
fn sandbox<'a>(
    plan: &mut Plan,
    spec: &PlanSpec,
    obs: &'a ObservedPod,
) -> Option<&'a ObservedContainer> {
    let Some(sb) = obs.latest_sandbox() else {
        plan.steps.push(Step::CreateSandbox { attempt: 0 });
        precreate(plan, spec, obs);
        return None;
    };
    if sb.state.is_running() {
        return Some(sb);
    }
    let running = running_ids(obs, false);
    if !running.is_empty() {
        plan.steps.push(Step::Stop {
            ids: running,
            reason: StopReason::SandboxDied,
        });
    }
    // kubelet: with restartPolicy Never, a pod whose sandbox died after its containers were created gets no new
    // sandbox; its containers end, and so does the pod.
    if spec.restart != RestartPolicy::Never || obs.containers.is_empty() {
        plan.steps.push(Step::CreateSandbox {
            attempt: sb.count + 1,
        });
        precreate(plan, spec, obs);
    }
    None
}

/// With a new sandbox: the containers that start first in it, to create while it starts (the first init
/// container, or with none every app container), each with the restart count its next instance has.
fn precreate(plan: &mut Plan, spec: &PlanSpec, obs: &ObservedPod) {
    if !spec.precreate {
        return;
    }
    let first: Vec<(&String, Role)> = match spec.init.first() {
        Some((name, _)) => vec![(name, Role::Init)],
        None => spec.app.iter().map(|n| (n, Role::App)).collect(),
    };
    let containers: Vec<(String, Role, u32)> = first
        .into_iter()
        .filter(|(name, _)| !spec.not_ahead.contains(name))
        .map(|(name, role)| {
            let count = obs.instances(name).first().map_or(0, |l| l.count + 1);
            (name.clone(), role, count)
        })
        .collect();
    if !containers.is_empty() {
        plan.steps.push(Step::Precreate { containers });
    }
}

/// Plans the next steps from the pod's spec, what the engine has and the back-off state.
pub fn plan(spec: &PlanSpec, obs: &ObservedPod, in_backoff: InBackoff<'_>, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let garbage = garbage(spec, obs);
    if !garbage.is_empty() {
        plan.steps.push(Step::Remove { ids: garbage });
    }
    if spec.kill_requested {
        let running = running_ids(obs, true);
        if !running.is_empty() {
            // The next look sees them dead and brings the pod back as after any crash.
            plan.steps.push(Step::Kill { ids: running });
            return plan;
        }
    }
    // A container a user asked to restart runs again even in a pod that has ended, while its sandbox lives.
    let restart_wanted = !spec.restart_requested.is_empty()
        && !spec.deadline_exceeded
        && obs.latest_sandbox().is_some_and(|s| s.state.is_running());
    if let Some(t) = terminal_phase(spec, obs).filter(|_| !restart_wanted) {
        finish(&mut plan, spec, obs, t);
        return plan;
    }
    let Some(sandbox) = sandbox(&mut plan, spec, obs) else {
        return plan;
    };
    let stale: Vec<String> = obs
        .containers
        .iter()
        .filter(|c| c.state.is_running() && c.sandbox_id.as_deref() != Some(sandbox.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    if !stale.is_empty() {
        plan.steps.push(Step::Stop {
            ids: stale,
            reason: StopReason::SandboxChanged,
        });
    }
    let pass = Pass {
        spec,
        obs,
        in_backoff,
        now,
        sandbox,
    };
    if pass.init(&mut plan) {
        pass.apps(&mut plan);
    }
    plan
}

#[cfg(test)]
mod tests;
