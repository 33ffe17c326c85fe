//! The pod's QoS class, as the API server computes it from the containers' requests and limits.

use k8s_openapi::api::core::v1::PodSpec;

use crate::engine::security::quantity;

/// Guaranteed when every container has CPU and memory limits equal to its requests (requests default to
/// limits), BestEffort when no container has any, else Burstable.
pub fn qos_class(spec: &PodSpec) -> &'static str {
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let r = c.resources.clone().unwrap_or_default();
        let get = |m, k| quantity(m, k).filter(|q| q.0 > 0.0);
        for k in ["cpu", "memory"] {
            let limit = get(&r.limits, k);
            let request = get(&r.requests, k).or(limit);
            any |= limit.is_some() || request.is_some();
            guaranteed &= limit.is_some() && request == limit;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::spec;
    use super::*;

    #[test]
    fn qos_class_follows_requests_and_limits() {
        let none = spec("containers: [{name: a, image: x}]");
        assert_eq!(qos_class(&none), "BestEffort");
        // Requests default to limits: limits alone on cpu and memory are Guaranteed.
        let limits = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: 100m, memory: 64Mi}}}]",
        );
        assert_eq!(qos_class(&limits), "Guaranteed");
        let equal = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 1000m, memory: 1Gi}}}]",
        );
        assert_eq!(qos_class(&equal), "Guaranteed");
        let lower = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 500m}}}]",
        );
        assert_eq!(qos_class(&lower), "Burstable");
        let one_without = spec(
            "containers: [{name: a, image: x, resources: {limits: {cpu: '1', memory: 1Gi}}}, {name: b, image: x}]",
        );
        assert_eq!(qos_class(&one_without), "Burstable");
    }
}
