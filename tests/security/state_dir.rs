//! The state dir leaks no secrets (issue 10 item 5): under umask 022 the state dir is 0700 and every file podtui
//! writes in it 0600 (last good copies, backups, trash, the log, the lock, the socket), and a tree an older
//! podtui left 0755/0644 is fixed when an engine starts, without touching what is not podtui's.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use podtui::engine::{Engine, Reply, Request};

use crate::common::engine::{config, fast_backoff};
use crate::common::{BUSYBOX, Cleanup, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn assert_mode(p: &Path, want: u32) {
    assert_eq!(
        mode(p),
        want,
        "{}: mode {:o}, want {want:o}",
        p.display(),
        mode(p)
    );
}

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  annotations:\n    token: s3cr3t\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n"
    )
}

fn set(p: &Path, m: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
}

fn wait_for(what: &str, secs: u64, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `podtui run` with the default state dir location (`$XDG_STATE_HOME/podtui`, not there yet) under umask 022:
/// the dir, the lock, the socket, the log and the last good copy of a manifest holding a token are private.
#[test]
fn run_creates_a_private_state_dir_under_umask_022() {
    let node = run_id("state-dir-run");
    let _cleanup = Cleanup::node(&node);
    let tmp = tempfile::tempdir().unwrap();
    let manifests = tmp.path().join("manifests");
    fs::create_dir(&manifests).unwrap();
    fs::write(manifests.join("a.yaml"), pod("a")).unwrap();
    let xdg = tmp.path().join("xdg");
    let state = xdg.join("podtui");
    let mut child = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(BIN)
        .args(["run", "--cleanup-on-exit", "--node-name", &node])
        .arg(&manifests)
        .env("XDG_STATE_HOME", &xdg)
        .env_remove("PODTUI_STATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lastgood = state.join("lastgood");
    wait_for("the socket, the log and a last good copy", 60, || {
        state.join("engine.sock").exists()
            && state.join("podtui.log").exists()
            && fs::read_dir(&lastgood).is_ok_and(|mut d| d.next().is_some())
    });
    let copies: Vec<PathBuf> = fs::read_dir(&lastgood)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let result = std::panic::catch_unwind(|| {
        assert_mode(&state, 0o700);
        assert_eq!(mode(&xdg) & 0o077, 0, "a missing parent is made 0700");
        assert_mode(&state.join("engine.lock"), 0o600);
        assert_mode(&state.join("engine.sock"), 0o600);
        assert_mode(&state.join("podtui.log"), 0o600);
        assert_mode(&lastgood, 0o700);
        for c in &copies {
            assert!(fs::read_to_string(c).unwrap().contains("s3cr3t"));
            assert_mode(c, 0o600);
        }
    });
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A state dir an older podtui left 0755 with 0644 files is fixed when the engine starts (podtui's entries
/// only, never through a symlink, termination-message files untouched), and what the engine writes afterwards
/// (a backup when a manifest is saved, the trash when one is deleted) is 0600 in 0700 dirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_start_fixes_an_open_tree_and_writes_private_files() {
    // SAFETY: umask has no preconditions; 022 is the usual default, so other tests are not disturbed.
    unsafe { libc::umask(0o022) };
    let node = run_id("state-dir-fix");
    let _cleanup = Cleanup::node(&node);
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dirs = [
        "",
        "backups",
        "trash",
        "lastgood",
        "logs",
        "logs/old",
        "edit",
        "termination",
        "termination/uid",
    ];
    for d in dirs {
        fs::create_dir_all(state.join(d)).unwrap();
        set(&state.join(d), 0o755);
    }
    let files = [
        "podtui.log",
        "engine.lock",
        "backups/a.yaml.1.bak",
        "trash/1-a.yaml",
        "trash/1-a.yaml.json",
        "logs/old/p.log",
        "edit/a.yaml",
    ];
    for f in files {
        fs::write(state.join(f), "token: s3cr3t\n").unwrap();
        set(&state.join(f), 0o644);
    }
    fs::write(state.join("termination/uid/app-0"), "").unwrap();
    set(&state.join("termination/uid/app-0"), 0o666);
    fs::write(state.join("notes.txt"), "mine").unwrap();
    set(&state.join("notes.txt"), 0o644);
    let outside = tmp.path().join("outside.txt");
    fs::write(&outside, "not podtui's").unwrap();
    set(&outside, 0o644);
    symlink(&outside, state.join("backups/link")).unwrap();

    // (No stale last good copy: the source forgets those of files that are gone, as soon as it starts.)
    let manifests = tmp.path().join("manifests");
    fs::create_dir(&manifests).unwrap();
    let handle = Engine::start(config(&node, &manifests, &state, fast_backoff())).unwrap();

    assert_mode(&state, 0o700);
    for d in &dirs[1..] {
        assert_mode(&state.join(d), 0o700);
    }
    for f in files {
        assert_mode(&state.join(f), 0o600);
    }
    assert_mode(&state.join("engine.sock"), 0o600);
    assert_mode(&state.join("termination/uid/app-0"), 0o666);
    assert_mode(&state.join("notes.txt"), 0o644);
    assert_mode(&outside, 0o644);

    // A manifest outside the watched directory: saved and deleted through the engine, no pod runs.
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let path = elsewhere.join("b.yaml");
    fs::write(&path, pod("b")).unwrap();
    set(&path, 0o644);
    let save = Request::SaveManifest {
        path: path.clone(),
        text: pod("b").replace("s3cr3t", "n3w"),
    };
    let Reply::Saved(report) = handle.request(save).await else {
        panic!("saved")
    };
    let backup = report.backup.expect("the previous version is backed up");
    assert!(fs::read_to_string(&backup).unwrap().contains("s3cr3t"));
    assert_mode(&backup, 0o600);
    assert_mode(&path, 0o644);

    let Reply::Trashed(entry) = handle
        .request(Request::DeleteManifest { path: path.clone() })
        .await
    else {
        panic!("trashed")
    };
    let trashed = state.join("trash").join(&entry.id);
    assert!(fs::read_to_string(&trashed).unwrap().contains("n3w"));
    assert_mode(&trashed, 0o600);
    assert_mode(
        &state.join("trash").join(format!("{}.json", entry.id)),
        0o600,
    );
    handle.shutdown(false).await;
}
