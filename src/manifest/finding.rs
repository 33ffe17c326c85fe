//! Findings about a manifest: errors that make it invalid and warnings that do not.
//!
//! Every finding prints in one format: `file:line: path: message`, with `warning: ` before the path for
//! warnings, and without `:line` when the text gives no line (a JSON syntax error at the end of a file, a URL source).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::path::FieldPath;
use crate::text::escape_controls;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The manifest is not applied (or its last good version keeps running).
    Error,
    /// The manifest is applied; something in it is ignored or looks mistaken.
    Warning,
}

/// One error or warning about one field of one manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The file (as the user named it) or URL.
    pub file: String,
    /// 1-based line, where the text gives one.
    pub line: Option<usize>,
    /// The field the finding is about; `None` for whole-file problems (syntax errors, empty file).
    pub path: Option<FieldPath>,
    /// What is wrong, for a human.
    pub message: String,
}

impl Finding {
    /// An error about `path`.
    pub fn error(path: FieldPath, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, Some(path), message)
    }

    /// A warning about `path`.
    pub fn warning(path: FieldPath, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, Some(path), message)
    }

    /// An error about the whole file (no field path), at `line` if known.
    pub fn file_error(line: Option<usize>, message: impl Into<String>) -> Self {
        let mut f = Self::new(Severity::Error, None, message);
        f.line = line;
        f
    }

    fn new(severity: Severity, path: Option<FieldPath>, message: impl Into<String>) -> Self {
        Self {
            severity,
            file: String::new(),
            line: None,
            path,
            message: message.into(),
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// One line, always: the file name and the message are shown with their control characters escaped
/// ([`crate::text::escape_controls`]), so neither a hostile file name nor a value quoted in a message can drive
/// the terminal or start a line of its own.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&escape_controls(&self.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_format_for_errors_and_warnings() {
        let mut e = Finding::error(
            FieldPath::parse("spec.containers[1].name"),
            "\"Web\" is not a valid container name (lowercase RFC 1123 label)",
        );
        e.file = "manifests/web.yaml".into();
        e.line = Some(12);
        assert_eq!(
            e.to_string(),
            "manifests/web.yaml:12: spec.containers[1].name: \"Web\" is not a valid container name (lowercase RFC 1123 label)"
        );
        let mut w = Finding::warning(FieldPath::parse("spec.affinity"), "ignored");
        w.file = "a.yaml".into();
        assert_eq!(w.to_string(), "a.yaml: warning: spec.affinity: ignored");
    }

    #[test]
    fn file_names_and_messages_cannot_drive_the_terminal() {
        let mut e = Finding::file_error(Some(3), "bad value \u{1b}]0;title\u{7}\nnext");
        e.file = "dir/n\u{1b}[31mRED\nline.yaml".into();
        assert_eq!(
            e.to_string(),
            "dir/n\\u{1b}[31mRED\\nline.yaml:3: bad value \\u{1b}]0;title\\u{7}\\nnext"
        );
    }
}
