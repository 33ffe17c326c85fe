//! Resources and security settings: how `resources` and `securityContext` (pod and container level, the
//! container's winning) become Docker host settings, and the `runAsNonRoot` check.

use k8s_openapi::api::core::v1::{Container, PodSpec, SecurityContext};

use crate::manifest::quantity::Quantity;

/// CFS period podtui uses for CPU limits (100 ms, as the kubelet).
pub const CPU_PERIOD: i64 = 100_000;

/// Docker resource settings of a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Memory limit in bytes (and memory+swap: no extra swap).
    pub memory: Option<i64>,
    /// CFS quota in µs per [`CPU_PERIOD`].
    pub cpu_quota: Option<i64>,
    /// CPU shares from the request (or the limit when no request is given; 2, the kubelet's minimum, without
    /// either).
    pub cpu_shares: Option<i64>,
}

/// The quantity `key` of a requests or limits map, parsed.
pub(super) fn quantity(
    map: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
    key: &str,
) -> Option<Quantity> {
    map.as_ref()?
        .get(key)
        .and_then(|q| Quantity::parse(&q.0).ok())
}

/// `resources` → Docker limits.
pub fn limits(c: &Container) -> Limits {
    let r = c.resources.clone().unwrap_or_default();
    let mem = quantity(&r.limits, "memory")
        .map(|q| q.ceil_u64() as i64)
        .filter(|m| *m > 0);
    let cpu_limit = quantity(&r.limits, "cpu")
        .map(Quantity::millis)
        .filter(|m| *m > 0);
    let cpu_request = quantity(&r.requests, "cpu")
        .map(Quantity::millis)
        .or(cpu_limit);
    Limits {
        memory: mem,
        cpu_quota: cpu_limit.map(|m| (m as i64 * CPU_PERIOD / 1000).max(1000)),
        // No request means the kubelet's minimum of 2 shares, not Docker's default of 1024.
        cpu_shares: Some(cpu_request.map_or(2, |m| (m as i64 * 1024 / 1000).max(2))),
    }
}

/// The container's security context with the pod's filled in where the container says nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    /// runAsUser.
    pub user: Option<i64>,
    /// runAsGroup.
    pub group: Option<i64>,
    /// runAsNonRoot.
    pub non_root: bool,
    /// supplementalGroups and fsGroup.
    pub groups: Vec<i64>,
    /// privileged.
    pub privileged: bool,
    /// readOnlyRootFilesystem.
    pub read_only_root: bool,
    /// allowPrivilegeEscalation == false.
    pub no_new_privileges: bool,
    /// capabilities.add.
    pub cap_add: Vec<String>,
    /// capabilities.drop.
    pub cap_drop: Vec<String>,
    /// Docker `--security-opt` values (seccomp, apparmor, no-new-privileges).
    pub security_opt: Vec<String>,
}

/// Merges the pod's and the container's security contexts.
pub fn effective(spec: &PodSpec, c: &Container) -> Effective {
    let p = spec.security_context.clone().unwrap_or_default();
    let s: SecurityContext = c.security_context.clone().unwrap_or_default();
    let mut groups: Vec<i64> = p.supplemental_groups.clone().unwrap_or_default();
    if let Some(fs) = p.fs_group {
        groups.push(fs);
    }
    groups.sort_unstable();
    groups.dedup();
    let caps = s.capabilities.clone().unwrap_or_default();
    let strip = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|c| c.trim_start_matches("CAP_").to_ascii_uppercase())
            .collect()
    };
    let no_new_privileges = s.allow_privilege_escalation == Some(false);
    let seccomp = s.seccomp_profile.clone().or(p.seccomp_profile.clone());
    let apparmor = s.app_armor_profile.clone().or(p.app_armor_profile.clone());
    let security_opt = [
        no_new_privileges.then(|| "no-new-privileges".to_string()),
        seccomp.and_then(|sp| profile_opt("seccomp", &sp.type_, sp.localhost_profile)),
        apparmor.and_then(|ap| profile_opt("apparmor", &ap.type_, ap.localhost_profile)),
    ]
    .into_iter()
    .flatten()
    .collect();
    Effective {
        user: s.run_as_user.or(p.run_as_user),
        group: s.run_as_group.or(p.run_as_group),
        non_root: s.run_as_non_root.or(p.run_as_non_root).unwrap_or(false),
        groups,
        privileged: s.privileged == Some(true),
        read_only_root: s.read_only_root_filesystem == Some(true),
        no_new_privileges,
        cap_add: strip(caps.add.unwrap_or_default()),
        cap_drop: strip(caps.drop.unwrap_or_default()),
        security_opt,
    }
}

/// The Docker `--security-opt` for a seccomp or AppArmor profile (`option` names which): `unconfined`, the
/// localhost profile, or none for the runtime's default (and for `Localhost` without a profile).
fn profile_opt(option: &str, type_: &str, localhost: Option<String>) -> Option<String> {
    match type_ {
        "Unconfined" => Some(format!("{option}=unconfined")),
        "Localhost" => localhost.map(|profile| format!("{option}={profile}")),
        _ => None,
    }
}

/// Docker's `User` for the effective context: `uid[:gid]`, or `<image user>:gid` when only a group is given.
pub fn docker_user(e: &Effective, image_user: &str) -> Option<String> {
    match (e.user, e.group) {
        (Some(u), Some(g)) => Some(format!("{u}:{g}")),
        (Some(u), None) => Some(u.to_string()),
        (None, Some(g)) => {
            let base = image_user
                .split(':')
                .next()
                .filter(|u| !u.is_empty())
                .unwrap_or("0");
            Some(format!("{base}:{g}"))
        }
        (None, None) => None,
    }
}

/// Why `runAsNonRoot` refuses to start the container, if it does (the kubelet's wording).
pub fn non_root_violation(
    e: &Effective,
    image_user: &str,
    pod: &str,
    container: &str,
) -> Option<String> {
    if !e.non_root {
        return None;
    }
    if let Some(uid) = e.user {
        return (uid == 0).then(|| format!("container's runAsUser breaks non-root policy (pod: {pod:?}, container: {container})"));
    }
    let user = image_user.split(':').next().unwrap_or_default();
    match user {
        "" | "root" | "0" => Some(format!(
            "container has runAsNonRoot and image will run as root (pod: {pod:?}, container: {container})"
        )),
        u if u.parse::<u64>().is_err() => Some(format!(
            "container has runAsNonRoot and image has non-numeric user ({u}), cannot verify user is non-root (pod: {pod:?}, container: {container})"
        )),
        _ => None,
    }
}

/// What in a pod can touch the host: privileged containers, host paths, host namespaces, added capabilities.
pub fn host_access(spec: &PodSpec) -> Vec<String> {
    let mut out = Vec::new();
    if spec.host_network == Some(true) {
        out.push("hostNetwork".to_string());
    }
    if spec.host_pid == Some(true) {
        out.push("hostPID".to_string());
    }
    if spec.host_ipc == Some(true) {
        out.push("hostIPC".to_string());
    }
    for v in spec.volumes.iter().flatten() {
        if let Some(hp) = &v.host_path {
            out.push(format!("hostPath {}", hp.path));
        }
    }
    for c in spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
    {
        let e = effective(spec, c);
        if e.privileged {
            out.push(format!("privileged {}", c.name));
        }
        if !e.cap_add.is_empty() {
            out.push(format!("{} adds {}", c.name, e.cap_add.join(",")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(v: serde_json::Value) -> Container {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn resources_map_like_the_kubelet() {
        let c = container(
            serde_json::json!({"name": "c", "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}}),
        );
        let l = limits(&c);
        assert_eq!(l.memory, Some(64 * 1024 * 1024));
        assert_eq!(l.cpu_quota, Some(25_000));
        assert_eq!(
            l.cpu_shares,
            Some(256),
            "no request: the request is the limit"
        );
        let c =
            container(serde_json::json!({"name": "c", "resources": {"requests": {"cpu": "2"}}}));
        assert_eq!(
            limits(&c),
            Limits {
                memory: None,
                cpu_quota: None,
                cpu_shares: Some(2048)
            }
        );
    }

    #[test]
    fn profiles_become_security_options() {
        assert_eq!(
            profile_opt("seccomp", "Unconfined", None).as_deref(),
            Some("seccomp=unconfined")
        );
        assert_eq!(
            profile_opt("apparmor", "Localhost", Some("k8s-nginx".into())).as_deref(),
            Some("apparmor=k8s-nginx")
        );
        assert_eq!(profile_opt("seccomp", "Localhost", None), None);
        assert_eq!(
            profile_opt("seccomp", "RuntimeDefault", Some("x".into())),
            None
        );
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}, "appArmorProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}, "allowPrivilegeEscalation": false}}]
        }))
        .unwrap();
        assert_eq!(
            effective(&spec, &spec.containers[0]).security_opt,
            [
                "no-new-privileges",
                "seccomp=unconfined",
                "apparmor=unconfined"
            ],
            "the container's profile wins over the pod's; no-new-privileges, then seccomp, then apparmor"
        );
    }

    #[test]
    fn container_context_wins_and_non_root_is_checked() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"runAsUser": 1000, "runAsNonRoot": true, "fsGroup": 2000, "supplementalGroups": [3000]},
            "containers": [{"name": "a", "securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"], "drop": ["CAP_ALL"]}, "allowPrivilegeEscalation": false}}]
        }))
        .unwrap();
        let e = effective(&spec, &spec.containers[0]);
        assert_eq!(e.user, Some(0));
        assert_eq!(e.groups, vec![2000, 3000]);
        assert_eq!(e.cap_drop, vec!["ALL"]);
        assert_eq!(e.security_opt, vec!["no-new-privileges"]);
        assert!(
            non_root_violation(&e, "", "p", "a")
                .unwrap()
                .contains("runAsUser breaks non-root policy")
        );
        let mut e2 = e.clone();
        e2.user = None;
        assert!(
            non_root_violation(&e2, "", "p", "a")
                .unwrap()
                .contains("image will run as root")
        );
        assert!(
            non_root_violation(&e2, "nobody", "p", "a")
                .unwrap()
                .contains("non-numeric user")
        );
        assert!(non_root_violation(&e2, "65534", "p", "a").is_none());
        assert_eq!(docker_user(&e2, "65534:1"), None);
        e2.group = Some(5);
        assert_eq!(docker_user(&e2, "65534:1").as_deref(), Some("65534:5"));
        assert_eq!(host_access(&spec), vec!["a adds NET_ADMIN".to_string()]);
    }
}
