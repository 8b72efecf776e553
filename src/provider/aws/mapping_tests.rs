//! The live side of false drift: what AWS lists that Terraform never records.

use aws_sdk_ec2::types::{
    InternetGateway, InternetGatewayAttachment, NetworkAcl, NetworkAclEntry, Route, RouteOrigin, RouteTable,
    RouteTableAssociation, RuleAction, Vpc,
};
use serde_json::json;

use super::mapping::{internet_gateway, mark_default_vpc_gateways, network_acl, route_table, vpc};

#[test]
fn routes_aws_adds_are_not_terraforms() {
    let table = RouteTable::builder()
        .route_table_id("rtb-1")
        .vpc_id("vpc-1")
        .routes(
            Route::builder()
                .destination_cidr_block("10.0.0.0/16")
                .gateway_id("local")
                .origin(RouteOrigin::CreateRouteTable)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_cidr_block("192.168.0.0/16")
                .gateway_id("vgw-1")
                .origin(RouteOrigin::EnableVgwRoutePropagation)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_prefix_list_id("pl-63a5400a")
                .gateway_id("vpce-1")
                .origin(RouteOrigin::CreateRoute)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_cidr_block("0.0.0.0/0")
                .nat_gateway_id("nat-1")
                .origin(RouteOrigin::CreateRoute)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_ipv6_cidr_block("::/0")
                .egress_only_internet_gateway_id("eigw-1")
                .origin(RouteOrigin::CreateRoute)
                .build(),
        )
        .routes(
            Route::builder()
                .destination_prefix_list_id("pl-1")
                .transit_gateway_id("tgw-1")
                .origin(RouteOrigin::CreateRoute)
                .build(),
        )
        .associations(RouteTableAssociation::builder().main(false).subnet_id("subnet-1").build())
        .associations(RouteTableAssociation::builder().main(false).gateway_id("igw-1").build())
        .build();
    let live = route_table(&table, "us-east-1");
    let routes = super::entries::routes(live.attributes.get("route")).into_iter().collect::<Vec<_>>();
    assert_eq!(routes, ["0.0.0.0/0 -> nat-1", "::/0 -> eigw-1", "pl-1 -> tgw-1"]);
    assert_eq!(live.attributes["associations"], json!(["igw-1", "subnet-1"]));
    assert!(!live.is_default, "not the main table");
}

#[test]
fn both_implicit_deny_rules_are_left_out() {
    let entry = |number: i32, egress: bool| {
        NetworkAclEntry::builder()
            .rule_number(number)
            .egress(egress)
            .protocol("-1")
            .rule_action(RuleAction::Deny)
            .cidr_block("0.0.0.0/0")
            .build()
    };
    let acl = NetworkAcl::builder()
        .network_acl_id("acl-1")
        .entries(entry(32767, false))
        .entries(entry(32768, false))
        .entries(entry(32767, true))
        .entries(entry(32768, true))
        .entries(entry(100, false))
        .build();
    let live = network_acl(&acl, "us-east-1");
    assert_eq!(live.attributes["ingress"].as_array().map(Vec::len), Some(1));
    assert_eq!(live.attributes["egress"], json!([]));
}

#[test]
fn the_default_vpcs_internet_gateway_is_a_default_object() {
    let attached = |vpc: &str| InternetGatewayAttachment::builder().vpc_id(vpc).build();
    let mut resources = vec![
        vpc(&Vpc::builder().vpc_id("vpc-default").is_default(true).build(), "us-east-1"),
        vpc(&Vpc::builder().vpc_id("vpc-app").is_default(false).build(), "us-east-1"),
        internet_gateway(
            &InternetGateway::builder()
                .internet_gateway_id("igw-d")
                .attachments(attached("vpc-default"))
                .build(),
            "us-east-1",
        ),
        internet_gateway(
            &InternetGateway::builder().internet_gateway_id("igw-a").attachments(attached("vpc-app")).build(),
            "us-east-1",
        ),
        // Same VPC id in another region is another VPC.
        internet_gateway(
            &InternetGateway::builder()
                .internet_gateway_id("igw-x")
                .attachments(attached("vpc-default"))
                .build(),
            "eu-west-1",
        ),
    ];
    mark_default_vpc_gateways(&mut resources);
    let defaults: Vec<&str> = resources.iter().filter(|r| r.is_default).map(|r| r.id.as_str()).collect();
    assert_eq!(defaults, ["vpc-default", "igw-d"]);
}
