//! A pod's view: title, tabs (Containers, Network, Volumes, Logs, Events, YAML) and the selected tab.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Tabs, Wrap};

use super::{block, one_line};
use crate::engine::events::EventType;
use crate::engine::snapshot::PodView;
use crate::text::escape_controls;
use crate::text::human_duration;
use crate::tui::app::find::event_text;
use crate::tui::app::{App, Tab};
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
    let file = p.source_label(&app.snap.pods);
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
        Tab::Containers => super::containers::draw(f, app, &p, body),
        Tab::Logs => super::logs::draw(f, app, &p, body),
        Tab::Events => events(f, app, &p, body),
        Tab::Resources => super::resources::draw(f, app, &p, body),
        Tab::Network | Tab::Volumes | Tab::Describe | Tab::Yaml => {
            let (title, lines) = text_lines(app, &p, &t);
            text_tab(f, app, &title, lines, body)
        }
    }
}

/// The title and lines of a text tab (Network, Volumes, Describe, YAML; empty for the others), as drawn and
/// as `/` searches them.
pub fn text_lines(app: &App, p: &PodView, t: &Theme) -> (String, Vec<Line<'static>>) {
    match app.tab {
        Tab::Network => (" Network ".into(), super::network::lines(p, t)),
        Tab::Volumes => (" Volumes ".into(), volume_lines(p, t)),
        Tab::Describe => (
            " kubectl describe pod (events in full, wrapped) ".into(),
            plain_lines(&crate::describe::pod_view(p, &app.snap.node_name, app.now)),
        ),
        Tab::Yaml => {
            let (title, text) = if app.pod_view.yaml_applied {
                (
                    format!(
                        " manifest as applied: {} (Y: the pod as podtui sees it) ",
                        escape_controls(&p.source)
                    ),
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
            let lines = plain_lines(&text);
            (title, lines)
        }
        _ => (String::new(), Vec::new()),
    }
}

/// Lines of plain text, control characters made visible.
fn plain_lines(text: &str) -> Vec<Line<'static>> {
    text.lines()
        .map(|l| {
            Line::from(
                super::super::sanitize::Sanitizer::new(false)
                    .line(l)
                    .into_iter()
                    .map(|s| Span::raw(s.text))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// The box title with the search term, if one is typed.
pub(super) fn with_search(app: &App, title: &str) -> String {
    match app.find_term() {
        Some(term) => format!("{} · /{term} ", title.trim_end()),
        None => title.to_string(),
    }
}

/// Marks a row of a searched view (the pod view's tabs, the events screen): the current match reversed, the other matches underlined.
pub(super) fn mark(app: &App, index: usize, text: &str) -> Option<Style> {
    if app.find.hit == Some(index) {
        Some(Style::default().add_modifier(Modifier::REVERSED))
    } else if app.find_term().is_some() && app.find.matches(text) {
        Some(Style::default().add_modifier(Modifier::UNDERLINED))
    } else {
        None
    }
}

fn text_tab(f: &mut Frame, app: &mut App, title: &str, lines: Vec<Line<'static>>, area: Rect) {
    let b = block(app, with_search(app, title), true);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let height = inner.height as usize;
    app.page = height.max(1);
    let lines: Vec<Line<'static>> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            match mark(app, i, &text) {
                Some(style) => l.patch_style(style),
                None => l,
            }
        })
        .collect();
    if app.tab == Tab::Network {
        // The diagram wraps by itself, its continuation lines carrying on the tree's lines.
        let mut starts = Vec::with_capacity(lines.len());
        let mut rows: Vec<Line<'static>> = Vec::new();
        for l in &lines {
            starts.push(rows.len());
            rows.extend(hang_wrap(l, inner.width as usize));
        }
        if let Some(line) = app.find.jump.take() {
            let row = starts.get(line).copied().unwrap_or(rows.len());
            app.pod_view.scroll = row.saturating_sub(height / 3);
        }
        app.pod_view.scroll = app.pod_view.scroll.min(rows.len().saturating_sub(height));
        f.render_widget(
            Paragraph::new(rows).scroll((app.pod_view.scroll.min(u16::MAX as usize) as u16, 0)),
            inner,
        );
        return;
    }
    if let Some(line) = app.find.jump.take() {
        // The row the matched line starts at once wrapped, a third of the way down.
        let row = Paragraph::new(lines[..line.min(lines.len())].to_vec())
            .wrap(Wrap { trim: false })
            .line_count(inner.width);
        app.pod_view.scroll = row.saturating_sub(height / 3);
    }
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    let total = para.line_count(inner.width);
    app.pod_view.scroll = app.pod_view.scroll.min(total.saturating_sub(height));
    f.render_widget(
        para.scroll((app.pod_view.scroll.min(u16::MAX as usize) as u16, 0)),
        inner,
    );
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
        with_search(app, &format!(" Events ({}) newest first ", p.events.len())),
        true,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    app.pod_view.scroll = app.pod_view.scroll.min(p.events.len().saturating_sub(1));
    // The selected event (the top row; j/k move it) is also shown whole below the table, its message wrapped:
    // the table cuts messages at the pane's width.
    let whole = p
        .events
        .iter()
        .rev()
        .nth(app.pod_view.scroll)
        .filter(|_| inner.height >= 8)
        .map(|e| {
            let text = escape_controls(&format!(
                "{:?} {}{}: {}",
                e.kind,
                e.reason,
                if e.object.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", e.object)
                },
                e.message
            ))
            .into_owned();
            let rows = Paragraph::new(text.clone())
                .wrap(Wrap { trim: false })
                .line_count(inner.width)
                .clamp(1, usize::from(inner.height / 2));
            (text, rows as u16)
        });
    let (inner, whole_area) = match &whole {
        Some((_, rows)) => {
            let [table, below] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(rows + 1)]).areas(inner);
            (table, Some(below))
        }
        None => (inner, None),
    };
    if let (Some((text, _)), Some(below)) = (whole, whole_area) {
        f.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(
                ratatui::widgets::Block::default()
                    .borders(ratatui::widgets::Borders::TOP)
                    .border_style(t.border())
                    .title(" the selected event, whole (j/k select) "),
            ),
            below,
        );
    }
    let height = inner.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    let now = app.now;
    let width = inner.width as usize;
    let mut age_w = "LAST SEEN".len();
    let rows: Vec<Row> = p
        .events
        .iter()
        .rev()
        .enumerate()
        .skip(app.pod_view.scroll)
        .take(height)
        .map(|(i, e)| {
            let style = if e.kind == EventType::Warning {
                t.error()
            } else {
                Style::default()
            };
            let age = if e.count > 1 {
                format!(
                    "{} (x{} over {})",
                    human_duration(now.duration_since(e.last_seen)),
                    e.count,
                    human_duration(now.duration_since(e.first_seen))
                )
            } else {
                human_duration(now.duration_since(e.last_seen))
            };
            age_w = age_w.max(age.chars().count());
            let row = Row::new(vec![
                Span::raw(age),
                Span::styled(format!("{:?}", e.kind), style),
                Span::raw(e.reason.clone()),
                Span::styled(e.object.clone(), t.dim()),
                Span::raw(one_line(&e.message, width)),
            ]);
            match mark(app, i, &event_text(&e.object, e)) {
                Some(m) => row.style(m),
                None if i == app.pod_view.scroll => row.style(t.selected()),
                None => row,
            }
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

/// The tree-drawing characters a Network line starts with, as a continuation line repeats them: a branch
/// (`├─`, `┌─`) continues as `│`, a last branch (`└─`) and dashes as spaces.
fn tree_prefix(text: &str) -> String {
    text.chars()
        .take_while(|c| matches!(c, '│' | '├' | '└' | '┌' | '─' | ' '))
        .map(|c| match c {
            '│' | '├' | '┌' => '│',
            _ => ' ',
        })
        .collect()
}

/// `line` cut to `width` columns at spaces where it can be (else mid-word), each continuation starting with
/// the line's tree prefix, so the diagram keeps its tree lines when it wraps. Styles are kept per character.
pub(super) fn hang_wrap(line: &Line<'static>, width: usize) -> Vec<Line<'static>> {
    let cells: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (c, style))
        })
        .collect();
    if width == 0 || cells.len() <= width {
        return vec![line.clone()];
    }
    let text: String = cells.iter().map(|(c, _)| *c).collect();
    let prefix = tree_prefix(&text);
    let prefix_len = prefix.chars().count();
    // A prefix as wide as the pane leaves no room: wrap without one.
    let (prefix, prefix_len) = if prefix_len * 2 >= width {
        (String::new(), 0)
    } else {
        (prefix, prefix_len)
    };
    let to_line = |piece: &[(char, Style)], lead: &str| -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        if !lead.is_empty() {
            spans.push(Span::raw(lead.to_string()));
        }
        let mut run = String::new();
        let mut style = None;
        for (c, s) in piece {
            if style.is_some_and(|st| st != *s) {
                spans.push(Span::styled(
                    std::mem::take(&mut run),
                    style.unwrap_or_default(),
                ));
            }
            style = Some(*s);
            run.push(*c);
        }
        if !run.is_empty() {
            spans.push(Span::styled(run, style.unwrap_or_default()));
        }
        Line::from(spans)
    };
    let mut out = Vec::new();
    let mut rest: &[(char, Style)] = &cells;
    let mut first = true;
    while !rest.is_empty() {
        let room = if first { width } else { width - prefix_len };
        if rest.len() <= room {
            out.push(to_line(rest, if first { "" } else { &prefix }));
            break;
        }
        // The last space that fits, past the prefix; else a hard cut.
        let from = if first { prefix_len + 1 } else { 1 };
        let cut = (from..=room)
            .rev()
            .find(|&i| rest[i - 1].0 == ' ')
            .unwrap_or(room);
        out.push(to_line(&rest[..cut], if first { "" } else { &prefix }));
        rest = &rest[cut..];
        while rest.first().is_some_and(|(c, _)| *c == ' ') {
            rest = &rest[1..];
        }
        first = false;
    }
    out
}

#[cfg(test)]
mod hang_tests {
    use super::*;

    fn texts(lines: &[Line<'static>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_wrapped_diagram_line_keeps_its_tree_lines() {
        let line =
            Line::from("│  IP 172.17.0.2   hostname web   NetworkMode bridge   IpcMode shareable");
        let rows = texts(&hang_wrap(&line, 30));
        assert!(rows.len() > 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.starts_with("│  ")), "{rows:?}");
        assert!(rows.iter().all(|r| r.chars().count() <= 30), "{rows:?}");
        let words: Vec<String> = rows
            .iter()
            .flat_map(|r| {
                r.trim_start_matches("│  ")
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            words.join(" "),
            "IP 172.17.0.2 hostname web NetworkMode bridge IpcMode shareable"
        );
        // A branch continues as a line down, the last branch as spaces.
        let rows = texts(&hang_wrap(
            &Line::from("├─ nginx (running, id 0123456789ab)"),
            20,
        ));
        assert!(rows[1].starts_with("│  "), "{rows:?}");
        let rows = texts(&hang_wrap(
            &Line::from("└─ side (running, id 0123456789ab)"),
            20,
        ));
        assert!(
            rows[1].starts_with("   ") && !rows[1].contains('│'),
            "{rows:?}"
        );
        // What fits is left alone, styles and all.
        let styled = Line::from(vec![Span::styled(
            "short",
            Style::default().fg(ratatui::style::Color::Red),
        )]);
        assert_eq!(hang_wrap(&styled, 30), vec![styled.clone()]);
    }

    #[test]
    fn a_word_longer_than_the_pane_is_cut() {
        let rows = texts(&hang_wrap(
            &Line::from("│  container:0123456789abcdef0123456789abcdef"),
            16,
        ));
        assert!(rows.iter().all(|r| r.chars().count() <= 16), "{rows:?}");
        assert!(rows.iter().all(|r| r.starts_with("│  ")), "{rows:?}");
    }
}
