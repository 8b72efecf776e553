//! The scan report: what the status summarises and the report ConfigMap holds.

use serde::{Deserialize, Serialize};

use super::DiscoveryFailure;
use crate::crd::DriftItem;
use crate::state::StateFile;

/// One state file that went into a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub origin: String,
    pub terraform_version: String,
    pub serial: u64,
    pub lineage: String,
    pub resources: usize,
}

impl From<&StateFile> for SourceInfo {
    fn from(state: &StateFile) -> Self {
        Self {
            origin: state.origin.clone(),
            terraform_version: state.terraform_version.clone(),
            serial: state.serial,
            lineage: state.lineage.clone(),
            resources: state.resources.len(),
        }
    }
}

/// What a scan concluded about one state resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceVerdict {
    InSync,
    Modified,
    Missing,
    /// Drifted, but an ignore rule hides it.
    Ignored,
    /// Not compared; `reason` says why.
    NotChecked,
}

/// One state resource and what the scan concluded about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    pub address: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
    pub verdict: ResourceVerdict,
    /// Why a resource was not checked (`UnsupportedType`, `AccessDenied`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The complete result of one scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub generated_at: String,
    pub provider: String,
    pub regions: Vec<String>,
    pub sources: Vec<SourceInfo>,
    pub summary: crate::crd::ScanSummary,
    /// Every drift item, most severe first.
    pub items: Vec<DriftItem>,
    /// Parts of discovery that failed; their types are not reported missing.
    pub failures: Vec<DiscoveryFailure>,
    /// Managed resources whose absence could not be confirmed because discovery of
    /// their type failed.
    pub unverified: u64,
    pub expired_ignore_rules: Vec<String>,
    /// True when discovery failed everywhere it was tried (credentials refused, the
    /// endpoint unreachable): the report proves nothing.
    #[serde(default)]
    pub nothing_verified: bool,
    /// Live resources discovered, by type (the types in scope).
    #[serde(default)]
    pub discovered: std::collections::BTreeMap<String, u64>,
    /// Every state resource of the scanned cloud with its verdict, in sync ones too.
    #[serde(default)]
    pub resources: Vec<ResourceResult>,
}

/// What a scan can honestly say, most serious first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Discovery failed everywhere: nothing was checked.
    NothingVerified,
    /// Some regions or types could not be discovered, or some managed resources could
    /// not be told apart: the items listed are real, but the list may be incomplete.
    Partial,
    /// Every in-scope resource was checked and some drifted.
    Drift,
    /// Every in-scope resource was checked and none drifted.
    NoDrift,
}

impl Report {
    pub fn has_drift(&self) -> bool {
        !self.items.is_empty()
    }

    /// Whether some part of discovery failed or some resource went unchecked.
    pub fn is_partial(&self) -> bool {
        !self.failures.is_empty() || self.unverified > 0
    }

    pub fn verdict(&self) -> Verdict {
        if self.nothing_verified {
            Verdict::NothingVerified
        } else if self.is_partial() {
            Verdict::Partial
        } else if self.has_drift() {
            Verdict::Drift
        } else {
            Verdict::NoDrift
        }
    }

    /// One line naming every part of discovery that failed.
    pub fn failure_summary(&self) -> String {
        self.failures.iter().map(|f| format!("{}: {}", f.scope, f.reason)).collect::<Vec<_>>().join("; ")
    }
}

/// Most severe first, then by kind, type and id, so reports are stable.
pub fn sort_items(items: &mut [DriftItem]) {
    items.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| (a.kind as u8).cmp(&(b.kind as u8)))
            .then_with(|| a.type_.cmp(&b.type_))
            .then_with(|| a.id.cmp(&b.id))
    });
}
