//! EC2 and VPC: instances, networks and their firewalls, one declaration per type.
//! Every type is listed per region, paginated at the largest page the API allows.

use aws_sdk_ec2::types::SecurityGroupRule;

use super::entries::{acl_entries, routes, security_group_rules};
use super::listing::{failure, paginate};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use super::{fold, mapping};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};

/// An EC2 listing: one operation per region, at `page_size` (also the VPC
/// attachments' and launch templates').
pub(super) const fn ec2(
    operation: &'static [&'static str],
    page_size: Option<u32>,
    action: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List {
        scope: Scope::Regional,
        service: "ec2",
        operations: operation,
        page_size,
        actions: action,
        list,
    }
}

const fn alias(of: &'static str) -> Listing {
    Listing::Alias { of }
}

const RULE_ATTRIBUTES: &[(&str, crate::drift::Compare)] = &[
    ("security_group_id", Scalar),
    ("ip_protocol", Scalar),
    ("from_port", Scalar),
    ("to_port", Scalar),
    ("cidr_ipv4", Scalar),
    ("cidr_ipv6", Scalar),
    ("prefix_list_id", Scalar),
    ("referenced_security_group_id", Scalar),
    ("description", Scalar),
    ("tags", Tags),
];

/// The EC2 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("instance_type", Scalar),
            ("ami", Scalar),
            ("subnet_id", Scalar),
            ("key_name", Scalar),
            ("vpc_security_group_ids", StringSet),
            ("ebs_optimized", Scalar),
            ("source_dest_check", Scalar),
            ("monitoring", Scalar),
            ("iam_instance_profile", Scalar),
            ("tags", Tags),
        ],
        defaults: &[("ebs_optimized", "false"), ("monitoring", "false"), ("source_dest_check", "true")],
        severity: &[
            ("vpc_security_group_ids", Severity::High),
            ("iam_instance_profile", Severity::High),
            ("subnet_id", Severity::High),
        ],
        not_compared: &[(
            "user_data",
            "AWS returns it only through DescribeInstanceAttribute, one call per instance",
        )],
        ..AwsType::new(
            "aws_instance",
            ec2(&["DescribeInstances"], Some(1000), &["ec2:DescribeInstances"], list_instance),
        )
    },
    AwsType {
        compared: &[("cidr_block", Scalar), ("instance_tenancy", Scalar), ("tags", Tags)],
        defaults: &[("instance_tenancy", "default")],
        ..AwsType::new("aws_vpc", ec2(&["DescribeVpcs"], Some(1000), &["ec2:DescribeVpcs"], list_vpc))
    },
    AwsType {
        compared: &[
            ("vpc_id", Scalar),
            ("cidr_block", Scalar),
            ("availability_zone", Scalar),
            ("map_public_ip_on_launch", Scalar),
            ("tags", Tags),
        ],
        defaults: &[("map_public_ip_on_launch", "false")],
        ..AwsType::new(
            "aws_subnet",
            ec2(&["DescribeSubnets"], Some(1000), &["ec2:DescribeSubnets"], list_subnet),
        )
    },
    AwsType {
        compared: &[
            ("description", Scalar),
            ("vpc_id", Scalar),
            ("ingress", Entries(security_group_rules)),
            ("egress", Entries(security_group_rules)),
            ("tags", Tags),
        ],
        severity: &[("ingress", Severity::High), ("egress", Severity::High)],
        critical_when: &[("ingress", super::rules::admits_world)],
        rated: Some(Severity::High),
        ..AwsType::new(
            "aws_security_group",
            ec2(
                &["DescribeSecurityGroups"],
                Some(1000),
                &["ec2:DescribeSecurityGroups"],
                list_security_group,
            ),
        )
    },
    AwsType {
        compared: &[
            ("size", Scalar),
            ("type", Scalar),
            ("iops", Scalar),
            ("throughput", Scalar),
            ("encrypted", Scalar),
            ("kms_key_id", Scalar),
            ("tags", Tags),
        ],
        defaults: &[("encrypted", "false"), ("throughput", "0")],
        severity: &[("encrypted", Severity::Critical), ("kms_key_id", Severity::Critical)],
        // IOPS are set only for io1, io2 and gp3 volumes (AWS reports a gp2 volume's
        // baseline, which follows its size), throughput only for gp3.
        not_applicable: &[
            ("iops", |state| !matches!(volume_type(state), "io1" | "io2" | "gp3")),
            ("throughput", |state| volume_type(state) != "gp3"),
        ],
        ..AwsType::new(
            "aws_ebs_volume",
            ec2(&["DescribeVolumes"], Some(500), &["ec2:DescribeVolumes"], list_ebs_volume),
        )
    },
    AwsType {
        compared: &[("instance", Scalar), ("network_interface", Scalar), ("tags", Tags)],
        ..AwsType::new("aws_eip", ec2(&["DescribeAddresses"], None, &["ec2:DescribeAddresses"], list_eip))
    },
    AwsType {
        compared: &[("vpc_id", Scalar), ("tags", Tags)],
        ..AwsType::new(
            "aws_internet_gateway",
            ec2(
                &["DescribeInternetGateways"],
                Some(1000),
                &["ec2:DescribeInternetGateways"],
                list_internet_gateway,
            ),
        )
    },
    AwsType {
        compared: &[
            ("subnet_id", Scalar),
            ("allocation_id", Scalar),
            ("connectivity_type", Scalar),
            ("tags", Tags),
        ],
        defaults: &[("connectivity_type", "public")],
        fold: Some(fold::nat_gateway_address),
        ..AwsType::new(
            "aws_nat_gateway",
            ec2(&["DescribeNatGateways"], Some(1000), &["ec2:DescribeNatGateways"], list_nat_gateway),
        )
    },
    AwsType {
        compared: &[("vpc_id", Scalar), ("route", Entries(routes)), ("tags", Tags)],
        severity: &[("route", Severity::High)],
        ..AwsType::new(
            "aws_route_table",
            ec2(&["DescribeRouteTables"], Some(100), &["ec2:DescribeRouteTables"], list_route_table),
        )
    },
    AwsType {
        compared: &[("fingerprint", Scalar), ("tags", Tags)],
        not_compared: &[("public_key", "AWS returns only the fingerprint")],
        ..AwsType::new(
            "aws_key_pair",
            ec2(&["DescribeKeyPairs"], None, &["ec2:DescribeKeyPairs"], list_key_pair),
        )
    },
    AwsType {
        compared: &[
            ("vpc_id", Scalar),
            ("ingress", Entries(acl_entries)),
            ("egress", Entries(acl_entries)),
            ("subnet_ids", StringSet),
            ("tags", Tags),
        ],
        severity: &[("ingress", Severity::High), ("egress", Severity::High)],
        critical_when: &[("ingress", super::rules::admits_world)],
        rated: Some(Severity::High),
        ..AwsType::new(
            "aws_network_acl",
            ec2(&["DescribeNetworkAcls"], Some(1000), &["ec2:DescribeNetworkAcls"], list_network_acl),
        )
    },
    AwsType {
        compared: RULE_ATTRIBUTES,
        fold: Some(fold::ingress_rule),
        ..AwsType::new(
            "aws_vpc_security_group_ingress_rule",
            ec2(
                &["DescribeSecurityGroupRules"],
                Some(1000),
                &["ec2:DescribeSecurityGroupRules"],
                list_ingress_rule,
            ),
        )
    },
    AwsType {
        compared: RULE_ATTRIBUTES,
        fold: Some(fold::egress_rule),
        ..AwsType::new(
            "aws_vpc_security_group_egress_rule",
            ec2(
                &["DescribeSecurityGroupRules"],
                Some(1000),
                &["ec2:DescribeSecurityGroupRules"],
                list_egress_rule,
            ),
        )
    },
    AwsType::folded("aws_security_group_rule", "aws_security_group", fold::security_group_rule),
    AwsType::folded("aws_route", "aws_route_table", fold::route),
    AwsType::folded("aws_route_table_association", "aws_route_table", fold::route_table_association),
    AwsType::folded(
        "aws_main_route_table_association",
        "aws_route_table",
        fold::main_route_table_association,
    ),
    AwsType::folded("aws_network_acl_rule", "aws_network_acl", fold::network_acl_rule),
    AwsType::folded("aws_eip_association", "aws_eip", fold::eip_association),
    AwsType::folded("aws_volume_attachment", "aws_ebs_volume", fold::volume_attachment),
    AwsType::new("aws_default_vpc", alias("aws_vpc")),
    AwsType::new("aws_default_subnet", alias("aws_subnet")),
    AwsType::new("aws_default_security_group", alias("aws_security_group")),
    AwsType::new("aws_default_route_table", alias("aws_route_table")),
    AwsType::new("aws_default_network_acl", alias("aws_network_acl")),
];

/// A volume's type as its state records it (`gp2` when unset).
fn volume_type(state: &crate::attributes::Attributes) -> &str {
    state.get("type").and_then(serde_json::Value::as_str).unwrap_or("gp2")
}

fn list_instance<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeInstances", |token| {
            let request = cx.ec2.describe_instances().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                let instances =
                    out.reservations().iter().flat_map(|r| r.instances().iter().cloned()).collect();
                Ok((instances, out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|i| mapping::instance(i, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_vpc<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeVpcs", |token| {
            let request = cx.ec2.describe_vpcs().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.vpcs().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|v| mapping::vpc(v, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_subnet<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeSubnets", |token| {
            let request = cx.ec2.describe_subnets().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.subnets().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|s| mapping::subnet(s, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_security_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeSecurityGroups", |token| {
            let request = cx.ec2.describe_security_groups().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.security_groups().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|g| mapping::security_group(g, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_ebs_volume<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeVolumes", |token| {
            let request = cx.ec2.describe_volumes().max_results(500).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.volumes().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|v| mapping::volume(v, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_eip<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeAddresses", |_token| {
            // DescribeAddresses returns every address in one response.
            let request = cx.ec2.describe_addresses();
            async move {
                let out = request.send().await?;
                Ok((out.addresses().to_vec(), None))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|a| mapping::address(a, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_internet_gateway<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeInternetGateways", |token| {
            let request = cx.ec2.describe_internet_gateways().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.internet_gateways().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|g| mapping::internet_gateway(g, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_nat_gateway<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeNatGateways", |token| {
            let request = cx.ec2.describe_nat_gateways().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.nat_gateways().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|g| mapping::nat_gateway(g, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_route_table<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeRouteTables", |token| {
            let request = cx.ec2.describe_route_tables().max_results(100).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.route_tables().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|t| mapping::route_table(t, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_key_pair<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeKeyPairs", |_token| {
            // DescribeKeyPairs returns every key pair in one response.
            let request = cx.ec2.describe_key_pairs();
            async move {
                let out = request.send().await?;
                Ok((out.key_pairs().to_vec(), None))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|k| mapping::key_pair(k, cx.region)).collect())
        .map_err(failure)
    })
}

fn list_network_acl<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeNetworkAcls", |token| {
            let request = cx.ec2.describe_network_acls().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.network_acls().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|a| mapping::network_acl(a, cx.region)).collect())
        .map_err(failure)
    })
}

/// One DescribeSecurityGroupRules listing per region, shared by the ingress and egress
/// rule types (each takes its direction from it). Holds (reason, message) on failure.
pub type RuleListing = tokio::sync::OnceCell<Result<Vec<SecurityGroupRule>, (String, String)>>;

fn list_rules<'a>(cx: &'a ListContext<'a>, egress: bool) -> Listed<'a> {
    Box::pin(async move {
        let listed = cx
            .rules
            .get_or_init(|| async {
                paginate(&cx.guard, "ec2", "DescribeSecurityGroupRules", |token| {
                    let request =
                        cx.ec2.describe_security_group_rules().max_results(1000).set_next_token(token);
                    async move {
                        let out = request.send().await?;
                        Ok((out.security_group_rules().to_vec(), out.next_token().map(str::to_string)))
                    }
                })
                .await
                .map_err(failure)
            })
            .await;
        match listed {
            Ok(items) => Ok(items
                .iter()
                .filter(|r| r.is_egress() == Some(egress))
                .filter_map(|r| mapping::security_group_rule(r, cx.region))
                .collect()),
            Err(error) => Err(error.clone()),
        }
    })
}

fn list_ingress_rule<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    list_rules(cx, false)
}

fn list_egress_rule<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    list_rules(cx, true)
}
