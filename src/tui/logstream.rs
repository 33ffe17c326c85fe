//! Streaming one container's log into the log view: Docker's frames are assembled into sanitized lines off the
//! UI's loop and sent in batches (every 50 ms or 2000 lines) over a small bounded channel, so a flood is paced by
//! the UI instead of piling up in memory.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::app::AppEvent;
use super::logbuf::{LineAssembler, StreamKind};
use crate::runtime::{LogOptions, OutputKind, Runtime};

/// Lines per batch at most.
pub const BATCH_LINES: usize = 2000;
/// How long a batch waits for more lines.
pub const BATCH_DELAY: Duration = Duration::from_millis(50);

/// What to stream.
#[derive(Clone, Debug)]
pub struct LogRequest {
    /// Container ID.
    pub id: String,
    /// Generation of the view's stream (results carry it).
    pub generation: u64,
    /// Keep streaming.
    pub follow: bool,
    /// Docker's timestamps.
    pub timestamps: bool,
    /// Lines of history.
    pub tail: u64,
    /// Keep colours.
    pub colors: bool,
}

/// Streams a container's log until the stream ends or the task is aborted.
pub async fn stream(rt: Runtime, req: LogRequest, tx: mpsc::Sender<AppEvent>) {
    let LogRequest {
        id,
        generation,
        follow,
        timestamps,
        tail,
        colors,
    } = req;
    let opts = LogOptions {
        follow,
        timestamps,
        tail: Some(tail),
        since: None,
    };
    let mut logs = rt.logs(&id, opts);
    let mut out = LineAssembler::new(StreamKind::Out, colors);
    let mut err = LineAssembler::new(StreamKind::Err, colors);
    let mut batch = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    let error = loop {
        let flush_at = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            item = logs.next() => match item {
                Some(Ok(chunk)) if chunk.kind == OutputKind::Stderr => batch.extend(err.push(&chunk.bytes)),
                Some(Ok(chunk)) => batch.extend(out.push(&chunk.bytes)),
                Some(Err(e)) => break Some(e.message()),
                None => break None,
            },
            _ = flush_at => {}
        }
        let due = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
        if batch.len() >= BATCH_LINES || (due && !batch.is_empty()) {
            let lines = std::mem::take(&mut batch);
            deadline = None;
            if tx
                .send(AppEvent::LogLines { generation, lines })
                .await
                .is_err()
            {
                return;
            }
        } else if !batch.is_empty() && deadline.is_none() {
            deadline = Some(tokio::time::Instant::now() + BATCH_DELAY);
        } else if batch.is_empty() {
            deadline = None;
        }
    };
    batch.extend(out.finish());
    batch.extend(err.finish());
    if !batch.is_empty() {
        let _ = tx
            .send(AppEvent::LogLines {
                generation,
                lines: batch,
            })
            .await;
    }
    let _ = tx.send(AppEvent::LogEnded { generation, error }).await;
}
