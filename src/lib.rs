//! podtui: run a directory of Kubernetes Pod manifests on the local Docker engine, the way a kubelet runs static
//! pods, with a live terminal UI.
//!
//! - [`manifest`]: reading and validating manifests, and the sources that watch them.
//! - [`cli`], [`config`], [`commands`]: the command line and its commands.
//! - [`state_dir`]: the private state dir; [`text`]: escaping what is shown on a terminal.

pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod logging;
pub mod manifest;
pub mod runtime;
pub mod state_dir;
pub mod text;
pub mod tui;
