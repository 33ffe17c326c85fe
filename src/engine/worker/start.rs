//! The start phase: one init or app container instance, from its image to its create body (env, subPath pins,
//! termination-message file, security checks) to its start and postStart hook.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::PodWorker;
use crate::engine::clock;
use crate::engine::create::{self, ConfigError, ContainerContext, RuntimeFacts};
use crate::engine::events::{EventType, container_object};
use crate::engine::security;
use crate::engine::status::Waiting;
use crate::manifest::DesiredPod;
use crate::runtime::observe::{ObservedContainer, ObservedPod, Role};
use crate::runtime::subpath::Pin;
use crate::runtime::{ContainerConfig, RtResult, Runtime};

/// A container ready to be created: its engine name, create body, and the subPath pins that must live until
/// it has started.
struct Prepared {
    docker_name: String,
    body: ContainerConfig,
    pins: Vec<Pin>,
}

impl PodWorker {
    /// Creates a container, replacing a leftover of the same name (a crash between create and start).
    pub(super) async fn create_named(
        &mut self,
        rt: &Runtime,
        name: &str,
        body: ContainerConfig,
    ) -> RtResult<String> {
        match rt.create(name, body.clone()).await {
            Err(e) if e.is_conflict() => {
                rt.remove(name).await?;
                rt.create(name, body).await
            }
            other => other,
        }
    }

    /// The container cannot be configured: a `Failed` event and the waiting reason `CreateContainerConfigError`.
    fn config_error(&mut self, name: &str, object: &str, e: ConfigError) {
        self.event(EventType::Warning, "Failed", object, format!("Error: {e}"));
        self.memo.waiting.insert(
            name.to_string(),
            Waiting {
                reason: "CreateContainerConfigError".into(),
                message: e.0,
            },
        );
    }

    /// Creates and starts instance `restart_count` of container `name`; returns whether the engine changed.
    pub(super) async fn start_container(
        &mut self,
        rt: &Runtime,
        name: &str,
        role: Role,
        restart_count: u32,
        previous_finished: Option<Timestamp>,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let desired = self.desired()?;
        let spec: PodSpec = desired.pod.spec.clone().unwrap_or_default();
        let list = if role == Role::Init {
            spec.init_containers.clone().unwrap_or_default()
        } else {
            spec.containers.clone()
        };
        let Some(c) = list.into_iter().find(|c| c.name == name) else {
            return Ok(false);
        };
        let object = container_object(name, role == Role::Init);
        let image = c.image.clone().unwrap_or_default();
        let policy = c
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| "IfNotPresent".into());
        if let Err(w) = self.ensure_image(rt, &image, &policy, &object).await {
            self.memo.waiting.insert(name.to_string(), w);
            self.publish(observed);
            return Ok(false);
        }
        let Some(sandbox) = observed
            .latest_sandbox()
            .filter(|s| s.state.is_running())
            .cloned()
        else {
            return Ok(false);
        };
        let prepared = self
            .prepare(rt, &desired, &spec, &c, role, restart_count, &sandbox)
            .await?;
        let Prepared {
            docker_name,
            body,
            pins,
        } = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.config_error(name, &object, e);
                return Ok(false);
            }
        };
        let Some(id) = self
            .create_instance(rt, name, &object, &docker_name, body)
            .await?
        else {
            return Ok(false);
        };
        if let Some(fin) = previous_finished {
            self.backoff
                .next(&self.settings.backoff, name, fin, clock::now());
        }
        match rt.start(&id, &docker_name).await {
            Ok(()) => {
                self.event(
                    EventType::Normal,
                    "Started",
                    &object,
                    format!("Started container {name}"),
                );
                self.post_start(rt, &c, &id, &sandbox, &object).await;
            }
            Err(e) if e.is_connection() => return Err(e),
            Err(e) => self.event(
                EventType::Warning,
                "Failed",
                &object,
                format!("Error: failed to start container {name:?}: {}", e.message()),
            ),
        }
        // The engine has mounted the pinned paths: the container's mount namespace keeps them.
        drop(pins);
        self.cache.invalidate(&id);
        Ok(true)
    }

    /// Creates the instance; `None` when the engine refused it (`CreateContainerError`).
    async fn create_instance(
        &mut self,
        rt: &Runtime,
        name: &str,
        object: &str,
        docker_name: &str,
        body: ContainerConfig,
    ) -> RtResult<Option<String>> {
        match self.create_named(rt, docker_name, body).await {
            Ok(id) => {
                self.memo.waiting.remove(name);
                self.event(
                    EventType::Normal,
                    "Created",
                    object,
                    format!("Created container {name}"),
                );
                Ok(Some(id))
            }
            Err(e) if e.is_connection() => Err(e),
            Err(e) => {
                self.event(
                    EventType::Warning,
                    "Failed",
                    object,
                    format!("Error: {}", e.message()),
                );
                self.memo.waiting.insert(
                    name.to_string(),
                    Waiting {
                        reason: "CreateContainerError".into(),
                        message: e.message(),
                    },
                );
                Ok(None)
            }
        }
    }

    /// Everything the create body needs: the security checks, the env, the subPath pins and the termination
    /// file. `Ok(Err(_))` is a configuration the user must fix (`CreateContainerConfigError`).
    #[allow(clippy::too_many_arguments)]
    async fn prepare(
        &mut self,
        rt: &Runtime,
        desired: &DesiredPod,
        spec: &PodSpec,
        c: &Container,
        role: Role,
        restart_count: u32,
        sandbox: &ObservedContainer,
    ) -> RtResult<Result<Prepared, ConfigError>> {
        let sec = security::effective(spec, c);
        let image = c.image.clone().unwrap_or_default();
        // The image's user matters only for runAsNonRoot and for a group without a user: ask only then.
        let image_user = if sec.non_root || (sec.group.is_some() && sec.user.is_none()) {
            rt.image_user(&image).await.unwrap_or_default()
        } else {
            String::new()
        };
        if let Some(msg) = security::non_root_violation(&sec, &image_user, &desired.name, &c.name) {
            return Ok(Err(ConfigError(msg)));
        }
        let host_network = spec.host_network == Some(true);
        let facts = RuntimeFacts {
            pod_ip: if host_network {
                rt.info().host_ip.clone()
            } else {
                sandbox.ip.clone()
            },
            host_ip: rt.info().host_ip.clone(),
        };
        let ctx = self.node_context(rt);
        let volumes = create::pod_volumes(desired);
        let env = create::container_env(desired, c, &ctx, &facts);
        let subs = match create::sub_path_mounts(c, &env, &volumes) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let (sub_paths, pins) = match self.pin_sub_paths(rt, &subs).await? {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let termination_file = self.termination_file(rt, &c.name, restart_count, sec.user);
        let cc = ContainerContext {
            sandbox_id: &sandbox.id,
            host_network,
            facts: &facts,
            sub_paths: &sub_paths,
            image_user: &image_user,
            termination_file: termination_file.as_deref(),
        };
        Ok(
            create::container_body(desired, c, role, restart_count, &ctx, &cc, &volumes).map(
                |(docker_name, body)| Prepared {
                    docker_name,
                    body,
                    pins,
                },
            ),
        )
    }
}
