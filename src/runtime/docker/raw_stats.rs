//! Docker's stats stream (`GET /containers/{id}/stats?stream=1`) read straight off a unix socket and decoded
//! into only the fields podtui uses. bollard decodes every sample into its full `ContainerStatsResponse` —
//! per-CPU arrays, blkio lists and a map of ~30 memory counters, each a `String` key — and with 40 containers
//! streamed once a second that decoding was a quarter of the TUI's idle CPU (measured with perf; see
//! docs/performance.md). Skipped JSON is tokenised, never allocated, and the HTTP connection is driven by the
//! task that reads the body (one wake-up per sample). Other endpoints (`tcp://`) keep bollard's stream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use serde::Deserialize;

use crate::runtime::error::RuntimeError;
use crate::runtime::{RtStream, StatsSample};

/// A sample line longer than this is not Docker's: the stream ends with an error instead of growing.
const MAX_LINE: usize = 1 << 20;

/// The socket of a `unix://` endpoint.
pub(super) fn unix_path(endpoint: &str) -> Option<PathBuf> {
    endpoint.strip_prefix("unix://").map(PathBuf::from)
}

/// One stats sample, as much of it as podtui reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawStats {
    read: Option<String>,
    cpu_stats: RawCpu,
    memory_stats: RawMemory,
    networks: Option<HashMap<String, RawNetwork>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCpu {
    cpu_usage: RawCpuUsage,
    system_cpu_usage: Option<u64>,
    online_cpus: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCpuUsage {
    total_usage: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMemory {
    usage: Option<u64>,
    limit: Option<u64>,
    stats: RawMemoryCounters,
}

/// cgroup v2 names it `inactive_file`, v1 `total_inactive_file`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMemoryCounters {
    inactive_file: Option<u64>,
    total_inactive_file: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawNetwork {
    rx_bytes: u64,
    tx_bytes: u64,
}

impl From<RawStats> for StatsSample {
    fn from(s: RawStats) -> Self {
        let (rx, tx) = s
            .networks
            .unwrap_or_default()
            .values()
            .fold((0, 0), |(rx, tx), n| (rx + n.rx_bytes, tx + n.tx_bytes));
        let counters = &s.memory_stats.stats;
        StatsSample {
            time: s.read.as_deref().and_then(|t| t.parse().ok()),
            cpu_total_ns: s.cpu_stats.cpu_usage.total_usage.unwrap_or(0),
            system_cpu_ns: s.cpu_stats.system_cpu_usage.unwrap_or(0),
            online_cpus: s.cpu_stats.online_cpus.unwrap_or(0),
            memory_usage: s.memory_stats.usage.unwrap_or(0),
            memory_inactive_file: counters
                .inactive_file
                .or(counters.total_inactive_file)
                .unwrap_or(0),
            memory_limit: s.memory_stats.limit.unwrap_or(0),
            rx_bytes: rx,
            tx_bytes: tx,
        }
    }
}

/// The HTTP connection's own future: polled by the task that reads the body (no task of its own, so a sample
/// wakes one task, not two).
type Connection = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Sends the request; the response body, and the connection it rides on.
async fn open(
    socket: &Path,
    id: &str,
    op: &str,
) -> Result<(Incoming, Option<Connection>), RuntimeError> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| RuntimeError::failed(op, format!("{what}: {e}"));
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| fail(&format!("connect to {}", socket.display()), &e))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| fail("handshake", &e))?;
    let mut conn: Connection = Box::pin(async move {
        let _ = conn.await;
    });
    let req = http::Request::get(format!("/containers/{id}/stats?stream=1"))
        .header(http::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|e| fail("request", &e))?;
    // The connection makes progress only while polled: drive it beside the request until the answer comes.
    let resp = {
        let send = sender.send_request(req);
        tokio::pin!(send);
        tokio::select! {
            r = &mut send => r.map_err(|e| fail("request", &e))?,
            _ = &mut conn => return Err(fail("request", &"the connection closed")),
        }
    };
    let mut conn = Some(conn);
    if !resp.status().is_success() {
        let status = resp.status();
        let collect = resp.into_body().collect();
        tokio::pin!(collect);
        let body = loop {
            tokio::select! {
                b = &mut collect => break b.map(|b| b.to_bytes()).unwrap_or_default(),
                _ = async { conn.as_mut()?.await; Some(()) }, if conn.is_some() => conn = None,
            }
        };
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(RuntimeError::failed(op, format!("{status}: {message}")));
    }
    Ok((resp.into_body(), conn))
}

/// Splits the complete lines off the front of `buf`.
pub(super) fn lines(buf: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = buf.drain(..=pos).collect();
        if line.iter().any(|b| !b.is_ascii_whitespace()) {
            out.push(line);
        }
    }
    out
}

/// The stats of container `id` over the socket at `socket`, one sample per line Docker writes.
pub(super) fn stream(socket: PathBuf, id: &str, op: String) -> RtStream<StatsSample> {
    let id = id.to_string();
    let samples = futures_util::stream::once(async move {
        let opened = open(&socket, &id, &op).await;
        (opened, op)
    })
    .flat_map(|(opened, op)| -> RtStream<StatsSample> {
        let (body, conn) = match opened {
            Ok(x) => x,
            Err(e) => return Box::pin(futures_util::stream::iter([Err(e)])),
        };
        let buf: Vec<u8> = Vec::new();
        let ready: std::collections::VecDeque<Vec<u8>> = std::collections::VecDeque::new();
        let state = (body, conn, buf, ready, op);
        Box::pin(futures_util::stream::unfold(
            Some(state),
            |state| async move {
                let (mut body, mut conn, mut buf, mut ready, op) = state?;
                loop {
                    if let Some(line) = ready.pop_front() {
                        let item = serde_json::from_slice::<RawStats>(&line)
                            .map(StatsSample::from)
                            .map_err(|e| {
                                RuntimeError::failed(&op, format!("decode a sample: {e}"))
                            });
                        return Some((item, Some((body, conn, buf, ready, op))));
                    }
                    let frame = match conn.as_mut() {
                        None => body.frame().await,
                        Some(c) => tokio::select! {
                            f = body.frame() => f,
                            _ = c => {
                                // Closed: what it read is in the body; read it out.
                                conn = None;
                                continue;
                            }
                        },
                    };
                    match frame {
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                buf.extend_from_slice(&data);
                                ready.extend(lines(&mut buf));
                                if buf.len() > MAX_LINE {
                                    let e = RuntimeError::failed(&op, "a sample line over 1 MiB");
                                    return Some((Err(e), None));
                                }
                            }
                        }
                        Some(Err(e)) => {
                            let e = RuntimeError::failed(&op, format!("read: {e}"));
                            return Some((Err(e), None));
                        }
                        None => return None,
                    }
                }
            },
        ))
    });
    Box::pin(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample as dockerd 20.10 on cgroup v1 writes it (trimmed of nothing that matters: its shape).
    const SAMPLE: &str = r#"{"read":"2026-12-03T14:40:00.123456789Z","preread":"2026-12-03T14:39:59.1Z","pids_stats":{"current":2},"blkio_stats":{"io_service_bytes_recursive":[{"major":8,"minor":0,"op":"Read","value":4096}]},"num_procs":0,"storage_stats":{},"cpu_stats":{"cpu_usage":{"total_usage":123456789,"percpu_usage":[100,200],"usage_in_kernelmode":10,"usage_in_usermode":20},"system_cpu_usage":987654321000,"online_cpus":2,"throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":1},"throttling_data":{}},"memory_stats":{"usage":10485760,"max_usage":20000000,"stats":{"active_anon":1,"inactive_file":0,"total_inactive_file":2097152,"rss":3},"limit":67108864},"name":"/k8s_app","id":"abc","networks":{"eth0":{"rx_bytes":1000,"rx_packets":3,"rx_errors":0,"rx_dropped":0,"tx_bytes":500,"tx_packets":2,"tx_errors":0,"tx_dropped":0}}}"#;

    #[test]
    fn the_minimal_decoder_reads_what_bollards_full_one_reads() {
        let ours: StatsSample = serde_json::from_str::<RawStats>(SAMPLE).unwrap().into();
        let full: bollard::models::ContainerStatsResponse = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(ours, super::super::streams::sample(full));
        assert_eq!(ours.cpu_total_ns, 123456789);
        assert_eq!(ours.online_cpus, 2);
        assert_eq!((ours.rx_bytes, ours.tx_bytes), (1000, 500));
        assert_eq!(ours.memory_limit, 64 << 20);
        // cgroup v1 sets both counters; v2 only inactive_file: the first that is there wins, as before.
        assert_eq!(ours.memory_inactive_file, 0);
        let v2 = SAMPLE.replace(
            r#""inactive_file":0,"total_inactive_file":2097152,"#,
            r#""inactive_file":4096,"#,
        );
        let ours: StatsSample = serde_json::from_str::<RawStats>(&v2).unwrap().into();
        assert_eq!(ours.memory_inactive_file, 4096);
        // A stopped container's sample: empty objects.
        let empty: StatsSample = serde_json::from_str::<RawStats>(
            r#"{"read":"0001-01-01T00:00:00Z","cpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{}}"#,
        )
        .unwrap()
        .into();
        assert_eq!(empty.memory_usage, 0);
    }

    #[test]
    fn lines_are_split_where_docker_ends_them() {
        let mut buf = b"{\"a\":1}\n\n{\"b\"".to_vec();
        assert_eq!(lines(&mut buf), vec![b"{\"a\":1}\n".to_vec()]);
        assert_eq!(buf, b"{\"b\"");
        buf.extend_from_slice(b":2}\n");
        assert_eq!(lines(&mut buf), vec![b"{\"b\":2}\n".to_vec()]);
        assert!(buf.is_empty());
    }
}
