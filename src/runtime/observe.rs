//! What Docker has for one pod, read back from labels and `docker inspect`: the sandbox attempts and every
//! container instance, with their states. This is all podtui needs to adopt a pod after a restart.

use std::collections::{BTreeSet, HashMap};

use futures_util::future::join_all;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ContainerRuntime;
use super::error::RtResult;
use super::labels;
use super::types::ContainerSummary;

/// What a Docker container is to its pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The pause container that owns the pod's namespaces.
    Sandbox,
    /// An init container.
    Init,
    /// An app container.
    App,
    /// An ephemeral (debug) container: shown with the pod, never planned, restarted or counted.
    Ephemeral,
}

/// The state of a container instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum InstanceState {
    /// Created, never started.
    Created,
    /// Running since `started_at`.
    Running {
        /// Start time.
        started_at: Option<Timestamp>,
    },
    /// Finished (or failed to start: then `error` says why).
    Exited {
        /// Exit code.
        exit_code: i64,
        /// Start time (absent if it never started).
        started_at: Option<Timestamp>,
        /// Finish time.
        finished_at: Option<Timestamp>,
        /// Killed by the OOM killer.
        oom_killed: bool,
        /// Docker's error (a start failure), if any.
        error: Option<String>,
    },
    /// Paused, restarting, removing: states podtui does not create.
    Other {
        /// Docker's word for it.
        status: String,
    },
}

impl InstanceState {
    /// True while running.
    pub fn is_running(&self) -> bool {
        matches!(self, InstanceState::Running { .. })
    }
}

/// A published port of the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    /// Container port.
    pub container_port: u16,
    /// tcp, udp or sctp.
    pub protocol: String,
    /// Host address it is bound to.
    pub host_ip: String,
    /// Host port.
    pub host_port: String,
}

/// A mount of a container instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountInfo {
    /// `volume`, `bind` or `tmpfs`.
    pub kind: String,
    /// Docker volume name or host path.
    pub source: String,
    /// Path in the container.
    pub destination: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// One Docker container of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedContainer {
    /// Docker ID.
    pub id: String,
    /// Docker name (`k8s_…`).
    pub docker_name: String,
    /// Sandbox, init or app.
    pub role: Role,
    /// Kubernetes container name (`POD` for the sandbox).
    pub name: String,
    /// Restart count (containers) or attempt (sandbox), from the labels.
    pub count: u32,
    /// The sandbox it joined (containers).
    pub sandbox_id: Option<String>,
    /// Image as requested.
    pub image: String,
    /// Image ID.
    pub image_id: String,
    /// State.
    pub state: InstanceState,
    /// When Docker created it.
    pub created: Option<Timestamp>,
    /// `NetworkMode` (`bridge`, `host`, `container:<id>`).
    pub network_mode: String,
    /// `IpcMode` (`shareable`, `container:<id>`, `host`).
    pub ipc_mode: String,
    /// IP address on the bridge network (sandbox).
    pub ip: Option<String>,
    /// Hostname (sandbox).
    pub hostname: String,
    /// Published ports (sandbox).
    pub ports: Vec<PublishedPort>,
    /// Mounts.
    pub mounts: Vec<MountInfo>,
    /// All labels.
    pub labels: HashMap<String, String>,
}

/// Every container of one pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedPod {
    /// Sandboxes, oldest attempt first.
    pub sandboxes: Vec<ObservedContainer>,
    /// Init and app container instances, by name then restart count.
    pub containers: Vec<ObservedContainer>,
    /// Ephemeral (debug) containers, by name: outside [`ObservedPod::all`], so nothing that plans, restarts,
    /// counts or samples the pod's containers sees them; only termination removes them (first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ephemeral: Vec<ObservedContainer>,
}

impl ObservedPod {
    /// The sandbox of the highest attempt.
    pub fn latest_sandbox(&self) -> Option<&ObservedContainer> {
        self.sandboxes.last()
    }

    /// Instances of container `name`, newest (highest restart count) first.
    pub fn instances(&self, name: &str) -> Vec<&ObservedContainer> {
        let mut v: Vec<&ObservedContainer> =
            self.containers.iter().filter(|c| c.name == name).collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(b.created.cmp(&a.created)));
        v
    }

    /// Every instance, sandboxes included (ephemeral containers are not).
    pub fn all(&self) -> impl Iterator<Item = &ObservedContainer> {
        self.sandboxes.iter().chain(self.containers.iter())
    }

    /// Every Docker container of the pod, ephemeral ones too (what removing the pod must remove).
    pub fn everything(&self) -> impl Iterator<Item = &ObservedContainer> {
        self.all().chain(self.ephemeral.iter())
    }

    /// When the pod started, as far as its instances tell: the earliest creation, or the start an earlier
    /// (since removed) sandbox left on a later one ([`super::labels::POD_STARTED`]).
    pub fn started(&self) -> Option<jiff::Timestamp> {
        let carried = self
            .sandboxes
            .iter()
            .filter_map(|s| s.labels.get(super::labels::POD_STARTED)?.parse().ok());
        self.all().filter_map(|i| i.created).chain(carried).min()
    }

    /// Groups instances into a pod view.
    pub fn from_instances(instances: Vec<ObservedContainer>) -> Self {
        let mut pod = ObservedPod::default();
        for i in instances {
            match i.role {
                Role::Sandbox => pod.sandboxes.push(i),
                Role::Ephemeral => pod.ephemeral.push(i),
                Role::Init | Role::App => pod.containers.push(i),
            }
        }
        pod.sandboxes
            .sort_by(|a, b| a.count.cmp(&b.count).then(a.created.cmp(&b.created)));
        pod.containers
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.count.cmp(&b.count)));
        pod.ephemeral
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.created.cmp(&b.created)));
        pod
    }
}

/// Inspect results kept between observations: a container whose listed state has not changed is not inspected
/// again.
#[derive(Debug, Default)]
pub struct InspectCache {
    entries: HashMap<String, (String, ObservedContainer)>,
}

impl InspectCache {
    /// Forgets one container (an event says it changed).
    pub fn invalidate(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Lists and inspects every container of pod `uid` on node `node`.
pub async fn observe_pod(
    rt: &dyn ContainerRuntime,
    node: &str,
    uid: &str,
    cache: &mut InspectCache,
) -> RtResult<ObservedPod> {
    let mut filter = labels::node_filter(node);
    filter.push(format!("{}={uid}", labels::POD_UID));
    let summaries = rt.list_containers(&filter).await?;
    observe_listed(rt, &summaries, cache).await
}

/// What the engine has for a pod, from a listing of its containers already made (the engine's scan of the
/// node, on adoption): only the inspects the cache cannot answer.
pub async fn observe_listed(
    rt: &dyn ContainerRuntime,
    summaries: &[ContainerSummary],
    cache: &mut InspectCache,
) -> RtResult<ObservedPod> {
    // What the cache cannot answer is inspected all at once (one round trip, not one per container).
    let cached = |s: &ContainerSummary| {
        cache
            .entries
            .get(&s.id)
            .filter(|(k, inst)| *k == s.state && !matches!(inst.state, InstanceState::Other { .. }))
            .map(|(_, inst)| inst.clone())
    };
    let known: Vec<Option<ObservedContainer>> = summaries.iter().map(cached).collect();
    let inspected = join_all(
        summaries
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(s, _)| rt.inspect(&s.id)),
    )
    .await;
    let mut inspected = inspected.into_iter();
    let mut instances = Vec::with_capacity(summaries.len());
    let mut seen = Vec::with_capacity(summaries.len());
    for (s, known) in summaries.iter().zip(known) {
        seen.push(s.id.clone());
        if let Some(inst) = known {
            instances.push(inst);
            continue;
        }
        // One inspect was made per container the cache did not answer.
        let Some(result) = inspected.next() else {
            continue;
        };
        match result {
            Ok(Some(inst)) => {
                cache
                    .entries
                    .insert(s.id.clone(), (s.state.clone(), inst.clone()));
                instances.push(inst);
            }
            Ok(None) => {}
            // Removed between the list and the inspect.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    cache.entries.retain(|id, _| seen.contains(id));
    Ok(ObservedPod::from_instances(instances))
}

/// Every pod UID node `node` has containers for, with their source label, grace period and creators.
pub async fn list_pod_uids(
    rt: &dyn ContainerRuntime,
    node: &str,
) -> RtResult<HashMap<String, OwnedPod>> {
    let summaries = rt.list_containers(&labels::node_filter(node)).await?;
    let mut out: HashMap<String, OwnedPod> = HashMap::new();
    for s in summaries {
        let Some(uid) = s.labels.get(labels::POD_UID) else {
            continue;
        };
        let entry = out.entry(uid.clone()).or_default();
        entry.listed.push(s.clone());
        let labels = s.labels;
        entry.name = labels.get(labels::POD_NAME).cloned().unwrap_or_default();
        entry.namespace = labels
            .get(labels::POD_NAMESPACE)
            .cloned()
            .unwrap_or_default();
        entry.source = labels.get(labels::SOURCE).cloned().unwrap_or_default();
        entry.grace_seconds = labels::number(&labels, labels::GRACE_PERIOD).or(entry.grace_seconds);
        entry.containers += 1;
        entry
            .engines
            .insert(labels.get(labels::ENGINE).cloned().unwrap_or_default());
    }
    Ok(out)
}

/// A pod podtui finds in Docker, from its labels.
#[derive(Clone, Debug, Default)]
pub struct OwnedPod {
    /// Pod name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Manifest source label.
    pub source: String,
    /// Grace period label.
    pub grace_seconds: Option<u32>,
    /// Number of containers.
    pub containers: usize,
    /// The engines that created its containers ([`labels::ENGINE`]; `""` for a container without the label).
    pub engines: BTreeSet<String>,
    /// Its containers as the listing showed them (a worker adopting the pod starts from them).
    pub listed: Vec<ContainerSummary>,
}

impl OwnedPod {
    /// True when engine `engine` created every container of the pod, or a container predates the engine label
    /// (podtui before it had one: then the engine holding the node owns it). Only such pods may be removed by
    /// that engine when no manifest asks for them.
    pub fn created_by(&self, engine: &str) -> bool {
        self.engines.iter().all(|e| e.is_empty() || e == engine)
    }

    /// True when every container of the pod carries engine `engine`'s label.
    pub fn labelled_by(&self, engine: &str) -> bool {
        self.engines.iter().all(|e| e == engine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_is_an_engines_when_it_created_every_container() {
        let pod = |engines: &[&str]| OwnedPod {
            engines: engines.iter().map(|e| e.to_string()).collect(),
            ..Default::default()
        };
        assert!(pod(&["e1"]).created_by("e1") && pod(&["e1"]).labelled_by("e1"));
        assert!(!pod(&["e1", "e2"]).created_by("e1"));
        assert!(!pod(&["e2"]).created_by("e1"));
        // Older than engine labels: the node holder's, but not labelled by anyone.
        assert!(pod(&["", "e1"]).created_by("e1"));
        assert!(!pod(&["", "e1"]).labelled_by("e1"));
    }
}
