//! Overlap inside a pod: the containers the plan creates ahead ([`Step::Precreate`]) have their images checked
//! (all at once) while the pod's volumes are made, and are created while the sandbox starts (Docker takes
//! `NetworkMode: container:<id>` at create for a sandbox that is created but not yet running; the container
//! joins the namespace when it starts). Their starts stay where the plan puts them, one after another in spec
//! order, each after the previous one's postStart hook, so what a user can observe (start order, hooks) is
//! the kubelet's. `PODTUI_OVERLAP=0` turns it off (for measurements).

use std::sync::OnceLock;

use futures_util::future::join_all;
use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::PodWorker;
use super::start::{Prepared, container_of, create_named};
use crate::engine::events::{EventType, container_object};
use crate::engine::plan::{Plan, Step};
use crate::manifest::DesiredPod;
use crate::manifest::names::valid_image_reference;
use crate::runtime::observe::{InstanceState, ObservedPod, Role};
use crate::runtime::subpath::Pin;
use crate::runtime::{RtResult, Runtime};

/// A container created ahead, waiting for its start.
#[derive(Debug)]
pub(super) struct Precreated {
    /// Docker ID.
    pub id: String,
    /// Engine name.
    pub docker_name: String,
    /// Restart count of the instance.
    pub count: u32,
    /// subPath pins that must live until it has started.
    pub pins: Vec<Pin>,
}

/// A container to create ahead: name, role, restart count and its spec.
pub(super) type Ahead = (String, Role, u32, Container);

/// Whether containers are created ahead (`PODTUI_OVERLAP` is not `0`).
pub(super) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("PODTUI_OVERLAP").map_or(true, |v| v != "0"))
}

/// The plan's [`Step::Precreate`] list (empty without one).
pub(super) fn ahead(p: &Plan) -> Vec<(String, Role, u32)> {
    p.steps
        .iter()
        .find_map(|s| match s {
            Step::Precreate { containers } => Some(containers.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The pull policy Kubernetes defaults to.
fn policy(c: &Container) -> &str {
    c.image_pull_policy.as_deref().unwrap_or("IfNotPresent")
}

/// Checks every image of `ahead` at once: whether each is present and may be used without a pull (policy
/// `IfNotPresent` or `Never`). A container whose image is not is left to its start, which pulls with progress.
pub(super) async fn check_images(rt: &Runtime, ahead: &[Ahead]) -> Vec<bool> {
    join_all(ahead.iter().map(|(_, _, _, c)| async move {
        let image = c.image.as_deref().unwrap_or_default();
        if policy(c) == "Always" || !valid_image_reference(image) {
            return false;
        }
        matches!(rt.image_id(image).await, Ok(Some(_)))
    }))
    .await
}

impl PodWorker {
    /// The containers of the plan's `Precreate` step, with their specs.
    pub(super) fn ahead_containers(&self, desired: &DesiredPod) -> Vec<Ahead> {
        let spec: PodSpec = desired.pod.spec.clone().unwrap_or_default();
        self.ahead
            .iter()
            .filter_map(|(name, role, count)| {
                container_of(&spec, name, *role).map(|c| (name.clone(), *role, *count, c))
            })
            .collect()
    }

    /// The containers created ahead that are still waiting, as the engine has them now (created, not started,
    /// the latest instance of their name); others are forgotten.
    pub(super) fn precreated_in(&mut self, observed: &ObservedPod) -> Vec<String> {
        self.precreated.retain(|name, p| {
            observed
                .instances(name)
                .first()
                .is_some_and(|l| l.id == p.id && l.state == InstanceState::Created)
        });
        self.precreated.keys().cloned().collect()
    }

    /// Starts sandbox `(id, name)` while creating the `ready` containers in it; returns the sandbox start's
    /// result. A container that fails to be created ahead is left to its start (which reports why).
    pub(super) async fn start_with_ahead(
        &mut self,
        rt: &Runtime,
        desired: &DesiredPod,
        (id, name): (&str, &str),
        ready: Vec<Ahead>,
    ) -> RtResult<()> {
        let spec: PodSpec = desired.pod.spec.clone().unwrap_or_default();
        let mut bodies: Vec<(Ahead, Prepared)> = Vec::new();
        for a in ready {
            let (_, role, count, c) = &a;
            match self
                .prepare(rt, desired, &spec, c, *role, *count, (id, None))
                .await?
            {
                Ok(p) => bodies.push((a, p)),
                // A configuration error is reported by the container's start.
                Err(_) => continue,
            }
        }
        let creates = join_all(
            bodies
                .iter()
                .map(|(_, p)| create_named(rt, &p.docker_name, p.body.clone())),
        );
        let (started, created) = tokio::join!(rt.start(id, name), creates);
        for ((a, p), r) in bodies.into_iter().zip(created) {
            let (cname, role, count, c) = a;
            let object = container_object(&cname, role == Role::Init);
            match r {
                Ok(cid) => {
                    let image = c.image.clone().unwrap_or_default();
                    self.event(
                        EventType::Normal,
                        "Pulled",
                        &object,
                        format!("Container image {image:?} already present on machine"),
                    );
                    self.event(
                        EventType::Normal,
                        "Created",
                        &object,
                        format!("Created container {cname}"),
                    );
                    self.memo.waiting.remove(&cname);
                    if started.is_err() {
                        let _ = rt.remove(&cid).await;
                        continue;
                    }
                    let pre = Precreated {
                        id: cid,
                        docker_name: p.docker_name,
                        count,
                        pins: p.pins,
                    };
                    self.precreated.insert(cname, pre);
                }
                Err(e) if e.is_connection() => return Err(e),
                Err(e) => tracing::debug!(pod = %self.key(), "creating {cname} ahead: {e}"),
            }
        }
        started
    }
}
