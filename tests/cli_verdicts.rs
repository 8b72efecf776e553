//! `driftmgr scan` verdicts that cannot mislead: exit 0 only when every in-scope
//! resource was verified and none drifted; 1 when nothing could be verified
//! (endpoint unreachable, credentials rejected) or on bad input; 3 for a partial
//! discovery, with the unverified count printed; SARIF that validates against the
//! SARIF 2.1.0 schema. Real moto, a fault-injecting proxy, no cluster.

mod common;

use std::process::Command;

use common::fault_proxy::{Fault, FaultProxy};
use common::moto::{Moto, scan_cli as scan, venv_python};
use serde_json::{Value, json};

fn state_file(vpc: &str, volume: &str) -> tempfile::NamedTempFile {
    let aws = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    let state = json!({"version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": "verdicts", "resources": [
        {"mode": "managed", "type": "aws_vpc", "name": "main", "provider": aws,
         "instances": [{"attributes": {"id": vpc, "cidr_block": "10.9.0.0/16", "tags": {"Name": "main"}}}]},
        {"mode": "managed", "type": "aws_ebs_volume", "name": "data", "provider": aws,
         "instances": [{"attributes": {"id": volume, "size": 8, "type": "gp2", "availability_zone": "us-east-1a"}}]},
    ]});
    let file = tempfile::Builder::new().suffix(".tfstate").tempfile().expect("state file");
    std::fs::write(file.path(), serde_json::to_vec(&state).expect("json")).expect("write");
    file
}

async fn world(moto: &Moto) -> (String, String) {
    let ec2 = moto.ec2().await;
    let vpc = moto.create_vpc("10.9.0.0/16", Some("main")).await;
    let volume = ec2.create_volume().availability_zone("us-east-1a").size(8).send().await.expect("volume");
    (vpc, volume.volume_id().expect("volume id").to_string())
}

// Multi-threaded: the fault proxy runs in this process while `scan` blocks on the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_say_what_was_verified() {
    let moto = Moto::start();
    let (vpc, volume) = world(&moto).await;
    let state = state_file(&vpc, &volume);
    let path = state.path().to_str().expect("utf-8 path");

    let (code, out, err) = scan(&moto.url, &["--state", path], "testing");
    assert_eq!(code, 0, "everything verified, nothing drifted: {out}\n{err}");
    assert!(out.contains("unverified 0") && out.ends_with("no drift\n"), "{out}");

    // Nothing listening: every listing fails, nothing was verified.
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let (code, out, err) = scan(&closed, &["--state", path], "testing");
    assert_eq!(code, 1, "an unreachable endpoint is an error, never \"no drift\": {out}\n{err}");
    assert!(err.contains("error: discovery failed everywhere, nothing was verified"), "{err}");
    assert!(
        out.contains("unverified 2") && out.contains("coverage 0.0%") && out.contains("nothing verified"),
        "{out}"
    );

    // Credentials the cloud refuses (this moto checks them, as AWS does).
    let strict = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let (code, out, err) = scan(&strict.url, &["--state", path], "wrong-secret-never-printed");
    assert_eq!(code, 1, "rejected credentials: {out}\n{err}");
    assert!(err.contains("nothing was verified"), "{err}");
    assert!(!format!("{out}{err}").contains("wrong-secret-never-printed"), "no credential in output");

    // One type failing: partial, exit 3, the unverified count printed; no drift claimed.
    let faults =
        [("DescribeVolumes".to_string(), Fault { status: 500, code: "InternalError", times: u32::MAX })];
    let proxy = FaultProxy::start(&moto.url, faults.into_iter().collect()).await;
    let (code, out, err) =
        scan(&proxy.url, &["--state", path, "--resource-type", "aws_vpc,aws_ebs_volume"], "testing");
    assert_eq!(code, 3, "partial: {out}\n{err}");
    assert!(
        err.contains(
            "partial: 1 managed resources could not be verified (us-east-1/aws_ebs_volume: InternalError)"
        ),
        "{err}"
    );
    assert!(
        out.contains("in sync 1") && out.contains("unverified 1") && out.contains("(partial result)"),
        "{out}"
    );

    // Drift and a partial result together: partial wins, since the list may be incomplete.
    moto.tag(&vpc, "Name", "renamed").await;
    let (code, _, _) = scan(&proxy.url, &["--state", path], "testing");
    assert_eq!(code, 3);
    let (code, out, _) = scan(&moto.url, &["--state", path, "-o", "json"], "testing");
    assert_eq!(code, 2);
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        report["items"][0]["changes"][0],
        json!({"path": "tags.Name", "expected": "main", "actual": "renamed"})
    );

    // Unknown resource types are refused with the supported list.
    let (code, _, err) =
        scan(&moto.url, &["--state", path, "--resource-type", "aws_instance,aws_sqs_queue"], "testing");
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "--resource-type: aws_sqs_queue not supported for aws; supported types: aws_instance, aws_vpc"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let moto = Moto::start();
    let (vpc, volume) = world(&moto).await;
    let ec2 = moto.ec2().await;
    ec2.delete_volume().volume_id(&volume).send().await.expect("delete");
    ec2.create_vpc().cidr_block("10.10.0.0/16").send().await.expect("unmanaged vpc");
    let state = state_file(&vpc, &volume);
    let (code, sarif, err) =
        scan(&moto.url, &["--state", state.path().to_str().expect("path"), "-o", "sarif"], "testing");
    assert_eq!(code, 2, "{err}");
    let parsed: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    assert_eq!(parsed["runs"][0]["results"].as_array().map(Vec::len), Some(2), "{sarif}");
    let file = tempfile::NamedTempFile::new().expect("sarif file");
    std::fs::write(file.path(), &sarif).expect("write");
    let python = venv_python();
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let check = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft7Validator.check_schema(schema)\n\
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(json.load(open(sys.argv[2]))), key=str)\n\
        print('\\n'.join(f'{list(e.path)}: {e.message}' for e in errors))\n\
        sys.exit(1 if errors else 0)";
    let output =
        Command::new(python).args(["-c", check, schema]).arg(file.path()).output().expect("validate");
    assert!(
        output.status.success(),
        "SARIF fails the 2.1.0 schema:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `driftmgr policy --provider aws` prints a read-only policy derived from the type
/// declarations; in moto with IAM enforcement on, a full scan (EC2 and IAM states)
/// under exactly that policy has nothing denied that a user allowed everything is not
/// denied too (moto refuses the REST-protocol services to any IAM user), and the same
/// policy without one
/// action (iam:ListRoles) leaves the role listing denied and the scan partial. The
/// driver: tests/support/policy_check.py.
#[test]
fn the_printed_read_only_policy_is_enough_for_a_full_scan_and_none_of_it_is_spare() {
    let policy = Command::new(env!("CARGO_BIN_EXE_driftmgr")).args(["policy", "--provider", "aws"]).output();
    let policy = policy.expect("driftmgr policy");
    let document: Value = serde_json::from_slice(&policy.stdout).expect("the policy is JSON");
    let actions: Vec<&str> = document["Statement"][0]["Action"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // API Gateway names every read of its management API `apigateway:GET`.
    assert!(
        actions.iter().all(|a| *a == "apigateway:GET"
            || ["Describe", "List", "Get"]
                .iter()
                .any(|verb| a.split_once(':').is_some_and(|(_, name)| name.starts_with(verb)))),
        "read-only: {actions:?}"
    );
    // Enforcement starts after the replay and user setup (well under 600 requests).
    let moto = Moto::start_with_env(&[
        ("INITIAL_NO_AUTH_ACTION_COUNT", "600"),
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "true"),
    ]);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfstate");
    let passed =
        common::run_corpus("policy_check.py", &[env!("CARGO_BIN_EXE_driftmgr"), &moto.url, fixtures]);
    assert_eq!(passed, 2);
    let gcp = Command::new(env!("CARGO_BIN_EXE_driftmgr")).args(["policy", "--provider", "gcp"]).output();
    let gcp = gcp.expect("driftmgr policy");
    assert_eq!(gcp.status.code(), Some(1), "no policy is printed where none is derived");
    assert!(String::from_utf8_lossy(&gcp.stderr).contains("cannot derive a read-only policy for gcp"));
}

/// Every call a scan makes, counted at the wire: only reads, and IAM (global) listed
/// once per account however many regions are scanned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_only_reads_and_lists_global_services_once_per_account() {
    let moto = Moto::start();
    let (vpc, volume) = world(&moto).await;
    let state = state_file(&vpc, &volume);
    let path = state.path().to_str().expect("utf-8 path");
    let proxy = FaultProxy::start(&moto.url, Default::default()).await;
    let (code, out, err) = scan(&proxy.url, &["--state", path, "--region", "eu-west-1"], "testing");
    assert!(code == 0 || code == 2, "{out}\n{err}");
    let calls = proxy.all_calls();
    let reads = ["Describe", "List", "Get", "REST GET", "REST HEAD"];
    let mutating: Vec<&String> = calls.keys().filter(|a| !reads.iter().any(|v| a.starts_with(v))).collect();
    assert!(mutating.is_empty(), "a scan changed something: {mutating:?} of {calls:?}");
    assert_eq!(calls.get("DescribeInstances"), Some(&2), "EC2 once per region: {calls:?}");
    assert!(calls.get("REST GET").is_some_and(|n| *n >= 1), "S3 was listed: {calls:?}");
    assert_eq!(calls.get("DescribeRepositories"), Some(&2), "ECR once per region: {calls:?}");
    for global in ["GetAccountAuthorizationDetails", "ListRoles", "ListInstanceProfiles"] {
        assert_eq!(calls.get(global), Some(&1), "{global} once per account: {calls:?}");
    }
}
