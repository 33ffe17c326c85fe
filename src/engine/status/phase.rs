//! The pod's phase from its container statuses, as the kubelet's `getPhase` decides it (the plan's terminal
//! phase, when it has one, is applied before this is asked).

use k8s_openapi::api::core::v1::{ContainerStatus, PodSpec};

use super::containers::exit_code;
use crate::engine::plan::RestartPolicy;

/// The kubelet's `getPhase`: Failed when an init container failed and nothing restarts it, Pending until the
/// init containers are done, then from the app containers' states.
pub(super) fn phase(
    spec: &PodSpec,
    inits: &[ContainerStatus],
    apps: &[ContainerStatus],
    initialized: bool,
) -> &'static str {
    let policy = RestartPolicy::from_spec(spec);
    if init_failed(inits) && policy == RestartPolicy::Never {
        return "Failed";
    }
    if !initialized {
        return "Pending";
    }
    phase_of(AppStates::count(apps), policy)
}

/// Whether an init container failed: it exited non-zero, or it waits to restart after a non-zero exit.
fn init_failed(inits: &[ContainerStatus]) -> bool {
    inits.iter().any(|s| {
        let last_failed = s
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .is_some_and(|t| t.exit_code != 0);
        let waiting = s.state.as_ref().is_some_and(|st| st.waiting.is_some());
        exit_code(s).is_some_and(|c| c != 0) || (waiting && last_failed)
    })
}

/// How many app containers are in each state, as `getPhase` counts them.
#[derive(Debug, Default, PartialEq, Eq)]
struct AppStates {
    running: usize,
    /// Not started yet (waiting without having run).
    waiting: usize,
    /// Terminated, or waiting to restart after an exit.
    stopped: usize,
    /// Terminated with exit code 0.
    succeeded: usize,
}

impl AppStates {
    fn count(apps: &[ContainerStatus]) -> Self {
        let mut n = AppStates::default();
        for s in apps {
            let st = s.state.clone().unwrap_or_default();
            let has_exited = s
                .last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .is_some();
            if st.running.is_some() {
                n.running += 1;
            } else if let Some(t) = st.terminated {
                n.stopped += 1;
                if t.exit_code == 0 {
                    n.succeeded += 1;
                }
            } else if st.waiting.is_some() && has_exited {
                n.stopped += 1;
            } else {
                n.waiting += 1;
            }
        }
        n
    }
}

/// The phase of an initialized pod from its app containers' states.
fn phase_of(n: AppStates, policy: RestartPolicy) -> &'static str {
    if n.waiting > 0 {
        "Pending"
    } else if n.running > 0 {
        "Running"
    } else if n.stopped > 0 {
        match policy {
            RestartPolicy::Always => "Running",
            _ if n.stopped == n.succeeded => "Succeeded",
            RestartPolicy::Never => "Failed",
            RestartPolicy::OnFailure => "Running",
        }
    } else {
        "Pending"
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    };

    use super::super::test_support::spec;
    use super::*;

    fn terminated(code: i32) -> ContainerState {
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn waiting() -> ContainerState {
        ContainerState {
            waiting: Some(ContainerStateWaiting::default()),
            ..Default::default()
        }
    }

    fn running() -> ContainerState {
        ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        }
    }

    fn status(state: ContainerState, last: Option<ContainerState>) -> ContainerStatus {
        ContainerStatus {
            state: Some(state),
            last_state: last,
            ..Default::default()
        }
    }

    #[test]
    fn app_states_are_counted_as_get_phase_does() {
        let apps = [
            status(running(), None),
            status(terminated(0), None),
            status(terminated(3), None),
            status(waiting(), Some(terminated(0))),
            status(waiting(), None),
            ContainerStatus::default(),
            // No state at all counts as not started, even after an exit.
            ContainerStatus {
                last_state: Some(terminated(1)),
                ..Default::default()
            },
        ];
        assert_eq!(
            AppStates::count(&apps),
            AppStates {
                running: 1,
                waiting: 3,
                stopped: 3,
                succeeded: 1
            }
        );
    }

    #[test]
    fn phase_of_the_counts() {
        use RestartPolicy::{Always, Never, OnFailure};
        let n = |running, waiting, stopped, succeeded| AppStates {
            running,
            waiting,
            stopped,
            succeeded,
        };
        assert_eq!(phase_of(n(1, 1, 0, 0), Always), "Pending");
        assert_eq!(phase_of(n(1, 0, 1, 0), Never), "Running");
        assert_eq!(phase_of(n(0, 0, 2, 1), Always), "Running");
        assert_eq!(phase_of(n(0, 0, 2, 2), OnFailure), "Succeeded");
        assert_eq!(
            phase_of(n(0, 0, 2, 2), Always),
            "Running",
            "Always restarts even exit 0"
        );
        assert_eq!(phase_of(n(0, 0, 2, 1), Never), "Failed");
        assert_eq!(phase_of(n(0, 0, 2, 1), OnFailure), "Running");
        assert_eq!(phase_of(n(0, 0, 0, 0), Always), "Pending");
    }

    #[test]
    fn a_failed_init_container_fails_the_pod_only_under_never() {
        let never = spec("{restartPolicy: Never, containers: [{name: a}]}");
        let always = spec("containers: [{name: a}]");
        let failed = [status(terminated(1), None)];
        assert_eq!(phase(&never, &failed, &[], false), "Failed");
        assert_eq!(phase(&always, &failed, &[], false), "Pending");
        let restarting = [status(waiting(), Some(terminated(1)))];
        assert!(init_failed(&restarting));
        assert!(!init_failed(&[status(waiting(), Some(terminated(0)))]));
        assert!(!init_failed(&[status(terminated(0), None)]));
        let apps = [status(running(), None)];
        assert_eq!(
            phase(&never, &[status(terminated(0), None)], &apps, true),
            "Running"
        );
    }
}
