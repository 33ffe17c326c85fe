//! Security: the pod's and the containers' `securityContext` (user and group IDs, capabilities, sysctls,
//! seccomp and AppArmor profiles), process namespace sharing, and the warnings that say what in a pod can
//! touch the host (host namespaces, hostPath volumes, privileged containers, added capabilities).

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Capabilities, PodSecurityContext, PodSpec, SeccompProfile, SecurityContext,
    Sysctl,
};

use super::{Validator, each_container};
use crate::manifest::path::FieldPath;

/// The pod-level security of the spec at `spec_path`: process namespace sharing and `securityContext`.
pub(super) fn check_pod_security(v: &mut Validator, spec_path: &FieldPath, spec: &PodSpec) {
    if spec.host_pid == Some(true) && spec.share_process_namespace == Some(true) {
        v.error(
            spec_path.key("shareProcessNamespace"),
            "cannot be true together with hostPID",
        );
    }
    if let Some(sc) = &spec.security_context {
        check_pod_security_context(v, &spec_path.key("securityContext"), sc);
    }
}

/// The pod's `securityContext` at `path`.
fn check_pod_security_context(v: &mut Validator, path: &FieldPath, sc: &PodSecurityContext) {
    check_id(v, &path.key("runAsUser"), sc.run_as_user);
    check_id(v, &path.key("runAsGroup"), sc.run_as_group);
    check_id(v, &path.key("fsGroup"), sc.fs_group);
    for (i, g) in sc.supplemental_groups.iter().flatten().enumerate() {
        check_id(v, &path.key("supplementalGroups").index(i), Some(*g));
    }
    for (i, s) in sc.sysctls.iter().flatten().enumerate() {
        check_sysctl(v, &path.key("sysctls").index(i), s);
    }
    check_profiles(
        v,
        path,
        sc.seccomp_profile.as_ref(),
        sc.app_armor_profile.as_ref(),
    );
}

/// A container's `securityContext` at `path`.
pub(super) fn check_container_security_context(
    v: &mut Validator,
    path: &FieldPath,
    sc: &SecurityContext,
) {
    check_id(v, &path.key("runAsUser"), sc.run_as_user);
    check_id(v, &path.key("runAsGroup"), sc.run_as_group);
    if sc.privileged == Some(true) && sc.allow_privilege_escalation == Some(false) {
        v.error(
            path.key("allowPrivilegeEscalation"),
            "cannot be false when privileged is true",
        );
    }
    if sc.run_as_non_root == Some(true) && sc.run_as_user == Some(0) {
        v.error(
            path.key("runAsNonRoot"),
            "runAsUser 0 (root) breaks runAsNonRoot",
        );
    }
    if let Some(caps) = &sc.capabilities {
        check_capabilities(v, &path.key("capabilities"), caps);
    }
    check_profiles(
        v,
        path,
        sc.seccomp_profile.as_ref(),
        sc.app_armor_profile.as_ref(),
    );
}

/// A user or group ID: 0 to 2147483647.
fn check_id(v: &mut Validator, path: &FieldPath, id: Option<i64>) {
    if let Some(id) = id
        && !(0..=i64::from(i32::MAX)).contains(&id)
    {
        v.error(
            path.clone(),
            format!("{id} must be between 0 and 2147483647"),
        );
    }
}

/// One sysctl at `path`: its name is spelled as one.
fn check_sysctl(v: &mut Validator, path: &FieldPath, s: &Sysctl) {
    if !is_sysctl_name(&s.name) {
        v.error(
            path.key("name"),
            format!(
                "{:?} is not a sysctl name (such as net.ipv4.ip_unprivileged_port_start)",
                s.name
            ),
        );
    }
}

/// Whether `name` is spelled as a sysctl: non-empty parts of letters, digits, `_` and `-`, joined by `.` or `/`.
fn is_sysctl_name(name: &str) -> bool {
    !name.is_empty()
        && name.split(['.', '/']).all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// `capabilities` at `path`: every name added or dropped is spelled as a capability.
fn check_capabilities(v: &mut Validator, path: &FieldPath, caps: &Capabilities) {
    for (field, list) in [("add", &caps.add), ("drop", &caps.drop)] {
        for (i, cap) in list.iter().flatten().enumerate() {
            if !is_capability_name(cap) {
                v.error(
                    path.key(field).index(i),
                    format!("{cap:?} is not a capability name (NET_ADMIN, SYS_TIME, ALL…)"),
                );
            }
        }
    }
}

/// Whether `cap` is spelled as a capability: capitals and `_`, with or without `CAP_`.
fn is_capability_name(cap: &str) -> bool {
    let name = cap.trim_start_matches("CAP_");
    !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// The seccomp and AppArmor profiles of a security context at `path`: a known type, and a profile for
/// `Localhost`.
fn check_profiles(
    v: &mut Validator,
    path: &FieldPath,
    seccomp: Option<&SeccompProfile>,
    apparmor: Option<&AppArmorProfile>,
) {
    for (field, kind, localhost) in [
        (
            "seccompProfile",
            seccomp.map(|s| s.type_.as_str()),
            seccomp.and_then(|s| s.localhost_profile.as_ref()),
        ),
        (
            "appArmorProfile",
            apparmor.map(|s| s.type_.as_str()),
            apparmor.and_then(|s| s.localhost_profile.as_ref()),
        ),
    ] {
        let Some(kind) = kind else { continue };
        let path = path.key(field);
        if !["RuntimeDefault", "Unconfined", "Localhost"].contains(&kind) {
            v.error(
                path.key("type"),
                format!(
                    "{kind:?} is not a valid profile type (RuntimeDefault, Unconfined, Localhost)"
                ),
            );
        } else if kind == "Localhost" && localhost.is_none_or(|p| p.is_empty()) {
            v.error(
                path.key("localhostProfile"),
                "required when type is Localhost",
            );
        }
    }
}

/// Warnings for everything in the spec at `spec_path` that can touch the host, so a user sees it at a glance.
pub(super) fn warn_host_access(v: &mut Validator, spec_path: &FieldPath, spec: &PodSpec) {
    for (field, on) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        if on == Some(true) {
            v.warn(
                spec_path.key(field),
                format!(
                    "host access: the pod shares the host's {} namespace",
                    &field[4..].to_lowercase()
                ),
            );
        }
    }
    for (i, vol) in spec.volumes.iter().flatten().enumerate() {
        if let Some(hp) = &vol.host_path {
            v.warn(
                spec_path.key("volumes").index(i).key("hostPath"),
                format!("host access: mounts the host's {}", hp.path),
            );
        }
    }
    for (path, c, _) in each_container(spec_path, spec) {
        if let Some(sc) = &c.security_context {
            warn_container_host_access(v, &path.key("securityContext"), &c.name, sc);
        }
    }
}

/// Warnings for a container (`name`, its securityContext at `path`) that is privileged or adds capabilities.
fn warn_container_host_access(
    v: &mut Validator,
    path: &FieldPath,
    name: &str,
    sc: &SecurityContext,
) {
    if sc.privileged == Some(true) {
        v.warn(
            path.key("privileged"),
            format!("host access: container {name} is privileged (all devices and capabilities)"),
        );
    }
    if let Some(add) = sc
        .capabilities
        .as_ref()
        .and_then(|c| c.add.as_ref())
        .filter(|a| !a.is_empty())
    {
        v.warn(
            path.key("capabilities").key("add"),
            format!("host access: container {name} adds {}", add.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    #[test]
    fn names_spelled_as_sysctls_and_capabilities() {
        assert!(is_sysctl_name("net.ipv4.ip_unprivileged_port_start"));
        assert!(is_sysctl_name("net/ipv4/conf/eth0-1/forwarding"));
        for bad in ["", "net..x", "net.ipv4.", "kernel.shm max"] {
            assert!(!is_sysctl_name(bad), "{bad:?}");
        }
        assert!(is_capability_name("NET_ADMIN"));
        assert!(is_capability_name("CAP_SYS_TIME"));
        for bad in ["", "CAP_", "net_admin", "NET-ADMIN"] {
            assert!(!is_capability_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn pod_security_context() {
        let spec: PodSpec = yaml(
            "{containers: [], hostPID: true, shareProcessNamespace: true, securityContext: {runAsUser: -1, fsGroup: 2147483648, supplementalGroups: [1, -2], sysctls: [{name: 'bad name', value: '1'}], seccompProfile: {type: Localhost}, appArmorProfile: {type: Strict}}}",
        );
        assert_eq!(
            findings(|v| check_pod_security(v, &p("spec"), &spec)),
            [
                "error spec.shareProcessNamespace: cannot be true together with hostPID",
                "error spec.securityContext.runAsUser: -1 must be between 0 and 2147483647",
                "error spec.securityContext.fsGroup: 2147483648 must be between 0 and 2147483647",
                "error spec.securityContext.supplementalGroups[1]: -2 must be between 0 and 2147483647",
                "error spec.securityContext.sysctls[0].name: \"bad name\" is not a sysctl name (such as net.ipv4.ip_unprivileged_port_start)",
                "error spec.securityContext.seccompProfile.localhostProfile: required when type is Localhost",
                "error spec.securityContext.appArmorProfile.type: \"Strict\" is not a valid profile type (RuntimeDefault, Unconfined, Localhost)",
            ]
        );
    }

    #[test]
    fn container_security_context() {
        let sc: SecurityContext = yaml(
            "{privileged: true, allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 0, capabilities: {add: [NET_ADMIN, net_raw], drop: [ALL]}, seccompProfile: {type: Localhost, localhostProfile: p.json}}",
        );
        assert_eq!(
            findings(|v| check_container_security_context(v, &p("sc"), &sc)),
            [
                "error sc.allowPrivilegeEscalation: cannot be false when privileged is true",
                "error sc.runAsNonRoot: runAsUser 0 (root) breaks runAsNonRoot",
                "error sc.capabilities.add[1]: \"net_raw\" is not a capability name (NET_ADMIN, SYS_TIME, ALL…)",
            ]
        );
    }

    #[test]
    fn host_access_is_warned_about_namespaces_paths_and_containers() {
        let spec: PodSpec = yaml(
            "{hostNetwork: true, hostIPC: true, hostPID: false, volumes: [{name: a, emptyDir: {}}, {name: b, hostPath: {path: /var/run}}], initContainers: [{name: i, securityContext: {privileged: true}}], containers: [{name: c, securityContext: {capabilities: {add: [NET_ADMIN, SYS_TIME]}}}, {name: d, securityContext: {capabilities: {add: []}}}]}",
        );
        assert_eq!(
            findings(|v| warn_host_access(v, &p("spec"), &spec)),
            [
                "warning spec.hostNetwork: host access: the pod shares the host's network namespace",
                "warning spec.hostIPC: host access: the pod shares the host's ipc namespace",
                "warning spec.volumes[1].hostPath: host access: mounts the host's /var/run",
                "warning spec.initContainers[0].securityContext.privileged: host access: container i is privileged (all devices and capabilities)",
                "warning spec.containers[0].securityContext.capabilities.add: host access: container c adds NET_ADMIN, SYS_TIME",
            ]
        );
    }
}
