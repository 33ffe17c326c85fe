//! Termination-message files are hostile input (real dockerd): a flood is cut at 4096 bytes while it is written
//! (the host disk is not filled and the engine never reads more), the files are private to the container's user,
//! and they go away with their instances and their pod.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::common::BUSYBOX;
use crate::common::engine::{TestEngine, container_status, fast_backoff};

fn pod(name: &str, body: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 2\n{body}"
    )
}

fn terminated_message(p: &podtui::engine::PodView, name: &str) -> Option<String> {
    let st = container_status(p, name);
    st.state
        .as_ref()?
        .terminated
        .as_ref()
        .map(|t| t.message.clone().unwrap_or_default())
}

#[tokio::test]
async fn a_flooded_termination_log_is_cut_while_written_and_read_at_most_4096_bytes() {
    let mut t = TestEngine::new("term-flood");
    // 200 MB, as fast as the container can write it.
    t.write(
        "f.yaml",
        &pod(
            "flood",
            &format!(
                "  restartPolicy: Never\n  containers:\n  - name: flood\n    image: {BUSYBOX}\n    command: [sh, -c, 'yes 0123456789abcdef | head -c 200000000 > /dev/termination-log; exit 3']\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let p = t
        .wait_pod("flood", "the flood container created", 30, |p| {
            !p.observed.instances("flood").is_empty()
        })
        .await;
    let file: PathBuf = t
        .state
        .path()
        .join("termination")
        .join(&p.uid)
        .join("flood-0");
    // Sample the file's disk use while it is written.
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak, file) = (done.clone(), peak.clone(), file.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Ok(m) = std::fs::metadata(&file) {
                    peak.fetch_max(m.blocks() * 512, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        })
    };
    let p = t
        .wait_pod("flood", "the flood container exited", 60, |p| {
            terminated_message(p, "flood").is_some()
        })
        .await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let msg = terminated_message(&p, "flood").unwrap();
    assert_eq!(
        msg.len(),
        4096,
        "the first 4096 bytes, as the kubelet reads"
    );
    assert!(msg.starts_with("0123456789abcdef\n"));
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size <= 4096, "the file was cut to 4096 bytes, not {size}");
    let peak = peak.load(Ordering::Relaxed);
    eprintln!("termination flood: peak disk use of the file {peak} bytes");
    assert!(
        peak < 64 << 20,
        "the file took {peak} bytes of disk while 200 MB were written"
    );
    t.stop().await;
}

#[tokio::test]
async fn termination_files_are_private_and_go_away_with_their_instances() {
    let mut t = TestEngine::new("term-files");
    t.write(
        "u.yaml",
        &pod(
            "user",
            &format!(
                "  restartPolicy: Never\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    securityContext: {{runAsUser: 1234}}\n    command: [sh, -c, 'echo written-as-1234 > /dev/termination-log; exit 0']\n"
            ),
        ),
    );
    t.write(
        "c.yaml",
        &pod(
            "crash",
            &format!(
                "  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [sh, -c, 'echo run > /dev/termination-log; exit 1']\n"
            ),
        ),
    );
    t.start(fast_backoff());
    let u = t
        .wait_pod("user", "exited", 60, |p| {
            terminated_message(p, "app").is_some()
        })
        .await;
    assert_eq!(terminated_message(&u, "app").unwrap(), "written-as-1234\n");
    let dir = t.state.path().join("termination");
    let file = dir.join(&u.uid).join("app-0");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), 1234, "the file belongs to the container's user");
    for d in [dir.clone(), dir.join(&u.uid)] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
    }

    // A crash loop keeps only the files of the instances Docker still has (the running one, the last exited).
    let c = t
        .wait_pod("crash", "three restarts", 90, |p| {
            p.pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.restart_count >= 3))
        })
        .await;
    let crash_dir = dir.join(&c.uid);
    let count = || {
        std::fs::read_dir(&crash_dir)
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let files = crate::common::eventually(count, |n| *n <= 2).await;
    assert!(files <= 2, "{files} files kept for a crash loop");

    // Removing the manifests removes the pods' files.
    std::fs::remove_file(t.path("u.yaml")).unwrap();
    std::fs::remove_file(t.path("c.yaml")).unwrap();
    t.wait("pods gone", 60, |s| s.pods.is_empty()).await;
    assert!(!dir.join(&u.uid).exists() && !crash_dir.exists());
    t.stop().await;
}
