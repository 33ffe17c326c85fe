//! The volumes phase: the pod's Docker volumes (tmpfs-backed for `medium: Memory`), the hostPath type checks,
//! and each container's subPaths made safe to mount (see `runtime::subpath`).

use std::collections::HashMap;

use super::PodWorker;
use crate::engine::create::{ConfigError, PodVolume, SubPathMount, SubPathSource, VolumeKind};
use crate::engine::handler;
use crate::manifest::DesiredPod;
use crate::manifest::host_path::check_host_path;
use crate::runtime::labels;
use crate::runtime::subpath::{Pin, SubpathPins};
use crate::runtime::{RtResult, Runtime};

impl PodWorker {
    /// Creates Docker volumes and checks host paths. `Ok(Err(msg))`: a mount problem the user must fix.
    pub(super) async fn prepare_volumes(
        &mut self,
        rt: &Runtime,
        desired: &DesiredPod,
        volumes: &[PodVolume],
    ) -> RtResult<Result<(), String>> {
        for v in volumes {
            match &v.kind {
                VolumeKind::HostPath { path, type_ } => {
                    if let Err(msg) = check_host_path(path, type_) {
                        return Ok(Err(format!(
                            "MountVolume.SetUp failed for volume {:?}: {msg}",
                            v.name
                        )));
                    }
                }
                VolumeKind::EmptyDir {
                    docker_volume,
                    memory,
                    size,
                } => {
                    let mut opts = HashMap::new();
                    if *memory {
                        opts.insert("type".to_string(), "tmpfs".to_string());
                        opts.insert("device".to_string(), "tmpfs".to_string());
                        let mut o = vec!["mode=0777".to_string()];
                        if let Some(s) = size {
                            o.push(format!("size={s}"));
                        }
                        opts.insert("o".to_string(), o.join(","));
                    }
                    rt.create_volume(docker_volume, self.volume_labels(desired, &v.name), opts)
                        .await?;
                }
                VolumeKind::DownwardApi { docker_volume, .. } => {
                    rt.create_volume(
                        docker_volume,
                        self.volume_labels(desired, &v.name),
                        HashMap::new(),
                    )
                    .await?;
                }
            }
        }
        Ok(Ok(()))
    }

    fn volume_labels(&self, desired: &DesiredPod, volume: &str) -> HashMap<String, String> {
        let mut l = labels::pod_labels(
            &self.settings.node,
            &desired.source,
            &desired.name,
            &desired.namespace,
            &desired.uid,
        );
        l.insert(labels::VOLUME_NAME.into(), volume.into());
        l
    }

    /// Makes each subPath mount safe to give Docker (see `runtime::subpath`): resolved beneath its volume and
    /// pinned when podtui runs as root on the Docker host; else a volume mount with Docker's own subpath (Engine
    /// API 1.45+, which resolves it safely itself); else refused. A path that leaves its volume is refused.
    pub(super) async fn pin_sub_paths(
        &mut self,
        rt: &Runtime,
        subs: &[SubPathMount],
    ) -> RtResult<Result<(HashMap<usize, SubPathSource>, Vec<Pin>), ConfigError>> {
        let mut sources = HashMap::new();
        let mut pins = Vec::new();
        let local = handler::is_docker_host(rt.info().host_ip.as_deref());
        for s in subs {
            let at = format!("volumeMounts[{}] (volume {:?})", s.index, s.volume.name);
            let (root, mkdir_mode) = match &s.volume.kind {
                VolumeKind::HostPath { path, .. } => {
                    // New directories take the mode of the volume's root, as the kubelet's do.
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(path)
                        .map(|m| m.permissions().mode() & 0o7777)
                        .unwrap_or(0o755);
                    (std::path::PathBuf::from(path), Some(mode))
                }
                VolumeKind::EmptyDir { docker_volume, .. } => (
                    self.mountpoint(rt, docker_volume).await?.into(),
                    Some(0o777),
                ),
                VolumeKind::DownwardApi { docker_volume, .. } => {
                    (self.mountpoint(rt, docker_volume).await?.into(), None)
                }
            };
            let mut refused = "podtui is not on the Docker host".to_string();
            if let (Some(dir), true) = (&self.settings.subpath_dir, local) {
                let pinned =
                    SubpathPins::new(dir.clone()).pin(&self.uid, &root, &s.sub_path, mkdir_mode);
                match pinned {
                    Ok(pin) => {
                        sources.insert(
                            s.index,
                            SubPathSource::Pinned(pin.path().display().to_string()),
                        );
                        pins.push(pin);
                        continue;
                    }
                    Err(e) if e.is_not_permitted() => refused = e.to_string(),
                    Err(e) => return Ok(Err(ConfigError(format!("{at}: {e}")))),
                }
            }
            if s.volume.docker_volume().is_some() && rt.info().api_at_least(1, 45) {
                sources.insert(s.index, SubPathSource::EngineSubpath(s.sub_path.clone()));
                continue;
            }
            return Ok(Err(ConfigError(format!(
                "{at}: cannot mount subPath {:?} safely ({refused}): podtui must run as root on the Docker \
                 host to pin it, or (for emptyDir and downwardAPI volumes) the engine must offer Docker's own \
                 subpath mounts (Engine API 1.45+, Docker 26); refused rather than let Docker follow links out of the volume",
                s.sub_path
            ))));
        }
        Ok(Ok((sources, pins)))
    }

    /// Where a pod volume's data lives on the engine host (asked once per volume).
    async fn mountpoint(&mut self, rt: &Runtime, docker_volume: &str) -> RtResult<String> {
        if let Some(mp) = self.mountpoints.get(docker_volume) {
            return Ok(mp.clone());
        }
        let mp = rt.volume_mountpoint(docker_volume).await?;
        self.mountpoints
            .insert(docker_volume.to_string(), mp.clone());
        Ok(mp)
    }
}
