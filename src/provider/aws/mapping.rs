//! SDK types to `LiveResource`s with Terraform's attribute names (as the AWS
//! provider writes them to state), so the engine compares like with like.

use aws_sdk_ec2::types::{
    Address, Instance, InstanceStateName, InternetGateway, IpPermission, KeyPairInfo, NatGateway,
    NatGatewayState, NetworkAcl, RouteTable, SecurityGroup, SecurityGroupRule, Subnet, Tag, Volume, Vpc,
};
use serde_json::{Map, Value, json};

use crate::attributes::Attributes;
use crate::provider::LiveResource;

pub(super) fn tags(tags: &[Tag]) -> Value {
    let map: Map<String, Value> = tags
        .iter()
        .filter_map(|t| {
            Some((t.key()?.to_string(), Value::String(t.value().unwrap_or_default().to_string())))
        })
        .collect();
    Value::Object(map)
}

fn resource(type_: &str, id: &str, region: &str, attributes: Value, is_default: bool) -> LiveResource {
    LiveResource { is_default, ..live(type_, id, Some(region), attributes) }
}

/// A live resource of any AWS service with Terraform's attribute names (global ones
/// have no region); not default, part of nothing.
pub(super) fn live(type_: &str, id: &str, region: Option<&str>, attributes: Value) -> LiveResource {
    let mut attributes = match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    // What the API leaves out compares as unset either way; storing nulls costs memory.
    attributes.retain(|_, value| !value.is_null());
    LiveResource {
        type_: type_.into(),
        id: id.into(),
        region: region.map(str::to_string),
        attributes: Attributes::from_map(attributes, super::fold::known_name),
        is_default: false,
        part_of: None,
    }
}

/// A resource known only by its tags (what remediation reads of types whose other
/// attributes it does not change).
pub fn tags_only(type_: &str, id: &str, region: &str, attributes: Map<String, Value>) -> LiveResource {
    resource(type_, id, region, Value::Object(attributes), false)
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut out: Vec<String> = values.flatten().map(str::to_string).collect();
    out.sort();
    out
}

pub fn instance(i: &Instance, region: &str) -> Option<LiveResource> {
    let state = i.state().and_then(|s| s.name());
    // Terminated instances linger in listings for a while; they no longer exist.
    if matches!(state, Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)) {
        return None;
    }
    let id = i.instance_id()?;
    let attributes = json!({
        "id": id,
        "ami": i.image_id(),
        "instance_type": i.instance_type().map(|t| t.as_str()),
        "subnet_id": i.subnet_id(),
        "vpc_security_group_ids": strings(i.security_groups().iter().map(|g| g.group_id())),
        "key_name": i.key_name(),
        "ebs_optimized": i.ebs_optimized(),
        "source_dest_check": i.source_dest_check(),
        "monitoring": i.monitoring().and_then(|m| m.state()).map(|s| s.as_str() == "enabled"),
        "iam_instance_profile": i.iam_instance_profile().and_then(|p| p.arn()).and_then(|arn| arn.rsplit('/').next()),
        "tags": tags(i.tags()),
        // Volumes launched with the instance (Terraform's root_block_device and
        // ebs_block_device); not compared, used to link those volumes to it.
        "block_device_volume_ids": strings(
            i.block_device_mappings()
                .iter()
                .filter_map(|m| m.ebs())
                .filter(|e| e.delete_on_termination().unwrap_or(false))
                .map(|e| e.volume_id())
        ),
    });
    // An instance an Auto Scaling group launched is the group's (AWS tags it so).
    let group =
        i.tags().iter().find(|t| t.key() == Some("aws:autoscaling:groupName")).and_then(|t| t.value());
    let part_of = group.map(|g| ("aws_autoscaling_group".to_string(), g.to_string()));
    Some(LiveResource { part_of, ..resource("aws_instance", id, region, attributes, false) })
}

pub fn vpc(v: &Vpc, region: &str) -> LiveResource {
    let id = v.vpc_id().unwrap_or_default();
    let attributes = json!({
        "id": id,
        "cidr_block": v.cidr_block(),
        "instance_tenancy": v.instance_tenancy().map(|t| t.as_str()),
        "tags": tags(v.tags()),
    });
    resource("aws_vpc", id, region, attributes, v.is_default().unwrap_or(false))
}

pub fn subnet(s: &Subnet, region: &str) -> LiveResource {
    let id = s.subnet_id().unwrap_or_default();
    let attributes = json!({
        "id": id,
        "vpc_id": s.vpc_id(),
        "cidr_block": s.cidr_block(),
        "availability_zone": s.availability_zone(),
        "map_public_ip_on_launch": s.map_public_ip_on_launch(),
        "tags": tags(s.tags()),
    });
    resource("aws_subnet", id, region, attributes, s.default_for_az().unwrap_or(false))
}

/// One IpPermission in the shape of the provider's `ingress`/`egress` blocks.
fn permission(p: &IpPermission, own_group: &str) -> Value {
    let groups = p.user_id_group_pairs();
    json!({
        "protocol": p.ip_protocol(),
        "from_port": p.from_port().unwrap_or(0),
        "to_port": p.to_port().unwrap_or(0),
        "cidr_blocks": strings(p.ip_ranges().iter().map(|r| r.cidr_ip())),
        "ipv6_cidr_blocks": strings(p.ipv6_ranges().iter().map(|r| r.cidr_ipv6())),
        "prefix_list_ids": strings(p.prefix_list_ids().iter().map(|r| r.prefix_list_id())),
        "security_groups": strings(groups.iter().map(|g| g.group_id()).filter(|g| *g != Some(own_group))),
        "self": groups.iter().any(|g| g.group_id() == Some(own_group)),
        "description": p.ip_ranges().iter().find_map(|r| r.description()).unwrap_or_default(),
    })
}

pub fn security_group(g: &SecurityGroup, region: &str) -> LiveResource {
    let id = g.group_id().unwrap_or_default();
    let attributes = json!({
        "id": id,
        "name": g.group_name(),
        "description": g.description(),
        "vpc_id": g.vpc_id(),
        "ingress": g.ip_permissions().iter().map(|p| permission(p, id)).collect::<Vec<_>>(),
        "egress": g.ip_permissions_egress().iter().map(|p| permission(p, id)).collect::<Vec<_>>(),
        "tags": tags(g.tags()),
    });
    resource("aws_security_group", id, region, attributes, g.group_name() == Some("default"))
}

pub fn volume(v: &Volume, region: &str) -> LiveResource {
    let id = v.volume_id().unwrap_or_default();
    let mut attachments: Vec<String> = v
        .attachments()
        .iter()
        .filter_map(|a| Some(format!("{} {}", a.instance_id()?, a.device().unwrap_or_default())))
        .collect();
    attachments.sort();
    let attributes = json!({
        "id": id,
        "availability_zone": v.availability_zone(),
        "size": v.size(),
        "type": v.volume_type().map(|t| t.as_str()),
        "iops": v.iops(),
        "throughput": v.throughput(),
        "encrypted": v.encrypted(),
        "kms_key_id": v.kms_key_id(),
        "snapshot_id": v.snapshot_id().filter(|s| !s.is_empty()),
        "multi_attach_enabled": v.multi_attach_enabled(),
        // What `aws_volume_attachment` checks: `instance device` per attachment.
        "attachments": attachments,
        "tags": tags(v.tags()),
    });
    let mut volume = resource("aws_ebs_volume", id, region, attributes, false);
    // Volumes launched with an instance go away with it; Terraform manages them
    // inline in the instance (root_block_device / ebs_block_device).
    volume.part_of = v
        .attachments()
        .iter()
        .find(|a| a.delete_on_termination().unwrap_or(false))
        .and_then(|a| a.instance_id())
        .map(|instance| ("aws_instance".to_string(), instance.to_string()));
    volume
}

pub fn address(a: &Address, region: &str) -> Option<LiveResource> {
    // Terraform's id for a VPC address is its allocation id.
    let id = a.allocation_id().or(a.public_ip())?;
    let attributes = json!({
        "id": id,
        "public_ip": a.public_ip(),
        "domain": a.domain().map(|d| d.as_str()),
        "instance": a.instance_id(),
        "network_interface": a.network_interface_id(),
        "tags": tags(a.tags()),
    });
    Some(resource("aws_eip", id, region, attributes, false))
}

pub fn internet_gateway(g: &InternetGateway, region: &str) -> LiveResource {
    let id = g.internet_gateway_id().unwrap_or_default();
    let attributes = json!({
        "id": id,
        "vpc_id": g.attachments().iter().find_map(|a| a.vpc_id()),
        "tags": tags(g.tags()),
    });
    resource("aws_internet_gateway", id, region, attributes, false)
}

pub fn nat_gateway(g: &NatGateway, region: &str) -> Option<LiveResource> {
    if matches!(g.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting)) {
        return None;
    }
    let id = g.nat_gateway_id()?;
    let attributes = json!({
        "id": id,
        "subnet_id": g.subnet_id(),
        "allocation_id": g.nat_gateway_addresses().iter().find_map(|a| a.allocation_id()),
        "connectivity_type": g.connectivity_type().map(|c| c.as_str()),
        "tags": tags(g.tags()),
    });
    Some(resource("aws_nat_gateway", id, region, attributes, false))
}

/// Whether Terraform's `route` attribute would list this route. The provider leaves
/// out the VPC's local route, routes AWS adds itself (the table's own, VGW-propagated
/// ones) and gateway-endpoint routes to a prefix list (`vpce-` gateway targets).
fn terraform_lists_route(r: &aws_sdk_ec2::types::Route) -> bool {
    let origin = r.origin().map(|o| o.as_str()).unwrap_or("CreateRoute");
    let gateway = r.gateway_id().unwrap_or_default();
    origin == "CreateRoute" && gateway != "local" && !gateway.starts_with("vpce-")
}

pub fn route_table(t: &RouteTable, region: &str) -> LiveResource {
    let id = t.route_table_id().unwrap_or_default();
    let routes: Vec<Value> = t
        .routes()
        .iter()
        .filter(|r| terraform_lists_route(r))
        .map(|r| {
            json!({
                "cidr_block": r.destination_cidr_block(),
                "ipv6_cidr_block": r.destination_ipv6_cidr_block(),
                "destination_prefix_list_id": r.destination_prefix_list_id(),
                "gateway_id": r.gateway_id(),
                "egress_only_gateway_id": r.egress_only_internet_gateway_id(),
                "nat_gateway_id": r.nat_gateway_id(),
                "transit_gateway_id": r.transit_gateway_id(),
                "vpc_peering_connection_id": r.vpc_peering_connection_id(),
                "carrier_gateway_id": r.carrier_gateway_id(),
                "local_gateway_id": r.local_gateway_id(),
                "core_network_arn": r.core_network_arn(),
                "network_interface_id": r.network_interface_id(),
                "instance_id": r.instance_id(),
            })
        })
        .collect();
    let is_main = t.associations().iter().any(|a| a.main().unwrap_or(false));
    // What `aws_route_table_association` / `aws_main_route_table_association` check.
    let associations =
        strings(t.associations().iter().map(|a| {
            if a.main().unwrap_or(false) { Some("main") } else { a.subnet_id().or(a.gateway_id()) }
        }));
    let attributes = json!({"id": id, "vpc_id": t.vpc_id(), "route": routes, "associations": associations,
        "tags": tags(t.tags())});
    resource("aws_route_table", id, region, attributes, is_main)
}

/// A rule with its own id (`sgr-...`), as `aws_vpc_security_group_ingress_rule` or
/// `_egress_rule` records it. Part of its group, so never unmanaged on its own.
pub fn security_group_rule(r: &SecurityGroupRule, region: &str) -> Option<LiveResource> {
    let id = r.security_group_rule_id()?;
    let group = r.group_id()?;
    let type_ = if r.is_egress()? {
        "aws_vpc_security_group_egress_rule"
    } else {
        "aws_vpc_security_group_ingress_rule"
    };
    let protocol = r.ip_protocol().unwrap_or_default();
    // The provider records no ports for "all protocols"; the API says -1.
    let port = |p: Option<i32>| if protocol == "-1" { None } else { p };
    let attributes = json!({
        "id": id,
        "security_group_rule_id": id,
        "security_group_id": group,
        "ip_protocol": protocol,
        "from_port": port(r.from_port()),
        "to_port": port(r.to_port()),
        "cidr_ipv4": r.cidr_ipv4(),
        "cidr_ipv6": r.cidr_ipv6(),
        "prefix_list_id": r.prefix_list_id(),
        "referenced_security_group_id": r.referenced_group_info().and_then(|g| g.group_id()),
        "description": r.description(),
        "tags": tags(r.tags()),
    });
    let mut rule = resource(type_, id, region, attributes, false);
    rule.part_of = Some(("aws_security_group".into(), group.to_string()));
    Some(rule)
}

pub fn key_pair(k: &KeyPairInfo, region: &str) -> Option<LiveResource> {
    // Terraform's id for a key pair is its name.
    let name = k.key_name()?;
    let attributes = json!({
        "id": name,
        "key_name": name,
        "key_pair_id": k.key_pair_id(),
        "fingerprint": k.key_fingerprint(),
        "tags": tags(k.tags()),
    });
    Some(resource("aws_key_pair", name, region, attributes, false))
}

pub fn network_acl(a: &NetworkAcl, region: &str) -> LiveResource {
    let id = a.network_acl_id().unwrap_or_default();
    let entries = |egress: bool| -> Vec<Value> {
        a.entries()
            .iter()
            // Rules 32767 (IPv4) and 32768 (IPv6) are the implicit deny-all every ACL
            // has; Terraform never records them.
            .filter(|e| e.egress() == Some(egress) && !matches!(e.rule_number(), Some(32767 | 32768)))
            .map(|e| {
                json!({
                    "rule_no": e.rule_number(),
                    "action": e.rule_action().map(|r| r.as_str()),
                    "protocol": e.protocol(),
                    "cidr_block": e.cidr_block().unwrap_or_default(),
                    "ipv6_cidr_block": e.ipv6_cidr_block().unwrap_or_default(),
                    "from_port": e.port_range().and_then(|p| p.from()).unwrap_or(0),
                    "to_port": e.port_range().and_then(|p| p.to()).unwrap_or(0),
                })
            })
            .collect()
    };
    let attributes = json!({
        "id": id,
        "vpc_id": a.vpc_id(),
        "ingress": entries(false),
        "egress": entries(true),
        "subnet_ids": strings(a.associations().iter().map(|s| s.subnet_id())),
        "tags": tags(a.tags()),
    });
    resource("aws_network_acl", id, region, attributes, a.is_default().unwrap_or(false))
}

/// Marks the internet gateways attached to a default VPC as default objects: every
/// account has one per region, with the default route to it.
pub fn mark_default_vpc_gateways(resources: &mut [LiveResource]) {
    let default_vpcs: std::collections::HashSet<(Option<String>, String)> = resources
        .iter()
        .filter(|r| r.type_ == "aws_vpc" && r.is_default)
        .map(|r| (r.region.clone(), r.id.clone()))
        .collect();
    for gateway in resources.iter_mut().filter(|r| r.type_ == "aws_internet_gateway") {
        let vpc = gateway.attributes.get("vpc_id").and_then(Value::as_str).unwrap_or_default();
        if default_vpcs.contains(&(gateway.region.clone(), vpc.to_string())) {
            gateway.is_default = true;
        }
    }
}

/// Marks volumes that instances launched with as part of those instances.
pub fn link_instance_volumes(resources: &mut [LiveResource]) {
    let owners: std::collections::HashMap<String, String> = resources
        .iter()
        .filter(|r| r.type_ == "aws_instance")
        .flat_map(|r| {
            let volumes = r
                .attributes
                .get("block_device_volume_ids")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            volumes.into_iter().filter_map(|v| v.as_str().map(|v| (v.to_string(), r.id.clone())))
        })
        .collect();
    for volume in resources.iter_mut().filter(|r| r.type_ == "aws_ebs_volume" && r.part_of.is_none()) {
        if let Some(instance) = owners.get(&volume.id) {
            volume.part_of = Some(("aws_instance".into(), instance.clone()));
        }
    }
}
