//! `podtui logs POD [PATH] [-c CONTAINER] [-f] [--previous] [--timestamps] [--tail N]`, like kubectl logs,
//! read straight from Docker (the containers are found by their labels). `-c POD` reads the pause container.

use std::io::Write;

use futures_util::StreamExt;

use crate::api::logs::DEFAULT_CONTAINER_ANNOTATION;
use crate::cli::LogsArgs;
use crate::config::Common;
use crate::runtime::labels;
use crate::runtime::observe::{InspectCache, ObservedPod, Role, list_pod_uids, observe_pod};
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
                let (first, note) = default_container_of(&observed)?;
                if let Some(note) = note {
                    eprintln!("{note}");
                }
                observed.instances(&first)
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

/// The container kubectl picks when none is named (`logs`, `exec`): the
/// `kubectl.kubernetes.io/default-container` annotation's, else the first app container in spec order. With
/// it, the note kubectl prints when it picked one of several ("Defaulted container …").
pub fn default_container_of(observed: &ObservedPod) -> Result<(String, Option<String>), String> {
    let annotation = observed
        .latest_sandbox()
        .and_then(|s| {
            s.labels
                .get(&format!("annotation.{DEFAULT_CONTAINER_ANNOTATION}"))
        })
        .map(String::as_str);
    let apps: Vec<(&str, Option<jiff::Timestamp>)> = observed
        .containers
        .iter()
        .filter(|i| i.role == Role::App)
        .map(|i| (i.name.as_str(), first_sign(i)))
        .collect();
    let apps = spec_order(&apps);
    let Some(first) = default_container(annotation, &apps) else {
        return Err("the pod has no app container yet".into());
    };
    let note = (annotation != Some(first) && apps.len() > 1).then(|| {
        format!(
            "Defaulted container \"{first}\" out of: {}",
            apps.join(", ")
        )
    });
    Ok((first.to_string(), note))
}

/// When an instance showed it was there in the pod's order: its start (the engine starts a pod's containers one
/// after another in spec order, though it may create them ahead all at once), else its creation.
fn first_sign(i: &crate::runtime::observe::ObservedContainer) -> Option<jiff::Timestamp> {
    use crate::runtime::observe::InstanceState;
    let started = match &i.state {
        InstanceState::Running { started_at, .. } | InstanceState::Exited { started_at, .. } => {
            *started_at
        }
        _ => None,
    };
    started.or(i.created)
}

/// App container names in the pod spec's order: a name's first instance's [`first_sign`] orders the names
/// (names with no time go last).
fn spec_order<'a>(instances: &[(&'a str, Option<jiff::Timestamp>)]) -> Vec<&'a str> {
    let mut first: Vec<(&'a str, Option<jiff::Timestamp>)> = Vec::new();
    for &(name, created) in instances {
        match first.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => {
                entry.1 = match (entry.1, created) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            None => first.push((name, created)),
        }
    }
    first.sort_by_key(|&(_, t)| (t.is_none(), t));
    first.into_iter().map(|(n, _)| n).collect()
}

/// The container `logs` reads when none is named: the `kubectl.kubernetes.io/default-container`
/// annotation's if the pod has it, else the first app container, as kubectl picks it.
fn default_container<'a>(annotation: Option<&str>, apps: &[&'a str]) -> Option<&'a str> {
    annotation
        .and_then(|a| apps.iter().copied().find(|n| *n == a))
        .or_else(|| apps.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Option<jiff::Timestamp> {
        Some(jiff::Timestamp::from_second(1_700_000_000 + s).unwrap())
    }

    #[test]
    fn the_first_container_of_the_spec_not_of_the_alphabet() {
        // nginx was created first (spec order), log-truncator second and restarted since.
        let apps = spec_order(&[
            ("log-truncator", at(5)),
            ("nginx", at(1)),
            ("log-truncator", at(90)),
        ]);
        assert_eq!(apps, vec!["nginx", "log-truncator"]);
        assert_eq!(default_container(None, &apps), Some("nginx"));
    }

    #[test]
    fn the_default_container_annotation_wins() {
        let apps = ["nginx", "log-truncator"];
        assert_eq!(
            default_container(Some("log-truncator"), &apps),
            Some("log-truncator")
        );
        assert_eq!(default_container(Some("gone"), &apps), Some("nginx"));
        assert_eq!(default_container(None, &[]), None);
    }
}
