//! `metadata`: the pod's name (valid with the node suffix podtui appends), namespace, label and annotation keys,
//! and label values.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Validator;
use crate::manifest::names::{
    is_dns1123_label, is_dns1123_subdomain, is_label_value, is_qualified_name,
};
use crate::manifest::path::FieldPath;

/// The pod's `metadata` at `path`; `node_name` is the suffix of the full pod name.
pub(super) fn check_metadata(
    v: &mut Validator,
    path: &FieldPath,
    md: &ObjectMeta,
    node_name: &str,
) {
    check_pod_name(v, &path.key("name"), md.name.as_deref(), node_name);
    check_namespace(v, &path.key("namespace"), md.namespace.as_deref());
    check_labels(v, &path.key("labels"), md.labels.as_ref());
    check_annotations(v, &path.key("annotations"), md.annotations.as_ref());
}

/// `metadata.name`: required, and a valid pod name both alone and as `<name>-<node>`.
fn check_pod_name(v: &mut Validator, path: &FieldPath, name: Option<&str>, node_name: &str) {
    match name {
        None | Some("") => v.error(path.clone(), "required: a static pod needs a name"),
        Some(name) if !is_dns1123_subdomain(name) => v.error(
            path.clone(),
            format!("{name:?} is not a valid pod name (lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.')"),
        ),
        Some(name) => {
            let full = format!("{name}-{node_name}");
            if !is_dns1123_subdomain(&full) {
                v.error(
                    path.clone(),
                    format!(
                        "{} ({} characters with the node suffix) is not a valid pod name (at most 253 characters, lowercase RFC 1123 subdomain)",
                        abbreviate(&full),
                        full.len()
                    ),
                );
            }
        }
    }
}

/// `metadata.namespace`: empty (the default) or an RFC 1123 label.
fn check_namespace(v: &mut Validator, path: &FieldPath, namespace: Option<&str>) {
    if let Some(ns) = namespace
        && !ns.is_empty()
        && !is_dns1123_label(ns)
    {
        v.error(
            path.clone(),
            format!("{ns:?} is not a valid namespace (lowercase RFC 1123 label)"),
        );
    }
}

/// `metadata.labels`: qualified-name keys and label values.
fn check_labels(v: &mut Validator, path: &FieldPath, labels: Option<&BTreeMap<String, String>>) {
    for (key, value) in labels.into_iter().flatten() {
        let entry = path.key(key.clone());
        check_key(v, &entry, key);
        if !is_label_value(value) {
            v.error(entry, format!("{value:?} is not a valid label value (at most 63 characters of A-Z a-z 0-9 - _ ., alphanumeric at both ends)"));
        }
    }
}

/// `metadata.annotations`: qualified-name keys; any value.
fn check_annotations(
    v: &mut Validator,
    path: &FieldPath,
    annotations: Option<&BTreeMap<String, String>>,
) {
    for key in annotations.into_iter().flatten().map(|(k, _)| k) {
        check_key(v, &path.key(key.clone()), key);
    }
}

/// A label or annotation key at `path`: a qualified name.
fn check_key(v: &mut Validator, path: &FieldPath, key: &str) {
    if !is_qualified_name(key) {
        v.error(path.clone(), format!("{key:?} is not a valid key (an optional DNS prefix and '/', then at most 63 characters of A-Z a-z 0-9 - _ .)"));
    }
}

/// A value for a message: quoted, and shortened in the middle when long.
fn abbreviate(s: &str) -> String {
    if s.chars().count() <= 60 {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(30).collect();
    let tail: String = s
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("\"{head}…{tail}\"")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    #[test]
    fn long_values_are_shortened_in_the_middle() {
        assert_eq!(abbreviate("short"), "\"short\"");
        let long = format!("{}{}", "a".repeat(40), "b".repeat(40));
        assert_eq!(
            abbreviate(&long),
            format!("\"{}…{}\"", "a".repeat(30), "b".repeat(20))
        );
        assert_eq!(abbreviate(&"x".repeat(60)), format!("{:?}", "x".repeat(60)));
    }

    #[test]
    fn the_name_is_checked_alone_then_with_the_node_suffix() {
        let check = |name: Option<&str>, node: &str| {
            findings(|v| check_pod_name(v, &p("metadata.name"), name, node))
        };
        assert_eq!(
            check(None, "n"),
            ["error metadata.name: required: a static pod needs a name"]
        );
        assert_eq!(check(Some(""), "n").len(), 1);
        assert!(check(Some("Web"), "n")[0].contains("\"Web\" is not a valid pod name"));
        assert!(check(Some("web"), "n").is_empty());
        let near_limit = "a".repeat(250);
        assert!(check(Some(&near_limit), "n").is_empty());
        let out = check(Some(&near_limit), "node1");
        assert_eq!(out.len(), 1);
        assert!(
            out[0].contains("(256 characters with the node suffix)"),
            "{}",
            out[0]
        );
    }

    #[test]
    fn an_empty_namespace_is_the_default() {
        let check =
            |ns: Option<&str>| findings(|v| check_namespace(v, &p("metadata.namespace"), ns));
        assert!(check(None).is_empty());
        assert!(check(Some("")).is_empty());
        assert!(check(Some("kube-system")).is_empty());
        assert_eq!(
            check(Some("a.b")),
            [
                "error metadata.namespace: \"a.b\" is not a valid namespace (lowercase RFC 1123 label)"
            ]
        );
    }

    #[test]
    fn label_values_are_checked_and_annotation_values_are_not() {
        let md: ObjectMeta = yaml(
            "{name: web, labels: {'bad key!': ok, app: 'not ok'}, annotations: {note: 'any value at all', '-x': y}}",
        );
        let out = findings(|v| check_metadata(v, &p("metadata"), &md, "n"));
        assert_eq!(out.len(), 3, "{out:#?}");
        // Keys in order (the map is sorted): each key's own findings together.
        assert!(
            out[0].starts_with("error metadata.labels.app: \"not ok\" is not a valid label value")
        );
        assert!(
            out[1].starts_with(
                "error metadata.labels[\"bad key!\"]: \"bad key!\" is not a valid key"
            )
        );
        assert!(out[2].starts_with("error metadata.annotations.-x: \"-x\" is not a valid key"));
    }
}
