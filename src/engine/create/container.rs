//! An init or app container of a pod: joined to the sandbox's network and IPC namespaces, with its command and
//! args expanded, its env, mounts (subPaths only as prepared by the engine), labels the kubelet would set,
//! resources and security context.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::env::{RuntimeFacts, container_env};
use super::volumes::{PodVolume, SubPathSource, VolumeKind, volume_mount};
use super::{ConfigError, NodeContext, grace_seconds, spec};
use crate::engine::security;
use crate::manifest::DesiredPod;
use crate::manifest::downward::{expand, lookup, mount_sub_path};
use crate::runtime::labels;
use crate::runtime::observe::Role;
use crate::runtime::types::{ContainerConfig, MountSource, MountSpec, Privileges, Resources};

/// Inputs of a container's create body that come from the engine.
pub struct ContainerContext<'a> {
    /// The running sandbox.
    pub sandbox_id: &'a str,
    /// Whether the pod uses the host network.
    pub host_network: bool,
    /// Facts for env vars.
    pub facts: &'a RuntimeFacts,
    /// How each subPath mount (by its index in `volumeMounts`) is provided; see
    /// [`super::volumes::sub_path_mounts`].
    pub sub_paths: &'a HashMap<usize, SubPathSource>,
    /// The image's configured user (for runAsGroup without runAsUser).
    pub image_user: &'a str,
    /// A host file to bind at the container's terminationMessagePath (when podtui runs on the Docker host).
    pub termination_file: Option<&'a str>,
}

/// A hash of the container's spec, for the kubelet's `container.hash` label.
fn container_hash(c: &Container) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(c).unwrap_or_default().hash(&mut h);
    format!("{:x}", h.finish() as u32)
}

/// The labels the kubelet puts on a container, plus podtui's own (read back to adopt the pod).
fn container_labels(
    dp: &DesiredPod,
    c: &Container,
    role: Role,
    restart_count: u32,
    node: &str,
    sandbox_id: &str,
) -> HashMap<String, String> {
    let mut l = labels::pod_labels(node, &dp.source, &dp.name, &dp.namespace, &dp.uid);
    l.insert(labels::DOCKER_TYPE.into(), labels::TYPE_CONTAINER.into());
    l.insert(labels::CONTAINER_NAME.into(), c.name.clone());
    l.insert(labels::SANDBOX_ID.into(), sandbox_id.to_string());
    l.insert(labels::RESTART_COUNT.into(), restart_count.to_string());
    l.insert(labels::CONTAINER_HASH.into(), container_hash(c));
    l.insert(
        labels::GRACE_PERIOD.into(),
        grace_seconds(&spec(&dp.pod)).to_string(),
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
    l
}

/// The namespaces a container joins: (network, IPC, PID) modes.
fn namespaces(spec: &PodSpec, cc: &ContainerContext<'_>) -> (String, String, Option<String>) {
    let joined = format!("container:{}", cc.sandbox_id);
    let network = if cc.host_network {
        "host".to_string()
    } else {
        joined.clone()
    };
    let pid = if spec.host_pid == Some(true) {
        Some("host".to_string())
    } else if spec.share_process_namespace == Some(true) {
        Some(joined.clone())
    } else {
        None
    };
    let ipc = if spec.host_ipc == Some(true) {
        "host".to_string()
    } else {
        joined
    };
    (network, ipc, pid)
}

/// The container's resources and privileges from its resources and security context.
fn limits_and_privileges(
    spec: &PodSpec,
    c: &Container,
) -> (Resources, Privileges, security::Effective) {
    let limits = security::limits(c);
    let sec = security::effective(spec, c);
    let resources = Resources {
        memory: limits.memory,
        cpu_quota: limits.cpu_quota,
        cpu_period: limits.cpu_quota.map(|_| security::CPU_PERIOD),
        cpu_shares: limits.cpu_shares,
    };
    let privileges = Privileges {
        privileged: sec.privileged,
        read_only_root: sec.read_only_root,
        cap_add: sec.cap_add.clone(),
        cap_drop: sec.cap_drop.clone(),
        security_opt: sec.security_opt.clone(),
        group_add: sec.groups.iter().map(|g| g.to_string()).collect(),
    };
    (resources, privileges, sec)
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
) -> Result<(String, ContainerConfig), ConfigError> {
    let env = container_env(dp, c, node, cc.facts);
    let vars = |n: &str| lookup(&env, n);
    // An empty command or args is unset in Kubernetes: the image's ENTRYPOINT/CMD stay.
    let expand_all = |v: &Option<Vec<String>>| {
        v.as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().map(|s| expand(s, &vars)).collect::<Vec<_>>())
    };
    let mut mounts = container_mounts(c, &env, cc, volumes)?;
    if let (Some(file), Some(path)) = (
        cc.termination_file,
        c.termination_message_path
            .as_deref()
            .filter(|p| !p.is_empty()),
    ) {
        mounts.push(MountSpec {
            source: MountSource::Bind { path: file.into() },
            target: path.into(),
            read_only: false,
        });
    }
    let spec = spec(&dp.pod);
    let (network_mode, ipc_mode, pid_mode) = namespaces(&spec, cc);
    let (resources, privileges, sec) = limits_and_privileges(&spec, c);
    let config = ContainerConfig {
        image: c.image.clone().unwrap_or_default(),
        user: security::docker_user(&sec, cc.image_user),
        stop_signal: c.lifecycle.as_ref().and_then(|l| l.stop_signal.clone()),
        entrypoint: expand_all(&c.command),
        cmd: expand_all(&c.args),
        env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        tty: c.tty == Some(true),
        stdin: c.stdin == Some(true),
        stdin_once: c.stdin_once == Some(true),
        labels: container_labels(dp, c, role, restart_count, &node.node, cc.sandbox_id),
        network_mode,
        ipc_mode: Some(ipc_mode),
        pid_mode,
        mounts,
        resources,
        privileges,
        no_healthcheck: true,
        rotate_logs: true,
        ..Default::default()
    };
    let name = labels::container_name(&c.name, &dp.name, &dp.namespace, &dp.uid, restart_count);
    Ok((name, config))
}

/// The container's mounts. A subPath mount must have a source in `cc.sub_paths`: a subPath is never given to
/// the engine as a path string it would resolve on the host.
fn container_mounts(
    c: &Container,
    env: &[(String, String)],
    cc: &ContainerContext<'_>,
    volumes: &[PodVolume],
) -> Result<Vec<MountSpec>, ConfigError> {
    let mut mounts = Vec::new();
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let vol = volumes
            .iter()
            .find(|v| v.name == m.name)
            .ok_or_else(|| ConfigError(format!("volume {:?} is not declared", m.name)))?;
        // downwardAPI volumes are read-only, as in Kubernetes.
        let ro = m.read_only == Some(true) || matches!(vol.kind, VolumeKind::DownwardApi { .. });
        if mount_sub_path(m, env).is_some() {
            let source = match cc.sub_paths.get(&i) {
                Some(SubPathSource::Pinned(src)) => MountSource::Bind { path: src.clone() },
                Some(SubPathSource::EngineSubpath(sub)) => {
                    let dv = vol.docker_volume().ok_or_else(|| {
                        ConfigError(format!("volume {:?} is not a Docker volume", m.name))
                    })?;
                    MountSource::Volume {
                        name: dv.to_string(),
                        no_copy: true,
                        subpath: Some(sub.clone()),
                    }
                }
                None => {
                    return Err(ConfigError(format!(
                        "volumeMounts[{i}] ({:?} at {}): the subPath was not prepared for a safe mount",
                        m.name, m.mount_path
                    )));
                }
            };
            mounts.push(MountSpec {
                source,
                target: m.mount_path.clone(),
                read_only: ro,
            });
            continue;
        }
        mounts.push(match &vol.kind {
            VolumeKind::EmptyDir { docker_volume, .. }
            | VolumeKind::DownwardApi { docker_volume, .. } => {
                volume_mount(docker_volume, &m.mount_path, ro)
            }
            VolumeKind::HostPath { path, .. } => MountSpec {
                source: MountSource::Bind { path: path.clone() },
                target: m.mount_path.clone(),
                read_only: ro,
            },
        });
    }
    Ok(mounts)
}

#[cfg(test)]
mod tests {
    use super::super::volumes::sub_path_mounts;
    use super::super::volumes::tests::{container, emptydir};
    use super::*;

    #[test]
    fn a_sub_path_is_never_given_to_the_engine_as_a_host_path_to_resolve() {
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
        let mounts = container_mounts(&c, &env, &cc(&prepared), &volumes).unwrap();
        let sources: Vec<(&MountSource, &str, bool)> = mounts
            .iter()
            .map(|m| (&m.source, m.target.as_str(), m.read_only))
            .collect();
        let vol = |subpath: Option<&str>| MountSource::Volume {
            name: "podtui_uid_v".into(),
            no_copy: true,
            subpath: subpath.map(String::from),
        };
        assert_eq!(
            sources,
            [
                (&vol(None), "/whole", false),
                (
                    &MountSource::Bind {
                        path: "/state/subpaths/uid/1".into()
                    },
                    "/pinned",
                    false
                ),
                (&vol(Some("b")), "/engine", true),
            ]
        );
    }
}
