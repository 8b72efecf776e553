//! State from the Terraform http backend, Terraform Cloud workspaces, GCS and Azure
//! Blob, read by the operator (as the chart's ServiceAccount) and the CLI. Real
//! Terraform writes the http backend's state (its own `http` backend, basic auth) into
//! a server the test runs, and the GCS state into fake-gcs-server (its `gcs` backend).
//! Terraform Cloud has no emulator here: its client is tested against a server
//! implementing the documented workspace and current-state-version endpoints. Azure
//! Blob runs on Azurite; Terraform's azurerm backend cannot be pointed at an emulator,
//! so the Azure SDK writes that blob.

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::chart::{apply_chart_rbac, service_account_kubeconfig};
use common::emulator::{azurite, fake_gcs, terraform_gcs_push};
use common::http_server::{HttpServer, Request};
use common::moto::{CREDENTIALS_SECRET, Moto};
use common::{LeaseTiming, Operator, create_secret};
use driftmgr::crd::{DriftScan, find_condition};
use kube::Api;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(60);
const USER: &str = "tf";
const PASSWORD: &str = "s3cret-pw";

/// The http backend: GET and POST of `/state/<name>`, basic auth, states kept in memory.
async fn http_backend() -> (HttpServer, Arc<Mutex<HashMap<String, Vec<u8>>>>) {
    let states: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    let kept = states.clone();
    let expected = format!("Basic {}", base64_encode(&format!("{USER}:{PASSWORD}")));
    let server = HttpServer::start(move |request: Request| {
        if request.headers.get("authorization") != Some(&expected) {
            return (401, b"{}".to_vec());
        }
        let mut states = kept.lock().expect("lock");
        match request.method.as_str() {
            "GET" => states.get(&request.path).map_or((404, Vec::new()), |s| (200, s.clone())),
            "POST" => {
                states.insert(request.path, request.body);
                (200, Vec::new())
            }
            _ => (405, Vec::new()),
        }
    })
    .await;
    (server, states)
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Real Terraform pushes `state` to the http backend at `address`.
fn terraform_http_push(address: &str, state: &str) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), state).expect("write state");
    let args = [address.as_ref(), USER.as_ref(), PASSWORD.as_ref(), file.path().as_os_str()];
    common::support("terraform_http_push.py", &args);
}

/// A workspace of the fake Terraform Cloud: its name and, once it has one, its state.
type Workspace = (&'static str, Option<String>);

/// Terraform Cloud's API for one organization `acme`: workspaces (by name, or listed
/// with `search[name]`, two to a page), each one's current state version, and its
/// download. Every call needs the token.
async fn terraform_cloud(states: Vec<Workspace>) -> HttpServer {
    let token = "Bearer tfc-token-123".to_string();
    let server_url: Arc<Mutex<String>> = Arc::default();
    let url = server_url.clone();
    let server = HttpServer::start(move |request: Request| {
        if request.headers.get("authorization") != Some(&token) {
            return (401, br#"{"errors":[{"status":"401"}]}"#.to_vec());
        }
        let base = url.lock().expect("lock").clone();
        let workspace = |(i, (name, _)): (usize, &Workspace)| {
            json!({"id": format!("ws-{i}"), "type": "workspaces", "attributes": {"name": name}})
        };
        let path = request.path.as_str();
        if let Some(name) = path.strip_prefix("/api/v2/organizations/acme/workspaces/") {
            return match states.iter().enumerate().find(|(_, (n, _))| *n == name) {
                Some(found) => (200, json!({"data": workspace(found)}).to_string().into_bytes()),
                None => (404, b"{}".to_vec()),
            };
        }
        if let Some(query) = path.strip_prefix("/api/v2/organizations/acme/workspaces?") {
            let param = |key: &str| {
                query.split('&').find_map(|p| p.strip_prefix(&format!("{key}="))).unwrap_or_default().to_string()
            };
            let search = param("search%5Bname%5D");
            let page: usize = param("page%5Bnumber%5D").parse().unwrap_or(1);
            // Like the real API, the name search matches anywhere in the name.
            let matching: Vec<(usize, &Workspace)> =
                states.iter().enumerate().filter(|(_, (n, _))| n.contains(search.as_str())).collect();
            let pages: Vec<&[(usize, &Workspace)]> = matching.chunks(2).collect();
            let data: Vec<_> = pages.get(page - 1).map(|p| p.iter().map(|w| workspace(*w)).collect()).unwrap_or_default();
            let next = (page < pages.len()).then_some(page + 1);
            return (200, json!({"data": data, "meta": {"pagination": {"next-page": next}}}).to_string().into_bytes());
        }
        if let Some(rest) = path.strip_prefix("/api/v2/workspaces/ws-") {
            let index: usize = rest.trim_end_matches("/current-state-version").parse().unwrap_or(usize::MAX);
            return match states.get(index) {
                Some((_, Some(_))) => {
                    let download = format!("{base}/download/{index}");
                    (200, json!({"data": {"attributes": {"hosted-state-download-url": download}}}).to_string().into_bytes())
                }
                _ => (404, b"{}".to_vec()),
            };
        }
        if let Some(index) = path.strip_prefix("/download/") {
            let state = index.parse::<usize>().ok().and_then(|i| states.get(i)).and_then(|(_, s)| s.clone());
            return state.map_or((404, Vec::new()), |s| (200, s.into_bytes()));
        }
        (404, Vec::new())
    })
    .await;
    *server_url.lock().expect("lock") = server.url.clone();
    server
}

fn cli(moto: &Moto, state: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    common::outcome(
        Command::new(env!("CARGO_BIN_EXE_driftmgr"))
            .args([
                "scan",
                "--region",
                "us-east-1",
                "--endpoint",
                &moto.url,
                "--resource-type",
                "aws_vpc",
                "-o",
                "json",
            ])
            .args(["--state", state])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied()),
    )
}

// Several threads: the servers answer while Terraform and the CLI run as blocking
// child processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_from_the_http_backend_and_terraform_cloud_is_read_by_the_cli_and_the_operator() {
    let moto = Moto::start();
    let vpc = moto.create_vpc("10.60.0.0/16", Some("edge")).await;
    let other = moto.create_vpc("10.61.0.0/16", Some("core")).await;
    moto.tag(&vpc, "Name", "edge-renamed").await;
    let edge_state = Moto::vpc_state(&vpc, "10.60.0.0/16", "edge");
    let core_state = Moto::vpc_state(&other, "10.61.0.0/16", "core");

    // Real Terraform writes the state through its http backend.
    let (backend, stored) = http_backend().await;
    let address = format!("{}/state/edge", backend.url);
    terraform_http_push(&address, &edge_state);
    let written =
        stored.lock().expect("lock").get("/state/edge").cloned().expect("Terraform wrote the state");
    assert!(String::from_utf8_lossy(&written).contains(&vpc), "the pushed state names the VPC");

    // The CLI reads it with Terraform's own environment variables.
    let auth = [("TF_HTTP_USERNAME", USER), ("TF_HTTP_PASSWORD", PASSWORD)];
    let (code, out, err) = cli(&moto, &address, &auth);
    assert_eq!(code, 2, "drift found: {out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let modified: Vec<&str> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["kind"] == "Modified")
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(modified, [vpc.as_str()], "{report}");
    let (code, _, err) = cli(&moto, &address, &[("TF_HTTP_USERNAME", USER), ("TF_HTTP_PASSWORD", "wrong")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused (401): check the credentials") && !err.contains("wrong"), "{err}");
    let (code, _, err) = cli(&moto, &format!("{}/state/none", backend.url), &auth);
    assert!(code == 1 && err.contains("/state/none: not found"), "{err}");
    // A backend that is not there: the address is named, the password is not.
    let closed = format!("http://{USER}:{PASSWORD}@127.0.0.1:{}/state/edge", common::free_port());
    let (code, _, err) = cli(&moto, &closed, &[]);
    assert!(code == 1 && err.contains("could not connect") && !err.contains(PASSWORD), "{err}");

    // Terraform Cloud: one workspace by name, or every workspace of a prefix.
    let tfc = terraform_cloud(vec![
        ("net-edge", Some(edge_state.clone())),
        ("net-core", Some(core_state.clone())),
        ("net-new", None),
        ("app-net-old", Some(core_state.clone())),
    ])
    .await;
    let host = tfc.url.trim_start_matches("http://").split(':').next().expect("host").replace('.', "_");
    let token_var = format!("TF_TOKEN_{host}");
    let tfc_env = [("DRIFTMGR_TFC_ADDRESS", tfc.url.as_str()), (token_var.as_str(), "tfc-token-123")];
    let (code, out, err) = cli(&moto, "tfc://acme/net-*", &tfc_env);
    assert_eq!(code, 2, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let sources: Vec<&str> =
        report["sources"].as_array().expect("sources").iter().filter_map(|s| s["origin"].as_str()).collect();
    assert_eq!(
        sources,
        ["tfc://acme/net-core", "tfc://acme/net-edge"],
        "by prefix, paged, without state skipped: {report}"
    );
    assert_eq!(report["summary"]["managed"], 2, "{report}");
    let (code, _, err) = cli(&moto, "tfc://acme/net-new", &tfc_env);
    assert!(code == 1 && err.contains("tfc://acme/net-new: not found"), "{err}");
    let (code, _, err) = cli(&moto, "tfc://acme/net-edge", &[tfc_env[0], (token_var.as_str(), "stolen")]);
    assert!(code == 1 && err.contains("refused (401)") && !err.contains("stolen"), "{err}");

    // The operator, as the chart's ServiceAccount, reads both from Secrets of the scan's namespace.
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "backends").await;
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    create_secret(&ns, "http-auth", &[("username", USER), ("password", PASSWORD)]);
    create_secret(&ns, "tfc", &[("token", "tfc-token-123")]);
    let yaml = format!(
        "{}---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: http}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{http: {{url: '{address}', basicAuthSecretRef: {{name: http-auth}}}}}}]\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: tfc}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{terraformCloud: {{address: '{}', organization: acme, workspacePrefix: net-, tokenSecretRef: {{name: tfc, key: token}}}}}}]\n",
        prod_account(&moto),
        tfc.url
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let _operator = operator(&ns, "backends", &kubeconfig);
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    for (name, managed) in [("http", 1), ("tfc", 2)] {
        let status = common::scan_completed(&scans, name).await;
        let summary = status.summary.expect("summary");
        assert_eq!((summary.managed, summary.modified), (managed, 1), "{name}: {summary:?}");
    }
    // A wrong password fails the scan with the reason, never the password.
    create_secret(&ns, "bad-auth", &[("username", "tf"), ("password", "nope-nope")]);
    let bad = json!({"spec": {"stateSources": [{"http": {"url": address, "basicAuthSecretRef": {"name": "bad-auth"}}}]}});
    scans
        .patch("http", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&bad))
        .await
        .expect("patch");
    let message = common::wait_until(TIMEOUT, "the refused state reported", || async {
        let status = scans.get("http").await.ok()?.status?;
        let ready = find_condition(&status.conditions, "Ready")?;
        (ready.status == "False").then(|| ready.message.clone())
    })
    .await;
    assert!(message.contains("spec.stateSources[0]") && message.contains("refused (401)"), "{message}");
    assert!(!message.contains("nope-nope"), "{message}");
}

/// The credentials Secret and the ProviderAccount `prod` (AWS, pointed at moto) the
/// scans of these tests use.
fn prod_account(moto: &Moto) -> String {
    format!(
        "{CREDENTIALS_SECRET}---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: prod}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{}'}}\n",
        moto.url
    )
}

/// The operator of `ns`, as the chart's ServiceAccount.
fn operator(ns: &str, identity: &str, kubeconfig: &std::path::Path) -> Operator {
    Operator::start_as(ns, identity, &LeaseTiming { duration_secs: 6, renew_secs: 2 }, Some(kubeconfig))
}

/// Azurite's published development account key.
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_in_gcs_and_azure_blob_is_read_by_the_cli_and_the_operator() {
    let moto = Moto::start();
    let vpc = moto.create_vpc("10.70.0.0/16", Some("edge")).await;
    moto.tag(&vpc, "Name", "edge-renamed").await;
    let state = Moto::vpc_state(&vpc, "10.70.0.0/16", "edge");
    let dir = tempfile::tempdir().expect("temp dir");

    // GCS: the bucket `tf-states` with a non-state file under `prod/`, and the state
    // real Terraform writes there through its gcs backend.
    let data = dir.path().join("gcs");
    std::fs::create_dir_all(data.join("tf-states/prod")).expect("dirs");
    std::fs::write(data.join("tf-states/prod/notes.txt"), "not state").expect("file");
    let (_gcs, gcs_url) = fake_gcs(&data).await;
    let file = dir.path().join("edge.tfstate");
    std::fs::write(&file, &state).expect("state");
    terraform_gcs_push(&gcs_url, "tf-states", "prod/edge", &file);
    // object_store's emulator settings in a key file: no OAuth, the emulator's URL.
    let key = json!({"gcs_base_url": gcs_url, "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""})
        .to_string();
    let (code, out, err) = cli(&moto, "gs://tf-states/prod/", &[("GOOGLE_SERVICE_ACCOUNT_KEY", &key)]);
    assert_eq!(code, 2, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["sources"][0]["origin"], "gs://tf-states/prod/edge/default.tfstate", "{report}");
    assert_eq!(report["sources"].as_array().map(Vec::len), Some(1), "only *.tfstate");
    let (code, _, err) = cli(&moto, "gs://tf-states/prod/", &[]);
    assert!(code == 1 && err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");

    // Azure Blob: Azurite, a container `tfstate` with the state.
    // (Terraform's azurerm backend cannot be pointed at an emulator: the SDK writes it.)
    let (_azure, blob_url) = azurite(&dir.path().join("azurite")).await;
    common::support(
        "azurite_put.py",
        &[blob_url.as_ref(), "tfstate".as_ref(), "env/edge.tfstate".as_ref(), file.as_os_str()],
    );
    let azure_env =
        [("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY), ("AZURE_STORAGE_ENDPOINT", blob_url.as_str())];
    let (code, out, err) = cli(&moto, "azblob://devstoreaccount1/tfstate/env/", &azure_env);
    assert_eq!(code, 2, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        report["sources"][0]["origin"], "azblob://devstoreaccount1/tfstate/env/edge.tfstate",
        "{report}"
    );
    let wrong = [("AZURE_STORAGE_ACCOUNT_KEY", "d3Jvbmc="), ("AZURE_STORAGE_ENDPOINT", blob_url.as_str())];
    let (code, _, err) = cli(&moto, "azblob://devstoreaccount1/tfstate/env/edge.tfstate", &wrong);
    assert!(code == 1 && !err.contains("d3Jvbmc"), "a wrong key fails without showing it: {err}");

    // The operator reads both with keys from Secrets of the scan's namespace.
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "buckets").await;
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    create_secret(&ns, "gcs-key", &[("key.json", &key)]);
    create_secret(&ns, "azure-key", &[("key", AZURITE_KEY)]);
    let yaml = format!(
        "{}---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: gcs}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{gcs: {{bucket: tf-states, prefix: prod/, credentialsSecretRef: {{name: gcs-key, key: key.json}}}}}}]\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: azure}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{azureBlob: {{account: devstoreaccount1, container: tfstate, blob: env/edge.tfstate, endpoint: '{blob_url}', accessKeySecretRef: {{name: azure-key, key: key}}}}}}]\n",
        prod_account(&moto)
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    // A GCS source without a key is refused by the API server, naming the field.
    let keyless = "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: keyless}\nspec:\n  providerAccountRef: {name: prod}\n  stateSources: [{gcs: {bucket: tf-states, key: a.tfstate}}]\n";
    let refused = common::create_yaml(&client, &ns, keyless).await.remove(0).expect_err("refused");
    assert!(refused.to_string().contains("gcs.credentialsSecretRef"), "{refused}");
    let _operator = operator(&ns, "buckets", &kubeconfig);
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    for name in ["gcs", "azure"] {
        let status = common::scan_completed(&scans, name).await;
        let summary = status.summary.expect("summary");
        assert_eq!((summary.managed, summary.modified), (1, 1), "{name}: {summary:?}");
    }
}
