//! The state dir is private. podtui keeps copies of manifests there (which may hold tokens: `lastgood/`,
//! `backups/`, `trash/`, `edit/`), its own log, saved container logs and the engine's socket, so the
//! directory is 0700 and every file podtui writes in it 0600, whatever the umask.
//!
//! [`prepare`] runs when an engine starts: it creates the dir (missing parents 0700 too, as the XDG base
//! directory spec asks), refuses a dir that belongs to another user, and fixes what an older podtui left
//! readable: podtui's own entries get dirs 0700 and files 0600. It changes nothing else: entries it does not
//! know (the state dir may be shared with other files), anything reached through a symlink, files of another
//! user, and the termination-message files (containers write those; only their directories are fixed).
//!
//! Every writer goes through [`create_dir`], [`create_file`], [`write_file`], [`copy_file`] or
//! [`make_private`], so new files never start out readable by others.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the state dir and of every directory podtui makes in it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file podtui writes in the state dir (the socket included).
pub const FILE_MODE: u32 = 0o600;

/// The engine's lock file.
pub const LOCK: &str = "engine.lock";
/// The engine's snapshot socket.
pub const SOCKET: &str = "engine.sock";
/// podtui's own log.
pub const LOG: &str = "podtui.log";
/// Previous versions of manifests saved from podtui.
pub const BACKUPS: &str = "backups";
/// Manifests deleted from podtui.
pub const TRASH: &str = "trash";
/// Container logs saved from the TUI.
pub const LOGS: &str = "logs";
/// The last valid version of every manifest file.
pub const LASTGOOD: &str = "lastgood";
/// Copies handed to an external editor.
pub const EDIT: &str = "edit";
/// Termination-message files bound into containers (their modes are the worker's business).
pub const TERMINATION: &str = "termination";

/// The files podtui keeps at the top of the state dir.
const OWN_FILES: [&str; 3] = [LOCK, SOCKET, LOG];
/// The directories whose whole content is podtui's.
const OWN_DIRS: [&str; 5] = [BACKUPS, TRASH, LOGS, LASTGOOD, EDIT];

/// The state dir cannot be made private.
#[derive(Debug, thiserror::Error)]
#[error("state dir {path}: {source}")]
pub struct StateDirError {
    /// The entry concerned.
    pub path: String,
    /// Why.
    #[source]
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> StateDirError + use<> {
    let path = path.display().to_string();
    move |source| StateDirError { path, source }
}

/// Creates the state dir private (or checks and tightens the existing one) and fixes the modes of what podtui
/// keeps in it (see the module comment). Call once when an engine starts, before anything is written.
pub fn prepare(dir: &Path) -> Result<(), StateDirError> {
    create_dir(dir).map_err(at(dir))?;
    for name in OWN_FILES {
        let path = dir.join(name);
        fix_entry(&path, true).map_err(at(&path))?;
    }
    for name in OWN_DIRS {
        let path = dir.join(name);
        fix_tree(&path, true).map_err(at(&path))?;
    }
    let termination = dir.join(TERMINATION);
    fix_tree(&termination, false).map_err(at(&termination))
}

/// Creates `dir` (and missing parents) 0700 whatever the umask; an existing `dir` must belong to this user
/// and is tightened to 0700.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let meta = fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "owned by uid {}, not by this user (uid {uid}): podtui keeps copies of manifests there; use a directory of your own (--state-dir)",
                meta.uid()
            ),
        ));
    }
    set_mode(dir, &meta, DIR_MODE)
}

/// Options that create a file 0600 (or less, under a stricter umask); pick the access flags on them.
pub fn file_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE);
    o
}

/// Opens `path` for writing (creating or truncating it, or appending with `append`), exactly 0600.
pub fn create_file(path: &Path, append: bool) -> io::Result<File> {
    let mut o = file_options();
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    let file = o.create(true).open(path)?;
    // An existing file keeps its mode through open; a strict umask may have left too little for the owner.
    file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Writes `bytes` to `path` (0600), creating its directory (0700) first.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    let mut f = create_file(path, false)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Copies the content of `from` (followed if it is a symlink) to a new 0600 file `to`.
pub fn copy_file(from: &Path, to: &Path) -> io::Result<()> {
    let mut src = File::open(from)?;
    let mut dst = create_file(to, false)?;
    io::copy(&mut src, &mut dst)?;
    dst.sync_all()
}

/// Makes an entry podtui put in the state dir private: a file or socket 0600, a directory 0700. A symlink
/// (or anything else) is left alone, and so is its target.
pub fn make_private(path: &Path) -> io::Result<()> {
    fix_entry(path, true)
}

/// Fixes one entry, never through a symlink; entries of other users are left as they are (they cannot be
/// reached through the 0700 state dir anyway).
fn fix_entry(path: &Path, files: bool) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    if meta.uid() != unsafe { libc::geteuid() } {
        tracing::warn!(path = %path.display(), uid = meta.uid(), "not fixing the mode of another user's file in the state dir");
        return Ok(());
    }
    let ft = meta.file_type();
    if ft.is_dir() {
        set_mode(path, &meta, DIR_MODE)
    } else if files && (ft.is_file() || std::os::unix::fs::FileTypeExt::is_socket(&ft)) {
        set_mode(path, &meta, FILE_MODE)
    } else {
        Ok(())
    }
}

/// Fixes `dir` and everything under it (files only when `files`), without following symlinks. The state dir
/// itself is already 0700, so no other user can swap an entry for a symlink while this runs.
fn fix_tree(dir: &Path, files: bool) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        // Missing, or not a directory (a symlink among others): nothing of podtui's to fix.
        _ => return Ok(()),
    }
    fix_entry(dir, files)?;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            fix_entry(&path, files)?;
            // file_type does not follow symlinks.
            if entry.file_type()?.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

fn set_mode(path: &Path, meta: &fs::Metadata, mode: u32) -> io::Result<()> {
    if meta.mode() & 0o7777 == mode {
        return Ok(());
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn writers_ignore_a_loose_umask_and_fix_existing_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        write_file(&dir.join("f"), b"x").unwrap();
        assert_eq!(mode(&tmp.path().join("a")) & 0o077, 0);
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&dir.join("f")), FILE_MODE);
        fs::set_permissions(dir.join("f"), fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&dir.join("f"), true).unwrap();
        assert_eq!(mode(&dir.join("f")), FILE_MODE);
    }

    #[test]
    fn prepare_fixes_own_entries_only() {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        fs::create_dir_all(state.join("backups/sub")).unwrap();
        fs::create_dir_all(state.join("termination/uid")).unwrap();
        for (p, m) in [
            ("state", 0o755),
            ("state/backups", 0o755),
            ("state/backups/sub", 0o755),
            ("state/termination", 0o755),
            ("state/termination/uid", 0o755),
        ] {
            fs::set_permissions(tmp.path().join(p), fs::Permissions::from_mode(m)).unwrap();
        }
        for (p, m) in [
            ("state/podtui.log", 0o644),
            ("state/backups/sub/a.bak", 0o644),
            ("state/termination/uid/c-0", 0o666),
            ("state/notes.txt", 0o644),
            ("outside", 0o644),
        ] {
            fs::write(tmp.path().join(p), "x").unwrap();
            fs::set_permissions(tmp.path().join(p), fs::Permissions::from_mode(m)).unwrap();
        }
        std::os::unix::fs::symlink(tmp.path().join("outside"), state.join("backups/link")).unwrap();
        prepare(&state).unwrap();
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("podtui.log")), 0o600);
        assert_eq!(mode(&state.join("backups/sub")), 0o700);
        assert_eq!(mode(&state.join("backups/sub/a.bak")), 0o600);
        assert_eq!(mode(&state.join("termination/uid")), 0o700);
        assert_eq!(mode(&state.join("termination/uid/c-0")), 0o666);
        assert_eq!(mode(&state.join("notes.txt")), 0o644);
        assert_eq!(mode(&tmp.path().join("outside")), 0o644);
    }
}
