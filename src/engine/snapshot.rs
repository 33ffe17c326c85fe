//! What the engine publishes: a read-only snapshot of every pod (status, containers, events), every manifest
//! file, and the Docker connection. The TUI, `get` and the unix socket all read this, never the engine's state.

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};

use super::events::PodEvent;
use super::lease::NodeHeld;
use super::status::Columns;
use crate::manifest::FileStatus;
use crate::runtime::EngineInfo;
use crate::runtime::observe::ObservedPod;

/// The engine's view of the Docker engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum DockerState {
    /// First connection attempt in progress.
    Connecting {
        /// Where.
        endpoint: String,
    },
    /// Connected.
    Connected(EngineInfo),
    /// Not reachable; the next attempt is at `retry_at`.
    Disconnected {
        /// Where.
        endpoint: String,
        /// Why the last attempt failed.
        error: String,
        /// When the next attempt is.
        retry_at: Timestamp,
    },
    /// Reachable, but another engine holds the node's lease: this engine touches no container until it can take
    /// the lease (checked again at `retry_at`).
    NodeHeld {
        /// Where.
        endpoint: String,
        /// Who holds the node.
        held: Box<NodeHeld>,
        /// This engine held the lease earlier and lost it (on a reconnect or a check).
        lost: bool,
        /// When the next attempt is.
        retry_at: Timestamp,
    },
}

impl DockerState {
    /// True when connected (and holding the node's lease).
    pub fn is_connected(&self) -> bool {
        matches!(self, DockerState::Connected(_))
    }
}

/// An image pull in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgress {
    /// The image.
    pub image: String,
    /// Bytes done over all layers.
    pub current: u64,
    /// Bytes in all layers known so far.
    pub total: u64,
    /// Docker's latest status line.
    pub status: String,
}

/// One volume of a pod and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeView {
    /// Name in the manifest.
    pub name: String,
    /// `emptyDir`, `emptyDir (Memory)`, `hostPath`, `downwardAPI`.
    pub kind: String,
    /// Docker volume name or host path.
    pub source: String,
    /// Who mounts it: (container, mount path, read-only).
    pub mounts: Vec<(String, String, bool)>,
}

/// Everything about one pod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PodView {
    /// UID.
    pub uid: String,
    /// Full name (`<name>-<node>`).
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// The manifest file or URL.
    pub source: String,
    /// Line of the pod's document in the file.
    pub line: Option<usize>,
    /// Still desired (false: being removed, e.g. its manifest was deleted).
    pub desired: bool,
    /// The pod as podtui sees it: spec as applied (defaulted) and the status podtui computed.
    pub pod: Pod,
    /// kubectl's READY / STATUS / RESTARTS.
    pub columns: Columns,
    /// The manifest text as applied.
    pub manifest: Option<Arc<str>>,
    /// While terminating: the deadline after which SIGKILL is sent.
    pub terminating: Option<Timestamp>,
    /// Every Docker container of the pod (sandbox attempts and container instances).
    pub observed: ObservedPod,
    /// Containers waiting out a crash-loop back-off, until when.
    pub backoff: Vec<(String, Timestamp)>,
    /// Image pulls in progress.
    pub pulls: Vec<PullProgress>,
    /// Images in a pull back-off, with when each is pulled again.
    #[serde(default)]
    pub pull_retry: Vec<(String, Timestamp)>,
    /// Events, oldest first.
    pub events: Vec<PodEvent>,
    /// Volumes.
    pub volumes: Vec<VolumeView>,
    /// Probe states of the running containers.
    #[serde(default)]
    pub probes: Vec<super::prober::ProbeView>,
    /// What in the pod can touch the host (privileged, hostPath, host namespaces, added capabilities).
    #[serde(default)]
    pub host_access: Vec<String>,
    /// Containers being stopped because a user asked to restart them (preStop, then the grace period); they
    /// start again once stopped.
    #[serde(default)]
    pub stopping: Vec<String>,
    /// When this engine first saw the pod: with the pod's start, the mirror pod's creation time and
    /// `kubernetes.io/config.seen` (the earlier of the two).
    #[serde(default)]
    pub seen: Option<Timestamp>,
}

impl PodView {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The pod IP, if it has one.
    pub fn ip(&self) -> Option<&str> {
        self.pod.status.as_ref()?.pod_ip.as_deref()
    }

    /// When the pod started (first container created).
    pub fn start_time(&self) -> Option<Timestamp> {
        self.pod.status.as_ref()?.start_time.as_ref().map(|t| t.0)
    }

    /// When the pod was first known: the earlier of its start and when the engine first saw it.
    pub fn first_known(&self) -> Option<Timestamp> {
        self.start_time().into_iter().chain(self.seen).min()
    }

    /// Where the pod comes from, as the TUI and `get -o wide` show it: the file, with `:LINE` (where its
    /// document starts) only when the file defines other pods of `all` too. A lone pod's document may start
    /// after comments, and a line number there would only puzzle. Control characters are escaped.
    pub fn source_label(&self, all: &[Arc<PodView>]) -> String {
        let file = crate::text::escape_controls(&self.source);
        let shared = all
            .iter()
            .any(|o| o.source == self.source && o.uid != self.uid && o.desired);
        match self.line {
            Some(l) if shared => format!("{file}:{l}"),
            _ => file.into_owned(),
        }
    }
}

/// The whole published state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Node name.
    pub node_name: String,
    /// What is watched (path and/or URL).
    pub source: String,
    /// Docker connection.
    pub docker: DockerState,
    /// Pods, sorted by namespace and name.
    pub pods: Vec<Arc<PodView>>,
    /// Manifest files.
    pub files: Vec<FileStatus>,
    /// Every source has been read once.
    pub synced: bool,
    /// Last time the engine compared Docker with the manifests in full.
    pub last_sync: Option<Timestamp>,
    /// When the engine started.
    pub started: Timestamp,
    /// The engine's process.
    pub pid: u32,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn empty(node_name: &str, source: &str, endpoint: &str) -> Self {
        Self {
            node_name: node_name.into(),
            source: source.into(),
            docker: DockerState::Connecting {
                endpoint: endpoint.into(),
            },
            pods: Vec::new(),
            files: Vec::new(),
            synced: false,
            last_sync: None,
            started: Timestamp::now(),
            pid: std::process::id(),
        }
    }

    /// Pod counts by STATUS column, most common first.
    pub fn counts(&self) -> Vec<(String, usize)> {
        let mut m: std::collections::BTreeMap<String, usize> = Default::default();
        for p in &self.pods {
            *m.entry(p.columns.status.clone()).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}
