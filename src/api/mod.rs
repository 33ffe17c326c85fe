//! The Kubernetes API, served by the engine so `kubectl` and k9s work against the playground: discovery, pods
//! (as mirror pods), their events and logs, the node, namespaces, watches, the self-reviews clients gate their
//! views on, and writes (create, delete, exec) that go through the manifest directory. HTTPS on loopback only, with a bearer token; credentials and a
//! kubeconfig live in the state dir.
//!
//! The API reads the engine only through its handle: the snapshot (a `watch` channel), and container logs
//! through [`logs::LogSource`]. It never talks to Docker otherwise and keeps no copy of the engine's state;
//! [`store`] says what it does keep.
//!
//! - [`http`]: TLS, HTTP and the token; [`handlers`]: routing, get, list, logs; [`watch`]; [`authz`].
//! - [`discovery`]: the table of what is served; [`request`]: paths, queries, `Accept`.
//! - [`objects`], [`node`], [`resource`], [`table`], [`select`]: the served objects and how they are printed
//!   and selected.
//! - [`tls`], [`kubeconfig`], [`private`]: credentials and files.
//! - [`write`]: what writes share (the directory, bodies, 422s); [`create`], [`delete`]: POST and DELETE; [`exec`]: exec over WebSocket;
//!   [`patch`], [`strategic`]: PUT and PATCH;
//!   [`openapi`]: the OpenAPI v3 kubectl's validation asks for.

pub mod attach;
pub mod authz;
pub mod create;
pub mod delete;
pub mod discovery;
pub mod ephemeral;
pub mod exec;
pub mod handlers;
pub mod http;
pub mod kubeconfig;
pub mod logs;
pub mod metrics;
pub mod node;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod private;
pub mod request;
pub mod resource;
pub mod select;
pub mod status;
pub mod store;
pub mod strategic;
pub mod table;
pub mod tls;
pub mod watch;
pub mod write;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch as watch_channel;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cli::{ApiMode, EngineArgs};
use crate::config::Common;
use crate::engine::{EngineHandle, Requests, Snapshot};
use crate::runtime::Runtime;
use logs::{LogSource, RuntimeLogs};
use store::Store;

/// Errors starting the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A file of the state dir could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificates could not be made or loaded.
    #[error("TLS certificates: {0}")]
    Certificate(String),
    /// The address is not a loopback address.
    #[error("--api-address {0}: the API serves on a loopback address only (127.0.0.1 or ::1)")]
    NotLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// Where.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Where and for which node the API serves.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The state dir (credentials, kubeconfig, remembered port).
    pub state_dir: PathBuf,
    /// The node name (the kubeconfig's context is `podtui-<node>`).
    pub node: String,
    /// The address; port 0 picks a free port the first time and keeps it while it is free.
    pub address: SocketAddr,
}

/// What the API reads and writes through: the engine's snapshot, logs, and the engine's requests (manifest
/// writes, kills) when writes are served.
#[derive(Clone)]
pub struct ApiSources {
    /// The engine's snapshots.
    pub snapshot: watch_channel::Receiver<Arc<Snapshot>>,
    /// Container logs.
    pub logs: Arc<dyn LogSource>,
    /// The engine's requests; `None` serves reads only.
    pub requests: Option<Requests>,
    /// The engine's runtime connection, for exec.
    pub runtime: Option<watch_channel::Receiver<Option<Runtime>>>,
    /// The engine's resource use, for `metrics.k8s.io`.
    pub stats: Option<watch_channel::Receiver<Arc<crate::engine::stats::StatsView>>>,
}

impl ApiSources {
    /// The sources of a running engine (logs through its Docker connection).
    pub fn from_handle(h: &EngineHandle) -> Self {
        Self {
            snapshot: h.snapshot.clone(),
            logs: Arc::new(RuntimeLogs::new(h.runtime.clone())),
            requests: Some(h.requests()),
            runtime: Some(h.runtime.clone()),
            stats: Some(h.stats.clone()),
        }
    }
}

/// What every request handler shares.
pub struct Api {
    store: Store,
    logs: Arc<dyn LogSource>,
    requests: Option<Requests>,
    runtime: Option<watch_channel::Receiver<Option<Runtime>>>,
    stats: Option<watch_channel::Receiver<Arc<crate::engine::stats::StatsView>>>,
    token: String,
    /// `127.0.0.1:PORT`, for `/api`'s server address.
    address: String,
    cancel: CancellationToken,
}

/// The running API.
pub struct ApiServer {
    /// Where it listens.
    pub address: SocketAddr,
    /// The kubeconfig written for it.
    pub kubeconfig: PathBuf,
    /// The kubeconfig's context.
    pub context: String,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

fn remembered(state_dir: &Path) -> PathBuf {
    tls::api_dir(state_dir).join("address")
}

/// Binds `address`; with port 0, the port remembered from the last start first (if it is still free).
async fn bind(state_dir: &Path, address: SocketAddr) -> Result<TcpListener, ApiError> {
    if !address.ip().is_loopback() {
        return Err(ApiError::NotLoopback(address));
    }
    if address.port() == 0
        && let Some(last) = std::fs::read_to_string(remembered(state_dir))
            .ok()
            .and_then(|s| s.trim().parse::<SocketAddr>().ok())
            .filter(|a| a.ip() == address.ip())
        && let Ok(l) = TcpListener::bind(last).await
    {
        return Ok(l);
    }
    TcpListener::bind(address)
        .await
        .map_err(|source| ApiError::Bind { address, source })
}

impl ApiServer {
    /// Makes or loads the credentials, binds, writes the kubeconfig and serves until [`ApiServer::shutdown`].
    pub async fn start(config: ApiConfig, sources: ApiSources) -> Result<Self, ApiError> {
        let dir = tls::api_dir(&config.state_dir);
        let creds = tls::load_or_create(&dir, &config.node)?;
        let tls_config = tls::server_config(&creds)?;
        let listener = bind(&config.state_dir, config.address).await?;
        let address = listener.local_addr().map_err(|source| ApiError::Bind {
            address: config.address,
            source,
        })?;
        let io = |path: PathBuf| move |source| ApiError::Io { path, source };
        let rem = remembered(&config.state_dir);
        private::write_private(&rem, address.to_string().as_bytes()).map_err(io(rem.clone()))?;
        let server = format!("https://{address}");
        let text = kubeconfig::render(&config.node, &server, &creds.ca_pem, &creds.token);
        let kubeconfig = kubeconfig::path(&config.state_dir);
        private::write_private(&kubeconfig, text.as_bytes()).map_err(io(kubeconfig.clone()))?;
        let cancel = CancellationToken::new();
        let store = Store::spawn(
            sources.snapshot,
            node::HostFacts::read(),
            creds.created,
            cancel.clone(),
        );
        let api = Arc::new(Api {
            store,
            logs: sources.logs,
            requests: sources.requests,
            runtime: sources.runtime,
            stats: sources.stats,
            token: creds.token.clone(),
            address: address.to_string(),
            cancel: cancel.clone(),
        });
        let task = tokio::spawn(http::serve(listener, tls_config, api, cancel.clone()));
        tracing::info!(%address, kubeconfig = %kubeconfig.display(), "serving the Kubernetes API");
        Ok(Self {
            address,
            kubeconfig,
            context: kubeconfig::context_name(&config.node),
            cancel,
            task,
        })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    /// Stops serving: open watches and log streams end, connections close.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Starts the API beside a running engine as the flags say; `None` with `--api off`.
pub async fn serve_engine(
    handle: &EngineHandle,
    common: &Common,
    flags: &EngineArgs,
) -> Option<Result<ApiServer, ApiError>> {
    if flags.api == ApiMode::Off {
        return None;
    }
    let config = ApiConfig {
        state_dir: common.state_dir.clone(),
        node: common.node_name.clone(),
        address: flags.api_address,
    };
    Some(ApiServer::start(config, ApiSources::from_handle(handle)).await)
}

/// What to tell the user about the API: (Normal|Warning, reason, message) lines.
pub fn announce(
    api: &Option<Result<ApiServer, ApiError>>,
) -> Vec<(&'static str, &'static str, String)> {
    match api {
        None => vec![],
        Some(Ok(s)) => vec![
            (
                "Normal",
                "Listening",
                format!("Kubernetes API on {} (kubectl, k9s)", s.url()),
            ),
            (
                "Normal",
                "Kubeconfig",
                format!(
                    "export KUBECONFIG={} (or: podtui kubeconfig --merge, then kubectl --context {})",
                    s.kubeconfig.display(),
                    s.context
                ),
            ),
        ],
        Some(Err(e)) => vec![(
            "Warning",
            "Failed",
            format!("the Kubernetes API is not served: {e}"),
        )],
    }
}

/// One line for the TUI's header.
pub fn header(api: &Option<Result<ApiServer, ApiError>>) -> Option<String> {
    match api {
        None => None,
        Some(Ok(s)) => Some(format!(
            "API {} · KUBECONFIG={}",
            s.url(),
            s.kubeconfig.display()
        )),
        Some(Err(e)) => Some(format!("API not served: {e}")),
    }
}
