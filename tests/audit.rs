//! The audit trail on the real API server: denied and mutating requests become
//! records chained by hash in ConfigMap segments with signed digests; two API replicas
//! append to one chain at once; `verify` names the first broken link after an edit
//! or a deleted segment; no token appears anywhere.

mod common;

use std::time::Duration;

use common::api::{ApiProcess, call, start, token};
use common::chart::{apply_chart_rbac_with, service_account_kubeconfig};
use common::kubectl;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

async fn start_api(ns: &str, kubeconfig: &std::path::Path, dir: &std::path::Path, name: &str) -> ApiProcess {
    let args: Vec<String> = ["--audit-namespace", ns, "--audit-segment-records", "3"]
        .into_iter()
        .map(str::to_string)
        .chain(["auditor", "ops", "reader"].into_iter().zip(["auditor", "operator", "viewer"]).flat_map(
            |(account, role)| {
                ["--user-role".to_string(), format!("system:serviceaccount:{ns}:{account}={role}")]
            },
        ))
        .collect();
    start(ns, kubeconfig, dir.join(format!("{name}.log")), &args).await
}

async fn verification(port: u16, auditor: &str) -> Value {
    let (status, _, body) = call(port, "GET", "/api/v1/audit/verify", Some(auditor)).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn requests_are_audited_in_a_verifiable_chain_that_names_tampering() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "audit").await;
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac_with(&ns, dir.path(), &["api.enabled=true"], 9);
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());
    for account in ["auditor", "ops", "reader"] {
        kubectl(&["create", "serviceaccount", account, "-n", &ns]);
    }
    let seed = "5f".repeat(32);
    common::create_secret(&ns, "driftmgr-audit-key", &[("ed25519-seed", &seed)]);
    let scan = "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: net}\nspec:\n  providerAccountRef: {name: prod}\n  stateSources: [{s3: {bucket: states, key: k}}]\n";
    common::create_yaml(&client, &ns, scan).await.remove(0).expect("scan");
    let first = start_api(&ns, &kubeconfig, dir.path(), "api-a").await;
    let second = start_api(&ns, &kubeconfig, dir.path(), "api-b").await;
    let (auditor, ops, reader) = (token(&ns, "auditor"), token(&ns, "ops"), token(&ns, "reader"));
    let trigger = format!("/api/v1/scans/{ns}/net/scan");
    common::wait_until(TIMEOUT, "the scan cached by both replicas", || async {
        let a = call(first.port, "GET", &format!("/api/v1/scans/{ns}/net"), Some(&reader)).await.0;
        let b = call(second.port, "GET", &format!("/api/v1/scans/{ns}/net"), Some(&reader)).await.0;
        (a == 200 && b == 200).then_some(())
    })
    .await;

    // Denied and mutating requests are recorded; reads that are allowed are not.
    assert_eq!(call(first.port, "GET", "/api/v1/scans", None).await.0, 401);
    assert_eq!(call(first.port, "POST", &trigger, Some(&reader)).await.0, 403);
    assert_eq!(call(first.port, "GET", "/api/v1/audit", Some(&reader)).await.0, 403);
    // Both replicas append to one chain at the same time.
    let triggers = (0..8).map(|i| {
        let port = if i % 2 == 0 { first.port } else { second.port };
        let (ops, trigger) = (ops.clone(), trigger.clone());
        async move { call(port, "POST", &trigger, Some(&ops)).await.0 }
    });
    let statuses = futures::future::join_all(triggers).await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");

    let (status, _, all) = call(first.port, "GET", "/api/v1/audit?limit=500", Some(&auditor)).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 11, "3 denials and 8 triggers: {all}");
    let items = all["items"].as_array().expect("items");
    let seqs: Vec<u64> = items.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, (0..11).collect::<Vec<_>>(), "one chain, no gaps, no duplicates");
    assert_eq!(
        (items[0]["actor"].as_str(), items[0]["result"].as_str()),
        (Some("anonymous"), Some("denied 401"))
    );
    let (_, _, mine) = call(
        second.port,
        "GET",
        &format!("/api/v1/audit?actor=system:serviceaccount:{ns}:ops"),
        Some(&auditor),
    )
    .await;
    assert_eq!(mine["total"], 8);
    assert_eq!(
        (mine["items"][0]["action"].as_str(), mine["items"][0]["result"].as_str()),
        (Some("TriggerScan"), Some("allowed 202"))
    );
    assert_eq!(mine["items"][0]["source"], "127.0.0.1");
    let intact = verification(first.port, &auditor).await;
    assert_eq!(intact, json!({"intact": true, "records": 11, "segments": 4, "firstBrokenLink": null}));

    // An edited record is named; so is a deleted segment.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let segment = config_maps.get("driftmgr-audit-000001").await.expect("segment 1");
    let original = segment.data.as_ref().and_then(|d| d.get("records.jsonl")).cloned().expect("records");
    // Each tampering is named by verify; the segment is then restored.
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.len() >= 2, "segment 1 holds several records: {original}");
    let tamperings = [
        (
            "an edited record",
            original.replacen("allowed 202", "denied 403", 1),
            "record 3 (segment 1): its hash does not match its contents",
        ),
        (
            "a truncated segment",
            format!("{}\n", lines[..lines.len() - 1].join("\n")),
            "segment 1 was changed after its digest was signed",
        ),
    ];
    for (what, records, named) in tamperings {
        assert_ne!(records, original, "{what}");
        for (text, step) in [(records.as_str(), "tamper"), (original.as_str(), "restore")] {
            let patch = json!({"data": {"records.jsonl": text}});
            config_maps
                .patch("driftmgr-audit-000001", &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .expect(step);
            let verdict = verification(first.port, &auditor).await;
            if step == "tamper" {
                assert_eq!(
                    (verdict["intact"].clone(), verdict["firstBrokenLink"].clone()),
                    (json!(false), json!(named)),
                    "{what}"
                );
            } else {
                assert_eq!(verdict["intact"], true, "restored after {what}");
            }
        }
    }
    for name in ["driftmgr-audit-000000", "driftmgr-audit-digest-000000"] {
        config_maps.delete(name, &DeleteParams::default()).await.expect("delete");
    }
    let broken = verification(second.port, &auditor).await;
    assert_eq!(broken["firstBrokenLink"], "segment 0 is missing (found segment 1 next)", "{broken}");

    // No token anywhere: not in the trail, not in the logs; every record also on stdout.
    let stored: String = config_maps
        .list(&kube::api::ListParams::default().labels("driftmgr.io/audit"))
        .await
        .expect("list")
        .items
        .iter()
        .flat_map(|c| c.data.clone().unwrap_or_default().into_values())
        .collect();
    let logs = format!(
        "{}{}",
        std::fs::read_to_string(&first.log).expect("log"),
        std::fs::read_to_string(&second.log).expect("log")
    );
    for secret in [&auditor, &ops, &reader] {
        assert!(!stored.contains(secret.as_str()) && !logs.contains(secret.as_str()), "a token leaked");
    }
    assert_eq!(logs.matches("audit record").count(), 11, "each record once on stdout");
}
