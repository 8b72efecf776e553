//! What the engine compares for each AWS type, the provider's defaults, and the
//! severity of AWS drift: the AWS half of `CloudRules`.

use std::borrow::Cow;

use super::types::{AwsType, Listing, declaration};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::{Compare, opens_to_world, scalar};

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

/// Whether an attribute means nothing for this resource as state describes it: IOPS
/// are set only for io1, io2 and gp3 volumes (AWS reports a gp2 volume's baseline,
/// which follows its size), throughput only for gp3.
pub fn not_applicable(type_: &str, attribute: &str, expected: &Attributes) -> bool {
    let volume_type = || scalar(expected.get("type")).unwrap_or(Cow::Borrowed("gp2"));
    match (type_, attribute) {
        ("aws_ebs_volume", "iops") => !matches!(volume_type().as_ref(), "io1" | "io2" | "gp3"),
        ("aws_ebs_volume", "throughput") => volume_type() != "gp3",
        // Provider v5 records the code's hash as `code_sha256`; `source_code_hash` is then
        // the configured trigger, which need not be the package's hash.
        ("aws_lambda_function", "source_code_hash") => expected.get("code_sha256").is_some(),
        ("aws_vpc_endpoint", "private_dns_enabled") => super::vpc::private_dns_not_applicable(expected),
        ("aws_apigatewayv2_api", "routes") => super::apigatewayv2::defined_by_body(expected),
        ("aws_api_gateway_rest_api", "methods") => super::apigateway::defined_by_body(expected),
        // Storage autoscaling grows the allocation within the maximum.
        ("aws_db_instance", "allocated_storage") => expected
            .get("max_allocated_storage")
            .and_then(serde_json::Value::as_i64)
            .is_some_and(|max| max > 0),
        // A security policy belongs to TLS listeners only (moto gives plain HTTP one too).
        ("aws_lb_listener", "ssl_policy") => {
            !matches!(scalar(expected.get("protocol")).as_deref(), Some("HTTPS" | "TLS"))
        }
        // HTTP settings of application load balancers.
        ("aws_lb", "idle_timeout" | "enable_http2" | "drop_invalid_header_fields") => {
            scalar(expected.get("load_balancer_type")).is_some_and(|t| t != "application")
        }
        _ => false,
    }
}

/// The severity of one changed AWS attribute, where it differs from the engine's
/// (tags Low, the rest Medium).
pub fn change_severity(type_: &str, attribute: &str, actual: Option<&str>) -> Option<Severity> {
    Some(match (type_, attribute) {
        ("aws_security_group" | "aws_network_acl", "ingress") if actual.is_some_and(admits_world) => {
            Severity::Critical
        }
        ("aws_security_group" | "aws_network_acl", "ingress" | "egress") => Severity::High,
        ("aws_db_instance" | "aws_rds_cluster_instance", "publicly_accessible") if actual == Some("true") => {
            Severity::Critical
        }
        ("aws_s3_bucket_acl", "access_control_policy") if actual.is_some_and(super::s3::public_grant) => {
            Severity::Critical
        }
        // A certificate validation checks its certificate's status: one no longer issued
        // (revoked, expired, validation lost) breaks TLS.
        ("aws_acm_certificate", "status") => Severity::High,
        // A method anyone may call without credentials.
        ("aws_api_gateway_method", "authorization") if actual == Some("\"NONE\"") => Severity::Critical,
        ("aws_lambda_function", "permissions") if actual.is_some_and(super::lambda::invocable_by_anyone) => {
            Severity::Critical
        }
        _ => {
            let declared = declaration(type_)?;
            return declared.severity.iter().find(|(name, _)| *name == attribute).map(|(_, s)| *s);
        }
    })
}

/// Firewall-like types: a missing or unmanaged one, or any change, matters more.
pub fn type_severity(type_: &str) -> Option<Severity> {
    matches!(type_, "aws_security_group" | "aws_network_acl").then_some(Severity::High)
}

/// Whether a live rule lets the whole internet in. A network ACL *deny* rule that
/// names 0.0.0.0/0 closes something instead.
fn admits_world(rule: &str) -> bool {
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
