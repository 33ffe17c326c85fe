//! The Docker connection: connect (and reconnect with back-off when the engine is absent or restarts), publish
//! the runtime to the workers, and forward Docker's container events for this node to the supervisor.

use std::time::Duration;

use bollard::models::EventMessage;
use futures_util::StreamExt;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::snapshot::DockerState;
use crate::runtime::DockerRuntime;
use crate::runtime::docker::{DEFAULT_START_CONCURRENCY, endpoint};
use crate::runtime::labels;
use crate::runtime::pause::ensure_pause_image;

/// Longest wait between connection attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(10);

pub(super) async fn run(
    node: String,
    own_pause: bool,
    runtime_tx: watch::Sender<Option<DockerRuntime>>,
    state_tx: watch::Sender<DockerState>,
    events_tx: mpsc::Sender<EventMessage>,
    cancel: CancellationToken,
) {
    let mut delay = Duration::from_millis(500);
    loop {
        let error = match DockerRuntime::connect().await {
            Ok(rt) => {
                let rt = rt.limit_starts(start_concurrency());
                delay = Duration::from_millis(500);
                if own_pause && let Err(e) = ensure_pause_image(&rt).await {
                    tracing::warn!("building the pause image failed: {e}");
                }
                tracing::info!(endpoint = %rt.info().endpoint, version = %rt.info().version, "connected to Docker");
                // Subscribe before publishing, so no event after the workers' first look is missed.
                let mut events = Box::pin(rt.events(&labels::node_filter(&node)));
                state_tx.send_replace(DockerState::Connected(rt.info().clone()));
                runtime_tx.send_replace(Some(rt.clone()));
                let ended = loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        ev = events.next() => match ev {
                            Some(Ok(e)) => {
                                if events_tx.send(e).await.is_err() {
                                    return;
                                }
                            }
                            Some(Err(e)) => break e.to_string(),
                            None => break "the event stream ended".to_string(),
                        }
                    }
                };
                if rt.ping().await.is_ok() {
                    // A hiccup of the stream only: resubscribe.
                    tracing::debug!("Docker event stream ended ({ended}); resubscribing");
                    runtime_tx.send_replace(None);
                    continue;
                }
                runtime_tx.send_replace(None);
                tracing::warn!("lost the Docker engine: {ended}");
                ended
            }
            Err(e) => e.to_string(),
        };
        state_tx.send_replace(DockerState::Disconnected {
            endpoint: endpoint(),
            error,
            retry_at: Timestamp::now() + delay,
        });
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_RETRY);
    }
}

/// The engine's limit on container creates and starts in flight: `PODTUI_START_CONCURRENCY`, else
/// [`DEFAULT_START_CONCURRENCY`].
fn start_concurrency() -> usize {
    std::env::var("PODTUI_START_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_START_CONCURRENCY)
}
