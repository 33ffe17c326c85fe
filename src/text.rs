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

/// Go's `duration.HumanDuration` (k8s.io/apimachinery), which kubectl's and the API server's printers use for
/// ages: `2m40s` under 10 minutes, `15m`, `3h5m` under 8 hours, `2d3h` under 8 days. The one duration text of
/// podtui: the TUI's AGE, RESTARTS' "(X ago)" and events' LAST SEEN, `podtui get` and the API's tables.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            dd => format!("{}y{dd}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        let d = |s: i64| human_duration(jiff::SignedDuration::from_secs(s));
        assert_eq!(d(5), "5s");
        assert_eq!(d(119), "119s");
        assert_eq!(d(125), "2m5s");
        assert_eq!(d(600), "10m");
        assert_eq!(d(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(d(9 * 3600), "9h");
        assert_eq!(d(3 * 86400 + 3600), "3d1h");
        assert_eq!(d(30 * 86400), "30d");
        assert_eq!(d(-5), "<invalid>");
        assert_eq!(d(-1), "0s");
        assert_eq!(d(160), "2m40s");
        assert_eq!(d(7 * 3600 + 59 * 60), "7h59m");
        assert_eq!(d(2 * 86400 + 3 * 3600), "2d3h");
    }

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
