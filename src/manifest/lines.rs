//! Where each field of a YAML (or JSON) document sits in its file, so findings can say `file:line`.
//!
//! serde_yaml does not expose positions of values, so the text is walked once more with yaml-rust2's
//! marked event parser and every key and sequence item is recorded under its [`FieldPath`].

use std::collections::HashMap;

use serde_json::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::path::FieldPath;

/// Line numbers (1-based) of every field of every document of one file.
#[derive(Debug, Default, Clone)]
pub struct LineMap {
    docs: Vec<DocLines>,
    /// False when yaml-rust2 stopped at an error that the real decoder may not see (a tab after `key:`): the
    /// last document's map is then partial and an ancestor's line would be a wrong answer, not an approximation.
    complete: bool,
}

#[derive(Debug, Default, Clone)]
struct DocLines {
    start: usize,
    fields: HashMap<FieldPath, usize>,
    /// Plain scalars that YAML 1.1 resolves differently from YAML 1.2 (see [`yaml11_value`]).
    yaml11: Vec<(FieldPath, String, Value)>,
}

impl LineMap {
    /// Builds the map from the file's text. A text the parser rejects gives a map with what was read up to the error.
    pub fn build(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        // Errors are reported by the real decoder (serde_yaml); here a partial map is still useful.
        let complete = parser.load(&mut builder, true).is_ok();
        LineMap {
            docs: builder.docs,
            complete,
        }
    }

    /// The plain scalars of document `doc` that Kubernetes' YAML 1.1 decoder reads as a boolean or an integer
    /// where a YAML 1.2 decoder reads a string: `(path, text, value)`.
    pub fn yaml11_scalars(&self, doc: usize) -> &[(FieldPath, String, Value)] {
        self.docs
            .get(doc)
            .map(|d| d.yaml11.as_slice())
            .unwrap_or(&[])
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
        let partial = !self.complete && doc + 1 == self.docs.len();
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(line) = d.fields.get(&cur) {
                return Some(*line);
            }
            if partial {
                return None;
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
                    ..DocLines::default()
                });
            }
            Event::Scalar(value, style, _, tag) => {
                let (path, is_key) = self.place();
                if is_key {
                    let key_path = path.key(value.clone());
                    self.record(&key_path, &mark);
                    if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                        *key = Some(value);
                    }
                } else {
                    self.record(&path, &mark);
                    if style == TScalarStyle::Plain
                        && tag.is_none()
                        && let Some(v) = yaml11_value(&value)
                        && let Some(doc) = self.docs.last_mut()
                    {
                        doc.yaml11.push((path, value, v));
                    }
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

/// What go-yaml v2 (the YAML 1.1 decoder behind `sigs.k8s.io/yaml`, which the kubelet and kubectl use) makes of
/// a plain scalar, where that differs from YAML 1.2 as serde_yaml reads it: `yes`/`no`/`on`/`off`/`y`/`n` are
/// booleans, a leading `0` is octal (`0400` is 256), `0b` is binary, and `_` separates digits.
pub fn yaml11_value(text: &str) -> Option<Value> {
    const TRUE: &[&str] = &["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
    const FALSE: &[&str] = &["n", "N", "no", "No", "NO", "off", "Off", "OFF"];
    if TRUE.contains(&text) {
        return Some(Value::Bool(true));
    }
    if FALSE.contains(&text) {
        return Some(Value::Bool(false));
    }
    let digits = text.replace('_', "");
    let (negative, unsigned) = match digits.as_bytes().first() {
        Some(b'-') => (true, &digits[1..]),
        Some(b'+') => (false, &digits[1..]),
        _ => (false, digits.as_str()),
    };
    let (radix, body) = if let Some(b) = unsigned.strip_prefix("0b") {
        (2, b)
    } else if unsigned.len() > 1
        && unsigned.starts_with('0')
        && unsigned.bytes().all(|c| c.is_ascii_digit())
    {
        (8, &unsigned[1..])
    } else if text.contains('_')
        && !unsigned.is_empty()
        && unsigned.bytes().all(|c| c.is_ascii_digit())
    {
        (10, unsigned)
    } else {
        return None;
    };
    // go-yaml falls back to a float for a leading zero that is not octal (`08` is 8).
    let n = match i64::from_str_radix(body, radix) {
        Ok(n) => n,
        Err(_) if radix == 8 => body.parse().ok()?,
        Err(_) => return None,
    };
    Some(Value::from(if negative { -n } else { n }))
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
    fn yaml11_scalars_resolve_as_kubernetes_reads_them() {
        assert_eq!(yaml11_value("0400"), Some(Value::from(256)));
        assert_eq!(yaml11_value("-0_17"), Some(Value::from(-15)));
        assert_eq!(yaml11_value("0b101"), Some(Value::from(5)));
        assert_eq!(yaml11_value("1_000"), Some(Value::from(1000)));
        assert_eq!(yaml11_value("on"), Some(Value::Bool(true)));
        assert_eq!(yaml11_value("NO"), Some(Value::Bool(false)));
        assert_eq!(yaml11_value("08"), Some(Value::from(8)));
        // Both YAML versions agree on these.
        for same in ["0", "400", "true", "0x1f", "nope", "1.5", "_", ""] {
            assert_eq!(yaml11_value(same), None, "{same}");
        }
        let m = LineMap::build("a: 0400\nb: '0400'\nc: [on, \"off\"]\nd: !!str yes\n");
        let paths: Vec<String> = m
            .yaml11_scalars(0)
            .iter()
            .map(|(p, ..)| p.to_string())
            .collect();
        assert_eq!(paths, ["a", "c[0]"]);
    }

    #[test]
    fn a_partial_map_gives_no_line_rather_than_a_wrong_one() {
        // yaml-rust2 rejects the tab after `name:` (libyaml accepts it): fields after it are unknown.
        let m = LineMap::build("metadata:\n  name:\tweb\nspec:\n  containers: []\n");
        assert_eq!(m.line_of(0, &FieldPath::parse("spec.containers")), None);
        assert_eq!(m.line_of(0, &FieldPath::parse("metadata")), Some(1));
    }

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
