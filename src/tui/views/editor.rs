//! The built-in editor, full screen: the text with line numbers, error markers in a gutter, the findings at
//! their lines with the field path, and what saving would do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::one_line;
use crate::tui::app::App;
use crate::tui::editor::ApplyPreview;

/// Draws the editor.
pub fn draw(f: &mut Frame, app: &mut App, area: Rect) {
    let t = app.cfg.theme.clone();
    let Some(ed) = app.editor_mut() else {
        return;
    };
    let shown = ed.findings.len().min(6) as u16 + u16::from(ed.message.is_some());
    let [body, panel] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(shown + 3)]).areas(area);
    let title = format!(
        " {} {}{} · ctrl-s save · esc close ",
        if ed.new_file { "New" } else { "Editing" },
        crate::text::display_path(&ed.path),
        if ed.modified() { " [modified]" } else { "" }
    );
    let outer = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, t.title()))
        .border_style(t.border_focus());
    let inner = outer.inner(body);
    f.render_widget(outer, body);
    let [gutter, text] =
        Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    f.render_widget(&ed.area, text);
    // Markers for lines with findings, aligned with the text area's scroll position.
    let (top, _) = ed.area.scroll_offset();
    let errors = ed.error_lines();
    let warnings: Vec<usize> = ed
        .findings
        .iter()
        .filter(|f| !f.is_error())
        .filter_map(|f| f.line)
        .collect();
    let marks: Vec<Line> = (0..gutter.height as usize)
        .map(|row| {
            let line = top as usize + row + 1;
            if errors.contains(&line) {
                Line::from(Span::styled("✗", t.error()))
            } else if warnings.contains(&line) {
                Line::from(Span::styled("!", t.warn()))
            } else {
                Line::from(" ")
            }
        })
        .collect();
    f.render_widget(Paragraph::new(marks), gutter);

    let width = panel.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let preview_style = match &ed.preview {
        ApplyPreview::Invalid(_) => t.error(),
        ApplyPreview::NoChange => t.dim(),
        ApplyPreview::Changes { .. } => t.warn(),
    };
    lines.push(Line::from(Span::styled(
        one_line(&ed.preview.summary(), width),
        preview_style,
    )));
    for finding in ed.findings.iter().take(6) {
        let text = match (finding.line, &finding.path) {
            (Some(l), Some(p)) => format!("line {l}: {p}: {}", finding.message),
            (Some(l), None) => format!("line {l}: {}", finding.message),
            (None, Some(p)) => format!("{p}: {}", finding.message),
            (None, None) => finding.message.clone(),
        };
        let style = if finding.is_error() {
            t.error()
        } else {
            t.warn()
        };
        lines.push(Line::from(Span::styled(one_line(&text, width), style)));
    }
    if let Some(m) = &ed.message {
        lines.push(Line::from(Span::styled(one_line(m, width), t.error())));
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Validation ")
                .border_style(t.border()),
        ),
        panel,
    );
}
