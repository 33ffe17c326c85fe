//! The Network tab of the pod view: the picture `docker inspect` gives in pieces — who owns the network
//! namespace, its IP, hostname and published ports, and how every container joins it.

use ratatui::text::{Line, Span};

use crate::engine::ports::{host_address, is_wildcard};
use crate::engine::snapshot::PodView;
use crate::runtime::docker::short;
use crate::runtime::observe::{ObservedContainer, PublishedPort, Role};
use crate::tui::app::{container_rows, instance};
use crate::tui::theme::Theme;

/// The network picture of pod `p`: the namespace, the sandbox that owns it, each member, and a note on sharing.
pub fn lines(p: &PodView, t: &Theme) -> Vec<Line<'static>> {
    let Some(sb) = p.observed.latest_sandbox() else {
        return vec![Line::from(
            "no sandbox yet: the pod's network namespace does not exist",
        )];
    };
    let host = sb.network_mode == "host";
    let mut out = sandbox_lines(sb, host, t);
    out.extend(member_lines(p, sb, host, t));
    out.extend(sharing_note(sb, host, t));
    out
}

/// The namespace's owner: the pause container, its IP, hostname, modes and published ports.
fn sandbox_lines(sb: &ObservedContainer, host: bool, t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(vec![
        Span::styled("network namespace", t.title()),
        Span::raw(if host {
            " — the host's (hostNetwork: true): every container sees the host's interfaces"
                .to_string()
        } else {
            " — owned by the pause container; every container of the pod shares it".to_string()
        }),
    ])];
    out.push(Line::from(""));
    let sb_state = if sb.state.is_running() {
        Span::styled("running", t.ok())
    } else {
        Span::styled("NOT running", t.error())
    };
    out.push(Line::from(vec![
        Span::raw("┌─ "),
        Span::styled("pause (sandbox)", t.title()),
        Span::raw(format!(" id {}, attempt {}, ", short(&sb.id), sb.count)),
        sb_state,
    ]));
    out.push(Line::from(Span::styled(
        format!("│  {}", sb.docker_name),
        t.dim(),
    )));
    out.push(Line::from(format!(
        "│  IP {}   hostname {}   NetworkMode {}   IpcMode {}",
        if host {
            "<host>".to_string()
        } else {
            sb.ip.clone().unwrap_or_else(|| "<none>".into())
        },
        if sb.hostname.is_empty() {
            "<host>".into()
        } else {
            sb.hostname.clone()
        },
        sb.network_mode,
        sb.ipc_mode
    )));
    out.extend(port_lines(&sb.ports, t));
    out
}

/// Each init and app container and whether it joined the current sandbox's namespaces.
fn member_lines(p: &PodView, sb: &ObservedContainer, host: bool, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let joined = format!("container:{}", sb.id);
    let rows = container_rows(p);
    let members: Vec<_> = rows.iter().filter(|r| r.role != Role::Sandbox).collect();
    for (k, c) in members.iter().enumerate() {
        let last = k + 1 == members.len();
        let branch = if last { "└─" } else { "├─" };
        let Some(i) = instance(p, &c.name, false) else {
            out.push(Line::from(format!(
                "{branch} {} ({}): not created yet",
                c.name,
                if c.role == Role::Init { "init" } else { "app" }
            )));
            continue;
        };
        let net_ok = i.network_mode == joined || (host && i.network_mode == "host");
        let ipc_ok = i.ipc_mode == joined;
        let state = if i.state.is_running() {
            "running"
        } else {
            "stopped"
        };
        out.push(Line::from(vec![
            Span::raw(format!("{branch} {} ", c.name)),
            Span::styled(format!("({state}, id {})", short(&i.id)), t.dim()),
        ]));
        let pad = if last { "   " } else { "│  " };
        out.push(Line::from(vec![
            Span::raw(format!("{pad}NetworkMode ")),
            Span::styled(
                abbrev_mode(&i.network_mode),
                if net_ok { t.ok() } else { t.error() },
            ),
            Span::raw("   IpcMode "),
            Span::styled(
                abbrev_mode(&i.ipc_mode),
                if ipc_ok { t.ok() } else { t.error() },
            ),
            Span::raw(if net_ok {
                ""
            } else {
                "   ← not in the current sandbox"
            }),
        ]));
    }
    out
}

/// What sharing the namespace means (nothing to say for hostNetwork).
fn sharing_note(sb: &ObservedContainer, host: bool, t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from("")];
    if !host {
        out.push(Line::from(Span::styled(
            format!(
                "The containers share one IP ({}) and one localhost: they reach each other on localhost:<port>.",
                sb.ip.clone().unwrap_or_else(|| "<none>".into())
            ),
            t.dim(),
        )));
        out.push(Line::from(Span::styled(
            "If the pause container dies, podtui restarts the whole pod in a new sandbox (the others would keep a dead namespace).",
            t.dim(),
        )));
    }
    out
}

/// The sandbox's published ports; one bound to every interface of the host is marked.
fn port_lines(ports: &[PublishedPort], t: &Theme) -> Vec<Line<'static>> {
    if ports.is_empty() {
        return vec![Line::from(
            "│  published ports: none (only hostPort is published; containerPort alone is informational)",
        )];
    }
    ports
        .iter()
        .map(|port| {
            let mut line = vec![Span::raw(format!(
                "│  published {} → {}/{}",
                host_address(&port.host_ip, &port.host_port),
                port.container_port,
                port.protocol
            ))];
            if is_wildcard(&port.host_ip) {
                line.push(Span::styled("  ⚠ open to the network", t.warn()));
            }
            Line::from(line)
        })
        .collect()
}

fn abbrev_mode(mode: &str) -> String {
    match mode.strip_prefix("container:") {
        Some(id) => format!("container:{}", short(id)),
        None => mode.to_string(),
    }
}
