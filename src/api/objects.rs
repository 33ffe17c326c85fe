//! The objects the API serves, built from the engine's snapshot on each request: a static pod as the API server
//! shows its **mirror pod**, the engine's pod events as core/v1 `Event`s, and the namespaces pods use. (The Node
//! is in [`super::node`].) Nothing here is stored: the store only remembers each object's resourceVersion and
//! creation time ([`Stamp`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Event, EventSource, Namespace, NamespaceSpec, NamespaceStatus, ObjectReference, Pod,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use super::select::Fields;
use crate::engine::events::{EventType, PodEvent};
use crate::engine::snapshot::PodView;

/// The annotation holding a mirror pod's static-pod hash (its UID in the kubelet).
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// A served object's resourceVersion and creation time, as the store remembers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// resourceVersion (0 while computing a fingerprint: then none is written).
    pub rv: u64,
    /// creationTimestamp.
    pub created: Timestamp,
}

fn rv_string(rv: u64) -> Option<String> {
    (rv != 0).then(|| rv.to_string())
}

/// FNV-1a 64 over `parts`, from `seed`: stable identifiers derived from names.
pub fn fnv64(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf29ce484222325u64 ^ seed;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Writes 32 hex digits as a UUID (8-4-4-4-12).
fn uuid_format(hex: &str) -> String {
    let h: String = hex.chars().chain(std::iter::repeat('0')).take(32).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A UUID derived from `parts` (the same parts give the same UUID in every run).
pub fn derived_uid(parts: &[&[u8]]) -> String {
    uuid_format(&format!("{:016x}{:016x}", fnv64(1, parts), fnv64(2, parts)))
}

/// The mirror pod's UID: the static pod's hash written as a UUID (the API server gives a mirror pod a UID of
/// its own; the static UID stays in the `kubernetes.io/config.mirror` annotation).
pub fn mirror_uid(static_uid: &str) -> String {
    uuid_format(static_uid)
}

/// The Node's UID.
pub fn node_uid(node: &str) -> String {
    derived_uid(&[b"node", node.as_bytes()])
}

/// The pod's name as written in its manifest (the full name without `-<node>`).
pub fn short_name<'a>(full: &'a str, node: &str) -> &'a str {
    full.strip_suffix(node)
        .and_then(|s| s.strip_suffix('-'))
        .unwrap_or(full)
}

/// `kubernetes.io/config.source`: `file` or `http`, as the kubelet writes it.
fn config_source(source: &str) -> &'static str {
    if source.starts_with("http://") || source.starts_with("https://") {
        "http"
    } else {
        "file"
    }
}

/// The mirror pod of `p`.
pub fn mirror_pod(p: &PodView, node: &str, stamp: Stamp) -> Pod {
    let mut pod = p.pod.clone();
    let md = &mut pod.metadata;
    md.name = Some(p.name.clone());
    md.namespace = Some(p.namespace.clone());
    md.uid = Some(mirror_uid(&p.uid));
    md.resource_version = rv_string(stamp.rv);
    md.creation_timestamp = Some(Time(stamp.created));
    let annotations = md.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert("kubernetes.io/config.hash".into(), p.uid.clone());
    annotations.insert(MIRROR_ANNOTATION.into(), p.uid.clone());
    annotations.insert(
        "kubernetes.io/config.seen".into(),
        stamp.created.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
    );
    annotations.insert(
        "kubernetes.io/config.source".into(),
        config_source(&p.source).into(),
    );
    md.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node.to_string(),
        uid: node_uid(node),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    // What the API server's defaulting adds to every pod it stores.
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.node_name = Some(node.to_string());
    spec.priority.get_or_insert(0);
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.enable_service_links.get_or_insert(true);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".into());
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        default_container(c);
    }
    pod
}

/// The API server's defaults for a container's probes (timeout 1 s, period 10 s, thresholds 1 and 3, an
/// httpGet's scheme HTTP and path `/`) and its env's fieldRefs (`apiVersion: v1`), which podtui's engine
/// applies when it runs them and which `kubectl describe` and `get -o yaml` show.
fn default_container(c: &mut k8s_openapi::api::core::v1::Container) {
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        probe.timeout_seconds.get_or_insert(1);
        probe.period_seconds.get_or_insert(10);
        probe.success_threshold.get_or_insert(1);
        probe.failure_threshold.get_or_insert(3);
        if let Some(h) = probe.http_get.as_mut() {
            h.scheme.get_or_insert_with(|| "HTTP".into());
            h.path.get_or_insert_with(|| "/".into());
        }
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            f.api_version.get_or_insert_with(|| "v1".into());
        }
    }
}

/// Pod fields `fieldSelector` accepts.
pub const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

/// What selectors see of a served pod.
pub fn pod_fields(pod: &Pod, node: &str) -> Fields {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let mut values = vec![
        ("metadata.name", name.clone()),
        (
            "metadata.namespace",
            pod.metadata.namespace.clone().unwrap_or_default(),
        ),
        ("spec.nodeName", spec.node_name.unwrap_or_default()),
        (
            "spec.restartPolicy",
            spec.restart_policy.unwrap_or_default(),
        ),
        (
            "spec.schedulerName",
            spec.scheduler_name.unwrap_or_default(),
        ),
        (
            "spec.serviceAccountName",
            spec.service_account_name.unwrap_or_default(),
        ),
        (
            "spec.hostNetwork",
            spec.host_network.unwrap_or(false).to_string(),
        ),
        ("status.phase", status.phase.unwrap_or_default()),
        ("status.podIP", status.pod_ip.unwrap_or_default()),
        (
            "status.nominatedNodeName",
            status.nominated_node_name.unwrap_or_default(),
        ),
    ];
    let short = short_name(&name, node);
    if short != name {
        values.push(("metadata.name", short.to_string()));
    }
    Fields {
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        values,
    }
}

/// The name of an event: `<pod>.<first sighting in nanoseconds, hex>`, as the kubelet names them, so names sort
/// in the order the events happened (clients such as `kubectl describe` keep that order for events of the same
/// second). Events of a pod first seen in the same nanosecond take the next nanoseconds, in the order of their
/// reason, object and message.
pub fn event_name(p: &PodView, e: &PodEvent) -> String {
    fn key(x: &PodEvent) -> (&str, &str, &str, bool) {
        (
            &x.reason,
            &x.object,
            &x.message,
            x.kind == EventType::Warning,
        )
    }
    let same = p
        .events
        .iter()
        .filter(|x| x.first_seen == e.first_seen && key(x) < key(e))
        .count();
    let nanos = e.first_seen.as_nanosecond().max(0) as u128 + same as u128;
    format!("{}.{nanos:016x}", p.name)
}

/// A pod event as a core/v1 Event recorded by the kubelet of `node`. `involvedObject.uid` is the static pod's
/// UID, as the kubelet records it (`kubectl describe` looks a mirror pod's events up by that UID).
pub fn event(p: &PodView, e: &PodEvent, node: &str, stamp: Stamp) -> Event {
    let name = event_name(p, e);
    Event {
        metadata: ObjectMeta {
            uid: Some(derived_uid(&[
                b"event",
                p.namespace.as_bytes(),
                name.as_bytes(),
            ])),
            name: Some(name),
            namespace: Some(p.namespace.clone()),
            resource_version: rv_string(stamp.rv),
            creation_timestamp: Some(Time(stamp.created)),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(p.name.clone()),
            namespace: Some(p.namespace.clone()),
            uid: Some(p.uid.clone()),
            field_path: (!e.object.is_empty()).then(|| e.object.clone()),
            ..Default::default()
        },
        reason: Some(e.reason.clone()),
        message: Some(e.message.clone()),
        type_: Some(
            match e.kind {
                EventType::Normal => "Normal",
                EventType::Warning => "Warning",
            }
            .into(),
        ),
        count: Some(e.count as i32),
        first_timestamp: Some(Time(e.first_seen)),
        last_timestamp: Some(Time(e.last_seen)),
        source: Some(EventSource {
            component: Some("kubelet".into()),
            host: Some(node.to_string()),
        }),
        reporting_component: Some("kubelet".into()),
        reporting_instance: Some(node.to_string()),
        ..Default::default()
    }
}

/// Event fields `fieldSelector` accepts.
pub const EVENT_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// What selectors see of an event. A pod's event matches `involvedObject.name=` by the pod's short name too
/// (`kubectl describe pod web` asks for the events of the pod it was served, named `web`).
pub fn event_fields(e: &Event, node: &str) -> Fields {
    let o = &e.involved_object;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut fields = Fields {
        labels: e.metadata.labels.clone().unwrap_or_default(),
        values: vec![
            ("metadata.name", s(&e.metadata.name)),
            ("metadata.namespace", s(&e.metadata.namespace)),
            ("involvedObject.kind", s(&o.kind)),
            ("involvedObject.namespace", s(&o.namespace)),
            ("involvedObject.name", s(&o.name)),
            ("involvedObject.uid", s(&o.uid)),
            ("involvedObject.apiVersion", s(&o.api_version)),
            ("involvedObject.resourceVersion", s(&o.resource_version)),
            ("involvedObject.fieldPath", s(&o.field_path)),
            ("reason", s(&e.reason)),
            ("reportingComponent", s(&e.reporting_component)),
            (
                "source",
                e.source
                    .as_ref()
                    .and_then(|x| x.component.clone())
                    .unwrap_or_default(),
            ),
            ("type", s(&e.type_)),
        ],
    };
    let name = s(&o.name);
    let short = short_name(&name, node);
    if o.kind.as_deref() == Some("Pod") && short != name {
        fields
            .values
            .push(("involvedObject.name", short.to_string()));
    }
    fields
}

/// A namespace (every namespace a pod uses, and `default`).
pub fn namespace(name: &str, stamp: Stamp) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            uid: Some(derived_uid(&[b"namespace", name.as_bytes()])),
            resource_version: rv_string(stamp.rv),
            creation_timestamp: Some(Time(stamp.created)),
            labels: Some(BTreeMap::from([(
                "kubernetes.io/metadata.name".to_string(),
                name.to_string(),
            )])),
            ..Default::default()
        },
        spec: Some(NamespaceSpec {
            finalizers: Some(vec!["kubernetes".into()]),
        }),
        status: Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        }),
    }
}

/// Namespace fields `fieldSelector` accepts.
pub const NAMESPACE_FIELDS: &[&str] = &["metadata.name", "status.phase"];

/// What selectors see of a namespace.
pub fn namespace_fields(ns: &Namespace) -> Fields {
    Fields {
        labels: ns.metadata.labels.clone().unwrap_or_default(),
        values: vec![
            (
                "metadata.name",
                ns.metadata.name.clone().unwrap_or_default(),
            ),
            ("status.phase", "Active".into()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uids() {
        assert_eq!(short_name("web-node1", "node1"), "web");
        assert_eq!(short_name("web", "node1"), "web");
        assert_eq!(
            mirror_uid("0123456789abcdef0123456789abcdef"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        assert_eq!(node_uid("a"), node_uid("a"));
        assert_ne!(node_uid("a"), node_uid("b"));
        assert_eq!(node_uid("a").len(), 36);
    }
}
