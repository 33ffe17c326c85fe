//! The editor component: opening manifests in the built-in editor (or $VISUAL/$EDITOR), and what keys do in it.
//! The editor itself ([`Editor`]: text, findings, the apply preview) is `tui::editor`; it lives on the modal
//! stack while open. Drawn by `views::editor`.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use super::effect::Effect;
use super::modal::{Modal, Pending};
use crate::text::display_path;
use crate::tui::editor::{Editor, name_from_file, template};

impl App {
    /// Opens the manifest `source` in the built-in editor.
    pub(super) fn edit_file(&mut self, source: &str) {
        let Some(path) = self.editable(source) else {
            return;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let ed = Editor::open(path, &text, false, &self.cfg.node, &self.snap);
                self.open_editor(ed)
            }
            Err(e) => self.fail(format!("cannot read {source}: {e}")),
        }
    }

    /// Opens the manifest `source` in $VISUAL/$EDITOR.
    pub(super) fn edit_external(&mut self, source: &str) {
        let Some(path) = self.editable(source) else {
            return;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => self.effects.push(Effect::ExternalEditor { path, text }),
            Err(e) => self.fail(format!("cannot read {source}: {e}")),
        }
    }

    /// The file of a pod's `source`, when it comes from one.
    fn editable(&mut self, source: &str) -> Option<PathBuf> {
        if source.is_empty() || source.contains("://") {
            self.fail("this pod does not come from a file; edit it at its source");
            return None;
        }
        Some(PathBuf::from(source))
    }

    /// Opens the editor on a new manifest `name` in the watched directory, from the template.
    pub(super) fn new_file(&mut self, name: &str) {
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
        let ed = Editor::open(path, &text, true, &self.cfg.node, &self.snap);
        self.open_editor(ed);
    }

    /// A key in the editor: ctrl-s saves (after a confirm showing what applying does), esc closes (asking first
    /// when the text changed), anything else edits.
    pub(super) fn on_editor_key(&mut self, mut ed: Box<Editor>, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => {
                ed.validate(&self.snap);
                let question = self.save_question(&mut ed);
                self.modals.push(Modal::Editor(ed));
                if let Some(text) = question {
                    self.ask(text, Pending::Save);
                }
            }
            KeyCode::Esc if !ed.modified() => {}
            KeyCode::Esc => {
                let text = format!(
                    "Close the editor and drop the changes to {}?",
                    display_path(&ed.path)
                );
                self.modals.push(Modal::Editor(ed));
                self.ask(text, Pending::Discard);
            }
            _ => {
                if ed.area.input(key) {
                    ed.message = None;
                    ed.validate(&self.snap);
                }
                self.modals.push(Modal::Editor(ed));
            }
        }
    }

    /// The save confirm's question, or `None` (and the reason in the editor) when the text has errors.
    pub(super) fn save_question(&self, ed: &mut Editor) -> Option<String> {
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
            return None;
        }
        let verb = if ed.new_file { "Create" } else { "Save" };
        Some(format!(
            "{verb} {}?\n{}\nThe previous version is backed up to {}.",
            display_path(&ed.path),
            ed.preview.summary(),
            display_path(&self.cfg.state_dir.join("backups"))
        ))
    }
}
