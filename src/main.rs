//! The podtui binary: parse the command line, build the runtime, dispatch.

use clap::Parser;
use podtui::cli::{Cli, Command};
use podtui::commands;
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
        Some(Command::Validate(args)) => quiet_pipe(commands::validate::run(
            args,
            &common,
            &mut std::io::stdout().lock(),
        ))?,
        Some(Command::Kubeconfig(args)) => commands::kubeconfig::run(args, &common),
        Some(command) => {
            let rt = tokio::runtime::Runtime::new()?;
            let code = rt.block_on(async {
                match command {
                    Command::Run(args) => {
                        Ok::<i32, std::io::Error>(commands::run::run(args, &common).await)
                    }
                    Command::Get(args) => quiet_pipe(
                        commands::get::run(args, &common, &mut std::io::stdout().lock()).await,
                    ),
                    Command::Logs(args) => Ok(commands::logs::run(args, &common).await),
                    Command::Describe(args) => quiet_pipe(
                        commands::describe::run(args, &common, &mut std::io::stdout().lock()).await,
                    ),
                    Command::Exec(args) => Ok(commands::exec::run(args, &common).await),
                    Command::Delete(args) => Ok(commands::delete::run(args, &common).await),
                    Command::Top(args) => quiet_pipe(
                        commands::top::run(args, &common, &mut std::io::stdout().lock()).await,
                    ),
                    Command::Down(args) => Ok(commands::down::run(args, &common).await),
                    Command::PortForward(args) => {
                        Ok(commands::port_forward::run(args, &common).await)
                    }
                    Command::Debug(args) => Ok(commands::debug::run(args, &common).await),
                    Command::Validate(_) | Command::Kubeconfig(_) => Ok(0),
                }
            });
            // A read of stdin still blocked (`exec -i` after its command exited) must not hold the exit.
            rt.shutdown_background();
            code?
        }
        None => {
            let path = cli
                .path
                .clone()
                .unwrap_or_else(|| std::path::PathBuf::from("./manifests"));
            // The UI loop runs on this thread and the engine on one worker: the engine's tasks wake each other
            // on one thread. With a worker per core, idle with 20 pods' stats streaming cost ~1.5x the CPU,
            // spent in cross-thread wake-ups (perf; docs/performance.md, benchmark 5). The engine's work is
            // waiting on Docker, which one thread does as well as two.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            rt.block_on(commands::tui::run(&path, &cli.engine, &common))
        }
    };
    std::process::exit(code);
}

/// Output piped into a reader that stopped early (`podtui validate … | head`) ends the command quietly, as it
/// does for other Unix tools, instead of as an error with a backtrace.
fn quiet_pipe(result: std::io::Result<i32>) -> std::io::Result<i32> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        other => other,
    }
}
