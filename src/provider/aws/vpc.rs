//! VPC attachments, one declaration per type: endpoints (and their route table
//! associations, folded into the endpoint), VPN and customer gateways, peering
//! connections and flow logs. Each is one EC2 listing per region, paginated where
//! the API pages.

use aws_sdk_ec2::types::{CustomerGateway, FlowLog, VpcEndpoint, VpcPeeringConnection, VpnGateway};
use serde_json::{Value, json};

use super::ec2::ec2;
use super::entries::each;
use super::listing::{failure, paginate};
use super::mapping::tags;
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::Compare::{Document, Entries, Scalar, StringSet, Tags};
use crate::drift::{Fold, LiveResource};

/// The VPC attachment family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("vpc_id", Scalar),
            ("service_name", Scalar),
            ("vpc_endpoint_type", Scalar),
            ("route_table_ids", Entries(each)),
            ("subnet_ids", StringSet),
            ("security_group_ids", StringSet),
            ("private_dns_enabled", Scalar),
            ("policy", Document(canonical)),
            ("tags", Tags),
        ],
        defaults: &[("vpc_endpoint_type", "Gateway"), ("private_dns_enabled", "false")],
        severity: &[
            ("policy", Severity::Critical),
            ("route_table_ids", Severity::High),
            ("security_group_ids", Severity::High),
        ],
        not_applicable: &[("private_dns_enabled", private_dns_not_applicable)],
        ..AwsType::new(
            "aws_vpc_endpoint",
            ec2(&["DescribeVpcEndpoints"], Some(1000), &["ec2:DescribeVpcEndpoints"], list_endpoint),
        )
    },
    AwsType::folded("aws_vpc_endpoint_route_table_association", "aws_vpc_endpoint", fold_route_table),
    AwsType {
        compared: &[
            ("vpc_id", Scalar),
            ("amazon_side_asn", Scalar),
            ("availability_zone", Scalar),
            ("tags", Tags),
        ],
        // AWS's ASN when none is asked for (moto reports none).
        defaults: &[("amazon_side_asn", "64512")],
        ..AwsType::new(
            "aws_vpn_gateway",
            ec2(&["DescribeVpnGateways"], None, &["ec2:DescribeVpnGateways"], list_vpn_gateway),
        )
    },
    AwsType {
        compared: &[("bgp_asn", Scalar), ("ip_address", Scalar), ("type", Scalar), ("tags", Tags)],
        severity: &[("ip_address", Severity::High)],
        ..AwsType::new(
            "aws_customer_gateway",
            ec2(
                &["DescribeCustomerGateways"],
                None,
                &["ec2:DescribeCustomerGateways"],
                list_customer_gateway,
            ),
        )
    },
    AwsType {
        compared: &[
            ("vpc_id", Scalar),
            ("peer_vpc_id", Scalar),
            ("peer_owner_id", Scalar),
            ("peer_region", Scalar),
            ("tags", Tags),
        ],
        severity: &[("peer_vpc_id", Severity::High), ("peer_owner_id", Severity::High)],
        not_compared: &[
            ("auto_accept", "a request-time argument, not a setting of the connection"),
            ("accepter", "the peering options are read per connection, not listed"),
            ("requester", "the peering options are read per connection, not listed"),
        ],
        ..AwsType::new(
            "aws_vpc_peering_connection",
            ec2(
                &["DescribeVpcPeeringConnections"],
                Some(1000),
                &["ec2:DescribeVpcPeeringConnections"],
                list_peering_connection,
            ),
        )
    },
    AwsType {
        compared: &[
            ("traffic_type", Scalar),
            ("log_destination_type", Scalar),
            ("log_destination", Scalar),
            ("iam_role_arn", Scalar),
            ("max_aggregation_interval", Scalar),
            ("vpc_id", Scalar),
            ("subnet_id", Scalar),
            ("eni_id", Scalar),
            ("tags", Tags),
        ],
        defaults: &[("log_destination_type", "cloud-watch-logs"), ("max_aggregation_interval", "600")],
        // Less traffic logged, or logs sent elsewhere: what an intruder covering tracks does.
        severity: &[
            ("traffic_type", Severity::High),
            ("log_destination", Severity::High),
            ("log_destination_type", Severity::High),
        ],
        not_compared: &[("log_format", "AWS reports the default format written out, Terraform as set")],
        ..AwsType::new(
            "aws_flow_log",
            ec2(&["DescribeFlowLogs"], Some(1000), &["ec2:DescribeFlowLogs"], list_flow_log),
        )
    },
];

fn fold_route_table(a: &Attributes) -> Option<Fold> {
    let text = |key: &str| a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (endpoint, table) = (text("vpc_endpoint_id")?, text("route_table_id")?);
    Some(super::fold::fold("aws_vpc_endpoint", endpoint, "route_table_ids", json!(table)))
}

fn list_endpoint<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeVpcEndpoints", |token| {
            let request = cx.ec2.describe_vpc_endpoints().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.vpc_endpoints().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|e| endpoint(e, cx.region)).collect())
        .map_err(failure)
    })
}

fn endpoint(e: &VpcEndpoint, region: &str) -> Option<LiveResource> {
    let id = e.vpc_endpoint_id()?;
    let state = e.state().map(|s| s.as_str()).unwrap_or_default();
    if matches!(state, "deleted" | "deleting" | "Deleted" | "Deleting") {
        return None;
    }
    let attributes = json!({
        "id": id, "vpc_id": e.vpc_id(), "service_name": e.service_name(),
        "vpc_endpoint_type": e.vpc_endpoint_type().map(|t| t.as_str()),
        "route_table_ids": e.route_table_ids(), "subnet_ids": e.subnet_ids(),
        "security_group_ids": e.groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(),
        "private_dns_enabled": e.private_dns_enabled(), "policy": e.policy_document(),
        "tags": tags(e.tags()),
    });
    Some(super::mapping::live("aws_vpc_endpoint", id, Some(region), attributes))
}

fn list_vpn_gateway<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let out = cx
            .guard
            .call("ec2", "DescribeVpnGateways", super::errors::classify, || {
                cx.ec2.describe_vpn_gateways().send()
            })
            .await
            .map_err(|e| failure(super::listing::ListError::Call(Box::new(e))))?;
        Ok(out.vpn_gateways().iter().filter_map(|g| vpn_gateway(g, cx.region)).collect())
    })
}

fn vpn_gateway(g: &VpnGateway, region: &str) -> Option<LiveResource> {
    let id = g.vpn_gateway_id()?;
    if matches!(g.state().map(|s| s.as_str()), Some("deleted" | "deleting")) {
        return None;
    }
    let attached = g.vpc_attachments().iter().find(|a| a.state().is_some_and(|s| s.as_str() == "attached"));
    let attributes = json!({
        "id": id, "vpc_id": attached.and_then(|a| a.vpc_id()),
        "amazon_side_asn": g.amazon_side_asn().map(|asn| asn.to_string()),
        "availability_zone": g.availability_zone(), "tags": tags(g.tags()),
    });
    Some(super::mapping::live("aws_vpn_gateway", id, Some(region), attributes))
}

fn list_customer_gateway<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        // DescribeCustomerGateways returns every gateway in one response.
        let out = cx
            .guard
            .call("ec2", "DescribeCustomerGateways", super::errors::classify, || {
                cx.ec2.describe_customer_gateways().send()
            })
            .await
            .map_err(|e| failure(super::listing::ListError::Call(Box::new(e))))?;
        Ok(out.customer_gateways().iter().filter_map(|g| customer_gateway(g, cx.region)).collect())
    })
}

fn customer_gateway(g: &CustomerGateway, region: &str) -> Option<LiveResource> {
    let id = g.customer_gateway_id()?;
    if matches!(g.state(), Some("deleted" | "deleting")) {
        return None;
    }
    let attributes = json!({
        "id": id, "bgp_asn": g.bgp_asn(), "ip_address": g.ip_address(), "type": g.r#type(),
        "tags": tags(g.tags()),
    });
    Some(super::mapping::live("aws_customer_gateway", id, Some(region), attributes))
}

fn list_peering_connection<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeVpcPeeringConnections", |token| {
            let request = cx.ec2.describe_vpc_peering_connections().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.vpc_peering_connections().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|p| peering_connection(p, cx.region)).collect())
        .map_err(failure)
    })
}

fn peering_connection(p: &VpcPeeringConnection, region: &str) -> Option<LiveResource> {
    let id = p.vpc_peering_connection_id()?;
    // Gone or never accepted: AWS keeps these listed for a while.
    let status = p.status().and_then(|s| s.code()).map(|c| c.as_str()).unwrap_or_default();
    if matches!(status, "deleted" | "deleting" | "rejected" | "failed" | "expired") {
        return None;
    }
    let (requester, accepter) = (p.requester_vpc_info(), p.accepter_vpc_info());
    let attributes = json!({
        "id": id,
        "vpc_id": requester.and_then(|v| v.vpc_id()),
        "peer_vpc_id": accepter.and_then(|v| v.vpc_id()),
        "peer_owner_id": accepter.and_then(|v| v.owner_id()),
        "peer_region": accepter.and_then(|v| v.region()),
        "tags": tags(p.tags()),
    });
    Some(super::mapping::live("aws_vpc_peering_connection", id, Some(region), attributes))
}

fn list_flow_log<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        paginate(&cx.guard, "ec2", "DescribeFlowLogs", |token| {
            let request = cx.ec2.describe_flow_logs().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.flow_logs().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|f| flow_log(f, cx.region)).collect())
        .map_err(failure)
    })
}

fn flow_log(f: &FlowLog, region: &str) -> Option<LiveResource> {
    let id = f.flow_log_id()?;
    let resource = f.resource_id().unwrap_or_default();
    // The flow log's resource lands in the attribute Terraform records it under.
    let on = |prefix: &str| resource.starts_with(prefix).then_some(resource);
    // A log group's destination is its ARN; Terraform v4 records either the ARN or,
    // through the deprecated `log_group_name`, the group's name only.
    let attributes = json!({
        "id": id,
        "traffic_type": f.traffic_type().map(|t| t.as_str()),
        "log_destination_type": f.log_destination_type().map(|t| t.as_str()),
        "log_destination": f.log_destination().map(str::to_string).or_else(|| f.log_group_name().map(str::to_string)),
        "iam_role_arn": f.deliver_logs_permission_arn(),
        "max_aggregation_interval": f.max_aggregation_interval(),
        "vpc_id": on("vpc-"), "subnet_id": on("subnet-"), "eni_id": on("eni-"),
        "tags": tags(f.tags()),
    });
    Some(super::mapping::live("aws_flow_log", id, Some(region), attributes))
}

/// Private DNS belongs to interface endpoints (moto reports it on gateway ones too).
pub(super) fn private_dns_not_applicable(expected: &Attributes) -> bool {
    expected.get("vpc_endpoint_type").and_then(Value::as_str).is_some_and(|t| t != "Interface")
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_association_lands_on_its_endpoint() {
        let a = serde_json::json!({"vpc_endpoint_id": "vpce-1", "route_table_id": "rtb-1"});
        let fold = super::fold_route_table(&a.as_object().cloned().expect("map").into()).expect("folds");
        assert_eq!((fold.parent_id.as_str(), fold.attribute), ("vpce-1", "route_table_ids"));
    }
}
