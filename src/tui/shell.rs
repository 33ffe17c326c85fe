//! `s`: a shell in a container through Docker exec with a TTY — `/bin/bash`, or `/bin/sh` when the image has no
//! bash. The UI is suspended (its input thread paused, so it reads nothing meanwhile); stdin goes to the exec,
//! its output to the terminal, terminal resizes follow. Keys typed after the shell ended are handed back to the
//! UI instead of being lost.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::runtime::{ContainerRuntime, ExecSession, ExecSpec, exec};

/// Picks `/bin/bash` if the container has it, else `/bin/sh`.
pub async fn pick_shell(rt: &dyn ContainerRuntime, id: &str) -> Result<&'static str, String> {
    for shell in ["/bin/bash", "/bin/sh"] {
        let probe = [shell.to_string(), "-c".into(), "exit 0".into()];
        if exec::run(rt, id, &probe, Duration::from_secs(5))
            .await?
            .exit_code
            == 0
        {
            return Ok(shell);
        }
    }
    Err("the container has neither /bin/bash nor /bin/sh".into())
}

/// Bytes typed after the shell ended, to be given back to the UI.
pub type Leftover = Vec<u8>;

/// Runs an interactive shell; the terminal must be in raw mode and not read by anyone else.
pub async fn run_shell(rt: &dyn ContainerRuntime, id: &str) -> Result<(String, Leftover), String> {
    let shell = pick_shell(rt, id).await?;
    let (code, leftover) = run_tty(rt, id, vec![shell.to_string()]).await?;
    Ok((format!("{shell} exited with code {code}"), leftover))
}

/// `D`: starts a debug container for `spec`, runs `sh` in it interactively (the terminal must be in raw mode
/// and not read by anyone else), then removes it. A status line for the UI and the bytes typed after the end.
pub async fn run_debug_shell(
    rt: &dyn ContainerRuntime,
    spec: &crate::debug::DebugSpec,
) -> Result<(String, Leftover), String> {
    let d = crate::debug::start(rt, spec).await?;
    let sharing = spec
        .target
        .as_deref()
        .map(|t| format!(", sharing {t}'s processes"))
        .unwrap_or_default();
    println!(
        "podtui: debug container {} ({}){sharing}; exit the shell to come back and remove it\r",
        d.name, d.docker_name
    );
    let ran = run_tty(rt, &d.id, vec!["sh".into()]).await;
    let removed = crate::debug::remove(rt, &d).await;
    let (code, leftover) = ran?;
    let mut msg = format!("debug container {} exited with code {code}", d.name);
    match removed {
        Ok(()) => msg.push_str(" and was removed"),
        Err(e) => msg.push_str(&format!("; removing {} failed: {e}", d.docker_name)),
    }
    Ok((msg, leftover))
}

/// Runs `cmd` interactively with a TTY (the terminal must be in raw mode and not read by anyone else): its
/// exit code and the bytes typed after it ended.
pub async fn run_tty(
    rt: &dyn ContainerRuntime,
    id: &str,
    cmd: Vec<String>,
) -> Result<(i64, Leftover), String> {
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let spec = ExecSpec {
        cmd,
        tty: true,
        stdin: true,
        env: vec![format!("TERM={term}")],
        size: Some((cols, rows)),
    };
    let session = rt.exec(id, spec).await.map_err(|e| e.message())?;
    let ExecSession {
        id: exec_id,
        mut output,
        input,
    } = session;
    let Some(mut input) = input else {
        return Err("the exec did not attach its input".into());
    };
    let _ = rt.resize_exec(&exec_id, (cols, rows)).await;

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
                Some(Ok(chunk)) => {
                    let _ = stdout.write_all(&chunk.bytes);
                    let _ = stdout.flush();
                }
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
                    let _ = rt.resize_exec(&exec_id, now).await;
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
    let code = rt
        .exec_exit_code(&exec_id)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    Ok((code, leftover))
}
