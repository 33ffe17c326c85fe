//! `podtui down [PATH] [--all]`: terminates the pods of PATH (or, with `--all`, every pod of this node name this
//! state dir's engine created) with their grace periods, in parallel, and removes their volumes. It uses the pod worker's own termination.
//!
//! `down` removes only pods this state dir's engine created; another engine's pods on the same node name are
//! listed and left alone. It holds the state dir's lock while it works (refusing while an engine runs there),
//! and the node's lease when it is free, so that no engine starts on the node meanwhile. Pods older than engine
//! labels belong to whoever holds the node: `down` removes them only when it holds the lease.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::cli::DownArgs;
use crate::config::Common;
use crate::engine::backoff::BackoffConfig;
use crate::engine::lease::{Claim, NodeLease};
use crate::engine::lock::EngineLock;
use crate::engine::server::fetch_snapshot;
use crate::engine::worker::{OrphanIdentity, PauseImage, PodWorker, WorkerReport, WorkerSettings};
use crate::manifest::read_once;
use crate::runtime::observe::{OwnedPod, list_pod_uids};
use crate::runtime::{DockerRuntime, Runtime};
use crate::text::escape_controls;

/// Runs `down`; returns the exit code.
pub async fn run(args: &DownArgs, common: &Common) -> i32 {
    let rt = match DockerRuntime::connect().await {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("podtui down: cannot reach Docker: {e}");
            return 1;
        }
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
    // Hold the state dir (and the node, if free) as an engine does, so that no engine starts meanwhile.
    let lock = match EngineLock::acquire(&common.state_dir, &common.node_name) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("podtui down: {e}");
            return 1;
        }
    };
    let lease = NodeLease::new(&lock, &common.node_name);
    let holding = match lease.acquire(&rt).await {
        Ok(Claim::Held { .. }) => true,
        Ok(Claim::Refused(held)) => {
            eprintln!(
                "podtui down: node {} is held by another podtui engine ({}): removing only pods this state dir's engine created",
                common.node_name, held.holder
            );
            false
        }
        Err(e) => {
            eprintln!("podtui down: {e}");
            return 1;
        }
    };
    let code = down_own_pods(args, common, &rt, &lock.engine_id(), holding).await;
    if holding && let Err(e) = lease.release(&rt).await {
        eprintln!(
            "podtui down: releasing the lease of node {}: {e}",
            common.node_name
        );
    }
    code
}

/// Terminates the targeted pods that engine `engine` created (and, when `holding` the node, those older than
/// engine labels).
async fn down_own_pods(
    args: &DownArgs,
    common: &Common,
    rt: &DockerRuntime,
    engine: &str,
    holding: bool,
) -> i32 {
    let in_docker = match list_pod_uids(rt, &common.node_name).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("podtui down: {e}");
            return 1;
        }
    };
    let targets = match targets(args, common, in_docker).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (targets, others): (HashMap<String, OwnedPod>, HashMap<String, OwnedPod>) =
        targets.into_iter().partition(|(_, p)| {
            if holding {
                p.created_by(engine)
            } else {
                p.labelled_by(engine)
            }
        });
    for p in others.values() {
        eprintln!(
            "leaving {}/{} alone: another podtui engine (another --state-dir) created it",
            p.namespace, p.name
        );
    }
    if targets.is_empty() {
        eprintln!("no pods to remove");
        return 0;
    }
    terminate(common, rt, targets).await
}

/// The pods of the node `down` was asked for: all (`--all`), or those of PATH's manifests.
async fn targets(
    args: &DownArgs,
    common: &Common,
    in_docker: HashMap<String, OwnedPod>,
) -> Result<HashMap<String, OwnedPod>, i32> {
    if args.all {
        return Ok(in_docker);
    }
    let desired = match read_once(&common.sources(Some(&args.path))).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("podtui down: {e}");
            return Err(2);
        }
    };
    let keys: Vec<String> = desired.pods.values().map(|p| p.key()).collect();
    let sources: Vec<String> = desired.files.iter().map(|f| f.path.clone()).collect();
    Ok(in_docker
        .into_iter()
        .filter(|(uid, p)| {
            desired.pods.contains_key(uid)
                || keys.contains(&format!("{}/{}", p.namespace, p.name))
                || sources.contains(&p.source)
        })
        .collect())
}

/// Terminates `targets` in parallel with the pod worker's termination; 0 when every one is gone.
async fn terminate(common: &Common, rt: &DockerRuntime, targets: HashMap<String, OwnedPod>) -> i32 {
    let settings = Arc::new(WorkerSettings {
        node: common.node_name.clone(),
        host_port_address: std::net::IpAddr::from([127, 0, 0, 1]),
        backoff: BackoffConfig::default(),
        pause: PauseImage::Own,
        termination_dir: Some(common.state_dir.join("termination")),
        probe_via: None,
        subpath_dir: Some(common.state_dir.join("subpaths")),
    });
    let runtime: Runtime = Arc::new(rt.clone());
    let (_rt_tx, rt_rx) = watch::channel(Some(runtime));
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
    let mut failures: HashMap<String, u32> = HashMap::new();
    let mut given_up = std::collections::HashSet::new();
    while let Some(r) = report_rx.recv().await {
        match r {
            WorkerReport::Gone { uid } => {
                left -= 1;
                if let Some(p) = targets.get(&uid) {
                    eprintln!("pod {}/{} removed", p.namespace, p.name);
                    given_up.remove(&format!("{}/{}", p.namespace, p.name));
                }
            }
            // A step the engine refused: said at once, and after a few the pod is given up on (its worker ends
            // with `down`), so that no removal is retried silently forever.
            WorkerReport::Event { pod, event } if event.reason == "FailedSync" => {
                eprintln!("pod {pod}: {}", escape_controls(&event.message));
                let n = failures.entry(pod.clone()).or_default();
                *n += 1;
                if *n == DOWN_ATTEMPTS {
                    eprintln!(
                        "pod {pod} not removed: giving up after {DOWN_ATTEMPTS} failed attempts"
                    );
                    given_up.insert(pod);
                }
            }
            _ => {}
        }
        if left == given_up.len() {
            break;
        }
    }
    drop(inboxes);
    if left == 0 { 0 } else { 1 }
}

/// How many failed attempts at removing one pod `down` makes (about 15 s of retries) before giving up on it.
const DOWN_ATTEMPTS: u32 = 4;
