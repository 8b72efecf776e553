//! One change's path read off a live resource, in the form the diff reports it.
//! Remediation uses this to check, right before it acts, that the cloud still holds
//! what the scan saw, and afterwards that it holds what state says.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::Value;

use super::CloudRules;
use super::diff::{json_string, reported};
use super::rules::{Compare, entries, is_tag_map, scalar, string_set};
use crate::attributes::Attributes;
use crate::crd::AttributeChange;

/// The live value at `change.path`, JSON-encoded as the diff reports values: a scalar
/// (with the provider default for unset), one tag, a whole string set, or, for rule,
/// route and ACL attributes (whose changes name one entry each), that entry when the
/// live resource has it. `None` when the live resource does not have it.
pub fn observed(
    rules: &dyn CloudRules,
    type_: &str,
    live: &Attributes,
    change: &AttributeChange,
) -> Option<String> {
    if let Some((attribute, key)) = change.path.split_once('.').filter(|(a, _)| is_tag_map(rules, type_, a)) {
        return live.string_map(attribute).and_then(|tags| tags.get(key)).map(json_string);
    }
    let compare = rules.compared(type_).iter().find(|(name, _)| *name == change.path).map(|(_, c)| *c)?;
    let value = live.get(&change.path);
    match compare {
        Compare::Scalar => reported(value, rules.default_value(type_, &change.path)),
        Compare::StringSet => {
            let set: BTreeSet<Cow<str>> = string_set(value);
            Some(serde_json::to_string(&set).unwrap_or_default())
        }
        Compare::Tags => None,
        Compare::Document(canonical) => super::diff::document(value, canonical).as_deref().map(json_string),
        Compare::Entries(_) => {
            let entry = entry_of(change)?;
            let value = live.value(&change.path);
            entries(compare, value.as_deref()).contains(&entry).then(|| json_string(&entry))
        }
    }
}

/// The entry a change of a set-valued attribute names (it has one side only).
pub fn entry_of(change: &AttributeChange) -> Option<String> {
    let text = change.expected.as_deref().or(change.actual.as_deref())?;
    match serde_json::from_str::<Value>(text).ok()? {
        Value::String(entry) => Some(entry),
        _ => None,
    }
}

/// Whether two reported values (JSON text) are the same setting: scalars compare as
/// the diff compares them (numbers by value, "" as unset), anything else by JSON value.
pub fn same_value(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |text: Option<&str>| text.map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::Null));
    let (a, b) = (parse(a), parse(b));
    match (&a, &b) {
        (Some(Value::Array(_)), _) | (_, Some(Value::Array(_))) => a == b,
        _ => scalar(a.as_ref()) == scalar(b.as_ref()),
    }
}
