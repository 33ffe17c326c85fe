//! Finding a pod by name in the engine, from its containers' labels (what `podtui logs` does too): the pod
//! with a running sandbox wins, so a replaced pod of the same name is found as soon as its sandbox runs.

use crate::runtime::ContainerRuntime;
use crate::runtime::observe::{InspectCache, ObservedPod, list_pod_uids, observe_pod};

/// A pod as a user names it: `name` (with or without the `-<node>` suffix) in `namespace` on `node`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRef {
    /// The node name (which engine's pods).
    pub node: String,
    /// The namespace.
    pub namespace: String,
    /// The name as given.
    pub name: String,
}

impl PodRef {
    /// Parses `name` or `namespace/name` (the default namespace is `default`).
    pub fn parse(arg: &str, node: &str) -> PodRef {
        let (namespace, name) = match arg.split_once('/') {
            Some((ns, n)) => (ns.to_string(), n.to_string()),
            None => ("default".to_string(), arg.to_string()),
        };
        PodRef {
            node: node.to_string(),
            namespace,
            name,
        }
    }
}

impl std::fmt::Display for PodRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A pod found: its UID, its full name, its running sandbox and IP, and all its containers.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The pod's UID.
    pub uid: String,
    /// The pod's full (node-suffixed) name.
    pub name: String,
    /// The running sandbox's ID.
    pub sandbox_id: String,
    /// The sandbox's IP on the bridge, if it has one.
    pub ip: Option<String>,
    /// Everything the engine has for the pod.
    pub observed: ObservedPod,
}

/// Finds `pod`: among the pods of that name, the one whose latest sandbox runs. Errors say what is missing.
pub async fn resolve(rt: &dyn ContainerRuntime, pod: &PodRef) -> Result<Resolved, String> {
    let suffixed = format!("{}-{}", pod.name, pod.node);
    let pods = list_pod_uids(rt, &pod.node)
        .await
        .map_err(|e| e.to_string())?;
    let mut matching: Vec<_> = pods
        .into_iter()
        .filter(|(_, p)| p.namespace == pod.namespace && (p.name == pod.name || p.name == suffixed))
        .collect();
    if matching.is_empty() {
        return Err(format!("pod {pod} not found on node {}", pod.node));
    }
    matching.sort_by_key(|(_, p)| std::cmp::Reverse(p.containers));
    for (uid, owned) in matching {
        let observed = observe_pod(rt, &pod.node, &uid, &mut InspectCache::default())
            .await
            .map_err(|e| e.to_string())?;
        let Some(sb) = observed.latest_sandbox().filter(|s| s.state.is_running()) else {
            continue;
        };
        return Ok(Resolved {
            uid,
            name: owned.name,
            sandbox_id: sb.id.clone(),
            ip: sb.ip.clone().filter(|ip| !ip.is_empty()),
            observed,
        });
    }
    Err(format!(
        "pod {pod} has no running sandbox (is it starting or stopped?)"
    ))
}
