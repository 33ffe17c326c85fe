//! The reconcile engine: makes Docker match the manifests, as a kubelet does with static pods.
//!
//! [`Engine::start`] returns an [`EngineHandle`]: commands go in over a channel, a read-only [`Snapshot`] comes
//! out on a watch channel, and events on a broadcast channel. Inside, a supervisor task owns the set of pod
//! workers (one per pod UID, see [`worker`]), routes Docker's events to them, starts and stops them as the
//! desired state changes, and assembles the snapshot from their reports. The TUI and `podtui run` sit on this
//! handle alike.

pub mod backoff;
pub mod clock;
mod connection;
pub mod create;
pub mod events;
pub mod handler;
pub mod lease;
pub mod lock;
pub mod plan;
pub mod pod_view;
pub mod ports;
pub mod prober;
pub mod request;
pub mod security;
pub mod server;
pub mod snapshot;
pub mod stats;
pub mod status;
pub mod termination_log;
pub mod worker;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::manifest::{DesiredState, SourcesConfig, spawn_sources};
use crate::runtime::labels;
use crate::runtime::observe::{OwnedPod, list_pod_uids};
use crate::runtime::{EventAction, Runtime, RuntimeEvent};
use events::PodEvent;
use lock::EngineLock;
use ports::OpenPortWarnings;
pub use request::{Reply, Request};
pub use snapshot::{DockerState, PodView, Snapshot};
use worker::{OrphanIdentity, PodWorker, WorkerMsg, WorkerReport, WorkerSettings};

/// How often the engine compares Docker with the manifests in full, and each pod worker looks at its pod, on
/// top of Docker's events.
pub const RESYNC: Duration = Duration::from_secs(30);

/// How long the scan's listing of a pod's containers stands in for the pod's own first list (adoption makes one
/// list for every pod, not one per pod); an older listing could miss a container created since.
const LISTING_FRESH: Duration = Duration::from_secs(1);

/// Everything the engine needs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The state dir (lock, socket).
    pub state_dir: PathBuf,
    /// Manifest sources.
    pub sources: SourcesConfig,
    /// Worker settings (node name, ports, back-off, pause image).
    pub settings: WorkerSettings,
    /// Serve the snapshot on `<state dir>/engine.sock`.
    pub serve_socket: bool,
}

/// Errors starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The state dir cannot be created or made private.
    #[error(transparent)]
    StateDir(#[from] crate::state_dir::StateDirError),
    /// Another engine holds the state dir.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// The manifest sources could not start.
    #[error(transparent)]
    Source(#[from] crate::manifest::source::SourceError),
    /// The socket could not be served.
    #[error("cannot serve the engine socket {path}: {source}")]
    Socket {
        /// Socket path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What the engine's loop receives from its handle.
enum Inbox {
    /// A user's request, and where to answer.
    Request(Request, oneshot::Sender<Reply>),
    /// Stop the engine. With `cleanup`, every pod is terminated first (with its grace period).
    Shutdown {
        /// Terminate the pods first.
        cleanup: bool,
        /// Answered when the engine has stopped.
        done: oneshot::Sender<()>,
    },
}

/// Sends [`Request`]s to the engine; cheap to clone, for tasks that outlive a borrow of the handle.
#[derive(Clone)]
pub struct Requests {
    tx: mpsc::Sender<Inbox>,
}

impl Requests {
    /// Asks the engine and waits for its answer ([`Reply::EngineStopped`] once it has stopped).
    pub async fn send(&self, req: Request) -> Reply {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Inbox::Request(req, tx)).await.is_err() {
            return Reply::EngineStopped;
        }
        rx.await.unwrap_or(Reply::EngineStopped)
    }
}

/// Something that happened, for event lines (`podtui run`) and the TUI's log.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EngineEvent {
    /// When.
    pub time: Timestamp,
    /// `namespace/name`, for pod events.
    pub pod: Option<String>,
    /// The event.
    #[serde(flatten)]
    pub event: PodEvent,
}

/// The engine as its users see it.
pub struct EngineHandle {
    requests: Requests,
    /// Snapshots out.
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    /// The Docker connection, when there is one (for logs and exec, which stream outside the engine).
    pub runtime: watch::Receiver<Option<Runtime>>,
    /// Live resource use (see [`stats`]); what is sampled every second follows [`Request::WatchStats`].
    pub stats: watch::Receiver<Arc<stats::StatsView>>,
    events: broadcast::Sender<EngineEvent>,
    task: JoinHandle<()>,
    connection: JoinHandle<()>,
    cancel: CancellationToken,
    socket: Option<PathBuf>,
    _lock: EngineLock,
    _termination_guard: Option<termination_log::SizeGuard>,
}

impl EngineHandle {
    /// Asks the engine (see [`Request`]) and waits for its answer.
    pub async fn request(&self, req: Request) -> Reply {
        self.requests.send(req).await
    }

    /// A sender of requests that can be moved into a task.
    pub fn requests(&self) -> Requests {
        self.requests.clone()
    }

    /// A receiver of engine events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// Stops the engine; with `cleanup`, terminates every pod first. Pods are otherwise left running. The
    /// node's lease is released, then the state dir's lock.
    pub async fn shutdown(self, cleanup: bool) {
        let (tx, rx) = oneshot::channel();
        if self
            .requests
            .tx
            .send(Inbox::Shutdown { cleanup, done: tx })
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
        self.cancel.cancel();
        let _ = self.task.await;
        let _ = self.connection.await;
        if let Some(path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The engine.
pub struct Engine;

impl Engine {
    /// Starts the engine: makes the state dir private, takes its lock, starts the manifest sources, the Docker
    /// connection (which takes the node's lease before anything touches a container) and the supervisor. Must
    /// be called inside a tokio runtime.
    pub fn start(config: EngineConfig) -> Result<EngineHandle, EngineError> {
        crate::state_dir::prepare(&config.state_dir)?;
        let lock = EngineLock::acquire(&config.state_dir, &config.settings.node)?;
        // Containers write their termination messages while they run: cut any file past the limit at once.
        let _termination_guard = config.settings.termination_dir.as_deref().and_then(|dir| {
            termination_log::SizeGuard::start(dir)
                .inspect_err(|e| tracing::warn!("cannot guard {}: {e}", dir.display()))
                .ok()
        });
        if let Some(dir) = &config.settings.subpath_dir {
            crate::runtime::subpath::SubpathPins::new(dir.clone()).cleanup_stale();
        }
        let lease = lease::NodeLease::new(&lock, &config.settings.node);
        let cancel = CancellationToken::new();
        let desired = spawn_sources(config.sources.clone(), cancel.clone())?;
        let endpoint = crate::runtime::docker::endpoint();
        let source = crate::manifest::source::describe(&config.sources);
        let (snapshot_tx, snapshot_rx) = watch::channel(Arc::new(Snapshot::empty(
            &config.settings.node,
            &source,
            &endpoint,
        )));
        let (runtime_tx, runtime_rx) = watch::channel(None);
        let (state_tx, state_rx) = watch::channel(DockerState::Connecting { endpoint });
        let (docker_events_tx, docker_events_rx) = mpsc::channel(1024);
        let own_pause = config.settings.pause == worker::PauseImage::Own;
        let connection = tokio::spawn(connection::run(connection::Connection {
            node: config.settings.node.clone(),
            own_pause,
            lease,
            runtime_tx,
            state_tx,
            events_tx: docker_events_tx,
            cancel: cancel.clone(),
        }));
        let (stats_interest, stats_rx) =
            stats::spawn(snapshot_rx.clone(), runtime_rx.clone(), cancel.clone());
        let mut socket = None;
        if config.serve_socket {
            let path = server::socket_path(&config.state_dir);
            socket = Some(path.clone());
            let served = server::Served {
                snapshot: snapshot_rx.clone(),
                stats: stats_rx.clone(),
                interest: stats_interest.clone(),
            };
            server::serve(path.clone(), served, cancel.clone()).map_err(|source| {
                EngineError::Socket {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        }
        let (inbox_tx, inbox_rx) = mpsc::channel(64);
        let (events_tx, _) = broadcast::channel(1024);
        let (report_tx, report_rx) = mpsc::unbounded_channel();
        let runtime_for_handle = runtime_rx.clone();
        let sup = Supervisor {
            state_dir: config.state_dir.clone(),
            engine: lock.engine_id(),
            settings: Arc::new(config.settings.clone()),
            desired_rx: desired.clone(),
            desired: desired.borrow().clone(),
            runtime_rx,
            state_rx,
            docker_events_rx,
            inbox: inbox_rx,
            report_tx,
            report_rx,
            snapshot_tx,
            events_tx: events_tx.clone(),
            workers: HashMap::new(),
            pods: BTreeMap::new(),
            in_docker: HashMap::new(),
            listed_at: None,
            listings: HashMap::new(),
            others: 0,
            open_ports: OpenPortWarnings::default(),
            scanned: false,
            last_sync: None,
            shutting_down: None,
            dirty: true,
            stats_interest,
        };
        let task = tokio::spawn(sup.run(cancel.clone()));
        Ok(EngineHandle {
            requests: Requests { tx: inbox_tx },
            snapshot: snapshot_rx,
            runtime: runtime_for_handle,
            stats: stats_rx,
            events: events_tx,
            task,
            connection,
            cancel,
            socket,
            _lock: lock,
            _termination_guard,
        })
    }
}

struct WorkerEntry {
    tx: mpsc::UnboundedSender<WorkerMsg>,
    key: String,
    desired: bool,
}

struct Supervisor {
    state_dir: PathBuf,
    /// This engine's id (its state dir's): pods it may remove carry it.
    engine: String,
    settings: Arc<WorkerSettings>,
    desired_rx: watch::Receiver<Arc<DesiredState>>,
    desired: Arc<DesiredState>,
    runtime_rx: watch::Receiver<Option<Runtime>>,
    state_rx: watch::Receiver<DockerState>,
    docker_events_rx: mpsc::Receiver<RuntimeEvent>,
    inbox: mpsc::Receiver<Inbox>,
    report_tx: mpsc::UnboundedSender<WorkerReport>,
    report_rx: mpsc::UnboundedReceiver<WorkerReport>,
    snapshot_tx: watch::Sender<Arc<Snapshot>>,
    events_tx: broadcast::Sender<EngineEvent>,
    workers: HashMap<String, WorkerEntry>,
    pods: BTreeMap<String, Arc<PodView>>,
    /// Pods Docker has for this node that this engine created (or that predate engine labels), by UID, as of
    /// the last scan. Pods another engine created are left alone.
    in_docker: HashMap<String, OwnedPod>,
    /// When `in_docker` was listed: a worker spawned within [`LISTING_FRESH`] of it starts from its listing.
    listed_at: Option<std::time::Instant>,
    /// That listing, by pod UID (every pod of the node, whichever engine created it).
    listings: HashMap<String, Vec<crate::runtime::ContainerSummary>>,
    /// Pods of this node another engine created, as of the last scan.
    others: usize,
    /// hostPorts open to the network, warned about once per engine start.
    open_ports: OpenPortWarnings,
    /// A scan of Docker has completed since the engine started.
    scanned: bool,
    last_sync: Option<Timestamp>,
    shutting_down: Option<oneshot::Sender<()>>,
    dirty: bool,
    /// Interests in resource use, to the stats sampler.
    stats_interest: mpsc::UnboundedSender<stats::Interest>,
}

impl Supervisor {
    async fn run(mut self, cancel: CancellationToken) {
        let mut resync = tokio::time::interval(RESYNC);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut publish_at: Option<tokio::time::Instant> = None;
        self.warn_open_ports();
        loop {
            if self.dirty && publish_at.is_none() {
                publish_at = Some(tokio::time::Instant::now() + Duration::from_millis(20));
            }
            let publish = async {
                match publish_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                changed = self.desired_rx.changed() => {
                    if changed.is_err() { break; }
                    self.desired = self.desired_rx.borrow_and_update().clone();
                    self.warn_open_ports();
                    self.reconcile_workers();
                    self.dirty = true;
                }
                changed = self.runtime_rx.changed() => {
                    if changed.is_err() { break; }
                    let connected = self.runtime_rx.borrow_and_update().is_some();
                    if connected {
                        self.scan().await;
                    }
                    self.dirty = true;
                }
                changed = self.state_rx.changed() => {
                    if changed.is_err() { break; }
                    self.state_rx.borrow_and_update();
                    self.dirty = true;
                }
                Some(ev) = self.docker_events_rx.recv() => self.route(ev),
                Some(report) = self.report_rx.recv() => self.on_report(report),
                Some(msg) = self.inbox.recv() => {
                    if self.on_inbox(msg) {
                        break;
                    }
                }
                _ = resync.tick() => {
                    self.scan().await;
                    for w in self.workers.values() {
                        let _ = w.tx.send(WorkerMsg::Wake);
                    }
                }
                _ = publish => {
                    publish_at = None;
                    self.publish();
                }
            }
            if let Some(done) = self.shutting_down.take() {
                if self.workers.is_empty() {
                    self.publish();
                    let _ = done.send(());
                    break;
                }
                self.shutting_down = Some(done);
            }
        }
    }

    /// Lists the pods Docker has for this node; then starts and stops workers.
    async fn scan(&mut self) {
        let rt = self.runtime_rx.borrow().clone();
        let Some(rt) = rt else { return };
        match list_pod_uids(&*rt, &self.settings.node).await {
            Ok(found) => {
                self.listings = found
                    .iter()
                    .map(|(uid, p)| (uid.clone(), p.listed.clone()))
                    .collect();
                let (mine, others): (HashMap<_, _>, HashMap<_, _>) = found
                    .into_iter()
                    .partition(|(_, p)| p.created_by(&self.engine));
                if others.len() != self.others {
                    self.others = others.len();
                    tracing::info!(node = %self.settings.node, "{} pod(s) of this node were created by another podtui engine (another state dir): leaving them alone", others.len());
                }
                self.in_docker = mine;
                self.listed_at = Some(std::time::Instant::now());
                self.scanned = true;
                self.last_sync = Some(Timestamp::now());
                self.reconcile_workers();
                self.dirty = true;
            }
            Err(e) => tracing::warn!("listing podtui's containers failed: {e}"),
        }
    }

    fn spawn(
        &mut self,
        uid: String,
        desired: Option<Arc<crate::manifest::DesiredPod>>,
        orphan: Option<OrphanIdentity>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let key = match (&desired, &orphan) {
            (Some(d), _) => d.key(),
            (None, Some(o)) => format!("{}/{}", o.namespace, o.name),
            _ => uid.clone(),
        };
        let mut w = PodWorker::new(
            uid.clone(),
            desired.clone(),
            orphan,
            self.settings.clone(),
            self.runtime_rx.clone(),
            (tx.clone(), rx),
            self.report_tx.clone(),
        );
        let fresh = self.listed_at.is_some_and(|t| t.elapsed() < LISTING_FRESH);
        if let Some(l) = self.listings.get(&uid).filter(|_| fresh) {
            w = w.with_listing(l.clone());
        }
        tokio::spawn(w.run());
        self.workers.insert(
            uid,
            WorkerEntry {
                tx,
                key,
                desired: desired.is_some(),
            },
        );
    }

    /// Starts workers for desired pods, terminates pods no longer desired, removes orphans.
    fn reconcile_workers(&mut self) {
        // Pods no longer desired terminate (with their grace period).
        for (uid, w) in self.workers.iter_mut() {
            if w.desired && (self.shutting_down.is_some() || !self.desired.pods.contains_key(uid)) {
                w.desired = false;
                let _ = w.tx.send(WorkerMsg::Terminate(None));
            }
        }
        if !self.scanned || self.shutting_down.is_some() {
            return;
        }
        // Pods in Docker that no manifest wants any more, once every source has been read.
        if self.desired.synced {
            let orphans: Vec<(String, OwnedPod)> = self
                .in_docker
                .iter()
                .filter(|(uid, _)| {
                    !self.desired.pods.contains_key(*uid) && !self.workers.contains_key(*uid)
                })
                .map(|(u, o)| (u.clone(), o.clone()))
                .collect();
            for (uid, o) in orphans {
                tracing::info!(pod = %format!("{}/{}", o.namespace, o.name), uid, "removing a pod no manifest asks for");
                self.spawn(
                    uid,
                    None,
                    Some(OrphanIdentity {
                        name: o.name,
                        namespace: o.namespace,
                        source: o.source,
                        grace_seconds: o.grace_seconds,
                    }),
                );
            }
        }
        // Desired pods start, unless an older version of the same pod is still there (it terminates first).
        let pending: Vec<Arc<crate::manifest::DesiredPod>> = self
            .desired
            .pods
            .iter()
            .filter(|(uid, _)| !self.workers.contains_key(*uid))
            .map(|(_, p)| p.clone())
            .collect();
        for dp in pending {
            let key = dp.key();
            let predecessor = self
                .workers
                .iter()
                .any(|(u, w)| *u != dp.uid && w.key == key)
                || self
                    .in_docker
                    .iter()
                    .any(|(u, o)| *u != dp.uid && format!("{}/{}", o.namespace, o.name) == key);
            if !predecessor {
                self.spawn(dp.uid.clone(), Some(dp), None);
            }
        }
    }

    fn route(&mut self, ev: RuntimeEvent) {
        let Some(uid) = ev.labels.get(labels::POD_UID) else {
            return;
        };
        if let Some(w) = self.workers.get(uid) {
            let _ = w.tx.send(WorkerMsg::Changed(ev.container_id));
        } else if ev.action == EventAction::Destroy {
            self.in_docker.remove(uid);
        } else if ev.action == EventAction::Create && !self.in_docker.contains_key(uid) {
            // A container of a pod nobody runs (another process, or a leftover): look at it on the next scan.
            tracing::debug!(uid, "container created for an unknown pod");
        }
    }

    fn on_report(&mut self, report: WorkerReport) {
        match report {
            WorkerReport::Status(view) => {
                let view = self.open_ports.decorate(view);
                self.pods.insert(view.uid.clone(), view);
                self.dirty = true;
            }
            WorkerReport::Event { pod, event } => {
                let _ = self.events_tx.send(EngineEvent {
                    time: event.last_seen,
                    pod: Some(pod),
                    event,
                });
            }
            WorkerReport::Gone { uid } => {
                self.workers.remove(&uid);
                self.pods.remove(&uid);
                self.in_docker.remove(&uid);
                self.reconcile_workers();
                self.dirty = true;
            }
        }
    }

    /// Handles what the handle sent; returns true when the engine must stop now.
    fn on_inbox(&mut self, msg: Inbox) -> bool {
        match msg {
            Inbox::Request(req, reply) => {
                let _ = reply.send(self.on_request(req));
            }
            Inbox::Shutdown { cleanup, done } => {
                if !cleanup {
                    let _ = done.send(());
                    return true;
                }
                self.shutting_down = Some(done);
                self.reconcile_workers();
                for w in self.workers.values() {
                    let _ = w.tx.send(WorkerMsg::Terminate(None));
                }
            }
        }
        false
    }

    fn on_request(&mut self, req: Request) -> Reply {
        if let Some(reply) = request::write_manifest(&req, &self.settings.node, &self.state_dir) {
            return reply;
        }
        if let Request::WatchStats {
            client,
            pods,
            sandboxes,
        } = req
        {
            let _ = self.stats_interest.send(stats::Interest {
                client,
                pods,
                sandboxes,
            });
            return Reply::Accepted;
        }
        if let Request::TerminatePod { uid, grace_seconds } = &req {
            let grace = Duration::from_secs(u64::from(*grace_seconds));
            return match self.workers.get(uid) {
                Some(w) if w.tx.send(WorkerMsg::Terminate(Some(grace))).is_ok() => Reply::Accepted,
                _ => Reply::UnknownPod,
            };
        }
        if let Request::KillPod { uid } = &req
            && let Some(view) = self.pods.get(uid).filter(|p| p.terminating.is_some())
            && let Some(rt) = self.runtime_rx.borrow().clone()
        {
            // A force-kill (k9s' kill, `kubectl delete --grace-period=0 --force`): the pod's worker is waiting out
            // the grace period in Docker's stop; SIGKILL ends every stop at once and the removal goes on.
            let running: Vec<String> = view
                .observed
                .everything()
                .filter(|i| i.state.is_running())
                .map(|i| i.id.clone())
                .collect();
            tokio::spawn(async move {
                for id in running {
                    let _ = rt.kill(&id, "SIGKILL").await;
                }
            });
            return Reply::Accepted;
        }
        let uid = match &req {
            Request::KillPod { uid } | Request::RestartContainer { uid, .. } => uid.clone(),
            _ => return Reply::Accepted,
        };
        match self.workers.get(&uid) {
            Some(w) if w.tx.send(WorkerMsg::Request(req)).is_ok() => Reply::Accepted,
            _ => Reply::UnknownPod,
        }
    }

    /// Warns once per engine start about each hostPort of a desired pod bound to every interface.
    fn warn_open_ports(&mut self) {
        for e in self
            .open_ports
            .check(&self.desired, self.settings.host_port_address)
        {
            let _ = self.events_tx.send(e);
        }
    }

    fn publish(&mut self) {
        self.dirty = false;
        let desired = &self.desired;
        let mut pods: Vec<Arc<PodView>> = self.pods.values().cloned().collect();
        pods.sort_by(|a, b| {
            a.namespace
                .cmp(&b.namespace)
                .then(a.name.cmp(&b.name))
                .then(a.uid.cmp(&b.uid))
        });
        let prev = self.snapshot_tx.borrow().clone();
        let snap = Snapshot {
            node_name: prev.node_name.clone(),
            source: prev.source.clone(),
            docker: self.state_rx.borrow().clone(),
            pods,
            files: desired.files.clone(),
            synced: desired.synced,
            last_sync: self.last_sync,
            started: prev.started,
            pid: prev.pid,
        };
        if *prev != snap {
            let _ = self.snapshot_tx.send(Arc::new(snap));
        }
    }
}
