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
use crate::manifest::downward::{self, expand, lookup, metadata_field, mount_sub_path};
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
        let env = downward::static_env(&dp.pod, c);
        for m in c.volume_mounts.iter().flatten() {
            // A path that is not allowed is refused when the container is created; it is never prepared.
            let Some(sub) =
                mount_sub_path(m, &env).filter(|s| downward::relative_path_problem(s).is_none())
            else {
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
    downward::container_env(
        c,
        &|path| Some(field_value(dp, &ctx.node, path, facts)),
        &|resource, divisor| Some(resource_value(c, ctx, resource, divisor)),
    )
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

/// A volume mount of a container that has a subPath, with `subPathExpr` expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubPathMount {
    /// Index of the mount in the container's `volumeMounts`.
    pub index: usize,
    /// The pod volume the path is in.
    pub volume: PodVolume,
    /// The expanded subPath.
    pub sub_path: String,
}

/// How a subPath mount reaches the container once the engine has made it safe (see `runtime::subpath`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubPathSource {
    /// Bind this host path: the subPath resolved beneath its volume and pinned by podtui.
    Pinned(String),
    /// A volume mount with Docker's own `Subpath` (Engine API 1.45+), which Docker resolves safely itself.
    EngineSubpath(String),
}

/// The container's subPath mounts, expanded from its environment. An expanded path that is absolute or has a
/// `..` component is refused, as the kubelet refuses it, whatever the manifest's text looked like.
pub fn sub_path_mounts(
    c: &Container,
    env: &[(String, String)],
    volumes: &[PodVolume],
) -> Result<Vec<SubPathMount>, ConfigError> {
    let mut out = Vec::new();
    for (index, m) in c.volume_mounts.iter().flatten().enumerate() {
        let Some(sub) = mount_sub_path(m, env) else {
            continue;
        };
        let field = if m.sub_path.as_deref().is_some_and(|s| !s.is_empty()) {
            "subPath"
        } else {
            "subPathExpr"
        };
        if let Some(why) = downward::relative_path_problem(&sub) {
            let written = if field == "subPath" {
                m.sub_path.clone()
            } else {
                m.sub_path_expr.clone()
            }
            .unwrap_or_default();
            let expanded = if written.trim_end_matches('/') == sub {
                String::new()
            } else {
                format!(" expands to {sub:?}, which")
            };
            return Err(ConfigError(format!(
                "volumeMounts[{index}] ({:?} at {}): {field} {written:?}{expanded} {why}",
                m.name, m.mount_path
            )));
        }
        let volume = volumes
            .iter()
            .find(|v| v.name == m.name)
            .ok_or_else(|| ConfigError(format!("volume {:?} is not declared", m.name)))?;
        out.push(SubPathMount {
            index,
            volume: volume.clone(),
            sub_path: sub,
        });
    }
    Ok(out)
}

/// Inputs of a container's create body that come from Docker.
pub struct ContainerContext<'a> {
    /// The running sandbox.
    pub sandbox_id: &'a str,
    /// Whether the pod uses the host network.
    pub host_network: bool,
    /// Facts for env vars.
    pub facts: &'a RuntimeFacts,
    /// How each subPath mount (by its index in `volumeMounts`) is provided; see [`sub_path_mounts`].
    pub sub_paths: &'a HashMap<usize, SubPathSource>,
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
    let lookup = |n: &str| lookup(&env, n);
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

    let (mounts, binds) = container_mounts(c, &env, cc, volumes)?;
    let spec = spec(&dp.pod);
    let joined = format!("container:{}", cc.sandbox_id);
    let mut binds = binds;
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

/// The container's volume mounts and binds. A subPath mount must have a source in `cc.sub_paths`: a subPath is
/// never given to Docker as a path string it would resolve on the host.
fn container_mounts(
    c: &Container,
    env: &[(String, String)],
    cc: &ContainerContext<'_>,
    volumes: &[PodVolume],
) -> Result<(Vec<Mount>, Vec<String>), ConfigError> {
    let mut mounts = Vec::new();
    let mut binds = Vec::new();
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let vol = volumes
            .iter()
            .find(|v| v.name == m.name)
            .ok_or_else(|| ConfigError(format!("volume {:?} is not declared", m.name)))?;
        // downwardAPI volumes are read-only, as in Kubernetes.
        let ro = m.read_only == Some(true) || matches!(vol.kind, VolumeKind::DownwardApi { .. });
        if mount_sub_path(m, env).is_some() {
            match cc.sub_paths.get(&i) {
                Some(SubPathSource::Pinned(src)) => binds.push(bind(src, &m.mount_path, ro)),
                Some(SubPathSource::EngineSubpath(sub)) => {
                    let dv = vol.docker_volume().ok_or_else(|| {
                        ConfigError(format!("volume {:?} is not a Docker volume", m.name))
                    })?;
                    let mut mount = volume_mount(dv, &m.mount_path, ro);
                    if let Some(o) = mount.volume_options.as_mut() {
                        o.subpath = Some(sub.clone());
                    }
                    mounts.push(mount);
                }
                None => {
                    return Err(ConfigError(format!(
                        "volumeMounts[{i}] ({:?} at {}): the subPath was not prepared for a safe mount",
                        m.name, m.mount_path
                    )));
                }
            }
            continue;
        }
        match &vol.kind {
            VolumeKind::EmptyDir { docker_volume, .. }
            | VolumeKind::DownwardApi { docker_volume, .. } => {
                mounts.push(volume_mount(docker_volume, &m.mount_path, ro))
            }
            VolumeKind::HostPath { path, .. } => binds.push(bind(path, &m.mount_path, ro)),
        }
    }
    Ok((mounts, binds))
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

    fn container(v: serde_json::Value) -> Container {
        serde_json::from_value(v).unwrap()
    }

    fn emptydir(name: &str) -> PodVolume {
        PodVolume {
            name: name.into(),
            kind: VolumeKind::EmptyDir {
                docker_volume: format!("podtui_uid_{name}"),
                memory: false,
                size: None,
            },
        }
    }

    #[test]
    fn an_expanded_sub_path_that_leaves_the_volume_is_a_config_error() {
        let c = container(serde_json::json!({
            "name": "c",
            "volumeMounts": [
                {"name": "v", "mountPath": "/ok", "subPathExpr": "logs/$(POD)"},
                {"name": "v", "mountPath": "/bad", "subPathExpr": "$(X)"},
            ],
        }));
        let env = vec![
            ("POD".to_string(), "web".to_string()),
            ("X".to_string(), "../../../containers".to_string()),
        ];
        let err = sub_path_mounts(&c, &env, &[emptydir("v")]).unwrap_err();
        assert_eq!(
            err.0,
            "volumeMounts[1] (\"v\" at /bad): subPathExpr \"$(X)\" expands to \"../../../containers\", which must not contain '..'"
        );
        let env = vec![("X".to_string(), "/etc".to_string())];
        let c = container(serde_json::json!({
            "name": "c",
            "volumeMounts": [{"name": "v", "mountPath": "/bad", "subPathExpr": "$(X)"}],
        }));
        let err = sub_path_mounts(&c, &env, &[emptydir("v")]).unwrap_err();
        assert!(err.0.ends_with("must be a relative path"), "{}", err.0);
    }

    #[test]
    fn a_sub_path_is_never_given_to_docker_as_a_host_path_to_resolve() {
        let c = container(serde_json::json!({
            "name": "c",
            "volumeMounts": [
                {"name": "v", "mountPath": "/whole"},
                {"name": "v", "mountPath": "/pinned", "subPath": "a"},
                {"name": "v", "mountPath": "/engine", "subPath": "b", "readOnly": true},
            ],
        }));
        let env = Vec::new();
        let facts = RuntimeFacts::default();
        let volumes = [emptydir("v")];
        let subs = sub_path_mounts(&c, &env, &volumes).unwrap();
        assert_eq!(
            subs.iter()
                .map(|s| (s.index, s.sub_path.as_str()))
                .collect::<Vec<_>>(),
            [(1, "a"), (2, "b")]
        );
        // Without a prepared source for each subPath, the body is refused.
        let none = HashMap::new();
        let cc = |sub_paths| ContainerContext {
            sandbox_id: "sb",
            host_network: false,
            facts: &facts,
            sub_paths,
            image_user: "",
            termination_file: None,
        };
        let err = container_mounts(&c, &env, &cc(&none), &volumes).unwrap_err();
        assert!(err.0.contains("was not prepared"), "{}", err.0);
        let prepared = HashMap::from([
            (1, SubPathSource::Pinned("/state/subpaths/uid/1".into())),
            (2, SubPathSource::EngineSubpath("b".into())),
        ]);
        let (mounts, binds) = container_mounts(&c, &env, &cc(&prepared), &volumes).unwrap();
        assert_eq!(binds, ["/state/subpaths/uid/1:/pinned"]);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].target.as_deref(), Some("/whole"));
        let engine = &mounts[1];
        assert_eq!(engine.target.as_deref(), Some("/engine"));
        assert_eq!(engine.read_only, Some(true));
        assert_eq!(
            engine
                .volume_options
                .as_ref()
                .and_then(|o| o.subpath.as_deref()),
            Some("b")
        );
    }
}
