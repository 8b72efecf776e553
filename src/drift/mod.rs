//! The drift engine: state resources and live resources in, a report out.
//! match (by type and id) -> attribute diff by per-type rules -> classify
//! (modified, missing, unmanaged) -> rate severity -> apply ignore rules.

mod diff;
mod glob;
mod ignore;
mod report;
mod rules;
mod severity;
#[cfg(test)]
mod tests;

pub use diff::diff;
pub use glob::{glob_match, path_match};
pub use report::{Report, SourceInfo};

use std::collections::{BTreeSet, HashMap, HashSet};

use k8s_openapi::jiff::Timestamp;

use crate::crd::{DriftItem, DriftKind, IgnoreRule, ScanSummary, SeverityOverride};
use crate::provider::{Discovery, LiveResource, ProgressSink, Provider};
use crate::state::{StateFile, StateResource};
use ignore::IgnoreSet;

/// What the user asked of the comparison.
#[derive(Clone, Debug, Default)]
pub struct EngineConfig {
    /// Terraform provider name whose resources are compared (`aws`).
    pub provider: String,
    /// Types to compare; empty means every type discovery covered.
    pub resource_types: Vec<String>,
    pub ignore: Vec<IgnoreRule>,
    pub default_ignores: bool,
    pub severity: Vec<SeverityOverride>,
}

/// The one data path, shared by the operator and the CLI: discover the live
/// resources of the types state could hold, then compare.
pub async fn scan(
    provider: &dyn Provider,
    states: &[StateFile],
    config: &EngineConfig,
    progress: &dyn ProgressSink,
    now: Timestamp,
) -> Report {
    let discovery = provider.discover(&config.resource_types, progress).await;
    compare(states, &discovery, config, now)
}

/// Compares state with the live cloud.
pub fn compare(states: &[StateFile], discovery: &Discovery, config: &EngineConfig, now: Timestamp) -> Report {
    let wanted =
        |type_: &str| config.resource_types.is_empty() || config.resource_types.iter().any(|t| t == type_);
    let covered: HashSet<&str> =
        discovery.covered_types.iter().map(String::as_str).filter(|t| wanted(t)).collect();
    // A type (or all, when a region failed) whose listing failed cannot prove absence.
    let failed_types: HashSet<&str> = discovery
        .failures
        .iter()
        .flat_map(|f| match f.scope.split_once('/') {
            Some((_, type_)) => vec![type_],
            None => covered.iter().copied().collect(),
        })
        .collect();
    let ignores = IgnoreSet::new(&config.ignore, config.default_ignores, now);

    // Managed resources of this provider and a covered type, first state wins.
    let mut managed: Vec<&StateResource> = Vec::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for resource in states.iter().flat_map(|s| &s.resources) {
        let Some(id) = resource.id.as_deref() else { continue };
        let out_of_scope = state_region(&resource.attributes)
            .is_some_and(|region| !discovery.regions.is_empty() && !discovery.regions.contains(&region));
        if resource.provider.name == config.provider
            && covered.contains(resource.type_.as_str())
            && !out_of_scope
            && seen.insert((resource.type_.as_str(), id))
        {
            managed.push(resource);
        }
    }
    let live: HashMap<(&str, &str), &LiveResource> = discovery
        .resources
        .iter()
        .filter(|r| covered.contains(r.type_.as_str()))
        .map(|r| ((r.type_.as_str(), r.id.as_str()), r))
        .collect();

    let mut summary = ScanSummary::default();
    let mut items = Vec::new();
    let mut unverified = 0u64;
    let mut matched: BTreeSet<(&str, &str)> = BTreeSet::new();
    for resource in &managed {
        summary.managed += 1;
        let id = resource.id.as_deref().unwrap_or_default();
        let item = match live.get(&(resource.type_.as_str(), id)) {
            Some(found) => {
                matched.insert((resource.type_.as_str(), id));
                let changes = diff(&resource.type_, &resource.attributes, &found.attributes);
                if changes.is_empty() {
                    summary.in_sync += 1;
                    continue;
                }
                let severity = changes
                    .iter()
                    .map(|c| severity::change_severity(&resource.type_, &c.path, c.actual.as_deref()))
                    .max()
                    .unwrap_or(crate::crd::Severity::Low);
                DriftItem {
                    address: Some(resource.address.clone()),
                    type_: resource.type_.clone(),
                    id: id.to_string(),
                    region: found.region.clone(),
                    kind: DriftKind::Modified,
                    severity,
                    changes,
                }
            }
            None if failed_types.contains(resource.type_.as_str()) => {
                unverified += 1;
                continue;
            }
            None => DriftItem {
                address: Some(resource.address.clone()),
                type_: resource.type_.clone(),
                id: id.to_string(),
                region: None,
                kind: DriftKind::Missing,
                severity: severity::resource_severity(DriftKind::Missing, &resource.type_, false),
                changes: Vec::new(),
            },
        };
        record(item, &ignores, &config.severity, &mut summary, &mut items);
    }
    let all_live: HashSet<(&str, &str)> =
        discovery.resources.iter().map(|r| (r.type_.as_str(), r.id.as_str())).collect();
    let (mut countable_live, mut countable_managed) = (0u64, 0u64);
    for resource in &discovery.resources {
        if !covered.contains(resource.type_.as_str()) {
            continue;
        }
        // Part of a resource that exists: managed (or reported) through its owner.
        if resource.part_of.as_ref().is_some_and(|(t, id)| all_live.contains(&(t.as_str(), id.as_str()))) {
            continue;
        }
        if resource.is_default && config.default_ignores {
            if !matched.contains(&(resource.type_.as_str(), resource.id.as_str())) {
                summary.ignored += 1;
            }
            continue;
        }
        countable_live += 1;
        if matched.contains(&(resource.type_.as_str(), resource.id.as_str())) {
            countable_managed += 1;
            continue;
        }
        let open = rules::security_group_rules(resource.attributes.get("ingress"))
            .iter()
            .any(|rule| severity::opens_to_world(rule));
        let item = DriftItem {
            address: None,
            type_: resource.type_.clone(),
            id: resource.id.clone(),
            region: resource.region.clone(),
            kind: DriftKind::Unmanaged,
            severity: severity::resource_severity(DriftKind::Unmanaged, &resource.type_, open),
            changes: Vec::new(),
        };
        record(item, &ignores, &config.severity, &mut summary, &mut items);
    }
    let live_total = countable_live as f64;
    let live_managed = countable_managed as f64;
    summary.coverage_percent =
        if live_total == 0.0 { 100.0 } else { (live_managed / live_total * 1000.0).round() / 10.0 };
    report::sort_items(&mut items);
    Report {
        generated_at: now.to_string(),
        provider: config.provider.clone(),
        regions: discovery.regions.clone(),
        sources: states.iter().map(SourceInfo::from).collect(),
        summary,
        items,
        failures: discovery.failures.clone(),
        unverified,
        expired_ignore_rules: ignores.expired.clone(),
    }
}

/// The region a state resource lives in, from its ARN or availability zone. Resources
/// in regions the scan did not discover are outside its scope, not missing.
fn state_region(attributes: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let from_arn = attributes
        .get("arn")
        .and_then(serde_json::Value::as_str)
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|region| !region.is_empty())
        .map(str::to_string);
    from_arn.or_else(|| {
        let zone = attributes.get("availability_zone").and_then(serde_json::Value::as_str)?;
        let region = zone.strip_suffix(|c: char| c.is_ascii_lowercase())?;
        (!region.is_empty()).then(|| region.to_string())
    })
}

fn record(
    item: DriftItem,
    ignores: &IgnoreSet<'_>,
    overrides: &[SeverityOverride],
    summary: &mut ScanSummary,
    items: &mut Vec<DriftItem>,
) {
    let kind = item.kind;
    match ignores.apply(item) {
        None => {
            summary.ignored += 1;
            if kind == DriftKind::Modified {
                summary.in_sync += 1;
            }
        }
        Some(mut item) => {
            severity::apply_overrides(&mut item, overrides);
            match kind {
                DriftKind::Modified => summary.modified += 1,
                DriftKind::Missing => summary.missing += 1,
                DriftKind::Unmanaged => summary.unmanaged += 1,
            }
            items.push(item);
        }
    }
}
