//! Restarting the machine's dockerd under a running podtui (the Docker-restart and chaos tests). Needs root,
//! as CI has.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The pid of the running dockerd, if one runs.
pub fn dockerd_pid() -> Option<i32> {
    let out = Command::new("pidof").arg("dockerd").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether `docker info` succeeds.
pub fn docker_answers() -> bool {
    Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops dockerd with SIGTERM, waits for it to exit, starts it again in its own session (logging to
/// /var/log/podtui-dockerd.log, as scripts/setup-docker.sh does) and waits until it answers.
pub fn restart_dockerd() {
    let pid =
        dockerd_pid().expect("dockerd runs on this machine (scripts/setup-docker.sh starts it)");
    // SAFETY: signalling dockerd; the test runs as root.
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGTERM) },
        0,
        "cannot signal dockerd (run as root, or set PODTUI_SKIP_DOCKERD_RESTART=1)"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "dockerd did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("/var/log/podtui-dockerd.log")
        .unwrap();
    // `setsid -f` forks dockerd into its own session and returns at once.
    Command::new("setsid")
        .args(["-f", "dockerd"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !docker_answers() {
        assert!(Instant::now() < deadline, "dockerd did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
}
