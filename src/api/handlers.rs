//! Routing and the read handlers: discovery, health, get and list of every served kind (JSON or Table), and
//! pod logs. Watches are in [`super::watch`], the self-reviews in [`super::authz`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use http::{Request, Response};
use hyper::body::Incoming;
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;

use super::Api;
use super::discovery;
use super::http::{Body, json, json_of, respond, streamed};
use super::logs::{LogOptions, LogShaper, container_id, container_name, runtime_request};
use super::objects::short_name;
use super::request::{Format, Query, ResourceRequest, Target, Verb, negotiate};
use super::resource::{Kind, Obj};
use super::select::{FieldSelector, Filter, LabelSelector};
use super::status::ApiStatus;
use super::store::View;
use super::table::{Include, partial_metadata, table};

/// Answers one authenticated request.
pub async fn route(api: &Api, req: Request<Incoming>) -> Result<Response<Body>, ApiStatus> {
    let query = Query::parse(req.uri().query());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let target = Target::parse(&method, &path, query.flag("watch")?);
    match target {
        Target::CoreVersions => Ok(json_of(200, &discovery::core_versions(&api.address))),
        Target::Groups => Ok(json_of(200, &discovery::group_list())),
        Target::Group(g) => discovery::group(&g)
            .map(|d| json_of(200, &d))
            .ok_or_else(ApiStatus::no_route),
        Target::Resources(g, v) => discovery::resource_list(&g, &v)
            .map(|d| json_of(200, &d))
            .ok_or_else(ApiStatus::no_route),
        Target::Other(m) => other(&m, &path, &query),
        Target::Resource(r) => resource(api, r, req, &query).await,
    }
}

/// `/version`, the health checks and `/`.
fn other(method: &str, path: &str, query: &Query) -> Result<Response<Body>, ApiStatus> {
    if method != "GET" && method != "HEAD" {
        return Err(ApiStatus::method_not_allowed());
    }
    match path.trim_end_matches('/') {
        "/version" => Ok(json_of(200, &discovery::version())),
        "/openapi/v3" => Ok(json_of(200, &super::openapi::index())),
        "/openapi/v3/api/v1" => Ok(json_of(200, &super::openapi::core_v1())),
        "" => Ok(json_of(
            200,
            &serde_json::json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}),
        )),
        p @ ("/healthz" | "/livez" | "/readyz") => {
            let text = if query.get("verbose").is_some() {
                format!("[+]ping ok\n[+]snapshot ok\n{} check passed\n", &p[1..])
            } else {
                "ok".to_string()
            };
            Ok(respond(
                200,
                "text/plain; charset=utf-8",
                super::http::full(text),
            ))
        }
        "/healthz/ping" | "/livez/ping" | "/readyz/ping" => Ok(respond(
            200,
            "text/plain; charset=utf-8",
            super::http::full("ok"),
        )),
        _ => Err(ApiStatus::no_route()),
    }
}

async fn resource(
    api: &Api,
    r: ResourceRequest,
    req: Request<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let def = discovery::find(&r.group, &r.version, &r.resource, r.subresource.as_deref())
        .ok_or_else(ApiStatus::no_route)?;
    // A namespaced object needs its namespace; a cluster-scoped one has none.
    if (def.namespaced && r.name.is_some() && r.namespace.is_none())
        || (!def.namespaced && r.namespace.is_some())
    {
        return Err(ApiStatus::no_route());
    }
    if !def.verbs.contains(&r.verb.as_str()) {
        return Err(ApiStatus::method_not_allowed());
    }
    match (r.group.as_str(), r.subresource.as_deref(), r.verb) {
        ("", Some("log"), Verb::Get) => logs(api, &r, query).await,
        ("", Some("exec"), Verb::Get | Verb::Create) => {
            super::exec::exec(api, &r, req, query).await
        }
        ("", Some("attach"), Verb::Get | Verb::Create) => {
            super::attach::attach(api, &r, req, query).await
        }
        ("", Some("ephemeralcontainers"), Verb::Get | Verb::Patch | Verb::Update) => {
            super::ephemeral::serve(api, &r, req).await
        }
        ("", None, Verb::Get) => get(api, &r, accept(&req)?, query),
        ("", None, Verb::List) => list(api, &r, accept(&req)?, query),
        ("", None, Verb::Watch) => super::watch::watch(api, &r, accept(&req)?, query),
        ("", None, Verb::Create) => super::create::create(api, &r, req, query).await,
        ("", None, Verb::Update) => super::patch::update(api, &r, req, query, false).await,
        ("", None, Verb::Patch) => super::patch::update(api, &r, req, query, true).await,
        ("", None, Verb::Delete) => super::delete::delete(api, &r, req, query).await,
        ("", None, Verb::DeleteCollection) => {
            super::delete::delete_collection(api, &r, req, query).await
        }
        (super::metrics::GROUP, None, Verb::Get | Verb::List) => {
            super::metrics::serve(api, &r, query).await
        }
        ("authorization.k8s.io" | "authentication.k8s.io", None, Verb::Create) => {
            super::authz::review(&r.resource, req).await
        }
        _ => Err(ApiStatus::method_not_allowed()),
    }
}

fn accept(req: &Request<Incoming>) -> Result<Format, ApiStatus> {
    negotiate(
        req.headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )
}

fn kind_of(r: &ResourceRequest) -> Result<Kind, ApiStatus> {
    Kind::of_resource(&r.resource).ok_or_else(ApiStatus::no_route)
}

/// The object `name` of `kind` (a pod also by the name in its file, without `-<node>`).
pub fn find(view: &View, kind: Kind, namespace: Option<&str>, name: &str) -> Option<Obj> {
    let node = view.node_name().to_string();
    let ns = namespace.unwrap_or_default();
    let hit = |want: &str| view.object(kind, ns, want);
    hit(name).or_else(|| {
        (kind == Kind::Pod && short_name(name, &node) == name)
            .then(|| hit(&format!("{name}-{node}")))
            .flatten()
    })
}

fn one(view: &View, r: &ResourceRequest) -> Result<Obj, ApiStatus> {
    let kind = kind_of(r)?;
    let name = r.name.as_deref().unwrap_or_default();
    find(view, kind, r.namespace.as_deref(), name)
        .map(|o| o.named_as(name))
        .ok_or_else(|| ApiStatus::not_found(kind.resource(), name))
}

fn get(
    api: &Api,
    r: &ResourceRequest,
    format: Format,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let view = api.store.view();
    let obj = one(&view, r)?;
    match format {
        Format::Json => Ok(json(200, obj.to_json())),
        Format::Metadata(v) => Ok(json_of(200, &partial_metadata(obj.meta(), v))),
        Format::Table(v) => {
            let include = Include::parse(query.get("includeObject"))?;
            let list = ListMeta {
                resource_version: obj.meta().resource_version.clone(),
                ..Default::default()
            };
            let t = table(obj.kind(), &[obj], list, include, v, true);
            Ok(table_response(&t, v))
        }
    }
}

fn table_response(t: &super::table::Table, version: &str) -> Response<Body> {
    match serde_json::to_vec(t) {
        Ok(b) => respond(
            200,
            &format!("application/json;as=Table;v={version};g=meta.k8s.io"),
            super::http::full(b),
        ),
        Err(e) => super::http::status(&ApiStatus::internal(e.to_string())),
    }
}

/// The filter of a list or watch request.
pub fn filter(kind: Kind, r: &ResourceRequest, query: &Query) -> Result<Filter, ApiStatus> {
    Ok(Filter {
        namespace: r.namespace.clone(),
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or_default())?,
        fields: FieldSelector::parse(
            query.get("fieldSelector").unwrap_or_default(),
            kind.selectable_fields(),
        )?,
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    start: (String, String),
}

fn decode_continue(token: &str) -> Result<ContinueToken, ApiStatus> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiStatus::bad_request(format!("continue key is not valid: {token:?}")))
}

fn list(
    api: &Api,
    r: &ResourceRequest,
    format: Format,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let kind = kind_of(r)?;
    let f = filter(kind, r, query)?;
    let view = api.store.view();
    let node = view.node_name().to_string();
    let mut objs: Vec<Obj> = view
        .objects(kind)
        .into_iter()
        .filter(|o| f.matches(&o.fields(&node)))
        .map(|o| match f.asked_name() {
            Some(name) => o.named_as(name),
            None => o,
        })
        .collect();
    let mut rv = view.rv;
    if let Some(token) = query.non_empty("continue") {
        let t = decode_continue(token)?;
        rv = t.rv;
        objs.retain(|o| o.sort_key() > t.start);
    }
    let mut list = ListMeta {
        resource_version: Some(rv.to_string()),
        ..Default::default()
    };
    if let Some(limit) = query.int("limit")?.filter(|l| *l > 0).map(|l| l as usize)
        && objs.len() > limit
    {
        let rest = objs.split_off(limit);
        if let Some(last) = objs.last() {
            let token = ContinueToken {
                rv,
                start: last.sort_key(),
            };
            let bytes = serde_json::to_vec(&token).unwrap_or_default();
            list.continue_ = Some(URL_SAFE_NO_PAD.encode(bytes));
            list.remaining_item_count = Some(rest.len() as i64);
        }
    }
    match format {
        Format::Table(v) => {
            let include = Include::parse(query.get("includeObject"))?;
            Ok(table_response(
                &table(kind, &objs, list, include, v, true),
                v,
            ))
        }
        Format::Json => Ok(json(200, json_list(kind, &list, &objs))),
        Format::Metadata(v) => Ok(json_of(
            200,
            &serde_json::json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": format!("meta.k8s.io/{v}"),
                "metadata": list,
                "items": objs.iter().map(|o| partial_metadata(o.meta(), v)).collect::<Vec<_>>(),
            }),
        )),
    }
}

/// `{"kind":"PodList","apiVersion":"v1","metadata":…,"items":[…]}`, from the objects' JSON.
fn json_list(kind: Kind, list: &ListMeta, objs: &[Obj]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"v1\",\"metadata\":",
            kind.name()
        )
        .as_bytes(),
    );
    b.put_slice(&serde_json::to_vec(list).unwrap_or_else(|_| b"{}".to_vec()));
    b.put_slice(b",\"items\":[");
    for (i, o) in objs.iter().enumerate() {
        if i > 0 {
            b.put_u8(b',');
        }
        b.put_slice(&o.to_json());
    }
    b.put_slice(b"]}");
    b.freeze()
}

async fn logs(api: &Api, r: &ResourceRequest, query: &Query) -> Result<Response<Body>, ApiStatus> {
    let view = api.store.view();
    let Obj::Pod(pod) = one(&view, r)? else {
        return Err(ApiStatus::no_route());
    };
    let opts = LogOptions::parse(query, Timestamp::now())?;
    let container = container_name(&pod, opts.container.as_deref())?;
    let id = container_id(&pod, &container, opts.previous)?;
    let mut source = api.logs.logs(&id, &runtime_request(&opts))?;
    let mut shaper = LogShaper::new(&opts);
    let cancel = api.cancel.clone();
    let body = async_stream(move |tx| async move {
        loop {
            let item = tokio::select! {
                _ = cancel.cancelled() => break,
                item = source.next() => item,
            };
            let Some(item) = item else { break };
            let chunk = match item {
                Ok(c) => shaper.push(&c),
                Err(e) => {
                    tracing::debug!("api: log stream ended: {e}");
                    break;
                }
            };
            if !chunk.is_empty() && tx.send(chunk).await.is_err() {
                return;
            }
            if shaper.done() {
                return;
            }
        }
        let rest = shaper.finish();
        if !rest.is_empty() {
            let _ = tx.send(rest).await;
        }
    });
    Ok(respond(200, "text/plain", streamed(body)))
}

/// A stream fed by `producer` through a small channel; the producer stops when the stream is dropped (the
/// client went away).
pub fn async_stream<F, Fut>(producer: F) -> impl futures_util::Stream<Item = Bytes> + Send + 'static
where
    F: FnOnce(tokio::sync::mpsc::Sender<Bytes>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let fut = producer(tx.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = fut => {}
            _ = tx.closed() => {}
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
}
