//! Manifest files under the size cap that would blow up memory (issue: security, item 3). That each bomb shape
//! is refused by a bound of `podtui::manifest::bounds` before any parser builds a value, within 1 s of CPU and
//! 64 MiB of peak RSS (measured on a `podtui validate` child with wait4), is tested in `fuzz_manifests`, where
//! nothing else of the binary runs beside the measurement. Here: a bomb dropped into the directory of a running
//! `podtui run` delays nothing: the running pod, a new manifest and `podtui get pods` go on while it is read,
//! and it is reported as an error naming the file.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{BUSYBOX, Cleanup, docker, run_id};

#[path = "../fuzz/bombs.rs"]
mod bombs;

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n"
    )
}

struct Run {
    node: String,
    dir: tempfile::TempDir,
    state: tempfile::TempDir,
    log: tempfile::NamedTempFile,
}

impl Run {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--node-name")
            .arg(&self.node)
            .arg("--state-dir")
            .arg(self.state.path());
        c
    }

    fn get_pods(&self) -> (String, Duration) {
        let start = Instant::now();
        let out = self
            .cmd(&["get", "pods", self.dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            start.elapsed(),
        )
    }

    fn running(&self, out: &str, name: &str) -> bool {
        let full = format!("{name}-{}", self.node);
        out.lines()
            .any(|l| l.split_whitespace().next() == Some(&full) && l.contains("Running"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Writes `text` as `name` in one rename, as an editor would.
    fn drop_in(&self, name: &str, text: &str) {
        let tmp = self.dir.path().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.dir.path().join(name)).unwrap();
    }

    fn container_ids(&self) -> String {
        docker(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=dev.podtui.node={}", self.node),
        ])
    }
}

fn wait_for(what: &str, secs: u64, f: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{what}: not within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

fn stop(mut child: Child) {
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
}

#[test]
fn a_bomb_dropped_into_a_running_directory_delays_nothing() {
    let node = run_id("parse-bombs");
    let _cleanup = Cleanup::node(&node);
    let run = Run {
        node,
        dir: tempfile::tempdir().unwrap(),
        state: tempfile::tempdir().unwrap(),
        log: tempfile::NamedTempFile::new().unwrap(),
    };
    run.drop_in("good.yaml", &pod("good"));
    let child = run
        .cmd(&["run", run.dir.path().to_str().unwrap()])
        // Its events go to stderr.
        .stderr(run.log.reopen().unwrap())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the good pod running", 90, || {
        run.running(&run.get_pods().0, "good")
    });
    let before = run.container_ids();

    // The bomb (a 9.8 MB flow list), a billion laughs, and a new good manifest, all at once.
    let shapes = bombs::shapes();
    for b in shapes
        .iter()
        .filter(|b| ["flow-list.yaml", "billion-laughs.yaml"].contains(&b.file))
    {
        run.drop_in(b.file, &(b.text)());
    }
    run.drop_in("new.yaml", &pod("new"));
    let (out, took) = run.get_pods();
    assert!(run.running(&out, "good"), "{out}");
    assert!(
        took < Duration::from_secs(10),
        "podtui get pods took {took:?} while the bombs were read"
    );

    let applied = format!("manifest {}", run.dir.path().join("new.yaml").display());
    let t = wait_for("the new manifest applied", 15, || {
        run.log()
            .lines()
            .any(|l| l.contains(&applied) && l.contains("applied"))
    });
    eprintln!(
        "new manifest applied {t:?} after the bombs were dropped in; get pods answered in {took:?}"
    );
    for file in ["flow-list.yaml", "billion-laughs.yaml"] {
        let named = format!("{}:", run.dir.path().join(file).display());
        wait_for(&format!("{file} reported"), 15, || {
            run.log().lines().any(|l| {
                l.contains("Finding") && l.contains(&named) && l.contains("not a Pod manifest")
            })
        });
    }
    wait_for("the new pod running", 90, || {
        run.running(&run.get_pods().0, "new")
    });
    let (out, _) = run.get_pods();
    assert!(run.running(&out, "good"), "{out}");
    let after = run.container_ids();
    for id in before.lines() {
        assert!(
            after.contains(id),
            "the good pod's container {id} was replaced:\n{after}"
        );
    }
    stop(child);
}
