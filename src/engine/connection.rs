//! The Docker connection: connect (and reconnect with back-off when the engine is absent or restarts), take the
//! node's lease ([`super::lease`]), publish the runtime to the workers only while the lease is held, and forward
//! Docker's container events for this node to the supervisor. Without the runtime nothing touches a container,
//! so an engine refused the node (or that lost it) leaves every pod alone and says who holds it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::lease::{CHECK_EVERY, Claim, NodeHeld, NodeLease};
use super::snapshot::DockerState;
use crate::runtime::docker::endpoint;
use crate::runtime::labels;
use crate::runtime::pause::ensure_pause_image;
use crate::runtime::{DockerRuntime, Runtime, RuntimeEvent};

/// Longest wait between connection attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(10);
/// Wait between attempts to take a node's lease that another engine holds.
pub const LEASE_RETRY: Duration = Duration::from_secs(2);
/// How long a clean shutdown waits for the lease's removal.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the connection task needs.
pub(super) struct Connection {
    /// The node name (events are filtered by it).
    pub node: String,
    /// Build podtui's pause image when missing.
    pub own_pause: bool,
    /// The node's lease.
    pub lease: NodeLease,
    /// The runtime, while connected and holding the lease.
    pub runtime_tx: watch::Sender<Option<Runtime>>,
    /// The connection's state.
    pub state_tx: watch::Sender<DockerState>,
    /// Docker's events for this node.
    pub events_tx: mpsc::Sender<RuntimeEvent>,
    /// Shutdown.
    pub cancel: CancellationToken,
}

/// How one connection ended.
enum Ended {
    /// The engine is stopping.
    Cancelled,
    /// Docker is gone or did not answer: retry after the back-off.
    Lost(String),
    /// The event stream hiccupped while Docker still answers: resubscribe at once.
    Resubscribe,
    /// Another engine holds the node.
    Held(Box<NodeHeld>),
}

/// Runs until cancelled; then removes the lease if this engine holds it.
pub(super) async fn run(c: Connection) {
    let mut holding: Option<Runtime> = None;
    c.run_loop(&mut holding).await;
    c.runtime_tx.send_replace(None);
    if let Some(rt) = holding {
        match tokio::time::timeout(RELEASE_TIMEOUT, c.lease.release(&*rt)).await {
            Ok(Ok(())) => tracing::info!(node = %c.node, "released the node's lease"),
            Ok(Err(e)) => tracing::warn!(node = %c.node, "releasing the node's lease failed: {e}"),
            Err(_) => tracing::warn!(node = %c.node, "releasing the node's lease timed out"),
        }
    }
}

impl Connection {
    async fn run_loop(&self, holding: &mut Option<Runtime>) {
        let mut delay = Duration::from_millis(500);
        let mut ever_held = false;
        loop {
            let ended = match DockerRuntime::connect().await {
                Ok(rt) => {
                    delay = Duration::from_millis(500);
                    let rt = match start_concurrency() {
                        Some(n) => rt.limit_starts(n),
                        None => rt.adapt_starts(),
                    };
                    let rt: Runtime = Arc::new(rt.owned_by(&self.lease.holder().engine));
                    self.session(rt, holding, &mut ever_held).await
                }
                Err(e) => Ended::Lost(e.to_string()),
            };
            // Whatever ended the connection, the workers stop using it.
            self.runtime_tx.send_replace(None);
            let wait = match ended {
                Ended::Cancelled => return,
                Ended::Resubscribe => continue,
                Ended::Lost(error) => {
                    let wait = delay;
                    delay = (delay * 2).min(MAX_RETRY);
                    self.state_tx.send_replace(DockerState::Disconnected {
                        endpoint: endpoint(),
                        error,
                        retry_at: Timestamp::now() + wait,
                    });
                    wait
                }
                Ended::Held(held) => {
                    self.state_tx.send_replace(DockerState::NodeHeld {
                        endpoint: endpoint(),
                        held,
                        lost: ever_held,
                        retry_at: Timestamp::now() + LEASE_RETRY,
                    });
                    LEASE_RETRY
                }
            };
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One connection: take the lease, publish the runtime, forward events and check the lease until
    /// something ends it.
    async fn session(
        &self,
        rt: Runtime,
        holding: &mut Option<Runtime>,
        ever_held: &mut bool,
    ) -> Ended {
        match self.lease.acquire(&*rt).await {
            Ok(Claim::Held { .. }) => {}
            Ok(Claim::Refused(held)) => {
                *holding = None;
                tracing::warn!("{held}");
                return Ended::Held(held);
            }
            Err(e) => return Ended::Lost(format!("cannot take the node's lease: {e}")),
        }
        *holding = Some(rt.clone());
        *ever_held = true;
        if self.own_pause
            && let Err(e) = ensure_pause_image(&*rt).await
        {
            tracing::warn!("building the pause image failed: {e}");
        }
        tracing::info!(endpoint = %rt.info().endpoint, version = %rt.info().version, "connected to Docker");
        // Subscribe before publishing, so no event after the workers' first look is missed.
        let mut events = rt.events(&labels::node_filter(&self.node));
        self.state_tx
            .send_replace(DockerState::Connected(rt.info().clone()));
        self.runtime_tx.send_replace(Some(rt.clone()));
        let mut check =
            tokio::time::interval_at(tokio::time::Instant::now() + CHECK_EVERY, CHECK_EVERY);
        let ended = loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return Ended::Cancelled,
                _ = check.tick() => match self.lease.acquire(&*rt).await {
                    Ok(Claim::Held { .. }) => {}
                    Ok(Claim::Refused(held)) => {
                        *holding = None;
                        tracing::warn!("lost the node's lease; leaving every pod alone: {held}");
                        return Ended::Held(held);
                    }
                    // Docker itself failing ends the event stream too.
                    Err(e) => tracing::debug!("checking the node's lease: {e}"),
                },
                ev = events.next() => match ev {
                    Some(Ok(e)) => {
                        if self.events_tx.send(e).await.is_err() {
                            return Ended::Cancelled;
                        }
                    }
                    Some(Err(e)) => break e.to_string(),
                    None => break "the event stream ended".to_string(),
                }
            }
        };
        if rt.ping().await.is_ok() {
            tracing::debug!("Docker event stream ended ({ended}); resubscribing");
            return Ended::Resubscribe;
        }
        tracing::warn!("lost the Docker engine: {ended}");
        Ended::Lost(ended)
    }
}

/// A fixed limit on container creates and starts in flight, from `PODTUI_START_CONCURRENCY`; `None` (the
/// default) lets the window adapt to the engine (`runtime::window`).
fn start_concurrency() -> Option<usize> {
    std::env::var("PODTUI_START_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
}
