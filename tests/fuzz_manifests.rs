//! A mutation fuzzer for the parser and validator, run as a property test: valid manifests from the corpus
//! (tests/fuzz/corpus) are mutated at random, structurally (keys dropped, values of the wrong type, typos, huge
//! and negative numbers, odd strings) and textually (truncation, stray bytes, bad indentation), and parsed. No
//! input may panic; every rejection must name a field path (or, for a file that does not parse at all, a line);
//! accepted input must give pods with a UID, deterministically. The seed is fixed, so a failure reproduces:
//! `PODTUI_FUZZ_ITERATIONS` (default 12 000) and `PODTUI_FUZZ_SEED` change the run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use podtui::manifest::{Format, ParseInput, SourceId, parse_manifest};
use serde_json::Value;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn corpus() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        "tests/fuzz/corpus",
        "tests/fixtures/manifests/valid",
        "manifests",
    ] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if ["yaml", "yml", "json"].contains(&ext) {
                out.push((
                    p.display().to_string(),
                    podtui::manifest::manifest_text(&std::fs::read(&p).unwrap())
                        .unwrap()
                        .to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

const STRINGS: &[&str] = &[
    "",
    "Web",
    "a b",
    "-x-",
    "über",
    "\u{0}\u{1b}[31m",
    "../../etc",
    "/abs",
    "12MB",
    "-1",
    "500m",
    "Always",
    "sometimes",
    "HTTP",
    "localhost:5000/x:latest",
    "$(NOPE)",
    "$$(ESC)",
    "metadata.labels['x']",
];

fn random_scalar(rng: &mut Rng) -> Value {
    match rng.below(11) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => Value::from(-1),
        3 => Value::from(0),
        4 => Value::from(70_000),
        5 => Value::from(i64::MAX),
        6 => Value::from(1.5),
        7 => Value::from("x".repeat(rng.below(300) + 64)),
        8 => Value::Array(vec![]),
        9 => Value::Object(Default::default()),
        _ => Value::from(STRINGS[rng.below(STRINGS.len())]),
    }
}

/// Every path in the tree, as (keys/indices).
fn paths(v: &Value, cur: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(cur.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                cur.push(Value::from(k.clone()));
                paths(child, cur, out);
                cur.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                cur.push(Value::from(i));
                paths(child, cur, out);
                cur.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path {
        cur = match seg {
            Value::String(k) => cur.get_mut(k.as_str())?,
            Value::Number(i) => cur.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn mutate_tree(v: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let path = all[rng.below(all.len())].clone();
    let Some(node) = at(v, &path) else { return };
    match rng.below(8) {
        0 => *node = random_scalar(rng),
        1 => {
            if let Value::Object(m) = node
                && !m.is_empty()
            {
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                m.remove(&k);
            }
        }
        2 => {
            if let Value::Object(m) = node
                && !m.is_empty()
            {
                // A typo: a key with one letter dropped or doubled.
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                let val = m.remove(&k).unwrap();
                let mut typo: Vec<char> = k.chars().collect();
                let i = rng.below(typo.len());
                if rng.chance(50) && typo.len() > 1 {
                    typo.remove(i);
                } else {
                    typo.insert(i, typo[i]);
                }
                m.insert(typo.into_iter().collect(), val);
            }
        }
        3 => {
            if let Value::Object(m) = node {
                m.insert(format!("unknownField{}", rng.below(9)), random_scalar(rng));
            }
        }
        4 => {
            if let Value::Array(a) = node
                && !a.is_empty()
            {
                let i = rng.below(a.len());
                a.push(a[i].clone());
            }
        }
        5 => *node = Value::Array(vec![node.clone()]),
        6 => *node = serde_json::json!({ "wrapped": node.clone() }),
        _ => {
            if let Value::Array(a) = node {
                a.clear();
            }
        }
    }
}

fn mutate_text(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    match rng.below(6) {
        0 => bytes.truncate(rng.below(bytes.len() + 1)),
        1 => {
            let i = rng.below(bytes.len() + 1);
            let junk: &[&[u8]] = &[
                b"\t",
                b": :",
                b"- ",
                b"{",
                b"]",
                b"\xff\xfe",
                b"&a *a",
                b"!!binary x",
                b"\n  - ",
                b"'",
            ];
            bytes.splice(i..i, junk[rng.below(junk.len())].iter().copied());
        }
        2 => {
            // Re-indent one line.
            let s = String::from_utf8_lossy(&bytes).into_owned();
            let mut lines: Vec<String> = s.lines().map(String::from).collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                lines[i] = format!("{}{}", " ".repeat(rng.below(5)), lines[i].trim_start());
            }
            bytes = lines.join("\n").into_bytes();
        }
        3 => {
            let s = String::from_utf8_lossy(&bytes).into_owned();
            let lines: Vec<&str> = s.lines().collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                let mut out: Vec<&str> = lines.clone();
                out.insert(i, lines[i]);
                bytes = out.join("\n").into_bytes();
            }
        }
        4 => bytes.extend_from_slice(b"\n---\n"),
        _ => {
            let i = rng.below(bytes.len().max(1));
            if i < bytes.len() {
                bytes[i] = (rng.next() & 0xff) as u8;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check(text: &str, format: Format, seed: u64, iteration: usize) {
    let source = SourceId::File("/fuzz/m.yaml".into());
    let input = ParseInput {
        display: "m.yaml",
        text,
        format,
        node_name: "fuzz",
        source: &source,
    };
    let parsed = std::panic::catch_unwind(|| parse_manifest(&input)).unwrap_or_else(|_| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
        let _ = std::fs::create_dir_all(&dir);
        let f = dir.join(format!("crash-{seed}-{iteration}.yaml"));
        let _ = std::fs::write(&f, text);
        panic!(
            "parse_manifest panicked (seed {seed}, iteration {iteration}); input saved to {}",
            f.display()
        );
    });
    for f in &parsed.findings {
        assert_eq!(f.file, "m.yaml");
        if f.is_error() {
            assert!(
                f.path.is_some() || f.line.is_some() || f.message.contains("empty"),
                "a rejection without a field path or line (seed {seed}, iteration {iteration}): {f}\n{text}"
            );
        }
    }
    if parsed.has_errors() {
        assert!(parsed.pods.is_empty());
    } else {
        assert!(
            !parsed.pods.is_empty() || parsed.findings.is_empty(),
            "{:?}",
            parsed.findings
        );
        let again = parse_manifest(&input);
        for (a, b) in parsed.pods.iter().zip(&again.pods) {
            assert_eq!(a.uid, b.uid, "UIDs are deterministic");
            assert_eq!(a.uid.len(), 32);
            assert!(a.name.ends_with("-fuzz"));
        }
    }
}

/// Held by each test of this file for its whole run. The bomb test measures a child's CPU time, and on a
/// machine whose two vCPUs are SMT siblings (CI's) a busy neighbour doubles it: the mutation test runs
/// beside nothing that is measured.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn mutated_manifests_never_panic_and_every_rejection_names_a_field() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let iterations: usize = std::env::var("PODTUI_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000);
    let seed: u64 = std::env::var("PODTUI_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed);
    let seeds: Vec<(String, Vec<Value>)> = corpus()
        .into_iter()
        .map(|(name, text)| {
            let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&text)
                // serde_yaml's document iterator does not end after an error: stop at the first one.
                .map_while(|d| serde::Deserialize::deserialize(d).ok())
                .map(|y: serde_yaml::Value| serde_json::to_value(y).unwrap())
                .filter(|v: &Value| !v.is_null())
                .collect();
            (name, docs)
        })
        .collect();
    assert!(seeds.len() >= 10, "the corpus has {} files", seeds.len());
    let mut rejected = 0;
    for i in 0..iterations {
        let (_, docs) = &seeds[rng.below(seeds.len())];
        let mut docs = docs.clone();
        for _ in 0..=rng.below(3) {
            let d = rng.below(docs.len());
            mutate_tree(&mut docs[d], &mut rng);
        }
        let as_json = rng.chance(20);
        let mut text = if as_json {
            docs.iter()
                .map(|d| serde_json::to_string_pretty(d).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            docs.iter()
                .map(|d| serde_yaml::to_string(d).unwrap())
                .collect::<Vec<_>>()
                .join("---\n")
        };
        if rng.chance(25) {
            text = mutate_text(&text, &mut rng);
        }
        let format = if as_json { Format::Json } else { Format::Yaml };
        let source = SourceId::File("/fuzz/m.yaml".into());
        let errors = parse_manifest(&ParseInput {
            display: "m.yaml",
            text: &text,
            format,
            node_name: "fuzz",
            source: &source,
        })
        .has_errors();
        rejected += usize::from(errors);
        check(&text, format, seed, i);
    }
    // The mutations must actually exercise the validator, not only the happy path.
    assert!(
        rejected > iterations / 4,
        "only {rejected} of {iterations} mutated manifests were rejected"
    );
    assert!(
        rejected < iterations,
        "every mutated manifest was rejected: the mutations are too blunt"
    );
}

#[path = "fuzz/bombs.rs"]
mod bombs;

/// The memory-bomb shapes join the corpus (generated, as they are megabytes): each is refused by its bound
/// in `podtui validate` within 1 s of CPU and 64 MiB of peak RSS, measured on that child alone; so is each
/// with a valid pod in front of it, and each cut short (a half-written bomb).
#[test]
fn memory_bomb_shapes_are_refused_within_the_peak_rss_bound() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: 'i:1'}]}\n---\n";
    let mut worst = (0, "");
    for bomb in bombs::shapes() {
        let cost = bombs::assert_refused_cheaply(dir.path(), &bomb);
        worst = worst.max((cost.peak_rss_kb, bomb.file));
        let text = (bomb.text)();
        let mut variants = vec![text[..text.len() * 2 / 3].to_string()];
        if bomb.file.ends_with(".yaml") {
            variants.push(format!("{pod}{}", &text[..text.len() - pod.len()]));
        }
        // In process, too: refused with a line, never a panic.
        check(&text, Format::from_path(Path::new(bomb.file)), 0, 0);
        drop(text);
        for (i, variant) in variants.into_iter().enumerate() {
            let path = dir.path().join(format!("v{i}-{}", bomb.file));
            std::fs::write(&path, variant).unwrap();
            let cost = bombs::validate(&path);
            // A variant may pass every bound and go through the whole parse (of an unoptimised build), so its
            // CPU bound is looser; its memory bound is not.
            assert!(
                cost.code == 1
                    && cost.peak_rss_kb <= bombs::PEAK_RSS_KB
                    && cost.cpu <= bombs::CPU * 3,
                "{} (variant {i}): {cost:?}",
                bomb.file
            );
        }
    }
    eprintln!("worst peak RSS: {} KiB ({})", worst.0, worst.1);
}
