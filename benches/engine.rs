//! `make bench`: engine time (parse, match, diff) and peak memory for 10k and 100k
//! synthetic resources, and the number of EC2 API calls for a full scan of 1k
//! instances in moto (when MOTO_SERVER is set). Each size runs in a child process
//! so its peak RSS is its own.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use driftmgr::drift::{EngineConfig, compare};
use driftmgr::provider::{Discovery, LiveResource};
use driftmgr::state::parse_state;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

fn instance_attributes(i: usize, instance_type: &str, env: &str) -> Map<String, Value> {
    let attributes = json!({
        "id": format!("i-{i:017x}"),
        "ami": "ami-0abcdef1234567890",
        "instance_type": instance_type,
        "subnet_id": format!("subnet-{:08x}", i % 64),
        "vpc_security_group_ids": [format!("sg-{:08x}", i % 16)],
        "key_name": "deploy",
        "ebs_optimized": false,
        "source_dest_check": true,
        "monitoring": false,
        "tags": {"Name": format!("node-{i}"), "Env": env, "Team": "platform"},
    });
    attributes.as_object().cloned().unwrap_or_default()
}

/// A state with `n` instances, and a live view where 5% drifted, 2% are gone and
/// 2% more exist unmanaged.
fn synthetic(n: usize) -> (Vec<u8>, Discovery) {
    let instances: Vec<Value> = (0..n)
        .map(|i| {
            json!({"index_key": i, "schema_version": 1, "attributes": instance_attributes(i, "t3.micro", "prod")})
        })
        .collect();
    let state = json!({
        "version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": "bench", "outputs": {},
        "resources": [{"mode": "managed", "type": "aws_instance", "name": "fleet",
                       "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": instances}]
    });
    let mut resources = Vec::with_capacity(n + n / 50);
    for i in 0..n {
        if i % 50 == 1 {
            continue; // missing
        }
        let (instance_type, env) = if i % 20 == 0 { ("t3.large", "staging") } else { ("t3.micro", "prod") };
        resources.push(live(i, instance_type, env));
    }
    for i in n..n + n / 50 {
        resources.push(live(i, "t3.micro", "prod"));
    }
    let discovery = Discovery {
        resources,
        failures: vec![],
        covered_types: vec!["aws_instance".into()],
        regions: vec!["us-east-1".into()],
    };
    (serde_json::to_vec(&state).unwrap_or_default(), discovery)
}

fn live(i: usize, instance_type: &str, env: &str) -> LiveResource {
    LiveResource {
        type_: "aws_instance".into(),
        id: format!("i-{i:017x}"),
        region: Some("us-east-1".into()),
        attributes: instance_attributes(i, instance_type, env),
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

fn run_size(n: usize) {
    let (state_bytes, discovery) = synthetic(n);
    let config = EngineConfig { provider: "aws".into(), default_ignores: true, ..Default::default() };
    let mut best = (f64::MAX, f64::MAX);
    let mut items = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let state = parse_state(&state_bytes, "bench.tfstate").expect("synthetic state parses");
        let parsed = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = compare(std::slice::from_ref(&state), &discovery, &config, Timestamp::now());
        let compared = started.elapsed().as_secs_f64();
        items = report.items.len();
        best = (best.0.min(parsed), best.1.min(compared));
    }
    println!(
        "engine {n:>7} resources: parse {:>8.1} ms, match+diff {:>8.1} ms, total {:>8.1} ms, {items} drift items, state {:.1} MiB, peak RSS {:.1} MiB",
        best.0 * 1e3,
        best.1 * 1e3,
        (best.0 + best.1) * 1e3,
        state_bytes.len() as f64 / 1048576.0,
        peak_rss_kib() as f64 / 1024.0
    );
}

async fn api_calls_for_1k(moto_server: &str) {
    use aws_config::{BehaviorVersion, Region};
    use driftmgr::crd::{CloudProvider, EndpointOverride, RateLimit};
    use driftmgr::provider::{CredentialSource, NoProgress, ProviderSettings, StaticKeys, connect};
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
        endpoint: Some(EndpointOverride { url: Some(url), services: None }),
        credentials: CredentialSource::Static(StaticKeys {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
        }),
        guard,
    })
    .await
    .expect("provider");
    let started = Instant::now();
    let discovery = provider.discover(&[], &NoProgress).await;
    let took = started.elapsed();
    let mut total = 0;
    let mut per_operation = Vec::new();
    for family in prometheus::core::Collector::collect(&calls) {
        for metric in family.get_metric() {
            let operation =
                metric.get_label().iter().find(|l| l.name() == "operation").map(|l| l.value().to_string());
            let count = metric.get_counter().get_value() as u64;
            total += count;
            per_operation.push(format!("{}={count}", operation.unwrap_or_default()));
        }
    }
    per_operation.sort();
    println!(
        "discovery of {} live resources (1000 instances + their volumes + moto defaults) in moto: {total} EC2 API calls in {:.2}s [{}]",
        discovery.resources.len(),
        took.as_secs_f64(),
        per_operation.join(", ")
    );
    let _ = moto.kill();
    let _ = moto.wait();
}

fn main() {
    driftmgr::init_tls();
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) =
        args.iter().position(|a| a == "--size").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok())
    {
        run_size(n);
        return;
    }
    let exe = std::env::current_exe().expect("bench binary path");
    for size in [10_000usize, 100_000] {
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
