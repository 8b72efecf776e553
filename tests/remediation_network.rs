//! Network wiring drifts and comes back: a route deleted and one added, an ACL entry
//! replaced, an Elastic IP taken off its instance, an internet gateway detached. A
//! plan reverts each on the real API server with moto, and the re-scan finds the
//! network as state describes it.

mod common;

use std::collections::HashMap;

use aws_sdk_ec2::types::{DomainType, RuleAction};
use common::fault_proxy::FaultProxy;
use common::moto::Moto;
use common::plans::{
    approve, create_as, create_scan, grant_plan_editing, plan_status, request_scan, wait_phase, wait_report,
};
use common::{LeaseTiming, Operator};
use driftmgr::crd::{ActionState, PlanPhase, RemediationPlan, find_condition};
use kube::Api;
use serde_json::json;

struct Network {
    vpc: String,
    route_table: String,
    igw: String,
    acl: String,
    allocation: String,
    instance: String,
    spare_vpc: String,
    spare_igw: String,
}

async fn build(moto: &Moto) -> Network {
    let ec2 = moto.ec2().await;
    let vpc = moto.create_vpc("10.50.0.0/16", None).await;
    let spare_vpc = moto.create_vpc("10.60.0.0/16", None).await;
    let igw = |vpc: String| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2.create_internet_gateway().send().await.expect("igw");
            let id = out.internet_gateway().and_then(|g| g.internet_gateway_id()).expect("id").to_string();
            ec2.attach_internet_gateway().internet_gateway_id(&id).vpc_id(&vpc).send().await.expect("attach");
            id
        }
    };
    let (igw, spare_igw) = (igw(vpc.clone()).await, igw(spare_vpc.clone()).await);
    let table = ec2.create_route_table().vpc_id(&vpc).send().await.expect("route table");
    let route_table = table.route_table().and_then(|t| t.route_table_id()).expect("id").to_string();
    ec2.create_route()
        .route_table_id(&route_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .expect("route");
    let acl = ec2.create_network_acl().vpc_id(&vpc).send().await.expect("acl");
    let acl = acl.network_acl().and_then(|a| a.network_acl_id()).expect("id").to_string();
    ec2.create_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(100)
        .protocol("6")
        .rule_action(RuleAction::Allow)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .port_range(aws_sdk_ec2::types::PortRange::builder().from(443).to(443).build())
        .send()
        .await
        .expect("entry");
    let run = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("instance");
    let instance = run.instances()[0].instance_id().expect("id").to_string();
    let address = ec2.allocate_address().domain(DomainType::Vpc).send().await.expect("eip");
    let allocation = address.allocation_id().expect("allocation").to_string();
    ec2.associate_address()
        .allocation_id(&allocation)
        .instance_id(&instance)
        .send()
        .await
        .expect("associate");
    Network { vpc, route_table, igw, acl, allocation, instance, spare_vpc, spare_igw }
}

fn state(n: &Network) -> String {
    let resource = |type_: &str, name: &str, attributes: serde_json::Value| {
        json!({"mode": "managed", "type": type_, "name": name,
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 0, "attributes": attributes}]})
    };
    let route = json!({"cidr_block": "0.0.0.0/0", "gateway_id": n.igw, "ipv6_cidr_block": "",
        "destination_prefix_list_id": "", "nat_gateway_id": "", "transit_gateway_id": "", "vpc_endpoint_id": "",
        "vpc_peering_connection_id": "", "network_interface_id": "", "egress_only_gateway_id": "",
        "carrier_gateway_id": "", "local_gateway_id": "", "core_network_arn": ""});
    let entry = json!({"rule_no": 100, "action": "allow", "protocol": "6", "cidr_block": "0.0.0.0/0",
        "ipv6_cidr_block": "", "from_port": 443, "to_port": 443, "icmp_code": 0, "icmp_type": 0});
    json!({"version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": "network", "outputs": {},
        "resources": [
            resource("aws_route_table", "public", json!({"id": n.route_table, "vpc_id": n.vpc, "route": [route], "tags": {}, "tags_all": {}})),
            resource("aws_network_acl", "public", json!({"id": n.acl, "vpc_id": n.vpc, "ingress": [entry], "egress": [], "tags": {}, "tags_all": {}})),
            resource("aws_internet_gateway", "main", json!({"id": n.igw, "vpc_id": n.vpc, "tags": {}, "tags_all": {}})),
            resource("aws_internet_gateway", "spare", json!({"id": n.spare_igw, "vpc_id": n.spare_vpc, "tags": {}, "tags_all": {}})),
            resource("aws_eip", "web", json!({"id": n.allocation, "domain": "vpc", "instance": n.instance, "tags": {}, "tags_all": {}})),
        ]})
    .to_string()
}

async fn drift(moto: &Moto, n: &Network) {
    let ec2 = moto.ec2().await;
    ec2.delete_route()
        .route_table_id(&n.route_table)
        .destination_cidr_block("0.0.0.0/0")
        .send()
        .await
        .expect("delete");
    ec2.create_route()
        .route_table_id(&n.route_table)
        .destination_cidr_block("10.99.0.0/16")
        .gateway_id(&n.igw)
        .send()
        .await
        .expect("add route");
    ec2.delete_network_acl_entry()
        .network_acl_id(&n.acl)
        .rule_number(100)
        .egress(false)
        .send()
        .await
        .expect("entry");
    ec2.create_network_acl_entry()
        .network_acl_id(&n.acl)
        .rule_number(200)
        .protocol("6")
        .rule_action(RuleAction::Deny)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .port_range(aws_sdk_ec2::types::PortRange::builder().from(22).to(22).build())
        .send()
        .await
        .expect("deny ssh");
    let addresses = ec2.describe_addresses().allocation_ids(&n.allocation).send().await.expect("addresses");
    let association = addresses.addresses()[0].association_id().expect("associated").to_string();
    ec2.disassociate_address().association_id(association).send().await.expect("disassociate");
    ec2.detach_internet_gateway()
        .internet_gateway_id(&n.spare_igw)
        .vpc_id(&n.spare_vpc)
        .send()
        .await
        .expect("detach");
}

/// Routes, ACL entries (by rule number), the address's instance, the gateway's VPC.
async fn wiring(moto: &Moto, n: &Network) -> (Vec<String>, Vec<i32>, Option<String>, Option<String>) {
    let ec2 = moto.ec2().await;
    let tables = ec2.describe_route_tables().route_table_ids(&n.route_table).send().await.expect("tables");
    let mut routes: Vec<String> = tables.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.gateway_id() != Some("local"))
        .filter_map(|r| r.destination_cidr_block().map(str::to_string))
        .collect();
    routes.sort();
    let acls = ec2.describe_network_acls().network_acl_ids(&n.acl).send().await.expect("acls");
    let mut rules: Vec<i32> = acls.network_acls()[0]
        .entries()
        .iter()
        .filter(|e| e.egress() == Some(false))
        .filter_map(|e| e.rule_number())
        .filter(|r| *r < 32767)
        .collect();
    rules.sort();
    let addresses = ec2.describe_addresses().allocation_ids(&n.allocation).send().await.expect("addresses");
    let instance = addresses.addresses()[0].instance_id().map(str::to_string);
    let igws =
        ec2.describe_internet_gateways().internet_gateway_ids(&n.spare_igw).send().await.expect("igws");
    let vpc = igws.internet_gateways()[0].attachments().iter().find_map(|a| a.vpc_id()).map(str::to_string);
    (routes, rules, instance, vpc)
}

#[tokio::test]
async fn routes_acl_entries_addresses_and_gateways_are_put_back() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "wiring").await;
    grant_plan_editing(&ns);
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url, HashMap::new()).await;
    let net = build(&moto).await;
    let _operator = Operator::start(&ns, "wiring-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    create_scan(
        &client,
        &ns,
        &state(&net),
        &proxy.url,
        &["aws_route_table", "aws_network_acl", "aws_internet_gateway", "aws_eip"],
    )
    .await;
    wait_report(&client, &ns, 1).await;
    let scans: Api<driftmgr::crd::DriftScan> = Api::namespaced(client.clone(), &ns);
    let first = scans.get("net").await.expect("scan").status.expect("status");
    let summary = first.summary.expect("summary");
    assert_eq!(
        (summary.managed, summary.modified, summary.unmanaged),
        (5, 0, 0),
        "in sync first: {:?}",
        first.items
    );
    let as_built = wiring(&moto, &net).await;
    assert_eq!(
        as_built,
        (vec!["0.0.0.0/0".to_string()], vec![100], Some(net.instance.clone()), Some(net.spare_vpc.clone()))
    );

    drift(&moto, &net).await;
    request_scan(&client, &ns, "drifted").await;
    wait_report(&client, &ns, 2).await;
    let drifted = scans.get("net").await.expect("scan").status.expect("status").summary.expect("summary");
    assert_eq!(drifted.modified, 4, "{drifted:?}");

    let plan = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: rewire}}\nspec:\n  author: alice\n  driftScanRef: {{name: net}}\n  mode: Execute\n  approval: {{required: 2}}\n  actions:\n    - {{id: routes, type: Revert, target: {{type: aws_route_table, id: '{}'}}}}\n    - {{id: acl, type: Revert, target: {{type: aws_network_acl, id: '{}'}}}}\n    - {{id: address, type: Revert, target: {{type: aws_eip, id: '{}'}}}}\n    - {{id: gateway, type: Revert, target: {{type: aws_internet_gateway, id: '{}'}}}}\n",
        net.route_table, net.acl, net.allocation, net.spare_igw
    );
    let (ok, out) = create_as("alice", &ns, &plan);
    assert!(ok, "{out}");
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    wait_phase(&plans, "rewire", PlanPhase::AwaitingApproval).await;
    approve("bob", &ns, "rewire");
    approve("dave", &ns, "rewire");
    let done = wait_phase(&plans, "rewire", PlanPhase::Succeeded).await;
    assert!(done.results.iter().all(|r| r.state == ActionState::Succeeded), "{:?}", done.results);
    assert_eq!(wiring(&moto, &net).await, as_built, "the network is as state describes it");
    for (action, count) in [
        ("CreateRoute", 1),
        ("DeleteRoute", 1),
        ("CreateNetworkAclEntry", 1),
        ("DeleteNetworkAclEntry", 1),
        ("AssociateAddress", 1),
        ("AttachInternetGateway", 1),
    ] {
        assert_eq!(proxy.calls(action), count, "{action}: {:?}", proxy.all_calls());
    }
    let verified = common::wait_until(std::time::Duration::from_secs(60), "the re-scan", || async {
        let status = plan_status(&plans, "rewire").await?;
        let verified = find_condition(&status.conditions, "Verified")?.clone();
        (verified.reason != "RescanRequested").then_some(verified)
    })
    .await;
    assert_eq!(verified.status, "True", "{}", verified.message);
}
