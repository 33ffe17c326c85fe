//! `podtui delete [pod] POD... [--path PATH]`, like `kubectl delete pod`: each pod's manifest goes to the
//! trash (restorable with `u` or `:restore` in the TUI), or, when its file holds other pods too, the file is
//! saved without the pod's document (the previous version backed up) — as the API's `DELETE` and ctrl-d in the
//! TUI do. The running engine sees the file change and terminates the pod with its grace period; without an
//! engine the containers stay until one starts (it removes them) or `podtui down`.

use std::sync::Arc;

use crate::cli::DeleteArgs;
use crate::config::Common;
use crate::engine::request::{Reply, write_manifest};
use crate::engine::snapshot::PodView;
use crate::text::display_path;

/// Runs `delete`; returns the exit code (1 when a pod was not found or its manifest could not change).
pub async fn run(args: &DeleteArgs, common: &Common) -> i32 {
    let (pods, derived, _) = match super::get::pods(&args.path, common).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("podtui delete: {e}");
            return 1;
        }
    };
    let mut names: Vec<String> = args.pods.clone();
    if names.len() > 1 && super::describe::is_kind_word(&names[0]) {
        names.remove(0);
    }
    let mut code = 0;
    for arg in names {
        let name = super::describe::without_kind(&arg).to_string();
        match delete_one(&pods, &name, common) {
            Ok(done) => println!("{done}"),
            Err(e) => {
                eprintln!("podtui delete: {e}");
                code = 1;
            }
        }
    }
    if derived && code == 0 {
        eprintln!(
            "note: no podtui engine is running for this state dir: the pods' containers stay until one starts (it removes them) or `podtui down`"
        );
    }
    code
}

fn delete_one(pods: &[Arc<PodView>], name: &str, common: &Common) -> Result<String, String> {
    let Some(p) = super::describe::find(pods, name, &common.node_name).filter(|p| p.desired) else {
        return Err(format!(
            "pod {name} not found on node {} (or already being deleted)",
            common.node_name
        ));
    };
    let req = crate::api::delete::removal(p, &common.node_name).map_err(|e| e.message)?;
    let short = p
        .name
        .strip_suffix(&format!("-{}", common.node_name))
        .unwrap_or(&p.name);
    match write_manifest(&req, &common.node_name, &common.state_dir) {
        Some(Reply::Trashed(e)) => Ok(format!(
            "pod \"{short}\" deleted ({} moved to the trash as {}; the TUI's u or :restore {} brings it back)",
            display_path(&e.original),
            e.id,
            e.id
        )),
        Some(Reply::Saved(r)) => Ok(format!(
            "pod \"{short}\" deleted (its document removed from {}{})",
            display_path(&r.path),
            r.backup
                .as_ref()
                .map(|b| format!("; the previous version is {}", display_path(b)))
                .unwrap_or_default()
        )),
        Some(other) => Err(format!("pod {short}: {other}")),
        None => Err(format!("pod {short}: nothing to do")),
    }
}
