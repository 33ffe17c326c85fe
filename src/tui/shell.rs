//! `s`: a shell in a container through Docker exec with a TTY — `/bin/bash`, or `/bin/sh` when the image has no
//! bash. The UI is suspended (its input thread paused, so it reads nothing meanwhile); stdin goes to the exec,
//! its output to the terminal, terminal resizes follow. Keys typed after the shell ended are handed back to the
//! UI instead of being lost.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::ResizeExecOptions;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::runtime::DockerRuntime;

/// Runs `cmd` in the container without a TTY and returns its exit code (used to probe for a shell).
async fn exit_code(rt: &DockerRuntime, id: &str, cmd: &[&str]) -> Result<i64, String> {
    let docker = rt.client();
    let exec = docker
        .create_exec(
            id,
            ExecConfig {
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(|e| e.to_string())?
    {
        while output.next().await.is_some() {}
    }
    for _ in 0..50 {
        let info = docker
            .inspect_exec(&exec.id)
            .await
            .map_err(|e| e.to_string())?;
        if info.running != Some(true) {
            return Ok(info.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(-1)
}

/// Picks `/bin/bash` if the container has it, else `/bin/sh`.
pub async fn pick_shell(rt: &DockerRuntime, id: &str) -> Result<&'static str, String> {
    for shell in ["/bin/bash", "/bin/sh"] {
        if exit_code(rt, id, &[shell, "-c", "exit 0"]).await? == 0 {
            return Ok(shell);
        }
    }
    Err("the container has neither /bin/bash nor /bin/sh".into())
}

/// Bytes typed after the shell ended, to be given back to the UI.
pub type Leftover = Vec<u8>;

/// Runs an interactive shell; the terminal must be in raw mode and not read by anyone else.
pub async fn run_shell(rt: &DockerRuntime, id: &str) -> Result<(String, Leftover), String> {
    let shell = pick_shell(rt, id).await?;
    let docker = rt.client();
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let exec = docker
        .create_exec(
            id,
            ExecConfig {
                cmd: Some(vec![shell.to_string()]),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(true),
                env: Some(vec![format!("TERM={term}")]),
                console_size: Some(vec![rows as usize, cols as usize]),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let started = docker
        .start_exec(
            &exec.id,
            Some(StartExecOptions {
                detach: false,
                tty: true,
                output_capacity: None,
            }),
        )
        .await
        .map_err(|e| e.to_string())?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        return Err("the exec did not attach".into());
    };
    let _ = docker
        .resize_exec(
            &exec.id,
            ResizeExecOptions {
                h: rows as i32,
                w: cols as i32,
            },
        )
        .await;

    // stdin → channel, on a thread that polls so it can stop as soon as the shell ends.
    let done = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            while !done.load(Ordering::SeqCst) {
                let mut pfd = libc::pollfd {
                    fd: 0,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: polling fd 0 with a valid pollfd and a 50 ms timeout.
                let n = unsafe { libc::poll(&mut pfd, 1, 50) };
                if n > 0 && pfd.revents & libc::POLLIN != 0 {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => {
                            if tx.send(buf[..k].to_vec()).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        })
    };
    let mut stdout = std::io::stdout();
    let mut size = (cols, rows);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            out = output.next() => match out {
                Some(Ok(LogOutput::Console { message } | LogOutput::StdOut { message } | LogOutput::StdErr { message })) => {
                    let _ = stdout.write_all(&message);
                    let _ = stdout.flush();
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            Some(bytes) = rx.recv() => {
                if input.write_all(&bytes).await.is_err() {
                    break;
                }
                let _ = input.flush().await;
            }
            _ = tick.tick() => {
                if let Ok(now) = crossterm::terminal::size()
                    && now != size
                {
                    size = now;
                    let _ = docker.resize_exec(&exec.id, ResizeExecOptions { h: now.1 as i32, w: now.0 as i32 }).await;
                }
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    let _ = reader.join();
    let mut leftover = Vec::new();
    while let Ok(b) = rx.try_recv() {
        leftover.extend(b);
    }
    let code = docker
        .inspect_exec(&exec.id)
        .await
        .ok()
        .and_then(|i| i.exit_code)
        .unwrap_or(0);
    Ok((format!("{shell} exited with code {code}"), leftover))
}
