//! `podtui kubeconfig [--merge [--set-current]]`: where the engine wrote the kubeconfig of its API (so
//! `export KUBECONFIG=$(podtui kubeconfig)` works), or its one context merged into `~/.kube/config` after a
//! backup, leaving every other context as it was.

use std::path::{Path, PathBuf};

use crate::api::kubeconfig::{context_name, merge, path};
use crate::api::private::{private_dir, write_private};
use crate::cli::KubeconfigArgs;
use crate::config::Common;

/// Runs `kubeconfig`; returns the exit code.
pub fn run(args: &KubeconfigArgs, common: &Common) -> i32 {
    let ours = path(&common.state_dir);
    if !args.merge {
        println!("{}", ours.display());
        if !ours.exists() {
            eprintln!(
                "note: {} does not exist yet: start podtui (or podtui run) with this state dir and node name; it writes the file when its API starts",
                ours.display()
            );
        }
        return 0;
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    match merge_into(
        &ours,
        &home.join(".kube/config"),
        &context_name(&common.node_name),
        args.set_current,
    ) {
        Ok(msg) => {
            println!("{msg}");
            0
        }
        Err(e) => {
            eprintln!("podtui kubeconfig: {e}");
            1
        }
    }
}

/// Merges the context `name` of `ours` into `target`, backing `target` up first; returns what was done.
pub fn merge_into(
    ours: &Path,
    target: &Path,
    name: &str,
    set_current: bool,
) -> Result<String, String> {
    let text = std::fs::read_to_string(ours).map_err(|e| {
        format!(
            "{}: {e} (start podtui with this state dir and node name first: it writes the file when its API starts)",
            ours.display()
        )
    })?;
    let existing = match std::fs::read_to_string(target) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", target.display())),
    };
    let merged = merge(existing.as_deref(), &text, name, set_current).map_err(|e| e.to_string())?;
    if let Some(dir) = target.parent()
        && !dir.exists()
    {
        private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut msg = String::new();
    if let Some(old) = &existing {
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ");
        let backup = target.with_file_name(format!(
            "{}.podtui-backup-{stamp}",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        write_private(&backup, old.as_bytes()).map_err(|e| format!("{}: {e}", backup.display()))?;
        msg = format!(" (backup: {})", backup.display());
    }
    write_private(target, merged.as_bytes()).map_err(|e| format!("{}: {e}", target.display()))?;
    let is_current = serde_yaml::from_str::<serde_yaml::Value>(&merged)
        .ok()
        .and_then(|v| v.get("current-context")?.as_str().map(|c| c == name))
        .unwrap_or(false);
    let current = if is_current {
        format!("; current context is now {name}")
    } else {
        format!("; use it with: kubectl --context {name} get pods")
    };
    Ok(format!(
        "context {name} merged into {}{msg}{current}",
        target.display()
    ))
}
