//! A container's `env` (names, values from the downward API, and the references to API objects a static pod
//! cannot make) and `envFrom` (always such a reference).

use k8s_openapi::api::core::v1::{Container, EnvVar, EnvVarSource};

use super::Validator;
use crate::manifest::names::is_env_var_name;
use crate::manifest::path::FieldPath;

/// Field paths a `fieldRef` may read in an environment variable.
const ENV_FIELD_REFS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Resources a `resourceFieldRef` may read.
const ENV_RESOURCES: &[&str] = &[
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
    "limits.ephemeral-storage",
    "requests.ephemeral-storage",
];

/// The `env` and `envFrom` of the container at `path`.
pub(super) fn check_env(v: &mut Validator, path: &FieldPath, c: &Container) {
    for (i, e) in c.env.iter().flatten().enumerate() {
        check_env_var(v, &path.key("env").index(i), e);
    }
    for (i, _) in c.env_from.iter().flatten().enumerate() {
        v.error(
            path.key("envFrom").index(i),
            "envFrom reads ConfigMaps or Secrets, API objects static pods cannot use",
        );
    }
}

/// One `env` entry at `path`: a valid name, and either a value or a `valueFrom` podtui can resolve.
fn check_env_var(v: &mut Validator, path: &FieldPath, e: &EnvVar) {
    if !is_env_var_name(&e.name) {
        v.error(
            path.key("name"),
            format!(
                "{:?} is not a valid environment variable name ([-._a-zA-Z][-._a-zA-Z0-9]*)",
                e.name
            ),
        );
    }
    let Some(from) = &e.value_from else { return };
    if e.value.is_some() {
        v.error(
            path.key("value"),
            "value and valueFrom are mutually exclusive",
        );
    }
    check_value_from(v, &path.key("valueFrom"), from);
}

/// `valueFrom` at `path`: no ConfigMap, Secret or file references; a supported field or resource.
fn check_value_from(v: &mut Validator, path: &FieldPath, from: &EnvVarSource) {
    if from.config_map_key_ref.is_some() {
        v.error(
            path.key("configMapKeyRef"),
            "references a ConfigMap, an API object static pods cannot use",
        );
    }
    if from.secret_key_ref.is_some() {
        v.error(
            path.key("secretKeyRef"),
            "references a Secret, an API object static pods cannot use",
        );
    }
    if from.file_key_ref.is_some() {
        v.error(path.key("fileKeyRef"), "is not supported by podtui");
    }
    if let Some(f) = &from.field_ref
        && !is_env_field(&f.field_path)
    {
        v.error(path.key("fieldRef").key("fieldPath"), format!("{:?} is not a supported field (one of {}, metadata.labels['KEY'], metadata.annotations['KEY'])", f.field_path, ENV_FIELD_REFS.join(", ")));
    }
    if let Some(r) = &from.resource_field_ref
        && !ENV_RESOURCES.contains(&r.resource.as_str())
    {
        v.error(
            path.key("resourceFieldRef").key("resource"),
            format!("{:?} is not a supported resource", r.resource),
        );
    }
}

/// Whether an environment variable's `fieldRef` may read `field_path`.
fn is_env_field(field_path: &str) -> bool {
    ENV_FIELD_REFS.contains(&field_path)
        || field_path.starts_with("metadata.labels['")
        || field_path.starts_with("metadata.annotations['")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    fn check(container: &str) -> Vec<String> {
        let c: Container = yaml(container);
        findings(|v| check_env(v, &p("spec.containers[0]"), &c))
    }

    #[test]
    fn fields_a_static_pod_can_read() {
        assert!(is_env_field("status.podIP"));
        assert!(is_env_field("metadata.labels['app']"));
        assert!(is_env_field("metadata.annotations['a/b']"));
        assert!(
            !is_env_field("metadata.labels"),
            "a whole map is for volumes"
        );
        assert!(!is_env_field("spec.containers"));
    }

    #[test]
    fn names_values_and_references() {
        let out = check(
            "{name: c, env: [{name: '1X', value: a}, {name: A, value: a, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, {name: B, valueFrom: {secretKeyRef: {name: s, key: k}, configMapKeyRef: {name: m, key: k}}}, {name: C, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}, {name: D, valueFrom: {fieldRef: {fieldPath: spec.volumes}}}], envFrom: [{configMapRef: {name: m}}]}",
        );
        let base = "spec.containers[0]";
        assert_eq!(out.len(), 7, "{out:#?}");
        assert!(out[0].starts_with(&format!(
            "error {base}.env[0].name: \"1X\" is not a valid environment variable name"
        )));
        assert_eq!(
            out[1],
            format!("error {base}.env[1].value: value and valueFrom are mutually exclusive")
        );
        assert_eq!(
            out[2],
            format!(
                "error {base}.env[2].valueFrom.configMapKeyRef: references a ConfigMap, an API object static pods cannot use"
            )
        );
        assert_eq!(
            out[3],
            format!(
                "error {base}.env[2].valueFrom.secretKeyRef: references a Secret, an API object static pods cannot use"
            )
        );
        assert_eq!(
            out[4],
            format!(
                "error {base}.env[3].valueFrom.resourceFieldRef.resource: \"limits.gpu\" is not a supported resource"
            )
        );
        assert!(out[5].starts_with(&format!(
            "error {base}.env[4].valueFrom.fieldRef.fieldPath: \"spec.volumes\" is not a supported field (one of metadata.name, "
        )));
        assert_eq!(
            out[6],
            format!(
                "error {base}.envFrom[0]: envFrom reads ConfigMaps or Secrets, API objects static pods cannot use"
            )
        );
    }

    #[test]
    fn supported_references_pass() {
        let out = check(
            "{name: c, env: [{name: A, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}, {name: B, valueFrom: {resourceFieldRef: {resource: requests.memory}}}, {name: C}]}",
        );
        assert!(out.is_empty(), "{out:#?}");
    }
}
