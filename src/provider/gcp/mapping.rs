//! Compute API resources as the Google provider records them in state: Terraform
//! attribute names, short names where state keeps short names (zone, machine type,
//! disk type), and references as `https://www.googleapis.com/compute/v1/...` links
//! whichever host served them (an emulator, a private endpoint).

use serde_json::{Map, Value, json};

use crate::attributes::Attributes;
use crate::provider::LiveResource;

/// The host state records Compute links under.
const LINK_BASE: &str = "https://www.googleapis.com/compute/v1/";

/// `projects/...` of a Compute link (or of a path that already is one).
pub fn relative(link: &str) -> Option<&str> {
    let start = if link.starts_with("projects/") { 0 } else { link.find("/projects/")? + 1 };
    Some(&link[start..])
}

/// A Compute link in the form state records.
pub fn canonical(link: &str) -> String {
    relative(link).map_or_else(|| link.to_string(), |path| format!("{LINK_BASE}{path}"))
}

/// The last segment of a link (`.../zones/us-central1-a` is `us-central1-a`).
pub fn short(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or(link)
}

/// The region of a zone (`us-central1-a` is in `us-central1`).
pub fn zone_region(zone: &str) -> &str {
    zone.rsplit_once('-').map_or(zone, |(region, _)| region)
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn link(item: &Value, key: &str) -> Value {
    match item.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(link) => Value::String(canonical(link)),
        None => Value::String(String::new()),
    }
}

fn flag(item: &Value, key: &str) -> Value {
    Value::Bool(item.get(key).and_then(Value::as_bool).unwrap_or(false))
}

/// Compute sends int64 fields (`sizeGb`, `id`) as strings; state records numbers.
fn number(item: &Value, key: &str) -> Value {
    match item.get(key) {
        Some(Value::String(s)) => s.parse::<i64>().map_or(Value::Null, Value::from),
        Some(n @ Value::Number(_)) => n.clone(),
        _ => Value::Null,
    }
}

fn strings(item: &Value, key: &str) -> Value {
    Value::Array(item.get(key).and_then(Value::as_array).cloned().unwrap_or_default())
}

fn labels(item: &Value) -> Value {
    Value::Object(item.get("labels").and_then(Value::as_object).cloned().unwrap_or_default())
}

/// A live resource from its Compute object: id, name and project from its selfLink,
/// region from its zone or region.
fn resource(type_: &str, item: &Value, mut attributes: Map<String, Value>) -> Option<LiveResource> {
    let id = relative(text(item, "selfLink"))?.to_string();
    let project = id.split('/').nth(1).unwrap_or_default().to_string();
    let zone = short(text(item, "zone"));
    let region = if zone.is_empty() { short(text(item, "region")) } else { zone_region(zone) };
    attributes.insert("id".into(), Value::String(id.clone()));
    attributes.insert("name".into(), Value::String(text(item, "name").to_string()));
    attributes.insert("project".into(), Value::String(project));
    attributes.insert("description".into(), Value::String(text(item, "description").to_string()));
    attributes.insert("self_link".into(), Value::String(canonical(text(item, "selfLink"))));
    Some(LiveResource {
        type_: type_.to_string(),
        id,
        region: (!region.is_empty()).then(|| region.to_string()),
        attributes: Attributes::from(attributes),
        is_default: false,
        part_of: None,
    })
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub fn instance(item: &Value) -> Option<LiveResource> {
    let metadata: Map<String, Value> = item
        .pointer("/metadata/items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| Some((text(entry, "key").to_string(), entry.get("value")?.clone())))
        .collect();
    let interfaces: Vec<Value> = item
        .get("networkInterfaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|nic| {
            json!({
                "name": text(nic, "name"),
                "network": link(nic, "network"),
                "subnetwork": link(nic, "subnetwork"),
                "network_ip": text(nic, "networkIP"),
                "access_config": nic.get("accessConfigs").and_then(Value::as_array).map_or(0, Vec::len),
            })
        })
        .collect();
    let accounts: Vec<Value> = item
        .get("serviceAccounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|sa| json!({"email": text(sa, "email"), "scopes": strings(sa, "scopes")}))
        .collect();
    let scheduling = item.get("scheduling").cloned().unwrap_or(Value::Null);
    let attributes = object(json!({
        "zone": short(text(item, "zone")),
        "machine_type": short(text(item, "machineType")),
        "can_ip_forward": flag(item, "canIpForward"),
        "deletion_protection": flag(item, "deletionProtection"),
        "labels": labels(item),
        "tags": item.pointer("/tags/items").cloned().unwrap_or(json!([])),
        "metadata": metadata,
        "network_interface": interfaces,
        "service_account": accounts,
        "scheduling": [{
            "automatic_restart": scheduling.get("automaticRestart").and_then(Value::as_bool).unwrap_or(true),
            "on_host_maintenance": text(&scheduling, "onHostMaintenance"),
            "preemptible": flag(&scheduling, "preemptible"),
        }],
        "current_status": text(item, "status"),
    }));
    resource("google_compute_instance", item, attributes)
}

/// The `projects/...` path of an instance's boot disk, if it has one.
pub fn boot_disk(item: &Value) -> Option<&str> {
    item.get("disks")?
        .as_array()?
        .iter()
        .find(|disk| disk.get("boot").and_then(Value::as_bool).unwrap_or(false))
        .and_then(|disk| relative(text(disk, "source")))
}

pub fn network(item: &Value) -> Option<LiveResource> {
    let attributes = object(json!({
        "auto_create_subnetworks": item.get("autoCreateSubnetworks").and_then(Value::as_bool).unwrap_or(false),
        "routing_mode": item.pointer("/routingConfig/routingMode").cloned().unwrap_or(Value::Null),
        "mtu": number(item, "mtu"),
    }));
    let mut live = resource("google_compute_network", item, attributes)?;
    live.is_default = text(item, "name") == "default";
    Some(live)
}

pub fn subnetwork(item: &Value) -> Option<LiveResource> {
    let secondary: Vec<Value> = item
        .get("secondaryIpRanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| json!({"range_name": text(r, "rangeName"), "ip_cidr_range": text(r, "ipCidrRange")}))
        .collect();
    let attributes = object(json!({
        "region": short(text(item, "region")),
        "network": link(item, "network"),
        "ip_cidr_range": text(item, "ipCidrRange"),
        "gateway_address": text(item, "gatewayAddress"),
        "private_ip_google_access": flag(item, "privateIpGoogleAccess"),
        "secondary_ip_range": secondary,
    }));
    let mut live = resource("google_compute_subnetwork", item, attributes)?;
    // The subnets of an auto-mode network are created by GCP, one per region.
    live.is_default = short(text(item, "network")) == "default" && text(item, "name") == "default";
    Some(live)
}

/// Allowed or denied rules in the provider's shape (`protocol`, `ports`).
fn firewall_rules(item: &Value, key: &str) -> Value {
    let rules: Vec<Value> = item
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|rule| json!({"protocol": text(rule, "IPProtocol"), "ports": strings(rule, "ports")}))
        .collect();
    Value::Array(rules)
}

pub fn firewall(item: &Value) -> Option<LiveResource> {
    let attributes = object(json!({
        "network": link(item, "network"),
        "direction": text(item, "direction"),
        "priority": number(item, "priority"),
        "disabled": flag(item, "disabled"),
        "allow": firewall_rules(item, "allowed"),
        "deny": firewall_rules(item, "denied"),
        "source_ranges": strings(item, "sourceRanges"),
        "destination_ranges": strings(item, "destinationRanges"),
        "source_tags": strings(item, "sourceTags"),
        "target_tags": strings(item, "targetTags"),
        "source_service_accounts": strings(item, "sourceServiceAccounts"),
        "target_service_accounts": strings(item, "targetServiceAccounts"),
    }));
    let mut live = resource("google_compute_firewall", item, attributes)?;
    // GCP creates default-allow-{internal,ssh,rdp,icmp} with the default network.
    live.is_default =
        short(text(item, "network")) == "default" && text(item, "name").starts_with("default-allow-");
    Some(live)
}

pub fn disk(item: &Value) -> Option<LiveResource> {
    let attributes = object(json!({
        "zone": short(text(item, "zone")),
        "size": number(item, "sizeGb"),
        "type": short(text(item, "type")),
        "image": link(item, "sourceImage"),
        "labels": labels(item),
        "users": strings(item, "users"),
    }));
    resource("google_compute_disk", item, attributes)
}

pub fn address(item: &Value) -> Option<LiveResource> {
    let attributes = object(json!({
        "region": short(text(item, "region")),
        "address": text(item, "address"),
        "address_type": text(item, "addressType"),
        "network_tier": text(item, "networkTier"),
        "purpose": text(item, "purpose"),
        "subnetwork": link(item, "subnetwork"),
        "network": link(item, "network"),
        "labels": labels(item),
    }));
    resource("google_compute_address", item, attributes)
}

pub fn router(item: &Value) -> Option<LiveResource> {
    let bgp: Vec<Value> = item
        .get("bgp")
        .into_iter()
        .map(|bgp| {
            let ranges: Vec<Value> = bgp
                .get("advertisedIpRanges")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| json!({"range": text(r, "range"), "description": text(r, "description")}))
                .collect();
            json!({
                "asn": number(bgp, "asn"),
                "advertise_mode": text(bgp, "advertiseMode"),
                "advertised_groups": strings(bgp, "advertisedGroups"),
                "advertised_ip_ranges": ranges,
            })
        })
        .collect();
    let attributes = object(json!({
        "region": short(text(item, "region")),
        "network": link(item, "network"),
        "bgp": bgp,
    }));
    resource("google_compute_router", item, attributes)
}

pub fn route(item: &Value) -> Option<LiveResource> {
    let attributes = object(json!({
        "network": link(item, "network"),
        "dest_range": text(item, "destRange"),
        "priority": number(item, "priority"),
        "tags": strings(item, "tags"),
        "next_hop_gateway": link(item, "nextHopGateway"),
        "next_hop_instance": link(item, "nextHopInstance"),
        "next_hop_ip": text(item, "nextHopIp"),
        "next_hop_vpn_tunnel": link(item, "nextHopVpnTunnel"),
        "next_hop_ilb": text(item, "nextHopIlb"),
        "next_hop_network": link(item, "nextHopNetwork"),
    }));
    let mut live = resource("google_compute_route", item, attributes)?;
    // GCP creates a default Internet route and one route per subnet range.
    live.is_default = text(item, "name").starts_with("default-route-");
    Some(live)
}
