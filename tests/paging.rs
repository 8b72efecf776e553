//! Pagination past the first page. moto answers every Describe* call in one page, so
//! a paging proxy (tests/support/paging_proxy.py) stands in front of it and hands the
//! answer out in pages of the requested size with a NextToken, as AWS does. An account
//! of 2,500 instances (and their 2,500 volumes) must be discovered completely with
//! exactly the calls the page sizes allow; a token that repeats, or never ends, must
//! end the listing with a clear failure and an honest exit code.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

use common::moto::Moto;
use serde_json::{Value, json};

/// The paging proxy, stopped by PID when dropped.
struct PagingProxy {
    url: String,
    child: Child,
}

impl PagingProxy {
    fn start(upstream: &str, modes: &[&str]) -> Self {
        let python = common::moto::venv_python();
        let mut child = Command::new(python)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/paging_proxy.py"))
            .arg(upstream)
            .args(modes)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the paging proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("proxy URL");
        Self { url: line.trim().to_string(), child }
    }

    /// Paged calls so far, by action.
    fn calls(&self) -> Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the proxy");
        write!(stream, "GET /_calls HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
            .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap_or_default()).expect("JSON counts")
    }
}

impl Drop for PagingProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scan(endpoint: &str, state: &std::path::Path) -> (i32, String, String) {
    let state = state.to_str().expect("utf-8 path");
    let types = "aws_instance,aws_ebs_volume";
    common::moto::scan_cli(
        endpoint,
        &["--rate-limit", "1000", "--resource-type", types, "--state", state],
        "testing",
    )
}

#[tokio::test]
async fn a_large_account_is_listed_page_by_page_and_a_looping_api_is_stopped() {
    let moto = Moto::start();
    let ec2 = moto.ec2().await;
    let image = ec2.describe_images().owners("amazon").send().await.expect("images").images()[0]
        .image_id()
        .expect("image id")
        .to_string();
    let mut instances = Vec::new();
    for _ in 0..5 {
        let run =
            ec2.run_instances().image_id(&image).min_count(500).max_count(500).send().await.expect("run");
        instances.extend(run.instances().iter().filter_map(|i| i.instance_id().map(str::to_string)));
    }
    // Read straight from moto (one page): every instance brought a root volume.
    let volumes: Vec<String> = ec2
        .describe_volumes()
        .send()
        .await
        .expect("volumes")
        .volumes()
        .iter()
        .filter_map(|v| v.volume_id().map(str::to_string))
        .collect();
    assert_eq!((instances.len(), volumes.len()), (2500, 2500));
    let block = |type_: &str, ids: &[String]| {
        json!({"mode": "managed", "type": type_, "name": "n", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
               "instances": ids.iter().enumerate().map(|(k, id)| json!({"index_key": k, "attributes": {"id": id}})).collect::<Vec<_>>()})
    };
    let state = json!({"version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": "paging",
        "resources": [block("aws_instance", &instances), block("aws_ebs_volume", &volumes)]});
    let file = tempfile::NamedTempFile::new().expect("state file");
    std::fs::write(file.path(), serde_json::to_vec(&state).expect("json")).expect("write state");

    // Complete: every instance and volume past page one is found.
    let proxy = PagingProxy::start(&moto.url, &[]);
    let (code, out, err) = scan(&proxy.url, file.path());
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("managed 5000, in sync 5000, modified 0, missing 0, unmanaged 0"), "{out}");
    assert_eq!(
        proxy.calls(),
        json!({"DescribeInstances": 3, "DescribeVolumes": 5}),
        "1,000 instances and 500 volumes a page: 3 and 5 calls"
    );
    drop(proxy);

    // Ingress and egress rules come from one DescribeSecurityGroupRules listing a region.
    let rules_proxy = PagingProxy::start(&moto.url, &[]);
    let empty = tempfile::NamedTempFile::new().expect("state file");
    std::fs::write(empty.path(), br#"{"version": 4, "terraform_version": "1.15.0", "resources": []}"#)
        .expect("write");
    let types = "aws_vpc_security_group_ingress_rule,aws_vpc_security_group_egress_rule";
    let path = empty.path().to_str().expect("utf-8 path");
    let (code, out, err) =
        common::moto::scan_cli(&rules_proxy.url, &["--resource-type", types, "--state", path], "testing");
    assert_eq!(code, 0, "moto's default groups' rules are part of default groups: {out}\n{err}");
    assert_eq!(rules_proxy.calls(), json!({"DescribeSecurityGroupRules": 1}));
    drop(rules_proxy);

    // A token that comes back again: the listing stops; the rest is partial (exit 3).
    let repeating = PagingProxy::start(&moto.url, &["--repeat", "DescribeVolumes"]);
    let (code, out, err) = scan(&repeating.url, file.path());
    assert_eq!(code, 3, "partial: {out}\n{err}");
    assert!(
        out.contains("us-east-1/aws_ebs_volume failed (PaginationLoop): DescribeVolumes returned a NextToken it had already returned (after 2 pages)"),
        "{out}"
    );
    assert!(err.contains("partial: 2500 managed resources could not be verified"), "{err}");
    assert!(out.contains("missing 0"), "unlisted volumes are not called missing: {out}");
    assert_eq!(repeating.calls()["DescribeVolumes"], 2);
    drop(repeating);

    // A listing that never ends stops at the page limit.
    let endless = PagingProxy::start(&moto.url, &["--endless", "DescribeInstances"]);
    let (code, out, err) = scan(&endless.url, file.path());
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(out.contains("DescribeInstances was still returning pages after 2000"), "{out}");
    assert_eq!(endless.calls()["DescribeInstances"], 2000);
}
