//! Mounting a subPath of a volume without letting the pod redirect the mount onto the host (the class of
//! CVE-2017-1002101).
//!
//! Docker resolves a bind source with the host's view: `..` and symlinks planted in the volume by the pod's own
//! containers lead anywhere. So podtui does what the kubelet does: it opens the subPath beneath the volume's root
//! one component at a time, never following a symlink out of it ([`resolve_beneath`]), then bind-mounts the
//! opened file descriptor itself onto a private path under `<state dir>/subpaths` ([`SubpathPins::pin`]) and
//! gives Docker that path. What a container changes in the volume after the check cannot redirect the mount: the
//! pinned path is the inode that was checked. The pin is unmounted once the container has started (its mount
//! namespace keeps its own copy).
//!
//! Pinning needs `CAP_SYS_ADMIN` in the mount namespace dockerd uses (podtui as root on the Docker host);
//! without it [`SubpathError::NotPermitted`] lets the engine fall back to the engine's own safe subpath mounts
//! (Docker 26+) or refuse the container.

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// At most this many symlinks are followed while resolving one subPath (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// Why a subPath could not be resolved or pinned.
#[derive(Debug, thiserror::Error)]
pub enum SubpathError {
    /// The path itself is not allowed (absolute, or with a `..` component).
    #[error("subPath {sub:?} {why}")]
    Invalid {
        /// The subPath.
        sub: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Resolving the path would leave the volume (a symlink out of it, or above its root).
    #[error("subPath {sub:?} leaves the volume: {why}")]
    Escapes {
        /// The subPath.
        sub: String,
        /// Which component leads out, and how.
        why: String,
    },
    /// A filesystem call failed.
    #[error("subPath {sub:?}: cannot {op} {path}: {source}")]
    Io {
        /// The subPath.
        sub: String,
        /// What podtui was doing (`open`, `create`, `mount`).
        op: &'static str,
        /// The path (inside the volume, or the pin).
        path: String,
        /// Why.
        source: io::Error,
    },
    /// podtui may not read the volume on this host or may not bind-mount (it is not root here).
    #[error("subPath {sub:?}: podtui cannot pin it for a safe mount ({op}: {source})")]
    NotPermitted {
        /// The subPath.
        sub: String,
        /// The call that was refused.
        op: &'static str,
        /// The refusal.
        source: io::Error,
    },
}

impl SubpathError {
    /// Whether the failure is podtui's lack of privilege rather than the pod's path.
    pub fn is_not_permitted(&self) -> bool {
        matches!(self, SubpathError::NotPermitted { .. })
    }
}

fn cstr(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

fn openat(dir: Option<&OwnedFd>, name: &[u8], flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    let dirfd = dir.map_or(libc::AT_FDCWD, |d| d.as_raw_fd());
    // SAFETY: a valid NUL-terminated name and a directory fd we own (or AT_FDCWD); the new fd is owned here.
    let fd = check(unsafe { libc::openat(dirfd, c.as_ptr(), flags | libc::O_CLOEXEC) })?;
    // SAFETY: openat returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn fstat(fd: &OwnedFd) -> io::Result<libc::stat> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid fd and a valid out pointer.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st)
}

fn file_type(st: &libc::stat) -> libc::mode_t {
    st.st_mode & libc::S_IFMT
}

/// The target of the symlink opened as `fd` (`O_PATH | O_NOFOLLOW`).
fn readlink(fd: &OwnedFd) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    let empty = cstr(b"")?;
    // SAFETY: readlinkat on an O_PATH symlink fd with an empty name reads that link; the buffer is valid.
    let n = unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            empty.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Creates directory `name` in `dir` with exactly `mode` (the umask does not apply), without following a
/// symlink that appears in its place; returns it opened.
fn make_dir(dir: &OwnedFd, name: &[u8], mode: u32) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: a valid directory fd and NUL-terminated name.
    let rc = unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::AlreadyExists {
            return Err(e);
        }
    }
    let fd = openat(
        Some(dir),
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
    )?;
    if rc == 0 {
        // SAFETY: fchmod on a directory fd we own (never through a path, so never through a symlink).
        check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) })?;
    }
    Ok(fd)
}

/// Splits a relative path into its components, dropping empty ones and `.`.
fn components(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
}

/// Opens `sub` beneath the directory `root` without ever leaving it: each component is opened relative to the
/// previous one with `O_NOFOLLOW`; a symlink is read and resolved inside the volume (a relative target only,
/// and never above `root`), as the kubelet allows symlinks that stay inside a volume and refuses the rest.
/// Missing directories are created with `mkdir_mode` (`None`: a missing component is an error). Returns an
/// `O_PATH` descriptor of the target (a directory or a file).
pub fn resolve_beneath(
    root: &Path,
    sub: &str,
    mkdir_mode: Option<u32>,
) -> Result<OwnedFd, SubpathError> {
    if let Some(why) = crate::manifest::downward::relative_path_problem(sub) {
        return Err(SubpathError::Invalid {
            sub: sub.into(),
            why,
        });
    }
    let mut walk = Walk {
        sub,
        mkdir_mode,
        stack: Vec::new(),
        walked: Vec::new(),
        links: 0,
    };
    let root_fd = openat(
        None,
        root.as_os_str().as_bytes(),
        libc::O_PATH | libc::O_DIRECTORY,
    )
    .map_err(|e| walk.io_err("open the volume", &root.display().to_string(), e))?;
    walk.stack.push(root_fd);
    let mut pending: VecDeque<Vec<u8>> = components(sub.as_bytes()).collect();
    while let Some(comp) = pending.pop_front() {
        if let Some(leaf) = walk.step(&comp, &mut pending)? {
            if !pending.is_empty() {
                let at = walk.shown();
                return Err(walk.io_err("open", &at, io::Error::from_raw_os_error(libc::ENOTDIR)));
            }
            return Ok(leaf);
        }
    }
    walk.stack.pop().ok_or_else(|| SubpathError::Escapes {
        sub: sub.into(),
        why: "nothing left to open".into(),
    })
}

/// The state of [`resolve_beneath`]'s walk.
struct Walk<'a> {
    sub: &'a str,
    mkdir_mode: Option<u32>,
    /// Directories opened so far, the volume's root first; `..` in a symlink's target pops one.
    stack: Vec<OwnedFd>,
    /// The path walked so far inside the volume, for messages.
    walked: Vec<Vec<u8>>,
    /// Symlinks followed.
    links: usize,
}

impl Walk<'_> {
    fn shown(&self) -> String {
        let parts: Vec<String> = self
            .walked
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        format!("/{}", parts.join("/"))
    }

    fn escapes(&self, why: String) -> SubpathError {
        SubpathError::Escapes {
            sub: self.sub.into(),
            why,
        }
    }

    fn io_err(&self, op: &'static str, path: &str, source: io::Error) -> SubpathError {
        if matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
            SubpathError::NotPermitted {
                sub: self.sub.into(),
                op,
                source,
            }
        } else {
            SubpathError::Io {
                sub: self.sub.into(),
                op,
                path: path.into(),
                source,
            }
        }
    }

    /// Walks one component: into a directory (`None`), or to a file, which must be the last (`Some`). A
    /// symlink's target is put in front of what is left.
    fn step(
        &mut self,
        comp: &[u8],
        pending: &mut VecDeque<Vec<u8>>,
    ) -> Result<Option<OwnedFd>, SubpathError> {
        if comp == b".." {
            if self.stack.len() == 1 {
                return Err(self.escapes("a symbolic link leads above the volume's root".into()));
            }
            self.stack.pop();
            self.walked.pop();
            return Ok(None);
        }
        self.walked.push(comp.to_vec());
        let fd = self.open(comp)?;
        let st = fstat(&fd).map_err(|e| self.io_err("stat", &self.shown(), e))?;
        match file_type(&st) {
            libc::S_IFLNK => {
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(self.escapes("too many levels of symbolic links".into()));
                }
                let target = readlink(&fd).map_err(|e| self.io_err("read", &self.shown(), e))?;
                if target.starts_with(b"/") {
                    return Err(self.escapes(format!(
                        "{} is a symbolic link to the absolute path {:?}",
                        self.shown(),
                        String::from_utf8_lossy(&target)
                    )));
                }
                self.walked.pop();
                for c in components(&target).collect::<Vec<_>>().into_iter().rev() {
                    pending.push_front(c);
                }
                Ok(None)
            }
            libc::S_IFDIR => {
                self.stack.push(fd);
                Ok(None)
            }
            _ => Ok(Some(fd)),
        }
    }

    /// Opens `comp` in the current directory without following it, creating a missing directory if allowed.
    fn open(&self, comp: &[u8]) -> Result<OwnedFd, SubpathError> {
        let parent = self
            .stack
            .last()
            .ok_or_else(|| self.escapes("no directory".into()))?;
        match openat(Some(parent), comp, libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(fd) => Ok(fd),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match self.mkdir_mode {
                Some(mode) => make_dir(parent, comp, mode)
                    .map_err(|e| self.io_err("create", &self.shown(), e)),
                None => Err(self.io_err("open", &self.shown(), e)),
            },
            Err(e) => Err(self.io_err("open", &self.shown(), e)),
        }
    }
}

/// Where the engine pins subPaths: `<state dir>/subpaths/<pod uid>/<n>`.
#[derive(Clone, Debug)]
pub struct SubpathPins {
    dir: PathBuf,
}

static NEXT_PIN: AtomicU64 = AtomicU64::new(0);

impl SubpathPins {
    /// Pins live under `dir` (the state dir's `subpaths`).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Resolves `sub` beneath `root` ([`resolve_beneath`]) and bind-mounts the result onto a new private path
    /// for pod `uid`. The returned pin unmounts and removes that path when dropped.
    pub fn pin(
        &self,
        uid: &str,
        root: &Path,
        sub: &str,
        mkdir_mode: Option<u32>,
    ) -> Result<Pin, SubpathError> {
        let fd = resolve_beneath(root, sub, mkdir_mode)?;
        let is_dir = fstat(&fd)
            .map(|st| file_type(&st) == libc::S_IFDIR)
            .map_err(|e| SubpathError::Io {
                sub: sub.into(),
                op: "stat",
                path: sub.into(),
                source: e,
            })?;
        let pod_dir = self.dir.join(uid);
        let at = pod_dir.join(format!(
            "{}-{}",
            std::process::id(),
            NEXT_PIN.fetch_add(1, Ordering::Relaxed)
        ));
        let err = |op, source: io::Error| {
            if matches!(source.raw_os_error(), Some(libc::EPERM | libc::EACCES)) {
                SubpathError::NotPermitted {
                    sub: sub.into(),
                    op,
                    source,
                }
            } else {
                SubpathError::Io {
                    sub: sub.into(),
                    op,
                    path: at.display().to_string(),
                    source,
                }
            }
        };
        crate::state_dir::create_dir(&pod_dir).map_err(|e| err("create", e))?;
        let made = if is_dir {
            std::fs::DirBuilder::new().create(&at)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&at)
                .map(drop)
        };
        made.map_err(|e| err("create", e))?;
        let pin = Pin {
            path: at.clone(),
            mounted: false,
        };
        let source = cstr(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_bytes())
            .map_err(|e| err("mount", e))?;
        let target = cstr(at.as_os_str().as_bytes()).map_err(|e| err("mount", e))?;
        // SAFETY: valid NUL-terminated paths; a plain bind mount of the descriptor we hold onto our own path.
        let rc = unsafe {
            libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        };
        check(rc).map_err(|e| err("mount", e))?;
        let mut pin = pin;
        pin.mounted = true;
        // The pin must not propagate into other mount namespaces; a failure here leaves it shared, which is
        // harmless (it is unmounted right after the container starts).
        // SAFETY: a valid NUL-terminated path; only the propagation type changes.
        let _ = unsafe {
            libc::mount(
                std::ptr::null(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        Ok(pin)
    }

    /// Unmounts and removes every pin left by an engine that did not exit cleanly. Never deletes anything
    /// recursively: a pin that cannot be unmounted stays (and is logged), so a volume's files are never touched.
    pub fn cleanup_stale(&self) {
        let Ok(pods) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for pod in pods.flatten() {
            if let Ok(entries) = std::fs::read_dir(pod.path()) {
                for e in entries.flatten() {
                    release(&e.path(), true);
                }
            }
            let _ = std::fs::remove_dir(pod.path());
        }
    }
}

/// Unmounts `path` (if `mounted`) and removes the empty mountpoint; logs what could not be done.
fn release(path: &Path, mounted: bool) {
    if let Ok(c) = cstr(path.as_os_str().as_bytes())
        && mounted
    {
        // SAFETY: a valid NUL-terminated path; EINVAL (not a mount point) is expected for stale leftovers.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
    let meta = std::fs::symlink_metadata(path);
    let removed = match meta {
        Ok(m) if m.is_dir() => std::fs::remove_dir(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    if let Err(e) = removed
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), "cannot remove a subPath pin: {e}");
    }
}

/// A subPath bind-mounted onto a private path; unmounted and removed when dropped.
#[derive(Debug)]
pub struct Pin {
    path: PathBuf,
    mounted: bool,
}

impl Pin {
    /// The pinned path, to give Docker as the bind source.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        release(&self.path, self.mounted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn target(fd: &OwnedFd) -> PathBuf {
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
    }

    #[test]
    fn stays_inside_the_volume() {
        let tmp = tempfile::tempdir().unwrap();
        let vol = tmp.path().join("vol");
        std::fs::create_dir_all(vol.join("real/deeper")).unwrap();
        std::fs::write(vol.join("real/file"), "x").unwrap();
        symlink("real", vol.join("inside")).unwrap();
        symlink("real/../real/deeper", vol.join("dots")).unwrap();
        symlink("/etc", vol.join("abs")).unwrap();
        symlink("../../..", vol.join("up")).unwrap();
        symlink("loop", vol.join("loop")).unwrap();

        let vol_real = vol.canonicalize().unwrap();
        let ok = |sub| target(&resolve_beneath(&vol, sub, None).unwrap());
        assert_eq!(ok("real"), vol_real.join("real"));
        assert_eq!(ok("inside"), vol_real.join("real"));
        assert_eq!(ok("inside/file"), vol_real.join("real/file"));
        assert_eq!(ok("dots"), vol_real.join("real/deeper"));

        let err = |sub| resolve_beneath(&vol, sub, None).unwrap_err().to_string();
        assert!(
            err("abs").contains("absolute path \"/etc\""),
            "{}",
            err("abs")
        );
        assert!(
            err("up").contains("above the volume's root"),
            "{}",
            err("up")
        );
        assert!(err("loop").contains("too many levels"), "{}", err("loop"));
        assert!(err("../x").contains("must not contain '..'"));
        assert!(err("/etc").contains("must be a relative path"));
        assert!(
            err("missing").contains("No such file"),
            "{}",
            err("missing")
        );
        assert!(err("real/file/x").contains("Not a directory"));
    }

    #[test]
    fn missing_directories_are_created_with_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let fd = resolve_beneath(tmp.path(), "a/b", Some(0o777)).unwrap();
        let made = tmp.path().join("a/b");
        assert_eq!(target(&fd), made.canonicalize().unwrap());
        let mode = std::fs::metadata(&made).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o777, "the umask does not apply");
        // A symlink in the way is never created through.
        symlink("/tmp", tmp.path().join("l")).unwrap();
        assert!(resolve_beneath(tmp.path(), "l/new", Some(0o777)).is_err());
    }
}
