//! Settings resolved from the command line and the environment: node name, state dir, sources.

use std::path::{Path, PathBuf};

use crate::cli::CommonArgs;
use crate::manifest::SourcesConfig;
use crate::manifest::names::is_dns1123_subdomain;

/// This host's name, lowercased: the default node name.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes a NUL-terminated name into it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into())
    };
    name.trim().to_ascii_lowercase()
}

/// The node name to use: the flag, or the host name; checked to be usable in pod and container names.
pub fn node_name(flag: Option<&str>) -> Result<String, String> {
    let name = flag.map(str::to_ascii_lowercase).unwrap_or_else(host_name);
    if !is_dns1123_subdomain(&name) || name.len() > 63 {
        return Err(format!(
            "node name {name:?} is not usable: it must be a lowercase RFC 1123 name of at most 63 characters (set --node-name)"
        ));
    }
    Ok(name)
}

/// The default state dir: `$XDG_STATE_HOME/podtui`, else `~/.local/state/podtui`.
pub fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("podtui");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".local/state/podtui")
}

/// The config dir for the TUI's settings: `$XDG_CONFIG_HOME/podtui`, else `~/.config/podtui`.
pub fn default_config_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("podtui");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".config/podtui")
}

/// Common settings, resolved.
#[derive(Debug, Clone)]
pub struct Common {
    /// Node name.
    pub node_name: String,
    /// State dir.
    pub state_dir: PathBuf,
    /// The raw flags.
    pub args: CommonArgs,
}

impl Common {
    /// Resolves the common flags.
    pub fn resolve(args: &CommonArgs) -> Result<Self, String> {
        Ok(Self {
            node_name: node_name(args.node_name.as_deref())?,
            state_dir: args.state_dir.clone().unwrap_or_else(default_state_dir),
            args: args.clone(),
        })
    }

    /// The manifest sources for `path` (and the URL flag, if given).
    pub fn sources(&self, path: Option<&Path>) -> SourcesConfig {
        SourcesConfig {
            path: path.map(Path::to_path_buf),
            url: self.args.manifest_url.clone(),
            url_headers: self.args.manifest_url_header.clone(),
            node_name: self.node_name.clone(),
            file_check_frequency: self.args.file_check_frequency,
            http_check_frequency: self.args.http_check_frequency,
            last_good_dir: None,
        }
    }
}
