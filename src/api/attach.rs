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
    Ok(upgrade(api, req, hs, rt, session, Session::Attach))
}
