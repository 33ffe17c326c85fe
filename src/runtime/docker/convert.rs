//! Translations between podtui's runtime types and Docker's: a [`ContainerConfig`] becomes a create body, a list
//! entry a [`ContainerSummary`], and `docker inspect` an [`ObservedContainer`] (read back from podtui's labels).

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, HealthConfig,
    HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    PortBinding as DockerPortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use jiff::Timestamp;

use crate::runtime::labels;
use crate::runtime::observe::{InstanceState, MountInfo, ObservedContainer, PublishedPort, Role};
use crate::runtime::types::{ContainerConfig, ContainerSummary, MountSource, MountSpec};

/// A list entry; `None` without an ID.
pub(super) fn summary(s: bollard::models::ContainerSummary) -> Option<ContainerSummary> {
    Some(ContainerSummary {
        id: s.id?,
        state: s.state.map(|st| st.to_string()).unwrap_or_default(),
        labels: s.labels.unwrap_or_default(),
    })
}

fn some_if<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn mount(m: &MountSpec) -> Option<Mount> {
    let MountSource::Volume {
        name,
        no_copy,
        subpath,
    } = &m.source
    else {
        return None;
    };
    Some(Mount {
        target: Some(m.target.clone()),
        source: Some(name.clone()),
        typ: Some(MountType::VOLUME),
        read_only: Some(m.read_only),
        volume_options: Some(MountVolumeOptions {
            no_copy: Some(*no_copy),
            subpath: subpath.clone(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A bind as Docker's `Binds` takes it (`src:dst[:ro]`): a missing host directory is created, as a kubelet's
/// hostPath without a type does.
fn bind(m: &MountSpec) -> Option<String> {
    let MountSource::Bind { path } = &m.source else {
        return None;
    };
    Some(if m.read_only {
        format!("{path}:{}:ro", m.target)
    } else {
        format!("{path}:{}", m.target)
    })
}

fn port_bindings(c: &ContainerConfig) -> Option<HashMap<String, Option<Vec<DockerPortBinding>>>> {
    let mut out: HashMap<String, Option<Vec<DockerPortBinding>>> = HashMap::new();
    for p in &c.ports {
        out.entry(p.container.clone())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(DockerPortBinding {
                host_ip: Some(p.host_ip.clone()),
                host_port: Some(p.host_port.to_string()),
            });
    }
    (!out.is_empty()).then_some(out)
}

fn host_config(c: &ContainerConfig) -> HostConfig {
    let p = &c.privileges;
    HostConfig {
        network_mode: Some(c.network_mode.clone()),
        ipc_mode: c.ipc_mode.clone(),
        pid_mode: c.pid_mode.clone(),
        sysctls: (!c.sysctls.is_empty()).then(|| c.sysctls.clone()),
        port_bindings: port_bindings(c),
        dns: c.dns.servers.clone(),
        dns_search: c.dns.search.clone(),
        dns_options: c.dns.options.clone(),
        extra_hosts: some_if(c.extra_hosts.clone()),
        mounts: some_if(c.mounts.iter().filter_map(mount).collect()),
        binds: some_if(c.mounts.iter().filter_map(bind).collect()),
        memory: c.resources.memory,
        memory_swap: c.resources.memory,
        cpu_period: c.resources.cpu_period,
        cpu_quota: c.resources.cpu_quota,
        cpu_shares: c.resources.cpu_shares,
        privileged: Some(p.privileged),
        readonly_rootfs: Some(p.read_only_root),
        cap_add: some_if(p.cap_add.clone()),
        cap_drop: some_if(p.cap_drop.clone()),
        security_opt: some_if(p.security_opt.clone()),
        group_add: some_if(p.group_add.clone()),
        // podtui restarts containers itself, as the kubelet does.
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        // The kubelet's container log rotation defaults: 10 MiB × 5 files.
        log_config: c.rotate_logs.then(|| HostConfigLogConfig {
            typ: Some("json-file".into()),
            config: Some(HashMap::from([
                ("max-size".to_string(), "10m".to_string()),
                ("max-file".to_string(), "5".to_string()),
            ])),
        }),
        ..Default::default()
    }
}

/// The create body of a container.
pub(super) fn create_body(c: ContainerConfig) -> ContainerCreateBody {
    let host_config = host_config(&c);
    ContainerCreateBody {
        image: Some(c.image),
        user: c.user,
        stop_signal: c.stop_signal,
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        env: Some(c.env),
        working_dir: c.working_dir,
        hostname: c.hostname,
        tty: Some(c.tty),
        open_stdin: Some(c.stdin),
        stdin_once: Some(c.stdin_once),
        attach_stdin: Some(c.stdin),
        labels: Some(c.labels),
        exposed_ports: some_if(c.exposed_ports),
        healthcheck: c.no_healthcheck.then(|| HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }),
        host_config: Some(host_config),
        ..Default::default()
    }
}

fn parse_time(s: Option<&str>) -> Option<Timestamp> {
    let s = s?;
    if s.starts_with("0001-01-01") {
        return None;
    }
    s.parse().ok()
}

fn role_and_count(labels: &HashMap<String, String>) -> (Role, u32) {
    let role = match (
        labels.get(labels::DOCKER_TYPE).map(String::as_str),
        labels.get(labels::CONTAINER_KIND).map(String::as_str),
    ) {
        (Some(labels::TYPE_SANDBOX), _) => Role::Sandbox,
        (_, Some("init")) => Role::Init,
        (_, Some(labels::KIND_EPHEMERAL)) => Role::Ephemeral,
        _ => Role::App,
    };
    let count = if role == Role::Sandbox {
        labels::number(labels, labels::ATTEMPT)
    } else {
        labels::number(labels, labels::RESTART_COUNT)
    };
    (role, count.unwrap_or(0))
}

fn state(c: &ContainerInspectResponse) -> InstanceState {
    let st = c.state.clone().unwrap_or_default();
    let started_at = parse_time(st.started_at.as_deref());
    let finished_at = parse_time(st.finished_at.as_deref());
    let error = st.error.clone().filter(|e| !e.is_empty());
    match st.status {
        Some(ContainerStateStatusEnum::RUNNING) => InstanceState::Running { started_at },
        Some(ContainerStateStatusEnum::EXITED) | Some(ContainerStateStatusEnum::DEAD) => {
            InstanceState::Exited {
                exit_code: st.exit_code.unwrap_or(0),
                started_at,
                finished_at,
                oom_killed: st.oom_killed.unwrap_or(false),
                error,
            }
        }
        // A start that failed leaves the container created, with the error.
        Some(ContainerStateStatusEnum::CREATED) if error.is_some() => InstanceState::Exited {
            exit_code: st.exit_code.unwrap_or(128),
            started_at: None,
            finished_at: finished_at.or(started_at),
            oom_killed: false,
            error,
        },
        Some(ContainerStateStatusEnum::CREATED) => InstanceState::Created,
        other => InstanceState::Other {
            status: other
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
        },
    }
}

fn published_ports(host: &HostConfig) -> Vec<PublishedPort> {
    let mut ports: Vec<PublishedPort> = Vec::new();
    for (key, bindings) in host.port_bindings.clone().unwrap_or_default() {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        for b in bindings.unwrap_or_default() {
            ports.push(PublishedPort {
                container_port: port.parse().unwrap_or(0),
                protocol: proto.to_string(),
                host_ip: b.host_ip.unwrap_or_default(),
                host_port: b.host_port.unwrap_or_default(),
            });
        }
    }
    ports.sort_by(|a, b| {
        a.container_port
            .cmp(&b.container_port)
            .then(a.protocol.cmp(&b.protocol))
    });
    ports
}

fn mounts(c: &ContainerInspectResponse) -> Vec<MountInfo> {
    c.mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountInfo {
            kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
            source: m
                .name
                .filter(|n| !n.is_empty())
                .or(m.source)
                .unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            read_only: !m.rw.unwrap_or(true),
        })
        .collect()
}

/// An [`ObservedContainer`] from `docker inspect`; `None` for containers without podtui's labels.
pub(super) fn instance(c: &ContainerInspectResponse) -> Option<ObservedContainer> {
    let config = c.config.as_ref()?;
    let labels = config.labels.clone().unwrap_or_default();
    labels.get(labels::POD_UID)?;
    let (role, count) = role_and_count(&labels);
    let host = c.host_config.clone().unwrap_or_default();
    let net = c.network_settings.clone().unwrap_or_default();
    let ip = net.networks.as_ref().and_then(|n| {
        n.values()
            .find_map(|e| e.ip_address.clone().filter(|ip| !ip.is_empty()))
    });
    Some(ObservedContainer {
        id: c.id.clone().unwrap_or_default(),
        docker_name: c
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        role,
        name: labels
            .get(labels::CONTAINER_NAME)
            .cloned()
            .unwrap_or_default(),
        count,
        sandbox_id: labels.get(labels::SANDBOX_ID).cloned(),
        image: config.image.clone().unwrap_or_default(),
        image_id: c.image.clone().unwrap_or_default(),
        state: state(c),
        created: c.created.as_deref().and_then(|s| s.parse().ok()),
        network_mode: host.network_mode.clone().unwrap_or_default(),
        ipc_mode: host.ipc_mode.clone().unwrap_or_default(),
        ip,
        hostname: config.hostname.clone().unwrap_or_default(),
        ports: published_ports(&host),
        mounts: mounts(c),
        labels,
    })
}

/// Splits `repo[:tag][@digest]` into what the pull API wants (`repo`, `tag` or digest), defaulting to `latest`.
pub fn split_image(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    let last_slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[last_slash..].rfind(':') {
        Some(i) => (
            image[..last_slash + i].to_string(),
            image[last_slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::PortBinding;

    #[test]
    fn image_references_split_like_docker() {
        assert_eq!(split_image("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(
            split_image("busybox:1.36"),
            ("busybox".into(), "1.36".into())
        );
        assert_eq!(
            split_image("localhost:5000/a/b"),
            ("localhost:5000/a/b".into(), "latest".into())
        );
        assert_eq!(
            split_image("localhost:5000/a/b:2"),
            ("localhost:5000/a/b".into(), "2".into())
        );
        assert_eq!(split_image("a@sha256:00"), ("a".into(), "sha256:00".into()));
    }

    #[test]
    fn a_config_becomes_dockers_create_body() {
        let c = ContainerConfig {
            image: "img".into(),
            network_mode: "container:sb".into(),
            mounts: vec![
                MountSpec {
                    source: MountSource::Volume {
                        name: "v".into(),
                        no_copy: true,
                        subpath: Some("a/b".into()),
                    },
                    target: "/data".into(),
                    read_only: true,
                },
                MountSpec {
                    source: MountSource::Bind {
                        path: "/host".into(),
                    },
                    target: "/h".into(),
                    read_only: true,
                },
            ],
            ports: vec![PortBinding {
                container: "80/tcp".into(),
                host_ip: "127.0.0.1".into(),
                host_port: 8080,
            }],
            no_healthcheck: true,
            rotate_logs: true,
            ..Default::default()
        };
        let b = create_body(c);
        let hc = b.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("container:sb"));
        assert_eq!(hc.binds.unwrap(), ["/host:/h:ro"]);
        let m = &hc.mounts.unwrap()[0];
        assert_eq!(m.source.as_deref(), Some("v"));
        let vo = m.volume_options.as_ref().unwrap();
        assert_eq!(
            (vo.no_copy, vo.subpath.as_deref()),
            (Some(true), Some("a/b"))
        );
        let pb = hc.port_bindings.unwrap();
        assert_eq!(
            pb["80/tcp"].as_ref().unwrap()[0].host_port.as_deref(),
            Some("8080")
        );
        assert_eq!(
            hc.restart_policy.unwrap().name,
            Some(RestartPolicyNameEnum::NO)
        );
        assert!(hc.log_config.is_some());
        assert_eq!(b.healthcheck.unwrap().test.unwrap(), ["NONE"]);
    }
}
