//! The modal stack: dialogs over the screens. The top modal gets every key first (a screen sees keys only when
//! no modal is open); Esc closes the top one. Each modal's handler takes it off the stack and puts it back if it
//! stays open, so closing is simply not putting it back.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use super::effect::Effect;
use crate::engine::Request;
use crate::tui::action::Action;
use crate::tui::editor::Editor;

/// A dialog over the screens; the app keeps a stack of them.
pub enum Modal {
    /// A yes/no question.
    Confirm(Confirm),
    /// A prompt line (`:`, `/`, a file name).
    Prompt(Prompt),
    /// The help screen.
    Help(Help),
    /// The built-in manifest editor (full screen; a confirm can open over it).
    Editor(Box<Editor>),
}

/// The help screen's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Help {
    /// First line shown (it scrolls with j/k, the arrows and page keys).
    pub scroll: usize,
    /// Opened by `:help`: the `:` commands come first, then the keys.
    pub commands: bool,
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
    /// Kill the containers of several pods.
    KillMany {
        /// UIDs.
        uids: Vec<String>,
    },
    /// Delete several manifests.
    DeleteMany {
        /// Files.
        paths: Vec<PathBuf>,
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
    /// `/` search in the pod view's other tabs and the events screen.
    Find,
    /// A file name for `n`.
    NewFile,
    /// `local:remote` for `F`.
    Forward,
}

/// How many `:` commands the prompt remembers.
const COMMAND_HISTORY: usize = 50;

/// An open prompt line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// Its purpose.
    pub kind: PromptKind,
    /// What was typed.
    pub input: String,
    /// For `:`: the entry of the command history shown (0 the newest), while going through it with ↑/↓.
    pub history: Option<usize>,
}

impl App {
    /// The open modals, bottom first (the last one gets the keys).
    pub fn modals(&self) -> &[Modal] {
        &self.modals
    }

    /// The open yes/no question, if any.
    pub fn confirm(&self) -> Option<&Confirm> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Confirm(c) => Some(c),
            _ => None,
        })
    }

    /// The open prompt line, if any.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Prompt(p) => Some(p),
            _ => None,
        })
    }

    /// The help screen, if open.
    pub fn help(&self) -> Option<&Help> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Help(h) => Some(h),
            _ => None,
        })
    }

    /// The built-in editor, if open.
    pub fn editor(&self) -> Option<&Editor> {
        self.modals.iter().rev().find_map(|m| match m {
            Modal::Editor(e) => Some(&**e),
            _ => None,
        })
    }

    /// The built-in editor, if open, to change.
    pub fn editor_mut(&mut self) -> Option<&mut Editor> {
        self.modals.iter_mut().rev().find_map(|m| match m {
            Modal::Editor(e) => Some(&mut **e),
            _ => None,
        })
    }

    /// Opens `editor` (in place of any editor already open).
    pub fn open_editor(&mut self, editor: Editor) {
        self.close_editor();
        self.modals.push(Modal::Editor(Box::new(editor)));
    }

    /// Closes the editor, wherever it is in the stack.
    pub(super) fn close_editor(&mut self) {
        self.modals.retain(|m| !matches!(m, Modal::Editor(_)));
    }

    /// Asks `text`; yes does `pending`.
    pub(super) fn ask(&mut self, text: String, pending: Pending) {
        self.modals.push(Modal::Confirm(Confirm { text, pending }));
    }

    /// Opens the help screen.
    pub(super) fn open_help(&mut self, commands: bool) {
        self.modals.push(Modal::Help(Help {
            scroll: 0,
            commands,
        }));
    }

    /// Opens a prompt line of `kind`, holding the current filter or search when it edits one.
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        let input = match kind {
            PromptKind::Filter => self.pods.filter.clone(),
            PromptKind::Search => self.logs.search.clone(),
            PromptKind::Find => self.find_term().unwrap_or_default().to_string(),
            _ => String::new(),
        };
        self.modals.push(Modal::Prompt(Prompt {
            kind,
            input,
            history: None,
        }));
    }

    /// Gives `key` to the top modal; false when no modal is open.
    pub(super) fn on_modal_key(&mut self, key: KeyEvent) -> bool {
        let Some(top) = self.modals.pop() else {
            return false;
        };
        match top {
            Modal::Confirm(c) => self.on_confirm_key(c, key),
            Modal::Prompt(p) => self.on_prompt_key(p, key),
            Modal::Help(h) => self.on_help_key(h, key),
            Modal::Editor(ed) => self.on_editor_key(ed, key),
        }
        true
    }

    /// The help scrolls (it is longer than a small terminal); any other key closes it.
    fn on_help_key(&mut self, mut help: Help, key: KeyEvent) {
        match self.cfg.keymap.lookup(self.mode(), &key) {
            Some(Action::Down) => help.scroll = help.scroll.saturating_add(1),
            Some(Action::Up) => help.scroll = help.scroll.saturating_sub(1),
            Some(Action::PageDown) => help.scroll = help.scroll.saturating_add(self.page.max(1)),
            Some(Action::PageUp) => help.scroll = help.scroll.saturating_sub(self.page.max(1)),
            _ => return,
        }
        self.modals.push(Modal::Help(help));
    }

    fn on_prompt_key(&mut self, mut prompt: Prompt, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => {
                if prompt.kind == PromptKind::Filter {
                    self.pods.filter.clear();
                    self.refresh_visible();
                }
                return;
            }
            KeyCode::Enter => return self.submit_prompt(prompt),
            KeyCode::Tab if prompt.kind == PromptKind::Command => {
                if let Some(done) = self.complete_command(&prompt.input) {
                    prompt.input = done;
                }
            }
            KeyCode::Up | KeyCode::Down if prompt.kind == PromptKind::Command => {
                let older = key.code == KeyCode::Up;
                let next = match (prompt.history, older) {
                    (None, true) => Some(0),
                    (None, false) => None,
                    (Some(i), true) => {
                        Some((i + 1).min(self.command_history.len().saturating_sub(1)))
                    }
                    (Some(0), false) => None,
                    (Some(i), false) => Some(i - 1),
                };
                match next.and_then(|i| self.command_history.iter().rev().nth(i)) {
                    Some(entry) => {
                        prompt.history = next;
                        prompt.input = entry.clone();
                    }
                    // Past the newest: an empty line. With no history, what was typed stays.
                    None if prompt.history.is_some() => {
                        prompt.history = None;
                        prompt.input.clear();
                    }
                    None => {}
                }
            }
            KeyCode::Backspace => {
                prompt.input.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.clear();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.push(c);
            }
            _ => {}
        }
        if prompt.kind == PromptKind::Filter && self.pods.filter != prompt.input {
            self.pods.filter = prompt.input.clone();
            self.refresh_visible();
        }
        self.modals.push(Modal::Prompt(prompt));
    }

    fn submit_prompt(&mut self, p: Prompt) {
        // A search is taken as typed: `line 5 ` must not match `line 50`.
        let input = if matches!(p.kind, PromptKind::Search | PromptKind::Find) {
            p.input.clone()
        } else {
            p.input.trim().to_string()
        };
        match p.kind {
            PromptKind::Filter => {
                self.pods.filter = input;
                self.refresh_visible();
            }
            PromptKind::Search => {
                self.logs.search = input;
                self.logs.matched = None;
                self.search(false);
            }
            PromptKind::Find => self.submit_find(input),
            PromptKind::NewFile => self.new_file(&input),
            PromptKind::Forward => self.submit_forward(&input),
            PromptKind::Command => {
                if !input.is_empty() && self.command_history.last() != Some(&input) {
                    self.command_history.push(input.clone());
                    if self.command_history.len() > COMMAND_HISTORY {
                        self.command_history.remove(0);
                    }
                }
                self.command(&input)
            }
        }
    }

    fn on_confirm_key(&mut self, c: Confirm, key: KeyEvent) {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => self.confirmed(c.pending),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => self.say("cancelled"),
            _ => self.modals.push(Modal::Confirm(c)),
        }
    }

    /// Does what a yes to `pending` means.
    fn confirmed(&mut self, pending: Pending) {
        match pending {
            Pending::Kill { uid } => {
                self.effects.push(Effect::Engine(Request::KillPod { uid }));
                self.say("killing the pod's containers; podtui brings them back");
            }
            Pending::Delete { path } => self
                .effects
                .push(Effect::Engine(Request::DeleteManifest { path })),
            many @ (Pending::KillMany { .. } | Pending::DeleteMany { .. }) => {
                self.confirmed_many(many)
            }
            Pending::Restart { uid, container } => {
                self.say(format!("restarting {container}"));
                self.effects
                    .push(Effect::Engine(Request::RestartContainer { uid, container }));
            }
            Pending::QuitAll => {
                self.quitting = Some(true);
                self.effects.push(Effect::Quit { cleanup: true });
            }
            Pending::Discard => self.close_editor(),
            Pending::Save => {
                if let Some(ed) = self.editor() {
                    let path = ed.path.clone();
                    let text = ed.text();
                    self.effects
                        .push(Effect::Engine(Request::SaveManifest { path, text }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::tui::app::test_app;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn kinds(a: &App) -> Vec<&'static str> {
        a.modals()
            .iter()
            .map(|m| match m {
                Modal::Confirm(_) => "confirm",
                Modal::Prompt(_) => "prompt",
                Modal::Help(_) => "help",
                Modal::Editor(_) => "editor",
            })
            .collect()
    }

    fn editor(a: &mut App) {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: busybox\n";
        let snap = a.snap.clone();
        a.open_editor(Editor::open(
            "/m/web.yaml".into(),
            text,
            false,
            "demo",
            &snap,
        ));
    }

    #[test]
    fn the_top_modal_gets_the_keys_and_esc_pops_it() {
        let mut a = test_app();
        editor(&mut a);
        a.on_key(key(KeyCode::Char('x')));
        assert!(a.editor().unwrap().modified(), "the editor took the key");
        // Esc on a changed text asks first: the confirm goes on top and gets the keys.
        a.on_key(key(KeyCode::Esc));
        assert_eq!(kinds(&a), ["editor", "confirm"]);
        a.on_key(key(KeyCode::Char('x')));
        assert_eq!(
            kinds(&a),
            ["editor", "confirm"],
            "a confirm waits for y or n"
        );
        assert!(!a.editor().unwrap().text().contains("xx"));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(kinds(&a), ["editor"], "esc pops the confirm only");
        a.on_key(key(KeyCode::Esc));
        a.on_key(key(KeyCode::Char('y')));
        assert!(
            kinds(&a).is_empty(),
            "yes drops the changes and closes the editor"
        );
        assert!(a.take_effects().is_empty());
    }

    #[test]
    fn a_prompt_takes_typed_keys_from_the_screen() {
        let mut a = test_app();
        a.on_key(key(KeyCode::Char(':')));
        a.on_key(key(KeyCode::Char('q')));
        assert_eq!(kinds(&a), ["prompt"]);
        assert_eq!(a.prompt().unwrap().input, "q");
        assert!(
            a.take_effects().is_empty(),
            "q went to the prompt, not to quit"
        );
        a.on_key(key(KeyCode::Esc));
        assert!(kinds(&a).is_empty());
        assert!(a.take_effects().is_empty(), "esc drops the command");
    }

    #[test]
    fn help_scrolls_and_closes_and_a_save_confirm_sits_over_the_editor() {
        let mut a = test_app();
        a.on_key(key(KeyCode::Char('?')));
        a.on_key(key(KeyCode::Char('j')));
        a.on_key(key(KeyCode::Char('j')));
        assert_eq!(a.help().map(|h| (h.scroll, h.commands)), Some((2, false)));
        a.on_key(key(KeyCode::Esc));
        assert!(a.help().is_none());

        editor(&mut a);
        a.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert_eq!(kinds(&a), ["editor", "confirm"]);
        a.on_key(key(KeyCode::Enter));
        assert_eq!(
            kinds(&a),
            ["editor"],
            "the editor stays open until the engine saved"
        );
        assert!(matches!(
            a.take_effects().as_slice(),
            [Effect::Engine(Request::SaveManifest { path, .. })] if path.ends_with("web.yaml")
        ));
    }
}
