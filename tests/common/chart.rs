//! The Helm chart's own objects, for tests that run the operator exactly as the chart
//! installs it: its RBAC applied, and a token the API server mints for its
//! ServiceAccount.

use std::process::Command;

use serde_json::Value;

use super::kubectl;

pub const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/charts/driftmgr");

pub fn run(tool: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(super::tool(tool)).args(args).output().expect("run tool");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

pub fn helm(args: &[&str]) -> String {
    let (ok, out) = run("helm", args);
    assert!(ok, "helm {args:?} failed: {out}");
    out
}

pub fn documents(rendered: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(rendered)
        .filter_map(|doc| serde::Deserialize::deserialize(doc).ok())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// The rendered RBAC objects of the chart, applied to the cluster.
pub fn apply_chart_rbac(ns: &str, dir: &std::path::Path) {
    apply_chart_rbac_with(ns, dir, &[], 9);
}

/// The chart's RBAC objects rendered with extra `--set` values (`expected` of them:
/// ServiceAccount, Roles, ClusterRoles and their bindings), applied to the cluster.
pub fn apply_chart_rbac_with(ns: &str, dir: &std::path::Path, sets: &[&str], expected: usize) {
    apply_chart_rbac_in(ns, ns, dir, sets, expected);
}

/// The chart's RBAC for a release in `release` that watches `watch`.
pub fn apply_chart_rbac_in(release: &str, ns: &str, dir: &std::path::Path, sets: &[&str], expected: usize) {
    let watch = format!("watchNamespace={ns}");
    let mut args = vec!["template", "drift", CHART, "--namespace", release, "--set", &watch];
    for set in sets {
        args.extend(["--set", set]);
    }
    let rendered = helm(&args);
    assert!(
        rendered.contains(&format!("--watch-namespace={ns}")),
        "watchNamespace reaches the container args"
    );
    let rbac: Vec<String> = documents(&rendered)
        .into_iter()
        .filter(|d| {
            ["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]
                .contains(&d["kind"].as_str().unwrap_or_default())
        })
        .map(|d| serde_yaml::to_string(&d).expect("yaml"))
        .collect();
    assert_eq!(
        rbac.len(),
        expected,
        "ServiceAccount, Role(+Binding) for the operator and leader election, and any extras"
    );
    let manifest = dir.join("rbac.yaml");
    std::fs::write(&manifest, rbac.join("\n---\n")).expect("write manifest");
    kubectl(&["apply", "-f", manifest.to_str().expect("utf-8 path")]);
}

/// A kubeconfig that authenticates as the chart's ServiceAccount.
pub fn service_account_kubeconfig(ns: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let token = kubectl(&["create", "token", "drift", "-n", ns, "--duration", "1h"]);
    let server = std::env::var("KUBE_APISERVER").expect("KUBE_APISERVER set by cluster-up");
    let ca = std::path::Path::new(&std::env::var("KUBECONFIG").expect("KUBECONFIG"))
        .with_file_name("pki")
        .join("ca.crt");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: {server}, certificate-authority: {}}}}}]\nusers: [{{name: sa, user: {{token: {}}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: sa, namespace: {ns}}}}}]\ncurrent-context: c\n",
            ca.display(),
            token.trim()
        ),
    )
    .expect("write kubeconfig");
    kubeconfig
}
