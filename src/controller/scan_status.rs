//! DriftScan status builders (pure).

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::{Resource, ResourceExt};

use super::schedule::{RetryPolicy, retry_delay, whole_second_at_or_after};
use crate::crd::{
    AttributeChange, ConditionStatus, ConditionUpdate, DriftItem, DriftScan, DriftScanStatus, ReportRef,
    SCAN_REQUESTED_ANNOTATION, ScanHistoryEntry, ScanPhase, merge_conditions,
};
use crate::drift::Report;

/// The scan request this run answered: the annotation's value, else the last one.
fn handled_request(scan: &DriftScan, previous: &DriftScanStatus) -> Option<String> {
    scan.annotations().get(SCAN_REQUESTED_ANNOTATION).cloned().or_else(|| previous.last_scan_request.clone())
}

/// Status after a scan that produced `report`.
pub fn completed(
    scan: &DriftScan,
    report: &Report,
    report_ref: ReportRef,
    took: Duration,
    finished: Timestamp,
    next: Option<Timestamp>,
) -> DriftScanStatus {
    let s = &report.summary;
    let drifted = report.has_drift();
    let drift_message = format!("{} modified, {} missing, {} unmanaged", s.modified, s.missing, s.unmanaged);
    // "No drift" only when every in-scope resource was checked.
    let (drift_status, drift_reason, drift_message) = match (drifted, report.is_partial()) {
        (true, _) => (ConditionStatus::True, "DriftDetected", drift_message),
        (false, false) => (ConditionStatus::False, "NoDrift", drift_message),
        (false, true) => (
            ConditionStatus::Unknown,
            "PartiallyVerified",
            format!(
                "no drift among the resources checked; {} managed resources could not be verified",
                s.unverified
            ),
        ),
    };
    let degraded_message = report.failure_summary();
    let conditions = [
        ConditionUpdate::new(
            "Ready",
            ConditionStatus::True,
            "ScanCompleted",
            format!(
                "compared {} managed resources from {} state file(s) with {} region(s)",
                s.managed,
                report.sources.len(),
                report.regions.len()
            ),
        ),
        ConditionUpdate::new("Drifted", drift_status, drift_reason, drift_message),
        ConditionUpdate::new(
            "Degraded",
            ConditionStatus::from_bool(report.is_partial()),
            if report.is_partial() { "PartialResults" } else { "Complete" },
            if report.is_partial() {
                let failed = if degraded_message.is_empty() {
                    "ids repeated across regions".into()
                } else {
                    degraded_message
                };
                format!("{failed} ({} managed resources could not be verified)", report.unverified)
            } else {
                "every region and type was discovered".to_string()
            },
        ),
    ];
    let previous = scan.status.clone().unwrap_or_default();
    let generation = scan.meta().generation;
    let limit = scan.spec.max_status_items as usize;
    let mut history = previous.history.clone();
    history.push(ScanHistoryEntry {
        time: Time(finished),
        modified: s.modified,
        missing: s.missing,
        unmanaged: s.unmanaged,
    });
    let keep = history.len().saturating_sub(HISTORY);
    history.drain(..keep);
    DriftScanStatus {
        phase: Some(ScanPhase::Completed),
        last_scan_time: Some(Time(finished)),
        next_scan_time: next.map(|t| Time(whole_second_at_or_after(t))),
        consecutive_failures: None,
        duration: Some(format!("{:.1}s", took.as_secs_f64())),
        summary: Some(report.summary.clone()),
        items: status_items(&report.items, limit),
        report_ref: Some(report_ref),
        expired_ignore_rules: report.expired_ignore_rules.clone(),
        last_scan_request: handled_request(scan, &previous),
        generated_plan: previous.generated_plan.clone(),
        history,
        observed_generation: generation,
        conditions: merge_conditions(&previous.conditions, &conditions, generation, finished),
    }
}

/// Completed scans whose counts the status keeps.
const HISTORY: usize = 20;

/// Bytes of drift items a status holds at most: with the rest of the status far
/// under the API server's 1.5 MiB object limit, however large the items are.
const STATUS_ITEMS_BYTES: usize = 256 * 1024;
/// Changes listed per item in the status.
const STATUS_CHANGES_PER_ITEM: usize = 10;
/// Characters of one expected or actual value in the status.
const STATUS_VALUE_CHARS: usize = 512;

/// The most severe items, at most `limit`, each cut to what a status should hold,
/// while they fit in `STATUS_ITEMS_BYTES` (pure). The report holds everything.
pub fn status_items(items: &[DriftItem], limit: usize) -> Vec<DriftItem> {
    let cut = |value: &Option<String>| {
        value.as_ref().map(|v| match v.char_indices().nth(STATUS_VALUE_CHARS) {
            Some((end, _)) => format!("{}…", &v[..end]),
            None => v.clone(),
        })
    };
    let mut bytes = 0;
    let mut out = Vec::new();
    for item in items.iter().take(limit) {
        let omitted = item.changes.len().saturating_sub(STATUS_CHANGES_PER_ITEM);
        let listed = DriftItem {
            changes: item
                .changes
                .iter()
                .take(STATUS_CHANGES_PER_ITEM)
                .map(|c| AttributeChange {
                    path: c.path.clone(),
                    expected: cut(&c.expected),
                    actual: cut(&c.actual),
                })
                .collect(),
            changes_omitted: (omitted > 0).then(|| u32::try_from(omitted).unwrap_or(u32::MAX)),
            ..item.clone()
        };
        bytes += serde_json::to_vec(&listed).map_or(0, |b| b.len());
        if bytes > STATUS_ITEMS_BYTES {
            break;
        }
        out.push(listed);
    }
    out
}

/// Status after a scan that could not run. The last good results stay; the retry
/// is due after `retry` (see `schedule::retry_delay`), none while suspended.
pub fn failed(
    scan: &DriftScan,
    reason: &str,
    message: String,
    now: Timestamp,
    retry: &RetryPolicy,
) -> DriftScanStatus {
    let previous = scan.status.clone().unwrap_or_default();
    let generation = scan.meta().generation;
    let failures = previous.consecutive_failures.unwrap_or(0).saturating_add(1);
    let delay = SignedDuration::try_from(retry_delay(retry, failures)).unwrap_or(SignedDuration::MAX);
    let next =
        (!scan.spec.suspend).then(|| now.checked_add(delay).ok()).flatten().map(whole_second_at_or_after);
    DriftScanStatus {
        phase: Some(ScanPhase::Failed),
        next_scan_time: next.map(Time),
        consecutive_failures: Some(failures),
        last_scan_request: handled_request(scan, &previous),
        observed_generation: generation,
        conditions: merge_conditions(
            &previous.conditions,
            &[ConditionUpdate::new("Ready", ConditionStatus::False, reason, message)],
            generation,
            now,
        ),
        ..previous
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{DriftItem, DriftKind, ScanSummary, Severity, find_condition};
    use crate::provider::DiscoveryFailure;

    fn scan() -> DriftScan {
        crate::crd::from_yaml(include_str!("../../tests/fixtures/objects/driftscan.yaml")).expect("fixture")
    }

    fn report(items: usize, partial: bool) -> Report {
        let item = DriftItem {
            address: None,
            type_: "aws_instance".into(),
            id: "i-1".into(),
            region: None,
            kind: DriftKind::Unmanaged,
            severity: Severity::Medium,
            changes: vec![],
            changes_omitted: None,
        };
        Report {
            generated_at: "t".into(),
            provider: "aws".into(),
            regions: vec!["us-east-1".into()],
            sources: vec![],
            summary: ScanSummary { managed: 3, unmanaged: items as u64, ..Default::default() },
            items: vec![item; items],
            failures: if partial {
                vec![DiscoveryFailure {
                    scope: "eu-west-1/aws_instance".into(),
                    reason: "Throttled".into(),
                    message: "m".into(),
                }]
            } else {
                vec![]
            },
            unverified: 0,
            expired_ignore_rules: vec![],
            nothing_verified: false,
            discovered: Default::default(),
            resources: Vec::new(),
        }
    }

    #[test]
    fn the_history_keeps_the_last_twenty_scans_oldest_first() {
        let mut scan = scan();
        for n in 0..25u64 {
            let at = Timestamp::from_second(1_000 + n as i64).expect("time");
            let report = report(n as usize % 3, false);
            let status = completed(
                &scan,
                &report,
                ReportRef { config_maps: vec![], generation: n as i64 },
                Duration::ZERO,
                at,
                None,
            );
            scan.status = Some(status);
        }
        let history = scan.status.expect("status").history;
        assert_eq!(history.len(), HISTORY);
        assert_eq!(history[0].time.0.as_second(), 1_005, "the oldest five are gone");
        assert_eq!(history[HISTORY - 1].time.0.as_second(), 1_024);
        assert_eq!(history.iter().map(|h| h.unmanaged).take(3).collect::<Vec<_>>(), [2, 0, 1]);
    }

    #[test]
    fn completed_scan_sets_all_three_conditions() {
        let mut scan = scan();
        scan.spec.max_status_items = 2;
        let status = completed(
            &scan,
            &report(5, true),
            ReportRef { config_maps: vec!["x".into()], generation: 1 },
            Duration::from_millis(1500),
            Timestamp::UNIX_EPOCH,
            None,
        );
        assert_eq!(status.items.len(), 2, "the status lists at most maxStatusItems");
        assert_eq!(status.duration.as_deref(), Some("1.5s"));
        let get = |t| {
            find_condition(&status.conditions, t)
                .map(|c| (c.status.clone(), c.reason.clone()))
                .expect("condition")
        };
        assert_eq!(get("Drifted"), ("True".into(), "DriftDetected".into()));
        assert_eq!(get("Degraded"), ("True".into(), "PartialResults".into()));
        assert_eq!(get("Ready"), ("True".into(), "ScanCompleted".into()));
        let clean = completed(
            &scan,
            &report(0, false),
            ReportRef { config_maps: vec![], generation: 2 },
            Duration::ZERO,
            Timestamp::UNIX_EPOCH,
            None,
        );
        assert_eq!(find_condition(&clean.conditions, "Drifted").map(|c| c.reason.as_str()), Some("NoDrift"));
        let partial_clean = completed(
            &scan,
            &report(0, true),
            ReportRef { config_maps: vec![], generation: 3 },
            Duration::ZERO,
            Timestamp::UNIX_EPOCH,
            None,
        );
        let drifted = find_condition(&partial_clean.conditions, "Drifted").expect("Drifted");
        assert_eq!((drifted.status.as_str(), drifted.reason.as_str()), ("Unknown", "PartiallyVerified"));
    }

    #[test]
    fn status_items_stay_small_however_large_the_drift() {
        let change = |i: usize| AttributeChange {
            path: format!("ingress[{i}]"),
            expected: Some("x".repeat(2_000)),
            actual: Some("é".repeat(2_000)),
        };
        let item = DriftItem {
            address: None,
            type_: "aws_security_group".into(),
            id: "sg-1".into(),
            region: None,
            kind: DriftKind::Modified,
            severity: Severity::High,
            changes: (0..100).map(change).collect(),
            changes_omitted: None,
        };
        let items = status_items(&vec![item; 100], 500);
        assert_eq!(items[0].changes.len(), 10);
        assert_eq!(items[0].changes_omitted, Some(90));
        assert_eq!(
            items[0].changes[0].actual.as_ref().map(|v| v.chars().count()),
            Some(513),
            "cut, with a mark"
        );
        let bytes = serde_json::to_vec(&items).expect("json").len();
        assert!(bytes <= 256 * 1024 && !items.is_empty(), "{bytes} bytes in {} items", items.len());
        assert!(items.len() < 100, "the byte budget, not the count, ended the list");
    }

    #[test]
    fn failure_keeps_the_last_results() {
        let mut scan = scan();
        let done = completed(
            &scan,
            &report(1, false),
            ReportRef { config_maps: vec!["r".into()], generation: 1 },
            Duration::ZERO,
            Timestamp::UNIX_EPOCH,
            None,
        );
        scan.status = Some(done);
        let retry = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(600) };
        let status = failed(&scan, "StateInvalid", "bad".into(), Timestamp::UNIX_EPOCH, &retry);
        assert_eq!(status.phase, Some(ScanPhase::Failed));
        assert_eq!(status.consecutive_failures, Some(1));
        assert_eq!(
            status.next_scan_time.as_ref().map(|t| t.0.as_second()),
            Some(30),
            "retried after the base wait"
        );
        scan.status = Some(status.clone());
        let again = failed(&scan, "StateInvalid", "bad".into(), Timestamp::UNIX_EPOCH, &retry);
        assert_eq!(again.consecutive_failures, Some(2));
        assert_eq!(again.next_scan_time.as_ref().map(|t| t.0.as_second()), Some(60), "then twice as long");
        assert_eq!(status.items.len(), 1);
        assert_eq!(status.report_ref.map(|r| r.generation), Some(1));
        assert_eq!(
            find_condition(&status.conditions, "Ready").map(|c| c.reason.as_str()),
            Some("StateInvalid")
        );
    }
}
