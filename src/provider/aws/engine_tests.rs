//! Engine tests from tests/fixtures/objects/engine-case.yaml (pure; no cloud).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::AwsRules;
use crate::crd::{DriftKind, IgnoreRule, Severity, SeverityOverride};
use crate::drift::{Discovery, DiscoveryFailure, LiveResource};
use crate::drift::{EngineConfig, compare};
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
    let case: Case = serde_yaml::from_str(include_str!("../../../tests/fixtures/objects/engine-case.yaml"))
        .expect("fixture");
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
        global_types: Vec::new(),
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
    let report = compare(&states, &discovery, &config(), &AwsRules, now());
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
    let report = compare(&states, &discovery, &config, &AwsRules, now());
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
    let report = compare(&states, &discovery, &config, &AwsRules, now());
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
    let report = compare(&states, &discovery, &config(), &AwsRules, now());
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
    let report = compare(&states, &discovery, &config, &AwsRules, now());
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
    let report = compare(&states, &discovery, &config(), &AwsRules, now());
    let missing: Vec<&str> =
        report.items.iter().filter(|i| i.kind == DriftKind::Missing).map(|i| i.id.as_str()).collect();
    assert_eq!(missing, ["vol-gone", "vol-here"], "only volumes in the scanned region can be missing");
    assert_eq!(report.summary.managed, 5);
}

mod observe {
    use crate::attributes::Attributes;
    use crate::crd::AttributeChange;
    use crate::drift::{observed, same_value};
    use serde_json::Value;

    use super::AwsRules;
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
        let changes = crate::drift::diff(&AwsRules, "aws_instance", &state, &cloud);
        assert_eq!(changes.len(), 6, "{changes:?}");
        for c in &changes {
            assert!(
                same_value(observed(&AwsRules, "aws_instance", &cloud, c).as_deref(), c.actual.as_deref()),
                "{c:?}"
            );
            assert!(
                same_value(observed(&AwsRules, "aws_instance", &state, c).as_deref(), c.expected.as_deref()),
                "{c:?}"
            );
        }
        let group_state = live(json!({"ingress": [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]}));
        let group_cloud = live(json!({"ingress": [
            {"protocol": "6", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]}));
        let changes = crate::drift::diff(&AwsRules, "aws_security_group", &group_state, &group_cloud);
        assert_eq!(changes.len(), 2, "one rule gone, one added: {changes:?}");
        for c in &changes {
            assert!(same_value(
                observed(&AwsRules, "aws_security_group", &group_cloud, c).as_deref(),
                c.actual.as_deref()
            ));
            assert!(same_value(
                observed(&AwsRules, "aws_security_group", &group_state, c).as_deref(),
                c.expected.as_deref()
            ));
        }
    }

    #[test]
    fn a_value_changed_since_the_scan_is_seen() {
        let now = live(json!({"instance_type": "t3.xlarge", "tags": {}}));
        let seen = AttributeChange::new("instance_type", Some("\"t3.micro\""), Some("\"t3.large\""));
        assert!(!same_value(
            observed(&AwsRules, "aws_instance", &now, &seen).as_deref(),
            seen.actual.as_deref()
        ));
        let tag = AttributeChange::new("tags.Env", Some("\"prod\""), Some("\"dev\""));
        assert_eq!(observed(&AwsRules, "aws_instance", &now, &tag), None, "the tag is gone");
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

mod severity {
    use crate::crd::{DriftKind, Severity};
    use crate::drift::{change_severity, resource_severity};

    use super::AwsRules;

    #[test]
    fn the_cloud_rates_first_then_the_engine_defaults() {
        let world = "\"tcp 22-22 0.0.0.0/0\"";
        assert_eq!(
            change_severity(&AwsRules, "aws_security_group", "ingress", Some(world)),
            Severity::Critical
        );
        assert_eq!(change_severity(&AwsRules, "aws_instance", "tags.Env", None), Severity::Low);
        assert_eq!(change_severity(&AwsRules, "aws_instance", "instance_type", None), Severity::Medium);
        assert_eq!(
            change_severity(&AwsRules, "aws_other_thing", "size", None),
            Severity::Medium,
            "a type AWS does not rate"
        );
        assert_eq!(
            resource_severity(&AwsRules, DriftKind::Unmanaged, "aws_network_acl", false),
            Severity::High
        );
        assert_eq!(resource_severity(&AwsRules, DriftKind::Unmanaged, "aws_vpc", true), Severity::Critical);
        assert_eq!(resource_severity(&AwsRules, DriftKind::Missing, "aws_vpc", false), Severity::High);
    }
}

mod diff {
    use crate::attributes::Attributes;
    use crate::drift::diff;
    use serde_json::Value;

    use super::AwsRules;
    use serde_json::json;

    fn map(v: Value) -> Attributes {
        v.as_object().cloned().map(Attributes::from).expect("object")
    }

    #[test]
    fn instance_type_and_tags() {
        let state =
            map(json!({"id": "i-1", "instance_type": "t3.micro", "tags": {"Env": "prod", "Team": "a"}}));
        let live =
            map(json!({"id": "i-1", "instance_type": "t3.large", "tags": {"Env": "prod", "Owner": "bob"}}));
        let changes = diff(&AwsRules, "aws_instance", &state, &live);
        let rendered: Vec<(String, Option<String>, Option<String>)> =
            changes.into_iter().map(|c| (c.path, c.expected, c.actual)).collect();
        assert_eq!(
            rendered,
            [
                ("instance_type".into(), Some("\"t3.micro\"".into()), Some("\"t3.large\"".into())),
                ("tags.Owner".into(), None, Some("\"bob\"".into())),
                ("tags.Team".into(), Some("\"a\"".into()), None),
            ]
        );
    }

    #[test]
    fn provider_defaults_equal_unset() {
        let state = map(json!({"type": "gp2", "iops": 100, "throughput": 0, "encrypted": false,
            "multi_attach_enabled": false, "size": 8}));
        let live = map(json!({"type": "gp2", "iops": 300, "size": 8}));
        assert!(diff(&AwsRules, "aws_ebs_volume", &state, &live).is_empty());
        let state = map(json!({"ebs_optimized": false, "monitoring": false, "source_dest_check": true}));
        assert!(diff(&AwsRules, "aws_instance", &state, &map(json!({}))).is_empty());
        let changes = diff(&AwsRules, "aws_instance", &state, &map(json!({"monitoring": true})));
        assert_eq!(changes[0].path, "monitoring");
        assert_eq!(
            (changes[0].expected.as_deref(), changes[0].actual.as_deref()),
            (Some("false"), Some("true"))
        );
        let resized = diff(&AwsRules, "aws_ebs_volume", &map(json!({"size": 8})), &map(json!({"size": 16})));
        assert_eq!((resized[0].expected.as_deref(), resized[0].actual.as_deref()), (Some("8"), Some("16")));
    }

    #[test]
    fn unrecorded_attributes_are_not_compared() {
        let state = map(json!({"id": "i-1"}));
        let live = map(json!({"id": "i-1", "instance_type": "t3.large", "tags": {"Env": "x"}}));
        assert!(diff(&AwsRules, "aws_instance", &state, &live).is_empty());
    }

    #[test]
    fn an_added_ingress_rule_is_one_change() {
        let state = map(
            json!({"ingress": [{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]}),
        );
        let live = map(json!({"ingress": [
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]},
            {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}
        ]}));
        let changes = diff(&AwsRules, "aws_security_group", &state, &live);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "ingress");
        assert_eq!(changes[0].actual.as_deref(), Some("\"tcp 22-22 0.0.0.0/0\""));
    }
}

mod children {
    use crate::attributes::Attributes;
    use std::borrow::Cow;

    use crate::drift::{ChildVerdict, Fold, FoldValue, expected_with_folds, verify};
    use serde_json::Value;

    use super::AwsRules;
    use serde_json::json;

    fn rule_fold(cidrs: Value) -> Fold {
        Fold {
            parent_type: "aws_security_group",
            parent_id: "sg-1".into(),
            attribute: "ingress",
            value: FoldValue::Entry(
                json!({"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": cidrs}),
            ),
            on_parent: true,
            verify_via_parent: true,
        }
    }

    fn live(rules: Value) -> Attributes {
        json!({ "ingress": rules }).as_object().cloned().map(Attributes::from).expect("map")
    }

    #[test]
    fn a_rule_is_in_sync_missing_or_partly_gone() {
        let fold = rule_fold(json!(["10.0.0.0/8", "192.168.0.0/16"]));
        let both = live(json!([{"protocol": "6", "from_port": 22, "to_port": 22,
            "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"]}]));
        assert_eq!(verify(&AwsRules, "aws_security_group", &fold, &both), ChildVerdict::InSync);
        assert_eq!(verify(&AwsRules, "aws_security_group", &fold, &live(json!([]))), ChildVerdict::Missing);
        let one =
            live(json!([{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["10.0.0.0/8"]}]));
        let ChildVerdict::Modified(changes) = verify(&AwsRules, "aws_security_group", &fold, &one) else {
            panic!("partial")
        };
        assert_eq!(changes[0].expected.as_deref(), Some("\"tcp 22-22 192.168.0.0/16\""));
    }

    #[test]
    fn folds_apply_only_to_recorded_inline_attributes() {
        let fold = rule_fold(json!(["10.0.0.0/8"]));
        let recorded =
            Attributes::from(json!({"ingress": [], "egress": []}).as_object().cloned().expect("map"));
        let folded = expected_with_folds(&recorded, &[], &[&fold]);
        assert_eq!(folded["ingress"].as_array().map(Vec::len), Some(1));
        let unrecorded = Attributes::from(json!({"id": "sg-1"}).as_object().cloned().expect("map"));
        assert!(matches!(expected_with_folds(&unrecorded, &[], &[&fold]), Cow::Borrowed(_)));
    }
}

/// Every state resource gets one verdict; what was not checked says why, the summary
/// counts it by type and reason, and the checked share is of the cloud's resources.
#[test]
fn every_state_resource_gets_one_verdict_and_unchecked_ones_their_reason() {
    use crate::drift::ResourceVerdict::{InSync, Missing, NotChecked};
    let aws = ProviderAddress { name: "aws".into(), source: None, alias: None };
    let resource = |address: &str, type_: &str, id: &str, attributes: serde_json::Value| StateResource {
        address: address.into(),
        type_: type_.into(),
        provider: aws.clone(),
        id: Some(id.into()),
        attributes: attributes.as_object().cloned().expect("object").into(),
    };
    let state = StateFile {
        origin: "verdicts.tfstate".into(),
        terraform_version: "1.15.0".into(),
        serial: 1,
        lineage: "l".into(),
        skipped_data_sources: 0,
        resources: vec![
            resource(
                "aws_instance.web",
                "aws_instance",
                "i-1",
                serde_json::json!({"instance_type": "t3.micro"}),
            ),
            resource("aws_vpc.gone", "aws_vpc", "vpc-1", serde_json::json!({})),
            resource("aws_s3_bucket.logs", "aws_s3_bucket", "logs", serde_json::json!({})),
            resource("aws_s3_bucket.data", "aws_s3_bucket", "data", serde_json::json!({})),
            resource(
                "aws_vpc.paris",
                "aws_vpc",
                "vpc-2",
                serde_json::json!({"arn": "arn:aws:ec2:eu-west-3:1:vpc/vpc-2"}),
            ),
            resource("aws_ebs_volume.data", "aws_ebs_volume", "vol-1", serde_json::json!({"size": 8})),
            resource("aws_subnet.a", "aws_subnet", "subnet-1", serde_json::json!({})),
        ],
    };
    let live = LiveResource {
        type_: "aws_instance".into(),
        id: "i-1".into(),
        region: Some("us-east-1".into()),
        attributes: serde_json::json!({"instance_type": "t3.micro"})
            .as_object()
            .cloned()
            .expect("map")
            .into(),
        is_default: false,
        part_of: None,
    };
    let discovery = Discovery {
        resources: vec![live],
        failures: vec![DiscoveryFailure {
            scope: "us-east-1/aws_ebs_volume".into(),
            reason: "AccessDenied".into(),
            message: "not authorized".into(),
        }],
        covered_types: ["aws_instance", "aws_vpc", "aws_ebs_volume"].map(String::from).to_vec(),
        regions: vec!["us-east-1".into()],
        ..Default::default()
    };
    let config = EngineConfig {
        provider: "aws".into(),
        resource_types: ["aws_instance", "aws_vpc", "aws_ebs_volume", "aws_s3_bucket"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    let report = compare(&[state], &discovery, &config, &AwsRules, now());
    let verdicts: Vec<(&str, crate::drift::ResourceVerdict, Option<&str>)> =
        report.resources.iter().map(|r| (r.address.as_str(), r.verdict, r.reason.as_deref())).collect();
    assert_eq!(
        verdicts,
        [
            ("aws_ebs_volume.data", NotChecked, Some("AccessDenied")),
            ("aws_instance.web", InSync, None),
            ("aws_s3_bucket.data", NotChecked, Some("UnsupportedType")),
            ("aws_s3_bucket.logs", NotChecked, Some("UnsupportedType")),
            ("aws_subnet.a", NotChecked, Some("ExcludedByFilter")),
            ("aws_vpc.gone", Missing, None),
            ("aws_vpc.paris", NotChecked, Some("RegionNotScanned")),
        ]
    );
    let groups: Vec<(&str, &str, u64)> =
        report.summary.not_checked.iter().map(|g| (g.type_.as_str(), g.reason.as_str(), g.count)).collect();
    assert_eq!(groups[0], ("aws_s3_bucket", "UnsupportedType", 2), "most first: {groups:?}");
    assert_eq!(groups.len(), 4, "{groups:?}");
    assert_eq!(report.summary.checked_percent, 28.6, "2 of 7 checked");
    assert_eq!(report.verdict(), crate::drift::Verdict::Partial, "a denied listing is never no drift");
}
