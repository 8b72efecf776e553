//! The GCP emulator (gcplocal extended by tests/support/gcp_emulator.py) on a free
//! port of 127.0.0.1, started for one test and stopped by PID when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Gcp {
    pub url: String,
    child: Child,
    /// A service-account key file the emulator accepts, and its directory (removed on drop).
    pub key_file: PathBuf,
    dir: tempfile::TempDir,
    /// A self-signed JWT of that key, for the test's own calls.
    pub token: String,
}

fn support(script: &str) -> String {
    format!("{}/tests/support/{script}", env!("CARGO_MANIFEST_DIR"))
}

impl Gcp {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the emulator with extra options (`--page-size-cap 2`, `--metadata-email E`).
    pub fn start_with(options: &[&str]) -> Self {
        driftmgr::init_tls();
        let port = super::free_port();
        let child = Command::new(super::moto::venv_python())
            .arg(support("gcp_emulator.py"))
            .arg(port.to_string())
            .args(options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the GCP emulator");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the GCP emulator did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let key_file = dir.path().join("key.json");
        let token = register_key(&url, &key_file, "scanner@driftmgr-test.iam.gserviceaccount.com");
        Self { url, child, key_file, dir, token }
    }

    /// A second key for `email`, registered too; returns its file.
    pub fn new_key(&self, email: &str) -> PathBuf {
        let file = self.dir.path().join(format!("{}.json", email.split('@').next().unwrap_or("key")));
        register_key(&self.url, &file, email);
        file
    }

    /// POSTs `body` to `path` (a Compute path below `/compute/v1/`, or `/_harness/...`).
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let url = if path.starts_with("/_harness") {
            format!("{}{path}", self.url)
        } else {
            format!("{}/compute/v1/{path}", self.url)
        };
        let request = reqwest::Client::new().post(&url).bearer_auth(&self.token);
        let answer = request.header("content-type", "application/json").body(body.to_string()).send().await;
        json_of(answer.unwrap_or_else(|e| panic!("POST {url}: {e}"))).await
    }

    /// GETs `path` (below the emulator's root) with the test's token.
    pub async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.url);
        let answer = reqwest::Client::new().get(&url).bearer_auth(&self.token).send().await;
        json_of(answer.unwrap_or_else(|e| panic!("GET {url}: {e}"))).await
    }

    /// Merges `fields` into a stored Compute object (a change behind Terraform's back).
    pub async fn set(&self, project: &str, collection: &str, name: &str, fields: Value) {
        let body = json!({"project": project, "collection": collection, "name": name, "fields": fields});
        let answer = self.post("/_harness/set", body).await;
        assert!(answer.get("name").is_some(), "set {collection}/{name}: {answer}");
    }

    /// Every call the emulator answered, with the principal that made it.
    pub async fn calls(&self) -> Vec<Value> {
        match self.get("/_harness/calls").await {
            Value::Array(calls) => calls,
            other => panic!("calls: {other}"),
        }
    }

    /// Forgets the calls answered so far.
    pub async fn clear_calls(&self) {
        let url = format!("{}/_harness/calls", self.url);
        reqwest::Client::new().delete(&url).send().await.unwrap_or_else(|e| panic!("DELETE {url}: {e}"));
    }
}

async fn json_of(answer: reqwest::Response) -> Value {
    let bytes = answer.bytes().await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn register_key(url: &str, file: &Path, email: &str) -> String {
    let output = Command::new(super::moto::venv_python())
        .arg("-c")
        .arg("import sys; sys.path.insert(0, sys.argv[1]); from gcp_keys import register_service_account as r; print(r(sys.argv[2], sys.argv[3], create=True, email=sys.argv[4]))")
        .args([&support(""), url, &file.display().to_string(), email])
        .output()
        .expect("register a service-account key");
    assert!(output.status.success(), "gcp_keys: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Runs `driftmgr scan --provider gcp --endpoint URL ARGS...` with application default
/// credentials from `key_file`; returns (exit code, stdout, stderr).
pub fn scan_cli(gcp: &Gcp, key_file: &Path, args: &[&str]) -> (i32, String, String) {
    super::outcome(
        Command::new(env!("CARGO_BIN_EXE_driftmgr"))
            .args(["scan", "--provider", "gcp", "--endpoint", &gcp.url])
            .args(args)
            .env("GOOGLE_APPLICATION_CREDENTIALS", key_file),
    )
}

impl Drop for Gcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
