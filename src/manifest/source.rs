//! The manifest sources as one background task: a directory (or file) watched with inotify and relisted every
//! `--file-check-frequency`, plus an optional HTTP URL polled every `--http-check-frequency`. The task publishes
//! the whole [`DesiredState`] on a watch channel whenever it changes.
//!
//! Editor saves are debounced: a path is read 5 ms after its writer closed it or renamed it into place, or
//! 300 ms after the last other change. A version that does not parse is read again after it settles (400 ms
//! without a change) and only then reported as invalid, so a half-written file is never taken for the truth.
//!
//! Once the task runs, every parse runs on the blocking pool ([`super::job`]), one at a time: a file that
//! is slow to parse delays the files behind it by at most its budget, and never the engine.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::files::{Entry, FileSource, Outcome, ParseCtx, Read, Root};
use super::http::{HttpSource, HttpSourceError, parse_headers};
use super::identity::SourceId;
use super::job::run_blocking;
use super::parse::Format;
use super::state::{DesiredState, EntryReport};

/// Delay after a close-after-write, rename or delete before reading: just long enough to take the burst of
/// events of one save (write, rename, chmod) as one read. A later event only causes another read, which is a
/// no-op when the bytes did not change.
pub const QUICK_DEBOUNCE: Duration = Duration::from_millis(5);
/// Delay after any other change (the writer may still be writing).
pub const SLOW_DEBOUNCE: Duration = Duration::from_millis(300);
/// How long a version that does not parse must stay unchanged before it is reported.
pub const SETTLE: Duration = Duration::from_millis(400);

/// Where manifests come from and how often they are checked.
#[derive(Clone, Debug)]
pub struct SourcesConfig {
    /// A directory or one file.
    pub path: Option<PathBuf>,
    /// `--manifest-url`.
    pub url: Option<String>,
    /// `--manifest-url-header` values (`Key:Value`).
    pub url_headers: Vec<String>,
    /// Node name (pod name suffix, UID).
    pub node_name: String,
    /// `--file-check-frequency`.
    pub file_check_frequency: Duration,
    /// `--http-check-frequency`.
    pub http_check_frequency: Duration,
    /// Where the last valid version of each file is kept (`<state dir>/lastgood`), so that a file found invalid
    /// at start still runs its last good version. `None` for one-shot reads.
    pub last_good_dir: Option<PathBuf>,
}

/// Errors starting the sources.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The manifest path does not exist or cannot be read.
    #[error("manifest path {path}: {source}")]
    Path {
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP source could not be set up.
    #[error(transparent)]
    Http(#[from] HttpSourceError),
    /// Neither a path nor a URL.
    #[error("no manifest source: give a PATH or --manifest-url")]
    Nothing,
    /// Reading the files failed in a way that is podtui's fault (the reading thread panicked).
    #[error("reading the manifests failed: {0}")]
    Read(String),
}

/// A short description of the sources for headers and logs (`./manifests`, `http://…`).
pub fn describe(cfg: &SourcesConfig) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &cfg.path {
        parts.push(p.display().to_string());
    }
    if let Some(u) = &cfg.url {
        parts.push(u.clone());
    }
    parts.join(" + ")
}

struct UrlSource {
    http: HttpSource,
    entry: Entry,
    synced: bool,
}

impl UrlSource {
    /// Takes in one fetch, parsing the body on the blocking pool.
    async fn apply(&mut self, node: &str, result: Result<Vec<u8>, String>) -> Outcome {
        match result {
            Ok(bytes) => {
                self.synced = true;
                let format =
                    Format::sniff(&String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]));
                let source = SourceId::Url(self.http.url().to_string());
                let ctx = ParseCtx {
                    format,
                    node_name: node,
                    source: &source,
                };
                match self.entry.begin(bytes.into(), ctx) {
                    Some(job) => {
                        let done = run_blocking(job).await;
                        self.entry.finish(done, false)
                    }
                    None => Outcome::Unchanged,
                }
            }
            Err(msg) => self.entry.fail(msg),
        }
    }
}

fn build(cfg: &SourcesConfig) -> Result<(Option<FileSource>, Option<UrlSource>), SourceError> {
    if cfg.path.is_none() && cfg.url.is_none() {
        return Err(SourceError::Nothing);
    }
    let files = match &cfg.path {
        Some(p) => {
            let root = Root::resolve(p).map_err(|source| SourceError::Path {
                path: p.display().to_string(),
                source,
            })?;
            let src = FileSource::new(root, cfg.node_name.clone());
            Some(match &cfg.last_good_dir {
                Some(dir) => src.with_last_good_dir(dir.clone()),
                None => src,
            })
        }
        None => None,
    };
    let url = match &cfg.url {
        Some(u) => Some(UrlSource {
            http: HttpSource::new(u.clone(), parse_headers(&cfg.url_headers)?)?,
            entry: Entry::new(u.clone()),
            synced: false,
        }),
        None => None,
    };
    Ok((files, url))
}

/// The desired state of every source now; `previous` (the state published before) keeps each pod with the
/// entry that owned it.
fn assemble(
    files: Option<&FileSource>,
    url: Option<&UrlSource>,
    previous: Option<&DesiredState>,
) -> DesiredState {
    let mut reports: Vec<EntryReport> = files.map(FileSource::reports).unwrap_or_default();
    if let Some(u) = url {
        reports.push(u.entry.report());
    }
    let synced = url.is_none_or(|u| u.synced);
    DesiredState::assemble(&reports, synced, previous)
}

/// Reads every source once, without watching (for `validate`, `get` and `down`).
pub async fn read_once(cfg: &SourcesConfig) -> Result<DesiredState, SourceError> {
    let (mut files, mut url) = build(cfg)?;
    if let Some(mut f) = files.take() {
        let read = tokio::task::spawn_blocking(move || {
            f.read_all();
            f
        });
        files = Some(read.await.map_err(|e| SourceError::Read(e.to_string()))?);
    }
    if let Some(u) = url.as_mut() {
        let result = u.http.fetch().await;
        u.apply(&cfg.node_name, result).await;
    }
    Ok(assemble(files.as_ref(), url.as_ref(), None))
}

/// Starts the sources as a background task and returns the desired state channel. The first listing happens
/// before this returns, so the channel's first value already holds every valid file.
pub fn spawn_sources(
    cfg: SourcesConfig,
    cancel: CancellationToken,
) -> Result<watch::Receiver<Arc<DesiredState>>, SourceError> {
    let (mut files, url) = build(&cfg)?;
    // Watch before the first listing, so no change between the two is missed.
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let watcher = files
        .as_ref()
        .and_then(|f| make_watcher(f.root(), ev_tx.clone()));
    let due: HashMap<String, Instant> = HashMap::new();
    if let Some(f) = files.as_mut() {
        // The first listing believes what it reads: nothing is settling yet, and a pod must never look undesired
        // at start because its file did not parse (its last good version is used instead).
        f.read_all();
    }
    let initial = assemble(files.as_ref(), url.as_ref(), None);
    let (tx, rx) = watch::channel(Arc::new(initial));
    let state = LoopState {
        files,
        url,
        due,
        watcher,
        ev_tx,
        ev_rx,
    };
    tokio::spawn(run(cfg, state, tx, cancel));
    Ok(rx)
}

/// Reads entry `name`, parsing it on the blocking pool.
async fn read(files: &mut FileSource, name: &str, settle: bool) -> Outcome {
    match files.begin_read(name, settle) {
        Read::Done(outcome) => outcome,
        Read::Parse(pending, job) => {
            let done = run_blocking(job).await;
            files.finish_read(pending, done)
        }
    }
}

async fn relist(files: &mut FileSource, due: &mut HashMap<String, Instant>) -> bool {
    let (names, mut changed) = files.relist();
    for name in names {
        match read(files, &name, true).await {
            Outcome::Changed => changed = true,
            Outcome::NeedsSettle => {
                changed |= files.mark_pending(&name);
                due.insert(name, Instant::now() + SETTLE);
            }
            Outcome::Unchanged => {}
        }
    }
    changed
}

fn debounce_for(kind: &EventKind) -> Option<Duration> {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write))
        | EventKind::Modify(ModifyKind::Name(_))
        | EventKind::Remove(_) => Some(QUICK_DEBOUNCE),
        EventKind::Access(_) => None,
        _ => Some(SLOW_DEBOUNCE),
    }
}

fn make_watcher(
    root: &Root,
    tx: mpsc::UnboundedSender<notify::Result<notify::Event>>,
) -> Option<RecommendedWatcher> {
    let mut w = notify::recommended_watcher(move |res| {
        let _ = tx.send(res);
    })
    .map_err(|e| tracing::warn!("cannot create a file watcher: {e}"))
    .ok()?;
    match w.watch(&root.watch_dir(), RecursiveMode::NonRecursive) {
        Ok(()) => Some(w),
        Err(e) => {
            tracing::warn!(
                "cannot watch {}: {e}; relying on the periodic relist",
                root.watch_dir().display()
            );
            None
        }
    }
}

type WatchEvents = mpsc::UnboundedReceiver<notify::Result<notify::Event>>;

/// What the source task owns.
struct LoopState {
    files: Option<FileSource>,
    url: Option<UrlSource>,
    due: HashMap<String, Instant>,
    watcher: Option<RecommendedWatcher>,
    ev_tx: mpsc::UnboundedSender<notify::Result<notify::Event>>,
    ev_rx: WatchEvents,
}

async fn run(
    cfg: SourcesConfig,
    state: LoopState,
    tx: watch::Sender<Arc<DesiredState>>,
    cancel: CancellationToken,
) {
    let LoopState {
        mut files,
        mut url,
        mut due,
        mut watcher,
        ev_tx,
        mut ev_rx,
    } = state;

    let (http_tx, mut http_rx) = mpsc::channel::<Result<Vec<u8>, String>>(1);
    if let Some(u) = &url {
        tokio::spawn(poll_url(
            u.http.clone(),
            cfg.http_check_frequency,
            http_tx,
            cancel.clone(),
        ));
    }

    let mut relist_timer = tokio::time::interval(cfg.file_check_frequency);
    relist_timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    relist_timer.tick().await;

    loop {
        let next_due = due.values().min().copied();
        let mut changed = false;
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(ev) = ev_rx.recv() => {
                let Some(f) = files.as_mut() else { continue };
                match ev {
                    Ok(ev) => {
                        let Some(delay) = debounce_for(&ev.kind) else { continue };
                        for path in &ev.paths {
                            if let Some(name) = f.root().entry_name(path) {
                                changed |= f.mark_pending(&name);
                                due.insert(name, Instant::now() + delay);
                            } else if *path == f.root().watch_dir() {
                                changed |= relist(f, &mut due).await;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!("file watcher error: {e}; relisting");
                        changed |= relist(f, &mut due).await;
                    }
                }
            }
            _ = sleep_until_opt(next_due) => {
                let now = Instant::now();
                let ready: Vec<String> = due.iter().filter(|(_, t)| **t <= now).map(|(n, _)| n.clone()).collect();
                if let Some(f) = files.as_mut() {
                    for name in ready {
                        due.remove(&name);
                        match read(f, &name, true).await {
                            Outcome::Changed => changed = true,
                            Outcome::NeedsSettle => { due.insert(name, Instant::now() + SETTLE); }
                            Outcome::Unchanged => {}
                        }
                    }
                }
            }
            _ = relist_timer.tick() => {
                if let Some(f) = files.as_mut() {
                    if watcher.is_none() {
                        watcher = make_watcher(f.root(), ev_tx.clone());
                    }
                    changed |= relist(f, &mut due).await;
                }
            }
            Some(result) = http_rx.recv() => {
                if let Some(u) = url.as_mut() {
                    let was_synced = u.synced;
                    changed |= u.apply(&cfg.node_name, result).await == Outcome::Changed || u.synced != was_synced;
                }
            }
        }
        if changed {
            let previous = tx.borrow().clone();
            let next = assemble(files.as_ref(), url.as_ref(), Some(&previous));
            tx.send_if_modified(|cur| {
                let same = cur.files == next.files
                    && cur.synced == next.synced
                    && cur.pods.keys().eq(next.pods.keys());
                if !same {
                    *cur = Arc::new(next);
                }
                !same
            });
        }
    }
    drop(watcher);
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn poll_url(
    http: HttpSource,
    every: Duration,
    tx: mpsc::Sender<Result<Vec<u8>, String>>,
    cancel: CancellationToken,
) {
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = timer.tick() => {}
        }
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = http.fetch() => r,
        };
        if tx.send(result).await.is_err() {
            return;
        }
    }
}
