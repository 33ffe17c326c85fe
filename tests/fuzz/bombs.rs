//! Memory-bomb shapes of manifest text (issue: security, item 3), generated at test time because they are
//! megabytes, and a way to measure what `podtui validate` costs on one: peak RSS and CPU time of that child
//! alone (`wait4`), and wall time. Shared by tests/fuzz_manifests.rs and tests/security/parse_bombs.rs.
//!
//! The child's `ru_maxrss` also covers what it held before `exec`: the copy of this process it was forked
//! from. So the child is forked (never vforked, which would lend it this process's high-water mark), and
//! the bomb's text is written to disk and freed before the fork; what is measured is then at most the
//! child's own peak or this process's size at the fork, whichever is larger — never less than the truth.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Just under the 10 MB file cap (10 MiB), as in the issue.
pub const NEAR_CAP: usize = 9_800_000;
/// What any file under the cap may cost before it is refused.
pub const PEAK_RSS_KB: i64 = 64 * 1024;
/// CPU time a refusal may cost (the child's user + system time: other processes inflate it far less than wall
/// time, but a busy SMT sibling still can, so the tests that measure it run alone).
pub const CPU: Duration = Duration::from_secs(1);

/// One bomb: a file name, its text, and the words of the bound that must refuse it.
pub struct Bomb {
    /// File name (its extension picks YAML or JSON).
    pub file: &'static str,
    /// Makes the text (megabytes: made when needed, freed after).
    pub text: Box<dyn Fn() -> String>,
    /// Part of the refusal's message.
    pub bound: &'static str,
}

fn fill(prefix: &str, unit: &str, suffix: &str, size: usize) -> String {
    let n = (size - prefix.len() - suffix.len()) / unit.len();
    format!("{prefix}{}{suffix}", unit.repeat(n))
}

/// Every shape: near the cap (refused by the document-size bound before a parser sees them) and smaller
/// ones that reach each of the other bounds.
pub fn shapes() -> Vec<Bomb> {
    fn deep_block(levels: usize) -> String {
        (0..levels)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect()
    }
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let deep_indent = || {
        let (mut text, mut level) = (String::new(), 0);
        while text.len() < NEAR_CAP - 20_000 {
            text.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
            level += 1;
        }
        text
    };
    vec![
        Bomb {
            file: "flow-list.yaml",
            text: Box::new(move || fill("a: [", "1,", "1]\n", NEAR_CAP)),
            bound: "bytes, more than 1048576",
        },
        Bomb {
            file: "flow-list-1mb.yaml",
            text: Box::new(move || fill("a: [", "1,", "1]\n", 1_000_000)),
            bound: "more than 50000 nodes",
        },
        Bomb {
            file: "deep-indent.yaml",
            text: Box::new(deep_indent),
            bound: "bytes, more than 1048576",
        },
        Bomb {
            file: "deep-block.yaml",
            text: Box::new(move || deep_block(500)),
            bound: "nested more than 64 levels deep",
        },
        Bomb {
            file: "deep-flow.yaml",
            text: Box::new(move || fill("a: ", "[", "\n", NEAR_CAP)),
            bound: "bytes, more than 1048576",
        },
        Bomb {
            file: "deep-flow-small.yaml",
            text: Box::new(move || fill("a: ", "[", "\n", 500_000)),
            bound: "nested more than 64 levels deep",
        },
        Bomb {
            file: "many-documents.yaml",
            text: Box::new(move || fill("", "a: 1\n---\n", "", NEAR_CAP)),
            bound: "more than 1000 documents",
        },
        Bomb {
            file: "empty-documents.yaml",
            text: Box::new(move || fill("", "---\n", "", NEAR_CAP)),
            bound: "more than 1000 documents",
        },
        Bomb {
            file: "billion-laughs.yaml",
            text: Box::new(move || laughs.clone()),
            bound: "aliases expanded",
        },
        Bomb {
            file: "long-scalar.yaml",
            text: Box::new(move || fill("a: ", "x", "\n", NEAR_CAP)),
            bound: "bytes, more than 1048576",
        },
        Bomb {
            file: "long-scalars.yaml",
            text: Box::new(move || {
                (0..3)
                    .map(|i| format!("a{i}: {}\n", "x".repeat(1_000_000)))
                    .collect::<Vec<_>>()
                    .join("---\n")
            }),
            bound: "bytes of scalars",
        },
        Bomb {
            file: "deep-and-wide.yaml",
            text: Box::new(move || {
                format!(
                    "{}{}l: [{}1]\n",
                    deep_block(60),
                    " ".repeat(60),
                    "1,".repeat(20_000)
                )
            }),
            bound: "levels of nesting summed",
        },
        Bomb {
            file: "flow-list.json",
            text: Box::new(move || fill("{\"a\": [", "1,", "1]}", NEAR_CAP)),
            // JSON is measured in one pass: the node bound comes first.
            bound: "more than 50000 nodes",
        },
        Bomb {
            file: "flow-list-1mb.json",
            text: Box::new(move || fill("{\"a\": [", "1,", "1]}", 1_000_000)),
            bound: "more than 50000 nodes",
        },
    ]
}

/// What one `podtui validate` cost.
#[derive(Debug)]
pub struct Cost {
    /// Exit code.
    pub code: i32,
    /// What it printed.
    pub stdout: String,
    /// Peak resident set size of the child, in KiB.
    pub peak_rss_kb: i64,
    /// The child's user + system CPU time.
    pub cpu: Duration,
    /// Wall time from spawn to exit.
    pub wall: Duration,
}

/// Runs `podtui validate PATH` and measures that child alone.
// The child is reaped by wait4, which std cannot see.
#[allow(clippy::zombie_processes)]
pub fn validate(path: &Path) -> Cost {
    let start = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_podtui"));
    // SAFETY: the hook does nothing; having one makes std fork instead of vfork (see the module doc).
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || Ok(()));
    }
    let mut child = cmd
        .arg("validate")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 reaps our own child, which std's Child never waits for after this.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let wall = start.elapsed();
    let tv =
        |t: libc::timeval| Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64);
    Cost {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout,
        peak_rss_kb: usage.ru_maxrss,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        wall,
    }
}

/// Validates `bomb` written into `dir` and asserts it is refused by its bound, naming the file and a line,
/// within [`CPU`] and [`PEAK_RSS_KB`].
pub fn assert_refused_cheaply(dir: &Path, bomb: &Bomb) -> Cost {
    let path = dir.join(bomb.file);
    std::fs::write(&path, (bomb.text)()).unwrap();
    let cost = validate(&path);
    let first = cost.stdout.lines().next().unwrap_or_default();
    assert_eq!(cost.code, 1, "{}: {cost:?}", bomb.file);
    let prefix = format!("{}:", path.display());
    assert!(
        first.starts_with(&prefix)
            && first[prefix.len()..]
                .split(':')
                .next()
                .is_some_and(|l| l.parse::<usize>().is_ok())
            && first.contains(bomb.bound),
        "{}: the refusal must name the file, a line and the bound ({}): {first}",
        bomb.file,
        bomb.bound
    );
    assert!(
        cost.peak_rss_kb <= PEAK_RSS_KB,
        "{}: peak RSS {} KiB over {PEAK_RSS_KB} KiB",
        bomb.file,
        cost.peak_rss_kb
    );
    assert!(
        cost.cpu <= CPU,
        "{}: {:?} of CPU to refuse ({:?} wall)",
        bomb.file,
        cost.cpu,
        cost.wall
    );
    cost
}
