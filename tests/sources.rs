//! Manifest sources on a real temporary directory (inotify + relist) and a real HTTP server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use podtui::manifest::{DesiredState, FileState, SourcesConfig, spawn_sources};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

fn pod_yaml(name: &str, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: {image}\n    command: [sleep, '3600']\n"
    )
}

fn config(path: &Path) -> SourcesConfig {
    SourcesConfig {
        path: Some(path.to_path_buf()),
        url: None,
        url_headers: vec![],
        node_name: "testnode".into(),
        file_check_frequency: Duration::from_secs(20),
        http_check_frequency: Duration::from_secs(20),
        last_good_dir: None,
    }
}

/// Every state the source publishes, recorded in order.
struct Recorder {
    rx: watch::Receiver<Arc<DesiredState>>,
    seen: Arc<Mutex<Vec<Arc<DesiredState>>>>,
    cancel: CancellationToken,
}

impl Recorder {
    fn start(cfg: SourcesConfig) -> Self {
        let cancel = CancellationToken::new();
        let rx = spawn_sources(cfg, cancel.clone()).unwrap();
        let seen = Arc::new(Mutex::new(vec![rx.borrow().clone()]));
        let mut r2 = rx.clone();
        let s2 = seen.clone();
        tokio::spawn(async move {
            while r2.changed().await.is_ok() {
                let v = r2.borrow_and_update().clone();
                s2.lock().unwrap().push(v);
            }
        });
        Self { rx, seen, cancel }
    }

    fn now(&self) -> Arc<DesiredState> {
        self.rx.borrow().clone()
    }

    /// Waits until `pred` holds for the current state (at most 5 s).
    async fn wait_for(
        &self,
        what: &str,
        pred: impl Fn(&DesiredState) -> bool,
    ) -> Arc<DesiredState> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let cur = self.now();
            if pred(&cur) {
                return cur;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; state: {:#?}",
                cur.files
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the source has read every write made so far in `dir`: writes a file that is not a manifest
    /// (`zz-barrier-<n>.txt`) and waits for the state that lists it as skipped. Each written path is read a few
    /// ms after its writer closed it, in the order of the writes, so that state already reflects the earlier
    /// writes. Returns the index in [`Recorder::history`] of that state (the file is listed as pending just
    /// before, once its write is seen).
    async fn barrier(&self, dir: &Path) -> usize {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "zz-barrier-{}.txt",
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        fs::write(dir.join(&name), "not a manifest\n").unwrap();
        self.wait_for(&format!("{name} listed"), |s| {
            matches!(state_of(s, &name), Some(FileState::Skipped { .. }))
        })
        .await;
        self.history()
            .iter()
            .position(|s| matches!(state_of(s, &name), Some(FileState::Skipped { .. })))
            .unwrap()
    }

    fn history(&self) -> Vec<Arc<DesiredState>> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn images(s: &DesiredState) -> Vec<String> {
    s.pods
        .values()
        .map(|p| {
            p.pod.spec.as_ref().unwrap().containers[0]
                .image
                .clone()
                .unwrap()
        })
        .collect()
}

fn state_of<'a>(s: &'a DesiredState, file: &str) -> Option<&'a FileState> {
    s.files
        .iter()
        .find(|f| f.path.ends_with(file))
        .map(|f| &f.state)
}

#[tokio::test]
async fn create_modify_delete() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::start(config(dir.path()));
    assert!(rec.now().synced);
    assert!(rec.now().pods.is_empty());

    fs::write(dir.path().join("web.yaml"), pod_yaml("web", "busybox:1")).unwrap();
    let s = rec.wait_for("web applied", |s| s.pods.len() == 1).await;
    let uid1 = s.pods.keys().next().unwrap().clone();
    assert_eq!(state_of(&s, "web.yaml"), Some(&FileState::Applied));
    assert_eq!(s.pod_by_key("default/web-testnode").unwrap().uid, uid1);

    fs::write(dir.path().join("web.yaml"), pod_yaml("web", "busybox:2")).unwrap();
    let s = rec
        .wait_for("new version", |s| images(s) == ["busybox:2"])
        .await;
    assert_ne!(
        s.pods.keys().next().unwrap(),
        &uid1,
        "changed content gets a new UID"
    );

    fs::remove_file(dir.path().join("web.yaml")).unwrap();
    rec.wait_for("pod removed", |s| s.pods.is_empty() && s.files.is_empty())
        .await;
}

#[tokio::test]
async fn identical_rewrite_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("web.yaml"), pod_yaml("web", "busybox:1")).unwrap();
    let rec = Recorder::start(config(dir.path()));
    assert_eq!(rec.now().pods.len(), 1, "the first list is immediate");
    let before = rec.history().len();
    // Same content, different formatting: same UID, nothing to publish.
    fs::write(dir.path().join("web.yaml"), pod_yaml("web", "busybox:1")).unwrap();
    fs::write(
        dir.path().join("web.yaml"),
        format!("# a comment\n{}", pod_yaml("web", "busybox:1")),
    )
    .unwrap();
    // Since then, every state published is the barrier's (its file pending, then skipped), differing from the
    // first state in nothing else: a state for the rewrites would either not list the barrier file or carry
    // another UID or file status.
    let skipped = rec.barrier(dir.path()).await;
    let history = rec.history();
    let others = |s: &DesiredState| {
        s.files
            .iter()
            .filter(|f| !f.path.contains("zz-barrier-"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let initial = &history[before - 1];
    for s in &history[before..=skipped] {
        assert!(
            s.files.iter().any(|f| f.path.contains("zz-barrier-"))
                && s.pods.keys().eq(initial.pods.keys())
                && others(s) == others(initial),
            "published for an identical rewrite: {:#?}",
            s.files
        );
    }
}

#[tokio::test]
async fn rename_over_and_truncate_then_write_are_read_complete() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("web.yaml");
    fs::write(&target, pod_yaml("web", "busybox:1")).unwrap();
    let rec = Recorder::start(config(dir.path()));

    // Write a temp file, then rename it over the manifest (what many editors do).
    let tmp = dir.path().join(".web.yaml.tmp");
    fs::write(&tmp, pod_yaml("web", "busybox:2")).unwrap();
    fs::rename(&tmp, &target).unwrap();
    rec.wait_for("renamed-over version", |s| images(s) == ["busybox:2"])
        .await;

    // Truncate, pause, then write in two halves with a pause (a slow writer).
    let text = pod_yaml("web", "busybox:3");
    let (a, b) = text.split_at(text.len() / 2);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&target)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    f.write_all(a.as_bytes()).unwrap();
    f.flush().unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    f.write_all(b.as_bytes()).unwrap();
    drop(f);
    rec.wait_for("truncated-then-written version", |s| {
        images(s) == ["busybox:3"]
    })
    .await;
    // The complete version was read after the last close, which cancels any pending re-read of a half-written
    // one; the barrier shows the source has nothing older left to report.
    rec.barrier(dir.path()).await;

    for s in rec.history() {
        assert_eq!(s.pods.len(), 1, "the pod never disappeared: {:#?}", s.files);
        assert!(
            !matches!(state_of(&s, "web.yaml"), Some(FileState::Invalid { .. })),
            "a half-written file was reported as invalid: {:#?}",
            s.files
        );
    }
}

#[tokio::test]
async fn burst_of_edits_ends_with_the_last_version() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("burst.yaml");
    fs::write(&target, pod_yaml("burst", "busybox:0")).unwrap();
    let rec = Recorder::start(config(dir.path()));
    for i in 1..=100 {
        fs::write(&target, pod_yaml("burst", &format!("busybox:{i}"))).unwrap();
    }
    rec.wait_for("last edit", |s| images(s) == ["busybox:100"])
        .await;
    rec.barrier(dir.path()).await;
    let history = rec.history();
    assert_eq!(images(history.last().unwrap()), ["busybox:100"]);
    for s in &history {
        assert_eq!(s.pods.len(), 1, "{:#?}", s.files);
        assert_eq!(state_of(s, "burst.yaml"), Some(&FileState::Applied));
    }
    // Debounced: far fewer states than edits.
    assert!(
        history.len() < 20,
        "{} states published for 100 edits",
        history.len()
    );
}

#[tokio::test]
async fn invalid_edit_keeps_the_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("web.yaml");
    fs::write(&target, pod_yaml("web", "busybox:1")).unwrap();
    let rec = Recorder::start(config(dir.path()));
    let uid = rec.now().pods.keys().next().unwrap().clone();

    fs::write(
        &target,
        pod_yaml("web", "busybox:1").replace("name: app", "name: App"),
    )
    .unwrap();
    let s = rec
        .wait_for("invalid", |s| {
            matches!(state_of(s, "web.yaml"), Some(FileState::Invalid { .. }))
        })
        .await;
    assert_eq!(
        state_of(&s, "web.yaml"),
        Some(&FileState::Invalid { stale: true })
    );
    assert_eq!(
        s.pods.keys().next(),
        Some(&uid),
        "the running version stays desired"
    );
    let finding = &s.files[0].findings[0];
    assert_eq!(finding.line, Some(7));
    assert!(
        finding
            .to_string()
            .contains("web.yaml:7: spec.containers[0].name: \"App\" is not a valid container name"),
        "{finding}"
    );

    fs::write(&target, pod_yaml("web", "busybox:1")).unwrap();
    rec.wait_for("applied again", |s| {
        state_of(s, "web.yaml") == Some(&FileState::Applied)
    })
    .await;
    assert_eq!(rec.now().pods.keys().next(), Some(&uid));
}

#[tokio::test]
async fn swap_files_hidden_files_and_subdirectories_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("web.yaml"), pod_yaml("web", "busybox:1")).unwrap();
    let rec = Recorder::start(config(dir.path()));
    fs::write(dir.path().join(".web.yaml.swp"), "binary junk").unwrap();
    fs::write(
        dir.path().join("web.yaml~"),
        pod_yaml("backup", "busybox:9"),
    )
    .unwrap();
    fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(
        dir.path().join("sub/inner.yaml"),
        pod_yaml("inner", "busybox:1"),
    )
    .unwrap();
    let s = rec
        .wait_for("skipped entries", |s| {
            s.files.len() == 5 && s.files.iter().all(|f| f.state != FileState::Pending)
        })
        .await;
    let skipped: Vec<(String, String)> = s
        .files
        .iter()
        .filter_map(|f| match &f.state {
            FileState::Skipped { reason } => Some((
                Path::new(&f.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                reason.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        skipped,
        [
            (".web.yaml.swp".to_string(), "hidden file".to_string()),
            (
                "notes.txt".into(),
                "not a manifest extension (.yaml, .yml, .json)".into()
            ),
            (
                "sub".into(),
                "subdirectory (podtui does not recurse)".into()
            ),
            ("web.yaml~".into(), "editor backup or swap file".into()),
        ]
    );
    assert_eq!(s.pods.len(), 1);
}

#[tokio::test]
async fn symlinks_are_followed_and_relist_sees_target_changes() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("real.yaml");
    fs::write(&target, pod_yaml("linked", "busybox:1")).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("linked.yaml")).unwrap();
    let mut cfg = config(dir.path());
    cfg.file_check_frequency = Duration::from_millis(200);
    let rec = Recorder::start(cfg);
    assert_eq!(images(&rec.now()), ["busybox:1"]);
    // inotify on the directory does not see the target change; the relist does.
    tokio::time::sleep(Duration::from_millis(50)).await;
    fs::write(&target, pod_yaml("linked", "busybox:22")).unwrap();
    rec.wait_for("relisted target", |s| images(s) == ["busybox:22"])
        .await;
}

#[tokio::test]
async fn duplicate_names_first_file_wins_without_flapping() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yaml"), pod_yaml("web", "busybox:a")).unwrap();
    fs::write(dir.path().join("b.yaml"), pod_yaml("web", "busybox:b")).unwrap();
    let mut cfg = config(dir.path());
    cfg.file_check_frequency = Duration::from_millis(100);
    let rec = Recorder::start(cfg);
    let s = rec.now();
    assert_eq!(images(&s), ["busybox:a"]);
    assert_eq!(state_of(&s, "b.yaml"), Some(&FileState::Conflict));
    assert!(s.files[1].conflicts[0].owner.ends_with("a.yaml"));
    // Touch b.yaml repeatedly across relists: a.yaml keeps the pod.
    for i in 0..5 {
        fs::write(
            dir.path().join("b.yaml"),
            pod_yaml("web", &format!("busybox:b{i}")),
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    // The last write of b.yaml has been read before the history is checked.
    rec.barrier(dir.path()).await;
    for s in rec.history() {
        assert_eq!(images(&s), ["busybox:a"]);
    }
}

#[tokio::test]
async fn single_file_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("only.yaml");
    fs::write(&file, pod_yaml("only", "busybox:1")).unwrap();
    fs::write(
        dir.path().join("other.yaml"),
        pod_yaml("other", "busybox:1"),
    )
    .unwrap();
    let rec = Recorder::start(config(&file));
    assert_eq!(rec.now().pods.len(), 1);
    fs::write(&file, pod_yaml("only", "busybox:2")).unwrap();
    rec.wait_for("edit of the file", |s| images(s) == ["busybox:2"])
        .await;
    fs::write(
        dir.path().join("other.yaml"),
        pod_yaml("other", "busybox:3"),
    )
    .unwrap();
    // A later edit of the watched file is read after the write of other.yaml (the directory is what inotify
    // watches): once it shows, other.yaml has had its chance to be taken in.
    fs::write(&file, pod_yaml("only", "busybox:4")).unwrap();
    let s = rec
        .wait_for("second edit of the file", |s| images(s) == ["busybox:4"])
        .await;
    assert_eq!(s.pods.len(), 1);
    assert_eq!(s.files.len(), 1, "{:#?}", s.files);
    fs::remove_file(&file).unwrap();
    rec.wait_for("file deleted", |s| s.pods.is_empty()).await;
}

#[tokio::test]
async fn http_source_polls_keeps_pods_on_error_and_sends_headers() {
    let server = common::http::TestServer::start().await;
    *server.response.lock().unwrap() = (200, pod_yaml("remote", "busybox:1"));
    let cfg = SourcesConfig {
        path: None,
        url: Some(server.url.clone()),
        url_headers: vec!["X-Token: secret".into()],
        node_name: "testnode".into(),
        file_check_frequency: Duration::from_secs(20),
        http_check_frequency: Duration::from_millis(100),
        last_good_dir: None,
    };
    let rec = Recorder::start(cfg);
    let s = rec
        .wait_for("remote pod", |s| s.pods.len() == 1 && s.synced)
        .await;
    assert_eq!(state_of(&s, "pods.yaml"), Some(&FileState::Applied));
    assert!(
        server.requests.lock().unwrap()[0]
            .to_ascii_lowercase()
            .contains("x-token: secret")
    );

    // Unchanged bytes: nothing is published. The poller sends a result only once the source has taken the one
    // before (a channel of one), so when the server sees the 3rd request from now, at least the result of the
    // 1st has been handled.
    let before = rec.history().len();
    let requests = server.requests.lock().unwrap().len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while server.requests.lock().unwrap().len() < requests + 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the source stopped polling"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(rec.history().len(), before);

    // A 500 keeps the previous pods and is reported.
    *server.response.lock().unwrap() = (500, "boom".into());
    let s = rec
        .wait_for("error reported", |s| {
            matches!(state_of(s, "pods.yaml"), Some(FileState::Invalid { .. }))
        })
        .await;
    assert_eq!(s.pods.len(), 1);
    assert!(
        s.files[0].findings[0]
            .message
            .contains("only 200 is accepted"),
        "{:?}",
        s.files[0].findings
    );

    // A List replaces the set.
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n- {}\n- {}\n",
        pod_yaml("r1", "busybox:1").replace('\n', "\n  "),
        pod_yaml("r2", "busybox:1").replace('\n', "\n  ")
    );
    *server.response.lock().unwrap() = (200, list);
    let s = rec.wait_for("list", |s| s.pods.len() == 2).await;
    let mut keys: Vec<String> = s.pods.values().map(|p| p.key()).collect();
    keys.sort();
    assert_eq!(keys, ["default/r1-testnode", "default/r2-testnode"]);
}

#[tokio::test]
async fn an_invalid_file_at_start_runs_its_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let target = dir.path().join("web.yaml");
    fs::write(&target, pod_yaml("web", "busybox:1")).unwrap();
    let mut cfg = config(dir.path());
    cfg.last_good_dir = Some(state.path().join("lastgood"));
    let uid = {
        let rec = Recorder::start(cfg.clone());
        rec.now().pods.keys().next().unwrap().clone()
    };
    // podtui is down; the file is broken meanwhile.
    fs::write(
        &target,
        pod_yaml("web", "busybox:1").replace("name: app", "name: App"),
    )
    .unwrap();
    let rec = Recorder::start(cfg.clone());
    let s = rec.now();
    assert_eq!(
        state_of(&s, "web.yaml"),
        Some(&FileState::Invalid { stale: true })
    );
    assert_eq!(
        s.pods.keys().next(),
        Some(&uid),
        "the last good version stays desired across a restart"
    );
    drop(rec);
    // Deleting the file forgets the saved version.
    fs::remove_file(&target).unwrap();
    let rec = Recorder::start(cfg.clone());
    assert!(rec.now().pods.is_empty());
    drop(rec);
    fs::write(
        &target,
        pod_yaml("web", "busybox:1").replace("name: app", "name: App"),
    )
    .unwrap();
    let rec = Recorder::start(cfg);
    assert_eq!(
        state_of(&rec.now(), "web.yaml"),
        Some(&FileState::Invalid { stale: false })
    );
    assert!(rec.now().pods.is_empty());
}
