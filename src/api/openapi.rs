//! OpenAPI v3, as much as kubectl asks for: the `/openapi/v3` index with one group-version, `api/v1`, whose
//! document declares the Pod operations and their `fieldValidation` query parameter. kubectl's default
//! `--validate=strict` then leaves validation to the server (podtui's validator) instead of fetching OpenAPI v2.
//! The Pod schema is generated from k8s-openapi's types (their `schemars` implementation), not written by
//! hand. The PATCH operation lists no request body on purpose: kubectl then takes the strategic-merge patch
//! strategies from its built-in Pod type, which are the real ones (the generated schema has no
//! `x-kubernetes-patch-merge-key`s).

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

/// `/openapi/v3`.
pub fn index() -> Value {
    json!({"paths": {"api/v1": {"serverRelativeURL": format!("/openapi/v3/api/v1?hash={}", hash())}}})
}

fn hash() -> String {
    format!("{:016X}", fnv(env!("CARGO_PKG_VERSION").as_bytes()))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn param(name: &str, location: &str, description: &str) -> Value {
    json!({"name": name, "in": location, "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn gvk() -> Value {
    json!({"group": "", "version": "v1", "kind": "Pod"})
}

fn operation(id: &str, action: &str, params: Vec<Value>) -> Value {
    let pod = json!({"$ref": "#/components/schemas/io.k8s.api.core.v1.Pod"});
    json!({
        "operationId": id,
        "tags": ["core_v1"],
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": pod}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(),
    })
}

fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "query",
            "When present, indicates that modifications should not be persisted. The only valid value is All.",
        ),
        param(
            "fieldManager",
            "query",
            "A name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "query",
            "Ignore, Warn (the default) or Strict: what podtui does with unknown fields.",
        ),
    ]
}

/// The Pod schema and every definition it refers to, as OpenAPI components (`#/$defs/X` becomes
/// `#/components/schemas/X`).
fn schemas() -> Value {
    let root = schemars::SchemaGenerator::default().into_root_schema_for::<Pod>();
    let text = serde_json::to_string(&root)
        .unwrap_or_default()
        .replace("\"#/$defs/", "\"#/components/schemas/");
    let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let mut out = serde_json::Map::new();
    if let Some(Value::Object(defs)) = v.as_object_mut().and_then(|o| o.remove("$defs")) {
        out.extend(defs);
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
        o.insert("x-kubernetes-group-version-kind".into(), json!([gvk()]));
    }
    out.insert("io.k8s.api.core.v1.Pod".into(), v);
    Value::Object(out)
}

/// `/openapi/v3/api/v1`: the Pod paths.
pub fn core_v1() -> Value {
    let ns = param(
        "namespace",
        "path",
        "object name and auth scope, such as for teams and projects",
    );
    let name = param("name", "path", "name of the Pod");
    let mut patch_params = write_params();
    patch_params.push(param(
        "force",
        "query",
        "Force is going to \"force\" Apply requests.",
    ));
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (podtui)", "version": "v1.32.0"},
        "paths": {
            "/api/v1/namespaces/{namespace}/pods": {
                "parameters": [ns],
                "get": operation("listCoreV1NamespacedPod", "list", vec![]),
                "post": operation("createCoreV1NamespacedPod", "post", write_params()),
                "delete": operation("deleteCoreV1CollectionNamespacedPod", "deletecollection", vec![]),
            },
            "/api/v1/namespaces/{namespace}/pods/{name}": {
                "parameters": [name, ns],
                "get": operation("readCoreV1NamespacedPod", "get", vec![]),
                "put": operation("replaceCoreV1NamespacedPod", "put", write_params()),
                "patch": operation("patchCoreV1NamespacedPod", "patch", patch_params),
                "delete": operation("deleteCoreV1NamespacedPod", "delete", vec![]),
            },
        },
        "components": {"schemas": schemas()},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pod_patch_has_field_validation_and_every_ref_resolves() {
        let doc = core_v1();
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        assert!(schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"].is_object());
        for r in text.split("\"$ref\":\"").skip(1) {
            let target = r.split('"').next().unwrap();
            let key = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{target}"));
            assert!(schemas.contains_key(key), "{key} is not in the document");
        }
        let index = index();
        assert!(
            index["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
    }
}
