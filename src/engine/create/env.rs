//! A container's environment as the kubelet builds it: values with `$(VAR)` references to earlier variables,
//! and fieldRefs and resourceFieldRefs resolved from the pod, the node and what the engine reported.

use k8s_openapi::api::core::v1::Container;

use super::NodeContext;
use crate::manifest::DesiredPod;
use crate::manifest::downward::{self, metadata_field};
use crate::manifest::quantity::Quantity;

/// Facts an env var may read that only Docker knows.
#[derive(Clone, Debug, Default)]
pub struct RuntimeFacts {
    /// The sandbox's IP.
    pub pod_ip: Option<String>,
    /// The host's IP as seen from containers.
    pub host_ip: Option<String>,
}

fn field_value(dp: &DesiredPod, node: &str, path: &str, facts: &RuntimeFacts) -> String {
    match path {
        "spec.nodeName" => node.to_string(),
        "spec.serviceAccountName" => String::new(),
        "status.podIP" | "status.podIPs" => facts.pod_ip.clone().unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => facts.host_ip.clone().unwrap_or_default(),
        other => metadata_field(&dp.pod, other, false).unwrap_or_default(),
    }
}

fn resource_value(
    c: &Container,
    ctx: &NodeContext,
    resource: &str,
    divisor: Option<&str>,
) -> String {
    let (kind, name) = resource.split_once('.').unwrap_or(("limits", resource));
    let res = c.resources.clone().unwrap_or_default();
    let map = if kind == "requests" {
        res.requests.or(res.limits.clone())
    } else {
        res.limits
    };
    let value = map
        .and_then(|m| m.get(name).and_then(|q| Quantity::parse(&q.0).ok()))
        .map(|q| q.0)
        .unwrap_or(match name {
            "cpu" => ctx.engine.cpus.max(1) as f64,
            "memory" => ctx.engine.memory as f64,
            _ => 0.0,
        });
    let div = divisor
        .and_then(|d| Quantity::parse(d).ok())
        .map(|q| q.0)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    format!("{}", (value / div).ceil() as i64)
}

/// The container's environment in order, with `$(VAR)` references to earlier variables expanded.
pub fn container_env(
    dp: &DesiredPod,
    c: &Container,
    ctx: &NodeContext,
    facts: &RuntimeFacts,
) -> Vec<(String, String)> {
    downward::container_env(
        c,
        &|path| Some(field_value(dp, &ctx.node, path, facts)),
        &|resource, divisor| Some(resource_value(c, ctx, resource, divisor)),
    )
}
