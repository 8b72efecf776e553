//! The remediation loop on the real API server with moto: drift is found, a plan is
//! written and previewed, two other users approve it, it executes once across a
//! leader kill in the middle of an action, the re-scan shows the drift gone, and a
//! rollback restores the drifted values. Every cloud write goes through a proxy that
//! counts it, so "exactly once" and "touches nothing" are counted, not assumed.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ec2::types::{
    InstanceType, IpPermission, IpRange, ResourceType, Tag, TagSpecification, VolumeType,
};
use common::chart::{apply_chart_rbac, service_account_kubeconfig};
use common::fault_proxy::FaultProxy;
use common::moto::Moto;
use common::plans::{
    approve, create_as, create_scan, grant_plan_editing, json_patch, plan_status, request_scan, wait_phase,
    wait_report,
};
use common::{LeaseTiming, Operator, kubectl};
use driftmgr::crd::{ActionState, DriftScan, PlanPhase, RemediationPlan, Risk, find_condition};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(60);
/// The types the remediation tests scan.
const SCANNED: &[&str] = &["aws_vpc", "aws_security_group", "aws_instance", "aws_ebs_volume"];
/// Every EC2 call that changes something.
const MUTATING: &[&str] = &[
    "StopInstances",
    "StartInstances",
    "ModifyInstanceAttribute",
    "CreateTags",
    "DeleteTags",
    "AuthorizeSecurityGroupIngress",
    "RevokeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupEgress",
    "ModifyVolume",
    "ModifySubnetAttribute",
];

struct World {
    vpc: String,
    sg: String,
    instance: String,
    volume: String,
}

fn name_tag(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    let tags = pairs.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build());
    TagSpecification::builder().resource_type(kind).set_tags(Some(tags.collect())).build()
}

fn rule(port: i32, cidr: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

async fn build_world(moto: &Moto) -> World {
    let ec2 = moto.ec2().await;
    let vpc = moto.create_vpc("10.40.0.0/16", Some("main")).await;
    let subnet =
        ec2.create_subnet().vpc_id(&vpc).cidr_block("10.40.1.0/24").availability_zone("us-east-1a").send();
    let subnet = subnet.await.expect("subnet").subnet().and_then(|s| s.subnet_id()).expect("id").to_string();
    let sg = ec2.create_security_group().group_name("web").description("web").vpc_id(&vpc).send().await;
    let sg = sg.expect("sg").group_id().expect("id").to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(rule(443, "10.0.0.0/8"))
        .send()
        .await
        .expect("rule");
    let run = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .security_group_ids(&sg)
        .tag_specifications(name_tag(ResourceType::Instance, &[("Env", "prod")]))
        .send()
        .await
        .expect("instance");
    let instance = run.instances()[0].instance_id().expect("id").to_string();
    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(20)
        .volume_type(VolumeType::Gp3)
        .send()
        .await
        .expect("volume");
    World { vpc, sg, instance, volume: volume.volume_id().expect("id").to_string() }
}

/// The state of the world, in the provider's attribute names.
fn state(w: &World) -> String {
    let resource = |type_: &str, attributes: serde_json::Value| {
        json!({"mode": "managed", "type": type_, "name": "this",
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 1, "attributes": attributes}]})
    };
    let arn = |kind: &str, id: &str| format!("arn:aws:ec2:us-east-1:123456789012:{kind}/{id}");
    json!({"version": 4, "terraform_version": "1.15.0", "serial": 3, "lineage": "remediation", "outputs": {},
        "resources": [
            resource("aws_vpc", json!({"id": w.vpc, "arn": arn("vpc", &w.vpc), "cidr_block": "10.40.0.0/16",
                "tags": {"Name": "main"}, "tags_all": {"Name": "main"}})),
            resource("aws_security_group", json!({"id": w.sg, "arn": arn("security-group", &w.sg), "ingress": [
                {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"],
                 "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": ""}],
                "tags": {}, "tags_all": {}})),
            resource("aws_instance", json!({"id": w.instance, "arn": arn("instance", &w.instance),
                "availability_zone": "us-east-1a", "instance_type": "t3.micro",
                "tags": {"Env": "prod"}, "tags_all": {"Env": "prod"}})),
            resource("aws_ebs_volume", json!({"id": w.volume, "arn": arn("volume", &w.volume),
                "availability_zone": "us-east-1a", "size": 20, "type": "gp3", "tags": {}, "tags_all": {}})),
        ]})
    .to_string()
}

/// Drift made in the console, behind the state's back.
async fn drift(moto: &Moto, w: &World) {
    let ec2 = moto.ec2().await;
    ec2.stop_instances().instance_ids(&w.instance).send().await.expect("stop");
    let large = aws_sdk_ec2::types::AttributeValue::builder().value("t3.large").build();
    ec2.modify_instance_attribute()
        .instance_id(&w.instance)
        .instance_type(large)
        .send()
        .await
        .expect("resize");
    ec2.start_instances().instance_ids(&w.instance).send().await.expect("start");
    moto.tag(&w.instance, "Env", "staging").await;
    ec2.authorize_security_group_ingress()
        .group_id(&w.sg)
        .ip_permissions(rule(22, "0.0.0.0/0"))
        .send()
        .await
        .expect("ssh");
    ec2.modify_volume().volume_id(&w.volume).volume_type(VolumeType::Gp2).send().await.expect("gp2");
    moto.tag(&w.vpc, "Name", "renamed").await;
}

/// What moto holds for the drifted attributes: instance type, Env tag, whether SSH is
/// open to the world, volume type, VPC name.
async fn live(moto: &Moto, w: &World) -> (String, String, bool, String, String) {
    let ec2 = moto.ec2().await;
    let out = ec2.describe_instances().instance_ids(&w.instance).send().await.expect("instances");
    let instance = out.reservations()[0].instances()[0].clone();
    let tag = |tags: &[Tag], key: &str| {
        tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value()).unwrap_or_default().to_string()
    };
    let groups = ec2.describe_security_groups().group_ids(&w.sg).send().await.expect("groups");
    let ssh = groups.security_groups()[0].ip_permissions().iter().any(|p| p.from_port() == Some(22));
    let volumes = ec2.describe_volumes().volume_ids(&w.volume).send().await.expect("volumes");
    let vpcs = ec2.describe_vpcs().vpc_ids(&w.vpc).send().await.expect("vpcs");
    (
        instance.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        tag(instance.tags(), "Env"),
        ssh,
        volumes.volumes()[0].volume_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        tag(vpcs.vpcs()[0].tags(), "Name"),
    )
}

fn mutating_calls(proxy: &FaultProxy) -> HashMap<String, u32> {
    proxy.all_calls().into_iter().filter(|(action, _)| MUTATING.contains(&action.as_str())).collect()
}

fn plan(name: &str, author: &str, mode: &str, w: &World) -> String {
    format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: {name}}}\nspec:\n  author: {author}\n  driftScanRef: {{name: net}}\n  mode: {mode}\n  approval: {{required: 2}}\n  actions:\n    - {{id: web, type: Revert, target: {{type: aws_instance, id: '{}'}}}}\n    - {{id: ssh, type: Revert, target: {{type: aws_security_group, id: '{}'}}}}\n    - {{id: disk, type: Revert, target: {{type: aws_ebs_volume, id: '{}'}}}}\n    - {{id: net, type: Revert, target: {{type: aws_vpc, id: '{}'}}}}\n",
        w.instance, w.sg, w.volume, w.vpc
    )
}

/// A namespace whose users may edit plans, moto behind a counting proxy, and the world.
struct Setup {
    client: Client,
    ns: String,
    moto: Moto,
    proxy: FaultProxy,
    world: World,
}

async fn setup(prefix: &str) -> Setup {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, prefix).await;
    grant_plan_editing(&ns);
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url, HashMap::new()).await;
    let world = build_world(&moto).await;
    Setup { client, ns, moto, proxy, world }
}

#[tokio::test]
async fn an_approved_plan_runs_once_across_a_leader_kill_is_verified_and_rolls_back() {
    let Setup { client, ns, moto, proxy, world } = setup("remedy").await;

    // Both replicas run as the chart's ServiceAccount, with the chart's grants.
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    let lease = LeaseTiming { duration_secs: 6, renew_secs: 2 };
    let mut first = Operator::start_as(&ns, "remedy-a", &lease, Some(&kubeconfig));
    create_scan(&client, &ns, &state(&world), &proxy.url, SCANNED).await;
    wait_report(&client, &ns, 1).await;
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let in_sync = scans.get("net").await.expect("scan").status.expect("status").summary.expect("summary");
    assert_eq!((in_sync.managed, in_sync.modified), (4, 0), "the world starts in sync: {in_sync:?}");

    drift(&moto, &world).await;
    let drifted = live(&moto, &world).await;
    assert_eq!(drifted, ("t3.large".into(), "staging".into(), true, "gp2".into(), "renamed".into()));
    request_scan(&client, &ns, "after-drift").await;
    wait_report(&client, &ns, 2).await;
    let summary = scans.get("net").await.expect("scan").status.expect("status").summary.expect("summary");
    assert_eq!(summary.modified, 4, "{summary:?}");

    // Alice writes the plan: before any approval its status shows what it would do.
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    let (ok, out) = create_as("alice", &ns, &plan("fix", "alice", "Execute", &world));
    assert!(ok, "{out}");
    wait_phase(&plans, "fix", PlanPhase::AwaitingApproval).await;
    let preview = common::wait_until(TIMEOUT, "the preview", || async {
        let status = plan_status(&plans, "fix").await?;
        (status.results.len() == 4).then_some(status)
    })
    .await;
    let web = &preview.results[0];
    assert_eq!(web.risk, Some(Risk::Disruptive), "a resize stops the instance");
    let paths: Vec<&str> = web.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["instance_type", "tags.Env"]);
    assert_eq!(preview.results[1].risk, Some(Risk::Disruptive), "removing SSH may cut a session");
    assert!(preview.results.iter().all(|r| r.state == ActionState::Pending));

    // A DryRun plan, approved, shows the same and changes nothing either.
    let (ok, out) = create_as("carol", &ns, &plan("preview", "carol", "DryRun", &world));
    assert!(ok, "{out}");
    approve("bob", &ns, "preview");
    approve("dave", &ns, "preview");
    let dry = wait_phase(&plans, "preview", PlanPhase::Approved).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(plan_status(&plans, "preview").await.and_then(|s| s.phase), Some(PlanPhase::Approved));
    assert_eq!(dry.results.len(), 4);
    assert_eq!(
        mutating_calls(&proxy),
        HashMap::new(),
        "neither an unapproved nor a DryRun plan touches the cloud"
    );
    assert_eq!(live(&moto, &world).await, drifted);

    // A standby joins; the disk's change lands in moto but its answer is held back, and
    // the leader is killed while it waits.
    let second = Operator::start_as(&ns, "remedy-b", &lease, Some(&kubeconfig));
    proxy.delay_answers("ModifyVolume", Duration::from_secs(8));
    approve("bob", &ns, "fix");
    approve("dave", &ns, "fix");
    common::wait_until(TIMEOUT, "the disk action running", || async {
        let status = plan_status(&plans, "fix").await?;
        (status.results.get(2)?.state == ActionState::Running && proxy.calls("ModifyVolume") == 1)
            .then_some(())
    })
    .await;
    assert_eq!(first.metric("driftmgr_leader").await, Some(1.0), "the first operator is executing");
    first.kill();
    let done = wait_phase(&plans, "fix", PlanPhase::Succeeded).await;
    let states: Vec<ActionState> = done.results.iter().map(|r| r.state).collect();
    assert_eq!(states, [ActionState::Succeeded; 4], "{:?}", done.results);
    assert_eq!(
        done.results[2].message.as_deref(),
        Some("found applied after a restart; not repeated"),
        "the standby checked the cloud instead of repeating the change"
    );
    let once = HashMap::from(
        [
            ("StopInstances", 1),
            ("ModifyInstanceAttribute", 1),
            ("StartInstances", 1),
            ("CreateTags", 2),
            ("RevokeSecurityGroupIngress", 1),
            ("ModifyVolume", 1),
        ]
        .map(|(a, n)| (a.to_string(), n)),
    );
    assert_eq!(mutating_calls(&proxy), once, "each change made exactly once");
    assert_eq!(
        live(&moto, &world).await,
        ("t3.micro".into(), "prod".into(), false, "gp3".into(), "main".into())
    );
    assert_eq!(done.snapshot.len(), 5, "every changed value recorded before it changed: {:?}", done.snapshot);

    // The plan asks for a re-scan and records that the drift is gone.
    let verified = common::wait_until(TIMEOUT, "the plan verified", || async {
        let status = plan_status(&plans, "fix").await?;
        let verified = find_condition(&status.conditions, "Verified")?;
        (verified.status == "True").then(|| (status.clone(), verified.message.clone()))
    })
    .await;
    assert!(
        verified.0.results.iter().all(|r| r.verified.as_deref() == Some("Resolved")),
        "{:?}",
        verified.0.results
    );
    assert!(verified.1.ends_with("4 of 4 fixed items no longer drift"), "{}", verified.1);
    let rescanned = scans.get("net").await.expect("scan").status.expect("status").summary.expect("summary");
    assert_eq!(rescanned.modified, 0, "{rescanned:?}");

    // Rollback restores the snapshot, in reverse order, once.
    let (ok, out) = json_patch("alice", &ns, "fix", r#"[{"op":"add","path":"/spec/rollback","value":true}]"#);
    assert!(ok, "{out}");
    let rolled = wait_phase(&plans, "fix", PlanPhase::RolledBack).await;
    assert!(rolled.results.iter().all(|r| r.state == ActionState::RolledBack), "{:?}", rolled.results);
    assert_eq!(live(&moto, &world).await, drifted, "the drifted values are back");
    let calls = mutating_calls(&proxy);
    assert_eq!(calls.get("ModifyVolume"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("AuthorizeSecurityGroupIngress"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("CreateTags"), Some(&4), "{calls:?}");
    assert_eq!(calls.get("ModifyInstanceAttribute"), Some(&2), "{calls:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mutating_calls(&proxy), calls, "a rolled-back plan does nothing more");
    for operator in [&first, &second] {
        let log = operator.raw_log();
        assert!(!log.contains("forbidden") && !log.contains("Forbidden"), "RBAC denied something:\n{log}");
    }
}

/// A plan acts only on what its scan reported, and only while the cloud still holds
/// what the scan saw.
#[tokio::test]
async fn a_plan_refuses_unreported_targets_and_skips_a_stale_change() {
    let Setup { client, ns, moto, proxy, world } = setup("stale").await;
    let _operator = Operator::start(&ns, "stale-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    create_scan(&client, &ns, &state(&world), &proxy.url, SCANNED).await;
    wait_report(&client, &ns, 1).await;
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    let one = |name: &str, target: &str, attributes: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: {name}}}\nspec:\n  author: alice\n  driftScanRef: {{name: net}}\n  mode: Execute\n  approval: {{required: 2}}\n  actions:\n    - {{id: web, type: Revert, target: {{type: aws_instance, id: '{target}'}}, attributes: {attributes}}}\n"
        )
    };
    // The in-sync report has nothing for the instance: the plan is refused, naming it.
    let (ok, out) = create_as("alice", &ns, &one("early", &world.instance, "[]"));
    assert!(ok, "{out}");
    let refused = common::wait_until(TIMEOUT, "the plan refused", || async {
        let status = plan_status(&plans, "early").await?;
        let ready = find_condition(&status.conditions, "Ready")?.clone();
        (ready.reason == "TargetNotReported").then_some(ready.message)
    })
    .await;
    assert_eq!(
        refused,
        format!(
            "spec.actions[0] (web): the scan's report has no drift item for aws_instance {}",
            world.instance
        )
    );

    moto.tag(&world.instance, "Env", "staging").await;
    request_scan(&client, &ns, "drifted").await;
    wait_report(&client, &ns, 2).await;
    let (ok, out) = create_as("alice", &ns, &one("late", &world.instance, "['tags.Env']"));
    assert!(ok, "{out}");
    wait_phase(&plans, "late", PlanPhase::AwaitingApproval).await;
    // The cloud moves on after the scan: the plan must not undo a change it never saw.
    moto.tag(&world.instance, "Env", "qa").await;
    approve("bob", &ns, "late");
    approve("dave", &ns, "late");
    let done = wait_phase(&plans, "late", PlanPhase::Succeeded).await;
    assert_eq!(done.results[0].state, ActionState::Skipped);
    assert_eq!(
        done.results[0].message.as_deref(),
        Some(r#"stale: tags.Env is "qa", the scan saw "staging"; nothing was changed"#)
    );
    assert_eq!(mutating_calls(&proxy), HashMap::new(), "nothing was written to the cloud");
    let events = kubectl(&["get", "events.events.k8s.io", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    assert!(events.contains("ActionSkipped"), "{events}");
}

/// `driftmgr.io/generate-plan` turns a scan's report into a plan: one Revert per
/// fixable item, the rest left to Terraform with the command that handles it; two
/// users approve it and the drift is gone.
#[tokio::test]
async fn a_plan_generated_from_a_scan_fixes_its_drift() {
    let Setup { client, ns, moto, proxy, world } = setup("generate").await;
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    let operator = Operator::start_as(
        &ns,
        "generate-op",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        Some(&kubeconfig),
    );
    create_scan(&client, &ns, &state(&world), &proxy.url, SCANNED).await;
    wait_report(&client, &ns, 1).await;
    moto.tag(&world.instance, "Env", "staging").await;
    let ec2 = moto.ec2().await;
    ec2.authorize_security_group_ingress()
        .group_id(&world.sg)
        .ip_permissions(rule(22, "0.0.0.0/0"))
        .send()
        .await
        .expect("ssh");
    let rogue =
        ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).send().await.expect("rogue");
    let rogue = rogue.instances()[0].instance_id().expect("id").to_string();
    request_scan(&client, &ns, "drifted").await;
    wait_report(&client, &ns, 2).await;

    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let patch = json!({"metadata": {"annotations": {"driftmgr.io/generate-plan": "1"}}});
    scans.patch("net", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("request a plan");
    let generated = common::wait_until(TIMEOUT, "the plan generated", || async {
        scans.get("net").await.ok()?.status?.generated_plan
    })
    .await;
    assert_eq!(generated.name.as_deref(), Some("net-plan-2"), "{generated:?}");
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    let plan = plans.get("net-plan-2").await.expect("plan");
    let actions: Vec<(String, String)> =
        plan.spec.actions.iter().map(|a| (a.id.clone(), a.target.id.clone())).collect();
    // The report's order: most severe first (the SSH rule), then the rest.
    assert_eq!(actions[0], (format!("revert-{}", world.sg), world.sg.clone()), "the critical SSH rule first");
    let mut rest = actions[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest,
        [
            (format!("codify-{rogue}"), rogue.clone()),
            (format!("revert-{}", world.instance), world.instance.clone())
        ],
        "the drifted instance is reverted, the unmanaged one codified"
    );
    assert_eq!(plan.spec.author.as_deref(), Some(format!("system:serviceaccount:{ns}:drift").as_str()));
    assert_eq!(plan.spec.drift_scan_ref.report_generation, Some(2));
    assert_eq!(plan.metadata.owner_references.as_ref().map(|o| o[0].name.as_str()), Some("net"));
    let waiting = wait_phase(&plans, "net-plan-2", PlanPhase::AwaitingApproval).await;
    assert!(waiting.unhandled.is_empty(), "{:?}", waiting.unhandled);

    approve("bob", &ns, "net-plan-2");
    approve("dave", &ns, "net-plan-2");
    let done = wait_phase(&plans, "net-plan-2", PlanPhase::Succeeded).await;
    assert!(done.results.iter().all(|r| r.state == ActionState::Succeeded), "{:?}", done.results);
    let (_, env, ssh, _, _) = live(&moto, &world).await;
    assert_eq!((env.as_str(), ssh), ("prod", false));
    // The unmanaged instance's import block and skeleton, as real Terraform reads them.
    let code_map: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);
    let code = code_map.get("net-plan-2-codify").await.expect("codify ConfigMap");
    let key = format!("codify-{rogue}.tf");
    let code = code.data.and_then(|d| d.get(&key).cloned()).expect("the action's code");
    let name = rogue.replace('-', "_");
    assert!(
        code.starts_with(&format!("import {{\n  to = aws_instance.{name}\n  id = \"{rogue}\"\n}}\n")),
        "{code}"
    );
    assert!(code.contains(&format!("resource \"aws_instance\" \"{name}\" {{")), "{code}");
    assert!(code.contains("  ami ") && code.contains("  instance_type "), "live values: {code}");
    let file = tempfile::Builder::new().suffix(".tf").tempfile().expect("temp file");
    std::fs::write(file.path(), &code).expect("write");
    let check = std::process::Command::new(common::moto::venv_python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/terraform_fmt_check.py"))
        .arg(file.path())
        .output()
        .expect("run terraform fmt");
    assert!(
        check.status.success(),
        "terraform fmt -check: {}\n{code}",
        String::from_utf8_lossy(&check.stderr)
    );
    let verified = common::wait_until(TIMEOUT, "the generated plan verified", || async {
        let status = plan_status(&plans, "net-plan-2").await?;
        (find_condition(&status.conditions, "Verified")?.status == "True").then_some(status)
    })
    .await;
    let verdict = |id: String| verified.results.iter().find(|r| r.id == id).and_then(|r| r.verified.clone());
    assert_eq!(verdict(format!("revert-{}", world.sg)).as_deref(), Some("Resolved"));
    assert_eq!(verdict(format!("revert-{}", world.instance)).as_deref(), Some("Resolved"));
    assert_eq!(verdict(format!("codify-{rogue}")), None, "codifying removes no drift: not verified as a fix");
    // The same request again generates nothing new.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(plans.list(&Default::default()).await.expect("plans").items.len(), 1);

    // Deleting the unmanaged instance instead is destructive: it needs allowDestructive,
    // two approvals, and happens once.
    let cleanup = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: cleanup}}\nspec:\n  author: alice\n  driftScanRef: {{name: net}}\n  mode: Execute\n  allowDestructive: true\n  approval: {{required: 2}}\n  actions:\n    - {{id: remove-rogue, type: DeleteUnmanaged, target: {{type: aws_instance, id: '{rogue}'}}}}\n"
    );
    let (ok, out) = create_as("alice", &ns, &cleanup);
    assert!(ok, "{out}");
    let waiting = wait_phase(&plans, "cleanup", PlanPhase::AwaitingApproval).await;
    assert_eq!(waiting.results.first().and_then(|r| r.risk), Some(Risk::Destructive));
    assert_eq!(proxy.calls("TerminateInstances"), 0, "nothing is deleted before approval");
    approve("bob", &ns, "cleanup");
    approve("dave", &ns, "cleanup");
    let deleted = wait_phase(&plans, "cleanup", PlanPhase::Succeeded).await;
    assert_eq!(deleted.results[0].message.as_deref(), Some(format!("TerminateInstances {rogue}").as_str()));
    assert_eq!(proxy.calls("TerminateInstances"), 1);
    let gone = ec2.describe_instances().instance_ids(&rogue).send().await.expect("describe");
    let state =
        gone.reservations()[0].instances()[0].state().and_then(|s| s.name()).map(|n| n.as_str().to_string());
    assert_eq!(state.as_deref(), Some("terminated"));
    common::wait_until(TIMEOUT, "the deletion verified", || async {
        let status = plan_status(&plans, "cleanup").await?;
        (status.results[0].verified.as_deref() == Some("Resolved")).then_some(())
    })
    .await;
    let log = operator.raw_log();
    assert!(!log.contains("forbidden") && !log.contains("Forbidden"), "RBAC denied something:\n{log}");
}

/// A cloud call that keeps failing fails its action, and the plan stops there: the
/// next action is not run, and nothing else is written to the cloud.
#[tokio::test]
async fn a_failing_cloud_call_fails_its_action_and_stops_the_plan() {
    let Setup { client, ns, moto, proxy, world } = setup("fails").await;
    let _operator = Operator::start(&ns, "fails-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    create_scan(&client, &ns, &state(&world), &proxy.url, SCANNED).await;
    wait_report(&client, &ns, 1).await;
    let ec2 = moto.ec2().await;
    ec2.modify_volume().volume_id(&world.volume).volume_type(VolumeType::Gp2).send().await.expect("gp2");
    moto.tag(&world.instance, "Env", "staging").await;
    request_scan(&client, &ns, "drifted").await;
    wait_report(&client, &ns, 2).await;
    proxy.inject(
        "ModifyVolume",
        common::fault_proxy::Fault { status: 500, code: "InternalError", times: u32::MAX },
    );

    let plan = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: broken}}\nspec:\n  author: alice\n  driftScanRef: {{name: net}}\n  mode: Execute\n  approval: {{required: 2}}\n  actions:\n    - {{id: disk, type: Revert, target: {{type: aws_ebs_volume, id: '{}'}}}}\n    - {{id: web, type: Revert, target: {{type: aws_instance, id: '{}'}}}}\n",
        world.volume, world.instance
    );
    let (ok, out) = create_as("alice", &ns, &plan);
    assert!(ok, "{out}");
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    wait_phase(&plans, "broken", PlanPhase::AwaitingApproval).await;
    approve("bob", &ns, "broken");
    approve("dave", &ns, "broken");
    let failed = wait_phase(&plans, "broken", PlanPhase::Failed).await;
    let states: Vec<ActionState> = failed.results.iter().map(|r| r.state).collect();
    assert_eq!(states, [ActionState::Failed, ActionState::Skipped], "{:?}", failed.results);
    let message = failed.results[0].message.clone().unwrap_or_default();
    assert!(message.contains("InternalError"), "the cloud's error is named: {message}");
    assert_eq!(failed.results[1].message.as_deref(), Some("not run: an earlier action failed"));
    let executed = find_condition(&failed.conditions, "Executed").expect("Executed");
    assert_eq!((executed.status.as_str(), executed.reason.as_str()), ("False", "ActionFailed"));
    assert_eq!(proxy.calls("CreateTags"), 0, "the instance was not touched");
    let volume = ec2.describe_volumes().volume_ids(&world.volume).send().await.expect("volumes");
    assert_eq!(volume.volumes()[0].volume_type().map(|t| t.as_str()), Some("gp2"), "the volume is as it was");
}
