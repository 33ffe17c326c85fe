//! `spec`: the pod-level fields (activeDeadlineSeconds, restart and DNS policies, hostname, grace period, host
//! aliases), and the order in which the rest of the spec is checked.

use k8s_openapi::api::core::v1::{HostAlias, PodSpec};

use super::{Validator, container, security, volumes};
use crate::manifest::names::is_dns1123_label;
use crate::manifest::path::FieldPath;

/// The pod's `spec` at `path`, every part of it: the findings come in this order (the fixtures' order within a
/// line depends on it).
pub(super) fn check_spec(v: &mut Validator, path: &FieldPath, spec: &PodSpec) {
    check_active_deadline(v, path, spec.active_deadline_seconds);
    security::check_pod_security(v, path, spec);
    security::warn_host_access(v, path, spec);
    check_policies(v, path, spec);
    check_hostname(v, &path.key("hostname"), spec.hostname.as_deref());
    check_grace_period(
        v,
        &path.key("terminationGracePeriodSeconds"),
        spec.termination_grace_period_seconds,
    );
    check_host_aliases(
        v,
        &path.key("hostAliases"),
        spec.host_aliases.as_deref().unwrap_or_default(),
    );
    let declared = volumes::check_volumes(
        v,
        &path.key("volumes"),
        spec.volumes.as_deref().unwrap_or_default(),
    );
    container::check_containers(v, path, spec, &declared);
}

/// `activeDeadlineSeconds`: 1 or more.
fn check_active_deadline(v: &mut Validator, spec_path: &FieldPath, seconds: Option<i64>) {
    if let Some(s) = seconds
        && s < 1
    {
        v.error(
            spec_path.key("activeDeadlineSeconds"),
            format!("{s} must be 1 or more"),
        );
    }
}

/// `restartPolicy` and `dnsPolicy` are known values; `dnsPolicy: None` needs a nameserver in `dnsConfig`.
fn check_policies(v: &mut Validator, spec_path: &FieldPath, spec: &PodSpec) {
    v.one_of(
        spec_path.key("restartPolicy"),
        spec.restart_policy.as_ref(),
        &["Always", "OnFailure", "Never"],
        "restartPolicy",
    );
    v.one_of(
        spec_path.key("dnsPolicy"),
        spec.dns_policy.as_ref(),
        &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
        "dnsPolicy",
    );
    if spec.dns_policy.as_deref() == Some("None") && !has_nameserver(spec) {
        v.error(
            spec_path.key("dnsConfig"),
            "required when dnsPolicy is None: give at least one nameserver",
        );
    }
}

/// Whether `dnsConfig` names at least one nameserver.
fn has_nameserver(spec: &PodSpec) -> bool {
    spec.dns_config
        .as_ref()
        .is_some_and(|c| c.nameservers.as_ref().is_some_and(|n| !n.is_empty()))
}

/// `hostname`: an RFC 1123 label.
fn check_hostname(v: &mut Validator, path: &FieldPath, hostname: Option<&str>) {
    if let Some(h) = hostname
        && !is_dns1123_label(h)
    {
        v.error(
            path.clone(),
            format!("{h:?} is not a valid hostname (lowercase RFC 1123 label)"),
        );
    }
}

/// `terminationGracePeriodSeconds`: 0 or more.
fn check_grace_period(v: &mut Validator, path: &FieldPath, seconds: Option<i64>) {
    if let Some(g) = seconds
        && g < 0
    {
        v.error(path.clone(), format!("{g} must be 0 or more"));
    }
}

/// `hostAliases`: each one's `ip` is an IP address.
fn check_host_aliases(v: &mut Validator, path: &FieldPath, aliases: &[HostAlias]) {
    for (i, alias) in aliases.iter().enumerate() {
        if alias.ip.parse::<std::net::IpAddr>().is_err() {
            v.error(
                path.index(i).key("ip"),
                format!("{:?} is not an IP address", alias.ip),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    #[test]
    fn dns_policy_none_needs_a_nameserver() {
        let check = |text: &str| {
            let spec: PodSpec = yaml(text);
            findings(|v| check_policies(v, &p("spec"), &spec))
        };
        let required =
            "error spec.dnsConfig: required when dnsPolicy is None: give at least one nameserver";
        assert_eq!(check("{containers: [], dnsPolicy: None}"), [required]);
        assert_eq!(
            check("{containers: [], dnsPolicy: None, dnsConfig: {nameservers: []}}"),
            [required]
        );
        assert!(
            check("{containers: [], dnsPolicy: None, dnsConfig: {nameservers: [1.1.1.1]}}")
                .is_empty()
        );
        assert!(check("{containers: [], dnsPolicy: Default}").is_empty());
        let out = check("{containers: [], restartPolicy: Sometimes, dnsPolicy: Cluster}");
        assert_eq!(out.len(), 2);
        assert!(out[0].starts_with("error spec.restartPolicy: \"Sometimes\""));
        assert!(out[1].starts_with("error spec.dnsPolicy: \"Cluster\""));
    }

    #[test]
    fn pod_level_numbers_and_names() {
        assert_eq!(
            findings(|v| check_active_deadline(v, &p("spec"), Some(0))),
            ["error spec.activeDeadlineSeconds: 0 must be 1 or more"]
        );
        assert!(findings(|v| check_active_deadline(v, &p("spec"), Some(1))).is_empty());
        assert_eq!(
            findings(|v| check_grace_period(v, &p("g"), Some(-1))),
            ["error g: -1 must be 0 or more"]
        );
        assert!(findings(|v| check_grace_period(v, &p("g"), Some(0))).is_empty());
        assert_eq!(
            findings(|v| check_hostname(v, &p("h"), Some("My_Host"))),
            ["error h: \"My_Host\" is not a valid hostname (lowercase RFC 1123 label)"]
        );
        let aliases: Vec<HostAlias> = yaml("[{ip: 10.0.0.1}, {ip: db.local}, {ip: '::1'}]");
        assert_eq!(
            findings(|v| check_host_aliases(v, &p("spec.hostAliases"), &aliases)),
            ["error spec.hostAliases[1].ip: \"db.local\" is not an IP address"]
        );
    }
}
