//! GCP rules and mapping against a state the real Google provider wrote (the
//! driftctl firewall and instance fixtures) and Compute objects in the API's shape.

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::mapping;
use crate::crd::{DriftKind, Severity};
use crate::drift::{EngineConfig, compare};
use crate::provider::{Discovery, LiveResource};
use crate::state::{StateFile, parse_state};

fn fixture(name: &str) -> StateFile {
    let path = format!(
        "{}/tests/fixtures/tfstate/driftctl/test/{name}/terraform.tfstate",
        env!("CARGO_MANIFEST_DIR")
    );
    parse_state(&std::fs::read(&path).expect("fixture"), &path).expect("parses")
}

/// The fixture's firewall as Compute returns it (from an emulator's host).
fn firewall_object() -> Value {
    json!({
        "kind": "compute#firewall",
        "name": "test-firewall",
        "selfLink": "http://127.0.0.1:8400/compute/v1/projects/cloudskiff-dev-elie/global/firewalls/test-firewall",
        "network": "http://127.0.0.1:8400/compute/v1/projects/cloudskiff-dev-elie/global/networks/test-network",
        "direction": "INGRESS",
        "priority": 1000,
        "allowed": [
            {"IPProtocol": "icmp"},
            {"IPProtocol": "tcp", "ports": ["1000-2000"]},
            {"IPProtocol": "tcp", "ports": ["80", "8080"]},
        ],
        "sourceTags": ["web"],
        "disabled": false,
    })
}

fn scan(state: &StateFile, live: Vec<LiveResource>) -> crate::drift::Report {
    let discovery = Discovery {
        covered_types: super::SUPPORTED_TYPES.iter().map(|t| t.to_string()).collect(),
        regions: vec!["us-central1".into()],
        scopes: vec!["cloudskiff-dev-elie".into()],
        resources: live,
        ..Default::default()
    };
    let config = EngineConfig { provider: "google".into(), default_ignores: true, ..Default::default() };
    compare(std::slice::from_ref(state), &discovery, &config, &super::GcpRules, Timestamp::UNIX_EPOCH)
}

#[test]
fn a_firewall_grouped_differently_by_the_api_is_in_sync() {
    let live = mapping::firewall(&firewall_object()).expect("maps");
    assert_eq!(live.id, "projects/cloudskiff-dev-elie/global/firewalls/test-firewall");
    assert_eq!(live.region, None, "firewalls are global");
    let report = scan(&fixture("google_compute_firewall"), vec![live]);
    assert!(report.items.is_empty(), "no drift: {:?}", report.items);
    assert_eq!(report.summary.in_sync, 1);
}

#[test]
fn a_firewall_opened_to_the_world_is_critical_and_names_the_range() {
    let mut object = firewall_object();
    object["sourceRanges"] = json!(["0.0.0.0/0"]);
    object["allowed"][1]["ports"] = json!(["22"]);
    let report = scan(&fixture("google_compute_firewall"), vec![mapping::firewall(&object).expect("maps")]);
    let item = &report.items[0];
    assert_eq!(item.kind, DriftKind::Modified);
    assert_eq!(item.severity, Severity::Critical);
    let changes: Vec<(&str, Option<&str>, Option<&str>)> =
        item.changes.iter().map(|c| (c.path.as_str(), c.expected.as_deref(), c.actual.as_deref())).collect();
    assert_eq!(
        changes,
        [
            ("allow", Some("\"tcp 1000-2000\""), None),
            ("allow", None, Some("\"tcp 22\"")),
            ("source_ranges", Some("[]"), Some("[\"0.0.0.0/0\"]")),
        ]
    );
}

#[test]
fn an_unmanaged_firewall_open_to_the_world_is_critical_and_a_closed_one_high() {
    let mut open = firewall_object();
    open["name"] = json!("console-made");
    open["selfLink"] =
        json!("https://www.googleapis.com/compute/v1/projects/p/global/firewalls/console-made");
    open["sourceRanges"] = json!(["0.0.0.0/0"]);
    let mut closed = open.clone();
    closed["name"] = json!("internal");
    closed["selfLink"] = json!("https://www.googleapis.com/compute/v1/projects/p/global/firewalls/internal");
    closed["sourceRanges"] = json!(["10.0.0.0/8"]);
    let live = [open, closed].iter().map(|o| mapping::firewall(o).expect("maps")).collect();
    let empty = StateFile { resources: Vec::new(), ..fixture("google_compute_firewall") };
    let report = scan(&empty, live);
    let severities: Vec<(&str, Severity)> =
        report.items.iter().map(|i| (i.id.as_str(), i.severity)).collect();
    assert_eq!(
        severities,
        [
            ("projects/p/global/firewalls/console-made", Severity::Critical),
            ("projects/p/global/firewalls/internal", Severity::High)
        ]
    );
}

/// The fixture's instance as Compute returns it.
fn instance_object() -> Value {
    json!({
        "name": "test",
        "selfLink": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/zones/us-central1-a/instances/test",
        "zone": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/zones/us-central1-a",
        "machineType": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/zones/us-central1-a/machineTypes/e2-medium",
        "status": "RUNNING",
        "networkInterfaces": [{
            "name": "nic0",
            "network": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/global/networks/default",
            "subnetwork": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/regions/us-central1/subnetworks/default",
            "networkIP": "10.128.0.2",
        }],
        "disks": [{"boot": true, "source": "https://compute.googleapis.com/compute/v1/projects/cloudskiff-dev-elie/zones/us-central1-a/disks/test"}],
        "scheduling": {"onHostMaintenance": "MIGRATE", "automaticRestart": true, "preemptible": false},
        "labels": {"goog-ops-agent-policy": "v2"},
    })
}

#[test]
fn an_instance_is_in_sync_its_region_is_its_zones_and_gcp_labels_are_hidden() {
    let object = instance_object();
    let live = mapping::instance(&object).expect("maps");
    assert_eq!(live.region.as_deref(), Some("us-central1"));
    assert_eq!(
        mapping::boot_disk(&object),
        Some("projects/cloudskiff-dev-elie/zones/us-central1-a/disks/test")
    );
    let state = fixture("google_compute_instance");
    assert_eq!(super::rules::own_region(&state.resources[0].attributes), Some("us-central1"));
    let report = scan(&state, vec![live]);
    assert!(report.items.is_empty(), "goog-* labels are GCP's own: {:?}", report.items);
}

#[test]
fn an_instance_resized_given_ssh_keys_and_a_wider_service_account_is_reported_per_attribute() {
    let mut object = instance_object();
    object["machineType"] = json!("zones/us-central1-a/machineTypes/e2-standard-8");
    object["metadata"] = json!({"items": [{"key": "ssh-keys", "value": "alice:ssh-ed25519 AAAA"}]});
    object["serviceAccounts"] = json!([{"email": "sa@p.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}]);
    object["labels"] = json!({"env": "prod"});
    let report = scan(&fixture("google_compute_instance"), vec![mapping::instance(&object).expect("maps")]);
    let item = &report.items[0];
    let paths: Vec<&str> = item.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["machine_type", "metadata", "service_account", "labels.env"]);
    assert_eq!(item.changes[1].actual.as_deref(), Some("\"ssh-keys\""), "keys only, never values");
    assert_eq!(item.severity, Severity::High);
}

#[test]
fn links_from_any_host_are_recorded_as_state_records_them() {
    for link in [
        "http://127.0.0.1:9/compute/v1/projects/p/global/networks/n",
        "https://compute.googleapis.com/compute/v1/projects/p/global/networks/n",
        "projects/p/global/networks/n",
    ] {
        assert_eq!(
            mapping::canonical(link),
            "https://www.googleapis.com/compute/v1/projects/p/global/networks/n"
        );
    }
    assert_eq!(mapping::zone_region("europe-west1-b"), "europe-west1");
}
