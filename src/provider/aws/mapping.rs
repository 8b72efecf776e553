//! SDK types to `LiveResource`s with Terraform's attribute names (as the AWS
//! provider writes them to state), so the engine compares like with like.

use aws_sdk_ec2::types::{
    Address, Instance, InstanceStateName, InternetGateway, IpPermission, KeyPairInfo, NatGateway,
    NatGatewayState, NetworkAcl, RouteTable, SecurityGroup, Subnet, Tag, Volume, Vpc,
};
use serde_json::{Map, Value, json};

use crate::provider::LiveResource;

fn tags(tags: &[Tag]) -> Value {
    let map: Map<String, Value> = tags
        .iter()
        .filter_map(|t| {
            Some((t.key()?.to_string(), Value::String(t.value().unwrap_or_default().to_string())))
        })
        .collect();
    Value::Object(map)
}

fn resource(type_: &str, id: &str, region: &str, attributes: Value, is_default: bool) -> LiveResource {
    let attributes = match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    LiveResource {
        type_: type_.into(),
        id: id.into(),
        region: Some(region.into()),
        attributes,
        is_default,
        part_of: None,
    }
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
        "availability_zone": i.placement().and_then(|p| p.availability_zone()),
        "private_ip": i.private_ip_address(),
        "public_ip": i.public_ip_address(),
        "ebs_optimized": i.ebs_optimized(),
        "source_dest_check": i.source_dest_check(),
        "monitoring": i.monitoring().and_then(|m| m.state()).map(|s| s.as_str() == "enabled"),
        "instance_state": state.map(|s| s.as_str()),
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
    Some(resource("aws_instance", id, region, attributes, false))
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

pub fn route_table(t: &RouteTable, region: &str) -> LiveResource {
    let id = t.route_table_id().unwrap_or_default();
    let routes: Vec<Value> = t
        .routes()
        .iter()
        // The local route of the VPC and routes added by AWS are not Terraform's.
        .filter(|r| {
            r.gateway_id() != Some("local") && r.origin().is_none_or(|o| o.as_str() != "CreateRouteTable")
        })
        .map(|r| {
            json!({
                "cidr_block": r.destination_cidr_block().unwrap_or_default(),
                "ipv6_cidr_block": r.destination_ipv6_cidr_block().unwrap_or_default(),
                "gateway_id": r.gateway_id().unwrap_or_default(),
                "nat_gateway_id": r.nat_gateway_id().unwrap_or_default(),
                "network_interface_id": r.network_interface_id().unwrap_or_default(),
                "transit_gateway_id": r.transit_gateway_id().unwrap_or_default(),
                "vpc_peering_connection_id": r.vpc_peering_connection_id().unwrap_or_default(),
            })
        })
        .collect();
    let is_main = t.associations().iter().any(|a| a.main().unwrap_or(false));
    let attributes = json!({"id": id, "vpc_id": t.vpc_id(), "route": routes, "tags": tags(t.tags())});
    resource("aws_route_table", id, region, attributes, is_main)
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
            // Rule 32767 is the implicit deny-all every ACL has.
            .filter(|e| e.egress() == Some(egress) && e.rule_number() != Some(32767))
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
