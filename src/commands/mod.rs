//! The headless commands behind the CLI's subcommands.

pub mod validate;
