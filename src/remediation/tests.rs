//! The pure part of remediation, from a report fixture.

use super::*;
use crate::crd::{RemediationAction, ResourceTarget};
use crate::provider::cloud_rules;

fn report() -> Report {
    serde_json::from_str(include_str!("../../tests/fixtures/objects/plan-report.json")).expect("fixture")
}

fn action(id: &str, type_: ActionType, target: (&str, &str), attributes: &[&str]) -> RemediationAction {
    RemediationAction {
        id: id.into(),
        type_,
        target: ResourceTarget { type_: target.0.into(), id: target.1.into(), region: None, address: None },
        attributes: attributes.iter().map(|a| a.to_string()).collect(),
    }
}

fn spec(actions: Vec<RemediationAction>) -> RemediationPlanSpec {
    let mut spec: RemediationPlanSpec = serde_yaml::from_str(
        "driftScanRef: {name: s}\nactions: [{id: x, type: Revert, target: {type: t, id: i}}]\n",
    )
    .expect("spec");
    spec.actions = actions;
    spec
}

#[test]
fn reverts_take_what_the_cloud_can_change_and_leave_the_rest_to_terraform() {
    let plan = spec(vec![
        action("close-ssh", ActionType::Revert, ("aws_security_group", "sg-1"), &[]),
        action("web", ActionType::Revert, ("aws_instance", "i-1"), &[]),
    ]);
    let results = resolve(&plan, &report(), cloud_rules("aws")).expect("resolves");
    assert_eq!(results[0].state, ActionState::Pending);
    assert_eq!(results[0].risk, Some(Risk::Disruptive), "removing a rule may cut traffic");
    assert_eq!(results[0].changes.len(), 1);
    let paths: Vec<&str> = results[1].changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["instance_type", "tags.Env"], "the AMI needs a replacement");
    assert_eq!(results[1].risk, Some(Risk::Disruptive), "a resize stops the instance");
    assert_eq!(results[1].message.as_deref(), Some("left to Terraform (cannot be set back in place): ami"));
}

#[test]
fn bad_actions_are_refused_with_what_is_wrong() {
    let rules = cloud_rules("aws");
    let refused = |a: RemediationAction| resolve(&spec(vec![a]), &report(), rules).expect_err("refused");
    assert_eq!(
        refused(action("a", ActionType::Revert, ("aws_instance", "i-404"), &[])).to_string(),
        "spec.actions[0] (a): the scan's report has no drift item for aws_instance i-404"
    );
    assert_eq!(
        refused(action("a", ActionType::Revert, ("aws_instance", "i-rogue"), &[])).to_string(),
        "spec.actions[0] (a): Revert needs a Modified item, but aws_instance i-rogue is Unmanaged"
    );
    assert_eq!(
        refused(action("a", ActionType::Revert, ("aws_instance", "i-1"), &["monitoring"])).reason(),
        "AttributeNotReported"
    );
    assert_eq!(
        refused(action("a", ActionType::Revert, ("aws_instance", "i-1"), &["ami"])).to_string(),
        "spec.actions[0] (a): ami of aws_instance cannot be set back in place (Terraform must replace the resource)"
    );
    let delete = resolve(
        &spec(vec![action("d", ActionType::DeleteUnmanaged, ("aws_instance", "i-rogue"), &[])]),
        &report(),
        rules,
    );
    assert_eq!(delete.expect("an unmanaged instance can be deleted")[0].risk, Some(Risk::Destructive));
    let rogue_vpc = resolve(
        &spec(vec![action("d", ActionType::DeleteUnmanaged, ("aws_instance", "i-rogue"), &[])]),
        &report(),
        &NoDelete,
    );
    assert_eq!(rogue_vpc.expect_err("refused").reason(), "NotDeletable");
    assert_eq!(
        refused(action("a", ActionType::Codify, ("aws_instance", "i-1"), &[])).reason(),
        "WrongDriftKind",
        "only an unmanaged resource is codified"
    );
    let codify = resolve(
        &spec(vec![action("c", ActionType::Codify, ("aws_instance", "i-rogue"), &[])]),
        &report(),
        rules,
    );
    let codify = codify.expect("an unmanaged resource is codified");
    assert_eq!((codify[0].state, codify[0].risk), (ActionState::Pending, Some(Risk::Safe)));
    assert!(codify[0].changes.is_empty(), "no cloud change");
}

/// A cloud whose resources driftmgr may not delete.
struct NoDelete;

impl CloudRules for NoDelete {
    fn live_type(&self, _: &str) -> Option<&'static str> {
        None
    }
    fn folds(&self, _: &str, _: &crate::attributes::Attributes) -> Vec<crate::provider::Fold> {
        Vec::new()
    }
    fn child_types(&self) -> &'static [&'static str] {
        &[]
    }
}

fn result(id: &str, state: ActionState) -> ActionResult {
    ActionResult {
        id: id.into(),
        state,
        risk: Some(Risk::Safe),
        changes: vec![AttributeChange {
            path: "tags.Env".into(),
            expected: Some("\"prod\"".into()),
            actual: Some("\"dev\"".into()),
        }],
        message: None,
        started_at: None,
        finished_at: None,
        verified: None,
    }
}

#[test]
fn actions_run_in_order_and_a_started_one_is_recovered_not_repeated() {
    use ActionState::*;
    assert_eq!(next(&[result("a", Succeeded), result("b", Pending)], false), Next::Run(1));
    assert_eq!(next(&[result("a", Running), result("b", Pending)], false), Next::Recover(0));
    assert_eq!(next(&[result("a", Failed), result("b", Pending)], false), Next::Done, "stops at a failure");
    assert_eq!(next(&[result("a", Failed), result("b", Pending)], true), Next::Run(1));
    assert_eq!(next(&[result("a", Skipped), result("b", Succeeded)], false), Next::Done);
}

#[test]
fn rollback_restores_in_reverse_order_from_the_snapshot() {
    use ActionState::*;
    let results = [result("a", Succeeded), result("b", Succeeded), result("c", Skipped)];
    let snapshot: Vec<SnapshotEntry> = results[..2].iter().flat_map(snapshot_of).collect();
    assert_eq!(snapshot[0].previous.as_deref(), Some("\"dev\""));
    assert_eq!(next_rollback(&results, &snapshot), Some((1, false)), "the last change first");
    let mut partly = results.clone();
    partly[1].state = RolledBack;
    assert_eq!(next_rollback(&partly, &snapshot), Some((0, false)));
    partly[0].state = RollingBack;
    assert_eq!(next_rollback(&partly, &snapshot), Some((0, true)), "an interrupted rollback is recovered");
    partly[0].state = RolledBack;
    assert_eq!(next_rollback(&partly, &snapshot), None);
    let undo = undo_changes(&snapshot, "a");
    assert_eq!((undo[0].expected.as_deref(), undo[0].actual.as_deref()), (Some("\"dev\""), Some("\"prod\"")));
}

#[test]
fn a_rescan_tells_whether_the_drift_is_gone() {
    let report = report();
    let fixed = result("web", ActionState::Succeeded);
    assert!(resolved_in(&report, "aws_instance", "i-404", &fixed), "no item: resolved");
    let mut still = fixed.clone();
    still.changes[0].actual = Some("\"staging\"".into());
    assert!(!resolved_in(&report, "aws_instance", "i-1", &still), "the same change is reported again");
}
