//! What a request asks for, read the way the API server's request-info resolver reads it: the verb from the
//! method (and `watch`), then `/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]` or the same under
//! `/apis/<group>/<version>`; plus the query parameters and the media type negotiated from `Accept`.

use std::collections::HashMap;

use super::status::ApiStatus;

/// The Kubernetes verb of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// GET of one object.
    Get,
    /// GET of a collection.
    List,
    /// GET with `watch=true`.
    Watch,
    /// POST.
    Create,
    /// PUT.
    Update,
    /// PATCH.
    Patch,
    /// DELETE of one object.
    Delete,
    /// DELETE of a collection.
    DeleteCollection,
}

impl Verb {
    /// The verb as discovery and RBAC spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

/// A request for a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRequest {
    /// The verb.
    pub verb: Verb,
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace, for namespaced requests.
    pub namespace: Option<String>,
    /// Resource (`pods`).
    pub resource: String,
    /// Object name.
    pub name: Option<String>,
    /// Subresource (`log`).
    pub subresource: Option<String>,
}

/// Where a request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`: (group, version).
    Resources(String, String),
    /// A resource or object.
    Resource(ResourceRequest),
    /// Anything else (`/version`, `/healthz`…), with the method.
    Other(String),
}

/// Decodes `%XX` escapes (and `+` as a space when `plus` is set).
pub fn percent_decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Target {
    /// Reads the target of `method path` (`path` without the query).
    pub fn parse(method: &str, path: &str, watch: bool) -> Target {
        let parts: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect();
        let p: Vec<&str> = parts.iter().map(String::as_str).collect();
        let (group, version, rest) = match p.as_slice() {
            ["api"] => return Target::CoreVersions,
            ["apis"] => return Target::Groups,
            ["apis", g] => return Target::Group(g.to_string()),
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return Target::Other(method.to_string()),
        };
        if rest.is_empty() {
            return Target::Resources(group.into(), version.into());
        }
        let mut rest = rest;
        let mut namespace = None;
        // `namespaces/<ns>/<resource>…` is a namespaced request; `namespaces/<ns>` alone is the namespace object.
        if rest[0] == "namespaces" && rest.len() > 2 {
            namespace = Some(rest[1].to_string());
            rest = &rest[2..];
        }
        let (resource, name, subresource) = match rest {
            [r] => (*r, None, None),
            [r, n] => (*r, Some(n.to_string()), None),
            [r, n, s] => (*r, Some(n.to_string()), Some(s.to_string())),
            _ => return Target::Other(method.to_string()),
        };
        let verb = match (method, name.is_some()) {
            ("GET" | "HEAD", _) if watch => Verb::Watch,
            ("GET" | "HEAD", true) => Verb::Get,
            ("GET" | "HEAD", false) => Verb::List,
            ("POST", _) => Verb::Create,
            ("PUT", _) => Verb::Update,
            ("PATCH", _) => Verb::Patch,
            ("DELETE", true) => Verb::Delete,
            ("DELETE", false) => Verb::DeleteCollection,
            _ => return Target::Other(method.to_string()),
        };
        Target::Resource(ResourceRequest {
            verb,
            group: group.into(),
            version: version.into(),
            namespace,
            resource: resource.into(),
            name,
            subresource,
        })
    }
}

/// The query parameters of a request.
#[derive(Clone, Debug, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses `a=b&c=d` (the last value of a repeated key wins).
    pub fn parse(query: Option<&str>) -> Self {
        let mut m = HashMap::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|s| !s.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            m.insert(percent_decode(k, true), percent_decode(v, true));
        }
        Self(m)
    }

    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A parameter's value, absent when empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A boolean parameter, as Go's `strconv.ParseBool` reads it; absent or empty is false.
    pub fn flag(&self, key: &str) -> Result<bool, ApiStatus> {
        match self.get(key).unwrap_or("") {
            "" | "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            other => Err(ApiStatus::bad_request(format!(
                "{key}: invalid boolean value {other:?}"
            ))),
        }
    }

    /// An integer parameter.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ApiStatus> {
        self.non_empty(key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiStatus::bad_request(format!("{key}: invalid integer value {v:?}"))
                })
            })
            .transpose()
    }
}

/// The response format a request negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The object as JSON.
    Json,
    /// A `meta.k8s.io` Table of that version (`v1` or `v1beta1`).
    Table(&'static str),
    /// `meta.k8s.io` PartialObjectMetadata (a list: PartialObjectMetadataList) of that version.
    Metadata(&'static str),
}

/// Picks the first media type in `accept` the server can produce (no `Accept` means JSON).
pub fn negotiate(accept: Option<&str>) -> Result<Format, ApiStatus> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Format::Json);
    };
    for item in accept.split(',') {
        let mut fields = item.split(';').map(str::trim);
        let media = fields.next().unwrap_or_default().to_ascii_lowercase();
        let params: HashMap<String, String> = fields
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        if !matches!(media.as_str(), "application/json" | "application/*" | "*/*") {
            continue;
        }
        let version = match params.get("v").map(String::as_str) {
            Some("v1") => "v1",
            Some("v1beta1") => "v1beta1",
            _ => "",
        };
        let meta =
            params.get("g").map(String::as_str) == Some("meta.k8s.io") && !version.is_empty();
        match params.get("as").map(String::as_str) {
            None => return Ok(Format::Json),
            Some("Table") if meta => return Ok(Format::Table(version)),
            Some("PartialObjectMetadata" | "PartialObjectMetadataList") if meta => {
                return Ok(Format::Metadata(version));
            }
            Some(_) => continue,
        }
    }
    Err(ApiStatus::not_acceptable(accept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(method: &str, path: &str) -> ResourceRequest {
        match Target::parse(method, path, false) {
            Target::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_read_like_the_api_server() {
        let r = res("GET", "/api/v1/namespaces/default/pods/web/log");
        assert_eq!(r.namespace.as_deref(), Some("default"));
        assert_eq!(
            (r.resource.as_str(), r.name.as_deref()),
            ("pods", Some("web"))
        );
        assert_eq!(r.subresource.as_deref(), Some("log"));
        assert_eq!(r.verb, Verb::Get);
        let r = res("GET", "/api/v1/namespaces/kube-system");
        assert_eq!(
            (r.resource.as_str(), r.name.as_deref(), r.namespace),
            ("namespaces", Some("kube-system"), None)
        );
        assert_eq!(res("GET", "/api/v1/pods").verb, Verb::List);
        assert_eq!(
            res(
                "POST",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
            )
            .group,
            "authorization.k8s.io"
        );
        assert!(matches!(
            Target::parse("GET", "/api/v1/namespaces/default/pods", true),
            Target::Resource(ResourceRequest {
                verb: Verb::Watch,
                ..
            })
        ));
        assert_eq!(Target::parse("GET", "/api", false), Target::CoreVersions);
        assert_eq!(
            Target::parse("GET", "/api/v1", false),
            Target::Resources("".into(), "v1".into())
        );
        assert_eq!(
            Target::parse("GET", "/version", false),
            Target::Other("GET".into())
        );
    }

    #[test]
    fn query_values_are_decoded() {
        let q = Query::parse(Some(
            "fieldSelector=involvedObject.name%3Dweb%2CinvolvedObject.namespace%3Ddefault&watch=1&limit=500",
        ));
        assert_eq!(
            q.get("fieldSelector"),
            Some("involvedObject.name=web,involvedObject.namespace=default")
        );
        assert!(q.flag("watch").unwrap());
        assert_eq!(q.int("limit").unwrap(), Some(500));
        assert!(Query::parse(Some("watch=yes")).flag("watch").is_err());
        assert_eq!(percent_decode("a%2", false), "a%2");
    }

    #[test]
    fn kubectl_accept_header_negotiates_a_table() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl)).unwrap(), Format::Table("v1"));
        assert_eq!(
            negotiate(Some("application/json;as=Table;v=v1beta1;g=meta.k8s.io")).unwrap(),
            Format::Table("v1beta1")
        );
        assert_eq!(
            negotiate(Some(
                "application/vnd.kubernetes.protobuf, application/json"
            ))
            .unwrap(),
            Format::Json
        );
        assert_eq!(negotiate(None).unwrap(), Format::Json);
        assert_eq!(
            negotiate(Some(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            ))
            .unwrap(),
            Format::Metadata("v1")
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf"))
                .unwrap_err()
                .code,
            406
        );
    }
}
