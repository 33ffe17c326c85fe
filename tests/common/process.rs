//! podtui as a child process: `podtui run` on its own manifest directory and state dir, killed when the value
//! drops (its pods keep running: pair it with a [`super::Cleanup`] or remove them by label).

use std::process::{Child, Command, Stdio};

use podtui::engine::{DockerState, Snapshot};

/// The podtui binary cargo built for this test or benchmark.
pub const BIN: &str = env!("CARGO_BIN_EXE_podtui");

/// A running `podtui run`.
pub struct PodtuiRun {
    /// The process.
    pub child: Child,
    /// Its node name.
    pub node: String,
    /// The manifest directory it watches.
    pub dir: tempfile::TempDir,
    /// Its state dir.
    pub state: tempfile::TempDir,
}

impl PodtuiRun {
    /// Starts `podtui run <dir> --node-name <node> --state-dir <state> <extra…>` with its output discarded.
    pub fn start(node: &str, extra: &[&str]) -> Self {
        Self::start_on(None, node, extra)
    }

    /// [`PodtuiRun::start`] on the engine at `docker_host` (its `DOCKER_HOST`; `None`: this process's).
    pub fn start_on(docker_host: Option<&str>, node: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BIN);
        if let Some(host) = docker_host {
            cmd.env("DOCKER_HOST", host);
        }
        let child = cmd
            .args(["run", dir.path().to_str().unwrap(), "--node-name", node])
            .args(["--state-dir", state.path().to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self {
            child,
            node: node.to_string(),
            dir,
            state,
        }
    }

    /// Waits until the engine answers on its socket, connected to Docker, with every source read.
    pub async fn ready(&self, secs: u64) -> Snapshot {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let snap = podtui::engine::server::fetch_snapshot(self.state.path()).await;
            if let Some(s) =
                snap.filter(|s| s.synced && matches!(s.docker, DockerState::Connected(_)))
            {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "podtui run (node {}) was not ready after {secs}s",
                self.node
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The full name of pod `name` on this node.
    pub fn full(&self, name: &str) -> String {
        format!("{name}-{}", self.node)
    }

    /// The label filter of everything the engine creates for this node.
    pub fn label(&self) -> String {
        format!("dev.podtui.node={}", self.node)
    }

    /// Writes manifest `file` into the watched directory.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join(file), text).unwrap();
    }

    /// SIGKILLs the process and reaps it (its pods keep running).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PodtuiRun {
    fn drop(&mut self) {
        self.kill();
    }
}
