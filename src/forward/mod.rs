//! Port-forwarding: `127.0.0.1:LOCAL` → a pod's `REMOTE` port, for `podtui port-forward` and the TUI's `F`.
//!
//! Each accepted connection looks the pod up by name again ([`target::resolve`], from the containers' labels, as
//! `podtui logs` does), so a forward survives the pod's containers restarting and follows a replaced pod of the
//! same name (a [`Note`] says so). It then connects to the pod IP directly when that is routable from here
//! (Linux with a local engine; found out by trying), or else relays through the sandbox: `/pause relay
//! 127.0.0.1:REMOTE` run by Docker exec in the pause container, inside the pod's network namespace.
//! `PODTUI_FORWARD_VIA=direct|sandbox` forces one way. Every byte is passed through in both directions and a
//! half-close (EOF one way) is passed on while the other way keeps flowing.

pub mod relay;
pub mod target;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::runtime::Runtime;
use target::{PodRef, Resolved};

/// How connections reach the pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The pod IP when it answers from here, else the sandbox (the first connection decides).
    Auto,
    /// Always the pod IP.
    Direct,
    /// Always through the sandbox's relay.
    Sandbox,
}

impl Via {
    /// `PODTUI_FORWARD_VIA` (`direct`, `sandbox`), else [`Via::Auto`].
    pub fn from_env() -> Via {
        match std::env::var("PODTUI_FORWARD_VIA").as_deref() {
            Ok("direct") => Via::Direct,
            Ok("sandbox") => Via::Sandbox,
            _ => Via::Auto,
        }
    }
}

/// One `[LOCAL:]REMOTE` pair, kubectl's syntax: `8080` (same port), `8080:80`, `:80` (a free local port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortPair {
    /// The local port (`0`: any free one).
    pub local: u16,
    /// The pod's port.
    pub remote: u16,
}

impl std::str::FromStr for PortPair {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str, what: &str| -> Result<u16, String> {
            p.parse::<u16>()
                .map_err(|_| format!("{s:?}: {what} port {p:?} is not a port number"))
        };
        match s.split_once(':') {
            None => {
                let p = port(s, "the")?;
                Ok(PortPair {
                    local: p,
                    remote: p,
                })
            }
            Some((l, r)) => {
                let remote = port(r, "the remote")?;
                if remote == 0 {
                    return Err(format!("{s:?}: the remote port cannot be 0"));
                }
                let local = if l.is_empty() {
                    0
                } else {
                    port(l, "the local")?
                };
                Ok(PortPair { local, remote })
            }
        }
    }
}

/// Something a forward has to say: a connection failed, the pod was replaced.
pub type Note = String;

/// Counters of one forward.
#[derive(Debug, Default)]
pub struct Counters {
    /// Connections open now.
    pub active: AtomicUsize,
    /// Connections accepted in all.
    pub total: AtomicU64,
}

/// A running forward; dropping it (or [`Forward::stop`]) stops listening and closes its connections.
#[derive(Debug)]
pub struct Forward {
    /// The pod as asked for.
    pub pod: String,
    /// Where it listens.
    pub local: SocketAddr,
    /// The pod's port.
    pub remote: u16,
    /// Its counters.
    pub counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Forward {
    /// Stops listening and closes every connection of this forward.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// Whether the forward still listens.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Shared by a forward's connections: the runtime, the pod, how to reach it, the last pod seen.
struct Shared {
    rt: Runtime,
    pod: PodRef,
    remote: u16,
    via: Mutex<Via>,
    last_uid: Mutex<Option<String>>,
    notes: mpsc::UnboundedSender<Note>,
}

/// Listens on `address:pair.local` and forwards every connection to the pod's `pair.remote`. Fails when the
/// pod is not found or the local port cannot be bound. Notes go to `notes`.
pub async fn start(
    rt: Runtime,
    pod: PodRef,
    address: IpAddr,
    pair: PortPair,
    via: Via,
    notes: mpsc::UnboundedSender<Note>,
) -> Result<Forward, String> {
    let first = target::resolve(rt.as_ref(), &pod).await?;
    let listener = TcpListener::bind((address, pair.local))
        .await
        .map_err(|e| format!("unable to listen on {address}:{}: {e}", pair.local))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let counters = Arc::new(Counters::default());
    let shared = Arc::new(Shared {
        rt,
        pod: pod.clone(),
        remote: pair.remote,
        via: Mutex::new(via),
        last_uid: Mutex::new(Some(first.uid)),
        notes,
    });
    let task = tokio::spawn(accept_loop(listener, shared, counters.clone()));
    Ok(Forward {
        pod: pod.to_string(),
        local,
        remote: pair.remote,
        counters,
        task,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, counters: Arc<Counters>) {
    // Connections are tasks of this one, aborted with it.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = client.set_nodelay(true);
                counters.total.fetch_add(1, Ordering::Relaxed);
                counters.active.fetch_add(1, Ordering::Relaxed);
                let (shared, counters) = (shared.clone(), counters.clone());
                conns.spawn(async move {
                    if let Err(e) = handle(&shared, client).await {
                        let _ = shared.notes.send(format!(
                            "error forwarding port {} to pod {}: {e}",
                            shared.remote, shared.pod
                        ));
                    }
                    counters.active.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// One connection: find the pod now, connect, pass bytes both ways.
async fn handle(shared: &Shared, client: TcpStream) -> Result<(), String> {
    let pod = target::resolve(shared.rt.as_ref(), &shared.pod).await?;
    note_replacement(shared, &pod).await;
    let via = *shared.via.lock().await;
    match via {
        Via::Sandbox => {
            relay::through_sandbox(shared.rt.as_ref(), &pod, shared.remote, client).await
        }
        Via::Direct => direct(&pod, shared.remote, client).await,
        Via::Auto => match connect_direct(&pod, shared.remote).await {
            Ok(upstream) => relay::bidirectional(client, upstream).await,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Err(format!(
                "connection refused by {}:{}",
                ip_of(&pod),
                shared.remote
            )),
            Err(e) => {
                tracing::info!(error = %e, "pod IP not reachable from here; forwarding through the sandbox");
                *shared.via.lock().await = Via::Sandbox;
                relay::through_sandbox(shared.rt.as_ref(), &pod, shared.remote, client).await
            }
        },
    }
}

async fn note_replacement(shared: &Shared, pod: &Resolved) {
    let mut last = shared.last_uid.lock().await;
    if last.as_deref() != Some(pod.uid.as_str()) {
        if last.is_some() {
            let _ = shared.notes.send(format!(
                "pod {} was replaced (new UID {}); forwarding to the new pod",
                shared.pod, pod.uid
            ));
        }
        *last = Some(pod.uid.clone());
    }
}

fn ip_of(pod: &Resolved) -> String {
    pod.ip.clone().unwrap_or_else(|| "?".into())
}

async fn connect_direct(pod: &Resolved, remote: u16) -> std::io::Result<TcpStream> {
    let Some(ip) = pod.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "the pod has no IP on the bridge",
        ));
    };
    match tokio::time::timeout(Duration::from_secs(2), TcpStream::connect((ip, remote))).await {
        Ok(r) => {
            let s = r?;
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("connect {ip}:{remote} timed out"),
        )),
    }
}

async fn direct(pod: &Resolved, remote: u16, client: TcpStream) -> Result<(), String> {
    let upstream = connect_direct(pod, remote)
        .await
        .map_err(|e| format!("connect {}:{remote}: {e}", ip_of(pod)))?;
    relay::bidirectional(client, upstream).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_pairs_use_kubectls_syntax() {
        let p = |s: &str| s.parse::<PortPair>();
        assert_eq!(
            p("8080"),
            Ok(PortPair {
                local: 8080,
                remote: 8080
            })
        );
        assert_eq!(
            p("9000:80"),
            Ok(PortPair {
                local: 9000,
                remote: 80
            })
        );
        assert_eq!(
            p(":80"),
            Ok(PortPair {
                local: 0,
                remote: 80
            })
        );
        assert!(p("x:80").unwrap_err().contains("local port"));
        assert!(p("80:0").is_err());
        assert!(p("70000").is_err());
    }
}
