//! GCP end to end, on the GCP emulator (gcplocal, extended by
//! tests/support/gcp_emulator.py): `driftmgr scan --provider gcp` and the operator (as
//! the chart's ServiceAccount, on the real control plane) find drift made behind the
//! state's back; every credential source is exercised (a service-account key, workload
//! identity through TokenRequest, STS and IAM Credentials, the metadata server where
//! the admin's ambient-credential policy allows it, application default credentials in
//! the CLI); listing pages through aggregated lists, retries a
//! failing call and reports a failing one as partial. The states are in the shape the
//! real Google provider writes: the driftctl fixtures' resources, renamed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::chart::{apply_chart_rbac, service_account_kubeconfig};
use common::emulator::{fake_gcs, terraform_gcs_push};
use common::gcp::{Gcp, scan_cli};
use common::{LeaseTiming, Operator, create_secret, kubectl};
use driftmgr::crd::{DriftScan, ProviderAccount, find_condition};
use kube::Api;
use serde_json::{Value, json};

const PROJECT: &str = "driftmgr-test";
/// The service account the emulator's metadata server hands out tokens of.
const NODE_ACCOUNT: &str = "node@driftmgr-test.iam.gserviceaccount.com";
const TIMEOUT: Duration = Duration::from_secs(60);

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/tfstate/driftctl/test/{name}/terraform.tfstate",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// Rewrites every link and id of a fixture's attributes to this test's project.
fn in_project(attributes: &Value, project: &str) -> Value {
    let text = attributes
        .to_string()
        .replace("cloudskiff-dev-elie", project)
        .replace("cloudskiff-dev-raphael", project);
    serde_json::from_str(&text).expect("JSON")
}

/// A state of `web` instances (the instance fixture's, one per name) and the firewall
/// fixture's firewall, as the Google provider records them.
fn state(names: &[&str]) -> Value {
    let mut state = fixture("google_compute_instance");
    let template = in_project(&state["resources"][0]["instances"][0]["attributes"], PROJECT);
    let instances: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut a = template.clone();
            let id = format!("projects/{PROJECT}/zones/us-central1-a/instances/{name}");
            a["name"] = json!(name);
            a["id"] = json!(id);
            a["self_link"] = json!(format!("https://www.googleapis.com/compute/v1/{id}"));
            a["boot_disk"][0]["source"] = json!(format!(
                "https://www.googleapis.com/compute/v1/projects/{PROJECT}/zones/us-central1-a/disks/{name}"
            ));
            json!({"index_key": i, "schema_version": 6, "attributes": a})
        })
        .collect();
    let firewall = fixture("google_compute_firewall")["resources"][0].clone();
    let mut firewall_instance = firewall["instances"][0].clone();
    firewall_instance["attributes"] = in_project(&firewall_instance["attributes"], PROJECT);
    state["resources"] = json!([
        {"mode": "managed", "type": "google_compute_instance", "name": "web",
         "provider": "provider[\"registry.terraform.io/hashicorp/google\"]", "instances": instances},
        {"mode": "managed", "type": "google_compute_firewall", "name": "web",
         "provider": "provider[\"registry.terraform.io/hashicorp/google\"]", "instances": [firewall_instance]},
    ]);
    state
}

/// Creates the state's resources in the emulator with their recorded values.
fn replay(gcp: &Gcp, state_file: &Path) {
    let args = ["replay".as_ref(), gcp.url.as_ref(), state_file.as_os_str(), gcp.key_file.as_os_str()];
    common::support("gcp_replay.py", &args);
}

fn items(report: &Value) -> Vec<(String, String, Vec<String>, String)> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let paths = i["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["path"].as_str())
                .map(String::from);
            (
                i["kind"].as_str().unwrap_or_default().to_string(),
                i["id"].as_str().unwrap_or_default().to_string(),
                paths.collect(),
                i["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// What a Compute change behind Terraform's back looks like in the reports: one
/// instance resized, the firewall opened to the internet, an instance nobody codified,
/// and what GCP does on its own (a `goog-` label, the default network).
async fn drift_behind_the_states_back(gcp: &Gcp) {
    gcp.set(
        PROJECT,
        "instances/us-central1-a",
        "web-3",
        json!({"machineType": "zones/us-central1-a/machineTypes/e2-standard-8"}),
    )
    .await;
    gcp.set(PROJECT, "instances/us-central1-a", "web-1", json!({"labels": {"goog-ops-agent-policy": "v2"}}))
        .await;
    gcp.set(PROJECT, "firewalls", "test-firewall", json!({"sourceRanges": ["0.0.0.0/0"]})).await;
    let shadow = json!({"name": "shadow", "machineType": "zones/us-central1-a/machineTypes/n2-standard-2",
        "disks": [{"boot": true, "initializeParams": {"diskSizeGb": "10"}}]});
    gcp.post(&format!("projects/{PROJECT}/zones/us-central1-a/instances"), shadow).await;
    gcp.post(&format!("projects/{PROJECT}/global/networks"), json!({"name": "default"})).await;
}

fn expected_drift() -> Vec<(String, String, Vec<String>, String)> {
    let id = |rest: &str| format!("projects/{PROJECT}/{rest}");
    vec![
        (
            "Modified".into(),
            id("global/firewalls/test-firewall"),
            vec!["source_ranges".into()],
            "Critical".into(),
        ),
        (
            "Modified".into(),
            id("zones/us-central1-a/instances/web-3"),
            vec!["machine_type".into()],
            "Medium".into(),
        ),
        ("Unmanaged".into(), id("zones/us-central1-a/instances/shadow"), vec![], "Medium".into()),
    ]
}

fn sorted(
    mut items: Vec<(String, String, Vec<String>, String)>,
) -> Vec<(String, String, Vec<String>, String)> {
    items.sort_by(|a, b| (a.0 != "Modified", &a.1).cmp(&(b.0 != "Modified", &b.1)));
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_finds_gcp_drift_page_by_page_retries_a_failing_call_and_reports_a_failing_listing_as_partial()
 {
    // Two resources a page: six instances take three pages.
    let gcp = Gcp::start_with(&["--page-size-cap", "2", "--metadata-email", NODE_ACCOUNT]);
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["web-0", "web-1", "web-2", "web-3", "web-4"];
    let state_file = dir.path().join("gcp.tfstate");
    std::fs::write(&state_file, state(&names).to_string()).expect("state");
    replay(&gcp, &state_file);
    let state_arg = state_file.display().to_string();
    let args = ["--project", PROJECT, "--region", "us-central1", "--state", &state_arg, "-o", "json"];

    let (code, out, err) = scan_cli(&gcp, &gcp.key_file, &args);
    assert_eq!(code, 0, "replayed state is in sync: {out}{err}");
    drift_behind_the_states_back(&gcp).await;
    gcp.clear_calls().await;

    let (code, out, err) = scan_cli(&gcp, &gcp.key_file, &args);
    assert_eq!(code, 2, "drift: {out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(sorted(items(&report)), expected_drift(), "{report}");
    assert_eq!(
        report["summary"]["ignored"], 2,
        "the default network and a goog- label are GCP's own: {report}"
    );
    let calls = gcp.calls().await;
    let count =
        |path: &str| calls.iter().filter(|c| c["path"].as_str().is_some_and(|p| p.ends_with(path))).count();
    assert_eq!(count("/aggregated/instances"), 3, "six instances, two a page");
    assert_eq!(count("/aggregated/disks"), 1, "shadow's boot disk: not unmanaged, part of its instance");
    assert_eq!(count("/global/firewalls"), 1);
    assert!(
        calls.iter().all(|c| c["principal"] == "scanner@driftmgr-test.iam.gserviceaccount.com"),
        "every call made with the key's identity: {calls:?}"
    );
    assert!(
        !calls.iter().any(|c| c["path"].as_str().is_some_and(|p| p.contains("/instances/"))),
        "never one call per resource"
    );

    // A 500 is retried; a refused listing leaves its type unverified: partial, exit 3.
    gcp.post("/_harness/faults", json!({"pattern": "/aggregated/instances", "status": 503, "count": 1}))
        .await;
    let (code, out, err) = scan_cli(&gcp, &gcp.key_file, &args);
    assert_eq!(code, 2, "retried after a 503: {out}{err}");
    gcp.post(
        "/_harness/faults",
        json!({"pattern": "/aggregated/instances", "status": 403, "count": 1, "reason": "PERMISSION_DENIED"}),
    )
    .await;
    let (code, out, err) = scan_cli(&gcp, &gcp.key_file, &args);
    assert_eq!(code, 3, "partial: {out}{err}");
    assert!(
        err.contains("5 managed resources could not be verified")
            && err.contains("driftmgr-test/google_compute_instance: AccessDenied"),
        "{err}"
    );

    // A key the project does not know: refused, nothing verified, no key material shown.
    let stranger = dir.path().join("stranger.json");
    let unknown = std::fs::read_to_string(&gcp.key_file).expect("key").replace("scanner@", "stranger@");
    std::fs::write(&stranger, &unknown).expect("key");
    let (code, out, err) = scan_cli(&gcp, &stranger, &args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("CredentialsRejected") && !err.contains("PRIVATE KEY") && !out.contains("PRIVATE KEY"),
        "{err}"
    );
    let (code, _, err) = scan_cli(&gcp, &gcp.key_file, &["--state", &state_arg]);
    assert!(code == 1 && err.contains("--project"), "gcp needs a project: {err}");

    // An endpoint that is not listening: nothing verified, exit 1, never "no drift".
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    let (code, out, err) = common::outcome(
        Command::new(env!("CARGO_BIN_EXE_driftmgr"))
            .args(["scan", "--provider", "gcp", "--endpoint", &closed])
            .args(args)
            .env("GOOGLE_APPLICATION_CREDENTIALS", &gcp.key_file),
    );
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert!(err.contains("nothing was verified") && report["nothingVerified"] == true, "{out}{err}");

    // Application default credentials without a key file or gcloud: the metadata server.
    let home = tempfile::tempdir().expect("home");
    gcp.clear_calls().await;
    let (code, out, err) = common::outcome(
        Command::new(env!("CARGO_BIN_EXE_driftmgr"))
            .args(["scan", "--provider", "gcp", "--endpoint", &gcp.url])
            .args(args)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("HOME", home.path())
            .env("GCE_METADATA_HOST", gcp.url.trim_start_matches("http://")),
    );
    assert_eq!(code, 2, "drift, found as the metadata server's account: {out}{err}");
    let listed: Vec<Value> = gcp
        .calls()
        .await
        .into_iter()
        .filter(|c| c["path"].as_str().is_some_and(|p| p.starts_with("/compute/")))
        .collect();
    assert!(!listed.is_empty() && listed.iter().all(|c| c["principal"] == NODE_ACCOUNT), "{listed:?}");
}

/// The ProviderAccount `name`'s status once it has a Ready condition of `status`.
async fn account_ready(
    accounts: &Api<ProviderAccount>,
    name: &str,
    status: &str,
) -> (Option<String>, Option<String>, String, String) {
    common::wait_until(TIMEOUT, &format!("ProviderAccount {name} Ready={status}"), || async {
        let account = accounts.get(name).await.ok()?;
        let s = account.status?;
        let ready = find_condition(&s.conditions, "Ready")?;
        (ready.status == status && s.observed_generation == account.metadata.generation)
            .then(|| (s.account_id.clone(), s.principal.clone(), ready.reason.clone(), ready.message.clone()))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gcp_account_and_a_scan_of_state_in_gcs_show_typed_gcp_drift_with_every_credential_source() {
    let gcp = Gcp::start_with(&["--metadata-email", NODE_ACCOUNT]);
    let dir = tempfile::tempdir().expect("temp dir");
    let names = ["web-0", "web-1", "web-2", "web-3", "web-4"];
    let state_file = dir.path().join("gcp.tfstate");
    std::fs::write(&state_file, state(&names).to_string()).expect("state");
    replay(&gcp, &state_file);
    drift_behind_the_states_back(&gcp).await;

    // Real Terraform writes the state into GCS through its gcs backend.
    let data = dir.path().join("gcs");
    std::fs::create_dir_all(data.join("tf-states")).expect("dirs");
    let (_gcs, gcs_url) = fake_gcs(&data).await;
    terraform_gcs_push(&gcs_url, "tf-states", "gcp/web", &state_file);
    let gcs_key = json!({"gcs_base_url": gcs_url, "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""});

    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "gcp").await;
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    let key_text = std::fs::read_to_string(&gcp.key_file).expect("key");
    create_secret(&ns, "gcp-creds", &[("credentials.json", &key_text)]);
    create_secret(&ns, "not-a-key", &[("credentials.json", "hunter2-not-json")]);
    create_secret(&ns, "gcs-key", &[("key.json", &gcs_key.to_string())]);
    kubectl(&["create", "serviceaccount", "scanner", "-n", &ns]);
    kubectl(&["create", "serviceaccount", "intruder", "-n", &ns]);
    let audience = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/k8s/providers/cluster";
    let impersonated = "driftmgr@driftmgr-test.iam.gserviceaccount.com";
    gcp.post(
        "/_harness/workload-pools",
        json!({"audience": audience, "subjects": [format!("system:serviceaccount:{ns}:scanner")], "impersonate": [impersonated]}),
    )
    .await;
    let account = |name: &str, credentials: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: {name}}}\nspec:\n  provider: gcp\n  projects: [{PROJECT}]\n  regions: [us-central1]\n  credentials: {credentials}\n  endpoint: {{url: '{}'}}\n---\n",
            gcp.url
        )
    };
    let workload = |sa: &str| {
        format!(
            "{{workloadIdentity: {{serviceAccountName: {sa}, audience: '{audience}', serviceAccountEmail: {impersonated}}}}}"
        )
    };
    let yaml = [
        account("keyed", "{secretRef: {name: gcp-creds}}"),
        account("federated", &workload("scanner")),
        account("intruder", &workload("intruder")),
        account("metadata", "{workloadIdentity: {}}"),
        account("garbled", "{secretRef: {name: not-a-key}}"),
        "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: web}\nspec:\n  providerAccountRef: {name: keyed}\n  stateSources: [{gcs: {bucket: tf-states, prefix: gcp/, credentialsSecretRef: {name: gcs-key, key: key.json}}}]\n---\n".to_string(),
        "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: federated}\nspec:\n  providerAccountRef: {name: federated}\n  resourceTypes: [google_compute_firewall]\n  stateSources: [{gcs: {bucket: tf-states, prefix: gcp/, credentialsSecretRef: {name: gcs-key, key: key.json}}}]\n".to_string(),
    ]
    .concat();
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    // The API server refuses a half-set workload identity, naming the rule.
    let half = account("half", "{workloadIdentity: {serviceAccountName: scanner}}");
    let refused = common::create_yaml(&client, &ns, &half).await.remove(0).expect_err("refused");
    assert!(refused.to_string().contains("serviceAccountName and audience are set together"), "{refused}");

    // The cluster admin lets this namespace use the operator's own identity (the
    // metadata server), and only with the emulator.
    let ambient =
        [format!("--ambient-credential-namespaces={ns}"), format!("--allowed-endpoints={}", gcp.url)];
    let lease = LeaseTiming { duration_secs: 6, renew_secs: 2 };
    let flags: Vec<&str> = ambient.iter().map(String::as_str).collect();
    let _operator = Operator::start_with(&ns, "gcp", &lease, Some(&kubeconfig), &flags, &[]);
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let number = gcp.get(&format!("/v1/projects/{PROJECT}")).await;
    let number = number["projectNumber"].as_str().expect("projectNumber").to_string();

    let (id, principal, reason, _) = account_ready(&accounts, "keyed", "True").await;
    assert_eq!(
        (id.as_deref(), principal.as_deref(), reason.as_str()),
        (Some(number.as_str()), Some("scanner@driftmgr-test.iam.gserviceaccount.com"), "IdentityConfirmed")
    );
    let (id, principal, _, _) = account_ready(&accounts, "federated", "True").await;
    assert_eq!(
        (id.as_deref(), principal.as_deref()),
        (Some(number.as_str()), Some(impersonated)),
        "STS, then IAM Credentials"
    );
    let (_, _, reason, message) = account_ready(&accounts, "intruder", "False").await;
    assert_eq!(reason, "CredentialsRejected", "{message}");
    assert!(message.contains("PERMISSION_DENIED") || message.contains("403"), "{message}");
    let (id, principal, _, _) = account_ready(&accounts, "metadata", "True").await;
    assert_eq!(
        (id.as_deref(), principal.as_deref()),
        (Some(number.as_str()), Some(NODE_ACCOUNT)),
        "the metadata server's account"
    );
    let (_, _, reason, message) = account_ready(&accounts, "garbled", "False").await;
    assert_eq!(reason, "CredentialsRejected", "{message}");
    assert!(message.contains("credentials.json is not JSON") && !message.contains("hunter2"), "{message}");

    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let status = common::scan_completed(&scans, "web").await;
    let summary = status.summary.clone().expect("summary");
    assert_eq!((summary.managed, summary.modified, summary.unmanaged), (6, 2, 1), "{summary:?}");
    let report = serde_json::to_value(&status.items).expect("items");
    let typed: Vec<(String, String, Vec<String>, String)> = sorted(items(&json!({"items": report})));
    assert_eq!(typed, expected_drift(), "typed GCP drift in status");
    let firewall = status.items.iter().find(|i| i.type_ == "google_compute_firewall").expect("firewall item");
    assert_eq!(firewall.changes[0].actual.as_deref(), Some("[\"0.0.0.0/0\"]"));

    let federated = common::scan_completed(&scans, "federated").await;
    assert_eq!(
        federated.summary.expect("summary").modified,
        1,
        "the firewall, through the federated identity"
    );
    let calls = gcp.calls().await;
    assert!(
        calls.iter().any(|c| c["principal"] == impersonated
            && c["path"].as_str().is_some_and(|p| p.ends_with("/global/firewalls"))),
        "the federated scan listed as the impersonated account"
    );
}
