//! `watch=true`: a stream of `{"type":…,"object":…}` lines. It starts with the current objects as ADDED (no
//! `resourceVersion`, `0`, or `sendInitialEvents=true`, which ends the initial ones with the
//! `k8s.io/initial-events-end` bookmark), or resumes after a `resourceVersion` from the store's window (older
//! than the window: an ERROR event with 410 Expired, as from an API server). Objects are Tables when asked for.
//! It ends after `timeoutSeconds`, when the client goes away, or when the server stops.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use http::Response;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;

use super::Api;
use super::handlers::{async_stream, filter};
use super::http::{Body, respond, streamed};
use super::request::{Format, Query, ResourceRequest};
use super::resource::{Kind, Obj};
use super::select::Filter;
use super::status::ApiStatus;
use super::store::{Change, Record};
use super::table::{Include, partial_metadata, table};

/// The annotation of the bookmark that ends the initial events.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How one watch encodes its events.
struct Encoder {
    kind: Kind,
    format: Format,
    include: Include,
    /// Column definitions go with the first Table only (kubectl reuses them, as with an API server).
    columns_sent: bool,
    /// The name a `metadata.name=` selector asked for: objects are sent under it ([`Obj::named_as`]).
    asked_name: Option<String>,
}

impl Encoder {
    fn frame(&mut self, kind: &str, object: &[u8]) -> Bytes {
        let mut b = BytesMut::with_capacity(object.len() + 32);
        b.put_slice(b"{\"type\":\"");
        b.put_slice(kind.as_bytes());
        b.put_slice(b"\",\"object\":");
        b.put_slice(object);
        b.put_slice(b"}\n");
        b.freeze()
    }

    fn object(&mut self, obj: &Obj) -> Bytes {
        match self.format {
            Format::Json => obj.to_json(),
            Format::Metadata(v) => Bytes::from(
                serde_json::to_vec(&partial_metadata(obj.meta(), v)).unwrap_or_default(),
            ),
            Format::Table(v) => {
                let list = ListMeta {
                    resource_version: obj.meta().resource_version.clone(),
                    ..Default::default()
                };
                let with_columns = !std::mem::replace(&mut self.columns_sent, true);
                let t = table(
                    self.kind,
                    std::slice::from_ref(obj),
                    list,
                    self.include,
                    v,
                    with_columns,
                );
                Bytes::from(serde_json::to_vec(&t).unwrap_or_default())
            }
        }
    }

    fn event(&mut self, change: Change, obj: &Obj) -> Bytes {
        let o = match &self.asked_name {
            Some(name) if obj.name() != name => self.object(&obj.clone().named_as(name)),
            _ => self.object(obj),
        };
        self.frame(change.as_str(), &o)
    }

    /// A record as this watch sees it: a MODIFIED that leaves the selection is DELETED, one that enters it
    /// ADDED; records of other kinds or outside the selection are skipped.
    fn record(&mut self, r: &Record, f: &Filter) -> Option<Bytes> {
        if r.kind != self.kind {
            return None;
        }
        let now = f.matches(&r.fields);
        let before = r.prev.as_ref().map(|p| f.matches(p));
        let change = match (r.change, before, now) {
            (Change::Modified, Some(true), false) => Change::Deleted,
            (Change::Modified, Some(false), true) => Change::Added,
            (c, _, true) => c,
            _ => return None,
        };
        if self.format == Format::Json && change == r.change && self.asked_name.is_none() {
            return Some(self.frame(change.as_str(), &r.json));
        }
        let obj = Obj::from_json(r.kind, &r.json)?;
        Some(self.event(change, &obj))
    }

    fn bookmark(&mut self, rv: u64) -> Bytes {
        let object = match self.format {
            Format::Json => serde_json::json!({
                "kind": self.kind.name(),
                "apiVersion": "v1",
                "metadata": {"resourceVersion": rv.to_string(), "annotations": {INITIAL_EVENTS_END: "true"}},
            }),
            Format::Metadata(v) => serde_json::json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": format!("meta.k8s.io/{v}"),
                "metadata": {"resourceVersion": rv.to_string(), "annotations": {INITIAL_EVENTS_END: "true"}},
            }),
            Format::Table(v) => serde_json::json!({
                "kind": "Table",
                "apiVersion": format!("meta.k8s.io/{v}"),
                "metadata": {"resourceVersion": rv.to_string()},
                "rows": [],
            }),
        };
        self.frame("BOOKMARK", object.to_string().as_bytes())
    }

    fn error(&mut self, s: &ApiStatus) -> Bytes {
        let o = serde_json::to_vec(&s.to_status()).unwrap_or_default();
        self.frame("ERROR", &o)
    }
}

/// Where a watch starts.
enum Start {
    /// The current objects as ADDED; with the initial-events-end bookmark when `bookmark`.
    Current { bookmark: bool },
    /// After this resourceVersion.
    After(u64),
}

fn start(query: &Query) -> Result<Start, ApiStatus> {
    let send_initial = query.flag("sendInitialEvents")?;
    match query.non_empty("resourceVersion") {
        _ if send_initial => Ok(Start::Current { bookmark: true }),
        None | Some("0") => Ok(Start::Current { bookmark: false }),
        Some(v) => v
            .parse::<u64>()
            .map(Start::After)
            .map_err(|_| ApiStatus::bad_request(format!("invalid resource version: {v:?}"))),
    }
}

/// Starts a watch.
pub fn watch(
    api: &Api,
    r: &ResourceRequest,
    format: Format,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let kind = Kind::of_resource(&r.resource).ok_or_else(ApiStatus::no_route)?;
    let f = filter(kind, r, query)?;
    let include = Include::parse(query.get("includeObject"))?;
    let start = start(query)?;
    let timeout = query
        .int("timeoutSeconds")?
        .filter(|t| *t > 0)
        .map(|t| tokio::time::Instant::now() + Duration::from_secs(t as u64));
    let store = api.store.clone();
    let cancel = api.cancel.clone();
    let mut enc = Encoder {
        kind,
        format,
        include,
        columns_sent: false,
        asked_name: f.asked_name().map(str::to_string),
    };
    let body = async_stream(move |tx| async move {
        let mut sub = store.subscribe();
        let view = sub.borrow_and_update().clone();
        let node = view.node_name().to_string();
        let mut last = match start {
            Start::Current { bookmark } => {
                for o in view.objects(kind) {
                    if f.matches(&o.fields(&node))
                        && tx.send(enc.event(Change::Added, &o)).await.is_err()
                    {
                        return;
                    }
                }
                if bookmark && tx.send(enc.bookmark(view.rv)).await.is_err() {
                    return;
                }
                view.rv
            }
            Start::After(rv) => rv,
        };
        let deadline = async {
            match timeout {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        loop {
            let records = match store.since(last) {
                Ok(r) => r,
                Err(old) => {
                    let s = ApiStatus::expired(format!(
                        "too old resource version: {last} ({})",
                        old.oldest
                    ));
                    let _ = tx.send(enc.error(&s)).await;
                    return;
                }
            };
            for rec in records {
                last = rec.rv;
                if let Some(b) = enc.record(&rec, &f)
                    && tx.send(b).await.is_err()
                {
                    return;
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = &mut deadline => return,
                changed = sub.changed() => if changed.is_err() { return },
            }
        }
    });
    Ok(respond(
        200,
        "application/json;stream=watch",
        streamed(body),
    ))
}
