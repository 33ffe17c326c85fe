//! Terminal safety in a real terminal: a container prints every class of escape sequence (CSI cursor moves and
//! screen clears, OSC 0/2 titles, OSC 52 clipboard, DCS, C1 controls, invalid UTF-8) and a 1 MB line, while the
//! TUI follows its log in tmux. Every byte podtui writes to the terminal is recorded (tmux pipe-pane): none of
//! those sequences may reach it, the pane's title and clipboard stay untouched, and the screen stays intact and
//! responsive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::tmux::Tmux;
use common::{BUSYBOX, Cleanup, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

const HOSTILE: &str = r#"printf 'title\033]0;PWNED-TITLE\007 after\n'
printf 'osc2\033]2;PWNED-TWO\033\\ after\n'
printf 'clip\033]52;c;UFdORUQtQ0xJUA==\007 after\n'
printf 'dcs\033P1$rPWNED-DCS\033\\ after\n'
printf 'csi\033[2J\033[H\033[31;1mred\033[0m\033[10;10Hmoved\033[?1049l\033[?25l\033[6n after\n'
printf 'c1 \302\23331m \302\235PWNED-C1\302\234 after\n'
printf 'raw \233 \235 \377\376 bytes\n'
head -c 1048576 /dev/zero | tr '\0' 'x'; echo
echo DONE-MARKER
trap 'exit 0' TERM; while true; do sleep 1; done"#;

#[test]
fn hostile_log_output_never_reaches_the_terminal() {
    let node = run_id("term-safety");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let script = dir.path().join("hostile.sh");
    std::fs::write(&script, HOSTILE).unwrap();
    let manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostile\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: noisy\n    image: {BUSYBOX}\n    command: [/bin/sh, /script/hostile.sh]\n    volumeMounts: [{{name: s, mountPath: /script}}]\n  volumes:\n  - name: s\n    hostPath: {{path: {}}}\n",
        dir.path().display()
    );
    let manifests = tempfile::tempdir().unwrap();
    std::fs::write(manifests.path().join("hostile.yaml"), manifest).unwrap();
    let record = state.path().join("terminal.bytes");
    let t = Tmux::start(&node, 120, 36, "sh");
    t.run(&["set-option", "-t", &node, "set-clipboard", "on"]);
    t.run(&["set-option", "-t", &node, "allow-rename", "on"]);
    t.run(&["select-pane", "-t", &node, "-T", "podtui-safety"]);
    let before_buffers = t.run(&["list-buffers"]);
    t.run(&[
        "pipe-pane",
        "-o",
        "-t",
        &node,
        &format!("cat >> {}", record.display()),
    ]);
    let cmd = format!(
        "TERM=xterm-256color XDG_CONFIG_HOME={} {BIN} {} --node-name {node} --state-dir {}; echo PODTUI-EXIT=$?",
        state.path().display(),
        manifests.path().display(),
        state.path().display()
    );
    t.run(&["send-keys", "-t", &node, "-l", &cmd]);
    t.run(&["send-keys", "-t", &node, "Enter"]);
    t.wait("the pod running", 90, |s| {
        s.contains(&format!("hostile-{node}")) && s.contains("Running")
    });
    t.run(&["send-keys", "-t", &node, "l"]);
    let screen = t.wait("the end of the hostile log", 60, |s| {
        s.contains("DONE-MARKER")
    });
    // The screen is intact: the header is where it belongs, the log view is drawn, the sanitized text is there.
    let first = screen.lines().next().unwrap_or_default();
    assert!(first.starts_with("podtui · docker"), "{screen}");
    assert!(screen.contains("Logs noisy"), "{screen}");
    // Still responsive with a 1 MB line in the buffer: a key shows on screen promptly.
    t.run(&["send-keys", "-t", &node, "w"]);
    let (_, latency) = t.wait_timed("wrap off", 10, |s| s.contains("wrap off"));
    assert!(latency < Duration::from_secs(2), "{latency:?}");
    t.run(&["send-keys", "-t", &node, "g"]);
    let top = t.wait("the top of the log", 10, |s| s.contains("title after"));
    for line in [
        "title after",
        "osc2 after",
        "clip after",
        "dcs after",
        "csiredmoved after",
        "c1   after",
        "raw",
    ] {
        assert!(top.contains(line), "{line:?} missing:\n{top}");
    }
    t.run(&["send-keys", "-t", &node, "q"]);
    t.wait("podtui exited", 30, |s| s.contains("PODTUI-EXIT=0"));
    t.run(&["pipe-pane", "-t", &node]);

    assert_eq!(
        t.display("#{pane_title}"),
        "podtui-safety",
        "the title was changed"
    );
    assert_eq!(
        t.run(&["list-buffers"]),
        before_buffers,
        "something reached the clipboard"
    );
    assert_eq!(t.display("#{alternate_on}"), "0");
    let bytes = std::fs::read(&record).unwrap();
    assert!(bytes.len() > 1000, "nothing was recorded");
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(
        !find(b"PWNED"),
        "a payload of a hostile sequence reached the terminal"
    );
    assert!(
        !find(b"UFdORUQtQ0xJUA"),
        "the clipboard payload reached the terminal"
    );
    assert!(!find(b"\x1b]"), "an OSC sequence reached the terminal");
    assert!(!find(b"\x1bP"), "a DCS sequence reached the terminal");
    // CSI sequences cannot be told apart from podtui's own drawing in this byte stream (ratatui moves the cursor
    // and crossterm asks for its position at start); that the log's CSIs did not act shows on the intact screen
    // above, and the sanitizer's unit tests check they are removed.
    assert!(
        !bytes.contains(&0xff) && !bytes.contains(&0xfe),
        "invalid UTF-8 reached the terminal"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "a C1 control reached the terminal"
    );
}
