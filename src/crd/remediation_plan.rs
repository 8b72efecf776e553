//! `RemediationPlan`: a proposed fix for the drift one scan found.
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated
// `type_ = ...` keys inside them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Actions that bring the cloud back in line with state (or state in line with the
/// cloud). Nothing runs before the required approvals are given; each action runs at
/// most once, and every value it changes is snapshotted so the plan can be rolled back.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "driftmgr.io",
    version = "v1alpha1",
    kind = "RemediationPlan",
    namespaced,
    status = "RemediationPlanStatus",
    shortname = "rp",
    category = "driftmgr",
    doc = "A set of remediation actions for the drift of one DriftScan, run only after approval.",
    printcolumn(name = "Scan", type_ = "string", json_path = ".spec.driftScanRef.name"),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Actions", type_ = "integer", json_path = ".status.actionCount"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("self.approval.required <= 0 || !has(self.approval.approvers) || size(self.approval.approvers) <= 10").message("at most 10 approvers can be recorded"))]
#[x_kube(validation = Rule::new("self.mode != 'Execute' || self.approval.required >= 1").message("spec.approval.required: a plan in Execute mode needs at least one approval"))]
#[x_kube(validation = Rule::new("!has(oldSelf.approval.approvers) || size(oldSelf.approval.approvers) == 0 || (self.actions == oldSelf.actions && self.mode == oldSelf.mode && self.driftScanRef == oldSelf.driftScanRef && self.approval.required == oldSelf.approval.required && self.allowDestructive == oldSelf.allowDestructive && self.continueOnFailure == oldSelf.continueOnFailure)").message("an approved plan cannot change its actions, mode, driftScanRef, approval.required, allowDestructive or continueOnFailure: withdraw the approvals first, or write a new plan"))]
#[x_kube(validation = Rule::new("self.allowDestructive || !self.actions.exists(a, a.type == 'DeleteUnmanaged')").message("DeleteUnmanaged is destructive: set spec.allowDestructive to run it"))]
#[x_kube(validation = Rule::new("!has(oldSelf.author) || (has(self.author) && self.author == oldSelf.author)").message("spec.author cannot change"))]
#[serde(rename_all = "camelCase")]
pub struct RemediationPlanSpec {
    /// The user who wrote the plan, as the API server authenticated them. The admission
    /// policy `remediationplan-approvals.driftmgr.io` refuses a plan whose author is not
    /// the user creating it, and refuses the author's own approval. Cannot change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub author: Option<String>,

    /// The DriftScan whose report the actions come from.
    pub drift_scan_ref: DriftScanRef,

    /// What to do, in order. Each action has a unique `id`.
    #[schemars(length(min = 1, max = 500))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["id".into()]))]
    pub actions: Vec<RemediationAction>,

    /// `DryRun` shows what would change without calling the cloud; `Execute` changes it.
    #[serde(default)]
    pub mode: RemediationMode,

    /// Who must approve before anything runs.
    #[serde(default)]
    pub approval: Approval,

    /// Run the remaining actions after one fails (default: stop at the first failure).
    #[serde(default)]
    pub continue_on_failure: bool,

    /// Allow destructive actions (`DeleteUnmanaged`). Without it a plan holding one is
    /// refused.
    #[serde(default)]
    pub allow_destructive: bool,

    /// Restore the snapshot: every value the plan changed is set back to what it was
    /// before, in reverse order. Takes effect once the plan has executed.
    #[serde(default)]
    pub rollback: bool,
}

/// The scan (same namespace) and, optionally, the report generation the plan was built from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftScanRef {
    /// DriftScan name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// `status.reportRef.generation` of the report the actions were derived from. When
    /// set and the scan has since produced a newer report, the plan does not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub report_generation: Option<i64>,
}

/// One remediation step: what to do about one drift item of the scan's report.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationAction {
    /// Unique id of the action within the plan.
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"))]
    pub id: String,

    /// What to do.
    #[serde(rename = "type")]
    pub type_: ActionType,

    /// The cloud resource acted on: a resource the scan's report lists (by type and id).
    pub target: ResourceTarget,

    /// For `Revert`: the attribute paths to set back (as the report names them, such
    /// as `instance_type`, `tags.Env` or `ingress`). Empty: every changed attribute
    /// of the item that can be reverted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub attributes: Vec<String>,
}

/// Kinds of remediation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum ActionType {
    /// Set a Modified resource's attributes back to the values in state.
    Revert,
    /// Write a Terraform `import` block and a resource skeleton for an Unmanaged
    /// resource, so it can be brought under Terraform. Changes nothing in the cloud.
    Codify,
    /// Delete an Unmanaged resource. Destructive: runs only with `spec.allowDestructive`.
    DeleteUnmanaged,
}

/// A cloud resource.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTarget {
    /// Terraform resource type, such as `aws_instance`.
    #[serde(rename = "type")]
    #[schemars(length(min = 1, max = 128))]
    pub type_: String,
    /// Cloud resource id.
    #[schemars(length(min = 1, max = 1024))]
    pub id: String,
    /// Region or zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Terraform address, when the resource is managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Whether the plan may change the cloud.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum RemediationMode {
    /// Show what would change; call nothing that writes.
    #[default]
    DryRun,
    /// Make the changes once approved.
    Execute,
}

/// Approval requirements and the approvals given so far.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Distinct approvers needed before the plan runs.
    #[serde(default = "default_required_approvals")]
    #[schemars(range(min = 0, max = 10))]
    pub required: u32,

    /// Approvals (and rejections) given, one per user. Each records the user who gave it, as the API
    /// server authenticated them: the admission policy refuses an approval naming anyone
    /// else, a change to another user's approval, and the author's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["user".into()]))]
    pub approvers: Vec<ApprovalRecord>,
}

fn default_required_approvals() -> u32 {
    1
}

impl Default for Approval {
    fn default() -> Self {
        Self { required: default_required_approvals(), approvers: Vec::new() }
    }
}

/// One approval.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    /// Who approved.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// When.
    pub time: Time,
    /// Why, optionally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub comment: Option<String>,
    /// Set when the driftmgr API recorded this approval for `user`, whom it
    /// authenticated: the API's own user name. The admission policy accepts it only
    /// from that user (the chart's ServiceAccount with `api.enabled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub recorded_by: Option<String>,
    /// A rejection instead of an approval: the plan will not run (phase `Rejected`)
    /// whatever other approvals it has. Write a new plan to try again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rejected: bool,
}

/// Where a plan is in its life.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PlanPhase {
    Pending,
    AwaitingApproval,
    Approved,
    /// An approver rejected the plan; it never runs.
    Rejected,
    Executing,
    Succeeded,
    Failed,
    RollingBack,
    RolledBack,
}

impl PlanPhase {
    /// Once execution has begun only the executor moves the phase.
    pub fn is_execution(self) -> bool {
        matches!(
            self,
            Self::Executing | Self::Succeeded | Self::Failed | Self::RollingBack | Self::RolledBack
        )
    }
}

/// Progress and outcome of the plan.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationPlanStatus {
    /// Where the plan is in its life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PlanPhase>,

    /// Number of actions in the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_count: Option<u32>,

    /// The report generation the plan executed against (its changes are copied into
    /// `results`, so the plan keeps its record when the report is superseded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executed_report_generation: Option<i64>,

    /// One entry per action, in order, once execution has begun. `Running` is written
    /// (with a resourceVersion precondition) before the cloud is called, so an action
    /// is never started twice; after a restart, a `Running` action is checked against
    /// the cloud, not repeated blindly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["id".into()]))]
    pub results: Vec<ActionResult>,

    /// The values the plan changed, as they were before, so a rollback can restore them.
    /// Written before each change is made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshot: Vec<SnapshotEntry>,

    /// Drift items of the report that no action fixes, with the Terraform command that
    /// deals with them (generated plans): driftmgr never recreates a Missing resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unhandled: Vec<UnhandledItem>,

    /// The `driftmgr.io/scan-requested` value the plan set on its scan to verify itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_request: Option<String>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (the plan is valid and its references resolve), `Approved`,
    /// `Executed` (every action finished), `Verified` (the re-scan no longer shows the
    /// drift the actions fixed).
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// Where one action is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ActionState {
    /// Not started.
    Pending,
    /// Started: the cloud may have been called. Checked against the cloud after a restart.
    Running,
    Succeeded,
    Failed,
    /// Not run: its precondition no longer held (the live value changed since the
    /// scan), an earlier action failed, or it changes nothing in the cloud.
    Skipped,
    /// Being restored from the snapshot.
    RollingBack,
    /// Restored from the snapshot.
    RolledBack,
}

/// How much can go wrong when an action runs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
pub enum Risk {
    /// Changes a setting in place; nothing is interrupted.
    Safe,
    /// Interrupts something: an instance is stopped and started, or a rule that may be
    /// carrying traffic is removed.
    Disruptive,
    /// Deletes something that cannot be brought back by a rollback.
    Destructive,
}

/// Outcome of one action.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// The action's id.
    pub id: String,
    /// Where the action is.
    pub state: ActionState,
    /// How much can go wrong when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// The changes it makes, as the scan reported them: `expected` is the value it sets
    /// (state's), `actual` the value the scan saw, which must still be live when the
    /// action starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<crate::crd::AttributeChange>,
    /// What happened, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the action started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Time>,
    /// After the verifying re-scan: `Resolved` when the drift this action fixed is gone,
    /// `StillDrifted` when the re-scan still reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
}

/// A value as it was before an action changed it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotEntry {
    /// The action that changed it.
    pub action_id: String,
    /// Dotted attribute path.
    pub path: String,
    /// The previous value, JSON-encoded; absent when the attribute did not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The value the action set, JSON-encoded; absent when it removed the attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
}

/// A drift item a generated plan leaves to Terraform.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnhandledItem {
    /// Kind of drift.
    pub kind: crate::crd::DriftKind,
    /// Terraform resource type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Cloud resource id.
    pub id: String,
    /// Terraform address, when managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// What to run instead.
    pub suggestion: String,
}
