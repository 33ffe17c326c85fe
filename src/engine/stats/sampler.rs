//! The sampler task: which containers to sample (from the snapshot and the interests), one stream task per
//! container someone looks at, one short sample per [`BASELINE`](super::BASELINE) for the rest, and the
//! arithmetic into [`StatsView`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::view::{ContainerUsage, PodUsage, StatsView};
use super::{BASELINE, INTEREST_TTL, math};
use crate::engine::snapshot::Snapshot;
use crate::manifest::quantity::Quantity;
use crate::runtime::observe::Role;
use crate::runtime::{Runtime, StatsSample};

/// Someone looking at pods: their resource use is then sampled every second for [`INTEREST_TTL`](super::INTEREST_TTL)
/// (renew it to keep looking; a new interest of the same client replaces the old).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interest {
    /// Who looks (`tui`, `api`, …).
    pub client: String,
    /// Pod UIDs; `None` for every pod; an empty list to stop looking.
    pub pods: Option<Vec<String>>,
    /// Also the pods' pause containers, every second (the pod view's lesson and network rx/tx); without, they
    /// keep the 10 s baseline (the pods table and `kubectl top pod` count app containers only).
    pub sandboxes: bool,
}

enum Msg {
    /// A stream task of the container ended.
    Ended(String, Stream),
}

/// Which of a container's stream tasks: a live one (its generation), or a baseline read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Live(u64),
    Baseline,
}

struct Tracked {
    pod: String,
    usage: ContainerUsage,
    prev: Option<StatsSample>,
    /// The live stream's generation and stop switch, while one runs (a late end of an older one is told apart).
    live: Option<(u64, CancellationToken)>,
    /// A baseline sample is being read.
    baseline_running: bool,
    last_baseline: Option<Instant>,
    rx: u64,
    tx: u64,
}

struct Sampler {
    snapshot: watch::Receiver<Arc<Snapshot>>,
    runtime: watch::Receiver<Option<Runtime>>,
    interest_rx: mpsc::UnboundedReceiver<Interest>,
    out: watch::Sender<Arc<StatsView>>,
    /// Per client: the pods it looks at (`None`: all), whether their pause containers too, until when.
    interests: HashMap<String, (Option<HashSet<String>>, bool, Instant)>,
    containers: HashMap<String, Tracked>,
    msg_tx: mpsc::UnboundedSender<Msg>,
    msg_rx: mpsc::UnboundedReceiver<Msg>,
    /// Samples the stream tasks left since the last tick. They are taken once a second, on the tick that
    /// publishes: a sample wakes no task (40 streams at idle made those wake-ups most of the TUI's CPU).
    inbox: Inbox,
    /// The next live stream's generation.
    next_live: u64,
    dirty: bool,
}

/// Where stream tasks leave their samples: (container ID, sample), in arrival order.
type Inbox = Arc<std::sync::Mutex<Vec<(String, Stream, StatsSample)>>>;

/// Starts the sampler; it stops at `cancel`. Returns where interests go and where the view comes out.
pub fn spawn(
    snapshot: watch::Receiver<Arc<Snapshot>>,
    runtime: watch::Receiver<Option<Runtime>>,
    cancel: CancellationToken,
) -> (
    mpsc::UnboundedSender<Interest>,
    watch::Receiver<Arc<StatsView>>,
) {
    let (interest_tx, interest_rx) = mpsc::unbounded_channel();
    let (out, view_rx) = watch::channel(Arc::new(StatsView::default()));
    let (msg_tx, msg_rx) = mpsc::unbounded_channel();
    let s = Sampler {
        snapshot,
        runtime,
        interest_rx,
        out,
        interests: HashMap::new(),
        containers: HashMap::new(),
        msg_tx,
        msg_rx,
        inbox: Inbox::default(),
        next_live: 0,
        dirty: false,
    };
    tokio::spawn(s.run(cancel));
    (interest_tx, view_rx)
}

impl Sampler {
    async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {
                    let now = Instant::now();
                    self.interests.retain(|_, (_, _, until)| *until > now);
                    self.sync();
                    let samples = std::mem::take(&mut *self.inbox.lock().unwrap_or_else(|e| e.into_inner()));
                    for (id, from, s) in samples {
                        self.on_sample(id, from, s);
                    }
                    if self.dirty {
                        self.publish();
                    }
                }
                Some(i) = self.interest_rx.recv() => {
                    let pods = i.pods.map(|v| v.into_iter().collect());
                    self.interests
                        .insert(i.client, (pods, i.sandboxes, Instant::now() + INTEREST_TTL));
                    self.sync();
                }
                Some(m) = self.msg_rx.recv() => self.on_msg(m),
            }
        }
        for t in self.containers.values() {
            if let Some((_, c)) = &t.live {
                c.cancel();
            }
        }
    }

    /// Whether a client looks at pod `uid` now: its app containers (`.0`) and its pause container (`.1`).
    fn wanted(&self, uid: &str) -> (bool, bool) {
        let looking =
            |pods: &Option<HashSet<String>>| pods.as_ref().is_none_or(|p| p.contains(uid));
        let apps = self.interests.values().any(|(p, _, _)| looking(p));
        let sandbox = self.interests.values().any(|(p, s, _)| *s && looking(p));
        (apps, sandbox)
    }

    /// Starts and stops streams to match the running containers and the interests.
    fn sync(&mut self) {
        let rt = self.runtime.borrow().clone();
        let snap = self.snapshot.borrow().clone();
        let Some(rt) = rt else {
            self.stop_all();
            return;
        };
        let mut running = HashSet::new();
        for pod in &snap.pods {
            let (apps, sandbox) = self.wanted(&pod.uid);
            for c in pod.observed.all().filter(|c| c.state.is_running()) {
                let wanted = if c.role == Role::Sandbox {
                    sandbox
                } else {
                    apps
                };
                running.insert(c.id.clone());
                let t = self
                    .containers
                    .entry(c.id.clone())
                    .or_insert_with(|| Tracked {
                        pod: pod.uid.clone(),
                        usage: ContainerUsage {
                            name: c.name.clone(),
                            id: c.id.clone(),
                            sandbox: c.role == Role::Sandbox,
                            ..Default::default()
                        },
                        prev: None,
                        live: None,
                        baseline_running: false,
                        last_baseline: None,
                        rx: 0,
                        tx: 0,
                    });
                set_resources(&mut t.usage, &pod.pod);
                if wanted && t.live.is_none() {
                    let stop = CancellationToken::new();
                    self.next_live += 1;
                    t.live = Some((self.next_live, stop.clone()));
                    t.usage.live = true;
                    tokio::spawn(read(
                        rt.clone(),
                        c.id.clone(),
                        (Stream::Live(self.next_live), None),
                        stop,
                        self.msg_tx.clone(),
                        self.inbox.clone(),
                    ));
                } else if !wanted && let Some((_, stop)) = t.live.take() {
                    stop.cancel();
                    t.usage.live = false;
                    t.last_baseline = Some(Instant::now());
                } else if !wanted
                    && !t.baseline_running
                    && t.last_baseline.is_none_or(|at| at.elapsed() >= BASELINE)
                {
                    // Two samples the first time (a rate needs two), then one: its delta to the previous
                    // baseline sample is the average over the interval.
                    let n = if t.prev.is_none() { 2 } else { 1 };
                    t.baseline_running = true;
                    t.last_baseline = Some(Instant::now());
                    let stop = CancellationToken::new();
                    tokio::spawn(read(
                        rt.clone(),
                        c.id.clone(),
                        (Stream::Baseline, Some(n)),
                        stop,
                        self.msg_tx.clone(),
                        self.inbox.clone(),
                    ));
                }
            }
        }
        let before = self.containers.len();
        self.containers.retain(|id, t| {
            let keep = running.contains(id);
            if !keep && let Some((_, stop)) = &t.live {
                stop.cancel();
            }
            keep
        });
        if self.containers.len() != before {
            self.dirty = true;
        }
    }

    fn stop_all(&mut self) {
        for t in self.containers.values() {
            if let Some((_, c)) = &t.live {
                c.cancel();
            }
        }
        if !self.containers.is_empty() {
            self.containers.clear();
            self.dirty = true;
        }
    }

    fn on_msg(&mut self, m: Msg) {
        match m {
            Msg::Ended(id, which) => {
                let Some(t) = self.containers.get_mut(&id) else {
                    return;
                };
                match which {
                    Stream::Baseline => t.baseline_running = false,
                    Stream::Live(g) if t.live.as_ref().is_some_and(|(live, _)| *live == g) => {
                        t.live = None;
                        t.usage.live = false;
                    }
                    // An older live stream, cancelled since.
                    Stream::Live(_) => {}
                }
            }
        }
    }

    fn on_sample(&mut self, id: String, from: Stream, s: StatsSample) {
        let Some(t) = self.containers.get_mut(&id) else {
            return;
        };
        // While a live stream runs, only its samples count (a baseline read that overlapped it would add the
        // same moments twice; an older live stream's late samples too).
        let current = match (&t.live, from) {
            (Some((live, _)), Stream::Live(g)) => *live == g,
            (Some(_), Stream::Baseline) => false,
            (None, Stream::Baseline) => true,
            (None, Stream::Live(_)) => false,
        };
        if !current {
            return;
        }
        if let Some(cpu) = t.prev.as_ref().and_then(|p| math::cpu_millicores(p, &s)) {
            t.usage.cpu_millis = cpu;
            t.usage.cpu_history.push(cpu);
        }
        let ws = math::working_set(&s);
        t.usage.memory_bytes = ws;
        t.usage.memory_history.push(ws);
        t.usage.time = s.time;
        t.rx = s.rx_bytes;
        t.tx = s.tx_bytes;
        t.prev = Some(s);
        self.dirty = true;
    }

    fn publish(&mut self) {
        self.dirty = false;
        let snap = self.snapshot.borrow().clone();
        let mut view = StatsView::default();
        for p in &snap.pods {
            let mut usage = PodUsage {
                uid: p.uid.clone(),
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                ..Default::default()
            };
            for t in self.containers.values().filter(|t| t.pod == p.uid) {
                if t.usage.sandbox {
                    usage.rx_bytes = t.rx;
                    usage.tx_bytes = t.tx;
                    usage.sandbox = Some(t.usage.clone());
                } else {
                    usage.containers.push(t.usage.clone());
                }
            }
            if usage.sandbox.is_some() || !usage.containers.is_empty() {
                usage.containers.sort_by(|a, b| a.name.cmp(&b.name));
                view.pods.insert(p.uid.clone(), usage);
            }
        }
        self.out.send_replace(Arc::new(view));
    }
}

/// Reads a container's stats (all of them, or the first `n`) until `stop`, and says when it ended.
async fn read(
    rt: Runtime,
    id: String,
    (which, n): (Stream, Option<usize>),
    stop: CancellationToken,
    tx: mpsc::UnboundedSender<Msg>,
    inbox: Inbox,
) {
    let mut stream = rt.stats(&id);
    let mut left = n;
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            next = tokio::time::timeout(Duration::from_secs(10), stream.next()) => next,
        };
        match next {
            Ok(Some(Ok(s))) => {
                if tx.is_closed() {
                    return;
                }
                inbox
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((id.clone(), which, s));
                if let Some(l) = left.as_mut() {
                    *l -= 1;
                    if *l == 0 {
                        break;
                    }
                }
            }
            Ok(Some(Err(e))) => {
                tracing::debug!("stats of {id}: {e}");
                break;
            }
            Ok(None) | Err(_) => break,
        }
    }
    let _ = tx.send(Msg::Ended(id, which));
}

/// Copies a container's requests and limits from the pod's spec (`POD`, the sandbox, has none).
fn set_resources(u: &mut ContainerUsage, pod: &Pod) {
    let Some(spec) = &pod.spec else { return };
    let c: Option<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == u.name);
    let Some(res) = c.and_then(|c| c.resources.as_ref()) else {
        return;
    };
    let get = |m: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
               key: &str| {
        m.as_ref()?
            .get(key)
            .and_then(|q| Quantity::parse(&q.0).ok())
    };
    u.cpu_request = get(&res.requests, "cpu").map(Quantity::millis);
    u.cpu_limit = get(&res.limits, "cpu").map(Quantity::millis);
    u.memory_request = get(&res.requests, "memory").map(Quantity::ceil_u64);
    u.memory_limit = get(&res.limits, "memory").map(Quantity::ceil_u64);
}
