//! Benchmark 7, render: one frame of the pods table with many pods (TestBackend, no terminal). Also the smoke test that
//! `cargo test --all-targets` runs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::report::{Bench, Row, ms};

pub fn render(pods: usize) -> Bench {
    use podtui::engine::Snapshot;
    use podtui::tui::app::{App, AppConfig};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tui/snapshot.json"
    ))
    .unwrap();
    let mut snap: Snapshot = serde_json::from_str(&text).unwrap();
    let template = snap.pods[2].clone();
    snap.pods = (0..pods)
        .map(|i| {
            let mut p = (*template).clone();
            p.name = format!("pod-{i:04}");
            p.uid = format!("{i:032x}");
            Arc::new(p)
        })
        .collect();
    let snap = Arc::new(snap);
    let cfg = AppConfig {
        node: "demo".into(),
        state_dir: PathBuf::from("/tmp"),
        watch_path: None,
        keymap: Default::default(),
        theme: podtui::tui::theme::Theme::default(),
        mouse: true,
        external_editor: false,
        debug_image: podtui::debug::DEFAULT_IMAGE.into(),
        api: None,
    };
    let mut rows = Vec::new();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut app = App::new(cfg.clone(), snap.clone());
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut samples = Vec::new();
        for i in 0..300 {
            // Move the selection so every frame differs.
            app.act(if i % 2 == 0 {
                podtui::tui::action::Action::PageDown
            } else {
                podtui::tui::action::Action::Up
            });
            let t0 = Instant::now();
            term.draw(|f| podtui::tui::views::draw(f, &mut app))
                .unwrap();
            samples.push(ms(t0.elapsed()));
        }
        rows.push(Row {
            label: format!("one frame of the pods view, {pods} pods, {w}x{h} (TestBackend)"),
            samples,
            unit: "ms",
        });
    }
    let worst = rows.iter().map(Row::median).fold(0.0, f64::max);
    Bench {
        baseline: false,
        title: format!("7. Render: the pods table with {pods} pods"),
        rows,
        target: (format!("≤ 5 ms per frame (worst median {worst:.2} ms)"), Some(worst <= 5.0), String::new()),
        notes: vec!["Only the visible rows are built; sorting and filtering happen when the snapshot changes, not per frame.".into()],
    }
}
