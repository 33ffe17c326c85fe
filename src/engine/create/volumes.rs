//! A pod's volumes as podtui provides them (pod-scoped Docker volumes for emptyDir and downwardAPI, binds for
//! hostPath), what the sandbox prepares in them, and the subPath mounts of a container.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;

use super::{ConfigError, spec};
use crate::manifest::DesiredPod;
use crate::manifest::downward::{self, metadata_field, mount_sub_path};
use crate::manifest::quantity::Quantity;
use crate::runtime::labels;
use crate::runtime::types::{MountSource, MountSpec};

/// Where the sandbox mounts the pod's Docker volumes.
pub const SANDBOX_VOLUME_DIR: &str = "/.podtui/volumes";

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

/// A mount of a pod-scoped Docker volume that starts empty (no copy of the image's files), as Kubernetes' do.
pub fn volume_mount(volume: &str, target: &str, read_only: bool) -> MountSpec {
    MountSpec {
        source: MountSource::Volume {
            name: volume.to_string(),
            no_copy: true,
            subpath: None,
        },
        target: target.to_string(),
        read_only,
    }
}

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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::engine::create) fn container(v: serde_json::Value) -> Container {
        serde_json::from_value(v).unwrap()
    }

    pub(in crate::engine::create) fn emptydir(name: &str) -> PodVolume {
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
}
