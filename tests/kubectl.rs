//! What a user sees through the real kubectl: printer columns, short names,
//! `kubectl explain` text from the doc comments, and CEL refusals.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{LeaseTiming, Operator, kubectl};

#[tokio::test]
async fn kubectl_shows_columns_and_field_docs() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "kubectl").await;
    let _operator = Operator::start(&ns, "kubectl-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    let yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: network}\nspec:\n  providerAccountRef: {name: prod}\n  stateSources: [{s3: {bucket: tf-states, prefix: prod/}}]\n";
    common::create_yaml(&client, &ns, yaml).await.remove(0).expect("scan created");

    let table = common::wait_until(Duration::from_secs(30), "the scan to show a phase", || async {
        let out = kubectl(&["get", "dscan", "-n", &ns]);
        out.contains("Pending").then_some(out)
    })
    .await;
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "ACCOUNT", "PHASE", "MODIFIED", "MISSING", "UNMANAGED", "LAST", "SCAN", "AGE"]
    );
    let row: Vec<&str> = table.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(&row[..3], ["network", "prod", "Pending"]);

    let all = kubectl(&["get", "driftscans", "-A"]);
    assert!(all.lines().next().unwrap_or_default().starts_with("NAMESPACE"), "{all}");
    assert!(all.contains(&ns));

    let explain = kubectl(&["explain", "driftscan.spec.stateSources"]);
    assert!(
        explain.contains("Where the Terraform/OpenTofu state comes from. All sources are merged."),
        "{explain}"
    );
    assert!(explain.contains("azureBlob"), "{explain}");
    let explain = kubectl(&["explain", "provideraccount.spec.rateLimit.burst"]);
    assert!(explain.contains("Requests that may be made at once after an idle period."), "{explain}");
}

#[tokio::test]
async fn kubectl_apply_reports_cel_failures() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let bad = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: bad, namespace: default}\nspec:\n  provider: aws\n  credentials: {secretRef: {name: a}, none: {}}\n";
    let mut child = Command::new(common::tool("kubectl"))
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubectl");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(bad.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("kubectl output");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("spec.credentials: Invalid value")
            && stderr.contains(
                "exactly one of secretRef, assumeRole, webIdentity, workloadIdentity or none must be set"
            ),
        "{stderr}"
    );
}

/// A plan naming an action driftmgr does not have, or a scan in another namespace,
/// is refused by `kubectl apply` with the field named (references never cross
/// namespaces: `driftScanRef` has no namespace, and kubectl's strict field validation
/// refuses one rather than dropping it).
#[tokio::test]
async fn kubectl_refuses_unknown_actions_and_cross_namespace_scans() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "badplans").await;
    let plan = |scan_ref: &str, action: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: p}}\nspec:\n  author: driftmgr-e2e-admin\n  driftScanRef: {scan_ref}\n  actions:\n    - {{id: a1, type: {action}, target: {{type: aws_instance, id: i-1}}}}\n"
        )
    };
    for (yaml, needle) in [
        (plan("{name: s, namespace: other}", "Revert"), r#"unknown field "spec.driftScanRef.namespace""#),
        (
            plan("{name: s}", "Reboot"),
            r#"spec.actions[0].type: Unsupported value: "Reboot": supported values: "Revert", "Codify", "DeleteUnmanaged""#,
        ),
    ] {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), &yaml).expect("write");
        let (ok, out) =
            common::kubectl_result(&["apply", "-n", &ns, "-f", file.path().to_str().expect("utf-8")]);
        assert!(!ok && out.contains(needle), "{needle}: {out}");
    }
}
