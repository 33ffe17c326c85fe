//! What a manifest's references resolve to before Docker is involved: `$(VAR)` expansion, the downward API's
//! `metadata.*` fields, a container's environment as far as the manifest alone knows it, and the rule every
//! subPath must follow once expanded. The engine builds on these at create time (adding what only Docker knows,
//! such as the pod IP); the validator uses them to see what a `subPathExpr` becomes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod, VolumeMount};

/// Expands `$(VAR)` references in `s` from `vars`; `$$` is a literal `$`; unknown references stay as written.
pub fn expand(s: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if bytes[i] == b'$' && i + 1 < s.len() {
            if bytes[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'('
                && let Some(close) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + close];
                // An unknown name is kept as written, whole: `$(A$(B))` stays literal, as in Kubernetes.
                match vars(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&s[i..i + close + 3]),
                }
                i += close + 3;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('$');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Looks `name` up in an ordered environment (the last definition wins).
pub fn lookup(env: &[(String, String)], name: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Labels and their values as the downward API writes them: `key="value"` lines, sorted.
fn map_file(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v:?}\n"))
        .collect()
}

/// A `metadata.*` field of the pod as the downward API gives it (`for_volume`: whole label maps allowed).
pub fn metadata_field(pod: &Pod, path: &str, for_volume: bool) -> Option<String> {
    let md = &pod.metadata;
    let key_of = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix("']"))
            .map(str::to_string)
    };
    match path {
        "metadata.name" => md.name.clone(),
        "metadata.namespace" => md.namespace.clone(),
        "metadata.uid" => md.uid.clone(),
        "metadata.labels" if for_volume => Some(map_file(md.labels.as_ref())),
        "metadata.annotations" if for_volume => Some(map_file(md.annotations.as_ref())),
        _ => {
            let map = if let Some(k) = key_of("metadata.labels['") {
                md.labels.as_ref().map(|l| l.get(&k).cloned())
            } else if let Some(k) = key_of("metadata.annotations['") {
                md.annotations.as_ref().map(|l| l.get(&k).cloned())
            } else {
                return None;
            };
            Some(map.flatten().unwrap_or_default())
        }
    }
}

/// The container's environment in order, with `$(VAR)` references to earlier variables expanded. `field`
/// resolves a `fieldRef` path and `resource` a `resourceFieldRef` (resource, divisor); either may answer `None`
/// for a value it cannot know, which leaves the variable out.
pub fn container_env(
    c: &Container,
    field: &dyn Fn(&str) -> Option<String>,
    resource: &dyn Fn(&str, Option<&str>) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for e in c.env.iter().flatten() {
        let value = if let Some(from) = &e.value_from {
            if let Some(f) = &from.field_ref {
                field(&f.field_path)
            } else if let Some(r) = &from.resource_field_ref {
                resource(&r.resource, r.divisor.as_ref().map(|d| d.0.as_str()))
            } else {
                Some(String::new())
            }
        } else {
            let raw = e.value.clone().unwrap_or_default();
            Some(expand(&raw, &|n| lookup(&env, n)))
        };
        env.retain(|(k, _)| k != &e.name);
        if let Some(value) = value {
            env.push((e.name.clone(), value));
        }
    }
    env
}

/// The environment as the manifest alone defines it: values, and fieldRefs to the pod's metadata.
pub fn static_env(pod: &Pod, c: &Container) -> Vec<(String, String)> {
    container_env(c, &|path| metadata_field(pod, path, false), &|_, _| None)
}

/// A mount's subPath with `subPathExpr` expanded from `env`; `None` when it has neither.
pub fn mount_sub_path(m: &VolumeMount, env: &[(String, String)]) -> Option<String> {
    if let Some(s) = m.sub_path.as_ref().filter(|s| !s.is_empty()) {
        return Some(s.trim_end_matches('/').to_string());
    }
    let expr = m.sub_path_expr.as_ref().filter(|s| !s.is_empty())?;
    Some(
        expand(expr, &|n| lookup(env, n))
            .trim_end_matches('/')
            .to_string(),
    )
}

/// Why `path` cannot be a subPath (or a path inside a volume), as Kubernetes' `validatePathNoBacksteps` and
/// the kubelet's subPath checks see it: it must be relative, with no `..` component. `None` when it is fine.
pub fn relative_path_problem(path: &str) -> Option<&'static str> {
    if path.starts_with('/') {
        Some("must be a relative path")
    } else if path.split('/').any(|c| c == "..") {
        Some("must not contain '..'")
    } else {
        None
    }
}

/// Whether `path` has a `..` component (hostPath paths may not, as in Kubernetes).
pub fn has_backsteps(path: &str) -> bool {
    path.split('/').any(|c| c == "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_follows_kubernetes() {
        let vars = |n: &str| match n {
            "A" => Some("1".to_string()),
            "B" => Some("two".to_string()),
            _ => None,
        };
        assert_eq!(expand("$(A)-$(B)", &vars), "1-two");
        assert_eq!(expand("$$(A)", &vars), "$(A)");
        assert_eq!(expand("$(C) stays", &vars), "$(C) stays");
        assert_eq!(expand("cost $5", &vars), "cost $5");
        assert_eq!(expand("$(A", &vars), "$(A");
        assert_eq!(
            expand("$(A$(B))", &vars),
            "$(A$(B))",
            "an unknown name stays whole"
        );
        assert_eq!(expand("é$(A)é", &vars), "é1é");
    }

    #[test]
    fn relative_paths_without_backsteps() {
        assert_eq!(relative_path_problem("a/b"), None);
        assert_eq!(relative_path_problem("a..b/.c"), None);
        assert_eq!(
            relative_path_problem("/etc"),
            Some("must be a relative path")
        );
        assert_eq!(
            relative_path_problem("a/../../x"),
            Some("must not contain '..'")
        );
        assert_eq!(relative_path_problem(".."), Some("must not contain '..'"));
        assert!(has_backsteps("/data/../etc"));
        assert!(!has_backsteps("/data/..x"));
    }

    #[test]
    fn sub_path_expr_expands_from_the_static_env() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "annotations": {"up": "../.."}},
            "spec": {"containers": [{
                "name": "c",
                "env": [
                    {"name": "X", "value": "../../../containers"},
                    {"name": "Y", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['up']"}}},
                    {"name": "Z", "value": "$(Y)/etc"},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                ],
                "volumeMounts": [
                    {"name": "v", "mountPath": "/a", "subPathExpr": "$(X)"},
                    {"name": "v", "mountPath": "/b", "subPathExpr": "$(Z)"},
                    {"name": "v", "mountPath": "/c", "subPathExpr": "$(IP)/x"},
                ],
            }]},
        }))
        .unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        let env = static_env(&pod, c);
        let subs: Vec<String> = c
            .volume_mounts
            .iter()
            .flatten()
            .filter_map(|m| mount_sub_path(m, &env))
            .collect();
        assert_eq!(subs, ["../../../containers", "../../etc", "$(IP)/x"]);
    }
}
