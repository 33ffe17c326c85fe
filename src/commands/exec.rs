//! `podtui exec POD [-c CONTAINER] [-i] [-t] -- CMD...`, like kubectl exec: the command runs in the
//! container through Docker exec (straight to Docker, the containers found by their labels as `logs` finds
//! them), with a TTY in raw mode when asked for with `-it` on a terminal (restored however it ends), else with
//! stdin (`-i`) and stdout/stderr piped. Exits with the command's exit code, as kubectl does.

use std::io::{IsTerminal, Write};

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::ExecArgs;
use crate::config::Common;
use crate::forward::target::{PodRef, resolve};
use crate::runtime::{ContainerRuntime, DockerRuntime, ExecSpec, OutputKind};

/// Runs `exec`; returns the exit code (the command's, or 1 when it could not run).
pub async fn run(args: &ExecArgs, common: &Common) -> i32 {
    match exec(args, common).await {
        Ok(0) => 0,
        Ok(code) => {
            eprintln!("command terminated with exit code {code}");
            code
        }
        Err(e) => {
            eprintln!("podtui exec: {e}");
            1
        }
    }
}

async fn exec(args: &ExecArgs, common: &Common) -> Result<i32, String> {
    let rt = DockerRuntime::connect()
        .await
        .map_err(|e| format!("cannot reach Docker: {e}"))?;
    let arg = super::describe::without_kind(&args.pod);
    let pod = PodRef::parse(arg, &common.node_name);
    let found = resolve(&rt, &pod).await?;
    let name = match &args.container {
        Some(c) => c.clone(),
        None => {
            let (first, note) = super::logs::default_container_of(&found.observed)?;
            if let Some(note) = note {
                eprintln!("{note}");
            }
            first
        }
    };
    let Some(inst) = found
        .observed
        .everything()
        .find(|i| i.name == name && i.state.is_running())
    else {
        let known = found.observed.everything().any(|i| i.name == name);
        return Err(if known {
            format!("container {name} of pod {pod} is not running")
        } else {
            format!("container {name} not found in pod {pod}")
        });
    };
    // As kubectl: a TTY needs -i and a terminal on stdin (stdout may be piped).
    let terminal = std::io::stdin().is_terminal();
    if args.tty && args.stdin && !terminal {
        eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    if args.tty && args.stdin && terminal {
        interactive(&rt, &inst.id, args.command.clone()).await
    } else {
        piped(&rt, &inst.id, args.command.clone(), args.stdin).await
    }
}

/// With a TTY, the terminal in raw mode for as long as the command runs.
pub async fn interactive(
    rt: &dyn ContainerRuntime,
    id: &str,
    cmd: Vec<String>,
) -> Result<i32, String> {
    crossterm::terminal::enable_raw_mode().map_err(|e| format!("raw mode: {e}"))?;
    let r = crate::tui::shell::run_tty(rt, id, cmd).await;
    let _ = crossterm::terminal::disable_raw_mode();
    r.map(|(code, _)| code as i32)
}

/// Without a TTY: stdin in (when `stdin`), stdout and stderr out, the command's exit code.
pub async fn piped(
    rt: &dyn ContainerRuntime,
    id: &str,
    cmd: Vec<String>,
    stdin: bool,
) -> Result<i32, String> {
    let spec = ExecSpec {
        cmd,
        stdin,
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
    // The output ends before Docker records the exit code: ask for up to 10 s.
    for _ in 0..1000 {
        if let Some(code) = rt
            .exec_exit_code(&session.id)
            .await
            .map_err(|e| e.message())?
        {
            return Ok(code as i32);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Err("the command's output ended but Docker reported no exit code within 10 s".into())
}
