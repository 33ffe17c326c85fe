//! What the sampler publishes: per pod and per container, the latest CPU and memory with their history, limits
//! and requests from the spec, and the pod's network counters from its sandbox.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::HISTORY;

/// A bounded history, oldest first: at most [`HISTORY`] values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ring(VecDeque<u64>);

impl Ring {
    /// Appends `v`, dropping the oldest value when full.
    pub fn push(&mut self, v: u64) {
        if self.0.len() == HISTORY {
            self.0.pop_front();
        }
        self.0.push_back(v);
    }

    /// The values, oldest first.
    pub fn values(&self) -> Vec<u64> {
        self.0.iter().copied().collect()
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing was sampled yet.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One container's use (the sandbox's too: it is named `POD`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerUsage {
    /// Kubernetes container name (`POD` for the sandbox).
    pub name: String,
    /// Docker ID of the instance sampled.
    pub id: String,
    /// The pause container.
    pub sandbox: bool,
    /// CPU over the last interval, millicores.
    pub cpu_millis: u64,
    /// Memory working set (usage − inactive file), bytes.
    pub memory_bytes: u64,
    /// `resources.requests.cpu`, millicores.
    pub cpu_request: Option<u64>,
    /// `resources.limits.cpu`, millicores.
    pub cpu_limit: Option<u64>,
    /// `resources.requests.memory`, bytes.
    pub memory_request: Option<u64>,
    /// `resources.limits.memory`, bytes.
    pub memory_limit: Option<u64>,
    /// CPU history, millicores.
    pub cpu_history: Ring,
    /// Working-set history, bytes.
    pub memory_history: Ring,
    /// When the latest sample was read.
    pub time: Option<Timestamp>,
    /// Sampled continuously (someone looks) rather than at the baseline.
    pub live: bool,
}

impl ContainerUsage {
    /// CPU as a percentage of the limit.
    pub fn cpu_percent_of_limit(&self) -> Option<u64> {
        super::math::percent_of(self.cpu_millis, self.cpu_limit)
    }

    /// Memory as a percentage of the limit.
    pub fn memory_percent_of_limit(&self) -> Option<u64> {
        super::math::percent_of(self.memory_bytes, self.memory_limit)
    }
}

/// One pod's use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodUsage {
    /// UID.
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// App and init containers that ran while sampled, by name.
    pub containers: Vec<ContainerUsage>,
    /// The sandbox (pause) container.
    pub sandbox: Option<ContainerUsage>,
    /// Bytes received by the pod (its sandbox owns the network namespace).
    pub rx_bytes: u64,
    /// Bytes sent by the pod.
    pub tx_bytes: u64,
}

impl PodUsage {
    /// Sum of the app containers' CPU, millicores (kubectl top's figure: the sandbox is not a container).
    pub fn cpu_millis(&self) -> u64 {
        self.containers.iter().map(|c| c.cpu_millis).sum()
    }

    /// Sum of the app containers' working sets, bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.containers.iter().map(|c| c.memory_bytes).sum()
    }

    /// The pod's CPU limit, when every container has one (as k9s computes %CPU/L).
    pub fn cpu_limit(&self) -> Option<u64> {
        sum_all(self.containers.iter().map(|c| c.cpu_limit))
    }

    /// The pod's memory limit, when every container has one.
    pub fn memory_limit(&self) -> Option<u64> {
        sum_all(self.containers.iter().map(|c| c.memory_limit))
    }

    /// The latest sample time of any container.
    pub fn time(&self) -> Option<Timestamp> {
        self.containers
            .iter()
            .chain(self.sandbox.iter())
            .filter_map(|c| c.time)
            .max()
    }
}

fn sum_all(it: impl Iterator<Item = Option<u64>>) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for v in it {
        total += v?;
        any = true;
    }
    any.then_some(total)
}

/// The node's use: every sampled container of this node's pods, sandboxes included.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeUsage {
    /// CPU, millicores.
    pub cpu_millis: u64,
    /// Working set, bytes.
    pub memory_bytes: u64,
    /// The latest sample.
    pub time: Option<Timestamp>,
}

/// Everything the sampler knows, by pod UID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    /// Pods with at least one sample.
    pub pods: BTreeMap<String, PodUsage>,
}

impl StatsView {
    /// The pod with this UID.
    pub fn pod(&self, uid: &str) -> Option<&PodUsage> {
        self.pods.get(uid)
    }

    /// The node's total.
    pub fn node(&self) -> NodeUsage {
        let mut n = NodeUsage::default();
        for p in self.pods.values() {
            for c in p.containers.iter().chain(p.sandbox.iter()) {
                n.cpu_millis += c.cpu_millis;
                n.memory_bytes += c.memory_bytes;
                n.time = n.time.max(c.time);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_last_60() {
        let mut r = Ring::default();
        for i in 0..1000 {
            r.push(i);
        }
        assert_eq!(r.len(), HISTORY);
        assert_eq!(r.values().first(), Some(&940));
        assert_eq!(r.values().last(), Some(&999));
    }

    #[test]
    fn pod_limits_need_every_container_limited() {
        let c = |l: Option<u64>| ContainerUsage {
            cpu_millis: 100,
            cpu_limit: l,
            ..Default::default()
        };
        let mut p = PodUsage {
            containers: vec![c(Some(500)), c(Some(500))],
            ..Default::default()
        };
        assert_eq!(p.cpu_limit(), Some(1000));
        assert_eq!(p.cpu_millis(), 200);
        p.containers.push(c(None));
        assert_eq!(p.cpu_limit(), None);
    }
}
