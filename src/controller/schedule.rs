//! When a DriftScan runs (pure): on creation, on spec change, when the
//! `driftmgr.io/scan-requested` annotation takes a new value, and on its schedule.

use std::str::FromStr;
use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;

use crate::crd::{DriftScan, SCAN_REQUESTED_ANNOTATION, ScanPhase, Schedule};
use crate::duration::parse_duration;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);

/// Why a scan runs now, or when it will.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Due {
    Now(&'static str),
    At(Timestamp),
    /// Suspended, and nothing requested.
    Never,
}

/// How failed scans are retried: `base` after the first failure, doubling with each
/// further one, never more than `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
}

/// The wait before retrying a scan that failed `failures` times in a row (pure).
pub fn retry_delay(policy: &RetryPolicy, failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    policy.base.saturating_mul(1u32 << doublings).min(policy.max.max(policy.base))
}

/// `t` rounded up to a whole second. Status times are written to the second
/// (`metav1.Time` drops the fraction), and a reconcile that reads a truncated
/// `nextScanTime` back would run up to a second early; rounded up, the time shown is
/// never before the time the operator waits for.
pub fn whole_second_at_or_after(t: Timestamp) -> Timestamp {
    // `as_second` truncates toward zero, which is already the ceiling before the epoch.
    let second = match t.subsec_nanosecond() {
        0 => return t,
        fraction if fraction > 0 => t.as_second().saturating_add(1),
        _ => t.as_second(),
    };
    Timestamp::from_second(second).unwrap_or(t)
}

/// The time of the scan after one that finished at `last`.
pub fn next_after(schedule: Option<&Schedule>, last: Timestamp) -> Result<Timestamp, String> {
    if let Some(cron) = schedule.and_then(|s| s.cron.as_deref()) {
        let parsed = croner::Cron::from_str(cron).map_err(|e| format!("spec.schedule.cron {cron:?}: {e}"))?;
        let start = chrono::DateTime::from_timestamp(last.as_second(), 0).ok_or("time out of range")?;
        let next = parsed
            .find_next_occurrence(&start, false)
            .map_err(|e| format!("spec.schedule.cron {cron:?}: {e}"))?;
        return Timestamp::from_second(next.timestamp()).map_err(|e| e.to_string());
    }
    let interval = match schedule.and_then(|s| s.interval.as_deref()) {
        Some(text) => parse_duration(text).map_err(|e| format!("spec.schedule.interval: {e}"))?,
        None => DEFAULT_INTERVAL,
    };
    let interval = SignedDuration::try_from(interval).map_err(|e| e.to_string())?;
    last.checked_add(interval).map_err(|e| e.to_string())
}

/// Whether `scan` should run now.
pub fn due(scan: &DriftScan, now: Timestamp) -> Due {
    let status = scan.status.clone().unwrap_or_default();
    let requested = scan.annotations().get(SCAN_REQUESTED_ANNOTATION);
    if requested.is_some() && requested != status.last_scan_request.as_ref() {
        return Due::Now("Requested");
    }
    if scan.spec.suspend {
        return Due::Never;
    }
    let (why, ran) = match status.phase {
        Some(ScanPhase::Completed) => ("Scheduled", true),
        // A failed scan waits for its retry time like a completed one for its schedule:
        // its own status write must not start it again.
        Some(ScanPhase::Failed) => ("Retry", true),
        _ => return Due::Now("NotYetCompleted"),
    };
    if status.observed_generation != scan.metadata.generation {
        return Due::Now("SpecChanged");
    }
    match status.next_scan_time {
        Some(next) if ran && next.0 > now => Due::At(next.0),
        _ => Due::Now(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::DriftScanStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("valid")
    }

    fn completed_scan() -> DriftScan {
        let mut scan: DriftScan =
            crate::crd::from_yaml(include_str!("../../tests/fixtures/objects/driftscan.yaml"))
                .expect("fixture");
        scan.status = Some(DriftScanStatus {
            phase: Some(ScanPhase::Completed),
            observed_generation: Some(4),
            next_scan_time: Some(Time(at(2_000))),
            ..Default::default()
        });
        scan
    }

    #[test]
    fn status_times_round_up_to_the_second() {
        let fraction = at(10).checked_add(SignedDuration::from_millis(1)).expect("valid");
        assert_eq!(whole_second_at_or_after(fraction), at(11));
        assert_eq!(whole_second_at_or_after(at(10)), at(10));
        // Before the epoch the fraction also counts towards the later second.
        let before = at(-1).checked_add(SignedDuration::from_millis(500)).expect("valid");
        assert_eq!(whole_second_at_or_after(before), at(0));
    }

    #[test]
    fn interval_and_cron_schedules() {
        let every_30m = Schedule { interval: Some("30m".into()), cron: None };
        assert_eq!(next_after(Some(&every_30m), at(0)), Ok(at(1800)));
        assert_eq!(next_after(None, at(0)), Ok(at(3600)));
        // 1970-01-01T00:10:00Z -> next "0 */6 * * *" is 06:00.
        let six_hourly = Schedule { interval: None, cron: Some("0 */6 * * *".into()) };
        assert_eq!(next_after(Some(&six_hourly), at(600)), Ok(at(6 * 3600)));
        let bad = Schedule { interval: None, cron: Some("61 * * * *".into()) };
        assert!(next_after(Some(&bad), at(0)).is_err_and(|e| e.starts_with("spec.schedule.cron")));
    }

    #[test]
    fn due_reasons() {
        let scan = completed_scan();
        assert_eq!(due(&scan, at(1_000)), Due::At(at(2_000)));
        assert_eq!(due(&scan, at(2_000)), Due::Now("Scheduled"));
        let mut changed = scan.clone();
        changed.metadata.generation = Some(5);
        assert_eq!(due(&changed, at(1_000)), Due::Now("SpecChanged"));
        let mut requested = scan.clone();
        requested.metadata.annotations =
            Some([(SCAN_REQUESTED_ANNOTATION.to_string(), "now-1".to_string())].into_iter().collect());
        assert_eq!(due(&requested, at(1_000)), Due::Now("Requested"));
        requested.status.as_mut().expect("status").last_scan_request = Some("now-1".into());
        assert_eq!(due(&requested, at(1_000)), Due::At(at(2_000)), "the same request runs once");
        let mut suspended = scan;
        suspended.spec.suspend = true;
        assert_eq!(due(&suspended, at(5_000)), Due::Never);
    }

    #[test]
    fn retries_double_from_the_base_up_to_the_cap() {
        let policy = RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(600) };
        let waits: Vec<u64> = (1..=7).map(|n| retry_delay(&policy, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 600, 600]);
        assert_eq!(retry_delay(&policy, u32::MAX).as_secs(), 600, "no overflow");
    }

    #[test]
    fn a_failed_scan_waits_for_its_retry_time_unless_asked_or_changed() {
        let mut scan = completed_scan();
        let status = scan.status.as_mut().expect("status");
        status.phase = Some(ScanPhase::Failed);
        status.next_scan_time = Some(Time(at(1_060)));
        assert_eq!(due(&scan, at(1_000)), Due::At(at(1_060)), "its own status write does not rerun it");
        assert_eq!(due(&scan, at(1_060)), Due::Now("Retry"));
        scan.metadata.generation = Some(5);
        assert_eq!(due(&scan, at(1_000)), Due::Now("SpecChanged"), "a fixed spec runs at once");
    }
}
