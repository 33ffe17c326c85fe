//! The kinds the API serves and one type over their objects ([`Obj`]), so listing, watching, selecting and
//! printing are written once for all of them.

use bytes::Bytes;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::node::{NODE_FIELDS, node_fields};
use super::objects::{
    EVENT_FIELDS, NAMESPACE_FIELDS, POD_FIELDS, event_fields, namespace_fields, pod_fields,
};
use super::select::Fields;

/// A kind of object the API serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// core/v1 Pod (mirror pods).
    Pod,
    /// core/v1 Event.
    Event,
    /// core/v1 Node.
    Node,
    /// core/v1 Namespace.
    Namespace,
}

impl Kind {
    /// The kind of a core/v1 resource name.
    pub fn of_resource(resource: &str) -> Option<Kind> {
        Some(match resource {
            "pods" => Kind::Pod,
            "events" => Kind::Event,
            "nodes" => Kind::Node,
            "namespaces" => Kind::Namespace,
            _ => return None,
        })
    }

    /// The resource name (`pods`).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Event => "events",
            Kind::Node => "nodes",
            Kind::Namespace => "namespaces",
        }
    }

    /// The kind's name (`Pod`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Event => "Event",
            Kind::Node => "Node",
            Kind::Namespace => "Namespace",
        }
    }

    /// True for namespaced kinds.
    pub fn namespaced(self) -> bool {
        matches!(self, Kind::Pod | Kind::Event)
    }

    /// The fields `fieldSelector` may name.
    pub fn selectable_fields(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => POD_FIELDS,
            Kind::Event => EVENT_FIELDS,
            Kind::Node => NODE_FIELDS,
            Kind::Namespace => NAMESPACE_FIELDS,
        }
    }
}

/// A served object.
#[derive(Clone, Debug, PartialEq)]
pub enum Obj {
    /// A pod.
    Pod(Box<Pod>),
    /// An event.
    Event(Box<Event>),
    /// The node.
    Node(Box<Node>),
    /// A namespace.
    Namespace(Box<Namespace>),
}

impl Obj {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Obj::Pod(_) => Kind::Pod,
            Obj::Event(_) => Kind::Event,
            Obj::Node(_) => Kind::Node,
            Obj::Namespace(_) => Kind::Namespace,
        }
    }

    /// Its metadata.
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Obj::Pod(o) => &o.metadata,
            Obj::Event(o) => &o.metadata,
            Obj::Node(o) => &o.metadata,
            Obj::Namespace(o) => &o.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Obj::Pod(o) => &mut o.metadata,
            Obj::Event(o) => &mut o.metadata,
            Obj::Node(o) => &mut o.metadata,
            Obj::Namespace(o) => &mut o.metadata,
        }
    }

    /// The object as a request that named it `name` sees it. A pod asked for by the name in its file (without
    /// `-<node>`) is served under that name: kubectl's `apply` computes its three-way patch against the served
    /// object (a different name would be a change, so a second apply would say `configured`), and its delete/wait
    /// keys the objects it watches by the name it asked for. Other kinds, and a pod asked for by its own name, are
    /// unchanged.
    pub fn named_as(mut self, name: &str) -> Self {
        if let Obj::Pod(p) = &mut self
            && !name.is_empty()
            && p.metadata.name.as_deref() != Some(name)
        {
            p.metadata.name = Some(name.to_string());
        }
        self
    }

    /// Sets its resourceVersion.
    pub fn set_rv(&mut self, rv: u64) {
        self.meta_mut().resource_version = Some(rv.to_string());
    }

    /// Its creation time.
    pub fn created(&self) -> Timestamp {
        self.meta()
            .creation_timestamp
            .as_ref()
            .map_or_else(Timestamp::now, |t| t.0)
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or_default()
    }

    /// Its namespace (empty for cluster-scoped kinds).
    pub fn namespace(&self) -> &str {
        self.meta().namespace.as_deref().unwrap_or_default()
    }

    /// (namespace, name), the order lists are in.
    pub fn sort_key(&self) -> (String, String) {
        (self.namespace().to_string(), self.name().to_string())
    }

    /// What selectors see of it.
    pub fn fields(&self, node: &str) -> Fields {
        match self {
            Obj::Pod(o) => pod_fields(o, node),
            Obj::Event(o) => event_fields(o, node),
            Obj::Node(o) => node_fields(o),
            Obj::Namespace(o) => namespace_fields(o),
        }
    }

    /// As JSON (with `apiVersion` and `kind`).
    pub fn to_json(&self) -> Bytes {
        let r = match self {
            Obj::Pod(o) => serde_json::to_vec(o),
            Obj::Event(o) => serde_json::to_vec(o),
            Obj::Node(o) => serde_json::to_vec(o),
            Obj::Namespace(o) => serde_json::to_vec(o),
        };
        // Serialising these types cannot fail (no maps with non-string keys); an empty object if it ever did.
        Bytes::from(r.unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// Reads an object of `kind` back from JSON.
    pub fn from_json(kind: Kind, json: &[u8]) -> Option<Obj> {
        Some(match kind {
            Kind::Pod => Obj::Pod(serde_json::from_slice(json).ok()?),
            Kind::Event => Obj::Event(serde_json::from_slice(json).ok()?),
            Kind::Node => Obj::Node(serde_json::from_slice(json).ok()?),
            Kind::Namespace => Obj::Namespace(serde_json::from_slice(json).ok()?),
        })
    }
}
