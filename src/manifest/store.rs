//! Writing manifests safely: a save is validated first (an invalid text is refused and nothing is written), the
//! previous version is copied to `<state dir>/backups`, and the new text is written to a temporary file in the
//! same directory and renamed over the old one (atomic: a reader sees the old or the new file, never half of
//! one). Deleting moves the file to `<state dir>/trash`, from where it can be restored. What lands in the state
//! dir (backups, trashed files, last good copies) is private, 0600 in 0700 directories ([`crate::state_dir`]):
//! manifests may hold tokens.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::finding::Finding;
use super::identity::SourceId;
use super::parse::{Format, ParseInput, parse_manifest};
use crate::state_dir;

/// Why a manifest could not be saved, deleted or restored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The text has errors; nothing was written.
    #[error("refused: the manifest has {} error(s); nothing was written", .0.iter().filter(|f| f.is_error()).count())]
    Invalid(Vec<Finding>),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing to restore, or the target exists.
    #[error("{0}")]
    Restore(String),
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        op,
        path: crate::text::display_path(&path),
        source,
    }
}

/// What a save did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveReport {
    /// The file written.
    pub path: PathBuf,
    /// Where the previous version was copied, if there was one.
    pub backup: Option<PathBuf>,
    /// True when the file did not exist before.
    pub created: bool,
}

fn stamp() -> String {
    Timestamp::now().strftime("%Y%m%dT%H%M%S%.6fZ").to_string()
}

/// Validates `text` as the manifest at `path` for node `node`, backs up the current file into `backups`, and
/// writes `text` atomically.
pub fn save_manifest(
    path: &Path,
    text: &str,
    node: &str,
    backups: &Path,
) -> Result<SaveReport, StoreError> {
    let display = path.display().to_string();
    let source = SourceId::File(display.clone());
    let parsed = parse_manifest(&ParseInput {
        display: &display,
        text,
        format: Format::from_path(path),
        node_name: node,
        source: &source,
    });
    if parsed.has_errors() {
        return Err(StoreError::Invalid(parsed.findings));
    }
    let created = !path.exists();
    let mut backup = None;
    if !created {
        state_dir::create_dir(backups).map_err(io("create", backups))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let b = backups.join(format!("{name}.{}.bak", stamp()));
        state_dir::copy_file(path, &b).map_err(io("back up", path))?;
        backup = Some(b);
    }
    write_atomic(path, text.as_bytes())?;
    Ok(SaveReport {
        path: path.to_path_buf(),
        backup,
        created,
    })
}

/// Writes `bytes` to a hidden temporary file next to `path` (skipped by the directory source), syncs it, and
/// renames it over `path`. The file keeps its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    write_atomic_as(path, bytes, false)
}

/// [`write_atomic`] for a file of the state dir: its directory is created 0700 and the file is 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        state_dir::create_dir(dir).map_err(io("create", dir))?;
    }
    write_atomic_as(path, bytes, true)
}

fn write_atomic_as(path: &Path, bytes: &[u8], private: bool) -> Result<(), StoreError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.podtui-{}.tmp", std::process::id()));
    let result = (|| {
        // Created with the umask's mode, then 0600 while the text is written: a manifest the user keeps 0600
        // is never readable by others through the temporary file.
        let mut f = fs::File::create(&tmp).map_err(io("create", &tmp))?;
        let umask_mode = f.metadata().map_err(io("stat", &tmp))?.permissions();
        f.set_permissions(fs::Permissions::from_mode(state_dir::FILE_MODE))
            .map_err(io("chmod", &tmp))?;
        f.write_all(bytes).map_err(io("write", &tmp))?;
        // A state-dir file stays 0600; a manifest keeps its mode (a new one gets the umask's).
        if !private {
            let mode = fs::metadata(path).map_or(umask_mode, |m| m.permissions());
            f.set_permissions(mode).map_err(io("chmod", &tmp))?;
        }
        f.sync_all().map_err(io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io("rename over", path))?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A deleted manifest kept in the trash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrashEntry {
    /// Its id (the file name in the trash).
    pub id: String,
    /// Where it was.
    pub original: PathBuf,
    /// When it was deleted.
    pub deleted: Timestamp,
}

/// Moves `path` to the trash in `trash`; returns the entry.
pub fn trash_manifest(path: &Path, trash: &Path) -> Result<TrashEntry, StoreError> {
    state_dir::create_dir(trash).map_err(io("create", trash))?;
    let original = std::path::absolute(path).map_err(io("resolve", path))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = format!("{}-{name}", stamp());
    let target = trash.join(&id);
    if fs::rename(path, &target).is_ok() {
        // The file keeps its mode through the rename: make it private now that it is in the state dir.
        state_dir::make_private(&target).map_err(io("chmod", &target))?;
    } else {
        // Another file system: copy, then remove.
        state_dir::copy_file(path, &target).map_err(io("copy to the trash", path))?;
        fs::remove_file(path).map_err(io("remove", path))?;
    }
    let entry = TrashEntry {
        id: id.clone(),
        original,
        deleted: Timestamp::now(),
    };
    let meta = serde_json::to_vec_pretty(&entry).unwrap_or_default();
    state_dir::write_file(&trash.join(format!("{id}.json")), &meta).map_err(io("write", trash))?;
    Ok(entry)
}

/// The trash, newest first.
pub fn list_trash(trash: &Path) -> Vec<TrashEntry> {
    let mut entries: Vec<TrashEntry> = fs::read_dir(trash)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .filter_map(|e| serde_json::from_slice(&fs::read(e.path()).ok()?).ok())
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by(|a, b| b.deleted.cmp(&a.deleted).then(b.id.cmp(&a.id)));
    entries
}

/// Puts a trashed manifest back where it was (the newest, or `id`). An existing file there is never overwritten.
pub fn restore_manifest(trash: &Path, id: Option<&str>) -> Result<PathBuf, StoreError> {
    let entries = list_trash(trash);
    let entry = match id {
        Some(id) => entries.into_iter().find(|e| e.id == id),
        None => entries.into_iter().next(),
    }
    .ok_or_else(|| StoreError::Restore("the trash is empty".into()))?;
    if entry.original.exists() {
        return Err(StoreError::Restore(format!(
            "{} exists again; not overwriting it (the deleted version is {})",
            crate::text::display_path(&entry.original),
            crate::text::display_path(&trash.join(&entry.id))
        )));
    }
    let src = trash.join(&entry.id);
    let bytes = fs::read(&src).map_err(io("read", &src))?;
    write_atomic(&entry.original, &bytes)?;
    fs::remove_file(&src).map_err(io("remove", &src))?;
    let _ = fs::remove_file(trash.join(format!("{}.json", entry.id)));
    Ok(entry.original)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: 'i:1'}]}\n";

    #[test]
    fn invalid_save_writes_nothing_valid_save_backs_up() {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, GOOD).unwrap();
        let err = save_manifest(
            &path,
            &GOOD.replace("name: c", "name: C"),
            "n",
            &state.path().join("backups"),
        )
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref f) if f.len() == 1),
            "{err:?}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), GOOD);

        let new = GOOD.replace("i:1", "i:2");
        let r = save_manifest(&path, &new, "n", &state.path().join("backups")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), new);
        assert_eq!(fs::read_to_string(r.backup.unwrap()).unwrap(), GOOD);
        assert!(!r.created);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn trash_and_restore() {
        let dir = tempfile::tempdir().unwrap();
        let trash = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, GOOD).unwrap();
        let e = trash_manifest(&path, trash.path()).unwrap();
        assert!(!path.exists());
        assert_eq!(list_trash(trash.path()), vec![e.clone()]);
        fs::write(&path, "other").unwrap();
        assert!(
            restore_manifest(trash.path(), None).is_err(),
            "never overwrites"
        );
        fs::remove_file(&path).unwrap();
        assert_eq!(
            restore_manifest(trash.path(), Some(&e.id)).unwrap(),
            std::path::absolute(&path).unwrap()
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), GOOD);
        assert!(list_trash(trash.path()).is_empty());
    }
}
