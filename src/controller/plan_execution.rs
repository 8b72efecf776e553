//! Executing an approved RemediationPlan exactly once, rolling it back, and verifying
//! it with a re-scan.
//!
//! Each step is written to the plan's status first, with the resourceVersion the
//! executor last read or wrote as a precondition, and only then is the cloud called.
//! A replica that lost the lease, or acts on a stale read, fails that write and calls
//! nothing. An action found `Running` (a restart or failover between the marker and
//! the result) is checked against the cloud: done, never started, or neither; it is
//! never repeated blindly.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use tracing::{info, warn};

use super::report_store::{self, ReportReadError};
use super::scan_run::{self, ScanFailure};
use super::status::{apply_status, event_reference, publish_event};
use super::{Context, Error};
use crate::crd::{
    ActionState, ActionType, AttributeChange, ConditionStatus, ConditionUpdate, DriftScan, PlanPhase,
    RemediationAction, RemediationPlan, RemediationPlanStatus, SCAN_REQUESTED_ANNOTATION, merge_conditions,
};
use crate::drift::{observed, same_value};
use crate::provider::{CloudRules, Provider, cloud_rules};
use crate::remediation::generate::hcl_name;
use crate::remediation::{self, Next, hcl};

/// Why a step could not be taken now (retried; the plan's record stays as it is).
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error(transparent)]
    Kube(#[from] Error),
    #[error("cannot reach the scan's account: {0}")]
    Account(#[from] ScanFailure),
    #[error("the scan's report: {0}")]
    Report(#[from] ReportReadError),
}

/// How soon an executor that lost a status race looks again.
const CONFLICT_RETRY: Duration = Duration::from_secs(1);
/// How often a plan waiting for its verifying re-scan looks (the scan watch also wakes it).
const VERIFY_POLL: Duration = Duration::from_secs(30);

struct Executor<'a> {
    ctx: &'a Context,
    scan: &'a DriftScan,
    plan: RemediationPlan,
    provider: Option<Box<dyn Provider>>,
}

/// Moves an executing plan as far as it can go now. Returns when it is done, waits for
/// the verifying re-scan, or lost a write race.
pub async fn advance(
    ctx: &Context,
    plan: RemediationPlan,
    scan: &DriftScan,
) -> Result<Action, ExecutionError> {
    let mut executor = Executor { ctx, scan, plan, provider: None };
    loop {
        let status = executor.plan.status.clone().unwrap_or_default();
        let step = match status.phase {
            Some(PlanPhase::Executing) => executor.execute_step(status).await,
            Some(PlanPhase::Succeeded | PlanPhase::Failed) if executor.plan.spec.rollback => {
                executor.begin_rollback(status).await
            }
            Some(PlanPhase::Succeeded | PlanPhase::Failed) => return executor.verify(status).await,
            Some(PlanPhase::RollingBack) => executor.rollback_step(status).await,
            _ => return Ok(Action::await_change()),
        };
        match step {
            Ok(()) => {}
            Err(ExecutionError::Kube(error)) if error.is_conflict() => {
                info!(plan = %executor.plan.name_any(), "plan changed under the executor; re-reading");
                return Ok(Action::requeue(CONFLICT_RETRY));
            }
            Err(error) => return Err(error),
        }
    }
}

impl Executor<'_> {
    fn action(&self, id: &str) -> Option<&RemediationAction> {
        self.plan.spec.actions.iter().find(|a| a.id == id)
    }

    /// The rules of the account's cloud (connect first; unknown until then, and
    /// then nothing is accepted as revertible).
    fn rules(&self) -> &'static dyn CloudRules {
        cloud_rules(self.provider.as_deref().map_or("", |p| p.terraform_name()))
    }

    async fn provider(&mut self) -> Result<&dyn Provider, ExecutionError> {
        if self.provider.is_none() {
            let namespace = self.scan.namespace().ok_or(Error::MissingNamespace)?;
            let provider =
                scan_run::connect(self.ctx, &namespace, &self.scan.spec.provider_account_ref.name).await?;
            self.provider = Some(provider);
        }
        Ok(self.provider.as_deref().expect("connected above"))
    }

    /// Writes `status` fenced on the plan's current resourceVersion and keeps the
    /// object the API server returns (its new resourceVersion fences the next write).
    async fn write(&mut self, status: RemediationPlanStatus) -> Result<(), ExecutionError> {
        self.plan = apply_status(&self.plan, &status, &self.ctx.client).await?;
        Ok(())
    }

    /// An Event about the plan; `about` is the action id, or the plan-wide step.
    async fn event(&self, about: &str, normal: bool, reason: &str, note: &str) {
        publish_event(self.ctx, &event_reference(&self.plan), about, normal, reason, note).await;
    }

    fn condition(&self, status: &mut RemediationPlanStatus, update: ConditionUpdate) {
        let generation = self.plan.metadata.generation;
        status.conditions = merge_conditions(&status.conditions, &[update], generation, Timestamp::now());
    }

    /// The live values of `changes` on the target, as the diff reports them.
    async fn observe(
        &mut self,
        action: &RemediationAction,
        changes: &[AttributeChange],
    ) -> Result<Option<Vec<Option<String>>>, crate::provider::ProviderError> {
        let provider = match self.provider().await {
            Ok(p) => p,
            Err(ExecutionError::Account(ScanFailure::Provider(e))) => return Err(e),
            Err(other) => return Err(crate::provider::ProviderError::Other(other.to_string())),
        };
        let live = provider.read(&action.target).await?;
        Ok(live.map(|live| {
            changes
                .iter()
                .map(|c| observed(self.rules(), &action.target.type_, &live.attributes, c))
                .collect()
        }))
    }

    async fn execute_step(&mut self, mut status: RemediationPlanStatus) -> Result<(), ExecutionError> {
        let (index, recovering) = match remediation::next(&status.results, self.plan.spec.continue_on_failure)
        {
            Next::Run(index) => (index, false),
            Next::Recover(index) => (index, true),
            Next::Done => return self.finish(status).await,
        };
        // Connect before anything is marked: an account that cannot be reached leaves
        // the action Pending, to be retried.
        self.provider().await?;
        let result = status.results[index].clone();
        let Some(action) = self.action(&result.id).cloned() else {
            return self
                .settle(status, index, ActionState::Failed, "the action is no longer in spec.actions")
                .await;
        };
        if action.type_ == ActionType::Codify {
            return self.codify(status, index, &action).await;
        }
        if action.type_ == ActionType::DeleteUnmanaged {
            return self.delete(status, index, &action, recovering).await;
        }
        let seen = match self.observe(&action, &result.changes).await {
            Ok(Some(seen)) => seen,
            Ok(None) => {
                let state = if recovering { ActionState::Failed } else { ActionState::Skipped };
                return self.settle(status, index, state, "stale: the resource no longer exists").await;
            }
            Err(error) => {
                let message = format!("could not read the resource, nothing was changed: {error}");
                return self.settle(status, index, ActionState::Failed, &message).await;
            }
        };
        let applied = result
            .changes
            .iter()
            .zip(&seen)
            .all(|(c, now)| same_value(now.as_deref(), c.expected.as_deref()));
        let untouched =
            result.changes.iter().zip(&seen).all(|(c, now)| same_value(now.as_deref(), c.actual.as_deref()));
        if recovering && applied {
            let message = "found applied after a restart; not repeated";
            return self.settle(status, index, ActionState::Succeeded, message).await;
        }
        if !untouched {
            let stale: Vec<String> = result
                .changes
                .iter()
                .zip(&seen)
                .filter(|(c, now)| !same_value(now.as_deref(), c.actual.as_deref()))
                .map(|(c, now)| {
                    format!(
                        "{} is {}, the scan saw {}",
                        c.path,
                        shown(now.as_deref()),
                        shown(c.actual.as_deref())
                    )
                })
                .collect();
            let (state, message) = if recovering {
                (
                    ActionState::Failed,
                    format!(
                        "interrupted, and the cloud now matches neither the scan nor state ({}); not repeated",
                        stale.join("; ")
                    ),
                )
            } else {
                (ActionState::Skipped, format!("stale: {}; nothing was changed", stale.join("; ")))
            };
            return self.settle(status, index, state, &message).await;
        }
        if !recovering {
            // The marker and the snapshot land before the cloud call, fenced.
            status.snapshot.extend(remediation::snapshot_of(&result));
            let entry = &mut status.results[index];
            entry.state = ActionState::Running;
            entry.started_at = Some(Time(Timestamp::now()));
            self.write(status.clone()).await?;
            self.event(
                &result.id,
                true,
                "ActionStarted",
                &format!("{}: {}", result.id, describe(&action, &result.changes)),
            )
            .await;
        }
        let outcome = match self.provider().await {
            Ok(provider) => {
                provider.remediate(&action.target, &result.changes).await.map_err(|e| e.to_string())
            }
            Err(error) => Err(error.to_string()),
        };
        let (state, message) = match outcome {
            Ok(done) => (ActionState::Succeeded, done),
            Err(error) => (ActionState::Failed, error),
        };
        self.settle(status, index, state, &message).await
    }

    /// Writes the import block and resource skeleton of an unmanaged resource into the
    /// plan's ConfigMap (`<plan>-codify`, one key per action). Reads the cloud only.
    async fn codify(
        &mut self,
        status: RemediationPlanStatus,
        index: usize,
        action: &RemediationAction,
    ) -> Result<(), ExecutionError> {
        let live = match self.provider().await?.read(&action.target).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                return self
                    .settle(status, index, ActionState::Skipped, "the resource no longer exists")
                    .await;
            }
            Err(error) => {
                let message = format!("could not read the resource: {error}");
                return self.settle(status, index, ActionState::Failed, &message).await;
            }
        };
        let name = hcl_name(&action.target.id);
        let code = hcl::import_and_resource(
            self.rules(),
            &action.target.type_,
            &action.target.id,
            &name,
            &live.attributes,
        );
        let namespace = self.plan.namespace().ok_or(Error::MissingNamespace)?;
        let config_map = codify_config_map_name(&self.plan.name_any());
        let key = format!("{}.tf", action.id);
        let api: Api<ConfigMap> = Api::namespaced(self.ctx.client.clone(), &namespace);
        // Merged in, so several Codify actions share the ConfigMap; rewriting a key is
        // harmless (the same code), so this needs no Running marker.
        let patch = serde_json::json!({"data": {&key: code}});
        match api.get_opt(&config_map).await.map_err(Error::from)? {
            Some(_) => {
                api.patch(&config_map, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(Error::from)?;
            }
            None => {
                let mut created: ConfigMap = serde_json::from_value(patch).map_err(Error::from)?;
                created.metadata.name = Some(config_map.clone());
                created.metadata.owner_references = self.plan.controller_owner_ref(&()).map(|o| vec![o]);
                api.create(&PostParams::default(), &created).await.map_err(Error::from)?;
            }
        }
        let message = format!("import block and resource skeleton in ConfigMap {config_map}, key {key}");
        self.settle(status, index, ActionState::Succeeded, &message).await
    }

    /// Deletes an unmanaged resource, once: the resource must still exist when the
    /// action starts; after a restart a resource already gone counts as deleted.
    async fn delete(
        &mut self,
        mut status: RemediationPlanStatus,
        index: usize,
        action: &RemediationAction,
        recovering: bool,
    ) -> Result<(), ExecutionError> {
        let exists = match self.provider().await?.read(&action.target).await {
            Ok(live) => live.is_some(),
            Err(error) => {
                let message = format!("could not read the resource, nothing was deleted: {error}");
                return self.settle(status, index, ActionState::Failed, &message).await;
            }
        };
        if !exists {
            let (state, message) = if recovering {
                (ActionState::Succeeded, "found deleted after a restart; not repeated")
            } else {
                (ActionState::Skipped, "stale: the resource is already gone; nothing was deleted")
            };
            return self.settle(status, index, state, message).await;
        }
        if !recovering {
            let entry = &mut status.results[index];
            entry.state = ActionState::Running;
            entry.started_at = Some(Time(Timestamp::now()));
            self.write(status.clone()).await?;
            let note = format!("{}: deleting {} {}", action.id, action.target.type_, action.target.id);
            self.event(&action.id, true, "ActionStarted", &note).await;
        }
        let (state, message) = match self.provider().await?.delete(&action.target).await {
            Ok(done) => (ActionState::Succeeded, done),
            Err(error) => (ActionState::Failed, error.to_string()),
        };
        self.settle(status, index, state, &message).await
    }

    /// Records how action `index` ended.
    async fn settle(
        &mut self,
        mut status: RemediationPlanStatus,
        index: usize,
        state: ActionState,
        message: &str,
    ) -> Result<(), ExecutionError> {
        let entry = &mut status.results[index];
        entry.state = state;
        entry.message = Some(message.to_string());
        entry.finished_at = Some(Time(Timestamp::now()));
        let id = entry.id.clone();
        self.write(status).await?;
        let (normal, reason) = match state {
            ActionState::Succeeded | ActionState::RolledBack => (true, format!("Action{state:?}")),
            _ => (false, format!("Action{state:?}")),
        };
        self.event(&id, normal, &reason, &format!("{id}: {message}")).await;
        info!(plan = %self.plan.name_any(), action = %id, state = ?state, "remediation action finished");
        Ok(())
    }

    async fn finish(&mut self, mut status: RemediationPlanStatus) -> Result<(), ExecutionError> {
        let failed = status.results.iter().filter(|r| r.state == ActionState::Failed).count();
        // Actions left Pending after a failure stopped the plan did not run.
        for result in status.results.iter_mut().filter(|r| r.state == ActionState::Pending) {
            result.state = ActionState::Skipped;
            result.message = Some("not run: an earlier action failed".into());
        }
        let succeeded = status.results.iter().filter(|r| r.state == ActionState::Succeeded).count();
        status.phase = Some(if failed > 0 { PlanPhase::Failed } else { PlanPhase::Succeeded });
        let message = format!(
            "{succeeded} succeeded, {failed} failed, {} skipped",
            status.results.len() - succeeded - failed
        );
        let update = ConditionUpdate::new(
            "Executed",
            ConditionStatus::from_bool(failed == 0),
            if failed == 0 { "ActionsSucceeded" } else { "ActionFailed" },
            message.clone(),
        );
        self.condition(&mut status, update);
        self.write(status).await?;
        self.event(
            "Execute",
            failed == 0,
            if failed == 0 { "PlanSucceeded" } else { "PlanFailed" },
            &message,
        )
        .await;
        Ok(())
    }

    /// After execution: asks the scan for a re-scan once, then records per action
    /// whether its drift is gone.
    async fn verify(&mut self, mut status: RemediationPlanStatus) -> Result<Action, ExecutionError> {
        // Only actions that changed the cloud can have removed drift (Codify did not).
        let fixed: Vec<usize> = (0..status.results.len())
            .filter(|&i| {
                let result = &status.results[i];
                let deleted = self.action(&result.id).is_some_and(|a| a.type_ == ActionType::DeleteUnmanaged);
                result.state == ActionState::Succeeded && (deleted || !result.changes.is_empty())
            })
            .collect();
        if fixed.is_empty() || status.results.iter().any(|r| r.verified.is_some()) {
            return Ok(Action::await_change());
        }
        let namespace = self.plan.namespace().ok_or(Error::MissingNamespace)?;
        let Some(request) = status.verification_request.clone() else {
            let request = format!(
                "verify-{}-{}",
                self.plan.name_any(),
                self.plan.metadata.uid.as_deref().unwrap_or("plan")
            );
            let scans: Api<DriftScan> = Api::namespaced(self.ctx.client.clone(), &namespace);
            let patch =
                serde_json::json!({"metadata": {"annotations": {SCAN_REQUESTED_ANNOTATION: request}}});
            scans
                .patch(&self.scan.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(Error::from)?;
            status.verification_request = Some(request);
            let update = ConditionUpdate::new(
                "Verified",
                ConditionStatus::Unknown,
                "RescanRequested",
                "waiting for the scan to run again",
            );
            self.condition(&mut status, update);
            self.write(status).await?;
            return Ok(Action::requeue(VERIFY_POLL));
        };
        let scan_status = self.scan.status.clone().unwrap_or_default();
        let rescanned = scan_status.last_scan_request.as_deref() == Some(request.as_str())
            && scan_status.report_ref.as_ref().map(|r| r.generation) > status.executed_report_generation;
        let Some(report_ref) = scan_status.report_ref.filter(|_| rescanned) else {
            return Ok(Action::requeue(VERIFY_POLL));
        };
        let report = report_store::load(&self.ctx.client, &namespace, &report_ref).await?;
        let mut resolved = 0;
        for &index in &fixed {
            let result = &status.results[index];
            let Some(action) = self.action(&result.id) else { continue };
            let gone = remediation::resolved_in(&report, &action.target.type_, &action.target.id, result);
            resolved += usize::from(gone);
            status.results[index].verified = Some(if gone { "Resolved" } else { "StillDrifted" }.into());
        }
        let all = resolved == fixed.len();
        let message = format!(
            "report generation {}: {resolved} of {} fixed items no longer drift",
            report_ref.generation,
            fixed.len()
        );
        let update = ConditionUpdate::new(
            "Verified",
            ConditionStatus::from_bool(all),
            if all { "DriftResolved" } else { "DriftRemains" },
            message.clone(),
        );
        self.condition(&mut status, update);
        self.write(status).await?;
        self.event("Verify", all, if all { "DriftResolved" } else { "DriftRemains" }, &message).await;
        Ok(Action::await_change())
    }

    async fn begin_rollback(&mut self, mut status: RemediationPlanStatus) -> Result<(), ExecutionError> {
        status.phase = Some(PlanPhase::RollingBack);
        let update = ConditionUpdate::new(
            "RolledBack",
            ConditionStatus::False,
            "RollingBack",
            "restoring the snapshot in reverse order",
        );
        self.condition(&mut status, update);
        self.write(status).await?;
        self.event("Rollback", true, "RollbackStarted", "restoring the snapshot in reverse order").await;
        Ok(())
    }

    async fn rollback_step(&mut self, mut status: RemediationPlanStatus) -> Result<(), ExecutionError> {
        let Some((index, recovering)) = remediation::next_rollback(&status.results, &status.snapshot) else {
            let failed = status
                .results
                .iter()
                .filter(|r| {
                    r.state == ActionState::Failed && status.snapshot.iter().any(|s| s.action_id == r.id)
                })
                .count();
            status.phase = Some(PlanPhase::RolledBack);
            let update = ConditionUpdate::new(
                "RolledBack",
                ConditionStatus::from_bool(failed == 0),
                if failed == 0 { "SnapshotRestored" } else { "RollbackIncomplete" },
                format!("{failed} action(s) could not be restored"),
            );
            self.condition(&mut status, update);
            self.write(status).await?;
            self.event(
                "Rollback",
                failed == 0,
                "RollbackFinished",
                &format!("{failed} action(s) could not be restored"),
            )
            .await;
            return Ok(());
        };
        self.provider().await?;
        let result = status.results[index].clone();
        let undo = remediation::undo_changes(&status.snapshot, &result.id);
        let Some(action) = self.action(&result.id).cloned() else {
            return self
                .rollback_settle(status, index, false, "the action is no longer in spec.actions")
                .await;
        };
        if let Some(change) = undo.iter().find(|c| self.rules().fix_risk(&action.target.type_, c).is_none()) {
            let message = format!("{} cannot be set back in place; restore it with Terraform", change.path);
            return self.rollback_settle(status, index, false, &message).await;
        }
        let seen = match self.observe(&action, &undo).await {
            Ok(Some(seen)) => seen,
            Ok(None) => {
                return self.rollback_settle(status, index, false, "the resource no longer exists").await;
            }
            Err(error) => {
                return self
                    .rollback_settle(status, index, false, &format!("could not read the resource: {error}"))
                    .await;
            }
        };
        let restored =
            undo.iter().zip(&seen).all(|(c, now)| same_value(now.as_deref(), c.expected.as_deref()));
        let as_applied =
            undo.iter().zip(&seen).all(|(c, now)| same_value(now.as_deref(), c.actual.as_deref()));
        if recovering && restored {
            return self
                .rollback_settle(status, index, true, "found restored after a restart; not repeated")
                .await;
        }
        if !as_applied {
            let message = "changed since the plan applied it; not restored, so that newer change is kept";
            return self.rollback_settle(status, index, false, message).await;
        }
        if !recovering {
            status.results[index].state = ActionState::RollingBack;
            self.write(status.clone()).await?;
        }
        let outcome = match self.provider().await {
            Ok(provider) => provider.remediate(&action.target, &undo).await.map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(done) => self.rollback_settle(status, index, true, &format!("restored: {done}")).await,
            Err(error) => {
                self.rollback_settle(status, index, false, &format!("rollback failed: {error}")).await
            }
        }
    }

    async fn rollback_settle(
        &mut self,
        mut status: RemediationPlanStatus,
        index: usize,
        restored: bool,
        message: &str,
    ) -> Result<(), ExecutionError> {
        let entry = &mut status.results[index];
        entry.state = if restored { ActionState::RolledBack } else { ActionState::Failed };
        entry.message = Some(message.to_string());
        entry.finished_at = Some(Time(Timestamp::now()));
        let id = entry.id.clone();
        self.write(status).await?;
        if !restored {
            warn!(plan = %self.plan.name_any(), action = %id, message, "rollback of an action failed");
        }
        let reason = if restored { "ActionRolledBack" } else { "RollbackFailed" };
        self.event(&id, restored, reason, &format!("{id}: {message}")).await;
        Ok(())
    }
}

/// The ConfigMap holding the Terraform code a plan's Codify actions wrote.
pub fn codify_config_map_name(plan: &str) -> String {
    let keep = 253usize.saturating_sub("-codify".len()).min(plan.len());
    format!("{}-codify", &plan[..keep])
}

fn shown(value: Option<&str>) -> &str {
    value.unwrap_or("(unset)")
}

/// One line on what an action changes, for its Event.
fn describe(action: &RemediationAction, changes: &[AttributeChange]) -> String {
    let each: Vec<String> = changes
        .iter()
        .map(|c| format!("{} {} -> {}", c.path, shown(c.actual.as_deref()), shown(c.expected.as_deref())))
        .collect();
    format!("{} {}: {}", action.target.type_, action.target.id, each.join(", "))
}
