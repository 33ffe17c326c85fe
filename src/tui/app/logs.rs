//! The logs component: the Logs tab of the pod view. Its state is [`LogView`] (the bounded buffer, follow, wrap,
//! search, the stream's generation); keys start, switch and stop the one log stream through effects. Drawn by
//! `views::logs`.

use super::App;
use super::effect::Effect;
use super::modal::PromptKind;
use super::pod_view::container_rows;
use super::pod_view::instance;
use crate::engine::snapshot::PodView;
use crate::tui::action::Action;
use crate::tui::logbuf::{LogBuffer, LogLine, StreamKind};
use crate::tui::sanitize::Span;

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
    /// With follow off: the line shown at the top (counted from the first line ever received) and the row
    /// within it, so lines dropped from the front of the bounded buffer do not move the view.
    pub anchor: Option<(u64, usize)>,
    /// With follow off: lines after the last one on screen (new ones waiting).
    pub below: usize,
    /// With wrap off: the columns scrolled past on the left.
    pub left: usize,
    /// A line to bring into view on the next frame (a search match).
    pub pending_jump: Option<usize>,
    /// The search.
    pub search: String,
    /// The pod (uid) the search was typed for: another pod's logs start without it.
    pub search_pod: Option<String>,
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
            anchor: None,
            below: 0,
            left: 0,
            pending_jump: None,
            search: String::new(),
            search_pod: None,
            matched: None,
            generation: 0,
            note: None,
        }
    }
}

/// Columns `<`/`>` scroll a log sideways when wrap is off.
const SIDE_STEP: usize = 8;

impl App {
    /// The log target the view should show now, from the selection and the pod's instances.
    fn wanted_log_target(&self) -> Result<LogTarget, String> {
        let p = self.detail_pod().ok_or("no pod")?;
        let rows = container_rows(p);
        let c = rows
            .get(self.pod_view.container_sel)
            .ok_or("no container")?;
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
    pub(super) fn sync_logs(&mut self) {
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
                    self.logs.anchor = None;
                    self.logs.left = 0;
                    self.logs.matched = None;
                }
                if self.logs.search_pod.as_ref() != Some(&t.uid) {
                    // A search belongs to the pod it was typed for.
                    self.logs.search.clear();
                    self.logs.search_pod = Some(t.uid.clone());
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

    /// Stops the log stream, if one runs.
    pub(super) fn stop_logs(&mut self) {
        if self.logs.target.take().is_some() {
            self.logs.generation += 1;
            self.effects.push(Effect::StopLogs);
        }
    }

    /// What `action` does in the Logs tab of pod `p`.
    pub(super) fn act_logs(&mut self, action: Action, p: &PodView) {
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
            Action::Wrap => {
                self.logs.wrap = !self.logs.wrap;
                self.logs.left = 0;
                self.logs.anchor = None;
            }
            Action::ScrollRight | Action::ScrollLeft if self.logs.wrap => {
                self.say("wrap is on: w turns it off to scroll sideways");
            }
            Action::ScrollRight => self.logs.left = self.logs.left.saturating_add(SIDE_STEP),
            Action::ScrollLeft => self.logs.left = self.logs.left.saturating_sub(SIDE_STEP),
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
                    self.pod_view.container_sel = (self.pod_view.container_sel + 1) % rows.len();
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
                let c = rows.get(self.pod_view.container_sel).cloned();
                self.act_on_pod(Action::Shell, p, c.as_ref());
            }
            Action::Up
            | Action::PageUp
            | Action::Top
            | Action::Down
            | Action::PageDown
            | Action::Bottom => self.scroll_logs(action),
            other => {
                let c = rows.get(self.pod_view.container_sel).cloned();
                self.act_on_pod(other, p, c.as_ref());
            }
        }
    }

    /// Moves to the next (or, with `back`, the previous) line matching the search.
    pub(super) fn search(&mut self, back: bool) {
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
                // An earlier "not found" is answered.
                if self.message.as_ref().is_some_and(|m| m.error) {
                    self.message = None;
                }
            }
            None => self.fail(format!("{:?} not found", self.logs.search)),
        }
    }

    /// Scrolls the log: moving up stops following, the bottom follows again.
    fn scroll_logs(&mut self, action: Action) {
        // `top` is where the last frame was; the view re-anchors on the row scrolled to.
        self.logs.anchor = None;
        match action {
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
            _ => {}
        }
    }
}
