//! Colours and styles. The default colour theme uses only the terminal's 16 standard colours and modifiers (so
//! it reads on dark and light backgrounds); `light` paints the screen light with darker colours; the monochrome
//! theme (also chosen by `NO_COLOR`) uses modifiers only. A **skin** file, `<config dir>/skins/<name>.yaml` as
//! k9s keeps its skins, sets any of the colours (names, `#rrggbb` or 0–255) over a built-in base.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The colours of a theme. `None` for the background and foreground leaves the terminal's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skin {
    /// Its name (`color`, `light`, or the skin file's).
    pub name: String,
    /// The screen's background.
    pub background: Option<Color>,
    /// Plain text.
    pub foreground: Option<Color>,
    /// Keys in the footer and help.
    pub key: Color,
    /// Good news (Running).
    pub ok: Color,
    /// On its way (pending, creating).
    pub warn: Color,
    /// Wrong.
    pub error: Color,
    /// Finished (Completed).
    pub done: Color,
    /// Going away (Terminating).
    pub terminating: Color,
    /// The focused pane's border.
    pub border_focus: Color,
}

impl Skin {
    /// The default: the terminal's colours, 16-colour accents.
    pub fn color() -> Self {
        Skin {
            name: "color".into(),
            background: None,
            foreground: None,
            key: Color::Cyan,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::Red,
            done: Color::Blue,
            terminating: Color::Magenta,
            border_focus: Color::Cyan,
        }
    }

    /// Dark text on a light screen, accents that read on it.
    pub fn light() -> Self {
        Skin {
            name: "light".into(),
            background: Some(Color::Rgb(0xfa, 0xfa, 0xf7)),
            foreground: Some(Color::Rgb(0x20, 0x20, 0x20)),
            key: Color::Rgb(0x00, 0x4f, 0xa3),
            ok: Color::Rgb(0x1a, 0x7f, 0x37),
            warn: Color::Rgb(0x9a, 0x67, 0x00),
            error: Color::Rgb(0xcf, 0x22, 0x2e),
            done: Color::Rgb(0x57, 0x60, 0x6a),
            terminating: Color::Rgb(0x82, 0x50, 0xdf),
            border_focus: Color::Rgb(0x00, 0x4f, 0xa3),
        }
    }

    /// The built-in skins' names.
    pub const BUILT_IN: [&'static str; 3] = ["color", "light", "mono"];

    /// The skin `name`: a built-in one (`color`, also called `colour` or `dark`; `light`; `mono` loads the
    /// colour skin, which the monochrome theme does not use), else `<skins>/<name>.yaml`. Errors name the
    /// file, the line and the field.
    pub fn load(name: &str, skins: &Path) -> Result<Self, String> {
        match name {
            "color" | "colour" | "dark" | "mono" => return Ok(Skin::color()),
            "light" => return Ok(Skin::light()),
            _ => {}
        }
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(format!(
                "{name:?} is not a skin name (a file name in {}, without .yaml)",
                skins.display()
            ));
        }
        let path = skins.join(format!("{name}.yaml"));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "skin {name:?}: cannot read {}: {e} (built-in: {})",
                path.display(),
                Skin::BUILT_IN.join(", ")
            )
        })?;
        Skin::parse(name, &text).map_err(|e| format!("{}:{e}", path.display()))
    }

    /// A skin file's text: `base` (a built-in skin, default `color`) and any colours over it. The error starts
    /// with the line (`12: …`).
    pub fn parse(name: &str, text: &str) -> Result<Self, String> {
        let file: SkinFile = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            format!("{line}: {e}")
        })?;
        let given = |field: &str, v: &Option<Option<String>>| -> Result<Option<String>, String> {
            match v {
                None => Ok(None),
                Some(Some(v)) => Ok(Some(v.clone())),
                Some(None) => Err(format!(
                    "{}: {field}: no value (a # starts a YAML comment: quote a colour, '#rrggbb')",
                    line_of(text, field)
                )),
            }
        };
        let mut skin = match given("base", &file.base)?.as_deref() {
            None | Some("color") | Some("colour") => Skin::color(),
            Some("light") => Skin::light(),
            Some(other) => {
                return Err(format!(
                    "{}: base: {other:?} is not a built-in skin (color, light)",
                    line_of(text, "base")
                ));
            }
        };
        skin.name = name.to_string();
        let color = |field: &str, v: &Option<Option<String>>| -> Result<Option<Color>, String> {
            match given(field, v)? {
                None => Ok(None),
                Some(v) => v.parse::<Color>().map(Some).map_err(|_| {
                    format!(
                        "{}: {field}: {v:?} is not a colour (a name such as blue or lightred, #rrggbb, or 0-255)",
                        line_of(text, field)
                    )
                }),
            }
        };
        if let Some(c) = color("background", &file.background)? {
            skin.background = Some(c);
        }
        if let Some(c) = color("foreground", &file.foreground)? {
            skin.foreground = Some(c);
        }
        for (field, value, slot) in [
            ("key", &file.key, &mut skin.key),
            ("ok", &file.ok, &mut skin.ok),
            ("warn", &file.warn, &mut skin.warn),
            ("error", &file.error, &mut skin.error),
            ("done", &file.done, &mut skin.done),
            ("terminating", &file.terminating, &mut skin.terminating),
            ("border_focus", &file.border_focus, &mut skin.border_focus),
        ] {
            if let Some(c) = color(field, value)? {
                *slot = c;
            }
        }
        Ok(skin)
    }
}

/// The 1-based line where `field:` is written (1 when it is not found).
fn line_of(text: &str, field: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(&format!("{field}:")))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// A skin file as written: a field absent is `None`, a field with no value `Some(None)` (an unquoted
/// `#rrggbb` is a YAML comment, and must not pass silently).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkinFile {
    #[serde(default, deserialize_with = "present")]
    base: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    background: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    foreground: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    key: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    ok: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    warn: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    done: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    terminating: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    border_focus: Option<Option<String>>,
}

/// A field that is there, with or without a value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The styles the views use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// True for the monochrome theme.
    pub mono: bool,
    /// The colours (unused while `mono`).
    pub skin: Skin,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            mono: false,
            skin: Skin::color(),
        }
    }
}

impl Theme {
    /// The theme for this environment: monochrome when `NO_COLOR` is set (to anything non-empty) or asked for.
    pub fn detect(mono: bool) -> Self {
        Self::with_skin(Skin::color(), mono)
    }

    /// `skin`'s colours, or monochrome when `mono` or `NO_COLOR`.
    pub fn with_skin(skin: Skin, mono: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            mono: mono || no_color,
            skin,
        }
    }

    /// The monochrome theme.
    pub fn monochrome() -> Self {
        Theme {
            mono: true,
            skin: Skin::color(),
        }
    }

    /// The theme's name as `:theme` shows it.
    pub fn name(&self) -> &str {
        if self.mono { "mono" } else { &self.skin.name }
    }

    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(c)
        }
    }

    /// The whole screen: the skin's background and text colour (nothing for the terminal's own).
    pub fn base(&self) -> Style {
        if self.mono {
            return Style::default();
        }
        let mut s = Style::default();
        if let Some(bg) = self.skin.background {
            s = s.bg(bg);
        }
        if let Some(fg) = self.skin.foreground {
            s = s.fg(fg);
        }
        s
    }

    /// Plain text.
    pub fn text(&self) -> Style {
        Style::default()
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    /// Titles and table headers.
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// The selected row.
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    /// A key in the footer and help.
    pub fn key(&self) -> Style {
        self.fg(self.skin.key).add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn ok(&self) -> Style {
        self.fg(self.skin.ok)
    }

    /// Something is on its way (pending, creating).
    pub fn warn(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::ITALIC)
        } else {
            self.fg(self.skin.warn)
        }
    }

    /// Something is wrong.
    pub fn error(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            self.fg(self.skin.error)
        }
    }

    /// Finished.
    pub fn done(&self) -> Style {
        if self.mono {
            self.dim()
        } else {
            self.fg(self.skin.done)
        }
    }

    /// Going away.
    pub fn terminating(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::ITALIC | Modifier::DIM)
        } else {
            self.fg(self.skin.terminating)
        }
    }

    /// Borders of the focused pane.
    pub fn border_focus(&self) -> Style {
        self.fg(self.skin.border_focus)
    }

    /// Borders of other panes.
    pub fn border(&self) -> Style {
        self.dim()
    }

    /// The style of a STATUS value, as k9s colours them.
    pub fn status(&self, status: &str) -> Style {
        match status {
            "Running" => self.ok(),
            "Completed" | "Succeeded" => self.done(),
            "Terminating" => self.terminating(),
            s if s.contains("Err")
                || s.contains("BackOff")
                || s.contains("Error")
                || s.starts_with("Init:Signal")
                || s.starts_with("Init:ExitCode")
                || s == "Failed"
                || s == "OOMKilled"
                || s == "ContainerCannotRun"
                || s == "NotReady"
                || s == "Unknown"
                || s.starts_with("ExitCode")
                || s.starts_with("Signal") =>
            {
                self.error()
            }
            _ => self.warn(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skin_file_sets_colours_over_its_base() {
        let s = Skin::parse(
            "sea",
            "# a skin\nbase: light\nkey: '#112233'\nok: lightgreen\nerror: 160\n",
        )
        .unwrap();
        assert_eq!(s.name, "sea");
        assert_eq!(s.key, Color::Rgb(0x11, 0x22, 0x33));
        assert_eq!(s.ok, Color::LightGreen);
        assert_eq!(s.error, Color::Indexed(160));
        assert_eq!(
            s.background,
            Skin::light().background,
            "the base's background"
        );
        let t = Theme::with_skin(s, false);
        assert_eq!(t.key().fg, Some(Color::Rgb(0x11, 0x22, 0x33)));
        assert_eq!(t.base().bg, Skin::light().background);
    }

    #[test]
    fn a_bad_skin_names_the_line_and_the_field() {
        let e = Skin::parse("x", "key: blue\nok: greenish\n").unwrap_err();
        assert!(e.starts_with("2: ok: \"greenish\" is not a colour"), "{e}");
        let e = Skin::parse("x", "key: blue\nbackgrond: red\n").unwrap_err();
        assert!(e.starts_with("2: ") && e.contains("backgrond"), "{e}");
        let e = Skin::parse("x", "base: solarized\n").unwrap_err();
        assert!(e.starts_with("1: base:"), "{e}");
        // Unquoted, a hex colour is a comment: said, not ignored.
        let e = Skin::parse("x", "ok: green\nkey: #112233\n").unwrap_err();
        assert!(
            e.starts_with("2: key: no value") && e.contains("'#rrggbb'"),
            "{e}"
        );
    }

    #[test]
    fn skins_load_from_the_skins_dir_and_built_ins_need_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Skin::load("light", dir.path()).unwrap(), Skin::light());
        let e = Skin::load("ocean", dir.path()).unwrap_err();
        assert!(
            e.contains("ocean.yaml") && e.contains("built-in: color, light, mono"),
            "{e}"
        );
        std::fs::write(dir.path().join("ocean.yaml"), "key: blue\n").unwrap();
        assert_eq!(Skin::load("ocean", dir.path()).unwrap().key, Color::Blue);
        std::fs::write(dir.path().join("bad.yaml"), "key: blue\nok: nope\n").unwrap();
        let e = Skin::load("bad", dir.path()).unwrap_err();
        assert!(e.contains("bad.yaml:2: ok:"), "{e}");
        assert!(Skin::load("../etc", dir.path()).is_err());
    }

    #[test]
    fn the_readme_s_skin_loads() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("# $XDG_CONFIG_HOME/podtui/skins/ocean.yaml")
            .unwrap();
        let block = &readme[start..];
        let block = &block[..block.find("```").unwrap()];
        let s = Skin::parse("ocean", block).unwrap();
        assert_eq!(s.background, Some(Color::Rgb(0xf0, 0xf4, 0xf8)));
        assert_eq!(s.done, Color::DarkGray);
    }

    #[test]
    fn mono_ignores_the_skin() {
        let t = Theme {
            mono: true,
            skin: Skin::light(),
        };
        assert_eq!(t.base(), Style::default());
        assert_eq!(t.ok(), Style::default());
        assert_eq!(t.name(), "mono");
    }
}
