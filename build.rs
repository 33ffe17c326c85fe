//! Builds podtui's pause program (assets/pause/pause.rs) as a small static binary that podtui embeds and
//! imports into Docker as its sandbox image. It uses only std, so the host rustc builds it with no crates.

#![allow(clippy::expect_used)]

use std::env;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "assets/pause/pause.rs";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=assets/pause/probe.rs");
    let mut text =
        std::fs::read_to_string(src).expect("assets/pause/pause.rs is part of the package");
    text.push_str(
        &std::fs::read_to_string("assets/pause/probe.rs")
            .expect("assets/pause/probe.rs is part of the package"),
    );
    // The image tag changes whenever the program changes, so a stale image is never reused.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    let version = format!(
        "{}-{:08x}",
        env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        h.finish() as u32
    );
    println!("cargo:rustc-env=PODTUI_PAUSE_VERSION={version}");

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("pause");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.args([
        "--edition",
        "2024",
        "--crate-name",
        "pause",
        "-C",
        "opt-level=s",
        "-C",
        "panic=abort",
    ])
    .args([
        "-C",
        "target-feature=+crt-static",
        "-C",
        "strip=symbols",
        "-C",
        "codegen-units=1",
    ])
    .env("PODTUI_PAUSE_VERSION", &version)
    .arg(src)
    .arg("-o")
    .arg(&out);
    if let Ok(target) = env::var("TARGET") {
        cmd.args(["--target", &target]);
    }
    let status = cmd.status().expect("running rustc for the pause program");
    assert!(status.success(), "building the pause program failed");
}
