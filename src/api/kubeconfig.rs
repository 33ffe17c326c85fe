//! The kubeconfig that points kubectl at the playground: one cluster, user and context named `podtui-<node>`,
//! written to `<state dir>/kubeconfig` (0600) by the engine; and merging that one context into another
//! kubeconfig (`podtui kubeconfig --merge`) without touching anything else in it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_yaml::{Mapping, Value};

/// `<state dir>/kubeconfig`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("kubeconfig")
}

/// The name of the cluster, user and context: `podtui-<node>`.
pub fn context_name(node: &str) -> String {
    format!("podtui-{node}")
}

/// The kubeconfig text for the API at `server` (`https://127.0.0.1:PORT`).
pub fn render(node: &str, server: &str, ca_pem: &str, token: &str) -> String {
    let name = context_name(node);
    let doc = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": server,
            "certificate-authority-data": STANDARD.encode(ca_pem),
        }}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}

/// Why a merge failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file is not a kubeconfig.
    #[error("{what} is not a kubeconfig: {why}")]
    Invalid {
        /// Which file.
        what: String,
        /// Why.
        why: String,
    },
}

fn invalid(what: &str, why: impl std::fmt::Display) -> MergeError {
    MergeError::Invalid {
        what: what.to_string(),
        why: why.to_string(),
    }
}

/// The named entry `name` of list `key` in `doc`.
fn entry(doc: &Value, key: &str, name: &str) -> Option<Value> {
    doc.get(key)?
        .as_sequence()?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        .cloned()
}

/// Puts `item` into list `key` of `doc`: replaces the entry of the same name in place, else appends it.
fn upsert(doc: &mut Mapping, key: &str, item: Value) -> Result<(), MergeError> {
    let name = item.get("name").cloned();
    let list = doc
        .entry(Value::from(key))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if list.is_null() {
        *list = Value::Sequence(Vec::new());
    }
    let seq = list
        .as_sequence_mut()
        .ok_or_else(|| invalid("the kubeconfig", format!("{key} is not a list")))?;
    match seq.iter_mut().find(|e| e.get("name") == name.as_ref()) {
        Some(e) => *e = item,
        None => seq.push(item),
    }
    Ok(())
}

/// `existing` (a kubeconfig's text, or none) with the cluster, user and context `name` of `ours` added or
/// updated; every other entry is kept as it was. With `set_current`, `current-context` becomes `name`.
pub fn merge(
    existing: Option<&str>,
    ours: &str,
    name: &str,
    set_current: bool,
) -> Result<String, MergeError> {
    let ours: Value = serde_yaml::from_str(ours).map_err(|e| invalid("podtui's kubeconfig", e))?;
    let mut doc: Value = match existing.filter(|t| !t.trim().is_empty()) {
        Some(t) => serde_yaml::from_str(t).map_err(|e| invalid("the kubeconfig", e))?,
        None => serde_yaml::from_str("apiVersion: v1\nkind: Config\npreferences: {}\n")
            .map_err(|e| invalid("the kubeconfig", e))?,
    };
    let map = doc
        .as_mapping_mut()
        .ok_or_else(|| invalid("the kubeconfig", "it is not a mapping"))?;
    for key in ["clusters", "users", "contexts"] {
        let item = entry(&ours, key, name).ok_or_else(|| {
            invalid(
                "podtui's kubeconfig",
                format!("it has no {key} entry {name}"),
            )
        })?;
        upsert(map, key, item)?;
    }
    let current = map.get("current-context").and_then(Value::as_str);
    if set_current || current.is_none_or(str::is_empty) {
        map.insert("current-context".into(), Value::from(name));
    }
    serde_yaml::to_string(&doc).map_err(|e| invalid("the merged kubeconfig", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_updates_only_our_context() {
        let ours = render("n1", "https://127.0.0.1:1234", "CA", "tok");
        let theirs = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: 'https://prod:6443'}\nusers:\n- name: prod\n  user: {token: secret}\ncontexts:\n- name: prod\n  context: {cluster: prod, user: prod}\ncurrent-context: prod\n";
        let merged = merge(Some(theirs), &ours, "podtui-n1", false).unwrap();
        let v: Value = serde_yaml::from_str(&merged).unwrap();
        assert_eq!(v["current-context"], Value::from("prod"));
        assert_eq!(
            entry(&v, "users", "prod").unwrap()["user"]["token"],
            Value::from("secret")
        );
        assert_eq!(
            entry(&v, "users", "podtui-n1").unwrap()["user"]["token"],
            Value::from("tok")
        );
        // A second merge with a new port replaces the entry instead of adding one.
        let ours2 = render("n1", "https://127.0.0.1:999", "CA", "tok");
        let again = merge(Some(&merged), &ours2, "podtui-n1", true).unwrap();
        let v: Value = serde_yaml::from_str(&again).unwrap();
        assert_eq!(v["clusters"].as_sequence().unwrap().len(), 2);
        assert_eq!(
            entry(&v, "clusters", "podtui-n1").unwrap()["cluster"]["server"],
            Value::from("https://127.0.0.1:999")
        );
        assert_eq!(v["current-context"], Value::from("podtui-n1"));
        assert!(merge(Some("- a\n- b\n"), &ours, "podtui-n1", false).is_err());
    }
}
