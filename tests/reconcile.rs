//! The operator reconciles each kind against the real API server: conditions in
//! the standard shape, observedGeneration, Events on transitions, and no secret
//! material anywhere it writes.

mod common;

use std::time::Duration;

use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, PlanPhase, ProviderAccount, RemediationPlan, ScanPhase, find_condition};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Secret};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};

const TIMEOUT: Duration = Duration::from_secs(30);
const SECRET_VALUE: &str = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

fn fast_lease() -> LeaseTiming {
    LeaseTiming { duration_secs: 6, renew_secs: 2 }
}

/// Waits until the object's Ready condition has `reason`, and returns the object.
async fn wait_ready_reason<K>(api: &Api<K>, name: &str, reason: &str) -> K
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + serde::Serialize,
{
    common::wait_until(TIMEOUT, &format!("{name} Ready reason {reason}"), || async {
        let object = api.get(name).await.ok()?;
        let value = serde_json::to_value(&object).ok()?;
        let conditions = value["status"]["conditions"].as_array()?.clone();
        conditions.iter().any(|c| c["type"] == "Ready" && c["reason"] == reason).then_some(object)
    })
    .await
}

async fn events_for(client: &Client, ns: &str, name: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let list = events.list(&ListParams::default()).await.expect("list events");
    list.items.into_iter().filter(|e| e.involved_object.name.as_deref() == Some(name)).collect()
}

fn secret(name: &str, keys: &[&str]) -> Secret {
    let data: serde_json::Map<String, serde_json::Value> =
        keys.iter().map(|k| (k.to_string(), serde_json::Value::String(SECRET_VALUE.to_string()))).collect();
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "stringData": data}))
        .expect("secret")
}

#[tokio::test]
async fn provider_account_follows_its_secret() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "account").await;
    let moto = common::moto::Moto::start();
    let operator = Operator::start(&ns, "account-op", &fast_lease());

    let yaml = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: prod}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: aws-creds}}}}\n  endpoint: {{url: '{}'}}\n",
        moto.url
    );
    common::create_yaml(&client, &ns, &yaml).await.remove(0).expect("account created");
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);

    let missing = wait_ready_reason(&accounts, "prod", "SecretNotFound").await;
    let status = missing.status.clone().expect("status");
    let ready = find_condition(&status.conditions, "Ready").expect("Ready");
    assert_eq!(ready.status, "False");
    assert_eq!(ready.observed_generation, Some(1));
    assert_eq!(status.observed_generation, Some(1));

    // A Secret without the secret key: named in the message; the value never appears.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    secrets
        .create(&PostParams::default(), &secret("aws-creds", &["AWS_ACCESS_KEY_ID"]))
        .await
        .expect("secret");
    let partial = wait_ready_reason(&accounts, "prod", "SecretKeysMissing").await;
    let message = &find_condition(&partial.status.as_ref().expect("status").conditions, "Ready")
        .expect("Ready")
        .message;
    assert_eq!(message, "Secret aws-creds lacks the key(s) AWS_SECRET_ACCESS_KEY");
    let false_since = find_condition(&partial.status.as_ref().expect("status").conditions, "Ready")
        .expect("Ready")
        .last_transition_time
        .clone();

    // Completing the Secret is picked up from the Secret watch, not a slow resync.
    secrets.delete("aws-creds", &Default::default()).await.expect("delete secret");
    secrets
        .create(&PostParams::default(), &secret("aws-creds", &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]))
        .await
        .expect("secret");
    // The provider (moto's STS) confirms whose credentials these are.
    let ready = wait_ready_reason(&accounts, "prod", "IdentityConfirmed").await;
    let status = ready.status.clone().expect("status");
    let condition = find_condition(&status.conditions, "Ready").expect("Ready");
    assert_eq!(condition.status, "True");
    assert_eq!(status.account_id.as_deref(), Some("123456789012"));
    assert!(status.principal.as_deref().is_some_and(|p| p.starts_with("arn:aws:")), "{:?}", status.principal);
    assert!(status.last_validated.is_some());
    assert!(condition.last_transition_time.0 >= false_since.0);

    // A spec change bumps generation; status follows it.
    let patch = serde_json::json!({"spec": {"regions": ["us-east-1", "eu-west-1"]}});
    accounts.patch("prod", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
    common::wait_until(TIMEOUT, "observedGeneration 2", || async {
        let account = accounts.get("prod").await.ok()?;
        (account.status?.observed_generation == Some(2)).then_some(())
    })
    .await;

    // Events: one per transition, Warning for failures, Normal for recovery.
    let events = common::wait_until(TIMEOUT, "three events", || async {
        let events = events_for(&client, &ns, "prod").await;
        (events.len() >= 3).then_some(events)
    })
    .await;
    let mut reasons: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.type_.clone().unwrap_or_default(), e.reason.clone().unwrap_or_default()))
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            ("Normal".to_string(), "IdentityConfirmed".to_string()),
            ("Warning".to_string(), "SecretKeysMissing".to_string()),
            ("Warning".to_string(), "SecretNotFound".to_string())
        ]
    );

    // No secret value in status, events or logs.
    let everything = format!(
        "{}{}{}",
        serde_json::to_string(&accounts.get("prod").await.expect("get")).expect("json"),
        serde_json::to_string(&events_for(&client, &ns, "prod").await).expect("json"),
        operator.raw_log()
    );
    assert!(!everything.contains(SECRET_VALUE), "a credential value leaked");
}

#[tokio::test]
async fn drift_scan_and_plan_resolve_their_references() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "refs").await;
    let _operator = Operator::start(&ns, "refs-op", &fast_lease());

    // The scan arrives before its account and state. (The account's Secret never
    // appears, so it stays not Ready: this test is about references.)
    let scan_yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: network}\nspec:\n  providerAccountRef: {name: prod}\n  stateSources:\n    - configMapRef: {name: net-state, key: terraform.tfstate}\n  schedule: {interval: 30m}\n";
    common::create_yaml(&client, &ns, scan_yaml).await.remove(0).expect("scan created");
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let pending = wait_ready_reason(&scans, "network", "ProviderAccountNotFound").await;
    assert_eq!(pending.status.expect("status").phase, Some(ScanPhase::Pending));

    let plan_yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {name: fix}\nspec:\n  author: driftmgr-e2e-admin\n  driftScanRef: {name: other-scan}\n  approval: {required: 2}\n  actions:\n    - {id: codify-rogue, type: Codify, target: {type: aws_instance, id: i-0abc}}\n";
    common::create_yaml(&client, &ns, plan_yaml).await.remove(0).expect("plan created");
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    wait_ready_reason(&plans, "fix", "DriftScanNotFound").await;

    // The account appears: the account watch re-queues the scan.
    let account_yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: prod}\nspec:\n  provider: aws\n  credentials: {secretRef: {name: not-yet}}\n";
    common::create_yaml(&client, &ns, account_yaml).await.remove(0).expect("account created");
    let waiting = wait_ready_reason(&scans, "network", "StateSourceNotFound").await;
    let condition =
        find_condition(&waiting.status.expect("status").conditions, "Ready").cloned().expect("Ready");
    assert_eq!(condition.message, "spec.stateSources[0]: ConfigMap net-state was not found");

    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "net-state"}, "data": {"other.tfstate": "{}"}
    }))
    .expect("configmap");
    config_maps.create(&PostParams::default(), &cm).await.expect("configmap");
    wait_ready_reason(&scans, "network", "StateSourceKeyMissing").await;
    let patch = serde_json::json!({"data": {"terraform.tfstate": "{}"}});
    config_maps.patch("net-state", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
    // References resolve; the scan itself waits for the account.
    let waiting = wait_ready_reason(&scans, "network", "ProviderAccountNotReady").await;
    let status = waiting.status.expect("status");
    assert_eq!(status.phase, Some(ScanPhase::Failed));
    assert_eq!(status.observed_generation, Some(1));

    // Point the plan at the scan: the spec change is reconciled; no approvals yet.
    // (Approvals by authenticated users: tests/approvals.rs.)
    let patch = serde_json::json!({"spec": {"driftScanRef": {"name": "network"}}});
    plans.patch("fix", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch plan");
    let plan = wait_ready_reason(&plans, "fix", "DriftScanFound").await;
    let status = plan.status.expect("status");
    assert_eq!(status.phase, Some(PlanPhase::AwaitingApproval));
    assert_eq!(status.action_count, Some(1));
    let approved = find_condition(&status.conditions, "Approved").expect("Approved");
    assert_eq!((approved.status.as_str(), approved.message.as_str()), ("False", "0 of 2 required approvals"));
}

#[tokio::test]
async fn unchanged_objects_are_not_rewritten() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "steady").await;
    let operator = Operator::start(&ns, "steady-op", &fast_lease());
    let yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: steady}\nspec:\n  provider: aws\n  credentials: {secretRef: {name: nowhere}}\n";
    common::create_yaml(&client, &ns, yaml).await.remove(0).expect("created");
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let first = wait_ready_reason(&accounts, "steady", "SecretNotFound").await;
    let version = first.metadata.resource_version.clone();
    // The operator retries every 2 s while the Secret is missing; wait for several.
    common::wait_until(TIMEOUT, "three more reconciles", || async {
        let count = operator.log_entries("reconciled").len();
        (count >= 4).then_some(())
    })
    .await;
    let later = accounts.get("steady").await.expect("get");
    assert_eq!(later.metadata.resource_version, version, "an unchanged status must not be written again");
    assert_eq!(events_for(&client, &ns, "steady").await.len(), 1, "one event for one transition");
}

/// A scan that keeps failing backs off: retries double from the retry interval (2 s
/// here), `nextScanTime` says when the next one is due, and the scan's own status
/// writes do not start it again.
#[tokio::test]
async fn failing_scans_back_off_exponentially() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "backoff").await;
    let operator = Operator::start(&ns, "backoff-op", &fast_lease());
    let closed = common::free_port();
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: creds}}\nstringData: {{AWS_ACCESS_KEY_ID: a, AWS_SECRET_ACCESS_KEY: b}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: offline}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: 'http://127.0.0.1:{closed}'}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata: {{terraform.tfstate: '{{}}'}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: flaky}}\nspec:\n  providerAccountRef: {{name: offline}}\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n"
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    common::wait_until(TIMEOUT, "the first failure", || async {
        scans.get("flaky").await.ok()?.status?.consecutive_failures
    })
    .await;
    let started = common::now_secs();
    tokio::time::sleep(Duration::from_secs(16)).await;

    let attempts: Vec<f64> = operator
        .log_entries("scan failed")
        .iter()
        .filter(|e| e["name"] == "flaky" || e["fields"]["name"] == "flaky")
        .map(common::log_time)
        .collect();
    // Retries after 2, 4 and 8 s: the first failure and three more fit in 16 s; a
    // tight loop would have run dozens.
    assert!((3..=5).contains(&attempts.len()), "{} attempts in 16 s: {attempts:?}", attempts.len());
    let gaps: Vec<f64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    // The n-th wait is 2^n s: never shorter (nextScanTime is rounded up to the second,
    // so a reconcile that reads it back cannot run early), and at most the rounding
    // plus one scan's run longer.
    for (n, gap) in gaps.iter().enumerate() {
        let expected = 2.0 * f64::from(1u32 << n);
        assert!(
            (expected - 0.1..=expected + 1.5).contains(gap),
            "wait {} should be {expected} s: waits {gaps:?}",
            n + 1
        );
    }
    let status = scans.get("flaky").await.expect("scan").status.expect("status");
    assert_eq!(status.phase, Some(ScanPhase::Failed));
    let failures = status.consecutive_failures.expect("failure count");
    assert_eq!(failures as usize, attempts.len(), "each attempt counted once");
    let next = status.next_scan_time.expect("retry time").0.as_millisecond() as f64 / 1000.0;
    let last = attempts.last().copied().unwrap_or(started);
    let expected_wait = 2.0 * f64::from(1u32 << (failures - 1));
    assert!((next - last - expected_wait).abs() < 1.5, "next retry {next} vs last {last} + {expected_wait}");
}
