//! One engine per state dir: an exclusive `flock` on `<state dir>/engine.lock`, holding the owner's PID. Two
//! engines on the same state dir would fight over the same containers, so the second one refuses to start and
//! says who holds the lock.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct EngineLock {
    _file: File,
    path: PathBuf,
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
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
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
}
