//! How serious a drift item is: built-in ratings, then the user's overrides.

use super::glob::{glob_match, path_match};
use crate::crd::{DriftItem, DriftKind, Severity, SeverityOverride};

/// Sources that open a rule to the whole internet.
const WORLD: &[&str] = &["0.0.0.0/0", "::/0"];

/// Whether a rule's text names a source that is the whole internet.
pub fn opens_to_world(rule: &str) -> bool {
    WORLD.iter().any(|w| rule.contains(w))
}

/// Whether a live rule lets the whole internet in. A network ACL *deny* rule that
/// names 0.0.0.0/0 closes something instead.
fn admits_world(rule: &str) -> bool {
    opens_to_world(rule) && !rule.split_whitespace().any(|word| word == "deny")
}

/// The built-in severity of one changed attribute.
pub fn change_severity(type_: &str, path: &str, actual: Option<&str>) -> Severity {
    match (type_, path.split('.').next().unwrap_or_default()) {
        ("aws_security_group" | "aws_network_acl", "ingress") if actual.is_some_and(admits_world) => {
            Severity::Critical
        }
        ("aws_security_group" | "aws_network_acl", "ingress" | "egress") => Severity::High,
        ("aws_instance", "vpc_security_group_ids" | "iam_instance_profile" | "subnet_id") => Severity::High,
        ("aws_ebs_volume", "encrypted" | "kms_key_id") => Severity::Critical,
        ("aws_route_table", "route") => Severity::High,
        (_, "tags") => Severity::Low,
        _ => Severity::Medium,
    }
}

/// The built-in severity of a missing or unmanaged resource.
pub fn resource_severity(kind: DriftKind, type_: &str, open_ingress: bool) -> Severity {
    match kind {
        DriftKind::Unmanaged if open_ingress => Severity::Critical,
        DriftKind::Missing => Severity::High,
        _ if type_ == "aws_security_group" || type_ == "aws_network_acl" => Severity::High,
        _ => Severity::Medium,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deny_rule_for_the_world_is_not_critical() {
        let allow = "\"100 allow tcp 0.0.0.0/0 22-22\"";
        let deny = "\"90 deny tcp 0.0.0.0/0 22-22\"";
        assert_eq!(change_severity("aws_network_acl", "ingress", Some(allow)), Severity::Critical);
        assert_eq!(change_severity("aws_network_acl", "ingress", Some(deny)), Severity::High);
        assert_eq!(
            change_severity("aws_security_group", "ingress", Some("\"tcp 22-22 ::/0\"")),
            Severity::Critical
        );
    }
}
