//! hostPorts open to the network: which ports of a pod the sandbox binds to a wildcard address (`0.0.0.0`,
//! `::`), from an explicit `hostIP` or from `--host-port-address`, and the warning the engine gives about each
//! once per start, so a playground never opens a port to the network unnoticed.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PodSpec;

use super::EngineEvent;
use super::events::{EventType, PodEvent, container_object};
use super::snapshot::PodView;
use crate::manifest::DesiredState;

/// The reason of the warning event.
pub const REASON: &str = "HostPortOpen";

/// A hostPort bound to every interface of the host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenPort {
    /// The container that declares it.
    pub container: String,
    /// Declared by an init container.
    pub init: bool,
    /// The address (`0.0.0.0`, `::`).
    pub host_ip: String,
    /// Host port.
    pub host_port: i32,
    /// Container port.
    pub container_port: i32,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// The address is `--host-port-address` (the port gives no `hostIP`).
    pub from_flag: bool,
}

impl OpenPort {
    /// What the warning says.
    pub fn message(&self) -> String {
        let why = if self.from_flag {
            format!("--host-port-address {}", self.host_ip)
        } else {
            format!("hostIP {}", self.host_ip)
        };
        format!(
            "hostPort {}→{}/{} is open to the network: it binds every interface of this host ({why}); use hostIP 127.0.0.1 to keep it on this machine",
            host_address(&self.host_ip, &self.host_port.to_string()),
            self.container_port,
            self.protocol
        )
    }
}

/// True for an address that binds every interface: `0.0.0.0`, `::`, and an empty one (Docker then binds both).
pub fn is_wildcard(ip: &str) -> bool {
    ip.is_empty() || ip.parse::<IpAddr>().is_ok_and(|a| a.is_unspecified())
}

/// `ip:port`, with an IPv6 address in brackets and an empty one as `0.0.0.0`.
pub fn host_address(ip: &str, port: &str) -> String {
    match ip {
        "" => format!("0.0.0.0:{port}"),
        ip if ip.contains(':') => format!("[{ip}]:{port}"),
        ip => format!("{ip}:{port}"),
    }
}

/// The hostPorts of `spec` bound to a wildcard address, as the sandbox publishes them: `hostIP`, else
/// `default`; none with `hostNetwork` (nothing is published then).
pub fn open_ports(spec: &PodSpec, default: IpAddr) -> Vec<OpenPort> {
    if spec.host_network == Some(true) {
        return Vec::new();
    }
    let inits = spec.init_containers.iter().flatten().map(|c| (c, true));
    let apps = spec.containers.iter().map(|c| (c, false));
    let mut out = Vec::new();
    for (c, init) in inits.chain(apps) {
        for p in c.ports.iter().flatten() {
            let Some(host_port) = p.host_port.filter(|h| *h > 0) else {
                continue;
            };
            let explicit = p.host_ip.clone().filter(|h| !h.is_empty());
            let from_flag = explicit.is_none();
            let host_ip = explicit.unwrap_or_else(|| default.to_string());
            if is_wildcard(&host_ip) {
                out.push(OpenPort {
                    container: c.name.clone(),
                    init,
                    host_ip,
                    host_port,
                    container_port: p.container_port,
                    protocol: p
                        .protocol
                        .clone()
                        .unwrap_or_else(|| "TCP".into())
                        .to_ascii_lowercase(),
                    from_flag,
                });
            }
        }
    }
    out
}

/// The open-port warnings given since the engine started: one per pod and port.
#[derive(Debug, Default)]
pub struct OpenPortWarnings {
    warned: BTreeSet<(String, OpenPort)>,
    /// By pod key: the warnings, shown among the pod's events.
    events: HashMap<String, Vec<PodEvent>>,
}

impl OpenPortWarnings {
    /// Warns (an engine event and a log line) about every open port of `desired` not warned about since the
    /// engine started, where hostPorts without `hostIP` bind `default`; returns the new events.
    pub fn check(&mut self, desired: &DesiredState, default: IpAddr) -> Vec<EngineEvent> {
        let now = Timestamp::now();
        let mut new = Vec::new();
        for dp in desired.pods.values() {
            let Some(spec) = dp.pod.spec.as_ref() else {
                continue;
            };
            let key = dp.key();
            for port in open_ports(spec, default) {
                if !self.warned.insert((key.clone(), port.clone())) {
                    continue;
                }
                let event = PodEvent {
                    kind: EventType::Warning,
                    reason: REASON.to_string(),
                    object: container_object(&port.container, port.init),
                    message: port.message(),
                    count: 1,
                    first_seen: now,
                    last_seen: now,
                };
                tracing::warn!(pod = %key, "{}", event.message);
                self.events
                    .entry(key.clone())
                    .or_default()
                    .push(event.clone());
                new.push(EngineEvent {
                    time: now,
                    pod: Some(key.clone()),
                    event,
                });
            }
        }
        new
    }

    /// `view` with the warnings about its pod among its events (in time order).
    pub fn decorate(&self, view: Arc<PodView>) -> Arc<PodView> {
        let Some(warnings) = self.events.get(&view.key()) else {
            return view;
        };
        let missing: Vec<&PodEvent> = warnings
            .iter()
            .filter(|w| !view.events.contains(w))
            .collect();
        if missing.is_empty() {
            return view;
        }
        let mut v = (*view).clone();
        for w in missing {
            let at = v.events.partition_point(|e| e.first_seen <= w.first_seen);
            v.events.insert(at, w.clone());
        }
        Arc::new(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> PodSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const ANY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

    #[test]
    fn wildcard_addresses() {
        for ip in ["0.0.0.0", "::", "", "0:0::0"] {
            assert!(is_wildcard(ip), "{ip}");
        }
        for ip in ["127.0.0.1", "::1", "192.168.1.2", "localhost"] {
            assert!(!is_wildcard(ip), "{ip}");
        }
        assert_eq!(host_address("::", "80"), "[::]:80");
        assert_eq!(host_address("", "80"), "0.0.0.0:80");
    }

    #[test]
    fn ports_open_by_hostip_or_by_the_flag() {
        let s = spec(
            "containers:\n- name: a\n  ports:\n  - {containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0}\n  - {containerPort: 81, hostPort: 8081}\n  - {containerPort: 82, hostPort: 8082, hostIP: '::', protocol: UDP}\n  - {containerPort: 83, hostPort: 8083, hostIP: 127.0.0.1}\n  - {containerPort: 84}\n",
        );
        let open: Vec<(i32, bool)> = open_ports(&s, LOCAL)
            .iter()
            .map(|p| (p.host_port, p.from_flag))
            .collect();
        assert_eq!(open, [(8080, false), (8082, false)]);
        let open: Vec<(i32, bool)> = open_ports(&s, ANY)
            .iter()
            .map(|p| (p.host_port, p.from_flag))
            .collect();
        assert_eq!(open, [(8080, false), (8081, true), (8082, false)]);
        let udp = &open_ports(&s, LOCAL)[1];
        assert_eq!(
            udp.message(),
            "hostPort [::]:8082→82/udp is open to the network: it binds every interface of this host (hostIP ::); use hostIP 127.0.0.1 to keep it on this machine"
        );
        let host = spec(
            "hostNetwork: true\ncontainers:\n- name: a\n  ports:\n  - {containerPort: 80, hostPort: 80, hostIP: 0.0.0.0}\n",
        );
        assert!(open_ports(&host, ANY).is_empty());
    }
}
