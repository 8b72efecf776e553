//! Standard Kubernetes conditions, merged so that `lastTransitionTime` only moves
//! when a condition's status really changes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// The three condition statuses Kubernetes API conventions allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }

    pub fn from_bool(value: bool) -> Self {
        if value { Self::True } else { Self::False }
    }
}

/// A condition a reconcile wants to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionUpdate {
    pub type_: &'static str,
    pub status: ConditionStatus,
    /// CamelCase machine-readable reason.
    pub reason: String,
    pub message: String,
}

impl ConditionUpdate {
    pub fn new(
        type_: &'static str,
        status: ConditionStatus,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self { type_, status, reason: reason.into(), message: message.into() }
    }
}

/// Merges `updates` into `existing` and returns the new list, sorted by type.
///
/// A condition whose status is unchanged keeps its `lastTransitionTime`, so a
/// reconcile that finds nothing new does not make the object look freshly changed
/// (and does not produce a status write that differs only in a timestamp).
/// Conditions of types not in `updates` are kept as they are.
pub fn merge_conditions(
    existing: &[Condition],
    updates: &[ConditionUpdate],
    observed_generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut merged: Vec<Condition> =
        existing.iter().filter(|c| !updates.iter().any(|u| u.type_ == c.type_)).cloned().collect();
    for update in updates {
        let previous = existing.iter().find(|c| c.type_ == update.type_);
        let last_transition_time = match previous {
            Some(prev) if prev.status == update.status.as_str() => prev.last_transition_time.clone(),
            _ => Time(now),
        };
        merged.push(Condition {
            type_: update.type_.to_string(),
            status: update.status.as_str().to_string(),
            reason: update.reason.clone(),
            message: update.message.clone(),
            last_transition_time,
            observed_generation,
        });
    }
    merged.sort_by(|a, b| a.type_.cmp(&b.type_));
    merged
}

/// The condition of `type_`, if present.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` is present with status True.
pub fn is_condition_true(conditions: &[Condition], type_: &str) -> bool {
    find_condition(conditions, type_).is_some_and(|c| c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("valid timestamp")
    }

    #[test]
    fn unchanged_status_keeps_transition_time() {
        let first = merge_conditions(
            &[],
            &[ConditionUpdate::new("Ready", ConditionStatus::True, "Valid", "ok")],
            Some(1),
            at(100),
        );
        let second = merge_conditions(
            &first,
            &[ConditionUpdate::new("Ready", ConditionStatus::True, "Valid", "still ok")],
            Some(2),
            at(200),
        );
        assert_eq!(second[0].last_transition_time, Time(at(100)));
        assert_eq!(second[0].message, "still ok");
        assert_eq!(second[0].observed_generation, Some(2));
    }

    #[test]
    fn changed_status_moves_transition_time() {
        let first = merge_conditions(
            &[],
            &[ConditionUpdate::new("Ready", ConditionStatus::True, "Valid", "ok")],
            Some(1),
            at(100),
        );
        let second = merge_conditions(
            &first,
            &[ConditionUpdate::new("Ready", ConditionStatus::False, "SecretNotFound", "gone")],
            Some(1),
            at(200),
        );
        assert_eq!(second[0].last_transition_time, Time(at(200)));
        assert_eq!(second[0].status, "False");
    }

    #[test]
    fn other_types_are_kept_and_sorted() {
        let first = merge_conditions(
            &[],
            &[ConditionUpdate::new("Ready", ConditionStatus::True, "Valid", "ok")],
            Some(1),
            at(100),
        );
        let second = merge_conditions(
            &first,
            &[ConditionUpdate::new("Degraded", ConditionStatus::False, "AllRegions", "")],
            Some(1),
            at(200),
        );
        let types: Vec<_> = second.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Degraded", "Ready"]);
        assert_eq!(
            find_condition(&second, "Ready").map(|c| c.last_transition_time.clone()),
            Some(Time(at(100)))
        );
    }
}
