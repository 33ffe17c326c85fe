//! `podtui debug POD [-c TARGET] [--image IMAGE] [--keep] [-- CMD]`: starts a debug container in the pod (see
//! [`crate::debug`]) and runs a shell (or CMD) in it — with a TTY in raw mode when stdin is a terminal (the
//! terminal is restored however it ends), else plainly with stdin and stdout piped — then removes the container
//! unless `--keep`. Exits with the shell's exit code.

use std::io::IsTerminal;

use crate::cli::DebugArgs;
use crate::config::Common;
use crate::debug::{self, DebugSpec};
use crate::forward::target::PodRef;
use crate::runtime::DockerRuntime;

/// Runs `debug`; returns the exit code.
pub async fn run(args: &DebugArgs, common: &Common) -> i32 {
    match debug_pod(args, common).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("podtui debug: {e}");
            1
        }
    }
}

async fn debug_pod(args: &DebugArgs, common: &Common) -> Result<i32, String> {
    let rt = DockerRuntime::connect()
        .await
        .map_err(|e| format!("cannot reach Docker: {e}"))?;
    let spec = DebugSpec::new(
        PodRef::parse(&args.pod, &common.node_name),
        args.target.clone(),
        args.image.clone(),
    );
    let d = debug::start(&rt, &spec).await?;
    let target = args
        .target
        .as_deref()
        .map(|t| format!(", sharing {t}'s processes"))
        .unwrap_or_default();
    eprintln!(
        "Debug container {} ({}) started in pod {}{target}",
        d.name, d.docker_name, d.pod
    );
    let cmd = if args.command.is_empty() {
        vec!["sh".to_string()]
    } else {
        args.command.clone()
    };
    let result = if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        super::exec::interactive(&rt, &d.id, cmd).await
    } else {
        super::exec::piped(&rt, &d.id, cmd, true).await
    };
    if args.keep {
        eprintln!("Kept debug container {} ({})", d.name, d.docker_name);
    } else if let Err(e) = debug::remove(&rt, &d).await {
        eprintln!("podtui debug: could not remove {}: {e}", d.docker_name);
    }
    result
}
