//! The create bodies of a pod's containers, the way the kubelet (and cri-dockerd below it) maps a Pod onto a
//! container engine: the pod's volumes ([`volumes`]), the sandbox that owns its namespaces ([`sandbox`]), each
//! init and app container joined to it ([`container`]) and their environment with `$(VAR)` expansion and
//! fieldRefs ([`env`]). Pure functions of the manifest and what the engine reported; the bodies are
//! [`ContainerConfig`]s, podtui's own type, which `runtime` hands to Docker.

pub mod container;
pub mod env;
pub mod sandbox;
pub mod volumes;

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{Pod, PodSpec};

pub use crate::runtime::ContainerConfig;
use crate::runtime::EngineInfo;
pub use container::{ContainerContext, container_body};
pub use env::{RuntimeFacts, container_env};
pub use sandbox::{sandbox_body, sandbox_hostname};
pub use volumes::{
    PodVolume, SANDBOX_VOLUME_DIR, SubPathMount, SubPathSource, VolumeKind, pod_volumes,
    prepare_dirs, sub_path_mounts,
};

/// Everything about the engine a create body depends on.
#[derive(Clone, Debug)]
pub struct NodeContext {
    /// Node name.
    pub node: String,
    /// Address hostPorts bind to when a port gives no hostIP.
    pub host_port_address: IpAddr,
    /// The engine's facts (CPUs and memory for resourceFieldRef, host IP).
    pub engine: EngineInfo,
}

/// Why a container cannot be configured (shown as `CreateContainerConfigError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn spec(pod: &Pod) -> PodSpec {
    pod.spec.clone().unwrap_or_default()
}

fn grace_seconds(spec: &PodSpec) -> i64 {
    spec.termination_grace_period_seconds.unwrap_or(30)
}
