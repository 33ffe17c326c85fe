//! Which engine the tests run against (`DOCKER_HOST`: dockerd, or podman's Docker-compatible service), read from
//! the engine's version answer as podtui reads it, and a skip guard for what cannot hold on podman.

use std::process::Command;
use std::sync::OnceLock;

/// Whether the engine answering the docker CLI is podman: its version answer lists a `Podman Engine` component.
pub fn on_podman() -> bool {
    static PODMAN: OnceLock<bool> = OnceLock::new();
    *PODMAN.get_or_init(|| {
        let out = Command::new("docker")
            .args([
                "version",
                "--format",
                "{{range .Server.Components}}{{.Name}};{{end}}",
            ])
            .output()
            .expect("docker version");
        String::from_utf8_lossy(&out.stdout).contains("Podman Engine")
    })
}

/// How podtui names the engine in `get pods -o wide` (a node's containerRuntimeVersion): `docker://`,
/// `podman://`.
pub fn engine_scheme() -> &'static str {
    if on_podman() {
        "podman://"
    } else {
        "docker://"
    }
}

/// On podman, says why the calling test cannot hold there and returns true (the test then returns):
/// `if common::skip_on_podman("why") { return; }`.
pub fn skip_on_podman(why: &str) -> bool {
    if on_podman() {
        eprintln!("skipped on podman: {why}");
    }
    on_podman()
}
