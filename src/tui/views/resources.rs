//! The pod view's Resources tab: per container (the pause container first: its cost is the lesson) the live
//! CPU and memory working set against requests and limits, a ratatui Sparkline of each over the last 60
//! samples, an OOMKilled marker, and the pod's QoS class and network counters (from the sandbox).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::block;
use crate::engine::snapshot::PodView;
use crate::engine::stats::ContainerUsage;
use crate::engine::stats::math::{cpu_text, memory_text};
use crate::runtime::observe::InstanceState;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// Rows one container takes: its line and two sparkline rows.
const PER_CONTAINER: u16 = 3;

/// Draws the tab.
pub fn draw(f: &mut Frame, app: &mut App, p: &PodView, area: Rect) {
    let t = app.cfg.theme.clone();
    let b = block(app, " Resources (live, last 60 samples) ".to_string(), true);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let usage = app.stats.view.pod(&p.uid).cloned();
    let qos = p
        .pod
        .status
        .as_ref()
        .and_then(|s| s.qos_class.clone())
        .unwrap_or_else(|| "-".into());
    let mut head = vec![Span::raw(format!("QoS {qos}"))];
    if let Some(u) = &usage {
        head.push(Span::styled(
            format!(
                " · network rx {} tx {} (the sandbox's namespace)",
                bytes(u.rx_bytes),
                bytes(u.tx_bytes)
            ),
            t.dim(),
        ));
    }
    let [top, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    f.render_widget(Paragraph::new(Line::from(head)), top);
    let Some(u) = usage else {
        f.render_widget(
            Paragraph::new(Line::styled(
                "not sampled yet: figures appear within a second or two of a container running",
                t.dim(),
            )),
            rest,
        );
        return;
    };
    let list: Vec<&ContainerUsage> = u.sandbox.iter().chain(u.containers.iter()).collect();
    let mut y = rest.y;
    for c in list {
        if y + PER_CONTAINER > rest.y + rest.height {
            break;
        }
        let area = Rect::new(rest.x, y, rest.width, PER_CONTAINER);
        container(f, &t, p, c, area);
        y += PER_CONTAINER;
    }
}

fn container(f: &mut Frame, t: &Theme, p: &PodView, c: &ContainerUsage, area: Rect) {
    let [line, sparks] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(2)]).areas(area);
    let mut spans = vec![
        Span::styled(format!("{:<12}", c.name), t.title()),
        Span::raw(format!(
            " cpu {}{}",
            cpu_text(c.cpu_millis),
            against(
                c.cpu_request.map(cpu_text),
                c.cpu_limit.map(cpu_text),
                c.cpu_percent_of_limit()
            )
        )),
        Span::raw(format!(
            "  mem {}{}",
            memory_text(c.memory_bytes),
            against(
                c.memory_request.map(memory_text),
                c.memory_limit.map(memory_text),
                c.memory_percent_of_limit()
            )
        )),
    ];
    if c.sandbox {
        spans.push(Span::styled("  (the pause container's own cost)", t.dim()));
    }
    if oom_killed(p, &c.name) {
        spans.push(Span::styled("  OOMKilled", t.error()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), line);
    let [cpu, mem] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(sparks);
    let cpu_max = c
        .cpu_limit
        .unwrap_or(0)
        .max(c.cpu_history.values().into_iter().max().unwrap_or(0));
    f.render_widget(
        Sparkline::default()
            .data(c.cpu_history.values())
            .max(cpu_max.max(1))
            .style(t.ok()),
        cpu,
    );
    let mem_max = c
        .memory_limit
        .unwrap_or(0)
        .max(c.memory_history.values().into_iter().max().unwrap_or(0));
    f.render_widget(
        Sparkline::default()
            .data(c.memory_history.values())
            .max(mem_max.max(1))
            .style(t.warn()),
        mem,
    );
}

/// ` (req 100m, lim 500m, 25%)`, the parts there are.
fn against(req: Option<String>, lim: Option<String>, pct: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(r) = req {
        parts.push(format!("req {r}"));
    }
    if let Some(l) = lim {
        parts.push(format!("lim {l}"));
    }
    if let Some(p) = pct {
        parts.push(format!("{p}% of lim"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The container's last instance was killed by the OOM killer.
fn oom_killed(p: &PodView, name: &str) -> bool {
    p.observed.instances(name).iter().any(|i| {
        matches!(
            i.state,
            InstanceState::Exited {
                oom_killed: true,
                ..
            }
        )
    })
}

fn bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1}Mi", b as f64 / f64::from(1 << 20))
    } else {
        format!("{:.1}Ki", b as f64 / 1024.0)
    }
}
