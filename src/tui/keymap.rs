//! Keys as data: for each mode, which keys trigger which [`Action`], with the help text. The footer hints and
//! the help screen are both generated from this table, and the config file
//! (`$XDG_CONFIG_HOME/podtui/config.yaml`) can rebind any action:
//!
//! ```yaml
//! theme: mono          # or color (NO_COLOR also selects mono)
//! mouse: true          # capture the mouse at start
//! editor: builtin      # `e` opens the built-in editor; `external` makes `e` open $VISUAL/$EDITOR
//! keys:
//!   pods:
//!     kill: ctrl-x     # one key or a list: [ctrl-x, X]
//!   global:
//!     quit: [q, ctrl-q]
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;

use super::action::Action;

/// Where keys are looked up, besides `Global` which applies everywhere (unless the mode binds the same key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Everywhere.
    Global,
    /// The pods table.
    Pods,
    /// The manifests pane.
    Manifests,
    /// The all-pods events view.
    Events,
    /// A pod's details (containers, network, volumes, events, YAML).
    Detail,
    /// A pod's logs.
    Logs,
    /// The port-forwards (`:pf`).
    Forwards,
}

impl Mode {
    /// Name shown in help.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Global => "everywhere",
            Mode::Pods => "pods",
            Mode::Manifests => "manifests",
            Mode::Events => "events",
            Mode::Detail => "pod details",
            Mode::Logs => "logs",
            Mode::Forwards => "port-forwards",
        }
    }
}

/// One key with modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeySpec {
    /// The key.
    pub code: KeyCode,
    /// Ctrl.
    pub ctrl: bool,
    /// Alt.
    pub alt: bool,
}

impl KeySpec {
    /// Parses `q`, `Q`, `ctrl-k`, `alt-x`, `enter`, `esc`, `tab`, `backtab`, `up`, `pgdn`, `f1`, `space`, `?`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s.trim();
        loop {
            if let Some(r) = rest
                .strip_prefix("ctrl-")
                .or_else(|| rest.strip_prefix("ctrl+"))
            {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest
                .strip_prefix("alt-")
                .or_else(|| rest.strip_prefix("alt+"))
            {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            other => return Err(format!("unknown key {other:?}")),
        };
        Ok(Self { code, ctrl, alt })
    }

    /// Whether a key event is this key.
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        if ev.kind == KeyEventKind::Release {
            return false;
        }
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        code == self.code && ctrl == self.ctrl && alt == self.alt
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One binding: keys, action, help text, and whether the footer shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// Keys that trigger it.
    pub keys: Vec<KeySpec>,
    /// What it does.
    pub action: Action,
    /// Help text.
    pub help: &'static str,
    /// The footer's short label, for bindings the footer shows.
    pub hint: Option<&'static str>,
}

/// The whole keymap.
#[derive(Clone, Debug)]
pub struct Keymap {
    modes: BTreeMap<Mode, Vec<Binding>>,
}

fn b(keys: &[&str], action: Action, help: &'static str, hint: Option<&'static str>) -> Binding {
    Binding {
        keys: keys.iter().filter_map(|k| KeySpec::parse(k).ok()).collect(),
        action,
        help,
        hint,
    }
}

/// Keys every tab of the pod view has, the Logs tab included.
fn pod_tab_keys() -> Vec<Binding> {
    use Action::*;
    vec![
        b(&["]"], NextPod, "next pod of the table, same tab", None),
        b(&["["], PrevPod, "previous pod of the table, same tab", None),
        b(&["y"], Yaml, "YAML tab", None),
        b(&["v"], Events, "events tab", None),
        b(
            &["d"],
            Describe,
            "describe tab (kubectl describe pod)",
            None,
        ),
        b(&["e"], Edit, "edit the manifest", None),
        b(&["E"], EditExternal, "edit in $VISUAL/$EDITOR", None),
        b(
            &["ctrl-k"],
            Kill,
            "kill the pod's containers (asks first)",
            None,
        ),
        b(
            &["ctrl-d"],
            Delete,
            "delete the manifest (asks first)",
            None,
        ),
    ]
}

/// The search keys of the text views (the log has its own).
fn find_keys() -> Vec<Binding> {
    use Action::*;
    vec![
        b(&["/"], Filter, "search this view", Some("search")),
        b(&["n"], SearchNext, "next match", None),
        b(&["N"], SearchPrev, "previous match", None),
    ]
}

/// The movement keys every list has.
fn nav_keys() -> Vec<Binding> {
    use Action::*;
    vec![
        b(&["j", "down"], Down, "move down", None),
        b(&["k", "up"], Up, "move up", None),
        b(&["pgdn", "ctrl-f"], PageDown, "page down", None),
        b(&["pgup", "ctrl-b"], PageUp, "page up", None),
        b(&["g", "home"], Top, "go to the top", None),
        b(&["G", "end"], Bottom, "go to the bottom", None),
    ]
}

/// Keys of every view.
fn global_keys() -> Vec<Binding> {
    use Action::*;
    vec![
        b(&["?"], Help, "help: every key of this view", Some("help")),
        b(
            &[":"],
            CommandPrompt,
            "command prompt (the commands are listed below)",
            Some("command"),
        ),
        b(
            &["q", "ctrl-c"],
            Quit,
            "quit; pods keep running",
            Some("quit"),
        ),
        b(
            &["Q"],
            QuitAll,
            "quit and terminate every pod (asks first)",
            None,
        ),
        b(
            &["M"],
            ToggleMouse,
            "mouse capture on/off (off: select text with the mouse)",
            None,
        ),
    ]
}

/// The pods table's keys.
fn pods_keys() -> Vec<Binding> {
    use Action::*;
    let mut keys = vec![
        b(&["enter"], Open, "pod details", Some("details")),
        b(
            &["d"],
            Describe,
            "describe the pod (kubectl describe pod)",
            None,
        ),
        b(&["l"], Logs, "logs", Some("logs")),
        b(&["y"], Yaml, "YAML", None),
        b(&["v"], Events, "the pod's events", None),
        b(
            &["e"],
            Edit,
            "edit the manifest (built-in editor)",
            Some("edit"),
        ),
        b(
            &["E"],
            EditExternal,
            "edit the manifest in $VISUAL/$EDITOR",
            None,
        ),
        b(&["n"], New, "new manifest from a template", None),
        b(&["s"], Shell, "shell into the pod's first container", None),
        b(
            &["D"],
            Debug,
            "debug container in the pod + shell (kubectl debug -it)",
            None,
        ),
        b(
            &["F"],
            PortForward,
            "port-forward 127.0.0.1:local -> the pod (:pf lists them)",
            None,
        ),
        b(
            &["ctrl-k"],
            Kill,
            "kill the pod's containers (asks first)",
            Some("kill"),
        ),
        b(
            &["ctrl-d"],
            Delete,
            "delete the manifest to the trash (asks first)",
            Some("delete"),
        ),
        b(&["u"], Undelete, "restore the last deleted manifest", None),
        b(&["/"], Filter, "filter", Some("filter")),
        b(&["o"], SortNext, "sort by the next column", None),
        b(&["O"], SortReverse, "reverse the sort", None),
        b(&["N"], SortName, "sort by NAME (again: reverse)", None),
        b(&["S"], SortStatus, "sort by STATUS (again: reverse)", None),
        b(
            &["T"],
            SortRestarts,
            "sort by RESTARTS (again: reverse)",
            None,
        ),
        b(&["A"], SortAge, "sort by AGE (again: reverse)", None),
        b(&["C"], SortCpu, "sort by CPU (again: reverse)", None),
        b(
            &["space"],
            Mark,
            "mark/unmark the pod: ctrl-k and ctrl-d act on the marked",
            Some("mark"),
        ),
        b(
            &["ctrl-space"],
            MarkRange,
            "mark from the last marked pod to here",
            None,
        ),
        b(&["tab"], NextPane, "switch to the manifests pane", None),
        b(&["esc"], Back, "clear the marks, then the filter", None),
    ];
    keys.extend(nav_keys());
    keys
}

/// The manifests pane's keys.
fn manifests_keys() -> Vec<Binding> {
    use Action::*;
    let mut keys = vec![
        b(&["enter"], Open, "the pod of this manifest", Some("open")),
        b(&["e"], Edit, "edit (built-in editor)", Some("edit")),
        b(&["E"], EditExternal, "edit in $VISUAL/$EDITOR", None),
        b(&["n"], New, "new manifest from a template", Some("new")),
        b(
            &["ctrl-d"],
            Delete,
            "delete to the trash (asks first)",
            Some("delete"),
        ),
        b(&["u"], Undelete, "restore the last deleted manifest", None),
        b(&["tab", "esc"], NextPane, "back to the pods", None),
    ];
    keys.extend(nav_keys());
    keys
}

/// The events screen's keys.
fn events_keys() -> Vec<Binding> {
    let mut keys = vec![b(&["esc"], Action::Back, "back to the pods", Some("back"))];
    keys.extend(find_keys());
    keys.extend(nav_keys());
    keys
}

/// The `:pf` screen's keys.
fn forwards_keys() -> Vec<Binding> {
    let mut keys = vec![
        b(&["esc"], Action::Back, "back to the pods", Some("back")),
        b(
            &["ctrl-d"],
            Action::Delete,
            "stop the selected forward",
            Some("stop"),
        ),
    ];
    keys.extend(nav_keys());
    keys
}

/// The pod view's keys (every tab but Logs).
fn detail_keys() -> Vec<Binding> {
    use Action::*;
    let mut keys = vec![
        b(&["tab", "right"], NextPane, "next tab", Some("next tab")),
        b(&["shift-tab", "left"], PrevPane, "previous tab", None),
        b(&["esc"], Back, "back to the pods", Some("back")),
        b(&["l"], Logs, "logs of the selected container", Some("logs")),
        b(
            &["Y"],
            ToggleYaml,
            "YAML: manifest as applied / pod as podtui sees it",
            None,
        ),
        b(
            &["r"],
            Restart,
            "restart the selected container (asks first)",
            Some("restart"),
        ),
        b(
            &["s"],
            Shell,
            "shell into the selected container",
            Some("shell"),
        ),
        b(
            &["D"],
            Debug,
            "debug container sharing this container's processes + shell",
            None,
        ),
        b(
            &["F"],
            PortForward,
            "port-forward 127.0.0.1:local -> the pod (:pf lists them)",
            None,
        ),
    ];
    keys.extend(find_keys());
    keys.extend(pod_tab_keys());
    keys.extend(nav_keys());
    keys
}

/// The Logs tab's keys.
fn logs_keys() -> Vec<Binding> {
    use Action::*;
    let mut keys = vec![
        b(&["esc"], Back, "back to the pods", Some("back")),
        b(&["f"], Follow, "follow on/off", Some("follow")),
        b(&["w"], Wrap, "wrap on/off", Some("wrap")),
        b(&[">"], ScrollRight, "scroll right (wrap off)", None),
        b(&["<"], ScrollLeft, "scroll left (wrap off)", None),
        b(&["t"], Timestamps, "timestamps on/off", None),
        b(&["/"], Filter, "search", Some("search")),
        b(&["n"], SearchNext, "next match", None),
        b(&["N"], SearchPrev, "previous match", None),
        b(
            &["p"],
            Previous,
            "previous instance on/off",
            Some("previous"),
        ),
        b(
            &["c"],
            NextContainer,
            "next container (the pause container too)",
            Some("container"),
        ),
        b(&["ctrl-s"], SaveLogs, "save to a file", None),
        b(&["s"], Shell, "shell into this container", None),
        b(
            &["D"],
            Debug,
            "debug container sharing this container's processes + shell",
            None,
        ),
        b(&["r"], Restart, "restart this container (asks first)", None),
        b(&["tab", "right"], NextPane, "next tab", None),
        b(&["shift-tab", "left"], PrevPane, "previous tab", None),
    ];
    keys.extend(pod_tab_keys());
    keys.extend(nav_keys());
    keys
}

impl Default for Keymap {
    fn default() -> Self {
        let modes = BTreeMap::from([
            (Mode::Global, global_keys()),
            (Mode::Pods, pods_keys()),
            (Mode::Manifests, manifests_keys()),
            (Mode::Events, events_keys()),
            (Mode::Detail, detail_keys()),
            (Mode::Logs, logs_keys()),
            (Mode::Forwards, forwards_keys()),
        ]);
        Self { modes }
    }
}

impl Keymap {
    /// The action `key` triggers in `mode` (the mode's own bindings first, then global ones).
    pub fn lookup(&self, mode: Mode, key: &KeyEvent) -> Option<Action> {
        let find = |m: Mode| {
            self.modes
                .get(&m)?
                .iter()
                .find(|b| b.keys.iter().any(|k| k.matches(key)))
                .map(|b| b.action)
        };
        find(mode).or_else(|| find(Mode::Global))
    }

    /// The bindings of `mode` (not including global ones).
    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        self.modes.get(&mode).map(Vec::as_slice).unwrap_or_default()
    }

    /// The first key bound to `action` in `mode` or globally, for messages ("press u to undo").
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<KeySpec> {
        [mode, Mode::Global]
            .iter()
            .filter_map(|m| self.modes.get(m))
            .flat_map(|v| v.iter())
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first().copied())
    }

    /// Rebinds `action` in `mode` to `keys`; a key taken by another action of that mode is released from it.
    pub fn rebind(&mut self, mode: Mode, action: Action, keys: Vec<KeySpec>) -> Result<(), String> {
        let list = self.modes.entry(mode).or_default();
        for other in list.iter_mut() {
            other.keys.retain(|k| !keys.contains(k));
        }
        match list.iter_mut().find(|b| b.action == action) {
            Some(binding) => binding.keys = keys,
            None => {
                return Err(format!(
                    "{} has no action {:?}",
                    mode.title(),
                    action.name()
                ));
            }
        }
        Ok(())
    }
}

/// The config file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    /// `color`, `light`, `mono`, or the name of a skin file in `<config dir>/skins`.
    #[serde(default)]
    pub theme: Option<String>,
    /// Capture the mouse at start (default true).
    #[serde(default)]
    pub mouse: Option<bool>,
    /// `builtin` or `external`: what `e` opens.
    #[serde(default)]
    pub editor: Option<String>,
    /// The image of `D`'s debug containers (default busybox:1).
    #[serde(default)]
    pub debug_image: Option<String>,
    /// Rebindings: mode → action → key or keys.
    #[serde(default)]
    pub keys: BTreeMap<Mode, BTreeMap<Action, OneOrMany>>,
}

/// One key or a list of keys.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl UiConfig {
    /// Reads `path`; a missing file is the default config.
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The default keymap with this config's rebindings.
    pub fn keymap(&self) -> Result<Keymap, String> {
        let mut km = Keymap::default();
        for (mode, actions) in &self.keys {
            for (action, keys) in actions {
                let list = match keys {
                    OneOrMany::One(k) => vec![k.clone()],
                    OneOrMany::Many(v) => v.clone(),
                };
                let parsed = list
                    .iter()
                    .map(|k| KeySpec::parse(k))
                    .collect::<Result<Vec<_>, _>>()?;
                km.rebind(*mode, *action, parsed)?;
            }
        }
        Ok(km)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn lookup_prefers_the_mode_then_global() {
        let km = Keymap::default();
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('k'), KeyModifiers::CONTROL)),
            Some(Action::Kill)
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('k'), KeyModifiers::NONE)),
            Some(Action::Up)
        );
        assert_eq!(
            km.lookup(Mode::Logs, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
            Some(Action::QuitAll)
        );
        assert_eq!(
            km.lookup(Mode::Logs, &key(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Action::SearchNext)
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some(Action::New)
        );
    }

    #[test]
    fn config_rebinds_keys() {
        let cfg: UiConfig = serde_yaml::from_str(
            "keys:\n  pods:\n    kill: ctrl-x\n  global:\n    quit: [ctrl-q]\n",
        )
        .unwrap();
        let km = cfg.keymap().unwrap();
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('x'), KeyModifiers::CONTROL)),
            Some(Action::Kill)
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('k'), KeyModifiers::CONTROL)),
            None
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            km.lookup(Mode::Pods, &key(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        let bad: Result<UiConfig, _> = serde_yaml::from_str("keys:\n  pods:\n    explode: x\n");
        assert!(bad.is_err());
        let unknown: Result<UiConfig, _> = serde_yaml::from_str("colour: red\n");
        assert!(unknown.is_err());
    }

    #[test]
    fn every_mode_has_help_for_every_binding() {
        let km = Keymap::default();
        for mode in [
            Mode::Global,
            Mode::Pods,
            Mode::Manifests,
            Mode::Events,
            Mode::Detail,
            Mode::Logs,
        ] {
            for b in km.bindings(mode) {
                assert!(
                    !b.keys.is_empty() && !b.help.is_empty(),
                    "{mode:?} {:?}",
                    b.action
                );
            }
        }
    }
}
