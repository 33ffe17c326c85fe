//! The UI's state and what keys do to it, as components. All UI state lives in [`App`] and is owned by one loop
//! (no locks); side effects (engine requests, log streams, the shell, the external editor) are queued as
//! [`Effect`]s for the loop to run, and their results come back as [`AppEvent`]s. That keeps the app testable
//! with key streams.
//!
//! A key goes to the top of the modal stack first ([`modal`]: confirm, prompt, help, editor), else to the
//! component of the current screen, chosen by [`App::mode`]. Each component owns its state and key handling,
//! and is drawn by its view in `tui::views` (drawing stays there: one place for layout and styles):
//!
//! - [`pods`]: the pods table ([`PodsTable`]) and the actions on one pod; [`manifests`]: the manifests pane;
//!   [`events`]: every pod's events; [`pod_view`]: one pod in tabs ([`PodViewState`]); [`logs`]: its Logs tab
//!   ([`LogView`]); [`editor`]: the built-in editor.
//! - [`commands`]: the `:` command table; [`effect`]: the effect protocol; [`list`]: list cursors.

pub mod commands;
pub mod editor;
pub mod effect;
pub mod events;
pub mod filter;
pub mod find;
pub mod forwards;
pub mod list;
pub mod logs;
pub mod manifests;
pub mod marks;
pub mod modal;
pub mod pod_view;
pub mod pods;
pub mod stats;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use jiff::Timestamp;
use ratatui::layout::Rect;

pub use self::effect::{AppEvent, Effect};
pub use self::forwards::{ForwardView, Forwards};
pub use self::list::ListPos;
pub use self::logs::{LogTarget, LogView};
pub use self::modal::{Confirm, Help, Modal, Pending, Prompt, PromptKind};
pub use self::pod_view::{ContainerRow, PodViewState, Tab, container_rows, instance};
pub use self::pods::{PodsTable, SortKey};
use super::action::Action;
use super::editor::ApplyPreview;
use super::keymap::{Keymap, Mode};
use super::theme::Theme;
use crate::engine::snapshot::Snapshot;
use crate::text::escape_controls;

/// Lines of log history fetched when a log view opens.
pub const LOG_TAIL: u64 = 5000;

/// The top-level screens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Pods table and manifests pane.
    Pods,
    /// Every pod's events.
    Events,
    /// One pod.
    Detail,
    /// The running port-forwards (`:pf`).
    Forwards,
}

/// Which pane of the pods screen has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The pods table.
    Pods,
    /// The manifests pane.
    Manifests,
}

/// A status-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Text.
    pub text: String,
    /// An error (shown in the error style).
    pub error: bool,
    /// When it was set (messages fade after a while).
    pub at: Timestamp,
}

/// Static settings of the UI.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Node name.
    pub node: String,
    /// State dir (saved logs go under it).
    pub state_dir: PathBuf,
    /// The watched manifest path (new manifests go into it when it is a directory).
    pub watch_path: Option<PathBuf>,
    /// Keys.
    pub keymap: Keymap,
    /// Styles.
    pub theme: Theme,
    /// Capture the mouse.
    pub mouse: bool,
    /// `e` opens the external editor.
    pub external_editor: bool,
    /// `D`'s image (config `debug_image`, default busybox:1).
    pub debug_image: String,
    /// Where the Kubernetes API listens and the kubeconfig for it, for the header.
    pub api: Option<String>,
}

/// Screen areas of the last frame, for mouse hit tests.
#[derive(Clone, Debug, Default)]
pub struct Areas {
    /// Rows of the pods table (without the header).
    pub pods_rows: Rect,
    /// Rows of the manifests list.
    pub manifest_rows: Rect,
    /// For each line of the manifests list (from its scroll offset), the file it belongs to (an invalid file's
    /// errors take lines of their own).
    pub manifest_line_files: Vec<usize>,
    /// Rows of the containers table.
    pub container_rows: Rect,
    /// The log text.
    pub logs: Rect,
    /// The tab bar.
    pub tabs: Rect,
}

/// The UI state.
/// The UI state: routing (screen, focus, tab, the modal stack), each component's state, and what the loop
/// reads back (effects, quitting, the last frame's areas).
pub struct App {
    /// Settings.
    pub cfg: AppConfig,
    /// The latest engine snapshot.
    pub snap: Arc<Snapshot>,
    /// The clock for ages and countdowns (set by the loop; fixed in tests).
    pub now: Timestamp,
    /// Which screen.
    pub screen: Screen,
    /// Pods pane or manifests pane.
    pub focus: Focus,
    /// The pod view's tab (which of its components has the keys).
    pub tab: Tab,
    /// Dialogs over the screens, bottom first; the last one gets the keys.
    modals: Vec<Modal>,
    /// The pods table.
    pub pods: PodsTable,
    /// The manifests pane: its list position.
    pub files_pos: ListPos,
    /// The events screen: its list position.
    pub events_pos: ListPos,
    /// The pod view.
    pub pod_view: PodViewState,
    /// The log view.
    pub logs: LogView,
    /// The status message.
    pub message: Option<Message>,
    /// Mouse capture on.
    pub mouse: bool,
    /// Effects for the loop.
    pub effects: Vec<Effect>,
    /// Set when the app wants to quit (with cleanup or not).
    pub quitting: Option<bool>,
    /// Areas of the last frame.
    pub areas: Areas,
    /// Page height of the main list (from the last frame).
    pub page: usize,
    /// Live resource use and the interest declared in it.
    pub stats: stats::StatsState,
    /// The `/` search of the pod view's tabs and the events screen.
    pub find: find::TextSearch,
    /// The `:` commands run, oldest first (↑/↓ at the prompt).
    pub command_history: Vec<String>,
    /// The port-forwards and the `:pf` screen.
    pub forwards: Forwards,
}

impl App {
    /// A new app over `snap`.
    pub fn new(cfg: AppConfig, snap: Arc<Snapshot>) -> Self {
        let mouse = cfg.mouse;
        let mut app = Self {
            cfg,
            snap,
            now: Timestamp::now(),
            screen: Screen::Pods,
            focus: Focus::Pods,
            tab: Tab::Containers,
            modals: Vec::new(),
            pods: PodsTable::default(),
            files_pos: ListPos::default(),
            events_pos: ListPos::default(),
            pod_view: PodViewState::default(),
            logs: LogView::default(),
            message: None,
            mouse,
            effects: Vec::new(),
            quitting: None,
            areas: Areas::default(),
            page: 10,
            stats: stats::StatsState::default(),
            find: find::TextSearch::default(),
            command_history: Vec::new(),
            forwards: Forwards::default(),
        };
        app.refresh_visible();
        app
    }

    /// Takes the queued effects.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Shows `text` on the status line.
    fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: escape_controls(&text.into()).into_owned(),
            error: false,
            at: self.now,
        });
    }

    /// Shows `text` on the status line as an error.
    fn fail(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: escape_controls(&text.into()).into_owned(),
            error: true,
            at: self.now,
        });
    }

    /// The keymap mode of the current view.
    pub fn mode(&self) -> Mode {
        match self.screen {
            Screen::Pods if self.focus == Focus::Manifests => Mode::Manifests,
            Screen::Pods => Mode::Pods,
            Screen::Events => Mode::Events,
            Screen::Detail if self.tab == Tab::Logs => Mode::Logs,
            Screen::Detail => Mode::Detail,
            Screen::Forwards => Mode::Forwards,
        }
    }

    /// Takes in a new snapshot.
    pub fn on_snapshot(&mut self, snap: Arc<Snapshot>) {
        self.snap = snap;
        self.refresh_visible();
        if self.screen == Screen::Detail {
            self.pod_view_on_snapshot();
        }
        let snap = self.snap.clone();
        if let Some(ed) = self.editor_mut() {
            ed.validate(&snap);
        }
        self.files_pos.clamp(self.snap.files.len());
    }

    /// Handles a key: the top modal gets it, else the current screen's component.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == crossterm::event::KeyEventKind::Release {
            return;
        }
        if self.on_modal_key(key) {
            return;
        }
        if let Some(action) = self.cfg.keymap.lookup(self.mode(), &key) {
            let (mode, said) = (self.mode(), self.message.clone());
            self.act(action);
            // A message belongs to the view it was said in: leaving the view shows the new view's keys, unless
            // the action itself said something.
            if self.mode() != mode && self.message == said {
                self.message = None;
            }
        }
    }

    /// Does what `action` means in the current view.
    pub fn act(&mut self, action: Action) {
        match action {
            Action::Quit => {
                self.quitting = Some(false);
                self.effects.push(Effect::Quit { cleanup: false });
            }
            Action::QuitAll => {
                let n = self.snap.pods.len();
                self.ask(
                    format!(
                        "Quit and terminate all {n} pod(s) of node {}?\nEach gets its grace period; their volumes are removed.",
                        self.snap.node_name
                    ),
                    Pending::QuitAll,
                );
            }
            Action::Help => self.open_help(false),
            Action::CommandPrompt => self.open_prompt(PromptKind::Command),
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                self.say(if self.mouse {
                    "mouse capture on"
                } else {
                    "mouse capture off: select text with the mouse"
                });
            }
            _ => match self.screen {
                Screen::Pods if self.focus == Focus::Manifests => self.act_manifests(action),
                Screen::Pods => self.act_pods(action),
                Screen::Events => self.act_events(action),
                Screen::Detail => self.act_detail(action),
                Screen::Forwards => self.act_forwards(action),
            },
        }
    }

    /// Handles a mouse event: click selects, the wheel scrolls. Not while a dialog other than help is open.
    pub fn on_mouse(&mut self, ev: MouseEvent) {
        let dialog = self.modals.iter().any(|m| !matches!(m, Modal::Help(_)));
        if !self.mouse || dialog {
            return;
        }
        let inside = |r: Rect| {
            ev.column >= r.x
                && ev.column < r.x + r.width
                && ev.row >= r.y
                && ev.row < r.y + r.height
        };
        match ev.kind {
            MouseEventKind::ScrollDown => self.act(Action::Down),
            MouseEventKind::ScrollUp => self.act(Action::Up),
            MouseEventKind::Down(MouseButton::Left) => {
                let a = self.areas.clone();
                match self.screen {
                    Screen::Pods if inside(a.pods_rows) => {
                        self.click_pods((ev.row - a.pods_rows.y) as usize)
                    }
                    Screen::Pods if inside(a.manifest_rows) => {
                        self.click_manifests((ev.row - a.manifest_rows.y) as usize)
                    }
                    Screen::Detail if inside(a.tabs) => self.click_tabs(ev.column),
                    Screen::Detail if self.tab == Tab::Containers && inside(a.container_rows) => {
                        self.click_containers((ev.row - a.container_rows.y) as usize)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Whether the message is recent enough to show.
    pub fn current_message(&self) -> Option<&Message> {
        self.message
            .as_ref()
            .filter(|m| self.now.duration_since(m.at).as_secs() < 8)
    }

    /// The editor's apply preview, if an editor is open.
    pub fn editor_preview(&self) -> Option<&ApplyPreview> {
        self.editor().map(|e| &e.preview)
    }

    /// The directory new manifests go to.
    pub fn watch_dir(&self) -> Option<&Path> {
        self.cfg.watch_path.as_deref().filter(|p| p.is_dir())
    }
}

/// An app over an empty snapshot, for unit tests.
#[cfg(test)]
pub(crate) fn test_app() -> App {
    let cfg = AppConfig {
        node: "demo".into(),
        state_dir: "/state".into(),
        watch_path: None,
        keymap: Keymap::default(),
        theme: Theme::default(),
        mouse: true,
        external_editor: false,
        debug_image: crate::debug::DEFAULT_IMAGE.into(),
        api: None,
    };
    let snap = Snapshot::empty("demo", "manifests", "unix:///var/run/docker.sock");
    App::new(cfg, Arc::new(snap))
}
