//! A pod's [`PodView`] from its manifest, what Docker has, and what its worker knows (waiting reasons,
//! back-off, events). Workers build it after every look; `podtui get` builds it without an engine.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::create::{self as spec, VolumeKind};
use super::events::PodEvent;
use super::plan::{Plan, PlanSpec, plan};
use super::snapshot::{PodView, PullProgress, VolumeView};
use super::status::{self, StatusInput, Waiting};
use crate::manifest::DesiredPod;
use crate::runtime::observe::ObservedPod;

/// Everything a view is built from.
pub struct ViewParts<'a> {
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
    /// Pulls in progress.
    pub pulls: Vec<PullProgress>,
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

/// Builds the view.
pub fn build(parts: ViewParts<'_>) -> PodView {
    let now = Timestamp::now();
    let (mut pod, source, line, manifest) = match parts.desired {
        Some(d) => (
            d.pod.clone(),
            d.source.clone(),
            d.line,
            Some(d.text.clone()),
        ),
        None => {
            let mut pod = Pod::default();
            pod.metadata.name = Some(parts.name.to_string());
            pod.metadata.namespace = Some(parts.namespace.to_string());
            pod.metadata.uid = Some(parts.uid.to_string());
            (pod, parts.orphan_source.clone(), None, None)
        }
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let mut status = status::compute(&StatusInput {
        spec: &spec,
        pod_name: &format!("{}_{}({})", parts.name, parts.namespace, parts.uid),
        observed: parts.observed,
        plan: parts.plan,
        waiting: parts.waiting,
        backoff_delay: parts.backoff_delay,
        readiness: parts.readiness,
        started: parts.started,
        messages: parts.messages,
        reason: parts.reason.clone(),
        host_ip: parts.host_ip,
        start_time: parts.start_time,
        now,
    });
    let mut transitions = parts.transitions;
    for c in status.conditions.iter_mut().flatten() {
        let at = match transitions.as_deref_mut() {
            Some(t) => {
                let entry = t.entry(c.type_.clone()).or_insert((c.status.clone(), now));
                if entry.0 != c.status {
                    *entry = (c.status.clone(), now);
                }
                entry.1
            }
            None => now,
        };
        c.last_transition_time = Some(Time(at));
    }
    let columns = status::columns(&spec, &status, parts.terminating.is_some());
    if let Some((deadline, grace)) = parts.terminating {
        pod.metadata.deletion_timestamp = Some(Time(deadline));
        pod.metadata.deletion_grace_period_seconds = Some(grace.as_secs() as i64);
    }
    pod.status = Some(status);
    PodView {
        uid: parts.uid.to_string(),
        name: parts.name.to_string(),
        namespace: parts.namespace.to_string(),
        source,
        line,
        desired: parts.desired.is_some() && parts.terminating.is_none(),
        columns,
        manifest,
        terminating: parts.terminating.map(|(t, _)| t),
        observed: parts.observed.clone(),
        backoff: parts.plan.backoff.clone(),
        pulls: parts.pulls,
        events: parts.events,
        volumes: parts
            .desired
            .map(|d| volume_views(d, &spec))
            .unwrap_or_default(),
        probes: parts.probes,
        host_access: super::security::host_access(&spec),
        pod,
    }
}

/// A view of a desired pod from Docker alone, without a worker's memory (for `podtui get` with no engine).
/// Back-off and readiness are unknown: an exited container shows as terminated, a running one as ready.
pub fn derive(dp: &DesiredPod, observed: &ObservedPod, host_ip: Option<String>) -> PodView {
    let spec = dp.pod.spec.clone().unwrap_or_default();
    let now = Timestamp::now();
    let mut p = plan(&PlanSpec::from_spec(&spec), observed, &|_, _| None, now);
    p.backoff.clear();
    build(ViewParts {
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
        pulls: Vec::new(),
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
    spec::pod_volumes(d)
        .into_iter()
        .map(|v| {
            let (kind, source) = match &v.kind {
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
                VolumeKind::HostPath { path, type_ } => {
                    (format!("hostPath ({type_})"), path.clone())
                }
                VolumeKind::DownwardApi { docker_volume, .. } => {
                    ("downwardAPI".to_string(), docker_volume.clone())
                }
            };
            let mounts = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .flat_map(|c| {
                    c.volume_mounts
                        .iter()
                        .flatten()
                        .filter(|m| m.name == v.name)
                        .map(|m| {
                            let path = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                                Some(s) => format!("{} (subPath {s})", m.mount_path),
                                None => m.mount_path.clone(),
                            };
                            (c.name.clone(), path, m.read_only == Some(true))
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            VolumeView {
                name: v.name,
                kind,
                source,
                mounts,
            }
        })
        .collect()
}
