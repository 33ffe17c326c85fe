//! Pod status as the kubelet computes it (phase, conditions, container statuses, pod IP) and the columns
//! `kubectl get pods` prints from it (READY, STATUS, RESTARTS), so podtui shows what kubectl would.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, PodCondition, PodIP, PodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::plan::{Plan, RestartPolicy, Terminal};
use crate::runtime::observe::{Instance, InstanceState, ObservedPod};

/// A waiting reason the worker knows and Docker does not (image pulls, configuration errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// `ErrImagePull`, `ImagePullBackOff`, `CreateContainerConfigError`…
    pub reason: String,
    /// Details.
    pub message: String,
}

/// Everything the status is computed from.
pub struct StatusInput<'a> {
    /// The pod's spec.
    pub spec: &'a PodSpec,
    /// Full pod name and namespace/uid, for messages.
    pub pod_name: &'a str,
    /// What Docker has.
    pub observed: &'a ObservedPod,
    /// The latest plan (back-off waits, terminal phase).
    pub plan: &'a Plan,
    /// Waiting reasons per container name.
    pub waiting: &'a HashMap<String, Waiting>,
    /// Current crash-loop delay per container name.
    pub backoff_delay: &'a dyn Fn(&str) -> Option<Duration>,
    /// Readiness per container name when known (probes); `None` ⇒ a running container is ready.
    pub readiness: Option<&'a HashMap<String, bool>>,
    /// `started` per container name (startup probes); absent ⇒ a running container has started.
    pub started: Option<&'a HashMap<String, bool>>,
    /// Termination messages by container ID.
    pub messages: &'a HashMap<String, String>,
    /// The pod's status reason and message (`DeadlineExceeded`).
    pub reason: Option<(String, String)>,
    /// The host's IP.
    pub host_ip: Option<String>,
    /// The pod's start time when known from earlier instances (old ones are removed).
    pub start_time: Option<Timestamp>,
    /// Now.
    pub now: Timestamp,
}

fn time(t: Option<Timestamp>) -> Option<Time> {
    t.map(Time)
}

fn terminated(
    i: &Instance,
    messages: &HashMap<String, String>,
) -> Option<ContainerStateTerminated> {
    let InstanceState::Exited {
        exit_code,
        started_at,
        finished_at,
        oom_killed,
        error,
    } = &i.state
    else {
        return None;
    };
    let reason = if *oom_killed {
        "OOMKilled"
    } else if error.is_some() {
        "ContainerCannotRun"
    } else if *exit_code == 0 {
        "Completed"
    } else {
        "Error"
    };
    Some(ContainerStateTerminated {
        container_id: Some(format!("docker://{}", i.id)),
        exit_code: *exit_code as i32,
        finished_at: time(*finished_at),
        // Kubernetes omits an empty message; a container that could not start says why (Docker's error).
        message: messages
            .get(&i.id)
            .filter(|m| !m.is_empty())
            .cloned()
            .or_else(|| error.clone()),
        reason: Some(reason.into()),
        signal: (*exit_code > 128 && *exit_code < 160).then_some((*exit_code - 128) as i32),
        started_at: time(*started_at),
    })
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..Default::default()
    }
}

fn container_status(
    input: &StatusInput<'_>,
    name: &str,
    image: &str,
    default_waiting: &str,
) -> ContainerStatus {
    let instances = input.observed.instances(name);
    let last = instances.first().copied();
    let prev = instances.get(1).copied();
    let override_ = input.waiting.get(name);
    let in_backoff = input.plan.backoff.iter().find(|(n, _)| n == name);
    let mut st = ContainerStatus {
        name: name.to_string(),
        image: image.to_string(),
        image_id: last.map(|l| l.image_id.clone()).unwrap_or_default(),
        container_id: last.map(|l| format!("docker://{}", l.id)),
        restart_count: last.map(|l| l.count as i32).unwrap_or(0),
        ..Default::default()
    };
    let prev_terminated =
        prev.and_then(|p| terminated(p, input.messages))
            .map(|t| ContainerState {
                terminated: Some(t),
                ..Default::default()
            });
    match last.map(|l| (l, &l.state)) {
        None => {
            st.state = Some(match override_ {
                Some(w) => waiting(&w.reason, Some(w.message.clone())),
                None => waiting(default_waiting, None),
            });
        }
        Some((_, InstanceState::Running { started_at })) => {
            st.state = Some(ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: time(*started_at),
                }),
                ..Default::default()
            });
            st.started = Some(
                input
                    .started
                    .and_then(|r| r.get(name).copied())
                    .unwrap_or(true),
            );
            st.ready = input
                .readiness
                .and_then(|r| r.get(name).copied())
                .unwrap_or(true);
            st.last_state = prev_terminated;
        }
        Some((last, InstanceState::Exited { .. })) => {
            let term = terminated(last, input.messages).map(|t| ContainerState {
                terminated: Some(t),
                ..Default::default()
            });
            st.started = Some(false);
            if let Some((_, until)) = in_backoff {
                let delay = (input.backoff_delay)(name)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let left = until.duration_since(input.now).as_secs().max(0);
                st.state = Some(waiting(
                    "CrashLoopBackOff",
                    Some(format!(
                        "back-off {delay}s restarting failed container={name} pod={}, restarting in {left}s",
                        input.pod_name
                    )),
                ));
                st.last_state = term;
            } else if let Some(w) = override_ {
                st.state = Some(waiting(&w.reason, Some(w.message.clone())));
                st.last_state = term;
            } else {
                st.state = term;
                st.last_state = prev_terminated;
            }
        }
        Some((_, InstanceState::Created)) | Some((_, InstanceState::Other { .. })) => {
            st.state = Some(match override_ {
                Some(w) => waiting(&w.reason, Some(w.message.clone())),
                None => waiting("ContainerCreating", None),
            });
            st.last_state = prev_terminated;
        }
    }
    st
}

fn is_terminated(s: &ContainerStatus) -> Option<i32> {
    s.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code)
}

fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if ok { "True".into() } else { "False".into() },
        reason: (!ok).then(|| reason.map(str::to_string)).flatten(),
        message: if ok { None } else { message },
        ..Default::default()
    }
}

/// Computes the pod's status.
pub fn compute(input: &StatusInput<'_>) -> PodStatus {
    let spec = input.spec;
    let sandbox = input.observed.latest_sandbox();
    let sandbox_ready = sandbox.is_some_and(|s| s.state.is_running());
    let host_network = spec.host_network == Some(true);
    let pod_ip = if !sandbox_ready {
        None
    } else if host_network {
        input.host_ip.clone()
    } else {
        sandbox.and_then(|s| s.ip.clone())
    };

    let inits: Vec<ContainerStatus> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| {
            container_status(
                input,
                &c.name,
                c.image.as_deref().unwrap_or_default(),
                "PodInitializing",
            )
        })
        .collect();
    let init_done = spec
        .init_containers
        .iter()
        .flatten()
        .zip(&inits)
        .all(|(c, s)| {
            let sidecar = c.restart_policy.as_deref() == Some("Always");
            is_terminated(s) == Some(0) || (sidecar && s.started == Some(true))
        });
    let app_default = if init_done {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let apps: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| {
            container_status(
                input,
                &c.name,
                c.image.as_deref().unwrap_or_default(),
                app_default,
            )
        })
        .collect();

    let phase = match input.plan.terminal {
        Some(Terminal::Succeeded) => "Succeeded",
        Some(Terminal::Failed) => "Failed",
        None => phase(spec, &inits, &apps, init_done),
    };

    let unready: Vec<&str> = apps
        .iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect();
    let all_ready = unready.is_empty() && !apps.is_empty();
    let unready_msg = Some(format!(
        "containers with unready status: [{}]",
        unready.join(" ")
    ));
    let completed = input.plan.terminal.is_some();
    let conditions = vec![
        condition("PodReadyToStartContainers", sandbox_ready, None, None),
        condition(
            "Initialized",
            init_done,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: [{}]",
                inits
                    .iter()
                    .filter(|s| is_terminated(s) != Some(0) && s.started != Some(true))
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ),
        condition(
            "Ready",
            all_ready,
            Some(if completed {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            }),
            unready_msg.clone(),
        ),
        condition(
            "ContainersReady",
            all_ready,
            Some(if completed {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            }),
            unready_msg,
        ),
        condition("PodScheduled", true, None, None),
    ];
    let start_time = input
        .observed
        .all()
        .filter_map(|i| i.created)
        .chain(input.start_time)
        .min();
    PodStatus {
        reason: input.reason.as_ref().map(|r| r.0.clone()),
        message: input.reason.as_ref().map(|r| r.1.clone()),
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: input.host_ip.clone(),
        host_ips: input.host_ip.clone().map(|ip| vec![HostIP { ip }]),
        pod_ip: pod_ip.clone(),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]),
        start_time: time(start_time.or(Some(input.now))),
        init_container_statuses: (!inits.is_empty()).then_some(inits),
        container_statuses: Some(apps),
        qos_class: Some(qos_class(spec).into()),
        ..Default::default()
    }
}

/// The pod's QoS class, as the API server computes it: Guaranteed when every container has CPU and memory
/// limits equal to its requests (requests default to limits), BestEffort when no container has any, else
/// Burstable.
fn qos_class(spec: &PodSpec) -> &'static str {
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let r = c.resources.clone().unwrap_or_default();
        let get = |m, k| super::security::quantity(m, k).filter(|q| q.0 > 0.0);
        for k in ["cpu", "memory"] {
            let limit = get(&r.limits, k);
            let request = get(&r.requests, k).or(limit);
            any |= limit.is_some() || request.is_some();
            guaranteed &= limit.is_some() && request == limit;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// The kubelet's `getPhase`.
fn phase(
    spec: &PodSpec,
    inits: &[ContainerStatus],
    apps: &[ContainerStatus],
    init_done: bool,
) -> &'static str {
    let policy = RestartPolicy::from_spec(spec);
    let mut failed_init = false;
    for s in inits {
        let last_failed = s
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .is_some_and(|t| t.exit_code != 0);
        if is_terminated(s).is_some_and(|c| c != 0)
            || (s.state.as_ref().is_some_and(|st| st.waiting.is_some()) && last_failed)
        {
            failed_init = true;
        }
    }
    if failed_init && policy == RestartPolicy::Never {
        return "Failed";
    }
    if !init_done {
        return "Pending";
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in apps {
        let st = s.state.clone().unwrap_or_default();
        if st.running.is_some() {
            running += 1;
        } else if let Some(t) = st.terminated {
            stopped += 1;
            if t.exit_code == 0 {
                succeeded += 1;
            }
        } else if st.waiting.is_some() {
            if s.last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .is_some()
            {
                stopped += 1;
            } else {
                waiting += 1;
            }
        } else {
            waiting += 1;
        }
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        match policy {
            RestartPolicy::Always => "Running",
            _ if stopped == succeeded => "Succeeded",
            RestartPolicy::Never => "Failed",
            RestartPolicy::OnFailure => "Running",
        }
    } else {
        "Pending"
    }
}

/// The columns `kubectl get pods` prints.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Columns {
    /// READY: `ready/total`.
    pub ready: String,
    /// STATUS.
    pub status: String,
    /// Sum of restart counts.
    pub restarts: u32,
    /// When the last restart happened (the newest lastState.terminated.finishedAt).
    pub last_restart: Option<Timestamp>,
}

/// kubectl's pod printer (`printPod`): READY, STATUS and RESTARTS from a status.
pub fn columns(spec: &PodSpec, status: &PodStatus, terminating: bool) -> Columns {
    let mut reason = status.phase.clone().unwrap_or_else(|| "Pending".into());
    if let Some(r) = status.reason.clone().filter(|r| !r.is_empty()) {
        reason = r;
    }
    let inits = status.init_container_statuses.clone().unwrap_or_default();
    let apps = status.container_statuses.clone().unwrap_or_default();
    let mut restarts: u32 = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut note_restart = |s: &ContainerStatus| {
        if let Some(t) = s
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref())
        {
            last_restart = Some(last_restart.map_or(t.0, |l: Timestamp| l.max(t.0)));
        }
    };
    let mut initializing = false;
    let init_specs = spec.init_containers.clone().unwrap_or_default();
    for (i, s) in inits.iter().enumerate() {
        restarts += s.restart_count as u32;
        note_restart(s);
        let sidecar = init_specs
            .get(i)
            .is_some_and(|c| c.restart_policy.as_deref() == Some("Always"));
        let st = s.state.clone().unwrap_or_default();
        if st.terminated.as_ref().is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && s.started == Some(true) {
            continue;
        }
        if let Some(t) = st.terminated {
            reason = match t.reason.filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.filter(|s| *s != 0) {
                    Some(sig) => format!("Init:Signal:{sig}"),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
        } else if let Some(w) = st
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .filter(|r| !r.is_empty() && r != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let mut ready = 0;
    if !initializing {
        // Once the pod is initialised kubectl counts only restartable (sidecar) init containers' restarts.
        restarts = inits
            .iter()
            .filter(|s| {
                init_specs
                    .iter()
                    .any(|c| c.name == s.name && c.restart_policy.as_deref() == Some("Always"))
            })
            .map(|s| s.restart_count as u32)
            .sum();
        let mut has_running = false;
        for s in apps.iter().rev() {
            restarts += s.restart_count as u32;
            note_restart(s);
            let st = s.state.clone().unwrap_or_default();
            if let Some(w) = st
                .waiting
                .as_ref()
                .and_then(|w| w.reason.clone())
                .filter(|r| !r.is_empty())
            {
                reason = w;
            } else if let Some(t) = &st.terminated {
                reason = match t.reason.clone().filter(|r| !r.is_empty()) {
                    Some(r) => r,
                    None => match t.signal.filter(|s| *s != 0) {
                        Some(sig) => format!("Signal:{sig}"),
                        None => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if s.ready && st.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    } else {
        ready = apps.iter().filter(|s| s.ready).count();
    }
    if terminating {
        reason = "Terminating".into();
    }
    Columns {
        ready: format!("{ready}/{}", spec.containers.len()),
        status: reason,
        restarts,
        last_restart,
    }
}

/// `5s`, `3m`, `2h`, `4d`: kubectl's short age.
pub fn short_age(d: jiff::SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// RESTARTS as kubectl prints it: `3 (42s ago)`, or `0`.
pub fn restarts_text(c: &Columns, now: Timestamp) -> String {
    match c.last_restart {
        Some(t) if c.restarts > 0 => {
            format!("{} ({} ago)", c.restarts, short_age(now.duration_since(t)))
        }
        _ => c.restarts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> PodSpec {
        serde_json::from_value(serde_yaml::from_str::<serde_json::Value>(yaml).unwrap()).unwrap()
    }

    #[test]
    fn qos_class_follows_requests_and_limits() {
        let none = spec("containers: [{name: a, image: x}]");
        assert_eq!(qos_class(&none), "BestEffort");
        // Requests default to limits: limits alone on cpu and memory are Guaranteed.
        let limits = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: 100m, memory: 64Mi}}}]",
        );
        assert_eq!(qos_class(&limits), "Guaranteed");
        let equal = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 1000m, memory: 1Gi}}}]",
        );
        assert_eq!(qos_class(&equal), "Guaranteed");
        let lower = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 500m}}}]",
        );
        assert_eq!(qos_class(&lower), "Burstable");
        let one_without = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}}}, {name: b, image: x}]",
        );
        assert_eq!(qos_class(&one_without), "Burstable");
    }
}
