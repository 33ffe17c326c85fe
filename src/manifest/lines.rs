//! Where each field of a YAML (or JSON) document sits in its file, so findings can say `file:line`.
//!
//! serde_yaml does not expose positions of values, so the text is walked once more with yaml-rust2's
//! marked event parser and every key and sequence item is recorded under its [`FieldPath`].

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use super::path::FieldPath;

/// Line numbers (1-based) of every field of every document of one file.
#[derive(Debug, Default, Clone)]
pub struct LineMap {
    docs: Vec<DocLines>,
}

#[derive(Debug, Default, Clone)]
struct DocLines {
    start: usize,
    fields: HashMap<FieldPath, usize>,
}

impl LineMap {
    /// Builds the map from the file's text. A text the parser rejects gives a map with what was read up to the error.
    pub fn build(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // Errors are reported by the real decoder (serde_yaml); here a partial map is still useful.
        let _ = parser.load(&mut builder, true);
        LineMap { docs: builder.docs }
    }

    /// Number of documents seen.
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    /// The first line of document `doc` (0-based index among all documents of the file).
    pub fn doc_start(&self, doc: usize) -> Option<usize> {
        self.docs.get(doc).map(|d| d.start)
    }

    /// The line of `path` in document `doc`, or of its nearest ancestor that has one.
    pub fn line_of(&self, doc: usize, path: &FieldPath) -> Option<usize> {
        let d = self.docs.get(doc)?;
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(line) = d.fields.get(&cur) {
                return Some(*line);
            }
            p = cur.parent();
        }
        Some(d.start)
    }
}

enum Frame {
    Map {
        path: FieldPath,
        key: Option<String>,
    },
    Seq {
        path: FieldPath,
        next: usize,
    },
}

#[derive(Default)]
struct Builder {
    docs: Vec<DocLines>,
    stack: Vec<Frame>,
}

impl Builder {
    /// Path of the node that starts now, and whether it is a mapping key.
    fn place(&mut self) -> (FieldPath, bool) {
        match self.stack.last_mut() {
            None => (FieldPath::root(), false),
            Some(Frame::Seq { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                (p, false)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => (path.clone(), true),
                Some(k) => (path.key(k), false),
            },
        }
    }

    fn record(&mut self, path: &FieldPath, mark: &Marker) {
        if let Some(doc) = self.docs.last_mut() {
            doc.fields.entry(path.clone()).or_insert(mark.line());
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::DocumentStart => {
                self.stack.clear();
                self.docs.push(DocLines {
                    start: mark.line(),
                    fields: HashMap::new(),
                });
            }
            Event::Scalar(value, ..) => {
                let (path, is_key) = self.place();
                if is_key {
                    let key_path = path.key(value.clone());
                    self.record(&key_path, &mark);
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(value);
                    }
                } else {
                    self.record(&path, &mark);
                }
            }
            Event::Alias(_) => {
                let (path, is_key) = self.place();
                if is_key {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some("*alias".into());
                    }
                } else {
                    self.record(&path, &mark);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let (path, is_key) = self.place();
                // A complex (non-scalar) key: give it a placeholder so its value still gets a path.
                let path = if is_key {
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some("?".into());
                    }
                    path.key("?key")
                } else {
                    self.record(&path, &mark);
                    path
                };
                let frame = if matches!(ev, Event::MappingStart(..)) {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, next: 0 }
                };
                self.stack.push(frame);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: a
    image: busybox
  - name: b
    ports:
    - containerPort: 80
---
kind: Pod
metadata: {name: second}
";

    #[test]
    fn keys_and_items_have_their_lines() {
        let m = LineMap::build(TEXT);
        assert_eq!(m.documents(), 2);
        assert_eq!(m.line_of(0, &FieldPath::parse("metadata.name")), Some(4));
        assert_eq!(
            m.line_of(0, &FieldPath::parse("spec.containers[1]")),
            Some(9)
        );
        assert_eq!(
            m.line_of(0, &FieldPath::parse("spec.containers[1].name")),
            Some(9)
        );
        assert_eq!(
            m.line_of(
                0,
                &FieldPath::parse("spec.containers[1].ports[0].containerPort")
            ),
            Some(11)
        );
        // A missing field falls back to its nearest ancestor.
        assert_eq!(
            m.line_of(0, &FieldPath::parse("spec.containers[0].image.x")),
            Some(8)
        );
        assert_eq!(m.line_of(1, &FieldPath::parse("metadata.name")), Some(14));
        assert_eq!(m.doc_start(1), Some(12));
    }

    #[test]
    fn json_is_mapped_too() {
        let m = LineMap::build(
            "{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"containers\": []\n  }\n}\n",
        );
        assert_eq!(m.line_of(0, &FieldPath::parse("spec.containers")), Some(4));
    }
}
