//! Hostile input and hostile containers (issue: security): every attack an adversarial pass found, kept fixed.
//! Each area lives in its own file under tests/security/.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "security/subpath.rs"]
mod subpath;

#[path = "security/termination.rs"]
mod termination;

#[path = "security/ownership.rs"]
mod ownership;

#[path = "security/host_ports.rs"]
mod host_ports;

#[path = "security/parse_bombs.rs"]
mod parse_bombs;

#[path = "security/state_dir.rs"]
mod state_dir;

#[path = "security/cli_output.rs"]
mod cli_output;
