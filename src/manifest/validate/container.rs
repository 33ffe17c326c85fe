//! The containers of a pod, init containers first: unique names, and each one's name, image, policies, ports
//! (hostPorts unique on the host), resources, and the checks of its parts in `volumes`,
//! `env`, `probes` and `security`.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, ResourceRequirements};

use super::{Validator, check_quantity, each_container, env, probes, security, volumes};
use crate::manifest::names::{is_dns1123_label, is_iana_svc_name};
use crate::manifest::path::FieldPath;
use crate::manifest::quantity::Quantity;

/// What a container is to its pod, which decides what it may set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// An app container (`spec.containers`).
    App,
    /// An init container that runs to completion before the app containers.
    Init,
    /// An init container with `restartPolicy: Always` (a native sidecar): it may have probes and hooks.
    Sidecar,
}

impl Kind {
    /// The kind of `c`, listed in `spec.initContainers` when `init`.
    fn of(c: &Container, init: bool) -> Self {
        match (init, c.restart_policy.as_deref()) {
            (false, _) => Kind::App,
            (true, Some("Always")) => Kind::Sidecar,
            (true, _) => Kind::Init,
        }
    }
}

/// What checking one container needs from the rest of the pod.
struct PodContext<'a> {
    /// The volumes `spec.volumes` declares.
    volumes: &'a HashSet<String>,
    /// `spec.hostNetwork`.
    host_network: bool,
}

/// A hostPort already claimed by an earlier port of the pod.
struct HostPort {
    protocol: String,
    port: i32,
    ip: String,
    path: FieldPath,
}

impl HostPort {
    /// Whether binding `port` on `ip` would collide with this one on the host: the same address, or either one
    /// the wildcard (`0.0.0.0`/`::` binds every address, including the one an empty hostIP gets).
    fn clashes(&self, protocol: &str, port: i32, ip: &str) -> bool {
        let wildcard = |a: &str| {
            a.parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_unspecified())
        };
        self.protocol == protocol
            && self.port == port
            && (self.ip == ip || wildcard(&self.ip) || wildcard(ip))
    }
}

/// The hostPorts the pod's containers claim, in spec order.
#[derive(Default)]
struct HostPorts(Vec<HostPort>);

impl HostPorts {
    /// Claims `port`, unless an earlier one clashes with it: then returns that one's path and records nothing.
    fn claim(&mut self, port: HostPort) -> Option<&FieldPath> {
        match self
            .0
            .iter()
            .position(|h| h.clashes(&port.protocol, port.port, &port.ip))
        {
            Some(i) => Some(&self.0[i].path),
            None => {
                self.0.push(port);
                None
            }
        }
    }
}

/// Every container of the spec at `spec_path`: at least one app container, names unique across both lists,
/// and each one checked. `declared`: the volumes of the pod.
pub(super) fn check_containers(
    v: &mut Validator,
    spec_path: &FieldPath,
    spec: &PodSpec,
    declared: &HashSet<String>,
) {
    if spec.containers.is_empty() {
        v.error(
            spec_path.key("containers"),
            "required: a pod needs at least one container",
        );
    }
    let pod = PodContext {
        volumes: declared,
        host_network: spec.host_network == Some(true),
    };
    let mut names: HashMap<&str, FieldPath> = HashMap::new();
    let mut host_ports = HostPorts::default();
    for (path, c, init) in each_container(spec_path, spec) {
        if let Some(first) = names.get(c.name.as_str()) {
            v.error(
                path.key("name"),
                format!(
                    "{:?} is a duplicate container name (already used at {first})",
                    c.name
                ),
            );
        } else if !c.name.is_empty() {
            names.insert(&c.name, path.key("name"));
        }
        check_container(v, &path, c, Kind::of(c, init), &pod, &mut host_ports);
    }
}

/// One container at `path`, every part of it, in this order.
fn check_container(
    v: &mut Validator,
    path: &FieldPath,
    c: &Container,
    kind: Kind,
    pod: &PodContext<'_>,
    host_ports: &mut HostPorts,
) {
    check_name(v, &path.key("name"), &c.name);
    check_image(v, &path.key("image"), c.image.as_deref());
    v.one_of(
        path.key("imagePullPolicy"),
        c.image_pull_policy.as_ref(),
        &["Always", "IfNotPresent", "Never"],
        "imagePullPolicy",
    );
    check_restart_policy(
        v,
        &path.key("restartPolicy"),
        c.restart_policy.as_ref(),
        kind,
    );
    check_ports(v, &path.key("ports"), c, pod.host_network, host_ports);
    volumes::check_mounts(v, path, c, pod.volumes);
    env::check_env(v, path, c);
    check_stdin_once(v, &path.key("stdinOnce"), c);
    probes::check_probes(v, path, c, kind);
    if let Some(l) = &c.lifecycle {
        probes::check_lifecycle(v, &path.key("lifecycle"), l, c, kind);
    }
    if let Some(sc) = &c.security_context {
        security::check_container_security_context(v, &path.key("securityContext"), sc);
    }
    if let Some(res) = &c.resources {
        check_resources(v, &path.key("resources"), res);
    }
    v.one_of(
        path.key("terminationMessagePolicy"),
        c.termination_message_policy.as_ref(),
        &["File", "FallbackToLogsOnError"],
        "terminationMessagePolicy",
    );
}

/// A container's name: required, an RFC 1123 label.
fn check_name(v: &mut Validator, path: &FieldPath, name: &str) {
    if name.is_empty() {
        v.error(path.clone(), "required: every container needs a name");
    } else if !is_dns1123_label(name) {
        v.error(
            path.clone(),
            format!("{name:?} is not a valid container name (lowercase RFC 1123 label)"),
        );
    }
}

/// A container's image: required, without whitespace inside.
fn check_image(v: &mut Validator, path: &FieldPath, image: Option<&str>) {
    match image.map(str::trim) {
        None | Some("") => v.error(path.clone(), "required: every container needs an image"),
        Some(img) if img.chars().any(char::is_whitespace) => v.error(
            path.clone(),
            format!("{img:?} is not a valid image reference (no whitespace)"),
        ),
        Some(_) => {}
    }
}

/// A container's own `restartPolicy`: only on init containers (making them sidecars), and only `Always`.
fn check_restart_policy(v: &mut Validator, path: &FieldPath, policy: Option<&String>, kind: Kind) {
    if kind == Kind::App {
        if policy.is_some() {
            v.error(
                path.clone(),
                "may only be set on init containers (native sidecars)",
            );
        }
    } else {
        v.one_of(
            path.clone(),
            policy,
            &["Always"],
            "init container restartPolicy",
        );
    }
}

/// The container's `ports` at `path`: each one checked, names unique within the container, hostPorts
/// claimed across the pod.
fn check_ports(
    v: &mut Validator,
    path: &FieldPath,
    c: &Container,
    host_network: bool,
    host_ports: &mut HostPorts,
) {
    let mut names = HashSet::new();
    for (i, port) in c.ports.iter().flatten().enumerate() {
        let pp = path.index(i);
        check_port(v, &pp, port, &mut names);
        check_host_port(v, &pp, port, host_network, host_ports);
    }
}

/// One port at `path`: containerPort in range, a known protocol, a valid name not used before (`names` gets
/// it), an IP address as hostIP.
fn check_port(
    v: &mut Validator,
    path: &FieldPath,
    port: &ContainerPort,
    names: &mut HashSet<String>,
) {
    if port.container_port == 0 {
        v.error(path.key("containerPort"), "required (1-65535)");
    } else if !(1..=65535).contains(&port.container_port) {
        v.error(
            path.key("containerPort"),
            format!("{} must be between 1 and 65535", port.container_port),
        );
    }
    v.one_of(
        path.key("protocol"),
        port.protocol.as_ref(),
        &["TCP", "UDP", "SCTP"],
        "protocol",
    );
    if let Some(name) = &port.name {
        if !is_iana_svc_name(name) {
            v.error(path.key("name"), format!("{name:?} is not a valid port name (at most 15 characters of a-z, 0-9 and '-', with a letter)"));
        }
        if !names.insert(name.clone()) {
            v.error(
                path.key("name"),
                format!("{name:?} is a duplicate port name"),
            );
        }
    }
    if let Some(ip) = &port.host_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        v.error(path.key("hostIP"), format!("{ip:?} is not an IP address"));
    }
}

/// The hostPort of the port at `path`, if any: in range, equal to containerPort with hostNetwork, and not
/// clashing with one claimed before.
fn check_host_port(
    v: &mut Validator,
    path: &FieldPath,
    port: &ContainerPort,
    host_network: bool,
    host_ports: &mut HostPorts,
) {
    let hp = match port.host_port {
        None | Some(0) => return,
        Some(hp) if !(1..=65535).contains(&hp) => {
            v.error(
                path.key("hostPort"),
                format!("{hp} must be between 1 and 65535"),
            );
            return;
        }
        Some(hp) => hp,
    };
    if host_network && hp != port.container_port {
        v.error(
            path.key("hostPort"),
            format!(
                "{hp} must equal containerPort {} with hostNetwork",
                port.container_port
            ),
        );
    }
    let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".into());
    let claim = HostPort {
        protocol: protocol.clone(),
        port: hp,
        ip: port.host_ip.clone().unwrap_or_default(),
        path: path.key("hostPort"),
    };
    if let Some(first) = host_ports.claim(claim) {
        v.error(
            path.key("hostPort"),
            format!("{hp}/{protocol} is a duplicate hostPort (already used at {first})"),
        );
    }
}

/// `stdinOnce` means nothing without `stdin`.
fn check_stdin_once(v: &mut Validator, path: &FieldPath, c: &Container) {
    if c.stdin_once == Some(true) && c.stdin != Some(true) {
        v.warn(path.clone(), "has no effect without stdin: true");
    }
}

/// `resources` at `path`: every quantity valid, and no request above its limit.
fn check_resources(v: &mut Validator, path: &FieldPath, res: &ResourceRequirements) {
    for (kind, map) in [("requests", &res.requests), ("limits", &res.limits)] {
        for (name, q) in map.iter().flatten() {
            check_quantity(v, &path.key(kind).key(name.clone()), &q.0);
        }
    }
    for (name, request) in res.requests.iter().flatten() {
        let limit = res.limits.as_ref().and_then(|l| l.get(name));
        if let (Ok(r), Some(Ok(l))) = (
            Quantity::parse(&request.0),
            limit.map(|l| Quantity::parse(&l.0)),
        ) && r > l
        {
            v.error(
                path.key("requests").key(name.clone()),
                format!(
                    "{} must be less than or equal to the {name} limit ({})",
                    request.0,
                    limit.map_or("", |l| l.0.as_str())
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    fn spec_findings(spec: &str) -> Vec<String> {
        let spec: PodSpec = yaml(spec);
        findings(|v| check_containers(v, &p("spec"), &spec, &HashSet::new()))
    }

    fn host_port(protocol: &str, port: i32, ip: &str) -> HostPort {
        HostPort {
            protocol: protocol.into(),
            port,
            ip: ip.into(),
            path: p(&format!("at.{port}")),
        }
    }

    #[test]
    fn the_kind_of_a_container() {
        let sidecar: Container = yaml("{name: s, restartPolicy: Always}");
        let plain: Container = yaml("{name: i}");
        assert_eq!(Kind::of(&sidecar, true), Kind::Sidecar);
        assert_eq!(Kind::of(&plain, true), Kind::Init);
        assert_eq!(Kind::of(&sidecar, false), Kind::App);
        assert_eq!(Kind::of(&plain, false), Kind::App);
    }

    #[test]
    fn host_ports_clash_on_the_same_or_a_wildcard_address() {
        let mut ports = HostPorts::default();
        assert!(ports.claim(host_port("TCP", 80, "")).is_none());
        assert!(
            ports.claim(host_port("UDP", 80, "")).is_none(),
            "another protocol"
        );
        assert!(ports.claim(host_port("TCP", 81, "127.0.0.1")).is_none());
        assert!(
            ports.claim(host_port("TCP", 81, "127.0.0.2")).is_none(),
            "another address"
        );
        assert_eq!(
            ports
                .claim(host_port("TCP", 80, ""))
                .map(ToString::to_string),
            Some("at.80".into())
        );
        assert_eq!(
            ports
                .claim(host_port("TCP", 81, "0.0.0.0"))
                .map(ToString::to_string),
            Some("at.81".into()),
            "the wildcard binds every address"
        );
        assert_eq!(ports.0.len(), 4, "a clash claims nothing");
        assert!(host_port("TCP", 9, "::").clashes("TCP", 9, "10.0.0.1"));
    }

    #[test]
    fn names_are_unique_across_init_and_app_containers() {
        let out = spec_findings(
            "{initContainers: [{name: web, image: x}], containers: [{name: web, image: x}, {name: '', image: x}, {name: '', image: x}]}",
        );
        assert_eq!(
            out,
            [
                "error spec.containers[0].name: \"web\" is a duplicate container name (already used at spec.initContainers[0].name)",
                "error spec.containers[1].name: required: every container needs a name",
                "error spec.containers[2].name: required: every container needs a name",
            ]
        );
        assert_eq!(
            spec_findings("{containers: []}"),
            ["error spec.containers: required: a pod needs at least one container"]
        );
    }

    #[test]
    fn names_images_and_policies() {
        let out = spec_findings(
            "{initContainers: [{name: i, image: x, restartPolicy: Never}, {name: s, image: x, restartPolicy: Always}], containers: [{name: Web, image: ' ', imagePullPolicy: Sometimes, restartPolicy: Always, terminationMessagePolicy: Logs}, {name: b, image: 'a b', stdinOnce: true}]}",
        );
        assert_eq!(out.len(), 8, "{out:#?}");
        assert_eq!(
            out[0],
            "error spec.initContainers[0].restartPolicy: \"Never\" is not a valid init container restartPolicy (one of Always)"
        );
        assert_eq!(
            out[1],
            "error spec.containers[0].name: \"Web\" is not a valid container name (lowercase RFC 1123 label)"
        );
        assert_eq!(
            out[2],
            "error spec.containers[0].image: required: every container needs an image"
        );
        assert!(out[3].starts_with("error spec.containers[0].imagePullPolicy: \"Sometimes\""));
        assert_eq!(
            out[4],
            "error spec.containers[0].restartPolicy: may only be set on init containers (native sidecars)"
        );
        assert!(out[5].starts_with("error spec.containers[0].terminationMessagePolicy: \"Logs\""));
        assert_eq!(
            out[6],
            "error spec.containers[1].image: \"a b\" is not a valid image reference (no whitespace)"
        );
        assert_eq!(
            out[7],
            "warning spec.containers[1].stdinOnce: has no effect without stdin: true"
        );
    }

    #[test]
    fn stdin_once_needs_stdin() {
        let check = |c: &str| {
            let c: Container = yaml(c);
            findings(|v| check_stdin_once(v, &p("s"), &c))
        };
        assert_eq!(
            check("{name: a, stdinOnce: true}"),
            ["warning s: has no effect without stdin: true"]
        );
        assert!(check("{name: a, stdinOnce: true, stdin: true}").is_empty());
    }

    #[test]
    fn ports_and_host_ports() {
        let out = spec_findings(
            "{hostNetwork: true, containers: [{name: a, image: x, ports: [{containerPort: 0, protocol: ICMP, name: Web_Port, hostIP: localhost}, {containerPort: 70000, hostPort: 70000}, {containerPort: 80, hostPort: 8080, name: web}, {containerPort: 81, name: web}]}, {name: b, image: x, ports: [{containerPort: 8080, hostPort: 8080, hostIP: 0.0.0.0}]}]}",
        );
        let a = "spec.containers[0].ports";
        assert_eq!(
            out,
            [
                format!("error {a}[0].containerPort: required (1-65535)"),
                format!(
                    "error {a}[0].protocol: \"ICMP\" is not a valid protocol (one of TCP, UDP, SCTP)"
                ),
                format!(
                    "error {a}[0].name: \"Web_Port\" is not a valid port name (at most 15 characters of a-z, 0-9 and '-', with a letter)"
                ),
                format!("error {a}[0].hostIP: \"localhost\" is not an IP address"),
                format!("error {a}[1].containerPort: 70000 must be between 1 and 65535"),
                format!("error {a}[1].hostPort: 70000 must be between 1 and 65535"),
                format!("error {a}[2].hostPort: 8080 must equal containerPort 80 with hostNetwork"),
                format!("error {a}[3].name: \"web\" is a duplicate port name"),
                format!(
                    "error spec.containers[1].ports[0].hostPort: 8080/TCP is a duplicate hostPort (already used at {a}[2].hostPort)"
                ),
            ]
        );
    }

    #[test]
    fn resources_are_quantities_with_requests_within_limits() {
        let res: ResourceRequirements =
            yaml("{requests: {cpu: '2', memory: 12MB}, limits: {cpu: 500m, memory: 1Gi}}");
        let out = findings(|v| check_resources(v, &p("r"), &res));
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(
            out[0].starts_with("error r.requests.memory: "),
            "{}",
            out[0]
        );
        assert_eq!(
            out[1],
            "error r.requests.cpu: 2 must be less than or equal to the cpu limit (500m)"
        );
    }
}
