//! Stopping a pod the kubelet's way: a `Killing` event per container, the preStop hooks in parallel within the
//! grace period, the stop signal with the grace left (at least [`MIN_GRACE`]), and the sandbox last; on deletion
//! the containers are then removed before the sandbox (podman refuses to remove a sandbox others join) and the
//! pod's volumes after them. The same steps stop a pod past its activeDeadlineSeconds (without removing) and a
//! container a user asked to restart.

use std::time::Duration;

use futures_util::future::join_all;
use jiff::Timestamp;

use super::{Next, PodWorker};
use crate::engine::clock;
use crate::engine::events::{EventType, container_object};
use crate::engine::plan::{Plan, StopReason};
use crate::runtime::labels;
use crate::runtime::observe::{ObservedContainer, ObservedPod, observe_pod};
use crate::runtime::{RtResult, Runtime};

/// Minimum grace period, as the kubelet's.
pub const MIN_GRACE: Duration = Duration::from_secs(2);
/// The kubelet's message for activeDeadlineSeconds.
pub const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";

/// Where the pod's termination is.
#[derive(Debug, Default)]
pub(super) struct Termination {
    /// The pod is being deleted: everything is stopped by this time.
    pub deadline: Option<Timestamp>,
    /// The `Killing` events were recorded.
    pub killing_recorded: bool,
    /// The preStop hooks ran.
    pub pre_stop_done: bool,
    /// activeDeadlineSeconds passed (and was announced).
    pub deadline_recorded: bool,
}

impl Termination {
    /// Starts deleting the pod (the first deadline asked for stays).
    pub fn begin(&mut self, deadline: Timestamp) {
        if self.deadline.is_none() {
            self.deadline = Some(deadline);
        }
    }
}

fn running_containers(observed: &ObservedPod) -> Vec<ObservedContainer> {
    observed
        .containers
        .iter()
        .filter(|c| c.state.is_running())
        .cloned()
        .collect()
}

impl PodWorker {
    /// A `Killing` event for each container about to be stopped.
    fn record_killing(&mut self, running: &[ObservedContainer]) {
        for c in running {
            let obj = container_object(&c.name, c.role == crate::runtime::observe::Role::Init);
            self.event(
                EventType::Normal,
                "Killing",
                &obj,
                format!("Stopping container {}", c.name),
            );
        }
    }

    /// Stops `running` with the grace left until `deadline`, then the pod's running sandboxes.
    async fn stop_with_sandboxes(
        &mut self,
        rt: &Runtime,
        running: &[ObservedContainer],
        observed: &ObservedPod,
        deadline: Timestamp,
    ) -> RtResult<()> {
        // After a preStop hook the stop signal still gets at least the minimum grace, as in the kubelet.
        let left = deadline.duration_since(clock::now());
        let left = Duration::try_from(left).unwrap_or_default().max(MIN_GRACE);
        let results = join_all(running.iter().map(|c| rt.stop(&c.id, left))).await;
        for r in results {
            r?;
        }
        let sandboxes: Vec<&ObservedContainer> = observed
            .sandboxes
            .iter()
            .filter(|s| s.state.is_running())
            .collect();
        let results = join_all(sandboxes.iter().map(|s| rt.stop(&s.id, MIN_GRACE))).await;
        for r in results {
            r?;
        }
        for i in running.iter().chain(sandboxes) {
            self.cache.invalidate(&i.id);
        }
        Ok(())
    }

    /// Deletes the pod: stops it, removes its containers, then its sandboxes, then its volumes.
    pub(super) async fn terminate(
        &mut self,
        rt: &Runtime,
        observed: ObservedPod,
    ) -> RtResult<Next> {
        let deadline = self.termination.deadline.unwrap_or_else(clock::now);
        self.last_plan = Plan::default();
        let running = running_containers(&observed);
        if !self.termination.killing_recorded {
            self.termination.killing_recorded = true;
            self.record_killing(&running);
        }
        self.prober.stop_all();
        self.publish(&observed);
        if !self.termination.pre_stop_done {
            self.termination.pre_stop_done = true;
            self.run_pre_stop_hooks(rt, &running, &observed, deadline)
                .await;
        }
        self.stop_with_sandboxes(rt, &running, &observed, deadline)
            .await?;
        // Containers before the sandbox they join, as the kubelet removes them; debug containers first.
        let joined = observed.ephemeral.iter().chain(&observed.containers);
        for i in joined.chain(observed.sandboxes.iter()) {
            rt.remove(&i.id).await?;
        }
        let mut filter = labels::node_filter(&self.settings.node);
        filter.push(format!("{}={}", labels::POD_UID, self.uid));
        for (name, _) in rt.list_volumes(&filter).await? {
            rt.remove_volume(&name).await?;
        }
        // Anything created meanwhile (a race with an engine restart) is caught by the next look.
        let again = observe_pod(&**rt, &self.settings.node, &self.uid, &mut self.cache).await?;
        if again.everything().next().is_some() {
            return Ok(Next::Again);
        }
        if let Some(files) = self.termination_files() {
            files.remove_pod(&self.uid);
        }
        Ok(Next::Done)
    }

    /// Stops a pod past its `activeDeadlineSeconds` as a deleted pod is stopped (the kubelet kills it the same
    /// way): preStop hooks, the pod's grace period, the sandbox last. Unlike a deletion, everything stays.
    pub(super) async fn stop_for_deadline(
        &mut self,
        rt: &Runtime,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let deadline = clock::now() + self.grace();
        let running = running_containers(observed);
        self.record_killing(&running);
        self.run_pre_stop_hooks(rt, &running, observed, deadline)
            .await;
        self.stop_with_sandboxes(rt, &running, observed, deadline)
            .await?;
        Ok(true)
    }

    /// Stops the containers a user asked to restart: preStop, then the stop signal with the grace left. The
    /// plan starts the next instances once it sees them stopped.
    pub(super) async fn stop_for_restart(
        &mut self,
        rt: &Runtime,
        ids: &[String],
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let grace = self.grace();
        for inst in observed.containers.iter().filter(|c| ids.contains(&c.id)) {
            let left = self.pre_stop(rt, inst, grace).await;
            self.prober.stop(&inst.id);
            rt.stop(&inst.id, left).await?;
            self.cache.invalidate(&inst.id);
        }
        Ok(true)
    }
}

impl PodWorker {
    /// Stops containers for `reason`, with the events and grace the kubelet uses for it.
    pub(super) async fn stop(
        &mut self,
        rt: &Runtime,
        ids: Vec<String>,
        reason: StopReason,
        observed: &ObservedPod,
    ) -> RtResult<bool> {
        let grace = match reason {
            StopReason::SandboxDied => {
                self.event(
                    EventType::Normal,
                    "SandboxChanged",
                    "",
                    "Pod sandbox changed, it will be killed and re-created.".into(),
                );
                self.grace()
            }
            StopReason::PodCompleted => MIN_GRACE,
            StopReason::DeadlineExceeded => return self.stop_for_deadline(rt, observed).await,
            StopReason::RestartRequested => return self.stop_for_restart(rt, &ids, observed).await,
            StopReason::SandboxChanged => {
                self.event(
                    EventType::Normal,
                    "Killing",
                    "",
                    "Stopping containers left in an old sandbox".into(),
                );
                self.grace()
            }
        };
        let results = futures_util::future::join_all(ids.iter().map(|id| rt.stop(id, grace))).await;
        for (id, r) in ids.iter().zip(results) {
            self.cache.invalidate(id);
            r?;
        }
        Ok(true)
    }
}
