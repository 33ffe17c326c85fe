//! HTTPS on loopback: TLS with rustls, HTTP/1.1 with hyper, the bearer token checked on every request, and the
//! response bodies the API sends (whole JSON documents, or streams for watches and logs).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_util::sync::CancellationToken;

use super::Api;
use super::status::ApiStatus;

/// A response body.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A whole body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A streamed body (chunked): each item is sent as soon as it is produced.
pub fn streamed(s: impl Stream<Item = Bytes> + Send + 'static) -> Body {
    StreamBody::new(s.map(|b| Ok::<_, std::io::Error>(Frame::data(b)))).boxed_unsync()
}

/// A response with `body` of `content_type`.
pub fn respond(code: u16, content_type: &str, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    r
}

/// A JSON document.
pub fn json(code: u16, bytes: impl Into<Bytes>) -> Response<Body> {
    respond(code, "application/json", full(bytes))
}

/// A JSON document of a serialisable value.
pub fn json_of<T: serde::Serialize>(code: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(b) => json(code, b),
        Err(e) => status(&ApiStatus::internal(format!(
            "cannot encode the response: {e}"
        ))),
    }
}

/// An error as a `Status` object.
pub fn status(s: &ApiStatus) -> Response<Body> {
    json_of(s.code, &s.to_status())
}

/// True when `req` carries `Authorization: Bearer <token>` (compared in constant time).
fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    let given = given.trim().as_bytes();
    let want = token.as_bytes();
    scheme.eq_ignore_ascii_case("bearer")
        && given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn handle(api: Arc<Api>, req: Request<Incoming>) -> Response<Body> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let response = if authorized(&req, &api.token) {
        match super::handlers::route(&api, req).await {
            Ok(r) => r,
            Err(e) => status(&e),
        }
    } else {
        status(&ApiStatus::unauthorized())
    };
    tracing::debug!(
        %method,
        %uri,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "api request"
    );
    response
}

/// Serves `api` on `listener` until `cancel`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    api: Arc<Api>,
    cancel: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("api: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(
            tcp,
            peer,
            acceptor.clone(),
            api.clone(),
            cancel.clone(),
        ));
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    api: Arc<Api>,
    cancel: CancellationToken,
) {
    // Watch events and log lines are small writes that must leave at once.
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "api: TLS handshake failed: {e}");
            return;
        }
        Err(_) => return,
    };
    let svc = service_fn(move |req| {
        let api = api.clone();
        async move { Ok::<_, Infallible>(handle(api, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .serve_connection(TokioIo::new(tls), svc)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(%peer, "api: connection ended: {e}");
            }
        }
        _ = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
        }
    }
}
