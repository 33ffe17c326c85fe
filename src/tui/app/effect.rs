//! The effect protocol: what the app asks its loop to do ([`Effect`]), and the results that come back
//! ([`AppEvent`]) and what the app makes of them.

use std::path::PathBuf;

use super::App;
use super::modal::Pending;
use crate::engine::{Reply, Request};
use crate::manifest::store::StoreError;
use crate::tui::action::Action;
use crate::tui::editor::Editor;
use crate::tui::keymap::Mode;
use crate::tui::logbuf::LogLine;

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
    /// Suspend the UI, start a debug container in a pod and open a shell in it; it is removed when the shell
    /// exits.
    Debug {
        /// The pod.
        pod: crate::forward::target::PodRef,
        /// The container whose processes it shares.
        target: Option<String>,
        /// The debug image.
        image: String,
    },
    /// Start forwarding a local port to a pod; the loop answers with [`AppEvent::ForwardStarted`].
    Forward {
        /// The pod.
        pod: crate::forward::target::PodRef,
        /// The ports.
        pair: crate::forward::PortPair,
    },
    /// Stop a forward.
    StopForward {
        /// Its ID.
        id: u64,
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
    /// A forward started, or why not.
    ForwardStarted(Result<super::ForwardView, String>),
    /// A forward has something to say (a connection failed, the pod was replaced).
    ForwardNote(String),
    /// A generic message for the status line.
    Message(String, bool),
}

impl App {
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
                        self.open_editor(ed);
                    } else {
                        // The same confirm as `e`'s ctrl-s: what applying does, before anything is written.
                        let mut ed = ed;
                        ed.original = original;
                        let question = self.save_question(&mut ed);
                        self.open_editor(ed);
                        if let Some(question) = question {
                            self.ask(question, Pending::Save);
                        }
                    }
                }
            },
            AppEvent::ForwardStarted(r) => self.on_forward_started(r),
            AppEvent::ForwardNote(note) => self.say(note),
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
                self.close_editor();
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
                match self.editor_mut() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_external_editor_asks_before_it_applies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yaml");
        let before = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: a\n    image: busybox:1\n";
        std::fs::write(&path, before).unwrap();
        let mut a = crate::tui::app::test_app();
        let after = before.replace("busybox:1", "busybox:2");
        a.on_event(AppEvent::ExternalEdited {
            path: path.clone(),
            text: Ok(after.clone()),
        });
        assert!(
            a.take_effects().is_empty(),
            "nothing is saved before the confirm"
        );
        assert!(a.confirm().is_some(), "E asks as e does");
        a.on_key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('y'),
            crossterm::event::KeyModifiers::NONE,
        ));
        assert_eq!(
            a.take_effects(),
            [Effect::Engine(Request::SaveManifest { path, text: after })]
        );
    }
}
