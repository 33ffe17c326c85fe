//! `podtui describe [pod] POD [PATH]`: `kubectl describe pod`'s text (see [`crate::describe`]) of a pod, from
//! the running engine's snapshot (with its events), else derived from Docker and the manifests as `get` derives
//! it (no events then: the engine records them).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::DescribeArgs;
use crate::config::Common;
use crate::engine::snapshot::PodView;

/// `pod`, `pods` or `po` before the name, as kubectl takes it.
const KIND_WORDS: [&str; 3] = ["pod", "pods", "po"];

/// True for `pod`, `pods` or `po`, the kind kubectl takes before a name.
pub fn is_kind_word(word: &str) -> bool {
    KIND_WORDS.contains(&word)
}

/// `name` without a `pod/`, `pods/` or `po/` in front, as kubectl takes a name.
pub fn without_kind(name: &str) -> &str {
    KIND_WORDS
        .iter()
        .find_map(|k| name.strip_prefix(k).and_then(|r| r.strip_prefix('/')))
        .unwrap_or(name)
}

/// The pod and the manifest path the words name: `[pod] POD [PATH]`, POD also as `pod/POD`.
pub fn pod_and_path(words: &[String]) -> Result<(String, Option<PathBuf>), String> {
    let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
    if words.len() > 1 && is_kind_word(words[0]) {
        words.remove(0);
    }
    let (pod, path) = match words.as_slice() {
        [pod] => (*pod, None),
        [pod, path] => (*pod, Some(PathBuf::from(path))),
        _ => return Err("usage: podtui describe [pod] POD [PATH]".into()),
    };
    Ok((without_kind(pod).to_string(), path))
}

/// The pod `arg` (`name` or `namespace/name`, with or without the `-<node>` suffix) among `pods`; a desired
/// pod before one being removed.
pub fn find<'a>(pods: &'a [Arc<PodView>], arg: &str, node: &str) -> Option<&'a Arc<PodView>> {
    let (ns, name) = arg.split_once('/').unwrap_or(("default", arg));
    let suffixed = format!("{name}-{node}");
    let mut matching: Vec<&Arc<PodView>> = pods
        .iter()
        .filter(|p| p.namespace == ns && (p.name == name || p.name == suffixed))
        .collect();
    matching.sort_by_key(|p| !p.desired);
    matching.into_iter().next()
}

/// Runs `describe`; returns the exit code.
pub async fn run(
    args: &DescribeArgs,
    common: &Common,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let (pod, path) = match pod_and_path(&args.words) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("podtui describe: {e}");
            return Ok(2);
        }
    };
    let path = path
        .or_else(|| std::env::var_os("PODTUI_PATH").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./manifests"));
    let (pods, derived, _) = match super::get::pods(&path, common).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("podtui describe: {e}");
            return Ok(1);
        }
    };
    let Some(p) = find(&pods, &pod, &common.node_name) else {
        eprintln!(
            "podtui describe: pod {pod} not found on node {}",
            common.node_name
        );
        return Ok(1);
    };
    out.write_all(
        crate::describe::pod_view(p, &common.node_name, jiff::Timestamp::now()).as_bytes(),
    )?;
    if derived {
        eprintln!(
            "note: no podtui engine is running for this state dir: events are recorded by the engine, so none are shown"
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kubectl_s_ways_of_naming_the_pod() {
        for w in [
            &["nginx"][..],
            &["pod", "nginx"],
            &["pods", "nginx"],
            &["pod/nginx"],
            &["po", "pod/nginx"],
        ] {
            assert_eq!(
                pod_and_path(&words(w)).unwrap(),
                ("nginx".into(), None),
                "{w:?}"
            );
        }
        assert_eq!(
            pod_and_path(&words(&["pod", "nginx", "m"])).unwrap(),
            ("nginx".into(), Some(PathBuf::from("m")))
        );
        assert_eq!(
            pod_and_path(&words(&["nginx", "m"])).unwrap(),
            ("nginx".into(), Some(PathBuf::from("m")))
        );
        // A pod named "pod" still works alone.
        assert_eq!(pod_and_path(&words(&["pod"])).unwrap().0, "pod");
    }
}
