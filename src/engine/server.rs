//! The engine's snapshot served as JSON over a unix socket in the state dir (`engine.sock`): the counterpart of
//! a kubelet's `/pods` endpoint. A client connects, writes `snapshot\n`, and reads one JSON document; or writes
//! `stats\n` and reads the sampler's [`StatsView`] (asking for it is an interest in every pod, so the next
//! figures are fresh).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::snapshot::Snapshot;
use super::stats::{Interest, StatsView};

/// What the socket serves.
#[derive(Clone)]
pub struct Served {
    /// The snapshot.
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    /// Resource use.
    pub stats: watch::Receiver<Arc<StatsView>>,
    /// Where a `stats` request registers its interest.
    pub interest: tokio::sync::mpsc::UnboundedSender<Interest>,
}

/// The socket's path in a state dir.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(crate::state_dir::SOCKET)
}

/// Serves `snapshot` on `path` until `cancel`. The caller holds the state dir's lock, so a leftover socket file
/// is stale and removed. The socket is 0600 (connecting needs write permission on it): it is made in the
/// 0700 state dir and restricted right after `bind`, before anyone is accepted.
pub fn serve(path: PathBuf, served: Served, cancel: CancellationToken) -> std::io::Result<()> {
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    if let Err(e) = crate::state_dir::make_private(&path) {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                conn = listener.accept() => {
                    let Ok((stream, _)) = conn else { continue };
                    let served = served.clone();
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, served)).await;
                    });
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    });
    Ok(())
}

async fn answer(stream: UnixStream, served: Served) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    match line.trim() {
        "snapshot" => {
            let snap = served.snapshot.borrow().clone();
            let body = serde_json::to_vec(&*snap).map_err(std::io::Error::other)?;
            write.write_all(&body).await?;
        }
        "stats" => {
            let _ = served.interest.send(Interest {
                client: "socket".into(),
                pods: None,
                sandboxes: false,
            });
            let view = served.stats.borrow().clone();
            let body = serde_json::to_vec(&*view).map_err(std::io::Error::other)?;
            write.write_all(&body).await?;
        }
        other => {
            let msg = serde_json::json!({ "error": format!("unknown request {other:?}; send \"snapshot\" or \"stats\"") });
            write.write_all(msg.to_string().as_bytes()).await?;
        }
    }
    write.shutdown().await
}

/// Reads the snapshot of the engine running on `state_dir`, if one answers.
pub async fn fetch_snapshot(state_dir: &Path) -> Option<Snapshot> {
    fetch(state_dir, b"snapshot\n").await
}

/// Reads the resource use the engine running on `state_dir` has sampled, if one answers.
pub async fn fetch_stats(state_dir: &Path) -> Option<StatsView> {
    fetch(state_dir, b"stats\n").await
}

async fn fetch<T: serde::de::DeserializeOwned>(state_dir: &Path, ask: &[u8]) -> Option<T> {
    let path = socket_path(state_dir);
    let fut = async {
        let mut stream = UnixStream::connect(&path).await.ok()?;
        stream.write_all(ask).await.ok()?;
        let mut buf = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut buf)
            .await
            .ok()?;
        serde_json::from_slice(&buf).ok()
    };
    tokio::time::timeout(Duration::from_secs(5), fut)
        .await
        .ok()
        .flatten()
}
