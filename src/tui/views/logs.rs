//! The log tab: only the visible rows are drawn; long lines are wrapped from the buffer's per-width cache, or
//! cut at the right edge when wrapping is off.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthChar;

use super::block;
use crate::engine::snapshot::PodView;
use crate::runtime::docker::short;
use crate::tui::app::{App, LogView, container_rows};
use crate::tui::logbuf::{LogLine, StreamKind};
use crate::tui::theme::Theme;

/// Splits a line's spans into rows of at most `width` cells (all of them when wrapping; when not, the one row
/// after the first `left` cells).
fn rows_of(
    line: &LogLine,
    width: usize,
    wrap: bool,
    left: usize,
    err_style: Style,
) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut skipped = 0;
    for span in &line.spans {
        let style = if line.stream == StreamKind::Err && span.style == Style::default() {
            err_style
        } else {
            span.style
        };
        let mut piece = String::new();
        for c in span.text.chars() {
            let w = c.width().unwrap_or(0);
            if !wrap && skipped < left {
                skipped += w;
                continue;
            }
            if used + w > width && width > 0 {
                if !piece.is_empty() {
                    cur.push(Span::styled(std::mem::take(&mut piece), style));
                }
                rows.push(Line::from(std::mem::take(&mut cur)));
                used = 0;
                if !wrap {
                    return rows;
                }
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            cur.push(Span::styled(piece, style));
        }
    }
    if !cur.is_empty() || rows.is_empty() {
        rows.push(Line::from(cur));
    }
    rows
}

/// Draws the log tab.
pub fn draw(f: &mut Frame, app: &mut App, p: &PodView, area: Rect) {
    let t = app.cfg.theme.clone();
    let rows_spec = container_rows(p);
    let cname = rows_spec
        .get(app.pod_view.container_sel)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let inner = block(app, String::new(), true).inner(area);
    app.areas.logs = inner;
    let height = inner.height as usize;
    let width = inner.width as usize;
    app.page = height.max(1);
    let out = if width == 0 || height == 0 {
        Vec::new()
    } else {
        place_top(&mut app.logs, width, height);
        visible_rows(&mut app.logs, width, height, &t)
    };
    // The title after the rows: it counts the lines waiting below them.
    f.render_widget(block(app, title(&app.logs, &cname), true), area);
    f.render_widget(Paragraph::new(out), inner);
}

/// The box's title: container, instance, the toggles, the line count and the search.
fn title(lv: &LogView, cname: &str) -> String {
    let mut title = format!(" Logs {cname}");
    if cname == "POD" {
        title.push_str(" (pause)");
    }
    if let Some(tg) = &lv.target {
        title.push_str(&format!(" {}", short(&tg.container_id)));
    }
    let flag = |on: bool| if on { "on" } else { "off" };
    title.push_str(&format!(
        " · {}follow {}{} · wrap {}{} · ts {} · {} lines",
        if lv.previous { "PREVIOUS · " } else { "" },
        flag(lv.follow),
        // Paused: what is waiting below, where the title is not cut.
        if !lv.follow && lv.below > 0 {
            format!(", {} new below", lv.below)
        } else {
            String::new()
        },
        flag(lv.wrap),
        if !lv.wrap && lv.left > 0 {
            format!(" ←{}", lv.left)
        } else {
            String::new()
        },
        flag(lv.timestamps),
        lv.buffer.len()
    ));
    if lv.buffer.dropped() > 0 {
        title.push_str(&format!(" ({} older dropped)", lv.buffer.dropped()));
    }
    if !lv.search.is_empty() {
        title.push_str(&format!(" · /{}", lv.search));
    }
    title.push(' ');
    title
}

/// Sets the first visible row: a search match a third of the way down, the end when following, and never past
/// the last screenful.
fn place_top(lv: &mut LogView, width: usize, height: usize) {
    let wrap = lv.wrap;
    let total = if wrap {
        lv.buffer.total_rows(width)
    } else {
        lv.buffer.len()
    };
    let max_top = total.saturating_sub(height);
    let dropped = lv.buffer.dropped();
    if let Some((line, skip)) = lv.anchor.filter(|_| !lv.follow) {
        // Frozen where the reader left it, whatever was dropped from the front since.
        let idx = line.saturating_sub(dropped) as usize;
        let row = if wrap {
            lv.buffer.row_of_line(width, idx)
        } else {
            idx
        };
        lv.top = if line < dropped { 0 } else { row + skip };
    }
    if let Some(line) = lv.pending_jump.take() {
        let row = if wrap {
            lv.buffer.row_of_line(width, line)
        } else {
            line
        };
        lv.top = row.saturating_sub(height / 3).min(max_top);
    }
    if lv.follow {
        lv.top = max_top;
    }
    lv.top = lv.top.min(max_top);
    lv.anchor = (!lv.follow).then(|| {
        let (line, skip) = if wrap {
            lv.buffer.locate_row(width, lv.top)
        } else {
            (lv.top, 0)
        };
        (line as u64 + dropped, skip)
    });
}

/// The rows on screen from `lv.top`: matches marked (the current one reversed, others underlined), then the
/// view's note.
fn visible_rows(lv: &mut LogView, width: usize, height: usize, t: &Theme) -> Vec<Line<'static>> {
    let wrap = lv.wrap;
    let row_width = if wrap { width } else { usize::MAX / 4 };
    let (mut line_idx, mut skip) = if wrap {
        lv.buffer.locate_row(width, lv.top)
    } else {
        (lv.top, 0)
    };
    let mut out: Vec<Line> = Vec::with_capacity(height);
    let matched = lv.matched_index();
    let search = lv.search.to_lowercase();
    while out.len() < height {
        let Some(line) = lv.buffer.get(line_idx) else {
            break;
        };
        let mut rows = rows_of(
            line,
            if wrap { row_width } else { width },
            wrap,
            lv.left,
            t.warn(),
        );
        if Some(line_idx) == matched
            || (!search.is_empty() && line.text().to_lowercase().contains(&search))
        {
            let m = if Some(line_idx) == matched {
                Modifier::REVERSED
            } else {
                Modifier::UNDERLINED
            };
            rows = rows
                .into_iter()
                .map(|r| r.patch_style(Style::default().add_modifier(m)))
                .collect();
        }
        for r in rows.into_iter().skip(skip) {
            if out.len() < height {
                out.push(r);
            }
        }
        skip = 0;
        line_idx += 1;
    }
    lv.below = lv.buffer.len().saturating_sub(line_idx);
    if out.is_empty() {
        let note = lv
            .note
            .clone()
            .unwrap_or_else(|| "waiting for output…".into());
        out.push(Line::from(Span::styled(note, t.dim())));
    } else if let Some(note) = &lv.note
        && out.len() < height
    {
        out.push(Line::from(Span::styled(format!("── {note} ──"), t.dim())));
    }
    out
}
