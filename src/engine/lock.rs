//! One engine per state dir: an exclusive `flock` on `<state dir>/engine.lock`, holding the owner's PID. Two
//! engines on the same state dir would fight over the same containers, so the second one refuses to start and
//! says who holds the lock.
//!
//! The lock also tells other engines whether this one is alive ([`probe`]): the node lease (see
//! [`super::lease`]) names the holder's state dir, and a lock file nobody holds means its engine is gone.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::runtime::labels;

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct EngineLock {
    _file: File,
    path: PathBuf,
    dir: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another engine holds it.
    #[error(
        "another podtui engine ({holder}) is running with state dir {dir}: its lock is {path}; stop it first, or use another --state-dir"
    )]
    Held {
        /// What the lock file says about its holder.
        holder: String,
        /// The state dir.
        dir: String,
        /// The lock file.
        path: String,
    },
    /// The state dir or the lock file cannot be created.
    #[error("cannot create the lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl EngineLock {
    /// Takes the lock of `state_dir`, recording `node` and this process's PID in it.
    pub fn acquire(state_dir: &Path, node: &str) -> Result<Self, LockError> {
        let path = state_dir.join("engine.lock");
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let mut file = crate::state_dir::file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a file descriptor we own; LOCK_NB makes it fail instead of blocking.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held {
                holder: if holder.is_empty() {
                    "unknown process".into()
                } else {
                    holder.to_string()
                },
                dir: state_dir.display().to_string(),
                path: path.display().to_string(),
            });
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "pid {} node {node}", std::process::id()).map_err(io)?;
        let dir = std::fs::canonicalize(state_dir).unwrap_or_else(|_| state_dir.to_path_buf());
        Ok(Self {
            _file: file,
            path,
            dir,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state dir, canonical.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The engine id of this state dir ([`labels::engine_id`]): what the engine labels its objects with.
    pub fn engine_id(&self) -> String {
        labels::engine_id(&self.dir)
    }
}

/// What the lock file of a state dir says about the engine that uses it.
#[derive(Debug, PartialEq, Eq)]
pub enum LockProbe {
    /// Nobody holds the lock: no engine runs with that state dir.
    Free,
    /// An engine holds it; `pid` is what the lock file says (absent while a new holder is writing it).
    Held {
        /// The holder's PID.
        pid: Option<u32>,
    },
    /// The lock file cannot be opened (gone, or another user's private state dir).
    Unreadable(std::io::ErrorKind),
}

/// Looks at the lock of `state_dir` without disturbing its holder: a shared, non-blocking `flock` conflicts
/// only with a holder's exclusive lock and is released at once.
pub fn probe(state_dir: &Path) -> LockProbe {
    let path = state_dir.join("engine.lock");
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => return LockProbe::Unreadable(e.kind()),
    };
    // SAFETY: flock on a file descriptor we own; LOCK_NB makes it fail instead of blocking.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    if rc == 0 {
        // Closing the file releases the shared lock.
        return LockProbe::Free;
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
        return LockProbe::Unreadable(err.kind());
    }
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let pid = text
        .split_whitespace()
        .skip_while(|w| *w != "pid")
        .nth(1)
        .and_then(|p| p.parse().ok());
    LockProbe::Held { pid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = EngineLock::acquire(dir.path(), "n1").unwrap();
        let err = EngineLock::acquire(dir.path(), "n2")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("pid {} node n1", std::process::id())),
            "{err}"
        );
        drop(first);
        EngineLock::acquire(dir.path(), "n2").unwrap();
    }

    #[test]
    fn probe_tells_a_held_lock_from_a_free_one() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            probe(dir.path()),
            LockProbe::Unreadable(std::io::ErrorKind::NotFound)
        ));
        let held = EngineLock::acquire(dir.path(), "n").unwrap();
        assert_eq!(
            probe(dir.path()),
            LockProbe::Held {
                pid: Some(std::process::id())
            }
        );
        // The probe leaves the holder's lock alone, and takes none that would stop a new holder.
        assert!(EngineLock::acquire(dir.path(), "n").is_err());
        drop(held);
        assert_eq!(probe(dir.path()), LockProbe::Free);
        let again = EngineLock::acquire(dir.path(), "n").unwrap();
        assert_eq!(
            again.engine_id(),
            labels::engine_id(&std::fs::canonicalize(dir.path()).unwrap())
        );
    }
}
