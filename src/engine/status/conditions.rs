//! The pod's conditions, in the kubelet's order: PodReadyToStartContainers, Initialized, Ready,
//! ContainersReady, PodScheduled (always true: a static pod is on its node).

use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition};

use super::containers::exit_code;

/// What the conditions need to know of the pod beyond its container statuses.
pub(super) struct PodFacts {
    /// The sandbox runs.
    pub sandbox_ready: bool,
    /// Every init container has done its part.
    pub initialized: bool,
    /// The pod reached a terminal phase (Ready then says `PodCompleted`).
    pub completed: bool,
}

/// The conditions of a pod with these init and app container statuses.
pub(super) fn conditions(
    pod: &PodFacts,
    inits: &[ContainerStatus],
    apps: &[ContainerStatus],
) -> Vec<PodCondition> {
    let unready = unready(apps);
    let all_ready = unready.is_empty() && !apps.is_empty();
    let unready_msg = format!("containers with unready status: [{}]", unready.join(" "));
    let not_ready_reason = if pod.completed {
        "PodCompleted"
    } else {
        "ContainersNotReady"
    };
    vec![
        condition("PodReadyToStartContainers", pod.sandbox_ready, None, None),
        condition(
            "Initialized",
            pod.initialized,
            Some("ContainersNotInitialized"),
            Some(format!(
                "containers with incomplete status: [{}]",
                incomplete(inits).join(" ")
            )),
        ),
        condition(
            "Ready",
            all_ready,
            Some(not_ready_reason),
            Some(unready_msg.clone()),
        ),
        condition(
            "ContainersReady",
            all_ready,
            Some(not_ready_reason),
            Some(unready_msg),
        ),
        condition("PodScheduled", true, None, None),
    ]
}

/// A condition; the reason and message are kept only when it is false.
fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: if ok { "True".into() } else { "False".into() },
        reason: (!ok).then(|| reason.map(str::to_string)).flatten(),
        message: if ok { None } else { message },
        ..Default::default()
    }
}

/// The app containers that are not ready, by name.
fn unready(apps: &[ContainerStatus]) -> Vec<&str> {
    apps.iter()
        .filter(|s| !s.ready)
        .map(|s| s.name.as_str())
        .collect()
}

/// The init containers that have neither exited 0 nor started, by name.
fn incomplete(inits: &[ContainerStatus]) -> Vec<&str> {
    inits
        .iter()
        .filter(|s| exit_code(s) != Some(0) && s.started != Some(true))
        .map(|s| s.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated};

    use super::*;

    fn container(
        name: &str,
        ready: bool,
        started: Option<bool>,
        exit: Option<i32>,
    ) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            ready,
            started,
            state: exit.map(|exit_code| ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn find<'a>(conditions: &'a [PodCondition], type_: &str) -> &'a PodCondition {
        conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn a_true_condition_has_no_reason_or_message() {
        let c = condition("Ready", true, Some("X"), Some("m".into()));
        assert_eq!(
            (c.status.as_str(), c.reason, c.message),
            ("True", None, None)
        );
        let c = condition("Ready", false, Some("X"), Some("m".into()));
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref(), c.message.as_deref()),
            ("False", Some("X"), Some("m"))
        );
    }

    #[test]
    fn in_the_kubelets_order_with_who_is_not_ready() {
        let pod = PodFacts {
            sandbox_ready: true,
            initialized: false,
            completed: false,
        };
        let inits = [
            container("done", false, Some(false), Some(0)),
            container("failed", false, Some(false), Some(1)),
            container("sidecar", true, Some(true), None),
            container("pending", false, None, None),
        ];
        let apps = [
            container("a", true, Some(true), None),
            container("b", false, Some(true), None),
            container("c", false, None, None),
        ];
        let all = conditions(&pod, &inits, &apps);
        let types: Vec<&str> = all.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
        let init = find(&all, "Initialized");
        assert_eq!(init.reason.as_deref(), Some("ContainersNotInitialized"));
        assert_eq!(
            init.message.as_deref(),
            Some("containers with incomplete status: [failed pending]")
        );
        for type_ in ["Ready", "ContainersReady"] {
            let c = find(&all, type_);
            assert_eq!(c.reason.as_deref(), Some("ContainersNotReady"));
            assert_eq!(
                c.message.as_deref(),
                Some("containers with unready status: [b c]")
            );
        }
        assert_eq!(find(&all, "PodReadyToStartContainers").status, "True");
        assert_eq!(find(&all, "PodScheduled").status, "True");
    }

    #[test]
    fn a_completed_pod_is_not_ready_because_it_completed() {
        let pod = PodFacts {
            sandbox_ready: false,
            initialized: true,
            completed: true,
        };
        let all = conditions(&pod, &[], &[container("a", false, Some(false), Some(0))]);
        assert_eq!(find(&all, "Ready").reason.as_deref(), Some("PodCompleted"));
        assert_eq!(find(&all, "PodReadyToStartContainers").status, "False");
        assert_eq!(find(&all, "Initialized").status, "True");
        let none = conditions(&pod, &[], &[]);
        assert_eq!(
            find(&none, "Ready").status,
            "False",
            "no app container, not ready"
        );
    }
}
