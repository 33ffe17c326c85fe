//! Docker names and labels, exactly as the kubelet (dockershim/cri-dockerd) writes them, plus podtui's own
//! ownership labels. Everything podtui needs to adopt a running pod is read back from these labels.
//!
//! Ownership has two parts: the node name ([`NODE`], which pods an engine looks at) and the engine that
//! created the object ([`ENGINE`], a hash of its state dir: what an engine may remove when no manifest asks
//! for it). The node lease (see `engine::lease`) is a Docker volume per node name carrying [`LEASE_NODE`].

use std::collections::HashMap;
use std::path::Path;

/// Ownership label: every container and volume podtui creates has it, set to `true`.
pub const MANAGED: &str = "dev.podtui.managed";
/// The node name (engine identity) that owns the object. An engine touches only its own node's objects.
pub const NODE: &str = "dev.podtui.node";
/// The engine that created the object: [`engine_id`] of its state dir. Set by the runtime on every container
/// and volume it creates (`DockerRuntime::owned_by`). Objects without it predate the label and belong to
/// whichever engine holds the node.
pub const ENGINE: &str = "dev.podtui.engine";
/// The manifest file or URL the pod came from.
pub const SOURCE: &str = "dev.podtui.source";
/// Sandbox attempt number (also the last field of the sandbox's name).
pub const ATTEMPT: &str = "dev.podtui.sandbox.attempt";
/// On a sandbox: when the pod started (RFC 3339), set when an earlier sandbox of the same pod was created
/// before it. A pod's start time is the pod's, not its latest sandbox's: this carries it across a recreated
/// sandbox and a restart of podtui, after the older sandboxes are removed.
pub const POD_STARTED: &str = "dev.podtui.pod.started";
/// `init` or `app` for containers (the kubelet reads this from the pod spec; podtui keeps it on the container).
pub const CONTAINER_KIND: &str = "dev.podtui.container.kind";
/// [`CONTAINER_KIND`] of a pod's ephemeral (debug) container.
pub const KIND_EPHEMERAL: &str = "ephemeral";
/// The emptyDir/downwardAPI volume name, on Docker volumes.
pub const VOLUME_NAME: &str = "dev.podtui.volume";

/// Node lease volumes: the node name they hold. Deliberately not [`NODE`]: a lease is not a pod's object.
pub const LEASE_NODE: &str = "dev.podtui.lease.node";
/// Node lease: its generation (the lease with the highest generation is the one that counts).
pub const LEASE_GENERATION: &str = "dev.podtui.lease.generation";
/// Node lease: the holder's engine id ([`engine_id`] of its state dir).
pub const LEASE_ENGINE: &str = "dev.podtui.lease.engine";
/// Node lease: the holder's instance (one per engine start).
pub const LEASE_INSTANCE: &str = "dev.podtui.lease.instance";
/// Node lease: the holder's state dir.
pub const LEASE_STATE_DIR: &str = "dev.podtui.lease.state-dir";
/// Node lease: the holder's host name.
pub const LEASE_HOST: &str = "dev.podtui.lease.host";
/// Node lease: the holder's user name.
pub const LEASE_USER: &str = "dev.podtui.lease.user";
/// Node lease: the holder's process ID.
pub const LEASE_PID: &str = "dev.podtui.lease.pid";
/// Node lease: the holder process's start time (clock ticks after boot, `/proc/<pid>/stat`), against PID reuse.
pub const LEASE_PID_START: &str = "dev.podtui.lease.pid-start";
/// Node lease: when the holder started (RFC 3339).
pub const LEASE_STARTED: &str = "dev.podtui.lease.started";

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

/// Whether `name` is a sandbox's engine name ([`sandbox_name`]).
pub fn is_sandbox_name(name: &str) -> bool {
    name.trim_start_matches('/').starts_with("k8s_POD_")
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

/// Docker volume name of generation `generation` of node `node`'s lease.
pub fn lease_volume_name(node: &str, generation: u64) -> String {
    format!("podtui-node-{node}_{generation}")
}

/// The `label=` filter value that selects every lease volume of node `node`.
pub fn lease_filter(node: &str) -> Vec<String> {
    vec![format!("{LEASE_NODE}={node}")]
}

/// The engine id of state dir `dir` (best given canonical): 16 hex digits of its FNV-1a hash. Stable across
/// runs and versions, so an engine restarted on the same state dir recognises what it created.
pub fn engine_id(dir: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in dir.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
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
        assert!(is_sandbox_name("k8s_POD_web-n_default_abc_0"));
        assert!(!is_sandbox_name("k8s_nginx_web-n_default_abc_3"));
        assert_eq!(
            container_name("nginx", "web-n", "default", "abc", 3),
            "k8s_nginx_web-n_default_abc_3"
        );
    }

    #[test]
    fn engine_ids_are_stable_and_differ_per_state_dir() {
        // FNV-1a 64 reference value of "a".
        assert_eq!(engine_id(Path::new("a")), "af63dc4c8601ec8c");
        assert_ne!(
            engine_id(Path::new("/home/a/.local/state/podtui")),
            engine_id(Path::new("/home/b/.local/state/podtui"))
        );
    }
}
