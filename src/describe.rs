//! `kubectl describe pod`'s text, written the way kubectl writes it (its `describePod`, read from
//! k8s.io/kubectl/pkg/describe): the same sections, labels and order, aligned by Go's elastic tabstops
//! (minwidth 0, padding 2) with the events in a table of their own. The TUI's Describe tab and
//! `podtui describe` show it; `kubectl describe` against podtui's API prints the same from the same mirror pod
//! and events (a test compares them). The format is kubectl 1.32's (the client these machines have; 1.34 adds
//! port names, 1.35 field paths before event messages). Quantities print as the manifest wrote them (kubectl
//! canonicalises them: `0.5` shows as `500m` there).

use std::collections::BTreeMap;
use std::io::Write;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, EnvVar, Event, Pod, Probe, Volume,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tabwriter::TabWriter;

use crate::api::objects::{Stamp, event, mirror_pod};
use crate::engine::snapshot::PodView;
use crate::manifest::quantity::Quantity;
use crate::text::human_duration;

/// The annotation kubectl leaves out.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Longer annotations are printed on their own lines, each cut at this length.
const MAX_ANNOTATION_LEN: usize = 140;

/// `kubectl describe pod` of a pod the engine shows, as the API serves it on node `node`: the mirror pod and
/// the kubelet's events for it.
pub fn pod_view(p: &PodView, node: &str, now: Timestamp) -> String {
    // The API stamps a mirror pod with when the pod was first known (its `config.seen`), as here.
    let stamp = Stamp {
        rv: 0,
        created: p.first_known().filter(|s| *s < now).unwrap_or(now),
    };
    let pod = mirror_pod(p, node, stamp);
    let events: Vec<Event> = p.events.iter().map(|e| event(p, e, node, stamp)).collect();
    pod_text(&pod, Some(&events), now)
}

/// `kubectl describe pod` of `pod` with `events` (`None`: `--show-events=false`), ages counted to `now`.
pub fn pod_text(pod: &Pod, events: Option<&[Event]>, now: Timestamp) -> String {
    let mut w = Writer::default();
    describe_pod(&mut w, pod, events, now);
    w.finish()
}

/// kubectl's prefix writer over a tab writer: `level` indents by two spaces each.
struct Writer {
    tw: TabWriter<Vec<u8>>,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            tw: TabWriter::new(Vec::new()).minwidth(0).padding(2),
        }
    }
}

impl Writer {
    fn line(&mut self, level: usize, text: &str) {
        let _ = write!(self.tw, "{}{text}", "  ".repeat(level));
    }

    /// Aligns what was written so far on its own (kubectl flushes before the events table).
    fn flush(&mut self) {
        let _ = self.tw.flush();
    }

    fn finish(mut self) -> String {
        self.flush();
        let bytes = self.tw.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Go's RFC1123Z in the local time zone, as kubectl prints times; a time not set is Go's zero time.
fn rfc1123z(t: Option<Timestamp>) -> String {
    match t {
        Some(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%a, %d %b %Y %H:%M:%S %z")
            .to_string(),
        None => "Mon, 01 Jan 0001 00:00:00 +0000".into(),
    }
}

fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) if t != Timestamp::UNIX_EPOCH => human_duration(now.duration_since(t)),
        _ => "<unknown>".into(),
    }
}

fn describe_pod(w: &mut Writer, pod: &Pod, events: Option<&[Event]>, now: Timestamp) {
    let md = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    w.line(0, &format!("Name:\t{}\n", md.name.as_deref().unwrap_or("")));
    w.line(
        0,
        &format!("Namespace:\t{}\n", md.namespace.as_deref().unwrap_or("")),
    );
    if let Some(p) = spec.priority {
        w.line(0, &format!("Priority:\t{p}\n"));
    }
    if let Some(c) = spec
        .priority_class_name
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        w.line(0, &format!("Priority Class Name:\t{c}\n"));
    }
    if let Some(c) = spec.runtime_class_name.as_deref().filter(|c| !c.is_empty()) {
        w.line(0, &format!("Runtime Class Name:\t{c}\n"));
    }
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.line(0, &format!("Service Account:\t{sa}\n"));
    }
    match spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        None => w.line(0, "Node:\t<none>\n"),
        Some(n) => w.line(
            0,
            &format!(
                "Node:\t{n}/{}\n",
                status.host_ip.as_deref().unwrap_or_default()
            ),
        ),
    }
    if let Some(t) = &status.start_time {
        w.line(0, &format!("Start Time:\t{}\n", rfc1123z(Some(t.0))));
    }
    labels_multiline(w, "Labels", md.labels.as_ref());
    annotations_multiline(w, md.annotations.as_ref());
    let phase = status.phase.clone().unwrap_or_default();
    match &md.deletion_timestamp {
        Some(t) if phase != "Failed" && phase != "Succeeded" => {
            w.line(
                0,
                &format!("Status:\tTerminating (lasts {})\n", since(Some(t.0), now)),
            );
            w.line(
                0,
                &format!(
                    "Termination Grace Period:\t{}s\n",
                    md.deletion_grace_period_seconds.unwrap_or_default()
                ),
            );
        }
        _ => w.line(0, &format!("Status:\t{phase}\n")),
    }
    if let Some(r) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        w.line(0, &format!("Reason:\t{r}\n"));
    }
    if let Some(m) = status.message.as_deref().filter(|m| !m.is_empty()) {
        w.line(0, &format!("Message:\t{m}\n"));
    }
    if let Some(sp) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        seccomp(w, sp, 0, 0);
    }
    w.line(
        0,
        &format!("IP:\t{}\n", status.pod_ip.as_deref().unwrap_or_default()),
    );
    match status.pod_ips.as_deref().filter(|ips| !ips.is_empty()) {
        None => w.line(0, "IPs:\t<none>\n"),
        Some(ips) => {
            w.line(0, "IPs:\n");
            for ip in ips {
                w.line(1, &format!("IP:\t{}\n", ip.ip));
            }
        }
    }
    if let Some(o) = md
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        w.line(0, &format!("Controlled By:\t{}/{}\n", o.kind, o.name));
    }
    if let Some(n) = status
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        w.line(0, &format!("NominatedNodeName:\t{n}\n"));
    }
    if let Some(r) = &spec.resources {
        w.line(0, "Resources:\n");
        resources(w, r, 1);
    }
    let env_of = |e: &EnvVar, c: &Container| env_value(pod, c, e);
    if let Some(init) = spec.init_containers.as_deref().filter(|c| !c.is_empty()) {
        containers(
            w,
            "Init Containers",
            init,
            status.init_container_statuses.as_deref(),
            &env_of,
        );
    }
    containers(
        w,
        "Containers",
        &spec.containers,
        status.container_statuses.as_deref(),
        &env_of,
    );
    if let Some(eph) = spec
        .ephemeral_containers
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        // kubectl describes them as the containers they are (EphemeralContainerCommon).
        let as_containers: Vec<Container> = eph
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        containers(
            w,
            "Ephemeral Containers",
            &as_containers,
            status.ephemeral_container_statuses.as_deref(),
            &env_of,
        );
    }
    if let Some(gates) = spec.readiness_gates.as_deref().filter(|g| !g.is_empty()) {
        w.line(0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let s = status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == g.condition_type)
                .map(|c| c.status.clone())
                .unwrap_or_else(|| "<none>".into());
            w.line(1, &format!("{} \t{s} \n", g.condition_type));
        }
    }
    if let Some(conds) = status.conditions.as_deref().filter(|c| !c.is_empty()) {
        w.line(0, "Conditions:\n  Type\tStatus\n");
        for c in conds {
            w.line(1, &format!("{} \t{} \n", c.type_, c.status));
        }
    }
    volumes(w, spec.volumes.as_deref().unwrap_or_default());
    let qos = status
        .qos_class
        .clone()
        .unwrap_or_else(|| crate::engine::status::qos::qos_class(&spec).to_string());
    w.line(0, &format!("QoS Class:\t{qos}\n"));
    labels_multiline(w, "Node-Selectors", spec.node_selector.as_ref());
    tolerations(w, spec.tolerations.as_deref().unwrap_or_default());
    topology_spread(
        w,
        spec.topology_spread_constraints
            .as_deref()
            .unwrap_or_default(),
    );
    if let Some(events) = events {
        describe_events(w, events, now);
    }
}

/// `Title:\tk=v` for the first label, `\tk=v` for the next ones, sorted; `<none>` without any.
fn labels_multiline(w: &mut Writer, title: &str, labels: Option<&BTreeMap<String, String>>) {
    w.line(0, &format!("{title}:\t"));
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        w.line(0, "<none>\n");
        return;
    };
    for (i, (k, v)) in labels.iter().enumerate() {
        if i != 0 {
            w.line(0, "\t");
        }
        w.line(0, &format!("{k}={v}\n"));
    }
}

fn annotations_multiline(w: &mut Writer, annotations: Option<&BTreeMap<String, String>>) {
    w.line(0, "Annotations:\t");
    let keys: Vec<(&String, &String)> = annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != LAST_APPLIED)
        .collect();
    if keys.is_empty() {
        w.line(0, "<none>\n");
        return;
    }
    for (i, (k, v)) in keys.into_iter().enumerate() {
        if i != 0 {
            w.line(0, "\t");
        }
        let value = v.strip_suffix('\n').unwrap_or(v);
        if value.len() + k.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.line(0, &format!("{k}:\n"));
            for s in value.split('\n') {
                w.line(0, &format!("\t  {}\n", shorten(s, MAX_ANNOTATION_LEN - 2)));
            }
        } else {
            w.line(0, &format!("{k}: {value}\n"));
        }
    }
}

/// Go's `s[:max] + "..."` (bytes; cut back to a character boundary).
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

fn tolerations(w: &mut Writer, tolerations: &[k8s_openapi::api::core::v1::Toleration]) {
    w.line(0, "Tolerations:\t");
    if tolerations.is_empty() {
        w.line(0, "<none>\n");
        return;
    }
    let mut sorted: Vec<_> = tolerations.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.line(0, "\t");
        }
        let key = t.key.as_deref().unwrap_or_default();
        let value = t.value.as_deref().unwrap_or_default();
        let effect = t.effect.as_deref().unwrap_or_default();
        let mut s = key.to_string();
        if !value.is_empty() {
            s += &format!("={value}");
        }
        if !effect.is_empty() {
            s += &format!(":{effect}");
        }
        if t.operator.as_deref() == Some("Exists") && value.is_empty() {
            s += if !key.is_empty() || !effect.is_empty() {
                " op=Exists"
            } else {
                "op=Exists"
            };
        }
        if let Some(secs) = t.toleration_seconds {
            s += &format!(" for {secs}s");
        }
        w.line(0, &format!("{s}\n"));
    }
}

/// `Topology Spread Constraints:\tkey:Action when max skew N is exceeded [for selector S]`, by key.
fn topology_spread(w: &mut Writer, list: &[k8s_openapi::api::core::v1::TopologySpreadConstraint]) {
    if list.is_empty() {
        return;
    }
    let mut sorted: Vec<_> = list.iter().collect();
    sorted.sort_by(|a, b| a.topology_key.cmp(&b.topology_key));
    w.line(0, "Topology Spread Constraints:\t");
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.line(0, "\t");
        }
        let selector = t
            .label_selector
            .as_ref()
            .map(|s| format!(" for selector {}", label_selector(s)))
            .unwrap_or_default();
        w.line(
            0,
            &format!(
                "{}:{} when max skew {} is exceeded{selector}\n",
                t.topology_key, t.when_unsatisfiable, t.max_skew
            ),
        );
    }
}

/// A label selector as apimachinery's `FormatLabelSelector` writes it (`app=web,tier in (a,b)`; `<none>`).
fn label_selector(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector) -> String {
    let mut reqs: Vec<(String, String)> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), format!("{k}={v}")))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let mut values = e.values.clone().unwrap_or_default();
        values.sort();
        let text = match e.operator.as_str() {
            "In" => format!("{} in ({})", e.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", e.key, values.join(",")),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {op} ({})", e.key, values.join(",")),
        };
        reqs.push((e.key.clone(), text));
    }
    if reqs.is_empty() {
        return "<none>".into();
    }
    reqs.sort();
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

fn containers(
    w: &mut Writer,
    label: &str,
    list: &[Container],
    statuses: Option<&[ContainerStatus]>,
    env_of: &dyn Fn(&EnvVar, &Container) -> String,
) {
    let none = if list.is_empty() { " <none>" } else { "" };
    w.line(0, &format!("{label}:{none}\n"));
    for c in list {
        let status = statuses.into_iter().flatten().find(|s| s.name == c.name);
        w.line(1, &format!("{}:\n", c.name));
        if let Some(s) = status {
            w.line(
                2,
                &format!(
                    "Container ID:\t{}\n",
                    s.container_id.as_deref().unwrap_or_default()
                ),
            );
        }
        w.line(
            2,
            &format!("Image:\t{}\n", c.image.as_deref().unwrap_or_default()),
        );
        if let Some(s) = status {
            w.line(2, &format!("Image ID:\t{}\n", s.image_id));
        }
        let ports = c.ports.as_deref().unwrap_or_default();
        let protocol =
            |p: &k8s_openapi::api::core::v1::ContainerPort| p.protocol.clone().unwrap_or_default();
        let container_ports: Vec<String> = ports
            .iter()
            .map(|p| format!("{}/{}", p.container_port, protocol(p)))
            .collect();
        let host_ports: Vec<String> = ports
            .iter()
            .map(|p| format!("{}/{}", p.host_port.unwrap_or(0), protocol(p)))
            .collect();
        port_line(w, "Port", "Ports", &container_ports);
        port_line(w, "Host Port", "Host Ports", &host_ports);
        if let Some(sp) = c
            .security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref())
        {
            seccomp(w, sp, 2, 3);
        }
        for (title, words) in [("Command", &c.command), ("Args", &c.args)] {
            if let Some(words) = words.as_deref().filter(|w| !w.is_empty()) {
                w.line(2, &format!("{title}:\n"));
                for word in words {
                    for s in word.split('\n') {
                        w.line(3, &format!("{s}\n"));
                    }
                }
            }
        }
        if let Some(s) = status {
            state(w, "State", s.state.as_ref());
            if let Some(last) = s.last_state.as_ref().filter(|l| l.terminated.is_some()) {
                state(w, "Last State", Some(last));
            }
            w.line(
                2,
                &format!("Ready:\t{}\n", if s.ready { "True" } else { "False" }),
            );
            w.line(2, &format!("Restart Count:\t{}\n", s.restart_count));
        }
        if let Some(r) = &c.resources {
            resources(w, r, 2);
        }
        for (title, probe) in [
            ("Liveness", &c.liveness_probe),
            ("Readiness", &c.readiness_probe),
            ("Startup", &c.startup_probe),
        ] {
            if let Some(p) = probe {
                w.line(2, &format!("{title}:\t{}\n", describe_probe(p)));
            }
        }
        if let Some(from) = c.env_from.as_deref().filter(|f| !f.is_empty()) {
            w.line(2, "Environment Variables from:\n");
            for e in from {
                let (kind, name, optional) = if let Some(r) = &e.config_map_ref {
                    ("ConfigMap", r.name.clone(), r.optional.unwrap_or(false))
                } else if let Some(r) = &e.secret_ref {
                    ("Secret", r.name.clone(), r.optional.unwrap_or(false))
                } else {
                    ("", String::new(), false)
                };
                match e.prefix.as_deref().filter(|p| !p.is_empty()) {
                    None => w.line(3, &format!("{name}\t{kind}\tOptional: {optional}\n")),
                    Some(p) => w.line(
                        3,
                        &format!("{name}\t{kind} with prefix '{p}'\tOptional: {optional}\n"),
                    ),
                }
            }
        }
        environment(w, c, env_of);
        mounts(w, c);
    }
}

/// `SeccompProfile:` at `level`, and a Localhost profile's file at `file_level` (kubectl indents the pod's
/// and a container's differently).
fn seccomp(
    w: &mut Writer,
    sp: &k8s_openapi::api::core::v1::SeccompProfile,
    level: usize,
    file_level: usize,
) {
    w.line(level, &format!("SeccompProfile:\t{}\n", sp.type_));
    if sp.type_ == "Localhost" {
        w.line(
            file_level,
            &format!(
                "LocalhostProfile:\t{}\n",
                sp.localhost_profile.as_deref().unwrap_or_default()
            ),
        );
    }
}

/// Limits, then requests, each by resource name, at `level`.
fn resources(w: &mut Writer, r: &k8s_openapi::api::core::v1::ResourceRequirements, level: usize) {
    for (title, list) in [("Limits", &r.limits), ("Requests", &r.requests)] {
        if let Some(list) = list.as_ref().filter(|l| !l.is_empty()) {
            w.line(level, &format!("{title}:\n"));
            for (name, q) in list {
                w.line(level + 1, &format!("{name}:\t{}\n", q.0));
            }
        }
    }
}

fn port_line(w: &mut Writer, one: &str, many: &str, ports: &[String]) {
    let joined = ports.join(", ");
    if joined.contains(',') {
        w.line(2, &format!("{many}:\t{joined}\n"));
    } else if joined.is_empty() {
        w.line(2, &format!("{one}:\t<none>\n"));
    } else {
        w.line(2, &format!("{one}:\t{joined}\n"));
    }
}

fn environment(w: &mut Writer, c: &Container, env_of: &dyn Fn(&EnvVar, &Container) -> String) {
    let env = c.env.as_deref().unwrap_or_default();
    let none = if env.is_empty() { "\t<none>" } else { "" };
    w.line(2, &format!("Environment:{none}\n"));
    for e in env {
        let Some(from) = &e.value_from else {
            for (i, s) in e
                .value
                .as_deref()
                .unwrap_or_default()
                .split('\n')
                .enumerate()
            {
                if i == 0 {
                    w.line(3, &format!("{}:\t{s}\n", e.name));
                } else {
                    w.line(3, &format!("\t{s}\n"));
                }
            }
            continue;
        };
        if let Some(f) = &from.field_ref {
            w.line(
                3,
                &format!(
                    "{}:\t{} ({}:{})\n",
                    e.name,
                    env_of(e, c),
                    f.api_version.as_deref().unwrap_or_default(),
                    f.field_path
                ),
            );
        } else if let Some(r) = &from.resource_field_ref {
            w.line(
                3,
                &format!("{}:\t{} ({})\n", e.name, env_of(e, c), r.resource),
            );
        } else if let Some(s) = &from.secret_key_ref {
            w.line(
                3,
                &format!(
                    "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                    e.name,
                    s.key,
                    s.name,
                    s.optional.unwrap_or(false)
                ),
            );
        } else if let Some(s) = &from.config_map_key_ref {
            w.line(
                3,
                &format!(
                    "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                    e.name,
                    s.key,
                    s.name,
                    s.optional.unwrap_or(false)
                ),
            );
        }
    }
}

fn mounts(w: &mut Writer, c: &Container) {
    let mut list: Vec<_> = c.volume_mounts.iter().flatten().collect();
    let none = if list.is_empty() { "\t<none>" } else { "" };
    w.line(2, &format!("Mounts:{none}\n"));
    list.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
    for m in list {
        let mut flags = vec![
            if m.read_only == Some(true) {
                "ro"
            } else {
                "rw"
            }
            .to_string(),
        ];
        if let Some(sp) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            flags.push(format!("path={sp:?}"));
        }
        w.line(
            3,
            &format!("{} from {} ({})\n", m.mount_path, m.name, flags.join(",")),
        );
    }
}

fn state(w: &mut Writer, title: &str, s: Option<&ContainerState>) {
    let s = s.cloned().unwrap_or_default();
    if let Some(r) = &s.running {
        w.line(2, &format!("{title}:\tRunning\n"));
        let at = r.started_at.as_ref().map(|t| t.0);
        w.line(3, &format!("Started:\t{}\n", rfc1123z(at)));
    } else if let Some(wt) = &s.waiting {
        w.line(2, &format!("{title}:\tWaiting\n"));
        if let Some(r) = wt.reason.as_deref().filter(|r| !r.is_empty()) {
            w.line(3, &format!("Reason:\t{r}\n"));
        }
    } else if let Some(t) = &s.terminated {
        w.line(2, &format!("{title}:\tTerminated\n"));
        if let Some(r) = t.reason.as_deref().filter(|r| !r.is_empty()) {
            w.line(3, &format!("Reason:\t{r}\n"));
        }
        if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
            w.line(3, &format!("Message:\t{m}\n"));
        }
        w.line(3, &format!("Exit Code:\t{}\n", t.exit_code));
        if let Some(sig) = t.signal.filter(|s| *s > 0) {
            w.line(3, &format!("Signal:\t{sig}\n"));
        }
        let time = |t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
            rfc1123z(t.as_ref().map(|t| t.0))
        };
        w.line(3, &format!("Started:\t{}\n", time(&t.started_at)));
        w.line(3, &format!("Finished:\t{}\n", time(&t.finished_at)));
    } else {
        w.line(2, &format!("{title}:\tWaiting\n"));
    }
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// kubectl's `DescribeProbe`: the action, then `delay=… timeout=… period=… #success=… #failure=…`.
pub fn describe_probe(p: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(0),
        p.period_seconds.unwrap_or(0),
        p.success_threshold.unwrap_or(0),
        p.failure_threshold.unwrap_or(0)
    );
    if let Some(e) = &p.exec {
        return format!(
            "exec [{}] {attrs}",
            e.command.as_deref().unwrap_or_default().join(" ")
        );
    }
    if let Some(h) = &p.http_get {
        let scheme = h.scheme.as_deref().unwrap_or_default().to_lowercase();
        let host = h.host.as_deref().unwrap_or_default();
        let port = int_or_string(&h.port);
        let authority = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let path = h.path.as_deref().unwrap_or_default();
        let scheme = if scheme.is_empty() {
            String::new()
        } else {
            format!("{scheme}:")
        };
        let slash = if path.is_empty() || path.starts_with('/') {
            ""
        } else {
            "/"
        };
        return format!("http-get {scheme}//{authority}{slash}{path} {attrs}");
    }
    if let Some(t) = &p.tcp_socket {
        return format!(
            "tcp-socket {}:{} {attrs}",
            t.host.as_deref().unwrap_or_default(),
            int_or_string(&t.port)
        );
    }
    if let Some(g) = &p.grpc {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            g.port,
            g.service.as_deref().unwrap_or_default()
        );
    }
    format!("unknown {attrs}")
}

/// The value kubectl shows for a `valueFrom` variable: the pod's name or namespace, or the container's resource
/// (rounded up to the divisor; a missing limit is "node allocatable").
fn env_value(pod: &Pod, c: &Container, e: &EnvVar) -> String {
    let Some(from) = &e.value_from else {
        return String::new();
    };
    if let Some(f) = &from.field_ref {
        // kubectl converts the path with its scheme's field labels, which know only these two for a Pod: it
        // shows every other fieldRef with an empty value.
        return match f.field_path.as_str() {
            "metadata.name" => pod.metadata.name.clone(),
            "metadata.namespace" => pod.metadata.namespace.clone(),
            _ => None,
        }
        .unwrap_or_default();
    }
    let Some(r) = &from.resource_field_ref else {
        return String::new();
    };
    let resources = c.resources.as_ref();
    let (list, name) = match r.resource.split_once('.') {
        Some(("limits", n)) => (resources.and_then(|r| r.limits.as_ref()), n),
        Some(("requests", n)) => (resources.and_then(|r| r.requests.as_ref()), n),
        _ => return String::new(),
    };
    let value = list
        .and_then(|l| l.get(name))
        .and_then(|q| Quantity::parse(&q.0).ok())
        .map(|q| q.0)
        .unwrap_or(0.0);
    let divisor = r
        .divisor
        .as_ref()
        .and_then(|d| Quantity::parse(&d.0).ok())
        .map(|d| d.0)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    let text = if name == "cpu" {
        // Go: ceil(milliValue / divisor.milliValue).
        ((value * 1000.0).ceil() / (divisor * 1000.0)).ceil()
    } else {
        (value / divisor).ceil()
    };
    let text = format!("{text}");
    if text == "0" && (r.resource == "limits.cpu" || r.resource == "limits.memory") {
        return "node allocatable".into();
    }
    text
}

fn volumes(w: &mut Writer, volumes: &[Volume]) {
    if volumes.is_empty() {
        w.line(0, "Volumes:\t<none>\n");
        return;
    }
    w.line(0, "Volumes:\n");
    for v in volumes {
        w.line(1, &format!("{}:\n", v.name));
        if let Some(h) = &v.host_path {
            w.line(
                2,
                &format!(
                    "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{}\n",
                    h.path,
                    h.type_.as_deref().unwrap_or("<none>")
                ),
            );
        } else if let Some(e) = &v.empty_dir {
            let size = e
                .size_limit
                .as_ref()
                .filter(|q| Quantity::parse(&q.0).is_ok_and(|v| v.0 > 0.0))
                .map(|q| q.0.clone())
                .unwrap_or_else(|| "<unset>".into());
            w.line(
                2,
                &format!(
                    "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size}\n",
                    e.medium.as_deref().unwrap_or_default()
                ),
            );
        } else if let Some(d) = &v.downward_api {
            w.line(
                2,
                "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
            );
            for item in d.items.iter().flatten() {
                if let Some(f) = &item.field_ref {
                    w.line(3, &format!("{} -> {}\n", f.field_path, item.path));
                }
                if let Some(r) = &item.resource_field_ref {
                    w.line(3, &format!("{} -> {}\n", r.resource, item.path));
                }
            }
        } else {
            w.line(1, "<unknown>\n");
        }
    }
}

/// kubectl's `DescribeEvents`: its own table (the text before it is aligned apart), oldest last seen first.
fn describe_events(w: &mut Writer, events: &[Event], now: Timestamp) {
    if events.is_empty() {
        w.line(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    w.line(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.line(1, "----\t------\t----\t----\t-------\n");
    for e in sorted {
        let first = match &e.event_time {
            Some(t) => since(Some(t.0), now),
            None => since(e.first_timestamp.as_ref().map(|t| t.0), now),
        };
        let count = e.count.unwrap_or(0);
        let interval = if let Some(s) = &e.series {
            format!(
                "{} (x{} over {first})",
                since(s.last_observed_time.as_ref().map(|t| t.0), now),
                s.count.unwrap_or(0)
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                since(e.last_timestamp.as_ref().map(|t| t.0), now)
            )
        } else {
            first
        };
        let source = e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .filter(|c| !c.is_empty())
            .or_else(|| e.reporting_component.clone())
            .unwrap_or_default();
        w.line(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{}\n",
                e.type_.as_deref().unwrap_or_default(),
                e.reason.as_deref().unwrap_or_default(),
                e.message.as_deref().unwrap_or_default().trim()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn the_header_aligns_as_kubectl_aligns_it() {
        let p = pod(
            "metadata:\n  name: web\n  namespace: default\n  labels: {app: web, tier: front}\nspec:\n  nodeName: n1\n  containers:\n  - name: app\n    image: busybox\n    ports: [{containerPort: 80, protocol: TCP}]\nstatus:\n  phase: Running\n  hostIP: 10.0.0.1\n  podIP: 172.17.0.2\n  podIPs: [{ip: 172.17.0.2}]\n  qosClass: BestEffort\n",
        );
        let text = pod_text(&p, Some(&[]), Timestamp::UNIX_EPOCH);
        let want = "\
Name:         web
Namespace:    default
Node:         n1/10.0.0.1
Labels:       app=web
              tier=front
Annotations:  <none>
Status:       Running
IP:           172.17.0.2
IPs:
  IP:  172.17.0.2
Containers:
  app:
    Image:        busybox
    Port:         80/TCP
    Host Port:    0/TCP
    Environment:  <none>
    Mounts:       <none>
Volumes:          <none>
QoS Class:        BestEffort
Node-Selectors:   <none>
Tolerations:      <none>
Events:           <none>
";
        assert_eq!(text, want);
    }

    #[test]
    fn probes_read_as_kubectl_writes_them() {
        let p: Probe = serde_yaml::from_str(
            "httpGet: {path: /healthz, port: 8080, scheme: HTTP}\ntimeoutSeconds: 1\nperiodSeconds: 10\nsuccessThreshold: 1\nfailureThreshold: 3\n",
        )
        .unwrap();
        assert_eq!(
            describe_probe(&p),
            "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        let p: Probe = serde_yaml::from_str("exec: {command: [cat, /tmp/ready]}\n").unwrap();
        assert_eq!(
            describe_probe(&p),
            "exec [cat /tmp/ready] delay=0s timeout=0s period=0s #success=0 #failure=0"
        );
        let p: Probe = serde_yaml::from_str("tcpSocket: {port: 80}\n").unwrap();
        assert!(describe_probe(&p).starts_with("tcp-socket :80 delay=0s"));
    }

    #[test]
    fn events_count_and_age_as_kubectl_shows_them() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let ev: Event = serde_yaml::from_str(
            "metadata: {name: e}\ninvolvedObject: {kind: Pod}\ntype: Warning\nreason: BackOff\nmessage: 'Back-off restarting failed container  '\ncount: 5\nfirstTimestamp: '2026-01-01T00:00:00Z'\nlastTimestamp: '2026-01-01T00:09:30Z'\nsource: {component: kubelet}\n",
        )
        .unwrap();
        let text = pod_text(&pod("spec:\n  containers: []\n"), Some(&[ev]), now);
        let events = text.split("Events:\n").nth(1).unwrap();
        assert_eq!(
            events,
            "  Type     Reason   Age                From     Message\n  ----     ------   ----               ----     -------\n  Warning  BackOff  30s (x5 over 10m)  kubelet  Back-off restarting failed container\n"
        );
    }

    #[test]
    fn env_from_fields_and_resources() {
        let p = pod(
            "metadata: {name: web, namespace: ns}\nspec:\n  containers:\n  - name: app\n    resources: {limits: {memory: 64Mi}}\n    env:\n    - {name: POD, valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}}\n    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}\n    - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n",
        );
        let text = pod_text(&p, None, Timestamp::UNIX_EPOCH);
        // Cells are aligned over the block of lines that have them: compare words.
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for want in [
            "POD: web (v1:metadata.name)",
            "MEM: 64 (limits.memory)",
            "CPU: node allocatable (limits.cpu)",
            "memory: 64Mi",
            "QoS Class: Burstable",
        ] {
            assert!(lines.iter().any(|l| l == want), "{want:?} in\n{text}");
        }
        assert!(
            !text.contains("Events:"),
            "no events section without events"
        );
    }
}
