//! The `:` commands, as one table: [`COMMANDS`] is what the prompt dispatches, what `:help` lists and what the
//! "unknown command" error suggests, so the three cannot drift apart.

use super::effect::Effect;
use super::{App, Focus, Screen};
use crate::engine::Request;
use crate::tui::action::Action;

/// What a `:` command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandKind {
    /// Quit; pods keep running.
    Quit,
    /// Quit and terminate every pod (asks first).
    QuitAll,
    /// The pods table.
    Pods,
    /// The manifests pane.
    Manifests,
    /// Every pod's events.
    Events,
    /// Restore a deleted manifest (the last one, or the trash entry given).
    Restore,
    /// The help screen with the commands.
    Help,
    /// Mouse capture on/off.
    Mouse,
    /// The monochrome theme.
    Mono,
    /// Colours back (unless NO_COLOR is set).
    Color,
}

/// One `:` command: the names it answers to (the first is the one suggested), its argument and its help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PromptCommand {
    /// Names, the main one first.
    pub names: &'static [&'static str],
    /// The argument it takes, for help (`""`: none).
    pub args: &'static str,
    /// What it does.
    pub help: &'static str,
    /// What it runs.
    pub kind: CommandKind,
}

/// Every `:` command, in the order help lists them.
pub const COMMANDS: &[PromptCommand] = &[
    PromptCommand {
        names: &["q", "quit", "exit"],
        args: "",
        help: "quit; pods keep running",
        kind: CommandKind::Quit,
    },
    PromptCommand {
        names: &["q!", "quit!", "down"],
        args: "",
        help: "quit and terminate every pod (asks first)",
        kind: CommandKind::QuitAll,
    },
    PromptCommand {
        names: &["pods", "po", "pod"],
        args: "",
        help: "the pods table",
        kind: CommandKind::Pods,
    },
    PromptCommand {
        names: &["manifests", "mf", "files"],
        args: "",
        help: "the manifests pane",
        kind: CommandKind::Manifests,
    },
    PromptCommand {
        names: &["events", "ev"],
        args: "",
        help: "every pod's events",
        kind: CommandKind::Events,
    },
    PromptCommand {
        names: &["restore", "undelete"],
        args: "[id]",
        help: "restore the last deleted manifest (or the trash entry id)",
        kind: CommandKind::Restore,
    },
    PromptCommand {
        names: &["help", "h"],
        args: "",
        help: "these commands and the keys of this view",
        kind: CommandKind::Help,
    },
    PromptCommand {
        names: &["mouse"],
        args: "",
        help: "mouse capture on/off (off: select text with the mouse)",
        kind: CommandKind::Mouse,
    },
    PromptCommand {
        names: &["mono"],
        args: "",
        help: "monochrome theme",
        kind: CommandKind::Mono,
    },
    PromptCommand {
        names: &["color", "colour"],
        args: "",
        help: "colours (unless NO_COLOR is set)",
        kind: CommandKind::Color,
    },
];

/// The command `name` runs, if any.
pub fn find(name: &str) -> Option<&'static PromptCommand> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// The error for an unknown command `name`: every command's main name.
pub fn unknown(name: &str) -> String {
    let all: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!(":{}", c.names[0]))
        .collect();
    format!("unknown command :{name} (try {})", all.join(", "))
}

/// A command's names as help shows them (`:q :quit :exit`, with its argument).
pub fn usage(c: &PromptCommand) -> String {
    let names: Vec<String> = c.names.iter().map(|n| format!(":{n}")).collect();
    let mut s = names.join(" ");
    if !c.args.is_empty() {
        s.push(' ');
        s.push_str(c.args);
    }
    s
}

impl App {
    /// Runs a `:` command line (the command's name, then its arguments).
    pub fn command(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let Some(head) = words.next() else { return };
        let Some(c) = find(head) else {
            return self.fail(unknown(head));
        };
        match c.kind {
            CommandKind::Quit => self.act(Action::Quit),
            CommandKind::QuitAll => self.act(Action::QuitAll),
            CommandKind::Pods => self.go_to(Screen::Pods, Focus::Pods),
            CommandKind::Manifests => self.go_to(Screen::Pods, Focus::Manifests),
            CommandKind::Events => self.go_to(Screen::Events, self.focus),
            CommandKind::Restore => {
                let id = words.next().map(str::to_string);
                self.effects
                    .push(Effect::Engine(Request::RestoreManifest { id }));
            }
            CommandKind::Help => self.open_help(true),
            CommandKind::Mouse => self.act(Action::ToggleMouse),
            CommandKind::Mono => self.cfg.theme.mono = true,
            CommandKind::Color => {
                self.cfg.theme.mono = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            }
        }
    }

    /// Leaves the pod view for `screen` with `focus`.
    fn go_to(&mut self, screen: Screen, focus: Focus) {
        self.leave_detail();
        self.screen = screen;
        self.focus = focus;
    }
}
