//! Per-type attribute rules: which attributes are compared, and how values are
//! normalised before comparing.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::Value;

use super::CloudRules;

/// A cloud's normal form of a set-like attribute: each entry as one comparable string.
pub type Normalizer = fn(Option<&Value>) -> BTreeSet<String>;

/// A cloud's canonical text of a document attribute (a JSON policy): two documents
/// that mean the same have the same text; `None` when the text is not a document.
pub type Canonical = fn(&str) -> Option<String>;

/// How an attribute's values are compared.
#[derive(Clone, Copy, Debug)]
pub enum Compare {
    /// Strings, numbers, booleans; null, "" and absent are all "unset"; numbers and
    /// numeric strings compare by value.
    Scalar,
    /// A list whose order does not matter.
    StringSet,
    /// A tag or label map: compared key by key (`tags.Key`). The state map with the
    /// provider's defaults merged in (AWS `tags_all`, Google `terraform_labels`) is
    /// preferred when recorded.
    Tags,
    /// A set of structured entries (firewall rules, routes), each in the normal form
    /// its cloud's function gives, compared as a set.
    Entries(Normalizer),
    /// A document held as text (an IAM policy in JSON), compared by meaning: both sides
    /// in the canonical form its cloud's function gives (key order, a string and a
    /// one-element list, encodings). A text that is no document compares as itself.
    Document(Canonical),
}

/// How a parent attribute's entries compare when a separately managed resource is
/// checked against it; attributes without a rule (associations) are string sets.
pub fn compare_for(rules: &dyn CloudRules, type_: &str, attribute: &str) -> Compare {
    rules.compared(type_).iter().find(|(name, _)| *name == attribute).map_or(Compare::StringSet, |(_, c)| *c)
}

/// The tag key a change path names (`tags.Env`, `labels.env`): the path's first segment
/// is a tag map of `type_`.
pub fn tag_key<'a>(rules: &dyn CloudRules, type_: &str, path: &'a str) -> Option<&'a str> {
    let (attribute, key) = path.split_once('.')?;
    is_tag_map(rules, type_, attribute).then_some(key)
}

/// Whether `attribute` of `type_` is compared as a tag map.
pub fn is_tag_map(rules: &dyn CloudRules, type_: &str, attribute: &str) -> bool {
    rules.compared(type_).iter().any(|(name, compare)| *name == attribute && matches!(compare, Compare::Tags))
}

/// Entries of a set-like attribute in their compared form.
pub fn entries(compare: Compare, value: Option<&Value>) -> BTreeSet<String> {
    match compare {
        Compare::Entries(normalize) => normalize(value),
        Compare::Scalar | Compare::StringSet | Compare::Tags | Compare::Document(_) => {
            string_set(value).into_iter().map(Cow::into_owned).collect()
        }
    }
}

/// A scalar as the text it is compared by; `None` for unset.
/// Borrowed where it can be: comparing 100k resources must not copy every string.
pub fn scalar(value: Option<&Value>) -> Option<Cow<'_, str>> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.as_f64().map_or_else(|| n.to_string(), |f| format!("{f}")))),
        Value::Bool(true) => Some(Cow::Borrowed("true")),
        Value::Bool(false) => Some(Cow::Borrowed("false")),
        other => Some(Cow::Owned(other.to_string())),
    }
}

/// A list as a sorted set of its scalars (unset and empty are the same).
pub fn string_set(value: Option<&Value>) -> BTreeSet<Cow<'_, str>> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|v| scalar(Some(v))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_normalise() {
        assert_eq!(scalar(Some(&json!(""))), None);
        assert_eq!(scalar(Some(&json!(null))), None);
        assert_eq!(scalar(Some(&json!(8))), scalar(Some(&json!("8"))));
        assert_eq!(scalar(Some(&json!(true))).as_deref(), Some("true"));
    }
}
