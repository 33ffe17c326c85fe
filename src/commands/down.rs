//! `podtui down [PATH] [--all]`: terminates the pods of PATH (or, with `--all`, every pod of this node name)
//! with their grace periods, in parallel, and removes their volumes. It uses the pod worker's own termination.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::cli::DownArgs;
use crate::config::Common;
use crate::engine::backoff::BackoffConfig;
use crate::engine::server::fetch_snapshot;
use crate::engine::worker::{OrphanIdentity, PauseImage, PodWorker, WorkerReport, WorkerSettings};
use crate::manifest::read_once;
use crate::runtime::DockerRuntime;
use crate::runtime::observe::list_pod_uids;

/// Runs `down`; returns the exit code.
pub async fn run(args: &DownArgs, common: &Common) -> i32 {
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podtui down: cannot reach Docker: {e}");
            return 1;
        }
    };
    let in_docker = match list_pod_uids(&rt, &common.node_name).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("podtui down: {e}");
            return 1;
        }
    };
    let targets: HashMap<String, crate::runtime::observe::OwnedPod> = if args.all {
        in_docker
    } else {
        let desired = match read_once(&common.sources(Some(&args.path))).await {
            Ok(d) => d,
            Err(e) => {
                eprintln!("podtui down: {e}");
                return 2;
            }
        };
        let keys: Vec<String> = desired.pods.values().map(|p| p.key()).collect();
        let sources: Vec<String> = desired.files.iter().map(|f| f.path.clone()).collect();
        in_docker
            .into_iter()
            .filter(|(uid, p)| {
                desired.pods.contains_key(uid)
                    || keys.contains(&format!("{}/{}", p.namespace, p.name))
                    || sources.contains(&p.source)
            })
            .collect()
    };
    if let Some(snap) = fetch_snapshot(&common.state_dir).await {
        // The engine would start them again at once (and restart counts would reset): the user must stop it
        // first, or quit the TUI with Q, which brings the pods down through the engine.
        eprintln!(
            "podtui down: a podtui engine (pid {}) is running for {}; it would start these pods again. Stop it first (Q in the TUI quits and brings every pod down), then run down again.",
            snap.pid,
            common.state_dir.display()
        );
        return 1;
    }
    if targets.is_empty() {
        eprintln!("no pods to remove");
        return 0;
    }
    let settings = Arc::new(WorkerSettings {
        node: common.node_name.clone(),
        host_port_address: std::net::IpAddr::from([127, 0, 0, 1]),
        backoff: BackoffConfig::default(),
        pause: PauseImage::Own,
        termination_dir: Some(common.state_dir.join("termination")),
        probe_via: None,
        subpath_dir: Some(common.state_dir.join("subpaths")),
    });
    let (_rt_tx, rt_rx) = watch::channel(Some(rt));
    let (report_tx, mut report_rx) = mpsc::unbounded_channel();
    let mut inboxes = Vec::new();
    for (uid, p) in &targets {
        eprintln!(
            "terminating {}/{} (grace {}s)",
            p.namespace,
            p.name,
            p.grace_seconds.unwrap_or(30).max(2)
        );
        let (tx, rx) = mpsc::unbounded_channel();
        inboxes.push(tx.clone());
        let orphan = OrphanIdentity {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            source: p.source.clone(),
            grace_seconds: p.grace_seconds,
        };
        let w = PodWorker::new(
            uid.clone(),
            None,
            Some(orphan),
            settings.clone(),
            rt_rx.clone(),
            (tx.clone(), rx),
            report_tx.clone(),
        );
        tokio::spawn(w.run());
    }
    drop(report_tx);
    let mut left = targets.len();
    while let Some(r) = report_rx.recv().await {
        if let WorkerReport::Gone { uid } = r {
            left -= 1;
            if let Some(p) = targets.get(&uid) {
                eprintln!("pod {}/{} removed", p.namespace, p.name);
            }
            if left == 0 {
                break;
            }
        }
    }
    drop(inboxes);
    if left == 0 { 0 } else { 1 }
}
