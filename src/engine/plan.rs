//! Planning, as a pure function: from the pod's spec, what Docker has, and the back-off state, the next steps
//! that make Docker match the spec. Level-triggered: the plan never depends on which event woke the worker.
//!
//! The rules are the kubelet's (`computePodActions`): sandbox first (a dead sandbox means the whole pod starts
//! over in a new one), init containers one at a time (each must exit 0), then every app container in spec order,
//! restarts by restartPolicy with crash-loop back-off, and a pod in a terminal phase is never restarted.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodSpec;

use crate::runtime::observe::{Instance, InstanceState, ObservedPod, Role};

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
        }
    }
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
}

/// One step towards the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create and start sandbox attempt `attempt` (its volumes first).
    CreateSandbox {
        /// Attempt number.
        attempt: u32,
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
    pub actions: Vec<Action>,
    /// Containers waiting out a crash-loop back-off, with the time it ends.
    pub backoff: Vec<(String, Timestamp)>,
    /// The earliest time the plan changes by itself (a back-off ends).
    pub wake_at: Option<Timestamp>,
    /// Set when the pod is in a terminal phase.
    pub terminal: Option<Terminal>,
}

impl Plan {
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
        self.actions.push(Action::Start {
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
fn finished_at(i: &Instance, now: Timestamp) -> Timestamp {
    match &i.state {
        InstanceState::Exited { finished_at, .. } => finished_at.or(i.created).unwrap_or(now),
        _ => now,
    }
}

/// Old instances to remove: of each container, the newest and the one before it (for previous logs) are kept;
/// of sandboxes, the newest, and older ones while a running container still uses them.
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
        for sb in &obs.sandboxes {
            let in_use = obs
                .containers
                .iter()
                .any(|c| c.state.is_running() && c.sandbox_id.as_deref() == Some(sb.id.as_str()));
            if sb.id != latest.id && !sb.state.is_running() && !in_use {
                ids.push(sb.id.clone());
            }
        }
    }
    ids
}

/// Plans the next steps. `in_backoff(name, finished_at)` says until when container `name` must wait before
/// a restart after an exit at `finished_at`.
pub fn plan(
    spec: &PlanSpec,
    obs: &ObservedPod,
    in_backoff: &dyn Fn(&str, Timestamp) -> Option<Timestamp>,
    now: Timestamp,
) -> Plan {
    let mut plan = Plan::default();
    let garbage = garbage(spec, obs);
    if !garbage.is_empty() {
        plan.actions.push(Action::Remove { ids: garbage });
    }

    if let Some(t) = terminal_phase(spec, obs) {
        plan.terminal = Some(t);
        let running: Vec<String> = obs
            .all()
            .filter(|i| i.state.is_running())
            .map(|i| i.id.clone())
            .collect();
        if !running.is_empty() {
            plan.actions.push(Action::Stop {
                ids: running,
                reason: if spec.deadline_exceeded {
                    StopReason::DeadlineExceeded
                } else {
                    StopReason::PodCompleted
                },
            });
        }
        return plan;
    }

    let sandbox = match obs.latest_sandbox() {
        None => {
            plan.actions.push(Action::CreateSandbox { attempt: 0 });
            return plan;
        }
        Some(sb) if !sb.state.is_running() => {
            let running: Vec<String> = obs
                .containers
                .iter()
                .filter(|c| c.state.is_running())
                .map(|c| c.id.clone())
                .collect();
            if !running.is_empty() {
                plan.actions.push(Action::Stop {
                    ids: running,
                    reason: StopReason::SandboxDied,
                });
            }
            // kubelet: with restartPolicy Never, a pod whose sandbox died after its containers were created
            // gets no new sandbox; its containers end, and so does the pod.
            if spec.restart != RestartPolicy::Never || obs.containers.is_empty() {
                plan.actions.push(Action::CreateSandbox {
                    attempt: sb.count + 1,
                });
            }
            return plan;
        }
        Some(sb) => sb,
    };

    let stale: Vec<String> = obs
        .containers
        .iter()
        .filter(|c| c.state.is_running() && c.sandbox_id.as_deref() != Some(sandbox.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    if !stale.is_empty() {
        plan.actions.push(Action::Stop {
            ids: stale,
            reason: StopReason::SandboxChanged,
        });
    }
    let current = |i: &Instance| i.sandbox_id.as_deref() == Some(sandbox.id.as_str());

    for (name, sidecar) in &spec.init {
        let Some(last) = obs.instances(name).first().copied() else {
            plan.start(name, Role::Init, 0, None);
            return plan;
        };
        if !current(last) {
            // The pod moved to a new sandbox: every init container runs again.
            if !last.state.is_running() {
                plan.start(name, Role::Init, last.count + 1, None);
            }
            return plan;
        }
        match &last.state {
            InstanceState::Running { .. } if *sidecar && !spec.unstarted.contains(name) => continue,
            InstanceState::Running { .. } | InstanceState::Other { .. } => return plan,
            InstanceState::Created => {
                plan.actions.push(Action::Remove {
                    ids: vec![last.id.clone()],
                });
                plan.start(name, Role::Init, last.count, None);
                return plan;
            }
            InstanceState::Exited { exit_code: 0, .. } if !sidecar => continue,
            InstanceState::Exited { .. } => {
                if !sidecar && spec.restart == RestartPolicy::Never {
                    return plan;
                }
                let fin = finished_at(last, now);
                if let Some(until) = in_backoff(name, fin) {
                    plan.wait(name, until);
                } else {
                    plan.start(name, Role::Init, last.count + 1, Some(fin));
                }
                return plan;
            }
        }
    }

    for name in &spec.app {
        let Some(last) = obs.instances(name).first().copied() else {
            plan.start(name, Role::App, 0, None);
            continue;
        };
        match &last.state {
            InstanceState::Running { .. } | InstanceState::Other { .. } => {}
            InstanceState::Created => {
                plan.actions.push(Action::Remove {
                    ids: vec![last.id.clone()],
                });
                plan.start(name, Role::App, last.count, None);
            }
            InstanceState::Exited { exit_code, .. } => {
                if !spec.restart.restarts(*exit_code) {
                    continue;
                }
                let fin = finished_at(last, now);
                if !current(last) {
                    plan.start(name, Role::App, last.count + 1, None);
                } else if let Some(until) = in_backoff(name, fin) {
                    plan.wait(name, until);
                } else {
                    plan.start(name, Role::App, last.count + 1, Some(fin));
                }
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn inst(
        id: &str,
        role: Role,
        name: &str,
        count: u32,
        sandbox: &str,
        state: InstanceState,
    ) -> Instance {
        Instance {
            id: id.into(),
            docker_name: format!("k8s_{name}_{count}"),
            role,
            name: name.into(),
            count,
            sandbox_id: (role != Role::Sandbox).then(|| sandbox.to_string()),
            image: "i".into(),
            image_id: "sha".into(),
            state,
            created: Some(t(count as i64)),
            network_mode: String::new(),
            ipc_mode: String::new(),
            ip: None,
            hostname: String::new(),
            ports: vec![],
            mounts: vec![],
            labels: HashMap::new(),
        }
    }

    fn running() -> InstanceState {
        InstanceState::Running {
            started_at: Some(t(0)),
        }
    }

    fn exited(code: i64, at: i64) -> InstanceState {
        InstanceState::Exited {
            exit_code: code,
            started_at: Some(t(0)),
            finished_at: Some(t(at)),
            oom_killed: false,
            error: None,
        }
    }

    fn spec(init: &[&str], app: &[&str], restart: RestartPolicy) -> PlanSpec {
        PlanSpec {
            init: init.iter().map(|n| (n.to_string(), false)).collect(),
            app: app.iter().map(|n| n.to_string()).collect(),
            restart,
            deadline_exceeded: false,
            unstarted: Vec::new(),
        }
    }

    fn no_backoff(_: &str, _: Timestamp) -> Option<Timestamp> {
        None
    }

    fn starts(p: &Plan) -> Vec<(String, u32)> {
        p.actions
            .iter()
            .filter_map(|a| match a {
                Action::Start {
                    name,
                    restart_count,
                    ..
                } => Some((name.clone(), *restart_count)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn empty_pod_creates_the_sandbox_first() {
        let s = spec(&["init"], &["a", "b"], RestartPolicy::Always);
        let p = plan(&s, &ObservedPod::default(), &no_backoff, t(0));
        assert_eq!(p.actions, vec![Action::CreateSandbox { attempt: 0 }]);
    }

    #[test]
    fn a_sidecar_holds_back_the_apps_until_its_startup_probe_passes() {
        let mut s = spec(&["side"], &["a"], RestartPolicy::Always);
        s.init[0].1 = true;
        let obs = ObservedPod::from_instances(vec![
            inst("sb", Role::Sandbox, "POD", 0, "", running()),
            inst("side", Role::Init, "side", 0, "sb", running()),
        ]);
        s.unstarted = vec!["side".into()];
        assert!(starts(&plan(&s, &obs, &no_backoff, t(1))).is_empty());
        s.unstarted.clear();
        assert_eq!(
            starts(&plan(&s, &obs, &no_backoff, t(1))),
            [("a".to_string(), 0)]
        );
    }

    #[test]
    fn init_containers_run_one_at_a_time_then_all_apps_in_order() {
        let s = spec(&["i1", "i2"], &["a", "b"], RestartPolicy::Always);
        let sb = inst("sb", Role::Sandbox, "POD", 0, "", running());
        let mut obs = ObservedPod::from_instances(vec![sb.clone()]);
        assert_eq!(
            starts(&plan(&s, &obs, &no_backoff, t(0))),
            [("i1".to_string(), 0)]
        );
        obs = ObservedPod::from_instances(vec![
            sb.clone(),
            inst("i1", Role::Init, "i1", 0, "sb", running()),
        ]);
        assert!(
            starts(&plan(&s, &obs, &no_backoff, t(0))).is_empty(),
            "waits for i1"
        );
        obs = ObservedPod::from_instances(vec![
            sb.clone(),
            inst("i1", Role::Init, "i1", 0, "sb", exited(0, 1)),
        ]);
        assert_eq!(
            starts(&plan(&s, &obs, &no_backoff, t(2))),
            [("i2".to_string(), 0)]
        );
        obs = ObservedPod::from_instances(vec![
            sb.clone(),
            inst("i1", Role::Init, "i1", 0, "sb", exited(0, 1)),
            inst("i2", Role::Init, "i2", 0, "sb", exited(0, 2)),
        ]);
        assert_eq!(
            starts(&plan(&s, &obs, &no_backoff, t(3))),
            [("a".to_string(), 0), ("b".to_string(), 0)]
        );
    }

    #[test]
    fn failed_init_is_retried_with_backoff_unless_never() {
        let sb = inst("sb", Role::Sandbox, "POD", 0, "", running());
        let obs = ObservedPod::from_instances(vec![
            sb,
            inst("i1", Role::Init, "i1", 0, "sb", exited(1, 5)),
        ]);
        let s = spec(&["i1"], &["a"], RestartPolicy::Always);
        let backoff = |_: &str, fin: Timestamp| {
            Some(
                fin.checked_add(jiff::SignedDuration::from_secs(10))
                    .unwrap(),
            )
        };
        let p = plan(&s, &obs, &backoff, t(6));
        assert!(starts(&p).is_empty());
        assert_eq!(p.wake_at, Some(t(15)));
        assert_eq!(
            starts(&plan(&s, &obs, &no_backoff, t(16))),
            [("i1".to_string(), 1)]
        );
        let never = spec(&["i1"], &["a"], RestartPolicy::Never);
        let p = plan(&never, &obs, &no_backoff, t(16));
        assert_eq!(p.terminal, Some(Terminal::Failed));
        assert!(matches!(
            p.actions.as_slice(),
            [Action::Stop {
                reason: StopReason::PodCompleted,
                ..
            }]
        ));
    }

    #[test]
    fn restart_policies() {
        let sb = inst("sb", Role::Sandbox, "POD", 0, "", running());
        let ok = ObservedPod::from_instances(vec![
            sb.clone(),
            inst("a", Role::App, "a", 0, "sb", exited(0, 1)),
        ]);
        let bad = ObservedPod::from_instances(vec![
            sb.clone(),
            inst("a", Role::App, "a", 0, "sb", exited(2, 1)),
        ]);
        let always = spec(&[], &["a"], RestartPolicy::Always);
        let on_failure = spec(&[], &["a"], RestartPolicy::OnFailure);
        let never = spec(&[], &["a"], RestartPolicy::Never);
        assert_eq!(
            starts(&plan(&always, &ok, &no_backoff, t(2))),
            [("a".to_string(), 1)]
        );
        assert_eq!(
            plan(&on_failure, &ok, &no_backoff, t(2)).terminal,
            Some(Terminal::Succeeded)
        );
        assert_eq!(
            starts(&plan(&on_failure, &bad, &no_backoff, t(2))),
            [("a".to_string(), 1)]
        );
        assert_eq!(
            plan(&never, &bad, &no_backoff, t(2)).terminal,
            Some(Terminal::Failed)
        );
        assert_eq!(
            plan(&never, &ok, &no_backoff, t(2)).terminal,
            Some(Terminal::Succeeded)
        );
    }

    #[test]
    fn dead_sandbox_restarts_the_whole_pod_in_a_new_attempt() {
        let sb = inst("sb", Role::Sandbox, "POD", 3, "", exited(0, 5));
        let obs =
            ObservedPod::from_instances(vec![sb, inst("a", Role::App, "a", 2, "sb", running())]);
        let p = plan(
            &spec(&[], &["a"], RestartPolicy::Always),
            &obs,
            &no_backoff,
            t(6),
        );
        assert_eq!(
            p.actions,
            vec![
                Action::Stop {
                    ids: vec!["a".into()],
                    reason: StopReason::SandboxDied
                },
                Action::CreateSandbox { attempt: 4 }
            ]
        );
        // In the new sandbox the old instance is restarted at once, its count continuing.
        let new_sb = inst("sb2", Role::Sandbox, "POD", 4, "", running());
        let old_sb = inst("sb", Role::Sandbox, "POD", 3, "", exited(0, 5));
        let obs = ObservedPod::from_instances(vec![
            old_sb,
            new_sb,
            inst("a", Role::App, "a", 2, "sb", exited(137, 6)),
        ]);
        let always_backoff = |_: &str, _: Timestamp| Some(t(1000));
        let p = plan(
            &spec(&[], &["a"], RestartPolicy::Always),
            &obs,
            &always_backoff,
            t(7),
        );
        assert_eq!(starts(&p), [("a".to_string(), 3)]);
        assert!(
            p.actions.contains(&Action::Remove {
                ids: vec!["sb".into()]
            }),
            "{:?}",
            p.actions
        );
    }

    #[test]
    fn keeps_the_newest_and_the_previous_instance() {
        let sb = inst("sb", Role::Sandbox, "POD", 0, "", running());
        let obs = ObservedPod::from_instances(vec![
            sb,
            inst("a0", Role::App, "a", 0, "sb", exited(1, 1)),
            inst("a1", Role::App, "a", 1, "sb", exited(1, 2)),
            inst("a2", Role::App, "a", 2, "sb", running()),
        ]);
        let p = plan(
            &spec(&[], &["a"], RestartPolicy::Always),
            &obs,
            &no_backoff,
            t(3),
        );
        assert_eq!(
            p.actions,
            vec![Action::Remove {
                ids: vec!["a0".into()]
            }]
        );
    }
}
