//! How a pod becomes Docker containers: the sandbox's create body (hostname, ports, DNS, host aliases, the
//! pod's volumes), each container's create body (joined namespaces, command/args with `$(VAR)` expansion, env
//! with fieldRefs, mounts), and the pod's volumes. Pure functions of the manifest and what Docker reported.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, HostConfigLogConfig, Mount, MountType,
    MountVolumeOptions, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

use super::security;
use crate::manifest::DesiredPod;
use crate::manifest::quantity::Quantity;
use crate::runtime::EngineInfo;
use crate::runtime::labels;
use crate::runtime::observe::Role;

/// Where the sandbox mounts the pod's Docker volumes.
pub const SANDBOX_VOLUME_DIR: &str = "/.podtui/volumes";

/// Everything about the engine a create body depends on.
#[derive(Clone, Debug)]
pub struct NodeContext {
    /// Node name.
    pub node: String,
    /// Address hostPorts bind to when a port gives no hostIP.
    pub host_port_address: IpAddr,
    /// The engine's facts (CPUs and memory for resourceFieldRef, host IP).
    pub engine: EngineInfo,
}

/// A volume of a pod, as podtui provides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VolumeKind {
    /// A pod-scoped Docker volume (emptyDir); `memory` ⇒ tmpfs-backed.
    EmptyDir {
        /// Docker volume name.
        docker_volume: String,
        /// tmpfs-backed.
        memory: bool,
        /// sizeLimit in bytes, for tmpfs.
        size: Option<u64>,
    },
    /// A bind mount of a host path.
    HostPath {
        /// Host path.
        path: String,
        /// hostPath type ("" = no check).
        type_: String,
    },
    /// A pod-scoped Docker volume filled with the pod's metadata.
    DownwardApi {
        /// Docker volume name.
        docker_volume: String,
        /// File path → (content, mode).
        files: BTreeMap<String, (String, u32)>,
    },
}

/// One volume of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodVolume {
    /// Volume name in the manifest.
    pub name: String,
    /// What backs it.
    pub kind: VolumeKind,
}

impl PodVolume {
    /// The Docker volume, for kinds backed by one.
    pub fn docker_volume(&self) -> Option<&str> {
        match &self.kind {
            VolumeKind::EmptyDir { docker_volume, .. }
            | VolumeKind::DownwardApi { docker_volume, .. } => Some(docker_volume),
            VolumeKind::HostPath { .. } => None,
        }
    }

    /// Where the sandbox mounts it (Docker-volume kinds).
    pub fn sandbox_path(&self) -> String {
        format!("{SANDBOX_VOLUME_DIR}/{}", self.name)
    }
}

fn spec(pod: &Pod) -> PodSpec {
    pod.spec.clone().unwrap_or_default()
}

/// The pod's volumes.
pub fn pod_volumes(dp: &DesiredPod) -> Vec<PodVolume> {
    let spec = spec(&dp.pod);
    let mut out = Vec::new();
    for v in spec.volumes.iter().flatten() {
        let docker_volume = labels::volume_name(&dp.uid, &v.name);
        let kind = if let Some(hp) = &v.host_path {
            VolumeKind::HostPath {
                path: hp.path.clone(),
                type_: hp.type_.clone().unwrap_or_default(),
            }
        } else if let Some(d) = &v.downward_api {
            let mut files = BTreeMap::new();
            for item in d.items.iter().flatten() {
                if let Some(f) = &item.field_ref {
                    let mode = item.mode.or(d.default_mode).unwrap_or(0o644);
                    files.insert(
                        item.path.clone(),
                        (
                            metadata_field(&dp.pod, &f.field_path, true).unwrap_or_default(),
                            (mode & 0o777) as u32,
                        ),
                    );
                }
            }
            VolumeKind::DownwardApi {
                docker_volume,
                files,
            }
        } else {
            let ed = v.empty_dir.clone().unwrap_or_default();
            VolumeKind::EmptyDir {
                docker_volume,
                memory: ed.medium.as_deref() == Some("Memory"),
                size: ed
                    .size_limit
                    .and_then(|q| Quantity::parse(&q.0).ok())
                    .map(Quantity::ceil_u64),
            }
        };
        out.push(PodVolume {
            name: v.name.clone(),
            kind,
        });
    }
    out
}

/// Labels and their values as the downward API writes them: `key="value"` lines, sorted.
fn map_file(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v:?}\n"))
        .collect()
}

/// A `metadata.*` field of the pod as the downward API gives it (`for_volume`: whole label maps allowed).
fn metadata_field(pod: &Pod, path: &str, for_volume: bool) -> Option<String> {
    let md = &pod.metadata;
    let key_of = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix("']"))
            .map(str::to_string)
    };
    match path {
        "metadata.name" => md.name.clone(),
        "metadata.namespace" => md.namespace.clone(),
        "metadata.uid" => md.uid.clone(),
        "metadata.labels" if for_volume => Some(map_file(md.labels.as_ref())),
        "metadata.annotations" if for_volume => Some(map_file(md.annotations.as_ref())),
        _ => {
            if let Some(k) = key_of("metadata.labels['") {
                return Some(
                    md.labels
                        .as_ref()
                        .and_then(|l| l.get(&k))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            if let Some(k) = key_of("metadata.annotations['") {
                return Some(
                    md.annotations
                        .as_ref()
                        .and_then(|l| l.get(&k))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            None
        }
    }
}

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

fn grace_seconds(spec: &PodSpec) -> i64 {
    spec.termination_grace_period_seconds.unwrap_or(30)
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

/// Directories the sandbox prepares (mode 0777) before the pod's containers start: every emptyDir root and
/// every subPath inside one.
pub fn prepare_dirs(dp: &DesiredPod, volumes: &[PodVolume]) -> Vec<String> {
    let mut dirs = Vec::new();
    for v in volumes {
        if matches!(v.kind, VolumeKind::EmptyDir { .. }) {
            dirs.push(v.sandbox_path());
        }
    }
    let spec = spec(&dp.pod);
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        let env = metadata_env(dp, c);
        for m in c.volume_mounts.iter().flatten() {
            let Some(sub) = mount_sub_path(m, &env) else {
                continue;
            };
            if let Some(v) = volumes.iter().find(|v| v.name == m.name)
                && matches!(v.kind, VolumeKind::EmptyDir { .. })
            {
                let d = format!("{}/{sub}", v.sandbox_path());
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
    }
    dirs
}

/// The sandbox's name and create body.
pub fn sandbox_body(
    dp: &DesiredPod,
    ctx: &NodeContext,
    pause_image: &str,
    attempt: u32,
    volumes: &[PodVolume],
    own_pause_image: bool,
) -> (String, ContainerCreateBody) {
    let spec = spec(&dp.pod);
    let host_network = spec.host_network == Some(true);
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    if !host_network {
        for c in spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
        {
            for p in c.ports.iter().flatten() {
                let Some(hp) = p.host_port.filter(|h| *h > 0) else {
                    continue;
                };
                let proto = p
                    .protocol
                    .clone()
                    .unwrap_or_else(|| "TCP".into())
                    .to_ascii_lowercase();
                let key = format!("{}/{proto}", p.container_port);
                if !exposed.contains(&key) {
                    exposed.push(key.clone());
                }
                let host_ip = p
                    .host_ip
                    .clone()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| ctx.host_port_address.to_string());
                bindings
                    .entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(PortBinding {
                        host_ip: Some(host_ip),
                        host_port: Some(hp.to_string()),
                    });
            }
        }
    }
    let mut dns = None;
    let mut dns_search = None;
    let mut dns_options = None;
    if !host_network {
        let policy = spec.dns_policy.clone().unwrap_or_default();
        if let Some(cfg) = &spec.dns_config {
            let servers = cfg.nameservers.clone().unwrap_or_default();
            if !servers.is_empty() {
                let mut all = if policy == "None" {
                    Vec::new()
                } else {
                    host_nameservers()
                };
                all.extend(servers);
                dns = Some(all);
            }
            dns_search = cfg.searches.clone().filter(|s| !s.is_empty());
            let opts: Vec<String> = cfg
                .options
                .iter()
                .flatten()
                .map(|o| match &o.value {
                    Some(v) => format!("{}:{v}", o.name.clone().unwrap_or_default()),
                    None => o.name.clone().unwrap_or_default(),
                })
                .collect();
            if !opts.is_empty() {
                dns_options = Some(opts);
            }
        }
    }
    let extra_hosts: Vec<String> = spec
        .host_aliases
        .iter()
        .flatten()
        .flat_map(|a| {
            a.hostnames
                .iter()
                .flatten()
                .map(move |h| format!("{h}:{}", a.ip))
        })
        .collect();
    let mounts: Vec<Mount> = volumes
        .iter()
        .filter_map(|v| {
            let (source, memory) = match &v.kind {
                VolumeKind::EmptyDir {
                    docker_volume,
                    memory,
                    ..
                } => (docker_volume, *memory),
                VolumeKind::DownwardApi { docker_volume, .. } => (docker_volume, false),
                VolumeKind::HostPath { .. } => return None,
            };
            let _ = memory;
            Some(volume_mount(source, &v.sandbox_path(), false))
        })
        .collect();
    let cmd = if own_pause_image {
        let mut args = Vec::new();
        for d in prepare_dirs(dp, volumes) {
            args.push("--prepare-dir".to_string());
            args.push(d);
        }
        if let Some(fs) = spec.security_context.as_ref().and_then(|s| s.fs_group) {
            args.push("--prepare-group".to_string());
            args.push(fs.to_string());
        }
        Some(args)
    } else {
        None
    };
    let body = ContainerCreateBody {
        image: Some(pause_image.to_string()),
        cmd,
        hostname: (!host_network).then(|| sandbox_hostname(dp)),
        labels: Some(sandbox_labels(dp, &ctx.node, attempt)),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            network_mode: Some(if host_network {
                "host".into()
            } else {
                "bridge".into()
            }),
            ipc_mode: Some(if spec.host_ipc == Some(true) {
                "host".into()
            } else {
                "shareable".into()
            }),
            pid_mode: (spec.host_pid == Some(true)).then(|| "host".to_string()),
            sysctls: spec
                .security_context
                .as_ref()
                .and_then(|sc| sc.sysctls.as_ref())
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.iter()
                        .map(|s| (s.name.clone(), s.value.clone()))
                        .collect()
                }),
            port_bindings: (!bindings.is_empty()).then_some(bindings),
            dns,
            dns_search,
            dns_options,
            extra_hosts: (!extra_hosts.is_empty()).then_some(extra_hosts),
            mounts: (!mounts.is_empty()).then_some(mounts),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    (
        labels::sandbox_name(&dp.name, &dp.namespace, &dp.uid, attempt),
        body,
    )
}

fn volume_mount(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        target: Some(target.to_string()),
        source: Some(source.to_string()),
        typ: Some(MountType::VOLUME),
        read_only: Some(read_only),
        volume_options: Some(MountVolumeOptions {
            no_copy: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Expands `$(VAR)` references in `s` from `vars`; `$$` is a literal `$`; unknown references stay as written.
pub fn expand(s: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        if bytes[i] == b'$' && i + 1 < s.len() {
            if bytes[i + 1] == b'$' {
                out.push('$');
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'('
                && let Some(close) = s[i + 2..].find(')')
            {
                let name = &s[i + 2..i + 2 + close];
                // An unknown name is kept as written, whole: `$(A$(B))` stays literal, as in Kubernetes.
                match vars(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&s[i..i + close + 3]),
                }
                i += close + 3;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('$');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Facts an env var may read that only Docker knows.
#[derive(Clone, Debug, Default)]
pub struct RuntimeFacts {
    /// The sandbox's IP.
    pub pod_ip: Option<String>,
    /// The host's IP as seen from containers.
    pub host_ip: Option<String>,
}

fn field_value(dp: &DesiredPod, node: &str, path: &str, facts: &RuntimeFacts) -> String {
    match path {
        "spec.nodeName" => node.to_string(),
        "spec.serviceAccountName" => String::new(),
        "status.podIP" | "status.podIPs" => facts.pod_ip.clone().unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => facts.host_ip.clone().unwrap_or_default(),
        other => metadata_field(&dp.pod, other, false).unwrap_or_default(),
    }
}

fn resource_value(
    c: &Container,
    ctx: &NodeContext,
    resource: &str,
    divisor: Option<&str>,
) -> String {
    let (kind, name) = resource.split_once('.').unwrap_or(("limits", resource));
    let res = c.resources.clone().unwrap_or_default();
    let map = if kind == "requests" {
        res.requests.or(res.limits.clone())
    } else {
        res.limits
    };
    let value = map
        .and_then(|m| m.get(name).and_then(|q| Quantity::parse(&q.0).ok()))
        .map(|q| q.0)
        .unwrap_or(match name {
            "cpu" => ctx.engine.cpus.max(1) as f64,
            "memory" => ctx.engine.memory as f64,
            _ => 0.0,
        });
    let div = divisor
        .and_then(|d| Quantity::parse(d).ok())
        .map(|q| q.0)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    format!("{}", (value / div).ceil() as i64)
}

/// The container's environment in order, with `$(VAR)` references to earlier variables expanded.
pub fn container_env(
    dp: &DesiredPod,
    c: &Container,
    ctx: &NodeContext,
    facts: &RuntimeFacts,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    for e in c.env.iter().flatten() {
        let value = if let Some(from) = &e.value_from {
            if let Some(f) = &from.field_ref {
                field_value(dp, &ctx.node, &f.field_path, facts)
            } else if let Some(r) = &from.resource_field_ref {
                resource_value(
                    c,
                    ctx,
                    &r.resource,
                    r.divisor.as_ref().map(|d| d.0.as_str()),
                )
            } else {
                String::new()
            }
        } else {
            let raw = e.value.clone().unwrap_or_default();
            let lookup = |n: &str| {
                env.iter()
                    .rev()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
            };
            expand(&raw, &lookup)
        };
        env.retain(|(k, _)| k != &e.name);
        env.push((e.name.clone(), value));
    }
    env
}

/// The env as it is known before the sandbox runs (for subPathExpr): fieldRefs to metadata only.
fn metadata_env(dp: &DesiredPod, c: &Container) -> Vec<(String, String)> {
    let ctx = NodeContext {
        node: String::new(),
        host_port_address: IpAddr::from([127, 0, 0, 1]),
        engine: EngineInfo::default(),
    };
    container_env(dp, c, &ctx, &RuntimeFacts::default())
}

fn mount_sub_path(
    m: &k8s_openapi::api::core::v1::VolumeMount,
    env: &[(String, String)],
) -> Option<String> {
    if let Some(s) = m.sub_path.as_ref().filter(|s| !s.is_empty()) {
        return Some(s.trim_end_matches('/').to_string());
    }
    let expr = m.sub_path_expr.as_ref().filter(|s| !s.is_empty())?;
    let lookup = |n: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    Some(expand(expr, &lookup).trim_end_matches('/').to_string())
}

/// A hash of the container's spec, for the kubelet's `container.hash` label.
fn container_hash(c: &Container) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(c).unwrap_or_default().hash(&mut h);
    format!("{:x}", h.finish() as u32)
}

/// Why a container cannot be configured (shown as `CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Inputs of a container's create body that come from Docker.
pub struct ContainerContext<'a> {
    /// The running sandbox.
    pub sandbox_id: &'a str,
    /// Whether the pod uses the host network.
    pub host_network: bool,
    /// Facts for env vars.
    pub facts: &'a RuntimeFacts,
    /// Mountpoints of the pod's Docker volumes on the engine host (for subPath binds).
    pub mountpoints: &'a HashMap<String, String>,
    /// The image's configured user (for runAsGroup without runAsUser).
    pub image_user: &'a str,
    /// A host file to bind at the container's terminationMessagePath (when podtui runs on the Docker host).
    pub termination_file: Option<&'a str>,
}

/// A container's name and create body.
pub fn container_body(
    dp: &DesiredPod,
    c: &Container,
    role: Role,
    restart_count: u32,
    node: &NodeContext,
    cc: &ContainerContext<'_>,
    volumes: &[PodVolume],
) -> Result<(String, ContainerCreateBody), ConfigError> {
    let env = container_env(dp, c, node, cc.facts);
    let lookup = |n: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    // An empty command or args is unset in Kubernetes: the image's ENTRYPOINT/CMD stay.
    let entrypoint = c
        .command
        .as_ref()
        .filter(|v| !v.is_empty())
        .map(|v| v.iter().map(|s| expand(s, &lookup)).collect::<Vec<_>>());
    let cmd = c
        .args
        .as_ref()
        .filter(|v| !v.is_empty())
        .map(|v| v.iter().map(|s| expand(s, &lookup)).collect::<Vec<_>>());

    let mut mounts = Vec::new();
    let mut binds = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let vol = volumes
            .iter()
            .find(|v| v.name == m.name)
            .ok_or_else(|| ConfigError(format!("volume {:?} is not declared", m.name)))?;
        let ro = m.read_only == Some(true);
        let sub = mount_sub_path(m, &env);
        match (&vol.kind, sub) {
            (VolumeKind::EmptyDir { docker_volume, .. }, None) => {
                mounts.push(volume_mount(docker_volume, &m.mount_path, ro))
            }
            (VolumeKind::DownwardApi { docker_volume, .. }, None) => {
                mounts.push(volume_mount(docker_volume, &m.mount_path, true));
            }
            (
                VolumeKind::EmptyDir { docker_volume, .. }
                | VolumeKind::DownwardApi { docker_volume, .. },
                Some(sub),
            ) => {
                let mp = cc
                    .mountpoints
                    .get(docker_volume)
                    .ok_or_else(|| ConfigError(format!("volume {:?} has no mountpoint", m.name)))?;
                binds.push(bind(&format!("{mp}/{sub}"), &m.mount_path, ro));
            }
            (VolumeKind::HostPath { path, .. }, sub) => {
                let src = match sub {
                    Some(s) => format!("{}/{s}", path.trim_end_matches('/')),
                    None => path.clone(),
                };
                binds.push(bind(&src, &m.mount_path, ro));
            }
        }
    }

    let spec = spec(&dp.pod);
    let joined = format!("container:{}", cc.sandbox_id);
    let mut l = labels::pod_labels(&node.node, &dp.source, &dp.name, &dp.namespace, &dp.uid);
    l.insert(labels::DOCKER_TYPE.into(), labels::TYPE_CONTAINER.into());
    l.insert(labels::CONTAINER_NAME.into(), c.name.clone());
    l.insert(labels::SANDBOX_ID.into(), cc.sandbox_id.to_string());
    l.insert(labels::RESTART_COUNT.into(), restart_count.to_string());
    l.insert(labels::CONTAINER_HASH.into(), container_hash(c));
    l.insert(
        labels::GRACE_PERIOD.into(),
        grace_seconds(&spec).to_string(),
    );
    l.insert(
        labels::CONTAINER_KIND.into(),
        if role == Role::Init { "init" } else { "app" }.into(),
    );
    if let Some(p) = &c.termination_message_path {
        l.insert(labels::TERMINATION_MESSAGE_PATH.into(), p.clone());
    }
    if let Some(p) = &c.termination_message_policy {
        l.insert(labels::TERMINATION_MESSAGE_POLICY.into(), p.clone());
    }
    if let (Some(file), Some(path)) = (
        cc.termination_file,
        c.termination_message_path
            .as_deref()
            .filter(|p| !p.is_empty()),
    ) {
        binds.push(bind(file, path, false));
    }
    let limits = security::limits(c);
    let sec = security::effective(&spec, c);
    let pid_mode = if spec.host_pid == Some(true) {
        Some("host".to_string())
    } else if spec.share_process_namespace == Some(true) {
        Some(format!("container:{}", cc.sandbox_id))
    } else {
        None
    };
    let ipc_mode = if spec.host_ipc == Some(true) {
        "host".to_string()
    } else {
        joined.clone()
    };
    let body = ContainerCreateBody {
        image: c.image.clone(),
        user: security::docker_user(&sec, cc.image_user),
        stop_signal: c.lifecycle.as_ref().and_then(|l| l.stop_signal.clone()),
        entrypoint,
        cmd,
        env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        tty: c.tty,
        open_stdin: c.stdin,
        stdin_once: c.stdin_once,
        attach_stdin: c.stdin,
        labels: Some(l),
        healthcheck: Some(HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }),
        host_config: Some(HostConfig {
            network_mode: Some(if cc.host_network {
                "host".into()
            } else {
                joined.clone()
            }),
            ipc_mode: Some(ipc_mode),
            pid_mode,
            mounts: (!mounts.is_empty()).then_some(mounts),
            binds: (!binds.is_empty()).then_some(binds),
            memory: limits.memory,
            memory_swap: limits.memory,
            cpu_period: limits.cpu_quota.map(|_| security::CPU_PERIOD),
            cpu_quota: limits.cpu_quota,
            cpu_shares: limits.cpu_shares,
            privileged: Some(sec.privileged),
            readonly_rootfs: Some(sec.read_only_root),
            cap_add: (!sec.cap_add.is_empty()).then_some(sec.cap_add.clone()),
            cap_drop: (!sec.cap_drop.is_empty()).then_some(sec.cap_drop.clone()),
            security_opt: (!sec.security_opt.is_empty()).then_some(sec.security_opt.clone()),
            group_add: (!sec.groups.is_empty())
                .then(|| sec.groups.iter().map(|g| g.to_string()).collect()),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            // The kubelet's container log rotation defaults: 10 MiB × 5 files.
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::from([
                    ("max-size".to_string(), "10m".to_string()),
                    ("max-file".to_string(), "5".to_string()),
                ])),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let name = labels::container_name(&c.name, &dp.name, &dp.namespace, &dp.uid, restart_count);
    Ok((name, body))
}

fn bind(src: &str, dst: &str, ro: bool) -> String {
    if ro {
        format!("{src}:{dst}:ro")
    } else {
        format!("{src}:{dst}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_follows_kubernetes() {
        let vars = |n: &str| match n {
            "A" => Some("1".to_string()),
            "B" => Some("two".to_string()),
            _ => None,
        };
        assert_eq!(expand("$(A)-$(B)", &vars), "1-two");
        assert_eq!(expand("$$(A)", &vars), "$(A)");
        assert_eq!(expand("$(C) stays", &vars), "$(C) stays");
        assert_eq!(expand("cost $5", &vars), "cost $5");
        assert_eq!(expand("$(A", &vars), "$(A");
        assert_eq!(
            expand("$(A$(B))", &vars),
            "$(A$(B))",
            "an unknown name stays whole"
        );
        assert_eq!(expand("é$(A)é", &vars), "é1é");
    }
}
