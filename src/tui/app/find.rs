//! `/` search in the text views the log's own search does not cover: the pod view's tabs (containers, network,
//! volumes, events, YAML) and the events screen. The term is typed at a prompt and matched case-insensitively
//! as typed (a trailing space counts); `n`/`N` go to the next/previous match, wrapping around. A match selects
//! its container or event, or scrolls its line into view; the views mark every match. Its state is the app's
//! `find`; the term belongs to the pod it was typed for, the match to the tab.

use super::modal::PromptKind;
use super::pod_view::container_rows;
use super::{App, Screen, Tab};
use crate::engine::Snapshot;
use crate::engine::events::PodEvent;
use crate::tui::action::Action;

/// A search in a text view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextSearch {
    /// The term as typed.
    pub term: String,
    /// The item (container, event or line) of the current match.
    pub hit: Option<usize>,
    /// A line of a text tab to bring into view on the next frame: only the view knows where a line lands once
    /// the text is wrapped.
    pub jump: Option<usize>,
    /// The pod (uid) the term was typed for; none for the events screen.
    pub pod: Option<String>,
}

impl TextSearch {
    /// Whether `text` holds the term (never, without one).
    pub fn matches(&self, text: &str) -> bool {
        !self.term.is_empty() && text.to_lowercase().contains(&self.term.to_lowercase())
    }

    /// Forgets the match (a new tab or view), keeping the term.
    pub fn reset(&mut self) {
        self.hit = None;
        self.jump = None;
    }
}

/// The first item at or after `from` (before it, with `back`) that `matches`, wrapping around.
pub fn find(
    items: &[String],
    matches: impl Fn(&str) -> bool,
    from: usize,
    back: bool,
) -> Option<usize> {
    let n = items.len();
    (0..n)
        .map(|k| {
            if back {
                (from + n - k % n) % n
            } else {
                (from + k) % n
            }
        })
        .find(|&i| matches(&items[i]))
}

/// What the events screen lists, newest first: each pod's name with one of its events.
pub fn all_events(snap: &Snapshot) -> Vec<(&str, &PodEvent)> {
    let mut all: Vec<(&str, &PodEvent)> = snap
        .pods
        .iter()
        .flat_map(|p| p.events.iter().map(move |e| (p.name.as_str(), e)))
        .collect();
    all.sort_by_key(|e| std::cmp::Reverse(e.1.last_seen));
    all
}

/// The searchable text of an event row.
pub fn event_text(object: &str, e: &PodEvent) -> String {
    format!("{:?} {} {object} {}", e.kind, e.reason, e.message)
}

impl App {
    /// Opens the search prompt of the current text view.
    pub(super) fn open_find(&mut self) {
        if self.screen == Screen::Detail && self.tab == Tab::Resources {
            self.fail("/ searches the Containers, Network, Volumes, Events and YAML tabs");
        }
        self.open_prompt(PromptKind::Find);
    }

    /// The pod the current view searches (none on the events screen): a term typed for another is not used.
    fn find_scope(&self) -> Option<String> {
        match self.screen {
            Screen::Detail => self.pod_view.uid.clone(),
            _ => None,
        }
    }

    /// The term typed for this view, if any.
    pub fn find_term(&self) -> Option<&str> {
        (!self.find.term.is_empty() && self.find.pod == self.find_scope())
            .then_some(self.find.term.as_str())
    }

    /// Takes `term` from the prompt and goes to its first match from where the view is.
    pub(super) fn submit_find(&mut self, term: String) {
        self.find.term = term;
        self.find.reset();
        self.find.pod = self.find_scope();
        if !self.find.term.is_empty() {
            self.find_next(false);
        }
    }

    /// What `/`, `n` and `N` do in a text view; false for any other action.
    pub(super) fn act_find(&mut self, action: Action) -> bool {
        match action {
            Action::Filter => self.open_find(),
            Action::SearchNext => self.find_next(false),
            Action::SearchPrev => self.find_next(true),
            _ => return false,
        }
        true
    }

    /// The texts `/` searches in the current view, one per item in the order shown.
    fn find_items(&self) -> Vec<String> {
        if self.screen == Screen::Events {
            return all_events(&self.snap)
                .into_iter()
                .map(|(pod, e)| event_text(pod, e))
                .collect();
        }
        let Some(p) = self.detail_pod() else {
            return Vec::new();
        };
        match self.tab {
            Tab::Containers => container_rows(p).into_iter().map(|c| c.name).collect(),
            Tab::Events => p
                .events
                .iter()
                .rev()
                .map(|e| event_text(&e.object, e))
                .collect(),
            Tab::Network | Tab::Volumes | Tab::Describe | Tab::Yaml => {
                let theme = self.cfg.theme.clone();
                crate::tui::views::detail::text_lines(self, p, &theme)
                    .1
                    .iter()
                    .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
                    .collect()
            }
            Tab::Logs | Tab::Resources => Vec::new(),
        }
    }

    /// Where the view is: the selected container or event, the first line shown.
    fn find_origin(&self) -> usize {
        match (self.screen == Screen::Events, self.tab) {
            (true, _) => self.events_pos.selected,
            (_, Tab::Containers) => self.pod_view.container_sel,
            _ => self.pod_view.scroll,
        }
    }

    /// Goes to the next (or, with `back`, the previous) match of the term.
    fn find_next(&mut self, back: bool) {
        if self.find_term().is_none() {
            self.fail("no search: press / to search");
            return;
        }
        let items = self.find_items();
        let from = match self.find.hit {
            Some(h) if back => h + items.len().max(1) - 1,
            Some(h) => h + 1,
            None => self.find_origin(),
        };
        let search = self.find.clone();
        match find(&items, |t| search.matches(t), from, back) {
            Some(i) => {
                self.find.hit = Some(i);
                match (self.screen == Screen::Events, self.tab) {
                    (true, _) => self.events_pos.selected = i,
                    (_, Tab::Containers) => self.pod_view.container_sel = i,
                    (_, Tab::Events) => self.pod_view.scroll = i,
                    _ => self.find.jump = Some(i),
                }
                // An earlier "not found" is answered.
                if self.message.as_ref().is_some_and(|m| m.error) {
                    self.message = None;
                }
            }
            None => self.fail(format!("{:?} not found", self.find.term)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn find_wraps_around_both_ways() {
        let it = items(&["a x", "b", "c x", "d"]);
        let has_x = |t: &str| t.contains('x');
        assert_eq!(find(&it, has_x, 0, false), Some(0));
        assert_eq!(find(&it, has_x, 1, false), Some(2));
        assert_eq!(find(&it, has_x, 3, false), Some(0));
        assert_eq!(find(&it, has_x, 1, true), Some(0));
        assert_eq!(find(&it, has_x, 0, true), Some(0));
        assert_eq!(find(&it, has_x, 3, true), Some(2));
        assert_eq!(find(&it, |t| t == "zz", 0, false), None);
        assert_eq!(find(&[], has_x, 0, false), None);
    }

    #[test]
    fn a_term_matches_as_typed_without_case() {
        let s = TextSearch {
            term: "line 5 ".into(),
            ..TextSearch::default()
        };
        assert!(s.matches("LINE 5 of 9"));
        assert!(!s.matches("line 50"));
        assert!(!TextSearch::default().matches("anything"));
    }
}
