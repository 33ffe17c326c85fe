//! What podtui prints about files (issue 10 items 6 and 7): `validate` fails for a file named on the command
//! line that it cannot validate (a FIFO, a file over 10 MB) instead of saying "0 error(s)"; and a file name
//! with control characters (`$'n\e[31mRED\nline.yaml'`) is shown escaped by `validate`, `podtui run`'s event
//! lines, `podtui get` and the TUI, so it can neither drive the terminal nor fake a line of output.

use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use podtui::tui::app::App;

use crate::common::tui::{code, config, ctrl, fixture, key, now, render};
use crate::common::{BUSYBOX, Cleanup, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

/// The hostile name, and how podtui shows it.
const EVIL: &str = "n\u{1b}[31mRED\nline.yaml";
const EVIL_SHOWN: &str = "n\\u{1b}[31mRED\\nline.yaml";

const VALID: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ok\nspec:\n  containers:\n  - name: app\n    image: busybox:1\n";
const INVALID: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: app\n    image: busybox:1\n";

fn validate(args: &[&Path]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("validate")
        .args(args)
        .args(["--node-name", "node1"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn validate_fails_for_a_fifo_named_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    mkfifo(&fifo);
    let (code, out) = validate(&[&fifo]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{}: cannot be validated: a FIFO (named pipe), not a regular file",
            fifo.display()
        )),
        "{out}"
    );
    assert!(out.contains("1 error(s)"), "{out}");
    assert!(!out.contains("skipped"), "{out}");

    // Named together with its directory: one error, not also a skip.
    fs_write(&dir.path().join("ok.yaml"), VALID);
    let (code, out) = validate(&[dir.path(), &fifo]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("skipped"), "{out}");
    assert!(out.contains("1 error(s)"), "{out}");

    // Inside a directory named on the command line it is skipped, as `podtui run` skips it: not an error.
    let (code, out) = validate(&[dir.path()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("skipped {} (not a regular file)", fifo.display())),
        "{out}"
    );
}

#[test]
fn validate_fails_for_a_file_over_10_mb_named_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(10 * 1024 * 1024 + 1).unwrap();
    let (code, out) = validate(&[&big]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{}: cannot be validated: larger than 10 MB (10485761 bytes)",
            big.display()
        )),
        "{out}"
    );
}

/// As `kubectl apply -f` and a kubelet given one file: a file named explicitly is read whatever its extension.
#[test]
fn validate_reads_a_named_file_whatever_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("pod.txt");
    fs_write(&txt, INVALID);
    let (code, out) = validate(&[&txt]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("metadata.name"), "{out}");
    fs_write(&txt, VALID);
    let (code, out) = validate(&[&txt]);
    assert_eq!(code, 0, "{out}");
}

fn fs_write(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
}

/// No ESC (or other control byte but the newline ending each line) anywhere, and the name shown escaped on
/// one line.
fn assert_escaped(out: &str, shown: &str) {
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "raw control characters in {out:?}"
    );
    assert!(out.contains(shown), "{shown} not in {out:?}");
    assert!(
        !out.lines().any(|l| l.starts_with("line.yaml")),
        "the name's newline started a line: {out:?}"
    );
}

#[test]
fn validate_escapes_control_characters_in_file_names() {
    let dir = tempfile::tempdir().unwrap();
    fs_write(&dir.path().join(EVIL), INVALID);
    fs_write(&dir.path().join("t\u{1b}]0;pwned\u{7}.txt"), "x");
    let (code, out) = validate(&[dir.path()]);
    assert_eq!(code, 1, "{out}");
    assert_escaped(&out, &format!("{EVIL_SHOWN}:4: metadata.name: "));
    assert!(out.contains("skipped "), "{out}");
    assert!(
        out.contains("t\\u{1b}]0;pwned\\u{7}.txt (not a manifest extension"),
        "{out}"
    );
    let (code, out) = validate(&[&dir.path().join(EVIL)]);
    assert_eq!(code, 1, "{out}");
    assert_escaped(&out, EVIL_SHOWN);
}

#[test]
fn run_event_lines_escape_file_names() {
    let node = run_id("escape-run");
    let _cleanup = Cleanup::node(&node);
    let manifests = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    fs_write(&manifests.path().join(EVIL), INVALID);
    let mut child = Command::new(BIN)
        .args(["run", "--node-name", &node, "--state-dir"])
        .arg(state.path())
        .arg(manifests.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            if tx
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    while !(seen.contains("Manifest: invalid") && seen.contains("Finding: ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => break,
        }
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert!(seen.contains("Manifest: invalid"), "{seen}");
    assert_escaped(
        &seen,
        &format!(
            "manifest {}/{EVIL_SHOWN} Manifest: invalid",
            manifests.path().display()
        ),
    );
    assert!(
        seen.contains(&format!(
            "Finding: {}/{EVIL_SHOWN}:4: metadata.name",
            manifests.path().display()
        )),
        "{seen}"
    );
}

#[test]
fn get_wide_escapes_the_file_column() {
    let node = run_id("escape-get");
    let _cleanup = Cleanup::node(&node);
    let manifests = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    fs_write(
        &manifests.path().join(EVIL),
        &VALID.replace("busybox:1", BUSYBOX),
    );
    let out = Command::new(BIN)
        .args([
            "get",
            "pods",
            "-o",
            "wide",
            "--node-name",
            &node,
            "--state-dir",
        ])
        .arg(state.path())
        .arg(manifests.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("ok-{node}")), "{stdout}");
    assert_escaped(
        &stdout,
        &format!("{}/{EVIL_SHOWN}", manifests.path().display()),
    );
}

/// The TUI: the manifests pane, the pods table's FILE column, the finding under an invalid file, the delete
/// confirmation and a footer message show the names escaped.
#[test]
fn tui_shows_file_names_escaped() {
    let mut snap = (*fixture()).clone();
    let evil = format!("manifests/{EVIL}");
    let skipped = "manifests/t\u{1b}]0;pwned\u{7}.txt";
    for f in &mut snap.files {
        if f.path == "manifests/broken.yaml" {
            f.path = evil.clone();
            for x in &mut f.findings {
                x.file = evil.clone();
            }
        } else if f.path == "manifests/notes.txt" {
            f.path = skipped.into();
        }
    }
    let mut pods = snap.pods.clone();
    for p in &mut pods {
        if p.source == "manifests/broken.yaml" {
            let mut v = (**p).clone();
            v.source = evil.clone();
            *p = Arc::new(v);
        }
    }
    snap.pods = pods;
    let snap = Arc::new(snap);
    let mut app = App::new(config(Path::new("/state"), None), snap.clone());
    app.now = now(&snap);

    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains(&format!("manifests/{EVIL_SHOWN}")),
        "pods FILE column:\n{screen}"
    );
    app.on_key(code(KeyCode::Tab));
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains(&format!("invalid  {EVIL_SHOWN} ")),
        "manifests pane:\n{screen}"
    );
    assert!(
        screen.contains(&format!(
            "manifests/{EVIL_SHOWN}:8: spec.containers[0].name"
        )),
        "finding line:\n{screen}"
    );
    assert!(
        screen.contains("skipped  t\\u{1b}]0;pwned\\u{7}.txt "),
        "{screen}"
    );

    app.on_key(ctrl('d'));
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains(&format!("Delete manifests/{EVIL_SHOWN}?")),
        "confirmation:\n{screen}"
    );
    app.on_key(key('n'));

    while app.files_pos.selected < 4 {
        app.on_key(code(KeyCode::Down));
    }
    app.on_key(key('e'));
    let screen = render(&mut app, 160, 48);
    assert!(
        screen.contains("manifests/t\\u{1b}]0;pwned\\u{7}.txt is not a manifest"),
        "footer:\n{screen}"
    );
}
