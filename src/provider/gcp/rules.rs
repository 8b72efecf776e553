//! What the engine compares for each Compute type, the Google provider's defaults,
//! and the severity of GCP drift: the GCP half of `CloudRules`.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::mapping::{relative, short, zone_region};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::{Compare, opens_to_world, scalar, string_set};
use crate::provider::{CloudRules, LiveResource};

/// GCP's rules.
pub struct GcpRules;

fn blocks(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
}

fn field(block: &Map<String, Value>, name: &str) -> String {
    scalar(block.get(name)).map(Cow::into_owned).unwrap_or_default()
}

fn link_path(block: &Map<String, Value>, name: &str) -> String {
    let text = field(block, name);
    relative(&text).map_or(text.clone(), str::to_string)
}

/// Firewall rules flattened to `protocol port` entries (`tcp 80`, `icmp all`), so
/// rules that Terraform and the API group differently compare equal.
fn firewall_rules(value: Option<&Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in blocks(value) {
        let protocol = field(rule, "protocol").to_ascii_lowercase();
        let ports = string_set(rule.get("ports"));
        if ports.is_empty() {
            out.insert(format!("{protocol} all"));
        }
        for port in ports {
            out.insert(format!("{protocol} {port}"));
        }
    }
    out
}

/// Service accounts as `email scope` entries.
fn service_accounts(value: Option<&Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for account in blocks(value) {
        let email = field(account, "email");
        let scopes = string_set(account.get("scopes"));
        if scopes.is_empty() {
            out.insert(email.clone());
        }
        for scope in scopes {
            out.insert(format!("{email} {scope}"));
        }
    }
    out
}

/// Network interfaces as `name network subnetwork ip external=<access configs>`.
fn network_interfaces(value: Option<&Value>) -> BTreeSet<String> {
    blocks(value)
        .map(|nic| {
            let external = match nic.get("access_config") {
                Some(Value::Array(configs)) => configs.len() as u64,
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
                _ => 0,
            };
            format!(
                "{} {} {} {} external={external}",
                field(nic, "name"),
                link_path(nic, "network"),
                link_path(nic, "subnetwork"),
                field(nic, "network_ip")
            )
        })
        .collect()
}

/// Scheduling as one `preemptible=… on_host_maintenance=… automatic_restart=…` entry.
fn scheduling(value: Option<&Value>) -> BTreeSet<String> {
    blocks(value)
        .map(|s| {
            let restart = scalar(s.get("automatic_restart")).map_or(Cow::Borrowed("true"), |v| v);
            let maintenance = scalar(s.get("on_host_maintenance")).unwrap_or(Cow::Borrowed("MIGRATE"));
            let preemptible = scalar(s.get("preemptible")).unwrap_or(Cow::Borrowed("false"));
            format!("preemptible={preemptible} on_host_maintenance={maintenance} automatic_restart={restart}")
        })
        .collect()
}

/// Metadata keys (values can hold keys and scripts and are not copied into reports).
/// `startup-script` is left out: state records it as `metadata_startup_script`.
fn metadata_keys(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter(|k| *k != "startup-script")
        .cloned()
        .collect()
}

/// Secondary ranges as `name cidr`.
fn secondary_ranges(value: Option<&Value>) -> BTreeSet<String> {
    blocks(value).map(|r| format!("{} {}", field(r, "range_name"), field(r, "ip_cidr_range"))).collect()
}

/// BGP settings as one entry per block.
fn bgp(value: Option<&Value>) -> BTreeSet<String> {
    blocks(value)
        .map(|b| {
            let groups: Vec<Cow<str>> = string_set(b.get("advertised_groups")).into_iter().collect();
            let ranges: BTreeSet<String> =
                blocks(b.get("advertised_ip_ranges")).map(|r| field(r, "range")).collect();
            format!(
                "asn={} mode={} groups={} ranges={}",
                field(b, "asn"),
                field(b, "advertise_mode"),
                groups.join(","),
                ranges.into_iter().collect::<Vec<_>>().join(",")
            )
        })
        .collect()
}

/// A Compute reference as its `projects/...` path, so links of any host compare equal.
fn reference(value: Option<&Value>) -> BTreeSet<String> {
    scalar(value).map(|link| relative(&link).map_or(link.to_string(), str::to_string)).into_iter().collect()
}

/// Attributes compared for each Compute type; other types are compared on labels only.
pub fn compared(type_: &str) -> &'static [(&'static str, Compare)] {
    use Compare::*;
    match type_ {
        "google_compute_instance" => &[
            ("machine_type", Scalar),
            ("zone", Scalar),
            ("description", Scalar),
            ("can_ip_forward", Scalar),
            ("deletion_protection", Scalar),
            ("tags", StringSet),
            ("metadata", Entries(metadata_keys)),
            ("network_interface", Entries(network_interfaces)),
            ("service_account", Entries(service_accounts)),
            ("scheduling", Entries(scheduling)),
            ("labels", Tags),
        ],
        "google_compute_network" => &[
            ("auto_create_subnetworks", Scalar),
            ("routing_mode", Scalar),
            ("mtu", Scalar),
            ("description", Scalar),
        ],
        "google_compute_subnetwork" => &[
            ("network", Entries(reference)),
            ("ip_cidr_range", Scalar),
            ("private_ip_google_access", Scalar),
            ("secondary_ip_range", Entries(secondary_ranges)),
            ("description", Scalar),
        ],
        "google_compute_firewall" => &[
            ("network", Entries(reference)),
            ("direction", Scalar),
            ("priority", Scalar),
            ("disabled", Scalar),
            ("allow", Entries(firewall_rules)),
            ("deny", Entries(firewall_rules)),
            ("source_ranges", StringSet),
            ("destination_ranges", StringSet),
            ("source_tags", StringSet),
            ("target_tags", StringSet),
            ("source_service_accounts", StringSet),
            ("target_service_accounts", StringSet),
            ("description", Scalar),
        ],
        "google_compute_disk" => {
            &[("size", Scalar), ("type", Scalar), ("description", Scalar), ("labels", Tags)]
        }
        "google_compute_address" => &[
            ("address", Scalar),
            ("address_type", Scalar),
            ("network_tier", Scalar),
            ("description", Scalar),
            ("labels", Tags),
        ],
        "google_compute_router" => {
            &[("network", Entries(reference)), ("bgp", Entries(bgp)), ("description", Scalar)]
        }
        "google_compute_route" => &[
            ("network", Entries(reference)),
            ("dest_range", Scalar),
            ("priority", Scalar),
            ("tags", StringSet),
            ("next_hop_gateway", Entries(reference)),
            ("next_hop_instance", Entries(reference)),
            ("next_hop_ip", Scalar),
            ("next_hop_vpn_tunnel", Entries(reference)),
            ("next_hop_ilb", Scalar),
            ("description", Scalar),
        ],
        _ => &[("labels", Tags)],
    }
}

/// The value the provider records, or the API reports, for an attribute left unset.
pub fn default_value(type_: &str, attribute: &str) -> Option<&'static str> {
    Some(match (type_, attribute) {
        ("google_compute_instance", "can_ip_forward" | "deletion_protection") => "false",
        ("google_compute_firewall", "direction") => "INGRESS",
        ("google_compute_firewall", "priority") | ("google_compute_route", "priority") => "1000",
        ("google_compute_firewall", "disabled") => "false",
        ("google_compute_subnetwork", "private_ip_google_access") => "false",
        ("google_compute_address", "address_type") => "EXTERNAL",
        ("google_compute_address", "network_tier") => "PREMIUM",
        ("google_compute_disk", "type") => "pd-standard",
        _ => return None,
    })
}

/// Whether an attribute means nothing as state describes it: provider versions that
/// did not read a network's MTU recorded 0.
pub fn not_applicable(type_: &str, attribute: &str, expected: &Attributes) -> bool {
    match (type_, attribute) {
        ("google_compute_network", "mtu") => scalar(expected.get("mtu")).is_none_or(|m| m == "0"),
        _ => false,
    }
}

/// Whether a live firewall lets the whole internet in.
fn admits_world(attributes: &Attributes) -> bool {
    let ingress = scalar(attributes.get("direction")).is_none_or(|d| d == "INGRESS");
    let enabled = scalar(attributes.get("disabled")).is_none_or(|d| d == "false");
    let allows = attributes.get("allow").and_then(Value::as_array).is_some_and(|a| !a.is_empty());
    ingress
        && enabled
        && allows
        && string_set(attributes.get("source_ranges")).iter().any(|range| opens_to_world(range))
}

/// The severity of one changed GCP attribute, where it differs from the engine's.
pub fn change_severity(type_: &str, attribute: &str, actual: Option<&str>) -> Option<Severity> {
    Some(match (type_, attribute) {
        ("google_compute_firewall", "source_ranges") if actual.is_some_and(opens_to_world) => {
            Severity::Critical
        }
        ("google_compute_firewall", _) => Severity::High,
        (
            "google_compute_instance",
            "service_account" | "network_interface" | "metadata" | "can_ip_forward",
        ) => Severity::High,
        ("google_compute_route", "dest_range" | "next_hop_gateway" | "next_hop_instance" | "next_hop_ip") => {
            Severity::High
        }
        _ => return None,
    })
}

/// The region a state resource names itself: its zone's region, or its region.
pub fn own_region(attributes: &Attributes) -> Option<&str> {
    let named = |key: &str| attributes.get(key).and_then(Value::as_str).map(short).filter(|s| !s.is_empty());
    named("zone").map(zone_region).or_else(|| named("region"))
}

/// Compute has no rules or routes managed both inline and apart (`google_compute_route`
/// is a resource of its own), so nothing folds.
impl CloudRules for GcpRules {
    fn compared(&self, type_: &str) -> &'static [(&'static str, Compare)] {
        compared(type_)
    }

    fn default_value(&self, type_: &str, attribute: &str) -> Option<&'static str> {
        default_value(type_, attribute)
    }

    fn not_applicable(&self, type_: &str, attribute: &str, expected: &Attributes) -> bool {
        not_applicable(type_, attribute, expected)
    }

    fn change_severity(&self, type_: &str, attribute: &str, actual: Option<&str>) -> Option<Severity> {
        change_severity(type_, attribute, actual)
    }

    fn type_severity(&self, type_: &str) -> Option<Severity> {
        (type_ == "google_compute_firewall").then_some(Severity::High)
    }

    fn own_region<'a>(&self, attributes: &'a Attributes) -> Option<&'a str> {
        own_region(attributes)
    }

    /// Labels GCP sets itself (`goog-gke-node`, `goog-dataproc-cluster-name`, ...).
    fn managed_tag_prefixes(&self) -> &'static [&'static str] {
        &["goog-"]
    }

    /// Provider 5+ records `terraform_labels`: `labels` plus the provider's `default_labels`.
    fn full_tag_map(&self, attribute: &str) -> Option<&'static str> {
        (attribute == "labels").then_some("terraform_labels")
    }

    fn opens_to_world(&self, resource: &LiveResource) -> bool {
        resource.type_ == "google_compute_firewall" && admits_world(&resource.attributes)
    }
}
