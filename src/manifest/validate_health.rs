//! Validation of probes, lifecycle hooks and security contexts, and the warnings that say what in a pod can touch
//! the host (privileged containers, hostPath mounts, host namespaces, added capabilities).

use k8s_openapi::api::core::v1::{
    AppArmorProfile, Container, HTTPGetAction, LifecycleHandler, PodSpec, Probe, SeccompProfile,
    SecurityContext,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::finding::Finding;
use super::names::is_iana_svc_name;
use super::path::FieldPath;

/// Checks the container's probes, hooks and security context. `sidecar`: an init container with
/// `restartPolicy: Always`; `init`: any init container.
pub fn container(
    c: &Container,
    base: &FieldPath,
    init: bool,
    sidecar: bool,
    out: &mut Vec<Finding>,
) {
    for (field, probe) in [
        ("livenessProbe", &c.liveness_probe),
        ("readinessProbe", &c.readiness_probe),
        ("startupProbe", &c.startup_probe),
    ] {
        let Some(probe) = probe else { continue };
        let path = base.key(field);
        if init && !sidecar {
            out.push(Finding::error(
                path,
                "may not be set on init containers (only on sidecars: restartPolicy Always)",
            ));
            continue;
        }
        check_probe(probe, c, &path, field != "readinessProbe", out);
    }
    if let Some(l) = &c.lifecycle {
        let path = base.key("lifecycle");
        if init && !sidecar {
            out.push(Finding::error(
                path.clone(),
                "may not be set on init containers (only on sidecars: restartPolicy Always)",
            ));
        }
        for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
            if let Some(h) = h {
                check_hook(h, c, &path.key(field), out);
            }
        }
        if let Some(sig) = &l.stop_signal
            && !(sig.starts_with("SIG")
                && sig.len() > 3
                && sig[3..].chars().all(|ch| {
                    ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '+' || ch == '-'
                }))
        {
            out.push(Finding::error(
                path.key("stopSignal"),
                format!("{sig:?} is not a signal name (SIGTERM, SIGINT, SIGQUIT…)"),
            ));
        }
    }
    if let Some(sc) = &c.security_context {
        check_container_security(sc, &base.key("securityContext"), out);
    }
}

fn handlers_of_probe(p: &Probe) -> Vec<&'static str> {
    present(&[
        (p.exec.is_some(), "exec"),
        (p.http_get.is_some(), "httpGet"),
        (p.tcp_socket.is_some(), "tcpSocket"),
        (p.grpc.is_some(), "grpc"),
    ])
}

/// The names whose flag is set, in order: which of a one-of's handlers a probe or hook sets.
fn present(flags: &[(bool, &'static str)]) -> Vec<&'static str> {
    flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect()
}

fn check_probe(
    p: &Probe,
    c: &Container,
    path: &FieldPath,
    success_must_be_one: bool,
    out: &mut Vec<Finding>,
) {
    match handlers_of_probe(p).as_slice() {
        [] => out.push(Finding::error(
            path.clone(),
            "needs a handler: exec, httpGet, tcpSocket or grpc",
        )),
        [_] => {}
        many => out.push(Finding::error(
            path.clone(),
            format!(
                "has {} handlers ({}): give exactly one",
                many.len(),
                many.join(", ")
            ),
        )),
    }
    for (field, value, min) in [
        ("initialDelaySeconds", p.initial_delay_seconds, 0),
        ("periodSeconds", p.period_seconds, 1),
        ("timeoutSeconds", p.timeout_seconds, 1),
        ("successThreshold", p.success_threshold, 1),
        ("failureThreshold", p.failure_threshold, 1),
    ] {
        if let Some(v) = value
            && v < min
        {
            out.push(Finding::error(
                path.key(field),
                format!("{v} must be {min} or more"),
            ));
        }
    }
    if success_must_be_one && p.success_threshold.is_some_and(|s| s != 1) {
        out.push(Finding::error(
            path.key("successThreshold"),
            "must be 1 for liveness and startup probes",
        ));
    }
    if let Some(g) = p.termination_grace_period_seconds
        && g < 1
    {
        out.push(Finding::error(
            path.key("terminationGracePeriodSeconds"),
            format!("{g} must be 1 or more"),
        ));
    }
    if let Some(e) = &p.exec
        && e.command.as_ref().is_none_or(Vec::is_empty)
    {
        out.push(Finding::error(
            path.key("exec").key("command"),
            "required: the command to run",
        ));
    }
    if let Some(h) = &p.http_get {
        check_http(h, c, &path.key("httpGet"), out);
    }
    if let Some(t) = &p.tcp_socket {
        check_port(&t.port, c, &path.key("tcpSocket").key("port"), out);
    }
    if let Some(g) = &p.grpc
        && !(1..=65535).contains(&g.port)
    {
        out.push(Finding::error(
            path.key("grpc").key("port"),
            format!("{} must be between 1 and 65535", g.port),
        ));
    }
}

fn check_hook(h: &LifecycleHandler, c: &Container, path: &FieldPath, out: &mut Vec<Finding>) {
    let handlers = present(&[
        (h.exec.is_some(), "exec"),
        (h.http_get.is_some(), "httpGet"),
        (h.tcp_socket.is_some(), "tcpSocket"),
        (h.sleep.is_some(), "sleep"),
    ]);
    match handlers.as_slice() {
        [] => out.push(Finding::error(
            path.clone(),
            "needs a handler: exec, httpGet or sleep",
        )),
        [_] => {}
        many => out.push(Finding::error(
            path.clone(),
            format!(
                "has {} handlers ({}): give exactly one",
                many.len(),
                many.join(", ")
            ),
        )),
    }
    if let Some(e) = &h.exec
        && e.command.as_ref().is_none_or(Vec::is_empty)
    {
        out.push(Finding::error(
            path.key("exec").key("command"),
            "required: the command to run",
        ));
    }
    if let Some(x) = &h.http_get {
        check_http(x, c, &path.key("httpGet"), out);
    }
    if let Some(s) = &h.sleep
        && s.seconds < 0
    {
        out.push(Finding::error(
            path.key("sleep").key("seconds"),
            format!("{} must be 0 or more", s.seconds),
        ));
    }
}

fn check_http(h: &HTTPGetAction, c: &Container, path: &FieldPath, out: &mut Vec<Finding>) {
    check_port(&h.port, c, &path.key("port"), out);
    if let Some(s) = &h.scheme
        && s != "HTTP"
        && s != "HTTPS"
    {
        out.push(Finding::error(
            path.key("scheme"),
            format!("{s:?} is not a valid scheme (HTTP or HTTPS)"),
        ));
    }
    if let Some(host) = &h.host
        && !host.is_empty()
        && host.parse::<std::net::IpAddr>().is_err()
    {
        out.push(Finding::warning(path.key("host"), format!("{host:?} is not an IP address: podtui does not resolve names for probes, so this probe fails")));
    }
}

fn check_port(port: &IntOrString, c: &Container, path: &FieldPath, out: &mut Vec<Finding>) {
    match port {
        IntOrString::Int(n) if !(1..=65535).contains(n) => {
            out.push(Finding::error(
                path.clone(),
                format!("{n} must be between 1 and 65535"),
            ));
        }
        IntOrString::Int(_) => {}
        IntOrString::String(name) => {
            if !is_iana_svc_name(name) {
                out.push(Finding::error(
                    path.clone(),
                    format!("{name:?} is not a valid port name"),
                ));
            } else if !c
                .ports
                .iter()
                .flatten()
                .any(|p| p.name.as_deref() == Some(name.as_str()))
            {
                out.push(Finding::error(
                    path.clone(),
                    format!("{name:?} is not the name of a port of this container"),
                ));
            }
        }
    }
}

fn check_id(v: Option<i64>, path: FieldPath, out: &mut Vec<Finding>) {
    if let Some(v) = v
        && !(0..=i64::from(i32::MAX)).contains(&v)
    {
        out.push(Finding::error(
            path,
            format!("{v} must be between 0 and 2147483647"),
        ));
    }
}

fn check_profiles(
    seccomp: Option<&SeccompProfile>,
    apparmor: Option<&AppArmorProfile>,
    base: &FieldPath,
    out: &mut Vec<Finding>,
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
        let path = base.key(field);
        if !["RuntimeDefault", "Unconfined", "Localhost"].contains(&kind) {
            out.push(Finding::error(
                path.key("type"),
                format!(
                    "{kind:?} is not a valid profile type (RuntimeDefault, Unconfined, Localhost)"
                ),
            ));
        } else if kind == "Localhost" && localhost.is_none_or(|p| p.is_empty()) {
            out.push(Finding::error(
                path.key("localhostProfile"),
                "required when type is Localhost",
            ));
        }
    }
}

fn check_container_security(sc: &SecurityContext, path: &FieldPath, out: &mut Vec<Finding>) {
    check_id(sc.run_as_user, path.key("runAsUser"), out);
    check_id(sc.run_as_group, path.key("runAsGroup"), out);
    if sc.privileged == Some(true) && sc.allow_privilege_escalation == Some(false) {
        out.push(Finding::error(
            path.key("allowPrivilegeEscalation"),
            "cannot be false when privileged is true",
        ));
    }
    if sc.run_as_non_root == Some(true) && sc.run_as_user == Some(0) {
        out.push(Finding::error(
            path.key("runAsNonRoot"),
            "runAsUser 0 (root) breaks runAsNonRoot",
        ));
    }
    if let Some(caps) = &sc.capabilities {
        for (field, list) in [("add", &caps.add), ("drop", &caps.drop)] {
            for (i, cap) in list.iter().flatten().enumerate() {
                let name = cap.trim_start_matches("CAP_");
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    out.push(Finding::error(
                        path.key("capabilities").key(field).index(i),
                        format!("{cap:?} is not a capability name (NET_ADMIN, SYS_TIME, ALL…)"),
                    ));
                }
            }
        }
    }
    check_profiles(
        sc.seccomp_profile.as_ref(),
        sc.app_armor_profile.as_ref(),
        path,
        out,
    );
}

/// Checks the pod's security context and activeDeadlineSeconds.
pub fn pod(spec: &PodSpec, out: &mut Vec<Finding>) {
    let base = FieldPath::root().key("spec");
    if let Some(s) = spec.active_deadline_seconds
        && s < 1
    {
        out.push(Finding::error(
            base.key("activeDeadlineSeconds"),
            format!("{s} must be 1 or more"),
        ));
    }
    if spec.host_pid == Some(true) && spec.share_process_namespace == Some(true) {
        out.push(Finding::error(
            base.key("shareProcessNamespace"),
            "cannot be true together with hostPID",
        ));
    }
    let Some(sc) = &spec.security_context else {
        return;
    };
    let path = base.key("securityContext");
    check_id(sc.run_as_user, path.key("runAsUser"), out);
    check_id(sc.run_as_group, path.key("runAsGroup"), out);
    check_id(sc.fs_group, path.key("fsGroup"), out);
    for (i, g) in sc.supplemental_groups.iter().flatten().enumerate() {
        check_id(Some(*g), path.key("supplementalGroups").index(i), out);
    }
    for (i, s) in sc.sysctls.iter().flatten().enumerate() {
        let ok = !s.name.is_empty()
            && s.name.split(['.', '/']).all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            });
        if !ok {
            out.push(Finding::error(
                path.key("sysctls").index(i).key("name"),
                format!(
                    "{:?} is not a sysctl name (such as net.ipv4.ip_unprivileged_port_start)",
                    s.name
                ),
            ));
        }
    }
    check_profiles(
        sc.seccomp_profile.as_ref(),
        sc.app_armor_profile.as_ref(),
        &path,
        out,
    );
}

/// Warnings for everything in the pod that can touch the host, so a user sees it at a glance.
pub fn host_access(spec: &PodSpec, out: &mut Vec<Finding>) {
    let base = FieldPath::root().key("spec");
    for (field, on) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        if on == Some(true) {
            out.push(Finding::warning(
                base.key(field),
                format!(
                    "host access: the pod shares the host's {} namespace",
                    &field[4..].to_lowercase()
                ),
            ));
        }
    }
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        if let Some(hp) = &v.host_path {
            out.push(Finding::warning(
                base.key("volumes").index(i).key("hostPath"),
                format!("host access: mounts the host's {}", hp.path),
            ));
        }
    }
    let lists = [
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", spec.containers.as_slice()),
    ];
    for (list, containers) in lists {
        for (i, c) in containers.iter().enumerate() {
            let Some(sc) = &c.security_context else {
                continue;
            };
            let path = base.key(list).index(i).key("securityContext");
            if sc.privileged == Some(true) {
                out.push(Finding::warning(
                    path.key("privileged"),
                    format!(
                        "host access: container {} is privileged (all devices and capabilities)",
                        c.name
                    ),
                ));
            }
            if let Some(add) = sc
                .capabilities
                .as_ref()
                .and_then(|c| c.add.as_ref())
                .filter(|a| !a.is_empty())
            {
                out.push(Finding::warning(
                    path.key("capabilities").key("add"),
                    format!("host access: container {} adds {}", c.name, add.join(", ")),
                ));
            }
        }
    }
}
