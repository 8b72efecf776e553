//! VPC attachments, one declaration per type: endpoints (and their route table
//! associations, folded into the endpoint) and VPN gateways. Each is one paginated
//! EC2 listing per region.

use aws_sdk_ec2::types::{VpcEndpoint, VpnGateway};
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
