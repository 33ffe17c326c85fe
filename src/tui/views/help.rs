//! The help screen: the keys of the current view and the global ones (from the keymap) and the `:` commands
//! (from the command table; first with `:help`, after the keys with `?`), so neither list can miss an entry.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::centered;
use crate::tui::app::commands::{COMMANDS, usage};
use crate::tui::app::{App, Help};
use crate::tui::keymap::Mode;

/// The one line that says what a pod is here, shown first in the help and under the pods table.
pub const SANDBOX_LESSON: &str = "Each pod = a pause container (POD, the sandbox) that holds the pod's network and IPC namespaces + the containers that join it and share its volumes.";

/// The help's lines: what a pod is, the keys of the current view and the global keys, the `:` commands (first
/// with `help.commands`), then where keys are rebound.
pub fn lines(app: &App, help: Help) -> Vec<Line<'static>> {
    let t = &app.cfg.theme;
    let mut lines = vec![
        Line::from(Span::styled(SANDBOX_LESSON, t.dim())),
        Line::from(""),
    ];
    if help.commands {
        command_lines(app, &mut lines);
    }
    for m in [app.mode(), Mode::Global] {
        lines.push(Line::from(Span::styled(
            format!("Keys: {}", m.title()),
            t.title(),
        )));
        for b in app.cfg.keymap.bindings(m) {
            let keys: Vec<String> = b.keys.iter().map(|k| k.to_string()).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", keys.join(" ")), t.key()),
                Span::raw(b.help.to_string()),
            ]));
        }
        lines.push(Line::from(""));
    }
    if !help.commands {
        command_lines(app, &mut lines);
    }
    lines.push(Line::from(Span::styled(
        format!(
            "Keys can be rebound in {}. j/k and page keys scroll; any other key closes this help.",
            crate::config::default_config_dir()
                .join("config.yaml")
                .display()
        ),
        t.dim(),
    )));
    lines
}

/// The `:` commands, from the command table, then a blank line.
fn command_lines(app: &App, lines: &mut Vec<Line<'static>>) {
    let t = &app.cfg.theme;
    lines.push(Line::from(Span::styled(
        "Commands (type : and the name)",
        t.title(),
    )));
    for c in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<24}", usage(c)), t.key()),
            Span::raw(c.help),
        ]));
    }
    lines.push(Line::from(""));
}

/// Draws the help box, scrolled to `help.scroll` (kept within the text).
pub fn draw(f: &mut Frame, app: &App, help: Help, area: Rect) {
    let t = &app.cfg.theme;
    let lines = lines(app, help);
    let r = centered(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    super::clear(f, app, r);
    // Lines as wrapped to the box (an estimate by width; the help has no long words).
    let inner_w = r.width.saturating_sub(2).max(1) as usize;
    let total: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w))
        .sum();
    let room = r.height.saturating_sub(2) as usize;
    let top = help.scroll.min(total.saturating_sub(room));
    let title = if total > room {
        format!(
            " Help · lines {}-{} of {total} ",
            top + 1,
            (top + room).min(total)
        )
    } else {
        " Help ".into()
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((top.min(u16::MAX as usize) as u16, 0))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(title)
                    .border_style(t.border_focus()),
            ),
        r,
    );
}
