//! `PUT` (`kubectl replace`) and `PATCH` (`kubectl apply`, `label`, `annotate`, `set image`, `edit`, `apply
//! --server-side`) of a pod: the new object is computed from the pod's manifest file (the truth, not the served
//! object with its status and defaults) and saved through the engine's write path, backed up first. The file is
//! rewritten in the form the API writes (YAML, keys sorted): its previous text, comments and all, is in
//! `<state dir>/backups`. A file holding other pods too is refused (409). A changed pod is replaced, as when its
//! file is edited. Server-side apply takes the applied object as the whole new manifest (no field managers).

use std::path::Path;

use http::{Request as HttpRequest, Response};
use hyper::body::Incoming;
use serde_json::Value;

use super::Api;
use super::create::fit_namespace;
use super::http::{Body, json_of};
use super::objects::short_name;
use super::request::{Query, ResourceRequest};
use super::status::ApiStatus;
use super::strategic::strategic_merge;
use super::write::{
    WriteOptions, answer_pod, check, decode_object, manifest_text, pod_file, read_body, same_file,
    send, with_warnings,
};
use crate::engine::request::Request;

/// How a patch is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PatchKind {
    Strategic,
    Merge,
    Json,
    Apply,
}

pub(super) fn patch_kind(content_type: &str) -> Result<PatchKind, ApiStatus> {
    let t = content_type.split(';').next().unwrap_or_default().trim();
    match t {
        "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/json-patch+json" => Ok(PatchKind::Json),
        "application/apply-patch+yaml" => Ok(PatchKind::Apply),
        other => Err(ApiStatus::unsupported_media_type(other)),
    }
}

/// The manifest of the pod `name` as an object, its file, and the engine's UID of the pod.
fn current(
    api: &Api,
    r: &ResourceRequest,
) -> Result<(Value, std::path::PathBuf, String, String), ApiStatus> {
    let view = api.store.view();
    let name = r.name.clone().unwrap_or_default();
    let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
    let node = view.node_name().to_string();
    let pods = view.pod_views();
    let p = pods
        .iter()
        .find(|p| {
            p.desired && p.namespace == ns && (p.name == name || short_name(&p.name, &node) == name)
        })
        .ok_or_else(|| ApiStatus::not_found("pods", &name))?;
    let file = pod_file(&p.source)?;
    let short = short_name(&p.name, &node).to_string();
    if pods
        .iter()
        .any(|o| o.desired && o.uid != p.uid && same_file(Path::new(&o.source), &file))
    {
        return Err(ApiStatus::conflict(
            "pods",
            &short,
            format!(
                "pod {short} shares its file {} with other pods; podtui changes a pod through the API only when its file holds just that pod (edit the file instead)",
                file.display()
            ),
        ));
    }
    let text = std::fs::read_to_string(&file)
        .map_err(|e| ApiStatus::internal(format!("cannot read {}: {e}", file.display())))?;
    let obj: Value = serde_yaml::from_str(&text).map_err(|e| {
        ApiStatus::internal(format!(
            "cannot read {} as one document: {e}",
            file.display()
        ))
    })?;
    Ok((obj, file, p.uid.clone(), short))
}

/// Answers a `PUT` or a `PATCH`.
pub async fn update(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
    is_patch: bool,
) -> Result<Response<Body>, ApiStatus> {
    let opts = WriteOptions::parse(query)?;
    let (base, file, uid, name) = current(api, r)?;
    let asked = r.name.as_deref().unwrap_or(&name);
    let (content_type, bytes) = read_body(req).await?;
    let mut new = if is_patch {
        let kind = patch_kind(&content_type)?;
        apply_patch(kind, &base, &content_type, &bytes)?
    } else {
        decode_object(&content_type, &bytes)?
    };
    let namespace = r.namespace.clone().unwrap_or_else(|| "default".into());
    fit_namespace(&mut new, &namespace)?;
    let new_name = super::write::object_name(&new)?;
    if new_name != name && short_name(&new_name, api.store.view().node_name()) != name {
        return Err(ApiStatus::bad_request(format!(
            "the name of the object ({new_name}) does not match the name on the URL ({name})"
        )));
    }
    // The file keeps the name it had (a patch from the served object may carry `<name>-<node>`).
    if let Some(md) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        md.insert("name".into(), Value::String(name.clone()));
    }
    let text = manifest_text(&new);
    let warnings = check(api, &file, &name, &text, opts)?;
    if opts.dry_run || manifest_text(&base) == text {
        let pod = answer_pod(api, &file, None, asked, new).await;
        return Ok(with_warnings(json_of(200, &pod), &warnings));
    }
    send(
        api,
        &name,
        Request::SaveManifest {
            path: file.clone(),
            text,
        },
    )
    .await?;
    let pod = answer_pod(api, &file, Some(&uid), asked, new).await;
    Ok(with_warnings(json_of(200, &pod), &warnings))
}

pub(super) fn apply_patch(
    kind: PatchKind,
    base: &Value,
    content_type: &str,
    bytes: &[u8],
) -> Result<Value, ApiStatus> {
    let bad = |e: String| ApiStatus::bad_request(format!("the patch is not valid: {e}"));
    match kind {
        PatchKind::Apply => decode_object("application/yaml", bytes),
        PatchKind::Json => {
            let p: json_patch::Patch =
                serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
            let mut v = base.clone();
            json_patch::patch(&mut v, &p).map_err(|e| ApiStatus {
                code: 422,
                reason: "Invalid",
                ..bad(e.to_string())
            })?;
            Ok(v)
        }
        PatchKind::Merge => {
            let p: Value = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
            let mut v = base.clone();
            json_patch::merge(&mut v, &p);
            Ok(v)
        }
        PatchKind::Strategic => {
            let p = decode_object(
                if content_type.contains("json") {
                    "application/json"
                } else {
                    content_type
                },
                bytes,
            )?;
            Ok(strategic_merge(base, &p))
        }
    }
}
