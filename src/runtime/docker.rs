//! The Docker engine, through bollard: connecting the way the docker CLI does, and the handful of calls the
//! engine makes. Every error says which operation on which object failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, CreateImageInfo, EventMessage,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, ListVolumesOptionsBuilder,
    LogsOptions, RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
    StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::Semaphore;

/// Timeout of quick calls (list, inspect, create): a hung engine is reported, not waited on forever.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A Docker call that failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine answered with an error or could not be reached.
    #[error("{op}: {message}")]
    Docker {
        /// What podtui was doing (`create container k8s_web_…`).
        op: String,
        /// Docker's message.
        message: String,
        /// HTTP status, when the engine answered.
        status: Option<u16>,
    },
    /// The call took longer than [`CALL_TIMEOUT`].
    #[error("{op}: the Docker engine did not answer within {secs}s", secs = CALL_TIMEOUT.as_secs())]
    Timeout {
        /// What podtui was doing.
        op: String,
    },
}

impl RuntimeError {
    fn from_bollard(op: impl Into<String>, e: BollardError) -> Self {
        let (message, status) = match &e {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => (message.clone(), Some(*status_code)),
            other => (error_chain(other), None),
        };
        RuntimeError::Docker {
            op: op.into(),
            message,
            status,
        }
    }

    /// The object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker {
                status: Some(404),
                ..
            }
        )
    }

    /// The object is in a state that does not allow the call, or the name is taken (409).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker {
                status: Some(409),
                ..
            }
        )
    }

    /// The engine did not answer at all (it is down or unreachable), as opposed to refusing a request.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker { status: None, .. } | RuntimeError::Timeout { .. }
        )
    }

    /// Docker's message alone.
    pub fn message(&self) -> String {
        match self {
            RuntimeError::Docker { message, .. } => message.clone(),
            RuntimeError::Timeout { .. } => "the Docker engine did not answer".into(),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = inner.source();
    }
    s
}

/// Result of a runtime call.
pub type RtResult<T> = Result<T, RuntimeError>;

async fn timed<T>(
    op: impl Into<String>,
    fut: impl Future<Output = Result<T, BollardError>>,
) -> RtResult<T> {
    let op = op.into();
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RuntimeError::from_bollard(op, e)),
        Err(_) => Err(RuntimeError::Timeout { op }),
    }
}

/// What the engine said about itself at connection time.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct EngineInfo {
    /// `DOCKER_HOST`, or the local socket.
    pub endpoint: String,
    /// Engine version (`20.10.24`).
    pub version: String,
    /// Negotiated API version (`1.41`).
    pub api_version: String,
    /// CPUs of the engine's host.
    pub cpus: i64,
    /// Memory of the engine's host, bytes.
    pub memory: i64,
    /// The docker0 bridge gateway (the host as seen from containers), if known.
    pub host_ip: Option<String>,
}

/// The endpoint podtui connects to, as the docker CLI picks it: `DOCKER_HOST`, else the local socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// How many container creates and starts the engine keeps in flight by default. dockerd, containerd and the
/// kernel (network namespaces, mounts) do much of a start one at a time, so more in flight only makes each
/// slower. Measured on 2 cores: 50 pods written at once start in the same ~13 s with 2, 4, 8 or unlimited in
/// flight; 200 pods start in 61 s with 8, but in 94 s unlimited, where 79 sandbox starts queued in dockerd past
/// the 30 s call timeout and were redone.
pub const DEFAULT_START_CONCURRENCY: usize = 8;

/// A connected Docker engine. Cheap to clone (clones share the start limit).
#[derive(Clone, Debug)]
pub struct DockerRuntime {
    docker: Docker,
    info: EngineInfo,
    /// Bounds creates and starts in flight, when set ([`DockerRuntime::limit_starts`]).
    starts: Option<Arc<Semaphore>>,
    /// The engine id stamped on every container and volume created ([`DockerRuntime::owned_by`]).
    owner: Option<Arc<str>>,
}

impl DockerRuntime {
    /// Connects the way the docker CLI does, negotiates the API version and reads the engine's version.
    pub async fn connect() -> RtResult<Self> {
        let ep = endpoint();
        let docker = Docker::connect_with_host(&ep)
            .map_err(|e| RuntimeError::from_bollard(format!("connect to {ep}"), e))?
            // Streams (logs, events) and long stops outlive the default 2-minute request timeout; quick calls
            // have their own timeout (CALL_TIMEOUT).
            .with_timeout(Duration::from_secs(3600));
        let docker = timed(
            format!("negotiate the API version with {ep}"),
            docker.negotiate_version(),
        )
        .await?;
        let version = timed(format!("read the version of {ep}"), docker.version()).await?;
        let sys = timed(format!("read the info of {ep}"), docker.info())
            .await
            .ok();
        let bridge = timed(
            "inspect the bridge network",
            docker.inspect_network(
                "bridge",
                None::<bollard::query_parameters::InspectNetworkOptions>,
            ),
        )
        .await
        .ok();
        let host_ip = bridge
            .and_then(|n| n.ipam)
            .and_then(|i| i.config)
            .and_then(|c| c.into_iter().find_map(|c| c.gateway));
        let info = EngineInfo {
            endpoint: ep,
            version: version.version.unwrap_or_default(),
            api_version: docker.client_version().to_string(),
            cpus: sys.as_ref().and_then(|s| s.ncpu).unwrap_or(1),
            memory: sys.as_ref().and_then(|s| s.mem_total).unwrap_or(0),
            host_ip,
        };
        Ok(Self {
            docker,
            info,
            starts: None,
            owner: None,
        })
    }

    /// Labels every container and volume created through this runtime (and its clones) as created by engine
    /// `engine` ([`super::labels::ENGINE`]), so that removals can be limited to what that engine created.
    pub fn owned_by(mut self, engine: &str) -> Self {
        self.owner = Some(Arc::from(engine));
        self
    }

    /// Keeps at most `n` container creates and starts in flight across every clone of this runtime; the
    /// call timeout counts from when a call gets its turn. The engine uses this; tests and tools that want raw
    /// calls do not.
    pub fn limit_starts(mut self, n: usize) -> Self {
        self.starts = Some(Arc::new(Semaphore::new(n.max(1))));
        self
    }

    /// Waits for a turn to create or start a container (immediately without a limit).
    async fn start_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match &self.starts {
            // The semaphore is never closed.
            Some(s) => s.acquire().await.ok(),
            None => None,
        }
    }

    /// What the engine said about itself.
    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    /// The bollard client, for streaming calls the engine module does not wrap (exec attach).
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Checks the engine answers.
    pub async fn ping(&self) -> RtResult<()> {
        timed("ping the Docker engine", self.docker.ping())
            .await
            .map(|_| ())
    }

    /// Containers (running or not) whose labels match every `key=value` in `labels`.
    pub async fn list_containers(&self, labels: &[String]) -> RtResult<Vec<ContainerSummary>> {
        let filters = HashMap::from([("label", labels.to_vec())]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        timed("list containers", self.docker.list_containers(Some(opts))).await
    }

    /// Full details of one container.
    pub async fn inspect(&self, id: &str) -> RtResult<ContainerInspectResponse> {
        timed(
            format!("inspect container {}", short(id)),
            self.docker.inspect_container(id, None),
        )
        .await
    }

    /// Creates a container named `name`; returns its ID.
    pub async fn create(&self, name: &str, mut body: ContainerCreateBody) -> RtResult<String> {
        if let Some(owner) = &self.owner {
            body.labels
                .get_or_insert_with(HashMap::new)
                .insert(super::labels::ENGINE.to_string(), owner.to_string());
        }
        let opts = CreateContainerOptionsBuilder::default().name(name).build();
        let _turn = self.start_turn().await;
        let resp = timed(
            format!("create container {name}"),
            self.docker.create_container(Some(opts), body),
        )
        .await?;
        Ok(resp.id)
    }

    /// Starts a created container.
    pub async fn start(&self, id: &str, name: &str) -> RtResult<()> {
        let _turn = self.start_turn().await;
        timed(
            format!("start container {name}"),
            self.docker.start_container(id, None),
        )
        .await
    }

    /// Stops a container: its stop signal, then SIGKILL after `grace`. A container already stopped or gone is fine.
    pub async fn stop(&self, id: &str, grace: Duration) -> RtResult<()> {
        // Whole seconds, rounded up: a grace period is never cut short.
        let secs = grace.as_millis().div_ceil(1000).max(1) as i32;
        let opts = StopContainerOptionsBuilder::default().t(secs).build();
        let op = format!("stop container {}", short(id));
        // The call itself lasts up to the grace period: no CALL_TIMEOUT here.
        match self.docker.stop_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = RuntimeError::from_bollard(op, e);
                if e.is_not_found()
                    || matches!(
                        e,
                        RuntimeError::Docker {
                            status: Some(304),
                            ..
                        }
                    )
                {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Sends `signal` to a running container.
    pub async fn kill(&self, id: &str, signal: &str) -> RtResult<()> {
        let opts = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        match timed(
            format!("kill container {}", short(id)),
            self.docker.kill_container(id, Some(opts)),
        )
        .await
        {
            Err(e) if e.is_not_found() || e.is_conflict() => Ok(()),
            other => other,
        }
    }

    /// Removes a container (forcibly: a running one is killed). Gone already is fine.
    pub async fn remove(&self, id: &str) -> RtResult<()> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(false)
            .build();
        match timed(
            format!("remove container {}", short(id)),
            self.docker.remove_container(id, Some(opts)),
        )
        .await
        {
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) if e.is_conflict() && e.message().contains("already in progress") => Ok(()),
            other => other,
        }
    }

    /// The image's ID if it is present locally.
    pub async fn image_id(&self, image: &str) -> RtResult<Option<String>> {
        match timed(
            format!("inspect image {image}"),
            self.docker.inspect_image(image),
        )
        .await
        {
            Ok(i) => Ok(i.id),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user an image runs as (`Config.User`, "" for root by default).
    pub async fn image_user(&self, image: &str) -> RtResult<String> {
        let i = timed(
            format!("inspect image {image}"),
            self.docker.inspect_image(image),
        )
        .await?;
        Ok(i.config.and_then(|c| c.user).unwrap_or_default())
    }

    /// Pulls `image` (a tag defaults to `latest`); the stream yields Docker's progress messages.
    pub fn pull(
        &self,
        image: &str,
    ) -> impl Stream<Item = Result<CreateImageInfo, RuntimeError>> + use<> {
        let (repo, tag) = split_image(image);
        let opts = CreateImageOptionsBuilder::default()
            .from_image(&repo)
            .tag(&tag)
            .build();
        let op = format!("pull image {image}");
        self.docker
            .create_image(Some(opts), None, None)
            .map(move |r| r.map_err(|e| RuntimeError::from_bollard(op.clone(), e)))
    }

    /// Imports a root filesystem tarball as image `reference` with one Dockerfile-style `change`.
    pub async fn import_image(&self, reference: &str, change: &str, tar: Vec<u8>) -> RtResult<()> {
        let opts = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(reference)
            .changes(vec![change.to_string()])
            .build();
        let mut stream =
            self.docker
                .create_image(Some(opts), Some(bollard::body_full(Bytes::from(tar))), None);
        while let Some(item) = stream.next().await {
            let info = item
                .map_err(|e| RuntimeError::from_bollard(format!("import image {reference}"), e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(RuntimeError::Docker {
                    op: format!("import image {reference}"),
                    message: err,
                    status: None,
                });
            }
        }
        Ok(())
    }

    /// Creates a volume (an existing one with that name is fine).
    pub async fn create_volume(
        &self,
        name: &str,
        mut labels: HashMap<String, String>,
        driver_opts: HashMap<String, String>,
    ) -> RtResult<()> {
        if let Some(owner) = &self.owner {
            labels.insert(super::labels::ENGINE.to_string(), owner.to_string());
        }
        let req = VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: Some("local".into()),
            driver_opts: Some(driver_opts),
            labels: Some(labels),
            ..Default::default()
        };
        timed(
            format!("create volume {name}"),
            self.docker.create_volume(req),
        )
        .await
        .map(|_| ())
    }

    /// Where a volume's data lives on the engine's host.
    pub async fn volume_mountpoint(&self, name: &str) -> RtResult<String> {
        let v = timed(
            format!("inspect volume {name}"),
            self.docker.inspect_volume(name),
        )
        .await?;
        Ok(v.mountpoint)
    }

    /// Removes a volume; gone already is fine.
    pub async fn remove_volume(&self, name: &str) -> RtResult<()> {
        let opts = RemoveVolumeOptionsBuilder::default().force(true).build();
        match timed(
            format!("remove volume {name}"),
            self.docker.remove_volume(name, Some(opts)),
        )
        .await
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    /// Volumes whose labels match every `key=value` in `labels`: (name, labels).
    pub async fn list_volumes(
        &self,
        labels: &[String],
    ) -> RtResult<Vec<(String, HashMap<String, String>)>> {
        let filters = HashMap::from([("label", labels.to_vec())]);
        let opts = ListVolumesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let resp = timed("list volumes", self.docker.list_volumes(Some(opts))).await?;
        Ok(resp
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| (v.name, v.labels))
            .collect())
    }

    /// Extracts a tar archive into `path` inside a (created or running) container.
    pub async fn upload(&self, id: &str, path: &str, tar: Vec<u8>) -> RtResult<()> {
        let opts = UploadToContainerOptionsBuilder::default()
            .path(path)
            .build();
        timed(
            format!("copy files into {} at {path}", short(id)),
            self.docker
                .upload_to_container(id, Some(opts), bollard::body_full(Bytes::from(tar))),
        )
        .await
    }

    /// Container events whose labels match every `key=value` in `labels`.
    pub fn events(
        &self,
        labels: &[String],
    ) -> impl Stream<Item = Result<EventMessage, RuntimeError>> + use<> {
        let filters = HashMap::from([
            ("label", labels.to_vec()),
            ("type", vec!["container".to_string()]),
        ]);
        let opts = EventsOptionsBuilder::default().filters(&filters).build();
        self.docker
            .events(Some(opts))
            .map(|r| r.map_err(|e| RuntimeError::from_bollard("watch Docker events", e)))
    }

    /// A container's log stream.
    pub fn logs(
        &self,
        id: &str,
        opts: LogsOptions,
    ) -> impl Stream<Item = Result<bollard::container::LogOutput, RuntimeError>> + use<> {
        let op = format!("read the logs of {}", short(id));
        self.docker
            .logs(id, Some(opts))
            .map(move |r| r.map_err(|e| RuntimeError::from_bollard(op.clone(), e)))
    }
}

/// The first 12 characters of a container ID, as `docker ps` shows it.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Splits `repo[:tag][@digest]` into what the pull API wants (`repo`, `tag` or digest), defaulting to `latest`.
pub fn split_image(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_string(), digest.to_string());
    }
    let last_slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[last_slash..].rfind(':') {
        Some(i) => (
            image[..last_slash + i].to_string(),
            image[last_slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_like_docker() {
        assert_eq!(split_image("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(
            split_image("busybox:1.36"),
            ("busybox".into(), "1.36".into())
        );
        assert_eq!(
            split_image("localhost:5000/a/b"),
            ("localhost:5000/a/b".into(), "latest".into())
        );
        assert_eq!(
            split_image("localhost:5000/a/b:2"),
            ("localhost:5000/a/b".into(), "2".into())
        );
        assert_eq!(split_image("a@sha256:00"), ("a".into(), "sha256:00".into()));
    }
}
