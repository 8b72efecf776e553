//! Attribute diff of one state resource against its live counterpart.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::attributes::{Attributes, StringMap};
use serde_json::Value;

use super::CloudRules;
use super::rules::{Compare, scalar, string_set};
use crate::crd::AttributeChange;

/// A text as the JSON string a change reports it as.
pub(super) fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// The tag map `name` compared: in state, the map with the provider's defaults merged
/// in (AWS `tags_all`) when its cloud has one and it is recorded, else `name` itself.
fn tag_map<'a>(attributes: &'a Attributes, name: &str, full: Option<&str>) -> Option<&'a StringMap> {
    full.and_then(|full| attributes.string_map(full)).or_else(|| attributes.string_map(name))
}

/// Tag changes, key by key: a merge of the two maps (both sorted by key), which
/// allocates nothing when they agree, as they do for almost every resource.
fn tag_changes(
    name: &str,
    expected: Option<&StringMap>,
    actual: Option<&StringMap>,
    out: &mut Vec<AttributeChange>,
) {
    let empty = StringMap::default();
    let (mut e, mut a) =
        (expected.unwrap_or(&empty).iter().peekable(), actual.unwrap_or(&empty).iter().peekable());
    let mut change = |key: &str, ev: Option<&str>, av: Option<&str>| {
        if ev != av {
            out.push(AttributeChange {
                path: format!("{name}.{key}"),
                expected: ev.map(json_string),
                actual: av.map(json_string),
            });
        }
    };
    loop {
        match (e.peek().copied(), a.peek().copied()) {
            (None, None) => return,
            (Some((ek, ev)), Some((ak, av))) if ek == ak => {
                change(ek, Some(ev), Some(av));
                e.next();
                a.next();
            }
            (Some((ek, ev)), Some((ak, _))) if ek < ak => {
                change(ek, Some(ev), None);
                e.next();
            }
            (Some((ek, ev)), None) => {
                change(ek, Some(ev), None);
                e.next();
            }
            (_, Some((ak, av))) => {
                change(ak, None, Some(av));
                a.next();
            }
        }
    }
}

/// Whether two lists hold the same scalars in the same order (the common case, checked
/// before building sets).
fn same_list(expected: Option<&Value>, actual: Option<&Value>) -> bool {
    let (e, a) = (expected.and_then(Value::as_array), actual.and_then(Value::as_array));
    match (e, a) {
        (Some(e), Some(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| scalar(Some(x)) == scalar(Some(y)))
        }
        _ => false,
    }
}

fn set_changes<T: AsRef<str> + Ord>(
    path: &str,
    expected: BTreeSet<T>,
    actual: BTreeSet<T>,
    out: &mut Vec<AttributeChange>,
) {
    for gone in expected.difference(&actual) {
        out.push(AttributeChange {
            path: path.into(),
            expected: Some(json_string(gone.as_ref())),
            actual: None,
        });
    }
    for added in actual.difference(&expected) {
        out.push(AttributeChange {
            path: path.into(),
            expected: None,
            actual: Some(json_string(added.as_ref())),
        });
    }
}

/// A scalar as a change reports it: its JSON value as recorded (a number stays a
/// number), the provider default when unset, absent when neither.
pub(super) fn reported(value: Option<&Value>, default: Option<&str>) -> Option<String> {
    match value {
        Some(v) if scalar(Some(v)).is_some() => Some(v.to_string()),
        _ => default.map(|d| {
            serde_json::from_str::<Value>(d).unwrap_or_else(|_| Value::String(d.into())).to_string()
        }),
    }
}

/// A document attribute in its cloud's canonical form (itself when it does not parse);
/// `None` when unset.
pub(super) fn document(value: Option<&Value>, canonical: super::rules::Canonical) -> Option<String> {
    let text = scalar(value)?;
    Some(canonical(&text).unwrap_or_else(|| text.into_owned()))
}

/// Every compared attribute that differs. An attribute state does not record is
/// not compared: older provider versions did not write every attribute.
pub fn diff(
    cloud: &dyn CloudRules,
    type_: &str,
    expected: &Attributes,
    actual: &Attributes,
) -> Vec<AttributeChange> {
    let mut changes = Vec::new();
    for (name, compare) in cloud.compared(type_) {
        let full = matches!(compare, Compare::Tags).then(|| cloud.full_tag_map(name)).flatten();
        let in_state = expected.contains_key(name) || full.is_some_and(|full| expected.contains_key(full));
        if !in_state || cloud.not_applicable(type_, name, expected) {
            continue;
        }
        let (e, a) = (expected.get(name), actual.get(name));
        match compare {
            Compare::Scalar => {
                let default = cloud.default_value(type_, name);
                let compared = |v| scalar(v).or(default.map(Cow::Borrowed));
                if compared(e) != compared(a) {
                    changes.push(AttributeChange {
                        path: name.to_string(),
                        expected: reported(e, default),
                        actual: reported(a, default),
                    });
                }
            }
            Compare::StringSet => {
                if same_list(e, a) {
                    continue;
                }
                let (e, a) = (string_set(e), string_set(a));
                if e != a {
                    let encode = |s: &BTreeSet<Cow<str>>| serde_json::to_string(s).unwrap_or_default();
                    changes.push(AttributeChange {
                        path: name.to_string(),
                        expected: Some(encode(&e)),
                        actual: Some(encode(&a)),
                    });
                }
            }
            Compare::Tags => {
                tag_changes(name, tag_map(expected, name, full), tag_map(actual, name, None), &mut changes)
            }
            Compare::Document(canonical) => {
                let (e, a) = (document(e, *canonical), document(a, *canonical));
                if e != a {
                    changes.push(AttributeChange {
                        path: name.to_string(),
                        expected: e.as_deref().map(json_string),
                        actual: a.as_deref().map(json_string),
                    });
                }
            }
            // Entries may be a map of strings (metadata), which `get` does not return.
            Compare::Entries(normalize) => {
                let (e, a) = (expected.value(name), actual.value(name));
                set_changes(name, normalize(e.as_deref()), normalize(a.as_deref()), &mut changes)
            }
        }
    }
    changes
}
