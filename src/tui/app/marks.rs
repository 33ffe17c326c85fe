//! Multi-select in the pods table, k9s' way: space marks or unmarks the pod under the cursor (and moves on),
//! ctrl-space marks the span from the last marked pod to the cursor, esc clears the marks; while pods are
//! marked, ctrl-k kills and ctrl-d deletes all of them after one confirm.

use std::path::PathBuf;

use super::App;
use super::effect::Effect;
use super::modal::Pending;
use crate::engine::Request;
use crate::tui::action::Action;

impl App {
    /// Space: toggles the mark of the pod under the cursor, then moves down.
    pub(super) fn mark(&mut self) {
        let Some(p) = self.selected_pod().cloned() else {
            return self.fail("no pod selected");
        };
        if self.pods.is_marked(&p.uid) {
            self.pods.marked.retain(|m| *m != p.uid);
        } else {
            self.pods.marked.push(p.uid.clone());
        }
        let len = self.pods.visible.len();
        self.pods.pos.apply(Action::Down, len, self.page);
        self.pods.selected_uid = self.selected_pod().map(|p| p.uid.clone());
        self.say_marks();
    }

    /// Ctrl-space: marks every visible pod between the last marked one and the cursor (just the cursor's
    /// when none is marked).
    pub(super) fn mark_range(&mut self) {
        if self.pods.visible.is_empty() {
            return;
        }
        let cursor = self.pods.pos.selected;
        let row_of = |uid: &str| {
            self.pods
                .visible
                .iter()
                .position(|i| self.snap.pods.get(*i).is_some_and(|p| p.uid == uid))
        };
        let anchor = self
            .pods
            .marked
            .last()
            .and_then(|m| row_of(m))
            .unwrap_or(cursor);
        let (lo, hi) = (anchor.min(cursor), anchor.max(cursor));
        let uids: Vec<String> = self.pods.visible
            [lo..=hi.min(self.pods.visible.len().saturating_sub(1))]
            .iter()
            .filter_map(|i| self.snap.pods.get(*i).map(|p| p.uid.clone()))
            .collect();
        for uid in uids {
            if !self.pods.is_marked(&uid) {
                self.pods.marked.push(uid);
            }
        }
        self.say_marks();
    }

    fn say_marks(&mut self) {
        let n = self.pods.marked.len();
        self.say(match n {
            0 => "no pod marked".to_string(),
            _ => format!(
                "{n} pod(s) marked: ctrl-k kills them, ctrl-d deletes them, esc clears the marks"
            ),
        });
    }

    /// Ctrl-k / ctrl-d with pods marked: one question for all of them.
    pub(super) fn act_on_marked(&mut self, action: Action) {
        let pods: Vec<_> = self
            .pods
            .marked
            .iter()
            .filter_map(|uid| self.snap.pods.iter().find(|p| p.uid == *uid).cloned())
            .collect();
        let names = |v: &[String]| {
            let mut s = v.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > 5 {
                s.push_str(&format!(" and {} more", v.len() - 5));
            }
            s
        };
        match action {
            Action::Kill => {
                let list: Vec<String> = pods.iter().map(|p| p.name.clone()).collect();
                let terminating = pods.iter().filter(|p| p.terminating.is_some()).count();
                let force = if terminating > 0 {
                    format!(
                        "\n{terminating} of them are terminating: they are killed now, without the rest of their grace period."
                    )
                } else {
                    String::new()
                };
                self.ask(
                    format!(
                        "Kill the containers of {} marked pod(s) ({}) with SIGKILL, the pause containers too?\npodtui brings each back per its restartPolicy.{force}",
                        list.len(),
                        names(&list)
                    ),
                    Pending::KillMany {
                        uids: pods.iter().map(|p| p.uid.clone()).collect(),
                    },
                );
            }
            Action::Delete => {
                let mut paths: Vec<String> = Vec::new();
                let mut skipped = 0;
                for p in &pods {
                    if p.source.contains("://") || p.source.is_empty() {
                        skipped += 1;
                    } else if !paths.contains(&p.source) {
                        paths.push(p.source.clone());
                    }
                }
                if paths.is_empty() {
                    return self.fail(
                        "none of the marked pods comes from a file in the watched directory",
                    );
                }
                let skipped = if skipped > 0 {
                    format!("\n{skipped} marked pod(s) come from no file here and stay.")
                } else {
                    String::new()
                };
                self.ask(
                    format!(
                        "Delete {} manifest(s) of the marked pods ({})?\nThey move to the trash; their pods are terminated. `u` or :restore brings each back.{skipped}",
                        paths.len(),
                        names(&paths)
                    ),
                    Pending::DeleteMany {
                        paths: paths.into_iter().map(PathBuf::from).collect(),
                    },
                );
            }
            _ => {}
        }
    }

    /// The yes to [`Pending::KillMany`] / [`Pending::DeleteMany`]: one request per pod or file; the marks go.
    pub(super) fn confirmed_many(&mut self, pending: Pending) {
        match pending {
            Pending::KillMany { uids } => {
                let n = uids.len();
                for uid in uids {
                    self.effects.push(Effect::Engine(Request::KillPod { uid }));
                }
                self.say(format!("killing the containers of {n} pod(s)"));
            }
            Pending::DeleteMany { paths } => {
                for path in paths {
                    self.effects
                        .push(Effect::Engine(Request::DeleteManifest { path }));
                }
            }
            _ => return,
        }
        self.pods.marked.clear();
    }
}
