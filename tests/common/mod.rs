//! Shared harness for the integration tests. They run against the real
//! kube-apiserver that `make test` / `make integration` starts (e2e/cluster-up.sh),
//! found through the KUBECONFIG that script writes.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod api;
pub mod chart;
pub mod emulator;
pub mod fault_proxy;
pub mod gcp;
pub mod http_server;
pub mod moto;
pub mod plans;
pub mod tcp_proxy;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use driftmgr::crd::all_crds;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::Value;

/// A client for the test control plane. Fails loudly when there is none: these
/// tests must never pass by skipping.
pub async fn client() -> Client {
    driftmgr::init_tls();
    assert!(
        std::env::var_os("KUBECONFIG").is_some(),
        "KUBECONFIG is not set: run the integration tests with `make integration` \
         (after `make cluster-up`) or `make test`, which start the control plane"
    );
    Client::try_default().await.expect("connect to the test control plane")
}

/// Applies the generated CRDs and waits until the API server serves them.
pub async fn install_crds(client: &Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in all_crds() {
        let name = crd.metadata.name.clone().expect("CRDs are named");
        crds.patch(&name, &PatchParams::apply("driftmgr-tests").force(), &Patch::Apply(&crd))
            .await
            .expect("apply CRD");
        wait_until(Duration::from_secs(30), &format!("CRD {name} established"), || {
            let crds = crds.clone();
            let name = name.clone();
            async move {
                let crd = crds.get(&name).await.ok()?;
                let established =
                    crd.status?.conditions?.iter().any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            }
        })
        .await;
    }
    // Every test runs under the shipped admission policy, as a cluster would.
    install_approval_policy(client).await;
}

/// The release namespace of the chart whose approval policy the tests install: its
/// API ServiceAccount (`system:serviceaccount:driftmgr-tests:drift`) is the trusted
/// recorder of approvals (tests/api.rs runs the API as it).
pub const POLICY_RELEASE_NAMESPACE: &str = "driftmgr-tests";

/// The approval admission policy as the chart renders it with the API enabled (the
/// same rules as crds/approval-policy.yaml, plus the API's ServiceAccount as the one
/// trusted recorder), applied with server-side apply so that concurrent tests install
/// it idempotently. The API server loads a new policy asynchronously: callers that
/// test it wait for it to take effect.
pub async fn install_approval_policy(client: &Client) {
    use k8s_openapi::api::admissionregistration::v1::{
        ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    };
    let text = chart::helm(&[
        "template",
        "drift",
        chart::CHART,
        "--namespace",
        POLICY_RELEASE_NAMESPACE,
        "--set",
        "api.enabled=true",
        "--show-only",
        "templates/approval-policy.yaml",
    ]);
    let params = PatchParams::apply("driftmgr-tests").force();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(doc).expect("policy YAML parses");
        if value.is_null() {
            continue;
        }
        let name = value["metadata"]["name"].as_str().expect("named").to_string();
        match value["kind"].as_str() {
            Some("ValidatingAdmissionPolicy") => {
                let api: Api<ValidatingAdmissionPolicy> = Api::all(client.clone());
                api.patch(&name, &params, &Patch::Apply(&value)).await.expect("apply policy");
            }
            Some("ValidatingAdmissionPolicyBinding") => {
                let api: Api<ValidatingAdmissionPolicyBinding> = Api::all(client.clone());
                api.patch(&name, &params, &Patch::Apply(&value)).await.expect("apply binding");
            }
            other => panic!("unexpected kind {other:?} in crds/approval-policy.yaml"),
        }
    }
}

/// Runs kubectl and returns whether it succeeded with its stdout and stderr together.
pub fn kubectl_result(args: &[&str]) -> (bool, String) {
    let output = Command::new(tool("kubectl")).args(args).output().expect("run kubectl");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A fresh namespace with a unique name.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name = format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 10_000
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).expect("namespace");
    namespaces.create(&PostParams::default(), &ns).await.expect("create namespace");
    name
}

/// Waits (a minute at most) for DriftScan `name` to complete; its status.
pub async fn scan_completed(
    scans: &Api<driftmgr::crd::DriftScan>,
    name: &str,
) -> driftmgr::crd::DriftScanStatus {
    wait_until(Duration::from_secs(60), &format!("scan {name} completed"), || async {
        let status = scans.get(name).await.ok()?.status?;
        (status.phase == Some(driftmgr::crd::ScanPhase::Completed)).then_some(status)
    })
    .await
}

/// Creates Secret `name` in `ns` with the text `data` (key, value) through kubectl.
pub fn create_secret(ns: &str, name: &str, data: &[(&str, &str)]) {
    let literals: Vec<String> =
        data.iter().map(|(key, value)| format!("--from-literal={key}={value}")).collect();
    let mut args = vec!["create", "secret", "generic", name, "-n", ns];
    args.extend(literals.iter().map(String::as_str));
    kubectl(&args);
}

/// Runs tests/support/`script` with the test venv's Python and `args`, and asserts it
/// succeeded (naming the script and its stderr); its stdout.
pub fn support(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let path = format!("{}/tests/support/{script}", env!("CARGO_MANIFEST_DIR"));
    let (code, stdout, stderr) = outcome(Command::new(moto::venv_python()).arg(path).args(args));
    assert_eq!(code, 0, "{script} failed: {stderr}");
    stdout
}

/// Runs a finished command's (exit code, stdout, stderr).
pub fn outcome(command: &mut Command) -> (i32, String, String) {
    let output = command.output().unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs a replay corpus driver (tests/support/*replay*.py) with `args`; returns how
/// many checks passed after asserting none failed. The driver prints one line per
/// check and closes with `N passed, M failed`.
pub fn run_corpus(script: &str, args: &[&str]) -> u32 {
    let root = env!("CARGO_MANIFEST_DIR");
    let (code, stdout, stderr) =
        outcome(Command::new(moto::venv_python()).arg(format!("{root}/tests/support/{script}")).args(args));
    println!("{stdout}");
    eprintln!("{stderr}");
    let closing = stdout.lines().last().unwrap_or_default();
    let (passed, failed) = closing
        .split_once(" passed, ")
        .and_then(|(p, f)| Some((p.parse::<u32>().ok()?, f.strip_suffix(" failed")?.parse::<u32>().ok()?)))
        .unwrap_or((0, u32::MAX));
    assert!(code == 0 && failed == 0, "replay checks failed: {closing}");
    passed
}

/// Polls `probe` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn wait_until<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates objects from a YAML document (one or several, `---` separated) with kubectl-free
/// dynamic apply, returning the API server's answer for each.
pub async fn create_yaml(client: &Client, namespace: &str, yaml: &str) -> Vec<Result<Value, kube::Error>> {
    let mut results = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let value: Value = serde::Deserialize::deserialize(doc).expect("test YAML parses");
        if value.is_null() {
            continue;
        }
        results.push(create_value(client, namespace, value).await);
    }
    results
}

/// Creates one object given as JSON.
pub async fn create_value(client: &Client, namespace: &str, value: Value) -> Result<Value, kube::Error> {
    let api_version = value["apiVersion"].as_str().expect("apiVersion").to_string();
    let kind = value["kind"].as_str().expect("kind").to_string();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let gvk = kube::core::GroupVersionKind::gvk(group, version, &kind);
    let (resource, _caps) = kube::discovery::pinned_kind(client, &gvk).await?;
    let api: Api<kube::core::DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let object: kube::core::DynamicObject = serde_json::from_value(value).expect("object shape");
    api.create(&PostParams::default(), &object).await.map(|o| serde_json::to_value(o).expect("serialise"))
}

/// The path of a binary from the test control plane's tool cache (kubectl, helm).
pub fn tool(name: &str) -> PathBuf {
    let var = name.to_uppercase();
    PathBuf::from(
        std::env::var(&var).unwrap_or_else(|_| panic!("{var} is not set: run via `make integration`")),
    )
}

/// Runs kubectl against the test control plane and returns stdout, panicking on failure.
pub fn kubectl(args: &[&str]) -> String {
    let output = Command::new(tool("kubectl")).args(args).output().expect("run kubectl");
    assert!(output.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A running `driftmgr operator` process, logging JSON to a file.
pub struct Operator {
    pub identity: String,
    pub metrics_port: u16,
    child: Child,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Lease timing for operators started by tests (short, to keep tests quick).
pub struct LeaseTiming {
    pub duration_secs: u64,
    pub renew_secs: u64,
}

impl Operator {
    /// Starts an operator watching only `namespace`, with its lease there too.
    pub fn start(namespace: &str, identity: &str, lease: &LeaseTiming) -> Self {
        Self::start_as(namespace, identity, lease, None)
    }

    /// Like `start`, with another kubeconfig (another identity) when given.
    pub fn start_as(
        namespace: &str,
        identity: &str,
        lease: &LeaseTiming,
        kubeconfig: Option<&std::path::Path>,
    ) -> Self {
        Self::start_with(namespace, identity, lease, kubeconfig, &[], &[])
    }

    /// Like `start_as`, with extra flags and environment variables.
    pub fn start_with(
        namespace: &str,
        identity: &str,
        lease: &LeaseTiming,
        kubeconfig: Option<&std::path::Path>,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log_path = dir.path().join("operator.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let metrics_port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_driftmgr"));
        if let Some(path) = kubeconfig {
            command.env("KUBECONFIG", path);
        }
        let child = command
            .args(["operator", "--log-format", "json"])
            .args(["--watch-namespace", namespace, "--lease-namespace", namespace])
            .args(["--identity", identity])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
            .args(["--lease-duration", &format!("{}s", lease.duration_secs)])
            .args(["--lease-renew-interval", &format!("{}s", lease.renew_secs)])
            .args(["--retry-interval", "2s"])
            .args(extra_args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info,driftmgr=debug")
            // Never let the AWS default chain reach for the instance metadata service.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start driftmgr operator");
        Self { identity: identity.to_string(), metrics_port, child, log_path, _dir: dir }
    }

    /// GETs a path of the operator's HTTP server; `None` while it is not answering.
    pub async fn http_get(&self, path: &str) -> Option<(u16, String)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port)).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Some((status, body))
    }

    /// The value of an unlabelled metric (or a labelled one given as `name{labels}`).
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let (_, body) = self.http_get("/metrics").await?;
        body.lines()
            .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Every JSON log line so far.
    pub fn logs(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// Log lines whose message is `message`.
    pub fn log_entries(&self, message: &str) -> Vec<Value> {
        self.logs().into_iter().filter(|l| l["message"] == message).collect()
    }

    pub fn raw_log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process dies without releasing anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (up to 20 s) for a clean exit; returns whether it exited 0.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
        false
    }

    /// Whether the process is alive (without reaping it).
    pub fn is_running_now(&self) -> bool {
        std::path::Path::new(&format!("/proc/{}", self.child.id())).exists()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    // The port is released before its user (moto, an operator) binds it, and the
    // kernel may offer it again meanwhile: tests running at once in this process then
    // shared one moto. Never hand out a port twice.
    static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner()).insert(port) {
            return port;
        }
    }
}

/// Parses an RFC 3339 timestamp from a log line into seconds since the epoch.
pub fn log_time(entry: &Value) -> f64 {
    let text = entry["timestamp"].as_str().expect("log line has a timestamp");
    let ts: k8s_openapi::jiff::Timestamp = text.parse().expect("RFC 3339 timestamp");
    ts.as_millisecond() as f64 / 1000.0
}

/// Now, in seconds since the epoch.
pub fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).expect("clock after 1970")
}
