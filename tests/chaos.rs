//! Chaos: while `podtui run` watches a directory, random manifest adds, edits (valid and invalid), deletes and
//! renames; `docker kill` of random pod containers and pause containers; one dockerd restart; podtui SIGKILLed
//! and started again. At the end, compared with the manifests: every desired pod runs exactly once, nothing is
//! duplicated, orphaned or leaked (containers and volumes), no manifest file is lost or corrupted, and a pod whose
//! file went invalid kept running its last good version.
//!
//! CI runs a short round (`PODTUI_CHAOS_SECONDS`, default 40). By hand:
//! `PODTUI_CHAOS_SECONDS=600 cargo test --release --test chaos -- --nocapture`.
//! This binary restarts the machine's dockerd (root, as in CI); `PODTUI_SKIP_DOCKERD_RESTART=1` leaves it alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dockerd::restart_dockerd;
use common::{BUSYBOX, Cleanup, docker, run_id};
use podtui::manifest::{Format, ParseInput, SourceId, parse_manifest};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn valid(name: &str, version: u64) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    env: [{{name: VERSION, value: \"{version}\"}}]\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    volumeMounts: [{{name: scratch, mountPath: /scratch}}]\n  - name: side\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n  volumes:\n  - name: scratch\n    emptyDir: {{}}\n"
    )
}

fn invalid(name: &str) -> String {
    valid(name, 0).replace("name: app", "name: App")
}

/// What a file means for the desired state: its pods' UIDs (the engine's rule: absolute path as the source).
fn uids_of(path: &Path, text: &str, node: &str) -> Option<BTreeSet<String>> {
    let abs = std::path::absolute(path).unwrap();
    let display = path.display().to_string();
    let parsed = parse_manifest(&ParseInput {
        display: &display,
        text,
        format: Format::Yaml,
        node_name: node,
        source: &SourceId::File(abs.display().to_string()),
    });
    (!parsed.has_errors()).then(|| parsed.pods.iter().map(|p| p.uid.clone()).collect())
}

struct FileState {
    text: String,
    /// UIDs of the last valid version that was seen running (what must keep running while the file is invalid).
    running_good: Option<BTreeSet<String>>,
}

fn running_uids(node: &str) -> BTreeSet<String> {
    docker(&[
        "ps",
        "--filter",
        &format!("label=dev.podtui.node={node}"),
        "--filter",
        "label=io.kubernetes.docker.type=podsandbox",
        "--format",
        "{{.Label \"io.kubernetes.pod.uid\"}}",
    ])
    .lines()
    .map(String::from)
    .collect()
}

fn start(node: &str, dir: &Path, state: &Path) -> Child {
    Command::new(BIN)
        .args([
            "run",
            dir.to_str().unwrap(),
            "--node-name",
            node,
            "--state-dir",
            state.to_str().unwrap(),
        ])
        .args([
            "--backoff-initial",
            "1s",
            "--backoff-max",
            "4s",
            "--file-check-frequency",
            "2s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn chaos_ends_with_exactly_the_desired_pods_and_no_lost_files() {
    let seconds: u64 = std::env::var("PODTUI_CHAOS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let seed: u64 = std::env::var("PODTUI_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CA05);
    let restart_docker = std::env::var_os("PODTUI_SKIP_DOCKERD_RESTART").is_none();
    let node = run_id("chaos");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut files: BTreeMap<String, FileState> = BTreeMap::new();
    let mut next_name = 0u64;
    let mut version = 0u64;
    let mut engine = start(&node, dir.path(), state.path());
    let path = |f: &str| -> PathBuf { dir.path().join(f) };
    let started = Instant::now();
    let (mut restarted_docker, mut killed_podtui) = (false, false);
    let mut log: Vec<String> = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(300 + rng.below(900) as u64));
        let running = running_uids(&node);
        // Remember which valid versions are running: those must survive an invalid edit.
        for (f, st) in files.iter_mut() {
            if let Some(u) = uids_of(&path(f), &st.text, &node)
                && u.is_subset(&running)
            {
                st.running_good = Some(u);
            }
        }
        let elapsed = started.elapsed().as_secs();
        if restart_docker && !restarted_docker && elapsed > seconds / 3 {
            restarted_docker = true;
            log.push("restart dockerd".into());
            restart_dockerd();
            continue;
        }
        if !killed_podtui && elapsed > seconds * 2 / 3 {
            killed_podtui = true;
            log.push("SIGKILL podtui and start it again".into());
            // SAFETY: our own child.
            unsafe {
                libc::kill(engine.id() as i32, libc::SIGKILL);
            }
            let _ = engine.wait();
            engine = start(&node, dir.path(), state.path());
            continue;
        }
        let names: Vec<String> = files.keys().cloned().collect();
        match rng.below(10) {
            0 | 1 if files.len() < 8 => {
                next_name += 1;
                let f = format!("pod-{next_name}.yaml");
                version += 1;
                let text = valid(&format!("p{next_name}"), version);
                std::fs::write(path(&f), &text).unwrap();
                log.push(format!("add {f}"));
                files.insert(
                    f,
                    FileState {
                        text,
                        running_good: None,
                    },
                );
            }
            2 if !names.is_empty() => {
                let f = &names[rng.below(names.len())];
                version += 1;
                let name = f.trim_end_matches(".yaml").replace("pod-", "p");
                let text = valid(&name, version);
                std::fs::write(path(f), &text).unwrap();
                log.push(format!("edit {f}"));
                files.get_mut(f).unwrap().text = text;
            }
            3 if !names.is_empty() => {
                let f = &names[rng.below(names.len())];
                let name = f.trim_end_matches(".yaml").replace("pod-", "p");
                let text = invalid(&name);
                std::fs::write(path(f), &text).unwrap();
                log.push(format!("break {f}"));
                files.get_mut(f).unwrap().text = text;
            }
            4 if !names.is_empty() => {
                let f = names[rng.below(names.len())].clone();
                std::fs::remove_file(path(&f)).unwrap();
                log.push(format!("delete {f}"));
                files.remove(&f);
            }
            5 if !names.is_empty() => {
                let f = names[rng.below(names.len())].clone();
                next_name += 1;
                let to = format!("pod-{next_name}-renamed.yaml");
                std::fs::rename(path(&f), path(&to)).unwrap();
                log.push(format!("rename {f} {to}"));
                let st = files.remove(&f).unwrap();
                // A renamed file is a new source: its pods get new UIDs; nothing of the old name must survive.
                files.insert(
                    to,
                    FileState {
                        text: st.text,
                        running_good: None,
                    },
                );
            }
            6 | 7 => {
                let ids = docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=dev.podtui.node={node}"),
                ]);
                let ids: Vec<&str> = ids.lines().collect();
                if !ids.is_empty() {
                    let id = ids[rng.below(ids.len())];
                    let _ = Command::new("docker").args(["kill", id]).output();
                    log.push(format!("docker kill {id}"));
                }
            }
            8 => {
                let ids = docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    &format!("label=dev.podtui.node={node}"),
                    "--filter",
                    "label=io.kubernetes.docker.type=podsandbox",
                ]);
                let ids: Vec<&str> = ids.lines().collect();
                if !ids.is_empty() {
                    let id = ids[rng.below(ids.len())];
                    let _ = Command::new("docker").args(["kill", id]).output();
                    log.push(format!("docker kill pause {id}"));
                }
            }
            _ => {}
        }
    }
    assert!(
        engine.try_wait().unwrap().is_none(),
        "podtui died during the chaos"
    );
    // Always end with one file broken after its pod ran: that pod must keep running its last good version.
    {
        let f = "final.yaml".to_string();
        let text = valid("final", 1);
        std::fs::write(path(&f), &text).unwrap();
        let uids = uids_of(&path(&f), &text, &node).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !uids.is_subset(&running_uids(&node)) {
            assert!(Instant::now() < deadline, "final.yaml's pod did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        let broken = invalid("final");
        std::fs::write(path(&f), &broken).unwrap();
        log.push("add final.yaml, then break it".into());
        files.insert(
            f,
            FileState {
                text: broken,
                running_good: Some(uids),
            },
        );
    }

    // What must run now: each file's valid version, or, for a file that is invalid now, the last good version that
    // was running when it broke.
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut stale: BTreeSet<String> = BTreeSet::new();
    for (f, st) in &files {
        match uids_of(&path(f), &st.text, &node) {
            Some(u) => expected.extend(u),
            None => {
                if let Some(u) = &st.running_good {
                    expected.extend(u.iter().cloned());
                    stale.extend(u.iter().cloned());
                }
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let converged = loop {
        let all = docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=dev.podtui.node={node}"),
            "--format",
            "{{.Label \"io.kubernetes.pod.uid\"}} {{.Label \"io.kubernetes.container.name\"}} {{.State}}",
        ]);
        let mut running: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut uids: BTreeSet<String> = BTreeSet::new();
        for l in all.lines() {
            let parts: Vec<&str> = l.split_whitespace().collect();
            uids.insert(parts[0].to_string());
            if parts.get(2) == Some(&"running") {
                *running
                    .entry((parts[0].to_string(), parts[1].to_string()))
                    .or_default() += 1;
            }
        }
        let volumes: BTreeSet<String> = docker(&[
            "volume",
            "ls",
            "--filter",
            &format!("label=dev.podtui.node={node}"),
            "--format",
            "{{.Label \"io.kubernetes.pod.uid\"}}",
        ])
        .lines()
        .map(String::from)
        .collect();
        let every_pod_once = expected.iter().all(|u| {
            ["POD", "app", "side"]
                .iter()
                .all(|c| running.get(&(u.clone(), c.to_string())) == Some(&1))
        });
        let ok = every_pod_once
            && uids == expected
            && volumes == expected
            && running.values().all(|n| *n == 1);
        if ok {
            break None;
        }
        if Instant::now() > deadline {
            break Some(format!(
                "expected pods {expected:?}\ncontainers:\n{all}\nvolumes: {volumes:?}\nrunning counts: {running:?}\nsteps:\n{}",
                log.join("\n")
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    // SAFETY: our own child.
    unsafe {
        libc::kill(engine.id() as i32, libc::SIGKILL);
    }
    let _ = engine.wait();
    if let Some(report) = converged {
        panic!("did not converge to the desired state:\n{report}");
    }
    // No manifest was lost or corrupted: every file is exactly what was last written, and nothing else appeared.
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let written: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(on_disk, written);
    for (f, st) in &files {
        assert_eq!(
            std::fs::read_to_string(path(f)).unwrap(),
            st.text,
            "{f} changed"
        );
    }
    assert!(!stale.is_empty());
    eprintln!(
        "chaos: {} steps, {} pods desired ({} kept running from an invalid file)",
        log.len(),
        expected.len(),
        stale.len()
    );
}
