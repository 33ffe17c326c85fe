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
pub(super) struct Prepared {
    pub docker_name: String,
    pub body: ContainerConfig,
    pub pins: Vec<Pin>,
}

/// Creates a container, replacing a leftover of the same name (a crash between create and start).
pub(super) async fn create_named(
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

/// Container `name` of the spec (init or app).
pub(super) fn container_of(spec: &PodSpec, name: &str, role: Role) -> Option<Container> {
    let list = if role == Role::Init {
        spec.init_containers.as_deref().unwrap_or_default()
    } else {
        &spec.containers[..]
    };
    list.iter().find(|c| c.name == name).cloned()
}

impl PodWorker {
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
        let Some(c) = container_of(&spec, name, role) else {
            return Ok(false);
        };
        let object = container_object(name, role == Role::Init);
        if let Some(pre) = self
            .precreated
            .remove(name)
            .filter(|p| p.count == restart_count)
        {
            let Some(sandbox) = observed.latest_sandbox().cloned() else {
                return Ok(false);
            };
            let launch = (c, pre.id, pre.docker_name, pre.pins);
            return self
                .launch(rt, launch, previous_finished, &sandbox, &object)
                .await;
        }
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
            .prepare(
                rt,
                &desired,
                &spec,
                &c,
                role,
                restart_count,
                (&sandbox.id, sandbox.ip.clone()),
            )
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
        self.launch(
            rt,
            (c, id, docker_name, pins),
            previous_finished,
            &sandbox,
            &object,
        )
        .await
    }

    /// Starts a created instance (container spec, ID, engine name, subPath pins) and runs its postStart hook:
    /// the next start waits for both, as in the kubelet.
    async fn launch(
        &mut self,
        rt: &Runtime,
        (c, id, docker_name, pins): (Container, String, String, Vec<Pin>),
        previous_finished: Option<Timestamp>,
        sandbox: &ObservedContainer,
        object: &str,
    ) -> RtResult<bool> {
        let name = c.name.as_str();
        if let Some(fin) = previous_finished {
            self.backoff
                .next(&self.settings.backoff, name, fin, clock::now());
        }
        match rt.start(&id, &docker_name).await {
            Ok(()) => {
                self.event(
                    EventType::Normal,
                    "Started",
                    object,
                    format!("Started container {name}"),
                );
                self.post_start(rt, &c, &id, sandbox, object).await;
            }
            Err(e) if e.is_connection() => return Err(e),
            Err(e) => self.event(
                EventType::Warning,
                "Failed",
                object,
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
        match create_named(rt, docker_name, body).await {
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
    pub(super) async fn prepare(
        &mut self,
        rt: &Runtime,
        desired: &DesiredPod,
        spec: &PodSpec,
        c: &Container,
        role: Role,
        restart_count: u32,
        (sandbox_id, sandbox_ip): (&str, Option<String>),
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
                sandbox_ip
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
            sandbox_id,
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
