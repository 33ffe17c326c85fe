//! `pods/{name}/exec` over WebSocket (`kubectl exec`, k9s's shell through kubectl), subprotocols
//! `v5.channel.k8s.io` (kubectl ≥ 1.30 offers only this one) and `v4.channel.k8s.io`. Every binary message starts
//! with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the error channel (a `Status` when the command ends: a
//! non-zero exit is `NonZeroExitCode` with an `ExitCode` cause, so kubectl exits with it), 4 resize
//! (`{"Width":…,"Height":…}`), and in v5 255 close (`[255, 0]`: stdin is at its end). The command runs through
//! the runtime boundary's one exec ([`crate::runtime::ContainerRuntime::exec`]), as the TUI's shell does.

use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, Request as HttpRequest, Response, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Message, Role};

use super::Api;
use super::http::{Body, full, respond};
use super::logs::{container_id, container_name};
use super::request::{Query, ResourceRequest};
use super::status::ApiStatus;
use crate::runtime::types::{ExecSession, ExecSpec, OutputKind};
use crate::runtime::{ContainerRuntime, Runtime};

/// The subprotocols served, preferred first.
pub const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];

/// What an exec asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRequest {
    /// The command (repeated `command=`).
    pub command: Vec<String>,
    /// `container=`.
    pub container: Option<String>,
    /// `stdin=true`.
    pub stdin: bool,
    /// `tty=true`.
    pub tty: bool,
}

impl ExecRequest {
    /// Reads the query; the command's parts keep their order.
    pub fn parse(raw: Option<&str>, query: &Query) -> Result<Self, ApiStatus> {
        let command: Vec<String> = raw
            .unwrap_or_default()
            .split('&')
            .filter_map(|p| p.split_once('='))
            .filter(|(k, _)| *k == "command")
            .map(|(_, v)| super::request::percent_decode(v, true))
            .collect();
        if command.is_empty() {
            return Err(ApiStatus::bad_request(
                "you must specify at least 1 command",
            ));
        }
        Ok(Self {
            command,
            container: query.non_empty("container").map(str::to_string),
            stdin: query.flag("stdin")?,
            tty: query.flag("tty")?,
        })
    }
}

/// The protocol to answer with: the first of the client's that is served.
fn protocol(req: &HttpRequest<Incoming>) -> Option<&'static str> {
    let offered: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
        .collect();
    PROTOCOLS
        .iter()
        .find(|p| offered.iter().any(|o| o == *p))
        .copied()
}

/// The running container to exec in (or, `verb` "attach", attach to), or the reason there is none.
pub fn target(pod: &Pod, asked: Option<&str>, verb: &str) -> Result<String, ApiStatus> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return Err(ApiStatus::bad_request(format!(
            "cannot {verb} into a container in a completed pod; current phase is {phase}"
        )));
    }
    let container = container_name(pod, asked)?;
    let running = pod
        .status
        .iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
                .chain(s.ephemeral_container_statuses.iter().flatten())
        })
        .find(|s| s.name == container)
        .is_some_and(|s| s.state.as_ref().is_some_and(|st| st.running.is_some()));
    if !running {
        return Err(ApiStatus::bad_request(format!(
            "container {container} in pod {name} is not running (see kubectl describe pod {name}); {verb} needs a running container"
        )));
    }
    container_id(pod, &container, false)
}

/// What a session streams: an exec (resized and ended as an exec) or an attach to a container's main process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {
    /// `pods/{name}/exec`.
    Exec,
    /// `pods/{name}/attach`.
    Attach,
    /// An attach to a container that exited before it could be attached (the pod's status lags behind
    /// Docker): nothing to stream, it ends at once with a Failure saying so, and kubectl shows the log.
    Exited,
}

/// The pod `r` names, as served.
pub fn pod_of(api: &Api, r: &ResourceRequest) -> Result<Box<Pod>, ApiStatus> {
    let view = api.store.view();
    let name = r.name.clone().unwrap_or_default();
    match super::handlers::find(
        &view,
        super::resource::Kind::Pod,
        r.namespace.as_deref(),
        &name,
    )
    .map(|o| o.named_as(&name))
    {
        Some(super::resource::Obj::Pod(pod)) => Ok(pod),
        _ => Err(ApiStatus::not_found("pods", &name)),
    }
}

/// The engine, or 503 while podtui reconnects.
pub fn runtime_of(api: &Api) -> Result<Runtime, ApiStatus> {
    api.runtime
        .as_ref()
        .and_then(|r| r.borrow().clone())
        .ok_or_else(|| {
            ApiStatus::unavailable(
                "the container engine is not reachable right now (podtui is reconnecting)",
            )
        })
}

/// The WebSocket key and the subprotocol to answer with, or why the request cannot be upgraded.
pub fn handshake(req: &HttpRequest<Incoming>) -> Result<(HeaderValue, &'static str), ApiStatus> {
    let websocket = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned();
    let (Some(key), true) = (key, websocket) else {
        return Err(ApiStatus::bad_request(
            "podtui serves exec and attach over WebSocket only (kubectl ≥ 1.30 uses it by default; do not set KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)",
        ));
    };
    let Some(proto) = protocol(req) else {
        return Err(ApiStatus::bad_request(format!(
            "no served subprotocol offered; podtui serves {}",
            PROTOCOLS.join(", ")
        )));
    };
    Ok((key, proto))
}

/// Upgrades `req` to a WebSocket that streams `session` (the 101 answer; the streaming runs in a task that
/// ends with the session, the client, or the server).
pub fn upgrade(
    api: &Api,
    req: HttpRequest<Incoming>,
    (key, proto): (HeaderValue, &'static str),
    rt: Runtime,
    session: ExecSession,
    kind: Session,
) -> Response<Body> {
    let cancel = api.cancel.clone();
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(up) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(up), Role::Server, None).await;
                tokio::select! {
                    _ = pump(ws, rt, session, proto, kind) => {}
                    _ = cancel.cancelled() => {}
                }
            }
            Err(e) => tracing::debug!("api: {kind:?} upgrade failed: {e}"),
        }
    });
    let mut resp = respond(101, "application/octet-stream", full(""));
    let h = resp.headers_mut();
    h.remove(header::CONTENT_TYPE);
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    h.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(proto),
    );
    resp
}

/// Answers an exec: checks the pod and container, then upgrades to a WebSocket and runs the command.
pub async fn exec(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let ask = ExecRequest::parse(req.uri().query(), query)?;
    let pod = pod_of(api, r)?;
    let id = target(&pod, ask.container.as_deref(), "exec")?;
    let rt = runtime_of(api)?;
    let hs = handshake(&req)?;
    let spec = ExecSpec {
        cmd: ask.command.clone(),
        tty: ask.tty,
        stdin: ask.stdin,
        env: vec![],
        size: None,
    };
    let session = rt.exec(&id, spec).await.map_err(|e| {
        ApiStatus::internal(format!("cannot exec in the container: {}", e.message()))
    })?;
    Ok(upgrade(api, req, hs, rt, session, Session::Exec))
}

/// The error channel's last message: success, or the exit code as kubectl reads it.
pub fn exit_status(code: i64) -> serde_json::Value {
    if code == 0 {
        return serde_json::json!({"metadata": {}, "status": "Success"});
    }
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("command terminated with non-zero exit code: exit status {code}"),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

fn frame(channel: u8, bytes: &[u8]) -> Message {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.push(channel);
    v.extend_from_slice(bytes);
    Message::Binary(v.into())
}

/// Moves bytes between the WebSocket and the session until it ends (or the client goes), then sends the exit
/// status (an exec's; an attach ends with success, as the kubelet's does) and closes.
async fn pump<S>(
    mut ws: WebSocketStream<S>,
    rt: Runtime,
    mut session: ExecSession,
    proto: &str,
    kind: Session,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut input = session.input.take();
    loop {
        tokio::select! {
            chunk = session.output.next() => match chunk {
                Some(Ok(c)) => {
                    let ch = if c.kind == OutputKind::Stderr { 2 } else { 1 };
                    if ws.send(frame(ch, &c.bytes)).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!("api: exec output ended: {e}");
                    break;
                }
                None => break,
            },
            msg = ws.next() => match msg {
                Some(Ok(Message::Binary(b))) if !b.is_empty() => {
                    let msg = ClientMessage { channel: b[0], data: &b[1..], proto, kind };
                    client_message(&*rt, &session.id, &mut input, msg).await;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let status = match kind {
        Session::Exec => exit_status(exit_code(&*rt, &session.id).await),
        Session::Attach => exit_status(0),
        Session::Exited => serde_json::json!({
            "metadata": {},
            "status": "Failure",
            "message": "the container is not running: it exited before the attach",
            "reason": "BadRequest",
        }),
    };
    let status = serde_json::to_vec(&status).unwrap_or_default();
    let _ = ws.send(frame(3, &status)).await;
    // A normal closure: kubectl reads it as the end of every stream (any other code is an error).
    let _ = ws
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }))
        .await;
}

/// One binary message from the client, its channel byte split off.
struct ClientMessage<'a> {
    channel: u8,
    data: &'a [u8],
    proto: &'a str,
    kind: Session,
}

/// One message from the client: stdin, a resize, or (v5) the end of stdin.
async fn client_message(
    rt: &dyn ContainerRuntime,
    id: &str,
    input: &mut Option<crate::runtime::types::ExecInput>,
    msg: ClientMessage<'_>,
) {
    let ClientMessage {
        channel,
        data,
        proto,
        kind,
    } = msg;
    match channel {
        0 => {
            if let Some(i) = input.as_mut()
                && (i.write_all(data).await.is_err() || i.flush().await.is_err())
            {
                *input = None;
            }
        }
        4 => {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Size {
                width: u16,
                height: u16,
            }
            if let Ok(s) = serde_json::from_slice::<Size>(data) {
                let _ = match kind {
                    Session::Exec => rt.resize_exec(id, (s.width, s.height)).await,
                    Session::Attach | Session::Exited => {
                        rt.resize_tty(id, (s.width, s.height)).await
                    }
                };
            }
        }
        // The end of an exec's stdin ends its stdin. An attached container's stdin stays open (as on a node,
        // where stdinOnce is false): Docker would end the whole attach, output too, when its stdin closed.
        255 if proto.starts_with("v5") && data.first() == Some(&0) && kind == Session::Exec => {
            if let Some(mut i) = input.take() {
                let _ = i.shutdown().await;
            }
        }
        _ => {}
    }
}

async fn exit_code(rt: &dyn ContainerRuntime, id: &str) -> i64 {
    for _ in 0..500 {
        match rt.exec_exit_code(id).await {
            Ok(Some(code)) => return code,
            Ok(None) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            Err(_) => return -1,
        }
    }
    -1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_parts_keep_their_order() {
        let raw = "command=sh&command=-c&command=echo+a%26b&container=c&stdin=true&stdout=true";
        let q = Query::parse(Some(raw));
        let r = ExecRequest::parse(Some(raw), &q).unwrap();
        assert_eq!(r.command, ["sh", "-c", "echo a&b"]);
        assert_eq!(r.container.as_deref(), Some("c"));
        assert!(r.stdin && !r.tty);
        assert_eq!(
            ExecRequest::parse(Some("stdin=true"), &q).unwrap_err().code,
            400
        );
    }

    #[test]
    fn a_non_zero_exit_is_what_kubectl_reads() {
        assert_eq!(exit_status(0)["status"], "Success");
        let s = exit_status(7);
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(
            s["details"]["causes"][0],
            serde_json::json!({"reason": "ExitCode", "message": "7"})
        );
    }
}
