//! The API's memory of the engine's state, which is only what an API server adds to it: a monotonically
//! increasing resourceVersion and a creation time per object ([`Meta`], with a fingerprint of the object to see
//! when it changed), and a bounded window of recent watch events ([`Record`]s, at most [`WINDOW_RECORDS`]
//! records and [`WINDOW_BYTES`] bytes of JSON) so a watch can resume from a resourceVersion. The objects
//! themselves are built from the engine's snapshot when a request asks for them ([`View`]); the snapshot is
//! shared (`Arc`), not copied.
//!
//! resourceVersions start at the start time in microseconds, so they keep increasing across restarts: a client
//! resuming with a version from before a restart is older than the window and gets 410 Gone, as from an API
//! server after compaction.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use jiff::Timestamp;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::node::{HostFacts, node};
use super::objects::{Stamp, event, event_name, mirror_pod, namespace};
use super::resource::{Kind, Obj};
use super::select::Fields;
use crate::engine::snapshot::{PodView, Snapshot};

/// Most watch events kept for resuming.
pub const WINDOW_RECORDS: usize = 1024;
/// Most bytes of JSON the kept watch events may hold.
pub const WINDOW_BYTES: usize = 1 << 20;

/// An object's identity in the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Its kind.
    pub kind: Kind,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Key {
    /// The key of an object of `kind`.
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        Self {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

/// What the store remembers of one object.
#[derive(Clone, Debug)]
pub struct Meta {
    /// resourceVersion and creation time.
    pub stamp: Stamp,
    /// A hash of the object as last served (without its resourceVersion).
    pub fingerprint: u64,
    /// The engine's UID behind it (a pod replaced under the same name is deleted and added).
    pub uid: String,
}

/// ADDED, MODIFIED or DELETED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// ADDED.
    Added,
    /// MODIFIED.
    Modified,
    /// DELETED.
    Deleted,
}

impl Change {
    /// The watch event type.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// One past watch event.
#[derive(Debug)]
pub struct Record {
    /// The resourceVersion the change got.
    pub rv: u64,
    /// Kind of the object.
    pub kind: Kind,
    /// What happened.
    pub change: Change,
    /// The object after the change (for DELETED: its last state), as JSON.
    pub json: Bytes,
    /// What selectors see of it after the change.
    pub fields: Fields,
    /// What selectors saw of it before a MODIFIED (so a watch whose selector it leaves sees it DELETED).
    pub prev: Option<Fields>,
}

#[derive(Debug, Default)]
struct Window {
    records: VecDeque<Arc<Record>>,
    bytes: usize,
    /// Every change after this resourceVersion is in `records` (or still to come).
    floor: u64,
}

impl Window {
    fn push(&mut self, r: Record) {
        self.bytes += r.json.len();
        self.records.push_back(Arc::new(r));
        while self.records.len() > WINDOW_RECORDS || self.bytes > WINDOW_BYTES {
            let Some(old) = self.records.pop_front() else {
                break;
            };
            self.bytes -= old.json.len();
            self.floor = old.rv;
        }
    }
}

/// Why a watch cannot resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooOld {
    /// The oldest resourceVersion a watch can resume from.
    pub oldest: u64,
}

/// The state requests are answered from: the engine's snapshot plus the store's stamps.
#[derive(Clone, Debug)]
pub struct View {
    /// The snapshot.
    pub snapshot: Arc<Snapshot>,
    /// The latest resourceVersion (what a list returns).
    pub rv: u64,
    meta: Arc<HashMap<Key, Meta>>,
    docker_since: Timestamp,
    host: Arc<HostFacts>,
    node_created: Timestamp,
}

impl View {
    /// The node's name.
    pub fn node_name(&self) -> &str {
        &self.snapshot.node_name
    }

    /// The stamp of `key` (an object the store has not seen yet gets the current version).
    pub fn stamp(&self, key: &Key) -> Stamp {
        self.meta.get(key).map(|m| m.stamp).unwrap_or(Stamp {
            rv: self.rv,
            created: Timestamp::now(),
        })
    }

    /// The pods, one per namespace/name (a desired pod wins over one being removed), sorted.
    pub fn pod_views(&self) -> Vec<&Arc<PodView>> {
        dedup(&self.snapshot.pods).into_values().collect()
    }

    /// Every object of `kind`, sorted by namespace and name.
    pub fn objects(&self, kind: Kind) -> Vec<Obj> {
        let node = self.node_name();
        match kind {
            Kind::Pod => self
                .pod_views()
                .into_iter()
                .map(|p| {
                    let stamp = self.stamp(&Key::new(Kind::Pod, &p.namespace, &p.name));
                    Obj::Pod(Box::new(mirror_pod(p, node, stamp)))
                })
                .collect(),
            Kind::Event => {
                let mut v: Vec<Obj> = self
                    .pod_views()
                    .into_iter()
                    .flat_map(|p| {
                        p.events.iter().map(move |e| {
                            let key = Key::new(Kind::Event, &p.namespace, &event_name(p, e));
                            Obj::Event(Box::new(event(p, e, node, self.stamp(&key))))
                        })
                    })
                    .collect();
                v.sort_by_key(|a| a.sort_key());
                v
            }
            Kind::Node => vec![Obj::Node(Box::new(self.node()))],
            Kind::Namespace => namespaces(&self.snapshot)
                .into_iter()
                .map(|n| {
                    let stamp = self.stamp(&Key::new(Kind::Namespace, "", &n));
                    Obj::Namespace(Box::new(namespace(&n, stamp)))
                })
                .collect(),
        }
    }

    /// The object `name` of `kind` in `namespace` (empty for cluster-scoped kinds); a pod is built alone.
    pub fn object(&self, kind: Kind, namespace: &str, name: &str) -> Option<Obj> {
        if kind == Kind::Pod {
            let p = self
                .pod_views()
                .into_iter()
                .find(|p| p.namespace == namespace && p.name == name)?;
            let stamp = self.stamp(&Key::new(Kind::Pod, namespace, name));
            return Some(Obj::Pod(Box::new(mirror_pod(p, self.node_name(), stamp))));
        }
        self.objects(kind)
            .into_iter()
            .find(|o| o.namespace() == namespace && o.name() == name)
    }

    fn node(&self) -> k8s_openapi::api::core::v1::Node {
        let key = Key::new(Kind::Node, "", self.node_name());
        let stamp = self.stamp(&key);
        node(
            &self.snapshot,
            &self.host,
            self.docker_since,
            Stamp {
                created: self.node_created,
                ..stamp
            },
        )
    }
}

/// One pod view per namespace/name, sorted.
fn dedup(pods: &[Arc<PodView>]) -> BTreeMap<(&str, &str), &Arc<PodView>> {
    let mut m: BTreeMap<(&str, &str), &Arc<PodView>> = BTreeMap::new();
    for p in pods {
        let k = (p.namespace.as_str(), p.name.as_str());
        match m.get(&k) {
            Some(existing) if existing.desired && !p.desired => {}
            _ => {
                m.insert(k, p);
            }
        }
    }
    m
}

/// `default` and every namespace a pod uses, sorted.
fn namespaces(snap: &Snapshot) -> Vec<String> {
    let mut s: std::collections::BTreeSet<String> =
        snap.pods.iter().map(|p| p.namespace.clone()).collect();
    s.insert("default".into());
    s.into_iter().collect()
}

fn fingerprint(json: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    json.hash(&mut h);
    h.finish()
}

/// The store's handle: the latest [`View`] and the window of past watch events.
#[derive(Clone)]
pub struct Store {
    view: watch::Receiver<Arc<View>>,
    window: Arc<Mutex<Window>>,
}

impl Store {
    /// Starts following `snapshots` until `cancel`.
    pub fn spawn(
        mut snapshots: watch::Receiver<Arc<Snapshot>>,
        host: HostFacts,
        node_created: Timestamp,
        cancel: CancellationToken,
    ) -> Self {
        let now = Timestamp::now();
        let rv = u64::try_from(now.as_microsecond()).unwrap_or(1);
        let first = snapshots.borrow_and_update().clone();
        let view = View {
            snapshot: Arc::new(Snapshot::empty(&first.node_name, &first.source, "")),
            rv,
            meta: Arc::new(HashMap::new()),
            docker_since: now,
            host: Arc::new(host),
            node_created,
        };
        let window = Arc::new(Mutex::new(Window {
            floor: rv,
            ..Default::default()
        }));
        let (tx, rx) = watch::channel(Arc::new(view.clone()));
        let mut updater = Updater {
            view,
            tx,
            window: window.clone(),
            started: true,
        };
        updater.apply(first);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    changed = snapshots.changed() => {
                        if changed.is_err() { break; }
                        let snap = snapshots.borrow_and_update().clone();
                        updater.apply(snap);
                    }
                }
            }
        });
        Self { view: rx, window }
    }

    /// The latest view.
    pub fn view(&self) -> Arc<View> {
        self.view.borrow().clone()
    }

    /// A receiver that wakes on every new view.
    pub fn subscribe(&self) -> watch::Receiver<Arc<View>> {
        self.view.clone()
    }

    /// The recorded changes after `rv`, or why they are gone.
    pub fn since(&self, rv: u64) -> Result<Vec<Arc<Record>>, TooOld> {
        let w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if rv < w.floor {
            return Err(TooOld { oldest: w.floor });
        }
        let start = w.records.partition_point(|r| r.rv <= rv);
        Ok(w.records.iter().skip(start).cloned().collect())
    }
}

/// Turns snapshots into stamps and watch records.
struct Updater {
    view: View,
    tx: watch::Sender<Arc<View>>,
    window: Arc<Mutex<Window>>,
    /// The first snapshot is being applied (namespaces found then date from the node's creation).
    started: bool,
}

impl Updater {
    fn next_rv(&mut self) -> u64 {
        self.view.rv += 1;
        self.view.rv
    }

    fn apply(&mut self, snap: Arc<Snapshot>) {
        let prev = std::mem::replace(&mut self.view.snapshot, snap.clone());
        if std::mem::discriminant(&prev.docker) != std::mem::discriminant(&snap.docker) {
            self.view.docker_since = Timestamp::now();
        }
        let mut out = Vec::new();
        self.pods(&prev, &snap, &mut out);
        self.cluster_objects(&mut out);
        self.started = false;
        if out.is_empty() && Arc::ptr_eq(&prev, &snap) {
            return;
        }
        {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            for r in out {
                w.push(r);
            }
        }
        let _ = self.tx.send(Arc::new(self.view.clone()));
    }

    /// Records `obj` if it is new or changed since the store last saw it.
    fn upsert(
        &mut self,
        key: Key,
        uid: &str,
        mut obj: Obj,
        prev: Option<Fields>,
        out: &mut Vec<Record>,
    ) {
        let fp = fingerprint(&obj.to_json());
        let change = match self.view.meta.get(&key) {
            Some(m) if m.fingerprint == fp && m.uid == uid => return,
            Some(m) if m.uid == uid => Change::Modified,
            _ => Change::Added,
        };
        let created = obj.created();
        let rv = self.next_rv();
        obj.set_rv(rv);
        Arc::make_mut(&mut self.view.meta).insert(
            key,
            Meta {
                stamp: Stamp { rv, created },
                fingerprint: fp,
                uid: uid.to_string(),
            },
        );
        out.push(Record {
            rv,
            kind: obj.kind(),
            change,
            fields: obj.fields(self.view.node_name()),
            prev: if change == Change::Modified {
                prev
            } else {
                None
            },
            json: obj.to_json(),
        });
    }

    /// Records the deletion of `obj` (its last state) if the store knows it.
    fn delete(&mut self, key: &Key, mut obj: Obj, out: &mut Vec<Record>) {
        if Arc::make_mut(&mut self.view.meta).remove(key).is_none() {
            return;
        }
        let rv = self.next_rv();
        obj.set_rv(rv);
        out.push(Record {
            rv,
            kind: obj.kind(),
            change: Change::Deleted,
            fields: obj.fields(self.view.node_name()),
            prev: None,
            json: obj.to_json(),
        });
    }

    fn pods(&mut self, prev: &Snapshot, snap: &Snapshot, out: &mut Vec<Record>) {
        let node = snap.node_name.clone();
        let before = dedup(&prev.pods);
        let now = dedup(&snap.pods);
        for (k, p) in &now {
            let old = before.get(k).copied();
            let key = Key::new(Kind::Pod, &p.namespace, &p.name);
            let known = self.view.meta.get(&key).cloned();
            if old.is_some_and(|o| Arc::ptr_eq(o, p)) && known.is_some() {
                continue;
            }
            // A pod replaced under the same name (new UID) is deleted, then added.
            if let (Some(m), Some(o)) = (&known, old)
                && m.uid != p.uid
            {
                self.delete_pod(o, &node, m.stamp, out);
            }
            let known = self.view.meta.get(&key).cloned();
            let mut created = known
                .as_ref()
                .map_or_else(Timestamp::now, |m| m.stamp.created);
            if let Some(start) = p.first_known().filter(|s| *s < created) {
                created = start;
            }
            let prev_fields = match (old, &known) {
                (Some(o), Some(m)) => {
                    Some(Obj::Pod(Box::new(mirror_pod(o, &node, m.stamp))).fields(&node))
                }
                _ => None,
            };
            let obj = Obj::Pod(Box::new(mirror_pod(p, &node, Stamp { rv: 0, created })));
            self.upsert(key, &p.uid, obj, prev_fields, out);
            self.pod_events(
                Some(p),
                old.filter(|o| o.uid == p.uid).map(|o| &**o),
                &node,
                out,
            );
        }
        for (k, o) in &before {
            if !now.contains_key(k) {
                let key = Key::new(Kind::Pod, &o.namespace, &o.name);
                if let Some(m) = self.view.meta.get(&key).cloned() {
                    self.delete_pod(o, &node, m.stamp, out);
                }
            }
        }
    }

    fn delete_pod(&mut self, o: &PodView, node: &str, stamp: Stamp, out: &mut Vec<Record>) {
        self.pod_events(None, Some(o), node, out);
        let key = Key::new(Kind::Pod, &o.namespace, &o.name);
        self.delete(&key, Obj::Pod(Box::new(mirror_pod(o, node, stamp))), out);
    }

    /// The events of `p` (new or changed), and the deletion of the events `old` had and `p` (if any) no longer
    /// has.
    fn pod_events(
        &mut self,
        p: Option<&PodView>,
        old: Option<&PodView>,
        node: &str,
        out: &mut Vec<Record>,
    ) {
        let mut names = HashSet::new();
        for (p, e) in p.iter().flat_map(|p| p.events.iter().map(move |e| (*p, e))) {
            let name = event_name(p, e);
            let key = Key::new(Kind::Event, &p.namespace, &name);
            let obj = Obj::Event(Box::new(event(
                p,
                e,
                node,
                Stamp {
                    rv: 0,
                    created: e.first_seen,
                },
            )));
            self.upsert(key, &name, obj, None, out);
            names.insert(name);
        }
        for e in old.map(|o| o.events.as_slice()).unwrap_or_default() {
            let Some(o) = old else { break };
            let name = event_name(o, e);
            if names.contains(&name) {
                continue;
            }
            let key = Key::new(Kind::Event, &o.namespace, &name);
            let stamp = self.view.meta.get(&key).map(|m| m.stamp);
            if let Some(stamp) = stamp {
                self.delete(&key, Obj::Event(Box::new(event(o, e, node, stamp))), out);
            }
        }
    }

    /// The node and the namespaces.
    fn cluster_objects(&mut self, out: &mut Vec<Record>) {
        let v = self.view.clone();
        let node_name = v.node_name().to_string();
        let n = node(
            &v.snapshot,
            &v.host,
            v.docker_since,
            Stamp {
                rv: 0,
                created: v.node_created,
            },
        );
        self.upsert(
            Key::new(Kind::Node, "", &node_name),
            &node_name,
            Obj::Node(Box::new(n)),
            None,
            out,
        );
        let wanted = namespaces(&v.snapshot);
        for name in &wanted {
            let key = Key::new(Kind::Namespace, "", name);
            let created = match v.meta.get(&key) {
                Some(m) => m.stamp.created,
                None if self.started || name == "default" => v.node_created,
                None => Timestamp::now(),
            };
            let obj = Obj::Namespace(Box::new(namespace(name, Stamp { rv: 0, created })));
            self.upsert(key, name, obj, None, out);
        }
        let gone: Vec<(Key, Stamp)> = v
            .meta
            .iter()
            .filter(|(k, _)| k.kind == Kind::Namespace && !wanted.contains(&k.name))
            .map(|(k, m)| (k.clone(), m.stamp))
            .collect();
        for (key, stamp) in gone {
            let obj = Obj::Namespace(Box::new(namespace(&key.name, stamp)));
            self.delete(&key, obj, out);
        }
    }
}
