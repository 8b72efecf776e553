//! Remediation, the pure part: a plan's actions resolved against the report they
//! were written for, and what an executing plan does next. The controller
//! (`controller/plan_execution.rs`) does the I/O: status writes fenced on
//! resourceVersion, cloud reads and calls.

pub mod generate;
pub mod hcl;

use crate::crd::{
    ActionResult, ActionState, ActionType, AttributeChange, DriftItem, DriftKind, RemediationPlanSpec, Risk,
    SnapshotEntry,
};
use crate::drift::CloudRules;
use crate::drift::Report;

/// Why a plan cannot run. Each names the action and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("spec.actions[{index}] ({id}): the scan's report has no drift item for {type_} {target}")]
    TargetNotReported { index: usize, id: String, type_: String, target: String },
    #[error("spec.actions[{index}] ({id}): {action:?} needs a {needs:?} item, but {target} is {found:?}")]
    WrongKind {
        index: usize,
        id: String,
        action: ActionType,
        needs: DriftKind,
        target: String,
        found: DriftKind,
    },
    #[error(
        "spec.actions[{index}] ({id}): attribute {path} is not among the changes the scan reported for {target}"
    )]
    AttributeNotReported { index: usize, id: String, path: String, target: String },
    #[error(
        "spec.actions[{index}] ({id}): {path} of {type_} cannot be set back in place (Terraform must replace the resource)"
    )]
    NotRevertible { index: usize, id: String, path: String, type_: String },
    #[error("spec.actions[{index}] ({id}): driftmgr cannot delete a {type_}")]
    NotDeletable { index: usize, id: String, type_: String },
}

impl PlanError {
    /// CamelCase reason for the Ready condition.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TargetNotReported { .. } => "TargetNotReported",
            Self::WrongKind { .. } => "WrongDriftKind",
            Self::AttributeNotReported { .. } => "AttributeNotReported",
            Self::NotRevertible { .. } => "NotRevertible",
            Self::NotDeletable { .. } => "NotDeletable",
        }
    }
}

fn find_item<'r>(report: &'r Report, type_: &str, id: &str, region: Option<&str>) -> Option<&'r DriftItem> {
    report.items.iter().find(|item| {
        item.type_ == type_ && item.id == id && (region.is_none() || item.region.as_deref() == region)
    })
}

/// Resolves every action against the report (pure): the changes each makes, with what
/// the scan saw, and its risk. A `Revert` without `attributes` takes every change the
/// cloud can make in place and says which it leaves to Terraform.
pub fn resolve(
    spec: &RemediationPlanSpec,
    report: &Report,
    rules: &dyn CloudRules,
) -> Result<Vec<ActionResult>, PlanError> {
    let mut results = Vec::with_capacity(spec.actions.len());
    for (index, action) in spec.actions.iter().enumerate() {
        let id = action.id.clone();
        let target = &action.target;
        let name = format!("{} {}", target.type_, target.id);
        let item =
            find_item(report, &target.type_, &target.id, target.region.as_deref()).ok_or_else(|| {
                PlanError::TargetNotReported {
                    index,
                    id: id.clone(),
                    type_: target.type_.clone(),
                    target: target.id.clone(),
                }
            })?;
        let needs = match action.type_ {
            ActionType::Revert => DriftKind::Modified,
            ActionType::Codify | ActionType::DeleteUnmanaged => DriftKind::Unmanaged,
        };
        if item.kind != needs {
            return Err(PlanError::WrongKind {
                index,
                id,
                action: action.type_,
                needs,
                target: name,
                found: item.kind,
            });
        }
        match action.type_ {
            ActionType::Revert => {}
            // Reads the resource and writes Terraform code; the cloud is not changed.
            ActionType::Codify => {
                results.push(ActionResult {
                    id,
                    state: ActionState::Pending,
                    risk: Some(Risk::Safe),
                    changes: Vec::new(),
                    message: Some(
                        "writes an import block and a resource skeleton; changes nothing in the cloud".into(),
                    ),
                    started_at: None,
                    finished_at: None,
                    verified: None,
                });
                continue;
            }
            ActionType::DeleteUnmanaged if !rules.deletable(&target.type_) => {
                return Err(PlanError::NotDeletable { index, id, type_: target.type_.clone() });
            }
            // Deletes the resource: a snapshot cannot bring it back, so a rollback skips it.
            ActionType::DeleteUnmanaged => {
                results.push(ActionResult {
                    id,
                    state: ActionState::Pending,
                    risk: Some(Risk::Destructive),
                    changes: Vec::new(),
                    message: Some(format!("deletes {name}; a rollback cannot bring it back")),
                    started_at: None,
                    finished_at: None,
                    verified: None,
                });
                continue;
            }
        }
        for path in &action.attributes {
            if !item.changes.iter().any(|c| &c.path == path) {
                return Err(PlanError::AttributeNotReported { index, id, path: path.clone(), target: name });
            }
        }
        let chosen = item
            .changes
            .iter()
            .filter(|c| action.attributes.is_empty() || action.attributes.contains(&c.path));
        let mut changes: Vec<AttributeChange> = Vec::new();
        let mut left = Vec::new();
        let mut risk = None;
        for change in chosen {
            match rules.fix_risk(&target.type_, change) {
                Some(r) => {
                    risk = risk.max(Some(r));
                    changes.push(change.clone());
                }
                None if action.attributes.is_empty() => left.push(change.path.clone()),
                None => {
                    return Err(PlanError::NotRevertible {
                        index,
                        id,
                        path: change.path.clone(),
                        type_: target.type_.clone(),
                    });
                }
            }
        }
        let message = (!left.is_empty())
            .then(|| format!("left to Terraform (cannot be set back in place): {}", left.join(", ")));
        let state = if changes.is_empty() { ActionState::Skipped } else { ActionState::Pending };
        results.push(ActionResult {
            id,
            state,
            risk: risk.or(Some(Risk::Safe)),
            changes,
            message: message.or_else(|| (state == ActionState::Skipped).then(|| "nothing to change".into())),
            started_at: None,
            finished_at: None,
            verified: None,
        });
    }
    Ok(results)
}

/// What an executing plan does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Start action `index` (check its precondition, mark it Running, call the cloud).
    Run(usize),
    /// Action `index` was marked Running and never finished: find out from the cloud
    /// whether its change landed; never repeat it blindly.
    Recover(usize),
    /// Every action has finished (or the first failure stopped the plan).
    Done,
}

/// The next step of execution (pure). Actions run in order; a failure stops the rest
/// unless `continue_on_failure`.
pub fn next(results: &[ActionResult], continue_on_failure: bool) -> Next {
    for (index, result) in results.iter().enumerate() {
        match result.state {
            ActionState::Running => return Next::Recover(index),
            ActionState::Pending => return Next::Run(index),
            ActionState::Failed if !continue_on_failure => return Next::Done,
            _ => {}
        }
    }
    Next::Done
}

/// The next action to roll back (pure): the last one that changed something and is
/// not yet restored. `recover` is true when its rollback started and never finished.
pub fn next_rollback(results: &[ActionResult], snapshot: &[SnapshotEntry]) -> Option<(usize, bool)> {
    results.iter().enumerate().rev().find_map(|(index, result)| {
        let changed = snapshot.iter().any(|s| s.action_id == result.id);
        match result.state {
            ActionState::RollingBack => Some((index, true)),
            ActionState::Succeeded | ActionState::Failed | ActionState::Running if changed => {
                Some((index, false))
            }
            _ => None,
        }
    })
}

/// The changes that undo action `id`: its snapshot entries with what was applied and
/// what was there before swapped.
pub fn undo_changes(snapshot: &[SnapshotEntry], id: &str) -> Vec<AttributeChange> {
    snapshot
        .iter()
        .filter(|s| s.action_id == id)
        .rev()
        .map(|s| AttributeChange {
            path: s.path.clone(),
            expected: s.previous.clone(),
            actual: s.applied.clone(),
        })
        .collect()
}

/// The snapshot entries recorded before action `result` runs: each change's value as
/// the precondition confirmed it (the scan's `actual`) and the value it sets.
pub fn snapshot_of(result: &ActionResult) -> Vec<SnapshotEntry> {
    result
        .changes
        .iter()
        .map(|c| SnapshotEntry {
            action_id: result.id.clone(),
            path: c.path.clone(),
            previous: c.actual.clone(),
            applied: c.expected.clone(),
        })
        .collect()
}

/// Whether the drift action `result` fixed is gone from a later report (pure): none of
/// its changes is reported again for its target.
pub fn resolved_in(report: &Report, type_: &str, id: &str, result: &ActionResult) -> bool {
    let Some(item) = report.items.iter().find(|i| i.type_ == type_ && i.id == id) else {
        return true;
    };
    !result.changes.iter().any(|fixed| {
        item.changes
            .iter()
            .any(|c| c.path == fixed.path && c.expected == fixed.expected && c.actual == fixed.actual)
    })
}

#[cfg(test)]
mod tests;
