//! The Containers tab of the pod view: the pause container, init and app containers in one table (state and
//! reason, back-off countdowns, image pulls, restarts, exit codes, ages), then the probes.

use k8s_openapi::api::core::v1::ContainerStatus;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{block, one_line};
use crate::engine::snapshot::PodView;
use crate::runtime::docker::short;
use crate::runtime::observe::{InstanceState, ObservedContainer, Role};
use crate::text::human_duration;
use crate::tui::app::{App, ContainerRow, container_rows, instance};
use crate::tui::theme::Theme;

/// Draws the containers table and, below it, the probes.
pub fn draw(f: &mut Frame, app: &mut App, p: &PodView, area: Rect) {
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
    // The ID gives way first on a narrow terminal: the reason (and its countdown) matters more.
    let show_id = inner.width >= 96;
    let statuses = statuses(p);
    let now = app.now;
    let rows: Vec<Row> = rows_spec
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut cells = cells(p, c, &statuses, &t, now, wide);
            if !show_id {
                cells.remove(1);
            }
            let row = Row::new(cells);
            if i == app.pod_view.container_sel {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let (mut header, mut widths) = columns(&rows_spec, wide);
    if !show_id {
        header.remove(1);
        widths.remove(1);
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

/// The pod's init and app container statuses.
fn statuses(p: &PodView) -> Vec<ContainerStatus> {
    let status = p.pod.status.clone().unwrap_or_default();
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .cloned()
        .collect()
}

/// What the NAME column says a container is.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Sandbox => "sandbox",
        Role::Init => "init",
        Role::App => "app",
        Role::Ephemeral => "ephemeral",
    }
}

/// The header and column widths (FINISHED and IMAGE only when `wide`).
fn columns(rows: &[ContainerRow], wide: bool) -> (Vec<&'static str>, Vec<Constraint>) {
    let name_w = rows
        .iter()
        .map(|c| c.name.chars().count() + role_name(c.role).len() + 3)
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
    (header, widths)
}

/// The cells of container `c`'s row.
fn cells(
    p: &PodView,
    c: &ContainerRow,
    statuses: &[ContainerStatus],
    t: &Theme,
    now: jiff::Timestamp,
    wide: bool,
) -> Vec<Span<'static>> {
    let inst = instance(p, &c.name, false);
    let st = statuses
        .iter()
        .find(|s| s.name == c.name && c.role != Role::Sandbox);
    let role = role_name(c.role);
    let (mut state, mut reason, mut style) = state_and_reason(c, st, inst, t);
    if p.stopping.contains(&c.name) && inst.is_some_and(|i| i.state.is_running()) {
        // A restart a user asked for: the instance runs out its preStop and grace period first.
        (state, reason, style) = ("stopping".into(), "restart requested".into(), t.warn());
    }
    let reason = with_backoff(p, &c.name, reason, now, wide);
    let reason = with_pull_retry(p, st, reason, now, wide);
    let pulling = pull_progress(p, st);
    let (restarts, exit) = restarts_and_exit(c, st, inst);
    let (started, finished) = ages(inst, now);
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
    cells
}

/// STATE and REASON with the state's style: from the Kubernetes status when there is one, else from the
/// instance Docker has (the sandbox has no status).
fn state_and_reason(
    c: &ContainerRow,
    st: Option<&ContainerStatus>,
    inst: Option<&ObservedContainer>,
    t: &Theme,
) -> (String, String, Style) {
    match (st, inst) {
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
    }
}

/// `reason` with a countdown to `until`: short on a narrow table (both within the column), else `{reason},
/// {doing} in Ns`.
fn with_countdown(
    reason: String,
    until: Option<jiff::Timestamp>,
    doing: &str,
    now: jiff::Timestamp,
    wide: bool,
) -> String {
    let Some(until) = until else {
        return reason;
    };
    let secs = until.duration_since(now).as_secs().max(0);
    if wide {
        format!("{reason}, {doing} in {secs}s")
    } else {
        format!("{reason} ({secs}s)")
    }
}

/// The reason with the back-off countdown of container `name`, if it waits for one.
fn with_backoff(
    p: &PodView,
    name: &str,
    reason: String,
    now: jiff::Timestamp,
    wide: bool,
) -> String {
    let until = p.backoff.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
    with_countdown(reason, until, "restarting", now, wide)
}

/// `ImagePullBackOff` with the countdown to the next pull of the container's image.
fn with_pull_retry(
    p: &PodView,
    st: Option<&ContainerStatus>,
    reason: String,
    now: jiff::Timestamp,
    wide: bool,
) -> String {
    let Some(st) = st.filter(|_| reason == "ImagePullBackOff") else {
        return reason;
    };
    let until = p
        .pull_retry
        .iter()
        .find(|(image, _)| *image == st.image)
        .map(|(_, t)| *t);
    with_countdown(reason, until, "pulling again", now, wide)
}

/// The pull of the container's image, if one runs (` pulling 42%`).
fn pull_progress(p: &PodView, st: Option<&ContainerStatus>) -> String {
    p.pulls
        .iter()
        .find(|pl| Some(pl.image.as_str()) == st.map(|s| s.image.as_str()))
        .map(|pl| match (pl.current * 100).checked_div(pl.total) {
            Some(pct) => format!(" pulling {pct}%"),
            None => format!(" {}", pl.status),
        })
        .unwrap_or_default()
}

/// RESTARTS (the sandbox's attempts) and EXIT (the instance's code, or the last termination's in brackets).
fn restarts_and_exit(
    c: &ContainerRow,
    st: Option<&ContainerStatus>,
    inst: Option<&ObservedContainer>,
) -> (String, String) {
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
    (restarts, exit)
}

/// How long ago the instance started and finished.
fn ages(
    inst: Option<&ObservedContainer>,
    now: jiff::Timestamp,
) -> (Option<String>, Option<String>) {
    match inst.map(|i| &i.state) {
        Some(InstanceState::Running { started_at }) => (
            started_at.map(|s| human_duration(now.duration_since(s))),
            None,
        ),
        Some(InstanceState::Exited {
            started_at,
            finished_at,
            ..
        }) => (
            started_at.map(|s| human_duration(now.duration_since(s))),
            finished_at.map(|s| human_duration(now.duration_since(s))),
        ),
        _ => (None, None),
    }
}

fn state_text(state: &InstanceState) -> &'static str {
    match state {
        InstanceState::Created => "created",
        InstanceState::Running { .. } => "running",
        InstanceState::Exited { .. } => "exited",
        InstanceState::Other { .. } => "other",
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
                let age = human_duration(now.duration_since(*at));
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
