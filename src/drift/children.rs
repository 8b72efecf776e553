//! Separately managed resources (rules, routes, associations) against their parent:
//! their entries join the parent's expected attributes, and each is checked on the
//! live parent, so a rule that is gone is reported once, as the rule.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::attributes::Attributes;
use serde_json::Value;

use super::diff::json_string;
use super::rules::{compare_for, entries, scalar};
use super::{CloudRules, Fold, FoldValue};
use crate::crd::AttributeChange;

/// The parent's expected attributes with every fold applied. An inline attribute the
/// state does not record stays uncompared: adding the children's entries to it
/// would report every inline rule as added. Attributes made only of parts (`parts`)
/// start empty, so they hold exactly the folded parts.
pub fn expected_with_folds<'a>(
    attributes: &'a Attributes,
    parts: &[&'static str],
    folds: &[&Fold],
) -> Cow<'a, Attributes> {
    let unrecorded: Vec<&'static str> =
        parts.iter().copied().filter(|p| attributes.get(p).is_none()).collect();
    let attributes = if unrecorded.is_empty() {
        Cow::Borrowed(attributes)
    } else {
        let mut with_parts = attributes.clone();
        for part in unrecorded {
            with_parts.insert(part, Value::Array(Vec::new()));
        }
        Cow::Owned(with_parts)
    };
    apply_folds(attributes, folds)
}

fn apply_folds<'a>(attributes: Cow<'a, Attributes>, folds: &[&Fold]) -> Cow<'a, Attributes> {
    let relevant: Vec<&&Fold> = folds
        .iter()
        .filter(|f| match &f.value {
            FoldValue::Entry(_) => f.on_parent && attributes.get(f.attribute).is_some_and(Value::is_array),
            FoldValue::Scalars(_) => true,
        })
        .collect();
    if relevant.is_empty() {
        return attributes;
    }
    let mut expected = attributes.into_owned();
    for fold in relevant {
        match &fold.value {
            FoldValue::Entry(entry) => {
                if let Some(Value::Array(items)) = expected.get_mut(fold.attribute) {
                    items.push(entry.clone());
                }
            }
            FoldValue::Scalars(values) => {
                for (name, value) in values {
                    if value.is_null() {
                        expected.remove(name);
                    } else {
                        expected.insert(name.clone(), value.clone());
                    }
                }
            }
        }
    }
    Cow::Owned(expected)
}

/// Parent changes that a child checked on its own already reports: its entries gone
/// from a set attribute, and the scalars an association sets.
pub fn drop_child_changes(
    rules: &dyn CloudRules,
    parent_type: &str,
    changes: &mut Vec<AttributeChange>,
    children: &[&Fold],
) {
    let mut gone_entries: HashSet<(&str, String)> = HashSet::new();
    let mut owned_scalars: HashSet<&str> = HashSet::new();
    for fold in children.iter().filter(|f| f.verify_via_parent || matches!(f.value, FoldValue::Entry(_))) {
        match &fold.value {
            FoldValue::Entry(entry) => {
                let compare = compare_for(rules, parent_type, fold.attribute);
                let list = Value::Array(vec![entry.clone()]);
                for text in entries(compare, Some(&list)) {
                    gone_entries.insert((fold.attribute, json_string(&text)));
                }
            }
            FoldValue::Scalars(values) => owned_scalars.extend(values.keys().map(String::as_str)),
        }
    }
    changes.retain(|c| {
        let gone_child_entry = c.actual.is_none()
            && c.expected.as_ref().is_some_and(|e| gone_entries.contains(&(c.path.as_str(), e.clone())));
        !gone_child_entry && !owned_scalars.contains(c.path.as_str())
    });
}

/// What checking a child on its live parent found.
#[derive(Debug, PartialEq)]
pub enum ChildVerdict {
    InSync,
    /// None of what it manages is on the parent.
    Missing,
    /// Some of it is (a rule of several sources lost one), or it points elsewhere.
    Modified(Vec<AttributeChange>),
}

/// Checks one child's entries (or scalars) on its live parent's attributes.
pub fn verify(rules: &dyn CloudRules, parent_type: &str, fold: &Fold, live: &Attributes) -> ChildVerdict {
    match &fold.value {
        FoldValue::Entry(entry) => {
            let compare = compare_for(rules, parent_type, fold.attribute);
            let wanted = entries(compare, Some(&Value::Array(vec![entry.clone()])));
            let present = entries(compare, live.get(fold.attribute));
            let gone: Vec<&String> = wanted.difference(&present).collect();
            if gone.is_empty() {
                ChildVerdict::InSync
            } else if gone.len() == wanted.len() {
                ChildVerdict::Missing
            } else {
                ChildVerdict::Modified(
                    gone.into_iter()
                        .map(|g| AttributeChange {
                            path: fold.attribute.to_string(),
                            expected: Some(json_string(g)),
                            actual: None,
                        })
                        .collect(),
                )
            }
        }
        FoldValue::Scalars(values) => {
            let set: Vec<(&String, std::borrow::Cow<str>)> =
                values.iter().filter_map(|(k, v)| Some((k, scalar(Some(v))?))).collect();
            if set.iter().all(|(k, _)| scalar(live.get(k.as_str())).is_none()) {
                return ChildVerdict::Missing;
            }
            let changes: Vec<AttributeChange> = set
                .iter()
                .filter_map(|(k, want)| {
                    let have = scalar(live.get(k.as_str()));
                    (have.as_ref() != Some(want)).then(|| AttributeChange {
                        path: k.to_string(),
                        expected: Some(json_string(want)),
                        actual: have.as_deref().map(json_string),
                    })
                })
                .collect();
            if changes.is_empty() { ChildVerdict::InSync } else { ChildVerdict::Modified(changes) }
        }
    }
}
