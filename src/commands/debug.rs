//! `podtui debug POD [-c TARGET] [--image IMAGE] [--keep] [-- CMD]`: starts a debug container in the pod (see
//! [`crate::debug`]) and runs a shell (or CMD) in it — with a TTY in raw mode when stdin is a terminal (the
//! terminal is restored however it ends), else plainly with stdin and stdout piped — then removes the container
//! unless `--keep`. Exits with the shell's exit code.

use std::io::{IsTerminal, Write};

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::DebugArgs;
use crate::config::Common;
use crate::debug::{self, DebugSpec};
use crate::forward::target::PodRef;
use crate::runtime::{ContainerRuntime, DockerRuntime, ExecSpec, OutputKind};

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
        interactive(&rt, &d.id, cmd).await
    } else {
        piped(&rt, &d.id, cmd).await
    };
    if args.keep {
        eprintln!("Kept debug container {} ({})", d.name, d.docker_name);
    } else if let Err(e) = debug::remove(&rt, &d).await {
        eprintln!("podtui debug: could not remove {}: {e}", d.docker_name);
    }
    result
}

/// With a TTY, the terminal in raw mode for as long as the command runs.
async fn interactive(rt: &dyn ContainerRuntime, id: &str, cmd: Vec<String>) -> Result<i32, String> {
    crossterm::terminal::enable_raw_mode().map_err(|e| format!("raw mode: {e}"))?;
    let r = crate::tui::shell::run_tty(rt, id, cmd).await;
    let _ = crossterm::terminal::disable_raw_mode();
    r.map(|(code, _)| code as i32)
}

/// Without a TTY: stdin in, stdout and stderr out, the command's exit code.
async fn piped(rt: &dyn ContainerRuntime, id: &str, cmd: Vec<String>) -> Result<i32, String> {
    let spec = ExecSpec {
        cmd,
        stdin: true,
        ..Default::default()
    };
    let session = rt.exec(id, spec).await.map_err(|e| e.message())?;
    let feed = session.input.map(|mut input| {
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stdin.read(&mut buf).await {
                if n == 0 || input.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = input.shutdown().await;
        })
    });
    let mut output = session.output;
    while let Some(chunk) = output.next().await {
        let Ok(chunk) = chunk else { break };
        let _ = match chunk.kind {
            OutputKind::Stderr => std::io::stderr().write_all(&chunk.bytes),
            _ => std::io::stdout().write_all(&chunk.bytes),
        };
        let _ = std::io::stdout().flush();
    }
    if let Some(f) = feed {
        f.abort();
    }
    for _ in 0..200 {
        if let Some(code) = rt
            .exec_exit_code(&session.id)
            .await
            .map_err(|e| e.message())?
        {
            return Ok(code as i32);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Ok(-1)
}
