//! RemediationPlans as people handle them: through `kubectl --as USER`, with the RBAC
//! a team would give its members.

use std::time::Duration;

use driftmgr::crd::{DriftScan, PlanPhase, RemediationPlan, RemediationPlanStatus};
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

use super::{kubectl, kubectl_result};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Users the plan tests act as.
pub const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// Lets `USERS` read, create and edit plans in `ns` (and nothing else).
pub fn grant_plan_editing(ns: &str) {
    let verbs = "--verb=get,list,create,patch,update";
    kubectl(&["create", "role", "plan-editor", "-n", ns, verbs, "--resource=remediationplans.driftmgr.io"]);
    let mut args = vec!["create", "rolebinding", "plan-editors", "-n", ns, "--role=plan-editor"];
    let users: Vec<String> = USERS.iter().map(|u| format!("--user={u}")).collect();
    args.extend(users.iter().map(String::as_str));
    kubectl(&args);
}

/// `kubectl --as USER -n NS ...`: success and everything it printed.
pub fn as_user(user: &str, ns: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["--as", user, "-n", ns];
    all.extend_from_slice(args);
    kubectl_result(&all)
}

/// `kubectl create -f` of `yaml`, as `user`.
pub fn create_as(user: &str, ns: &str, yaml: &str) -> (bool, String) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), yaml).expect("write");
    as_user(user, ns, &["create", "-f", file.path().to_str().expect("utf-8")])
}

/// One approval record for `user`.
pub fn approval(user: &str) -> String {
    format!(r#"{{"user":"{user}","time":"2026-12-01T10:00:00Z"}}"#)
}

/// A JSON patch adding one approval record (to an existing list).
pub fn add_approval(record: &str) -> String {
    format!(r#"[{{"op":"add","path":"/spec/approval/approvers/-","value":{record}}}]"#)
}

/// `kubectl patch remediationplan PLAN --type json`, as `user`.
pub fn json_patch(user: &str, ns: &str, plan: &str, patch: &str) -> (bool, String) {
    as_user(user, ns, &["patch", "remediationplan", plan, "--type", "json", "-p", patch])
}

/// `user` approves `plan`: the first approval creates the list, later ones append.
pub fn approve(user: &str, ns: &str, plan: &str) {
    let first = format!(r#"[{{"op":"add","path":"/spec/approval/approvers","value":[{}]}}]"#, approval(user));
    let existing =
        kubectl(&["get", "remediationplan", plan, "-n", ns, "-o", "jsonpath={.spec.approval.approvers}"]);
    let patch = if existing.trim().is_empty() { first } else { add_approval(&approval(user)) };
    let (ok, out) = json_patch(user, ns, plan, &patch);
    assert!(ok, "{user} approves {plan}: {out}");
}

/// The plan's status, if it exists and has one.
pub async fn plan_status(plans: &Api<RemediationPlan>, name: &str) -> Option<RemediationPlanStatus> {
    plans.get(name).await.ok()?.status
}

/// Waits (up to a minute) for the plan to reach `phase`.
pub async fn wait_phase(plans: &Api<RemediationPlan>, name: &str, phase: PlanPhase) -> RemediationPlanStatus {
    super::wait_until(TIMEOUT, &format!("plan {name} {phase:?}"), || async {
        plan_status(plans, name).await.filter(|s| s.phase == Some(phase))
    })
    .await
}

/// Asks the DriftScan `net` for a scan (`driftmgr.io/scan-requested`).
pub async fn request_scan(client: &Client, ns: &str, value: &str) {
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), ns);
    let patch = json!({"metadata": {"annotations": {"driftmgr.io/scan-requested": value}}});
    scans.patch("net", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("request a scan");
}

/// Waits for the DriftScan `net` to have report `generation` or a later one.
pub async fn wait_report(client: &Client, ns: &str, generation: i64) {
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), ns);
    super::wait_until(TIMEOUT, &format!("report generation {generation}"), || async {
        let status = scans.get("net").await.ok()?.status?;
        (status.report_ref?.generation >= generation).then_some(())
    })
    .await;
}

/// Creates the Secret, the state ConfigMap, the ProviderAccount `prod` (pointed at
/// `endpoint`) and the DriftScan `net` over `types` that the remediation tests use.
pub async fn create_scan(client: &Client, ns: &str, state: &str, endpoint: &str, types: &[&str]) {
    let yaml = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata:\n  terraform.tfstate: {}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: prod}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{endpoint}'}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: net}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [{}]\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n",
        super::moto::CREDENTIALS_SECRET,
        serde_json::to_string(state).expect("quoted"),
        types.join(", ")
    );
    for created in super::create_yaml(client, ns, &yaml).await {
        created.expect("created");
    }
}
