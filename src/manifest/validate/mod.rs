//! Validation of a decoded Pod: every rule a kubelet or API server would enforce on a static pod that podtui
//! can check, each reported with the field path it is about.
//!
//! One style throughout: every check is a function `check_<thing>(v, path, thing, …)` that takes the
//! `Validator` collecting the findings, the path of the field it checks and the value at that path, and
//! reports at that path or below it. Pure helpers (`is_…`, `…_problem`) decide; the checks word the findings.
//! The files follow the pod's parts:
//!
//! - `metadata`: name (with the node suffix), namespace, labels and annotations.
//! - `spec`: pod-level fields (policies, DNS, hostname, grace, host aliases, deadline) and the order of the rest.
//! - `volumes`: `spec.volumes`, the containers' `volumeMounts`, and subPaths staying inside their volume.
//! - `container`: each container: name, image, policies, ports and hostPorts, resources.
//! - `env`: `env` and `envFrom`.
//! - `probes`: probes and lifecycle hooks.
//! - `security`: pod and container securityContext, and the warnings about host access.
//!
//! The wording of every message is part of podtui's contract (tests/fixtures/manifests/*.expected).

mod container;
mod env;
mod metadata;
mod probes;
mod security;
mod spec;
mod volumes;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

use super::finding::Finding;
use super::path::FieldPath;
use super::quantity::Quantity;

pub use volumes::HOST_PATH_TYPES;

/// Checks `pod` (already decoded) and returns every error and warning, paths relative to the pod.
/// `node_name` is the suffix podtui appends to the pod name.
pub fn validate(pod: &Pod, node_name: &str) -> Vec<Finding> {
    let mut v = Validator::default();
    let root = FieldPath::root();
    metadata::check_metadata(&mut v, &root.key("metadata"), &pod.metadata, node_name);
    let path = root.key("spec");
    match &pod.spec {
        None => v.error(path, "required: a pod needs a spec"),
        Some(spec) => {
            spec::check_spec(&mut v, &path, spec);
            volumes::check_sub_paths(&mut v, &path, pod, spec);
        }
    }
    v.out
}

/// Collects the findings of one pod's checks, in the order the checks report them.
#[derive(Default)]
struct Validator {
    out: Vec<Finding>,
}

impl Validator {
    /// Reports an error about `path`.
    fn error(&mut self, path: FieldPath, msg: impl Into<String>) {
        self.out.push(Finding::error(path, msg));
    }

    /// Reports a warning about `path`.
    fn warn(&mut self, path: FieldPath, msg: impl Into<String>) {
        self.out.push(Finding::warning(path, msg));
    }

    /// Reports an error when `value` is set and not one of `allowed` (`what` names the field in the message).
    fn one_of(&mut self, path: FieldPath, value: Option<&String>, allowed: &[&str], what: &str) {
        if let Some(v) = value
            && !allowed.contains(&v.as_str())
        {
            self.error(
                path,
                format!("{v:?} is not a valid {what} (one of {})", choices(allowed)),
            );
        }
    }
}

/// The allowed values of a one-of field for a message: `a, b`, with `""` spelled out.
fn choices(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| if a.is_empty() { "\"\" (no check)" } else { a })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Kubernetes quantity (`500m`, `64Mi`): it parses and is not negative.
fn check_quantity(v: &mut Validator, path: &FieldPath, text: &str) {
    match Quantity::parse(text) {
        Ok(q) if q.0 < 0.0 => v.error(path.clone(), format!("{text:?} must not be negative")),
        Ok(_) => {}
        Err(e) => v.error(path.clone(), e.to_string()),
    }
}

/// Every container of the pod, init containers first, each with its path (`spec.initContainers[0]`) and
/// whether it is an init container.
fn each_container<'a>(
    spec_path: &FieldPath,
    spec: &'a PodSpec,
) -> impl Iterator<Item = (FieldPath, &'a Container, bool)> {
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let init_path = spec_path.key("initContainers");
    let app_path = spec_path.key("containers");
    let inits = inits
        .iter()
        .enumerate()
        .map(move |(i, c)| (init_path.index(i), c, true));
    let apps = spec
        .containers
        .iter()
        .enumerate()
        .map(move |(i, c)| (app_path.index(i), c, false));
    inits.chain(apps)
}

/// What the checks' unit tests share: running one check and reading its findings as text.
#[cfg(test)]
mod test_support {
    use serde::de::DeserializeOwned;

    use super::{FieldPath, Validator};

    /// The findings `check` reports, one `error|warning PATH: MESSAGE` line each, in order.
    pub(super) fn findings(check: impl FnOnce(&mut Validator)) -> Vec<String> {
        let mut v = Validator::default();
        check(&mut v);
        v.out
            .iter()
            .map(|f| {
                let kind = if f.is_error() { "error" } else { "warning" };
                let path = f.path.as_ref().map(ToString::to_string).unwrap_or_default();
                format!("{kind} {path}: {}", f.message)
            })
            .collect()
    }

    /// A Kubernetes object from YAML (flow style keeps the tests short).
    pub(super) fn yaml<T: DeserializeOwned>(text: &str) -> T {
        let value: serde_json::Value = serde_yaml::from_str(text).unwrap();
        serde_json::from_value(value).unwrap()
    }

    /// A path from its text.
    pub(super) fn p(text: &str) -> FieldPath {
        FieldPath::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{findings, p, yaml};
    use super::*;

    #[test]
    fn one_of_names_every_choice_and_ignores_an_unset_field() {
        let out = findings(|v| {
            v.one_of(p("t"), Some(&"x".into()), &["", "A"], "kind");
            v.one_of(p("t"), None, &["A"], "kind");
            v.one_of(p("t"), Some(&"A".into()), &["A"], "kind");
        });
        assert_eq!(
            out,
            [r#"error t: "x" is not a valid kind (one of "" (no check), A)"#]
        );
    }

    #[test]
    fn quantities_must_parse_and_not_be_negative() {
        let out = findings(|v| {
            check_quantity(v, &p("q"), "-1");
            check_quantity(v, &p("q"), "64Mi");
        });
        assert_eq!(out, [r#"error q: "-1" must not be negative"#]);
        assert_eq!(
            findings(|v| check_quantity(v, &p("q"), "12MB")).len(),
            1,
            "an unparsable quantity is an error"
        );
    }

    #[test]
    fn containers_are_walked_init_first_with_their_paths() {
        let spec: PodSpec = yaml(
            "{initContainers: [{name: i}], containers: [{name: a}, {name: b}], restartPolicy: Never}",
        );
        let walked: Vec<(String, String, bool)> = each_container(&p("spec"), &spec)
            .map(|(path, c, init)| (path.to_string(), c.name.clone(), init))
            .collect();
        assert_eq!(
            walked,
            [
                ("spec.initContainers[0]".into(), "i".into(), true),
                ("spec.containers[0]".into(), "a".into(), false),
                ("spec.containers[1]".into(), "b".into(), false),
            ]
        );
    }

    #[test]
    fn a_pod_without_a_spec_is_an_error_after_its_metadata() {
        let pod: Pod = yaml("{metadata: {name: Bad}}");
        let out: Vec<String> = validate(&pod, "node1")
            .iter()
            .map(|f| format!("{}: {}", f.path.as_ref().unwrap(), f.message))
            .collect();
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with("metadata.name: \"Bad\" is not a valid pod name"));
        assert_eq!(out[1], "spec: required: a pod needs a spec");
    }
}
