//! `podtui logs POD [PATH] [-c CONTAINER] [-f] [--previous] [--timestamps] [--tail N]`, like kubectl logs,
//! read straight from Docker (the containers are found by their labels). `-c POD` reads the pause container.

use std::io::Write;

use futures_util::StreamExt;

use crate::cli::LogsArgs;
use crate::config::Common;
use crate::runtime::labels;
use crate::runtime::observe::{InspectCache, Role, list_pod_uids, observe_pod};
use crate::runtime::{ContainerRuntime, DockerRuntime, LogOptions};

/// Runs `logs`; returns the exit code.
pub async fn run(args: &LogsArgs, common: &Common) -> i32 {
    match logs(args, common).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podtui logs: {e}");
            1
        }
    }
}

async fn logs(args: &LogsArgs, common: &Common) -> Result<(), String> {
    let rt = DockerRuntime::connect()
        .await
        .map_err(|e| format!("cannot reach Docker: {e}"))?;
    let (ns, name) = match args.pod.split_once('/') {
        Some((ns, n)) => (ns.to_string(), n.to_string()),
        None => ("default".to_string(), args.pod.clone()),
    };
    let suffixed = format!("{name}-{}", common.node_name);
    let pods = list_pod_uids(&rt, &common.node_name)
        .await
        .map_err(|e| e.to_string())?;
    let mut matching: Vec<(&String, &crate::runtime::observe::OwnedPod)> = pods
        .iter()
        .filter(|(_, p)| p.namespace == ns && (p.name == name || p.name == suffixed))
        .collect();
    matching.sort_by_key(|(_, p)| std::cmp::Reverse(p.containers));
    let Some((uid, _)) = matching.first() else {
        return Err(format!(
            "pod {ns}/{name} not found on node {} (is it running?)",
            common.node_name
        ));
    };
    let observed = observe_pod(&rt, &common.node_name, uid, &mut InspectCache::default())
        .await
        .map_err(|e| e.to_string())?;
    let instances: Vec<&crate::runtime::observe::ObservedContainer> =
        match args.container.as_deref() {
            Some(labels::SANDBOX_CONTAINER_NAME) => observed.sandboxes.iter().rev().collect(),
            Some(c) => observed.instances(c),
            None => {
                let mut apps: Vec<&str> = observed
                    .containers
                    .iter()
                    .filter(|i| i.role == Role::App)
                    .map(|i| i.name.as_str())
                    .collect();
                apps.sort();
                apps.dedup();
                let Some(first) = apps.first().copied() else {
                    return Err("the pod has no app container yet".into());
                };
                if apps.len() > 1 {
                    eprintln!(
                        "Defaulted container \"{first}\" out of: {}",
                        apps.join(", ")
                    );
                }
                observed.instances(first)
            }
        };
    let idx = usize::from(args.previous);
    let Some(inst) = instances.get(idx) else {
        return Err(if args.previous {
            "previous terminated container not found".into()
        } else {
            format!(
                "container {:?} not found in pod {ns}/{name}",
                args.container.clone().unwrap_or_default()
            )
        });
    };
    let opts = LogOptions {
        follow: args.follow && !args.previous,
        timestamps: args.timestamps,
        tail: args.tail,
        since: None,
    };
    // stdout and stderr both go to stdout, in the order the container wrote them, as kubectl logs prints them.
    let mut stream = rt.logs(&inst.id, opts);
    let mut stdout = std::io::stdout();
    while let Some(item) = stream.next().await {
        let chunk = item.map_err(|e| e.to_string())?;
        if stdout.write_all(&chunk.bytes).is_err() {
            return Ok(());
        }
        let _ = stdout.flush();
    }
    Ok(())
}
