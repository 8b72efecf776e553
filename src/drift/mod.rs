//! The drift engine: state resources and live resources in, a report out.
//! match (by type and id) -> attribute diff by per-type rules -> classify
//! (modified, missing, unmanaged) -> rate severity -> apply ignore rules.

mod children;
mod cloud;
mod diff;
mod glob;
mod ignore;
mod index;
mod observe;
mod report;
mod rules;
mod severity;
mod verdicts;

pub use cloud::{
    CloudRules, Discovery, DiscoveryFailure, Fold, FoldValue, LiveResource, NoProgress, NoRules, ProgressSink,
};
pub use diff::diff;
pub use glob::{glob_match, path_match};
pub use observe::{entry_of, observed, same_value};
pub use report::{Report, ResourceResult, ResourceVerdict, SourceInfo, Verdict};
pub use rules::{
    Canonical, Compare, Normalizer, compare_for, entries, is_tag_map, scalar, string_set, tag_key,
};
pub use severity::{change_severity, opens_to_world, resource_severity};

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use k8s_openapi::jiff::Timestamp;

use crate::crd::{AttributeChange, DriftItem, DriftKind, IgnoreRule, ScanSummary, SeverityOverride};
use crate::state::{StateFile, StateResource};
pub use children::{ChildVerdict, expected_with_folds, verify};
use ignore::IgnoreSet;
use index::{LiveIndex, Lookup, RegionHints};
use verdicts::Verdicts;

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

/// Compares state with the live cloud, by the rules of the cloud `config.provider`
/// names (its types, folds, defaults and severities).
pub fn compare(
    states: &[StateFile],
    discovery: &Discovery,
    config: &EngineConfig,
    cloud: &dyn CloudRules,
    now: Timestamp,
) -> Report {
    let wanted =
        |type_: &str| config.resource_types.is_empty() || config.resource_types.iter().any(|t| t == type_);
    let covered: HashSet<&str> =
        discovery.covered_types.iter().map(String::as_str).filter(|t| wanted(t)).collect();
    // A type (or all, when a region failed) whose listing failed cannot prove absence;
    // the failure's reason is why its resources were not checked.
    let mut failed_types: HashMap<&str, &str> = HashMap::new();
    for failure in &discovery.failures {
        match failure.scope.split_once('/') {
            Some((_, type_)) => {
                failed_types.entry(type_).or_insert(failure.reason.as_str());
            }
            None => covered.iter().for_each(|t| {
                failed_types.entry(t).or_insert(failure.reason.as_str());
            }),
        }
    }
    let why_not = |type_: &str| if wanted(type_) { verdicts::UNSUPPORTED } else { verdicts::EXCLUDED };
    let ignores = IgnoreSet::new(cloud, &config.ignore, config.default_ignores, now);

    let own: Vec<&StateResource> = states
        .iter()
        .flat_map(|s| &s.resources)
        .filter(|r| r.provider.name == config.provider && r.id.is_some())
        .collect();
    let mut verdicts = Verdicts::with_capacity(own.len());
    let hints = RegionHints::new(cloud, &own, &discovery.resources);
    let in_scope = |region: Option<&str>| {
        region.is_none_or(|r| discovery.regions.is_empty() || discovery.regions.iter().any(|d| d == r))
    };

    // Managed resources (first state wins), separately managed children, and what
    // each parent gets folded into its expected attributes.
    let mut managed: Vec<(&StateResource, &str, Option<&str>)> = Vec::with_capacity(own.len());
    let mut children: Vec<(&StateResource, Fold, Option<&str>)> = Vec::new();
    let mut folds: Vec<Fold> = Vec::new();
    let mut seen: HashSet<(&str, Cow<str>)> = HashSet::with_capacity(own.len());
    for &resource in &own {
        let id = lookup_id(cloud, &resource.type_, resource);
        if !seen.insert((resource.type_.as_str(), id)) {
            continue;
        }
        let region = hints.region_of(&resource.attributes);
        if !in_scope(region) {
            verdicts.not_checked(resource, verdicts::REGION_NOT_SCANNED);
            continue;
        }
        let type_ = cloud.live_type(&resource.type_).unwrap_or(resource.type_.as_str());
        let is_child = cloud.child_types().contains(&resource.type_.as_str());
        let (mut parents, mut verified_on_parent) = (Vec::new(), false);
        for fold in cloud.folds(&resource.type_, &resource.attributes) {
            parents.push(fold.parent_type);
            if !covered.contains(fold.parent_type) {
                continue;
            }
            if is_child && fold.verify_via_parent {
                children.push((resource, fold.clone(), region));
                verified_on_parent = true;
            }
            folds.push(fold);
        }
        match (is_child, parents.first()) {
            (false, _) if covered.contains(type_) => managed.push((resource, type_, region)),
            (false, _) => verdicts.not_checked(resource, why_not(type_)),
            (true, _) if verified_on_parent => {}
            (true, Some(parent)) => verdicts.not_checked(resource, why_not(parent)),
            (true, None) => verdicts.not_checked(resource, verdicts::INCOMPLETE),
        }
    }
    let mut folds_by_parent: HashMap<(&str, &str), Vec<&Fold>> = HashMap::new();
    for fold in &folds {
        folds_by_parent.entry((fold.parent_type, fold.parent_id.as_str())).or_default().push(fold);
    }
    let live = LiveIndex::new(&discovery.resources, |t| covered.contains(t));

    let mut summary = ScanSummary::default();
    let mut items = Vec::new();
    let mut unverified = 0u64;
    let mut matched: HashSet<usize> = HashSet::new();
    let verdict = |item: Option<DriftItem>, summary: &mut ScanSummary, items: &mut Vec<DriftItem>| match item
    {
        None => {
            summary.in_sync += 1;
            ResourceVerdict::InSync
        }
        Some(item) => {
            let kind = item.kind;
            match (record(item, &ignores, &config.severity, summary, items), kind) {
                (false, _) => ResourceVerdict::Ignored,
                (true, DriftKind::Missing) => ResourceVerdict::Missing,
                (true, _) => ResourceVerdict::Modified,
            }
        }
    };
    let unchecked_reason = |lookup: &Lookup<'_>, type_: &str| match lookup {
        Lookup::Ambiguous => verdicts::AMBIGUOUS,
        _ => failed_types.get(type_).copied().unwrap_or(verdicts::UNSUPPORTED),
    };
    for (resource, type_, region) in &managed {
        summary.managed += 1;
        let id = lookup_id(cloud, type_, resource);
        let item = match live.find(type_, &id, *region) {
            Lookup::Found(index, found) => {
                matched.insert(index);
                let parent_folds = folds_by_parent.get(&(*type_, id.as_ref())).map_or(&[][..], Vec::as_slice);
                let expected =
                    children::expected_with_folds(&resource.attributes, cloud.parts(type_), parent_folds);
                let mut changes = diff(cloud, type_, &expected, &found.attributes);
                children::drop_child_changes(cloud, type_, &mut changes, parent_folds);
                modified(cloud, resource, type_, found, changes)
            }
            Lookup::Absent if !failed_types.contains_key(type_) => {
                Some(missing(cloud, resource, &resource.type_))
            }
            lookup @ (Lookup::Absent | Lookup::Ambiguous) => {
                unverified += 1;
                verdicts.not_checked(resource, unchecked_reason(&lookup, type_));
                continue;
            }
        };
        verdicts.checked(resource, verdict(item, &mut summary, &mut items));
    }
    for (child, fold, region) in &children {
        summary.managed += 1;
        let item = match live.find(fold.parent_type, &fold.parent_id, *region) {
            Lookup::Found(_, parent) => {
                match children::verify(cloud, fold.parent_type, fold, &parent.attributes) {
                    ChildVerdict::InSync => None,
                    ChildVerdict::Missing => Some(DriftItem {
                        region: parent.region.clone(),
                        ..missing(cloud, child, &child.type_)
                    }),
                    ChildVerdict::Modified(changes) => {
                        modified(cloud, child, fold.parent_type, parent, changes)
                    }
                }
            }
            Lookup::Absent if !failed_types.contains_key(fold.parent_type) => {
                Some(missing(cloud, child, &child.type_))
            }
            lookup @ (Lookup::Absent | Lookup::Ambiguous) => {
                unverified += 1;
                verdicts.not_checked(child, unchecked_reason(&lookup, fold.parent_type));
                continue;
            }
        };
        verdicts.checked(child, verdict(item, &mut summary, &mut items));
    }

    let all_live: HashSet<(&str, &str)> =
        discovery.resources.iter().map(|r| (r.type_.as_str(), r.id.as_str())).collect();
    let (mut countable_live, mut countable_managed) = (0u64, 0u64);
    for (index, resource) in discovery.resources.iter().enumerate() {
        if !covered.contains(resource.type_.as_str()) {
            continue;
        }
        // Part of a resource that exists: managed (or reported) through its owner. Part
        // of a type outside this scan (a rule whose group was not listed): whether its
        // owner is managed is unknown here, so it is not called unmanaged either.
        if resource.part_of.as_ref().is_some_and(|(t, id)| {
            all_live.contains(&(t.as_str(), id.as_str())) || !covered.contains(t.as_str())
        }) {
            continue;
        }
        if resource.is_default && config.default_ignores {
            if !matched.contains(&index) {
                summary.ignored += 1;
            }
            continue;
        }
        countable_live += 1;
        if matched.contains(&index) {
            countable_managed += 1;
            continue;
        }
        // An unmanaged resource that admits the world, as its cloud judges it.
        let open = cloud.opens_to_world(resource);
        let item = DriftItem {
            address: None,
            type_: resource.type_.clone(),
            id: resource.id.clone(),
            region: resource.region.clone(),
            kind: DriftKind::Unmanaged,
            severity: severity::resource_severity(cloud, DriftKind::Unmanaged, &resource.type_, open),
            changes: Vec::new(),
            changes_omitted: None,
        };
        record(item, &ignores, &config.severity, &mut summary, &mut items);
    }
    let nothing_verified = !discovery.failures.is_empty() && !any_unit_discovered(discovery, &covered);
    let live_total = countable_live as f64;
    let live_managed = countable_managed as f64;
    // Coverage of what was seen; nothing seen because nothing could be listed is 0%.
    summary.coverage_percent = match (nothing_verified, live_total == 0.0) {
        (true, _) => 0.0,
        (false, true) => 100.0,
        (false, false) => (live_managed / live_total * 1000.0).round() / 10.0,
    };
    summary.unverified = unverified;
    let resources = verdicts.finish(&mut summary);
    report::sort_items(&mut items);
    let mut discovered_by_type: std::collections::BTreeMap<String, u64> = Default::default();
    for resource in discovery.resources.iter().filter(|r| covered.contains(r.type_.as_str())) {
        *discovered_by_type.entry(resource.type_.clone()).or_default() += 1;
    }
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
        nothing_verified,
        discovered: covered.iter().map(|t| (t.to_string(), 0)).chain(discovered_by_type).collect(),
        resources,
    }
}

/// Whether some (scope, type) listing succeeded. A scope is a region unless the
/// provider lists per something else (`Discovery::scopes`); global types once
/// (`global/type`). Failures are scoped `scope` (all of it), `scope/type`, or `regions`
/// (the region list itself).
fn any_unit_discovered(discovery: &Discovery, covered: &HashSet<&str>) -> bool {
    let failed: HashSet<&str> = discovery.failures.iter().map(|f| f.scope.as_str()).collect();
    let scopes = if discovery.scopes.is_empty() { &discovery.regions } else { &discovery.scopes };
    let global = |t: &str| discovery.global_types.iter().any(|g| g == t);
    let per_scope = scopes.iter().any(|region| {
        !failed.contains(region.as_str())
            && covered
                .iter()
                .filter(|t| !global(t))
                .any(|t| !failed.contains(format!("{region}/{t}").as_str()))
    });
    per_scope
        || covered.iter().filter(|t| global(t)).any(|t| !failed.contains(format!("global/{t}").as_str()))
}

/// A Modified item for `resource` (compared as `compared_type`), or `None` when no
/// attribute differs.
fn modified(
    cloud: &dyn CloudRules,
    resource: &StateResource,
    compared_type: &str,
    live: &LiveResource,
    changes: Vec<AttributeChange>,
) -> Option<DriftItem> {
    // A resource verified on its parent is rated by its own rules where its cloud
    // has them (a certificate validation: its certificate's status), else the parent's.
    let rate = |c: &AttributeChange| {
        let attribute = c.path.split('.').next().unwrap_or_default();
        let own = (resource.type_ != compared_type)
            .then(|| cloud.change_severity(&resource.type_, attribute, c.actual.as_deref()))
            .flatten();
        own.unwrap_or_else(|| severity::change_severity(cloud, compared_type, &c.path, c.actual.as_deref()))
    };
    let severity = changes.iter().map(rate).max()?;
    Some(DriftItem {
        address: Some(resource.address.clone()),
        type_: resource.type_.clone(),
        id: resource.id.clone().unwrap_or_default(),
        region: live.region.clone(),
        kind: DriftKind::Modified,
        severity,
        changes,
        changes_omitted: None,
    })
}

/// The id discovery knows a state resource by: Terraform's, unless its cloud derives
/// another from the resource's attributes.
fn lookup_id<'a>(cloud: &dyn CloudRules, type_: &str, resource: &'a StateResource) -> Cow<'a, str> {
    match cloud.match_id(type_, &resource.attributes).filter(|id| !id.is_empty()) {
        Some(own) => Cow::Owned(own),
        None => Cow::Borrowed(resource.id.as_deref().unwrap_or_default()),
    }
}

fn missing(cloud: &dyn CloudRules, resource: &StateResource, type_: &str) -> DriftItem {
    DriftItem {
        address: Some(resource.address.clone()),
        type_: type_.to_string(),
        id: resource.id.clone().unwrap_or_default(),
        region: None,
        kind: DriftKind::Missing,
        severity: severity::resource_severity(cloud, DriftKind::Missing, type_, false),
        changes: Vec::new(),
        changes_omitted: None,
    }
}

/// Records a drift item unless an ignore rule hides it; returns whether it is shown.
fn record(
    item: DriftItem,
    ignores: &IgnoreSet<'_>,
    overrides: &[SeverityOverride],
    summary: &mut ScanSummary,
    items: &mut Vec<DriftItem>,
) -> bool {
    let kind = item.kind;
    match ignores.apply(item) {
        None => {
            summary.ignored += 1;
            if kind == DriftKind::Modified {
                summary.in_sync += 1;
            }
            false
        }
        Some(mut item) => {
            severity::apply_overrides(&mut item, overrides);
            match kind {
                DriftKind::Modified => summary.modified += 1,
                DriftKind::Missing => summary.missing += 1,
                DriftKind::Unmanaged => summary.unmanaged += 1,
            }
            items.push(item);
            true
        }
    }
}
