//! Container statuses: each container's state and last state from its two newest Docker instances, with what
//! only the worker knows laid over them (waiting reasons, crash-loop back-off, readiness and startup probes),
//! and whether the init containers have done their part.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, PodSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{StatusInput, Waiting};
use crate::runtime::observe::{InstanceState, ObservedContainer};

/// The statuses of `containers` (one list of the spec), in spec order. `default_waiting`: the waiting reason
/// of a container with no instance yet and no reason from the worker.
pub(super) fn statuses(
    input: &StatusInput<'_>,
    containers: &[Container],
    default_waiting: &str,
) -> Vec<ContainerStatus> {
    containers
        .iter()
        .map(|c| {
            container_status(
                input,
                &c.name,
                c.image.as_deref().unwrap_or_default(),
                default_waiting,
            )
        })
        .collect()
}

/// The statuses of the pod's ephemeral (debug) containers, as the kubelet reports them: the state of the
/// one instance (they are never restarted), never ready.
pub(super) fn ephemeral_statuses(input: &StatusInput<'_>) -> Vec<ContainerStatus> {
    input
        .observed
        .ephemeral
        .iter()
        .map(|e| {
            let state = match &e.state {
                InstanceState::Running { started_at } => ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: started_at.map(Time),
                    }),
                    ..Default::default()
                },
                InstanceState::Exited { .. } => {
                    terminated_state(e, input.messages).unwrap_or_default()
                }
                InstanceState::Created | InstanceState::Other { .. } => {
                    waiting_for(None, "ContainerCreating")
                }
            };
            ContainerStatus {
                name: e.name.clone(),
                image: e.image.clone(),
                image_id: e.image_id.clone(),
                container_id: Some(format!("docker://{}", e.id)),
                started: Some(e.state.is_running()),
                state: Some(state),
                ..Default::default()
            }
        })
        .collect()
}

/// Whether every init container has done its part: exited 0, or (a sidecar) started.
pub(super) fn initialized(spec: &PodSpec, inits: &[ContainerStatus]) -> bool {
    spec.init_containers
        .iter()
        .flatten()
        .zip(inits)
        .all(|(c, s)| {
            let sidecar = c.restart_policy.as_deref() == Some("Always");
            exit_code(s) == Some(0) || (sidecar && s.started == Some(true))
        })
}

/// The exit code of a status whose state is terminated.
pub(super) fn exit_code(s: &ContainerStatus) -> Option<i32> {
    s.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code)
}

/// The parts of a container's status that follow from its newest instance.
#[derive(Debug, Default, PartialEq)]
struct Shown {
    state: Option<ContainerState>,
    last_state: Option<ContainerState>,
    started: Option<bool>,
    ready: bool,
}

/// The status of container `name`.
fn container_status(
    input: &StatusInput<'_>,
    name: &str,
    image: &str,
    default_waiting: &str,
) -> ContainerStatus {
    let instances = input.observed.instances(name);
    let last = instances.first().copied();
    let previous = instances
        .get(1)
        .and_then(|p| terminated_state(p, input.messages));
    let reason = input.waiting.get(name);
    let shown = match last.map(|l| (l, &l.state)) {
        None => Shown {
            state: Some(waiting_for(reason, default_waiting)),
            ..Shown::default()
        },
        Some((_, InstanceState::Running { started_at })) => {
            running(input, name, *started_at, previous)
        }
        Some((last, InstanceState::Exited { .. })) => exited(input, name, last, previous),
        Some((_, InstanceState::Created | InstanceState::Other { .. })) => Shown {
            state: Some(waiting_for(reason, "ContainerCreating")),
            last_state: previous,
            ..Shown::default()
        },
    };
    ContainerStatus {
        name: name.to_string(),
        image: image.to_string(),
        image_id: last.map(|l| l.image_id.clone()).unwrap_or_default(),
        container_id: last.map(|l| format!("docker://{}", l.id)),
        restart_count: last.map(|l| l.count as i32).unwrap_or(0),
        state: shown.state,
        last_state: shown.last_state,
        started: shown.started,
        ready: shown.ready,
        ..Default::default()
    }
}

/// A running container: started and ready unless the probes say otherwise.
fn running(
    input: &StatusInput<'_>,
    name: &str,
    started_at: Option<Timestamp>,
    previous: Option<ContainerState>,
) -> Shown {
    Shown {
        state: Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: started_at.map(Time),
            }),
            ..Default::default()
        }),
        last_state: previous,
        started: Some(
            input
                .started
                .and_then(|s| s.get(name).copied())
                .unwrap_or(true),
        ),
        ready: input
            .readiness
            .and_then(|r| r.get(name).copied())
            .unwrap_or(true),
    }
}

/// An exited container (its newest instance is `last`): waiting out a crash-loop back-off, or waiting for a
/// reason the worker knows, with the exit as its last state; else terminated, with the instance before as its
/// last state.
fn exited(
    input: &StatusInput<'_>,
    name: &str,
    last: &ObservedContainer,
    previous: Option<ContainerState>,
) -> Shown {
    let term = terminated_state(last, input.messages);
    let backoff_until = input
        .plan
        .backoff
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, until)| *until);
    let (state, last_state) = if let Some(until) = backoff_until {
        let delay = (input.backoff_delay)(name)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let left = until.duration_since(input.now).as_secs().max(0);
        let message = crash_loop_message(delay, left, name, input.pod_name);
        (Some(waiting("CrashLoopBackOff", Some(message))), term)
    } else if let Some(w) = input.waiting.get(name) {
        (Some(waiting(&w.reason, Some(w.message.clone()))), term)
    } else {
        (term, previous)
    };
    Shown {
        state,
        last_state,
        started: Some(false),
        ready: false,
    }
}

/// The kubelet's back-off message, with the seconds left added.
fn crash_loop_message(delay_secs: u64, left_secs: i64, name: &str, pod_name: &str) -> String {
    format!(
        "back-off {delay_secs}s restarting failed container={name} pod={pod_name}, restarting in {left_secs}s"
    )
}

/// Waiting for the worker's `reason` when it has one, else for `default` (no message).
fn waiting_for(reason: Option<&Waiting>, default: &str) -> ContainerState {
    match reason {
        Some(w) => waiting(&w.reason, Some(w.message.clone())),
        None => waiting(default, None),
    }
}

/// A waiting state.
fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..Default::default()
    }
}

/// The terminated state of an exited instance (`None` for one that has not exited); `messages`: the
/// termination messages by container ID.
fn terminated_state(
    i: &ObservedContainer,
    messages: &std::collections::HashMap<String, String>,
) -> Option<ContainerState> {
    terminated(i, messages).map(|t| ContainerState {
        terminated: Some(t),
        ..Default::default()
    })
}

/// How an exited instance ended, as the kubelet reports it.
fn terminated(
    i: &ObservedContainer,
    messages: &std::collections::HashMap<String, String>,
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
    Some(ContainerStateTerminated {
        container_id: Some(format!("docker://{}", i.id)),
        exit_code: *exit_code as i32,
        finished_at: finished_at.map(Time),
        // Kubernetes omits an empty message; a container that could not start says why (Docker's error).
        message: messages
            .get(&i.id)
            .filter(|m| !m.is_empty())
            .cloned()
            .or_else(|| error.clone()),
        reason: Some(terminated_reason(*exit_code, *oom_killed, error.is_some()).into()),
        signal: (*exit_code > 128 && *exit_code < 160).then_some((*exit_code - 128) as i32),
        started_at: started_at.map(Time),
    })
}

/// The terminated reason: OOMKilled, ContainerCannotRun (Docker could not start it), Completed or Error.
fn terminated_reason(exit_code: i64, oom_killed: bool, start_error: bool) -> &'static str {
    if oom_killed {
        "OOMKilled"
    } else if start_error {
        "ContainerCannotRun"
    } else if exit_code == 0 {
        "Completed"
    } else {
        "Error"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::test_support::{Fixture, at, exited as exit, instance, running as run};
    use super::*;

    fn status_of(f: &Fixture, name: &str) -> ContainerStatus {
        f.with_input(|i| container_status(i, name, "img", "PodInitializing"))
    }

    fn reason(s: &Option<ContainerState>) -> Option<String> {
        let s = s.as_ref()?;
        s.waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .or_else(|| s.terminated.as_ref().and_then(|t| t.reason.clone()))
            .or_else(|| s.running.as_ref().map(|_| "running".into()))
    }

    #[test]
    fn terminated_reasons() {
        assert_eq!(terminated_reason(0, false, false), "Completed");
        assert_eq!(terminated_reason(1, false, false), "Error");
        assert_eq!(terminated_reason(137, true, false), "OOMKilled");
        assert_eq!(terminated_reason(128, false, true), "ContainerCannotRun");
        assert_eq!(terminated_reason(0, true, true), "OOMKilled");
    }

    #[test]
    fn terminated_carries_the_signal_and_the_message() {
        let mut killed = instance("a", 0, exit(137, 9));
        let messages = HashMap::from([("a-0".to_string(), "bye".to_string())]);
        let t = terminated(&killed, &messages).unwrap();
        assert_eq!(
            (t.exit_code, t.signal, t.reason.as_deref()),
            (137, Some(9), Some("Error"))
        );
        assert_eq!(t.message.as_deref(), Some("bye"));
        assert_eq!(t.container_id.as_deref(), Some("docker://a-0"));
        assert_eq!(t.finished_at, Some(Time(at(9))));
        killed.state = InstanceState::Exited {
            exit_code: 128,
            started_at: None,
            finished_at: None,
            oom_killed: false,
            error: Some("no such file".into()),
        };
        let empty = HashMap::from([("a-0".to_string(), String::new())]);
        let t = terminated(&killed, &empty).unwrap();
        assert_eq!(t.signal, None, "128 is not a signal exit");
        assert_eq!(
            t.message.as_deref(),
            Some("no such file"),
            "an empty message falls back to Docker's error"
        );
        assert!(terminated(&instance("a", 0, run(1)), &empty).is_none());
    }

    #[test]
    fn no_instance_waits_for_the_workers_reason_or_the_default() {
        let mut f = Fixture::new("containers: [{name: a}]", vec![]);
        let s = status_of(&f, "a");
        assert_eq!(reason(&s.state).as_deref(), Some("PodInitializing"));
        assert_eq!(
            (s.restart_count, s.started, s.ready, s.container_id),
            (0, None, false, None)
        );
        f.waiting.insert(
            "a".into(),
            Waiting {
                reason: "ErrImagePull".into(),
                message: "nope".into(),
            },
        );
        let s = status_of(&f, "a");
        let w = s.state.unwrap().waiting.unwrap();
        assert_eq!(
            (w.reason.as_deref(), w.message.as_deref()),
            (Some("ErrImagePull"), Some("nope"))
        );
    }

    #[test]
    fn running_follows_the_probes_and_keeps_the_previous_exit() {
        let mut f = Fixture::new(
            "containers: [{name: a}]",
            vec![instance("a", 0, exit(1, 4)), instance("a", 1, run(5))],
        );
        let s = status_of(&f, "a");
        assert_eq!(reason(&s.state).as_deref(), Some("running"));
        assert_eq!(reason(&s.last_state).as_deref(), Some("Error"));
        assert_eq!((s.restart_count, s.started, s.ready), (1, Some(true), true));
        assert_eq!(s.image_id, "sha256:a");
        f.readiness = Some(HashMap::from([("a".to_string(), false)]));
        f.started = Some(HashMap::from([("a".to_string(), false)]));
        let s = status_of(&f, "a");
        assert_eq!((s.started, s.ready), (Some(false), false));
    }

    #[test]
    fn exited_is_terminated_unless_backing_off_or_waiting() {
        let mut f = Fixture::new(
            "containers: [{name: a}]",
            vec![instance("a", 0, exit(0, 3)), instance("a", 1, exit(2, 8))],
        );
        let s = status_of(&f, "a");
        assert_eq!(reason(&s.state).as_deref(), Some("Error"));
        assert_eq!(
            reason(&s.last_state).as_deref(),
            Some("Completed"),
            "the instance before"
        );
        assert_eq!((s.started, s.ready), (Some(false), false));

        f.waiting.insert(
            "a".into(),
            Waiting {
                reason: "CreateContainerConfigError".into(),
                message: "m".into(),
            },
        );
        let s = status_of(&f, "a");
        assert_eq!(
            reason(&s.state).as_deref(),
            Some("CreateContainerConfigError")
        );
        assert_eq!(
            reason(&s.last_state).as_deref(),
            Some("Error"),
            "the exit just seen"
        );

        f.plan.backoff.push(("a".into(), at(1020)));
        f.delays.insert("a".into(), 40);
        let s = status_of(&f, "a");
        let w = s.state.unwrap().waiting.unwrap();
        assert_eq!(
            w.reason.as_deref(),
            Some("CrashLoopBackOff"),
            "back-off wins over the worker's reason"
        );
        assert_eq!(
            w.message.as_deref(),
            Some(
                "back-off 40s restarting failed container=a pod=web-node_default(uid), restarting in 20s"
            )
        );
        assert_eq!(reason(&s.last_state).as_deref(), Some("Error"));
    }

    #[test]
    fn a_back_off_past_its_end_says_zero_seconds_left() {
        assert_eq!(
            crash_loop_message(10, 0, "a", "p"),
            "back-off 10s restarting failed container=a pod=p, restarting in 0s"
        );
        let mut f = Fixture::new(
            "containers: [{name: a}]",
            vec![instance("a", 0, exit(1, 3))],
        );
        f.plan.backoff.push(("a".into(), at(900)));
        let w = status_of(&f, "a").state.unwrap().waiting.unwrap();
        assert!(w.message.unwrap().ends_with("restarting in 0s"));
    }

    #[test]
    fn created_waits_as_container_creating() {
        let f = Fixture::new(
            "containers: [{name: a}]",
            vec![
                instance("a", 0, exit(1, 3)),
                instance("a", 1, InstanceState::Created),
            ],
        );
        let s = status_of(&f, "a");
        assert_eq!(reason(&s.state).as_deref(), Some("ContainerCreating"));
        assert_eq!(reason(&s.last_state).as_deref(), Some("Error"));
        assert_eq!(s.started, None);
    }

    #[test]
    fn init_containers_are_done_when_exited_zero_or_a_started_sidecar() {
        let f = Fixture::new(
            "{initContainers: [{name: i}, {name: s, restartPolicy: Always}], containers: [{name: a}]}",
            vec![instance("i", 0, exit(0, 2)), instance("s", 0, run(3))],
        );
        let inits = f.with_input(|i| {
            statuses(
                i,
                f.spec.init_containers.as_deref().unwrap(),
                "PodInitializing",
            )
        });
        assert!(initialized(&f.spec, &inits));
        let mut f = f;
        f.started = Some(HashMap::from([("s".to_string(), false)]));
        let inits = f.with_input(|i| {
            statuses(
                i,
                f.spec.init_containers.as_deref().unwrap(),
                "PodInitializing",
            )
        });
        assert!(
            !initialized(&f.spec, &inits),
            "a sidecar whose startup probe has not passed"
        );
        let plain_running = Fixture::new(
            "{initContainers: [{name: i}], containers: [{name: a}]}",
            vec![instance("i", 0, run(1))],
        );
        let inits = plain_running.with_input(|i| {
            statuses(
                i,
                plain_running.spec.init_containers.as_deref().unwrap(),
                "PodInitializing",
            )
        });
        assert!(!initialized(&plain_running.spec, &inits));
        assert_eq!(exit_code(&inits[0]), None);
    }
}
