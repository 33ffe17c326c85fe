//! The playground's one Node: named after podtui's node, Ready while the Docker engine answers, with the
//! host's capacity, its kernel and OS, and the container runtime's version. Host facts are read once at start.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use super::objects::{Stamp, node_uid};
use super::select::Fields;
use crate::engine::snapshot::{DockerState, Snapshot};

/// Pods a node admits (the kubelet's default `--max-pods`).
const MAX_PODS: &str = "110";

/// What the host says about itself.
#[derive(Clone, Debug, Default)]
pub struct HostFacts {
    /// `uname -r`.
    pub kernel: String,
    /// `PRETTY_NAME` of /etc/os-release.
    pub os_image: String,
    /// /etc/machine-id.
    pub machine_id: String,
    /// The kernel's boot id.
    pub boot_id: String,
    /// CPUs this process may use.
    pub cpus: usize,
    /// Memory, bytes.
    pub memory: u64,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

impl HostFacts {
    /// Reads the facts from /proc and /etc.
    pub fn read() -> Self {
        let os_image = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| "Linux".into());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0);
        Self {
            kernel: read("/proc/sys/kernel/osrelease"),
            os_image,
            machine_id: read("/etc/machine-id"),
            boot_id: read("/proc/sys/kernel/random/boot_id"),
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory,
        }
    }
}

/// Go's name for this machine's architecture.
fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// The Ready condition: from Docker's state, last changed at `since`.
fn ready(docker: &DockerState, since: Timestamp) -> NodeCondition {
    let (status, reason, message) = match docker {
        DockerState::Connected(_) => (
            "True",
            "KubeletReady",
            "kubelet is posting ready status".to_string(),
        ),
        DockerState::Connecting { endpoint } => (
            "Unknown",
            "NodeStatusUnknown",
            format!("podtui is connecting to the container runtime at {endpoint}"),
        ),
        DockerState::Disconnected {
            endpoint, error, ..
        } => (
            "False",
            "KubeletNotReady",
            format!("container runtime is down: {endpoint}: {error}"),
        ),
        DockerState::NodeHeld { held, .. } => (
            "False",
            "KubeletNotReady",
            format!("another podtui engine runs this node: {held}"),
        ),
    };
    NodeCondition {
        type_: "Ready".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_heartbeat_time: Some(Time(since)),
        last_transition_time: Some(Time(since)),
    }
}

/// The Node as the snapshot shows it; `docker_since` is when Docker's state last changed.
pub fn node(snap: &Snapshot, host: &HostFacts, docker_since: Timestamp, stamp: Stamp) -> Node {
    let name = snap.node_name.clone();
    let (cpus, memory, runtime, host_ip) = match &snap.docker {
        DockerState::Connected(i) => (
            usize::try_from(i.cpus).unwrap_or(host.cpus),
            u64::try_from(i.memory).unwrap_or(host.memory),
            i.runtime_version(),
            i.host_ip.clone(),
        ),
        _ => (host.cpus, host.memory, String::new(), None),
    };
    let resources = BTreeMap::from([
        ("cpu".to_string(), Quantity(cpus.to_string())),
        (
            "memory".to_string(),
            Quantity(format!("{}Ki", memory / 1024)),
        ),
        ("pods".to_string(), Quantity(MAX_PODS.into())),
    ]);
    let mut addresses = Vec::new();
    if let Some(ip) = host_ip {
        addresses.push(NodeAddress {
            type_: "InternalIP".into(),
            address: ip,
        });
    }
    addresses.push(NodeAddress {
        type_: "Hostname".into(),
        address: name.clone(),
    });
    let labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), arch().to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), arch().to_string()),
    ]);
    Node {
        metadata: ObjectMeta {
            uid: Some(node_uid(&name)),
            name: Some(name),
            labels: Some(labels),
            resource_version: (stamp.rv != 0).then(|| stamp.rv.to_string()),
            creation_timestamp: Some(Time(stamp.created)),
            ..Default::default()
        },
        spec: Some(Default::default()),
        status: Some(NodeStatus {
            addresses: Some(addresses),
            allocatable: Some(resources.clone()),
            capacity: Some(resources),
            conditions: Some(vec![ready(&snap.docker, docker_since)]),
            node_info: Some(NodeSystemInfo {
                architecture: arch().into(),
                boot_id: host.boot_id.clone(),
                container_runtime_version: runtime,
                kernel_version: host.kernel.clone(),
                kube_proxy_version: String::new(),
                kubelet_version: format!("podtui-{}", env!("CARGO_PKG_VERSION")),
                machine_id: host.machine_id.clone(),
                operating_system: "linux".into(),
                os_image: host.os_image.clone(),
                system_uuid: String::new(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

/// Node fields `fieldSelector` accepts.
pub const NODE_FIELDS: &[&str] = &["metadata.name", "spec.unschedulable"];

/// What selectors see of the node.
pub fn node_fields(n: &Node) -> Fields {
    Fields {
        labels: n.metadata.labels.clone().unwrap_or_default(),
        values: vec![
            ("metadata.name", n.metadata.name.clone().unwrap_or_default()),
            ("spec.unschedulable", "false".into()),
        ],
    }
}
