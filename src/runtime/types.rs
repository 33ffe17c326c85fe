//! podtui's own words for what it asks of a container engine and what the engine says back: create bodies,
//! container summaries, events, log and exec streams, pull progress and stats samples. Nothing here names
//! bollard or Docker's API types; `runtime::docker` translates.

use std::collections::HashMap;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use jiff::Timestamp;

use super::RtResult;

/// A boxed stream of runtime results.
pub type RtStream<T> = Pin<Box<dyn Stream<Item = RtResult<T>> + Send>>;

/// What a mount brings into a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountSource {
    /// A named volume. `no_copy`: the image's files at the target are not copied in (emptyDir starts empty);
    /// `subpath`: only this path inside the volume, resolved by the engine itself (Docker API 1.45+).
    Volume {
        /// The volume's name.
        name: String,
        /// Do not copy the image's files into a new volume.
        no_copy: bool,
        /// A path inside the volume, resolved safely by the engine.
        subpath: Option<String>,
    },
    /// A host path (a directory or a file).
    Bind {
        /// The host path.
        path: String,
    },
}

/// One mount of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountSpec {
    /// Where it comes from.
    pub source: MountSource,
    /// Path in the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A published port: container `port/protocol` bound on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortBinding {
    /// The container side, `80/tcp`.
    pub container: String,
    /// Host address.
    pub host_ip: String,
    /// Host port.
    pub host_port: u16,
}

/// Resource limits of a container (`None`: unlimited / the engine's default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Memory limit, bytes (memory+swap is the same: no swap).
    pub memory: Option<i64>,
    /// CFS quota, microseconds per [`Resources::cpu_period`].
    pub cpu_quota: Option<i64>,
    /// CFS period, microseconds.
    pub cpu_period: Option<i64>,
    /// CPU shares (relative weight).
    pub cpu_shares: Option<i64>,
}

/// Privileges of a container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Privileges {
    /// Privileged mode.
    pub privileged: bool,
    /// Read-only root filesystem.
    pub read_only_root: bool,
    /// Capabilities added.
    pub cap_add: Vec<String>,
    /// Capabilities dropped.
    pub cap_drop: Vec<String>,
    /// `--security-opt` values (seccomp, no-new-privileges).
    pub security_opt: Vec<String>,
    /// Supplementary groups.
    pub group_add: Vec<String>,
}

/// DNS settings of a sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dns {
    /// Name servers (`None`: the engine's default).
    pub servers: Option<Vec<String>>,
    /// Search domains.
    pub search: Option<Vec<String>>,
    /// resolv.conf options.
    pub options: Option<Vec<String>>,
}

/// Everything podtui sets when it creates a container: its create body, in podtui's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerConfig {
    /// Image reference.
    pub image: String,
    /// Overrides the image's entrypoint (Kubernetes `command`).
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's command (Kubernetes `args`).
    pub cmd: Option<Vec<String>>,
    /// `NAME=value` pairs.
    pub env: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// `uid[:gid]`.
    pub user: Option<String>,
    /// Hostname (sandboxes only: joined containers share the sandbox's).
    pub hostname: Option<String>,
    /// Labels.
    pub labels: HashMap<String, String>,
    /// Allocate a TTY.
    pub tty: bool,
    /// Keep stdin open.
    pub stdin: bool,
    /// Close stdin after the first attach ends.
    pub stdin_once: bool,
    /// The stop signal (`SIGTERM` by default).
    pub stop_signal: Option<String>,
    /// `bridge`, `host`, `none` or `container:<id>`.
    pub network_mode: String,
    /// `shareable`, `host` or `container:<id>`.
    pub ipc_mode: Option<String>,
    /// `host` or `container:<id>`.
    pub pid_mode: Option<String>,
    /// Ports published on the host (sandboxes only).
    pub ports: Vec<PortBinding>,
    /// Ports exposed (`80/tcp`), with or without a binding.
    pub exposed_ports: Vec<String>,
    /// DNS (sandboxes only).
    pub dns: Dns,
    /// `/etc/hosts` entries, `name:ip` (sandboxes only).
    pub extra_hosts: Vec<String>,
    /// Namespaced sysctls.
    pub sysctls: HashMap<String, String>,
    /// Mounts.
    pub mounts: Vec<MountSpec>,
    /// Resource limits.
    pub resources: Resources,
    /// Privileges.
    pub privileges: Privileges,
    /// Disable the image's HEALTHCHECK (podtui runs the probes).
    pub no_healthcheck: bool,
    /// Rotate the container's log as the kubelet does (10 MiB × 5 files).
    pub rotate_logs: bool,
}

/// A container as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSummary {
    /// ID.
    pub id: String,
    /// The engine's state word (`running`, `exited`, …): a change means the container must be looked at again.
    pub state: String,
    /// Labels.
    pub labels: HashMap<String, String>,
}

/// What happened to a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventAction {
    /// Created.
    Create,
    /// Started.
    Start,
    /// Its process exited.
    Die {
        /// The exit code, when the engine says it.
        exit_code: Option<i64>,
    },
    /// Killed by the OOM killer.
    Oom,
    /// Removed (Docker: `destroy`, podman: `remove`).
    Destroy,
    /// Anything else (`kill`, `stop`, `exec_*`, podman's `init`/`cleanup`), by the engine's word.
    Other(String),
}

/// A container event from the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeEvent {
    /// The container.
    pub container_id: String,
    /// What happened.
    pub action: EventAction,
    /// The container's labels.
    pub labels: HashMap<String, String>,
}

/// Which output a log or exec chunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A TTY (both streams, as the terminal shows them).
    Console,
}

/// A chunk of output. Chunks are not lines: a line may span chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChunk {
    /// Which stream.
    pub kind: OutputKind,
    /// The bytes.
    pub bytes: Bytes,
}

/// What part of a container's log to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep streaming until the container stops.
    pub follow: bool,
    /// Prefix each line with an RFC 3339 timestamp and a space.
    pub timestamps: bool,
    /// Only the last N lines (`None`: all).
    pub tail: Option<u64>,
    /// Only lines since this time.
    pub since: Option<Timestamp>,
}

/// A command to run in a running container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecSpec {
    /// The command and its arguments.
    pub cmd: Vec<String>,
    /// Allocate a TTY (output comes as [`OutputKind::Console`]).
    pub tty: bool,
    /// Attach stdin ([`ExecSession::input`] is then set).
    pub stdin: bool,
    /// Extra `NAME=value` environment.
    pub env: Vec<String>,
    /// Initial terminal size (columns, rows), with a TTY.
    pub size: Option<(u16, u16)>,
}

/// Where an exec's stdin goes.
pub type ExecInput = Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// A running exec: its output, its stdin, and its id for [`super::ContainerRuntime::resize_exec`] and
/// [`super::ContainerRuntime::exec_exit_code`].
pub struct ExecSession {
    /// The exec's id.
    pub id: String,
    /// Its output until it ends.
    pub output: RtStream<LogChunk>,
    /// Its stdin, when attached.
    pub input: Option<ExecInput>,
}

/// How a command run to completion ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOutcome {
    /// Exit code (`-1` when the engine did not say).
    pub exit_code: i64,
    /// stdout and stderr interleaved, at most the cap asked for, trimmed.
    pub output: String,
}

/// Progress of an image pull.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullEvent {
    /// The layer, when the message is about one.
    pub layer: Option<String>,
    /// The engine's status line.
    pub status: String,
    /// Bytes done of this layer.
    pub current: u64,
    /// Bytes in this layer.
    pub total: u64,
    /// The pull failed: why.
    pub error: Option<String>,
}

/// One sample of a running container's resource use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsSample {
    /// When the engine read it.
    pub time: Option<Timestamp>,
    /// Total CPU time used, nanoseconds.
    pub cpu_total_ns: u64,
    /// The host's CPU time, nanoseconds (for the share of the machine).
    pub system_cpu_ns: u64,
    /// CPUs online.
    pub online_cpus: u32,
    /// Memory in use, bytes (includes the page cache).
    pub memory_usage: u64,
    /// Inactive file pages, bytes (the working set is usage minus these, as the kubelet computes it).
    pub memory_inactive_file: u64,
    /// The memory limit the engine enforces, bytes.
    pub memory_limit: u64,
    /// Bytes received over every interface.
    pub rx_bytes: u64,
    /// Bytes sent over every interface.
    pub tx_bytes: u64,
}
/// Which engine serves the Docker Engine API podtui talks to.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub enum EngineKind {
    /// dockerd.
    #[default]
    Docker,
    /// podman's Docker-compatible service (`podman system service`).
    Podman,
}

impl EngineKind {
    /// The engine's name as its users write it (`Docker`, `podman`).
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "Docker",
            EngineKind::Podman => "podman",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the engine said about itself at connection time.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EngineInfo {
    /// `DOCKER_HOST`, or the local socket.
    pub endpoint: String,
    /// Which engine answers (from its version answer's components).
    #[serde(default)]
    pub kind: EngineKind,
    /// Engine version (`20.10.24`; podman's own version on podman, `4.3.1`).
    pub version: String,
    /// Negotiated API version (`1.41`).
    pub api_version: String,
    /// CPUs of the engine's host.
    pub cpus: i64,
    /// Memory of the engine's host, bytes.
    pub memory: i64,
    /// The docker0 bridge gateway (the host as seen from containers), if known.
    pub host_ip: Option<String>,
}

impl EngineInfo {
    /// The engine and its version, as the header and `podtui run` show it: `Docker 20.10.24`, `podman 4.3.1`.
    pub fn engine(&self) -> String {
        if self.version.is_empty() {
            self.kind.name().to_string()
        } else {
            format!("{} {}", self.kind, self.version)
        }
    }

    /// The engine as a Kubernetes node's `containerRuntimeVersion` names it: `docker://20.10.24`,
    /// `podman://4.3.1`.
    pub fn runtime_version(&self) -> String {
        let scheme = self.kind.name().to_ascii_lowercase();
        format!("{scheme}://{}", self.version)
    }

    /// Whether podman serves the API.
    pub fn is_podman(&self) -> bool {
        self.kind == EngineKind::Podman
    }

    /// Whether the negotiated API version is at least `major.minor`.
    pub fn api_at_least(&self, major: u32, minor: u32) -> bool {
        let mut parts = self
            .api_version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let v = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        v >= (major, minor)
    }
}
