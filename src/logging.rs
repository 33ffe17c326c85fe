//! tracing setup: podtui's own diagnostic logs go to `<state dir>/podtui.log` (never to the terminal a UI draws
//! on, nor mixed into `run`'s event lines). `PODTUI_LOG` or `RUST_LOG` set the filter (default `info`).

use std::path::{Path, PathBuf};

use tracing_subscriber::EnvFilter;

/// Sends tracing output to `<state_dir>/podtui.log` (0600 in a 0700 dir: it names files and pods); returns
/// the file's path. Failing to open it is not fatal.
pub fn to_file(state_dir: &Path) -> Option<PathBuf> {
    crate::state_dir::create_dir(state_dir).ok()?;
    let path = state_dir.join(crate::state_dir::LOG);
    let file = crate::state_dir::create_file(&path, true).ok()?;
    let filter = std::env::var("PODTUI_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .unwrap_or_else(|| "info".into());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).ok()?;
    Some(path)
}
