//! One change's path read off a live resource, in the form the diff reports it.
//! Remediation uses this to check, right before it acts, that the cloud still holds
//! what the scan saw, and afterwards that it holds what state says.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::Value;

use super::diff::{json_string, reported};
use super::rules::{Compare, default_value, entries, is_tag_map, rules_for, scalar, string_set};
use crate::attributes::Attributes;
use crate::crd::AttributeChange;

/// The live value at `change.path`, JSON-encoded as the diff reports values: a scalar
/// (with the provider default for unset), one tag, a whole string set, or, for rule,
/// route and ACL attributes (whose changes name one entry each), that entry when the
/// live resource has it. `None` when the live resource does not have it.
pub fn observed(type_: &str, live: &Attributes, change: &AttributeChange) -> Option<String> {
    if let Some((attribute, key)) = change.path.split_once('.').filter(|(a, _)| is_tag_map(type_, a)) {
        return live.string_map(attribute).and_then(|tags| tags.get(key)).map(json_string);
    }
    let compare = rules_for(type_).iter().find(|(name, _)| *name == change.path).map(|(_, c)| *c)?;
    let value = live.get(&change.path);
    match compare {
        Compare::Scalar => reported(value, default_value(type_, &change.path)),
        Compare::StringSet => {
            let set: BTreeSet<Cow<str>> = string_set(value);
            Some(serde_json::to_string(&set).unwrap_or_default())
        }
        Compare::Tags => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(value: Value) -> Attributes {
        Attributes::from(value.as_object().cloned().expect("object"))
    }

    /// What the diff reports is exactly what `observed` reads back: the precondition of
    /// every change of a real diff holds on the resource the diff was made from.
    #[test]
    fn every_change_the_diff_reports_is_observed_as_its_actual_value() {
        let state = live(json!({
            "instance_type": "t3.micro", "source_dest_check": true, "ebs_optimized": false,
            "vpc_security_group_ids": ["sg-1"], "tags": {"Env": "prod", "Team": "a"},
        }));
        let cloud = live(json!({
            "instance_type": "t3.large", "source_dest_check": false,
            "vpc_security_group_ids": ["sg-1", "sg-2"], "tags": {"Env": "dev", "Owner": "x"},
        }));
        let changes = crate::drift::diff("aws_instance", &state, &cloud);
        assert_eq!(changes.len(), 6, "{changes:?}");
        for c in &changes {
            assert!(same_value(observed("aws_instance", &cloud, c).as_deref(), c.actual.as_deref()), "{c:?}");
            assert!(
                same_value(observed("aws_instance", &state, c).as_deref(), c.expected.as_deref()),
                "{c:?}"
            );
        }
        let group_state = live(json!({"ingress": [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]}));
        let group_cloud = live(json!({"ingress": [
            {"protocol": "6", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}));
        let changes = crate::drift::diff("aws_security_group", &group_state, &group_cloud);
        assert_eq!(changes.len(), 2, "one rule gone, one added: {changes:?}");
        for c in &changes {
            assert!(same_value(
                observed("aws_security_group", &group_cloud, c).as_deref(),
                c.actual.as_deref()
            ));
            assert!(same_value(
                observed("aws_security_group", &group_state, c).as_deref(),
                c.expected.as_deref()
            ));
        }
    }

    #[test]
    fn a_value_changed_since_the_scan_is_seen() {
        let now = live(json!({"instance_type": "t3.xlarge", "tags": {}}));
        let seen = AttributeChange::new("instance_type", Some("\"t3.micro\""), Some("\"t3.large\""));
        assert!(!same_value(observed("aws_instance", &now, &seen).as_deref(), seen.actual.as_deref()));
        let tag = AttributeChange::new("tags.Env", Some("\"prod\""), Some("\"dev\""));
        assert_eq!(observed("aws_instance", &now, &tag), None, "the tag is gone");
    }

    #[test]
    fn values_compare_as_the_diff_compares_them() {
        assert!(same_value(Some("8"), Some("\"8\"")));
        assert!(same_value(None, Some("\"\"")));
        assert!(!same_value(Some("\"a\""), None));
        assert!(same_value(Some("[\"a\",\"b\"]"), Some("[\"a\",\"b\"]")));
        assert!(!same_value(Some("[\"a\"]"), Some("[\"a\",\"b\"]")));
    }
}
