//! The Pod schema (from k8s-openapi's JSON schema): which fields exist, for unknown-field warnings with a
//! did-you-mean, and the table of fields Kubernetes knows that podtui deliberately ignores.

use std::sync::LazyLock;

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::finding::Finding;
use super::path::{FieldPath, Segment};

static POD_SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<Pod>();
    schema.as_value().clone()
});

/// Fields of a Pod that Kubernetes accepts and podtui ignores, with the reason shown in the warning.
/// Patterns use `[*]` for any index; `containers` also matches `initContainers`.
const IGNORED: &[(&str, &str)] = &[
    (
        "status",
        "status is computed by podtui, not read from the manifest",
    ),
    (
        "metadata.generateName",
        "a static pod needs a fixed metadata.name",
    ),
    ("metadata.uid", "podtui derives the UID from the manifest"),
    (
        "metadata.resourceVersion",
        "set by an API server; there is none",
    ),
    ("metadata.generation", "set by an API server; there is none"),
    (
        "metadata.creationTimestamp",
        "set by an API server; there is none",
    ),
    (
        "metadata.deletionTimestamp",
        "set by an API server; there is none",
    ),
    (
        "metadata.deletionGracePeriodSeconds",
        "set by an API server; there is none",
    ),
    (
        "metadata.managedFields",
        "set by an API server; there is none",
    ),
    (
        "metadata.ownerReferences",
        "there is no API server to own the pod",
    ),
    (
        "metadata.finalizers",
        "there is no API server to run finalizers",
    ),
    ("metadata.selfLink", "set by an API server; there is none"),
    (
        "spec.affinity",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.nodeSelector",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.nodeName",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.tolerations",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.schedulerName",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.priority",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.priorityClassName",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.preemptionPolicy",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.topologySpreadConstraints",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.schedulingGates",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.runtimeClassName",
        "every pod runs with Docker's default runtime",
    ),
    ("spec.overhead", "set by a RuntimeClass; podtui has none"),
    (
        "spec.readinessGates",
        "no controller sets custom conditions here",
    ),
    (
        "spec.resourceClaims",
        "dynamic resource allocation needs an API server",
    ),
    (
        "spec.serviceAccountName",
        "static pods cannot use service accounts",
    ),
    (
        "spec.serviceAccount",
        "static pods cannot use service accounts",
    ),
    (
        "spec.automountServiceAccountToken",
        "static pods cannot use service accounts",
    ),
    ("spec.enableServiceLinks", "there are no Services to link"),
    ("spec.os", "every pod runs on this Linux Docker engine"),
    ("spec.hostUsers", "user namespaces are not implemented"),
    ("spec.setHostnameAsFQDN", "there is no cluster domain"),
    ("spec.subdomain", "there is no cluster DNS"),
    (
        "spec.ephemeralContainers",
        "ephemeral containers are added through the API, not manifests",
    ),
    ("spec.resources", "pod-level resources are not implemented"),
    (
        "spec.hostnameOverride",
        "not implemented; use spec.hostname",
    ),
    (
        "spec.imagePullSecrets",
        "registry credentials come from Docker's own login (docker login)",
    ),
    (
        "spec.schedulingGroup",
        "there is one node: scheduling fields have no effect",
    ),
    (
        "spec.evictionResponders",
        "there is no eviction on a playground node",
    ),
    (
        "spec.containers[*].volumeMounts[*].mountPropagation",
        "mounts use Docker's default propagation",
    ),
    (
        "spec.containers[*].volumeMounts[*].recursiveReadOnly",
        "readOnly mounts use Docker's default (not recursive)",
    ),
    (
        "spec.containers[*].resources.claims",
        "dynamic resource allocation needs an API server",
    ),
    (
        "spec.securityContext.seLinuxOptions",
        "Docker's SELinux labels are not set by podtui",
    ),
    (
        "spec.securityContext.seLinuxChangePolicy",
        "Docker's SELinux labels are not set by podtui",
    ),
    (
        "spec.securityContext.windowsOptions",
        "podtui runs Linux containers",
    ),
    (
        "spec.securityContext.fsGroupChangePolicy",
        "podtui sets the group of emptyDir volumes only",
    ),
    (
        "spec.securityContext.supplementalGroupsPolicy",
        "supplemental groups are always merged (the Merge policy)",
    ),
    (
        "spec.containers[*].securityContext.seLinuxOptions",
        "Docker's SELinux labels are not set by podtui",
    ),
    (
        "spec.containers[*].securityContext.windowsOptions",
        "podtui runs Linux containers",
    ),
    (
        "spec.containers[*].securityContext.procMount",
        "Docker always uses the default /proc masking",
    ),
    (
        "spec.containers[*].restartPolicyRules",
        "container restart rules are not implemented",
    ),
    (
        "spec.containers[*].resizePolicy",
        "in-place resize needs an API server",
    ),
    (
        "spec.containers[*].volumeDevices",
        "block devices come from PersistentVolumeClaims, which static pods cannot use",
    ),
];

/// Every field podtui ignores, with the reason its warning gives (the README lists them all).
pub fn ignored_fields() -> &'static [(&'static str, &'static str)] {
    IGNORED
}

/// Why podtui ignores the field at `path` (relative to the pod), if it does.
pub fn ignored_reason(path: &FieldPath) -> Option<&'static str> {
    let pattern = path
        .pattern()
        .replace("spec.initContainers[*]", "spec.containers[*]");
    IGNORED
        .iter()
        .find(|(p, _)| *p == pattern)
        .map(|(_, reason)| *reason)
}

/// Warnings for every field of `pod` (a decoded document, relative path `base`) that the Pod schema does not
/// know, with a did-you-mean, and for every field podtui ignores.
pub fn check_fields(pod: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    walk(&POD_SCHEMA, pod, &FieldPath::root(), &mut out);
    out
}

fn resolve(schema: &Value) -> &Value {
    let mut cur = schema;
    for _ in 0..8 {
        let Some(reference) = cur.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let name = reference.rsplit('/').next().unwrap_or_default();
        match POD_SCHEMA.get("$defs").and_then(|d| d.get(name)) {
            Some(next) => cur = next,
            None => break,
        }
    }
    cur
}

fn walk(schema: &Value, value: &Value, path: &FieldPath, out: &mut Vec<Finding>) {
    let schema = resolve(schema);
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, child) in map {
                let child_path = path.key(key.clone());
                if let Some(reason) = ignored_reason(&child_path) {
                    out.push(Finding::warning(child_path, format!("ignored: {reason}")));
                    continue;
                }
                match (props.and_then(|p| p.get(key)), additional) {
                    (Some(s), _) => walk(s, child, &child_path, out),
                    (None, Some(a)) => walk(a, child, &child_path, out),
                    (None, None) if props.is_some() => {
                        let known = props.map(|p| p.keys().map(String::as_str).collect::<Vec<_>>());
                        let hint = known
                            .and_then(|k| did_you_mean(key, &k))
                            .map(|s| format!(" (did you mean {s}?)"))
                            .unwrap_or_default();
                        out.push(Finding::warning(child_path, format!("unknown field{hint}")));
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item_schema, item, &path.index(i), out);
                }
            }
        }
        _ => {}
    }
}

/// The known name closest to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    let (dist, name) = best?;
    let limit = (name.len() / 4).clamp(1, 3);
    (dist <= limit).then_some(name)
}

/// True when `path` names a field the Pod schema has (used by tests and by the editor's hints).
pub fn is_known_field(path: &FieldPath) -> bool {
    let mut schema: &Value = &POD_SCHEMA;
    for seg in path.segments() {
        schema = resolve(schema);
        let next = match seg {
            Segment::Key(k) => schema
                .get("properties")
                .and_then(|p| p.get(k))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            Segment::Index(_) => schema.get("items"),
        };
        match next {
            Some(s) => schema = s,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_field_gets_did_you_mean() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "labels": {"x": "y"}},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePullPolcy": "Always"}],
                     "nodeSelector": {"a": "b"}, "restartPolicyy": "Never", "zzz": 1}
        });
        let found: Vec<String> = check_fields(&pod).iter().map(|f| f.to_string()).collect();
        assert!(found.contains(&": warning: spec.containers[0].imagePullPolcy: unknown field (did you mean imagePullPolicy?)".to_string()), "{found:?}");
        assert!(
            found.contains(
                &": warning: spec.restartPolicyy: unknown field (did you mean restartPolicy?)"
                    .to_string()
            ),
            "{found:?}"
        );
        assert!(
            found.contains(&": warning: spec.zzz: unknown field".to_string()),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("spec.nodeSelector: ignored")),
            "{found:?}"
        );
        assert_eq!(found.len(), 4, "{found:?}");
    }

    #[test]
    fn known_fields() {
        assert!(is_known_field(&FieldPath::parse(
            "spec.containers[0].ports[0].hostPort"
        )));
        assert!(is_known_field(&FieldPath::parse(
            "metadata.labels.anything"
        )));
        assert!(!is_known_field(&FieldPath::parse(
            "spec.containers[0].bogus"
        )));
    }
}
