//! The Helm chart as shipped: it lints strictly, renders a hardened pod, scores
//! without a critical finding in kube-score, and its RBAC is exactly enough for a
//! complete scan. The operator runs here as the chart's ServiceAccount, with a
//! token the API server minted for it: report written, status Completed,
//! superseded report deleted, a RemediationPlan reconciled, Events written.

mod common;

use std::time::Duration;

use common::chart::{CHART, apply_chart_rbac, documents, helm, run, service_account_kubeconfig};
use common::moto::{CREDENTIALS_SECRET, Moto};
use common::{LeaseTiming, Operator, kubectl};
use driftmgr::crd::{DriftScan, ProviderAccount, RemediationPlan, ScanPhase, find_condition};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(60);

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter().map(|d| d["kind"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn chart_lints_strictly_renders_a_hardened_pod_and_scores_without_critical_findings() {
    let lint = helm(&["lint", "--strict", CHART]);
    assert!(lint.contains("0 chart(s) failed"), "{lint}");
    // values.schema.json refuses a wrong value by name.
    let (ok, out) = run("helm", &["template", "d", CHART, "--set", "tenancy.allowedEndpoints[0]=not a url"]);
    assert!(!ok && out.contains("allowedEndpoints"), "{out}");

    let cluster_wide = documents(&helm(&["template", "d", CHART, "--namespace", "ops"]));
    let kinds_all = kinds(&cluster_wide);
    for kind in [
        "ClusterRole",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Deployment",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ] {
        assert!(kinds_all.iter().any(|k| k == kind), "{kind} rendered: {kinds_all:?}");
    }
    // Without the API the chart's policy trusts no recorder, exactly as crds/ ships it.
    let without_api =
        documents(&helm(&["template", "d", CHART, "--namespace", "ops", "--set", "api.enabled=false"]));
    let policy = without_api.iter().find(|d| d["kind"] == "ValidatingAdmissionPolicy").expect("policy");
    let shipped: Value = serde_yaml::from_str(
        include_str!("../crds/approval-policy.yaml").split("\n---\n").next().expect("first document"),
    )
    .expect("crds/approval-policy.yaml parses");
    assert_eq!(policy, &shipped, "the chart installs the approval policy of crds/");
    let without =
        kinds(&documents(&helm(&["template", "d", CHART, "--set", "approvalPolicy.enabled=false"])));
    assert!(!without.iter().any(|k| k.starts_with("ValidatingAdmission")), "{without:?}");
    let one_namespace = documents(&helm(&[
        "template",
        "d",
        CHART,
        "--namespace",
        "ops",
        "--set",
        "watchNamespace=team-a",
        "--set",
        "api.enabled=false",
    ]));
    let kinds_ns = kinds(&one_namespace);
    assert!(
        !kinds_ns.iter().any(|k| k.starts_with("Cluster")),
        "no cluster-wide grants without the API: {kinds_ns:?}"
    );
    let role = one_namespace
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["name"] == "d-operator")
        .expect("operator Role");
    assert_eq!(role["metadata"]["namespace"], "team-a");
    let secrets =
        role["rules"].as_array().expect("rules").iter().find(|r| r["resources"] == json!(["secrets"]));
    assert_eq!(secrets.map(|r| &r["verbs"]), Some(&json!(["get"])), "Secrets: get only");

    // The API container, when enabled: hardened the same way, its roles passed through,
    // and TokenReview as the one cluster-wide grant even for a single namespace.
    let with_api = documents(&helm(&[
        "template",
        "d",
        CHART,
        "--namespace",
        "ops",
        "--set",
        "watchNamespace=team-a",
        "--set",
        "api.enabled=true",
        "--set",
        "api.groupRoles[0]=system:serviceaccounts:team-a=viewer",
    ]));
    let cluster: Vec<&Value> =
        with_api.iter().filter(|d| d["kind"].as_str().is_some_and(|k| k.starts_with("Cluster"))).collect();
    assert_eq!(cluster.len(), 2, "only the TokenReview grant is cluster-wide");
    assert_eq!(cluster[0]["rules"][0]["resources"], json!(["tokenreviews"]));
    let api_pod =
        &with_api.iter().find(|d| d["kind"] == "Deployment").expect("deployment")["spec"]["template"]["spec"];
    let api = api_pod["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == "api")
        .expect("api container");
    assert_eq!(api["args"][0], "api");
    assert!(
        api["args"]
            .as_array()
            .expect("args")
            .contains(&json!("--group-role=system:serviceaccounts:team-a=viewer"))
    );
    assert!(api["args"].as_array().expect("args").contains(&json!("--watch-namespace=team-a")));
    assert_eq!(api["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(api["readinessProbe"]["httpGet"]["path"], "/health/ready");
    let (ok, out) = run(
        "helm",
        &["template", "d", CHART, "--set", "api.enabled=true", "--set", "api.userRoles[0]=alice=root"],
    );
    assert!(!ok && out.contains("userRoles"), "a role that does not exist is refused: {out}");

    let deployment = cluster_wide.iter().find(|d| d["kind"] == "Deployment").expect("deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert!(pod["securityContext"]["runAsUser"].as_u64().is_some_and(|u| u > 0), "numeric non-root user");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(container["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert!(container["resources"]["limits"]["ephemeral-storage"].is_string());
    assert!(pod["affinity"]["podAntiAffinity"].is_object());

    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("chart.yaml");
    std::fs::write(
        &manifest,
        helm(&["template", "d", CHART, "--namespace", "ops", "--set", "api.enabled=true"]),
    )
    .expect("write");
    // Deliberate exceptions, each named in charts/driftmgr/README.md.
    let (_, score) = run(
        "kube_score",
        &[
            "score",
            "--output-format",
            "ci",
            "--ignore-test",
            "container-image-pull-policy",
            manifest.to_str().expect("utf-8"),
        ],
    );
    let critical: Vec<&str> = score.lines().filter(|l| l.starts_with("[CRITICAL]")).collect();
    assert!(critical.is_empty(), "kube-score critical findings:\n{}", critical.join("\n"));
    assert!(score.contains("[OK]"), "kube-score ran: {score}");
}

#[tokio::test]
async fn a_complete_scan_runs_under_the_charts_own_service_account() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "helm").await;
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac(&ns, dir.path());
    let kubeconfig = service_account_kubeconfig(&ns, dir.path());

    let moto = Moto::start();
    let vpc = moto.create_vpc("10.30.0.0/16", Some("main")).await;

    let operator = Operator::start_as(
        &ns,
        "chart-sa",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        Some(&kubeconfig),
    );
    let state = serde_json::to_string(&Moto::vpc_state(&vpc, "10.30.0.0/16", "main")).expect("quoted");
    let yaml = format!(
        "{CREDENTIALS_SECRET}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata:\n  terraform.tfstate: {state}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: prod}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{}'}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: net}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n",
        moto.url
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("object created");
    }
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let completed = |generation: i64| {
        let scans = scans.clone();
        async move {
            common::wait_until(
                TIMEOUT,
                &format!("report {generation} written under the chart's RBAC"),
                || async {
                    let status = scans.get("net").await.ok()?.status?;
                    let report = status.report_ref.clone()?;
                    (status.phase == Some(ScanPhase::Completed) && report.generation == generation)
                        .then_some((status, report))
                },
            )
            .await
        }
    };
    let (status, first) = completed(1).await;
    let account = accounts.get("prod").await.expect("account").status.expect("account status");
    assert_eq!(
        find_condition(&account.conditions, "Ready").map(|c| c.reason.as_str()),
        Some("IdentityConfirmed")
    );
    let drifted = find_condition(&status.conditions, "Drifted").expect("Drifted");
    assert_eq!(drifted.status, "False", "the VPC is in sync: {}", drifted.message);
    for name in &first.config_maps {
        config_maps.get(name).await.expect("report part written");
    }

    // Drift, then a requested rescan: the new report replaces the old one.
    moto.tag(&vpc, "Name", "renamed").await;
    let request = json!({"metadata": {"annotations": {"driftmgr.io/scan-requested": "rescan-1"}}});
    scans.patch("net", &PatchParams::default(), &Patch::Merge(&request)).await.expect("request a scan");
    let (status, second) = completed(2).await;
    assert_eq!(find_condition(&status.conditions, "Drifted").map(|c| c.status.as_str()), Some("True"));
    common::wait_until(TIMEOUT, "the superseded report deleted", || async {
        let left = config_maps.list(&ListParams::default().labels("driftmgr.io/scan=net")).await.ok()?;
        let names: Vec<String> = left.items.iter().filter_map(|c| c.metadata.name.clone()).collect();
        (names == second.config_maps).then_some(())
    })
    .await;

    // A plan for the scan is reconciled too.
    let plan = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: fix}}\nspec:\n  author: driftmgr-e2e-admin\n  driftScanRef: {{name: net, reportGeneration: 2}}\n  mode: DryRun\n  actions:\n    - {{id: retag, type: Revert, target: {{type: aws_vpc, id: '{vpc}'}}, attributes: [tags.Name]}}\n"
    );
    for created in common::create_yaml(&client, &ns, &plan).await {
        created.expect("plan created");
    }
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    common::wait_until(TIMEOUT, "the plan reconciled", || async {
        let status = plans.get("fix").await.ok()?.status?;
        (!status.conditions.is_empty()).then_some(())
    })
    .await;
    let events = kubectl(&["get", "events.events.k8s.io", "-n", &ns, "-o", "json"]);
    let events: Value = serde_json::from_str(&events).expect("events json");
    let by_operator = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["reportingController"] == "driftmgr-operator")
        .count();
    assert!(by_operator > 0, "the operator wrote Events: {events}");

    let log = operator.raw_log();
    assert!(!log.contains("forbidden") && !log.contains("Forbidden"), "RBAC denied something:\n{log}");
    assert_eq!(operator.metric("driftmgr_leader").await, Some(1.0));
}
