//! Docker names and labels, exactly as the kubelet (dockershim/cri-dockerd) writes them, plus podtui's own
//! ownership labels. Everything podtui needs to adopt a running pod is read back from these labels.

use std::collections::HashMap;

/// Ownership label: every container and volume podtui creates has it, set to `true`.
pub const MANAGED: &str = "dev.podtui.managed";
/// The node name (engine identity) that owns the object. An engine touches only its own node's objects.
pub const NODE: &str = "dev.podtui.node";
/// The manifest file or URL the pod came from.
pub const SOURCE: &str = "dev.podtui.source";
/// Sandbox attempt number (also the last field of the sandbox's name).
pub const ATTEMPT: &str = "dev.podtui.sandbox.attempt";
/// `init` or `app` for containers (the kubelet reads this from the pod spec; podtui keeps it on the container).
pub const CONTAINER_KIND: &str = "dev.podtui.container.kind";
/// The emptyDir/downwardAPI volume name, on Docker volumes.
pub const VOLUME_NAME: &str = "dev.podtui.volume";

/// `io.kubernetes.pod.name`.
pub const POD_NAME: &str = "io.kubernetes.pod.name";
/// `io.kubernetes.pod.namespace`.
pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// `io.kubernetes.pod.uid`.
pub const POD_UID: &str = "io.kubernetes.pod.uid";
/// `io.kubernetes.container.name` (`POD` on the sandbox).
pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// `io.kubernetes.docker.type`: `podsandbox` or `container`.
pub const DOCKER_TYPE: &str = "io.kubernetes.docker.type";
/// `io.kubernetes.sandbox.id` on containers: the sandbox they joined.
pub const SANDBOX_ID: &str = "io.kubernetes.sandbox.id";
/// Restart count of a container instance.
pub const RESTART_COUNT: &str = "annotation.io.kubernetes.container.restartCount";
/// Hash of the container's spec.
pub const CONTAINER_HASH: &str = "annotation.io.kubernetes.container.hash";
/// The pod's termination grace period, in seconds.
pub const GRACE_PERIOD: &str = "annotation.io.kubernetes.pod.terminationGracePeriod";
/// Where the container writes its termination message.
pub const TERMINATION_MESSAGE_PATH: &str =
    "annotation.io.kubernetes.container.terminationMessagePath";
/// `File` or `FallbackToLogsOnError`.
pub const TERMINATION_MESSAGE_POLICY: &str =
    "annotation.io.kubernetes.container.terminationMessagePolicy";
/// The pod's config source (`file` or `http`), on the sandbox.
pub const CONFIG_SOURCE: &str = "annotation.kubernetes.io/config.source";
/// The pod's config hash (its UID), on the sandbox.
pub const CONFIG_HASH: &str = "annotation.kubernetes.io/config.hash";

/// `io.kubernetes.docker.type` of a sandbox.
pub const TYPE_SANDBOX: &str = "podsandbox";
/// `io.kubernetes.docker.type` of a container.
pub const TYPE_CONTAINER: &str = "container";
/// `io.kubernetes.container.name` of a sandbox.
pub const SANDBOX_CONTAINER_NAME: &str = "POD";

/// `k8s_POD_<pod>_<ns>_<uid>_<attempt>`.
pub fn sandbox_name(pod: &str, namespace: &str, uid: &str, attempt: u32) -> String {
    format!("k8s_POD_{pod}_{namespace}_{uid}_{attempt}")
}

/// `k8s_<container>_<pod>_<ns>_<uid>_<restartCount>`.
pub fn container_name(
    container: &str,
    pod: &str,
    namespace: &str,
    uid: &str,
    restart_count: u32,
) -> String {
    format!("k8s_{container}_{pod}_{namespace}_{uid}_{restart_count}")
}

/// Docker volume name of a pod's emptyDir or downwardAPI volume.
pub fn volume_name(uid: &str, volume: &str) -> String {
    format!("podtui_{uid}_{volume}")
}

/// The `label=` filter values that select everything node `node` owns.
pub fn node_filter(node: &str) -> Vec<String> {
    vec![format!("{MANAGED}=true"), format!("{NODE}={node}")]
}

/// Labels every object of one pod carries (ownership + pod identity).
pub fn pod_labels(
    node: &str,
    source: &str,
    pod: &str,
    namespace: &str,
    uid: &str,
) -> HashMap<String, String> {
    HashMap::from([
        (MANAGED.to_string(), "true".to_string()),
        (NODE.to_string(), node.to_string()),
        (SOURCE.to_string(), source.to_string()),
        (POD_NAME.to_string(), pod.to_string()),
        (POD_NAMESPACE.to_string(), namespace.to_string()),
        (POD_UID.to_string(), uid.to_string()),
    ])
}

/// Reads a numeric label.
pub fn number(labels: &HashMap<String, String>, key: &str) -> Option<u32> {
    labels.get(key).and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kubelet() {
        assert_eq!(
            sandbox_name("web-n", "default", "abc", 0),
            "k8s_POD_web-n_default_abc_0"
        );
        assert_eq!(
            container_name("nginx", "web-n", "default", "abc", 3),
            "k8s_nginx_web-n_default_abc_3"
        );
    }
}
