//! Text that reaches a terminal: file names and other strings podtui does not control are shown with their
//! control characters escaped, so a name such as `$'a\e[31m\nb.yaml'` can neither drive the user's terminal
//! nor split a line of output in two.
//!
//! [`escape_controls`] is the one function for this; the commands print paths through it (and
//! [`crate::manifest::Finding`]'s `Display` does), the TUI draws them through it, and the log sanitizer of the
//! TUI shares its notion of an invisible character ([`is_invisible_format`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// Zero-width and bidirectional formatting characters: invisible, yet they reorder or hide the text around
/// them (a right-to-left override can make `evil.yaml.sh` read as `evil.hs.yaml`); also the Unicode line and
/// paragraph separators, which some terminals treat as line breaks.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// True for a character [`escape_controls`] escapes: C0 controls (ESC among them), DEL, C1 controls and the
/// invisible formatting characters of [`is_invisible_format`].
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// `s` with every character of [`needs_escape`] written as an escape: `\n`, `\r`, `\t`, and `\u{1b}` for the
/// others (as Rust's `{:?}` writes them, which is how podtui already prints field values). Everything else,
/// the backslash included, is kept, so escaping twice changes nothing and ordinary paths print as they are.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A path as text to show: lossy UTF-8, control characters escaped ([`escape_controls`]).
pub fn display_path(path: &Path) -> String {
    escape_controls(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_controls("n\u{1b}[31mRED\nline.yaml"),
            "n\\u{1b}[31mRED\\nline.yaml"
        );
        assert_eq!(
            escape_controls("a\tb\rc\u{7f}d\u{9b}e\u{0}"),
            "a\\tb\\rc\\u{7f}d\\u{9b}e\\u{0}"
        );
        assert_eq!(
            escape_controls("evil\u{202e}lmay.sh"),
            "evil\\u{202e}lmay.sh"
        );
        assert_eq!(escape_controls("a\u{2028}b"), "a\\u{2028}b");
        assert!(matches!(
            escape_controls("manifests/wéb 1.yaml"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_controls("back\\slash"), "back\\slash");
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = escape_controls("x\u{1b}]0;t\u{7}\n").into_owned();
        assert_eq!(escape_controls(&once), once);
    }

    #[test]
    fn paths() {
        assert_eq!(
            display_path(Path::new("dir/a\u{1b}b.yaml")),
            "dir/a\\u{1b}b.yaml"
        );
    }
}
