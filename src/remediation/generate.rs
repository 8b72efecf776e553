//! A plan generated from a scan's report (pure): one action per drift item that has a
//! fix, and for the rest what to do about it with Terraform.

use std::collections::BTreeSet;

use crate::crd::{ActionType, DriftItem, DriftKind, RemediationAction, ResourceTarget, UnhandledItem};
use crate::drift::CloudRules;
use crate::drift::Report;

/// The CRD's limit on actions per plan.
pub const MAX_ACTIONS: usize = 500;

/// Actions for every Modified item with a change the cloud can make in place; what
/// Terraform has to do for the rest (Missing items are never recreated by driftmgr;
/// Unmanaged ones are codified: an import block and a resource skeleton).
pub fn generate(report: &Report, rules: &dyn CloudRules) -> (Vec<RemediationAction>, Vec<UnhandledItem>) {
    let mut actions = Vec::new();
    let mut unhandled = Vec::new();
    let mut ids = BTreeSet::new();
    for item in &report.items {
        let target = ResourceTarget {
            type_: item.type_.clone(),
            id: item.id.clone(),
            region: item.region.clone(),
            address: item.address.clone(),
        };
        let address =
            item.address.clone().unwrap_or_else(|| format!("{}.{}", item.type_, hcl_name(&item.id)));
        let fixable = item.changes.iter().any(|c| rules.fix_risk(&item.type_, c).is_some());
        match item.kind {
            DriftKind::Modified if fixable && actions.len() < MAX_ACTIONS => actions.push(RemediationAction {
                id: unique_id(&mut ids, "revert", item),
                type_: ActionType::Revert,
                target,
                attributes: Vec::new(),
            }),
            DriftKind::Modified => unhandled.push(note(item, format!(
                "no change of {address} can be made in place: run `terraform apply -target='{address}'` to replace it as state describes"
            ))),
            DriftKind::Missing => unhandled.push(note(item, format!(
                "gone from the cloud: `terraform apply -target='{address}'` recreates it, `terraform state rm '{address}'` forgets it"
            ))),
            DriftKind::Unmanaged if actions.len() < MAX_ACTIONS => actions.push(RemediationAction {
                id: unique_id(&mut ids, "codify", item),
                type_: ActionType::Codify,
                target,
                attributes: Vec::new(),
            }),
            DriftKind::Unmanaged => unhandled.push(note(item, format!(
                "in no state: add `import {{ to = {address}, id = \"{}\" }}` and a resource block, or delete it", item.id
            ))),
        }
    }
    (actions, unhandled)
}

fn note(item: &DriftItem, suggestion: String) -> UnhandledItem {
    UnhandledItem {
        kind: item.kind,
        type_: item.type_.clone(),
        id: item.id.clone(),
        address: item.address.clone(),
        suggestion,
    }
}

/// A Terraform resource name for a cloud id (`i-0abc` -> `i_0abc`).
pub fn hcl_name(id: &str) -> String {
    let name: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) { name } else { format!("r_{name}") }
}

/// An action id (a DNS label, at most 63 characters) naming the item, unique in the plan.
fn unique_id(taken: &mut BTreeSet<String>, verb: &str, item: &DriftItem) -> String {
    let slug: String = item
        .id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let base: String = format!("{verb}-{slug}").chars().take(56).collect();
    let base = base.trim_end_matches('-').to_string();
    let mut id = base.clone();
    let mut n = 2;
    while !taken.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::cloud_rules;

    #[test]
    fn one_revert_per_fixable_item_and_terraform_for_the_rest() {
        let report: Report =
            serde_json::from_str(include_str!("../../tests/fixtures/objects/plan-report.json"))
                .expect("fixture");
        let (actions, unhandled) = generate(&report, cloud_rules("aws"));
        let ids: Vec<&str> = actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["revert-sg-1", "revert-i-1", "codify-i-rogue"]);
        let types: Vec<ActionType> = actions.iter().map(|a| a.type_).collect();
        assert_eq!(types, [ActionType::Revert, ActionType::Revert, ActionType::Codify]);
        assert!(unhandled.is_empty(), "{unhandled:?}");
    }

    #[test]
    fn ids_are_labels_and_unique() {
        let mut taken = BTreeSet::new();
        let item: DriftItem = serde_json::from_value(serde_json::json!({
            "type": "aws_key_pair", "id": "Deploy Key (prod)/".repeat(5), "kind": "Modified", "severity": "Low"}))
        .expect("item");
        let first = unique_id(&mut taken, "revert", &item);
        let second = unique_id(&mut taken, "revert", &item);
        for id in [&first, &second] {
            assert!(id.len() <= 63, "{id}");
            assert!(id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{id}");
            assert!(!id.ends_with('-'), "{id}");
        }
        assert_ne!(first, second);
        assert_eq!(hcl_name("i-0AB"), "i_0ab");
        assert_eq!(hcl_name("123"), "r_123");
    }
}
