//! A tmux session for the real-terminal tests: keys go in with send-keys, the screen comes back with
//! capture-pane, and the session is killed when the value drops, pass or fail.

use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux session, killed on drop.
pub struct Tmux {
    /// The session's name (the test's run id).
    pub session: String,
}

impl Tmux {
    /// Starts a detached `width`x`height` session named `session` running `command`.
    pub fn start(session: &str, width: u16, height: u16, command: &str) -> Tmux {
        let t = Tmux {
            session: session.to_string(),
        };
        let out = Command::new("tmux")
            .args(["new-session", "-d", "-s", session, "-x", &width.to_string()])
            .args(["-y", &height.to_string(), command])
            .output()
            .expect("tmux is installed (scripts/setup-docker.sh)");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    /// Runs a tmux command and returns its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is installed (scripts/setup-docker.sh)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Sends keys one at a time (tmux key names), with a short pause after each.
    pub fn send(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", &self.session, k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.session, "-l", text]);
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Waits until the screen satisfies `pred` and returns it; fails the test after `secs` with the screen.
    pub fn wait(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        self.wait_timed(what, secs, pred).0
    }

    /// Like [`Tmux::wait`], and also returns how long the wait took (polling every 20 ms).
    pub fn wait_timed(
        &self,
        what: &str,
        secs: u64,
        pred: impl Fn(&str) -> bool,
    ) -> (String, Duration) {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if pred(&s) {
                return (s, started.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one key (a tmux key name) with no pause after it, for timing what follows.
    pub fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", &self.session, key]);
    }

    /// Polls the screen every `every` until `pred` holds; returns how long that took, or `None` after `secs`
    /// (for benchmarks, which record a miss instead of failing).
    pub fn poll(
        &self,
        secs: u64,
        every: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(secs) {
            if pred(&self.screen()) {
                return Some(started.elapsed());
            }
            std::thread::sleep(every);
        }
        None
    }

    /// The PID of the program the pane runs: the pane's process if it is `comm`, else its first child (the
    /// pane's shell may exec the program or run it as a child).
    pub fn pane_program(&self, comm: &str) -> Option<u32> {
        let pane: u32 = self.display("#{pane_pid}").parse().ok()?;
        if std::fs::read_to_string(format!("/proc/{pane}/comm"))
            .ok()?
            .trim()
            == comm
        {
            return Some(pane);
        }
        let children =
            std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children")).ok()?;
        children.split_whitespace().next()?.parse().ok()
    }

    /// `tmux display-message -p` of a format (e.g. `#{pane_title}`).
    pub fn display(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", &self.session, format])
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}
