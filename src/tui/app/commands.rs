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
    /// Show or pick the theme: a built-in one or a skin file.
    Theme,
    /// The running port-forwards.
    Forwards,
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
        help: "monochrome theme on/off",
        kind: CommandKind::Mono,
    },
    PromptCommand {
        names: &["color", "colour"],
        args: "",
        help: "colours (unless NO_COLOR is set)",
        kind: CommandKind::Color,
    },
    PromptCommand {
        names: &["theme", "skin"],
        args: "[NAME]",
        help: "the theme: color, light, mono, or a skin in <config dir>/skins/NAME.yaml",
        kind: CommandKind::Theme,
    },
    PromptCommand {
        names: &["pf", "portforwards", "forwards"],
        args: "",
        help: "the running port-forwards (ctrl-d stops one; F on a pod starts one)",
        kind: CommandKind::Forwards,
    },
];

/// Every name of every command that starts with `prefix`, main names first, in table order.
pub fn completions(prefix: &str) -> Vec<&'static str> {
    let mains = COMMANDS.iter().map(|c| c.names[0]);
    let aliases = COMMANDS.iter().flat_map(|c| c.names[1..].iter().copied());
    let mut out: Vec<&'static str> = Vec::new();
    for n in mains.chain(aliases) {
        if n.starts_with(prefix) && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The command `name` runs, if any.
pub fn find(name: &str) -> Option<&'static PromptCommand> {
    COMMANDS.iter().find(|c| c.names.contains(&name))
}

/// The error for an unknown command `name`: every command's main name, `:help` first (a narrow footer cuts the
/// end of the line).
pub fn unknown(name: &str) -> String {
    let (help, rest): (Vec<&PromptCommand>, Vec<_>) =
        COMMANDS.iter().partition(|c| c.kind == CommandKind::Help);
    let all: Vec<String> = help
        .iter()
        .chain(&rest)
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

/// The footer's answer to `:mono` / `:color`: which theme is on and how to get the other.
fn theme_message(mono: bool) -> &'static str {
    if mono {
        "theme: monochrome (:mono or :color for colours)"
    } else {
        "theme: colour (:mono for monochrome)"
    }
}

impl App {
    /// Tab at the `:` prompt: the typed command name completed when one command's main name (or, failing
    /// that, one name) starts with it, else extended to what every candidate shares, with the candidates on
    /// the status line. Arguments are left alone.
    pub(super) fn complete_command(&mut self, input: &str) -> Option<String> {
        if input.contains(' ') {
            return None;
        }
        let all = completions(input);
        let mains: Vec<&str> = all
            .iter()
            .copied()
            .filter(|n| COMMANDS.iter().any(|c| c.names[0] == *n))
            .collect();
        let candidates = if mains.is_empty() { all } else { mains };
        match candidates.as_slice() {
            [] => {
                self.fail(unknown(input));
                None
            }
            [one] => Some(format!("{one} ")),
            many => {
                self.say(many.join("  "));
                let first = many[0];
                let shared = (input.len()..=first.len())
                    .rev()
                    .find(|&n| many.iter().all(|m| m.starts_with(&first[..n])))
                    .unwrap_or(input.len());
                Some(first[..shared].to_string())
            }
        }
    }

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
            CommandKind::Forwards => self.go_to(Screen::Forwards, self.focus),
            CommandKind::Restore => {
                let id = words.next().map(str::to_string);
                self.effects
                    .push(Effect::Engine(Request::RestoreManifest { id }));
            }
            CommandKind::Help => self.open_help(true),
            CommandKind::Mouse => self.act(Action::ToggleMouse),
            CommandKind::Mono => {
                self.cfg.theme.mono = !self.cfg.theme.mono;
                self.say(theme_message(self.cfg.theme.mono));
            }
            CommandKind::Color => {
                self.cfg.theme.mono = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                self.say(theme_message(self.cfg.theme.mono));
            }
            CommandKind::Theme => self.theme_command(words.next()),
        }
    }

    /// `:theme`: names the theme and the skins there are; `:theme NAME` switches to it (a skin that does not
    /// load leaves the theme as it is and says why).
    fn theme_command(&mut self, name: Option<&str>) {
        let skins = crate::config::default_config_dir().join("skins");
        let Some(name) = name else {
            let mut found: Vec<String> = std::fs::read_dir(&skins)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .filter(|n| !n.starts_with('.'))
                        .and_then(|n| n.strip_suffix(".yaml"))
                        .map(str::to_string)
                })
                .collect();
            found.sort();
            let files = if found.is_empty() {
                format!("no skin files in {}", crate::text::display_path(&skins))
            } else {
                format!(
                    "skins in {}: {}",
                    crate::text::display_path(&skins),
                    found.join(", ")
                )
            };
            return self.say(format!(
                "theme: {} (:theme NAME; built-in: {}; {files})",
                self.cfg.theme.name(),
                crate::tui::theme::Skin::BUILT_IN.join(", ")
            ));
        };
        if name == "mono" {
            self.cfg.theme.mono = true;
            return self.say(theme_message(true));
        }
        match crate::tui::theme::Skin::load(name, &skins) {
            Ok(skin) => {
                self.cfg.theme = crate::tui::theme::Theme::with_skin(skin, false);
                if self.cfg.theme.mono {
                    self.say(format!("theme: {name}, but NO_COLOR is set: monochrome"));
                } else {
                    self.say(format!("theme: {name}"));
                }
            }
            Err(e) => self.fail(e),
        }
    }

    /// Leaves the pod view for `screen` with `focus`.
    fn go_to(&mut self, screen: Screen, focus: Focus) {
        self.leave_detail();
        self.screen = screen;
        self.focus = focus;
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;

    fn app() -> App {
        crate::tui::app::test_app()
    }

    /// Types `:line` and enter, as a user does.
    fn run(a: &mut App, line: &str) {
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        a.on_key(key(KeyCode::Char(':')));
        for c in line.chars() {
            a.on_key(key(KeyCode::Char(c)));
        }
        a.on_key(key(KeyCode::Enter));
    }

    #[test]
    fn every_command_name_dispatches_to_its_command() {
        for c in COMMANDS {
            for name in c.names {
                let mut a = app();
                a.screen = Screen::Events;
                a.cfg.theme.mono = c.kind == CommandKind::Color;
                run(&mut a, name);
                let why = format!(":{name} ({:?})", c.kind);
                assert!(a.message.as_ref().is_none_or(|m| !m.error), "{why}");
                let effects = a.take_effects();
                match c.kind {
                    CommandKind::Quit => {
                        assert_eq!(effects, [Effect::Quit { cleanup: false }], "{why}")
                    }
                    CommandKind::QuitAll => assert!(a.confirm().is_some(), "{why}"),
                    CommandKind::Pods => {
                        assert_eq!((&a.screen, a.focus), (&Screen::Pods, Focus::Pods), "{why}")
                    }
                    CommandKind::Manifests => assert_eq!(
                        (&a.screen, a.focus),
                        (&Screen::Pods, Focus::Manifests),
                        "{why}"
                    ),
                    CommandKind::Events => assert_eq!(a.screen, Screen::Events, "{why}"),
                    CommandKind::Forwards => assert_eq!(a.screen, Screen::Forwards, "{why}"),
                    CommandKind::Restore => assert_eq!(
                        effects,
                        [Effect::Engine(Request::RestoreManifest { id: None })],
                        "{why}"
                    ),
                    CommandKind::Help => {
                        assert!(a.help().is_some_and(|h| h.commands), "{why}")
                    }
                    CommandKind::Mouse => assert!(!a.mouse, "{why}"),
                    CommandKind::Mono => {
                        assert!(a.cfg.theme.mono, "{why}");
                        assert!(
                            a.message
                                .as_ref()
                                .is_some_and(|m| m.text.contains("monochrome"))
                        );
                        run(&mut a, name);
                        assert!(!a.cfg.theme.mono, "{why}: :mono goes both ways");
                        assert!(
                            a.message
                                .as_ref()
                                .is_some_and(|m| m.text.contains("colour"))
                        );
                    }
                    CommandKind::Color => assert_eq!(
                        a.cfg.theme.mono,
                        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
                        "{why}"
                    ),
                    CommandKind::Theme => {
                        let m = a.message.clone().expect("the theme named");
                        assert!(
                            m.text.starts_with("theme: ")
                                && m.text.contains("built-in: color, light, mono"),
                            "{why}: {}",
                            m.text
                        );
                        run(&mut a, &format!("{name} light"));
                        assert_eq!(a.cfg.theme.skin, crate::tui::theme::Skin::light(), "{why}");
                        run(&mut a, &format!("{name} no-such-skin"));
                        let m = a.message.clone().unwrap();
                        assert!(
                            m.error && m.text.contains("no-such-skin.yaml"),
                            "{}",
                            m.text
                        );
                        assert_eq!(a.cfg.theme.skin.name, "light", "a bad skin changes nothing");
                        a.message = None;
                    }
                }
                if c.kind != CommandKind::QuitAll && c.kind != CommandKind::Help {
                    assert!(a.modals().is_empty(), "{why}: the prompt closed");
                }
            }
        }
        // An argument goes with it.
        let mut a = app();
        run(&mut a, "restore 1700000000-web.yaml");
        assert_eq!(
            a.take_effects(),
            [Effect::Engine(Request::RestoreManifest {
                id: Some("1700000000-web.yaml".into())
            })]
        );
    }

    #[test]
    fn help_and_the_unknown_command_error_list_every_command() {
        let mut a = app();
        run(&mut a, "help");
        let help = *a.help().expect(":help opens the help");
        let text: String = crate::tui::views::help::lines(&a, help)
            .iter()
            .map(|l| {
                let s: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                s + "\n"
            })
            .collect();
        for c in COMMANDS {
            let row = format!("  {:<24}{}", usage(c), c.help);
            assert!(text.contains(&row), "{row:?} missing from:\n{text}");
        }
        assert!(text.contains(":help :h") && text.contains(":mouse") && text.contains(":mono"));
        // `?` lists the same commands, after the keys; `:help` puts them first.
        let mut b = app();
        b.act(Action::Help);
        // The sandbox lesson opens both, then a blank line.
        let first = |lines: &[ratatui::text::Line<'_>]| -> String {
            lines[2].spans.iter().map(|s| s.content.as_ref()).collect()
        };
        let lesson: String = crate::tui::views::help::lines(&b, *b.help().unwrap())[0]
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(lesson, crate::tui::views::help::SANDBOX_LESSON);
        let keys = crate::tui::views::help::lines(&b, *b.help().unwrap());
        let all = crate::tui::views::help::lines(&a, help);
        assert_eq!(keys.len(), all.len());
        assert!(first(&keys).starts_with("Keys:"), "{}", first(&keys));
        assert!(first(&all).starts_with("Commands"), "{}", first(&all));

        let mut a = app();
        run(&mut a, "bogus");
        let m = a.message.clone().expect("an error");
        assert!(m.error);
        assert!(
            m.text
                .starts_with("unknown command :bogus (try :help, :q, :q!, "),
            "{}",
            m.text
        );
        for c in COMMANDS {
            assert!(
                m.text.contains(&format!(":{},", c.names[0]))
                    || m.text.contains(&format!(":{})", c.names[0])),
                "{} missing from {:?}",
                c.names[0],
                m.text
            );
        }
    }

    #[test]
    fn a_message_goes_when_its_view_is_left() {
        let mut a = app();
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        a.on_key(key(KeyCode::Char('M')));
        assert!(
            a.current_message()
                .is_some_and(|m| m.text.contains("mouse"))
        );
        // tab to the manifests pane: its footer shows its own keys, not the pods table's old message.
        a.on_key(key(KeyCode::Tab));
        assert_eq!(a.focus, Focus::Manifests);
        assert!(a.current_message().is_none(), "{:?}", a.message);
    }
}
