//! What the API serves, as one table ([`RESOURCES`]) that both discovery (`/api`, `/api/v1`, `/apis`…) and the
//! router read: a resource not in it is a 404, a verb not listed for it a 405. Adding writes, `exec` or another
//! subresource is adding a row (and its handler).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
    ServerAddressByClientCIDR,
};
use k8s_openapi::apimachinery::pkg::version::Info;

/// One served resource (or subresource: `pods/log`).
#[derive(Clone, Copy, Debug)]
pub struct ResourceDef {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Plural name, with `/subresource`.
    pub name: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind of the object.
    pub kind: &'static str,
    /// Namespaced.
    pub namespaced: bool,
    /// Verbs served.
    pub verbs: &'static [&'static str],
    /// `kubectl get po`.
    pub short_names: &'static [&'static str],
    /// `kubectl get all`.
    pub categories: &'static [&'static str],
}

const READ: &[&str] = &["get", "list", "watch"];

/// What pods serve: reads and the writes that go through the manifest directory.
const POD_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const fn core(
    name: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    verbs: &'static [&'static str],
    short_names: &'static [&'static str],
) -> ResourceDef {
    ResourceDef {
        group: "",
        version: "v1",
        name,
        singular,
        kind,
        namespaced,
        verbs,
        short_names,
        categories: &[],
    }
}

const fn review(
    group: &'static str,
    name: &'static str,
    singular: &'static str,
    kind: &'static str,
) -> ResourceDef {
    ResourceDef {
        group,
        version: "v1",
        name,
        singular,
        kind,
        namespaced: false,
        verbs: &["create"],
        short_names: &[],
        categories: &[],
    }
}

/// Everything the API serves.
pub const RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        categories: &["all"],
        ..core("pods", "pod", "Pod", true, POD_VERBS, &["po"])
    },
    core("pods/log", "", "Pod", true, &["get"], &[]),
    core(
        "pods/exec",
        "",
        "PodExecOptions",
        true,
        &["create", "get"],
        &[],
    ),
    core(
        "pods/attach",
        "",
        "PodAttachOptions",
        true,
        &["create", "get"],
        &[],
    ),
    core(
        "pods/ephemeralcontainers",
        "",
        "Pod",
        true,
        &["get", "patch", "update"],
        &[],
    ),
    core("events", "event", "Event", true, READ, &["ev"]),
    core("nodes", "node", "Node", false, READ, &["no"]),
    core("namespaces", "namespace", "Namespace", false, READ, &["ns"]),
    review(
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
    ),
    review(
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        "SelfSubjectRulesReview",
    ),
    review(
        "authentication.k8s.io",
        "selfsubjectreviews",
        "selfsubjectreview",
        "SelfSubjectReview",
    ),
    metrics("pods", "PodMetrics", true),
    metrics("nodes", "NodeMetrics", false),
];

/// A `metrics.k8s.io/v1beta1` resource, as metrics-server serves it (get and list).
const fn metrics(name: &'static str, kind: &'static str, namespaced: bool) -> ResourceDef {
    ResourceDef {
        group: super::metrics::GROUP,
        version: super::metrics::VERSION,
        name,
        singular: "",
        kind,
        namespaced,
        verbs: &["get", "list"],
        short_names: &[],
        categories: &[],
    }
}

/// The served (sub)resource `resource[/subresource]` of `group/version`.
pub fn find(
    group: &str,
    version: &str,
    resource: &str,
    subresource: Option<&str>,
) -> Option<&'static ResourceDef> {
    let name = match subresource {
        Some(s) => format!("{resource}/{s}"),
        None => resource.to_string(),
    };
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.name == name)
}

/// The groups besides core, in order.
fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = Vec::new();
    for r in RESOURCES {
        if !r.group.is_empty() && !g.contains(&r.group) {
            g.push(r.group);
        }
    }
    g
}

/// `/api`.
pub fn core_versions(address: &str) -> APIVersions {
    APIVersions {
        server_address_by_client_cidrs: vec![ServerAddressByClientCIDR {
            client_cidr: "0.0.0.0/0".into(),
            server_address: address.to_string(),
        }],
        versions: vec!["v1".into()],
    }
}

fn group_doc(name: &str) -> APIGroup {
    let version = RESOURCES
        .iter()
        .find(|r| r.group == name)
        .map_or("v1", |r| r.version);
    let gv = GroupVersionForDiscovery {
        group_version: format!("{name}/{version}"),
        version: version.into(),
    };
    APIGroup {
        name: name.to_string(),
        preferred_version: Some(gv.clone()),
        server_address_by_client_cidrs: None,
        versions: vec![gv],
    }
}

/// `/apis`.
pub fn group_list() -> APIGroupList {
    APIGroupList {
        groups: groups().into_iter().map(group_doc).collect(),
    }
}

/// `/apis/<group>`, if served.
pub fn group(name: &str) -> Option<APIGroup> {
    groups().contains(&name).then(|| group_doc(name))
}

/// `/api/v1` or `/apis/<group>/<version>`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<APIResourceList> {
    let resources: Vec<APIResource> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            APIResource {
                name: r.name.into(),
                singular_name: r.singular.into(),
                namespaced: r.namespaced,
                kind: r.kind.into(),
                verbs: strings(r.verbs),
                short_names: (!r.short_names.is_empty()).then(|| strings(r.short_names)),
                categories: (!r.categories.is_empty()).then(|| strings(r.categories)),
                ..Default::default()
            }
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    Some(APIResourceList {
        group_version: if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        },
        resources,
    })
}

/// The Kubernetes minor version whose API objects podtui serves: that of its k8s-openapi types.
pub const KUBERNETES_MINOR: u32 = 37;

/// `/version`.
pub fn version() -> Info {
    Info {
        major: "1".into(),
        minor: KUBERNETES_MINOR.to_string(),
        git_version: format!(
            "v1.{KUBERNETES_MINOR}.0+podtui-{}",
            env!("CARGO_PKG_VERSION")
        ),
        git_commit: String::new(),
        git_tree_state: "clean".into(),
        build_date: String::new(),
        go_version: String::new(),
        compiler: "rustc".into(),
        platform: format!("linux/{}", std::env::consts::ARCH),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_what_the_router_serves() {
        let core = resource_list("", "v1").unwrap();
        let pods = core.resources.iter().find(|r| r.name == "pods").unwrap();
        assert_eq!(pods.verbs, POD_VERBS);
        assert_eq!(pods.short_names.as_deref(), Some(&["po".to_string()][..]));
        assert!(core.resources.iter().any(|r| r.name == "pods/log"));
        assert!(find("", "v1", "pods", Some("log")).is_some());
        assert!(find("", "v1", "pods", Some("exec")).is_some());
        assert!(find("", "v1", "pods", Some("attach")).is_some());
        assert!(find("", "v1", "pods", Some("portforward")).is_none());
        let groups: Vec<String> = group_list().groups.into_iter().map(|g| g.name).collect();
        assert_eq!(
            groups,
            [
                "authorization.k8s.io",
                "authentication.k8s.io",
                "metrics.k8s.io"
            ]
        );
        let m = group("metrics.k8s.io").unwrap();
        assert_eq!(
            m.preferred_version.unwrap().group_version,
            "metrics.k8s.io/v1beta1"
        );
        let list = resource_list("metrics.k8s.io", "v1beta1").unwrap();
        let names: Vec<&str> = list.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["pods", "nodes"]);
        assert!(resource_list("apps", "v1").is_none());
    }
}
