//! Pod status as the kubelet computes it (phase, conditions, container statuses, pod IP) and the columns
//! `kubectl get pods` prints from it (READY, STATUS, RESTARTS), so podtui shows what kubectl would.
//!
//! [`compute`] takes its steps in order, one file each:
//!
//! - `containers`: a status per container from its newest Docker instances and what the worker knows
//!   (waiting reasons, back-off, probes), and whether the init containers are done.
//! - `phase`: the kubelet's `getPhase`.
//! - `conditions`: PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.
//! - `qos`: the QoS class.
//!
//! [`columns()`] (`columns.rs`) then reads READY, STATUS and RESTARTS from the result, as kubectl's printer does.

mod columns;
mod conditions;
mod containers;
mod phase;
pub mod qos;

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{HostIP, PodIP, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::plan::{Plan, Terminal};
use crate::runtime::observe::{ObservedContainer, ObservedPod};

pub use columns::{Columns, columns, restarts_text};

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

/// Computes the pod's status.
pub fn compute(input: &StatusInput<'_>) -> PodStatus {
    let spec = input.spec;
    let sandbox = input.observed.latest_sandbox();
    let sandbox_ready = sandbox.is_some_and(|s| s.state.is_running());
    let inits = containers::statuses(
        input,
        spec.init_containers.as_deref().unwrap_or_default(),
        "PodInitializing",
    );
    let initialized = containers::initialized(spec, &inits);
    let app_default = if initialized {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let apps = containers::statuses(input, &spec.containers, app_default);
    let ephemeral = containers::ephemeral_statuses(input);
    let phase = match input.plan.terminal {
        Some(Terminal::Succeeded) => "Succeeded",
        Some(Terminal::Failed) => "Failed",
        None => phase::phase(spec, &inits, &apps, initialized),
    };
    let pod = conditions::PodFacts {
        sandbox_ready,
        initialized,
        completed: input.plan.terminal.is_some(),
    };
    let conditions = conditions::conditions(&pod, &inits, &apps);
    let pod_ip = pod_ip(spec, sandbox, input.host_ip.as_ref());
    PodStatus {
        reason: input.reason.as_ref().map(|r| r.0.clone()),
        message: input.reason.as_ref().map(|r| r.1.clone()),
        phase: Some(phase.into()),
        conditions: Some(conditions),
        host_ip: input.host_ip.clone(),
        host_ips: input.host_ip.clone().map(|ip| vec![HostIP { ip }]),
        pod_ip: pod_ip.clone(),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip }]),
        start_time: Some(Time(start_time(input))),
        init_container_statuses: (!inits.is_empty()).then_some(inits),
        container_statuses: Some(apps),
        ephemeral_container_statuses: (!ephemeral.is_empty()).then_some(ephemeral),
        qos_class: Some(qos::qos_class(spec).into()),
        ..Default::default()
    }
}

/// The pod's IP: none until the sandbox runs; then the host's with hostNetwork, else the sandbox's.
fn pod_ip(
    spec: &PodSpec,
    sandbox: Option<&ObservedContainer>,
    host_ip: Option<&String>,
) -> Option<String> {
    let sandbox = sandbox.filter(|s| s.state.is_running())?;
    if spec.host_network == Some(true) {
        host_ip.cloned()
    } else {
        sandbox.ip.clone()
    }
}

/// When the pod started: its earliest instance's creation (or the start a sandbox carries), or the worker's
/// memory of an earlier one, or now.
fn start_time(input: &StatusInput<'_>) -> Timestamp {
    input
        .observed
        .started()
        .into_iter()
        .chain(input.start_time)
        .min()
        .unwrap_or(input.now)
}

/// Building status inputs in the unit tests of every step.
#[cfg(test)]
mod test_support {
    use std::collections::HashMap;

    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::PodSpec;

    use super::{StatusInput, Waiting};
    use crate::engine::plan::Plan;
    use crate::runtime::observe::{InstanceState, ObservedContainer, ObservedPod, Role};

    /// `seconds` after a fixed instant.
    pub(super) fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    /// A pod spec from YAML.
    pub(super) fn spec(yaml: &str) -> PodSpec {
        serde_json::from_value(serde_yaml::from_str::<serde_json::Value>(yaml).unwrap()).unwrap()
    }

    /// Instance `count` of container `name` (`POD`: the sandbox), created at `count` seconds.
    pub(super) fn instance(name: &str, count: u32, state: InstanceState) -> ObservedContainer {
        ObservedContainer {
            id: format!("{name}-{count}"),
            docker_name: format!("k8s_{name}_{count}"),
            role: if name == "POD" {
                Role::Sandbox
            } else {
                Role::App
            },
            name: name.into(),
            count,
            sandbox_id: None,
            image: "img".into(),
            image_id: format!("sha256:{name}"),
            state,
            created: Some(at(i64::from(count))),
            network_mode: String::new(),
            ipc_mode: String::new(),
            ip: (name == "POD").then(|| "10.0.0.7".to_string()),
            hostname: String::new(),
            ports: vec![],
            mounts: vec![],
            labels: HashMap::new(),
        }
    }

    /// Running since `since` seconds.
    pub(super) fn running(since: i64) -> InstanceState {
        InstanceState::Running {
            started_at: Some(at(since)),
        }
    }

    /// Exited with `code` at `finished` seconds.
    pub(super) fn exited(code: i64, finished: i64) -> InstanceState {
        InstanceState::Exited {
            exit_code: code,
            started_at: Some(at(finished - 1)),
            finished_at: Some(at(finished)),
            oom_killed: false,
            error: None,
        }
    }

    /// What a status is computed from, owned, so a test can set what it needs and borrow a [`StatusInput`].
    pub(super) struct Fixture {
        pub spec: PodSpec,
        pub observed: ObservedPod,
        pub plan: Plan,
        pub waiting: HashMap<String, Waiting>,
        pub delays: HashMap<String, u64>,
        pub readiness: Option<HashMap<String, bool>>,
        pub started: Option<HashMap<String, bool>>,
        pub messages: HashMap<String, String>,
        pub host_ip: Option<String>,
        pub start_time: Option<Timestamp>,
        pub now: Timestamp,
    }

    impl Fixture {
        /// A pod of `spec_yaml` with `instances` (the sandbox among them, or not).
        pub(super) fn new(spec_yaml: &str, instances: Vec<ObservedContainer>) -> Self {
            Self {
                spec: spec(spec_yaml),
                observed: ObservedPod::from_instances(instances),
                plan: Plan::default(),
                waiting: HashMap::new(),
                delays: HashMap::new(),
                readiness: None,
                started: None,
                messages: HashMap::new(),
                host_ip: Some("192.168.1.2".into()),
                start_time: None,
                now: at(1000),
            }
        }

        /// Runs `f` with the input borrowed from the fixture.
        pub(super) fn with_input<T>(&self, f: impl FnOnce(&StatusInput<'_>) -> T) -> T {
            let delay = |name: &str| {
                self.delays
                    .get(name)
                    .map(|s| std::time::Duration::from_secs(*s))
            };
            f(&StatusInput {
                spec: &self.spec,
                pod_name: "web-node_default(uid)",
                observed: &self.observed,
                plan: &self.plan,
                waiting: &self.waiting,
                backoff_delay: &delay,
                readiness: self.readiness.as_ref(),
                started: self.started.as_ref(),
                messages: &self.messages,
                reason: None,
                host_ip: self.host_ip.clone(),
                start_time: self.start_time,
                now: self.now,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{Fixture, at, exited, instance, running, spec};
    use super::*;

    #[test]
    fn the_pod_ip_waits_for_a_running_sandbox() {
        let bridge = spec("containers: [{name: a}]");
        let host = spec("{hostNetwork: true, containers: [{name: a}]}");
        let host_ip = "192.168.1.2".to_string();
        let up = instance("POD", 0, running(0));
        let down = instance("POD", 0, exited(0, 5));
        assert_eq!(
            pod_ip(&bridge, Some(&up), Some(&host_ip)).as_deref(),
            Some("10.0.0.7")
        );
        assert_eq!(
            pod_ip(&host, Some(&up), Some(&host_ip)),
            Some(host_ip.clone())
        );
        assert_eq!(pod_ip(&bridge, Some(&down), Some(&host_ip)), None);
        assert_eq!(pod_ip(&host, None, Some(&host_ip)), None);
    }

    #[test]
    fn the_start_time_is_the_earliest_known() {
        let mut f = Fixture::new(
            "containers: [{name: a}]",
            vec![instance("POD", 3, running(3)), instance("a", 5, running(5))],
        );
        f.with_input(|i| assert_eq!(start_time(i), at(3)));
        f.start_time = Some(at(1));
        f.with_input(|i| assert_eq!(start_time(i), at(1)));
        let empty = Fixture::new("containers: [{name: a}]", vec![]);
        empty.with_input(|i| assert_eq!(start_time(i), at(1000)));
    }

    #[test]
    fn a_running_pod_all_together() {
        let f = Fixture::new(
            "{initContainers: [{name: init, image: busybox}], containers: [{name: web, image: nginx}]}",
            vec![
                instance("POD", 0, running(0)),
                instance("init", 0, exited(0, 2)),
                instance("web", 0, running(3)),
            ],
        );
        let status = f.with_input(compute);
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.pod_ip.as_deref(), Some("10.0.0.7"));
        assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
        assert_eq!(status.start_time, Some(Time(at(0))));
        let inits = status.init_container_statuses.clone().unwrap();
        assert_eq!(
            inits[0]
                .state
                .as_ref()
                .unwrap()
                .terminated
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("Completed")
        );
        let apps = status.container_statuses.clone().unwrap();
        assert!(apps[0].ready);
        let true_conditions: Vec<&str> = status
            .conditions
            .iter()
            .flatten()
            .filter(|c| c.status == "True")
            .map(|c| c.type_.as_str())
            .collect();
        assert_eq!(
            true_conditions,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        let cols = columns(&f.spec, &status, false);
        assert_eq!(
            (cols.ready.as_str(), cols.status.as_str(), cols.restarts),
            ("1/1", "Running", 0)
        );
    }

    #[test]
    fn the_plans_terminal_phase_wins() {
        let mut f = Fixture::new(
            "{restartPolicy: Never, containers: [{name: a}]}",
            vec![instance("POD", 0, running(0)), instance("a", 0, running(1))],
        );
        f.plan.terminal = Some(Terminal::Failed);
        let status = f.with_input(compute);
        assert_eq!(status.phase.as_deref(), Some("Failed"));
        let ready = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            ready.status, "True",
            "a running ready container keeps Ready"
        );
        f.readiness = Some(HashMap::from([("a".to_string(), false)]));
        let status = f.with_input(compute);
        let ready = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.reason.as_deref(), Some("PodCompleted"));
    }
}
