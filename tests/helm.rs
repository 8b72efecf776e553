//! The Helm chart: it lints and renders with the real helm, and the RBAC it grants
//! is enough to run the operator (run here as the chart's ServiceAccount, with a
//! token minted by the API server).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{LeaseTiming, Operator, kubectl};
use driftmgr::crd::{DriftScan, ProviderAccount};
use kube::Api;

fn helm(args: &[&str]) -> String {
    let output = Command::new(common::tool("helm")).args(args).output().expect("run helm");
    assert!(output.status.success(), "helm {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn chart_rbac_is_enough_to_run_the_operator() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "helm").await;
    let chart = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/driftmgr");

    let lint = helm(&["lint", chart]);
    assert!(lint.contains("0 chart(s) failed"), "{lint}");
    let rendered =
        helm(&["template", "drift", chart, "--namespace", &ns, "--set", &format!("watchNamespace={ns}")]);
    assert!(
        rendered.contains(&format!("--watch-namespace={ns}")),
        "watchNamespace reaches the container args"
    );

    // Apply what a cluster without a kubelet can use: the RBAC objects.
    let rbac: Vec<&str> = rendered
        .split("\n---")
        .filter(|doc| {
            [
                "kind: ServiceAccount",
                "kind: ClusterRole\n",
                "kind: ClusterRoleBinding",
                "kind: Role\n",
                "kind: RoleBinding",
            ]
            .iter()
            .any(|k| doc.contains(k))
        })
        .collect();
    assert_eq!(rbac.len(), 5, "ServiceAccount, ClusterRole(+Binding), Role(+Binding)");
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("rbac.yaml");
    std::fs::write(&manifest, rbac.join("\n---\n")).expect("write manifest");
    kubectl(&["apply", "-f", manifest.to_str().expect("utf-8 path")]);

    // A kubeconfig that authenticates as the chart's ServiceAccount.
    let token = kubectl(&["create", "token", "drift", "-n", &ns, "--duration", "1h"]);
    let server = std::env::var("KUBE_APISERVER").expect("KUBE_APISERVER set by cluster-up");
    let ca = std::path::Path::new(&std::env::var("KUBECONFIG").expect("KUBECONFIG"))
        .with_file_name("pki")
        .join("ca.crt");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: {server}, certificate-authority: {}}}}}]\nusers: [{{name: sa, user: {{token: {}}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: sa, namespace: {ns}}}}}]\ncurrent-context: c\n",
            ca.display(),
            token.trim()
        ),
    )
    .expect("write kubeconfig");

    let operator = Operator::start_as(
        &ns,
        "chart-sa",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        Some(&kubeconfig),
    );
    let yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: prod}\nspec:\n  provider: aws\n  credentials: {secretRef: {name: creds}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: net}\nspec:\n  providerAccountRef: {name: prod}\n  stateSources: [{configMapRef: {name: state, key: terraform.tfstate}}]\n";
    for created in common::create_yaml(&client, &ns, yaml).await {
        created.expect("object created");
    }
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    common::wait_until(Duration::from_secs(30), "both objects reconciled under the chart's RBAC", || async {
        let account = accounts.get("prod").await.ok()?.status?;
        let scan = scans.get("net").await.ok()?.status?;
        (!account.conditions.is_empty() && !scan.conditions.is_empty()).then_some(())
    })
    .await;
    let log = operator.raw_log();
    assert!(!log.contains("forbidden") && !log.contains("Forbidden"), "RBAC denied something:\n{log}");
    assert_eq!(operator.metric("driftmgr_leader").await, Some(1.0));
}
