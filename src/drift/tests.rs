//! Engine tests from tests/fixtures/objects/engine-case.yaml (pure; no cloud).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{EngineConfig, compare};
use crate::crd::{DriftKind, IgnoreRule, Severity, SeverityOverride};
use crate::provider::{Discovery, DiscoveryFailure, LiveResource};
use crate::state::{ProviderAddress, StateFile, StateResource};

#[derive(Deserialize)]
struct Case {
    state: Vec<StateEntry>,
    live: Vec<LiveEntry>,
}

#[derive(Deserialize)]
struct StateEntry {
    address: String,
    #[serde(rename = "type")]
    type_: String,
    id: String,
    attributes: Map<String, Value>,
}

#[derive(Deserialize)]
struct LiveEntry {
    #[serde(rename = "type")]
    type_: String,
    id: String,
    #[serde(default)]
    is_default: bool,
    attributes: Map<String, Value>,
}

fn case() -> (Vec<StateFile>, Discovery) {
    let case: Case =
        serde_yaml::from_str(include_str!("../../tests/fixtures/objects/engine-case.yaml")).expect("fixture");
    let aws = ProviderAddress { name: "aws".into(), source: None, alias: None };
    let state = StateFile {
        origin: "case.tfstate".into(),
        terraform_version: "1.15.0".into(),
        serial: 1,
        lineage: "l".into(),
        skipped_data_sources: 0,
        resources: case
            .state
            .into_iter()
            .map(|s| StateResource {
                address: s.address,
                type_: s.type_,
                provider: aws.clone(),
                id: Some(s.id),
                attributes: s.attributes.into(),
            })
            .collect(),
    };
    let discovery = Discovery {
        resources: case
            .live
            .into_iter()
            .map(|l| LiveResource {
                type_: l.type_,
                id: l.id,
                region: Some("us-east-1".into()),
                attributes: l.attributes.into(),
                is_default: l.is_default,
                part_of: None,
            })
            .collect(),
        failures: vec![],
        covered_types: ["aws_instance", "aws_ebs_volume", "aws_vpc", "aws_security_group"]
            .map(String::from)
            .to_vec(),
        regions: vec!["us-east-1".into()],
        scopes: Vec::new(),
    };
    (vec![state], discovery)
}

fn config() -> EngineConfig {
    EngineConfig { provider: "aws".into(), default_ignores: true, ..Default::default() }
}

fn rule(yaml: &str) -> IgnoreRule {
    serde_yaml::from_str(yaml).expect("rule")
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("valid")
}

#[test]
fn classifies_and_rates_every_kind() {
    let (states, discovery) = case();
    let report = compare(&states, &discovery, &config(), now());
    let found: Vec<(Severity, DriftKind, &str)> =
        report.items.iter().map(|i| (i.severity, i.kind, i.id.as_str())).collect();
    assert_eq!(
        found,
        [
            (Severity::Critical, DriftKind::Unmanaged, "sg-rogue"),
            (Severity::High, DriftKind::Missing, "vol-gone"),
            (Severity::Medium, DriftKind::Modified, "i-web"),
            (Severity::Medium, DriftKind::Modified, "vpc-old"),
        ]
    );
    let web = &report.items[2];
    let paths: Vec<&str> = web.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["instance_type", "tags.LastPatched"], "aws:* tags are ignored by default");
    let s = &report.summary;
    assert_eq!((s.managed, s.in_sync, s.modified, s.missing, s.unmanaged, s.ignored), (4, 1, 2, 1, 1, 1));
    assert_eq!(s.coverage_percent, 75.0, "3 of 4 non-default live resources are managed");
}

#[test]
fn ignore_rules_hide_attributes_resources_and_expire() {
    let (states, discovery) = case();
    let mut config = config();
    config.ignore = vec![
        rule("{type: aws_instance, attributes: [tags.LastPatched], reason: patching}"),
        rule("{address: 'module.legacy.*', reason: being retired}"),
        rule("{id: 'sg-*', reason: expired exception, expires: '2020-01-01T00:00:00Z'}"),
    ];
    let report = compare(&states, &discovery, &config, now());
    let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["sg-rogue", "vol-gone", "i-web"], "the expired rule no longer hides sg-rogue");
    assert_eq!(report.items[2].changes.len(), 1, "only instance_type is left");
    assert_eq!(report.expired_ignore_rules, ["expired exception"]);
    assert_eq!(report.summary.ignored, 2, "vpc-old and the default VPC");
}

#[test]
fn defaults_can_be_turned_off_and_severity_overridden() {
    let (states, discovery) = case();
    let mut config = config();
    config.default_ignores = false;
    config.severity = vec![SeverityOverride {
        type_: Some("aws_instance".into()),
        attribute: Some("instance_type".into()),
        severity: Severity::High,
    }];
    let report = compare(&states, &discovery, &config, now());
    let web = report.items.iter().find(|i| i.id == "i-web").expect("web");
    assert_eq!(web.severity, Severity::High);
    assert!(web.changes.iter().any(|c| c.path == "tags.aws:autoscaling:groupName"));
    assert!(report.items.iter().any(|i| i.id == "vpc-default" && i.kind == DriftKind::Unmanaged));
}

#[test]
fn a_failed_type_is_unverified_not_missing() {
    let (states, mut discovery) = case();
    discovery.failures.push(DiscoveryFailure {
        scope: "us-east-1/aws_ebs_volume".into(),
        reason: "Throttled".into(),
        message: "m".into(),
    });
    let report = compare(&states, &discovery, &config(), now());
    assert!(report.items.iter().all(|i| i.id != "vol-gone"));
    assert_eq!((report.unverified, report.summary.missing), (1, 0));
    assert!(report.is_partial());
}

#[test]
fn expiry_in_the_future_still_applies() {
    let (states, discovery) = case();
    let mut config = config();
    let mut hide = rule("{id: sg-rogue, reason: temporary}");
    hide.expires = Some(Time(Timestamp::from_second(1_900_000_000).expect("valid")));
    config.ignore = vec![hide];
    let report = compare(&states, &discovery, &config, now());
    assert!(report.items.iter().all(|i| i.id != "sg-rogue"));
    assert!(report.expired_ignore_rules.is_empty());
}

#[test]
fn resources_in_unscanned_regions_are_out_of_scope() {
    let (mut states, discovery) = case();
    let aws = states[0].resources[0].provider.clone();
    let elsewhere = |id: &str, attributes: Value| StateResource {
        address: format!("aws_ebs_volume.{id}"),
        type_: "aws_ebs_volume".into(),
        provider: aws.clone(),
        id: Some(id.into()),
        attributes: attributes.as_object().cloned().unwrap_or_default().into(),
    };
    states[0]
        .resources
        .push(elsewhere("vol-eu", serde_json::json!({"id": "vol-eu", "availability_zone": "eu-west-1b"})));
    states[0].resources.push(elsewhere(
        "vol-arn",
        serde_json::json!({"id": "vol-arn", "arn": "arn:aws:ec2:ap-south-1:123456789012:volume/vol-arn"}),
    ));
    states[0].resources.push(elsewhere(
        "vol-here",
        serde_json::json!({"id": "vol-here", "availability_zone": "us-east-1c"}),
    ));
    let report = compare(&states, &discovery, &config(), now());
    let missing: Vec<&str> =
        report.items.iter().filter(|i| i.kind == DriftKind::Missing).map(|i| i.id.as_str()).collect();
    assert_eq!(missing, ["vol-gone", "vol-here"], "only volumes in the scanned region can be missing");
    assert_eq!(report.summary.managed, 5);
}
