//! What users ask of the engine, whoever they are (the TUI, the command line, the Kubernetes API): one
//! [`Request`] type for every intent and one [`Reply`]. Requests about pods are recorded by the pod's worker and
//! carried out from its next look at Docker; manifest writes are carried out here, by [`write_manifest`], the one
//! path into the watched directory (the directory watch then applies what was written).

use std::path::{Path, PathBuf};

use crate::manifest::finding::Finding;
use crate::manifest::identity::SourceId;
use crate::manifest::parse::{Format, ParseInput, parse_manifest};
use crate::manifest::store::{self, SaveReport, StoreError, TrashEntry};
use crate::state_dir;

/// An intent: what to do, never how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Kill every container of a pod (SIGKILL); the engine brings it back per its restartPolicy.
    KillPod {
        /// The pod's UID.
        uid: String,
    },
    /// Terminate a pod now with this grace period instead of its own (`kubectl delete --grace-period=N`): preStop
    /// hooks, SIGTERM, SIGKILL when the grace period ends. Its manifest's removal follows as a separate write;
    /// the first grace period asked for stays.
    TerminatePod {
        /// The pod's UID.
        uid: String,
        /// The grace period, seconds.
        grace_seconds: u32,
    },
    /// Stop one container (preStop, then its grace period) and start a new instance of it.
    RestartContainer {
        /// The pod's UID.
        uid: String,
        /// The container's name.
        container: String,
    },
    /// Validate and save a manifest atomically (the previous version goes to `<state dir>/backups`). An invalid
    /// text is refused and nothing is written.
    SaveManifest {
        /// The file.
        path: PathBuf,
        /// The new text.
        text: String,
    },
    /// Validate and write a new manifest atomically; an existing file is never overwritten (refused with
    /// [`StoreError::Io`] of kind `AlreadyExists`, see [`already_exists`]). The Kubernetes API's create.
    CreateManifest {
        /// The new file.
        path: PathBuf,
        /// Its text.
        text: String,
    },
    /// Move a manifest to `<state dir>/trash` (its pods are then removed).
    DeleteManifest {
        /// The file.
        path: PathBuf,
    },
    /// Put a trashed manifest back: the newest, or the one with this id.
    RestoreManifest {
        /// Trash entry id; `None` for the newest.
        id: Option<String>,
    },
    /// `client` looks at these pods' resource use: sample them every second for a while (see
    /// [`super::stats::Interest`]); renew to keep looking. Replaces the client's previous interest.
    WatchStats {
        /// Who looks (`tui`, `api`).
        client: String,
        /// Pod UIDs; `None` for every pod; empty to stop looking.
        pods: Option<Vec<String>>,
        /// Their pause containers too, every second (else on the 10 s baseline).
        sandboxes: bool,
    },
}

/// The engine's answer to a [`Request`].
#[derive(Debug)]
pub enum Reply {
    /// Recorded: the pod's worker carries it out from its next look at Docker.
    Accepted,
    /// The engine runs no pod with that UID.
    UnknownPod,
    /// The manifest was saved.
    Saved(SaveReport),
    /// The manifest is in the trash.
    Trashed(TrashEntry),
    /// A trashed manifest is back at this path.
    Restored(PathBuf),
    /// The manifest write was refused (invalid text) or failed; nothing was lost.
    Failed(StoreError),
    /// The engine has stopped and did nothing.
    EngineStopped,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = |p: &Path| crate::text::display_path(p);
        match self {
            Reply::Accepted => write!(f, "requested"),
            Reply::UnknownPod => write!(f, "no such pod"),
            Reply::Saved(r) => write!(f, "saved {}", path(&r.path)),
            Reply::Trashed(e) => write!(f, "moved {} to the trash", path(&e.original)),
            Reply::Restored(p) => write!(f, "restored {}", path(p)),
            Reply::Failed(e) => write!(f, "{e}"),
            Reply::EngineStopped => write!(f, "the engine stopped"),
        }
    }
}

/// Carries out a manifest write (save, delete to the trash, restore) for node `node` with the state dir
/// `state`; `None` when `req` is not a manifest write. The engine runs every such request through here, and
/// so can tests and other front ends that have no engine running.
pub fn write_manifest(req: &Request, node: &str, state: &Path) -> Option<Reply> {
    let reply = match req {
        Request::SaveManifest { path, text } => {
            match store::save_manifest(path, text, node, &state.join(state_dir::BACKUPS)) {
                Ok(r) => {
                    tracing::info!(path = %r.path.display(), backup = ?r.backup, "manifest saved");
                    Reply::Saved(r)
                }
                Err(e) => {
                    tracing::info!(path = %path.display(), "manifest save refused: {e}");
                    Reply::Failed(e)
                }
            }
        }
        Request::CreateManifest { path, text } => create_manifest(path, text, node),
        Request::DeleteManifest { path } => {
            match store::trash_manifest(path, &state.join(state_dir::TRASH)) {
                Ok(e) => Reply::Trashed(e),
                Err(e) => Reply::Failed(e),
            }
        }
        Request::RestoreManifest { id } => {
            match store::restore_manifest(&state.join(state_dir::TRASH), id.as_deref()) {
                Ok(p) => Reply::Restored(p),
                Err(e) => Reply::Failed(e),
            }
        }
        Request::KillPod { .. }
        | Request::TerminatePod { .. }
        | Request::RestartContainer { .. }
        | Request::WatchStats { .. } => return None,
    };
    Some(reply)
}

/// Validates `text` as the manifest `path` would hold for node `node`: the findings (errors and warnings) of
/// `podtui validate`, without writing anything. What a dry run and the API's checks use.
pub fn check_manifest(path: &Path, text: &str, node: &str) -> Vec<Finding> {
    let display = path.display().to_string();
    let source = SourceId::File(display.clone());
    parse_manifest(&ParseInput {
        display: &display,
        text,
        format: Format::from_path(path),
        node_name: node,
        source: &source,
    })
    .findings
}

fn exists_error(path: &Path) -> StoreError {
    StoreError::Io {
        op: "create",
        path: crate::text::display_path(path),
        source: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file exists; not overwriting it",
        ),
    }
}

/// True when a create was refused because its file exists.
pub fn already_exists(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists)
}

/// Writes a new file: validated first, then written to a hidden temporary file and hard-linked to `path`, which
/// fails if `path` exists (so a file that appeared meanwhile is never overwritten either).
fn create_manifest(path: &Path, text: &str, node: &str) -> Reply {
    let findings = check_manifest(path, text, node);
    if findings.iter().any(Finding::is_error) {
        return Reply::Failed(StoreError::Invalid(findings));
    }
    if path.exists() {
        return Reply::Failed(exists_error(path));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.podtui-create-{}.tmp", std::process::id()));
    if let Err(e) = store::write_atomic(&tmp, text.as_bytes()) {
        return Reply::Failed(e);
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "manifest created");
            Reply::Saved(SaveReport {
                path: path.to_path_buf(),
                backup: None,
                created: true,
            })
        }
        Err(source) => Reply::Failed(StoreError::Io {
            op: "create",
            path: crate::text::display_path(path),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: busybox:1\n";

    #[test]
    fn manifest_writes_save_trash_and_restore() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, state) = (tmp.path().join("m"), tmp.path().join("state"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("web.yaml");
        let save = |text: &str| Request::SaveManifest {
            path: path.clone(),
            text: text.into(),
        };
        let Some(Reply::Saved(r)) = write_manifest(&save(POD), "n", &state) else {
            panic!("saved")
        };
        assert!(r.created && r.backup.is_none());
        let bad = POD.replace("name: c", "name: Bad_Name");
        assert!(matches!(
            write_manifest(&save(&bad), "n", &state),
            Some(Reply::Failed(StoreError::Invalid(_)))
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), POD, "nothing lost");
        let delete = Request::DeleteManifest { path: path.clone() };
        assert!(matches!(
            write_manifest(&delete, "n", &state),
            Some(Reply::Trashed(_))
        ));
        assert!(!path.exists());
        let restore = Request::RestoreManifest { id: None };
        let Some(Reply::Restored(p)) = write_manifest(&restore, "n", &state) else {
            panic!("restored")
        };
        assert_eq!(std::fs::read_to_string(p).unwrap(), POD);
        let create = |text: &str| Request::CreateManifest {
            path: dir.join("new.yaml"),
            text: text.into(),
        };
        assert!(matches!(
            write_manifest(&create(&bad), "n", &state),
            Some(Reply::Failed(StoreError::Invalid(_)))
        ));
        assert!(
            !dir.join("new.yaml").exists(),
            "an invalid create writes nothing"
        );
        assert!(matches!(
            write_manifest(&create(POD), "n", &state),
            Some(Reply::Saved(SaveReport {
                created: true,
                backup: None,
                ..
            }))
        ));
        assert_eq!(std::fs::read_to_string(dir.join("new.yaml")).unwrap(), POD);
        let other = POD.replace("busybox:1", "busybox:2");
        assert!(matches!(
            write_manifest(&create(&other), "n", &state),
            Some(Reply::Failed(ref e)) if already_exists(e)
        ));
        assert_eq!(
            std::fs::read_to_string(dir.join("new.yaml")).unwrap(),
            POD,
            "never overwritten"
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
        let kill = Request::KillPod { uid: "u".into() };
        assert!(write_manifest(&kill, "n", &state).is_none());
    }
}
