//! `make bench`: engine time (parse, match, diff) and peak memory for 10k, 100k and 1M
//! resources in the provider's full state shape (nine instances to one IAM role, whose
//! trust policy is compared as a document), and the number of EC2 API calls for a full scan of 1k
//! instances in moto (when MOTO_SERVER is set). Each size runs in a child process
//! so its peak RSS is its own.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use driftmgr::drift::{EngineConfig, compare};
use driftmgr::provider::{Discovery, LiveResource, cloud_rules};
use driftmgr::state::read_local_states;
use k8s_openapi::jiff::Timestamp;
use serde_json::json;

/// One instance as the AWS provider (v5) writes it to state: every attribute of the
/// schema, nested blocks and all, as in tests/fixtures/tfstate/replay/network-stack.
/// The engine keeps a dozen of these ~50 attributes; the parser drops the rest as it reads.
const INSTANCE: &str = r#"{"index_key":__I__,"schema_version":1,"attributes":{"ami":"ami-0abcdef1234567890","arn":"arn:aws:ec2:us-east-1:123456789012:instance/__ID__","associate_public_ip_address":false,"availability_zone":"us-east-1a","capacity_reservation_specification":[{"capacity_reservation_preference":"open","capacity_reservation_target":[]}],"cpu_core_count":1,"cpu_options":[{"amd_sev_snp":"","core_count":1,"threads_per_core":2}],"cpu_threads_per_core":2,"credit_specification":[{"cpu_credits":"unlimited"}],"disable_api_stop":false,"disable_api_termination":false,"ebs_block_device":[],"ebs_optimized":false,"enable_primary_ipv6":null,"enclave_options":[{"enabled":false}],"ephemeral_block_device":[],"get_password_data":false,"hibernation":false,"host_id":"","host_resource_group_arn":null,"iam_instance_profile":"","id":"__ID__","instance_initiated_shutdown_behavior":"stop","instance_lifecycle":"","instance_market_options":[],"instance_state":"running","instance_type":"t3.micro","ipv6_address_count":0,"ipv6_addresses":[],"key_name":"deploy","launch_template":[],"maintenance_options":[{"auto_recovery":"default"}],"metadata_options":[{"http_endpoint":"enabled","http_protocol_ipv6":"disabled","http_put_response_hop_limit":2,"http_tokens":"required","instance_metadata_tags":"disabled"}],"monitoring":false,"network_interface":[],"outpost_arn":"","password_data":"","placement_group":"","placement_partition_number":0,"primary_network_interface_id":"eni-__HEX__","private_dns":"ip-10-0-1-20.ec2.internal","private_dns_name_options":[{"enable_resource_name_dns_a_record":false,"enable_resource_name_dns_aaaa_record":false,"hostname_type":"ip-name"}],"private_ip":"10.0.1.20","public_dns":"","public_ip":"","root_block_device":[{"delete_on_termination":true,"device_name":"/dev/xvda","encrypted":false,"iops":3000,"kms_key_id":"","tags":{},"tags_all":{},"throughput":125,"volume_id":"vol-__HEX__","volume_size":8,"volume_type":"gp3"}],"secondary_private_ips":[],"security_groups":[],"source_dest_check":true,"spot_instance_request_id":"","subnet_id":"subnet-__SUBNET__","tags":{"Name":"node-__I__","Env":"prod","Team":"platform"},"tags_all":{"Name":"node-__I__","Env":"prod","Team":"platform","ManagedBy":"terraform"},"tenancy":"default","timeouts":null,"user_data":"IyEvYmluL2Jhc2gKZWNobyBoZWxsbwo=","user_data_base64":null,"user_data_replace_on_change":false,"volume_tags":null,"vpc_security_group_ids":["sg-__SG__"]},"sensitive_attributes":[],"identity_schema_version":0,"private":"eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDB9fQ=="}"#;

/// One role as the AWS provider (v5) writes it: one resource in ten of the mix is a
/// role, whose trust policy the engine compares as a document (by meaning).
const ROLE: &str = r#"{"index_key":__I__,"schema_version":0,"attributes":{"arn":"arn:aws:iam::123456789012:role/svc-__I__","assume_role_policy":"{\"Statement\":[{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Sid\":\"\"}],\"Version\":\"2012-10-17\"}","create_date":"2025-03-02T10:11:12Z","description":"","force_detach_policies":false,"id":"svc-__I__","inline_policy":[],"managed_policy_arns":["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],"max_session_duration":3600,"name":"svc-__I__","name_prefix":"","path":"/","permissions_boundary":"","tags":{"Team":"platform"},"tags_all":{"Team":"platform","ManagedBy":"terraform"},"unique_id":"AROA__HEX__"},"sensitive_attributes":[],"private":"bnVsbA=="}"#;

/// The trust policy as IAM returns it: URL-encoded, its own key order and list forms.
const TRUST_FROM_IAM: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22ec2.amazonaws.com%22%5D%7D%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%7D%5D%7D";

/// Every tenth resource of the mix is a role.
const ROLE_EVERY: usize = 10;

fn instance_id(i: usize) -> String {
    format!("i-{i:017x}")
}

/// State files holding instances `range`, written as Terraform writes them (no JSON
/// tree is built, so the bench's own setup stays out of the measured peak).
fn state_bytes(range: std::ops::Range<usize>) -> Vec<u8> {
    let mut out = String::with_capacity(range.len() * (INSTANCE.len() + 64) + 512);
    out.push_str(r#"{"version":4,"terraform_version":"1.15.0","serial":1,"lineage":"bench","outputs":{},"resources":[{"mode":"managed","type":"aws_instance","name":"fleet","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":["#);
    let roles: Vec<usize> = range.clone().filter(|i| is_role(*i)).collect();
    for (n, i) in range.filter(|i| !is_role(*i)).enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(
            &INSTANCE
                .replace("__ID__", &instance_id(i))
                .replace("__HEX__", &format!("{i:017x}"))
                .replace("__SUBNET__", &format!("{:08x}", i % 64))
                .replace("__SG__", &format!("{:08x}", i % 16))
                .replace("__I__", &i.to_string()),
        );
    }
    out.push_str(r#"]},{"mode":"managed","type":"aws_iam_role","name":"svc","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":["#);
    for (n, i) in roles.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&ROLE.replace("__HEX__", &format!("{i:017X}")).replace("__I__", &i.to_string()));
    }
    out.push_str("]}],\"check_results\":null}");
    out.into_bytes()
}

fn is_role(i: usize) -> bool {
    i % ROLE_EVERY == 5
}

/// The live view of `n` instances as the AWS mapper produces it: 5% drifted, 2% gone,
/// 2% more exist unmanaged.
fn live_view(n: usize) -> Discovery {
    let mut resources = Vec::with_capacity(n + n / 50);
    for i in 0..n {
        if is_role(i) {
            // One role in fifty trusts everyone now.
            resources.push(live_role(i, i % 50 == 5));
            continue;
        }
        if i % 50 == 1 {
            continue; // missing
        }
        let (instance_type, env) = if i % 20 == 0 { ("t3.large", "staging") } else { ("t3.micro", "prod") };
        resources.push(live(i, instance_type, env));
    }
    for i in n..n + n / 50 {
        resources.push(live(i, "t3.micro", "prod"));
    }
    Discovery {
        resources,
        failures: vec![],
        covered_types: vec!["aws_instance".into(), "aws_iam_role".into()],
        regions: vec!["us-east-1".into()],
        ..Default::default()
    }
}

/// What `provider::aws::mapping::instance` emits for an instance.
fn live(i: usize, instance_type: &str, env: &str) -> LiveResource {
    let attributes = json!({
        "id": instance_id(i),
        "ami": "ami-0abcdef1234567890",
        "instance_type": instance_type,
        "subnet_id": format!("subnet-{:08x}", i % 64),
        "vpc_security_group_ids": [format!("sg-{:08x}", i % 16)],
        "key_name": "deploy",
        "ebs_optimized": false,
        "source_dest_check": true,
        "monitoring": false,
        "iam_instance_profile": null,
        "tags": {"Name": format!("node-{i}"), "Env": env, "Team": "platform", "ManagedBy": "terraform"},
        "block_device_volume_ids": [format!("vol-{i:017x}")],
    });
    LiveResource {
        type_: "aws_instance".into(),
        id: instance_id(i),
        region: Some("us-east-1".into()),
        // The mapper drops what the API leaves out (here the instance profile).
        attributes: attributes
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        is_default: false,
        part_of: None,
    }
}

/// What `provider::aws::iam` emits for a role (global: no region).
fn live_role(i: usize, widened: bool) -> LiveResource {
    let trust =
        if widened { TRUST_FROM_IAM.replace("%22Service%22", "%22AWS%22") } else { TRUST_FROM_IAM.into() };
    let attributes = json!({
        "id": format!("svc-{i}"),
        "name": format!("svc-{i}"),
        "arn": format!("arn:aws:iam::123456789012:role/svc-{i}"),
        "path": "/",
        "assume_role_policy": trust,
        "max_session_duration": 3600,
        "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
        "tags": {"Team": "platform", "ManagedBy": "terraform"},
    });
    LiveResource {
        type_: "aws_iam_role".into(),
        id: format!("svc-{i}"),
        region: None,
        attributes: attributes
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        is_default: false,
        part_of: None,
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// One state file holds at most this many instances (the largest real states are far
/// smaller; a million resources come from many states).
const PER_FILE: usize = 5_000;

fn run_size(n: usize, repeats: usize) {
    // Written to disk and read back the way `driftmgr scan` reads them: one file's bytes
    // at a time, dropped once parsed.
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut state_bytes_total, mut file_count) = (0, 0);
    for (k, start) in (0..n).step_by(PER_FILE).enumerate() {
        let bytes = state_bytes(start..(start + PER_FILE).min(n));
        state_bytes_total += bytes.len();
        file_count += 1;
        std::fs::write(dir.path().join(format!("bench-{k:03}.tfstate")), bytes).expect("write state");
    }
    let state_mib = state_bytes_total as f64 / 1048576.0;
    let discovery = live_view(n);
    let keep = cloud_rules("aws").attribute_filter();
    let config = EngineConfig { provider: "aws".into(), default_ignores: true, ..Default::default() };
    let mut best = (f64::MAX, f64::MAX);
    let mut items = 0;
    for _ in 0..repeats {
        let started = Instant::now();
        let states = read_local_states(dir.path(), keep).expect("parses");
        let parsed = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = compare(&states, &discovery, &config, cloud_rules("aws"), Timestamp::now());
        let compared = started.elapsed().as_secs_f64();
        items = report.items.len();
        best = (best.0.min(parsed), best.1.min(compared));
    }
    println!(
        "engine {n:>9} resources: parse {:>8.1} ms, match+diff {:>8.1} ms, total {:>8.1} ms, {items} drift items, state {state_mib:.0} MiB in {} file(s), peak RSS {:.0} MiB",
        best.0 * 1e3,
        best.1 * 1e3,
        (best.0 + best.1) * 1e3,
        file_count,
        peak_rss_kib() as f64 / 1024.0
    );
}

async fn api_calls_for_1k(moto_server: &str) {
    use aws_config::{BehaviorVersion, Region};
    use driftmgr::crd::{CloudProvider, Credentials, EndpointOverride, LocalObjectRef, RateLimit};
    use driftmgr::provider::{CredentialSource, NoProgress, ProviderSettings, SecretValues, connect};
    use driftmgr::resilience::{AccountGuard, GuardSettings};

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0);
    let mut moto = Command::new(moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto");
    let url = format!("http://127.0.0.1:{port}");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "bench");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(&url)
        .load()
        .await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    for _ in 0..4 {
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .min_count(250)
            .max_count(250)
            .send()
            .await
            .expect("launch");
    }
    // 1,000 IAM roles and 1,000 S3 buckets beside the instances.
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    for i in 0..1000 {
        iam.create_role()
            .role_name(format!("svc-{i}"))
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("role");
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build(),
    );
    for i in 0..1000 {
        s3.create_bucket().bucket(format!("bench-bucket-{i:04}")).send().await.expect("bucket");
    }
    create_serverless_and_balancers(&config).await;
    let calls = prometheus::IntCounterVec::new(
        prometheus::Opts::new("calls", "calls"),
        &["service", "operation", "outcome"],
    )
    .expect("metric");
    let guard = Arc::new(AccountGuard::new(
        GuardSettings {
            rate_limit: RateLimit { requests_per_second: 1000, burst: 1000 },
            ..Default::default()
        },
        Some(calls.clone()),
    ));
    let provider = connect(ProviderSettings {
        provider: CloudProvider::Aws,
        regions: vec!["us-east-1".into()],
        projects: Vec::new(),
        endpoint: Some(EndpointOverride { url: Some(url), services: None }),
        spec: Credentials::SecretRef(LocalObjectRef { name: "bench".into() }),
        credentials: CredentialSource::Secret(SecretValues(
            [("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        )),
        guard,
    })
    .await
    .expect("provider");
    let started = Instant::now();
    let discovery = provider.discover(&[], &NoProgress).await;
    let took = started.elapsed();
    let mut per_service: std::collections::BTreeMap<String, (u64, Vec<String>)> = Default::default();
    for family in prometheus::core::Collector::collect(&calls) {
        for metric in family.get_metric() {
            let label = |name: &str| {
                metric
                    .get_label()
                    .iter()
                    .find(|l| l.name() == name)
                    .map(|l| l.value().to_string())
                    .unwrap_or_default()
            };
            let count = metric.get_counter().get_value() as u64;
            let entry = per_service.entry(label("service")).or_default();
            entry.0 += count;
            entry.1.push(format!("{}={count}", label("operation")));
        }
    }
    println!(
        "discovery of {} live resources in moto (1,000 instances and their volumes, 1,000 IAM roles, 1,000 S3 buckets, 1,000 Lambda functions, 1,000 log groups, 100 load balancers with a listener each, 100 target groups with a target each, moto's defaults) in {:.2}s:",
        discovery.resources.len(),
        took.as_secs_f64(),
    );
    // The fewest calls each API allows for 1,000 of its resources: EC2 one page per
    // listing (15 listings; the two rule types share one); ECR one
    // DescribeRepositories page per region (tags and policies are per repository: none
    // here); IAM one page each of GetAccountAuthorizationDetails, ListRoles
    // (descriptions are not in the details), ListInstanceProfiles and
    // ListOpenIDConnectProviders; S3 one ListBuckets and, having no call that lists
    // settings, one Get per bucket and setting (tagging, policy, public access block,
    // encryption, ownership, ACL, website). Lambda: 20 ListFunctions pages (50 each; moto answers
    // with one page) and, per function, GetFunction (tags, concurrency) and GetPolicy. Logs: 20
    // DescribeLogGroups pages (50 each) and one ListTagsForResource per group. ELBv2,
    // for 100 balancers, listeners and groups: one page each of DescribeLoadBalancers
    // and DescribeTargetGroups, per balancer its attributes and listeners, per group
    // its attributes and targets, and DescribeTags for 20 resources a call (3 x 5).
    let minimum = [
        ("ec2", "15"),
        ("ecr", "1"),
        ("iam", "4"),
        ("s3", "7,001"),
        ("sts", "1"),
        ("lambda", "2,020"),
        ("logs", "1,020"),
        ("elasticloadbalancing", "417"),
    ];
    for (service, (total, mut operations)) in per_service {
        operations.sort();
        let least = minimum.iter().find(|(s, _)| *s == service).map_or("?", |(_, m)| m);
        println!("  {service}: {total} calls (minimum {least}) [{}]", operations.join(", "));
    }
    let _ = moto.kill();
    let _ = moto.wait();
}

/// 1,000 Lambda functions and log groups; 100 load balancers with a listener each, 100
/// target groups with a target each.
async fn create_serverless_and_balancers(config: &aws_config::SdkConfig) {
    let iam = aws_sdk_iam::Client::new(config);
    let role = iam.get_role().role_name("svc-0").send().await.expect("role");
    let role = role.role().map(|r| r.arn().to_string()).unwrap_or_default();
    let lambda = aws_sdk_lambda::Client::new(config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let package = aws_sdk_lambda::primitives::Blob::new(b"moto keeps the bytes".to_vec());
    for i in 0..1000 {
        let code = aws_sdk_lambda::types::FunctionCode::builder().zip_file(package.clone()).build();
        lambda
            .create_function()
            .function_name(format!("fn-{i:04}"))
            .runtime(aws_sdk_lambda::types::Runtime::Nodejs20x)
            .role(&role)
            .handler("index.handler")
            .code(code)
            .send()
            .await
            .expect("function");
        logs.create_log_group().log_group_name(format!("/app/{i:04}")).send().await.expect("log group");
    }
    let ec2 = aws_sdk_ec2::Client::new(config);
    let subnets = ec2.describe_subnets().send().await.expect("subnets");
    let mut by_zone: std::collections::BTreeMap<&str, &str> = Default::default();
    for subnet in subnets.subnets() {
        if let (Some(zone), Some(id)) = (subnet.availability_zone(), subnet.subnet_id()) {
            by_zone.entry(zone).or_insert(id);
        }
    }
    let two: Vec<String> = by_zone.values().take(2).map(|s| s.to_string()).collect();
    let vpc = subnets.subnets().first().and_then(|s| s.vpc_id()).unwrap_or_default().to_string();
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(config);
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum, TargetDescription};
    for i in 0..100 {
        let lb = elb.create_load_balancer().name(format!("lb-{i}")).set_subnets(Some(two.clone())).send();
        let lb = lb.await.expect("load balancer");
        let lb =
            lb.load_balancers().first().and_then(|b| b.load_balancer_arn()).unwrap_or_default().to_string();
        let tg = elb
            .create_target_group()
            .name(format!("tg-{i}"))
            .protocol(ProtocolEnum::Http)
            .port(80)
            .vpc_id(&vpc);
        let tg = tg.send().await.expect("target group");
        let tg =
            tg.target_groups().first().and_then(|g| g.target_group_arn()).unwrap_or_default().to_string();
        let target = TargetDescription::builder().id(format!("i-{i:017x}")).build();
        elb.register_targets().target_group_arn(&tg).targets(target).send().await.expect("register");
        let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg).build();
        let listener = elb.create_listener().load_balancer_arn(&lb).protocol(ProtocolEnum::Http).port(80);
        listener.default_actions(forward).send().await.expect("listener");
    }
}

fn main() {
    driftmgr::init_memory();
    driftmgr::init_tls();
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) =
        args.iter().position(|a| a == "--size").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok())
    {
        run_size(n, if n > PER_FILE { 1 } else { 3 });
        return;
    }
    let exe = std::env::current_exe().expect("bench binary path");
    for size in [10_000usize, 100_000, 1_000_000] {
        let status = Command::new(&exe).args(["--size", &size.to_string()]).status().expect("run size");
        assert!(status.success(), "size {size} failed");
    }
    match std::env::var("MOTO_SERVER") {
        Ok(moto) => {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(api_calls_for_1k(&moto));
        }
        Err(_) => println!("MOTO_SERVER not set: skipping the API-call count (run `make bench`)"),
    }
}
