//! What podtui prints about files (issue 10 item 6): `validate` fails for a file named on the command line
//! that it cannot validate (a FIFO, a file over 10 MB) instead of saying "0 error(s)".

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

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
