//! RemediationPlan approvals carry the identity the API server authenticated. The
//! shipped admission policy (crds/approval-policy.yaml) runs on the real API server;
//! users act through `kubectl --as`, as people with RBAC on plans would, and each
//! forgery is refused with a message that says what is wrong.

mod common;

use std::time::Duration;

use common::plans::{self, add_approval, approval, create_as as apply_as, grant_plan_editing};
use common::{LeaseTiming, Operator, kubectl};
use driftmgr::crd::{PlanPhase, RemediationPlan, find_condition};
use kube::Api;

const TIMEOUT: Duration = Duration::from_secs(30);
fn plan_yaml(author: &str) -> String {
    format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {{name: fix}}\nspec:\n  author: {author}\n  driftScanRef: {{name: network}}\n  mode: Execute\n  approval: {{required: 2}}\n  actions:\n    - {{id: retag, type: Revert, target: {{type: aws_vpc, id: vpc-1}}, attributes: [tags.Env]}}\n"
    )
}

fn json_patch(user: &str, ns: &str, patch: &str) -> (bool, String) {
    plans::json_patch(user, ns, "fix", patch)
}

fn refused(result: (bool, String), needle: &str, what: &str) {
    let (ok, out) = result;
    assert!(!ok, "{what} was accepted: {out}");
    assert!(out.contains(needle), "{what}: the refusal should say {needle:?}: {out}");
}

#[tokio::test]
async fn approvals_are_tied_to_authenticated_users_and_the_author_cannot_approve() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "approvals").await;
    grant_plan_editing(&ns);
    let operator = Operator::start(&ns, "approvals-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });

    // The API server loads a new policy asynchronously: wait until it refuses a plan
    // whose author is someone else.
    common::wait_until(TIMEOUT, "the approval policy in force", || async {
        let (ok, out) = apply_as("alice", &ns, &plan_yaml("bob"));
        assert!(!ok || out.contains("created"), "{out}");
        if ok {
            kubectl(&["delete", "remediationplan", "fix", "-n", &ns, "--wait"]);
            return None;
        }
        Some(out)
    })
    .await;
    refused(
        apply_as("alice", &ns, &plan_yaml("bob")),
        r#"spec.author must be the user creating the plan: set spec.author to "alice""#,
        "a plan credited to another author",
    );
    let (ok, out) = apply_as("alice", &ns, &plan_yaml("alice"));
    assert!(ok, "alice writes her plan: {out}");
    // The first approval creates the list; a JSON patch with a test op keeps it exact.
    let start = r#"[{"op":"add","path":"/spec/approval/approvers","value":[]}]"#;
    let (ok, out) = json_patch("bob", &ns, start);
    assert!(ok, "an empty approver list is no approval: {out}");

    refused(
        json_patch("alice", &ns, &add_approval(&approval("alice"))),
        "alice wrote this plan and cannot approve it; another user must",
        "the author's own approval",
    );
    refused(
        json_patch("bob", &ns, &add_approval(&approval("carol"))),
        "bob may record only their own approval, not one for carol",
        "an approval forged for another user",
    );
    let (ok, out) = json_patch("bob", &ns, &add_approval(&approval("bob")));
    assert!(ok, "bob approves: {out}");
    refused(
        json_patch("bob", &ns, &add_approval(&approval("bob"))),
        "Duplicate value",
        "a second approval by the same user",
    );
    refused(
        json_patch("carol", &ns, r#"[{"op":"remove","path":"/spec/approval/approvers/0"}]"#),
        "carol may change or withdraw only their own approval, not that of bob",
        "withdrawing another user's approval",
    );
    refused(
        json_patch(
            "carol",
            &ns,
            r#"[{"op":"add","path":"/spec/approval/approvers/0/comment","value":"rubber stamp"}]"#,
        ),
        "carol may change or withdraw only their own approval, not that of bob",
        "editing another user's approval",
    );
    // What was approved cannot change under the approval, not even by its author.
    refused(
        json_patch(
            "alice",
            &ns,
            r#"[{"op":"replace","path":"/spec/actions/0/attributes/0","value":"tags.Team"}]"#,
        ),
        "an approved plan cannot change its actions",
        "changing an approved plan's actions",
    );
    refused(
        json_patch("alice", &ns, r#"[{"op":"replace","path":"/spec/author","value":"mallory"}]"#),
        "spec.author cannot change",
        "rewriting the author",
    );

    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    let approval_condition = |reason: &'static str| {
        let plans = plans.clone();
        async move {
            common::wait_until(TIMEOUT, &format!("Approved reason {reason}"), || async {
                let status = plans.get("fix").await.ok()?.status?;
                let approved = find_condition(&status.conditions, "Approved")?.clone();
                (approved.reason == reason).then_some((status.phase, approved.message))
            })
            .await
        }
    };
    let (phase, message) = approval_condition("AwaitingApproval").await;
    assert_eq!(message, "1 of 2 required approvals");
    assert_ne!(phase, Some(PlanPhase::Approved));

    // Bob may withdraw his own approval and give it again; a second user completes it.
    let (ok, out) = json_patch("bob", &ns, r#"[{"op":"remove","path":"/spec/approval/approvers/0"}]"#);
    assert!(ok, "bob withdraws his own approval: {out}");
    let (ok, out) = json_patch("bob", &ns, &add_approval(&approval("bob")));
    assert!(ok, "bob approves again: {out}");
    let (ok, out) = json_patch("dave", &ns, &add_approval(&approval("dave")));
    assert!(ok, "dave approves: {out}");
    let (_, message) = approval_condition("ApprovalsComplete").await;
    assert_eq!(message, "2 of 2 required approvals");

    let recorded: Vec<String> = plans
        .get("fix")
        .await
        .expect("plan")
        .spec
        .approval
        .approvers
        .iter()
        .map(|a| a.user.clone())
        .collect();
    assert_eq!(recorded, ["bob", "dave"], "exactly the approvals the users gave");
    drop(operator);
}
