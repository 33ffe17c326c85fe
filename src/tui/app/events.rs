//! The events screen component: every pod's events in one list (its state is the app's `events_pos`).
//! Drawn by `views::pods::draw_events`.

use super::{App, Screen};
use crate::tui::action::Action;

impl App {
    /// What `action` does on the events screen.
    pub(super) fn act_events(&mut self, action: Action) {
        let len = self.all_events_len();
        if self.events_pos.apply(action, len, self.page) || self.act_find(action) {
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
}
