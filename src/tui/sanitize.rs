//! Turning container output into something safe to draw. SGR colour sequences become styles (or are dropped
//! in monochrome); every other escape or control sequence (cursor movement, OSC title/clipboard, DCS, C1
//! controls, bidi overrides) is removed, so a log line can never drive the user's terminal. Invalid UTF-8
//! becomes U+FFFD. (Names and other short strings are escaped rather than stripped: [`crate::text`].)

use ratatui::style::{Color, Modifier, Style};

use crate::text::is_invisible_format;

/// A run of text with one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The text (no control characters).
    pub text: String,
    /// Its style.
    pub style: Style,
}

/// Parser state that carries across lines and chunks of one stream.
#[derive(Clone, Debug, Default)]
pub struct Sanitizer {
    style: Style,
    state: State,
    params: String,
    /// Keep colours (false: strip them, keep nothing but text).
    pub colors: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    Esc,
    Csi,
    /// OSC, DCS, SOS, PM, APC: skipped up to BEL or ST.
    Str,
    StrEsc,
}

impl Sanitizer {
    /// A sanitizer that keeps colours when `colors` is true.
    pub fn new(colors: bool) -> Self {
        Self {
            colors,
            ..Default::default()
        }
    }

    /// Sanitizes one line (without its newline) into styled spans.
    pub fn line(&mut self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        let mut cur = String::new();
        let push = |spans: &mut Vec<Span>, cur: &mut String, style: Style| {
            if !cur.is_empty() {
                match spans.last_mut() {
                    Some(last) if last.style == style => last.text.push_str(cur),
                    _ => spans.push(Span {
                        text: std::mem::take(cur),
                        style,
                    }),
                }
                cur.clear();
            }
        };
        for c in text.chars() {
            match self.state {
                State::Text => match c {
                    '\u{1b}' => self.state = State::Esc,
                    '\u{9b}' => {
                        self.state = State::Csi;
                        self.params.clear();
                    }
                    '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}' => self.state = State::Str,
                    '\t' => cur.push_str("    "),
                    c if c.is_control() || is_invisible_format(c) => {}
                    c => cur.push(c),
                },
                State::Esc => match c {
                    '[' => {
                        self.state = State::Csi;
                        self.params.clear();
                    }
                    ']' | 'P' | 'X' | '^' | '_' => self.state = State::Str,
                    // Any other escape (ESC 7, ESC c, ESC ( B …) is dropped with its one final byte.
                    _ => self.state = State::Text,
                },
                State::Csi => {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        if c == 'm' && self.params.len() < 64 {
                            let before = self.style;
                            let params = std::mem::take(&mut self.params);
                            self.apply_sgr(&params);
                            if before != self.style {
                                push(&mut spans, &mut cur, before);
                            }
                        }
                        self.state = State::Text;
                    } else if c.is_ascii() && !c.is_ascii_control() {
                        if self.params.len() < 256 {
                            self.params.push(c);
                        }
                    } else {
                        // Not a CSI after all: drop it.
                        self.state = State::Text;
                    }
                }
                State::Str => match c {
                    '\u{7}' | '\u{9c}' => self.state = State::Text,
                    '\u{1b}' => self.state = State::StrEsc,
                    _ => {}
                },
                State::StrEsc => {
                    self.state = if c == '\\' { State::Text } else { State::Str };
                }
            }
        }
        push(&mut spans, &mut cur, self.style);
        // A sequence never ends across lines in practice; do not let a broken one eat the next line.
        if self.state != State::Text {
            self.state = State::Text;
        }
        spans
    }

    fn apply_sgr(&mut self, params: &str) {
        if !self.colors {
            return;
        }
        let nums: Vec<u16> = if params.is_empty() {
            vec![0]
        } else {
            params
                .split([';', ':'])
                .map(|p| p.parse().unwrap_or(0))
                .collect()
        };
        let mut i = 0;
        let mut s = self.style;
        while i < nums.len() {
            match nums[i] {
                0 => s = Style::default(),
                1 => s = s.add_modifier(Modifier::BOLD),
                2 => s = s.add_modifier(Modifier::DIM),
                3 => s = s.add_modifier(Modifier::ITALIC),
                4 => s = s.add_modifier(Modifier::UNDERLINED),
                7 => s = s.add_modifier(Modifier::REVERSED),
                9 => s = s.add_modifier(Modifier::CROSSED_OUT),
                22 => s = s.remove_modifier(Modifier::BOLD | Modifier::DIM),
                23 => s = s.remove_modifier(Modifier::ITALIC),
                24 => s = s.remove_modifier(Modifier::UNDERLINED),
                27 => s = s.remove_modifier(Modifier::REVERSED),
                29 => s = s.remove_modifier(Modifier::CROSSED_OUT),
                n @ 30..=37 => s = s.fg(Color::Indexed((n - 30) as u8)),
                n @ 90..=97 => s = s.fg(Color::Indexed((n - 90 + 8) as u8)),
                n @ 40..=47 => s = s.bg(Color::Indexed((n - 40) as u8)),
                n @ 100..=107 => s = s.bg(Color::Indexed((n - 100 + 8) as u8)),
                39 => s.fg = None,
                49 => s.bg = None,
                n @ (38 | 48) => {
                    let color = match nums.get(i + 1) {
                        Some(5) => {
                            let c = nums.get(i + 2).map(|v| Color::Indexed((*v).min(255) as u8));
                            i += 2;
                            c
                        }
                        Some(2) => {
                            let get = |k: usize| {
                                nums.get(i + k).map(|v| (*v).min(255) as u8).unwrap_or(0)
                            };
                            let c = Color::Rgb(get(2), get(3), get(4));
                            i += 4;
                            Some(c)
                        }
                        _ => None,
                    };
                    if let Some(c) = color {
                        s = if n == 38 { s.fg(c) } else { s.bg(c) };
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.style = s;
    }
}

/// The plain text of spans.
pub fn plain(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &str) -> String {
        plain(&Sanitizer::new(true).line(line))
    }

    #[test]
    fn sgr_becomes_style_and_other_sequences_vanish() {
        let mut s = Sanitizer::new(true);
        let spans = s.line("plain \u{1b}[31mred\u{1b}[0m back");
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[1].text, "red");
        assert_eq!(spans[1].style.fg, Some(Color::Indexed(1)));
        assert_eq!(plain(&spans), "plain red back");
        assert_eq!(text("a\u{1b}[2J\u{1b}[Hb\u{1b}[10;20Hc"), "abc");
        assert_eq!(text("x\u{1b}]0;evil title\u{7}y"), "xy");
        assert_eq!(text("x\u{1b}]52;c;ZXZpbA==\u{1b}\\y"), "xy");
        assert_eq!(text("x\u{1b}Pq#0;1;2\u{1b}\\y"), "xy");
        assert_eq!(text("x\u{9b}31my\u{9d}0;t\u{9c}z"), "xyz");
        assert_eq!(text("bell\u{7} back\u{8}space\r cr"), "bell backspace cr");
        assert_eq!(text("rtl\u{202e}override"), "rtloverride");
        assert_eq!(text("tab\tx"), "tab    x");
        assert_eq!(text("\u{1b}7save\u{1b}8restore\u{1b}c"), "saverestore");
    }

    #[test]
    fn monochrome_strips_colours() {
        let mut s = Sanitizer::new(false);
        let spans = s.line("\u{1b}[1;32mgreen\u{1b}[0m");
        assert_eq!(
            spans,
            vec![Span {
                text: "green".into(),
                style: Style::default()
            }]
        );
    }

    #[test]
    fn extended_colours() {
        let mut s = Sanitizer::new(true);
        let spans = s.line("\u{1b}[38;5;208mo\u{1b}[48;2;1;2;3mr");
        assert_eq!(spans[0].style.fg, Some(Color::Indexed(208)));
        assert_eq!(spans[1].style.bg, Some(Color::Rgb(1, 2, 3)));
    }
}
