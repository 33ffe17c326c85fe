//! `podtui [PATH]`: the engine under the terminal UI. Tracing goes to `<state dir>/podtui.log`.

use std::path::Path;

use crate::cli::EngineArgs;
use crate::config::Common;
use crate::engine::Engine;

/// Starts the engine and the UI; returns the exit code.
pub async fn run(path: &Path, engine: &EngineArgs, common: &Common) -> i32 {
    if !path.exists() && common.args.manifest_url.is_none() {
        eprintln!(
            "podtui: {}: no such file or directory (give a manifest directory or file)",
            crate::text::display_path(path)
        );
        return 2;
    }
    let mut cfg = match crate::tui::app_config(
        &common.node_name,
        &common.state_dir,
        Some(path.to_path_buf()),
    ) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("podtui: config: {}", crate::text::escape_controls(&e));
            return 2;
        }
    };
    crate::logging::to_file(&common.state_dir);
    let handle = match Engine::start(super::run::engine_config(common, path, engine)) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("podtui: {}", crate::text::escape_controls(&e.to_string()));
            return 1;
        }
    };
    let api = crate::api::serve_engine(&handle, common, engine).await;
    cfg.api = crate::api::header(&api);
    let code = match crate::tui::run(handle, cfg).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podtui: terminal: {e}");
            1
        }
    };
    if let Some(Ok(api)) = api {
        api.shutdown().await;
    }
    code
}
