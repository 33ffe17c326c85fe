//! A pod's view: title, tabs (Containers, Network, Volumes, Logs, Events, YAML) and the selected tab.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Tabs, Wrap};

use super::{block, one_line};
use crate::engine::events::EventType;
use crate::engine::ports::{host_address, is_wildcard};
use crate::engine::snapshot::PodView;
use crate::engine::status::short_age;
use crate::runtime::docker::short;
use crate::runtime::observe::{InstanceState, PublishedPort, Role};
use crate::text::escape_controls;
use crate::tui::app::{App, Tab, container_rows, instance};
use crate::tui::theme::Theme;

/// Draws the pod view.
pub fn draw(f: &mut Frame, app: &mut App, area: Rect) {
    let Some(p) = app.detail_pod().cloned() else {
        f.render_widget(Paragraph::new("the pod is gone"), area);
        return;
    };
    let t = app.cfg.theme.clone();
    let [title, tabs, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let mut status = p.columns.status.clone();
    if let Some(d) = p.terminating {
        status = format!(
            "Terminating ({}s left)",
            d.duration_since(app.now).as_secs().max(0)
        );
    }
    let source = escape_controls(&p.source);
    let file = match p.line {
        Some(l) if l > 1 => format!("{source}:{l}"),
        _ => source.to_string(),
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!("Pod {}", p.name), t.title()),
            Span::raw(format!(" ({}) ", p.namespace)),
            Span::styled(status, t.status(&p.columns.status)),
            Span::raw(format!(
                " · ready {} · IP {} · ",
                p.columns.ready,
                p.ip().unwrap_or("<none>")
            )),
            Span::styled(file, t.dim()),
            Span::styled(format!(" · uid {}", &p.uid[..p.uid.len().min(8)]), t.dim()),
            Span::styled(
                if p.host_access.is_empty() {
                    String::new()
                } else {
                    format!(" · ⚠ host access: {}", p.host_access.join(", "))
                },
                t.warn(),
            ),
        ])),
        title,
    );
    let titles: Vec<Line> = Tab::ALL.iter().map(|x| Line::from(x.title())).collect();
    let sel = Tab::ALL.iter().position(|x| *x == app.tab).unwrap_or(0);
    app.areas.tabs = tabs;
    f.render_widget(
        Tabs::new(titles)
            .select(sel)
            .highlight_style(t.selected())
            .divider("│")
            .padding(" ", " "),
        tabs,
    );
    match app.tab {
        Tab::Containers => containers(f, app, &p, body),
        Tab::Network => text_tab(f, app, " Network ", network_lines(&p, &t), body),
        Tab::Volumes => text_tab(f, app, " Volumes ", volume_lines(&p, &t), body),
        Tab::Logs => super::logs::draw(f, app, &p, body),
        Tab::Events => events(f, app, &p, body),
        Tab::Yaml => {
            let (title, text) = if app.pod_view.yaml_applied {
                (
                    format!(" manifest as applied: {source} (Y: the pod as podtui sees it) "),
                    p.manifest
                        .as_deref()
                        .map(str::to_string)
                        .unwrap_or_else(|| "# no manifest: this pod is being removed".into()),
                )
            } else {
                (
                    " the pod as podtui sees it, get -o yaml (Y: the manifest) ".to_string(),
                    serde_yaml::to_string(&p.pod).unwrap_or_default(),
                )
            };
            let lines = text
                .lines()
                .map(|l| {
                    Line::from(
                        super::super::sanitize::Sanitizer::new(false)
                            .line(l)
                            .into_iter()
                            .map(|s| Span::raw(s.text))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            text_tab(f, app, &title, lines, body)
        }
    }
}

fn text_tab(f: &mut Frame, app: &mut App, title: &str, lines: Vec<Line<'static>>, area: Rect) {
    let b = block(app, title.to_string(), true);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height as usize;
    app.page = height.max(1);
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = para.line_count(inner.width);
    app.pod_view.scroll = app.pod_view.scroll.min(total.saturating_sub(height));
    f.render_widget(
        para.scroll((app.pod_view.scroll.min(u16::MAX as usize) as u16, 0)),
        inner,
    );
}

fn state_text(state: &InstanceState) -> &'static str {
    match state {
        InstanceState::Created => "created",
        InstanceState::Running { .. } => "running",
        InstanceState::Exited { .. } => "exited",
        InstanceState::Other { .. } => "other",
    }
}

fn containers(f: &mut Frame, app: &mut App, p: &PodView, area: Rect) {
    let t = app.cfg.theme.clone();
    let b = block(
        app,
        " Containers (the pause container owns the pod's namespaces) ".into(),
        true,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let rows_spec = container_rows(p);
    app.areas.container_rows = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    let wide = inner.width >= 120;
    let status = p.pod.status.clone().unwrap_or_default();
    let statuses: Vec<_> = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .cloned()
        .collect();
    let now = app.now;
    let mut rows = Vec::new();
    for (i, c) in rows_spec.iter().enumerate() {
        let inst = instance(p, &c.name, false);
        let st = statuses
            .iter()
            .find(|s| s.name == c.name && c.role != Role::Sandbox);
        let role = match c.role {
            Role::Sandbox => "sandbox",
            Role::Init => "init",
            Role::App => "app",
        };
        let (state, reason, style) = match (st, inst) {
            (Some(s), _) => {
                let cs = s.state.clone().unwrap_or_default();
                if let Some(w) = cs.waiting {
                    (
                        "waiting".to_string(),
                        w.reason.unwrap_or_default(),
                        t.status("Waiting"),
                    )
                } else if cs.running.is_some() {
                    (
                        "running".to_string(),
                        if s.ready {
                            "ready".into()
                        } else {
                            "not ready".into()
                        },
                        t.ok(),
                    )
                } else if let Some(term) = cs.terminated {
                    let r = term.reason.unwrap_or_default();
                    let st = t.status(&r);
                    ("terminated".to_string(), r, st)
                } else {
                    ("-".into(), String::new(), Style::default())
                }
            }
            (None, Some(i)) => {
                let s = state_text(&i.state).to_string();
                let style = if i.state.is_running() {
                    t.ok()
                } else {
                    t.error()
                };
                (
                    s,
                    if c.role == Role::Sandbox {
                        format!("attempt {}", i.count)
                    } else {
                        String::new()
                    },
                    style,
                )
            }
            (None, None) => ("-".into(), "not created".into(), t.dim()),
        };
        let reason = match p.backoff.iter().find(|(n, _)| *n == c.name) {
            // Narrow: the countdown first, so the column's cut cannot hide it.
            Some((_, until)) if !wide => format!(
                "restart in {}s: {reason}",
                until.duration_since(now).as_secs().max(0)
            ),
            Some((_, until)) => format!(
                "{reason}, restarting in {}s",
                until.duration_since(now).as_secs().max(0)
            ),
            None => reason,
        };
        let pulling = p
            .pulls
            .iter()
            .find(|pl| Some(pl.image.as_str()) == st.map(|s| s.image.as_str()))
            .map(|pl| match (pl.current * 100).checked_div(pl.total) {
                Some(pct) => format!(" pulling {pct}%"),
                None => format!(" {}", pl.status),
            })
            .unwrap_or_default();
        let restarts = if c.role == Role::Sandbox {
            inst.map(|i| i.count.to_string()).unwrap_or_default()
        } else {
            st.map(|s| s.restart_count.to_string()).unwrap_or_default()
        };
        let exit = match inst.map(|i| &i.state) {
            Some(InstanceState::Exited { exit_code, .. }) => exit_code.to_string(),
            _ => st
                .and_then(|s| s.last_state.as_ref())
                .and_then(|l| l.terminated.as_ref())
                .map(|x| format!("({})", x.exit_code))
                .unwrap_or_default(),
        };
        let (started, finished) = match inst.map(|i| &i.state) {
            Some(InstanceState::Running { started_at }) => {
                (started_at.map(|s| short_age(now.duration_since(s))), None)
            }
            Some(InstanceState::Exited {
                started_at,
                finished_at,
                ..
            }) => (
                started_at.map(|s| short_age(now.duration_since(s))),
                finished_at.map(|s| short_age(now.duration_since(s))),
            ),
            _ => (None, None),
        };
        let image = inst
            .map(|i| i.image.clone())
            .or_else(|| st.map(|s| s.image.clone()))
            .unwrap_or_default();
        let mut cells = vec![
            Span::raw(format!("{} ({role})", c.name)),
            Span::raw(
                inst.map(|i| short(&i.id).to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            Span::styled(format!("{state}{pulling}"), style),
            Span::raw(reason),
            Span::raw(restarts),
            Span::raw(exit),
            Span::raw(started.map(|s| format!("{s} ago")).unwrap_or_default()),
        ];
        if wide {
            cells.push(Span::raw(
                finished.map(|s| format!("{s} ago")).unwrap_or_default(),
            ));
            cells.push(Span::styled(image, t.dim()));
        }
        let row = Row::new(cells);
        rows.push(if i == app.pod_view.container_sel {
            row.style(t.selected())
        } else {
            row
        });
    }
    let name_w = rows_spec
        .iter()
        .map(|c| c.name.chars().count() + if c.role == Role::Sandbox { 10 } else { 6 })
        .max()
        .unwrap_or(10)
        .clamp(10, 30) as u16;
    let mut header = vec![
        "NAME", "ID", "STATE", "REASON", "RESTARTS", "EXIT", "STARTED",
    ];
    let mut widths = vec![
        Constraint::Length(name_w),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Min(16),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(8),
    ];
    if wide {
        header.extend(["FINISHED", "IMAGE"]);
        widths.extend([Constraint::Length(9), Constraint::Length(30)]);
    }
    let table_height = (rows.len() as u16 + 1).min(inner.height);
    let table_area = Rect::new(inner.x, inner.y, inner.width, table_height);
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(t.title()))
            .column_spacing(1),
        table_area,
    );
    let rest = Rect::new(
        inner.x,
        inner.y + table_height,
        inner.width,
        inner.height - table_height,
    );
    if rest.height > 1 && !p.probes.is_empty() {
        f.render_widget(
            Paragraph::new(probe_lines(p, &t, app.now, inner.width as usize)),
            rest,
        );
    }
}

/// One line per probe: what it checks, the last result, failures in a row, the next run.
fn probe_lines(p: &PodView, t: &Theme, now: jiff::Timestamp, width: usize) -> Vec<Line<'static>> {
    let mut out = vec![
        Line::from(""),
        Line::from(Span::styled("PROBES", t.title())),
    ];
    for pr in &p.probes {
        let kind = format!("{:?}", pr.kind).to_lowercase();
        let mut spans = vec![Span::raw(format!(
            "{:<14} {:<9} {:<28} ",
            pr.container,
            kind,
            one_line(&pr.handler, 28)
        ))];
        match &pr.last {
            None if pr.gated => spans.push(Span::styled(
                "waits for the startup probe".to_string(),
                t.dim(),
            )),
            None => spans.push(Span::styled("not run yet".to_string(), t.dim())),
            Some((ok, msg, at)) => {
                let age = short_age(now.duration_since(*at));
                let (word, style) = if *ok {
                    ("ok", t.ok())
                } else {
                    ("failed", t.error())
                };
                spans.push(Span::styled(format!("{word} {age} ago"), style));
                if !ok || !msg.is_empty() {
                    spans.push(Span::raw(format!(
                        " ({})",
                        one_line(msg, width.saturating_sub(80).max(20))
                    )));
                }
                if pr.failures > 0 {
                    spans.push(Span::styled(
                        format!(" · {} failure(s) in a row", pr.failures),
                        t.error(),
                    ));
                }
            }
        }
        if let Some(next) = pr.next {
            spans.push(Span::styled(
                format!(" · next in {}s", next.duration_since(now).as_secs().max(0)),
                t.dim(),
            ));
        }
        out.push(Line::from(spans));
    }
    out
}

/// The network picture `docker inspect` gives in pieces: who owns the namespace, its IP, hostname and
/// published ports, and how every container joins it.
pub fn network_lines(p: &PodView, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(sb) = p.observed.latest_sandbox() else {
        out.push(Line::from(
            "no sandbox yet: the pod's network namespace does not exist",
        ));
        return out;
    };
    let host = sb.network_mode == "host";
    out.push(Line::from(vec![
        Span::styled("network namespace", t.title()),
        Span::raw(if host {
            " — the host's (hostNetwork: true): every container sees the host's interfaces"
                .to_string()
        } else {
            " — owned by the pause container; every container of the pod shares it".to_string()
        }),
    ]));
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
    out.push(Line::from(""));
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

fn volume_lines(p: &PodView, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    if p.volumes.is_empty() {
        out.push(Line::from("the pod has no volumes"));
    }
    for v in &p.volumes {
        out.push(Line::from(vec![
            Span::styled(v.name.clone(), t.title()),
            Span::raw(format!("  {}  ", v.kind)),
            Span::styled(escape_controls(&v.source).into_owned(), t.dim()),
        ]));
        if v.mounts.is_empty() {
            out.push(Line::from(Span::styled(
                "  mounted by no container",
                t.dim(),
            )));
        }
        for (c, path, ro) in &v.mounts {
            out.push(Line::from(format!(
                "  └─ {c:<20} {path}{}",
                if *ro { "  (read-only)" } else { "" }
            )));
        }
        out.push(Line::from(""));
    }
    out
}

fn events(f: &mut Frame, app: &mut App, p: &PodView, area: Rect) {
    let t = app.cfg.theme.clone();
    let b = block(
        app,
        format!(" Events ({}) newest first ", p.events.len()),
        true,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    app.pod_view.scroll = app.pod_view.scroll.min(p.events.len().saturating_sub(1));
    let now = app.now;
    let width = inner.width as usize;
    let mut age_w = "LAST SEEN".len();
    let rows: Vec<Row> = p
        .events
        .iter()
        .rev()
        .skip(app.pod_view.scroll)
        .take(height)
        .map(|e| {
            let style = if e.kind == EventType::Warning {
                t.error()
            } else {
                Style::default()
            };
            let age = if e.count > 1 {
                format!(
                    "{} (x{} over {})",
                    short_age(now.duration_since(e.last_seen)),
                    e.count,
                    short_age(now.duration_since(e.first_seen))
                )
            } else {
                short_age(now.duration_since(e.last_seen))
            };
            age_w = age_w.max(age.chars().count());
            Row::new(vec![
                Span::raw(age),
                Span::styled(format!("{:?}", e.kind), style),
                Span::raw(e.reason.clone()),
                Span::styled(e.object.clone(), t.dim()),
                Span::raw(one_line(&e.message, width)),
            ])
        })
        .collect();
    let obj_w = if inner.width >= 120 { 28 } else { 0 };
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(age_w as u16),
                Constraint::Length(7),
                Constraint::Length(20),
                Constraint::Length(obj_w),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new([
                "LAST SEEN",
                "TYPE",
                "REASON",
                if obj_w > 0 { "OBJECT" } else { "" },
                "MESSAGE",
            ])
            .style(t.title()),
        )
        .column_spacing(1),
        inner,
    );
}
