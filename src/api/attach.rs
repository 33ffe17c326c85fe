//! `pods/{name}/attach` over WebSocket (`kubectl attach`, and `kubectl run -it`): the container's main process,
//! its output from now on and, with `stdin=true`, its stdin, on the same channels as an exec
//! ([`super::exec`]); a resize resizes the container's TTY. The container must run (and, for stdin, have been
//! created with `stdin: true`, as on a node).

use http::{Request as HttpRequest, Response};
use hyper::body::Incoming;

use super::Api;
use super::exec::{Session, handshake, pod_of, runtime_of, target, upgrade};
use super::http::Body;
use super::request::{Query, ResourceRequest};
use super::status::ApiStatus;

/// Answers an attach: checks the pod and container, then upgrades to a WebSocket attached to its process.
pub async fn attach(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let pod = pod_of(api, r)?;
    let container = query.non_empty("container");
    let id = target(&pod, container, "attach")?;
    let stdin = query.flag("stdin")?;
    let rt = runtime_of(api)?;
    let hs = handshake(&req)?;
    let session = rt.attach(&id, stdin).await.map_err(|e| {
        ApiStatus::internal(format!("cannot attach to the container: {}", e.message()))
    })?;
    // The pod's status may lag behind Docker: a container that has exited meanwhile (a debug container whose
    // command was quick) would leave Docker's attach open with nothing to end it. The session says so
    // instead, and kubectl then shows the container's log.
    let exited = rt
        .inspect(&id)
        .await
        .map_err(|e| ApiStatus::internal(e.message()))?
        .is_none_or(|i| !i.state.is_running());
    if exited {
        let ended = crate::runtime::ExecSession {
            id: session.id.clone(),
            output: Box::pin(futures_util::stream::empty()),
            input: None,
        };
        return Ok(upgrade(api, req, hs, rt, ended, Session::Exited));
    }
    Ok(upgrade(api, req, hs, rt, session, Session::Attach))
}
