//! Server-side printing: `meta.k8s.io` `Table`s (not in k8s-openapi, so defined here, serde-compatible with the
//! API server's) with the columns the API server's printers give each kind. Without them kubectl prints only
//! NAME and AGE. Pod cells are the engine's own READY/STATUS/RESTARTS and AGE, as the TUI and `podtui get`
//! print them; the other kinds follow the API server's printers (`pkg/printers/internalversion`).

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::resource::{Kind, Obj};
use crate::engine::status::columns;
use crate::text::human_duration;

/// A `meta.k8s.io` Table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// `meta.k8s.io/v1` (or `v1beta1`).
    pub api_version: String,
    /// `Table`.
    pub kind: String,
    /// resourceVersion and continue token.
    pub metadata: ListMeta,
    /// The columns (omitted in watch events after the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_definitions: Option<Vec<TableColumnDefinition>>,
    /// The rows.
    pub rows: Vec<TableRow>,
}

/// A column.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableColumnDefinition {
    /// Header (kubectl upper-cases it).
    pub name: String,
    /// `string`, `integer`…
    #[serde(rename = "type")]
    pub type_: String,
    /// `name` for the name column.
    pub format: String,
    /// What it shows.
    pub description: String,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: i32,
}

/// A row.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// One cell per column.
    pub cells: Vec<Value>,
    /// Row conditions (`Completed` for pods that ended).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<TableRowCondition>,
    /// The object (full, or its `PartialObjectMetadata`), per `includeObject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

/// A row condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRowCondition {
    /// `Completed`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`.
    pub status: String,
    /// Why.
    pub reason: String,
    /// Details.
    pub message: String,
}

/// What a row carries of its object (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole object.
    Object,
}

impl Include {
    /// Reads `includeObject`.
    pub fn parse(v: Option<&str>) -> Result<Self, super::status::ApiStatus> {
        match v.unwrap_or("Metadata") {
            "" | "Metadata" => Ok(Include::Metadata),
            "None" => Ok(Include::None),
            "Object" => Ok(Include::Object),
            other => Err(super::status::ApiStatus::bad_request(format!(
                "includeObject: unsupported value {other:?} (None, Metadata, Object)"
            ))),
        }
    }
}

fn col(name: &str, type_: &str, priority: i32, description: &str) -> TableColumnDefinition {
    TableColumnDefinition {
        name: name.into(),
        type_: type_.into(),
        format: if name == "Name" {
            "name".into()
        } else {
            String::new()
        },
        description: description.into(),
        priority,
    }
}

const NAME: &str = "Name must be unique within a namespace.";
const AGE: &str =
    "CreationTimestamp is a timestamp representing the server time when this object was created.";

/// The columns of `kind`, as the API server's printer defines them.
pub fn column_definitions(kind: Kind) -> Vec<TableColumnDefinition> {
    match kind {
        Kind::Pod => pod_columns(),
        Kind::Event => event_columns(),
        Kind::Node => node_columns(),
        Kind::Namespace => vec![
            col("Name", "string", 0, NAME),
            col("Status", "string", 0, "The status of the namespace"),
            col("Age", "string", 0, AGE),
        ],
    }
}

fn pod_columns() -> Vec<TableColumnDefinition> {
    vec![
        col("Name", "string", 0, NAME),
        col(
            "Ready",
            "string",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        col(
            "Status",
            "string",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        col(
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        col("Age", "string", 0, AGE),
        col("IP", "string", 1, "podIP address allocated to the pod."),
        col(
            "Node",
            "string",
            1,
            "NodeName is the name of the node the pod runs on.",
        ),
        col(
            "Nominated Node",
            "string",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        col(
            "Readiness Gates",
            "string",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ]
}

fn event_columns() -> Vec<TableColumnDefinition> {
    vec![
        col(
            "Last Seen",
            "string",
            0,
            "The time at which the most recent occurrence of this event was recorded.",
        ),
        col("Type", "string", 0, "Type of this event (Normal, Warning)."),
        col(
            "Reason",
            "string",
            0,
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        col(
            "Object",
            "string",
            0,
            "The object that this event is about.",
        ),
        col(
            "Subobject",
            "string",
            1,
            "The field of the object this event is about (spec.containers{name}).",
        ),
        col("Source", "string", 1, "The component reporting this event."),
        col(
            "Message",
            "string",
            0,
            "A human-readable description of the status of this operation.",
        ),
        col(
            "First Seen",
            "string",
            1,
            "The time at which the event was first recorded.",
        ),
        col(
            "Count",
            "string",
            1,
            "The number of times this event has occurred.",
        ),
        col("Name", "string", 1, NAME),
    ]
}

fn node_columns() -> Vec<TableColumnDefinition> {
    vec![
        col("Name", "string", 0, NAME),
        col("Status", "string", 0, "The status of the node"),
        col("Roles", "string", 0, "The roles of the node"),
        col("Age", "string", 0, AGE),
        col(
            "Version",
            "string",
            0,
            "Kubelet Version reported by the node.",
        ),
        col(
            "Internal-IP",
            "string",
            1,
            "List of addresses reachable to the node.",
        ),
        col(
            "External-IP",
            "string",
            1,
            "List of addresses reachable to the node.",
        ),
        col(
            "OS-Image",
            "string",
            1,
            "OS Image reported by the node from /etc/os-release.",
        ),
        col(
            "Kernel-Version",
            "string",
            1,
            "Kernel Version reported by the node from 'uname -r'.",
        ),
        col(
            "Container-Runtime",
            "string",
            1,
            "ContainerRuntime Version reported by the node through runtime remote API.",
        ),
    ]
}

fn since(t: Option<Timestamp>, now: Timestamp) -> String {
    t.map_or_else(
        || "<unknown>".into(),
        |t| human_duration(now.duration_since(t)),
    )
}

fn or_none(s: Option<&str>) -> String {
    s.filter(|s| !s.is_empty()).unwrap_or("<none>").to_string()
}

fn pod_row(
    p: &k8s_openapi::api::core::v1::Pod,
    now: Timestamp,
) -> (Vec<Value>, Vec<TableRowCondition>) {
    let spec = p.spec.clone().unwrap_or_default();
    let status = p.status.clone().unwrap_or_default();
    let c = columns(&spec, &status, p.metadata.deletion_timestamp.is_some());
    // AGE and the restart's "ago" as the API server's pod printer makes them: `HumanDuration` since the pod's
    // creation (the mirror pod's), and since the last restart.
    let age = p
        .metadata
        .creation_timestamp
        .as_ref()
        .or(status.start_time.as_ref())
        .map_or_else(
            || "<unknown>".into(),
            |t| human_duration(now.duration_since(t.0)),
        );
    let restarts = match c.last_restart {
        Some(t) if c.restarts > 0 => {
            format!(
                "{} ({} ago)",
                c.restarts,
                human_duration(now.duration_since(t))
            )
        }
        _ => c.restarts.to_string(),
    };
    let ip = status
        .pod_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .map(|i| i.ip.clone())
        .or(status.pod_ip.clone());
    let gates = spec
        .readiness_gates
        .as_ref()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let ok = g
                .iter()
                .filter(|gate| {
                    status
                        .conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == gate.condition_type && c.status == "True")
                })
                .count();
            format!("{ok}/{}", g.len())
        });
    let cells = vec![
        json!(p.metadata.name.clone().unwrap_or_default()),
        json!(c.ready),
        json!(c.status),
        json!(restarts),
        json!(age),
        json!(or_none(ip.as_deref())),
        json!(or_none(spec.node_name.as_deref())),
        json!(or_none(status.nominated_node_name.as_deref())),
        json!(gates.unwrap_or_else(|| "<none>".into())),
    ];
    let conditions = match status.phase.as_deref() {
        Some("Succeeded") => vec![("Succeeded", "The pod has completed successfully.")],
        Some("Failed") => vec![("Failed", "The pod failed.")],
        _ => vec![],
    }
    .into_iter()
    .map(|(reason, message)| TableRowCondition {
        type_: "Completed".into(),
        status: "True".into(),
        reason: reason.into(),
        message: message.into(),
    })
    .collect();
    (cells, conditions)
}

fn event_cells(e: &k8s_openapi::api::core::v1::Event, now: Timestamp) -> Vec<Value> {
    let first = since(e.first_timestamp.as_ref().map(|t| t.0), now);
    let last = e
        .last_timestamp
        .as_ref()
        .map_or_else(|| first.clone(), |t| since(Some(t.0), now));
    let o = &e.involved_object;
    let kind = o.kind.clone().unwrap_or_default().to_lowercase();
    let target = match o.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => format!("{kind}/{n}"),
        None => kind,
    };
    let source = e.source.clone().unwrap_or_default();
    let source = match (
        source.component.filter(|c| !c.is_empty()),
        source.host.filter(|h| !h.is_empty()),
    ) {
        (Some(c), Some(h)) => format!("{c}, {h}"),
        (Some(c), None) => c,
        _ => "<unknown>".into(),
    };
    vec![
        json!(last),
        json!(e.type_.clone().unwrap_or_default()),
        json!(e.reason.clone().unwrap_or_default()),
        json!(target),
        json!(o.field_path.clone().unwrap_or_default()),
        json!(source),
        json!(e.message.clone().unwrap_or_default().trim()),
        json!(first),
        json!(i64::from(e.count.unwrap_or(1).max(1))),
        json!(e.metadata.name.clone().unwrap_or_default()),
    ]
}

fn node_cells(n: &k8s_openapi::api::core::v1::Node, now: Timestamp) -> Vec<Value> {
    let status = n.status.clone().unwrap_or_default();
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready");
    let state = match ready.map(|c| c.status.as_str()) {
        Some("True") => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    };
    let addr = |t: &str| {
        status
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == t)
            .map_or_else(|| "<none>".to_string(), |a| a.address.clone())
    };
    let info = status.node_info.clone().unwrap_or_default();
    let unknown = |s: String| {
        if s.is_empty() {
            "<unknown>".to_string()
        } else {
            s
        }
    };
    vec![
        json!(n.metadata.name.clone().unwrap_or_default()),
        json!(state),
        json!("<none>"),
        json!(since(
            n.metadata.creation_timestamp.as_ref().map(|t| t.0),
            now
        )),
        json!(info.kubelet_version),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(unknown(info.os_image)),
        json!(unknown(info.kernel_version)),
        json!(unknown(info.container_runtime_version)),
    ]
}

/// The row of `obj`.
pub fn row(obj: &Obj, include: Include, api_version: &str, now: Timestamp) -> TableRow {
    let (cells, conditions) = match obj {
        Obj::Pod(p) => pod_row(p, now),
        Obj::Event(e) => (event_cells(e, now), vec![]),
        Obj::Node(n) => (node_cells(n, now), vec![]),
        Obj::Namespace(ns) => (
            vec![
                json!(ns.metadata.name.clone().unwrap_or_default()),
                json!(
                    ns.status
                        .as_ref()
                        .and_then(|s| s.phase.clone())
                        .unwrap_or_default()
                ),
                json!(since(
                    ns.metadata.creation_timestamp.as_ref().map(|t| t.0),
                    now
                )),
            ],
            vec![],
        ),
    };
    let object = match include {
        Include::None => None,
        Include::Object => serde_json::from_slice(&obj.to_json()).ok(),
        Include::Metadata => Some(partial_metadata(obj.meta(), api_version)),
    };
    TableRow {
        cells,
        conditions,
        object,
    }
}

/// An object's `PartialObjectMetadata` (`meta.k8s.io/<api_version>`).
pub fn partial_metadata(meta: &ObjectMeta, api_version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{api_version}"),
        "metadata": meta,
    })
}

/// A Table of `objs`.
pub fn table(
    kind: Kind,
    objs: &[Obj],
    list: ListMeta,
    include: Include,
    version: &str,
    with_columns: bool,
) -> Table {
    let now = Timestamp::now();
    Table {
        api_version: format!("meta.k8s.io/{version}"),
        kind: "Table".into(),
        metadata: list,
        column_definitions: with_columns.then(|| column_definitions(kind)),
        rows: objs.iter().map(|o| row(o, include, version, now)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_as_many_cells_as_columns() {
        let now = Timestamp::now();
        for obj in [
            Obj::Pod(Box::default()),
            Obj::Event(Box::default()),
            Obj::Node(Box::default()),
            Obj::Namespace(Box::default()),
        ] {
            let r = row(&obj, Include::Metadata, "v1", now);
            assert_eq!(
                r.cells.len(),
                column_definitions(obj.kind()).len(),
                "{:?}",
                obj.kind()
            );
        }
    }
}
