//! Every fixture under tests/fixtures/manifests is parsed and its findings compared with the `.expected` file
//! next to it: the error text is part of podtui's contract. `UPDATE_EXPECTED=1 cargo test --test
//! manifest_fixtures` rewrites the expected files (review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use podtui::manifest::{Format, ParseInput, Parsed, SourceId, manifest_text, parse_manifest};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifests")
        .join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    files.sort();
    files
}

/// The findings for one fixture, one per line, followed by the pods it defines.
fn render(path: &Path, dir: &str) -> (String, bool, usize) {
    let bytes = fs::read(path).unwrap();
    let display = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
    let parsed = match manifest_text(&bytes) {
        Ok(text) => parse_manifest(&ParseInput {
            display: &display,
            text,
            format: Format::from_path(path),
            node_name: "node1",
            source: &SourceId::File(display.clone()),
        }),
        Err(f) => Parsed::unreadable(&display, f),
    };
    let mut out = String::new();
    for f in &parsed.findings {
        out.push_str(&f.to_string());
        out.push('\n');
    }
    for p in &parsed.pods {
        out.push_str(&format!("pod {}\n", p.key()));
    }
    (out, parsed.has_errors(), parsed.pods.len())
}

fn check(dir: &str, expect_errors: bool) {
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut failures = Vec::new();
    let files = fixtures(dir);
    assert!(!files.is_empty());
    for path in files {
        let (actual, has_errors, pods) = render(&path, dir);
        let expected_path = path.with_extension("expected");
        if update {
            fs::write(&expected_path, &actual).unwrap();
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
        if has_errors != expect_errors {
            failures.push(format!("{}: has_errors = {has_errors}", path.display()));
        }
        if expect_errors && pods != 0 {
            failures.push(format!(
                "{}: an invalid file must define no pods",
                path.display()
            ));
        }
        if expect_errors {
            // Every rejection names a field path or is a whole-file error with a line.
            for line in actual.lines() {
                assert!(line.starts_with(&format!("{dir}/")), "{line}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_fixtures_print_their_expected_errors() {
    assert!(fixtures("invalid").len() >= 30);
    check("invalid", true);
}

#[test]
fn valid_fixtures_parse_with_their_expected_warnings() {
    check("valid", false);
}

#[test]
fn the_readme_lists_every_ignored_field() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for (field, reason) in podtui::manifest::schema::ignored_fields() {
        assert!(
            readme.contains(&format!("| `{field}` | {reason} |")),
            "README.md does not list {field}"
        );
    }
}
