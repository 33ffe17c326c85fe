//! Running a command in a container to completion: the one way probes, hooks, the shell's shell detection and
//! the API's non-interactive exec run commands, on top of [`ContainerRuntime::exec`] (which interactive users —
//! the TUI's shell, `kubectl exec -it` — drive themselves: TTY, stdin, resize).

use std::time::Duration;

use futures_util::StreamExt;

use super::ContainerRuntime;
use super::types::{ExecOutcome, ExecSpec};

/// Output kept of a command run to completion.
pub const OUTPUT_CAP: usize = 10 * 1024;

/// Runs `cmd` in container `id` without a TTY and waits for it to end, within `timeout`: its exit code and
/// its output (stdout and stderr, at most [`OUTPUT_CAP`] bytes, trimmed). `Err` says why it could not run.
pub async fn run(
    rt: &dyn ContainerRuntime,
    id: &str,
    cmd: &[String],
    timeout: Duration,
) -> Result<ExecOutcome, String> {
    let work = async {
        let spec = ExecSpec {
            cmd: cmd.to_vec(),
            ..Default::default()
        };
        let mut session = rt.exec(id, spec).await.map_err(|e| e.message())?;
        let mut output = Vec::new();
        while let Some(chunk) = session.output.next().await {
            if let Ok(c) = chunk
                && output.len() < OUTPUT_CAP
            {
                let room = OUTPUT_CAP - output.len();
                output.extend_from_slice(&c.bytes[..c.bytes.len().min(room)]);
            }
        }
        // The output ends when the process does; the engine may take a moment to record the exit code.
        let exit_code = loop {
            match rt
                .exec_exit_code(&session.id)
                .await
                .map_err(|e| e.message())?
            {
                Some(code) => break code,
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        Ok(ExecOutcome {
            exit_code,
            output: String::from_utf8_lossy(&output).trim().to_string(),
        })
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("command timed out after {}s", timeout.as_secs())),
    }
}
