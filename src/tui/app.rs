//! The UI's state and what keys do to it. All UI state lives here and is owned by one loop (no locks); side
//! effects (engine commands, log streams, the shell, the external editor) are queued as [`Effect`]s for the loop
//! to run, and their results come back as [`AppEvent`]s. That keeps this module testable with key streams.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use jiff::Timestamp;
use ratatui::layout::Rect;

use super::action::Action;
use super::editor::{ApplyPreview, Editor, name_from_file, template};
use super::keymap::{Keymap, Mode};
use super::logbuf::{LogBuffer, LogLine, StreamKind};
use super::sanitize::Span;
use super::theme::Theme;
use crate::engine::snapshot::{PodView, Snapshot};
use crate::engine::{Reply, Request};
use crate::manifest::FileState;
use crate::manifest::store::StoreError;
use crate::runtime::observe::{Instance, Role};
use crate::text::{display_path, escape_controls};

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
}

/// The tabs of the pod view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// Pause container, init and app containers.
    Containers,
    /// Who owns the network namespace.
    Network,
    /// Volumes and their mounts.
    Volumes,
    /// A container's log.
    Logs,
    /// The pod's events.
    Events,
    /// The manifest as applied / the pod as podtui sees it.
    Yaml,
}

impl Tab {
    /// All tabs in order.
    pub const ALL: [Tab; 6] = [
        Tab::Containers,
        Tab::Network,
        Tab::Volumes,
        Tab::Logs,
        Tab::Events,
        Tab::Yaml,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Containers => "Containers",
            Tab::Network => "Network",
            Tab::Volumes => "Volumes",
            Tab::Logs => "Logs",
            Tab::Events => "Events",
            Tab::Yaml => "YAML",
        }
    }

    fn step(self, by: isize) -> Tab {
        let i = Tab::ALL.iter().position(|t| *t == self).unwrap_or(0) as isize;
        Tab::ALL[(i + by).rem_euclid(Tab::ALL.len() as isize) as usize]
    }
}

/// Which pane of the pods screen has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The pods table.
    Pods,
    /// The manifests pane.
    Manifests,
}

/// Columns the pods table can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// NAME (namespace, then name).
    Name,
    /// STATUS.
    Status,
    /// RESTARTS.
    Restarts,
    /// AGE.
    Age,
    /// FILE.
    File,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Status,
            SortKey::Status => SortKey::Restarts,
            SortKey::Restarts => SortKey::Age,
            SortKey::Age => SortKey::File,
            SortKey::File => SortKey::Name,
        }
    }

    /// The column header it sorts.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::Name => "NAME",
            SortKey::Status => "STATUS",
            SortKey::Restarts => "RESTARTS",
            SortKey::Age => "AGE",
            SortKey::File => "FILE",
        }
    }
}

/// What the loop must do for the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Send a request to the engine; its reply comes back as [`AppEvent::Replied`].
    Engine(Request),
    /// Start streaming a container's log (replacing any other stream).
    FollowLogs {
        /// Results carry this generation; older ones are ignored.
        generation: u64,
        /// Docker container ID.
        container_id: String,
        /// Keep streaming.
        follow: bool,
        /// Ask Docker for timestamps.
        timestamps: bool,
    },
    /// Stop the log stream.
    StopLogs,
    /// Suspend the UI and open a shell in a container.
    Shell {
        /// Docker container ID.
        container_id: String,
        /// For messages.
        title: String,
    },
    /// Suspend the UI and edit `text` (the content of `path`) in $VISUAL/$EDITOR.
    ExternalEditor {
        /// The manifest.
        path: PathBuf,
        /// Its current text.
        text: String,
    },
    /// Write the log view's text to a file.
    SaveLogs {
        /// Target file.
        path: PathBuf,
        /// The text.
        text: String,
    },
    /// Leave; with `cleanup`, terminate every pod first.
    Quit {
        /// Terminate the pods.
        cleanup: bool,
    },
}

/// Results of effects, fed back into the app.
#[derive(Debug)]
pub enum AppEvent {
    /// The engine answered a request.
    Replied {
        /// What was asked.
        request: Request,
        /// The answer.
        reply: Reply,
    },
    /// Log lines arrived.
    LogLines {
        /// Generation of the stream.
        generation: u64,
        /// The lines.
        lines: Vec<LogLine>,
    },
    /// A log stream ended.
    LogEnded {
        /// Generation of the stream.
        generation: u64,
        /// Why, if it failed.
        error: Option<String>,
    },
    /// The shell ended.
    ShellEnded(Result<String, String>),
    /// The external editor closed; `None` text when it failed.
    ExternalEdited {
        /// The manifest.
        path: PathBuf,
        /// The edited text.
        text: Result<String, String>,
    },
    /// A generic message for the status line.
    Message(String, bool),
}

/// Something waiting for a yes/no.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    /// Kill the pod's containers.
    Kill {
        /// UID.
        uid: String,
    },
    /// Delete a manifest.
    Delete {
        /// File.
        path: PathBuf,
    },
    /// Restart a container.
    Restart {
        /// UID.
        uid: String,
        /// Container.
        container: String,
    },
    /// Save the editor's text.
    Save,
    /// Close the editor, dropping changes.
    Discard,
    /// Quit and terminate every pod.
    QuitAll,
}

/// A yes/no question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirm {
    /// The question, possibly several lines.
    pub text: String,
    /// What yes does.
    pub pending: Pending,
}

/// What a prompt line is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// `:` commands.
    Command,
    /// `/` filter of the pods table.
    Filter,
    /// `/` search in the log.
    Search,
    /// A file name for `n`.
    NewFile,
}

/// An open prompt line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// Its purpose.
    pub kind: PromptKind,
    /// What was typed.
    pub input: String,
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

/// A list position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListPos {
    /// Selected index.
    pub selected: usize,
    /// First visible index.
    pub offset: usize,
}

impl ListPos {
    fn clamp(&mut self, len: usize) {
        if len == 0 {
            self.selected = 0;
        } else if self.selected >= len {
            self.selected = len - 1;
        }
    }

    fn apply(&mut self, action: Action, len: usize, page: usize) -> bool {
        match action {
            Action::Down => self.selected = (self.selected + 1).min(len.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => {
                self.selected = (self.selected + page.max(1)).min(len.saturating_sub(1))
            }
            Action::PageUp => self.selected = self.selected.saturating_sub(page.max(1)),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = len.saturating_sub(1),
            _ => return false,
        }
        true
    }

    /// Keeps the selection within `height` visible rows of a list of `len`, and shows as many rows as fit (after
    /// a resize or rows removed there are no blank rows below the last one while rows above are hidden).
    pub fn scroll_into_view(&mut self, height: usize, len: usize) {
        if height == 0 {
            return;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

/// A container of the selected pod, as listed in the pod view (the sandbox first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerRow {
    /// Kubernetes name (`POD` for the sandbox).
    pub name: String,
    /// Sandbox, init or app.
    pub role: Role,
}

/// What the log view shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    /// Pod UID.
    pub uid: String,
    /// Container (`POD` for the sandbox).
    pub container: String,
    /// Docker ID of the instance.
    pub container_id: String,
    /// The previous instance.
    pub previous: bool,
    /// With timestamps.
    pub timestamps: bool,
}

/// The log view.
#[derive(Debug)]
pub struct LogView {
    /// What is shown.
    pub target: Option<LogTarget>,
    /// The lines.
    pub buffer: LogBuffer,
    /// Stick to the end.
    pub follow: bool,
    /// Wrap long lines.
    pub wrap: bool,
    /// Timestamps.
    pub timestamps: bool,
    /// The previous instance.
    pub previous: bool,
    /// First visible row when not following.
    pub top: usize,
    /// A line to bring into view on the next frame (a search match).
    pub pending_jump: Option<usize>,
    /// The search.
    pub search: String,
    /// The line of the current match, counted from the first line ever received (lines dropped from the
    /// front of the bounded buffer do not move it onto another line); see [`LogView::matched_index`].
    pub matched: Option<usize>,
    /// Stream generation.
    pub generation: u64,
    /// A note (stream ended, no previous instance).
    pub note: Option<String>,
}

impl LogView {
    /// The current match's index in the buffer now, if that line has not been dropped.
    pub fn matched_index(&self) -> Option<usize> {
        self.matched
            .and_then(|m| m.checked_sub(self.buffer.dropped() as usize))
    }
}

impl Default for LogView {
    fn default() -> Self {
        Self {
            target: None,
            buffer: LogBuffer::new(),
            follow: true,
            wrap: true,
            timestamps: false,
            previous: false,
            top: 0,
            pending_jump: None,
            search: String::new(),
            matched: None,
            generation: 0,
            note: None,
        }
    }
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
    /// Pods table position.
    pub pods_pos: ListPos,
    /// Manifests list position.
    pub files_pos: ListPos,
    /// Events view position.
    pub events_pos: ListPos,
    /// Sort column.
    pub sort: SortKey,
    /// Sort descending.
    pub reverse: bool,
    /// Filter text.
    pub filter: String,
    /// Indices into `snap.pods` of the visible rows, sorted and filtered.
    pub visible: Vec<usize>,
    /// The selected pod's UID (kept across snapshots).
    pub selected_uid: Option<String>,
    /// The pod shown in the detail screen.
    pub detail_uid: Option<String>,
    /// Its `namespace/name`, to follow it when an edit replaces it with a new UID.
    pub last_detail_key: Option<String>,
    /// Its tab.
    pub tab: Tab,
    /// The selected container in the pod view.
    pub container_sel: usize,
    /// Scroll of the text tabs (network, volumes, events, YAML).
    pub detail_scroll: usize,
    /// YAML tab shows the manifest as applied (true) or the pod as podtui sees it.
    pub yaml_applied: bool,
    /// The log view.
    pub logs: LogView,
    /// The built-in editor, when open.
    pub editor: Option<Editor>,
    /// A yes/no question, when open.
    pub confirm: Option<Confirm>,
    /// A prompt, when open.
    pub prompt: Option<Prompt>,
    /// The help screen.
    pub help: bool,
    /// First line of the help shown (it scrolls with j/k, the arrows and page keys).
    pub help_scroll: usize,
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
            pods_pos: ListPos::default(),
            files_pos: ListPos::default(),
            events_pos: ListPos::default(),
            sort: SortKey::Name,
            reverse: false,
            filter: String::new(),
            visible: Vec::new(),
            selected_uid: None,
            detail_uid: None,
            last_detail_key: None,
            tab: Tab::Containers,
            container_sel: 0,
            detail_scroll: 0,
            yaml_applied: true,
            logs: LogView::default(),
            editor: None,
            confirm: None,
            prompt: None,
            help: false,
            help_scroll: 0,
            message: None,
            mouse,
            effects: Vec::new(),
            quitting: None,
            areas: Areas::default(),
            page: 10,
        };
        app.refresh_visible();
        app
    }

    /// Takes the queued effects.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: escape_controls(&text.into()).into_owned(),
            error: false,
            at: self.now,
        });
    }

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
        }
    }

    // ----- snapshot -------------------------------------------------------------------------------------------

    /// Takes in a new snapshot.
    pub fn on_snapshot(&mut self, snap: Arc<Snapshot>) {
        self.snap = snap;
        self.refresh_visible();
        if self.screen == Screen::Detail {
            if self.detail_pod().is_none() {
                // The pod is gone (deleted, or replaced by a new version): follow the replacement by name.
                let replacement = self.detail_key().and_then(|key| {
                    self.snap
                        .pods
                        .iter()
                        .find(|p| p.key() == key && p.desired)
                        .cloned()
                });
                match replacement {
                    Some(p) => {
                        self.say(format!("{} was replaced by a new version", p.name));
                        self.detail_uid = Some(p.uid.clone());
                    }
                    None if self.last_detail_key.is_some() => {
                        self.say("the pod is gone");
                        self.leave_detail();
                    }
                    None => {}
                }
            }
            if let Some(p) = self.detail_pod() {
                self.last_detail_key = Some(p.key());
            }
            self.container_sel = self
                .container_sel
                .min(self.container_rows().len().saturating_sub(1));
            if self.tab == Tab::Logs {
                self.sync_logs();
            }
        }
        if let Some(ed) = self.editor.as_mut() {
            ed.validate(&self.snap);
        }
        self.files_pos.clamp(self.snap.files.len());
    }

    fn detail_key(&self) -> Option<String> {
        self.last_detail_key.clone()
    }

    /// Recomputes the sorted, filtered rows and keeps the selection on the same pod.
    pub fn refresh_visible(&mut self) {
        let f = self.filter.to_lowercase();
        let pods = &self.snap.pods;
        let mut idx: Vec<usize> = (0..pods.len())
            .filter(|i| {
                f.is_empty() || {
                    let p = &pods[*i];
                    p.name.to_lowercase().contains(&f)
                        || p.namespace.to_lowercase().contains(&f)
                        || p.columns.status.to_lowercase().contains(&f)
                        || p.source.to_lowercase().contains(&f)
                }
            })
            .collect();
        let key = self.sort;
        idx.sort_by(|a, b| {
            let (a, b) = (&pods[*a], &pods[*b]);
            let ord = match key {
                SortKey::Name => (a.namespace.as_str(), a.name.as_str())
                    .cmp(&(b.namespace.as_str(), b.name.as_str())),
                SortKey::Status => a.columns.status.cmp(&b.columns.status),
                SortKey::Restarts => a.columns.restarts.cmp(&b.columns.restarts),
                SortKey::Age => b.start_time().cmp(&a.start_time()),
                SortKey::File => a.source.cmp(&b.source),
            };
            ord.then_with(|| a.name.cmp(&b.name))
        });
        if self.reverse {
            idx.reverse();
        }
        self.visible = idx;
        if let Some(uid) = &self.selected_uid
            && let Some(pos) = self.visible.iter().position(|i| pods[*i].uid == *uid)
        {
            self.pods_pos.selected = pos;
        }
        self.pods_pos.clamp(self.visible.len());
        self.selected_uid = self.selected_pod().map(|p| p.uid.clone());
    }

    /// The pod under the cursor in the pods table.
    pub fn selected_pod(&self) -> Option<&Arc<PodView>> {
        self.visible
            .get(self.pods_pos.selected)
            .and_then(|i| self.snap.pods.get(*i))
    }

    /// The pod of the detail screen.
    pub fn detail_pod(&self) -> Option<&Arc<PodView>> {
        let uid = self.detail_uid.as_ref()?;
        self.snap.pods.iter().find(|p| p.uid == *uid)
    }

    /// The containers listed in the pod view: the sandbox, then init and app containers in spec order.
    pub fn container_rows(&self) -> Vec<ContainerRow> {
        let Some(p) = self.detail_pod() else {
            return Vec::new();
        };
        container_rows(p)
    }

    // ----- keys ----------------------------------------------------------------------------------------------

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) {
        if key.kind == crossterm::event::KeyEventKind::Release {
            return;
        }
        if self.confirm.is_some() {
            return self.on_confirm_key(key);
        }
        if self.prompt.is_some() {
            return self.on_prompt_key(key);
        }
        if self.editor.is_some() {
            return self.on_editor_key(key);
        }
        if self.help {
            // The help scrolls (it is longer than a small terminal); any other key closes it.
            match self.cfg.keymap.lookup(self.mode(), &key) {
                Some(Action::Down) => self.help_scroll = self.help_scroll.saturating_add(1),
                Some(Action::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Action::PageDown) => {
                    self.help_scroll = self.help_scroll.saturating_add(self.page.max(1))
                }
                Some(Action::PageUp) => {
                    self.help_scroll = self.help_scroll.saturating_sub(self.page.max(1))
                }
                _ => {
                    self.help = false;
                    self.help_scroll = 0;
                }
            }
            return;
        }
        let mode = self.mode();
        if let Some(action) = self.cfg.keymap.lookup(mode, &key) {
            self.act(action);
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
                self.confirm = Some(Confirm {
                    text: format!(
                        "Quit and terminate all {n} pod(s) of node {}?\nEach gets its grace period; their volumes are removed.",
                        self.snap.node_name
                    ),
                    pending: Pending::QuitAll,
                });
            }
            Action::Help => self.help = true,
            Action::Command => self.open_prompt(PromptKind::Command),
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
            },
        }
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        let input = match kind {
            PromptKind::Filter => self.filter.clone(),
            PromptKind::Search => self.logs.search.clone(),
            _ => String::new(),
        };
        self.prompt = Some(Prompt { kind, input });
    }

    fn act_pods(&mut self, action: Action) {
        let len = self.visible.len();
        if self.pods_pos.apply(action, len, self.page) {
            self.selected_uid = self.selected_pod().map(|p| p.uid.clone());
            return;
        }
        match action {
            Action::NextPane | Action::PrevPane => self.focus = Focus::Manifests,
            Action::Filter => self.open_prompt(PromptKind::Filter),
            Action::Back => {
                self.filter.clear();
                self.refresh_visible();
            }
            Action::SortNext => {
                self.sort = self.sort.next();
                self.refresh_visible();
                self.say(format!("sorted by {}", self.sort.column()));
            }
            Action::SortReverse => {
                self.reverse = !self.reverse;
                self.refresh_visible();
            }
            Action::Describe | Action::Open => self.open_detail(Tab::Containers),
            Action::Logs => self.open_detail(Tab::Logs),
            Action::Yaml => self.open_detail(Tab::Yaml),
            Action::Events => self.open_detail(Tab::Events),
            Action::New => self.open_prompt(PromptKind::NewFile),
            Action::Undelete => self
                .effects
                .push(Effect::Engine(Request::RestoreManifest { id: None })),
            _ => {
                let Some(p) = self.selected_pod().cloned() else {
                    self.fail("no pod selected");
                    return;
                };
                self.act_on_pod(action, &p, None);
            }
        }
    }

    /// Actions on a pod (from the table or the pod view); `container` is the selected container, if any.
    fn act_on_pod(&mut self, action: Action, p: &PodView, container: Option<&ContainerRow>) {
        match action {
            Action::Edit if self.cfg.external_editor => self.edit_external(&p.source),
            Action::Edit => self.edit_file(&p.source),
            Action::EditExternal => self.edit_external(&p.source),
            Action::Kill => {
                let running = p.observed.all().filter(|i| i.state.is_running()).count();
                self.confirm = Some(Confirm {
                    text: format!(
                        "Kill the {running} running container(s) of {} (SIGKILL, the pause container too)?\npodtui brings the pod back per its restartPolicy ({}).",
                        p.name,
                        p.pod
                            .spec
                            .as_ref()
                            .and_then(|s| s.restart_policy.clone())
                            .unwrap_or_else(|| "Always".into())
                    ),
                    pending: Pending::Kill { uid: p.uid.clone() },
                });
            }
            Action::Delete => {
                if p.source.contains("://") || p.source.is_empty() {
                    self.fail("this pod does not come from a file in the watched directory");
                    return;
                }
                self.confirm = Some(Confirm {
                    text: format!(
                        "Delete {}?\nIt moves to the trash ({}); its pods are terminated. `u` or :restore brings it back.",
                        escape_controls(&p.source),
                        display_path(&self.cfg.state_dir.join("trash"))
                    ),
                    pending: Pending::Delete {
                        path: PathBuf::from(&p.source),
                    },
                });
            }
            Action::Restart => {
                let Some(c) = container.filter(|c| c.role != Role::Sandbox) else {
                    self.fail("select an init or app container to restart (the pause container restarts the whole pod: ctrl-k)");
                    return;
                };
                self.confirm = Some(Confirm {
                    text: format!(
                        "Restart container {} of {}?\nIt is stopped with the pod's grace period and started again at once.",
                        c.name, p.name
                    ),
                    pending: Pending::Restart {
                        uid: p.uid.clone(),
                        container: c.name.clone(),
                    },
                });
            }
            Action::Shell => {
                let target = match container {
                    Some(c) => Some(c.clone()),
                    None => container_rows(p).into_iter().find(|c| c.role == Role::App),
                };
                let Some(c) = target else {
                    self.fail("the pod has no container");
                    return;
                };
                if c.role == Role::Sandbox {
                    self.fail("the pause container has no shell (it is a single static binary)");
                    return;
                }
                match instance(p, &c.name, false) {
                    Some(i) if i.state.is_running() => self.effects.push(Effect::Shell {
                        container_id: i.id.clone(),
                        title: format!("{}/{}", p.name, c.name),
                    }),
                    _ => self.fail(format!("container {} is not running", c.name)),
                }
            }
            _ => {}
        }
    }

    fn act_manifests(&mut self, action: Action) {
        let len = self.snap.files.len();
        if self.files_pos.apply(action, len, self.page) {
            return;
        }
        let file = self.snap.files.get(self.files_pos.selected).cloned();
        match action {
            Action::NextPane | Action::PrevPane | Action::Back => self.focus = Focus::Pods,
            Action::New => self.open_prompt(PromptKind::NewFile),
            Action::Undelete => self
                .effects
                .push(Effect::Engine(Request::RestoreManifest { id: None })),
            Action::Open => {
                let Some(f) = file else { return };
                match self
                    .snap
                    .pods
                    .iter()
                    .find(|p| f.pods.contains(&p.key()))
                    .cloned()
                {
                    Some(p) => {
                        self.selected_uid = Some(p.uid.clone());
                        self.refresh_visible();
                        self.focus = Focus::Pods;
                        self.open_detail(Tab::Containers);
                    }
                    None => self.say(format!("{} runs no pod ({})", f.path, f.state.label())),
                }
            }
            Action::Edit | Action::EditExternal | Action::Delete => {
                let Some(f) = file else { return };
                if matches!(f.state, FileState::Skipped { .. }) && action != Action::Delete {
                    self.fail(format!("{} is not a manifest", f.path));
                    return;
                }
                if f.path.contains("://") {
                    self.fail("pods from a URL are edited at their source");
                    return;
                }
                match action {
                    Action::Edit if self.cfg.external_editor => self.edit_external(&f.path),
                    Action::Edit => self.edit_file(&f.path),
                    Action::EditExternal => self.edit_external(&f.path),
                    _ => {
                        self.confirm = Some(Confirm {
                            text: format!(
                                "Delete {}?\nIt moves to the trash ({}); its pods are terminated. `u` or :restore brings it back.",
                                escape_controls(&f.path),
                                display_path(&self.cfg.state_dir.join("trash"))
                            ),
                            pending: Pending::Delete {
                                path: PathBuf::from(&f.path),
                            },
                        })
                    }
                }
            }
            _ => {}
        }
    }

    fn act_events(&mut self, action: Action) {
        let len = self.all_events_len();
        if self.events_pos.apply(action, len, self.page) {
            return;
        }
        if action == Action::Back {
            self.screen = Screen::Pods;
        }
    }

    /// Number of events across all pods.
    pub fn all_events_len(&self) -> usize {
        self.snap.pods.iter().map(|p| p.events.len()).sum()
    }

    fn open_detail(&mut self, tab: Tab) {
        let Some(p) = self.selected_pod().cloned() else {
            self.fail("no pod selected");
            return;
        };
        self.detail_uid = Some(p.uid.clone());
        self.last_detail_key = Some(p.key());
        self.screen = Screen::Detail;
        self.logs.previous = false;
        // A log opens at its end and follows, whatever the last log view was left at.
        self.logs.follow = true;
        self.detail_scroll = 0;
        let rows = container_rows(&p);
        self.container_sel = rows.iter().position(|c| c.role == Role::App).unwrap_or(0);
        self.set_tab(tab);
    }

    fn leave_detail(&mut self) {
        self.set_tab(Tab::Containers);
        self.screen = Screen::Pods;
        self.detail_uid = None;
        self.last_detail_key = None;
    }

    fn set_tab(&mut self, tab: Tab) {
        let was_logs = self.tab == Tab::Logs;
        self.tab = tab;
        self.detail_scroll = 0;
        if tab == Tab::Logs {
            self.sync_logs();
        } else if was_logs {
            self.stop_logs();
        }
    }

    fn act_detail(&mut self, action: Action) {
        let Some(p) = self.detail_pod().cloned() else {
            self.leave_detail();
            return;
        };
        let rows = container_rows(&p);
        match action {
            Action::Back => return self.leave_detail(),
            Action::NextPane => return self.set_tab(self.tab.step(1)),
            Action::PrevPane => return self.set_tab(self.tab.step(-1)),
            Action::Logs => return self.set_tab(Tab::Logs),
            Action::Yaml => return self.set_tab(Tab::Yaml),
            Action::Events => return self.set_tab(Tab::Events),
            Action::ToggleYaml => {
                self.yaml_applied = !self.yaml_applied;
                self.detail_scroll = 0;
                return;
            }
            _ => {}
        }
        if self.tab == Tab::Logs {
            return self.act_logs(action, &p);
        }
        let nav = matches!(
            action,
            Action::Up
                | Action::Down
                | Action::PageUp
                | Action::PageDown
                | Action::Top
                | Action::Bottom
        );
        if nav {
            if self.tab == Tab::Containers {
                let mut pos = ListPos {
                    selected: self.container_sel,
                    offset: 0,
                };
                pos.apply(action, rows.len(), self.page);
                self.container_sel = pos.selected;
            } else {
                let mut pos = ListPos {
                    selected: self.detail_scroll,
                    offset: 0,
                };
                pos.apply(action, usize::MAX / 2, self.page);
                self.detail_scroll = pos.selected;
            }
            return;
        }
        let container = rows.get(self.container_sel).cloned();
        self.act_on_pod(action, &p, container.as_ref());
    }

    // ----- logs ----------------------------------------------------------------------------------------------

    /// The log target the view should show now, from the selection and the pod's instances.
    fn wanted_log_target(&self) -> Result<LogTarget, String> {
        let p = self.detail_pod().ok_or("no pod")?;
        let rows = container_rows(p);
        let c = rows.get(self.container_sel).ok_or("no container")?;
        let inst = instance(p, &c.name, self.logs.previous).ok_or_else(|| {
            if self.logs.previous {
                format!("container {} has no previous instance", c.name)
            } else {
                format!("container {} has not been created yet", c.name)
            }
        })?;
        Ok(LogTarget {
            uid: p.uid.clone(),
            container: c.name.clone(),
            container_id: inst.id.clone(),
            previous: self.logs.previous,
            timestamps: self.logs.timestamps,
        })
    }

    /// Starts, switches or keeps the log stream to match the selection.
    fn sync_logs(&mut self) {
        match self.wanted_log_target() {
            Ok(t) if self.logs.target.as_ref() == Some(&t) => {}
            Ok(t) => {
                let same_container = self.logs.target.as_ref().is_some_and(|o| {
                    o.uid == t.uid
                        && o.container == t.container
                        && o.previous == t.previous
                        && o.timestamps == t.timestamps
                });
                if same_container && !t.previous {
                    // A new instance of the same container (it restarted): keep the old lines, mark the boundary.
                    self.logs.buffer.extend([LogLine::new(
                        vec![Span {
                            text: format!(
                                "──── container {} restarted: new instance {} ────",
                                t.container,
                                crate::runtime::docker::short(&t.container_id)
                            ),
                            style: self.cfg.theme.dim(),
                        }],
                        StreamKind::Out,
                        false,
                    )]);
                } else {
                    self.logs.buffer.clear();
                    self.logs.top = 0;
                    self.logs.matched = None;
                }
                self.logs.generation += 1;
                self.logs.note = None;
                self.effects.push(Effect::FollowLogs {
                    generation: self.logs.generation,
                    container_id: t.container_id.clone(),
                    follow: !t.previous,
                    timestamps: t.timestamps,
                });
                self.logs.target = Some(t);
            }
            Err(why) => {
                if self.logs.target.is_some() {
                    self.stop_logs();
                }
                self.logs.buffer.clear();
                self.logs.note = Some(why);
            }
        }
    }

    fn stop_logs(&mut self) {
        if self.logs.target.take().is_some() {
            self.logs.generation += 1;
            self.effects.push(Effect::StopLogs);
        }
    }

    fn act_logs(&mut self, action: Action, p: &PodView) {
        let rows = container_rows(p);
        match action {
            Action::Follow => {
                self.logs.follow = !self.logs.follow;
                self.say(if self.logs.follow {
                    "follow on"
                } else {
                    "follow off"
                });
            }
            Action::Wrap => self.logs.wrap = !self.logs.wrap,
            Action::Timestamps => {
                self.logs.timestamps = !self.logs.timestamps;
                self.sync_logs();
            }
            Action::Previous => {
                self.logs.previous = !self.logs.previous;
                self.sync_logs();
                self.say(if self.logs.previous {
                    "previous instance"
                } else {
                    "current instance"
                });
            }
            Action::NextContainer => {
                if !rows.is_empty() {
                    self.container_sel = (self.container_sel + 1) % rows.len();
                    self.sync_logs();
                }
            }
            Action::Filter => self.open_prompt(PromptKind::Search),
            Action::SearchNext | Action::SearchPrev => self.search(action == Action::SearchPrev),
            Action::SaveLogs => {
                let Some(t) = &self.logs.target else {
                    self.fail("no log to save");
                    return;
                };
                let name = format!(
                    "{}-{}-{}.log",
                    p.name,
                    t.container,
                    self.now.strftime("%Y%m%dT%H%M%SZ")
                );
                let path = self.cfg.state_dir.join("logs").join(name);
                let mut text = String::new();
                for l in self.logs.buffer.lines() {
                    text.push_str(&l.text());
                    text.push('\n');
                }
                self.effects.push(Effect::SaveLogs { path, text });
            }
            Action::Shell => {
                let c = rows.get(self.container_sel).cloned();
                self.act_on_pod(Action::Shell, p, c.as_ref());
            }
            Action::Up | Action::PageUp | Action::Top => {
                let step = match action {
                    Action::Up => 1,
                    Action::PageUp => self.page.max(1),
                    _ => usize::MAX,
                };
                if self.logs.follow {
                    self.logs.follow = false;
                    self.logs.top = usize::MAX;
                }
                self.logs.top = self.logs.top.saturating_sub(step);
                if action == Action::Top {
                    self.logs.top = 0;
                }
            }
            Action::Down | Action::PageDown => {
                let step = if action == Action::Down {
                    1
                } else {
                    self.page.max(1)
                };
                if !self.logs.follow {
                    self.logs.top = self.logs.top.saturating_add(step);
                }
            }
            Action::Bottom => self.logs.follow = true,
            other => {
                let c = rows.get(self.container_sel).cloned();
                self.act_on_pod(other, p, c.as_ref());
            }
        }
    }

    fn search(&mut self, back: bool) {
        if self.logs.search.is_empty() {
            self.fail("no search: press / to search");
            return;
        }
        let from = self.logs.matched_index().unwrap_or(if back {
            0
        } else {
            self.logs.buffer.len().saturating_sub(1)
        });
        match self.logs.buffer.find(&self.logs.search, from, back) {
            Some(i) => {
                self.logs.matched = Some(i + self.logs.buffer.dropped() as usize);
                self.logs.follow = false;
                self.logs.pending_jump = Some(i);
            }
            None => self.fail(format!("{:?} not found", self.logs.search)),
        }
    }

    // ----- prompt, confirm, editor -----------------------------------------------------------------------------

    fn on_prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => {
                let kind = prompt.kind;
                self.prompt = None;
                if kind == PromptKind::Filter {
                    self.filter.clear();
                    self.refresh_visible();
                }
            }
            KeyCode::Enter => {
                let p = self.prompt.take().unwrap_or(Prompt {
                    kind: PromptKind::Command,
                    input: String::new(),
                });
                self.submit_prompt(p);
            }
            KeyCode::Backspace => {
                prompt.input.pop();
                if prompt.kind == PromptKind::Filter {
                    self.filter = prompt.input.clone();
                    self.refresh_visible();
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.push(c);
                if prompt.kind == PromptKind::Filter {
                    self.filter = prompt.input.clone();
                    self.refresh_visible();
                }
            }
            _ => {}
        }
    }

    fn submit_prompt(&mut self, p: Prompt) {
        let input = p.input.trim().to_string();
        match p.kind {
            PromptKind::Filter => {
                self.filter = input;
                self.refresh_visible();
            }
            PromptKind::Search => {
                self.logs.search = input;
                self.logs.matched = None;
                self.search(false);
            }
            PromptKind::NewFile => self.new_file(&input),
            PromptKind::Command => self.command(&input),
        }
    }

    /// Runs a `:` command.
    pub fn command(&mut self, cmd: &str) {
        let mut words = cmd.split_whitespace();
        let head = words.next().unwrap_or_default();
        match head {
            "" => {}
            "q" | "quit" | "exit" => self.act(Action::Quit),
            "q!" | "quit!" | "down" => self.act(Action::QuitAll),
            "pods" | "po" | "pod" => {
                self.leave_detail();
                self.screen = Screen::Pods;
                self.focus = Focus::Pods;
            }
            "manifests" | "mf" | "files" => {
                self.leave_detail();
                self.screen = Screen::Pods;
                self.focus = Focus::Manifests;
            }
            "events" | "ev" => {
                self.leave_detail();
                self.screen = Screen::Events;
            }
            "restore" | "undelete" => {
                let id = words.next().map(str::to_string);
                self.effects
                    .push(Effect::Engine(Request::RestoreManifest { id }));
            }
            "help" | "h" => self.help = true,
            "mouse" => self.act(Action::ToggleMouse),
            "mono" => self.cfg.theme.mono = true,
            "color" | "colour" => {
                self.cfg.theme.mono = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            }
            other => self.fail(format!(
                "unknown command :{other} (try :q, :pods, :manifests, :events, :restore, :help)"
            )),
        }
    }

    fn on_confirm_key(&mut self, key: KeyEvent) {
        let Some(c) = self.confirm.take() else { return };
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => self.confirmed(c.pending),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => self.say("cancelled"),
            _ => self.confirm = Some(c),
        }
    }

    fn confirmed(&mut self, pending: Pending) {
        match pending {
            Pending::Kill { uid } => {
                self.effects.push(Effect::Engine(Request::KillPod { uid }));
                self.say("killing the pod's containers; podtui brings them back");
            }
            Pending::Delete { path } => self
                .effects
                .push(Effect::Engine(Request::DeleteManifest { path })),
            Pending::Restart { uid, container } => {
                self.say(format!("restarting {container}"));
                self.effects
                    .push(Effect::Engine(Request::RestartContainer { uid, container }));
            }
            Pending::QuitAll => {
                self.quitting = Some(true);
                self.effects.push(Effect::Quit { cleanup: true });
            }
            Pending::Discard => self.editor = None,
            Pending::Save => {
                if let Some(ed) = &self.editor {
                    let path = ed.path.clone();
                    let text = ed.text();
                    self.effects
                        .push(Effect::Engine(Request::SaveManifest { path, text }));
                }
            }
        }
    }

    fn edit_file(&mut self, source: &str) {
        if source.is_empty() || source.contains("://") {
            self.fail("this pod does not come from a file; edit it at its source");
            return;
        }
        let path = PathBuf::from(source);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.editor = Some(Editor::open(path, &text, false, &self.cfg.node, &self.snap))
            }
            Err(e) => self.fail(format!("cannot read {source}: {e}")),
        }
    }

    fn edit_external(&mut self, source: &str) {
        if source.is_empty() || source.contains("://") {
            self.fail("this pod does not come from a file; edit it at its source");
            return;
        }
        let path = PathBuf::from(source);
        match std::fs::read_to_string(&path) {
            Ok(text) => self.effects.push(Effect::ExternalEditor { path, text }),
            Err(e) => self.fail(format!("cannot read {source}: {e}")),
        }
    }

    fn new_file(&mut self, name: &str) {
        let Some(dir) = self.cfg.watch_path.clone().filter(|p| p.is_dir()) else {
            self.fail(
                "new manifests need a watched directory (podtui was started on a file or URL)",
            );
            return;
        };
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            self.fail("give a plain file name, such as web.yaml");
            return;
        }
        let file = if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
            name.to_string()
        } else {
            format!("{name}.yaml")
        };
        let path = dir.join(&file);
        if path.exists() {
            self.fail(format!(
                "{} exists already: use e to edit it",
                path.display()
            ));
            return;
        }
        let text = template(&name_from_file(&file));
        self.editor = Some(Editor::open(path, &text, true, &self.cfg.node, &self.snap));
    }

    fn on_editor_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(ed) = self.editor.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Char('s') if ctrl => {
                ed.validate(&self.snap);
                if ed.errors() > 0 {
                    let first = ed
                        .findings
                        .iter()
                        .find(|f| f.is_error())
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    ed.message = Some(format!(
                        "save refused: {} error(s); the text is kept. First: {first}",
                        ed.errors()
                    ));
                    return;
                }
                let verb = if ed.new_file { "Create" } else { "Save" };
                let text = format!(
                    "{verb} {}?\n{}\nThe previous version is backed up to {}.",
                    display_path(&ed.path),
                    ed.preview.summary(),
                    display_path(&self.cfg.state_dir.join("backups"))
                );
                self.confirm = Some(Confirm {
                    text,
                    pending: Pending::Save,
                });
            }
            KeyCode::Esc => {
                if ed.modified() {
                    self.confirm = Some(Confirm {
                        text: format!(
                            "Close the editor and drop the changes to {}?",
                            display_path(&ed.path)
                        ),
                        pending: Pending::Discard,
                    });
                } else {
                    self.editor = None;
                }
            }
            _ => {
                if ed.area.input(key) {
                    ed.message = None;
                    ed.validate(&self.snap);
                }
            }
        }
    }

    // ----- results -------------------------------------------------------------------------------------------

    /// Takes in the result of an effect.
    pub fn on_event(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::Replied { request, reply } => self.on_reply(&request, reply),
            AppEvent::LogLines { generation, lines } => {
                if generation == self.logs.generation {
                    self.logs.buffer.extend(lines);
                }
            }
            AppEvent::LogEnded { generation, error } => {
                if generation == self.logs.generation {
                    self.logs.note = Some(match error {
                        Some(e) => format!("log stream failed: {e}"),
                        None if self.logs.previous => "end of the previous instance's log".into(),
                        None => "the container stopped; its log ended".into(),
                    });
                }
            }
            AppEvent::ShellEnded(Ok(what)) => self.say(what),
            AppEvent::ShellEnded(Err(e)) => self.fail(format!("shell: {e}")),
            AppEvent::ExternalEdited { path, text } => match text {
                Err(e) => self.fail(format!("external editor: {e}")),
                Ok(text) => {
                    let original = std::fs::read_to_string(&path).unwrap_or_default();
                    if text == original {
                        self.say("no change");
                        return;
                    }
                    let ed = Editor::open(
                        path.clone(),
                        &text,
                        !path.exists(),
                        &self.cfg.node,
                        &self.snap,
                    );
                    if ed.errors() > 0 {
                        let mut ed = ed;
                        ed.original = original;
                        ed.message = Some(format!(
                            "the edited text has {} error(s); fix them here (ctrl-s saves) or esc to drop it",
                            ed.errors()
                        ));
                        self.editor = Some(ed);
                    } else {
                        self.effects
                            .push(Effect::Engine(Request::SaveManifest { path, text }));
                    }
                }
            },
            AppEvent::Message(text, error) => {
                if error {
                    self.fail(text)
                } else {
                    self.say(text)
                }
            }
        }
    }

    /// Shows what the engine answered.
    fn on_reply(&mut self, request: &Request, reply: Reply) {
        match reply {
            Reply::Accepted => {}
            Reply::Saved(r) => {
                let backup = r
                    .backup
                    .map(|b| format!(" (previous version: {})", b.display()))
                    .unwrap_or_default();
                self.say(format!("saved {}{backup}", r.path.display()));
                self.editor = None;
            }
            Reply::Failed(e) if matches!(request, Request::SaveManifest { .. }) => {
                let text = match &e {
                    StoreError::Invalid(f) => format!(
                        "save refused: {}",
                        f.iter()
                            .find(|x| x.is_error())
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ),
                    other => format!("save failed: {other}"),
                };
                match self.editor.as_mut() {
                    Some(ed) => ed.message = Some(text),
                    None => self.fail(text),
                }
            }
            Reply::Trashed(e) => {
                let key = self
                    .cfg
                    .keymap
                    .key_for(Mode::Pods, Action::Undelete)
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "u".into());
                self.say(format!(
                    "moved {} to the trash; press {key} (or :restore) to bring it back",
                    e.original.display()
                ));
            }
            Reply::Restored(p) => self.say(format!("restored {}", p.display())),
            Reply::Failed(e) if matches!(request, Request::DeleteManifest { .. }) => {
                self.fail(format!("delete failed: {e}"))
            }
            Reply::Failed(e) => self.fail(format!("restore: {e}")),
            Reply::UnknownPod => self.fail("the pod is gone"),
            Reply::EngineStopped => self.fail("the engine stopped"),
        }
    }

    // ----- mouse ---------------------------------------------------------------------------------------------

    /// Handles a mouse event: click selects, the wheel scrolls.
    pub fn on_mouse(&mut self, ev: MouseEvent) {
        if !self.mouse || self.editor.is_some() || self.confirm.is_some() || self.prompt.is_some() {
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
                if self.screen == Screen::Pods && inside(self.areas.pods_rows) {
                    let i = self.pods_pos.offset + (ev.row - self.areas.pods_rows.y) as usize;
                    if i < self.visible.len() {
                        self.focus = Focus::Pods;
                        if self.pods_pos.selected == i {
                            self.open_detail(Tab::Containers);
                        } else {
                            self.pods_pos.selected = i;
                            self.selected_uid = self.selected_pod().map(|p| p.uid.clone());
                        }
                    }
                } else if self.screen == Screen::Pods && inside(self.areas.manifest_rows) {
                    let line =
                        self.files_pos.offset + (ev.row - self.areas.manifest_rows.y) as usize;
                    if let Some(&i) = self.areas.manifest_line_files.get(line)
                        && i < self.snap.files.len()
                    {
                        self.focus = Focus::Manifests;
                        self.files_pos.selected = i;
                    }
                } else if self.screen == Screen::Detail && inside(self.areas.tabs) {
                    let mut x = self.areas.tabs.x;
                    for t in Tab::ALL {
                        let w = t.title().len() as u16 + 3;
                        if ev.column >= x && ev.column < x + w {
                            self.set_tab(t);
                            break;
                        }
                        x += w;
                    }
                } else if self.screen == Screen::Detail
                    && self.tab == Tab::Containers
                    && inside(self.areas.container_rows)
                {
                    let i = (ev.row - self.areas.container_rows.y) as usize;
                    if i < self.container_rows().len() {
                        self.container_sel = i;
                    }
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
        self.editor.as_ref().map(|e| &e.preview)
    }

    /// The directory new manifests go to.
    pub fn watch_dir(&self) -> Option<&Path> {
        self.cfg.watch_path.as_deref().filter(|p| p.is_dir())
    }
}

/// The pod's containers in the pod view's order: sandbox, init containers, app containers.
pub fn container_rows(p: &PodView) -> Vec<ContainerRow> {
    let mut rows = vec![ContainerRow {
        name: "POD".into(),
        role: Role::Sandbox,
    }];
    if let Some(spec) = p.pod.spec.as_ref() {
        for c in spec.init_containers.iter().flatten() {
            rows.push(ContainerRow {
                name: c.name.clone(),
                role: Role::Init,
            });
        }
        for c in &spec.containers {
            rows.push(ContainerRow {
                name: c.name.clone(),
                role: Role::App,
            });
        }
    } else {
        let mut names: Vec<(String, Role)> = p
            .observed
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.role))
            .collect();
        names.dedup();
        rows.extend(
            names
                .into_iter()
                .map(|(name, role)| ContainerRow { name, role }),
        );
    }
    rows
}

/// The newest (or, with `previous`, the one before) instance of container `name` (`POD`: the sandbox).
pub fn instance<'a>(p: &'a PodView, name: &str, previous: bool) -> Option<&'a Instance> {
    let idx = usize::from(previous);
    if name == "POD" {
        p.observed.sandboxes.iter().rev().nth(idx)
    } else {
        p.observed.instances(name).get(idx).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::ListPos;

    #[test]
    fn a_list_shows_as_many_rows_as_fit_after_growing() {
        let mut pos = ListPos {
            selected: 2,
            offset: 0,
        };
        // A tiny window shows only the selected (last) row...
        pos.scroll_into_view(1, 3);
        assert_eq!(pos.offset, 2);
        // ...and a big one again shows all three, not the last one above blank rows.
        pos.scroll_into_view(20, 3);
        assert_eq!(pos.offset, 0);
        // Scrolled down in a long list, the selection stays visible.
        let mut long = ListPos {
            selected: 50,
            offset: 0,
        };
        long.scroll_into_view(10, 100);
        assert_eq!(long.offset, 41);
    }
}
