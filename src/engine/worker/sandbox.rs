//! The sandbox phase: the pause image, the pod's volumes, the sandbox container (with the downwardAPI files
//! copied in before it starts), and with another pause image, podtui's own program preparing the volumes.

use std::collections::BTreeMap;

use super::{PauseImage, PodWorker};
use crate::engine::clock;
use crate::engine::create::{self, NodeContext, PodVolume, VolumeKind};
use crate::engine::events::EventType;
use crate::manifest::DesiredPod;
use crate::runtime::labels;
use crate::runtime::pause::{ensure_pause_image, pause_image};
use crate::runtime::types::Dns;
use crate::runtime::{ContainerConfig, RtResult, Runtime, RuntimeError};

impl PodWorker {
    pub(super) fn node_context(&self, rt: &Runtime) -> NodeContext {
        NodeContext {
            node: self.settings.node.clone(),
            host_port_address: self.settings.host_port_address,
            engine: rt.info().clone(),
        }
    }

    /// The sandbox image to use (podtui's own, or the one configured, pulled if absent); `None` after a
    /// `FailedCreatePodSandBox` event.
    async fn sandbox_image(&mut self, rt: &Runtime) -> RtResult<Option<(String, bool)>> {
        let pause = self.settings.pause.clone();
        match &pause {
            // Checked (imported if missing) once when the engine connects, not per pod.
            PauseImage::Own => Ok(Some((pause_image(), true))),
            PauseImage::Custom(img) => {
                if let Err(w) = self.ensure_image(rt, img, "IfNotPresent", "").await {
                    self.event(
                        EventType::Warning,
                        "FailedCreatePodSandBox",
                        "",
                        format!("{}: {}", w.reason, w.message),
                    );
                    return Ok(None);
                }
                Ok(Some((img.clone(), false)))
            }
        }
    }

    /// Creates and starts sandbox attempt `attempt`, its volumes first. The containers the plan creates ahead
    /// (`self.ahead`) have their images checked while the volumes are made, and are created while the sandbox
    /// starts ([`super::overlap`]).
    pub(super) async fn create_sandbox(&mut self, rt: &Runtime, attempt: u32) -> RtResult<bool> {
        let desired = self.desired()?;
        self.precreated.clear();
        let ahead = self.ahead_containers(&desired);
        let volumes = create::pod_volumes(&desired);
        let (prepared, present) = tokio::join!(
            async {
                let image = self.sandbox_image(rt).await?;
                let mounted = match image {
                    Some(_) => self.prepare_volumes(rt, &desired, &volumes).await?,
                    None => Ok(()),
                };
                RtResult::Ok((image, mounted))
            },
            super::overlap::check_images(rt, &ahead)
        );
        let (image, mounted) = prepared?;
        let Some((image, own)) = image else {
            return Ok(false);
        };
        if let Err(msg) = mounted {
            self.event(EventType::Warning, "FailedMount", "", msg);
            return Ok(false);
        }
        let ctx = self.node_context(rt);
        let (name, mut body) = create::sandbox_body(&desired, &ctx, &image, attempt, &volumes, own);
        if let Some(started) = self.pod_start {
            // The pod started with an earlier sandbox; this one carries that start past its removal.
            body.labels
                .insert(labels::POD_STARTED.into(), started.to_string());
        }
        let created = match super::start::create_named(rt, &name, body.clone()).await {
            // podtui's pause image is checked once per connection; one removed since is imported again.
            Err(e) if own && e.is_not_found() => {
                ensure_pause_image(&**rt).await?;
                super::start::create_named(rt, &name, body).await
            }
            other => other,
        };
        let id = match created {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!("create sandbox: {e}");
                if !e.is_connection() {
                    self.event(
                        EventType::Warning,
                        "FailedCreatePodSandBox",
                        "",
                        format!("Failed to create pod sandbox: {e}"),
                    );
                }
                return Err(e);
            }
        };
        for v in &volumes {
            if let VolumeKind::DownwardApi { files, .. } = &v.kind {
                let tar = downward_tar(files)
                    .map_err(|e| RuntimeError::failed("build downwardAPI files", e.to_string()))?;
                rt.upload(&id, &v.sandbox_path(), tar).await?;
            }
        }
        let ready = ahead
            .into_iter()
            .zip(present)
            .filter_map(|(a, ok)| ok.then_some(a))
            .collect();
        if let Err(e) = self
            .start_with_ahead(rt, &desired, (&id, &name), ready)
            .await
        {
            self.event(
                EventType::Warning,
                "FailedCreatePodSandBox",
                "",
                format!("Failed to start pod sandbox: {e}"),
            );
            let _ = rt.remove(&id).await;
            return Err(e);
        }
        if !own {
            self.prepare_dirs_with_helper(rt, &desired, &volumes)
                .await?;
        }
        self.event(
            EventType::Normal,
            "SandboxCreated",
            "",
            format!("Created and started pod sandbox {name} (image {image})"),
        );
        Ok(true)
    }

    /// With a custom pause image, podtui's own pause program prepares the emptyDir directories in a one-shot
    /// container (`--prepare-only`), with the pod's volumes and nothing else of the sandbox.
    async fn prepare_dirs_with_helper(
        &mut self,
        rt: &Runtime,
        desired: &DesiredPod,
        volumes: &[PodVolume],
    ) -> RtResult<()> {
        if create::prepare_dirs(desired, volumes).is_empty() {
            return Ok(());
        }
        let image = ensure_pause_image(&**rt).await?;
        let ctx = self.node_context(rt);
        let (_, sandbox) = create::sandbox_body(desired, &ctx, &image, 0, volumes, true);
        let mut labels = sandbox.labels;
        labels.remove(labels::POD_UID);
        let mut cmd = sandbox.cmd.unwrap_or_default();
        cmd.push("--prepare-only".into());
        let helper = ContainerConfig {
            image,
            cmd: Some(cmd),
            labels,
            network_mode: "none".into(),
            mounts: sandbox.mounts,
            dns: Dns::default(),
            ..Default::default()
        };
        let name = format!("podtui_prepare_{}", self.uid);
        let _ = rt.remove(&name).await;
        let id = rt.create(&name, helper).await?;
        rt.start(&id, &name).await?;
        let _ = rt.wait(&id).await;
        rt.remove(&id).await
    }
}

/// A tar of the downwardAPI files, each with its mode (`mode`, else `defaultMode`, else 0644).
fn downward_tar(files: &BTreeMap<String, (String, u32)>) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, (content, mode)) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(clock::now().as_second().max(0) as u64);
        h.set_cksum();
        b.append_data(&mut h, path, content.as_bytes())?;
    }
    b.into_inner()
}
