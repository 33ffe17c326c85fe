//! The pods table (virtualised: only visible rows are built), the manifests pane and the all-pods events view.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::{block, one_line};
use crate::engine::events::EventType;
use crate::engine::snapshot::PodView;
use crate::engine::status::restarts_text;
use crate::manifest::{FileState, FileStatus};
use crate::text::escape_controls;
use crate::text::human_duration;
use crate::tui::app::find::{all_events, event_text};
use crate::tui::app::{App, Focus};
use crate::tui::theme::Theme;

/// The pods screen: table on top, manifests below (or only the focused one when the terminal is short).
pub fn draw(f: &mut Frame, app: &mut App, area: Rect) {
    let both = area.height >= 14;
    if both {
        let files = app.snap.files.len() as u16;
        let extra: u16 = app
            .snap
            .files
            .iter()
            .filter(|f| {
                matches!(f.state, FileState::Invalid { .. }) || f.state == FileState::Conflict
            })
            .map(|f| {
                f.findings.iter().filter(|x| x.is_error()).count().min(2) as u16
                    + f.conflicts.len() as u16
            })
            .sum();
        let want = (files + extra + 2).max(4);
        let max = area.height * 2 / 5;
        let [top, bottom] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(want.min(max))]).areas(area);
        draw_table(f, app, top);
        draw_manifests(f, app, bottom);
    } else if app.focus == Focus::Manifests {
        draw_manifests(f, app, area);
    } else {
        draw_table(f, app, area);
    }
}

fn draw_table(f: &mut Frame, app: &mut App, area: Rect) {
    let t = app.cfg.theme.clone();
    let focused = app.focus == Focus::Pods;
    let arrow = if app.pods.reverse { "↑" } else { "↓" };
    let mut title = format!(
        " Pods ({}/{}) · by {}{arrow} ",
        app.pods.visible.len(),
        app.snap.pods.len(),
        app.pods.sort.column()
    );
    if !app.pods.filter.is_empty() {
        title.push_str(&format!("· filter /{} ", app.pods.filter));
        if let Some(e) = &app.pods.filter_error {
            title.push_str(&format!("({e}) "));
        }
    }
    if !app.pods.marked.is_empty() {
        title.push_str(&format!("· {} marked ", app.pods.marked.len()));
    }
    let mut b = block(app, title, focused);
    if area.width >= 90 {
        // The lesson of the tool, in one line on the main screen (the help opens with the longer one).
        b = b.title_bottom(Line::styled(
            " every pod: a pause container (POD) owns its network; its containers join it ",
            t.dim(),
        ));
    }
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    app.pods
        .pos
        .scroll_into_view(height, app.pods.visible.len());
    app.areas.pods_rows = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );

    let w = inner.width as usize;
    let window: Vec<usize> = app
        .pods
        .visible
        .iter()
        .skip(app.pods.pos.offset)
        .take(height)
        .copied()
        .collect();
    // Pods that run the last good version of a file that is now invalid.
    let stale: std::collections::HashSet<&str> = app
        .snap
        .files
        .iter()
        .filter(|f| f.state == FileState::Invalid { stale: true })
        .flat_map(|f| f.pods.iter().map(String::as_str))
        .collect();
    let names: Vec<(String, bool)> = window
        .iter()
        .map(|i| {
            let p = &app.snap.pods[*i];
            let stale = stale.contains(p.key().as_str());
            (name_cell(p, stale, app.pods.is_marked(&p.uid)), stale)
        })
        .collect();
    let name_w = names
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 44);
    let (mut header, mut widths, show_ip, show_file) = columns(name_w, w);
    let usage_cols = super::usage::columns(name_w, w, &mut header, &mut widths, show_file);
    let dropped = fit(&header, &widths, w);
    for &i in dropped.iter().rev() {
        header.remove(i);
        widths.remove(i);
    }
    let now = app.now;
    let stats = app.stats.view.clone();
    let rows: Vec<Row> = window
        .iter()
        .zip(names)
        .enumerate()
        .map(|(k, (i, name))| {
            let p = &app.snap.pods[*i];
            let file = show_file.then(|| p.source_label(&app.snap.pods));
            let mut cells = pod_cells(p, name, &t, now, show_ip, file);
            super::usage::cells(&mut cells, stats.pod(&p.uid), usage_cols, show_file);
            for &i in dropped.iter().rev() {
                cells.remove(i);
            }
            let row = Row::new(cells);
            if app.pods.pos.offset + k == app.pods.pos.selected && focused {
                row.style(t.selected())
            } else if app.pods.is_marked(&p.uid) {
                row.style(t.key())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.title()))
        .column_spacing(1);
    f.render_widget(table, inner);
    if app.snap.pods.is_empty() {
        draw_no_pods(f, app, inner);
    }
}

/// The columns to leave out (indices, ascending) so the rest fit in `w`: the least important first (AGE, then
/// RESTARTS, then READY); NAME and STATUS always stay, whole as far as the terminal allows. (IP, FILE and the
/// usage columns only appear when they fit.)
fn fit(header: &[&str], widths: &[Constraint], w: usize) -> Vec<usize> {
    let width = |c: &Constraint| match c {
        Constraint::Length(n) | Constraint::Min(n) => *n as usize,
        _ => 0,
    };
    let mut kept: Vec<usize> = (0..header.len()).collect();
    let total = |kept: &[usize]| {
        kept.iter().map(|&i| width(&widths[i])).sum::<usize>() + kept.len().saturating_sub(1)
    };
    for least in ["AGE", "RESTARTS", "READY"] {
        if total(&kept) <= w {
            break;
        }
        kept.retain(|&i| header[i] != least);
    }
    (0..header.len()).filter(|i| !kept.contains(i)).collect()
}

/// The NAME cell: the name, `⚠` when the pod can touch the host, `[stale]` when its file is now invalid and
/// the pod runs that file's last good version.
fn name_cell(p: &PodView, stale: bool, marked: bool) -> String {
    let mut name = if marked {
        format!("* {}", p.name)
    } else {
        p.name.clone()
    };
    if !p.host_access.is_empty() {
        name.push_str(" ⚠");
    }
    if stale {
        name.push_str(" [stale]");
    }
    name
}

/// The cells of pod `p`'s row (`name`: its NAME cell and whether it is stale; `file`: the FILE column, when
/// it is shown).
fn pod_cells(
    p: &PodView,
    (name, stale): (String, bool),
    t: &Theme,
    now: Timestamp,
    show_ip: bool,
    file: Option<String>,
) -> Vec<Span<'static>> {
    let mut status = p.columns.status.clone();
    if let Some(d) = p.terminating {
        status = format!("Terminating {}s", d.duration_since(now).as_secs().max(0));
    }
    let name = if stale {
        Span::styled(name, t.warn())
    } else {
        Span::raw(name)
    };
    let mut cells = vec![
        name,
        Span::raw(p.columns.ready.clone()),
        Span::styled(status, t.status(&p.columns.status)),
        Span::raw(restarts_text(&p.columns, now)),
        Span::raw(
            p.start_time()
                .map(|s| human_duration(now.duration_since(s)))
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    if show_ip {
        cells.push(Span::raw(p.ip().unwrap_or("<none>").to_string()));
    }
    if let Some(file) = file {
        cells.push(Span::styled(file, t.dim()));
    }
    cells
}

/// The table's header and column widths for names `name_w` wide in `w` columns, and whether the optional IP
/// and FILE columns fit.
fn columns(name_w: usize, w: usize) -> (Vec<&'static str>, Vec<Constraint>, bool, bool) {
    // Optional columns appear when they fit beside the names actually shown (READY, STATUS, RESTARTS, AGE and
    // the gaps take 45 columns; IP 16; FILE at least 9).
    let fixed = 5 + 18 + 13 + 5 + 4;
    let show_ip = name_w.min(32) + fixed + 16 <= w;
    let show_file = show_ip && name_w + fixed + 16 + 9 <= w;
    let name_w = if show_file { name_w } else { name_w.min(32) } as u16;
    let mut header = vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
    let mut widths = vec![
        Constraint::Length(name_w),
        Constraint::Length(5),
        Constraint::Length(18),
        Constraint::Length(13),
        Constraint::Length(5),
    ];
    if show_ip {
        header.push("IP");
        widths.push(Constraint::Length(15));
    }
    if show_file {
        header.push("FILE");
        widths.push(Constraint::Min(8));
    }
    (header, widths, show_ip, show_file)
}

/// What the empty table says: how to add a pod, or that the engine is not connected yet.
fn draw_no_pods(f: &mut Frame, app: &App, inner: Rect) {
    let t = &app.cfg.theme;
    let msg = if app.snap.docker.is_connected() {
        "no pods: add a manifest to the watched directory (n creates one from a template)"
    } else {
        "no pods yet: waiting for the Docker engine"
    };
    let r = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        1.min(inner.height.saturating_sub(1)),
    );
    f.render_widget(Paragraph::new(Span::styled(msg, t.dim())), r);
}

fn draw_manifests(f: &mut Frame, app: &mut App, area: Rect) {
    let t = app.cfg.theme.clone();
    let focused = app.focus == Focus::Manifests;
    let b = block(
        app,
        format!(" Manifests ({}) ", app.snap.files.len()),
        focused,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    app.areas.manifest_rows = inner;
    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut first_line_of: Vec<usize> = Vec::new();
    for (i, file) in app.snap.files.iter().enumerate() {
        first_line_of.push(lines.len());
        let selected = focused && i == app.files_pos.selected;
        lines.extend(file_lines(file, &t, width, selected));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "the watched directory has no entries",
            t.dim(),
        )));
    }
    let height = inner.height as usize;
    let sel_line = first_line_of
        .get(app.files_pos.selected)
        .copied()
        .unwrap_or(0);
    let mut pos = crate::tui::app::ListPos {
        selected: sel_line,
        offset: app.files_pos.offset,
    };
    let total_lines = if app.snap.files.is_empty() {
        0
    } else {
        lines.len()
    };
    pos.scroll_into_view(height, lines.len());
    app.files_pos.offset = pos.offset;
    let visible: Vec<Line> = lines.into_iter().skip(pos.offset).take(height).collect();
    f.render_widget(Paragraph::new(visible), inner);
    // Mouse hits: every line belongs to the file that starts at or above it.
    app.areas.manifest_rows = inner;
    app.areas.manifest_line_files = (0..total_lines)
        .map(|line| {
            first_line_of
                .partition_point(|&first| first <= line)
                .saturating_sub(1)
        })
        .collect();
}

/// The lines of one manifest file: its state, name and pods, then up to two errors and its conflicts.
fn file_lines(file: &FileStatus, t: &Theme, width: usize, selected: bool) -> Vec<Line<'static>> {
    let (word, style) = match &file.state {
        FileState::Applied => ("applied", t.ok()),
        FileState::Invalid { .. } => ("invalid", t.error()),
        FileState::Skipped { .. } => ("skipped", t.dim()),
        FileState::Conflict => ("conflict", t.warn()),
        FileState::Pending => ("pending", t.warn()),
    };
    let detail = match &file.state {
        FileState::Skipped { reason } => reason.clone(),
        FileState::Invalid { stale: true } => {
            format!(
                "the running version is stale: {} keeps running the last good version",
                file.pods.join(", ")
            )
        }
        FileState::Invalid { stale: false } => "not applied".into(),
        _ => {
            let warnings = file.findings.iter().filter(|x| !x.is_error()).count();
            let mut d = file.pods.join(", ");
            if warnings > 0 {
                d.push_str(&format!("  ({warnings} warning(s))"));
            }
            d
        }
    };
    let row_style = if selected {
        t.selected()
    } else {
        Style::default()
    };
    let name = escape_controls(file.path.rsplit('/').next().unwrap_or(&file.path));
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{word:<9}"), style),
            Span::raw(format!("{name:<24} ")),
            Span::styled(one_line(&detail, width.saturating_sub(34)), t.dim()),
        ])
        .style(row_style),
    ];
    for finding in file.findings.iter().filter(|x| x.is_error()).take(2) {
        lines.push(Line::from(Span::styled(
            format!(
                "         {}",
                one_line(&finding.to_string(), width.saturating_sub(10))
            ),
            t.error(),
        )));
    }
    for c in &file.conflicts {
        lines.push(Line::from(Span::styled(
            format!(
                "         conflict: pod {} is already defined in {}",
                c.pod, c.owner
            ),
            t.warn(),
        )));
    }
    lines
}

/// Every pod's events, newest first.
pub fn draw_events(f: &mut Frame, app: &mut App, area: Rect) {
    let t = app.cfg.theme.clone();
    let snap = app.snap.clone();
    let all = all_events(&snap);
    let b = block(
        app,
        super::detail::with_search(app, &format!(" Events ({}) ", all.len())),
        true,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    app.events_pos.scroll_into_view(height, all.len());
    let now = app.now;
    let rows: Vec<Row> = all
        .iter()
        .enumerate()
        .skip(app.events_pos.offset)
        .take(height)
        .map(|(i, (pod, e))| {
            let style = if e.kind == EventType::Warning {
                t.error()
            } else {
                Style::default()
            };
            let row = Row::new(vec![
                Span::raw(human_duration(now.duration_since(e.last_seen))),
                Span::styled(format!("{:?}", e.kind), style),
                Span::raw(e.reason.clone()),
                Span::raw(pod.to_string()),
                Span::raw(if e.count > 1 {
                    format!("{} (x{})", e.message, e.count)
                } else {
                    e.message.clone()
                }),
            ]);
            if i == app.events_pos.selected {
                row.style(t.selected())
            } else if let Some(m) = super::detail::mark(app, i, &event_text(pod, e)) {
                row.style(m)
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(20),
            Constraint::Length(24),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["AGE", "TYPE", "REASON", "POD", "MESSAGE"]).style(t.title()))
    .column_spacing(1);
    f.render_widget(table, inner);
}
