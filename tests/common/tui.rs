//! Helpers for UI tests: a frozen engine snapshot (captured from a real engine run: a crash-looping pod, an
//! ImagePullBackOff pod, an invalid manifest whose pod keeps running, a conflict, a skipped file, a completed
//! job, and the example pod), an app over it with a fixed clock, and rendering to text.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use podtui::engine::Snapshot;
use podtui::tui::app::{App, AppConfig};
use podtui::tui::keymap::Keymap;
use podtui::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn fixture() -> Arc<Snapshot> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tui/snapshot.json"
    ))
    .unwrap();
    Arc::new(serde_json::from_str(&text).unwrap())
}

/// The fixture's clock: three seconds after its last sync.
pub fn now(snap: &Snapshot) -> Timestamp {
    snap.last_sync.unwrap() + std::time::Duration::from_secs(3)
}

pub fn config(state_dir: &std::path::Path, watch: Option<std::path::PathBuf>) -> AppConfig {
    AppConfig {
        node: "demo".into(),
        state_dir: state_dir.to_path_buf(),
        watch_path: watch,
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: true,
        external_editor: false,
        debug_image: "busybox:1".into(),
        api: None,
    }
}

pub fn app() -> App {
    let snap = fixture();
    let mut app = App::new(config(std::path::Path::new("/state"), None), snap.clone());
    app.now = now(&snap);
    app
}

/// Renders the app at `w`×`h` and returns the screen as text (trailing spaces trimmed).
pub fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| podtui::tui::views::draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(key(c));
    }
}

/// Selects pod `name` (full name) in the pods table.
pub fn select(app: &mut App, name: &str) {
    app.on_key(code(KeyCode::Home));
    for _ in 0..app.pods.visible.len() {
        if app.selected_pod().is_some_and(|p| p.name == name) {
            return;
        }
        app.on_key(code(KeyCode::Down));
    }
    panic!("no pod {name}");
}
