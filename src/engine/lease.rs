//! The node lease: at most one engine acts on a node name's pods, and everyone can see which one.
//!
//! The state dir's lock ([`super::lock`]) keeps two engines off one state dir; it cannot see an engine with
//! another state dir and the same node name (two users on one machine, both defaulting to the host name), and
//! such engines would remove each other's pods as orphans. So an engine also holds a lease on its node name in
//! Docker, the one place both see: a labelled volume `podtui-node-<node>_<generation>` naming the holder
//! (state dir, host, user, PID, start time, engine instance). `docker volume ls` shows it.
//!
//! - The lease that counts is the one with the highest generation. Creating a volume is atomic (Docker returns
//!   the existing volume of that name, labels unchanged), so when several engines try the same generation one
//!   wins, and all read back which.
//! - A lease whose holder is gone is taken over by creating the next generation, never by removing the old one
//!   first: two engines finding the same stale lease race for one name, and a late one finds a higher
//!   generation than its own and backs off. Superseded generations are removed by the winner.
//! - Whether the holder is gone: the holder's state dir lock is free ([`super::lock::probe`]); or, where that
//!   lock cannot be read (another user's private dir), its process (PID and start time) no longer exists. A
//!   holder on another host cannot be checked: its lease stands until it is released or removed by hand.
//! - An engine whose own state dir the lease names may take it over: it holds that state dir's lock (this is
//!   why a [`NodeLease`] is made from an [`EngineLock`]), so the holder is an earlier run of itself.
//!
//! The engine takes the lease when Docker connects and before it touches any container, checks it again on
//! every reconnect and every [`CHECK_EVERY`], and removes it on a clean shutdown.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::lock::{self, EngineLock, LockProbe};
use crate::runtime::ContainerRuntime;
use crate::runtime::docker::{RtResult, RuntimeError};
use crate::runtime::labels;

/// How often a held lease is checked while connected (it is also checked on every reconnect).
pub const CHECK_EVERY: Duration = Duration::from_secs(10);

/// Who holds (or wants) a node's lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHolder {
    /// The node name.
    pub node: String,
    /// The engine id ([`labels::engine_id`] of the state dir).
    pub engine: String,
    /// Unique per engine start.
    pub instance: String,
    /// The state dir.
    pub state_dir: String,
    /// The host name.
    pub host: String,
    /// The user name.
    pub user: String,
    /// The process.
    pub pid: u32,
    /// The process's start time (clock ticks after boot), when known: tells a PID reused by another process.
    pub pid_start: Option<u64>,
    /// When the holder started.
    pub started: Timestamp,
}

impl NodeHolder {
    fn labels(&self, generation: u64) -> HashMap<String, String> {
        let mut l = HashMap::from([
            (labels::MANAGED.to_string(), "true".to_string()),
            (labels::LEASE_NODE.to_string(), self.node.clone()),
            (labels::LEASE_GENERATION.to_string(), generation.to_string()),
            (labels::LEASE_ENGINE.to_string(), self.engine.clone()),
            (labels::LEASE_INSTANCE.to_string(), self.instance.clone()),
            (labels::LEASE_STATE_DIR.to_string(), self.state_dir.clone()),
            (labels::LEASE_HOST.to_string(), self.host.clone()),
            (labels::LEASE_USER.to_string(), self.user.clone()),
            (labels::LEASE_PID.to_string(), self.pid.to_string()),
            (labels::LEASE_STARTED.to_string(), self.started.to_string()),
        ]);
        if let Some(s) = self.pid_start {
            l.insert(labels::LEASE_PID_START.to_string(), s.to_string());
        }
        l
    }

    /// Reads a lease volume's labels: its generation and holder. `None` when they are not a lease's.
    fn from_labels(l: &HashMap<String, String>) -> Option<(u64, Self)> {
        let get = |k: &str| l.get(k).cloned();
        let generation = get(labels::LEASE_GENERATION)?.parse().ok()?;
        Some((
            generation,
            Self {
                node: get(labels::LEASE_NODE)?,
                engine: get(labels::LEASE_ENGINE)?,
                instance: get(labels::LEASE_INSTANCE)?,
                state_dir: get(labels::LEASE_STATE_DIR).unwrap_or_default(),
                host: get(labels::LEASE_HOST).unwrap_or_default(),
                user: get(labels::LEASE_USER).unwrap_or_default(),
                pid: get(labels::LEASE_PID)?.parse().ok()?,
                pid_start: get(labels::LEASE_PID_START).and_then(|s| s.parse().ok()),
                started: get(labels::LEASE_STARTED)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default(),
            },
        ))
    }
}

impl fmt::Display for NodeHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {}, user {}, host {}, state dir {}, since {}",
            self.pid,
            self.user,
            self.host,
            self.state_dir,
            self.started.strftime("%Y-%m-%d %H:%M:%S UTC")
        )
    }
}

/// Why an engine may not act on a node: another engine holds its lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHeld {
    /// The holder.
    pub holder: NodeHolder,
    /// The lease volume.
    pub lease: String,
    /// The holder runs on another host (its liveness cannot be checked from here).
    pub remote: bool,
}

impl fmt::Display for NodeHeld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} is held by another podtui engine ({}); stop that engine, or give this one another --node-name",
            self.holder.node, self.holder
        )?;
        if self.remote {
            write!(
                f,
                ". It runs on another host, so podtui cannot tell whether it is still there; if it is gone, remove its lease: docker volume rm {}",
                self.lease
            )?;
        }
        Ok(())
    }
}

/// The outcome of trying to take a node's lease.
#[derive(Debug)]
pub enum Claim {
    /// This engine holds it.
    Held {
        /// The holder it took the lease over from (gone), if any.
        took_over: Option<Box<NodeHolder>>,
    },
    /// Another engine holds it.
    Refused(Box<NodeHeld>),
}

/// One lease volume.
struct Placed {
    name: String,
    generation: u64,
    holder: NodeHolder,
}

/// This engine's side of its node's lease.
#[derive(Clone, Debug)]
pub struct NodeLease {
    me: NodeHolder,
}

impl NodeLease {
    /// The lease of node `node` for the engine holding `lock` (this process, started now).
    pub fn new(lock: &EngineLock, node: &str) -> Self {
        let pid = std::process::id();
        let started = Timestamp::now();
        Self {
            me: NodeHolder {
                node: node.to_string(),
                engine: lock.engine_id(),
                instance: format!("{pid}-{}", started.as_nanosecond()),
                state_dir: lock.dir().display().to_string(),
                host: crate::config::host_name(),
                user: user_name(),
                pid,
                pid_start: process_start(pid),
                started,
            },
        }
    }

    /// Who this engine is, as its lease says.
    pub fn holder(&self) -> &NodeHolder {
        &self.me
    }

    /// Takes (or confirms) the lease. Idempotent: the holder calling it again gets [`Claim::Held`].
    pub async fn acquire(&self, rt: &dyn ContainerRuntime) -> RtResult<Claim> {
        let mut took_over = None;
        // A round reads the leases, then creates the next generation if the top one is stale; the next round
        // reads back who won. More rounds than that mean others keep winning and dying: give up for now.
        for _ in 0..6 {
            let leases = self.list(rt).await?;
            let generation = match leases.last() {
                Some(top) if top.holder.instance == self.me.instance => {
                    self.remove_all_but(rt, &leases, &top.name).await;
                    if let Some(old) = &took_over {
                        tracing::warn!(node = %self.me.node, "took over the node's lease from a podtui engine that is gone ({old})");
                    }
                    return Ok(Claim::Held { took_over });
                }
                Some(top) => match liveness(&top.holder, &self.me) {
                    Liveness::Dead => {
                        took_over = Some(Box::new(top.holder.clone()));
                        top.generation + 1
                    }
                    alive => {
                        // A generation this engine created and lost is nobody's lease: remove it.
                        for l in leases
                            .iter()
                            .filter(|l| l.holder.instance == self.me.instance)
                        {
                            let _ = rt.remove_volume(&l.name).await;
                        }
                        return Ok(Claim::Refused(Box::new(NodeHeld {
                            holder: top.holder.clone(),
                            lease: top.name.clone(),
                            remote: alive == Liveness::Unknown,
                        })));
                    }
                },
                None => 1,
            };
            let name = labels::lease_volume_name(&self.me.node, generation);
            if let Err(e) = rt
                .create_volume(&name, self.me.labels(generation), HashMap::new())
                .await
                && !e.is_conflict()
            {
                return Err(e);
            }
        }
        Err(RuntimeError::Docker {
            op: format!("take the lease of node {}", self.me.node),
            message: "other engines keep taking it over; try again".into(),
            status: None,
        })
    }

    /// Removes this engine's lease (on a clean shutdown).
    pub async fn release(&self, rt: &dyn ContainerRuntime) -> RtResult<()> {
        for l in self.list(rt).await? {
            if l.holder.instance == self.me.instance {
                rt.remove_volume(&l.name).await?;
            }
        }
        Ok(())
    }

    /// Every lease volume of the node, lowest generation first.
    async fn list(&self, rt: &dyn ContainerRuntime) -> RtResult<Vec<Placed>> {
        let mut out: Vec<Placed> = rt
            .list_volumes(&labels::lease_filter(&self.me.node))
            .await?
            .into_iter()
            .filter_map(|(name, l)| {
                let (generation, holder) = NodeHolder::from_labels(&l)?;
                (holder.node == self.me.node).then_some(Placed {
                    name,
                    generation,
                    holder,
                })
            })
            .collect();
        out.sort_by_key(|p| p.generation);
        Ok(out)
    }

    /// Removes superseded generations (best effort: whoever holds the lease may do it).
    async fn remove_all_but(&self, rt: &dyn ContainerRuntime, leases: &[Placed], keep: &str) {
        for l in leases.iter().filter(|l| l.name != keep) {
            if let Err(e) = rt.remove_volume(&l.name).await {
                tracing::debug!("removing the superseded lease {}: {e}", l.name);
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Liveness {
    Alive,
    Dead,
    /// On another host.
    Unknown,
}

/// Whether `holder`'s engine still runs, as seen by `me` (who holds its own state dir's lock).
fn liveness(holder: &NodeHolder, me: &NodeHolder) -> Liveness {
    if holder.engine == me.engine {
        // Same state dir, whose lock `me` holds: the holder is an earlier run of this engine.
        return Liveness::Dead;
    }
    if holder.host != me.host {
        return Liveness::Unknown;
    }
    match lock::probe(Path::new(&holder.state_dir)) {
        LockProbe::Free => Liveness::Dead,
        // Another engine has that state dir now: the one that took the lease has stopped.
        LockProbe::Held { pid: Some(pid) } if pid != holder.pid => Liveness::Dead,
        LockProbe::Held { .. } => Liveness::Alive,
        LockProbe::Unreadable(_) if process_alive(holder.pid, holder.pid_start) => Liveness::Alive,
        LockProbe::Unreadable(_) => Liveness::Dead,
    }
}

/// True while process `pid` exists and (when `start` is known) is the one that started then.
fn process_alive(pid: u32, start: Option<u64>) -> bool {
    let Ok(id) = i32::try_from(pid) else {
        return false;
    };
    if id == 0 {
        return false;
    }
    if let Some(now) = process_start(pid) {
        return start.is_none_or(|s| s == now);
    }
    // No /proc entry to read (another user's process under hidepid, or no procfs): ask the kernel.
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(id, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A process's start time (field 22 of `/proc/<pid>/stat`, clock ticks after boot).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count fields after it.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The user running podtui: `$USER`, `$LOGNAME`, else the numeric UID.
fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        // SAFETY: getuid cannot fail.
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(engine: &str, dir: &Path, pid: u32) -> NodeHolder {
        NodeHolder {
            node: "n".into(),
            engine: engine.into(),
            instance: format!("{engine}-1"),
            state_dir: dir.display().to_string(),
            host: "h".into(),
            user: "u".into(),
            pid,
            pid_start: process_start(pid),
            started: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn labels_round_trip() {
        let h = holder("e1", Path::new("/s"), 42);
        assert_eq!(NodeHolder::from_labels(&h.labels(7)), Some((7, h)));
        assert_eq!(NodeHolder::from_labels(&HashMap::new()), None);
    }

    #[test]
    fn liveness_follows_the_holders_state_dir_lock() {
        let me_dir = tempfile::tempdir().unwrap();
        let me = holder("me", me_dir.path(), std::process::id());
        let other = tempfile::tempdir().unwrap();
        let lock = EngineLock::acquire(other.path(), "n").unwrap();
        let h = holder("other", other.path(), std::process::id());
        assert_eq!(liveness(&h, &me), Liveness::Alive);
        // The lock now held by another process than the lease names: the lease's holder has stopped.
        assert_eq!(
            liveness(&holder("other", other.path(), 1), &me),
            Liveness::Dead
        );
        drop(lock);
        assert_eq!(liveness(&h, &me), Liveness::Dead);
        // Same state dir as mine: an earlier run of this engine.
        assert_eq!(
            liveness(&holder("me", other.path(), 1), &me),
            Liveness::Dead
        );
        // Another host: cannot tell.
        let mut remote = h.clone();
        remote.host = "elsewhere".into();
        assert_eq!(liveness(&remote, &me), Liveness::Unknown);
    }

    #[test]
    fn unreadable_lock_falls_back_to_the_process() {
        let me = holder("me", Path::new("/nonexistent/me"), std::process::id());
        let gone = Path::new("/nonexistent/other");
        assert_eq!(
            liveness(&holder("o", gone, std::process::id()), &me),
            Liveness::Alive
        );
        // A PID reused by another process: its start time differs.
        let mut reused = holder("o", gone, std::process::id());
        reused.pid_start = reused.pid_start.map(|s| s + 1);
        assert_eq!(liveness(&reused, &me), Liveness::Dead);
        assert!(!process_alive(0, None));
        assert!(!process_alive(u32::MAX, None));
    }
}
