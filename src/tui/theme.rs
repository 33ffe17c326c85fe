//! Colours and styles. The colour theme uses only the terminal's 16 standard colours and modifiers (so it reads
//! on dark and light backgrounds); the monochrome theme (also chosen by `NO_COLOR`) uses modifiers only.

use ratatui::style::{Color, Modifier, Style};

/// The styles the views use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    /// True for the monochrome theme.
    pub mono: bool,
}

impl Theme {
    /// The theme for this environment: monochrome when `NO_COLOR` is set (to anything non-empty) or asked for.
    pub fn detect(mono: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            mono: mono || no_color,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.mono {
            Style::default()
        } else {
            Style::default().fg(c)
        }
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
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Something is on its way (pending, creating).
    pub fn warn(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::ITALIC)
        } else {
            self.fg(Color::Yellow)
        }
    }

    /// Something is wrong.
    pub fn error(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        } else {
            self.fg(Color::Red)
        }
    }

    /// Finished.
    pub fn done(&self) -> Style {
        if self.mono {
            self.dim()
        } else {
            self.fg(Color::Blue)
        }
    }

    /// Going away.
    pub fn terminating(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::ITALIC | Modifier::DIM)
        } else {
            self.fg(Color::Magenta)
        }
    }

    /// Borders of the focused pane.
    pub fn border_focus(&self) -> Style {
        self.fg(Color::Cyan)
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
