//! The engine over separately managed resources: rules, routes and associations
//! folded into their parents (pure; no cloud).

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::AwsRules;
use crate::crd::{DriftKind, Severity};
use crate::drift::{Discovery, DiscoveryFailure, LiveResource};
use crate::drift::{EngineConfig, Verdict, compare};
use crate::state::{ProviderAddress, StateFile, StateResource};

fn state(resources: Vec<(&str, &str, Value)>) -> Vec<StateFile> {
    let aws = ProviderAddress { name: "aws".into(), source: None, alias: None };
    vec![StateFile {
        origin: "t.tfstate".into(),
        terraform_version: "1.15.0".into(),
        serial: 1,
        lineage: "l".into(),
        skipped_data_sources: 0,
        resources: resources
            .into_iter()
            .map(|(type_, name, attributes)| StateResource {
                address: format!("{type_}.{name}"),
                type_: type_.into(),
                provider: aws.clone(),
                id: attributes["id"].as_str().map(str::to_string),
                attributes: attributes.as_object().cloned().unwrap_or_default().into(),
            })
            .collect(),
    }]
}

fn live(type_: &str, attributes: Value) -> LiveResource {
    LiveResource {
        type_: type_.into(),
        id: attributes["id"].as_str().unwrap_or_default().into(),
        region: Some("us-east-1".into()),
        attributes: attributes.as_object().cloned().unwrap_or_default().into(),
        is_default: false,
        part_of: None,
    }
}

fn discovery(resources: Vec<LiveResource>) -> Discovery {
    Discovery {
        resources,
        failures: vec![],
        covered_types: ["aws_security_group", "aws_route_table", "aws_eip", "aws_ebs_volume"]
            .map(String::from)
            .to_vec(),
        regions: vec!["us-east-1".into()],
        ..Default::default()
    }
}

fn config() -> EngineConfig {
    EngineConfig { provider: "aws".into(), default_ignores: true, ..Default::default() }
}

fn tcp(port: i64, cidr: &str) -> Value {
    json!({"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [cidr]})
}

/// A group whose rules, a table whose routes and associations, and an address whose
/// association all live in separate resources, as real states often have them.
fn separately_managed() -> Vec<StateFile> {
    state(vec![
        ("aws_security_group", "web", json!({"id": "sg-1", "ingress": [], "egress": [], "description": "d"})),
        (
            "aws_security_group_rule",
            "https",
            json!({"id": "sgrule-1", "type": "ingress", "security_group_id": "sg-1",
            "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"], "self": false,
            "source_security_group_id": null}),
        ),
        (
            "aws_security_group_rule",
            "ssh",
            json!({"id": "sgrule-2", "type": "ingress", "security_group_id": "sg-1",
            "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.1.0.0/16"]}),
        ),
        ("aws_route_table", "private", json!({"id": "rtb-1", "route": [], "vpc_id": "vpc-1"})),
        (
            "aws_route",
            "default",
            json!({"id": "r-rtb-11080289494", "route_table_id": "rtb-1",
            "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1", "gateway_id": ""}),
        ),
        (
            "aws_route_table_association",
            "a",
            json!({"id": "rtbassoc-1", "route_table_id": "rtb-1", "subnet_id": "subnet-1"}),
        ),
        ("aws_eip", "ip", json!({"id": "eipalloc-1", "instance": "", "network_interface": ""})),
        (
            "aws_eip_association",
            "ip",
            json!({"id": "eipassoc-1", "allocation_id": "eipalloc-1", "instance_id": "i-1",
            "network_interface_id": ""}),
        ),
        ("aws_ebs_volume", "data", json!({"id": "vol-1", "size": 20})),
        (
            "aws_volume_attachment",
            "data",
            json!({"id": "vai-1", "volume_id": "vol-1", "instance_id": "i-1",
            "device_name": "/dev/sdh"}),
        ),
    ])
}

fn live_world(ingress: Vec<Value>) -> Vec<LiveResource> {
    vec![
        live(
            "aws_security_group",
            json!({"id": "sg-1", "ingress": ingress, "egress": [], "description": "d"}),
        ),
        live(
            "aws_route_table",
            json!({"id": "rtb-1", "vpc_id": "vpc-1", "associations": ["subnet-1"],
            "route": [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-1"}]}),
        ),
        live("aws_eip", json!({"id": "eipalloc-1", "instance": "i-1", "network_interface": "eni-9"})),
        live("aws_ebs_volume", json!({"id": "vol-1", "size": 20, "attachments": ["i-1 /dev/sdh"]})),
    ]
}

#[test]
fn separately_managed_rules_routes_and_associations_are_in_sync() {
    let report = compare(
        &separately_managed(),
        &discovery(live_world(vec![tcp(443, "10.0.0.0/8"), tcp(22, "10.1.0.0/16")])),
        &config(),
        &AwsRules,
        Timestamp::UNIX_EPOCH,
    );
    assert!(report.items.is_empty(), "{:#?}", report.items);
    assert_eq!((report.summary.managed, report.summary.in_sync), (10, 10));
    assert_eq!(report.verdict(), Verdict::NoDrift);
}

#[test]
fn a_console_rule_is_drift_on_the_parent_and_a_deleted_rule_is_missing_once() {
    let report = compare(
        &separately_managed(),
        &discovery(live_world(vec![tcp(443, "10.0.0.0/8"), tcp(3389, "0.0.0.0/0")])),
        &config(),
        &AwsRules,
        Timestamp::UNIX_EPOCH,
    );
    let seen: Vec<(DriftKind, &str, &str, Severity)> =
        report.items.iter().map(|i| (i.kind, i.type_.as_str(), i.id.as_str(), i.severity)).collect();
    assert_eq!(
        seen,
        [
            (DriftKind::Modified, "aws_security_group", "sg-1", Severity::Critical),
            (DriftKind::Missing, "aws_security_group_rule", "sgrule-2", Severity::High),
        ]
    );
    let changes = &report.items[0].changes;
    assert_eq!(changes.len(), 1, "only the added rule: the deleted one is reported as the rule");
    assert_eq!(changes[0].actual.as_deref(), Some("\"tcp 3389-3389 0.0.0.0/0\""));
}

#[test]
fn a_lost_association_and_a_moved_address_are_reported_on_the_child() {
    let mut world = live_world(vec![tcp(443, "10.0.0.0/8"), tcp(22, "10.1.0.0/16")]);
    world[1].attributes.insert("associations", json!([]));
    world[2].attributes.insert("instance", json!("i-2"));
    let report =
        compare(&separately_managed(), &discovery(world), &config(), &AwsRules, Timestamp::UNIX_EPOCH);
    let seen: Vec<(DriftKind, &str)> = report.items.iter().map(|i| (i.kind, i.type_.as_str())).collect();
    assert!(seen.contains(&(DriftKind::Missing, "aws_route_table_association")), "{seen:?}");
    assert!(seen.contains(&(DriftKind::Modified, "aws_eip_association")), "{seen:?}");
    assert!(!seen.iter().any(|(_, t)| *t == "aws_eip" || *t == "aws_route_table"), "reported once: {seen:?}");
}

#[test]
fn children_of_a_failed_type_are_unverified_and_the_verdict_says_partial() {
    let mut d = discovery(vec![]);
    d.failures.push(DiscoveryFailure {
        scope: "us-east-1/aws_security_group".into(),
        reason: "Throttled".into(),
        message: "m".into(),
    });
    let report = compare(&separately_managed(), &d, &config(), &AwsRules, Timestamp::UNIX_EPOCH);
    assert_eq!(report.unverified, 3, "the group and its two rules");
    assert_eq!(report.verdict(), Verdict::Partial);
    let mut everywhere = discovery(vec![]);
    everywhere.failures.push(DiscoveryFailure {
        scope: "us-east-1".into(),
        reason: "Unreachable".into(),
        message: "m".into(),
    });
    let report = compare(&separately_managed(), &everywhere, &config(), &AwsRules, Timestamp::UNIX_EPOCH);
    assert_eq!(report.verdict(), Verdict::NothingVerified);
    assert_eq!(report.summary.missing, 0, "nothing is called missing when nothing was listed");
}

#[test]
fn a_part_whose_owner_type_was_not_listed_is_not_unmanaged() {
    let mut rule =
        live("aws_vpc_security_group_egress_rule", json!({"id": "sgr-1", "security_group_id": "sg-9"}));
    rule.part_of = Some(("aws_security_group".into(), "sg-9".into()));
    let mut d = discovery(vec![rule]);
    d.covered_types = vec!["aws_vpc_security_group_egress_rule".into()];
    let report = compare(&state(vec![]), &d, &config(), &AwsRules, Timestamp::UNIX_EPOCH);
    assert!(report.items.is_empty(), "{:?}", report.items);
    // With its group listed and unknown to state, the group is the unmanaged one.
    let mut rule =
        live("aws_vpc_security_group_egress_rule", json!({"id": "sgr-1", "security_group_id": "sg-9"}));
    rule.part_of = Some(("aws_security_group".into(), "sg-9".into()));
    let group = live("aws_security_group", json!({"id": "sg-9"}));
    let mut d = discovery(vec![rule, group]);
    d.covered_types.push("aws_vpc_security_group_egress_rule".into());
    let report = compare(&state(vec![]), &d, &config(), &AwsRules, Timestamp::UNIX_EPOCH);
    let unmanaged: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(unmanaged, ["sg-9"]);
}

#[test]
fn a_certificate_validation_holds_while_its_certificate_is_issued() {
    let arn = "arn:aws:acm:us-east-1:1:certificate/c";
    let states = state(vec![
        ("aws_acm_certificate", "site", json!({"id": arn, "domain_name": "example.com"})),
        (
            "aws_acm_certificate_validation",
            "site",
            json!({"id": "2025-03-02 10:11:13 +0000 UTC", "certificate_arn": arn}),
        ),
    ]);
    let scan = |status: &str| {
        let certificate =
            live("aws_acm_certificate", json!({"id": arn, "domain_name": "example.com", "status": status}));
        let discovery =
            Discovery { covered_types: vec!["aws_acm_certificate".into()], ..discovery(vec![certificate]) };
        compare(&states, &discovery, &config(), &AwsRules, Timestamp::UNIX_EPOCH)
    };
    assert!(scan("ISSUED").items.is_empty());
    let pending = scan("PENDING_VALIDATION");
    let seen: Vec<(DriftKind, &str, Severity)> =
        pending.items.iter().map(|i| (i.kind, i.type_.as_str(), i.severity)).collect();
    assert_eq!(seen, [(DriftKind::Modified, "aws_acm_certificate_validation", Severity::High)]);
    assert_eq!(pending.items[0].changes[0].actual.as_deref(), Some("\"PENDING_VALIDATION\""));
}
