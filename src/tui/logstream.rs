//! Streaming one container's log into the log view: Docker's frames are assembled into sanitized lines off the
//! UI's loop and sent in batches (every 50 ms or 2000 lines) over a small bounded channel, so a flood is paced by
//! the UI instead of piling up in memory.

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::app::AppEvent;
use super::logbuf::{LineAssembler, StreamKind};
use crate::runtime::DockerRuntime;

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
pub async fn stream(rt: DockerRuntime, req: LogRequest, tx: mpsc::Sender<AppEvent>) {
    let LogRequest {
        id,
        generation,
        follow,
        timestamps,
        tail,
        colors,
    } = req;
    let opts = LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        timestamps,
        tail: tail.to_string(),
        ..Default::default()
    };
    let mut logs = Box::pin(rt.logs(&id, opts));
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
                Some(Ok(LogOutput::StdErr { message })) => batch.extend(err.push(&message)),
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message })) => {
                    batch.extend(out.push(&message))
                }
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
