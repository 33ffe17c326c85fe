//! An in-memory container engine for the engine's unit tests: the planning, back-off, probe timing and
//! termination order are checked against it with tokio's paused clock, without Docker and without real sleeps.
//! It is never the proof that a feature works (the Docker tests are); it only runs what the worker asks and
//! records when it asked.
//!
//! What a container does is chosen by its image: `fake/sleep` runs until stopped and honours SIGTERM,
//! `fake/ignore-term` runs until SIGKILL (a stop takes its whole grace period), `fake/exit:N` exits with code
//! `N` as soon as it starts. An exec of `fake-sleep SECS` in a container takes that long, `fake-fail` exits 1,
//! any other exec exits 0 at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use tokio::sync::broadcast;

use super::observe::{InstanceState, ObservedContainer, Role};
use super::types::{
    ContainerConfig, ContainerSummary, EngineInfo, EventAction, ExecSession, ExecSpec, LogChunk,
    LogOptions, PullEvent, RtStream, RuntimeEvent, StatsSample,
};
use super::{ContainerRuntime, RtResult, RuntimeError, labels};
use crate::engine::clock;

/// One call the engine made, when it made it (on the engine's clock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// When.
    pub at: Timestamp,
    /// `create`, `start`, `stop`, `kill`, `remove`, `exec`.
    pub op: &'static str,
    /// The container's Kubernetes name (`POD` for a sandbox).
    pub container: String,
    /// Details: the grace period of a stop, the command of an exec, the signal of a kill.
    pub detail: String,
}

#[derive(Clone, Debug)]
struct Fake {
    name: String,
    config: ContainerConfig,
    state: InstanceState,
    created: Timestamp,
}

impl Fake {
    fn k8s_name(&self) -> String {
        self.config
            .labels
            .get(labels::CONTAINER_NAME)
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct State {
    containers: BTreeMap<String, Fake>,
    next_id: u64,
    calls: Vec<Call>,
    volumes: BTreeMap<String, HashMap<String, String>>,
    execs: HashMap<String, Option<i64>>,
}

/// The fake engine.
#[derive(Debug)]
pub struct FakeRuntime {
    info: EngineInfo,
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<RuntimeEvent>,
}

impl Default for FakeRuntime {
    fn default() -> Self {
        Self {
            info: EngineInfo {
                endpoint: "fake://".into(),
                kind: Default::default(),
                version: "fake".into(),
                api_version: "1.41".into(),
                cpus: 2,
                memory: 1 << 30,
                host_ip: None,
            },
            state: Arc::new(Mutex::new(State::default())),
            events: broadcast::channel(1024).0,
        }
    }
}

fn not_found(op: &str) -> RuntimeError {
    RuntimeError::Docker {
        op: op.into(),
        message: "No such container".into(),
        status: Some(404),
    }
}

impl FakeRuntime {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// A receiver of the fake's container events (the harness forwards them to the worker, as the
    /// supervisor does).
    pub fn subscribe(&self) -> broadcast::Receiver<RuntimeEvent> {
        self.events.subscribe()
    }

    fn record(&self, state: &mut State, op: &'static str, id: &str, detail: String) {
        let container = state
            .containers
            .get(id)
            .map(Fake::k8s_name)
            .unwrap_or_else(|| id.to_string());
        state.calls.push(Call {
            at: clock::now(),
            op,
            container,
            detail,
        });
    }

    fn emit(&self, state: &State, id: &str, action: EventAction) {
        if let Some(c) = state.containers.get(id) {
            let _ = self.events.send(RuntimeEvent {
                container_id: id.to_string(),
                action,
                labels: c.config.labels.clone(),
            });
        }
    }

    fn exit(&self, id: &str, code: i64) {
        let mut st = self.lock();
        let now = clock::now();
        let Some(c) = st.containers.get_mut(id) else {
            return;
        };
        let InstanceState::Running { started_at } = c.state else {
            return;
        };
        c.state = InstanceState::Exited {
            exit_code: code,
            started_at,
            finished_at: Some(now),
            oom_killed: false,
            error: None,
        };
        self.emit(
            &st,
            id,
            EventAction::Die {
                exit_code: Some(code),
            },
        );
    }

    fn image_of(&self, id: &str) -> Option<String> {
        self.lock()
            .containers
            .get(id)
            .map(|c| c.config.image.clone())
    }

    fn instance(id: &str, c: &Fake) -> Option<ObservedContainer> {
        let l = &c.config.labels;
        l.get(labels::POD_UID)?;
        let role = match (
            l.get(labels::DOCKER_TYPE).map(String::as_str),
            l.get(labels::CONTAINER_KIND).map(String::as_str),
        ) {
            (Some(labels::TYPE_SANDBOX), _) => Role::Sandbox,
            (_, Some("init")) => Role::Init,
            (_, Some(labels::KIND_EPHEMERAL)) => Role::Ephemeral,
            _ => Role::App,
        };
        let count = if role == Role::Sandbox {
            labels::number(l, labels::ATTEMPT)
        } else {
            labels::number(l, labels::RESTART_COUNT)
        };
        Some(ObservedContainer {
            id: id.to_string(),
            docker_name: c.name.clone(),
            role,
            name: c.k8s_name(),
            count: count.unwrap_or(0),
            sandbox_id: l.get(labels::SANDBOX_ID).cloned(),
            image: c.config.image.clone(),
            image_id: "sha256:fake".into(),
            state: c.state.clone(),
            created: Some(c.created),
            network_mode: c.config.network_mode.clone(),
            ipc_mode: c.config.ipc_mode.clone().unwrap_or_default(),
            ip: (role == Role::Sandbox).then(|| "10.0.0.2".to_string()),
            hostname: c.config.hostname.clone().unwrap_or_default(),
            ports: Vec::new(),
            mounts: Vec::new(),
            labels: l.clone(),
        })
    }
}

fn matches(labels: &HashMap<String, String>, filters: &[String]) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(f),
    })
}

#[async_trait::async_trait]
impl ContainerRuntime for FakeRuntime {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    async fn ping(&self) -> RtResult<()> {
        Ok(())
    }

    async fn list_containers(&self, filters: &[String]) -> RtResult<Vec<ContainerSummary>> {
        let st = self.lock();
        Ok(st
            .containers
            .iter()
            .filter(|(_, c)| matches(&c.config.labels, filters))
            .map(|(id, c)| ContainerSummary {
                id: id.clone(),
                state: format!("{:?}", c.state),
                labels: c.config.labels.clone(),
            })
            .collect())
    }

    async fn inspect(&self, id: &str) -> RtResult<Option<ObservedContainer>> {
        let st = self.lock();
        let c = st.containers.get(id).ok_or_else(|| not_found("inspect"))?;
        Ok(Self::instance(id, c))
    }

    async fn create(&self, name: &str, config: ContainerConfig) -> RtResult<String> {
        let mut st = self.lock();
        if st.containers.values().any(|c| c.name == name) {
            return Err(RuntimeError::Docker {
                op: format!("create container {name}"),
                message: "name in use".into(),
                status: Some(409),
            });
        }
        st.next_id += 1;
        let id = format!("{:064x}", st.next_id);
        st.containers.insert(
            id.clone(),
            Fake {
                name: name.to_string(),
                config,
                state: InstanceState::Created,
                created: clock::now(),
            },
        );
        self.record(&mut st, "create", &id, String::new());
        self.emit(&st, &id, EventAction::Create);
        Ok(id)
    }

    async fn start(&self, id: &str, _name: &str) -> RtResult<()> {
        {
            let mut st = self.lock();
            self.record(&mut st, "start", id, String::new());
            let c = st
                .containers
                .get_mut(id)
                .ok_or_else(|| not_found("start"))?;
            c.state = InstanceState::Running {
                started_at: Some(clock::now()),
            };
            self.emit(&st, id, EventAction::Start);
        }
        let image = self.image_of(id).unwrap_or_default();
        if let Some(code) = image.strip_prefix("fake/exit:") {
            self.exit(id, code.parse().unwrap_or(1));
        }
        Ok(())
    }

    async fn stop(&self, id: &str, grace: Duration) -> RtResult<()> {
        {
            let mut st = self.lock();
            // Whole seconds, rounded up, as the Docker runtime sends them.
            let secs = grace.as_millis().div_ceil(1000);
            self.record(&mut st, "stop", id, format!("{secs}s"));
        }
        if self.image_of(id).as_deref() == Some("fake/ignore-term") {
            tokio::time::sleep(grace).await;
            self.exit(id, 137);
        } else {
            self.exit(id, 143);
        }
        Ok(())
    }

    async fn kill(&self, id: &str, signal: &str) -> RtResult<()> {
        {
            let mut st = self.lock();
            self.record(&mut st, "kill", id, signal.to_string());
        }
        self.exit(id, 137);
        Ok(())
    }

    async fn remove(&self, id: &str) -> RtResult<()> {
        let mut st = self.lock();
        self.record(&mut st, "remove", id, String::new());
        self.emit(&st, id, EventAction::Destroy);
        st.containers.remove(id);
        Ok(())
    }

    async fn wait(&self, id: &str) -> RtResult<i64> {
        loop {
            match self.lock().containers.get(id).map(|c| c.state.clone()) {
                Some(InstanceState::Exited { exit_code, .. }) => return Ok(exit_code),
                None => return Err(not_found("wait")),
                _ => {}
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn image_id(&self, image: &str) -> RtResult<Option<String>> {
        Ok((!image.starts_with("missing/")).then(|| "sha256:fake".to_string()))
    }

    async fn image_user(&self, _image: &str) -> RtResult<String> {
        Ok(String::new())
    }

    fn pull(&self, image: &str) -> RtStream<PullEvent> {
        let error = Some(format!("fake: no registry for {image}"));
        Box::pin(futures_util::stream::iter([Ok(PullEvent {
            error,
            ..Default::default()
        })]))
    }

    async fn import_image(&self, _reference: &str, _change: &str, _tar: Vec<u8>) -> RtResult<()> {
        Ok(())
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: HashMap<String, String>,
        _driver_opts: HashMap<String, String>,
    ) -> RtResult<()> {
        self.lock().volumes.insert(name.to_string(), labels);
        Ok(())
    }

    async fn volume_mountpoint(&self, name: &str) -> RtResult<String> {
        Ok(format!("/nonexistent/fake-volumes/{name}"))
    }

    async fn remove_volume(&self, name: &str) -> RtResult<()> {
        self.lock().volumes.remove(name);
        Ok(())
    }

    async fn list_volumes(
        &self,
        filters: &[String],
    ) -> RtResult<Vec<(String, HashMap<String, String>)>> {
        Ok(self
            .lock()
            .volumes
            .iter()
            .filter(|(_, l)| matches(l, filters))
            .map(|(n, l)| (n.clone(), l.clone()))
            .collect())
    }

    async fn upload(&self, _id: &str, _path: &str, _tar: Vec<u8>) -> RtResult<()> {
        Ok(())
    }

    fn events(&self, _labels: &[String]) -> RtStream<RuntimeEvent> {
        let rx = self.events.subscribe();
        Box::pin(tokio_stream_from(rx))
    }

    fn logs(&self, _id: &str, _opts: LogOptions) -> RtStream<LogChunk> {
        Box::pin(futures_util::stream::empty())
    }

    async fn exec(&self, id: &str, spec: ExecSpec) -> RtResult<ExecSession> {
        let exec_id = {
            let mut st = self.lock();
            self.record(&mut st, "exec", id, spec.cmd.join(" "));
            st.next_id += 1;
            let exec_id = format!("exec-{}", st.next_id);
            st.execs.insert(exec_id.clone(), None);
            exec_id
        };
        let (secs, code) = match spec.cmd.as_slice() {
            [cmd, secs] if cmd == "fake-sleep" => (secs.parse().unwrap_or(0), 0),
            [cmd] if cmd == "fake-fail" => (0, 1),
            _ => (0, 0),
        };
        let (done, state) = (exec_id.clone(), self.state.clone());
        let output = futures_util::stream::once(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            st.execs.insert(done, Some(code));
            None::<RtResult<LogChunk>>
        })
        .filter_map(|x| async move { x });
        Ok(ExecSession {
            id: exec_id,
            output: Box::pin(output),
            input: None,
        })
    }

    async fn resize_exec(&self, _exec_id: &str, _size: (u16, u16)) -> RtResult<()> {
        Ok(())
    }

    async fn exec_exit_code(&self, exec_id: &str) -> RtResult<Option<i64>> {
        Ok(self.lock().execs.get(exec_id).copied().flatten())
    }

    async fn attach(&self, id: &str, _stdin: bool) -> RtResult<ExecSession> {
        self.record(&mut self.lock(), "attach", id, String::new());
        Err(RuntimeError::failed(
            format!("attach to {id}"),
            "the fake runtime runs no processes",
        ))
    }

    async fn resize_tty(&self, _id: &str, _size: (u16, u16)) -> RtResult<()> {
        Ok(())
    }

    fn stats(&self, _id: &str) -> RtStream<StatsSample> {
        Box::pin(futures_util::stream::empty())
    }
}

fn tokio_stream_from(
    rx: broadcast::Receiver<RuntimeEvent>,
) -> impl futures_util::Stream<Item = RtResult<RuntimeEvent>> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => return Some((Ok(ev), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
