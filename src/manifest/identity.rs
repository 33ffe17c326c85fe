//! Identity of a static pod: its namespace, its node-suffixed name and its UID.
//!
//! # The UID rule
//! podtui follows the kubelet (`pkg/kubelet/config/common.go`, `applyDefaults`):
//!
//! 1. The manifest is decoded into a k8s-openapi `Pod` and defaulted by [`apply_defaults`]: namespace
//!    `default`, `restartPolicy: Always`, `dnsPolicy: ClusterFirst`, `terminationGracePeriodSeconds: 30`, per
//!    container `imagePullPolicy` from the image tag, `terminationMessagePath`/`Policy`, port `protocol: TCP`,
//!    a volume with no source becomes `emptyDir: {}`. The name becomes `<name>-<node>`; `metadata.uid` and
//!    `status` are cleared.
//! 2. The UID is FNV-1a 128 over: the pod serialised as compact JSON (k8s-openapi writes struct fields in a
//!    fixed order and maps sorted by key), then `host:<node>`, then `file:<path>` or `url:<url>`;
//!    written as 32 lowercase hex digits.
//!
//! So whitespace, comments, key order and spelling out a default do not change the UID; any change of content,
//! of node name or of the file's path does, and then the pod is replaced.

use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, Pod};

/// Namespace of a pod that does not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Where a pod came from: the UID depends on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    /// A manifest file, by its absolute path.
    File(String),
    /// An HTTP manifest URL.
    Url(String),
}

impl SourceId {
    fn hash_tag(&self) -> String {
        match self {
            SourceId::File(p) => format!("file:{p}"),
            SourceId::Url(u) => format!("url:{u}"),
        }
    }
}

/// The image pull policy Kubernetes defaults to for `image`: `Always` for no tag or `:latest`, else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// Fills in the defaults the API server would (see the module documentation for the list).
pub fn apply_defaults(pod: &mut Pod) {
    let md = &mut pod.metadata;
    if md.namespace.as_deref().is_none_or(str::is_empty) {
        md.namespace = Some(DEFAULT_NAMESPACE.into());
    }
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    let inits = spec.init_containers.iter_mut().flatten();
    for c in inits.chain(spec.containers.iter_mut()) {
        if c.image_pull_policy.is_none() {
            let policy = default_pull_policy(c.image.as_deref().unwrap_or_default());
            c.image_pull_policy = Some(policy.into());
        }
        c.termination_message_path
            .get_or_insert_with(|| "/dev/termination-log".into());
        c.termination_message_policy
            .get_or_insert_with(|| "File".into());
        for port in c.ports.iter_mut().flatten() {
            port.protocol.get_or_insert_with(|| "TCP".into());
        }
    }
    for v in spec.volumes.iter_mut().flatten() {
        let has_source = serde_json::to_value(&*v)
            .ok()
            .and_then(|j| j.as_object().map(|m| m.len() > 1))
            .unwrap_or(true);
        if !has_source {
            v.empty_dir = Some(EmptyDirVolumeSource::default());
        }
        if let Some(hp) = v.host_path.as_mut() {
            hp.type_.get_or_insert_with(String::new);
        }
    }
}

/// `<name>-<node>`: the name a static pod gets on node `node`.
pub fn pod_full_name(name: &str, node: &str) -> String {
    format!("{name}-{node}")
}

/// Turns a decoded, valid pod into its static-pod identity: defaults applied, name suffixed, UID computed
/// and written to `metadata.uid`. Returns the UID.
pub fn assign_identity(pod: &mut Pod, node: &str, source: &SourceId) -> String {
    apply_defaults(pod);
    let name = pod.metadata.name.clone().unwrap_or_default();
    pod.metadata.name = Some(pod_full_name(&name, node));
    pod.metadata.uid = None;
    pod.status = None;
    let uid = compute_uid(pod, node, source);
    pod.metadata.uid = Some(uid.clone());
    uid
}

/// The UID of an already defaulted, suffixed pod (see the module documentation).
pub fn compute_uid(pod: &Pod, node: &str, source: &SourceId) -> String {
    let json = serde_json::to_vec(pod).unwrap_or_default();
    let mut h = Fnv128a::new();
    h.write(&json);
    h.write(format!("host:{node}").as_bytes());
    h.write(source.hash_tag().as_bytes());
    format!("{:032x}", h.finish())
}

/// FNV-1a, 128-bit, as Go's `hash/fnv.New128a`.
struct Fnv128a(u128);

impl Fnv128a {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Self {
        Self(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn fnv_matches_reference_vectors() {
        // Reference values of Go's fnv.New128a.
        let mut h = Fnv128a::new();
        assert_eq!(h.finish(), 0x6c62272e07bb014262b821756295c58d);
        h.write(b"a");
        assert_eq!(h.finish(), 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn uid_ignores_formatting_and_spelled_out_defaults() {
        let src = SourceId::File("/m/a.yaml".into());
        let mut a = pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: 'busybox:1'}]\n",
        );
        let mut b = pod(
            "# comment\nkind: Pod\napiVersion: v1\nmetadata:\n  namespace: default\n  name: a\nspec:\n  restartPolicy: Always\n  containers:\n  - image: busybox:1\n    name: c\n    imagePullPolicy: IfNotPresent\n",
        );
        let ua = assign_identity(&mut a, "node1", &src);
        let ub = assign_identity(&mut b, "node1", &src);
        assert_eq!(ua, ub);
        assert_eq!(ua.len(), 32);
        assert_eq!(a.metadata.name.as_deref(), Some("a-node1"));

        let mut c = pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: 'busybox:2'}]\n",
        );
        assert_ne!(assign_identity(&mut c, "node1", &src), ua);
        let mut d = pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: 'busybox:1'}]\n",
        );
        assert_ne!(assign_identity(&mut d, "node2", &src), ua);
        let mut e = pod(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers: [{name: c, image: 'busybox:1'}]\n",
        );
        assert_ne!(
            assign_identity(&mut e, "node1", &SourceId::File("/m/b.yaml".into())),
            ua
        );
    }

    #[test]
    fn pull_policy_defaults() {
        assert_eq!(default_pull_policy("busybox"), "Always");
        assert_eq!(default_pull_policy("busybox:latest"), "Always");
        assert_eq!(default_pull_policy("busybox:1.36"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/busybox"), "Always");
        assert_eq!(default_pull_policy("a@sha256:abc"), "IfNotPresent");
    }
}
