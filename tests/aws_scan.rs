//! Drift detection on AWS end to end: real resources in moto, a state file in
//! moto's S3, drift made behind the state's back, and the exact drift items read
//! from `driftmgr scan` and from DriftScan status on the real API server.

mod common;

use std::io::Read;
use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeValue, InstanceType, IpPermission, IpRange, ResourceType, Tag, TagSpecification,
};
use common::moto::Moto;
use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, ProviderAccount, find_condition};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

/// What the test made in moto.
struct World {
    vpc: String,
    subnet: String,
    sg: String,
    instance: String,
    data_volume: String,
    scratch_volume: String,
    rogue: String,
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

fn tags(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(pairs.iter().map(|(k, v)| tag(k, v)).collect()))
        .build()
}

fn https_from(cidr: &str, port: i32) -> IpPermission {
    IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build()
}

async fn build_world(ec2: &aws_sdk_ec2::Client) -> World {
    let vpc = ec2.create_vpc().cidr_block("10.20.0.0/16").send().await.expect("vpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.20.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await;
    let subnet = subnet.expect("subnet").subnet().and_then(|s| s.subnet_id()).expect("subnet id").to_string();
    let sg = ec2.create_security_group().group_name("web").description("web tier").vpc_id(&vpc).send().await;
    let sg = sg.expect("sg").group_id().expect("sg id").to_string();
    ec2.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_permissions(https_from("10.0.0.0/8", 443))
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
        .tag_specifications(tags(ResourceType::Instance, &[("Env", "prod"), ("Name", "web")]))
        .send()
        .await
        .expect("instance");
    let instance = run.instances()[0].instance_id().expect("instance id").to_string();
    let volume = |size: i32, name: &'static str| {
        ec2.create_volume()
            .availability_zone("us-east-1a")
            .size(size)
            .volume_type(aws_sdk_ec2::types::VolumeType::Gp3)
            .tag_specifications(tags(ResourceType::Volume, &[("Name", name)]))
            .send()
    };
    let data_volume = volume(20, "data").await.expect("volume").volume_id().expect("id").to_string();
    let scratch_volume = volume(10, "scratch").await.expect("volume").volume_id().expect("id").to_string();
    World { vpc, subnet, sg, instance, data_volume, scratch_volume, rogue: String::new() }
}

/// A state as Terraform 1.x with the AWS provider writes it (attribute names as in
/// the driftctl fixtures), with a module and a for_each key.
fn state_for(w: &World) -> Value {
    let aws = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    let rule = |protocol: &str, port: i64, cidr: &str| {
        json!({"cidr_blocks": [cidr], "description": "", "from_port": port, "ipv6_cidr_blocks": [],
               "prefix_list_ids": [], "protocol": protocol, "security_groups": [], "self": false, "to_port": port})
    };
    let resource = |module: Option<&str>, type_: &str, name: &str, key: Option<&str>, attributes: Value| {
        let mut instance = json!({"schema_version": 0, "attributes": attributes, "sensitive_attributes": []});
        if let Some(key) = key {
            instance["index_key"] = json!(key);
        }
        let mut r =
            json!({"mode": "managed", "type": type_, "name": name, "provider": aws, "instances": [instance]});
        if let Some(module) = module {
            r["module"] = json!(module);
        }
        r
    };
    json!({
        "version": 4, "terraform_version": "1.9.0", "serial": 12, "lineage": "8d5e2c1a-e2e-aws", "outputs": {},
        "resources": [
            resource(Some("module.network"), "aws_vpc", "main", None,
                json!({"id": w.vpc, "cidr_block": "10.20.0.0/16", "instance_tenancy": "default", "tags": {}, "tags_all": {}})),
            resource(Some("module.network"), "aws_subnet", "app", Some("a"),
                json!({"id": w.subnet, "vpc_id": w.vpc, "cidr_block": "10.20.1.0/24", "availability_zone": "us-east-1a",
                       "map_public_ip_on_launch": false, "tags": {}, "tags_all": {}})),
            resource(None, "aws_security_group", "web", None,
                json!({"id": w.sg, "name": "web", "description": "web tier", "vpc_id": w.vpc,
                       "ingress": [rule("tcp", 443, "10.0.0.0/8")], "egress": [rule("-1", 0, "0.0.0.0/0")],
                       "tags": {}, "tags_all": {}})),
            resource(None, "aws_instance", "web", None,
                json!({"id": w.instance, "ami": "ami-12c6146b", "instance_type": "t3.micro", "subnet_id": w.subnet,
                       "vpc_security_group_ids": [w.sg], "tags": {"Env": "prod", "Name": "web"},
                       "tags_all": {"Env": "prod", "Name": "web"}})),
            resource(None, "aws_ebs_volume", "data", None,
                json!({"id": w.data_volume, "availability_zone": "us-east-1a", "size": 20, "type": "gp3", "encrypted": false,
                       "tags": {"Name": "data"}, "tags_all": {"Name": "data"}})),
            // The bucket that holds this state, managed by it (as bootstrap stacks do):
            // discovery lists buckets, so an unmanaged one would be drift.
            resource(None, "aws_s3_bucket", "state", None,
                json!({"id": "tf-states", "bucket": "tf-states", "region": "us-east-1", "policy": "",
                       "tags": {}, "tags_all": {}})),
            resource(None, "aws_ebs_volume", "scratch", None,
                json!({"id": w.scratch_volume, "availability_zone": "us-east-1a", "size": 10, "type": "gp3",
                       "tags": {"Name": "scratch"}, "tags_all": {"Name": "scratch"}})),
        ]
    })
}

/// Drift behind the state's back: instance type, a tag, an SSH rule open to the
/// world, a deleted volume, and an instance nobody codified.
async fn drift(ec2: &aws_sdk_ec2::Client, w: &mut World) {
    ec2.stop_instances().instance_ids(&w.instance).send().await.expect("stop");
    ec2.modify_instance_attribute()
        .instance_id(&w.instance)
        .instance_type(AttributeValue::builder().value("t3.large").build())
        .send()
        .await
        .expect("resize");
    ec2.create_tags().resources(&w.instance).tags(tag("Env", "staging")).send().await.expect("retag");
    ec2.authorize_security_group_ingress()
        .group_id(&w.sg)
        .ip_permissions(https_from("0.0.0.0/0", 22))
        .send()
        .await
        .expect("ssh");
    ec2.delete_volume().volume_id(&w.scratch_volume).send().await.expect("delete volume");
    let rogue = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(InstanceType::T3Nano)
        .min_count(1)
        .max_count(1)
        .subnet_id(&w.subnet)
        .send()
        .await
        .expect("rogue instance");
    w.rogue = rogue.instances()[0].instance_id().expect("id").to_string();
}

type Item = (String, String, String, String, Vec<(String, Option<String>, Option<String>)>);

/// `-o json` items with each change's values turned into the JSON text the status
/// (and the report ConfigMap) holds, so both compare with one expectation.
fn json_values_as_text(items: &Value) -> Value {
    let mut items = items.clone();
    for change in
        items.as_array_mut().into_iter().flatten().flat_map(|i| i["changes"].as_array_mut()).flatten()
    {
        for side in ["expected", "actual"] {
            if let Some(value) = change.get(side).filter(|v| !v.is_null()).cloned() {
                change[side] = Value::String(value.to_string());
            }
        }
    }
    items
}

/// Items as (severity, kind, type, id, changes), from report or status JSON.
fn items_of(items: &Value) -> Vec<Item> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    items
        .as_array()
        .expect("items array")
        .iter()
        .map(|i| {
            let changes = i["changes"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            (text(&c["path"]).unwrap_or_default(), text(&c["expected"]), text(&c["actual"]))
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                text(&i["severity"]).unwrap_or_default(),
                text(&i["kind"]).unwrap_or_default(),
                text(&i["type"]).unwrap_or_default(),
                text(&i["id"]).unwrap_or_default(),
                changes,
            )
        })
        .collect()
}

fn expected_items(w: &World) -> Vec<Item> {
    let s = |v: &str| Some(v.to_string());
    vec![
        (
            "Critical".into(),
            "Modified".into(),
            "aws_security_group".into(),
            w.sg.clone(),
            vec![("ingress".into(), None, s("\"tcp 22-22 0.0.0.0/0\""))],
        ),
        ("High".into(), "Missing".into(), "aws_ebs_volume".into(), w.scratch_volume.clone(), vec![]),
        (
            "Medium".into(),
            "Modified".into(),
            "aws_instance".into(),
            w.instance.clone(),
            vec![
                ("instance_type".into(), s("\"t3.micro\""), s("\"t3.large\"")),
                ("tags.Env".into(), s("\"prod\""), s("\"staging\"")),
            ],
        ),
        ("Medium".into(), "Unmanaged".into(), "aws_instance".into(), w.rogue.clone(), vec![]),
    ]
}

fn cli(moto: &Moto, args: &[&str]) -> (i32, String, String) {
    common::moto::scan_cli(&moto.url, args, "testing")
}

/// A namespace with an operator, a credentials Secret (secret key `secret_key`) and
/// a ProviderAccount `name` reaching AWS at `endpoint` (with `account_extra` spec
/// lines), plus `extra` YAML objects.
async fn operator_with_account(
    prefix: &str,
    name: &str,
    endpoint: &str,
    secret_key: &str,
    account_extra: &str,
    extra: &str,
) -> (kube::Client, String, Operator) {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, prefix).await;
    let operator =
        Operator::start(&ns, &format!("{prefix}-op"), &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "aws-creds"},
        "stringData": {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": secret_key}}))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let yaml = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: {name}}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: aws-creds}}}}\n  endpoint: {{url: '{endpoint}'}}\n{account_extra}---\n{extra}"
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    (client, ns, operator)
}

#[tokio::test]
async fn drift_in_moto_is_reported_by_the_cli_and_the_operator() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let mut world = build_world(&ec2).await;
    // Real Terraform writes the state object, through its S3 backend.
    moto.terraform_push("tf-states", "prod/network.tfstate", &state_for(&world));

    // Before any drift: nothing to report, exit code 0.
    let (code, out, err) = cli(&moto, &["--state", "s3://tf-states/prod/network.tfstate", "-o", "json"]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let clean: Value = serde_json::from_str(&out).expect("JSON report");
    assert!(
        clean["sources"][0]["terraformVersion"].as_str().is_some_and(|v| v.starts_with("1.15")),
        "written by Terraform 1.15"
    );
    assert_eq!(clean["summary"]["managed"], 7);
    assert_eq!(clean["summary"]["inSync"], 7);

    drift(&ec2, &mut world).await;
    let expected = expected_items(&world);

    // The CLI, reading every *.tfstate under the prefix.
    let (code, out, err) = cli(&moto, &["--state", "s3://tf-states/prod/", "-o", "json"]);
    assert_eq!(code, 2, "drift exits 2; stderr: {err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    // `-o json` gives each value as JSON (a string here), not JSON-encoded text.
    assert_eq!(report["items"][2]["changes"][0]["expected"], json!("t3.micro"), "{out}");
    assert_eq!(items_of(&json_values_as_text(&report["items"])), expected);
    assert_eq!(
        (
            report["summary"]["managed"].clone(),
            report["summary"]["inSync"].clone(),
            report["summary"]["modified"].clone(),
            report["summary"]["missing"].clone(),
            report["summary"]["unmanaged"].clone()
        ),
        (json!(7), json!(4), json!(2), json!(1), json!(1))
    );
    let (_, table, _) = cli(&moto, &["--state", "s3://tf-states/prod/network.tfstate"]);
    assert!(table.contains("instance_type: \"t3.micro\" -> \"t3.large\""), "{table}");
    let (_, sarif, _) = cli(&moto, &["--state", "s3://tf-states/prod/network.tfstate", "-o", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().map(Vec::len), Some(4));
    assert_eq!(sarif["runs"][0]["results"][0]["level"], "error");

    // The operator, on the real API server.
    let scan_yaml = "apiVersion: driftmgr.io/v1alpha1
kind: DriftScan
metadata: {name: network}
spec:
  providerAccountRef: {name: sandbox}
  stateSources: [{s3: {bucket: tf-states, prefix: prod/}}]
  schedule: {interval: 1h}
";
    let (client, ns, operator) =
        operator_with_account("aws-scan", "sandbox", &moto.url, "testing", "", scan_yaml).await;
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let scan = common::wait_until(TIMEOUT, "the scan to complete", || async {
        let scan = scans.get("network").await.ok()?;
        let drifted = scan
            .status
            .as_ref()
            .and_then(|s| find_condition(&s.conditions, "Drifted"))
            .map(|c| c.status.clone());
        (drifted.as_deref() == Some("True")).then_some(scan)
    })
    .await;
    let account = accounts.get("sandbox").await.expect("account");
    assert_eq!(account.status.and_then(|s| s.account_id).as_deref(), Some("123456789012"));
    let status = scan.status.clone().expect("status");
    let status_json = serde_json::to_value(&status).expect("json");
    assert_eq!(items_of(&status_json["items"]), expected, "the status lists what the CLI printed");
    assert_eq!(status_json["summary"], report["summary"]);
    assert_eq!(find_condition(&status.conditions, "Degraded").map(|c| c.reason.as_str()), Some("Complete"));
    assert_eq!(find_condition(&status.conditions, "Ready").map(|c| c.reason.as_str()), Some("ScanCompleted"));
    assert!(status.next_scan_time.is_some() && status.duration.is_some());

    // The complete report, gzip JSON in a ConfigMap owned by the scan.
    let report_ref = status.report_ref.clone().expect("reportRef");
    assert_eq!(report_ref.generation, 1);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let part = config_maps.get(&report_ref.config_maps[0]).await.expect("report ConfigMap");
    let owner = &part.metadata.owner_references.as_ref().expect("owner")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("DriftScan", "network", Some(true))
    );
    let gz = &part.binary_data.as_ref().expect("binaryData")["report.json.gz"].0;
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).expect("gunzip");
    let stored: Value = serde_json::from_str(&text).expect("report JSON");
    assert_eq!(items_of(&stored["items"]), expected);

    // Metrics: API calls by operation, one gauge per drifted resource.
    let calls = operator.metric("driftmgr_cloud_api_calls_total{operation=\"DescribeInstances\",outcome=\"success\",service=\"ec2\"}").await;
    assert!(
        calls.is_some_and(|n| n >= 1.0),
        "{}",
        operator.http_get("/metrics").await.map(|r| r.1).unwrap_or_default()
    );
    let metrics = operator.http_get("/metrics").await.map(|r| r.1).unwrap_or_default();
    assert!(metrics.contains(&format!("id=\"{}\"", world.rogue)), "a gauge for the unmanaged instance");

    // Fix the security group and ask for a scan: the annotation is honoured once.
    ec2.revoke_security_group_ingress()
        .group_id(&world.sg)
        .ip_permissions(https_from("0.0.0.0/0", 22))
        .send()
        .await
        .expect("revoke");
    let patch = json!({"metadata": {"annotations": {"driftmgr.io/scan-requested": "fix-1"}}});
    scans.patch("network", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("annotate");
    let rescanned = common::wait_until(TIMEOUT, "the requested scan", || async {
        let status = scans.get("network").await.ok()?.status?;
        (status.last_scan_request.as_deref() == Some("fix-1")).then_some(status)
    })
    .await;
    assert_eq!(rescanned.summary.as_ref().map(|s| s.modified), Some(1));
    assert_eq!(rescanned.report_ref.as_ref().map(|r| r.generation), Some(2));
    // The status points at the new report first; then the previous one is removed.
    common::wait_until(TIMEOUT, "the previous report removed", || async {
        config_maps.get_opt(&report_ref.config_maps[0]).await.ok()?.is_none().then_some(())
    })
    .await;
    let metrics = operator.http_get("/metrics").await.map(|r| r.1).unwrap_or_default();
    assert!(!metrics.contains(&format!("id=\"{}\"", world.sg)), "the fixed group's gauge is gone");
}

#[tokio::test]
async fn bad_input_gives_clear_conditions_and_errors() {
    let moto = Moto::start();
    moto.put_object("tf-states", "broken.tfstate", b"{\n  \"version\": 4,\n  nope\n}".to_vec()).await;
    moto.put_object(
        "tf-states",
        "old.tfstate",
        br#"{"version": 3, "terraform_version": "0.11.14"}"#.to_vec(),
    )
    .await;

    // CLI: each failure names the object and exits 1.
    for (state, message) in [
        (
            "s3://tf-states/broken.tfstate",
            "s3://tf-states/broken.tfstate: not valid JSON at line 3, column 3",
        ),
        ("s3://tf-states/old.tfstate", "s3://tf-states/old.tfstate: state format version 3 is not supported"),
        ("s3://no-such-bucket/x.tfstate", "s3://no-such-bucket/x.tfstate"),
        ("s3://tf-states/empty-prefix/", "no *.tfstate files found"),
    ] {
        let (code, out, err) = cli(&moto, &["--state", state]);
        assert_eq!(code, 1, "{state}: {out}");
        assert!(err.contains(message), "{state}: {err}");
        assert!(!err.contains("testing"), "no credential in errors: {err}");
    }

    let closed = common::free_port();
    let extra = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: offline}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: aws-creds}}}}\n  endpoint: {{url: 'http://127.0.0.1:{closed}'}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: broken-state}}\ndata:\n  terraform.tfstate: \"{{\\\"version\\\": 4, \\\"terraform_version\\\": \\\"1.5.0\\\", \\\"resources\\\": 7}}\"\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: malformed}}\nspec:\n  providerAccountRef: {{name: sandbox}}\n  stateSources: [{{configMapRef: {{name: broken-state, key: terraform.tfstate}}}}]\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: nobucket}}\nspec:\n  providerAccountRef: {{name: sandbox}}\n  stateSources: [{{s3: {{bucket: no-such-bucket, key: x.tfstate}}}}]\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: onlysts}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: aws-creds}}}}\n  endpoint: {{url: 'http://127.0.0.1:{closed}', services: {{sts: '{moto}'}}}}\n  circuitBreaker: {{failureThreshold: 50, openSeconds: 30}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: good-state}}\ndata:\n  terraform.tfstate: '{{\"version\": 4, \"terraform_version\": \"1.5.0\", \"resources\": [{{\"mode\": \"managed\", \"type\": \"aws_vpc\", \"name\": \"v\", \"provider\": \"provider.aws\", \"instances\": [{{\"attributes\": {{\"id\": \"vpc-1\"}}}}]}}]}}'\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: unverifiable}}\nspec:\n  providerAccountRef: {{name: onlysts}}\n  stateSources: [{{configMapRef: {{name: good-state, key: terraform.tfstate}}}}]\n",
        moto = moto.url
    );
    let (client, ns, operator) =
        operator_with_account("aws-bad", "sandbox", &moto.url, "s3cr3t-never-shown", "", &extra).await;
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let ready = |name: &'static str, reason: &'static str| {
        let scans = scans.clone();
        async move {
            common::wait_until(TIMEOUT, &format!("{name} Ready={reason}"), || async {
                let status = scans.get(name).await.ok()?.status?;
                let c = find_condition(&status.conditions, "Ready")?.clone();
                (c.reason == reason).then_some(c.message)
            })
            .await
        }
    };
    let message = ready("malformed", "StateInvalid").await;
    assert!(
        message.starts_with(&format!(
            "spec.stateSources[0]: configmap/{ns}/broken-state#terraform.tfstate: line 1, column"
        )),
        "{message}"
    );
    let message = ready("nobucket", "StateNotFound").await;
    assert_eq!(message, "spec.stateSources[0]: s3://no-such-bucket/x.tfstate: not found");
    let offline = common::wait_until(TIMEOUT, "the offline account to fail", || async {
        let status = accounts.get("offline").await.ok()?.status?;
        let c = find_condition(&status.conditions, "Ready")?.clone();
        (c.status == "False").then_some(c)
    })
    .await;
    assert_eq!(offline.reason, "ProviderUnreachable", "{}", offline.message);
    // STS answers (the account is Ready) but EC2, IAM and S3 do not: nothing could be verified,
    // so the scan fails rather than reporting "no drift", and writes no report.
    let unverifiable = ready("unverifiable", "DiscoveryFailed").await;
    assert!(
        unverifiable.starts_with("discovery failed everywhere, nothing was verified: us-east-1/"),
        "{unverifiable}"
    );
    let status = scans.get("unverifiable").await.expect("scan").status.expect("status");
    assert_eq!(status.phase, Some(driftmgr::crd::ScanPhase::Failed));
    assert!(
        status.report_ref.is_none() && status.summary.is_none(),
        "no report from a scan that verified nothing"
    );
    assert!(find_condition(&status.conditions, "Drifted").is_none_or(|c| c.status != "False"));
    assert!(operator.is_running_now(), "the operator survives bad input");
    let everything = format!(
        "{}{}",
        serde_json::to_string(&scans.list(&Default::default()).await.expect("list").items).expect("json"),
        operator.raw_log()
    );
    assert!(!everything.contains("s3cr3t-never-shown"), "a credential leaked");
}

#[tokio::test]
async fn throttling_is_retried_and_a_failing_service_gives_partial_results() {
    use common::fault_proxy::{Fault, FaultProxy};
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let world = build_world(&ec2).await;
    moto.put_object("tf-states", "net.tfstate", serde_json::to_vec(&state_for(&world)).expect("json")).await;
    let faults = [
        ("DescribeInstances".to_string(), Fault { status: 503, code: "RequestLimitExceeded", times: 2 }),
        ("DescribeVolumes".to_string(), Fault { status: 500, code: "InternalError", times: u32::MAX }),
    ];
    let proxy = FaultProxy::start(&moto.url, faults.into_iter().collect()).await;

    // The EC2 breaker (per account and service) would open after DescribeVolumes'
    // five failures and could cut off the concurrent DescribeInstances retries; this
    // test is about retries and partial results, so it keeps the breaker closed.
    let breaker = "  circuitBreaker: {failureThreshold: 50, openSeconds: 30}\n";
    let scan_yaml = "apiVersion: driftmgr.io/v1alpha1
kind: DriftScan
metadata: {name: network}
spec:
  providerAccountRef: {name: flaky}
  stateSources: [{s3: {bucket: tf-states, key: net.tfstate}}]
";
    let (client, ns, operator) =
        operator_with_account("aws-faults", "flaky", &proxy.url, "testing", breaker, scan_yaml).await;
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let status = common::wait_until(TIMEOUT, "the scan to complete", || async {
        let status = scans.get("network").await.ok()?.status?;
        (find_condition(&status.conditions, "Ready")?.reason == "ScanCompleted").then_some(status)
    })
    .await;
    let degraded = find_condition(&status.conditions, "Degraded").expect("Degraded").clone();
    assert_eq!((degraded.status.as_str(), degraded.reason.as_str()), ("True", "PartialResults"));
    assert!(degraded.message.contains("us-east-1/aws_ebs_volume: InternalError"), "{}", degraded.message);
    assert!(degraded.message.contains("(2 managed resources could not be verified)"), "{}", degraded.message);
    let summary = status.summary.clone().expect("summary");
    assert_eq!(
        (summary.missing, summary.modified, summary.in_sync),
        (0, 0, 5),
        "unlisted volumes are not called missing"
    );
    // No drift was seen, but volumes went unchecked: that is not "no drift".
    let drifted = find_condition(&status.conditions, "Drifted").expect("Drifted");
    assert_eq!((drifted.status.as_str(), drifted.reason.as_str()), ("Unknown", "PartiallyVerified"));
    assert!(drifted.message.contains("2 managed resources could not be verified"), "{}", drifted.message);
    assert_eq!(status.summary.as_ref().map(|s| s.unverified), Some(2));

    assert_eq!(proxy.remaining("DescribeInstances"), 0, "both throttling faults were hit");
    let metric = |operation: &str, outcome: &str| {
        format!(
            "driftmgr_cloud_api_calls_total{{operation=\"{operation}\",outcome=\"{outcome}\",service=\"ec2\"}}"
        )
    };
    assert_eq!(operator.metric(&metric("DescribeInstances", "throttled")).await, Some(2.0));
    assert!(operator.metric(&metric("DescribeInstances", "success")).await.is_some_and(|n| n >= 1.0));
    let failures = operator.metric(&metric("DescribeVolumes", "transient_error")).await;
    assert!(failures.is_some_and(|n| (1.0..=5.0).contains(&n)), "retried at most 5 times: {failures:?}");
}

#[tokio::test]
async fn sts_confirms_chains_and_rejects_bad_keys() {
    // This moto checks credentials like AWS: the test keys belong to no IAM user.
    let strict = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let moto = Moto::start();
    let extra = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: chained}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials:\n    assumeRole:\n      sourceSecretRef: {{name: aws-creds}}\n      roles:\n        - {{roleArn: 'arn:aws:iam::123456789012:role/driftmgr-reader', externalId: ext-1}}\n        - {{roleArn: 'arn:aws:iam::123456789012:role/driftmgr-auditor', sessionName: audit}}\n  endpoint: {{url: '{url}'}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: irsa}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials:\n    webIdentity: {{roleArn: 'arn:aws:iam::123456789012:role/driftmgr-irsa', serviceAccountName: scanner}}\n  endpoint: {{url: '{url}'}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: scanner}}\n",
        url = moto.url,
    );
    let (client, ns, operator) =
        operator_with_account("aws-sts", "rejected", &strict.url, "wrong-secret-value", "", &extra).await;
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let ready = |name: &'static str| {
        let accounts = accounts.clone();
        async move {
            common::wait_until(TIMEOUT, &format!("{name} to be checked"), || async {
                let status = accounts.get(name).await.ok()?.status?;
                let ready = find_condition(&status.conditions, "Ready")?.clone();
                (ready.reason != "CredentialsFound").then_some((ready, status.principal))
            })
            .await
        }
    };
    let (rejected, _) = ready("rejected").await;
    assert_eq!(
        (rejected.status.as_str(), rejected.reason.as_str()),
        ("False", "CredentialsRejected"),
        "{}",
        rejected.message
    );
    // moto wraps STS errors in EC2's body shape, so the SDK sees only the status.
    assert!(rejected.message.contains("HTTP 403"), "{}", rejected.message);
    let (chained, principal) = ready("chained").await;
    assert_eq!(chained.reason, "IdentityConfirmed", "{}", chained.message);
    assert_eq!(
        principal.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/driftmgr-auditor/audit"),
        "the last role of the chain"
    );
    let (irsa, principal) = ready("irsa").await;
    assert_eq!(irsa.reason, "IdentityConfirmed", "{}", irsa.message);
    assert!(principal.is_some_and(|p| p.contains("assumed-role/driftmgr-irsa/")));
    let everything = format!(
        "{}{}",
        serde_json::to_string(&accounts.list(&Default::default()).await.expect("list").items).expect("json"),
        operator.raw_log()
    );
    assert!(!everything.contains("wrong-secret-value"), "a credential leaked");
}
