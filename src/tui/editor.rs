//! The built-in manifest editor: a text area with live validation (errors and warnings at their lines, with
//! the field path) and a preview of what saving will do to the running pods.

use std::path::{Path, PathBuf};

use ratatui_textarea::TextArea;

use crate::engine::snapshot::Snapshot;
use crate::manifest::{Finding, Format, ParseInput, SourceId, parse_manifest};

/// What saving the editor's text would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyPreview {
    /// The text has errors: saving is refused.
    Invalid(usize),
    /// Same pods, same UIDs: nothing restarts.
    NoChange,
    /// What changes: pods replaced (new UID), created, removed.
    Changes {
        /// Pods whose content changed: each gets a new sandbox, init containers rerun, restarts reset.
        replaced: Vec<String>,
        /// New pods.
        created: Vec<String>,
        /// Pods the file no longer defines.
        removed: Vec<String>,
    },
}

impl ApplyPreview {
    /// One line for the status bar.
    pub fn summary(&self) -> String {
        match self {
            ApplyPreview::Invalid(n) => {
                format!("{n} error(s): saving is refused until they are fixed")
            }
            ApplyPreview::NoChange => "no change: the running pods stay as they are".into(),
            ApplyPreview::Changes {
                replaced,
                created,
                removed,
            } => {
                let mut parts = Vec::new();
                if !replaced.is_empty() {
                    parts.push(format!(
                        "replaces {} (new sandbox, init containers rerun, restarts reset)",
                        replaced.join(", ")
                    ));
                }
                if !created.is_empty() {
                    parts.push(format!("creates {}", created.join(", ")));
                }
                if !removed.is_empty() {
                    parts.push(format!("removes {}", removed.join(", ")));
                }
                format!("saving {}", parts.join("; "))
            }
        }
    }
}

/// An open editor.
pub struct Editor {
    /// The file being edited (as the user sees its path).
    pub path: PathBuf,
    /// True when the file does not exist yet.
    pub new_file: bool,
    /// The text area.
    pub area: TextArea<'static>,
    /// The text when the editor opened (or was last saved).
    pub original: String,
    /// Findings for the current text.
    pub findings: Vec<Finding>,
    /// What saving would do.
    pub preview: ApplyPreview,
    /// A message for the status line.
    pub message: Option<String>,
    node: String,
}

impl Editor {
    /// Opens `text` as the content of `path`.
    pub fn open(path: PathBuf, text: &str, new_file: bool, node: &str, snap: &Snapshot) -> Self {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut area = TextArea::new(if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        });
        area.set_line_number_style(
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::DIM),
        );
        area.set_tab_length(2);
        area.set_hard_tab_indent(false);
        let mut e = Self {
            path,
            new_file,
            area,
            original: text.to_string(),
            findings: Vec::new(),
            preview: ApplyPreview::NoChange,
            message: None,
            node: node.to_string(),
        };
        e.validate(snap);
        e
    }

    /// The current text.
    pub fn text(&self) -> String {
        let mut t = self.area.lines().join("\n");
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    }

    /// True when the text differs from what was opened.
    pub fn modified(&self) -> bool {
        self.text().trim_end() != self.original.trim_end()
    }

    /// The number of errors.
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    /// Revalidates the text and recomputes the preview against the running pods.
    pub fn validate(&mut self, snap: &Snapshot) {
        let display = self.path.display().to_string();
        let absolute = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        let source = SourceId::File(absolute.display().to_string());
        let text = self.text();
        let parsed = parse_manifest(&ParseInput {
            display: &display,
            text: &text,
            format: Format::from_path(&self.path),
            node_name: &self.node,
            source: &source,
        });
        self.findings = parsed.findings.clone();
        if parsed.has_errors() {
            self.preview = ApplyPreview::Invalid(self.errors());
            return;
        }
        let running: Vec<(&str, String)> = snap
            .pods
            .iter()
            .filter(|p| p.desired && same_file(Path::new(&p.source), &self.path))
            .map(|p| (p.uid.as_str(), p.key()))
            .collect();
        let mut replaced = Vec::new();
        let mut created = Vec::new();
        for p in &parsed.pods {
            match running.iter().find(|(_, k)| *k == p.key()) {
                Some((uid, _)) if *uid == p.uid => {}
                Some(_) => replaced.push(p.key()),
                None => created.push(p.key()),
            }
        }
        let removed: Vec<String> = running
            .iter()
            .filter(|(_, k)| !parsed.pods.iter().any(|p| p.key() == *k))
            .map(|(_, k)| k.clone())
            .collect();
        self.preview = if replaced.is_empty() && created.is_empty() && removed.is_empty() {
            ApplyPreview::NoChange
        } else {
            ApplyPreview::Changes {
                replaced,
                created,
                removed,
            }
        };
    }

    /// Lines (1-based) with an error.
    pub fn error_lines(&self) -> Vec<usize> {
        self.findings
            .iter()
            .filter(|f| f.is_error())
            .filter_map(|f| f.line)
            .collect()
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || std::path::absolute(a).ok() == std::path::absolute(b).ok()
}

/// The text `n` starts a new manifest with.
pub fn template(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    command: [/bin/sh, -c, 'echo hello from $(POD_NAME); while true; do sleep 5; done']\n    env:\n    - name: POD_NAME\n      valueFrom:\n        fieldRef:\n          fieldPath: metadata.name\n"
    )
}

/// A pod name from a file name: lowercase, RFC 1123.
pub fn name_from_file(file: &str) -> String {
    let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(file);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    if name.is_empty() {
        "new-pod".into()
    } else {
        name
    }
}
