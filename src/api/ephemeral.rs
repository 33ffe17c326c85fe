//! `pods/{name}/ephemeralcontainers`, what `kubectl debug -it POD --image=IMAGE --target=C` patches: each
//! ephemeral container the patched pod adds is started as a debug container in the pod ([`crate::debug`]),
//! with its own command, stdin and TTY (kubectl then watches the pod until its status says running and
//! attaches to it). As on a node, ephemeral containers can be added but not changed or removed, are never
//! restarted, and stay (terminated) until the pod goes.

use http::{Request as HttpRequest, Response};
use hyper::body::Incoming;
use k8s_openapi::api::core::v1::{EphemeralContainer, Pod};
use serde_json::Value;

use super::Api;
use super::exec::{pod_of, runtime_of};
use super::http::{Body, json_of};
use super::patch::{apply_patch, patch_kind};
use super::request::{ResourceRequest, Verb};
use super::status::ApiStatus;
use super::write::{decode_object, read_body};
use crate::debug::{self, DebugSpec, MainProcess};
use crate::forward::target::PodRef;

/// Answers a GET (the pod), PATCH or PUT of the subresource.
pub async fn serve(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
) -> Result<Response<Body>, ApiStatus> {
    let pod = pod_of(api, r)?;
    if r.verb == Verb::Get {
        return Ok(json_of(200, &*pod));
    }
    let name = r.name.clone().unwrap_or_default();
    let (content_type, bytes) = read_body(req).await?;
    let base = serde_json::to_value(&*pod).map_err(|e| ApiStatus::internal(e.to_string()))?;
    let new = if r.verb == Verb::Patch {
        apply_patch(patch_kind(&content_type)?, &base, &content_type, &bytes)?
    } else {
        decode_object(&content_type, &bytes)?
    };
    let added = added(&pod, &new, &name)?;
    if added.is_empty() {
        return Ok(json_of(200, &*pod));
    }
    let rt = runtime_of(api)?;
    let node = api.store.view().node_name().to_string();
    let mut answer = *pod;
    for c in added {
        let spec = DebugSpec {
            pod: PodRef {
                node: node.clone(),
                namespace: answer.metadata.namespace.clone().unwrap_or_default(),
                name: answer.metadata.name.clone().unwrap_or_default(),
            },
            target: c.target_container_name.clone(),
            image: c.image.clone().unwrap_or_default(),
            name: Some(c.name.clone()),
            process: Some(MainProcess {
                command: c.command.clone().filter(|v| !v.is_empty()),
                args: c.args.clone().filter(|v| !v.is_empty()),
                env: env(&c),
                stdin: c.stdin.unwrap_or(false),
                tty: c.tty.unwrap_or(false),
            }),
            api_spec: serde_json::to_string(&c).ok(),
        };
        debug::start(rt.as_ref(), &spec).await.map_err(|e| {
            ApiStatus::invalid(
                "Pod",
                &name,
                vec![(format!("spec.ephemeralContainers[{}]", c.name), e)],
            )
        })?;
        if let Some(s) = answer.spec.as_mut() {
            s.ephemeral_containers.get_or_insert_default().push(c);
        }
    }
    Ok(json_of(200, &answer))
}

/// The ephemeral containers `new` adds to `pod`, checked as the API server checks them: existing ones may
/// not change or go, a new one needs a unique valid name and an image, and its target must be one of the
/// pod's containers.
fn added(pod: &Pod, new: &Value, name: &str) -> Result<Vec<EphemeralContainer>, ApiStatus> {
    let path = "spec.ephemeralContainers";
    let invalid = |field: String, msg: String| ApiStatus::invalid("Pod", name, vec![(field, msg)]);
    let list = new
        .pointer("/spec/ephemeralContainers")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let wanted: Vec<EphemeralContainer> = serde_json::from_value(list).map_err(|e| {
        invalid(
            path.into(),
            format!("not a list of ephemeral containers: {e}"),
        )
    })?;
    let spec = pod.spec.clone().unwrap_or_default();
    let existing = spec.ephemeral_containers.clone().unwrap_or_default();
    for old in &existing {
        match wanted.iter().find(|w| w.name == old.name) {
            None => {
                return Err(invalid(
                    path.into(),
                    format!(
                        "Forbidden: existing ephemeral containers \"{}\" may not be removed",
                        old.name
                    ),
                ));
            }
            Some(w) if w != old => {
                return Err(invalid(
                    format!("{path}[{}]", old.name),
                    "Forbidden: existing ephemeral containers may not be changed".into(),
                ));
            }
            Some(_) => {}
        }
    }
    let regular: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .map(|c| c.name.as_str())
        .collect();
    let mut added: Vec<EphemeralContainer> = Vec::new();
    for (i, c) in wanted.into_iter().enumerate() {
        if existing.iter().any(|e| e.name == c.name) {
            continue;
        }
        let field = |f: &str| format!("{path}[{i}].{f}");
        if !crate::manifest::names::is_dns1123_label(&c.name) {
            return Err(invalid(
                field("name"),
                format!(
                    "Invalid value: \"{}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
                    c.name
                ),
            ));
        }
        if regular.contains(&c.name.as_str()) || added.iter().any(|a| a.name == c.name) {
            return Err(invalid(
                field("name"),
                format!("Duplicate value: \"{}\"", c.name),
            ));
        }
        if c.image.as_deref().unwrap_or_default().trim().is_empty() {
            return Err(invalid(field("image"), "Required value".into()));
        }
        if let Some(t) = &c.target_container_name
            && !regular.contains(&t.as_str())
        {
            return Err(invalid(
                field("targetContainerName"),
                format!("Not found: \"{t}\""),
            ));
        }
        added.push(c);
    }
    Ok(added)
}

/// The plain `NAME=value` environment of `c` (values from other sources are not resolved for a debug
/// container).
fn env(c: &EphemeralContainer) -> Vec<String> {
    c.env
        .iter()
        .flatten()
        .filter_map(|e| e.value.as_ref().map(|v| format!("{}={v}", e.name)))
        .collect()
}
