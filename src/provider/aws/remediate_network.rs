//! Putting network wiring back: routes of a route table, entries of a network ACL,
//! the association of an Elastic IP and the attachment of an internet gateway. The
//! entries are the ones the diff names (`0.0.0.0/0 -> igw-1`,
//! `100 allow tcp 0.0.0.0/0 443-443`); each is parsed back into the call that adds or
//! removes it.

use aws_sdk_ec2::types::{PortRange, RuleAction};

use super::AwsProvider;
use super::errors::classify;
use super::remediate::{error, text};
use crate::crd::{AttributeChange, ResourceTarget, Risk};
use crate::drift::entry_of;
use crate::provider::ProviderError;

/// A route as the diff names it: destination and target.
#[derive(Debug, PartialEq, Eq)]
pub struct Route<'a> {
    pub destination: &'a str,
    pub target: &'a str,
}

pub fn parse_route(entry: &str) -> Option<Route<'_>> {
    let (destination, target) = entry.split_once(" -> ")?;
    (!destination.is_empty() && !target.is_empty()).then_some(Route { destination, target })
}

/// A network ACL entry as the diff names it.
#[derive(Debug, PartialEq, Eq)]
pub struct AclEntry<'a> {
    pub rule: i32,
    pub allow: bool,
    /// The protocol number AWS takes (`6`, `17`, `1`, `58`, `-1`).
    pub protocol: String,
    pub source: &'a str,
    pub ports: Option<(i32, i32)>,
}

pub fn parse_acl_entry(entry: &str) -> Option<AclEntry<'_>> {
    let mut parts = entry.split_whitespace();
    let (rule, action, protocol, source, ports) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let protocol = match protocol {
        "all" => "-1".to_string(),
        "tcp" => "6".to_string(),
        "udp" => "17".to_string(),
        "icmp" => "1".to_string(),
        "icmpv6" => "58".to_string(),
        number if number.parse::<i32>().is_ok() => number.to_string(),
        _ => return None,
    };
    let ports = match ports.split_once('-') {
        Some((from, to)) if !from.is_empty() => Some((from.parse().ok()?, to.parse().ok()?)),
        _ => None,
    };
    Some(AclEntry {
        rule: rule.parse().ok()?,
        allow: match action {
            "allow" => true,
            "deny" => false,
            _ => return None,
        },
        protocol,
        source,
        ports,
    })
}

/// The risk of putting a network change back, or `None` when it cannot be.
pub fn fix_risk(type_: &str, change: &AttributeChange) -> Option<Risk> {
    // Adding back what state has restores a path; taking away what the cloud added may
    // cut traffic that now depends on it.
    let restore = || if change.expected.is_some() { Risk::Safe } else { Risk::Disruptive };
    match (type_, change.path.as_str()) {
        ("aws_route_table", "route") => parse_route(&entry_of(change)?).map(|_| restore()),
        ("aws_network_acl", "ingress" | "egress") => parse_acl_entry(&entry_of(change)?).map(|_| restore()),
        // Moving or removing an address or a gateway interrupts whoever uses it.
        ("aws_eip", "instance" | "network_interface") => Some(Risk::Disruptive),
        ("aws_internet_gateway", "vpc_id") => Some(Risk::Disruptive),
        _ => None,
    }
}

impl AwsProvider {
    /// Applies route, ACL, address and gateway changes of one resource.
    pub(super) async fn apply_network(
        &self,
        target: &ResourceTarget,
        changes: &[&AttributeChange],
    ) -> Result<Vec<String>, ProviderError> {
        let ec2 = self.ec2_client(&self.region_of(target));
        let guard = &self.settings.guard;
        let id = target.id.as_str();
        let mut done = Vec::new();
        // Removals first: a rule number or route destination that changed is taken away
        // before its state version is put back.
        let mut ordered: Vec<&&AttributeChange> = changes.iter().collect();
        ordered.sort_by_key(|c| c.expected.is_some());
        match target.type_.as_str() {
            "aws_route_table" => {
                for change in ordered {
                    let entry = entry_of(change).unwrap_or_default();
                    let route = parse_route(&entry).ok_or_else(|| {
                        ProviderError::Other(format!("route {entry:?} of {id} cannot be parsed"))
                    })?;
                    if change.expected.is_some() {
                        let call = route_target(
                            destination(ec2.create_route().route_table_id(id), route.destination),
                            route.target,
                        );
                        guard
                            .call("ec2", "CreateRoute", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("CreateRoute", target, &e))?;
                        done.push(format!("CreateRoute {entry}"));
                    } else {
                        let call = ec2.delete_route().route_table_id(id);
                        let call = match route.destination {
                            d if d.starts_with("pl-") => call.destination_prefix_list_id(d),
                            d if d.contains(':') => call.destination_ipv6_cidr_block(d),
                            d => call.destination_cidr_block(d),
                        };
                        guard
                            .call("ec2", "DeleteRoute", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("DeleteRoute", target, &e))?;
                        done.push(format!("DeleteRoute {entry}"));
                    }
                }
            }
            "aws_network_acl" => {
                for change in ordered {
                    let entry_text = entry_of(change).unwrap_or_default();
                    let entry = parse_acl_entry(&entry_text).ok_or_else(|| {
                        ProviderError::Other(format!("ACL entry {entry_text:?} of {id} cannot be parsed"))
                    })?;
                    let egress = change.path == "egress";
                    if change.expected.is_some() {
                        let mut call = ec2
                            .create_network_acl_entry()
                            .network_acl_id(id)
                            .rule_number(entry.rule)
                            .protocol(&entry.protocol)
                            .rule_action(if entry.allow { RuleAction::Allow } else { RuleAction::Deny })
                            .egress(egress);
                        call = if entry.source.contains(':') {
                            call.ipv6_cidr_block(entry.source)
                        } else {
                            call.cidr_block(entry.source)
                        };
                        if let Some((from, to)) = entry.ports.filter(|_| entry.protocol != "-1") {
                            call = call.port_range(PortRange::builder().from(from).to(to).build());
                        }
                        guard
                            .call("ec2", "CreateNetworkAclEntry", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("CreateNetworkAclEntry", target, &e))?;
                        done.push(format!("CreateNetworkAclEntry {}: {entry_text}", change.path));
                    } else {
                        let call = ec2
                            .delete_network_acl_entry()
                            .network_acl_id(id)
                            .rule_number(entry.rule)
                            .egress(egress);
                        guard
                            .call("ec2", "DeleteNetworkAclEntry", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("DeleteNetworkAclEntry", target, &e))?;
                        done.push(format!("DeleteNetworkAclEntry {}: {entry_text}", change.path));
                    }
                }
            }
            "aws_eip" => {
                // The state's association decides: an instance, else an interface, else none.
                let wanted = |path: &str| {
                    changes
                        .iter()
                        .find(|c| c.path == path)
                        .map(|c| text(&c.expected))
                        .filter(|v| !v.is_empty())
                };
                let (instance, interface) = (wanted("instance"), wanted("network_interface"));
                let out = guard
                    .call("ec2", "DescribeAddresses", classify, || {
                        ec2.describe_addresses().allocation_ids(id).send()
                    })
                    .await
                    .map_err(|e| error("DescribeAddresses", target, &e))?;
                if let Some(association) = out.addresses().first().and_then(|a| a.association_id()) {
                    let call = ec2.disassociate_address().association_id(association);
                    guard
                        .call("ec2", "DisassociateAddress", classify, || call.clone().send())
                        .await
                        .map_err(|e| error("DisassociateAddress", target, &e))?;
                    done.push("DisassociateAddress".to_string());
                }
                if instance.is_some() || interface.is_some() {
                    let mut call = ec2.associate_address().allocation_id(id);
                    call = match (&instance, &interface) {
                        (Some(instance), _) => call.instance_id(instance),
                        (None, Some(interface)) => call.network_interface_id(interface),
                        (None, None) => call,
                    };
                    guard
                        .call("ec2", "AssociateAddress", classify, || call.clone().send())
                        .await
                        .map_err(|e| error("AssociateAddress", target, &e))?;
                    done.push(format!("AssociateAddress {}", instance.or(interface).unwrap_or_default()));
                }
            }
            "aws_internet_gateway" => {
                for change in ordered {
                    if let Some(vpc) = Some(text(&change.actual)).filter(|v| !v.is_empty()) {
                        let call = ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(&vpc);
                        guard
                            .call("ec2", "DetachInternetGateway", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("DetachInternetGateway", target, &e))?;
                        done.push(format!("DetachInternetGateway {vpc}"));
                    }
                    if let Some(vpc) = Some(text(&change.expected)).filter(|v| !v.is_empty()) {
                        let call = ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(&vpc);
                        guard
                            .call("ec2", "AttachInternetGateway", classify, || call.clone().send())
                            .await
                            .map_err(|e| error("AttachInternetGateway", target, &e))?;
                        done.push(format!("AttachInternetGateway {vpc}"));
                    }
                }
            }
            other => {
                return Err(ProviderError::Other(format!(
                    "network attributes of {other} cannot be set in place"
                )));
            }
        }
        Ok(done)
    }
}

type CreateRoute = aws_sdk_ec2::operation::create_route::builders::CreateRouteFluentBuilder;

fn destination(call: CreateRoute, destination: &str) -> CreateRoute {
    match destination {
        d if d.starts_with("pl-") => call.destination_prefix_list_id(d),
        d if d.contains(':') => call.destination_ipv6_cidr_block(d),
        d => call.destination_cidr_block(d),
    }
}

/// The CreateRoute parameter a target id belongs in, by its prefix.
fn route_target(call: CreateRoute, target: &str) -> CreateRoute {
    match target.split('-').next().unwrap_or_default() {
        "igw" | "vgw" => call.gateway_id(target),
        "nat" => call.nat_gateway_id(target),
        "tgw" => call.transit_gateway_id(target),
        "pcx" => call.vpc_peering_connection_id(target),
        "vpce" => call.vpc_endpoint_id(target),
        "eigw" => call.egress_only_internet_gateway_id(target),
        "cagw" => call.carrier_gateway_id(target),
        "lgw" => call.local_gateway_id(target),
        "eni" => call.network_interface_id(target),
        "i" => call.instance_id(target),
        _ if target.starts_with("arn:") => call.core_network_arn(target),
        _ => call.gateway_id(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_back_into_their_parts() {
        assert_eq!(
            parse_route("0.0.0.0/0 -> igw-1"),
            Some(Route { destination: "0.0.0.0/0", target: "igw-1" })
        );
        assert_eq!(parse_route("pl-9 -> vpce-2").map(|r| r.target), Some("vpce-2"));
        assert_eq!(parse_route("10.0.0.0/16 -> "), None, "a route without a target");
        let entry = parse_acl_entry("100 allow tcp 0.0.0.0/0 443-443").expect("entry");
        assert_eq!(
            (entry.rule, entry.allow, entry.protocol.as_str(), entry.ports),
            (100, true, "6", Some((443, 443)))
        );
        let all = parse_acl_entry("200 deny all ::/0 0-0").expect("entry");
        assert_eq!((all.allow, all.protocol.as_str(), all.source), (false, "-1", "::/0"));
        assert_eq!(parse_acl_entry("x allow tcp 0.0.0.0/0 1-2"), None);
    }

    #[test]
    fn putting_back_is_safe_and_taking_away_disruptive() {
        let change = |expected, actual| AttributeChange::new("route", expected, actual);
        assert_eq!(
            fix_risk("aws_route_table", &change(Some("\"0.0.0.0/0 -> igw-1\""), None)),
            Some(Risk::Safe)
        );
        assert_eq!(
            fix_risk("aws_route_table", &change(None, Some("\"0.0.0.0/0 -> nat-1\""))),
            Some(Risk::Disruptive)
        );
        assert_eq!(fix_risk("aws_route_table", &change(None, Some("\"garbage\""))), None);
    }
}
