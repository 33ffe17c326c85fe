//! Strategic merge patch for Pod, as the API server applies it (`application/strategic-merge-patch+json`, what
//! client-side `kubectl apply`, `label`, `annotate`, `set image` and `edit` send): maps merge, `null` deletes
//! a key, lists of objects with a patch merge key (containers, initContainers, ephemeralContainers, volumes,
//! env, volumeMounts by their name or mountPath, ports by containerPort, …) merge element by element, other
//! lists are replaced; `$patch: replace` and `$patch: delete` in a map or list element, `$retainKeys`,
//! `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (order of the merged list) are honoured.

use serde_json::{Map, Value};

/// The merge key of a list field of Pod, by field name (the Pod types' `patchMergeKey`s).
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "readinessGates" => match field {
            "readinessGates" => "conditionType",
            _ => "name",
        },
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "hostAliases" => "ip",
        "ownerReferences" => "uid",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// `base` patched with `patch`.
pub fn strategic_merge(base: &Value, patch: &Value) -> Value {
    merge_value(Some(base), patch).unwrap_or(Value::Null)
}

fn merge_value(base: Option<&Value>, patch: &Value) -> Option<Value> {
    match (base, patch) {
        (_, Value::Null) => None,
        (Some(Value::Object(b)), Value::Object(p)) => merge_map(b, p),
        (_, Value::Object(p)) => merge_map(&Map::new(), p),
        (_, other) => Some(other.clone()),
    }
}

fn merge_map(base: &Map<String, Value>, patch: &Map<String, Value>) -> Option<Value> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return None,
        Some("replace") => {
            let mut m = patch.clone();
            m.remove("$patch");
            return Some(Value::Object(m));
        }
        _ => {}
    }
    let mut out = base.clone();
    if let Some(Value::Array(keep)) = patch.get("$retainKeys") {
        let keep: Vec<&str> = keep.iter().filter_map(Value::as_str).collect();
        out.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, pv) in patch {
        if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Value::Array(gone)) = (out.get_mut(field), pv) {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        let merged = match (out.get(k), pv, merge_key(k)) {
            (Some(Value::Array(b)), Value::Array(p), Some(key)) => {
                Some(Value::Array(merge_list(b, p, key)))
            }
            (None, Value::Array(p), Some(key)) => Some(Value::Array(merge_list(&[], p, key))),
            (b, p, _) => merge_value(b, p),
        };
        match merged {
            Some(v) => {
                out.insert(k.clone(), v);
            }
            None => {
                out.remove(k);
            }
        }
    }
    for (k, order) in patch {
        if let (Some(field), Value::Array(order)) = (k.strip_prefix("$setElementOrder/"), order)
            && let (Some(Value::Array(list)), Some(key)) = (out.get_mut(field), merge_key(field))
        {
            let rank = |x: &Value| {
                order
                    .iter()
                    .position(|o| o.get(key) == x.get(key))
                    .unwrap_or(usize::MAX)
            };
            list.sort_by_key(rank);
        }
    }
    Some(Value::Object(out))
}

fn merge_list(base: &[Value], patch: &[Value], key: &str) -> Vec<Value> {
    if patch
        .iter()
        .any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return patch
            .iter()
            .filter(|p| p.get("$patch").is_none())
            .cloned()
            .collect();
    }
    let mut out: Vec<Value> = base.to_vec();
    for p in patch {
        let id = p.get(key);
        let at = id.and_then(|id| out.iter().position(|b| b.get(key) == Some(id)));
        let delete = p.get("$patch").and_then(Value::as_str) == Some("delete");
        match (at, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                if let Some(v) = merge_value(Some(&out[i]), p) {
                    out[i] = v;
                }
            }
            (None, false) => {
                if let Some(v) = merge_value(None, p) {
                    out.push(v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name_and_directives_hold() {
        let base = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"containers": [
            {"name": "web", "image": "i:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
            {"name": "side", "image": "s:1"}],
            "volumes": [{"name": "v", "emptyDir": {}}], "nodeSelector": {"k": "v"}}});
        let patch = json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {
            "$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
            "containers": [{"name": "web", "image": "i:2", "env": [{"name": "Y", "$patch": "delete"}]}],
            "volumes": [{"name": "v", "$patch": "delete"}],
            "nodeSelector": {"$patch": "replace", "z": "1"}}});
        assert_eq!(
            strategic_merge(&base, &patch),
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"containers": [
                {"name": "side", "image": "s:1"},
                {"name": "web", "image": "i:2", "env": [{"name": "X", "value": "1"}]}],
                "volumes": [], "nodeSelector": {"z": "1"}}})
        );
        // A list without a merge key is replaced.
        let base = json!({"spec": {"containers": [{"name": "c", "args": ["a", "b"]}]}});
        let patch = json!({"spec": {"containers": [{"name": "c", "args": ["z"]}]}});
        assert_eq!(
            strategic_merge(&base, &patch)["spec"]["containers"][0]["args"],
            json!(["z"])
        );
    }
}
