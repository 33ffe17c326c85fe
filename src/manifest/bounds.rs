//! Bounds on a manifest text, checked before any parser builds a value from it.
//!
//! serde_yaml, serde_json, [`super::lines::LineMap`] and the checks after them each hold every node of a file
//! at once, several times over (a YAML value, a JSON value, a field path per key, a decoded Pod). A 9.8 MB
//! flow list `a: [1,1,…]` is 4.9 million nodes, and held that way it costs gigabytes. So a file is measured
//! first, by passes that build nothing but counters, and refused when it passes a bound:
//!
//! - [`MAX_DOCUMENT_BYTES`], 1 MiB per document: etcd stores objects of at most 1.5 MiB, so no Pod a
//!   cluster can hold is much bigger, and a big real one is under 100 KiB. A long scalar near the 10 MB file
//!   cap is refused here, by a byte scan, before any parser copies it.
//! - [`MAX_DOCUMENTS`], 1000 documents per file (a static pod file has one; `---\n` repeated is a bomb).
//! - [`MAX_NODES`], 50 000 nodes per file (scalars, keys, sequences and mappings, with what every alias
//!   expands to counted again, which is what serde_yaml builds): a large real Pod has a few thousand. Held
//!   by everything after this check, a node costs about 600 bytes.
//!   A billion-laughs file is refused while it is counted, long before anything is expanded.
//! - [`MAX_DEPTH`], 64 levels of nesting (block or flow, aliases expanded): the deepest Pod fields
//!   (`spec.affinity.nodeAffinity.…matchExpressions[0].values[0]`) are about ten levels down, fifteen inside
//!   a List.
//! - [`MAX_WEIGHT`], the sum of every node's depth, 500 000: where each field is remembered (its field path
//!   per node) costs about 60 bytes per level, so many nodes deep down are refused even under the node
//!   bound. A real Pod's weight is a few tens of thousands.
//! - [`MAX_SCALAR_BYTES`], 2 MiB of scalar text per file, aliases expanded: every scalar is copied by each
//!   stage, and an alias of a long string is a copy of it.
//!
//! Measured with `podtui validate` (unoptimised build): a file just under any one bound costs at most 56 MB of
//! peak RSS, of which about 22 MB is the process before it reads anything.
//!
//! Real manifests pass every bound by a factor of at least ten. YAML is counted with yaml-rust2's event
//! parser (the one [`super::lines`] uses), which stops at the first bound passed: a bomb costs what its first
//! 100 000 nodes cost. Where yaml-rust2 stops at an error that serde_yaml may not see (a tab after `key:`),
//! the rest of the text is bounded by a conservative count of the characters a node can start at. JSON is
//! counted by a byte scan (serde_json reads concatenated values that YAML does not). A time budget, checked
//! while counting, bounds what any pass may cost on a slow or loaded machine.

use std::time::Instant;

use yaml_rust2::parser::{Event, Parser};

use super::finding::Finding;
use super::parse::Format;

/// The largest document, in bytes (the Kubernetes API server's request limit).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// The most documents one file may hold.
pub const MAX_DOCUMENTS: usize = 1000;
/// The most nodes one file may hold, aliases expanded.
pub const MAX_NODES: usize = 50_000;
/// The deepest nesting, aliases expanded.
pub const MAX_DEPTH: usize = 64;
/// The largest sum of every node's depth.
pub const MAX_WEIGHT: usize = 500_000;
/// The most scalar text one file may hold, aliases expanded.
pub const MAX_SCALAR_BYTES: usize = 2 * 1024 * 1024;

/// Why a text was refused: the line (1-based) and what bound it passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Where the bound was passed.
    pub line: usize,
    /// Which bound, for a human.
    pub message: String,
}

impl Refusal {
    fn new(line: usize, message: String) -> Self {
        Self {
            line,
            message: format!("{message}: not a Pod manifest, refused before parsing"),
        }
    }

    /// The refusal as a finding about the whole file.
    pub fn into_finding(self) -> Finding {
        Finding::file_error(Some(self.line), self.message)
    }
}

/// Checks `text` against every bound; `deadline` ends the check with a refusal when it passes.
pub fn check(text: &str, format: Format, deadline: Option<Instant>) -> Result<(), Refusal> {
    match format {
        Format::Yaml => {
            check_documents(text)?;
            check_yaml_events(text, deadline)
        }
        Format::Json => check_json(text.as_bytes(), deadline),
    }
}

fn budget(deadline: Option<Instant>, line: usize) -> Result<(), Refusal> {
    match deadline {
        Some(d) if Instant::now() > d => Err(Refusal::new(
            line,
            "reading the file took longer than its time budget".into(),
        )),
        _ => Ok(()),
    }
}

/// True when `line` is a YAML document marker (`---` or `...` at the start of a line, alone or before a space).
/// Such a line ends a document even inside a block or quoted scalar, so counting them needs no parser.
fn is_marker(line: &[u8]) -> bool {
    (line.starts_with(b"---") || line.starts_with(b"..."))
        && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r'))
}

/// Document count and sizes, by lines.
fn check_documents(text: &str) -> Result<(), Refusal> {
    let (mut docs, mut start, mut start_line) = (1usize, 0usize, 1usize);
    let (mut offset, mut content) = (0usize, false);
    for (i, line) in text.as_bytes().split(|&b| b == b'\n').enumerate() {
        let number = i + 1;
        if is_marker(line) {
            if offset - start > MAX_DOCUMENT_BYTES {
                return Err(too_big(docs, start_line, offset - start));
            }
            // A `---` before anything but comments and directives starts the first document.
            if line.starts_with(b"---") && std::mem::replace(&mut content, true) {
                docs += 1;
                if docs > MAX_DOCUMENTS {
                    return Err(Refusal::new(
                        number,
                        format!("more than {MAX_DOCUMENTS} documents in one file"),
                    ));
                }
            }
            (start, start_line) = (offset, number);
        } else if !content {
            let t = line.trim_ascii_start();
            content = !(t.is_empty() || t.starts_with(b"#") || t.starts_with(b"%"));
        }
        offset += line.len() + 1;
    }
    let end = text.len();
    if end - start > MAX_DOCUMENT_BYTES {
        return Err(too_big(docs, start_line, end - start));
    }
    Ok(())
}

fn too_big(doc: usize, line: usize, bytes: usize) -> Refusal {
    Refusal::new(
        line,
        format!(
            "document {doc} is {bytes} bytes, more than {MAX_DOCUMENT_BYTES} (etcd holds objects of at most 1.5 MiB)"
        ),
    )
}

/// What a node (with everything under it) adds up to.
#[derive(Clone, Copy, Debug, Default)]
struct Size {
    nodes: usize,
    /// Levels below the node's own.
    height: usize,
    bytes: usize,
}

impl Size {
    fn scalar(bytes: usize) -> Self {
        Size {
            nodes: 1,
            height: 0,
            bytes,
        }
    }
}

/// Running totals of one file.
#[derive(Default)]
struct Counter {
    document: usize,
    nodes: usize,
    weight: usize,
    bytes: usize,
}

impl Counter {
    /// Counts `size` at `depth` (1 for a document's root).
    fn add(&mut self, size: Size, depth: usize, line: usize) -> Result<(), Refusal> {
        self.nodes = self.nodes.saturating_add(size.nodes);
        self.bytes = self.bytes.saturating_add(size.bytes);
        self.weight = self
            .weight
            .saturating_add(size.nodes.saturating_mul(depth + size.height));
        let doc = self.document.max(1);
        let refuse = |what: String| Err(Refusal::new(line, format!("document {doc} {what}")));
        if depth + size.height > MAX_DEPTH {
            return refuse(format!("is nested more than {MAX_DEPTH} levels deep"));
        }
        if self.nodes > MAX_NODES {
            return refuse(format!(
                "brings the file to more than {MAX_NODES} nodes (values, keys and list items, aliases expanded)"
            ));
        }
        if self.weight > MAX_WEIGHT {
            return refuse(format!(
                "brings the file to more than {MAX_WEIGHT} levels of nesting summed over its nodes"
            ));
        }
        if self.bytes > MAX_SCALAR_BYTES {
            return refuse(format!(
                "brings the file to more than {MAX_SCALAR_BYTES} bytes of scalars (aliases expanded)"
            ));
        }
        Ok(())
    }
}

/// An open sequence or mapping.
struct Frame {
    anchor: usize,
    nodes_before: usize,
    bytes_before: usize,
    depth: usize,
    deepest: usize,
}

/// Counts the YAML events: nodes, depth, scalar bytes and alias expansions.
fn check_yaml_events(text: &str, deadline: Option<Instant>) -> Result<(), Refusal> {
    let mut parser = Parser::new_from_str(text);
    let mut count = Counter::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Anchor id → what an alias to it expands to.
    let mut anchors: Vec<Size> = Vec::new();
    let mut events = 0usize;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            // yaml-rust2 counts flow levels in a u8 and scans ahead of the events it has given.
            Err(e) if e.info().contains("recursion limit") => {
                return Err(Refusal::new(
                    e.marker().line(),
                    format!(
                        "document {} is nested more than {MAX_DEPTH} levels deep",
                        count.document.max(1)
                    ),
                ));
            }
            Err(e) => return check_rest(text, e.marker().index(), &count),
        };
        let line = mark.line();
        events += 1;
        if events.is_multiple_of(1024) {
            budget(deadline, line)?;
        }
        let depth = stack.len() + 1;
        let mut deepest = depth;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::DocumentStart => {
                count.document += 1;
                stack.clear();
            }
            Event::Scalar(value, _, anchor, _) => {
                count.add(Size::scalar(value.len()), depth, line)?;
                remember(&mut anchors, anchor, Size::scalar(value.len()));
            }
            Event::Alias(id) => {
                let size = anchors.get(id).copied().unwrap_or(Size::scalar(0));
                count.add(size, depth, line)?;
                deepest = depth + size.height;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                count.add(Size::scalar(0), depth, line)?;
                stack.push(Frame {
                    anchor,
                    nodes_before: count.nodes - 1,
                    bytes_before: count.bytes,
                    depth,
                    deepest: depth,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = stack.pop() {
                    deepest = frame.deepest;
                    let size = Size {
                        nodes: count.nodes - frame.nodes_before,
                        height: frame.deepest - frame.depth,
                        bytes: count.bytes - frame.bytes_before,
                    };
                    remember(&mut anchors, frame.anchor, size);
                }
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
        if let Some(top) = stack.last_mut() {
            top.deepest = top.deepest.max(deepest);
        }
    }
}

fn remember(anchors: &mut Vec<Size>, anchor: usize, size: Size) {
    if anchor == 0 {
        return;
    }
    if anchors.len() <= anchor {
        anchors.resize(anchor + 1, Size::scalar(0));
    }
    anchors[anchor] = size;
}

/// After yaml-rust2 stopped at an error at char `at`: bounds what serde_yaml might still build from the rest,
/// by the characters a node can start at (every node starts at one of them, or at a line).
fn check_rest(text: &str, at: usize, count: &Counter) -> Result<(), Refusal> {
    let offset = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
    let line = text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1;
    let rest = &text.as_bytes()[offset..];
    let starts = rest.iter().filter(|b| b",[{:-?&*!|>\n".contains(b)).count() + 1;
    let mut nodes = starts.saturating_mul(2);
    if rest.contains(&b'*') {
        // serde_yaml expands aliases up to a hundred times the document's events.
        nodes = nodes.saturating_mul(100);
    }
    if count.nodes.saturating_add(nodes) > MAX_NODES {
        return Err(Refusal::new(
            line,
            format!(
                "the text after this line may hold more than {MAX_NODES} nodes (values, keys and list items, aliases expanded)"
            ),
        ));
    }
    Ok(())
}

/// Counts JSON values, nesting, documents (concatenated values) and their sizes, without building any.
fn check_json(bytes: &[u8], deadline: Option<Instant>) -> Result<(), Refusal> {
    let mut count = Counter::default();
    let (mut depth, mut line, mut doc_start) = (0usize, 1usize, 0usize);
    let (mut i, mut steps) = (0usize, 0usize);
    while i < bytes.len() {
        steps += 1;
        if steps.is_multiple_of(64 * 1024) {
            budget(deadline, line)?;
        }
        let b = bytes[i];
        if depth == 0 && !b.is_ascii_whitespace() {
            count.document += 1;
            doc_start = i;
            if count.document > MAX_DOCUMENTS {
                return Err(Refusal::new(
                    line,
                    format!("more than {MAX_DOCUMENTS} documents in one file"),
                ));
            }
        }
        match b {
            b'\n' => line += 1,
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                count.add(Size::scalar(i - start), depth + 1, line)?;
            }
            b'[' | b'{' => {
                count.add(Size::scalar(0), depth + 1, line)?;
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => {}
            b if b.is_ascii_whitespace() => {}
            _ => {
                // A number, true, false or null: one node up to the next delimiter.
                count.add(Size::scalar(1), depth + 1, line)?;
                while i + 1 < bytes.len() && !b",]}:\"[{ \t\r\n".contains(&bytes[i + 1]) {
                    i += 1;
                }
            }
        }
        i += 1;
        if i - doc_start > MAX_DOCUMENT_BYTES {
            return Err(too_big(count.document, line, i - doc_start));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<(), Refusal> {
        check(text, Format::Yaml, None)
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: &l {app: a}}\nspec:\n  containers:\n  - name: c\n    image: i:1\n    args: [a, b, c]\n    env:\n    - {name: A, value: x}\n";

    #[test]
    fn real_manifests_pass() {
        assert_eq!(yaml(POD), Ok(()));
        let json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i:1","args":["a\"]",1,true]}]}}"#;
        assert_eq!(check(json, Format::Json, None), Ok(()));
        let many = (0..200).map(|_| POD).collect::<Vec<_>>().join("---\n");
        assert_eq!(yaml(&many), Ok(()));
    }

    #[test]
    fn a_long_flow_list_is_refused_at_its_line() {
        let text = format!("a: [{}1]\n", "1,".repeat(200_000));
        let r = yaml(&text).unwrap_err();
        assert_eq!(r.line, 1);
        assert!(r.message.contains("more than 50000 nodes"), "{r:?}");
        let json = format!("{{\"a\": [{}1]}}", "1,".repeat(200_000));
        let r = check(&json, Format::Json, None).unwrap_err();
        assert!(r.message.contains("more than 50000 nodes"), "{r:?}");
    }

    #[test]
    fn nesting_is_refused_block_or_flow() {
        let flow = format!("a: {}\n", "[".repeat(100));
        assert!(yaml(&flow).unwrap_err().message.contains("64 levels"));
        let block: String = (0..100)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let r = yaml(&block).unwrap_err();
        assert!(r.message.contains("64 levels"), "{r:?}");
        assert_eq!(r.line, 64);
        let json = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(
            check(&json, Format::Json, None)
                .unwrap_err()
                .message
                .contains("64 levels")
        );
    }

    #[test]
    fn aliases_count_what_they_expand_to() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let r = yaml(&text).unwrap_err();
        assert!(r.message.contains("aliases expanded"), "{r:?}");
        assert!(r.line <= 6, "{r:?}");
        // An alias of a long string is a copy of it.
        let long = format!(
            "a: &s {}\nb: [{}]\n",
            "x".repeat(100_000),
            vec!["*s"; 30].join(", ")
        );
        assert!(
            yaml(&long)
                .unwrap_err()
                .message
                .contains("bytes of scalars")
        );
        // A few aliases of a small anchor are fine.
        assert_eq!(yaml("a: &x {b: 1}\nc: *x\nd: *x\n"), Ok(()));
    }

    #[test]
    fn documents_are_bounded_in_number_and_size() {
        let r = yaml(&"---\n".repeat(5000)).unwrap_err();
        // The first `---` starts document 1.
        assert_eq!(r.line, 1001);
        assert!(r.message.contains("more than 1000 documents"));
        let long = format!("a: {}\n", "x".repeat(MAX_DOCUMENT_BYTES));
        let r = yaml(&long).unwrap_err();
        assert!(r.message.contains("document 1 is"), "{r:?}");
        let two = format!("a: 1\n---\nb: {}\n", "x".repeat(MAX_DOCUMENT_BYTES));
        let r = yaml(&two).unwrap_err();
        assert_eq!(
            (r.line, r.message.contains("document 2 is")),
            (2, true),
            "{r:?}"
        );
    }

    #[test]
    fn text_after_a_yaml_rust2_error_is_bounded_conservatively() {
        // As if yaml-rust2 had stopped at the start of line 2, where serde_yaml would go on to build the list.
        let text = format!("a: 1\nb: [{}1]\n", "1,".repeat(30_000));
        let r = check_rest(&text, 5, &Counter::default()).unwrap_err();
        assert_eq!(r.line, 2);
        assert!(r.message.contains("may hold more than"), "{r:?}");
        // Aliases there may expand a hundredfold.
        let aliases = format!("a: 1\nb: [{}*x]\n", "*x,".repeat(300));
        assert!(check_rest(&aliases, 5, &Counter::default()).is_err());
        assert_eq!(check_rest(POD, 5, &Counter::default()), Ok(()));
    }

    #[test]
    fn the_time_budget_is_checked_while_counting() {
        let text = format!("a: [{}1]\n", "1,".repeat(50_000));
        let past = Instant::now() - std::time::Duration::from_secs(1);
        let r = check(&text, Format::Yaml, Some(past)).unwrap_err();
        assert!(r.message.contains("time budget"), "{r:?}");
    }
}
