//! The container runtime: the Docker engine through bollard, kubelet-compatible names and labels, and
//! podtui's locally built pause image.

pub mod docker;
pub mod labels;
pub mod observe;
pub mod pause;
pub mod subpath;

pub use docker::{DockerRuntime, EngineInfo, RtResult, RuntimeError};
