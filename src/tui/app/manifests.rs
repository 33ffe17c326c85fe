//! The manifests pane component: what keys do to the list of manifest files (its state is the app's
//! `files_pos`, the list position; the rows are the snapshot's files). Drawn by `views::pods`.

use std::path::PathBuf;

use super::effect::Effect;
use super::modal::{Pending, PromptKind};
use super::pod_view::Tab;
use super::{App, Focus};
use crate::engine::Request;
use crate::manifest::FileState;
use crate::text::{display_path, escape_controls};
use crate::tui::action::Action;

impl App {
    /// What `action` does in the manifests pane.
    pub(super) fn act_manifests(&mut self, action: Action) {
        let len = self.snap.files.len();
        if self.files_pos.apply(action, len, self.page) {
            return;
        }
        match action {
            Action::NextPane | Action::PrevPane | Action::Back => self.focus = Focus::Pods,
            Action::New => self.open_prompt(PromptKind::NewFile),
            Action::Undelete => self
                .effects
                .push(Effect::Engine(Request::RestoreManifest { id: None })),
            Action::Open => self.open_file_pod(),
            Action::Edit | Action::EditExternal | Action::Delete => self.change_file(action),
            _ => {}
        }
    }

    /// Opens the pod of the selected file in the pod view.
    fn open_file_pod(&mut self) {
        let Some(f) = self.snap.files.get(self.files_pos.selected).cloned() else {
            return;
        };
        match self
            .snap
            .pods
            .iter()
            .find(|p| f.pods.contains(&p.key()))
            .cloned()
        {
            Some(p) => {
                self.pods.selected_uid = Some(p.uid.clone());
                self.refresh_visible();
                self.focus = Focus::Pods;
                self.open_detail(Tab::Containers);
            }
            None => self.say(format!("{} runs no pod ({})", f.path, f.state.label())),
        }
    }

    /// Edits or deletes the selected file.
    fn change_file(&mut self, action: Action) {
        let Some(f) = self.snap.files.get(self.files_pos.selected).cloned() else {
            return;
        };
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
            _ => self.ask_delete(&f.path),
        }
    }

    /// Asks whether to delete the manifest `path` (to the trash).
    pub(super) fn ask_delete(&mut self, path: &str) {
        self.ask(
            format!(
                "Delete {}?\nIt moves to the trash ({}); its pods are terminated. `u` or :restore brings it back.",
                escape_controls(path),
                display_path(&self.cfg.state_dir.join("trash"))
            ),
            Pending::Delete {
                path: PathBuf::from(path),
            },
        );
    }

    /// A click on line `line` of the pane (from its top): selects the file the line belongs to.
    pub(super) fn click_manifests(&mut self, line: usize) {
        let line = self.files_pos.offset + line;
        if let Some(&i) = self.areas.manifest_line_files.get(line)
            && i < self.snap.files.len()
        {
            self.focus = Focus::Manifests;
            self.files_pos.selected = i;
        }
    }
}
