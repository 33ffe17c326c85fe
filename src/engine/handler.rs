//! Probes and lifecycle hooks: what they check and how podtui runs them without needing any tool in the user's
//! image.
//!
//! - `exec` runs in the container (Docker exec), as in Kubernetes.
//! - `httpGet`, `tcpSocket` and `grpc` are run by podtui itself. When podtui runs on the Docker host (the bridge's
//!   gateway address is one of this machine's addresses), it connects from the host to the pod IP, as a kubelet
//!   does. Otherwise (a remote `DOCKER_HOST`, Docker Desktop's VM), it runs podtui's pause program in the pod's
//!   sandbox (`/pause probe …` by Docker exec), which probes from inside the pod's network namespace.
//!   `PODTUI_PROBE_VIA=host|sandbox` forces one way.
//! - `sleep` (hooks) just waits.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, HTTPGetAction, LifecycleHandler, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::runtime::{ContainerRuntime, exec};

#[path = "../../assets/pause/probe.rs"]
#[allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
mod client;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// Gates the others until it passes once.
    Startup,
    /// Failing kills the container.
    Liveness,
    /// Failing takes the container out of READY.
    Readiness,
}

impl ProbeKind {
    /// `Liveness`, as in Kubernetes' event messages.
    pub fn title(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// What a probe or hook does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handler {
    /// A command in the container; exit 0 passes.
    Exec(Vec<String>),
    /// An HTTP GET; 200–399 passes.
    Http {
        /// `http` or `https`.
        scheme: String,
        /// Host to connect to (default: the pod IP).
        host: Option<String>,
        /// Port.
        port: u16,
        /// Path.
        path: String,
        /// Extra headers.
        headers: Vec<(String, String)>,
    },
    /// A TCP connection.
    Tcp {
        /// Host to connect to (default: the pod IP).
        host: Option<String>,
        /// Port.
        port: u16,
    },
    /// `grpc.health.v1.Health/Check`; SERVING passes.
    Grpc {
        /// Port.
        port: u16,
        /// Service name ("" for the server).
        service: String,
    },
    /// Wait (hooks only).
    Sleep(Duration),
}

/// A probe with Kubernetes' defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Which probe.
    pub kind: ProbeKind,
    /// What it checks.
    pub handler: Handler,
    /// Before the first run.
    pub initial_delay: Duration,
    /// Between runs.
    pub period: Duration,
    /// Per run.
    pub timeout: Duration,
    /// Successes in a row to pass.
    pub success_threshold: u32,
    /// Failures in a row to fail.
    pub failure_threshold: u32,
    /// Probe-level grace period for the kill (liveness/startup).
    pub termination_grace: Option<Duration>,
}

fn port_of(p: &IntOrString, c: &Container) -> Result<u16, String> {
    match p {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("port {n} is out of range")),
        IntOrString::String(name) => {
            if let Ok(n) = name.parse::<u16>() {
                return Ok(n);
            }
            c.ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| u16::try_from(p.container_port).ok())
                .ok_or_else(|| format!("no port named {name:?} in container {}", c.name))
        }
    }
}

fn http_handler(h: &HTTPGetAction, c: &Container) -> Result<Handler, String> {
    Ok(Handler::Http {
        scheme: h
            .scheme
            .clone()
            .unwrap_or_else(|| "HTTP".into())
            .to_ascii_lowercase(),
        host: h.host.clone().filter(|s| !s.is_empty()),
        port: port_of(&h.port, c)?,
        path: h
            .path
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into()),
        headers: h
            .http_headers
            .iter()
            .flatten()
            .map(|x| (x.name.clone(), x.value.clone()))
            .collect(),
    })
}

fn secs(v: Option<i32>, default: u64) -> Duration {
    Duration::from_secs(v.map(|s| s.max(0) as u64).unwrap_or(default))
}

/// The handler of a probe.
pub fn probe_handler(p: &Probe, c: &Container) -> Result<Handler, String> {
    if let Some(e) = &p.exec {
        return Ok(Handler::Exec(e.command.clone().unwrap_or_default()));
    }
    if let Some(h) = &p.http_get {
        return http_handler(h, c);
    }
    if let Some(t) = &p.tcp_socket {
        return Ok(Handler::Tcp {
            host: t.host.clone().filter(|s| !s.is_empty()),
            port: port_of(&t.port, c)?,
        });
    }
    if let Some(g) = &p.grpc {
        return Ok(Handler::Grpc {
            port: u16::try_from(g.port).map_err(|_| format!("port {} is out of range", g.port))?,
            service: g.service.clone().unwrap_or_default(),
        });
    }
    Err("the probe has no handler".into())
}

/// The container's probes (startup, liveness, readiness), with defaults applied.
pub fn probes_of(c: &Container) -> Vec<Result<ProbeSpec, String>> {
    let mut out = Vec::new();
    for (kind, p) in [
        (ProbeKind::Startup, &c.startup_probe),
        (ProbeKind::Liveness, &c.liveness_probe),
        (ProbeKind::Readiness, &c.readiness_probe),
    ] {
        let Some(p) = p else { continue };
        out.push(probe_handler(p, c).map(|handler| {
            ProbeSpec {
                kind,
                handler,
                initial_delay: secs(p.initial_delay_seconds, 0),
                period: secs(p.period_seconds, 10).max(Duration::from_secs(1)),
                timeout: secs(p.timeout_seconds, 1).max(Duration::from_secs(1)),
                success_threshold: p.success_threshold.unwrap_or(1).max(1) as u32,
                failure_threshold: p.failure_threshold.unwrap_or(3).max(1) as u32,
                termination_grace: p
                    .termination_grace_period_seconds
                    .map(|s| Duration::from_secs(s.max(0) as u64)),
            }
        }));
    }
    out
}

/// The handler of a lifecycle hook.
pub fn hook_handler(h: &LifecycleHandler, c: &Container) -> Result<Handler, String> {
    if let Some(e) = &h.exec {
        return Ok(Handler::Exec(e.command.clone().unwrap_or_default()));
    }
    if let Some(x) = &h.http_get {
        return http_handler(x, c);
    }
    if let Some(s) = &h.sleep {
        return Ok(Handler::Sleep(Duration::from_secs(s.seconds.max(0) as u64)));
    }
    if let Some(t) = &h.tcp_socket {
        return Ok(Handler::Tcp {
            host: t.host.clone().filter(|s| !s.is_empty()),
            port: port_of(&t.port, c)?,
        });
    }
    Err("the hook has no handler".into())
}

/// Where network probes run from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeVia {
    /// From this machine to the pod IP.
    Host,
    /// From inside the pod's network namespace, by Docker exec of `/pause probe` in the sandbox.
    Sandbox,
}

/// True when podtui runs on the Docker host: the bridge's gateway address is one of this machine's addresses.
pub fn is_docker_host(gateway: Option<&str>) -> bool {
    gateway
        .and_then(|g| g.parse::<IpAddr>().ok())
        .is_some_and(|ip| std::net::UdpSocket::bind((ip, 0)).is_ok())
}

/// Decides how to reach pods: `PODTUI_PROBE_VIA`, else the host when podtui runs on the Docker host.
pub fn probe_via(gateway: Option<&str>) -> ProbeVia {
    match std::env::var("PODTUI_PROBE_VIA").as_deref() {
        Ok("host") => return ProbeVia::Host,
        Ok("sandbox") => return ProbeVia::Sandbox,
        _ => {}
    }
    if is_docker_host(gateway) {
        ProbeVia::Host
    } else {
        ProbeVia::Sandbox
    }
}

/// Where a probe runs.
#[derive(Clone, Debug)]
pub struct Target {
    /// The container (exec handlers run in it).
    pub container_id: String,
    /// The sandbox (the in-pod path runs there).
    pub sandbox_id: String,
    /// The pod IP.
    pub pod_ip: Option<String>,
    /// The pod uses the host network (then network probes target 127.0.0.1).
    pub host_network: bool,
    /// Host or sandbox.
    pub via: ProbeVia,
}

impl Target {
    fn address(&self, host: &Option<String>, port: u16) -> Result<SocketAddr, String> {
        let h = match host {
            Some(h) => h.clone(),
            None if self.host_network => "127.0.0.1".into(),
            None => self.pod_ip.clone().ok_or("the pod has no IP")?,
        };
        let ip: IpAddr = h.parse().map_err(|_| {
            format!("host {h:?} is not an IP address (podtui does not resolve names for probes)")
        })?;
        Ok(SocketAddr::new(ip, port))
    }
}

/// Runs a handler once. `Ok` carries a short note, `Err` the failure as Kubernetes words it.
pub async fn run(
    rt: &dyn ContainerRuntime,
    h: &Handler,
    t: &Target,
    timeout: Duration,
) -> Result<String, String> {
    match h {
        Handler::Sleep(d) => {
            tokio::time::sleep(*d).await;
            Ok(format!("slept {}s", d.as_secs()))
        }
        Handler::Exec(cmd) => {
            let done = exec::run(rt, &t.container_id, cmd, timeout).await?;
            if done.exit_code == 0 {
                Ok(done.output)
            } else {
                Err(format!(
                    "command {cmd:?} exited with {}: {}",
                    done.exit_code, done.output
                ))
            }
        }
        Handler::Http {
            scheme,
            host,
            port,
            path,
            headers,
        } => {
            let addr = t.address(host, *port)?;
            match t.via {
                ProbeVia::Host => http_from_host(scheme, addr, path, headers, timeout).await,
                ProbeVia::Sandbox if scheme == "https" => Err(
                    "https probes from inside the pod are not supported; run podtui on the Docker host"
                        .into(),
                ),
                ProbeVia::Sandbox => {
                    let mut args = vec![addr.to_string(), host_header(headers, addr), path.clone()];
                    args.push(timeout.as_millis().to_string());
                    args.extend(headers.iter().map(|(k, v)| format!("{k}: {v}")));
                    in_sandbox(rt, t, "http", args, timeout).await
                }
            }
        }
        Handler::Tcp { host, port } => {
            let addr = t.address(host, *port)?;
            match t.via {
                ProbeVia::Host => tcp_from_host(addr, timeout).await,
                ProbeVia::Sandbox => {
                    let args = vec![addr.to_string(), timeout.as_millis().to_string()];
                    in_sandbox(rt, t, "tcp", args, timeout).await
                }
            }
        }
        Handler::Grpc { port, service } => {
            let addr = t.address(&None, *port)?;
            match t.via {
                ProbeVia::Host => grpc_from_host(addr, service, timeout).await,
                ProbeVia::Sandbox => {
                    let args = vec![
                        addr.to_string(),
                        service.clone(),
                        timeout.as_millis().to_string(),
                    ];
                    in_sandbox(rt, t, "grpc", args, timeout).await
                }
            }
        }
    }
}

async fn tcp_from_host(addr: SocketAddr, timeout: Duration) -> Result<String, String> {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Ok("tcp connect ok".into()),
        Ok(Err(e)) => Err(format!("dial tcp {addr}: {e}")),
        Err(_) => Err(format!("dial tcp {addr}: i/o timeout")),
    }
}

async fn grpc_from_host(
    addr: SocketAddr,
    service: &str,
    timeout: Duration,
) -> Result<String, String> {
    let svc = service.to_string();
    let r = tokio::task::spawn_blocking(move || {
        client::grpc_health(addr, &addr.to_string(), &svc, timeout)
    })
    .await
    .map_err(|e| e.to_string())?;
    match r {
        Ok(1) => Ok("SERVING".into()),
        Ok(code) => Err(format!(
            "service unhealthy (responded with {:?})",
            client::status_name(code)
        )),
        Err(e) => Err(format!(
            "timeout: failed to connect service {addr:?} within {}s: {e}",
            timeout.as_secs()
        )),
    }
}

fn host_header(headers: &[(String, String)], addr: SocketAddr) -> String {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| addr.to_string())
}

/// Runs `/pause probe KIND ARGS…` in the pod's sandbox, inside its network namespace.
async fn in_sandbox(
    rt: &dyn ContainerRuntime,
    t: &Target,
    kind: &str,
    args: Vec<String>,
    timeout: Duration,
) -> Result<String, String> {
    let mut cmd = vec!["/pause".to_string(), "probe".into(), kind.into()];
    cmd.extend(args);
    // The exec itself takes a moment: allow it on top of the probe's own timeout.
    let done = exec::run(rt, &t.sandbox_id, &cmd, timeout + Duration::from_secs(5)).await?;
    match done.exit_code {
        0 => Ok(done.output),
        126 | 127 => Err(format!(
            "the sandbox cannot run podtui's probe (a custom pause image?): {}",
            done.output
        )),
        _ => Err(done.output),
    }
}

async fn http_from_host(
    scheme: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<String, String> {
    if scheme == "http" {
        let host = host_header(headers, addr);
        let p = path.to_string();
        let headers: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
            .cloned()
            .collect();
        let r = tokio::task::spawn_blocking(move || {
            client::http_get(addr, &host, &p, &headers, timeout)
        })
        .await
        .map_err(|e| e.to_string())?;
        return match r {
            Ok(code) if (200..400).contains(&code) => Ok(format!("HTTP {code}")),
            Ok(code) => Err(format!("HTTP probe failed with statuscode: {code}")),
            Err(e) => Err(format!("Get \"http://{addr}{path}\": {e}")),
        };
    }
    // https: certificates are not verified, as the kubelet does not verify them either.
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(true)
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("https://{addr}{path}");
    let mut req = client.get(&url).header("User-Agent", "kube-probe/podtui");
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send().await {
        Ok(r) if (200..400).contains(&r.status().as_u16()) => {
            Ok(format!("HTTP {}", r.status().as_u16()))
        }
        Ok(r) => Err(format!(
            "HTTP probe failed with statuscode: {}",
            r.status().as_u16()
        )),
        Err(e) => Err(format!("Get {url:?}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerPort;

    #[test]
    fn defaults_and_named_ports() {
        let c: Container = serde_json::from_value(serde_json::json!({
            "name": "c", "image": "i",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"port": "http", "path": "/ready"}},
            "livenessProbe": {"tcpSocket": {"port": 9000}, "periodSeconds": 2, "failureThreshold": 1}
        }))
        .unwrap();
        let probes: Vec<ProbeSpec> = probes_of(&c).into_iter().map(Result::unwrap).collect();
        assert_eq!(probes.len(), 2);
        let live = &probes[0];
        assert_eq!(live.kind, ProbeKind::Liveness);
        assert_eq!(live.period, Duration::from_secs(2));
        assert_eq!(live.timeout, Duration::from_secs(1));
        assert_eq!(live.failure_threshold, 1);
        let ready = &probes[1];
        assert_eq!(ready.period, Duration::from_secs(10));
        assert_eq!(ready.failure_threshold, 3);
        assert!(
            matches!(&ready.handler, Handler::Http { port: 8080, path, .. } if path == "/ready")
        );
        let mut bad = c.clone();
        bad.ports = Some(vec![ContainerPort {
            container_port: 1,
            ..Default::default()
        }]);
        assert!(probes_of(&bad)[1].is_err());
    }
}
