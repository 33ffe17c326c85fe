//! The container runtime boundary: what podtui asks of a container engine ([`ContainerRuntime`]), in podtui's
//! own types ([`types`]), and its one implementation, the Docker Engine API through bollard ([`docker`]; podman's
//! Docker-compatible API goes through the same one). Every bollard type stays in this module. Also here:
//! kubelet-compatible names and labels ([`labels`]), reading a pod back from the engine ([`observe`]), the one
//! exec implementation that runs a command to completion ([`exec`]), podtui's own pause image ([`pause`]) and
//! safe subPath mounts ([`subpath`]).

pub mod docker;
mod error;
pub mod exec;
#[cfg(test)]
pub mod fake;
pub mod labels;
pub mod observe;
pub mod pause;
pub mod subpath;
pub mod types;
pub mod window;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use docker::{DockerRuntime, EngineInfo, RtResult, RuntimeError};
pub use types::EngineKind;
pub use types::{
    ContainerConfig, ContainerSummary, EventAction, ExecOutcome, ExecSession, ExecSpec, LogChunk,
    LogOptions, MountSource, MountSpec, OutputKind, PullEvent, RtStream, RuntimeEvent, StatsSample,
};

use observe::ObservedContainer;

/// A connected container engine, shared by the engine's tasks, the TUI and the commands.
pub type Runtime = Arc<dyn ContainerRuntime>;

/// What podtui asks of a container engine. Calls that name an object say which one failed in their error;
/// "already gone" is success for stop, kill and remove.
#[async_trait::async_trait]
pub trait ContainerRuntime: Send + Sync + std::fmt::Debug {
    /// What the engine said about itself when podtui connected.
    fn info(&self) -> &EngineInfo;

    /// Checks the engine answers.
    async fn ping(&self) -> RtResult<()>;

    /// Containers (running or not) whose labels match every `key=value` in `labels`.
    async fn list_containers(&self, labels: &[String]) -> RtResult<Vec<ContainerSummary>>;

    /// One container, read back as podtui sees its pods' containers; `None` when it is not one of podtui's.
    /// A container that does not exist is an error ([`RuntimeError::is_not_found`]).
    async fn inspect(&self, id: &str) -> RtResult<Option<ObservedContainer>>;

    /// Creates a container named `name`; returns its ID.
    async fn create(&self, name: &str, config: ContainerConfig) -> RtResult<String>;

    /// Starts a created container.
    async fn start(&self, id: &str, name: &str) -> RtResult<()>;

    /// Stops a container: its stop signal, then SIGKILL after `grace`.
    async fn stop(&self, id: &str, grace: Duration) -> RtResult<()>;

    /// Sends `signal` to a running container.
    async fn kill(&self, id: &str, signal: &str) -> RtResult<()>;

    /// Removes a container (a running one is killed).
    async fn remove(&self, id: &str) -> RtResult<()>;

    /// Waits until a container has stopped; returns its exit code.
    async fn wait(&self, id: &str) -> RtResult<i64>;

    /// The image's ID if it is present locally.
    async fn image_id(&self, image: &str) -> RtResult<Option<String>>;

    /// The user an image runs as (`Config.User`; "" for the default, root).
    async fn image_user(&self, image: &str) -> RtResult<String>;

    /// Pulls `image` (no tag means `latest`); the stream carries the engine's progress.
    fn pull(&self, image: &str) -> RtStream<PullEvent>;

    /// Imports a root filesystem tarball as image `reference` with one Dockerfile-style `change`.
    async fn import_image(&self, reference: &str, change: &str, tar: Vec<u8>) -> RtResult<()>;

    /// Creates a local volume (an existing one with that name is fine).
    async fn create_volume(
        &self,
        name: &str,
        labels: HashMap<String, String>,
        driver_opts: HashMap<String, String>,
    ) -> RtResult<()>;

    /// Where a volume's data lives on the engine's host.
    async fn volume_mountpoint(&self, name: &str) -> RtResult<String>;

    /// Removes a volume.
    async fn remove_volume(&self, name: &str) -> RtResult<()>;

    /// Volumes whose labels match every `key=value` in `labels`: (name, labels).
    async fn list_volumes(
        &self,
        labels: &[String],
    ) -> RtResult<Vec<(String, HashMap<String, String>)>>;

    /// Extracts a tar archive into `path` inside a (created or running) container.
    async fn upload(&self, id: &str, path: &str, tar: Vec<u8>) -> RtResult<()>;

    /// Container events whose labels match every `key=value` in `labels`, from now on.
    fn events(&self, labels: &[String]) -> RtStream<RuntimeEvent>;

    /// A container's log.
    fn logs(&self, id: &str, opts: LogOptions) -> RtStream<LogChunk>;

    /// Starts `spec` in a running container, attached.
    async fn exec(&self, id: &str, spec: ExecSpec) -> RtResult<ExecSession>;

    /// Resizes an exec's TTY (columns, rows).
    async fn resize_exec(&self, exec_id: &str, size: (u16, u16)) -> RtResult<()>;

    /// The exec's exit code once it has ended; `None` while it runs.
    async fn exec_exit_code(&self, exec_id: &str) -> RtResult<Option<i64>>;

    /// Attaches to the main process of running container `id` (`kubectl attach`): its output from now on until it
    /// exits, and its stdin when `stdin` (the container must have been created with stdin open). The session's id
    /// is the container's.
    async fn attach(&self, id: &str, stdin: bool) -> RtResult<ExecSession>;

    /// Resizes the TTY of container `id`'s main process (columns, rows).
    async fn resize_tty(&self, id: &str, size: (u16, u16)) -> RtResult<()>;

    /// A running container's resource use, about one sample a second until it stops.
    fn stats(&self, id: &str) -> RtStream<StatsSample>;
}
