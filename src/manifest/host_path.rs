//! hostPath volumes on the host, as the kubelet checks them before a pod starts: the type check (Directory,
//! File, Socket, …) and the creation of the *OrCreate types.

/// Checks (and for the *OrCreate types, creates) a hostPath, as the kubelet does.
pub fn check_host_path(path: &str, type_: &str) -> Result<(), String> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(path);
    match type_ {
        "" => Ok(()),
        "DirectoryOrCreate" => match meta {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(format!(
                "hostPath type check failed: {path} is not a directory"
            )),
            Err(_) => {
                std::fs::create_dir_all(path).map_err(|e| format!("cannot create {path}: {e}"))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                    .map_err(|e| e.to_string())
            }
        },
        "FileOrCreate" => match meta {
            Ok(m) if m.is_file() => Ok(()),
            Ok(_) => Err(format!("hostPath type check failed: {path} is not a file")),
            Err(_) => {
                if let Some(parent) = std::path::Path::new(path).parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                std::fs::write(path, b"").map_err(|e| format!("cannot create {path}: {e}"))?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
                    .map_err(|e| e.to_string())
            }
        },
        kind => {
            let m = meta.map_err(|_| {
                format!("hostPath type check failed: {path} does not exist (type {kind})")
            })?;
            let ft = m.file_type();
            let ok = match kind {
                "Directory" => ft.is_dir(),
                "File" => ft.is_file(),
                "Socket" => ft.is_socket(),
                "CharDevice" => ft.is_char_device(),
                "BlockDevice" => ft.is_block_device(),
                _ => true,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "hostPath type check failed: {path} is not a {kind}"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_types() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("new/dir");
        assert!(check_host_path(d.to_str().unwrap(), "Directory").is_err());
        check_host_path(d.to_str().unwrap(), "DirectoryOrCreate").unwrap();
        assert!(d.is_dir());
        let f = dir.path().join("f/file");
        check_host_path(f.to_str().unwrap(), "FileOrCreate").unwrap();
        assert!(f.is_file());
        assert!(
            check_host_path(f.to_str().unwrap(), "Directory")
                .unwrap_err()
                .contains("is not a Directory")
        );
        check_host_path("/nonexistent/x", "").unwrap();
    }
}
