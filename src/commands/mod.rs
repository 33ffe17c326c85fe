//! The headless commands behind the CLI's subcommands.

pub mod debug;
pub mod delete;
pub mod describe;
pub mod down;
pub mod exec;
pub mod get;
pub mod kubeconfig;
pub mod logs;
pub mod port_forward;
pub mod run;
pub mod top;
pub mod tui;
pub mod validate;
