//! RemediationPlan: checks the referenced scan, counts approvals, resolves the
//! actions against the scan's report (what a DryRun plan shows), and hands an approved
//! Execute plan to the executor (`plan_execution.rs`).

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use tracing::{info, warn};

use super::status::{apply_status, event_reference, publish_ready_transition, report_invalid};
use super::{Context, Error, observe_stream, on_error, plan_execution, referrers, report_store};
use crate::crd::{
    ConditionStatus, ConditionUpdate, DriftScan, PlanPhase, RemediationMode, RemediationPlan,
    RemediationPlanStatus, is_condition_true, merge_conditions,
};
use crate::provider::cloud_rules;
use crate::remediation::resolve;

const CONTROLLER: &str = "remediationplan";

/// Builds the new status from the referenced scan's report generation (pure).
/// `scan_report_generation` is `None` when the scan does not exist and `Some(None)`
/// when it exists but has no report yet.
pub fn build_remediation_plan_status(
    plan: &RemediationPlan,
    scan_report_generation: Option<Option<i64>>,
    now: Timestamp,
) -> RemediationPlanStatus {
    let spec = &plan.spec;
    let scan = &spec.drift_scan_ref.name;
    // The admission policy already refuses the author's own approval; counting only the
    // others also holds where the policy is missing. A plan without an author (written
    // before the policy was installed) cannot be approved at all.
    let author = spec.author.as_deref();
    let others = || spec.approval.approvers.iter().filter(|a| author.is_some_and(|author| author != a.user));
    let approvers: BTreeSet<&str> = others().filter(|a| !a.rejected).map(|a| a.user.as_str()).collect();
    let rejection = others().find(|a| a.rejected);
    let approved = rejection.is_none()
        && approvers.len() >= spec.approval.required as usize
        && (author.is_some() || spec.approval.required == 0);
    let ready = match (scan_report_generation, spec.drift_scan_ref.report_generation) {
        (None, _) => ConditionUpdate::new(
            "Ready",
            ConditionStatus::False,
            "DriftScanNotFound",
            format!("DriftScan {scan} was not found in this namespace"),
        ),
        (Some(current), Some(wanted)) if current != Some(wanted) => ConditionUpdate::new(
            "Ready",
            ConditionStatus::False,
            "StaleReport",
            format!(
                "the plan was built from report generation {wanted} of DriftScan {scan}, which now has {}",
                current.map_or_else(|| "no report".to_string(), |g| format!("generation {g}"))
            ),
        ),
        _ => ConditionUpdate::new(
            "Ready",
            ConditionStatus::True,
            "DriftScanFound",
            format!("DriftScan {scan} exists"),
        ),
    };
    let is_ready = ready.status == ConditionStatus::True;
    let approval = match (author, rejection) {
        (_, Some(rejection)) => ConditionUpdate::new(
            "Approved",
            ConditionStatus::False,
            "Rejected",
            match &rejection.comment {
                Some(comment) => format!("rejected by {}: {comment}", rejection.user),
                None => format!("rejected by {}", rejection.user),
            },
        ),
        (None, _) if spec.approval.required > 0 => ConditionUpdate::new(
            "Approved",
            ConditionStatus::False,
            "NoAuthor",
            "spec.author is not set, so no approval can be checked against it; write the plan again with its author",
        ),
        _ => ConditionUpdate::new(
            "Approved",
            ConditionStatus::from_bool(approved),
            if approved { "ApprovalsComplete" } else { "AwaitingApproval" },
            format!("{} of {} required approvals", approvers.len(), spec.approval.required),
        ),
    };
    let previous = plan.status.clone().unwrap_or_default();
    let generation = plan.meta().generation;
    let phase = match (is_ready, approved) {
        _ if rejection.is_some() => PlanPhase::Rejected,
        (false, _) => PlanPhase::Pending,
        (true, false) => PlanPhase::AwaitingApproval,
        (true, true) => PlanPhase::Approved,
    };
    // A plan that has started executing owns its phase; only the executor moves it.
    let phase = previous.phase.filter(|p| p.is_execution()).unwrap_or(phase);
    RemediationPlanStatus {
        phase: Some(phase),
        action_count: Some(u32::try_from(spec.actions.len()).unwrap_or(u32::MAX)),
        observed_generation: generation,
        conditions: merge_conditions(&previous.conditions, &[ready, approval], generation, now),
        ..previous
    }
}

async fn reconcile(
    guard: Arc<DeserializeGuard<RemediationPlan>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let plan = match &guard.0 {
        Ok(plan) => plan,
        Err(invalid) => return Ok(report_invalid::<RemediationPlan>(&ctx, CONTROLLER, invalid).await),
    };
    let mut timer = ctx.metrics.reconcile_timer(CONTROLLER);
    let namespace = plan.namespace().ok_or(Error::MissingNamespace)?;
    let name = plan.name_any();

    let scans: Api<DeserializeGuard<DriftScan>> = Api::namespaced(ctx.client.clone(), &namespace);
    let scan = scans.get_opt(&plan.spec.drift_scan_ref.name).await?.and_then(|guard| guard.0.ok());
    let executing = plan.status.as_ref().and_then(|s| s.phase).is_some_and(PlanPhase::is_execution);
    if let (true, Some(scan)) = (executing, scan.as_ref()) {
        let action = plan_execution::advance(&ctx, plan.clone(), scan).await;
        timer.set_result(if action.is_ok() { "success" } else { "error" });
        return action.or_else(|error| {
            warn!(controller = CONTROLLER, %namespace, %name, %error, "remediation step failed; retrying");
            Ok(Action::requeue(ctx.config.retry_interval))
        });
    }
    let report_ref = scan.as_ref().and_then(|s| s.status.as_ref()).and_then(|s| s.report_ref.clone());
    let mut status = build_remediation_plan_status(
        plan,
        scan.as_ref().map(|_| report_ref.as_ref().map(|r| r.generation)),
        Timestamp::now(),
    );
    if let (false, Some(report_ref)) =
        (executing, report_ref.filter(|_| is_condition_true(&status.conditions, "Ready")))
    {
        // What the plan would change, from the report it was written for: shown before
        // approval (and all a DryRun plan does), the record execution starts from.
        let resolved = match report_store::load(&ctx.client, &namespace, &report_ref).await {
            Ok(report) => resolve(&plan.spec, &report, cloud_rules(&report.provider))
                .map_err(|e| ("InvalidAction", e.reason(), e.to_string())),
            Err(error) => Err(("ReportUnavailable", "ReportUnavailable", error.to_string())),
        };
        status = with_resolution(plan, status, resolved, report_ref.generation, Timestamp::now());
    }
    let before = plan.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    let written = if plan.status.as_ref() != Some(&status) {
        Some(apply_status(plan, &status, &ctx.client).await?)
    } else {
        None
    };
    publish_ready_transition(&ctx, &event_reference(plan), &before, &status.conditions).await;
    info!(controller = CONTROLLER, %namespace, %name, phase = ?status.phase, "reconciled");
    timer.set_result("success");
    if let (Some(PlanPhase::Executing), Some(written), Some(scan)) = (status.phase, written, scan.as_ref()) {
        // The move to Executing is written; the executor continues from that object.
        return plan_execution::advance(&ctx, written, scan).await.or_else(|error| {
            warn!(controller = CONTROLLER, %namespace, %name, %error, "remediation step failed; retrying");
            Ok(Action::requeue(ctx.config.retry_interval))
        });
    }
    let ready = is_condition_true(&status.conditions, "Ready");
    Ok(Action::requeue(if ready { ctx.config.resync_interval } else { ctx.config.retry_interval }))
}

/// The status with the plan's actions resolved against its report (pure): the
/// previewed results, or Ready=False naming the bad action. An approved plan in
/// Execute mode moves to Executing here.
pub fn with_resolution(
    plan: &RemediationPlan,
    mut status: RemediationPlanStatus,
    resolved: Result<Vec<crate::crd::ActionResult>, (&str, &str, String)>,
    report_generation: i64,
    now: Timestamp,
) -> RemediationPlanStatus {
    let generation = plan.meta().generation;
    match resolved {
        Ok(results) => {
            status.results = results;
            if status.phase == Some(PlanPhase::Approved) && plan.spec.mode == RemediationMode::Execute {
                status.phase = Some(PlanPhase::Executing);
                status.executed_report_generation = Some(report_generation);
                let started = ConditionUpdate::new(
                    "Executed",
                    ConditionStatus::False,
                    "Executing",
                    format!(
                        "running {} action(s) against report generation {report_generation}",
                        status.results.len()
                    ),
                );
                status.conditions = merge_conditions(&status.conditions, &[started], generation, now);
            }
        }
        Err((_, reason, message)) => {
            status.results.clear();
            status.phase = Some(PlanPhase::Pending);
            let refused = ConditionUpdate::new("Ready", ConditionStatus::False, reason, message);
            status.conditions = merge_conditions(&status.conditions, &[refused], generation, now);
        }
    }
    status
}

fn error_policy(_: Arc<DeserializeGuard<RemediationPlan>>, error: &Error, ctx: Arc<Context>) -> Action {
    on_error(CONTROLLER, error, &ctx)
}

pub async fn run(ctx: Arc<Context>) {
    let plans = ctx.watched_api::<DeserializeGuard<RemediationPlan>>();
    let controller = Controller::new(plans, watcher::Config::default().any_semantic())
        .with_config(ctx.controller_config());
    let store = controller.store();
    controller
        .watches(
            ctx.watched_api::<DeserializeGuard<DriftScan>>(),
            watcher::Config::default().any_semantic(),
            move |scan| {
                let name = scan.name_any();
                referrers(&store, scan.namespace(), |plan: &RemediationPlan| {
                    plan.spec.drift_scan_ref.name == name
                })
            },
        )
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| observe_stream(CONTROLLER, &ctx, result))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = include_str!("../../tests/fixtures/objects/remediationplan.yaml");

    fn plan() -> RemediationPlan {
        crate::crd::from_yaml(PLAN).expect("fixture parses")
    }

    fn condition<'a>(status: &'a RemediationPlanStatus, type_: &str) -> (&'a str, &'a str) {
        let c = status.conditions.iter().find(|c| c.type_ == type_).expect("condition present");
        (c.status.as_str(), c.reason.as_str())
    }

    #[test]
    fn one_of_two_approvals_awaits_approval() {
        let status = build_remediation_plan_status(&plan(), Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::AwaitingApproval));
        assert_eq!(condition(&status, "Approved"), ("False", "AwaitingApproval"));
        assert_eq!(status.action_count, Some(2));
    }

    #[test]
    fn duplicate_approver_counts_once() {
        let mut plan = plan();
        let first = plan.spec.approval.approvers[0].clone();
        plan.spec.approval.approvers.push(first);
        let status = build_remediation_plan_status(&plan, Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::AwaitingApproval));
    }

    #[test]
    fn enough_approvals_approve() {
        let mut plan = plan();
        plan.spec.approval.required = 1;
        let status = build_remediation_plan_status(&plan, Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::Approved));
    }

    #[test]
    fn the_authors_own_approval_does_not_count() {
        let mut plan = plan();
        plan.spec.approval.required = 1;
        plan.spec.author = Some(plan.spec.approval.approvers[0].user.clone());
        let status = build_remediation_plan_status(&plan, Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::AwaitingApproval));
        assert_eq!(condition(&status, "Approved"), ("False", "AwaitingApproval"));
    }

    #[test]
    fn one_rejection_stops_the_plan_whatever_the_approvals() {
        let mut plan = plan();
        plan.spec.approval.required = 1;
        let mut rejection = plan.spec.approval.approvers[0].clone();
        rejection.user = "dave".into();
        rejection.rejected = true;
        rejection.comment = Some("not during the freeze".into());
        plan.spec.approval.approvers.push(rejection);
        let status = build_remediation_plan_status(&plan, Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::Rejected));
        assert_eq!(condition(&status, "Approved"), ("False", "Rejected"));
        let message = &status.conditions.iter().find(|c| c.type_ == "Approved").expect("Approved").message;
        assert_eq!(message, "rejected by dave: not during the freeze");
    }

    #[test]
    fn a_plan_without_an_author_is_never_approved() {
        let mut plan = plan();
        plan.spec.approval.required = 1;
        plan.spec.author = None;
        let status = build_remediation_plan_status(&plan, Some(Some(7)), Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(PlanPhase::AwaitingApproval));
        assert_eq!(condition(&status, "Approved"), ("False", "NoAuthor"));
    }

    #[test]
    fn newer_report_makes_the_plan_stale() {
        let status = build_remediation_plan_status(&plan(), Some(Some(8)), Timestamp::UNIX_EPOCH);
        assert_eq!(condition(&status, "Ready"), ("False", "StaleReport"));
        assert_eq!(status.phase, Some(PlanPhase::Pending));
    }

    #[test]
    fn missing_scan_is_reported() {
        let status = build_remediation_plan_status(&plan(), None, Timestamp::UNIX_EPOCH);
        assert_eq!(condition(&status, "Ready"), ("False", "DriftScanNotFound"));
    }
}
