//! The terminal UI: `podtui [PATH]`. It runs the engine as a background task and talks to it only through the
//! engine's handle (snapshots in, commands out); logs and shells stream straight from Docker.
//!
//! - [`app`]: all UI state and what keys do to it, as components (pods, manifests, events, pod view, logs,
//!   editor) under a modal stack, with one `:` command table (testable with key streams, no terminal needed).
//! - [`views`]: drawing each component with ratatui (drawing stays apart from state: layout and styles in one
//!   place, and the render snapshots test it alone).
//! - [`action`] and [`keymap`]: what a key asks for ([`action::Action`]), per mode, as data.
//! - [`run`](mod@run): the loop that owns the app, and the effects (logs, shell, external editor, engine commands).

pub mod action;
pub mod app;
pub mod editor;
pub mod input;
pub mod keymap;
pub mod logbuf;
pub mod logstream;
pub mod run;
pub mod sanitize;
pub mod shell;
pub mod terminal;
pub mod theme;
pub mod views;

pub use run::{app_config, run};
