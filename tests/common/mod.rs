//! Helpers shared by the Docker tests: a unique run id per test, and a guard that removes every container and
//! volume labelled with it when the test ends, pass or fail.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The busybox test image built by scripts/setup-docker.sh (explicit tag: never pulled).
pub const BUSYBOX: &str = "localhost/podtui-test/busybox:1";

/// Label every test object carries, with the run id as its value.
pub const RUN_LABEL: &str = "dev.podtui.test-run";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique id for one test: usable as a podtui node name (lowercase RFC 1123) and as a label value.
pub fn run_id(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let slug: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(20)
        .collect();
    format!("t{}-{n}-{:x}-{slug}", std::process::id(), nanos % 0xfffff)
        .trim_end_matches('-')
        .to_string()
}

/// Removes every container and volume that carries `label=value` when dropped.
pub struct Cleanup {
    filters: Vec<String>,
}

impl Cleanup {
    /// Cleans up objects labelled `RUN_LABEL=<id>`.
    pub fn run(id: &str) -> Self {
        Self { filters: vec![format!("{RUN_LABEL}={id}")] }
    }

    /// Cleans up objects owned by podtui node `node` (the engine's own labels).
    pub fn node(node: &str) -> Self {
        Self { filters: vec![format!("dev.podtui.node={node}")] }
    }
}

/// IDs of containers matching a label filter.
pub fn containers_with(filter: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--no-trunc", "--filter", &format!("label={filter}")])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect()
}

/// Names of volumes matching a label filter.
pub fn volumes_with(filter: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["volume", "ls", "-q", "--filter", &format!("label={filter}")])
        .output()
        .expect("docker volume ls");
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect()
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for f in &self.filters {
            let ids = containers_with(f);
            if !ids.is_empty() {
                let _ = Command::new("docker").args(["rm", "-f", "-v"]).args(&ids).output();
            }
            let vols = volumes_with(f);
            if !vols.is_empty() {
                let _ = Command::new("docker").args(["volume", "rm", "-f"]).args(&vols).output();
            }
        }
    }
}

/// Output of `docker <args>` (stdout, trimmed); panics when docker fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
