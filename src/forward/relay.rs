//! Passing a connection's bytes on: straight to a TCP upstream, or through the sandbox's `/pause relay` over
//! Docker exec (its stdin is what the client sent, its stdout what the pod answered). Either way a half-close
//! one way (EOF, then a write shutdown of the other side) leaves the other way flowing.

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::target::Resolved;
use crate::runtime::{ContainerRuntime, ExecSpec, OutputKind};

/// Copies both ways until both have ended; each EOF becomes a write shutdown of the other side.
pub async fn bidirectional(mut client: TcpStream, mut upstream: TcpStream) -> Result<(), String> {
    match tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        Ok(_) => Ok(()),
        // A side that resets is how many clients end a connection; nothing to report.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Relays `client` to `127.0.0.1:remote` inside the pod's network namespace by running `/pause relay` in
/// the sandbox.
pub async fn through_sandbox(
    rt: &dyn ContainerRuntime,
    pod: &Resolved,
    remote: u16,
    client: TcpStream,
) -> Result<(), String> {
    let spec = ExecSpec {
        cmd: vec![
            "/pause".into(),
            "relay".into(),
            format!("127.0.0.1:{remote}"),
        ],
        stdin: true,
        ..Default::default()
    };
    let session = rt.exec(&pod.sandbox_id, spec).await.map_err(|e| {
        format!(
            "the sandbox cannot relay (a custom pause image?): {}",
            e.message()
        )
    })?;
    let Some(mut input) = session.input else {
        return Err("the relay's exec did not attach its input".into());
    };
    let mut output = session.output;
    let (mut from_client, mut to_client) = client.into_split();
    let up = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if input.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        // The client is done sending: the relay's stdin ends, and it shuts its connection's write side.
        let _ = input.shutdown().await;
    };
    let down = async move {
        let mut errors = String::new();
        while let Some(chunk) = output.next().await {
            let Ok(chunk) = chunk else { break };
            match chunk.kind {
                OutputKind::Stderr => errors.push_str(&String::from_utf8_lossy(&chunk.bytes)),
                _ => {
                    if to_client.write_all(&chunk.bytes).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to_client.shutdown().await;
        errors
    };
    let ((), errors) = tokio::join!(up, down);
    let errors = errors.trim();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.to_string())
    }
}
