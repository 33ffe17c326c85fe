//! The podtui binary: parse the command line, build the runtime, dispatch.

use clap::Parser;
use podtui::cli::{Cli, Command};
use podtui::config::Common;

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    let common = match Common::resolve(&cli.common) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("podtui: {e}");
            std::process::exit(2);
        }
    };
    let code = match &cli.command {
        Some(Command::Validate(args)) => {
            podtui::commands::validate::run(args, &common, &mut std::io::stdout().lock())?
        }
        _ => {
            eprintln!("podtui: not implemented yet");
            2
        }
    };
    std::process::exit(code);
}
