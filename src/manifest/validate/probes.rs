//! A container's probes (liveness, readiness, startup) and lifecycle hooks (postStart, preStop, stopSignal):
//! exactly one handler each, numbers in range, ports that exist, and none on a plain init container.

use k8s_openapi::api::core::v1::{Container, HTTPGetAction, Lifecycle, LifecycleHandler, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Validator;
use super::container::Kind;
use crate::manifest::names::is_iana_svc_name;
use crate::manifest::path::FieldPath;

/// Why a plain init container may have neither probes nor hooks.
const NOT_ON_INIT: &str =
    "may not be set on init containers (only on sidecars: restartPolicy Always)";

/// The probes of the container at `path`.
pub(super) fn check_probes(v: &mut Validator, path: &FieldPath, c: &Container, kind: Kind) {
    for (field, probe) in [
        ("livenessProbe", &c.liveness_probe),
        ("readinessProbe", &c.readiness_probe),
        ("startupProbe", &c.startup_probe),
    ] {
        let Some(probe) = probe else { continue };
        let path = path.key(field);
        if kind == Kind::Init {
            v.error(path, NOT_ON_INIT);
            continue;
        }
        check_probe(v, &path, probe, c, field != "readinessProbe");
    }
}

/// The `lifecycle` of the container `c` at `path`: its hooks and its stop signal.
pub(super) fn check_lifecycle(
    v: &mut Validator,
    path: &FieldPath,
    l: &Lifecycle,
    c: &Container,
    kind: Kind,
) {
    if kind == Kind::Init {
        v.error(path.clone(), NOT_ON_INIT);
    }
    for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        if let Some(h) = h {
            check_hook(v, &path.key(field), h, c);
        }
    }
    if let Some(sig) = &l.stop_signal
        && !is_signal_name(sig)
    {
        v.error(
            path.key("stopSignal"),
            format!("{sig:?} is not a signal name (SIGTERM, SIGINT, SIGQUIT…)"),
        );
    }
}

/// Whether `sig` is spelled as a signal name: `SIG` then capitals, digits, `+` or `-` (`SIGRTMIN+1`).
fn is_signal_name(sig: &str) -> bool {
    sig.strip_prefix("SIG").is_some_and(|name| {
        !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '+' || ch == '-')
    })
}

/// The handlers a probe sets, by field name.
fn probe_handlers(p: &Probe) -> Vec<&'static str> {
    present(&[
        (p.exec.is_some(), "exec"),
        (p.http_get.is_some(), "httpGet"),
        (p.tcp_socket.is_some(), "tcpSocket"),
        (p.grpc.is_some(), "grpc"),
    ])
}

/// The handlers a hook sets, by field name.
fn hook_handlers(h: &LifecycleHandler) -> Vec<&'static str> {
    present(&[
        (h.exec.is_some(), "exec"),
        (h.http_get.is_some(), "httpGet"),
        (h.tcp_socket.is_some(), "tcpSocket"),
        (h.sleep.is_some(), "sleep"),
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

/// Exactly one handler: `none` is the message when there is none.
fn check_one_handler(v: &mut Validator, path: &FieldPath, handlers: &[&str], none: &str) {
    match handlers {
        [] => v.error(path.clone(), none),
        [_] => {}
        many => v.error(
            path.clone(),
            format!(
                "has {} handlers ({}): give exactly one",
                many.len(),
                many.join(", ")
            ),
        ),
    }
}

/// One probe of container `c` at `path`; `success_must_be_one` for liveness and startup probes.
fn check_probe(
    v: &mut Validator,
    path: &FieldPath,
    p: &Probe,
    c: &Container,
    success_must_be_one: bool,
) {
    check_one_handler(
        v,
        path,
        &probe_handlers(p),
        "needs a handler: exec, httpGet, tcpSocket or grpc",
    );
    check_probe_timing(v, path, p, success_must_be_one);
    if let Some(e) = &p.exec
        && e.command.as_ref().is_none_or(Vec::is_empty)
    {
        v.error(
            path.key("exec").key("command"),
            "required: the command to run",
        );
    }
    if let Some(h) = &p.http_get {
        check_http_get(v, &path.key("httpGet"), h, c);
    }
    if let Some(t) = &p.tcp_socket {
        check_port(v, &path.key("tcpSocket").key("port"), &t.port, c);
    }
    if let Some(g) = &p.grpc
        && !(1..=65535).contains(&g.port)
    {
        v.error(
            path.key("grpc").key("port"),
            format!("{} must be between 1 and 65535", g.port),
        );
    }
}

/// A probe's delays, thresholds and grace period: each at least its minimum; successThreshold 1 for liveness
/// and startup probes.
fn check_probe_timing(v: &mut Validator, path: &FieldPath, p: &Probe, success_must_be_one: bool) {
    for (field, value, min) in [
        ("initialDelaySeconds", p.initial_delay_seconds, 0),
        ("periodSeconds", p.period_seconds, 1),
        ("timeoutSeconds", p.timeout_seconds, 1),
        ("successThreshold", p.success_threshold, 1),
        ("failureThreshold", p.failure_threshold, 1),
    ] {
        if let Some(n) = value
            && n < min
        {
            v.error(path.key(field), format!("{n} must be {min} or more"));
        }
    }
    if success_must_be_one && p.success_threshold.is_some_and(|s| s != 1) {
        v.error(
            path.key("successThreshold"),
            "must be 1 for liveness and startup probes",
        );
    }
    if let Some(g) = p.termination_grace_period_seconds
        && g < 1
    {
        v.error(
            path.key("terminationGracePeriodSeconds"),
            format!("{g} must be 1 or more"),
        );
    }
}

/// One hook (postStart or preStop) of container `c` at `path`.
fn check_hook(v: &mut Validator, path: &FieldPath, h: &LifecycleHandler, c: &Container) {
    check_one_handler(
        v,
        path,
        &hook_handlers(h),
        "needs a handler: exec, httpGet or sleep",
    );
    if let Some(e) = &h.exec
        && e.command.as_ref().is_none_or(Vec::is_empty)
    {
        v.error(
            path.key("exec").key("command"),
            "required: the command to run",
        );
    }
    if let Some(x) = &h.http_get {
        check_http_get(v, &path.key("httpGet"), x, c);
    }
    if let Some(s) = &h.sleep
        && s.seconds < 0
    {
        v.error(
            path.key("sleep").key("seconds"),
            format!("{} must be 0 or more", s.seconds),
        );
    }
}

/// An `httpGet` handler at `path`: its port, scheme, and a host podtui can reach without resolving names.
fn check_http_get(v: &mut Validator, path: &FieldPath, h: &HTTPGetAction, c: &Container) {
    check_port(v, &path.key("port"), &h.port, c);
    if let Some(s) = &h.scheme
        && s != "HTTP"
        && s != "HTTPS"
    {
        v.error(
            path.key("scheme"),
            format!("{s:?} is not a valid scheme (HTTP or HTTPS)"),
        );
    }
    if let Some(host) = &h.host
        && !host.is_empty()
        && host.parse::<std::net::IpAddr>().is_err()
    {
        v.warn(path.key("host"), format!("{host:?} is not an IP address: podtui does not resolve names for probes, so this probe fails"));
    }
}

/// A handler's port at `path`: a number in range, or the name of one of the container's ports.
fn check_port(v: &mut Validator, path: &FieldPath, port: &IntOrString, c: &Container) {
    match port {
        IntOrString::Int(n) if !(1..=65535).contains(n) => {
            v.error(path.clone(), format!("{n} must be between 1 and 65535"));
        }
        IntOrString::Int(_) => {}
        IntOrString::String(name) if !is_iana_svc_name(name) => {
            v.error(path.clone(), format!("{name:?} is not a valid port name"));
        }
        IntOrString::String(name) if !has_port_named(c, name) => {
            v.error(
                path.clone(),
                format!("{name:?} is not the name of a port of this container"),
            );
        }
        IntOrString::String(_) => {}
    }
}

/// Whether the container declares a port called `name`.
fn has_port_named(c: &Container, name: &str) -> bool {
    c.ports
        .iter()
        .flatten()
        .any(|p| p.name.as_deref() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    fn check(container: &str, kind: Kind) -> Vec<String> {
        let c: Container = yaml(container);
        findings(|v| {
            check_probes(v, &p("c"), &c, kind);
            if let Some(l) = &c.lifecycle {
                check_lifecycle(v, &p("c.lifecycle"), l, &c, kind);
            }
        })
    }

    #[test]
    fn signal_names() {
        for ok in ["SIGTERM", "SIGRTMIN+1", "SIGUSR1"] {
            assert!(is_signal_name(ok), "{ok}");
        }
        for bad in ["TERM", "SIG", "SIGterm", "sigterm", "15"] {
            assert!(!is_signal_name(bad), "{bad}");
        }
    }

    #[test]
    fn plain_init_containers_may_not_probe_or_hook_but_sidecars_may() {
        let c = "{name: i, readinessProbe: {exec: {command: [ok]}}, lifecycle: {preStop: {sleep: {seconds: 1}}}}";
        assert_eq!(
            check(c, Kind::Init),
            [
                format!("error c.readinessProbe: {NOT_ON_INIT}"),
                format!("error c.lifecycle: {NOT_ON_INIT}"),
            ]
        );
        assert!(check(c, Kind::Sidecar).is_empty());
        assert!(check(c, Kind::App).is_empty());
    }

    #[test]
    fn exactly_one_handler() {
        let out = check(
            "{name: a, livenessProbe: {periodSeconds: 5}, startupProbe: {exec: {command: [x]}, tcpSocket: {port: 80}}, lifecycle: {postStart: {}}}",
            Kind::App,
        );
        assert_eq!(
            out,
            [
                "error c.livenessProbe: needs a handler: exec, httpGet, tcpSocket or grpc",
                "error c.startupProbe: has 2 handlers (exec, tcpSocket): give exactly one",
                "error c.lifecycle.postStart: needs a handler: exec, httpGet or sleep",
            ]
        );
    }

    #[test]
    fn timing_is_in_range_and_only_readiness_may_need_several_successes() {
        let out = check(
            "{name: a, livenessProbe: {exec: {command: [x]}, periodSeconds: 0, initialDelaySeconds: -1, successThreshold: 2, terminationGracePeriodSeconds: 0}, readinessProbe: {exec: {command: [x]}, successThreshold: 3}}",
            Kind::App,
        );
        assert_eq!(
            out,
            [
                "error c.livenessProbe.initialDelaySeconds: -1 must be 0 or more",
                "error c.livenessProbe.periodSeconds: 0 must be 1 or more",
                "error c.livenessProbe.successThreshold: must be 1 for liveness and startup probes",
                "error c.livenessProbe.terminationGracePeriodSeconds: 0 must be 1 or more",
            ]
        );
    }

    #[test]
    fn handler_fields() {
        let out = check(
            "{name: a, ports: [{name: web, containerPort: 80}], livenessProbe: {exec: {command: []}}, readinessProbe: {httpGet: {port: metrics, scheme: FTP, host: example.com}}, startupProbe: {grpc: {port: 0}}, lifecycle: {postStart: {httpGet: {port: web}}, preStop: {sleep: {seconds: -1}}, stopSignal: TERM}}",
            Kind::App,
        );
        assert_eq!(
            out,
            [
                "error c.livenessProbe.exec.command: required: the command to run",
                "error c.readinessProbe.httpGet.port: \"metrics\" is not the name of a port of this container",
                "error c.readinessProbe.httpGet.scheme: \"FTP\" is not a valid scheme (HTTP or HTTPS)",
                "warning c.readinessProbe.httpGet.host: \"example.com\" is not an IP address: podtui does not resolve names for probes, so this probe fails",
                "error c.startupProbe.grpc.port: 0 must be between 1 and 65535",
                "error c.lifecycle.preStop.sleep.seconds: -1 must be 0 or more",
                "error c.lifecycle.stopSignal: \"TERM\" is not a signal name (SIGTERM, SIGINT, SIGQUIT…)",
            ]
        );
    }

    #[test]
    fn ports_are_numbers_in_range_or_names_of_the_containers_ports() {
        let c: Container = yaml("{name: a, ports: [{name: web, containerPort: 80}]}");
        let check = |port: IntOrString| findings(|v| check_port(v, &p("port"), &port, &c));
        assert!(check(IntOrString::Int(80)).is_empty());
        assert!(check(IntOrString::String("web".into())).is_empty());
        assert_eq!(
            check(IntOrString::Int(70000)),
            ["error port: 70000 must be between 1 and 65535"]
        );
        assert_eq!(
            check(IntOrString::String("Web_1".into())),
            ["error port: \"Web_1\" is not a valid port name"]
        );
    }
}
