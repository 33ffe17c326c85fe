//! Label and field selectors, as the API server reads `labelSelector` and `fieldSelector`, and the [`Fields`]
//! of an object they are matched against.

use std::collections::BTreeMap;

use super::status::ApiStatus;

/// What selectors see of an object: its labels and the fields its resource can be selected by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Selectable fields (`metadata.name`, `status.phase`…) and their values; a field may have several values
    /// (a mirror pod's `metadata.name` also matches the name written in its file).
    pub values: Vec<(&'static str, String)>,
}

impl Fields {
    /// The values of `field`.
    fn get<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values
            .iter()
            .filter(move |(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelOp {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<(String, LabelOp)>);

/// Splits on commas outside parentheses.
fn split_terms(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn set_values(rest: &str, term: &str) -> Result<Vec<String>, ApiStatus> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            ApiStatus::bad_request(format!(
                "unable to parse requirement: {term:?}: expected a list of values in parentheses"
            ))
        })?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn label_term(term: &str) -> Result<(String, LabelOp), ApiStatus> {
    let bad = || ApiStatus::bad_request(format!("unable to parse requirement: {term:?}"));
    if let Some(k) = term.strip_prefix('!') {
        let k = k.trim();
        return valid_key(k)
            .then(|| (k.to_string(), LabelOp::NotExists))
            .ok_or_else(bad);
    }
    for (sep, make) in [
        ("!=", LabelOp::Ne as fn(String) -> LabelOp),
        ("==", LabelOp::Eq),
        ("=", LabelOp::Eq),
    ] {
        if let Some((k, v)) = term.split_once(sep) {
            let k = k.trim();
            return valid_key(k)
                .then(|| (k.to_string(), make(v.trim().to_string())))
                .ok_or_else(bad);
        }
    }
    let mut words = term.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default().trim();
    let rest = words.next().unwrap_or_default().trim();
    if !valid_key(key) {
        return Err(bad());
    }
    if rest.is_empty() {
        return Ok((key.to_string(), LabelOp::Exists));
    }
    if let Some(r) = rest.strip_prefix("notin") {
        return Ok((key.to_string(), LabelOp::NotIn(set_values(r, term)?)));
    }
    if let Some(r) = rest.strip_prefix("in") {
        return Ok((key.to_string(), LabelOp::In(set_values(r, term)?)));
    }
    Err(bad())
}

impl LabelSelector {
    /// Parses `app=web,tier!=db,env in (a,b),!legacy`.
    pub fn parse(s: &str) -> Result<Self, ApiStatus> {
        split_terms(s)
            .into_iter()
            .map(label_term)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// True when every requirement holds for `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, op)| {
            let v = labels.get(k);
            match op {
                LabelOp::Eq(x) => v == Some(x),
                LabelOp::Ne(x) => v != Some(x),
                LabelOp::In(xs) => v.is_some_and(|v| xs.contains(v)),
                LabelOp::NotIn(xs) => v.is_none_or(|v| !xs.contains(v)),
                LabelOp::Exists => v.is_some(),
                LabelOp::NotExists => v.is_none(),
            }
        })
    }
}

/// A parsed `fieldSelector`: `field=value` / `field==value` / `field!=value`, comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `s`, accepting only the fields in `supported` (else 400 `field label not supported`, as the
    /// API server answers).
    pub fn parse(s: &str, supported: &[&str]) -> Result<Self, ApiStatus> {
        let mut out = Vec::new();
        for term in split_terms(s) {
            let (k, eq, v) = if let Some((k, v)) = term.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = term.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = term.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiStatus::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                )));
            };
            let k = k.trim();
            if !supported.contains(&k) {
                return Err(ApiStatus::bad_request(format!(
                    "field label not supported: {k}"
                )));
            }
            out.push((k.to_string(), eq, v.trim().to_string()));
        }
        Ok(Self(out))
    }

    /// True when every term holds for `fields`.
    pub fn matches(&self, fields: &Fields) -> bool {
        self.0.iter().all(|(k, eq, v)| {
            let hit = fields.get(k).any(|x| x == v);
            hit == *eq
        })
    }

    /// The value a `field=value` term asks for, if any.
    pub fn equals(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, eq, _)| *eq && k == field)
            .map(|(_, _, v)| v.as_str())
    }
}

/// Which objects a list or watch wants.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
}

impl Filter {
    /// True when the object with these fields passes.
    pub fn matches(&self, f: &Fields) -> bool {
        if let Some(ns) = &self.namespace
            && !f.get("metadata.namespace").any(|v| v == ns)
        {
            return false;
        }
        self.labels.matches(&f.labels) && self.fields.matches(f)
    }

    /// The name a `metadata.name=` term asks for: a pod matched by its short name is served under it
    /// ([`super::resource::Obj::named_as`]).
    pub fn asked_name(&self) -> Option<&str> {
        self.fields.equals("metadata.name")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_follow_kubernetes_syntax() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app=db", false),
            ("app in (db, web)", true),
            ("app notin (web)", false),
            ("app,tier=front", true),
            ("!app", false),
            ("!legacy", true),
            ("legacy", false),
            ("tier in (front),app notin (db)", true),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&l),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("app in web").is_err());
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selectors_accept_only_supported_fields() {
        let f = Fields {
            labels: BTreeMap::new(),
            values: vec![
                ("metadata.name", "web-node".into()),
                ("metadata.name", "web".into()),
                ("status.phase", "Running".into()),
            ],
        };
        let sup = ["metadata.name", "status.phase"];
        assert!(
            FieldSelector::parse("status.phase=Running", &sup)
                .unwrap()
                .matches(&f)
        );
        assert!(
            FieldSelector::parse("metadata.name=web", &sup)
                .unwrap()
                .matches(&f)
        );
        assert!(
            !FieldSelector::parse("metadata.name!=web", &sup)
                .unwrap()
                .matches(&f)
        );
        assert!(
            !FieldSelector::parse("status.phase==Pending", &sup)
                .unwrap()
                .matches(&f)
        );
        let e = FieldSelector::parse("spec.foo=x", &sup).unwrap_err();
        assert_eq!(e.message, "field label not supported: spec.foo");
    }
}
