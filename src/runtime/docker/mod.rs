//! The Docker Engine API through bollard: connecting the way the docker CLI does, and [`ContainerRuntime`] for
//! it. Translations between podtui's types and bollard's live in [`convert`]; the streaming calls (pull, events,
//! logs, exec, stats) in [`streams`].

mod convert;
mod podman;
mod raw_stats;
mod streams;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectNetworkOptions,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
    UploadToContainerOptionsBuilder, WaitContainerOptions,
};
use bytes::Bytes;
use futures_util::StreamExt;

pub use super::error::{CALL_TIMEOUT, RtResult, RuntimeError};
pub use super::types::EngineInfo;
use super::types::{
    ContainerConfig, ContainerSummary, ExecSession, ExecSpec, LogChunk, LogOptions, PullEvent,
    RtStream, RuntimeEvent, StatsSample,
};
use super::window::{StartWindow, Turn};
use super::{ContainerRuntime, error::timed, observe::ObservedContainer};
pub use convert::split_image;

/// The endpoint podtui connects to, as the docker CLI picks it: `DOCKER_HOST`, else the local socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// The fixed number of container creates and starts in flight podtui used before its window adapted (see
/// [`super::window`]; `PODTUI_START_CONCURRENCY` still fixes one). dockerd, containerd and the
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
    starts: Option<StartWindow>,
    /// The engine id stamped on every container and volume created ([`DockerRuntime::owned_by`]).
    owner: Option<Arc<str>>,
}

/// The first 12 characters of a container ID, as `docker ps` shows it.
pub fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

impl DockerRuntime {
    /// Connects the way the docker CLI does, negotiates the API version and reads the engine's version.
    pub async fn connect() -> RtResult<Self> {
        Self::connect_to(&endpoint()).await
    }

    /// [`DockerRuntime::connect`] to the engine at `ep` (a `DOCKER_HOST` value: `unix:///…`, `tcp://…`).
    pub async fn connect_to(ep: &str) -> RtResult<Self> {
        let ep = ep.to_string();
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
            docker.inspect_network("bridge", None::<InspectNetworkOptions>),
        )
        .await
        .ok();
        let host_ip = bridge
            .and_then(|n| n.ipam)
            .and_then(|i| i.config)
            .and_then(|c| {
                c.into_iter().find_map(|c| {
                    c.gateway
                        .or_else(|| c.subnet.as_deref().and_then(first_host))
                })
            });
        let (kind, version) = podman::engine_of(&version);
        let info = EngineInfo {
            endpoint: ep,
            kind,
            version,
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
        self.starts = Some(StartWindow::fixed(n));
        self
    }

    /// Like [`DockerRuntime::limit_starts`], with a window that follows the engine's latency
    /// ([`super::window`]).
    pub fn adapt_starts(mut self) -> Self {
        self.starts = Some(StartWindow::adaptive());
        self
    }

    /// The start window, if any (its current and peak size, for logs and benchmarks).
    pub fn start_window(&self) -> Option<&StartWindow> {
        self.starts.as_ref()
    }

    /// Waits for a turn to create or start a container (immediately without a limit).
    async fn start_turn(&self, kind: &'static str) -> Option<Turn> {
        match &self.starts {
            Some(w) => Some(w.turn(kind).await),
            None => None,
        }
    }

    fn own(&self, labels: &mut HashMap<String, String>) {
        if let Some(owner) = &self.owner {
            labels.insert(super::labels::ENGINE.to_string(), owner.to_string());
        }
    }

    /// Gone already (404), or "already being removed" (409): a removal that has nothing left to do.
    fn removed(r: RtResult<()>) -> RtResult<()> {
        match r {
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) if e.is_conflict() && e.message().contains("already in progress") => Ok(()),
            other => other,
        }
    }
}

#[async_trait::async_trait]
impl ContainerRuntime for DockerRuntime {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    async fn ping(&self) -> RtResult<()> {
        timed("ping the Docker engine", self.docker.ping())
            .await
            .map(|_| ())
    }

    async fn list_containers(&self, labels: &[String]) -> RtResult<Vec<ContainerSummary>> {
        let filters = HashMap::from([("label", labels.to_vec())]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = timed("list containers", async {
            match self.docker.list_containers(Some(opts)).await {
                Err(e) => podman::reparse(&e).ok_or(e),
                ok => ok,
            }
        })
        .await?;
        Ok(list.into_iter().filter_map(convert::summary).collect())
    }

    async fn inspect(&self, id: &str) -> RtResult<Option<ObservedContainer>> {
        let c = timed(format!("inspect container {}", short(id)), async {
            match self.docker.inspect_container(id, None).await {
                Err(e) => podman::reparse(&e).ok_or(e),
                ok => ok,
            }
        })
        .await?;
        Ok(convert::instance(&c))
    }

    async fn create(&self, name: &str, mut config: ContainerConfig) -> RtResult<String> {
        self.own(&mut config.labels);
        let opts = CreateContainerOptionsBuilder::default().name(name).build();
        let mut body = convert::create_body(config);
        if self.info.is_podman() {
            podman::adjust_body(&mut body);
        }
        let _turn = self.start_turn("create").await;
        let resp = timed(
            format!("create container {name}"),
            self.docker.create_container(Some(opts), body),
        )
        .await?;
        Ok(resp.id)
    }

    async fn start(&self, id: &str, name: &str) -> RtResult<()> {
        // A sandbox's start makes the pod's network namespace: a call of its own kind for the window's weights.
        let kind = if super::labels::is_sandbox_name(name) {
            "start sandbox"
        } else {
            "start"
        };
        let _turn = self.start_turn(kind).await;
        timed(
            format!("start container {name}"),
            self.docker.start_container(id, None),
        )
        .await
    }

    async fn stop(&self, id: &str, grace: Duration) -> RtResult<()> {
        // Whole seconds, rounded up: a grace period is never cut short.
        let secs = grace.as_millis().div_ceil(1000).max(1) as i32;
        let opts = StopContainerOptionsBuilder::default().t(secs).build();
        let op = format!("stop container {}", short(id));
        // The call itself lasts up to the grace period: no CALL_TIMEOUT here.
        match self.docker.stop_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let e = RuntimeError::from_bollard(op, e);
                let not_modified = matches!(
                    e,
                    RuntimeError::Docker {
                        status: Some(304),
                        ..
                    }
                );
                if e.is_not_found() || not_modified {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn kill(&self, id: &str, signal: &str) -> RtResult<()> {
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

    async fn remove(&self, id: &str) -> RtResult<()> {
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(false)
            .build();
        Self::removed(
            timed(
                format!("remove container {}", short(id)),
                self.docker.remove_container(id, Some(opts)),
            )
            .await,
        )
    }

    async fn wait(&self, id: &str) -> RtResult<i64> {
        let op = format!("wait for container {}", short(id));
        let mut stream = self.docker.wait_container(id, None::<WaitContainerOptions>);
        match stream.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            // A non-zero exit arrives as an error carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(RuntimeError::from_bollard(op, e)),
            None => Err(RuntimeError::failed(op, "the wait ended without a status")),
        }
    }

    async fn image_id(&self, image: &str) -> RtResult<Option<String>> {
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

    async fn image_user(&self, image: &str) -> RtResult<String> {
        let i = timed(
            format!("inspect image {image}"),
            self.docker.inspect_image(image),
        )
        .await?;
        Ok(i.config.and_then(|c| c.user).unwrap_or_default())
    }

    fn pull(&self, image: &str) -> RtStream<PullEvent> {
        streams::pull(&self.docker, image)
    }

    async fn import_image(&self, reference: &str, change: &str, tar: Vec<u8>) -> RtResult<()> {
        let opts = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(reference)
            .changes(vec![change.to_string()])
            .build();
        let op = format!("import image {reference}");
        let mut stream =
            self.docker
                .create_image(Some(opts), Some(bollard::body_full(Bytes::from(tar))), None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| RuntimeError::from_bollard(op.clone(), e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(RuntimeError::failed(op, err));
            }
        }
        Ok(())
    }

    async fn create_volume(
        &self,
        name: &str,
        mut labels: HashMap<String, String>,
        mut driver_opts: HashMap<String, String>,
    ) -> RtResult<()> {
        self.own(&mut labels);
        if self.info.is_podman() {
            podman::adjust_volume_opts(&mut driver_opts);
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

    async fn volume_mountpoint(&self, name: &str) -> RtResult<String> {
        let v = timed(
            format!("inspect volume {name}"),
            self.docker.inspect_volume(name),
        )
        .await?;
        Ok(v.mountpoint)
    }

    async fn remove_volume(&self, name: &str) -> RtResult<()> {
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

    async fn list_volumes(
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
            .filter(|v| podman::has_labels(&v.labels, labels))
            .map(|v| (v.name, v.labels))
            .collect())
    }

    async fn upload(&self, id: &str, path: &str, tar: Vec<u8>) -> RtResult<()> {
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

    fn events(&self, labels: &[String]) -> RtStream<RuntimeEvent> {
        streams::events(&self.docker, labels)
    }

    fn logs(&self, id: &str, opts: LogOptions) -> RtStream<LogChunk> {
        streams::logs(&self.docker, id, opts)
    }

    async fn exec(&self, id: &str, spec: ExecSpec) -> RtResult<ExecSession> {
        streams::exec(&self.docker, id, spec).await
    }

    async fn resize_exec(&self, exec_id: &str, size: (u16, u16)) -> RtResult<()> {
        streams::resize_exec(&self.docker, exec_id, size).await
    }

    async fn attach(&self, id: &str, stdin: bool) -> RtResult<ExecSession> {
        streams::attach(&self.docker, id, stdin).await
    }

    async fn resize_tty(&self, id: &str, size: (u16, u16)) -> RtResult<()> {
        streams::resize_tty(&self.docker, id, size).await
    }

    async fn exec_exit_code(&self, exec_id: &str) -> RtResult<Option<i64>> {
        let info = timed("inspect an exec", self.docker.inspect_exec(exec_id)).await?;
        Ok(if info.running == Some(true) {
            None
        } else {
            Some(info.exit_code.unwrap_or(-1))
        })
    }

    fn stats(&self, id: &str) -> RtStream<StatsSample> {
        match raw_stats::unix_path(&self.info.endpoint) {
            Some(socket) => {
                raw_stats::stream(socket, id, format!("read the stats of {}", short(id)))
            }
            None => streams::stats(&self.docker, id),
        }
    }
}

/// The first host address of an IPv4 subnet (`172.17.0.0/16` → `172.17.0.1`): the gateway Docker gives a bridge
/// when its IPAM config names none (engines that created the bridge before reporting it leave `Gateway` empty).
fn first_host(subnet: &str) -> Option<String> {
    let (addr, len) = subnet.split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    if !(1..=30).contains(&len) {
        return None;
    }
    let mask = u32::MAX << (32 - len);
    Some(std::net::Ipv4Addr::from((u32::from(addr) & mask) + 1).to_string())
}

#[cfg(test)]
mod tests {
    use super::first_host;

    #[test]
    fn the_gateway_of_a_subnet_is_its_first_host() {
        assert_eq!(first_host("172.17.0.0/16").as_deref(), Some("172.17.0.1"));
        assert_eq!(first_host("10.88.3.7/24").as_deref(), Some("10.88.3.1"));
        assert_eq!(first_host("fd00::/64"), None);
        assert_eq!(first_host("10.0.0.0/32"), None);
    }
}
