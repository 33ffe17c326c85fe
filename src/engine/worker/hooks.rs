//! Lifecycle hooks and where they (and probes) run: postStart (a failure kills the container), preStop (run
//! within the grace period, which it shortens), and the probe target of a container (the pod IP, its sandbox).

use std::time::Duration;

use futures_util::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Container;

use super::PodWorker;
use crate::engine::clock;
use crate::engine::events::EventType;
use crate::engine::handler::{self, Target};
use crate::runtime::Runtime;
use crate::runtime::observe::{ObservedContainer, ObservedPod};

use super::MIN_GRACE;

impl PodWorker {
    pub(super) fn probe_target(
        &self,
        rt: &Runtime,
        container_id: &str,
        sandbox: &ObservedContainer,
        host_network: bool,
    ) -> Target {
        Target {
            container_id: container_id.to_string(),
            sandbox_id: sandbox.id.clone(),
            pod_ip: if host_network {
                rt.info().host_ip.clone()
            } else {
                sandbox.ip.clone()
            },
            host_network,
            via: self
                .settings
                .probe_via
                .unwrap_or_else(|| handler::probe_via(rt.info().host_ip.as_deref())),
        }
    }

    /// The spec and probe target of a running instance (for hooks).
    pub(super) fn hook_target(
        &self,
        rt: &Runtime,
        inst: &ObservedContainer,
        observed: &ObservedPod,
    ) -> Option<(Container, Target)> {
        let spec = self.desired.as_ref()?.pod.spec.clone()?;
        let c = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .find(|c| c.name == inst.name)?
            .clone();
        let sandbox = observed.latest_sandbox()?;
        let target = self.probe_target(rt, &inst.id, sandbox, spec.host_network == Some(true));
        Some((c, target))
    }

    /// Runs the preStop hooks of `running` in parallel, within the time left until `deadline`.
    pub(super) async fn run_pre_stop_hooks(
        &mut self,
        rt: &Runtime,
        running: &[ObservedContainer],
        observed: &ObservedPod,
        deadline: Timestamp,
    ) {
        let left = Duration::try_from(deadline.duration_since(clock::now())).unwrap_or_default();
        let hooks: Vec<(String, handler::Handler, Target)> = running
            .iter()
            .filter_map(|inst| {
                let (c, target) = self.hook_target(rt, inst, observed)?;
                let h = c.lifecycle.as_ref()?.pre_stop.as_ref()?;
                Some((c.name.clone(), handler::hook_handler(h, &c).ok()?, target))
            })
            .collect();
        let results = join_all(
            hooks
                .iter()
                .map(|(_, h, t)| handler::run(&**rt, h, t, left)),
        )
        .await;
        for ((name, _, _), r) in hooks.iter().zip(results) {
            if let Err(e) = r {
                let obj = self.object_of(name);
                self.event(
                    EventType::Warning,
                    "FailedPreStopHook",
                    &obj,
                    format!("PreStopHook failed: {e}"),
                );
            }
        }
    }

    /// Runs the container's preStop hook within `grace`; returns the grace left for the stop signal.
    pub(super) async fn pre_stop(
        &mut self,
        rt: &Runtime,
        inst: &ObservedContainer,
        grace: Duration,
    ) -> Duration {
        let observed = self.last_observed.clone();
        let Some((c, target)) = self.hook_target(rt, inst, &observed) else {
            return grace;
        };
        let Some(h) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) else {
            return grace;
        };
        let started = tokio::time::Instant::now();
        let result = match handler::hook_handler(h, &c) {
            Ok(h) => handler::run(&**rt, &h, &target, grace).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let obj = self.object_of(&c.name);
            self.event(
                EventType::Warning,
                "FailedPreStopHook",
                &obj,
                format!("PreStopHook failed: {e}"),
            );
        }
        grace.saturating_sub(started.elapsed()).max(MIN_GRACE)
    }

    /// Runs the postStart hook; if it fails the container is killed (`FailedPostStartHook`).
    pub(super) async fn post_start(
        &mut self,
        rt: &Runtime,
        c: &Container,
        id: &str,
        sandbox: &ObservedContainer,
        object: &str,
    ) {
        let Some(h) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) else {
            return;
        };
        let host_network = self
            .desired
            .as_ref()
            .and_then(|d| d.pod.spec.as_ref())
            .and_then(|s| s.host_network)
            == Some(true);
        let target = self.probe_target(rt, id, sandbox, host_network);
        let result = match handler::hook_handler(h, c) {
            Ok(h) => handler::run(&**rt, &h, &target, self.grace()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            self.event(
                EventType::Warning,
                "FailedPostStartHook",
                object,
                format!("PostStartHook failed: {e}"),
            );
            self.event(
                EventType::Normal,
                "Killing",
                object,
                "FailedPostStartHook".into(),
            );
            let _ = rt.stop(id, self.grace()).await;
        }
    }
}
