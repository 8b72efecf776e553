//! `driftmgr api` on the real API server, run as the chart's ServiceAccount with the
//! chart's grants (`api.enabled`). Callers authenticate with Kubernetes tokens (TokenReview); the
//! role table decides; reads come from the watch caches; a trigger patches the scan.

mod common;

use std::time::Duration;

use common::api::{ApiProcess, call, start, token};
use common::chart::{apply_chart_rbac_with, service_account_kubeconfig};
use common::kubectl;
use driftmgr::crd::{DriftScan, SCAN_REQUESTED_ANNOTATION};
use kube::{Api, ResourceExt};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

/// The API's identity: the chart's ServiceAccount, with the chart's RBAC for the API
/// (the operator's grants plus the TokenReview ClusterRole).
fn api_identity(ns: &str, dir: &std::path::Path) -> std::path::PathBuf {
    apply_chart_rbac_with(ns, dir, &["api.enabled=true"], 9);
    service_account_kubeconfig(ns, dir)
}

async fn start_api(ns: &str) -> (ApiProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = api_identity(ns, dir.path());
    let api = start_api_as(ns, &dir, &kubeconfig, &format!("system:serviceaccount:{ns}:ops=operator")).await;
    (api, dir)
}

async fn start_api_as(
    ns: &str,
    dir: &tempfile::TempDir,
    kubeconfig: &std::path::Path,
    user_role: &str,
) -> ApiProcess {
    let roles = [
        "--group-role".to_string(),
        format!("system:serviceaccounts:{ns}=viewer"),
        "--user-role".to_string(),
        user_role.to_string(),
    ];
    start(ns, kubeconfig, dir.path().join("api.log"), &roles).await
}

#[tokio::test]
async fn callers_are_authenticated_by_the_api_server_and_authorized_by_role() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "api").await;
    let other = common::namespace(&client, "api-other").await;
    for (namespace, account) in [(&ns, "reader"), (&ns, "ops"), (&other, "stranger")] {
        kubectl(&["create", "serviceaccount", account, "-n", namespace]);
    }
    let scan = |name: &str, account: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: {name}}}\nspec:\n  providerAccountRef: {{name: {account}}}\n  stateSources: [{{s3: {{bucket: states, key: k}}}}]\n"
        )
    };
    for (namespace, name, account) in
        [(&ns, "web", "prod"), (&ns, "db", "prod"), (&ns, "edge", "dev"), (&other, "hidden", "prod")]
    {
        common::create_yaml(&client, namespace, &scan(name, account)).await.remove(0).expect("scan created");
    }
    let (api, _dir) = start_api(&ns).await;
    let (reader, ops, stranger) = (token(&ns, "reader"), token(&ns, "ops"), token(&other, "stranger"));

    // The OpenAPI description is public and describes the routes served.
    let (status, _, doc) = call(api.port, "GET", "/openapi.json", None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    assert!(doc["paths"]["/api/v1/scans/{namespace}/{name}/report"]["get"].is_object(), "{doc}");

    // Who may call at all.
    let (status, head, body) = call(api.port, "GET", "/api/v1/scans", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
    assert_eq!(body["error"], "Unauthorized");
    let (status, _, body) = call(api.port, "GET", "/api/v1/scans", Some("not-a-token")).await;
    assert_eq!(status, 401, "{body}");
    let (status, _, body) = call(api.port, "GET", "/api/v1/scans", Some(&stranger)).await;
    assert_eq!(status, 403, "authenticated, but no role: {body}");
    assert_eq!(
        body["message"],
        format!("system:serviceaccount:{other}:stranger has no role, which may not ListScans")
    );

    // A viewer reads, from the watch caches of the API's namespace only.
    common::wait_until(TIMEOUT, "the three scans cached", || async {
        let (_, _, body) = call(api.port, "GET", "/api/v1/scans", Some(&reader)).await;
        (body["total"] == 3).then_some(())
    })
    .await;
    let (status, _, body) = call(api.port, "GET", "/api/v1/scans?limit=2", Some(&reader)).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> =
        body["items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!(names, ["db", "edge"], "sorted by name, two to a page");
    let next = body["continue"].as_str().expect("a continue token").to_string();
    let (_, _, rest) =
        call(api.port, "GET", &format!("/api/v1/scans?limit=2&continue={next}"), Some(&reader)).await;
    let names: Vec<&str> =
        rest["items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
    assert_eq!((names, rest["continue"].clone()), (vec!["web"], Value::Null));
    let (_, _, dev) = call(api.port, "GET", "/api/v1/scans?account=dev", Some(&reader)).await;
    assert_eq!(dev["total"], 1);
    let (status, _, bad) = call(api.port, "GET", "/api/v1/scans?limit=0", Some(&reader)).await;
    assert_eq!(
        (status, bad["message"].as_str().map(|m| m.starts_with("limit:"))),
        (400, Some(true)),
        "{bad}"
    );
    let (status, _, one) = call(api.port, "GET", &format!("/api/v1/scans/{ns}/web"), Some(&reader)).await;
    assert_eq!((status, one["spec"]["providerAccountRef"]["name"].as_str()), (200, Some("prod")), "{one}");
    let (status, _, _) = call(api.port, "GET", &format!("/api/v1/scans/{other}/hidden"), Some(&reader)).await;
    assert_eq!(status, 404, "another namespace is not served");

    // Only an operator triggers a scan; the API records who asked in the annotation.
    let (status, _, body) =
        call(api.port, "POST", &format!("/api/v1/scans/{ns}/web/scan"), Some(&reader)).await;
    assert_eq!(status, 403, "{body}");
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    assert!(!scans.get("web").await.expect("scan").annotations().contains_key(SCAN_REQUESTED_ANNOTATION));
    let (status, _, body) = call(api.port, "POST", &format!("/api/v1/scans/{ns}/web/scan"), Some(&ops)).await;
    assert_eq!(status, 202, "{body}");
    let request = body["request"].as_str().expect("request").to_string();
    assert!(request.starts_with(&format!("api/system:serviceaccount:{ns}:ops/")), "{request}");
    let annotations = scans.get("web").await.expect("scan").annotations().clone();
    assert_eq!(annotations.get(SCAN_REQUESTED_ANNOTATION), Some(&request));
    let (status, _, _) = call(api.port, "POST", &format!("/api/v1/scans/{ns}/nope/scan"), Some(&ops)).await;
    assert_eq!(status, 404);

    // The full report, as the operator stores it (gzip JSON parts), filtered and paged.
    let report: driftmgr::drift::Report =
        serde_json::from_str(include_str!("fixtures/objects/plan-report.json")).expect("fixture");
    let parts = driftmgr::controller::report_store::encode(&report).expect("encode");
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);
    let part = k8s_openapi::api::core::v1::ConfigMap {
        metadata: kube::api::ObjectMeta { name: Some("web-report-1-0".into()), ..Default::default() },
        binary_data: Some([("report.json.gz".to_string(), k8s_openapi::ByteString(parts[0].clone()))].into()),
        ..Default::default()
    };
    config_maps.create(&Default::default(), &part).await.expect("report part");
    let status =
        serde_json::json!({"status": {"reportRef": {"configMaps": ["web-report-1-0"], "generation": 1}}});
    scans
        .patch_status("web", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&status))
        .await
        .expect("status");
    let path = format!("/api/v1/scans/{ns}/web/report?kind=Modified&limit=1");
    let body = common::wait_until(TIMEOUT, "the report served", || async {
        let (status, _, body) = call(api.port, "GET", &path, Some(&reader)).await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(
        (body["total"].clone(), body["continue"].clone()),
        (serde_json::json!(2), serde_json::json!("1")),
        "{body}"
    );
    assert_eq!(body["items"][0]["id"], "sg-1", "most severe first: {body}");
    assert_eq!(body["items"][0]["changes"][0]["path"], "ingress");
    let (status, _, bad) =
        call(api.port, "GET", &format!("/api/v1/scans/{ns}/web/report?severity=Severe"), Some(&reader)).await;
    assert_eq!(status, 400, "{bad}");
    let (status, _, none) =
        call(api.port, "GET", &format!("/api/v1/scans/{ns}/db/report"), Some(&reader)).await;
    assert_eq!(
        (status, none["message"].as_str()),
        (404, Some(format!("DriftScan {ns}/db has no report yet").as_str()))
    );

    // An operator asks for a plan from a scan's report, and rolls a plan back.
    let plan_path = format!("/api/v1/scans/{ns}/web/plan");
    assert_eq!(call(api.port, "POST", &plan_path, Some(&reader)).await.0, 403);
    let (status, body) = {
        let (status, _, body) = call(api.port, "POST", &plan_path, Some(&ops)).await;
        (status, body)
    };
    assert_eq!((status, body["reportGeneration"].clone()), (202, serde_json::json!(1)), "{body}");
    let annotations = scans.get("web").await.expect("scan").annotations().clone();
    assert_eq!(annotations.get("driftmgr.io/generate-plan").map(String::as_str), body["request"].as_str());
    let (status, _, body) = call(api.port, "POST", &format!("/api/v1/scans/{ns}/db/plan"), Some(&ops)).await;
    assert_eq!(status, 409, "no report to build from: {body}");
    let plan = "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {name: fix}\nspec:\n  author: driftmgr-e2e-admin\n  driftScanRef: {name: web}\n  actions:\n    - {id: a1, type: Revert, target: {type: aws_vpc, id: vpc-1}}\n";
    common::create_yaml(&client, &ns, plan).await.remove(0).expect("plan");
    let rollback = format!("/api/v1/plans/{ns}/fix/rollback");
    common::wait_until(TIMEOUT, "the plan cached", || async {
        (call(api.port, "GET", &format!("/api/v1/plans/{ns}/fix"), Some(&reader)).await.0 == 200)
            .then_some(())
    })
    .await;
    assert_eq!(call(api.port, "POST", &rollback, Some(&reader)).await.0, 403);
    assert_eq!(call(api.port, "POST", &rollback, Some(&ops)).await.0, 202);
    let plans: Api<driftmgr::crd::RemediationPlan> = Api::namespaced(client.clone(), &ns);
    assert!(plans.get("fix").await.expect("plan").spec.rollback, "rollback requested");

    // A deleted scan leaves the list (the list views are rebuilt after every change).
    kubectl(&["delete", "driftscan", "edge", "-n", &ns]);
    common::wait_until(TIMEOUT, "the deleted scan gone from the list", || async {
        let (_, _, body) = call(api.port, "GET", "/api/v1/scans", Some(&reader)).await;
        let names: Vec<String> =
            body["items"].as_array()?.iter().filter_map(|i| i["name"].as_str().map(String::from)).collect();
        (names == ["db", "web"]).then_some(())
    })
    .await;

    // No token ever appears in the API's log.
    let log = std::fs::read_to_string(&api.log).expect("log");
    for secret in [&reader, &ops, &stranger] {
        assert!(!log.contains(secret.as_str()), "a token leaked into the log");
    }
    assert!(log.contains("written through the API"), "{log}");
}

/// An approval through the API and one through kubectl land on the same plan: the API
/// records the user it authenticated, marked with its own ServiceAccount, which the
/// admission policy trusts for exactly that (the chart renders it as the trusted
/// recorder); nobody else may record an approval for someone else, and the API cannot
/// approve for a plan's author.
#[tokio::test]
async fn approvals_through_the_api_and_kubectl_are_both_checked() {
    use common::plans::{approve, create_as, grant_plan_editing, json_patch};
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "api-approve").await;
    grant_plan_editing(&ns);
    // The API runs as the ServiceAccount the installed policy trusts: the chart's, in
    // its release namespace.
    let release = common::POLICY_RELEASE_NAMESPACE;
    let (_, _) = common::kubectl_result(&["create", "namespace", release]);
    let dir = tempfile::tempdir().expect("temp dir");
    common::chart::apply_chart_rbac_in(release, &ns, dir.path(), &["api.enabled=true"], 9);
    let kubeconfig = service_account_kubeconfig(release, dir.path());
    kubectl(&["create", "serviceaccount", "approver", "-n", &ns]);
    let approver = format!("system:serviceaccount:{ns}:approver");
    kubectl(&[
        "create",
        "rolebinding",
        "sa-plan-editor",
        "-n",
        &ns,
        "--role=plan-editor",
        &format!("--serviceaccount={ns}:approver"),
    ]);
    let api = start_api_as(&ns, &dir, &kubeconfig, &format!("{approver}=approver")).await;
    let recorder = format!("system:serviceaccount:{release}:drift");

    let plan = |name: &str, author: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: {name}}}\nspec:\n  author: '{author}'\n  driftScanRef: {{name: net}}\n  mode: Execute\n  approval: {{required: 2}}\n  actions:\n    - {{id: a1, type: Revert, target: {{type: aws_vpc, id: vpc-1}}}}\n"
        )
    };
    let (ok, out) = create_as("alice", &ns, &plan("fix", "alice"));
    assert!(ok, "{out}");
    let (ok, out) = create_as(&approver, &ns, &plan("own", &approver));
    assert!(ok, "the approver writes a plan of its own: {out}");
    let approver_token = token(&ns, "approver");
    common::wait_until(TIMEOUT, "the plans cached", || async {
        let (_, _, body) = call(api.port, "GET", "/api/v1/plans", Some(&approver_token)).await;
        (body["total"] == 2).then_some(())
    })
    .await;

    // Through the API: recorded for the caller, by the API.
    let (status, _, body) =
        call(api.port, "POST", &format!("/api/v1/plans/{ns}/fix/approve"), Some(&approver_token)).await;
    assert_eq!((status, body["approvals"].clone()), (200, serde_json::json!(1)), "{body}");
    // Through kubectl: bob as himself, on the same plan.
    approve("bob", &ns, "fix");
    let plans: Api<driftmgr::crd::RemediationPlan> = Api::namespaced(client.clone(), &ns);
    let approvals = plans.get("fix").await.expect("plan").spec.approval.approvers;
    let recorded: Vec<(String, Option<String>)> =
        approvals.iter().map(|a| (a.user.clone(), a.recorded_by.clone())).collect();
    assert_eq!(recorded, [(approver.clone(), Some(recorder.clone())), ("bob".to_string(), None)]);

    // Nobody but the API records for someone else, even naming the API.
    let forged = format!(
        r#"[{{"op":"add","path":"/spec/approval/approvers/-","value":{{"user":"carol","time":"2026-12-01T10:00:00Z","recordedBy":"{recorder}"}}}}]"#
    );
    let (ok, out) = json_patch("bob", &ns, "fix", &forged);
    assert!(
        !ok && out
            .contains("only the driftmgr API records approvals for other users (recordedBy); bob is not it"),
        "{out}"
    );
    // The API passes the policy's and the CRD's refusals on.
    let (status, _, body) =
        call(api.port, "POST", &format!("/api/v1/plans/{ns}/fix/approve"), Some(&approver_token)).await;
    assert_eq!(status, 403, "a second approval by the same user: {body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("Duplicate value")), "{body}");
    let (status, _, body) =
        call(api.port, "POST", &format!("/api/v1/plans/{ns}/own/approve"), Some(&approver_token)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("{approver} wrote this plan and cannot approve it"))),
        "{body}"
    );
    assert!(plans.get("own").await.expect("plan").spec.approval.approvers.is_empty());

    // A rejection is recorded the same way, with the caller's comment.
    let (ok, out) = create_as("alice", &ns, &plan("risky", "alice"));
    assert!(ok, "{out}");
    let path = format!("/api/v1/plans/{ns}/risky/reject");
    let (status, _, body) = common::wait_until(TIMEOUT, "the rejection written", || async {
        let (status, head, body) = common::api::send(
            api.port,
            "POST",
            &path,
            &[("Authorization", &format!("Bearer {approver_token}")), ("Content-Type", "application/json")],
            r#"{"comment": "not during the freeze"}"#,
        )
        .await;
        (status != 404).then_some((status, head, body))
    })
    .await;
    assert_eq!(status, 200, "{body}");
    let rejection = plans.get("risky").await.expect("plan").spec.approval.approvers;
    assert_eq!(rejection.len(), 1);
    assert!(rejection[0].rejected && rejection[0].user == approver, "{rejection:?}");
    assert_eq!(rejection[0].comment.as_deref(), Some("not during the freeze"));
    assert_eq!(rejection[0].recorded_by.as_deref(), Some(recorder.as_str()));
}
