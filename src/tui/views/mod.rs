//! Drawing the UI from [`App`]: header, the current screen, footer hints, and the modal stack over them (help,
//! confirm, prompt; the editor is drawn full screen). One file per component: `pods` (table, manifests pane,
//! events), `detail` (the pod view's frame and text tabs), `containers`, `network`, `logs`, `editor`, `help`,
//! `forwards` (`:pf`).
//! Everything is sized for 80x24 and up; smaller terminals get what fits, never a panic.

mod containers;
pub(crate) mod detail;
mod editor;
mod forwards;
pub mod help;
mod logs;
mod network;
mod pods;
mod resources;
mod usage;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Confirm, Modal, Prompt, PromptKind, Screen};
use super::keymap::Mode;
use crate::engine::snapshot::DockerState;
use crate::manifest::FileState;
use crate::text::human_duration;
use crate::text::{display_path, escape_controls};

/// Draws the whole UI.
pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    if area.width < 20 || area.height < 6 {
        f.render_widget(Paragraph::new("podtui: the terminal is too small"), area);
        return;
    }
    // A skin with its own background paints the whole screen first.
    f.render_widget(Block::default().style(app.cfg.theme.base()), area);
    if app.editor().is_some() {
        editor::draw(f, app, area);
        overlays(f, app, area);
        return;
    }
    let [header, main, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, app, header);
    match app.screen {
        Screen::Pods => pods::draw(f, app, main),
        Screen::Events => pods::draw_events(f, app, main),
        Screen::Detail => detail::draw(f, app, main),
        Screen::Forwards => forwards::draw(f, app, main),
    }
    draw_footer(f, app, footer);
    overlays(f, app, area);
}

/// Clears `r` for a modal, to the theme's background.
pub(super) fn clear(f: &mut Frame, app: &App, r: Rect) {
    f.render_widget(Clear, r);
    f.render_widget(Block::default().style(app.cfg.theme.base()), r);
}

/// The modals over the screen, bottom first (the editor is drawn full screen before).
fn overlays(f: &mut Frame, app: &App, area: Rect) {
    for m in app.modals() {
        match m {
            Modal::Help(h) => help::draw(f, app, *h, area),
            Modal::Confirm(c) => draw_confirm(f, app, c, area),
            Modal::Prompt(p) => draw_prompt(f, app, p, area),
            Modal::Editor(_) => {}
        }
    }
}

fn draw_confirm(f: &mut Frame, app: &App, c: &Confirm, area: Rect) {
    let lines: Vec<Line> = c
        .text
        .lines()
        .map(|l| Line::from(l.to_string()))
        .chain([
            Line::from(""),
            Line::from(vec![
                Span::styled("y", app.cfg.theme.key()),
                Span::raw("/enter: yes   "),
                Span::styled("n", app.cfg.theme.key()),
                Span::raw("/esc: no"),
            ]),
        ])
        .collect();
    let h = (lines.len() as u16 + 4).min(area.height);
    let w = area.width.saturating_sub(4).min(90);
    let r = centered(area, w, h);
    clear(f, app, r);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Confirm ")
                .border_style(app.cfg.theme.border_focus()),
        ),
        r,
    );
}

fn draw_prompt(f: &mut Frame, app: &App, p: &Prompt, area: Rect) {
    let label = match p.kind {
        PromptKind::Command => ":".to_string(),
        PromptKind::Filter => "/".to_string(),
        PromptKind::Search | PromptKind::Find => "search: ".to_string(),
        PromptKind::Forward => format!(
            "port-forward 127.0.0.1:LOCAL to {} ([LOCAL:]REMOTE): ",
            app.forwards
                .asking
                .as_ref()
                .map(|p| p.name.as_str())
                .unwrap_or("?")
        ),
        PromptKind::NewFile => format!(
            "new manifest in {}: ",
            app.watch_dir()
                .map(display_path)
                .unwrap_or_else(|| "?".into())
        ),
    };
    let r = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    clear(f, app, r);
    let line = Line::from(vec![
        Span::styled(label.clone(), app.cfg.theme.key()),
        Span::raw(p.input.clone()),
    ]);
    f.render_widget(Paragraph::new(line), r);
    let x = r.x + (label.chars().count() + p.input.chars().count()) as u16;
    f.set_cursor_position((x.min(r.x + r.width.saturating_sub(1)), r.y));
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The header's Docker part: the connection, or who holds the node when another engine does.
fn docker_spans(app: &App, wide: bool) -> Vec<Span<'static>> {
    let t = &app.cfg.theme;
    let mut spans = Vec::new();
    match &app.snap.docker {
        DockerState::Connected(i) => {
            spans.push(Span::styled(
                format!(
                    "{} {} (API {})",
                    i.kind.name().to_ascii_lowercase(),
                    i.version,
                    i.api_version
                ),
                t.ok(),
            ));
            if wide {
                spans.push(Span::styled(format!(" {}", i.endpoint), t.dim()));
            }
        }
        DockerState::Connecting { endpoint } => {
            spans.push(Span::styled(format!("connecting to {endpoint}…"), t.warn()))
        }
        DockerState::Disconnected {
            endpoint,
            error,
            retry_at,
        } => {
            let secs = retry_at.duration_since(app.now).as_secs().max(0);
            spans.push(Span::styled(
                format!("docker disconnected, retrying in {secs}s"),
                t.error(),
            ));
            spans.push(Span::styled(
                format!(" ({endpoint}: {})", one_line(error, 60)),
                t.dim(),
            ));
        }
        DockerState::NodeHeld {
            held,
            lost,
            retry_at,
            ..
        } => {
            // This engine touches no container: say who holds the node and what to do.
            let secs = retry_at.duration_since(app.now).as_secs().max(0);
            let h = &held.holder;
            spans.push(Span::styled(
                format!(
                    "node {} {} another podtui engine (pid {}, user {}, state dir {}): not touching any pod; stop it or use --node-name (retry in {secs}s)",
                    h.node,
                    if *lost { "taken over by" } else { "held by" },
                    h.pid,
                    h.user,
                    h.state_dir
                ),
                t.error(),
            ));
        }
    }
    spans
}

fn draw_header(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.cfg.theme;
    let snap = &app.snap;
    let wide = area.width >= 120;
    // Most important first: a narrow terminal cuts the end of each line.
    let mut first = vec![Span::styled("podtui", t.title()), Span::raw(" · ")];
    first.extend(docker_spans(app, wide));
    first.push(Span::raw(format!(
        " · node {} · watching {}",
        snap.node_name,
        escape_controls(&snap.source)
    )));
    let mut second = vec![Span::raw(format!("pods {}", snap.pods.len()))];
    let counts = snap.counts();
    if !counts.is_empty() {
        second.push(Span::raw(": "));
        for (i, (status, n)) in counts.iter().enumerate() {
            if i > 0 {
                second.push(Span::raw(", "));
            }
            second.push(Span::styled(format!("{n} {status}"), t.status(status)));
        }
    }
    let invalid = snap
        .files
        .iter()
        .filter(|f| matches!(f.state, FileState::Invalid { .. }))
        .count();
    let conflicts = snap
        .files
        .iter()
        .filter(|f| f.state == FileState::Conflict)
        .count();
    let manifests = snap
        .files
        .iter()
        .filter(|f| !matches!(f.state, FileState::Skipped { .. }))
        .count();
    second.push(Span::styled(" │ ", t.dim()));
    second.push(Span::raw(format!("manifests {manifests}")));
    if invalid + conflicts > 0 {
        second.push(Span::raw(" ("));
        if invalid > 0 {
            second.push(Span::styled(format!("{invalid} invalid"), t.error()));
        }
        if invalid > 0 && conflicts > 0 {
            second.push(Span::raw(", "));
        }
        if conflicts > 0 {
            second.push(Span::styled(format!("{conflicts} conflict"), t.warn()));
        }
        second.push(Span::raw(")"));
    }
    second.push(Span::styled(" │ ", t.dim()));
    second.push(Span::raw(match snap.last_sync {
        Some(s) => format!("synced {} ago", human_duration(app.now.duration_since(s))),
        None => "not synced yet".into(),
    }));
    if !app.forwards.list.is_empty() {
        second.push(Span::styled(" │ ", t.dim()));
        second.push(Span::styled(
            format!("port-forwards {} (:pf)", app.forwards.list.len()),
            t.ok(),
        ));
    }
    if !app.mouse {
        second.push(Span::styled(" │ mouse off", t.dim()));
    }
    if let Some(api) = &app.cfg.api {
        second.push(Span::styled(format!(" │ {api}"), t.dim()));
    }
    f.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

/// The footer: the current view's hint keys (from the keymap), or the latest message.
fn draw_footer(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.cfg.theme;
    let right = if area.width >= 110 {
        " q quits · pods keep running "
    } else {
        " q quit (pods stay) "
    };
    let [left_area, right_area] = Layout::horizontal([
        Constraint::Min(10),
        Constraint::Length(right.chars().count() as u16),
    ])
    .areas(area);
    let left = if let Some(m) = app.current_message() {
        Line::from(Span::styled(
            one_line(&m.text, left_area.width as usize),
            if m.error { t.error() } else { t.text() },
        ))
    } else {
        hints(app, app.mode(), left_area.width as usize)
    };
    f.render_widget(Paragraph::new(left), left_area);
    f.render_widget(Paragraph::new(Span::styled(right, t.dim())), right_area);
}

/// The footer hints of `mode`: its hinted bindings, then global ones, as many as fit in `width`; the help key
/// always comes last, so every screen says where the full list is.
pub fn hints(app: &App, mode: Mode, width: usize) -> Line<'static> {
    let t = &app.cfg.theme;
    let help_key = app
        .cfg
        .keymap
        .key_for(Mode::Global, super::action::Action::Help)
        .map(|k| k.to_string());
    let help_len = help_key
        .as_ref()
        .map_or(0, |k| k.chars().count() + " help".len());
    let mut spans = hint_spans(app, mode, width.saturating_sub(help_len));
    if let Some(k) = help_key
        && help_len <= width
    {
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::raw(" help"));
    }
    Line::from(spans)
}

fn hint_spans(app: &App, mode: Mode, width: usize) -> Vec<Span<'static>> {
    let t = &app.cfg.theme;
    let mut spans = Vec::new();
    let mut used = 0;
    for m in [mode, Mode::Global] {
        for b in app.cfg.keymap.bindings(m) {
            let (Some(label), Some(k)) = (b.hint, b.keys.first()) else {
                continue;
            };
            if m == Mode::Global
                && matches!(
                    b.action,
                    super::action::Action::Quit | super::action::Action::Help
                )
            {
                continue;
            }
            let key = k.to_string();
            let len = key.chars().count() + label.chars().count() + 3;
            if used + len > width {
                return spans;
            }
            used += len;
            spans.push(Span::styled(key, t.key()));
            spans.push(Span::raw(format!(" {label}  ")));
        }
    }
    spans
}

/// `s` cut to `max` characters on one line, with an ellipsis: line breaks and tabs become spaces, other control
/// characters are escaped ([`escape_controls`]). File names are escaped before they get here, so a newline in
/// one still shows as `\n`.
pub fn one_line(s: &str, max: usize) -> String {
    let flat = escape_controls(&s.replace(['\n', '\r', '\t'], " ")).into_owned();
    if flat.chars().count() <= max {
        flat
    } else {
        let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A bordered block, highlighted when focused.
pub fn block(app: &App, title: String, focused: bool) -> Block<'static> {
    let t = &app.cfg.theme;
    Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, t.title()))
        .border_style(if focused {
            t.border_focus()
        } else {
            t.border()
        })
}

/// A style for secondary text.
pub fn dim(app: &App) -> Style {
    app.cfg.theme.dim()
}
