//! `podtui get pods [PATH] [-o wide|json|yaml]`: kubectl's columns (wide adds the container engine). From the running engine's snapshot when an
//! engine answers on the state dir's socket; otherwise derived from Docker and the manifests (then back-off and
//! readiness are unknown, and a note says so).

use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::cli::{GetArgs, GetOutput};
use crate::config::Common;
use crate::engine::DockerState;
use crate::engine::pod_view::derive;
use crate::engine::server::fetch_snapshot;
use crate::engine::snapshot::PodView;
use crate::engine::status::restarts_text;
use crate::manifest::read_once;
use crate::runtime::observe::{InspectCache, list_pod_uids, observe_pod};
use crate::runtime::{ContainerRuntime, DockerRuntime, EngineInfo};
use crate::text::human_duration;
use crate::text::{display_path, escape_controls};

/// Pods as the engine reports them, or derived, and the container engine that runs them (when known). The bool
/// is true when derived without an engine.
pub async fn pods(
    path: &std::path::Path,
    common: &Common,
) -> Result<(Vec<Arc<PodView>>, bool, Option<EngineInfo>), String> {
    if let Some(snap) = fetch_snapshot(&common.state_dir).await
        && snap.node_name == common.node_name
    {
        let engine = match &snap.docker {
            DockerState::Connected(i) => Some(i.clone()),
            _ => None,
        };
        return Ok((snap.pods, false, engine));
    }
    let desired = read_once(&common.sources(Some(path)))
        .await
        .map_err(|e| e.to_string())?;
    let rt = DockerRuntime::connect()
        .await
        .map_err(|e| format!("cannot reach Docker: {e}"))?;
    let host_ip = rt.info().host_ip.clone();
    let mut out = Vec::new();
    let mut cache = InspectCache::default();
    for dp in desired.pods.values() {
        let observed = observe_pod(&rt, &common.node_name, &dp.uid, &mut cache)
            .await
            .map_err(|e| e.to_string())?;
        out.push(Arc::new(derive(dp, &observed, host_ip.clone())));
    }
    let others = list_pod_uids(&rt, &common.node_name)
        .await
        .map(|m| m.keys().filter(|u| !desired.pods.contains_key(*u)).count())
        .unwrap_or(0);
    if others > 0 {
        eprintln!(
            "note: {others} other pod(s) of node {} are in Docker but not in {} (podtui run would remove them)",
            common.node_name,
            display_path(path)
        );
    }
    out.sort_by(|a, b| a.namespace.cmp(&b.namespace).then(a.name.cmp(&b.name)));
    Ok((out, true, Some(rt.info().clone())))
}

/// Renders rows as kubectl does: columns padded to their widest cell, three spaces apart.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let n = cells.len();
        for (i, c) in cells.into_iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 3));
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// kubectl's NAME READY STATUS RESTARTS AGE (wide: IP NODE FILE) rows.
pub fn rows(pods: &[Arc<PodView>], node: &str, wide: bool, now: Timestamp) -> Vec<Vec<String>> {
    pods.iter()
        .map(|p| {
            let mut r = vec![
                p.name.clone(),
                p.columns.ready.clone(),
                p.columns.status.clone(),
                restarts_text(&p.columns, now),
                p.start_time()
                    .map(|t| human_duration(now.duration_since(t)))
                    .unwrap_or_else(|| "<unknown>".into()),
            ];
            if wide {
                r.push(p.ip().unwrap_or("<none>").to_string());
                r.push(node.to_string());
                r.push(if p.source.is_empty() {
                    "<none>".into()
                } else {
                    p.source_label(pods)
                });
            }
            r
        })
        .collect()
}

/// Runs `get`; returns the exit code.
pub async fn run(args: &GetArgs, common: &Common, out: &mut dyn Write) -> std::io::Result<i32> {
    let (pods, derived, engine) = match pods(&args.path, common).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("podtui get: {}", escape_controls(&e));
            return Ok(1);
        }
    };
    if derived {
        eprintln!(
            "note: no podtui engine is running for state dir {}: status is derived from Docker and the manifests; back-off and readiness are unknown (running containers count as ready)",
            display_path(&common.state_dir)
        );
    }
    match args.output {
        Some(GetOutput::Json) | Some(GetOutput::Yaml) => {
            let items: Vec<Pod> = pods.iter().map(|p| p.pod.clone()).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
            if args.output == Some(GetOutput::Json) {
                serde_json::to_writer_pretty(&mut *out, &list)?;
                writeln!(out)?;
            } else {
                let text = serde_yaml::to_string(&list).map_err(std::io::Error::other)?;
                out.write_all(text.as_bytes())?;
            }
        }
        other => {
            if pods.is_empty() {
                eprintln!("No resources found.");
                return Ok(0);
            }
            let wide = other == Some(GetOutput::Wide);
            let mut header = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            let mut rows = rows(&pods, &common.node_name, wide, Timestamp::now());
            if wide {
                // Which engine runs the pods, as a node's containerRuntimeVersion says it.
                header.extend(["IP", "NODE", "FILE", "ENGINE"]);
                let engine = engine.map_or_else(|| "<unknown>".into(), |i| i.runtime_version());
                for r in &mut rows {
                    r.push(engine.clone());
                }
            }
            out.write_all(table(&header, &rows).as_bytes())?;
        }
    }
    Ok(0)
}
