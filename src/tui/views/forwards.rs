//! The `:pf` screen: the running port-forwards, k9s' port-forward view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use super::block;
use crate::tui::app::App;

/// Draws the forwards table (or how to start one).
pub fn draw(f: &mut Frame, app: &mut App, area: Rect) {
    let t = app.cfg.theme.clone();
    let b = block(
        app,
        format!(" Port-forwards ({}) ", app.forwards.list.len()),
        true,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    if app.forwards.list.is_empty() {
        f.render_widget(
            Paragraph::new(vec![
                Line::from("No port-forward is running."),
                Line::from("F on a pod (or on a container in the pod view) forwards 127.0.0.1:LOCAL to it."),
            ])
            .style(t.dim()),
            inner,
        );
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    let len = app.forwards.list.len();
    app.forwards.pos.scroll_into_view(height, len);
    let rows: Vec<Row> = app
        .forwards
        .list
        .iter()
        .enumerate()
        .skip(app.forwards.pos.offset)
        .take(height)
        .map(|(i, fw)| {
            let (active, total) = fw.connections();
            let row = Row::new(vec![
                fw.pod.clone(),
                fw.local.to_string(),
                fw.remote.to_string(),
                active.to_string(),
                total.to_string(),
            ]);
            if i == app.forwards.pos.selected {
                row.style(t.selected())
            } else {
                row
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(16),
            Constraint::Length(22),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(6),
        ],
    )
    .header(Row::new(["POD", "LOCAL", "REMOTE", "OPEN", "TOTAL"]).style(t.title()))
    .column_spacing(1);
    f.render_widget(table, inner);
}
