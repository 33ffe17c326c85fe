//! The plan's rules, one situation per test.
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
) -> ObservedContainer {
    ObservedContainer {
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
        kill_requested: false,
        restart_requested: Vec::new(),
        precreate: false,
        not_ahead: Vec::new(),
        precreated: Vec::new(),
    }
}

fn no_backoff(_: &str, _: Timestamp) -> Option<Timestamp> {
    None
}

fn starts(p: &Plan) -> Vec<(String, u32)> {
    p.steps
        .iter()
        .filter_map(|a| match a {
            Step::Start {
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
    assert_eq!(p.steps, vec![Step::CreateSandbox { attempt: 0 }]);
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
        p.steps.as_slice(),
        [Step::Stop {
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
    let obs = ObservedPod::from_instances(vec![sb, inst("a", Role::App, "a", 2, "sb", running())]);
    let p = plan(
        &spec(&[], &["a"], RestartPolicy::Always),
        &obs,
        &no_backoff,
        t(6),
    );
    assert_eq!(
        p.steps,
        vec![
            Step::Stop {
                ids: vec!["a".into()],
                reason: StopReason::SandboxDied
            },
            Step::CreateSandbox { attempt: 4 }
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
    // The old sandbox stays while a container of it is left (podman refuses to remove it before them).
    assert!(
        !p.steps.iter().any(|s| matches!(s, Step::Remove { .. })),
        "{:?}",
        p.steps
    );
    // Once its last container is collected, it goes.
    let obs = ObservedPod::from_instances(vec![
        inst("sb", Role::Sandbox, "POD", 3, "", exited(0, 5)),
        inst("sb2", Role::Sandbox, "POD", 4, "", running()),
        inst("a3", Role::App, "a", 3, "sb2", exited(1, 7)),
        inst("a4", Role::App, "a", 4, "sb2", running()),
    ]);
    let p = plan(
        &spec(&[], &["a"], RestartPolicy::Always),
        &obs,
        &always_backoff,
        t(8),
    );
    assert_eq!(
        p.steps,
        vec![Step::Remove {
            ids: vec!["sb".into()]
        }]
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
        p.steps,
        vec![Step::Remove {
            ids: vec!["a0".into()]
        }]
    );
}

#[test]
fn a_kill_request_kills_what_runs_now_and_nothing_else_that_pass() {
    let obs = ObservedPod::from_instances(vec![
        inst("sb", Role::Sandbox, "POD", 0, "", running()),
        inst("a0", Role::App, "a", 0, "sb", running()),
        inst("b0", Role::App, "b", 0, "sb", exited(1, 1)),
    ]);
    let mut s = spec(&[], &["a", "b"], RestartPolicy::Always);
    s.kill_requested = true;
    let p = plan(&s, &obs, &no_backoff, t(3));
    assert_eq!(
        p.steps,
        vec![Step::Kill {
            ids: vec!["sb".into(), "a0".into()]
        }],
        "from this observation: the running sandbox and container, no restart planned yet"
    );
    // Nothing running: the request has nothing to do and the pod is planned as usual.
    let obs = ObservedPod::from_instances(vec![inst(
        "sb",
        Role::Sandbox,
        "POD",
        0,
        "",
        exited(137, 2),
    )]);
    let p = plan(&s, &obs, &no_backoff, t(3));
    assert_eq!(p.steps, vec![Step::CreateSandbox { attempt: 1 }]);
}

#[test]
fn a_restart_request_stops_then_starts_whatever_the_policy_says() {
    let sb = inst("sb", Role::Sandbox, "POD", 0, "", running());
    let mut s = spec(&[], &["a"], RestartPolicy::Never);
    s.restart_requested = vec!["a".into()];
    let obs = ObservedPod::from_instances(vec![
        sb.clone(),
        inst("a0", Role::App, "a", 0, "sb", running()),
    ]);
    let p = plan(&s, &obs, &no_backoff, t(3));
    assert_eq!(
        p.steps,
        vec![Step::Stop {
            ids: vec!["a0".into()],
            reason: StopReason::RestartRequested
        }]
    );
    // Stopped (exit 143): Never would leave it; the request starts the next instance, with no back-off.
    let obs = ObservedPod::from_instances(vec![
        sb,
        inst("a0", Role::App, "a", 0, "sb", exited(143, 4)),
    ]);
    let always_backoff = |_: &str, _: Timestamp| Some(t(1000));
    let p = plan(&s, &obs, &always_backoff, t(5));
    assert_eq!(starts(&p), [("a".to_string(), 1)]);
    assert!(p.backoff.is_empty());
}

#[test]
fn a_new_sandbox_precreates_what_starts_first_and_the_starts_keep_their_order() {
    let mut s = spec(&[], &["a", "b", "ip"], RestartPolicy::Always);
    s.precreate = true;
    s.not_ahead = vec!["ip".into()];
    let p = plan(&s, &ObservedPod::default(), &no_backoff, t(0));
    assert_eq!(
        p.steps,
        vec![
            Step::CreateSandbox { attempt: 0 },
            Step::Precreate {
                containers: vec![("a".into(), Role::App, 0), ("b".into(), Role::App, 0)]
            }
        ]
    );
    // With init containers only the first is created ahead: the apps wait for every init to complete.
    let mut s2 = spec(&["i1", "i2"], &["a"], RestartPolicy::Always);
    s2.precreate = true;
    let p = plan(&s2, &ObservedPod::default(), &no_backoff, t(0));
    assert_eq!(
        p.steps[1],
        Step::Precreate {
            containers: vec![("i1".into(), Role::Init, 0)]
        }
    );
    // Next look: the pre-created instances are started in spec order, not removed as leftovers; the one that
    // was not pre-created is created and started in its place in the order.
    let obs = ObservedPod::from_instances(vec![
        inst("sb", Role::Sandbox, "POD", 0, "", running()),
        inst("a", Role::App, "a", 0, "sb", InstanceState::Created),
        inst("b", Role::App, "b", 0, "sb", InstanceState::Created),
    ]);
    s.precreated = vec!["a".into(), "b".into()];
    let p = plan(&s, &obs, &no_backoff, t(1));
    assert_eq!(
        starts(&p),
        [
            ("a".to_string(), 0),
            ("b".to_string(), 0),
            ("ip".to_string(), 0)
        ]
    );
    assert!(!p.steps.iter().any(|s| matches!(s, Step::Remove { .. })));
    // A Created instance the worker did not pre-create (a crash between create and start) is replaced.
    s.precreated.clear();
    let p = plan(&s, &obs, &no_backoff, t(1));
    assert!(matches!(p.steps[0], Step::Remove { .. }), "{:?}", p.steps);
    // A new sandbox after the old one died pre-creates the next instance of each.
    let obs = ObservedPod::from_instances(vec![
        inst("sb", Role::Sandbox, "POD", 0, "", exited(0, 5)),
        inst("a", Role::App, "a", 2, "sb", exited(137, 5)),
    ]);
    let p = plan(&s, &obs, &no_backoff, t(6));
    assert_eq!(
        p.steps[1],
        Step::Precreate {
            containers: vec![("a".into(), Role::App, 3), ("b".into(), Role::App, 0)]
        }
    );
}

#[test]
fn containers_with_a_sub_path_or_the_pod_ip_are_not_created_ahead() {
    let pod: k8s_openapi::api::core::v1::PodSpec = serde_json::from_value(serde_json::json!({
        "containers": [
            {"name": "plain"},
            {"name": "sub", "volumeMounts": [{"name": "v", "mountPath": "/m", "subPath": "x"}]},
            {"name": "expr", "volumeMounts": [{"name": "v", "mountPath": "/m", "subPathExpr": "$(P)"}]},
            {"name": "ip", "env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]},
        ]
    }))
    .unwrap();
    assert_eq!(PlanSpec::from_spec(&pod).not_ahead, ["sub", "expr", "ip"]);
}

#[test]
fn debug_containers_are_never_planned_and_go_once_their_sandbox_was_replaced() {
    // A running debug container of the current sandbox, one exited (kept) there, one exited of an old
    // sandbox, and one still running in an old sandbox (which must stay while it is used).
    let obs = ObservedPod::from_instances(vec![
        inst("sb0", Role::Sandbox, "POD", 0, "", exited(0, 3)),
        inst("sb1", Role::Sandbox, "POD", 1, "", exited(0, 4)),
        inst("sb2", Role::Sandbox, "POD", 2, "", running()),
        inst("a0", Role::App, "a", 0, "sb2", running()),
        inst("d-run", Role::Ephemeral, "debugger-a", 0, "sb2", running()),
        inst(
            "d-kept",
            Role::Ephemeral,
            "debugger-b",
            0,
            "sb2",
            exited(0, 5),
        ),
        inst(
            "d-old",
            Role::Ephemeral,
            "debugger-c",
            0,
            "sb0",
            exited(137, 3),
        ),
        inst(
            "d-old-run",
            Role::Ephemeral,
            "debugger-d",
            0,
            "sb1",
            running(),
        ),
    ]);
    assert_eq!(obs.ephemeral.len(), 4);
    assert!(obs.all().all(|i| i.role != Role::Ephemeral));
    let p = plan(
        &spec(&[], &["a"], RestartPolicy::Always),
        &obs,
        &no_backoff,
        t(8),
    );
    assert_eq!(
        p.steps,
        vec![Step::Remove {
            ids: vec!["d-old".into()]
        }],
        "no start, no restart; sb0 waits for d-old to go, sb1 for d-old-run"
    );
}
