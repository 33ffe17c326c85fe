//! The sandbox (pause) container of a pod: it owns the pod's network, IPC (and with hostPID, PID) namespaces,
//! so everything Docker only accepts on the owner of a network namespace is set here — hostname, published
//! hostPorts, DNS, `/etc/hosts` aliases — and it mounts the pod's Docker volumes so podtui's pause program can
//! prepare them before any container of the pod starts.

use std::collections::HashMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::PodSpec;

use super::volumes::{PodVolume, VolumeKind, prepare_dirs, volume_mount};
use super::{NodeContext, grace_seconds, spec};
use crate::manifest::DesiredPod;
use crate::runtime::labels;
use crate::runtime::types::{ContainerConfig, Dns, PortBinding};

/// The sandbox hostname: `spec.hostname`, else the pod name cut to 63 characters (as the kubelet does).
pub fn sandbox_hostname(dp: &DesiredPod) -> String {
    if let Some(h) = spec(&dp.pod).hostname.filter(|h| !h.is_empty()) {
        return h;
    }
    let mut name: String = dp.name.chars().take(63).collect();
    while name.ends_with(['-', '.']) {
        name.pop();
    }
    name
}

fn host_nameservers() -> Vec<String> {
    std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(|s| s.trim().to_string())
        .filter(|s| s.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()))
        .collect()
}

/// Labels of the sandbox: the pod's labels, its annotations as `annotation.*`, and podtui's.
fn sandbox_labels(dp: &DesiredPod, node: &str, attempt: u32) -> HashMap<String, String> {
    let mut l: HashMap<String, String> = HashMap::new();
    for (k, v) in dp.pod.metadata.labels.iter().flatten() {
        l.insert(k.clone(), v.clone());
    }
    for (k, v) in dp.pod.metadata.annotations.iter().flatten() {
        l.insert(format!("annotation.{k}"), v.clone());
    }
    l.extend(labels::pod_labels(
        node,
        &dp.source,
        &dp.name,
        &dp.namespace,
        &dp.uid,
    ));
    l.insert(labels::DOCKER_TYPE.into(), labels::TYPE_SANDBOX.into());
    l.insert(
        labels::CONTAINER_NAME.into(),
        labels::SANDBOX_CONTAINER_NAME.into(),
    );
    l.insert(labels::ATTEMPT.into(), attempt.to_string());
    l.insert(
        labels::GRACE_PERIOD.into(),
        grace_seconds(&spec(&dp.pod)).to_string(),
    );
    let source_kind = if dp.source.starts_with("http://") || dp.source.starts_with("https://") {
        "http"
    } else {
        "file"
    };
    l.insert(labels::CONFIG_SOURCE.into(), source_kind.into());
    l.insert(labels::CONFIG_HASH.into(), dp.uid.clone());
    l
}

/// The hostPorts of every container, bound on the host (none with hostNetwork): the address is the port's
/// hostIP, else the node's `--host-port-address`.
fn port_bindings(spec: &PodSpec, ctx: &NodeContext) -> Vec<PortBinding> {
    if spec.host_network == Some(true) {
        return Vec::new();
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    let mut out = Vec::new();
    for p in containers.flat_map(|c| c.ports.iter().flatten()) {
        let Some(hp) = p.host_port.filter(|h| *h > 0) else {
            continue;
        };
        let proto = p
            .protocol
            .clone()
            .unwrap_or_else(|| "TCP".into())
            .to_ascii_lowercase();
        let host_ip = p
            .host_ip
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| ctx.host_port_address.to_string());
        out.push(PortBinding {
            container: format!("{}/{proto}", p.container_port),
            host_ip,
            host_port: u16::try_from(hp).unwrap_or(0),
        });
    }
    out
}

/// `dnsConfig` (nameservers added to the host's, or alone with `dnsPolicy: None`), none with hostNetwork.
fn dns(spec: &PodSpec) -> Dns {
    let mut dns = Dns::default();
    let Some(cfg) = spec
        .dns_config
        .as_ref()
        .filter(|_| spec.host_network != Some(true))
    else {
        return dns;
    };
    let servers = cfg.nameservers.clone().unwrap_or_default();
    if !servers.is_empty() {
        let mut all = if spec.dns_policy.as_deref() == Some("None") {
            Vec::new()
        } else {
            host_nameservers()
        };
        all.extend(servers);
        dns.servers = Some(all);
    }
    dns.search = cfg.searches.clone().filter(|s| !s.is_empty());
    let opts: Vec<String> = cfg
        .options
        .iter()
        .flatten()
        .map(|o| match &o.value {
            Some(v) => format!("{}:{v}", o.name.clone().unwrap_or_default()),
            None => o.name.clone().unwrap_or_default(),
        })
        .collect();
    dns.options = (!opts.is_empty()).then_some(opts);
    dns
}

/// `hostAliases` as `/etc/hosts` entries (`name:ip`).
fn extra_hosts(spec: &PodSpec) -> Vec<String> {
    spec.host_aliases
        .iter()
        .flatten()
        .flat_map(|a| {
            a.hostnames
                .iter()
                .flatten()
                .map(move |h| format!("{h}:{}", a.ip))
        })
        .collect()
}

/// What podtui's pause program prepares before pausing: the emptyDir directories (and fsGroup).
fn pause_args(dp: &DesiredPod, spec: &PodSpec, volumes: &[PodVolume]) -> Vec<String> {
    let mut args = Vec::new();
    for d in prepare_dirs(dp, volumes) {
        args.push("--prepare-dir".to_string());
        args.push(d);
    }
    if let Some(fs) = spec.security_context.as_ref().and_then(|s| s.fs_group) {
        args.push("--prepare-group".to_string());
        args.push(fs.to_string());
    }
    args
}

/// The sandbox's name and create body. With podtui's own pause image, its program prepares the volumes.
pub fn sandbox_body(
    dp: &DesiredPod,
    ctx: &NodeContext,
    pause_image: &str,
    attempt: u32,
    volumes: &[PodVolume],
    own_pause_image: bool,
) -> (String, ContainerConfig) {
    let spec = spec(&dp.pod);
    let host_network = spec.host_network == Some(true);
    let ports = port_bindings(&spec, ctx);
    let mut exposed_ports: Vec<String> = Vec::new();
    for p in &ports {
        if !exposed_ports.contains(&p.container) {
            exposed_ports.push(p.container.clone());
        }
    }
    let mounts = volumes
        .iter()
        .filter(|v| !matches!(v.kind, VolumeKind::HostPath { .. }))
        .filter_map(|v| Some(volume_mount(v.docker_volume()?, &v.sandbox_path(), false)))
        .collect();
    let sysctls = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.sysctls.as_ref())
        .map(|v| {
            v.iter()
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let config = ContainerConfig {
        image: pause_image.to_string(),
        cmd: own_pause_image.then(|| pause_args(dp, &spec, volumes)),
        hostname: (!host_network).then(|| sandbox_hostname(dp)),
        labels: sandbox_labels(dp, &ctx.node, attempt),
        network_mode: if host_network { "host" } else { "bridge" }.into(),
        ipc_mode: Some(
            if spec.host_ipc == Some(true) {
                "host"
            } else {
                "shareable"
            }
            .into(),
        ),
        pid_mode: (spec.host_pid == Some(true)).then(|| "host".to_string()),
        exposed_ports,
        ports,
        dns: dns(&spec),
        extra_hosts: extra_hosts(&spec),
        sysctls,
        mounts,
        ..Default::default()
    };
    (
        labels::sandbox_name(&dp.name, &dp.namespace, &dp.uid, attempt),
        config,
    )
}
