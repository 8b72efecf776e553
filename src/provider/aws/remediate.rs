//! Putting drifted EC2 attributes back: which changes AWS can make in place and at
//! what risk, reading one resource as discovery maps it, and the calls that make
//! each change. Every call goes through the account guard, like discovery's.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, InstanceStateName, InstanceType, IpPermission, IpRange, Ipv6Range,
    PrefixListId, Tag, UserIdGroupPair, VolumeType,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::{Map, Value};

use super::AwsProvider;
use super::errors::{classify, reason_and_message};
use super::mapping;
use crate::crd::{AttributeChange, ResourceTarget, Risk};
use crate::drift::entry_of;
use crate::provider::{LiveResource, ProviderError};
use crate::resilience::GuardError;

/// How long a stop (before an instance attribute that needs one) may take.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Types `DeleteUnmanaged` can delete, one call each.
pub const DELETABLE: &[&str] =
    &["aws_instance", "aws_ebs_volume", "aws_security_group", "aws_subnet", "aws_eip", "aws_key_pair"];

/// Attributes AWS can set back in place, and the risk of doing it.
pub fn fix_risk(type_: &str, change: &AttributeChange) -> Option<Risk> {
    if let Some(key) = change.path.strip_prefix("tags.") {
        // Tags are written through EC2's tagging API, which only EC2 types answer to;
        // `aws:` tags belong to AWS and cannot be written.
        return (super::types::tagged_through_ec2(type_) && !key.starts_with("aws:")).then_some(Risk::Safe);
    }
    match (type_, change.path.as_str()) {
        // These need the instance stopped: it is stopped and started again.
        ("aws_instance", "instance_type" | "ebs_optimized") => Some(Risk::Disruptive),
        ("aws_instance", "source_dest_check" | "vpc_security_group_ids") => Some(Risk::Safe),
        // Elastic Volumes change online; a volume can grow, never shrink.
        ("aws_ebs_volume", "size") => {
            let number =
                |v: &Option<String>| v.as_deref().and_then(|t| t.trim_matches('"').parse::<f64>().ok());
            (number(&change.expected)? > number(&change.actual)?).then_some(Risk::Safe)
        }
        ("aws_ebs_volume", "type" | "iops" | "throughput") => Some(Risk::Safe),
        ("aws_subnet", "map_public_ip_on_launch") => Some(Risk::Safe),
        // Putting a rule back opens what state opens; taking one away may cut traffic
        // that now depends on it.
        ("aws_security_group", "ingress" | "egress") => {
            parse_rule(&entry_of(change)?, "sg-self")?;
            Some(if change.expected.is_some() { Risk::Safe } else { Risk::Disruptive })
        }
        _ => super::remediate_network::fix_risk(type_, change),
    }
}

/// A reported value as the text an API call takes (a JSON string unquoted).
pub(super) fn text(value: &Option<String>) -> String {
    match value.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::String(s))) => s,
        Some(Ok(other)) => other.to_string(),
        _ => String::new(),
    }
}

type Sdk<E> = GuardError<SdkError<E, HttpResponse>>;

pub(super) fn error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &str,
    target: &ResourceTarget,
    error: &Sdk<E>,
) -> ProviderError {
    let (reason, message) = reason_and_message(error);
    match reason.as_str() {
        "CredentialsRejected" => ProviderError::Unauthorized(message),
        "Unreachable" | "Timeout" | "CircuitOpen" => ProviderError::Unreachable(message),
        "Throttled" => ProviderError::Throttled(message),
        _ => ProviderError::Other(format!("{operation} {}: {message}", target.id)),
    }
}

fn not_found<E: ProvideErrorMetadata>(error: &Sdk<E>) -> bool {
    match error {
        GuardError::Call(SdkError::ServiceError(context)) => {
            context.err().code().is_some_and(|code| code.ends_with(".NotFound"))
        }
        _ => false,
    }
}

impl AwsProvider {
    pub(super) fn region_of(&self, target: &ResourceTarget) -> String {
        target
            .region
            .clone()
            .or_else(|| self.settings.regions.first().cloned())
            .unwrap_or_else(|| "us-east-1".into())
    }

    pub(super) async fn read_one(
        &self,
        target: &ResourceTarget,
    ) -> Result<Option<LiveResource>, ProviderError> {
        let region = self.region_of(target);
        let ec2 = self.ec2_client(&region);
        let guard = &self.settings.guard;
        let id = target.id.as_str();
        macro_rules! describe {
            ($op:literal, $call:expr, $map:expr) => {
                match guard.call("ec2", $op, classify, || $call.send()).await {
                    Ok(out) => Ok($map(out)),
                    Err(e) if not_found(&e) => Ok(None),
                    Err(e) => Err(error($op, target, &e)),
                }
            };
        }
        match target.type_.as_str() {
            "aws_instance" => describe!(
                "DescribeInstances",
                ec2.describe_instances().instance_ids(id),
                |out: aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput| {
                    out.reservations()
                        .iter()
                        .flat_map(|r| r.instances())
                        .find_map(|i| mapping::instance(i, &region))
                }
            ),
            "aws_security_group" => describe!(
                "DescribeSecurityGroups",
                ec2.describe_security_groups().group_ids(id),
                |out: aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput| {
                    out.security_groups().first().map(|g| mapping::security_group(g, &region))
                }
            ),
            "aws_ebs_volume" => describe!(
                "DescribeVolumes",
                ec2.describe_volumes().volume_ids(id),
                |out: aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput| {
                    out.volumes().first().map(|v| mapping::volume(v, &region))
                }
            ),
            "aws_subnet" => describe!(
                "DescribeSubnets",
                ec2.describe_subnets().subnet_ids(id),
                |out: aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput| {
                    out.subnets().first().map(|s| mapping::subnet(s, &region))
                }
            ),
            "aws_vpc" => describe!(
                "DescribeVpcs",
                ec2.describe_vpcs().vpc_ids(id),
                |out: aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput| {
                    out.vpcs().first().map(|v| mapping::vpc(v, &region))
                }
            ),
            "aws_route_table" => describe!(
                "DescribeRouteTables",
                ec2.describe_route_tables().route_table_ids(id),
                |out: aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput| {
                    out.route_tables().first().map(|t| mapping::route_table(t, &region))
                }
            ),
            "aws_network_acl" => describe!(
                "DescribeNetworkAcls",
                ec2.describe_network_acls().network_acl_ids(id),
                |out: aws_sdk_ec2::operation::describe_network_acls::DescribeNetworkAclsOutput| {
                    out.network_acls().first().map(|a| mapping::network_acl(a, &region))
                }
            ),
            "aws_eip" => describe!(
                "DescribeAddresses",
                ec2.describe_addresses().allocation_ids(id),
                |out: aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput| {
                    out.addresses().first().and_then(|a| mapping::address(a, &region))
                }
            ),
            "aws_internet_gateway" => describe!(
                "DescribeInternetGateways",
                ec2.describe_internet_gateways().internet_gateway_ids(id),
                |out: aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput| {
                    out.internet_gateways().first().map(|g| mapping::internet_gateway(g, &region))
                }
            ),
            // Every other type is remediated on its tags only: one DescribeTags call.
            _ => {
                let filter = Filter::builder().name("resource-id").values(id).build();
                let out = guard
                    .call("ec2", "DescribeTags", classify, || {
                        ec2.describe_tags().filters(filter.clone()).send()
                    })
                    .await
                    .map_err(|e| error("DescribeTags", target, &e))?;
                let tags: Map<String, Value> = out
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), Value::String(t.value()?.to_string()))))
                    .collect();
                let mut attributes = Map::new();
                attributes.insert("tags".into(), Value::Object(tags));
                Ok(Some(mapping::tags_only(&target.type_, id, &region, attributes)))
            }
        }
    }

    pub(super) async fn apply_changes(
        &self,
        target: &ResourceTarget,
        changes: &[AttributeChange],
    ) -> Result<String, ProviderError> {
        let region = self.region_of(target);
        let ec2 = self.ec2_client(&region);
        let guard = &self.settings.guard;
        let id = target.id.as_str();
        let mut done = Vec::new();
        let (tags, attributes): (Vec<&AttributeChange>, Vec<&AttributeChange>) =
            changes.iter().partition(|c| c.path.starts_with("tags."));
        let set: Vec<Tag> = tags
            .iter()
            .filter(|c| c.expected.is_some())
            .map(|c| Tag::builder().key(&c.path["tags.".len()..]).value(text(&c.expected)).build())
            .collect();
        if !set.is_empty() {
            guard
                .call("ec2", "CreateTags", classify, || {
                    ec2.create_tags().resources(id).set_tags(Some(set.clone())).send()
                })
                .await
                .map_err(|e| error("CreateTags", target, &e))?;
            done.push(format!("set {} tag(s)", set.len()));
        }
        let unset: Vec<Tag> = tags
            .iter()
            .filter(|c| c.expected.is_none())
            .map(|c| Tag::builder().key(&c.path["tags.".len()..]).build())
            .collect();
        if !unset.is_empty() {
            guard
                .call("ec2", "DeleteTags", classify, || {
                    ec2.delete_tags().resources(id).set_tags(Some(unset.clone())).send()
                })
                .await
                .map_err(|e| error("DeleteTags", target, &e))?;
            done.push(format!("removed {} tag(s)", unset.len()));
        }
        if attributes.is_empty() {
            return Ok(done.join(", "));
        }

        match target.type_.as_str() {
            "aws_route_table" | "aws_network_acl" | "aws_eip" | "aws_internet_gateway" => {
                done.extend(self.apply_network(target, &attributes).await?);
            }
            "aws_instance" => {
                let needs_stop =
                    attributes.iter().any(|c| matches!(c.path.as_str(), "instance_type" | "ebs_optimized"));
                let restart = if needs_stop { self.stop_instance(&ec2, target).await? } else { false };
                for change in &attributes {
                    let value = text(&change.expected);
                    let call = ec2.modify_instance_attribute().instance_id(id);
                    let call = match change.path.as_str() {
                        "instance_type" => call.instance_type(AttributeValue(value.clone()).into()),
                        "ebs_optimized" => call.ebs_optimized(boolean(&value)),
                        "source_dest_check" => call.source_dest_check(boolean(&value)),
                        "vpc_security_group_ids" => {
                            let groups: Vec<String> =
                                serde_json::from_str(change.expected.as_deref().unwrap_or("[]")).map_err(
                                    |e| ProviderError::Other(format!("vpc_security_group_ids of {id}: {e}")),
                                )?;
                            call.set_groups(Some(groups))
                        }
                        other => {
                            return Err(ProviderError::Other(format!(
                                "{other} of aws_instance cannot be set in place"
                            )));
                        }
                    };
                    guard
                        .call("ec2", "ModifyInstanceAttribute", classify, || call.clone().send())
                        .await
                        .map_err(|e| error("ModifyInstanceAttribute", target, &e))?;
                    done.push(format!("{} set to {value}", change.path));
                }
                if restart {
                    guard
                        .call("ec2", "StartInstances", classify, || {
                            ec2.start_instances().instance_ids(id).send()
                        })
                        .await
                        .map_err(|e| error("StartInstances", target, &e))?;
                    done.push("started again".into());
                }
            }
            "aws_ebs_volume" => {
                let mut call = ec2.modify_volume().volume_id(id);
                for change in &attributes {
                    let value = text(&change.expected);
                    let number = || {
                        value.parse::<f64>().map(|n| n as i32).map_err(|e| {
                            ProviderError::Other(format!(
                                "{} of {id}: {value:?} is not a number: {e}",
                                change.path
                            ))
                        })
                    };
                    call = match change.path.as_str() {
                        "size" => call.size(number()?),
                        "type" => call.volume_type(VolumeType::from(value.as_str())),
                        "iops" => call.iops(number()?),
                        "throughput" => call.throughput(number()?),
                        other => {
                            return Err(ProviderError::Other(format!(
                                "{other} of aws_ebs_volume cannot be set in place"
                            )));
                        }
                    };
                    done.push(format!("{} set to {value}", change.path));
                }
                guard
                    .call("ec2", "ModifyVolume", classify, || call.clone().send())
                    .await
                    .map_err(|e| error("ModifyVolume", target, &e))?;
            }
            "aws_subnet" => {
                for change in &attributes {
                    let value = text(&change.expected);
                    let call =
                        ec2.modify_subnet_attribute().subnet_id(id).map_public_ip_on_launch(boolean(&value));
                    guard
                        .call("ec2", "ModifySubnetAttribute", classify, || call.clone().send())
                        .await
                        .map_err(|e| error("ModifySubnetAttribute", target, &e))?;
                    done.push(format!("{} set to {value}", change.path));
                }
            }
            "aws_security_group" => {
                for change in &attributes {
                    let entry = entry_of(change).unwrap_or_default();
                    let permission = parse_rule(&entry, id).ok_or_else(|| {
                        ProviderError::Other(format!("rule {entry:?} of {id} cannot be parsed"))
                    })?;
                    let add = change.expected.is_some();
                    let (operation, result) = match (change.path.as_str(), add) {
                        ("ingress", true) => (
                            "AuthorizeSecurityGroupIngress",
                            guard
                                .call("ec2", "AuthorizeSecurityGroupIngress", classify, || {
                                    ec2.authorize_security_group_ingress()
                                        .group_id(id)
                                        .ip_permissions(permission.clone())
                                        .send()
                                })
                                .await
                                .map(|_| ())
                                .map_err(|e| error("AuthorizeSecurityGroupIngress", target, &e)),
                        ),
                        ("ingress", false) => (
                            "RevokeSecurityGroupIngress",
                            guard
                                .call("ec2", "RevokeSecurityGroupIngress", classify, || {
                                    ec2.revoke_security_group_ingress()
                                        .group_id(id)
                                        .ip_permissions(permission.clone())
                                        .send()
                                })
                                .await
                                .map(|_| ())
                                .map_err(|e| error("RevokeSecurityGroupIngress", target, &e)),
                        ),
                        (_, true) => (
                            "AuthorizeSecurityGroupEgress",
                            guard
                                .call("ec2", "AuthorizeSecurityGroupEgress", classify, || {
                                    ec2.authorize_security_group_egress()
                                        .group_id(id)
                                        .ip_permissions(permission.clone())
                                        .send()
                                })
                                .await
                                .map(|_| ())
                                .map_err(|e| error("AuthorizeSecurityGroupEgress", target, &e)),
                        ),
                        (_, false) => (
                            "RevokeSecurityGroupEgress",
                            guard
                                .call("ec2", "RevokeSecurityGroupEgress", classify, || {
                                    ec2.revoke_security_group_egress()
                                        .group_id(id)
                                        .ip_permissions(permission.clone())
                                        .send()
                                })
                                .await
                                .map(|_| ())
                                .map_err(|e| error("RevokeSecurityGroupEgress", target, &e)),
                        ),
                    };
                    result?;
                    done.push(format!("{operation} {}: {entry}", change.path));
                }
            }
            other => {
                return Err(ProviderError::Other(format!("attributes of {other} cannot be set in place")));
            }
        }
        Ok(done.join(", "))
    }

    pub(super) async fn delete_one(&self, target: &ResourceTarget) -> Result<String, ProviderError> {
        let region = self.region_of(target);
        let ec2 = self.ec2_client(&region);
        let guard = &self.settings.guard;
        let id = target.id.as_str();
        macro_rules! delete {
            ($op:literal, $call:expr) => {
                guard
                    .call("ec2", $op, classify, || $call.send())
                    .await
                    .map(|_| ())
                    .map_err(|e| error($op, target, &e))
            };
        }
        let operation = match target.type_.as_str() {
            "aws_instance" => delete!("TerminateInstances", ec2.terminate_instances().instance_ids(id))
                .map(|_| "TerminateInstances"),
            "aws_ebs_volume" => {
                delete!("DeleteVolume", ec2.delete_volume().volume_id(id)).map(|_| "DeleteVolume")
            }
            "aws_security_group" => delete!("DeleteSecurityGroup", ec2.delete_security_group().group_id(id))
                .map(|_| "DeleteSecurityGroup"),
            "aws_subnet" => {
                delete!("DeleteSubnet", ec2.delete_subnet().subnet_id(id)).map(|_| "DeleteSubnet")
            }
            "aws_eip" => {
                delete!("ReleaseAddress", ec2.release_address().allocation_id(id)).map(|_| "ReleaseAddress")
            }
            "aws_key_pair" => {
                delete!("DeleteKeyPair", ec2.delete_key_pair().key_name(id)).map(|_| "DeleteKeyPair")
            }
            other => return Err(ProviderError::Other(format!("{other} cannot be deleted by driftmgr"))),
        }?;
        Ok(format!("{operation} {id}"))
    }

    /// Stops an instance and waits until it is stopped. Returns whether it was running
    /// (and so is to be started again).
    async fn stop_instance(
        &self,
        ec2: &aws_sdk_ec2::Client,
        target: &ResourceTarget,
    ) -> Result<bool, ProviderError> {
        let guard = &self.settings.guard;
        let id = target.id.as_str();
        let state = || async {
            let out = guard
                .call("ec2", "DescribeInstances", classify, || {
                    ec2.describe_instances().instance_ids(id).send()
                })
                .await
                .map_err(|e| error("DescribeInstances", target, &e))?;
            Ok::<_, ProviderError>(
                out.reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .find_map(|i| i.state()?.name().cloned()),
            )
        };
        if state().await? == Some(InstanceStateName::Stopped) {
            return Ok(false);
        }
        guard
            .call("ec2", "StopInstances", classify, || ec2.stop_instances().instance_ids(id).send())
            .await
            .map_err(|e| error("StopInstances", target, &e))?;
        let started = std::time::Instant::now();
        while state().await? != Some(InstanceStateName::Stopped) {
            if started.elapsed() > STOP_WAIT {
                return Err(ProviderError::Other(format!("{id} did not stop within {STOP_WAIT:?}")));
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        Ok(true)
    }
}

/// The SDK's `AttributeValue` for an instance type.
struct AttributeValue(String);

impl From<AttributeValue> for aws_sdk_ec2::types::AttributeValue {
    fn from(value: AttributeValue) -> Self {
        Self::builder().value(InstanceType::from(value.0.as_str()).as_str()).build()
    }
}

fn boolean(value: &str) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(value == "true").build()
}

/// A rule entry as the diff names it (`tcp 22-22 0.0.0.0/0`, `all all sg-1`,
/// `icmp -1--1 ::/0`, `udp 53-53 self`) as the IpPermission that adds or removes it.
pub fn parse_rule(entry: &str, group_id: &str) -> Option<IpPermission> {
    let mut parts = entry.split_whitespace();
    let (protocol, ports, source) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let protocol = match protocol {
        "all" => "-1",
        "icmpv6" => "58",
        other => other,
    };
    let mut permission = IpPermission::builder().ip_protocol(protocol);
    if ports != "all" {
        // The from-port may be negative (`-1` for all ICMP types): split after it.
        let split = ports.get(1..)?.find('-')? + 1;
        let (from, to) = (ports[..split].parse::<i32>().ok()?, ports[split + 1..].parse::<i32>().ok()?);
        permission = permission.from_port(from).to_port(to);
    }
    permission = if source == "self" {
        permission.user_id_group_pairs(UserIdGroupPair::builder().group_id(group_id).build())
    } else if source.starts_with("sg-") {
        permission.user_id_group_pairs(UserIdGroupPair::builder().group_id(source).build())
    } else if source.starts_with("pl-") {
        permission.prefix_list_ids(PrefixListId::builder().prefix_list_id(source).build())
    } else if source.contains(':') {
        permission.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(source).build())
    } else if source.contains('/') {
        permission.ip_ranges(IpRange::builder().cidr_ip(source).build())
    } else {
        return None;
    };
    Some(permission.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_entries_become_permissions() {
        let p = parse_rule("tcp 22-22 0.0.0.0/0", "sg-1").expect("tcp");
        assert_eq!((p.ip_protocol(), p.from_port(), p.to_port()), (Some("tcp"), Some(22), Some(22)));
        assert_eq!(p.ip_ranges()[0].cidr_ip(), Some("0.0.0.0/0"));
        let icmp = parse_rule("icmp -1--1 ::/0", "sg-1").expect("icmp");
        assert_eq!((icmp.from_port(), icmp.to_port()), (Some(-1), Some(-1)));
        assert_eq!(icmp.ipv6_ranges()[0].cidr_ipv6(), Some("::/0"));
        let all = parse_rule("all all self", "sg-9").expect("all");
        assert_eq!((all.ip_protocol(), all.from_port()), (Some("-1"), None));
        assert_eq!(all.user_id_group_pairs()[0].group_id(), Some("sg-9"));
        assert!(parse_rule("tcp 22 0.0.0.0/0", "sg-1").is_none(), "ports need a range");
        assert!(parse_rule("tcp 1-2 nowhere", "sg-1").is_none());
    }

    #[test]
    fn risks_say_what_can_go_wrong() {
        let fix = |t: &str, c: AttributeChange| fix_risk(t, &c);
        assert_eq!(
            fix(
                "aws_instance",
                AttributeChange::new("instance_type", Some("\"t3.micro\""), Some("\"t3.large\""))
            ),
            Some(Risk::Disruptive)
        );
        assert_eq!(
            fix("aws_instance", AttributeChange::new("tags.Env", Some("\"prod\""), None)),
            Some(Risk::Safe)
        );
        assert_eq!(
            fix("aws_instance", AttributeChange::new("tags.aws:cloudformation:stack", None, Some("\"x\""))),
            None
        );
        assert_eq!(
            fix("aws_iam_role", AttributeChange::new("tags.Env", Some("\"prod\""), None)),
            None,
            "IAM tags are not EC2's to write"
        );
        assert_eq!(
            fix("aws_default_vpc", AttributeChange::new("tags.Env", Some("\"prod\""), None)),
            Some(Risk::Safe)
        );
        assert_eq!(
            fix("aws_instance", AttributeChange::new("ami", Some("\"ami-1\""), Some("\"ami-2\""))),
            None,
            "needs replacement"
        );
        assert_eq!(
            fix("aws_ebs_volume", AttributeChange::new("size", Some("20"), Some("8"))),
            Some(Risk::Safe)
        );
        assert_eq!(
            fix("aws_ebs_volume", AttributeChange::new("size", Some("8"), Some("20"))),
            None,
            "volumes never shrink"
        );
        let open = AttributeChange::new("ingress", None, Some("\"tcp 22-22 0.0.0.0/0\""));
        assert_eq!(
            fix("aws_security_group", open),
            Some(Risk::Disruptive),
            "removing a rule may cut traffic"
        );
        let gone = AttributeChange::new("ingress", Some("\"tcp 443-443 10.0.0.0/8\""), None);
        assert_eq!(fix("aws_security_group", gone), Some(Risk::Safe));
    }
}
