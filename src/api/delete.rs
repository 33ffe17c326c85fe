//! `DELETE` of a pod (`kubectl delete pod X`, `kubectl delete -f`) and of a collection (`-l`): the pod's
//! manifest moves to the trash (restorable, as ctrl-d in the TUI), or, when the file holds other pods too, just
//! its document is removed (the file backed up first). The answer is the pod while it terminates; the watch
//! then shows it go. `gracePeriodSeconds=0` (`--force`) kills its containers at once; another grace period
//! replaces the pod's own (`Request::TerminatePod`), as a kubelet honours the deletion's grace period.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Request as HttpRequest, Response};
use hyper::body::Incoming;
use jiff::Timestamp;
use serde_json::Value;

use super::Api;
use super::handlers::filter;
use super::http::{Body, json_of};
use super::objects::short_name;
use super::request::{Query, ResourceRequest};
use super::resource::Kind;
use super::status::ApiStatus;
use super::store::View;
use super::write::{WriteOptions, pod_file, read_body, send};
use crate::engine::request::Request;
use crate::engine::snapshot::PodView;

/// The grace period asked for: the query's `gracePeriodSeconds`, else the `DeleteOptions` body's.
fn grace_period(query: &Query, body: &[u8]) -> Result<Option<i64>, ApiStatus> {
    if let Some(g) = query.int("gracePeriodSeconds")? {
        return Ok(Some(g));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiStatus::bad_request(format!("the DeleteOptions body is not valid JSON: {e}"))
    })?;
    Ok(v.get("gracePeriodSeconds").and_then(Value::as_i64))
}

/// The desired pod `name` (or `<name>-<node>`) of `namespace`.
fn pod_view<'a>(view: &'a View, namespace: &str, name: &str) -> Option<&'a Arc<PodView>> {
    let node = view.node_name().to_string();
    view.pod_views().into_iter().find(|p| {
        p.desired
            && p.namespace == namespace
            && (p.name == name || short_name(&p.name, &node) == name)
    })
}

/// The text of `text` without the YAML document that holds line `line` (1-based), and how many documents
/// with content are left. Documents are split at `---` lines, which YAML allows only at the start of a line.
pub fn without_document(text: &str, line: usize) -> (String, usize) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_sep = |l: &str| {
        let t = l.trim_end();
        t == "---" || t.starts_with("--- ")
    };
    let mut docs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if is_sep(l) {
            docs.push((start, i));
            start = i;
        }
    }
    docs.push((start, lines.len()));
    let target = line.saturating_sub(1);
    let hit = docs
        .iter()
        .position(|&(s, e)| target >= s && target < e)
        .unwrap_or(docs.len() - 1);
    let keep: Vec<(usize, usize)> = docs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != hit)
        .map(|(_, d)| *d)
        .collect();
    let left = keep
        .iter()
        .filter(|(s, e)| {
            lines[*s..*e]
                .iter()
                .any(|l| !is_sep(l) && !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .count();
    let mut out: String = keep
        .iter()
        .flat_map(|(s, e)| lines[*s..*e].iter().copied())
        .collect();
    // The first document kept may now start with the separator of the removed one's successor: fine in YAML.
    if hit == 0 && out.starts_with("---") && !text.starts_with("---") {
        out = out
            .split_once('\n')
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
    }
    (out, left)
}

/// How deleting pod `p` of node `node` changes its manifest: the file goes to the trash when it holds no
/// other pod, else it is saved without the pod's document (the previous version backed up). The file is read
/// now and the document found by the pod's name in it (a delete just before may have moved it; the line the
/// engine last saw is the fallback for a file that no longer parses). Shared by `DELETE` and `podtui delete`.
pub fn removal(p: &PodView, node: &str) -> Result<Request, ApiStatus> {
    let file = pod_file(&p.source)?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| ApiStatus::internal(format!("cannot read {}: {e}", file.display())))?;
    let absolute = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
    let parsed = crate::manifest::parse_manifest(&crate::manifest::ParseInput {
        display: &p.source,
        text: &text,
        format: crate::manifest::Format::from_path(&file),
        node_name: node,
        source: &crate::manifest::SourceId::File(absolute.to_string_lossy().into_owned()),
    });
    let line = parsed
        .pods
        .iter()
        .find(|d| d.name == p.name && d.namespace == p.namespace)
        .and_then(|d| d.line)
        .or(p.line)
        .unwrap_or(1);
    let (rest, left) = without_document(&text, line);
    if left == 0 {
        return Ok(Request::DeleteManifest { path: file });
    }
    Ok(Request::SaveManifest {
        path: file,
        text: rest,
    })
}

/// Removes one pod from its file (see [`removal`]). `Ok(())` once the engine has the write.
async fn remove(api: &Api, view: &View, p: &PodView, grace: Option<i64>) -> Result<(), ApiStatus> {
    let name = short_name(&p.name, view.node_name()).to_string();
    let change = removal(p, view.node_name())?;
    if let (Some(g), Some(requests)) = (grace, &api.requests) {
        // Another period replaces the pod's own; 0 (`--force --grace-period=0`) stops it with SIGKILL at once
        // (a kill would restart it first).
        requests
            .send(Request::TerminatePod {
                uid: p.uid.clone(),
                grace_seconds: u32::try_from(g.max(0)).unwrap_or(u32::MAX),
            })
            .await;
    }
    send(api, &name, change).await?;
    Ok(())
}

/// The pod as it terminates: its deletion time and grace period set.
fn terminating(view: &View, p: &PodView, served_as: &str, grace: Option<i64>) -> Value {
    let mut v: Value = view
        .object(Kind::Pod, &p.namespace, &p.name)
        .and_then(|o| serde_json::from_slice(&o.named_as(served_as).to_json()).ok())
        .unwrap_or(Value::Null);
    let grace = grace.unwrap_or_else(|| {
        p.pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .unwrap_or(30)
    });
    if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        let at = Timestamp::now() + jiff::SignedDuration::from_secs(grace.max(0));
        md.insert(
            "deletionTimestamp".into(),
            Value::String(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        md.insert("deletionGracePeriodSeconds".into(), Value::from(grace));
    }
    v
}

/// Answers a delete of one pod.
pub async fn delete(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let opts = WriteOptions::parse(query)?;
    let (_, body) = read_body(req).await?;
    let grace = grace_period(query, &body)?;
    let view = api.store.view();
    let name = r.name.clone().unwrap_or_default();
    let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
    let p = pod_view(&view, &ns, &name).ok_or_else(|| ApiStatus::not_found("pods", &name))?;
    let answer = terminating(&view, p, &name, grace);
    if !opts.dry_run {
        remove(api, &view, p, grace).await?;
    }
    Ok(json_of(200, &answer))
}

/// Answers a delete of every pod the selectors match.
pub async fn delete_collection(
    api: &Api,
    r: &ResourceRequest,
    req: HttpRequest<Incoming>,
    query: &Query,
) -> Result<Response<Body>, ApiStatus> {
    let opts = WriteOptions::parse(query)?;
    let (_, body) = read_body(req).await?;
    let grace = grace_period(query, &body)?;
    let f = filter(Kind::Pod, r, query)?;
    let view = api.store.view();
    let node = view.node_name().to_string();
    let mut items = Vec::new();
    let mut by_file: BTreeMap<String, Vec<Arc<PodView>>> = BTreeMap::new();
    for o in view
        .objects(Kind::Pod)
        .into_iter()
        .filter(|o| f.matches(&o.fields(&node)))
    {
        if let Some(p) = pod_view(&view, o.namespace(), o.name()) {
            items.push(terminating(&view, p, &p.name, grace));
            by_file.entry(p.source.clone()).or_default().push(p.clone());
        }
    }
    if !opts.dry_run {
        for pods in by_file.values() {
            // One at a time: each removal reads the file the previous one wrote.
            for p in pods {
                let now = api.store.view();
                remove(api, &now, p, grace).await?;
                wait_written(api, p).await;
            }
        }
    }
    Ok(json_of(
        200,
        &serde_json::json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": view.rv.to_string()}, "items": items}),
    ))
}

/// Waits (up to 5 s) until the engine no longer desires `p`, so the next write to its file starts from the
/// file as it is now.
async fn wait_written(api: &Api, p: &PodView) {
    let mut rx = api.store.subscribe();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while api
        .store
        .view()
        .pod_views()
        .iter()
        .any(|o| o.uid == p.uid && o.desired)
    {
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_just_one_document() {
        let text = "# pods\napiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod # b\n---\nkind: Pod # c\n";
        assert_eq!(
            without_document(text, 6),
            (
                "# pods\napiVersion: v1\nkind: Pod\n---\nkind: Pod # c\n".to_string(),
                2
            )
        );
        assert_eq!(
            without_document(text, 2),
            (
                "apiVersion: v1\nkind: Pod # b\n---\nkind: Pod # c\n".to_string(),
                2
            )
        );
        assert_eq!(
            without_document(text, 8),
            (
                "# pods\napiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod # b\n"
                    .to_string(),
                2
            )
        );
    }

    #[test]
    fn grace_from_query_or_body() {
        let q = Query::parse(Some("gracePeriodSeconds=0"));
        assert_eq!(grace_period(&q, b"").unwrap(), Some(0));
        let q = Query::parse(None);
        assert_eq!(
            grace_period(&q, br#"{"gracePeriodSeconds":5}"#).unwrap(),
            Some(5)
        );
        assert_eq!(
            grace_period(&q, br#"{"propagationPolicy":"Background"}"#).unwrap(),
            None
        );
    }
}
