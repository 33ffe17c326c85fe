//! Validation of a decoded Pod: every rule a kubelet or API server would enforce on a static pod that podtui
//! can check, each reported with the field path it is about.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, Volume};

use super::downward;
use super::finding::Finding;
use super::names::{
    is_dns1123_label, is_dns1123_subdomain, is_env_var_name, is_iana_svc_name, is_label_value,
    is_qualified_name,
};
use super::path::FieldPath;
use super::quantity::Quantity;

/// A hostPort already claimed by an earlier port of the pod.
struct HostPort {
    protocol: String,
    port: i32,
    ip: String,
    path: FieldPath,
}

impl HostPort {
    /// Whether binding `port` on `ip` would collide with this one on the host: the same address, or either one
    /// the wildcard (`0.0.0.0`/`::` binds every address, including the one an empty hostIP gets).
    fn clashes(&self, protocol: &str, port: i32, ip: &str) -> bool {
        let wildcard = |a: &str| {
            a.parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_unspecified())
        };
        self.protocol == protocol
            && self.port == port
            && (self.ip == ip || wildcard(&self.ip) || wildcard(ip))
    }
}

/// Volume sources that reference API objects, which a static pod cannot use.
const API_OBJECT_VOLUMES: &[&str] = &[
    "configMap",
    "secret",
    "persistentVolumeClaim",
    "projected",
    "ephemeral",
];

/// Volume sources podtui can run.
const SUPPORTED_VOLUMES: &[&str] = &["emptyDir", "hostPath", "downwardAPI"];

/// `hostPath.type` values.
pub const HOST_PATH_TYPES: &[&str] = &[
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

/// Field paths a `fieldRef` may read in an environment variable.
const ENV_FIELD_REFS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Checks `pod` (already decoded) and returns every error and warning, paths relative to the pod.
/// `node_name` is the suffix podtui appends to the pod name.
pub fn validate(pod: &Pod, node_name: &str) -> Vec<Finding> {
    let mut v = Validator::default();
    v.metadata(pod, node_name);
    match &pod.spec {
        None => v.error(
            FieldPath::root().key("spec"),
            "required: a pod needs a spec",
        ),
        Some(spec) => {
            v.spec(spec);
            v.sub_paths(pod, spec);
        }
    }
    v.out
}

#[derive(Default)]
struct Validator {
    out: Vec<Finding>,
}

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s)
}

impl Validator {
    fn error(&mut self, path: FieldPath, msg: impl Into<String>) {
        self.out.push(Finding::error(path, msg));
    }

    fn warn(&mut self, path: FieldPath, msg: impl Into<String>) {
        self.out.push(Finding::warning(path, msg));
    }

    fn one_of(&mut self, path: FieldPath, value: Option<&String>, allowed: &[&str], what: &str) {
        if let Some(v) = value
            && !allowed.contains(&v.as_str())
        {
            self.error(
                path,
                format!(
                    "{v:?} is not a valid {what} (one of {})",
                    allowed
                        .iter()
                        .map(|a| if a.is_empty() { "\"\" (no check)" } else { a })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }

    fn metadata(&mut self, pod: &Pod, node_name: &str) {
        let md = &pod.metadata;
        match md.name.as_deref() {
            None | Some("") => self.error(p("metadata.name"), "required: a static pod needs a name"),
            Some(name) if !is_dns1123_subdomain(name) => self.error(
                p("metadata.name"),
                format!("{name:?} is not a valid pod name (lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.')"),
            ),
            Some(name) => {
                let full = format!("{name}-{node_name}");
                if !is_dns1123_subdomain(&full) {
                    self.error(
                        p("metadata.name"),
                        format!(
                            "{} ({} characters with the node suffix) is not a valid pod name (at most 253 characters, lowercase RFC 1123 subdomain)",
                            abbreviate(&full),
                            full.len()
                        ),
                    );
                }
            }
        }
        if let Some(ns) = md.namespace.as_deref()
            && !ns.is_empty()
            && !is_dns1123_label(ns)
        {
            self.error(
                p("metadata.namespace"),
                format!("{ns:?} is not a valid namespace (lowercase RFC 1123 label)"),
            );
        }
        self.label_map(p("metadata.labels"), md.labels.as_ref(), true);
        self.label_map(p("metadata.annotations"), md.annotations.as_ref(), false);
    }

    /// Every subPath must stay inside its volume once expanded, as the kubelet requires: `subPathExpr` is
    /// expanded from the container's env as far as the manifest defines it (values and metadata fieldRefs).
    fn sub_paths(&mut self, pod: &Pod, spec: &PodSpec) {
        let lists = [
            (
                "initContainers",
                spec.init_containers.as_deref().unwrap_or_default(),
            ),
            ("containers", spec.containers.as_slice()),
        ];
        for (list, containers) in lists {
            for (i, c) in containers.iter().enumerate() {
                let env = downward::static_env(pod, c);
                for (j, m) in c.volume_mounts.iter().flatten().enumerate() {
                    let mp = p("spec").key(list).index(i).key("volumeMounts").index(j);
                    for (field, value) in
                        [("subPath", &m.sub_path), ("subPathExpr", &m.sub_path_expr)]
                    {
                        let Some(sp) = value else { continue };
                        let expanded = if field == "subPathExpr" {
                            downward::expand(sp, &|n| downward::lookup(&env, n))
                        } else {
                            sp.clone()
                        };
                        if let Some(why) = downward::relative_path_problem(&expanded) {
                            let shown = if expanded == *sp {
                                format!("{sp:?}")
                            } else {
                                format!("{sp:?} expands to {expanded:?}, which")
                            };
                            self.error(mp.key(field), format!("{shown} {why}"));
                        }
                    }
                }
            }
        }
    }

    fn label_map(&mut self, base: FieldPath, map: Option<&BTreeMap<String, String>>, values: bool) {
        for (k, v) in map.into_iter().flatten() {
            let path = base.key(k.clone());
            if !is_qualified_name(k) {
                self.error(path.clone(), format!("{k:?} is not a valid key (an optional DNS prefix and '/', then at most 63 characters of A-Z a-z 0-9 - _ .)"));
            }
            if values && !is_label_value(v) {
                self.error(path, format!("{v:?} is not a valid label value (at most 63 characters of A-Z a-z 0-9 - _ ., alphanumeric at both ends)"));
            }
        }
    }

    fn spec(&mut self, spec: &PodSpec) {
        super::validate_health::pod(spec, &mut self.out);
        super::validate_health::host_access(spec, &mut self.out);
        self.one_of(
            p("spec.restartPolicy"),
            spec.restart_policy.as_ref(),
            &["Always", "OnFailure", "Never"],
            "restartPolicy",
        );
        self.one_of(
            p("spec.dnsPolicy"),
            spec.dns_policy.as_ref(),
            &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"],
            "dnsPolicy",
        );
        if spec.dns_policy.as_deref() == Some("None")
            && spec
                .dns_config
                .as_ref()
                .is_none_or(|c| c.nameservers.as_ref().is_none_or(Vec::is_empty))
        {
            self.error(
                p("spec.dnsConfig"),
                "required when dnsPolicy is None: give at least one nameserver",
            );
        }
        if let Some(h) = &spec.hostname
            && !is_dns1123_label(h)
        {
            self.error(
                p("spec.hostname"),
                format!("{h:?} is not a valid hostname (lowercase RFC 1123 label)"),
            );
        }
        if let Some(g) = spec.termination_grace_period_seconds
            && g < 0
        {
            self.error(
                p("spec.terminationGracePeriodSeconds"),
                format!("{g} must be 0 or more"),
            );
        }
        for (i, alias) in spec.host_aliases.iter().flatten().enumerate() {
            if alias.ip.parse::<std::net::IpAddr>().is_err() {
                self.error(
                    p("spec.hostAliases").index(i).key("ip"),
                    format!("{:?} is not an IP address", alias.ip),
                );
            }
        }

        let volumes = self.volumes(spec.volumes.as_deref().unwrap_or_default());

        if spec.containers.is_empty() {
            self.error(
                p("spec.containers"),
                "required: a pod needs at least one container",
            );
        }
        let mut names: HashMap<&str, FieldPath> = HashMap::new();
        let mut host_ports: Vec<HostPort> = Vec::new();
        let lists = [
            (
                "initContainers",
                spec.init_containers.as_deref().unwrap_or_default(),
            ),
            ("containers", spec.containers.as_slice()),
        ];
        let host_network = spec.host_network == Some(true);
        for (list, containers) in lists {
            for (i, c) in containers.iter().enumerate() {
                let base = p("spec").key(list).index(i);
                if let Some(first) = names.get(c.name.as_str()) {
                    self.error(
                        base.key("name"),
                        format!(
                            "{:?} is a duplicate container name (already used at {first})",
                            c.name
                        ),
                    );
                } else if !c.name.is_empty() {
                    names.insert(&c.name, base.key("name"));
                }
                let init = list == "initContainers";
                self.container(c, &base, &volumes, &mut host_ports, host_network, init);
            }
        }
    }

    fn volumes(&mut self, volumes: &[Volume]) -> HashSet<String> {
        let mut seen = HashSet::new();
        for (i, vol) in volumes.iter().enumerate() {
            let base = p("spec.volumes").index(i);
            if !is_dns1123_label(&vol.name) {
                self.error(
                    base.key("name"),
                    format!(
                        "{:?} is not a valid volume name (lowercase RFC 1123 label)",
                        vol.name
                    ),
                );
            }
            if !seen.insert(vol.name.clone()) {
                self.error(
                    base.key("name"),
                    format!("{:?} is a duplicate volume name", vol.name),
                );
            }
            let json = serde_json::to_value(vol).unwrap_or_default();
            let sources: Vec<&str> = json
                .as_object()
                .map(|m| {
                    m.keys()
                        .map(String::as_str)
                        .filter(|k| *k != "name")
                        .collect()
                })
                .unwrap_or_default();
            match sources.as_slice() {
                [] => {
                    // A volume with no source is an emptyDir in Kubernetes' defaulting.
                }
                [one] => self.volume_source(&base, one, vol),
                many => self.error(
                    base,
                    format!(
                        "more than one volume source ({}): give exactly one",
                        many.join(", ")
                    ),
                ),
            }
        }
        seen
    }

    fn volume_source(&mut self, base: &FieldPath, source: &str, vol: &Volume) {
        let path = base.key(source);
        if API_OBJECT_VOLUMES.contains(&source) {
            self.error(path, format!("{source} volumes reference API objects, which static pods cannot use (there is no API server); use emptyDir or hostPath"));
            return;
        }
        if !SUPPORTED_VOLUMES.contains(&source) {
            self.error(path, format!("{source} volumes are not supported by podtui (supported: emptyDir, hostPath, downwardAPI)"));
            return;
        }
        if let Some(hp) = &vol.host_path {
            if !hp.path.starts_with('/') {
                self.error(
                    path.key("path"),
                    format!("{:?} must be an absolute path", hp.path),
                );
            } else if downward::has_backsteps(&hp.path) {
                self.error(
                    path.key("path"),
                    format!("{:?} must not contain '..'", hp.path),
                );
            }
            self.one_of(
                path.key("type"),
                hp.type_.as_ref(),
                HOST_PATH_TYPES,
                "hostPath type",
            );
        }
        if let Some(ed) = &vol.empty_dir {
            if let Some(m) = &ed.medium
                && !m.is_empty()
                && m != "Memory"
            {
                self.error(
                    path.key("medium"),
                    format!("{m:?} is not a supported medium (\"\" or Memory)"),
                );
            }
            if let Some(q) = &ed.size_limit {
                self.quantity(path.key("sizeLimit"), &q.0);
                if ed.medium.as_deref() != Some("Memory") {
                    self.warn(
                        path.key("sizeLimit"),
                        "not enforced on disk: podtui limits only a medium: Memory emptyDir (tmpfs size); the kubelet would evict the pod past it",
                    );
                }
            }
        }
        if let Some(d) = &vol.downward_api {
            self.file_mode(path.key("defaultMode"), d.default_mode);
            for (i, item) in d.items.iter().flatten().enumerate() {
                let ip = path.key("items").index(i);
                if item.path.is_empty()
                    || item.path.starts_with('/')
                    || item.path.split('/').any(|s| s == "..")
                {
                    self.error(
                        ip.key("path"),
                        format!("{:?} must be a relative path without '..'", item.path),
                    );
                }
                match (&item.field_ref, &item.resource_field_ref) {
                    (None, None) => self.error(ip.clone(), "one of fieldRef or resourceFieldRef is required"),
                    (Some(_), Some(_)) => self.error(ip.clone(), "fieldRef and resourceFieldRef are mutually exclusive"),
                    (None, Some(_)) => self.warn(ip.key("resourceFieldRef"), "ignored: podtui writes only fieldRef items into a downwardAPI volume (use an env var with resourceFieldRef)"),
                    (Some(_), None) => {}
                }
                self.file_mode(ip.key("mode"), item.mode);
                if let Some(f) = &item.field_ref
                    && !is_downward_volume_field(&f.field_path)
                {
                    self.error(ip.key("fieldRef").key("fieldPath"), format!("{:?} is not supported in a downwardAPI volume (metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations)", f.field_path));
                }
            }
        }
    }

    fn container(
        &mut self,
        c: &Container,
        base: &FieldPath,
        volumes: &HashSet<String>,
        host_ports: &mut Vec<HostPort>,
        host_network: bool,
        init: bool,
    ) {
        if c.name.is_empty() {
            self.error(base.key("name"), "required: every container needs a name");
        } else if !is_dns1123_label(&c.name) {
            self.error(
                base.key("name"),
                format!(
                    "{:?} is not a valid container name (lowercase RFC 1123 label)",
                    c.name
                ),
            );
        }
        match c.image.as_deref().map(str::trim) {
            None | Some("") => self.error(
                base.key("image"),
                "required: every container needs an image",
            ),
            Some(img) if img.chars().any(char::is_whitespace) => self.error(
                base.key("image"),
                format!("{img:?} is not a valid image reference (no whitespace)"),
            ),
            Some(_) => {}
        }
        self.one_of(
            base.key("imagePullPolicy"),
            c.image_pull_policy.as_ref(),
            &["Always", "IfNotPresent", "Never"],
            "imagePullPolicy",
        );
        if init {
            self.one_of(
                base.key("restartPolicy"),
                c.restart_policy.as_ref(),
                &["Always"],
                "init container restartPolicy",
            );
        } else if c.restart_policy.is_some() {
            self.error(
                base.key("restartPolicy"),
                "may only be set on init containers (native sidecars)",
            );
        }
        let mut port_names = HashSet::new();
        for (i, port) in c.ports.iter().flatten().enumerate() {
            let pp = base.key("ports").index(i);
            if port.container_port == 0 {
                self.error(pp.key("containerPort"), "required (1-65535)");
            } else if !(1..=65535).contains(&port.container_port) {
                self.error(
                    pp.key("containerPort"),
                    format!("{} must be between 1 and 65535", port.container_port),
                );
            }
            let proto = port.protocol.clone().unwrap_or_else(|| "TCP".into());
            self.one_of(
                pp.key("protocol"),
                port.protocol.as_ref(),
                &["TCP", "UDP", "SCTP"],
                "protocol",
            );
            if let Some(name) = &port.name {
                if !is_iana_svc_name(name) {
                    self.error(pp.key("name"), format!("{name:?} is not a valid port name (at most 15 characters of a-z, 0-9 and '-', with a letter)"));
                }
                if !port_names.insert(name.clone()) {
                    self.error(pp.key("name"), format!("{name:?} is a duplicate port name"));
                }
            }
            if let Some(ip) = &port.host_ip
                && ip.parse::<std::net::IpAddr>().is_err()
            {
                self.error(pp.key("hostIP"), format!("{ip:?} is not an IP address"));
            }
            match port.host_port {
                None | Some(0) => {}
                Some(hp) if !(1..=65535).contains(&hp) => {
                    self.error(
                        pp.key("hostPort"),
                        format!("{hp} must be between 1 and 65535"),
                    );
                }
                Some(hp) => {
                    if host_network && hp != port.container_port {
                        self.error(
                            pp.key("hostPort"),
                            format!(
                                "{hp} must equal containerPort {} with hostNetwork",
                                port.container_port
                            ),
                        );
                    }
                    let ip = port.host_ip.clone().unwrap_or_default();
                    if let Some(first) = host_ports.iter().find(|h| h.clashes(&proto, hp, &ip)) {
                        self.error(
                            pp.key("hostPort"),
                            format!(
                                "{hp}/{proto} is a duplicate hostPort (already used at {})",
                                first.path
                            ),
                        );
                    } else {
                        host_ports.push(HostPort {
                            protocol: proto,
                            port: hp,
                            ip,
                            path: pp.key("hostPort"),
                        });
                    }
                }
            }
        }
        let mut mount_paths: HashMap<&str, FieldPath> = HashMap::new();
        for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
            let mp = base.key("volumeMounts").index(i);
            if !volumes.contains(&m.name) {
                self.error(
                    mp.key("name"),
                    format!(
                        "{:?} is not a volume of this pod (declare it in spec.volumes)",
                        m.name
                    ),
                );
            }
            if m.mount_path.is_empty() {
                self.error(mp.key("mountPath"), "required");
            } else if !m.mount_path.starts_with('/') {
                self.error(
                    mp.key("mountPath"),
                    format!("{:?} must be an absolute path", m.mount_path),
                );
            } else if let Some(first) = mount_paths.get(m.mount_path.as_str()) {
                self.error(
                    mp.key("mountPath"),
                    format!("{:?} is already mounted at {first}", m.mount_path),
                );
            } else {
                mount_paths.insert(&m.mount_path, mp.key("mountPath"));
            }
            if m.sub_path.is_some() && m.sub_path_expr.is_some() {
                self.error(
                    mp.key("subPathExpr"),
                    "subPath and subPathExpr are mutually exclusive",
                );
            }
        }
        self.env(c, base);
        let sidecar = init && c.restart_policy.as_deref() == Some("Always");
        super::validate_health::container(c, base, init, sidecar, &mut self.out);
        if let Some(res) = &c.resources {
            for (kind, map) in [("requests", &res.requests), ("limits", &res.limits)] {
                for (name, q) in map.iter().flatten() {
                    self.quantity(base.key("resources").key(kind).key(name.clone()), &q.0);
                }
            }
            for (name, request) in res.requests.iter().flatten() {
                let limit = res.limits.as_ref().and_then(|l| l.get(name));
                if let (Ok(r), Some(Ok(l))) = (
                    Quantity::parse(&request.0),
                    limit.map(|l| Quantity::parse(&l.0)),
                ) && r > l
                {
                    self.error(
                        base.key("resources").key("requests").key(name.clone()),
                        format!(
                            "{} must be less than or equal to the {name} limit ({})",
                            request.0,
                            limit.map_or("", |l| l.0.as_str())
                        ),
                    );
                }
            }
        }
        self.one_of(
            base.key("terminationMessagePolicy"),
            c.termination_message_policy.as_ref(),
            &["File", "FallbackToLogsOnError"],
            "terminationMessagePolicy",
        );
    }

    fn env(&mut self, c: &Container, base: &FieldPath) {
        for (i, e) in c.env.iter().flatten().enumerate() {
            let ep = base.key("env").index(i);
            if !is_env_var_name(&e.name) {
                self.error(ep.key("name"), format!("{:?} is not a valid environment variable name ([-._a-zA-Z][-._a-zA-Z0-9]*)", e.name));
            }
            let Some(from) = &e.value_from else { continue };
            let fp = ep.key("valueFrom");
            if e.value.is_some() {
                self.error(
                    ep.key("value"),
                    "value and valueFrom are mutually exclusive",
                );
            }
            if from.config_map_key_ref.is_some() {
                self.error(
                    fp.key("configMapKeyRef"),
                    "references a ConfigMap, an API object static pods cannot use",
                );
            }
            if from.secret_key_ref.is_some() {
                self.error(
                    fp.key("secretKeyRef"),
                    "references a Secret, an API object static pods cannot use",
                );
            }
            if from.file_key_ref.is_some() {
                self.error(fp.key("fileKeyRef"), "is not supported by podtui");
            }
            if let Some(f) = &from.field_ref {
                let ok = ENV_FIELD_REFS.contains(&f.field_path.as_str())
                    || f.field_path.starts_with("metadata.labels['")
                    || f.field_path.starts_with("metadata.annotations['");
                if !ok {
                    self.error(fp.key("fieldRef").key("fieldPath"), format!("{:?} is not a supported field (one of {}, metadata.labels['KEY'], metadata.annotations['KEY'])", f.field_path, ENV_FIELD_REFS.join(", ")));
                }
            }
            if let Some(r) = &from.resource_field_ref {
                let ok = [
                    "limits.cpu",
                    "limits.memory",
                    "requests.cpu",
                    "requests.memory",
                    "limits.ephemeral-storage",
                    "requests.ephemeral-storage",
                ]
                .contains(&r.resource.as_str());
                if !ok {
                    self.error(
                        fp.key("resourceFieldRef").key("resource"),
                        format!("{:?} is not a supported resource", r.resource),
                    );
                }
            }
        }
        for (i, _) in c.env_from.iter().flatten().enumerate() {
            self.error(
                base.key("envFrom").index(i),
                "envFrom reads ConfigMaps or Secrets, API objects static pods cannot use",
            );
        }
        if c.stdin_once == Some(true) && c.stdin != Some(true) {
            self.warn(base.key("stdinOnce"), "has no effect without stdin: true");
        }
    }

    fn file_mode(&mut self, path: FieldPath, mode: Option<i32>) {
        if let Some(m) = mode
            && !(0..=0o777).contains(&m)
        {
            self.error(
                path,
                format!("{m} must be a file mode between 0 and 0777 (octal 0000-0777)"),
            );
        }
    }

    fn quantity(&mut self, path: FieldPath, text: &str) {
        match Quantity::parse(text) {
            Ok(q) if q.0 < 0.0 => self.error(path, format!("{text:?} must not be negative")),
            Ok(_) => {}
            Err(e) => self.error(path, e.to_string()),
        }
    }
}

/// A value for a message: quoted, and shortened in the middle when long.
fn abbreviate(s: &str) -> String {
    if s.chars().count() <= 60 {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(30).collect();
    let tail: String = s
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("\"{head}…{tail}\"")
}

fn is_downward_volume_field(path: &str) -> bool {
    matches!(
        path,
        "metadata.name"
            | "metadata.namespace"
            | "metadata.uid"
            | "metadata.labels"
            | "metadata.annotations"
    ) || path.starts_with("metadata.labels['")
        || path.starts_with("metadata.annotations['")
}
