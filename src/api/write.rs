//! What every write through the API shares. The watched directory is the one store: a write becomes a
//! manifest file through the engine's one write path ([`crate::engine::request::write_manifest`], reached with a
//! [`Request`]), so it is validated by `podtui validate`'s validator, atomic and backed up, exactly as a save in
//! the TUI. Here: where the directory is (a single-file or URL source refuses writes with 405), the request
//! body, the object as the text of a manifest, the write options (`dryRun`, `fieldValidation`) and how the
//! engine's answers become API answers (422 with one cause per finding).

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::Request as HttpRequest;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::Value;

use super::Api;
use super::request::Query;
use super::resource::{Kind, Obj};
use super::status::ApiStatus;
use crate::engine::request::{Reply, Request, already_exists, check_manifest};
use crate::engine::snapshot::PodView;
use crate::manifest::finding::Finding;
use crate::manifest::store::{SaveReport, StoreError};

/// The largest request body accepted (a manifest).
pub const MAX_BODY: usize = 3 << 20;

/// The annotation `kubectl apply` keeps its last applied configuration in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `fieldValidation`: what unknown fields do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    /// 422.
    Strict,
    /// `Warning:` headers (the default, as the API server's).
    Warn,
    /// Nothing.
    Ignore,
}

/// The options of a write.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// `dryRun=All`: validate and answer, write nothing.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
}

impl WriteOptions {
    /// Reads `dryRun` and `fieldValidation` from the query.
    pub fn parse(query: &Query) -> Result<Self, ApiStatus> {
        let dry_run = match query.non_empty("dryRun") {
            None => false,
            Some("All") => true,
            Some(other) => {
                return Err(ApiStatus::bad_request(format!(
                    "dryRun: unsupported value {other:?}: supported values: \"All\""
                )));
            }
        };
        let field_validation = match query.non_empty("fieldValidation") {
            None | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiStatus::bad_request(format!(
                    "fieldValidation: invalid value {other:?}: supported values: \"Ignore\", \"Warn\", \"Strict\""
                )));
            }
        };
        Ok(Self {
            dry_run,
            field_validation,
        })
    }
}

/// The manifest directory writes go to; 405 with the reason for a single-file or URL source.
pub fn manifest_dir(source: &str) -> Result<PathBuf, ApiStatus> {
    let first = if Path::new(source).is_dir() {
        source
    } else {
        source.split(" + ").next().unwrap_or_default()
    };
    if first.starts_with("http://") || first.starts_with("https://") {
        return Err(refused(&format!(
            "podtui runs the manifests of the URL {first}, which it cannot write to"
        )));
    }
    let path = Path::new(first);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    Err(refused(&format!(
        "podtui runs the single file {first}: writes through the API need a manifest directory (podtui DIR)"
    )))
}

/// 405 for a write podtui cannot store.
pub fn refused(why: &str) -> ApiStatus {
    ApiStatus {
        message: format!("{why}; nothing was written"),
        ..ApiStatus::method_not_allowed()
    }
}

/// The file a pod came from, for a write that changes it; 405 for a URL.
pub fn pod_file(source: &str) -> Result<PathBuf, ApiStatus> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return Err(refused(&format!(
            "the pod comes from the URL {source}, which podtui cannot write to"
        )));
    }
    Ok(PathBuf::from(source))
}

/// The request body with its media type.
pub async fn read_body(req: HttpRequest<Incoming>) -> Result<(String, Bytes), ApiStatus> {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| ApiStatus::too_large())?
        .to_bytes();
    Ok((content_type, bytes))
}

/// A JSON (or YAML) object body.
pub fn decode_object(content_type: &str, bytes: &[u8]) -> Result<Value, ApiStatus> {
    let v: Value = if content_type.starts_with("application/json") {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiStatus::bad_request(format!("the request body is not valid JSON: {e}"))
        })?
    } else if content_type.contains("yaml") {
        serde_yaml::from_slice(bytes).map_err(|e| {
            ApiStatus::bad_request(format!("the request body is not valid YAML: {e}"))
        })?
    } else {
        return Err(ApiStatus::unsupported_media_type(content_type));
    };
    if !v.is_object() {
        return Err(ApiStatus::bad_request("the request body is not an object"));
    }
    Ok(v)
}

/// What the API server sets and a manifest does not hold: dropped before the object is written.
const SERVER_FIELDS: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The object as a manifest's text: without `status`, server-set metadata and nulls, in YAML (keys sorted, as
/// kubectl sends them).
pub fn manifest_text(obj: &Value) -> String {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
        if let Some(md) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in SERVER_FIELDS {
                md.remove(*f);
            }
        }
    }
    drop_nulls(&mut v);
    serde_yaml::to_string(&v).unwrap_or_default()
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// `metadata.name` of an object, or 422.
pub fn object_name(obj: &Value) -> Result<String, ApiStatus> {
    match obj.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => Ok(n.to_string()),
        _ => Err(ApiStatus::invalid(
            "Pod",
            "",
            vec![(
                "metadata.name".into(),
                "Required value: name is required".into(),
            )],
        )),
    }
}

/// Whether a finding is about a field the Pod schema does not have.
fn unknown_field(f: &Finding) -> bool {
    !f.is_error() && f.message.starts_with("unknown field")
}

/// The findings as an answer: 422 for errors (and, with `Strict`, unknown fields); else the warnings to send
/// as `Warning:` headers.
pub fn judge(
    name: &str,
    findings: &[Finding],
    fv: FieldValidation,
) -> Result<Vec<String>, ApiStatus> {
    let fatal: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.is_error() || (fv == FieldValidation::Strict && unknown_field(f)))
        .collect();
    if !fatal.is_empty() {
        return Err(invalid(name, fatal.into_iter()));
    }
    Ok(findings
        .iter()
        .filter(|f| !f.is_error() && (fv == FieldValidation::Warn || !unknown_field(f)))
        .map(|f| match &f.path {
            Some(p) => format!("{p}: {}", f.message),
            None => f.message.clone(),
        })
        .collect())
}

/// 422 with one cause per finding. No line numbers: they would count lines of the text podtui made of the
/// request body, which the client never saw (the field path is what kubectl users read).
pub fn invalid<'a>(name: &str, findings: impl Iterator<Item = &'a Finding>) -> ApiStatus {
    let causes = findings
        .map(|f| {
            let field = f.path.as_ref().map(ToString::to_string).unwrap_or_default();
            (field, format!("Invalid value: {}", f.message))
        })
        .collect();
    ApiStatus::invalid("Pod", name, causes)
}

/// Checks `text` as the manifest `path` for the write's options: the warnings to send, or 422.
pub fn check(
    api: &Api,
    path: &Path,
    name: &str,
    text: &str,
    opts: WriteOptions,
) -> Result<Vec<String>, ApiStatus> {
    let node = api.store.view().node_name().to_string();
    judge(
        name,
        &check_manifest(path, text, &node),
        opts.field_validation,
    )
}

/// Sends a manifest write to the engine; its refusals as API answers.
pub async fn send(api: &Api, name: &str, req: Request) -> Result<Reply, ApiStatus> {
    let Some(requests) = &api.requests else {
        return Err(refused("this API serves reads only"));
    };
    match requests.send(req).await {
        Reply::Failed(StoreError::Invalid(f)) => {
            Err(invalid(name, f.iter().filter(|f| f.is_error())))
        }
        Reply::Failed(e) if already_exists(&e) => {
            Err(ApiStatus::already_exists("pods", name, &format!(" ({e})")))
        }
        Reply::Failed(e) => Err(ApiStatus::internal(e.to_string())),
        Reply::EngineStopped => Err(ApiStatus::unavailable("the engine has stopped")),
        r => Ok(r),
    }
}

/// What a save did, for logging.
pub fn saved(r: &Reply) -> Option<&SaveReport> {
    match r {
        Reply::Saved(s) => Some(s),
        _ => None,
    }
}

/// Waits (up to 10 s) until the snapshot shows a desired pod for which `done` holds, and returns it as served.
pub async fn settled(api: &Api, done: impl Fn(&PodView) -> bool) -> Option<Obj> {
    let mut rx = api.store.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let view = api.store.view();
        let hit = view
            .pod_views()
            .into_iter()
            .find(|p| p.desired && done(p))
            .map(|p| (p.namespace.clone(), p.name.clone()));
        if let Some((ns, name)) = hit
            && let Some(o) = view.object(Kind::Pod, &ns, &name)
        {
            return Some(o);
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return None;
        }
    }
}

/// The pod the API answers a write of `file` with: as the reads serve it (under the name the client used,
/// [`Obj::named_as`]) once the engine runs a pod from that file under a UID other than `old_uid`, else
/// `fallback` (the object as written).
pub async fn answer_pod(
    api: &Api,
    file: &Path,
    old_uid: Option<&str>,
    served_as: &str,
    fallback: Value,
) -> Value {
    let found = settled(api, |p| {
        same_file(Path::new(&p.source), file) && Some(p.uid.as_str()) != old_uid
    })
    .await;
    found
        .and_then(|o| serde_json::from_slice(&o.named_as(served_as).to_json()).ok())
        .unwrap_or(fallback)
}

/// True when `a` and `b` name the same file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    a == b || std::path::absolute(a).ok() == std::path::absolute(b).ok()
}

/// Adds a `Warning: 299 - "<text>"` header per warning (kubectl prints each as `Warning: <text>`).
pub fn with_warnings(
    mut r: http::Response<super::http::Body>,
    warnings: &[String],
) -> http::Response<super::http::Body> {
    for w in warnings {
        let text = crate::text::escape_controls(w).replace('"', "'");
        if let Ok(v) = http::HeaderValue::from_str(&format!("299 - \"{text}\"")) {
            r.headers_mut().append("Warning", v);
        }
    }
    r
}
