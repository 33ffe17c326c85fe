//! Termination-message files: the host file bound at a container's `terminationMessagePath`
//! (`<state dir>/termination/<pod uid>/<container>-<restart count>`), read back when the container exits.
//!
//! A container controls what it writes there, so the files are handled as hostile input: only the first
//! [`MAX_MESSAGE`] bytes are ever read (the kubelet's limit), the directories are 0700 and a file is writable by
//! the container's user only (0600, owned by `runAsUser` where podtui can arrange it; 0666 inside the 0700
//! directory otherwise, as the kubelet makes it), a [`SizeGuard`] truncates any file that grows past the limit
//! as soon as it is written (so a container cannot fill the host's disk through it), and the files of instances
//! Docker no longer has are removed.

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The most a termination message can be, as in the kubelet (`MaxContainerTerminationMessageLength`).
pub const MAX_MESSAGE: u64 = 4096;

/// The termination-message files of one engine.
#[derive(Clone, Debug)]
pub struct TerminationFiles {
    dir: PathBuf,
}

impl TerminationFiles {
    /// Files live under `dir` (`<state dir>/termination`).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn pod_dir(&self, uid: &str) -> PathBuf {
        self.dir.join(uid)
    }

    fn file(&self, uid: &str, name: &str, count: u32) -> PathBuf {
        self.pod_dir(uid).join(format!("{name}-{count}"))
    }

    /// Creates the empty file for one container instance. `user` is the container's `runAsUser`: the file is
    /// made 0600 for that user when podtui can give it to them (podtui is root, or is that user); otherwise it
    /// is 0666, as the kubelet makes it, reachable only through the container (its directories are 0700).
    pub fn create(
        &self,
        uid: &str,
        name: &str,
        count: u32,
        user: Option<u32>,
    ) -> std::io::Result<PathBuf> {
        crate::state_dir::create_dir(&self.dir)?;
        crate::state_dir::create_dir(&self.pod_dir(uid))?;
        let path = self.file(uid, name, count);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let mode = match user {
            Some(u) if u == me => 0o600,
            Some(u) if me == 0 => {
                std::os::unix::fs::fchown(&f, Some(u), None)?;
                0o600
            }
            _ => 0o666,
        };
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        Ok(path)
    }

    /// The message an instance left: at most [`MAX_MESSAGE`] bytes from the start of its file.
    pub fn read(&self, uid: &str, name: &str, count: u32) -> String {
        let Ok(f) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(self.file(uid, name, count))
        else {
            return String::new();
        };
        if !f.metadata().is_ok_and(|m| m.is_file()) {
            return String::new();
        }
        let mut bytes = Vec::new();
        let _ = f.take(MAX_MESSAGE).read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Removes the files of pod `uid` whose instance (`name`, restart count) is not in `keep`.
    pub fn retain(&self, uid: &str, keep: &[(String, u32)]) {
        let Ok(entries) = std::fs::read_dir(self.pod_dir(uid)) else {
            return;
        };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let kept = keep.iter().any(|(n, c)| file == format!("{n}-{c}"));
            if !kept {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Removes every file of pod `uid`.
    pub fn remove_pod(&self, uid: &str) {
        let _ = std::fs::remove_dir_all(self.pod_dir(uid));
    }
}

/// Cuts a termination file that grew past [`MAX_MESSAGE`] back to it; anything past the limit is never read.
fn enforce(path: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if !meta.is_file() || meta.len() <= MAX_MESSAGE {
        return;
    }
    if let Ok(f) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        let _ = f.set_len(MAX_MESSAGE);
        tracing::debug!(path = %path.display(), size = meta.len(), "termination message file cut to 4096 bytes");
    }
}

/// Watches the termination directory and cuts every file back to [`MAX_MESSAGE`] as soon as it is written
/// past it. Event-driven (inotify): nothing runs while containers do not write. Stops when dropped.
pub struct SizeGuard {
    _watcher: notify::RecommendedWatcher,
}

impl SizeGuard {
    /// Starts guarding `dir` (created 0700 if missing).
    pub fn start(dir: &Path) -> notify::Result<Self> {
        use notify::Watcher;
        crate::state_dir::create_dir(dir).map_err(notify::Error::io)?;
        let root = dir.to_path_buf();
        let mut watcher =
            notify::recommended_watcher(move |ev: notify::Result<notify::Event>| match ev {
                Ok(ev) if ev.need_rescan() => rescan(&root),
                Ok(ev) => ev.paths.iter().for_each(|p| enforce(p)),
                Err(_) => rescan(&root),
            })?;
        watcher.watch(dir, notify::RecursiveMode::Recursive)?;
        Ok(Self { _watcher: watcher })
    }
}

/// Checks every file (after the watcher lost events).
fn rescan(root: &Path) {
    let Ok(pods) = std::fs::read_dir(root) else {
        return;
    };
    for pod in pods.flatten() {
        if let Ok(files) = std::fs::read_dir(pod.path()) {
            files.flatten().for_each(|f| enforce(&f.path()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_and_read_at_most_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let files = TerminationFiles::new(tmp.path().join("termination"));
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { libc::geteuid() };
        let f = files.create("uid1", "app", 0, Some(me)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&f), 0o600);
        assert_eq!(mode(&tmp.path().join("termination")), 0o700);
        assert_eq!(mode(&tmp.path().join("termination/uid1")), 0o700);
        let g = files.create("uid1", "other", 0, None).unwrap();
        assert_eq!(mode(&g), 0o666, "an unknown container user may write it");
        std::fs::write(&f, vec![b'x'; 10_000]).unwrap();
        assert_eq!(files.read("uid1", "app", 0).len(), MAX_MESSAGE as usize);
        files.retain("uid1", &[("app".into(), 0)]);
        assert!(f.exists() && !g.exists());
        files.remove_pod("uid1");
        assert!(!tmp.path().join("termination/uid1").exists());
    }

    #[test]
    fn a_symlink_in_place_of_the_file_is_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let files = TerminationFiles::new(tmp.path().join("t"));
        files.create("u", "c", 0, None).unwrap();
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, "secret").unwrap();
        std::fs::remove_file(tmp.path().join("t/u/c-0")).unwrap();
        std::os::unix::fs::symlink(&secret, tmp.path().join("t/u/c-0")).unwrap();
        assert_eq!(files.read("u", "c", 0), "");
    }
}
