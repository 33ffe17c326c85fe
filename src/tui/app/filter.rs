//! The pods table's `/` filter, in k9s' syntax: a regular expression (case-insensitive; text that is not a
//! valid one is matched literally) against a pod's name, namespace, status, file, IP and node; `!` before it
//! keeps the pods that do *not* match; `-l SELECTOR` filters on labels with the API's selector syntax
//! (`app=web`, `tier!=db`, `env in (a,b)`, `!legacy`).

use regex::{Regex, RegexBuilder};

use crate::api::select::LabelSelector;
use crate::engine::snapshot::PodView;

/// A parsed filter.
#[derive(Clone, Debug, Default)]
pub enum PodFilter {
    /// No filter: every pod.
    #[default]
    All,
    /// `-l SELECTOR`.
    Labels(LabelSelector),
    /// Text or a regular expression, maybe inverted.
    Text {
        /// `!`: the pods that do not match.
        inverse: bool,
        /// The expression.
        pattern: Regex,
    },
}

impl PodFilter {
    /// Parses what was typed at `/`; the error says what is wrong with a label selector.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Ok(PodFilter::All);
        }
        if let Some(sel) = s.strip_prefix("-l") {
            let sel = sel.trim();
            if sel.is_empty() {
                return Err("-l needs a label selector (app=web, tier!=db, env in (a,b))".into());
            }
            return LabelSelector::parse(sel)
                .map(PodFilter::Labels)
                .map_err(|e| format!("-l {sel}: {}", e.message));
        }
        let (inverse, text) = match s.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, s),
        };
        if text.is_empty() {
            return Ok(PodFilter::All);
        }
        let build = |p: &str| RegexBuilder::new(p).case_insensitive(true).build();
        let pattern = build(text)
            .or_else(|_| build(&regex::escape(text)))
            .map_err(|e| e.to_string())?;
        Ok(PodFilter::Text { inverse, pattern })
    }

    /// Whether `p` (on node `node`) passes.
    pub fn matches(&self, p: &PodView, node: &str) -> bool {
        match self {
            PodFilter::All => true,
            PodFilter::Labels(sel) => {
                sel.matches(&p.pod.metadata.labels.clone().unwrap_or_default())
            }
            PodFilter::Text { inverse, pattern } => {
                let status = p.pod.status.as_ref();
                let ip = status.and_then(|s| s.pod_ip.as_deref()).unwrap_or_default();
                let node = p
                    .pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .unwrap_or(node);
                let hit = [
                    p.name.as_str(),
                    p.namespace.as_str(),
                    p.columns.status.as_str(),
                    p.source.as_str(),
                    ip,
                    node,
                ]
                .iter()
                .any(|f| pattern.is_match(f));
                hit != *inverse
            }
        }
    }
}
