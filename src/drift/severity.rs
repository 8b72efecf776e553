//! How serious a drift item is: built-in ratings, then the user's overrides.

use super::CloudRules;
use super::glob::{glob_match, path_match};
use crate::crd::{DriftItem, DriftKind, Severity, SeverityOverride};

/// Sources that open a rule to the whole internet.
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// Whether a rule's text names a source that is the whole internet.
pub fn opens_to_world(rule: &str) -> bool {
    WORLD.iter().any(|w| rule.contains(w))
}

/// The severity of one changed attribute: its cloud's rating, else tags Low and the
/// rest Medium.
pub fn change_severity(rules: &dyn CloudRules, type_: &str, path: &str, actual: Option<&str>) -> Severity {
    let attribute = path.split('.').next().unwrap_or_default();
    rules.change_severity(type_, attribute, actual).unwrap_or(
        if super::rules::is_tag_map(rules, type_, attribute) { Severity::Low } else { Severity::Medium },
    )
}

/// The severity of a missing or unmanaged resource: one open to the world is
/// Critical, a missing one High, else its cloud's rating for the type, else Medium.
pub fn resource_severity(
    rules: &dyn CloudRules,
    kind: DriftKind,
    type_: &str,
    open_ingress: bool,
) -> Severity {
    match kind {
        DriftKind::Unmanaged if open_ingress => Severity::Critical,
        DriftKind::Missing => Severity::High,
        _ => rules.type_severity(type_).unwrap_or(Severity::Medium),
    }
}

/// Applies overrides: a type-only override sets the item's severity; one with an
/// attribute sets it when some change matches the attribute path.
pub fn apply_overrides(item: &mut DriftItem, overrides: &[SeverityOverride]) {
    for rule in overrides {
        if rule.type_.as_ref().is_some_and(|t| !glob_match(t, &item.type_)) {
            continue;
        }
        let applies = match &rule.attribute {
            None => true,
            Some(path) => item.changes.iter().any(|c| path_match(path, &c.path)),
        };
        if applies {
            item.severity = rule.severity;
        }
    }
}
