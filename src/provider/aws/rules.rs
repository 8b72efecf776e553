//! What the engine compares for each AWS type, the provider's defaults, and the
//! severity of AWS drift: the AWS half of `CloudRules`.

use super::types::{AwsType, Listing, declaration};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::{Compare, opens_to_world};

/// Attributes compared for an AWS type, from its declaration (an alias compares as the
/// type it manages); undeclared types are compared on tags only.
pub fn compared(type_: &str) -> &'static [(&'static str, Compare)] {
    match declaration(type_) {
        Some(AwsType { listing: Listing::Alias { of }, .. }) => compared(of),
        Some(declared) => declared.compared,
        None => &[("tags", Compare::Tags)],
    }
}

/// The value the AWS provider records, or the API reports, for an attribute left unset
/// by the other side, from the type's declaration.
pub fn default_value(type_: &str, attribute: &str) -> Option<&'static str> {
    let declared = declaration(type_)?;
    declared.defaults.iter().find(|(name, _)| *name == attribute).map(|(_, value)| *value)
}

/// The declaration a type is compared by: its own, or that of the type it manages.
fn compared_as(type_: &str) -> Option<&'static AwsType> {
    match declaration(type_)? {
        AwsType { listing: Listing::Alias { of }, .. } => declaration(of),
        declared => Some(declared),
    }
}

/// Whether an attribute means nothing for this resource as state describes it (the
/// declaration's `not_applicable`: IOPS of a gp2 volume).
pub fn not_applicable(type_: &str, attribute: &str, expected: &Attributes) -> bool {
    let Some(declared) = compared_as(type_) else { return false };
    declared.not_applicable.iter().any(|(name, applies)| *name == attribute && applies(expected))
}

/// The severity of one changed AWS attribute, where it differs from the engine's
/// (tags Low, the rest Medium): Critical for a value the declaration's
/// `critical_when` names, else its declared severity.
pub fn change_severity(type_: &str, attribute: &str, actual: Option<&str>) -> Option<Severity> {
    let declared = compared_as(type_)?;
    let opens =
        declared.critical_when.iter().any(|(name, opens)| *name == attribute && actual.is_some_and(opens));
    if opens {
        return Some(Severity::Critical);
    }
    declared.severity.iter().find(|(name, _)| *name == attribute).map(|(_, s)| *s)
}

/// The rating of a type's unmanaged resources, from its declaration (`rated`).
pub fn type_severity(type_: &str) -> Option<Severity> {
    compared_as(type_)?.rated
}

/// Whether a live rule lets the whole internet in. A network ACL *deny* rule that
/// names 0.0.0.0/0 closes something instead.
pub(super) fn admits_world(rule: &str) -> bool {
    opens_to_world(rule) && !rule.split_whitespace().any(|word| word == "deny")
}

/// The region of a state resource, from its ARN (any partition: `aws`, `aws-cn`,
/// `aws-us-gov`) or its availability zone.
pub fn own_region(attributes: &Attributes) -> Option<&str> {
    let from_arn = attributes
        .get("arn")
        .and_then(serde_json::Value::as_str)
        .filter(|arn| arn.starts_with("arn:"))
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|region| !region.is_empty());
    let from_zone = || {
        let zone = attributes.get("availability_zone").and_then(serde_json::Value::as_str)?;
        let region = zone.strip_suffix(|c: char| c.is_ascii_lowercase())?;
        (!region.is_empty()).then_some(region)
    };
    // Buckets (and, from provider v6, every regional resource) record `region`.
    let recorded = || attributes.get("region").and_then(serde_json::Value::as_str).filter(|r| !r.is_empty());
    from_arn.or_else(from_zone).or_else(recorded)
}

/// Tag-key prefixes AWS manages itself (CloudFormation, Auto Scaling, ...).
pub const MANAGED_TAG_PREFIXES: &[&str] = &["aws:"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deny_rule_for_the_world_is_not_critical() {
        let allow = "\"100 allow tcp 0.0.0.0/0 22-22\"";
        let deny = "\"90 deny tcp 0.0.0.0/0 22-22\"";
        assert_eq!(change_severity("aws_network_acl", "ingress", Some(allow)), Some(Severity::Critical));
        assert_eq!(change_severity("aws_network_acl", "ingress", Some(deny)), Some(Severity::High));
        assert_eq!(
            change_severity("aws_security_group", "ingress", Some("\"tcp 22-22 ::/0\"")),
            Some(Severity::Critical)
        );
        assert_eq!(change_severity("aws_vpc", "tags", None), None, "the engine's default");
        let method = "aws_api_gateway_method";
        assert_eq!(change_severity(method, "authorization", Some("\"NONE\"")), Some(Severity::Critical));
        assert_eq!(change_severity(method, "authorization", Some("\"AWS_IAM\"")), Some(Severity::High));
        let db = "aws_db_instance";
        assert_eq!(change_severity(db, "publicly_accessible", Some("true")), Some(Severity::Critical));
        assert_eq!(change_severity(db, "publicly_accessible", Some("false")), Some(Severity::High));
    }

    #[test]
    fn regions_come_from_arns_of_every_partition_and_from_zones() {
        let attrs = |v: serde_json::Value| Attributes::from(v.as_object().cloned().expect("object"));
        for (arn, region) in [
            ("arn:aws:ec2:eu-west-3:1:vpc/vpc-1", "eu-west-3"),
            ("arn:aws-cn:ec2:cn-north-1:1:vpc/vpc-1", "cn-north-1"),
            ("arn:aws-us-gov:ec2:us-gov-west-1:1:vpc/vpc-1", "us-gov-west-1"),
        ] {
            assert_eq!(own_region(&attrs(serde_json::json!({"arn": arn}))), Some(region));
        }
        let zone = attrs(serde_json::json!({"availability_zone": "ap-south-1b"}));
        assert_eq!(own_region(&zone), Some("ap-south-1"));
        let global = attrs(serde_json::json!({"arn": "arn:aws:iam::123456789012:role/x"}));
        assert_eq!(own_region(&global), None, "IAM is global");
    }

    #[test]
    fn volume_iops_apply_only_where_they_can_be_set() {
        let volume =
            |t: &str| Attributes::from(serde_json::json!({"type": t}).as_object().cloned().expect("map"));
        assert!(not_applicable("aws_ebs_volume", "iops", &volume("gp2")));
        assert!(not_applicable("aws_ebs_volume", "throughput", &volume("gp2")));
        assert!(!not_applicable("aws_ebs_volume", "iops", &volume("gp3")));
        assert!(!not_applicable("aws_ebs_volume", "throughput", &volume("gp3")));
    }
}
