//! The columns `kubectl get pods` prints (READY, STATUS, RESTARTS) read from a pod status the way kubectl's
//! pod printer (`printPod`) reads them, and kubectl's short ages.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerStateTerminated, ContainerStatus, PodSpec, PodStatus,
};

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
    let init_specs = spec.init_containers.as_deref().unwrap_or_default();
    let inits = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    let apps = status.container_statuses.as_deref().unwrap_or_default();
    let (reason, ready, restarts, last_restart) = match init_blocker(init_specs, inits) {
        Some((at, reason)) => {
            // Still initializing: the init containers up to the one in the way count, the apps' READY as is.
            let seen = &inits[..=at];
            let ready = apps.iter().filter(|s| s.ready).count();
            (reason, ready, restart_sum(seen), latest_restart(seen))
        }
        None => {
            let app = app_summary(apps);
            let reason = app.reason.unwrap_or_else(|| pod_reason(status));
            let reason = if reason == "Completed" && app.has_running {
                if is_ready(status) {
                    "Running"
                } else {
                    "NotReady"
                }
                .to_string()
            } else {
                reason
            };
            // Once the pod is initialised kubectl counts only restartable (sidecar) init containers' restarts.
            let restarts = restart_sum(sidecars(init_specs, inits)) + restart_sum(apps);
            let last = latest_restart(inits.iter().chain(apps));
            (reason, app.ready, restarts, last)
        }
    };
    Columns {
        ready: format!("{ready}/{}", spec.containers.len()),
        status: if terminating {
            "Terminating".into()
        } else {
            reason
        },
        restarts,
        last_restart,
    }
}

/// STATUS before the containers say more: the pod's reason if it has one, else its phase.
fn pod_reason(status: &PodStatus) -> String {
    match status.reason.clone().filter(|r| !r.is_empty()) {
        Some(r) => r,
        None => status.phase.clone().unwrap_or_else(|| "Pending".into()),
    }
}

/// Whether the Ready condition is true.
fn is_ready(status: &PodStatus) -> bool {
    status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// The first init container still in the way of the app containers (not exited 0, not a started sidecar), by
/// index, with the STATUS it gives: `Init:<reason>`, `Init:Signal:N`, `Init:ExitCode:N` or `Init:N/M`.
fn init_blocker(init_specs: &[Container], inits: &[ContainerStatus]) -> Option<(usize, String)> {
    inits.iter().enumerate().find_map(|(i, s)| {
        let sidecar = init_specs
            .get(i)
            .is_some_and(|c| c.restart_policy.as_deref() == Some("Always"));
        let st = s.state.clone().unwrap_or_default();
        if st.terminated.as_ref().is_some_and(|t| t.exit_code == 0)
            || (sidecar && s.started == Some(true))
        {
            return None;
        }
        let waiting = st
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .filter(|r| !r.is_empty() && r != "PodInitializing");
        let reason = match (&st.terminated, waiting) {
            (Some(t), _) => format!("Init:{}", terminated_reason(t)),
            (None, Some(w)) => format!("Init:{w}"),
            (None, None) => format!("Init:{i}/{}", init_specs.len()),
        };
        Some((i, reason))
    })
}

/// What the app containers say once the pod is initialized.
#[derive(Debug, Default, PartialEq, Eq)]
struct AppSummary {
    /// The first (in spec order) container's waiting or terminated reason, if any has one.
    reason: Option<String>,
    /// Ready and running containers.
    ready: usize,
    /// Whether any ready container runs.
    has_running: bool,
}

/// kubectl's walk over the app containers, last to first, so the first one with a reason gives STATUS.
fn app_summary(apps: &[ContainerStatus]) -> AppSummary {
    let mut out = AppSummary::default();
    for s in apps.iter().rev() {
        let st = s.state.clone().unwrap_or_default();
        if let Some(w) = st
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .filter(|r| !r.is_empty())
        {
            out.reason = Some(w);
        } else if let Some(t) = &st.terminated {
            out.reason = Some(terminated_reason(t));
        } else if s.ready && st.running.is_some() {
            out.has_running = true;
            out.ready += 1;
        }
    }
    out
}

/// A terminated container's reason, or `Signal:N`, or `ExitCode:N`.
fn terminated_reason(t: &ContainerStateTerminated) -> String {
    match t.reason.clone().filter(|r| !r.is_empty()) {
        Some(r) => r,
        None => match t.signal.filter(|s| *s != 0) {
            Some(sig) => format!("Signal:{sig}"),
            None => format!("ExitCode:{}", t.exit_code),
        },
    }
}

/// The statuses of the sidecar (restartable) init containers, matched to the spec by name.
fn sidecars<'a>(
    init_specs: &'a [Container],
    inits: &'a [ContainerStatus],
) -> impl Iterator<Item = &'a ContainerStatus> {
    inits.iter().filter(|s| {
        init_specs
            .iter()
            .any(|c| c.name == s.name && c.restart_policy.as_deref() == Some("Always"))
    })
}

/// The sum of the restart counts.
fn restart_sum<'a>(statuses: impl IntoIterator<Item = &'a ContainerStatus>) -> u32 {
    statuses.into_iter().map(|s| s.restart_count as u32).sum()
}

/// The newest last exit among the statuses (when the last restart happened).
fn latest_restart<'a>(
    statuses: impl IntoIterator<Item = &'a ContainerStatus>,
) -> Option<Timestamp> {
    statuses
        .into_iter()
        .filter_map(|s| {
            s.last_state
                .as_ref()
                .and_then(|l| l.terminated.as_ref())
                .and_then(|t| t.finished_at.as_ref())
                .map(|t| t.0)
        })
        .max()
}

/// RESTARTS as kubectl prints it: `3 (42s ago)`, or `0`.
pub fn restarts_text(c: &Columns, now: Timestamp) -> String {
    match c.last_restart {
        Some(t) if c.restarts > 0 => {
            format!(
                "{} ({} ago)",
                c.restarts,
                crate::text::human_duration(now.duration_since(t))
            )
        }
        _ => c.restarts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateRunning, ContainerStateWaiting, PodCondition,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::super::test_support::{at, spec};
    use super::*;

    fn waiting(reason: &str) -> ContainerState {
        ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                message: None,
            }),
            ..Default::default()
        }
    }

    fn terminated(code: i32, reason: Option<&str>, signal: Option<i32>) -> ContainerState {
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: code,
                reason: reason.map(Into::into),
                signal,
                finished_at: Some(Time(at(i64::from(code) * 10))),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn running() -> ContainerState {
        ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        }
    }

    fn status(name: &str, state: ContainerState, ready: bool) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            state: Some(state),
            ready,
            ..Default::default()
        }
    }

    fn restarted(mut s: ContainerStatus, count: i32, finished: i64) -> ContainerStatus {
        s.restart_count = count;
        let mut last = terminated(1, Some("Error"), None);
        if let Some(t) = last.terminated.as_mut() {
            t.finished_at = Some(Time(at(finished)));
        }
        s.last_state = Some(last);
        s
    }

    fn pod(
        phase: &str,
        inits: Vec<ContainerStatus>,
        apps: Vec<ContainerStatus>,
        ready: bool,
    ) -> PodStatus {
        PodStatus {
            phase: Some(phase.into()),
            init_container_statuses: (!inits.is_empty()).then_some(inits),
            container_statuses: Some(apps),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn terminated_reasons_fall_back_to_the_signal_then_the_exit_code() {
        let t = |s: ContainerState| terminated_reason(s.terminated.as_ref().unwrap());
        assert_eq!(t(terminated(1, Some("Error"), Some(9))), "Error");
        assert_eq!(t(terminated(137, Some(""), Some(9))), "Signal:9");
        assert_eq!(t(terminated(2, None, Some(0))), "ExitCode:2");
    }

    #[test]
    fn the_first_init_container_in_the_way_gives_status() {
        let specs = spec("{initContainers: [{name: a}, {name: s, restartPolicy: Always}, {name: b}], containers: []}")
            .init_containers
            .unwrap();
        let mut side = status("s", running(), true);
        side.started = Some(true);
        let done = status("a", terminated(0, Some("Completed"), None), false);
        let blocker = |b: ContainerStatus| init_blocker(&specs, &[done.clone(), side.clone(), b]);
        assert_eq!(
            blocker(status("b", running(), false)),
            Some((2, "Init:2/3".into()))
        );
        assert_eq!(
            blocker(status("b", waiting("PodInitializing"), false)),
            Some((2, "Init:2/3".into()))
        );
        assert_eq!(
            blocker(status("b", waiting("ErrImagePull"), false)),
            Some((2, "Init:ErrImagePull".into()))
        );
        assert_eq!(
            blocker(status("b", terminated(1, Some("Error"), None), false)),
            Some((2, "Init:Error".into()))
        );
        assert_eq!(
            blocker(status("b", terminated(3, None, None), false)),
            Some((2, "Init:ExitCode:3".into()))
        );
        assert_eq!(blocker(status("b", terminated(0, None, None), false)), None);
        side.started = Some(false);
        assert_eq!(
            init_blocker(&specs, &[done.clone(), side.clone()]),
            Some((1, "Init:1/3".into())),
            "a sidecar that has not started is in the way"
        );
    }

    #[test]
    fn the_first_app_container_with_a_reason_gives_status() {
        let apps = [
            status("a", running(), true),
            status("b", waiting("CrashLoopBackOff"), false),
            status("c", terminated(0, Some("Completed"), None), false),
            status("d", running(), false),
        ];
        assert_eq!(
            app_summary(&apps),
            AppSummary {
                reason: Some("CrashLoopBackOff".into()),
                ready: 1,
                has_running: true
            }
        );
        assert_eq!(app_summary(&[]), AppSummary::default());
    }

    #[test]
    fn initializing_counts_only_the_init_containers_up_to_the_blocker() {
        let s =
            spec("{initContainers: [{name: i}, {name: j}], containers: [{name: a}, {name: b}]}");
        let status = pod(
            "Pending",
            vec![
                restarted(
                    status("i", terminated(0, Some("Completed"), None), false),
                    2,
                    50,
                ),
                restarted(status("j", waiting("CrashLoopBackOff"), false), 3, 70),
            ],
            vec![
                restarted(status("a", waiting("PodInitializing"), true), 5, 90),
                status("b", waiting("PodInitializing"), false),
            ],
            false,
        );
        let c = columns(&s, &status, false);
        assert_eq!(
            c,
            Columns {
                ready: "1/2".into(),
                status: "Init:CrashLoopBackOff".into(),
                restarts: 5,
                last_restart: Some(at(70))
            }
        );
    }

    #[test]
    fn initialized_counts_sidecars_and_apps() {
        let s = spec(
            "{initContainers: [{name: i}, {name: s, restartPolicy: Always}], containers: [{name: a}, {name: b}]}",
        );
        let mut side = restarted(status("s", running(), true), 4, 30);
        side.started = Some(true);
        let status = pod(
            "Running",
            vec![
                restarted(
                    status("i", terminated(0, Some("Completed"), None), false),
                    7,
                    95,
                ),
                side,
            ],
            vec![
                restarted(status("a", running(), true), 1, 40),
                status("b", running(), true),
            ],
            true,
        );
        let c = columns(&s, &status, false);
        assert_eq!(
            c,
            Columns {
                ready: "2/2".into(),
                status: "Running".into(),
                restarts: 5,
                last_restart: Some(at(95))
            }
        );
        assert_eq!(columns(&s, &status, true).status, "Terminating");
    }

    #[test]
    fn completed_with_a_running_container_is_running_or_not_ready() {
        let s = spec("containers: [{name: a}, {name: b}]");
        let apps = vec![
            status("a", terminated(0, Some("Completed"), None), false),
            status("b", running(), true),
        ];
        assert_eq!(
            columns(&s, &pod("Running", vec![], apps.clone(), true), false).status,
            "Running"
        );
        assert_eq!(
            columns(&s, &pod("Running", vec![], apps, false), false).status,
            "NotReady"
        );
        let mut reasoned = pod("Failed", vec![], vec![status("a", running(), true)], false);
        assert_eq!(columns(&s, &reasoned, false).status, "Failed");
        reasoned.reason = Some("DeadlineExceeded".into());
        assert_eq!(columns(&s, &reasoned, false).status, "DeadlineExceeded");
    }

    #[test]
    fn restarts_text_uses_human_duration() {
        let mut c = Columns {
            restarts: 3,
            last_restart: Some(at(0)),
            ..Default::default()
        };
        assert_eq!(restarts_text(&c, at(42)), "3 (42s ago)");
        assert_eq!(restarts_text(&c, at(160)), "3 (2m40s ago)");
        c.last_restart = None;
        assert_eq!(restarts_text(&c, at(42)), "3");
        c.restarts = 0;
        c.last_restart = Some(at(0));
        assert_eq!(restarts_text(&c, at(42)), "0");
    }
}
