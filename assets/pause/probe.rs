//! Probe clients with nothing but std: HTTP/1.1 GET, TCP connect, and the standard gRPC health check
//! (`grpc.health.v1.Health/Check` over cleartext HTTP/2). podtui uses them from the host, and the pause program
//! carries the same code so that podtui can probe from inside a pod's network namespace (`/pause probe …` run
//! by Docker exec in the sandbox) when the pod's IP is not reachable from where podtui runs. No tool is needed in
//! the user's image.
//!
//! This file is compiled twice: into podtui (as a module) and into the static pause program.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A TCP connection within `timeout`.
pub fn tcp(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    TcpStream::connect_timeout(&addr, timeout)
        .map(|_| ())
        .map_err(|e| format!("dial tcp {addr}: {e}"))
}

fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timeout".into());
    }
    let s = TcpStream::connect_timeout(&addr, left).map_err(|e| format!("dial tcp {addr}: {e}"))?;
    s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(left)).map_err(|e| e.to_string())?;
    s.set_nodelay(true).ok();
    Ok(s)
}

/// An HTTP/1.1 GET; returns the status code. `host` is the Host header; `headers` are extra headers.
pub fn http_get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<u16, String> {
    let deadline = Instant::now() + timeout;
    let mut s = connect(addr, deadline)?;
    let path = if path.is_empty() { "/" } else { path };
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: kube-probe/podtui\r\nAccept: */*\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    // The status line is enough; read until it is complete.
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return Err("timeout awaiting response headers".into());
            }
            Err(e) => return Err(format!("read: {e}")),
        }
        if buf.len() > 8192 {
            break;
        }
    }
    let line = String::from_utf8_lossy(&buf);
    let line = line.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|c| c.parse::<u16>().ok()),
    ) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => Ok(code),
        _ => Err(format!("malformed HTTP response: {line:?}")),
    }
}

// ----- gRPC health check over HTTP/2 (cleartext, prior knowledge) -------------------------------------------

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK "literal header field without indexing, new name" (no Huffman coding).
fn literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0x00);
    hpack_string(out, name);
    hpack_string(out, value);
}

fn hpack_string(out: &mut Vec<u8>, s: &str) {
    // 7-bit prefix integer, Huffman bit clear.
    let len = s.len();
    if len < 127 {
        out.push(len as u8);
    } else {
        out.push(127);
        let mut rest = len - 127;
        while rest >= 128 {
            out.push((rest % 128 + 128) as u8);
            rest /= 128;
        }
        out.push(rest as u8);
    }
    out.extend_from_slice(s.as_bytes());
}

fn read_frame(s: &mut TcpStream) -> Result<(u8, u8, u32, Vec<u8>), String> {
    let mut head = [0u8; 9];
    s.read_exact(&mut head).map_err(|e| format!("read: {e}"))?;
    let len = (u32::from(head[0]) << 16 | u32::from(head[1]) << 8 | u32::from(head[2])) as usize;
    if len > 1 << 20 {
        return Err("frame too large".into());
    }
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload)
        .map_err(|e| format!("read: {e}"))?;
    Ok((head[3], head[4], stream, payload))
}

/// Reads a protobuf varint.
fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The `status` field (1) of a `HealthCheckResponse`.
fn health_status(msg: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < msg.len() {
        let key = varint(msg, &mut i)?;
        match (key >> 3, key & 7) {
            (1, 0) => return varint(msg, &mut i),
            (_, 0) => {
                varint(msg, &mut i)?;
            }
            (_, 2) => {
                let n = varint(msg, &mut i)? as usize;
                i += n;
            }
            (_, 1) => i += 8,
            (_, 5) => i += 4,
            _ => return None,
        }
    }
    Some(0)
}

/// gRPC health status names.
pub fn status_name(code: u64) -> &'static str {
    match code {
        0 => "UNKNOWN",
        1 => "SERVING",
        2 => "NOT_SERVING",
        3 => "SERVICE_UNKNOWN",
        _ => "UNRECOGNIZED",
    }
}

/// `grpc.health.v1.Health/Check` for `service` ("" is the whole server); returns the status (1 = SERVING).
pub fn grpc_health(
    addr: SocketAddr,
    authority: &str,
    service: &str,
    timeout: Duration,
) -> Result<u64, String> {
    let deadline = Instant::now() + timeout;
    let mut s = connect(addr, deadline)?;
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    let mut hdrs = Vec::new();
    literal(&mut hdrs, ":method", "POST");
    literal(&mut hdrs, ":scheme", "http");
    literal(&mut hdrs, ":path", "/grpc.health.v1.Health/Check");
    literal(&mut hdrs, ":authority", authority);
    literal(&mut hdrs, "content-type", "application/grpc");
    literal(&mut hdrs, "te", "trailers");
    literal(&mut hdrs, "user-agent", "kube-probe/podtui");
    out.extend(frame(HEADERS, END_HEADERS, 1, &hdrs));
    // HealthCheckRequest { service = 1 }.
    let mut msg = Vec::new();
    if !service.is_empty() {
        msg.push(0x0a);
        let mut n = service.len();
        while n >= 128 {
            msg.push((n % 128 + 128) as u8);
            n /= 128;
        }
        msg.push(n as u8);
        msg.extend_from_slice(service.as_bytes());
    }
    let mut body = vec![0u8];
    body.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    body.extend(msg);
    out.extend(frame(DATA, END_STREAM, 1, &body));
    s.write_all(&out).map_err(|e| format!("write: {e}"))?;
    let mut data = Vec::new();
    loop {
        if Instant::now() > deadline {
            return Err("timeout".into());
        }
        let (kind, flags, stream, payload) = read_frame(&mut s).map_err(|e| {
            if e.contains("timed out") || e.contains("Resource temporarily unavailable") {
                "timeout".to_string()
            } else {
                e
            }
        })?;
        match kind {
            SETTINGS if flags & ACK == 0 => {
                s.write_all(&frame(SETTINGS, ACK, 0, &[]))
                    .map_err(|e| format!("write: {e}"))?;
            }
            PING if flags & ACK == 0 => {
                s.write_all(&frame(PING, ACK, 0, &payload))
                    .map_err(|e| format!("write: {e}"))?;
            }
            DATA if stream == 1 => {
                data.extend_from_slice(&payload);
                if data.len() >= 5 {
                    let n = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
                    if data.len() >= 5 + n {
                        return health_status(&data[5..5 + n])
                            .ok_or_else(|| "malformed health response".into());
                    }
                }
            }
            HEADERS if stream == 1 && flags & END_STREAM != 0 => {
                // Trailers without a message: the call failed (grpc-status is in the trailers).
                return Err("the server answered without a health status (is grpc.health.v1.Health registered?)".into());
            }
            RST_STREAM if stream == 1 => return Err("the server reset the stream".into()),
            GOAWAY => return Err("the server closed the connection".into()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_status() {
        assert_eq!(health_status(&[0x08, 0x01]), Some(1));
        assert_eq!(health_status(&[]), Some(0));
        assert_eq!(health_status(&[0x12, 0x01, 0x41, 0x08, 0x02]), Some(2));
    }

    #[test]
    fn hpack_literal() {
        let mut out = Vec::new();
        literal(&mut out, "te", "trailers");
        assert_eq!(
            out,
            [
                0x00, 2, b't', b'e', 8, b't', b'r', b'a', b'i', b'l', b'e', b'r', b's'
            ]
        );
    }
}
