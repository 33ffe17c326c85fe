//! Parsing one manifest entry away from the async tasks: a [`ParseJob`] owns what its parse needs, so that
//! [`run_blocking`] can run it on tokio's blocking pool, one at a time per source, with a time budget. A bad
//! file then costs a blocking thread for at most its budget, and never the task that watches the other
//! files, the engine's socket, or a pod's worker.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::files::ParseCtx;
use super::finding::Finding;
use super::identity::SourceId;
use super::parse::{Format, ParseInput, Parsed, manifest_text, parse_manifest_within};

/// How long measuring one text against [`super::bounds`] may take before the text is refused. Every bomb
/// shape is refused by a bound within a tenth of this on an unoptimised build.
pub const PARSE_BUDGET: Duration = Duration::from_secs(2);

/// How long a source waits for a parse job before it reports the file as an error and goes on: the budget
/// bounds the measuring, the bounds what comes after it, so this is only reached on a machine that is
/// starved of CPU.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses one entry's bytes (see [`manifest_text`] for what makes bytes a manifest text), within
/// [`PARSE_BUDGET`].
pub(super) fn parse_bytes(display: &str, bytes: &[u8], ctx: ParseCtx<'_>) -> Parsed {
    match manifest_text(bytes) {
        Ok(text) => parse_manifest_within(
            &ParseInput {
                display,
                text,
                format: ctx.format,
                node_name: ctx.node_name,
                source: ctx.source,
            },
            Some(Instant::now() + PARSE_BUDGET),
        ),
        Err(f) => Parsed::unreadable(display, f),
    }
}

/// One entry's bytes to parse, owning everything the parse needs, so that it can run on the blocking pool.
#[derive(Debug)]
pub struct ParseJob {
    pub(super) display: String,
    pub(super) bytes: Arc<[u8]>,
    pub(super) format: Format,
    pub(super) node_name: String,
    pub(super) source: SourceId,
    /// A saved last good version to parse as well if these bytes have errors.
    pub(super) saved: Option<PathBuf>,
}

/// What a [`ParseJob`] found.
#[derive(Debug)]
pub struct ParseDone {
    pub(super) bytes: Arc<[u8]>,
    pub(super) parsed: Parsed,
    /// The saved last good version, parsed, when the job had one and the bytes have errors.
    pub(super) saved: Option<Parsed>,
}

impl ParseJob {
    /// The entry's name as shown.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Parses the bytes (and the saved last good version when they have errors).
    pub fn run(self) -> ParseDone {
        let ctx = ParseCtx {
            format: self.format,
            node_name: &self.node_name,
            source: &self.source,
        };
        let parsed = parse_bytes(&self.display, &self.bytes, ctx);
        let saved = match &self.saved {
            Some(path) if parsed.has_errors() => fs::read(path)
                .ok()
                .map(|saved| parse_bytes(&self.display, &saved, ctx)),
            _ => None,
        };
        ParseDone {
            bytes: self.bytes,
            parsed,
            saved,
        }
    }

    /// What the job finds when it cannot finish (it panicked, or ran out of time): one error about the file.
    pub fn failed(&self, message: String) -> ParseDone {
        ParseDone {
            bytes: self.bytes.clone(),
            parsed: Parsed::unreadable(&self.display, Finding::file_error(None, message)),
            saved: None,
        }
    }
}

/// Runs `job` on the blocking pool and waits for it, at most [`JOB_TIMEOUT`]; a job that panics or times out
/// gives one error about the file (a timed-out job finishes on its own thread and is dropped).
pub async fn run_blocking(job: ParseJob) -> ParseDone {
    let fallback = job.failed(String::new());
    let name = job.display.clone();
    match tokio::time::timeout(JOB_TIMEOUT, tokio::task::spawn_blocking(move || job.run())).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            tracing::error!(file = %name, "parsing the manifest failed: {e}");
            with_message(
                fallback,
                "podtui failed while parsing the file (see the log)",
            )
        }
        Err(_) => {
            tracing::warn!(file = %name, "parsing the manifest took longer than {JOB_TIMEOUT:?}");
            with_message(
                fallback,
                &format!(
                    "parsing the file took longer than {} s: not a Pod manifest",
                    JOB_TIMEOUT.as_secs()
                ),
            )
        }
    }
}

fn with_message(mut done: ParseDone, message: &str) -> ParseDone {
    for f in &mut done.parsed.findings {
        f.message = message.to_string();
    }
    done
}
