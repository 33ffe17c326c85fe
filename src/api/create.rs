//! `POST /api/v1/namespaces/{ns}/pods` (`kubectl create -f`, `kubectl run`, a first `kubectl apply`): the pod
//! becomes `<name>.yaml` in the watched directory, validated, atomic, never over an existing file (409
//! AlreadyExists), and the answer is the pod as the reads serve it once the engine runs it.

use http::{Request as HttpRequest, Response};
use hyper::body::Incoming;
use serde_json::Value;

use super::Api;
use super::handlers::find;
use super::http::{Body, json_of};
use super::request::{Query, ResourceRequest};
use super::resource::Kind;
use super::status::ApiStatus;
use super::write::{
    WriteOptions, answer_pod, check, decode_object, manifest_dir, manifest_text, object_name,
    read_body, send, with_warnings,
};
use crate::engine::request::Request;

/// Checks the body's kind and namespace against the request, and writes the request's namespace into a
/// pod of a namespace other than `default`.
pub fn fit_namespace(obj: &mut Value, namespace: &str) -> Result<(), ApiStatus> {
    match obj.get("kind").and_then(Value::as_str) {
        Some("Pod") | None => {}
        Some(other) => {
            return Err(ApiStatus::bad_request(format!(
                "the object is a {other}, not a Pod: podtui serves pods only"
            )));
        }
    }
    let given = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_string);
    match given {
        Some(g) if !g.is_empty() && g != namespace => Err(ApiStatus::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        _ => {
            if namespace != "default"
                && let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut)
            {
                md.insert("namespace".into(), Value::String(namespace.to_string()));
            }
            Ok(())
        }
    }
}

/// True when `name` can be a file name in the directory (the validator says what is wrong with the rest).
fn file_safe(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Answers a create.
pub async fn create(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let opts = WriteOptions::parse(query)?;
    let view = api.store.view();
    let dir = manifest_dir(&view.snapshot.source)?;
    let (content_type, bytes) = read_body(req).await?;
    let mut obj = decode_object(&content_type, &bytes)?;
    let namespace = r.namespace.clone().unwrap_or_else(|| "default".into());
    fit_namespace(&mut obj, &namespace)?;
    let name = object_name(&obj)?;
    let text = manifest_text(&obj);
    let file = dir.join(if file_safe(&name) {
        format!("{name}.yaml")
    } else {
        "pod.yaml".into()
    });
    let warnings = check(api, &file, &name, &text, opts)?;
    if find(&view, Kind::Pod, Some(&namespace), &name).is_some() {
        return Err(ApiStatus::already_exists("pods", &name, ""));
    }
    if opts.dry_run {
        return Ok(with_warnings(json_of(201, &obj), &warnings));
    }
    send(
        api,
        &name,
        Request::CreateManifest {
            path: file.clone(),
            text,
        },
    )
    .await?;
    let pod = answer_pod(api, &file, None, &name, obj).await;
    Ok(with_warnings(json_of(201, &pod), &warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_must_agree() {
        let mut pod = serde_json::json!({"kind": "Pod", "metadata": {"name": "a"}});
        fit_namespace(&mut pod, "default").unwrap();
        assert_eq!(pod["metadata"], serde_json::json!({"name": "a"}));
        fit_namespace(&mut pod, "dev").unwrap();
        assert_eq!(pod["metadata"]["namespace"], "dev");
        assert_eq!(fit_namespace(&mut pod, "prod").unwrap_err().code, 400);
        let mut svc = serde_json::json!({"kind": "Service", "metadata": {"name": "a"}});
        assert_eq!(fit_namespace(&mut svc, "default").unwrap_err().code, 400);
        assert!(!file_safe("../x") && !file_safe(".hidden") && file_safe("web"));
    }
}
