//! The headless commands behind the CLI's subcommands.

pub mod down;
pub mod get;
pub mod kubeconfig;
pub mod logs;
pub mod run;
pub mod top;
pub mod tui;
pub mod validate;
