//! Ignore rules: the user's, and the defaults (provider-managed tags, default resources).

use k8s_openapi::jiff::Timestamp;

use super::CloudRules;
use super::glob::{glob_match, path_match};
use crate::crd::{DriftItem, DriftKind, IgnoreRule};

/// The ignore rules in force for one scan.
pub struct IgnoreSet<'a> {
    active: Vec<&'a IgnoreRule>,
    /// Reasons of the rules that have expired.
    pub expired: Vec<String>,
    pub default_ignores: bool,
    /// The rules of the cloud whose items these are (tag maps, tags it manages).
    rules: &'a dyn CloudRules,
}

impl<'a> IgnoreSet<'a> {
    pub fn new(
        cloud: &'a dyn CloudRules,
        rules: &'a [IgnoreRule],
        default_ignores: bool,
        now: Timestamp,
    ) -> Self {
        let (active, expired): (Vec<&IgnoreRule>, Vec<&IgnoreRule>) =
            rules.iter().partition(|r| r.expires.as_ref().is_none_or(|t| t.0 > now));
        Self {
            active,
            expired: expired.into_iter().map(|r| r.reason.clone()).collect(),
            default_ignores,
            rules: cloud,
        }
    }

    /// Whether a change path of a `type_` is hidden by the defaults (a tag its cloud
    /// manages itself).
    pub fn default_hides_path(&self, type_: &str, path: &str) -> bool {
        let managed = self.rules.managed_tag_prefixes();
        self.default_ignores
            && super::rules::tag_key(self.rules, type_, path)
                .is_some_and(|key| managed.iter().any(|p| key.starts_with(p)))
    }

    /// Applies the rules to an item. Returns `None` when the whole item is hidden;
    /// otherwise the item with hidden attribute changes removed (a Modified item
    /// whose every change is hidden is hidden too).
    pub fn apply(&self, mut item: DriftItem) -> Option<DriftItem> {
        for rule in &self.active {
            if !matches_resource(rule, &item) {
                continue;
            }
            let by_attribute = rule.attributes.as_ref();
            let by_tag = rule.tag_key_prefixes.as_ref();
            if by_attribute.is_none() && by_tag.is_none() {
                return None;
            }
            let type_ = item.type_.as_str();
            item.changes.retain(|change| {
                let attribute_hit =
                    by_attribute.is_some_and(|paths| paths.iter().any(|p| path_match(p, &change.path)));
                let tag_hit = by_tag.is_some_and(|prefixes| {
                    super::rules::tag_key(self.rules, type_, &change.path)
                        .is_some_and(|k| prefixes.iter().any(|p| k.starts_with(p.as_str())))
                });
                !(attribute_hit || tag_hit)
            });
        }
        let type_ = item.type_.clone();
        item.changes.retain(|change| !self.default_hides_path(&type_, &change.path));
        if item.kind == DriftKind::Modified && item.changes.is_empty() {
            return None;
        }
        Some(item)
    }
}

fn matches_resource(rule: &IgnoreRule, item: &DriftItem) -> bool {
    let address_ok =
        rule.address.as_ref().is_none_or(|p| item.address.as_ref().is_some_and(|a| glob_match(p, a)));
    let id_ok = rule.id.as_ref().is_none_or(|p| glob_match(p, &item.id));
    let type_ok = rule.type_.as_ref().is_none_or(|p| glob_match(p, &item.type_));
    address_ok && id_ok && type_ok
}
