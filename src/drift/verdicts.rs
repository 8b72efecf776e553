//! One verdict per state resource: in sync, modified, missing, ignored, or not checked
//! with its reason; and from them the summary's not-checked counts and checked share.

use std::collections::BTreeMap;

use super::report::{ResourceResult, ResourceVerdict};
use crate::crd::{NotChecked, ScanSummary};
use crate::state::StateResource;

/// The state resource was of a type driftmgr does not list.
pub const UNSUPPORTED: &str = "UnsupportedType";
/// The scan's `resourceTypes` left the type out.
pub const EXCLUDED: &str = "ExcludedByFilter";
/// The resource lives in a region the scan did not look at.
pub const REGION_NOT_SCANNED: &str = "RegionNotScanned";
/// Its id names live resources in several regions and state does not say which.
pub const AMBIGUOUS: &str = "Ambiguous";
/// Terraform recorded too little of it to place it (a rule without its group).
pub const INCOMPLETE: &str = "IncompleteState";

/// Verdicts collected while comparing.
#[derive(Default)]
pub struct Verdicts {
    results: Vec<ResourceResult>,
}

impl Verdicts {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { results: Vec::with_capacity(capacity) }
    }

    /// A resource compared: in sync, modified, missing or ignored.
    pub fn checked(&mut self, resource: &StateResource, verdict: ResourceVerdict) {
        self.push(resource, verdict, None);
    }

    /// A resource that was not compared, and why.
    pub fn not_checked(&mut self, resource: &StateResource, reason: &str) {
        self.push(resource, ResourceVerdict::NotChecked, Some(reason.to_string()));
    }

    fn push(&mut self, resource: &StateResource, verdict: ResourceVerdict, reason: Option<String>) {
        self.results.push(ResourceResult {
            address: resource.address.clone(),
            type_: resource.type_.clone(),
            id: resource.id.clone().unwrap_or_default(),
            verdict,
            reason,
        });
    }

    /// Fills the summary's not-checked counts (by type and reason, most first) and
    /// checked share; returns every verdict, by address.
    pub fn finish(mut self, summary: &mut ScanSummary) -> Vec<ResourceResult> {
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for result in &self.results {
            if let Some(reason) = &result.reason {
                *counts.entry((result.type_.as_str(), reason.as_str())).or_default() += 1;
            }
        }
        let unchecked: u64 = counts.values().sum();
        let total = self.results.len() as f64;
        summary.checked_percent = if self.results.is_empty() {
            100.0
        } else {
            ((total - unchecked as f64) / total * 1000.0).round() / 10.0
        };
        let mut not_checked: Vec<NotChecked> = counts
            .into_iter()
            .map(|((type_, reason), count)| NotChecked { type_: type_.into(), reason: reason.into(), count })
            .collect();
        not_checked.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.type_.cmp(&b.type_)));
        summary.not_checked = not_checked;
        self.results.sort_by(|a, b| a.address.cmp(&b.address));
        self.results
    }
}
