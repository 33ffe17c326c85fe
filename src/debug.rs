//! Debug containers, `kubectl debug -it POD --image=… --target=C` for podtui's pods: a temporary container that
//! joins the pod's network and IPC namespaces (the sandbox's) and, with a target, the target container's PID
//! namespace, so its tools see the pod's localhost and the target's processes.
//!
//! It is named and labelled like the pod's containers (`k8s_debugger-xxxxx_<pod>_<ns>_<uid>_0`, the
//! `io.kubernetes.*` labels and podtui's node labels, so the pod view shows it and removing the pod removes it)
//! with the container kind `ephemeral` and [`EPHEMERAL`]: the engine's observation keeps such containers apart
//! ([`crate::runtime::observe::ObservedPod::ephemeral`]), so one is never adopted as an app container, never
//! restarted, and never counted in the pod's restart counts. Its main process only keeps it alive; the shell
//! (or the command) runs in it by exec, and [`remove`] ends it.

use futures_util::StreamExt;

use crate::forward::target::{self, PodRef};
use crate::runtime::observe::Role;
use crate::runtime::{ContainerConfig, ContainerRuntime, labels};

/// The image when none is given.
pub const DEFAULT_IMAGE: &str = "busybox:1";

/// Label marking a pod's ephemeral (debug) container, set to `true`.
pub const EPHEMERAL: &str = "dev.podtui.ephemeral";
/// Label naming the container whose process namespace a debug container shares.
pub const EPHEMERAL_TARGET: &str = "dev.podtui.ephemeral.target";
/// Label: the ephemeral container as the API was given it (JSON), served back as the pod's
/// `spec.ephemeralContainers` entry.
pub const EPHEMERAL_SPEC: &str = "dev.podtui.ephemeral.spec";
/// Label: the debug container was made with stdin open (`true`), as `kubectl debug -i` asks.
pub const EPHEMERAL_STDIN: &str = "dev.podtui.ephemeral.stdin";
/// Label: the debug container was made with a TTY (`true`), as `kubectl debug -t` asks.
pub const EPHEMERAL_TTY: &str = "dev.podtui.ephemeral.tty";

/// A started debug container.
#[derive(Clone, Debug)]
pub struct Debugger {
    /// Docker ID.
    pub id: String,
    /// Docker name (`k8s_debugger-…`).
    pub docker_name: String,
    /// Its container name in the pod (`debugger-xxxxx`).
    pub name: String,
    /// The pod's full name.
    pub pod: String,
}

/// What to start.
#[derive(Clone, Debug)]
pub struct DebugSpec {
    /// The pod.
    pub pod: PodRef,
    /// The container whose process namespace to share.
    pub target: Option<String>,
    /// The image.
    pub image: String,
    /// Its name in the pod (`None`: `debugger-xxxxx`).
    pub name: Option<String>,
    /// Its main process (`None`: a keep-alive loop, the shell runs by exec).
    pub process: Option<MainProcess>,
    /// The API's `EphemeralContainer` as JSON, kept in [`EPHEMERAL_SPEC`].
    pub api_spec: Option<String>,
}

impl DebugSpec {
    /// A debug container of `image` in `pod`, sharing `target`'s processes, whose shell runs by exec.
    pub fn new(pod: PodRef, target: Option<String>, image: String) -> Self {
        Self {
            pod,
            target,
            image,
            name: None,
            process: None,
            api_spec: None,
        }
    }
}

/// A debug container's own main process, as an ephemeral container of the API gives it (`kubectl debug -it`
/// attaches to it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MainProcess {
    /// The entrypoint (`None`: the image's).
    pub command: Option<Vec<String>>,
    /// Its arguments (`None`: the image's).
    pub args: Option<Vec<String>>,
    /// `NAME=value` environment.
    pub env: Vec<String>,
    /// Keep stdin open (`stdin: true`).
    pub stdin: bool,
    /// Allocate a TTY (`tty: true`).
    pub tty: bool,
}

/// Makes sure `image` is present: local, or pulled now. The error says when it is neither.
pub async fn ensure_image(rt: &dyn ContainerRuntime, image: &str) -> Result<(), String> {
    if rt.image_id(image).await.map_err(|e| e.message())?.is_some() {
        return Ok(());
    }
    let mut pull = rt.pull(image);
    while let Some(ev) = pull.next().await {
        let err = match ev {
            Ok(ev) => ev.error,
            Err(e) => Some(e.message()),
        };
        if let Some(err) = err {
            return Err(format!(
                "image {image:?} is not present locally and cannot be pulled: {err}"
            ));
        }
    }
    match rt.image_id(image).await.map_err(|e| e.message())? {
        Some(_) => Ok(()),
        None => Err(format!(
            "image {image:?} is not present locally and the pull did not bring it"
        )),
    }
}

fn suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0)
        ^ std::process::id().rotate_left(16);
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = nanos;
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u32) as usize] as char;
            n /= ALPHABET.len() as u32;
            c
        })
        .collect()
}

/// Starts a debug container for `spec`; it runs until [`remove`].
pub async fn start(rt: &dyn ContainerRuntime, spec: &DebugSpec) -> Result<Debugger, String> {
    let pod = target::resolve(rt, &spec.pod).await?;
    let target_id = match &spec.target {
        None => None,
        Some(t) => {
            let running = pod
                .observed
                .instances(t)
                .into_iter()
                .find(|i| i.role != Role::Sandbox && i.state.is_running());
            match running {
                Some(i) => Some(i.id.clone()),
                None => {
                    return Err(format!(
                        "container {t:?} of pod {} is not running (or does not exist)",
                        spec.pod
                    ));
                }
            }
        }
    };
    ensure_image(rt, &spec.image).await?;
    let name = spec
        .name
        .clone()
        .unwrap_or_else(|| format!("debugger-{}", suffix()));
    let ns = spec.pod.namespace.clone();
    let docker_name = labels::container_name(&name, &pod.name, &ns, &pod.uid, 0);
    let mut l = std::collections::HashMap::from([
        (labels::MANAGED.to_string(), "true".to_string()),
        (labels::NODE.to_string(), spec.pod.node.clone()),
        (labels::POD_NAME.to_string(), pod.name.clone()),
        (labels::POD_NAMESPACE.to_string(), ns),
        (labels::POD_UID.to_string(), pod.uid.clone()),
        (labels::CONTAINER_NAME.to_string(), name.clone()),
        (
            labels::DOCKER_TYPE.to_string(),
            labels::TYPE_CONTAINER.to_string(),
        ),
        (labels::SANDBOX_ID.to_string(), pod.sandbox_id.clone()),
        (
            labels::CONTAINER_KIND.to_string(),
            labels::KIND_EPHEMERAL.to_string(),
        ),
        (EPHEMERAL.to_string(), "true".to_string()),
    ]);
    if let Some(t) = &spec.target {
        l.insert(EPHEMERAL_TARGET.to_string(), t.clone());
    }
    let joined = format!("container:{}", pod.sandbox_id);
    let mut config = ContainerConfig {
        image: spec.image.clone(),
        entrypoint: Some(vec!["sh".into()]),
        cmd: Some(vec![
            "-c".into(),
            "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done".into(),
        ]),
        labels: l,
        network_mode: joined.clone(),
        ipc_mode: Some(joined),
        pid_mode: target_id.map(|id| format!("container:{id}")),
        no_healthcheck: true,
        ..Default::default()
    };
    if let Some(p) = &spec.process {
        config.entrypoint = p.command.clone();
        config.cmd = p.args.clone();
        config.env = p.env.clone();
        config.stdin = p.stdin;
        config.tty = p.tty;
        let flag = |on: bool| on.to_string();
        config.labels.insert(EPHEMERAL_STDIN.into(), flag(p.stdin));
        config.labels.insert(EPHEMERAL_TTY.into(), flag(p.tty));
    }
    if let Some(json) = &spec.api_spec {
        config.labels.insert(EPHEMERAL_SPEC.into(), json.clone());
    }
    let id = rt
        .create(&docker_name, config)
        .await
        .map_err(|e| e.message())?;
    if let Err(e) = rt.start(&id, &docker_name).await {
        let _ = rt.remove(&id).await;
        return Err(e.message());
    }
    Ok(Debugger {
        id,
        docker_name,
        name,
        pod: pod.name,
    })
}

/// Removes a debug container (killing it).
pub async fn remove(rt: &dyn ContainerRuntime, d: &Debugger) -> Result<(), String> {
    rt.remove(&d.id).await.map_err(|e| e.message())
}
