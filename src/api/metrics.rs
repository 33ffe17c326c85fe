//! `metrics.k8s.io/v1beta1`, what metrics-server serves and `kubectl top` and k9s read: PodMetrics (get and
//! list, in a namespace or all) and NodeMetrics, from the engine's stats sampler (the same samples the TUI and
//! `podtui top` show). CPU is given in millicores and memory as the kubelet's working set in bytes. Asking is an
//! interest in every pod, so the figures of the next request are a second old rather than a baseline's ten.

use std::collections::BTreeMap;

use http::Response;
use serde_json::{Value, json};

use super::Api;
use super::http::{Body, json_of};
use super::request::{Query, ResourceRequest, Verb};
use super::select::LabelSelector;
use super::status::ApiStatus;
use crate::engine::Request;
use crate::engine::stats::{BASELINE, PodUsage, StatsView};

/// The API group.
pub const GROUP: &str = "metrics.k8s.io";
/// Its version.
pub const VERSION: &str = "v1beta1";

fn usage(cpu_millis: u64, memory_bytes: u64) -> Value {
    json!({"cpu": format!("{cpu_millis}m"), "memory": memory_bytes.to_string()})
}

fn window(u: &PodUsage) -> String {
    if u.containers.iter().all(|c| c.live) {
        "1s".into()
    } else {
        format!("{}s", BASELINE.as_secs())
    }
}

/// One PodMetrics object.
fn pod_metrics(u: &PodUsage, labels: &BTreeMap<String, String>, created: Option<String>) -> Value {
    let containers: Vec<Value> = u
        .containers
        .iter()
        .map(|c| json!({"name": c.name, "usage": usage(c.cpu_millis, c.memory_bytes)}))
        .collect();
    json!({
        "kind": "PodMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {"name": u.name, "namespace": u.namespace, "labels": labels, "creationTimestamp": created},
        "timestamp": u.time().map(|t| t.to_string()),
        "window": window(u),
        "containers": containers,
    })
}

fn list_of(kind: &str, items: Vec<Value>) -> Value {
    json!({
        "kind": kind,
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {"resourceVersion": ""},
        "items": items,
    })
}

/// Serves a `metrics.k8s.io` request.
pub async fn serve(
    api: &Api,
    r: &ResourceRequest,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let stats = api.stats.as_ref().map(|s| s.borrow().clone());
    if let Some(req) = &api.requests {
        let _ = req
            .send(Request::WatchStats {
                client: "api".into(),
                pods: None,
                sandboxes: false,
            })
            .await;
    }
    let stats = stats.unwrap_or_default();
    let view = api.store.view();
    match r.resource.as_str() {
        "pods" => pods(&view, &stats, r, query),
        "nodes" => nodes(&view, &stats, r),
        _ => Err(ApiStatus::no_route()),
    }
}

fn pods(
    view: &super::store::View,
    stats: &StatsView,
    r: &ResourceRequest,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let selector = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())?;
    let node = view.node_name().to_string();
    let mut items = Vec::new();
    for p in view.pod_views() {
        if r.namespace.as_ref().is_some_and(|ns| *ns != p.namespace) {
            continue;
        }
        if let Some(name) = &r.name {
            let short = super::objects::short_name(&p.name, &node);
            if *name != p.name && !(short == name.as_str() && short != p.name) {
                continue;
            }
        }
        let labels = p.pod.metadata.labels.clone().unwrap_or_default();
        if !selector.matches(&labels) {
            continue;
        }
        let Some(u) = stats.pod(&p.uid) else { continue };
        let created = p
            .pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string());
        items.push(pod_metrics(u, &labels, created));
    }
    if r.verb == Verb::Get {
        let name = r.name.as_deref().unwrap_or_default();
        return items
            .into_iter()
            .next()
            .map(|o| json_of(200, &o))
            .ok_or_else(|| ApiStatus::not_found("pods.metrics.k8s.io", name));
    }
    Ok(json_of(200, &list_of("PodMetricsList", items)))
}

fn nodes(
    view: &super::store::View,
    stats: &StatsView,
    r: &ResourceRequest,
) -> Result<Response<Body>, ApiStatus> {
    let node = view.node_name().to_string();
    if r.name.as_ref().is_some_and(|n| *n != node) {
        return Err(ApiStatus::not_found(
            "nodes.metrics.k8s.io",
            r.name.as_deref().unwrap_or_default(),
        ));
    }
    let n = stats.node();
    let obj = json!({
        "kind": "NodeMetrics",
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node}},
        "timestamp": n.time.map(|t| t.to_string()),
        "window": format!("{}s", BASELINE.as_secs()),
        "usage": usage(n.cpu_millis, n.memory_bytes),
    });
    if r.verb == Verb::Get {
        return Ok(json_of(200, &obj));
    }
    Ok(json_of(200, &list_of("NodeMetricsList", vec![obj])))
}
