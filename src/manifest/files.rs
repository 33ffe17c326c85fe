//! The file side of manifest sources: listing a directory (or one file), deciding which entries are
//! manifests, and reading each one into an [`Entry`] that remembers its last good version.
//!
//! This part is synchronous and has no timers: [`crate::manifest::source`] drives it from inotify events and
//! the periodic relist, and `validate`/`get` drive it once.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::finding::Finding;
use super::identity::SourceId;
use super::job::{ParseDone, ParseJob};
use super::parse::{DesiredPod, Format};
use super::state::{EntryKind, EntryReport};

/// Files larger than this are skipped, as the kubelet does.
pub const MAX_MANIFEST_BYTES: u64 = 10 * 1024 * 1024;

/// What a manifest path names.
#[derive(Clone, Debug)]
pub enum Root {
    /// A directory: every manifest directly in it.
    Dir {
        /// The directory as the user gave it (for display).
        display: PathBuf,
        /// Its absolute path (for UIDs).
        absolute: PathBuf,
    },
    /// One manifest file.
    File {
        /// The file as the user gave it.
        display: PathBuf,
        /// Its absolute path.
        absolute: PathBuf,
    },
}

impl Root {
    /// Resolves a user-given path; it must exist.
    pub fn resolve(path: &Path) -> std::io::Result<Self> {
        let meta = fs::metadata(path)?;
        let absolute = std::path::absolute(path)?;
        Ok(if meta.is_dir() {
            Root::Dir {
                display: path.to_path_buf(),
                absolute,
            }
        } else {
            Root::File {
                display: path.to_path_buf(),
                absolute,
            }
        })
    }

    /// The directory to watch for changes.
    pub fn watch_dir(&self) -> PathBuf {
        match self {
            Root::Dir { absolute, .. } => absolute.clone(),
            Root::File { absolute, .. } => absolute
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/")),
        }
    }

    /// The entry name a changed path corresponds to, if it is one of this root's entries.
    pub fn entry_name(&self, changed: &Path) -> Option<String> {
        let dir = self.watch_dir();
        if changed.parent() != Some(dir.as_path()) {
            return None;
        }
        let name = changed.file_name()?.to_string_lossy().into_owned();
        match self {
            Root::Dir { .. } => Some(name),
            Root::File { absolute, .. } => {
                (absolute.file_name()?.to_string_lossy() == name).then_some(name)
            }
        }
    }

    /// The path shown to users for entry `name`.
    pub fn display_path(&self, name: &str) -> String {
        match self {
            Root::Dir { display, .. } => display.join(name).to_string_lossy().into_owned(),
            Root::File { display, .. } => display.to_string_lossy().into_owned(),
        }
    }

    fn absolute_path(&self, name: &str) -> PathBuf {
        match self {
            Root::Dir { absolute, .. } => absolute.join(name),
            Root::File { absolute, .. } => absolute.clone(),
        }
    }

    /// The path as the user gave it.
    pub fn display(&self) -> String {
        match self {
            Root::Dir { display, .. } | Root::File { display, .. } => {
                display.to_string_lossy().into_owned()
            }
        }
    }
}

/// Why a directory entry is not read as a manifest, or `None` if it is one.
pub fn skip_reason(name: &str, meta: Option<&fs::Metadata>) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if name.starts_with('.') {
        return Some("hidden file".into());
    }
    let backup = name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || [
            ".swp",
            ".swo",
            ".swx",
            ".bak",
            ".tmp",
            ".orig",
            ".rej",
            ".dpkg-old",
            ".dpkg-new",
            ".dpkg-dist",
        ]
        .iter()
        .any(|s| lower.ends_with(s));
    if backup {
        return Some("editor backup or swap file".into());
    }
    let Some(meta) = meta else {
        return Some("broken symlink".into());
    };
    if meta.is_dir() {
        return Some("subdirectory (podtui does not recurse)".into());
    }
    if !meta.is_file() {
        return Some("not a regular file".into());
    }
    if !(lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")) {
        return Some("not a manifest extension (.yaml, .yml, .json)".into());
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Some(format!("larger than 10 MB ({} bytes)", meta.len()));
    }
    None
}

/// One entry of a source and what is known about it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path as shown.
    pub display: String,
    state: EntryState,
    /// Bytes of the version currently reported (to ignore identical rewrites).
    bytes: Option<Arc<[u8]>>,
    /// Length and mtime when last read (a cheap change check for relists).
    stamp: Option<(u64, SystemTime)>,
    /// Bytes of a version that failed to parse and is waiting to settle.
    settling: Option<Arc<[u8]>>,
    last_good: Vec<Arc<DesiredPod>>,
}

#[derive(Debug, Clone)]
enum EntryState {
    Pending,
    Skipped(String),
    Read {
        findings: Vec<Finding>,
        invalid: bool,
    },
}

impl Entry {
    /// A new entry that has not been read.
    pub fn new(display: String) -> Self {
        Self {
            display,
            state: EntryState::Pending,
            bytes: None,
            stamp: None,
            settling: None,
            last_good: Vec::new(),
        }
    }

    /// This entry as a report for [`crate::manifest::state::DesiredState::assemble`].
    pub fn report(&self) -> EntryReport {
        let kind = match &self.state {
            EntryState::Pending => EntryKind::Pending,
            EntryState::Skipped(r) => EntryKind::Skipped(r.clone()),
            EntryState::Read { findings, invalid } => EntryKind::Read {
                findings: findings.clone(),
                invalid: *invalid,
                pods: self.last_good.clone(),
            },
        };
        EntryReport {
            path: self.display.clone(),
            kind,
        }
    }

    /// Takes in new bytes, parsing them here. With `settle`, a version that fails to parse is not reported until
    /// the same bytes are seen again after the caller's settle delay (it may be a half-written file).
    pub fn accept(&mut self, bytes: Vec<u8>, input: ParseCtx<'_>, settle: bool) -> Outcome {
        match self.begin(bytes.into(), input) {
            Some(job) => self.finish(job.run(), settle),
            None => Outcome::Unchanged,
        }
    }

    /// The parse new bytes need, or `None` when they are the version already reported. The job may run anywhere
    /// (the blocking pool); [`Entry::finish`] takes its result.
    pub fn begin(&mut self, bytes: Arc<[u8]>, input: ParseCtx<'_>) -> Option<ParseJob> {
        if matches!(self.state, EntryState::Read { .. }) && self.bytes.as_deref() == Some(&*bytes) {
            self.settling = None;
            return None;
        }
        Some(ParseJob {
            display: self.display.clone(),
            bytes,
            format: input.format,
            node_name: input.node_name.to_string(),
            source: input.source.clone(),
            saved: None,
        })
    }

    /// Takes in what a [`ParseJob`] of [`Entry::begin`] found (see [`Entry::accept`] for `settle`).
    pub fn finish(&mut self, done: ParseDone, settle: bool) -> Outcome {
        let ParseDone { bytes, parsed, .. } = done;
        if parsed.has_errors() && settle && self.settling.as_deref() != Some(&*bytes) {
            self.settling = Some(bytes);
            return Outcome::NeedsSettle;
        }
        self.settling = None;
        let invalid = parsed.has_errors();
        if !invalid {
            self.last_good = parsed.pods.into_iter().map(Arc::new).collect();
        }
        self.state = EntryState::Read {
            findings: parsed.findings,
            invalid,
        };
        self.bytes = Some(bytes);
        Outcome::Changed
    }

    /// True when the latest version read has errors.
    pub fn is_invalid(&self) -> bool {
        matches!(self.state, EntryState::Read { invalid: true, .. })
    }

    /// Records an error that is not about the content (unreadable file, HTTP failure); the last good pods stay.
    pub fn fail(&mut self, message: String) -> Outcome {
        let finding = Finding::file_error(None, message);
        let mut f = finding;
        f.file = self.display.clone();
        let new_state = EntryState::Read {
            findings: vec![f],
            invalid: true,
        };
        let same = matches!((&self.state, &new_state),
            (EntryState::Read { findings: a, invalid: true }, EntryState::Read { findings: b, .. }) if a == b);
        self.state = new_state;
        self.bytes = None;
        self.settling = None;
        if same {
            Outcome::Unchanged
        } else {
            Outcome::Changed
        }
    }

    fn skip(&mut self, reason: String) -> Outcome {
        if matches!(&self.state, EntryState::Skipped(r) if *r == reason) {
            return Outcome::Unchanged;
        }
        self.state = EntryState::Skipped(reason);
        self.bytes = None;
        self.stamp = None;
        self.last_good.clear();
        Outcome::Changed
    }
}

/// Node and source identity needed to parse an entry.
#[derive(Clone, Copy)]
pub struct ParseCtx<'a> {
    /// YAML or JSON.
    pub format: Format,
    /// Node name.
    pub node_name: &'a str,
    /// Source identity for the UID.
    pub source: &'a SourceId,
}

/// What [`FileSource::begin_read`] needs done.
#[derive(Debug)]
pub enum Read {
    /// Nothing to parse: this is what reading did.
    Done(Outcome),
    /// The bytes must be parsed: run the job and give its result to [`FileSource::finish_read`].
    Parse(PendingRead, ParseJob),
}

/// A read waiting for its parse.
#[derive(Debug)]
pub struct PendingRead {
    name: String,
    settle: bool,
    last_good_path: Option<PathBuf>,
}

/// What reading an entry did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing the desired state depends on changed.
    Unchanged,
    /// The entry's report changed.
    Changed,
    /// The content does not parse; read it again after the settle delay before believing it.
    NeedsSettle,
}

/// The entries of a directory or file root.
#[derive(Debug)]
pub struct FileSource {
    root: Root,
    node_name: String,
    entries: BTreeMap<String, Entry>,
    last_good_dir: Option<PathBuf>,
}

impl FileSource {
    /// A source over `root` for node `node_name`; nothing is read yet.
    pub fn new(root: Root, node_name: String) -> Self {
        Self {
            root,
            node_name,
            entries: BTreeMap::new(),
            last_good_dir: None,
        }
    }

    /// Keeps a copy of each file's last valid version in `dir`, so that a file found invalid when podtui starts
    /// still runs its last good version (the running pod is adopted, not removed).
    pub fn with_last_good_dir(mut self, dir: PathBuf) -> Self {
        self.last_good_dir = Some(dir);
        self
    }

    fn last_good_path(&self, path: &Path) -> Option<PathBuf> {
        use std::hash::{Hash, Hasher};
        let dir = self.last_good_dir.as_ref()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut h);
        Some(dir.join(format!("{:016x}", h.finish())))
    }

    fn forget_last_good(&self, name: &str) {
        if let Some(p) = self.last_good_path(&self.root.absolute_path(name)) {
            let _ = fs::remove_file(p);
        }
    }

    /// The root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Reports of every entry, in lexical order.
    pub fn reports(&self) -> Vec<EntryReport> {
        self.entries.values().map(Entry::report).collect()
    }

    /// Names of the entries present on disk now, in lexical order.
    fn list_names(&self) -> Vec<String> {
        match &self.root {
            Root::Dir { absolute, .. } => {
                let mut names: Vec<String> = fs::read_dir(absolute)
                    .map(|rd| {
                        rd.filter_map(Result::ok)
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                names.sort();
                names
            }
            Root::File { absolute, .. } => {
                let exists = fs::symlink_metadata(absolute).is_ok();
                let name = absolute
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if exists { vec![name] } else { Vec::new() }
            }
        }
    }

    /// Lists the root: drops entries that are gone and returns the names that are new or whose size or mtime
    /// changed (to be read). Returns whether anything was dropped.
    pub fn relist(&mut self) -> (Vec<String>, bool) {
        let names = self.list_names();
        let before = self.entries.len();
        let gone: Vec<String> = self
            .entries
            .keys()
            .filter(|k| names.binary_search(k).is_err())
            .cloned()
            .collect();
        for g in &gone {
            self.forget_last_good(g);
        }
        self.entries.retain(|k, _| names.binary_search(k).is_ok());
        let dropped = self.entries.len() != before;
        let mut changed = Vec::new();
        for name in names {
            let meta = fs::metadata(self.root.absolute_path(&name)).ok();
            let stamp = meta
                .as_ref()
                .and_then(|m| Some((m.len(), m.modified().ok()?)));
            match self.entries.get(&name) {
                Some(e) if e.stamp.is_some() && e.stamp == stamp => {}
                _ => changed.push(name),
            }
        }
        (changed, dropped)
    }

    /// Marks an entry as seen (pending) if it is new; returns true when that changed the reports.
    pub fn mark_pending(&mut self, name: &str) -> bool {
        if self.entries.contains_key(name) {
            return false;
        }
        let display = self.root.display_path(name);
        self.entries.insert(name.to_string(), Entry::new(display));
        true
    }

    /// Reads entry `name` from disk (it may have been deleted, replaced or become a non-manifest), parsing
    /// it here.
    pub fn read(&mut self, name: &str, settle: bool) -> Outcome {
        match self.begin_read(name, settle) {
            Read::Done(outcome) => outcome,
            Read::Parse(pending, job) => self.finish_read(pending, job.run()),
        }
    }

    /// Reads entry `name` from disk up to the parse, which the caller runs (see [`Read`]).
    pub fn begin_read(&mut self, name: &str, settle: bool) -> Read {
        let path = self.root.absolute_path(name);
        if name.contains('\u{FFFD}') && fs::symlink_metadata(&path).is_err() {
            // Listed under a lossy name (the real name is not UTF-8), so it cannot be opened by that name.
            let display = self.root.display_path(name);
            return Read::Done(
                self.entries
                    .entry(name.to_string())
                    .or_insert_with(|| Entry::new(display))
                    .skip("the file name is not valid UTF-8 (rename the file)".into()),
            );
        }
        if fs::symlink_metadata(&path).is_err() {
            self.forget_last_good(name);
            return Read::Done(match self.entries.remove(name) {
                Some(_) => Outcome::Changed,
                None => Outcome::Unchanged,
            });
        }
        let last_good_path = self.last_good_path(&path);
        let meta = fs::metadata(&path).ok();
        let display = self.root.display_path(name);
        let entry = self
            .entries
            .entry(name.to_string())
            .or_insert_with(|| Entry::new(display));
        let reason = match &self.root {
            Root::Dir { .. } => skip_reason(name, meta.as_ref()),
            // A file named explicitly is read whatever its name; it must still be a readable regular file.
            Root::File { .. } => match &meta {
                Some(m) if m.is_file() && m.len() <= MAX_MANIFEST_BYTES => None,
                Some(m) if m.is_file() => Some(format!("larger than 10 MB ({} bytes)", m.len())),
                Some(_) => Some("not a regular file".into()),
                None => Some("broken symlink".into()),
            },
        };
        if let Some(reason) = reason {
            return Read::Done(entry.skip(reason));
        }
        let stamp = meta
            .as_ref()
            .and_then(|m| Some((m.len(), m.modified().ok()?)));
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => return Read::Done(entry.fail(format!("cannot read the file: {e}"))),
        };
        entry.stamp = stamp;
        let source = SourceId::File(path.to_string_lossy().into_owned());
        let ctx = ParseCtx {
            format: Format::from_path(&path),
            node_name: &self.node_name,
            source: &source,
        };
        let no_good = entry.last_good.is_empty();
        match entry.begin(bytes.into(), ctx) {
            None => Read::Done(Outcome::Unchanged),
            Some(mut job) => {
                // Found invalid with no good version in memory (podtui restarted): the saved one may run.
                job.saved = last_good_path.clone().filter(|_| no_good);
                let pending = PendingRead {
                    name: name.to_string(),
                    settle,
                    last_good_path,
                };
                Read::Parse(pending, job)
            }
        }
    }

    /// Takes in the result of the job [`FileSource::begin_read`] gave with `pending`.
    pub fn finish_read(&mut self, pending: PendingRead, done: ParseDone) -> Outcome {
        let Some(entry) = self.entries.get_mut(&pending.name) else {
            return Outcome::Unchanged;
        };
        let ParseDone {
            bytes,
            parsed,
            saved,
        } = done;
        let saved = saved.filter(|p| !p.has_errors()).map(|p| p.pods);
        let outcome = entry.finish(
            ParseDone {
                bytes: bytes.clone(),
                parsed,
                saved: None,
            },
            pending.settle,
        );
        if outcome == Outcome::Changed
            && let Some(lg) = pending.last_good_path
        {
            if !entry.is_invalid() {
                let _ = super::store::write_private(&lg, &bytes);
            } else if entry.last_good.is_empty()
                && let Some(pods) = saved
            {
                entry.last_good = pods.into_iter().map(Arc::new).collect();
            }
        }
        outcome
    }

    /// Reads everything once, believing every result at once (the first listing, `validate`, `get`). Saved last
    /// good versions of files that are gone (deleted while podtui was not running) are forgotten.
    pub fn read_all(&mut self) {
        let (names, _) = self.relist();
        for n in names {
            self.read(&n, false);
        }
        if let Some(dir) = &self.last_good_dir {
            let keep: Vec<PathBuf> = self
                .entries
                .keys()
                .filter_map(|n| self.last_good_path(&self.root.absolute_path(n)))
                .collect();
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                if !keep.contains(&e.path()) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.yaml");
        fs::write(&f, "x").unwrap();
        let m = fs::metadata(&f).unwrap();
        assert_eq!(skip_reason("a.yaml", Some(&m)), None);
        assert_eq!(skip_reason(".a.yaml", Some(&m)).unwrap(), "hidden file");
        assert_eq!(
            skip_reason("a.yaml~", Some(&m)).unwrap(),
            "editor backup or swap file"
        );
        assert_eq!(
            skip_reason("#a.yaml#", Some(&m)).unwrap(),
            "editor backup or swap file"
        );
        assert_eq!(
            skip_reason("a.yaml.swp", Some(&m)).unwrap(),
            "editor backup or swap file"
        );
        assert_eq!(
            skip_reason("a.txt", Some(&m)).unwrap(),
            "not a manifest extension (.yaml, .yml, .json)"
        );
        let d = fs::metadata(dir.path()).unwrap();
        assert_eq!(
            skip_reason("sub", Some(&d)).unwrap(),
            "subdirectory (podtui does not recurse)"
        );
        assert_eq!(skip_reason("gone.yaml", None).unwrap(), "broken symlink");
    }
}
