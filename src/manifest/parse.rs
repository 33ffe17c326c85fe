//! Decoding manifest text (YAML, every document; or JSON) into validated static pods. The only place in podtui
//! that parses YAML.

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde_json::Value;

use super::finding::Finding;
use super::identity::{SourceId, assign_identity};
use super::lines::LineMap;
use super::path::FieldPath;
use super::schema::check_fields;
use super::validate::validate;

/// The syntax of a manifest text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML, any number of documents.
    Yaml,
    /// JSON, one or more concatenated values.
    Json,
}

impl Format {
    /// The format a file name implies: `.json` is JSON, everything else YAML.
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Yaml,
        }
    }

    /// The format a body of unknown origin most likely has (HTTP sources): JSON if it starts with `{` or `[`.
    pub fn sniff(text: &str) -> Self {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .as_bytes()
            .first()
        {
            Some(b'{') | Some(b'[') => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// One pod a manifest asks for, with its identity assigned.
#[derive(Clone, Debug)]
pub struct DesiredPod {
    /// The pod, defaulted, named `<name>-<node>`, with `metadata.uid` set.
    pub pod: Pod,
    /// The UID (also in `pod.metadata.uid`).
    pub uid: String,
    /// Namespace (defaulted).
    pub namespace: String,
    /// Full name, `<name>-<node>`.
    pub name: String,
    /// Where it came from (file path or URL) as shown to the user.
    pub source: String,
    /// The line of the document in its file.
    pub line: Option<usize>,
    /// The whole text of the file or response it came from, as applied.
    pub text: Arc<str>,
}

impl DesiredPod {
    /// `namespace/name`, the key pods are unique by.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Everything learned from one manifest text.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// The pods, when there is no error (a file is applied whole or not at all).
    pub pods: Vec<DesiredPod>,
    /// Errors and warnings, in file order.
    pub findings: Vec<Finding>,
}

impl Parsed {
    /// True when any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

/// What to parse and how to name it.
pub struct ParseInput<'a> {
    /// Name shown in findings (the path as the user gave it, or the URL).
    pub display: &'a str,
    /// The text.
    pub text: &'a str,
    /// YAML or JSON.
    pub format: Format,
    /// Node name, for the name suffix and the UID.
    pub node_name: &'a str,
    /// Source identity, for the UID.
    pub source: &'a SourceId,
}

struct Doc {
    index: usize,
    value: Value,
}

/// A manifest's bytes as text. Kubernetes requires UTF-8; a leading byte-order mark is dropped (Kubernetes'
/// decoders skip it too). Invalid UTF-8 is an error at its line rather than a silently replaced character.
pub fn manifest_text(bytes: &[u8]) -> Result<&str, Finding> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.len() - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        Finding::file_error(
            Some(line),
            format!("the file is not valid UTF-8 (byte {column} of the line); Kubernetes reads manifests as UTF-8"),
        )
    })
}

impl Parsed {
    /// The result for a text that is not a manifest at all (see [`manifest_text`]): one finding about the file.
    pub fn unreadable(display: &str, mut finding: Finding) -> Self {
        finding.file = display.to_string();
        Parsed {
            pods: Vec::new(),
            findings: vec![finding],
        }
    }
}

/// Parses, decodes and validates a manifest text.
pub fn parse_manifest(input: &ParseInput<'_>) -> Parsed {
    parse_manifest_within(input, None)
}

/// [`parse_manifest`], refusing the text when measuring it against the bounds of [`super::bounds`] is still
/// not done at `deadline`.
pub fn parse_manifest_within(input: &ParseInput<'_>, deadline: Option<Instant>) -> Parsed {
    // Before any parser builds a value from the text.
    if let Err(refusal) = super::bounds::check(input.text, input.format, deadline) {
        return Parsed::unreadable(input.display, refusal.into_finding());
    }
    let lines = LineMap::build(input.text);
    let mut out = Parsed::default();
    let docs = match input.format {
        Format::Yaml => yaml_documents(input.text, &lines, &mut out.findings),
        Format::Json => json_documents(input.text, &mut out.findings),
    };
    if docs.is_empty() && out.findings.is_empty() {
        out.findings.push(Finding::file_error(
            None,
            "the file is empty: it defines no pod (delete the file to remove its pods)",
        ));
    }
    let text: Arc<str> = Arc::from(input.text);
    let mut pods = Vec::new();
    for doc in docs {
        let mut findings = Vec::new();
        for (prefix, value) in pod_values(&doc.value, &mut findings) {
            if let Some(pod) = decode_pod(&value, &prefix, input.node_name, &mut findings) {
                pods.push((doc.index, prefix, pod));
            }
        }
        for mut f in findings {
            if f.is_error()
                && f.message.starts_with("wrong type")
                && let Some((_, text, _)) = lines
                    .yaml11_scalars(doc.index)
                    .iter()
                    .find(|(p, ..)| Some(p) == f.path.as_ref())
            {
                f.message = format!(
                    "{} (Kubernetes reads YAML 1.1, where the plain {text} is not a string: quote it)",
                    f.message
                );
            }
            f.line = f.line.or_else(|| {
                lines.line_of(doc.index, f.path.as_ref().unwrap_or(&FieldPath::root()))
            });
            out.findings.push(f);
        }
    }
    for f in &mut out.findings {
        f.file = input.display.to_string();
    }
    out.findings.sort_by_key(|f| f.line);
    if !out.has_errors() {
        for (doc, prefix, mut pod) in pods {
            let uid = assign_identity(&mut pod, input.node_name, input.source);
            out.pods.push(DesiredPod {
                namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                name: pod.metadata.name.clone().unwrap_or_default(),
                uid,
                pod,
                source: input.display.to_string(),
                line: lines.line_of(doc, &prefix),
                text: text.clone(),
            });
        }
    }
    out
}

fn yaml_documents(text: &str, lines: &LineMap, findings: &mut Vec<Finding>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        match serde_yaml::Value::deserialize(de) {
            Ok(serde_yaml::Value::Null) => {}
            Ok(mut v) => {
                // `<<: *base` merge keys, which Kubernetes' YAML decoder applies too.
                let converted = v
                    .apply_merge()
                    .map_err(|e| (FieldPath::root(), format!("YAML merge key: {e}")))
                    .and_then(|()| to_json(&v, &FieldPath::root()));
                match converted {
                    Ok(mut value) => {
                        resolve_yaml11(&mut value, lines, index);
                        docs.push(Doc { index, value });
                    }
                    Err((path, msg)) => {
                        let mut f = Finding::error(path, msg);
                        f.line =
                            lines.line_of(index, f.path.as_ref().unwrap_or(&FieldPath::root()));
                        findings.push(f);
                    }
                }
            }
            Err(e) => {
                let line = e.location().map(|l| l.line());
                findings.push(Finding::file_error(
                    line,
                    format!("YAML syntax error at {}", strip_location(&e.to_string())),
                ));
                // The YAML stream cannot continue after a syntax error.
                break;
            }
        }
    }
    docs
}

/// Gives plain scalars the YAML 1.1 meaning Kubernetes gives them (`defaultMode: 0400` is 256, `tty: yes` is
/// true), where serde_yaml (YAML 1.2) read a string. Only values still equal to their source text are changed.
fn resolve_yaml11(value: &mut Value, lines: &LineMap, doc: usize) {
    use super::path::Segment;
    for (path, text, resolved) in lines.yaml11_scalars(doc) {
        let mut cur = Some(&mut *value);
        for seg in path.segments() {
            cur = cur.and_then(|v| match seg {
                Segment::Key(k) => v.get_mut(k.as_str()),
                Segment::Index(i) => v.get_mut(*i),
            });
        }
        if let Some(v) = cur
            && v.as_str() == Some(text.as_str())
        {
            *v = resolved.clone();
        }
    }
}

/// YAML to JSON as `sigs.k8s.io/yaml` (kubectl) does it: scalar keys (numbers, booleans, null) become strings;
/// a key that is a sequence or mapping is an error at its path. Tags are dropped.
fn to_json(v: &serde_yaml::Value, path: &FieldPath) -> Result<Value, (FieldPath, String)> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, &path.index(i)))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, val) in m {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".into(),
                    Y::Tagged(t) => match &t.value {
                        Y::String(s) => s.clone(),
                        _ => return Err((path.clone(), "a mapping key must be a string".into())),
                    },
                    Y::Sequence(_) | Y::Mapping(_) => {
                        return Err((
                            path.clone(),
                            "a mapping key must be a string, not a list or a mapping".into(),
                        ));
                    }
                };
                let child = to_json(val, &path.key(key.clone()))?;
                out.insert(key, child);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(&t.value, path)?,
    })
}

fn json_documents(text: &str, findings: &mut Vec<Finding>) -> Vec<Doc> {
    let mut docs = Vec::new();
    for (index, item) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        match item {
            Ok(value) => docs.push(Doc { index, value }),
            Err(e) => {
                let line = (e.line() > 0).then_some(e.line());
                findings.push(Finding::file_error(
                    line,
                    format!("JSON syntax error at {}", strip_location(&e.to_string())),
                ));
                break;
            }
        }
    }
    docs
}

/// Moves serde's " at line N column M" out of the message (the line is reported in front): the column stays,
/// as "(column M)" at the end.
fn strip_location(msg: &str) -> String {
    let Some(i) = msg.find(" at line ") else {
        return msg.to_string();
    };
    let rest = &msg[i + " at line ".len()..];
    let after_line = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let (column, tail) = match after_line.strip_prefix(" column ") {
        Some(c) => {
            let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
            let tail = &c[digits.len()..];
            (Some(digits), tail)
        }
        None => (None, after_line),
    };
    let text = format!("{}{}", &msg[..i], tail);
    match column {
        Some(c) => format!("column {c}: {text}"),
        None => text,
    }
}

/// The pod objects in one document: the document itself (kind Pod) or the items of a List/PodList.
fn pod_values(doc: &Value, findings: &mut Vec<Finding>) -> Vec<(FieldPath, Value)> {
    let root = FieldPath::root();
    let Some(map) = doc.as_object() else {
        findings.push(Finding::error(
            root,
            "a manifest must be a mapping with kind Pod, List or PodList",
        ));
        return Vec::new();
    };
    let kind = map.get("kind").and_then(Value::as_str);
    match kind {
        Some("Pod") => {
            check_api_version(doc, &root, findings, true);
            vec![(root, doc.clone())]
        }
        Some("List") | Some("PodList") => {
            check_api_version(doc, &root, findings, true);
            let list_kind = kind.unwrap_or_default();
            let Some(items) = map.get("items").and_then(Value::as_array) else {
                findings.push(Finding::error(
                    root.key("items"),
                    format!("required: a {list_kind} needs items"),
                ));
                return Vec::new();
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let path = root.key("items").index(i);
                let mut item = item.clone();
                let Some(obj) = item.as_object_mut() else {
                    findings.push(Finding::error(path, "a list item must be a Pod mapping"));
                    continue;
                };
                match obj.get("kind").and_then(Value::as_str) {
                    Some("Pod") => {}
                    None if list_kind == "PodList" => {
                        obj.insert("kind".into(), "Pod".into());
                    }
                    None => {
                        findings.push(Finding::error(
                            path.key("kind"),
                            "required: every item of a List needs kind Pod",
                        ));
                        continue;
                    }
                    Some(other) => {
                        findings.push(Finding::error(path.key("kind"), unsupported_kind(other)));
                        continue;
                    }
                }
                if !obj.contains_key("apiVersion") && list_kind == "PodList" {
                    obj.insert("apiVersion".into(), "v1".into());
                }
                check_api_version(&item, &path, findings, false);
                out.push((path, item));
            }
            out
        }
        Some(other) => {
            findings.push(Finding::error(root.key("kind"), unsupported_kind(other)));
            Vec::new()
        }
        None => {
            findings.push(Finding::error(
                root.key("kind"),
                "required: kind must be Pod, List or PodList",
            ));
            Vec::new()
        }
    }
}

fn unsupported_kind(kind: &str) -> String {
    format!(
        "kind {kind:?} is not supported: podtui runs Pods (kind Pod, or a List or PodList of pods)"
    )
}

fn check_api_version(doc: &Value, path: &FieldPath, findings: &mut Vec<Finding>, _top: bool) {
    match doc.get("apiVersion").and_then(Value::as_str) {
        Some("v1") => {}
        Some(other) => findings.push(Finding::error(
            path.key("apiVersion"),
            format!("{other:?} is not supported: Pods are apiVersion v1"),
        )),
        None => findings.push(Finding::error(
            path.key("apiVersion"),
            "required: apiVersion must be v1",
        )),
    }
}

/// Decodes one pod object into k8s-openapi's `Pod` and validates it; findings get `prefix` on their paths.
fn decode_pod(
    value: &Value,
    prefix: &FieldPath,
    node: &str,
    findings: &mut Vec<Finding>,
) -> Option<Pod> {
    for mut f in check_fields(value) {
        f.path = f.path.map(|p| prefix.join(&p));
        findings.push(f);
    }
    // apiVersion/kind were checked above; make sure k8s-openapi's own check does not report them again.
    let mut value = value.clone();
    if let Some(obj) = value.as_object_mut() {
        obj.insert("apiVersion".into(), "v1".into());
        obj.insert("kind".into(), "Pod".into());
    }
    // A type error does not hide the rest: the field is reported, taken out, and the pod decoded again, so one
    // run reports every finding of the document (bounded, each round removes one field).
    let mut removed: Vec<FieldPath> = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, Pod>(&value) {
            Ok(pod) => {
                for mut f in validate(&pod, node) {
                    f.path = f.path.map(|p| prefix.join(&p));
                    if !removed.iter().any(|r| f.path.as_ref() == Some(r)) {
                        findings.push(f);
                    }
                }
                return removed.is_empty().then_some(pod);
            }
            Err(e) => {
                use serde_path_to_error::Segment as S;
                let mut path = prefix.clone();
                let mut segments: Vec<Result<usize, String>> = Vec::new();
                for seg in e.path().iter() {
                    path = match seg {
                        S::Seq { index } => {
                            segments.push(Ok(*index));
                            path.index(*index)
                        }
                        S::Map { key } | S::Enum { variant: key } => {
                            segments.push(Err(key.clone()));
                            path.key(key.clone())
                        }
                        S::Unknown => path,
                    };
                }
                let message = decode_message(&e.inner().to_string());
                let missing = message.starts_with("required field");
                findings.push(Finding::error(path.clone(), message));
                if missing || removed.contains(&path) || !remove_at(&mut value, &segments) {
                    return None;
                }
                removed.push(path);
            }
        }
    }
    None
}

/// Removes the value at `segments` (list indexes or mapping keys); false when there is none.
fn remove_at(value: &mut Value, segments: &[Result<usize, String>]) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut at = value;
    for seg in parents {
        let next = match seg {
            Ok(i) => at.get_mut(*i),
            Err(k) => at.get_mut(k.as_str()),
        };
        let Some(next) = next else { return false };
        at = next;
    }
    match (last, at) {
        (Err(k), Value::Object(m)) => m.remove(k).is_some(),
        (Ok(i), Value::Array(v)) if *i < v.len() => {
            v[*i] = Value::Null;
            true
        }
        _ => false,
    }
}

/// Rewrites serde's messages into the words a manifest author uses.
fn decode_message(msg: &str) -> String {
    if let Some(field) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        return format!("required field {field} is missing");
    }
    let mut m = msg.replace("invalid type: ", "wrong type: ");
    for (from, to) in [
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
    ] {
        m = m.replace(from, to);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: Format) -> Parsed {
        parse_manifest(&ParseInput {
            display: "m.yaml",
            text,
            format,
            node_name: "node",
            source: &SourceId::File("/m.yaml".into()),
        })
    }

    fn errors(p: &Parsed) -> Vec<String> {
        p.findings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn absurd_nesting_is_refused_before_the_yaml_parser_sees_it() {
        let text = format!("apiVersion: v1\nkind: Pod\nx: {}\n", "[".repeat(200_000));
        let p = parse(&text, Format::Yaml);
        assert_eq!(
            errors(&p),
            [
                "m.yaml:3: document 1 is nested more than 64 levels deep: not a Pod manifest, refused before parsing"
            ]
        );
        // Brackets in quotes and comments do not count.
        let quoted = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: q}} # {}\nspec: {{containers: [{{name: c, image: 'i:1', args: ['{}']}}]}}\n",
            "[".repeat(600),
            "{".repeat(600)
        );
        assert!(!parse(&quoted, Format::Yaml).has_errors());
    }

    #[test]
    fn multi_document_yaml_gives_every_pod() {
        let p = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: 'i:1'}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nspec: {containers: [{name: c, image: 'i:1'}]}\n",
            Format::Yaml,
        );
        assert!(!p.has_errors(), "{:?}", errors(&p));
        let keys: Vec<String> = p.pods.iter().map(DesiredPod::key).collect();
        assert_eq!(keys, ["default/a-node", "x/b-node"]);
        assert_eq!(p.pods[1].line, Some(6));
    }

    #[test]
    fn type_errors_name_the_field_and_line() {
        let p = parse(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: abc\n",
            Format::Yaml,
        );
        assert_eq!(
            errors(&p),
            [
                "m.yaml:9: spec.containers[0].ports[0].containerPort: wrong type: string \"abc\", expected an integer"
            ]
        );
        assert!(p.pods.is_empty());
    }

    #[test]
    fn a_type_error_does_not_hide_the_other_findings() {
        let p = parse(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: c\n    image: i\n    env:\n    - name: A\n      value: no\n",
            Format::Yaml,
        );
        let e = errors(&p);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("m.yaml:4: metadata.name"), "{e:?}");
        assert!(
            e[1].starts_with("m.yaml:11: spec.containers[0].env[0].value: wrong type"),
            "{e:?}"
        );
        assert!(p.pods.is_empty());
    }

    #[test]
    fn json_and_lists() {
        let p = parse(
            r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i:1"}]}}]}"#,
            Format::Json,
        );
        assert!(!p.has_errors(), "{:?}", errors(&p));
        assert_eq!(p.pods.len(), 1);
    }

    #[test]
    fn other_kinds_are_named() {
        let p = parse(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
            Format::Yaml,
        );
        assert_eq!(
            errors(&p),
            [
                "m.yaml:2: kind: kind \"Deployment\" is not supported: podtui runs Pods (kind Pod, or a List or PodList of pods)"
            ]
        );
    }

    #[test]
    fn empty_file_is_an_error_not_zero_pods() {
        assert!(parse("", Format::Yaml).has_errors());
        assert!(parse("# nothing\n", Format::Yaml).has_errors());
    }
}
