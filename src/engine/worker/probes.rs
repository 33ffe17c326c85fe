//! Probes in the worker: the prober runs one task per probe of each running container; its verdicts come
//! back as messages, and a failed liveness or startup probe kills the container (preStop first), which the plan
//! then restarts per the restartPolicy.

use std::time::Duration;

use k8s_openapi::api::core::v1::PodSpec;

use super::{MIN_GRACE, PodWorker};
use crate::engine::events::EventType;
use crate::engine::handler::ProbeKind;
use crate::engine::prober::{ProbeOutcome, Verdict};
use crate::runtime::Runtime;
use crate::runtime::observe::ObservedPod;

impl PodWorker {
    /// A probe ran: its events, and what the prober concludes.
    pub(super) async fn on_probe(&mut self, outcome: ProbeOutcome) {
        if self.termination.deadline.is_some() {
            return;
        }
        let rt = self.runtime.borrow().clone();
        let Some(rt) = rt else { return };
        let (events, verdict) = self.prober.on_outcome(&rt, outcome);
        for (kind, reason, name, msg) in events {
            let obj = self.object_of(&name);
            self.event(kind, reason, &obj, msg);
        }
        if let Verdict::Kill {
            id,
            name,
            kind,
            grace,
        } = verdict
        {
            self.kill_for_probe(&rt, &id, &name, kind, grace).await;
        }
        let obs = self.last_observed.clone();
        self.publish(&obs);
    }

    /// Starts and stops probe tasks to match the running containers of the current sandbox.
    pub(super) fn sync_probes(&mut self, rt: &Runtime, observed: &ObservedPod, spec: &PodSpec) {
        let Some(sandbox) = observed
            .latest_sandbox()
            .filter(|s| s.state.is_running())
            .cloned()
        else {
            self.prober.stop_all();
            return;
        };
        let host_network = spec.host_network == Some(true);
        let mut running = Vec::new();
        let sidecars = spec
            .init_containers
            .iter()
            .flatten()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        for c in sidecars.chain(spec.containers.iter()) {
            if let Some(inst) = observed.instances(&c.name).first()
                && inst.state.is_running()
                && inst.sandbox_id.as_deref() == Some(sandbox.id.as_str())
            {
                running.push((
                    inst.id.clone(),
                    c,
                    self.probe_target(rt, &inst.id, &sandbox, host_network),
                ));
            }
        }
        let events = self.prober.sync(rt, running);
        for (kind, reason, name, msg) in events {
            let obj = self.object_of(&name);
            self.event(kind, reason, &obj, msg);
        }
    }

    /// Liveness or startup failed: kill the container (preStop first); the plan restarts it per restartPolicy.
    async fn kill_for_probe(
        &mut self,
        rt: &Runtime,
        id: &str,
        name: &str,
        kind: ProbeKind,
        grace: Option<Duration>,
    ) {
        let obj = self.object_of(name);
        self.event(
            EventType::Normal,
            "Killing",
            &obj,
            format!(
                "Container {name} failed {} probe, will be restarted",
                kind.title().to_lowercase()
            ),
        );
        let grace = grace.unwrap_or_else(|| self.grace()).max(MIN_GRACE);
        let inst = self
            .last_observed
            .containers
            .iter()
            .find(|c| c.id == id)
            .cloned();
        let left = match inst {
            Some(i) => self.pre_stop(rt, &i, grace).await,
            None => grace,
        };
        if let Err(e) = rt.stop(id, left).await {
            self.event(EventType::Warning, "Failed", &obj, format!("kill: {e}"));
        }
        self.prober.stop(id);
        self.cache.invalidate(id);
    }
}
