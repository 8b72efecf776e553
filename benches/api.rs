//! `make bench` (API part): the release `driftmgr api` serving 1,000 DriftScans from
//! its watch cache, loaded by oha (a separate process) over 2 cores. Reports requests
//! per second and p50/p99 latency for a list and a get, authenticated with an API key,
//! against the target of 10,000 requests/s with p99 under 20 ms.
//!
//! Needs the control plane (`make bench` starts it) and OHA (e2e/oha.sh builds it).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::api::{login, send, start};
use serde_json::{Value, json};

const SCANS: usize = 1000;
const TARGET_RPS: f64 = 10_000.0;
const TARGET_P99_MS: f64 = 20.0;

fn oha(oha: &str, url: &str, key: &str) -> Value {
    let out = std::process::Command::new(oha)
        .args(["-z", "10s", "-c", "32", "--no-tui", "--output-format", "json"])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .arg(url)
        .output()
        .expect("run oha");
    assert!(out.status.success(), "oha failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("oha JSON")
}

#[tokio::main]
async fn main() {
    let (Some(_), Ok(oha_bin)) = (std::env::var_os("KUBECONFIG"), std::env::var("OHA")) else {
        println!("api: KUBECONFIG or OHA not set: run `make bench`");
        return;
    };
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "api-bench").await;
    let mut yaml = String::new();
    for s in 0..SCANS {
        yaml.push_str(&format!(
            "---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: scan-{s:04}}}\nspec:\n  providerAccountRef: {{name: account-{}}}\n  stateSources: [{{s3: {{bucket: states, key: 'k{s}'}}}}]\n",
            s % 10
        ));
    }
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = std::path::PathBuf::from(std::env::var("KUBECONFIG").expect("KUBECONFIG"));
    let args: Vec<String> =
        ["--auth-namespace", &ns, "--rate-per-ip", "10000000", "--rate-per-user", "10000000"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let api = start(&ns, &kubeconfig, dir.path().join("api.log"), &args).await;
    let password = common::kubectl(&[
        "get",
        "secret",
        "driftmgr-api-initial-admin",
        "-n",
        &ns,
        "-o",
        "jsonpath={.data.password}",
    ]);
    use base64::Engine;
    let password =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(password.trim()).expect("base64"))
            .expect("utf-8");
    let (status, admin) = login(api.port, "admin", &password).await;
    assert_eq!(status, 200, "{admin}");
    let token = format!("Bearer {}", admin["accessToken"].as_str().expect("token"));
    let body = json!({"name": "bench", "roles": ["viewer"]}).to_string();
    let (status, _, key) = send(
        api.port,
        "POST",
        "/api/v1/auth/keys",
        &[("Authorization", &token), ("Content-Type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let key = key["key"].as_str().expect("key").to_string();
    common::wait_until(Duration::from_secs(60), "all scans cached", || async {
        let (_, _, body) = common::api::call(api.port, "GET", "/api/v1/scans?limit=1", Some(&key)).await;
        (body["total"] == SCANS).then_some(())
    })
    .await;

    let base = format!("http://127.0.0.1:{}", api.port);
    for (what, path) in [
        ("list (50 of 1,000 scans)", "/api/v1/scans?limit=50".to_string()),
        ("get (one scan)", format!("/api/v1/scans/{ns}/scan-0500")),
    ] {
        let result = oha(&oha_bin, &format!("{base}{path}"), &key);
        let rps = result["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0);
        let p50 = result["latencyPercentiles"]["p50"].as_f64().unwrap_or(f64::NAN) * 1000.0;
        let p99 = result["latencyPercentiles"]["p99"].as_f64().unwrap_or(f64::NAN) * 1000.0;
        let codes = &result["statusCodeDistribution"];
        let verdict = if rps >= TARGET_RPS && p99 < TARGET_P99_MS { "meets" } else { "MISSES" };
        println!(
            "api: {what}: {rps:.0} requests/s, p50 {p50:.2} ms, p99 {p99:.2} ms, status codes {codes}; {verdict} the target ({TARGET_RPS:.0}/s, p99 < {TARGET_P99_MS} ms)"
        );
        assert!(codes.as_object().is_some_and(|c| c.keys().all(|k| k == "200")), "only 200s: {codes}");
    }
}
