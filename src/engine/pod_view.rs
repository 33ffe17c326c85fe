//! Building a pod's [`PodView`], the record of one pod the engine publishes in its snapshot: from its manifest,
//! what Docker has, and what its worker knows (waiting reasons, back-off, probes, events). Workers build one after
//! every look ([`build()`]); `podtui get` builds one from Docker alone, without an engine ([`derive()`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, EphemeralContainer, Pod, PodCondition, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::create::{self, VolumeKind};
use super::events::PodEvent;
use super::plan::{Plan, PlanSpec, Step, StopReason, plan};
use super::snapshot::{PodView, PullProgress, VolumeView};
use super::status::{self, StatusInput, Waiting};
use crate::manifest::DesiredPod;
use crate::runtime::observe::ObservedPod;

/// Everything a pod view is built from.
pub struct PodViewInput<'a> {
    /// UID.
    pub uid: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// The manifest's pod (none for a pod only Docker still has).
    pub desired: Option<&'a DesiredPod>,
    /// The source label, for pods without a manifest.
    pub orphan_source: String,
    /// What Docker has.
    pub observed: &'a ObservedPod,
    /// The latest plan.
    pub plan: &'a Plan,
    /// Waiting reasons per container.
    pub waiting: &'a HashMap<String, Waiting>,
    /// Current crash-loop delay per container.
    pub backoff_delay: &'a dyn Fn(&str) -> Option<Duration>,
    /// Termination deadline and grace period, while terminating.
    pub terminating: Option<(Timestamp, Duration)>,
    /// The host's IP as seen from containers.
    pub host_ip: Option<String>,
    /// When the pod started, if known beyond its current containers (the worker remembers the earliest).
    pub start_time: Option<Timestamp>,
    /// When the engine first saw the pod (this run).
    pub seen: Option<Timestamp>,
    /// Pulls in progress.
    pub pulls: Vec<PullProgress>,
    /// Images in a pull back-off, with when each is pulled again.
    pub pull_retry: Vec<(String, Timestamp)>,
    /// Events.
    pub events: Vec<PodEvent>,
    /// Condition transition times kept between views (`None`: every condition changed now).
    pub transitions: Option<&'a mut HashMap<String, (String, Timestamp)>>,
    /// Readiness per container (probes), if known.
    pub readiness: Option<&'a HashMap<String, bool>>,
    /// Startup state per container (probes), if known.
    pub started: Option<&'a HashMap<String, bool>>,
    /// Termination messages by container ID.
    pub messages: &'a HashMap<String, String>,
    /// Probe states.
    pub probes: Vec<super::prober::ProbeView>,
    /// Pod status reason and message.
    pub reason: Option<(String, String)>,
}

/// Builds the view: the pod with its computed status, kubectl's columns, and what the UI shows besides.
pub fn build(input: PodViewInput<'_>) -> PodView {
    let now = Timestamp::now();
    let Origin {
        mut pod,
        source,
        line,
        manifest,
    } = origin(&input);
    if !input.observed.ephemeral.is_empty()
        && let Some(spec) = pod.spec.as_mut()
    {
        spec.ephemeral_containers = Some(ephemeral_specs(input.observed));
    }
    let spec = pod.spec.clone().unwrap_or_default();
    let mut status = status::compute(&StatusInput {
        spec: &spec,
        pod_name: &format!("{}_{}({})", input.name, input.namespace, input.uid),
        observed: input.observed,
        plan: input.plan,
        waiting: input.waiting,
        backoff_delay: input.backoff_delay,
        readiness: input.readiness,
        started: input.started,
        messages: input.messages,
        reason: input.reason.clone(),
        host_ip: input.host_ip,
        start_time: input.start_time,
        now,
    });
    stamp_transitions(
        status.conditions.iter_mut().flatten(),
        input.transitions,
        now,
    );
    let columns = status::columns(&spec, &status, input.terminating.is_some());
    mark_terminating(&mut pod, input.terminating);
    pod.status = Some(status);
    PodView {
        uid: input.uid.to_string(),
        name: input.name.to_string(),
        namespace: input.namespace.to_string(),
        source,
        line,
        desired: input.desired.is_some() && input.terminating.is_none(),
        columns,
        manifest,
        terminating: input.terminating.map(|(t, _)| t),
        observed: input.observed.clone(),
        backoff: input.plan.backoff.clone(),
        pulls: input.pulls,
        pull_retry: input.pull_retry,
        events: input.events,
        volumes: input
            .desired
            .map(|d| volume_views(d, &spec))
            .unwrap_or_default(),
        probes: input.probes,
        seen: input.seen,
        host_access: super::security::host_access(&spec),
        stopping: stopping_for_restart(input.plan, input.observed),
        pod,
    }
}

/// `spec.ephemeralContainers` from the debug containers Docker has: name, image, target, and the TTY and
/// stdin they were made with.
fn ephemeral_specs(observed: &ObservedPod) -> Vec<EphemeralContainer> {
    observed
        .ephemeral
        .iter()
        .map(|e| {
            let asked = e.labels.get(crate::debug::EPHEMERAL_SPEC);
            asked
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_else(|| EphemeralContainer {
                    name: e.name.clone(),
                    image: Some(e.image.clone()),
                    target_container_name: e.labels.get(crate::debug::EPHEMERAL_TARGET).cloned(),
                    stdin: e
                        .labels
                        .get(crate::debug::EPHEMERAL_STDIN)
                        .map(|v| v == "true"),
                    tty: e
                        .labels
                        .get(crate::debug::EPHEMERAL_TTY)
                        .map(|v| v == "true"),
                    termination_message_policy: Some("File".into()),
                    image_pull_policy: Some("IfNotPresent".into()),
                    ..Default::default()
                })
        })
        .collect()
}

/// The containers `plan` stops for a restart a user asked for, by name.
fn stopping_for_restart(plan: &Plan, observed: &ObservedPod) -> Vec<String> {
    plan.steps
        .iter()
        .filter_map(|s| match s {
            Step::Stop {
                ids,
                reason: StopReason::RestartRequested,
            } => Some(ids),
            _ => None,
        })
        .flatten()
        .filter_map(|id| observed.containers.iter().find(|c| &c.id == id))
        .map(|c| c.name.clone())
        .collect()
}

/// Where a view's pod comes from: its manifest, or (a pod only Docker still has) its identity alone.
struct Origin {
    pod: Pod,
    source: String,
    line: Option<usize>,
    manifest: Option<Arc<str>>,
}

/// The pod as the manifest gives it, or an empty pod with the identity Docker's labels give.
fn origin(input: &PodViewInput<'_>) -> Origin {
    match input.desired {
        Some(d) => Origin {
            pod: d.pod.clone(),
            source: d.source.clone(),
            line: d.line,
            manifest: Some(d.text.clone()),
        },
        None => {
            let mut pod = Pod::default();
            pod.metadata.name = Some(input.name.to_string());
            pod.metadata.namespace = Some(input.namespace.to_string());
            pod.metadata.uid = Some(input.uid.to_string());
            Origin {
                pod,
                source: input.orphan_source.clone(),
                line: None,
                manifest: None,
            }
        }
    }
}

/// Sets each condition's lastTransitionTime: kept in `memory` (condition type → status and since when) while
/// its status stays the same, `now` when it changes or when there is no memory.
fn stamp_transitions<'a>(
    conditions: impl Iterator<Item = &'a mut PodCondition>,
    mut memory: Option<&mut HashMap<String, (String, Timestamp)>>,
    now: Timestamp,
) {
    for c in conditions {
        let at = match memory.as_deref_mut() {
            Some(m) => {
                let entry = m.entry(c.type_.clone()).or_insert((c.status.clone(), now));
                if entry.0 != c.status {
                    *entry = (c.status.clone(), now);
                }
                entry.1
            }
            None => now,
        };
        c.last_transition_time = Some(Time(at));
    }
}

/// A terminating pod carries its deadline and grace period as Kubernetes' deletion fields.
fn mark_terminating(pod: &mut Pod, terminating: Option<(Timestamp, Duration)>) {
    if let Some((deadline, grace)) = terminating {
        pod.metadata.deletion_timestamp = Some(Time(deadline));
        pod.metadata.deletion_grace_period_seconds = Some(grace.as_secs() as i64);
    }
}

/// A view of a desired pod from Docker alone, without a worker's memory (for `podtui get` with no engine).
/// Back-off and readiness are unknown: an exited container shows as terminated, a running one as ready.
pub fn derive(dp: &DesiredPod, observed: &ObservedPod, host_ip: Option<String>) -> PodView {
    let spec = dp.pod.spec.clone().unwrap_or_default();
    let now = Timestamp::now();
    let mut p = plan(&PlanSpec::from_spec(&spec), observed, &|_, _| None, now);
    p.backoff.clear();
    build(PodViewInput {
        uid: &dp.uid,
        name: &dp.name,
        namespace: &dp.namespace,
        desired: Some(dp),
        orphan_source: String::new(),
        observed,
        plan: &p,
        waiting: &HashMap::new(),
        backoff_delay: &|_| None,
        terminating: None,
        host_ip,
        start_time: None,
        seen: None,
        pulls: Vec::new(),
        pull_retry: Vec::new(),
        events: Vec::new(),
        transitions: None,
        readiness: None,
        started: None,
        messages: &HashMap::new(),
        probes: Vec::new(),
        reason: None,
    })
}

/// The pod's volumes and who mounts them where.
pub fn volume_views(d: &DesiredPod, spec: &PodSpec) -> Vec<VolumeView> {
    create::pod_volumes(d)
        .into_iter()
        .map(|v| {
            let (kind, source) = kind_and_source(&v.kind);
            let containers = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter());
            VolumeView {
                mounts: mounts_of(containers, &v.name),
                name: v.name,
                kind,
                source,
            }
        })
        .collect()
}

/// What a volume is, as the UI names it (`emptyDir (Memory)`, `hostPath (Directory)`…), and what backs it
/// (the Docker volume or the host path).
fn kind_and_source(kind: &VolumeKind) -> (String, String) {
    match kind {
        VolumeKind::EmptyDir {
            docker_volume,
            memory: true,
            ..
        } => ("emptyDir (Memory)".to_string(), docker_volume.clone()),
        VolumeKind::EmptyDir { docker_volume, .. } => {
            ("emptyDir".to_string(), docker_volume.clone())
        }
        VolumeKind::HostPath { path, type_ } if type_.is_empty() => {
            ("hostPath".to_string(), path.clone())
        }
        VolumeKind::HostPath { path, type_ } => (format!("hostPath ({type_})"), path.clone()),
        VolumeKind::DownwardApi { docker_volume, .. } => {
            ("downwardAPI".to_string(), docker_volume.clone())
        }
    }
}

/// Who mounts volume `name`: (container, mount path with its subPath, read-only), in container order.
fn mounts_of<'a>(
    containers: impl Iterator<Item = &'a Container>,
    name: &str,
) -> Vec<(String, String, bool)> {
    containers
        .flat_map(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .filter(|m| m.name == name)
                .map(|m| {
                    let path = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                        Some(s) => format!("{} (subPath {s})", m.mount_path),
                        None => m.mount_path.clone(),
                    };
                    (c.name.clone(), path, m.read_only == Some(true))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Format, ParseInput, SourceId, parse_manifest};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    fn condition(type_: &str, status: &str) -> PodCondition {
        PodCondition {
            type_: type_.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    fn desired(yaml: &str) -> DesiredPod {
        let source = SourceId::File("/m/web.yaml".into());
        let mut parsed = parse_manifest(&ParseInput {
            display: "web.yaml",
            text: yaml,
            format: Format::Yaml,
            node_name: "node1",
            source: &source,
        });
        assert!(!parsed.has_errors(), "{:?}", parsed.findings);
        parsed.pods.remove(0)
    }

    const WEB: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  volumes: [{name: data, emptyDir: {medium: Memory}}, {name: logs, hostPath: {path: /var/log, type: Directory}}]\n  initContainers: [{name: init, image: busybox, volumeMounts: [{name: data, mountPath: /d}]}]\n  containers: [{name: app, image: nginx, volumeMounts: [{name: data, mountPath: /srv, subPath: www, readOnly: true}, {name: logs, mountPath: /logs}]}]\n";

    #[test]
    fn transition_times_are_kept_until_a_condition_changes() {
        let mut memory = HashMap::new();
        let mut first = [
            condition("Ready", "False"),
            condition("PodScheduled", "True"),
        ];
        stamp_transitions(first.iter_mut(), Some(&mut memory), at(0));
        let mut second = [
            condition("Ready", "True"),
            condition("PodScheduled", "True"),
        ];
        stamp_transitions(second.iter_mut(), Some(&mut memory), at(10));
        assert_eq!(
            second[0].last_transition_time,
            Some(Time(at(10))),
            "Ready changed"
        );
        assert_eq!(
            second[1].last_transition_time,
            Some(Time(at(0))),
            "PodScheduled did not"
        );
        let mut forgetful = [condition("Ready", "True")];
        stamp_transitions(forgetful.iter_mut(), None, at(20));
        assert_eq!(forgetful[0].last_transition_time, Some(Time(at(20))));
    }

    #[test]
    fn terminating_sets_the_deletion_fields() {
        let mut pod = Pod::default();
        mark_terminating(&mut pod, None);
        assert_eq!(pod.metadata.deletion_timestamp, None);
        mark_terminating(&mut pod, Some((at(30), Duration::from_secs(30))));
        assert_eq!(pod.metadata.deletion_timestamp, Some(Time(at(30))));
        assert_eq!(pod.metadata.deletion_grace_period_seconds, Some(30));
    }

    #[test]
    fn volumes_are_named_and_their_mounts_listed() {
        let dp = desired(WEB);
        let spec = dp.pod.spec.clone().unwrap();
        let views = volume_views(&dp, &spec);
        assert_eq!(views.len(), 2);
        assert_eq!(
            (views[0].name.as_str(), views[0].kind.as_str()),
            ("data", "emptyDir (Memory)")
        );
        assert_eq!(
            views[0].mounts,
            [
                ("init".to_string(), "/d".to_string(), false),
                ("app".to_string(), "/srv (subPath www)".to_string(), true),
            ]
        );
        assert_eq!(
            (views[1].kind.as_str(), views[1].source.as_str()),
            ("hostPath (Directory)", "/var/log")
        );
        assert_eq!(
            views[1].mounts,
            [("app".to_string(), "/logs".to_string(), false)]
        );
        let plain = VolumeKind::HostPath {
            path: "/x".into(),
            type_: String::new(),
        };
        assert_eq!(
            kind_and_source(&plain),
            ("hostPath".to_string(), "/x".to_string())
        );
    }

    #[test]
    fn a_pod_without_a_manifest_is_known_by_its_identity() {
        let observed = ObservedPod::default();
        let view = build(PodViewInput {
            uid: "u1",
            name: "gone-node1",
            namespace: "default",
            desired: None,
            orphan_source: "/m/gone.yaml".into(),
            observed: &observed,
            plan: &Plan::default(),
            waiting: &HashMap::new(),
            backoff_delay: &|_| None,
            terminating: Some((at(30), Duration::from_secs(2))),
            host_ip: None,
            start_time: None,
            seen: None,
            pulls: Vec::new(),
            pull_retry: Vec::new(),
            events: Vec::new(),
            transitions: None,
            readiness: None,
            started: None,
            messages: &HashMap::new(),
            probes: Vec::new(),
            reason: None,
        });
        assert_eq!(view.pod.metadata.name.as_deref(), Some("gone-node1"));
        assert_eq!(view.pod.metadata.uid.as_deref(), Some("u1"));
        assert_eq!(
            (view.source.as_str(), view.line, view.manifest.is_none()),
            ("/m/gone.yaml", None, true)
        );
        assert!(!view.desired);
        assert_eq!(view.columns.status, "Terminating");
        assert_eq!(view.terminating, Some(at(30)));
        assert!(view.volumes.is_empty());
    }

    #[test]
    fn derive_reads_a_desired_pod_from_docker_alone() {
        let dp = desired(WEB);
        let view = derive(&dp, &ObservedPod::default(), Some("192.168.1.2".into()));
        assert!(view.desired);
        assert_eq!((view.source.as_str(), view.line), ("web.yaml", Some(1)));
        assert_eq!(view.columns.ready, "0/1");
        assert_eq!(view.columns.status, "Init:0/1");
        assert_eq!(view.volumes.len(), 2);
        assert!(view.host_access.iter().any(|h| h == "hostPath /var/log"));
        let status = view.pod.status.unwrap();
        assert!(
            status
                .conditions
                .iter()
                .flatten()
                .all(|c| c.last_transition_time.is_some())
        );
    }
}
