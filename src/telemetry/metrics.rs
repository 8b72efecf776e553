//! Prometheus metrics of the operator. Labels are low-cardinality by design: a
//! controller name, a result, an error class; never an object name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// A per-scan series: the gauge's name and its label values.
type SeriesKey = (&'static str, Vec<String>);

/// Every metric the operator exports, registered in one registry.
pub struct Metrics {
    pub registry: Registry,
    /// Reconciliations by controller and result (`success`, `error`, `invalid`).
    pub reconciliations: IntCounterVec,
    /// Reconcile failures by controller and error class.
    pub reconcile_errors: IntCounterVec,
    /// Wall time of one reconcile, by controller.
    pub reconcile_duration: HistogramVec,
    /// 1 while this replica holds the leader lease.
    pub leader: IntGauge,
    /// Wall time of one scan, by provider and result.
    pub scan_duration: HistogramVec,
    /// Live resources found by the last scan, by scan and type.
    pub resources_discovered: IntGaugeVec,
    /// Drift items of the last scan, by scan, kind and type.
    pub drift_items: IntGaugeVec,
    /// 1 per resource that drifted in its scan's last run (labelled by resource).
    pub drifted_resource: IntGaugeVec,
    /// Cloud API calls by service, operation and outcome.
    pub cloud_api_calls: IntCounterVec,
    /// Errors of the controllers' watches and queues (not of reconciles).
    pub watch_errors: IntCounterVec,
    /// The label sets each scan last set, so stale series can be removed.
    scan_series: Mutex<HashMap<String, Vec<SeriesKey>>>,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("driftmgr".into()), None).expect("static registry prefix");
        let reconciliations = IntCounterVec::new(
            Opts::new("reconciliations_total", "Reconciliations by controller and result"),
            &["controller", "result"],
        )
        .expect("static metric definition");
        let reconcile_errors = IntCounterVec::new(
            Opts::new("reconcile_errors_total", "Reconcile failures by controller and error class"),
            &["controller", "error"],
        )
        .expect("static metric definition");
        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new("reconcile_duration_seconds", "Wall time of one reconcile")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
            &["controller"],
        )
        .expect("static metric definition");
        let leader = IntGauge::new("leader", "1 while this replica holds the leader lease")
            .expect("static metric definition");
        let scan_duration = HistogramVec::new(
            HistogramOpts::new("scan_duration_seconds", "Wall time of one scan")
                .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
            &["provider", "result"],
        )
        .expect("static metric definition");
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            IntGaugeVec::new(Opts::new(name, help), labels).expect("static metric definition")
        };
        let resources_discovered = gauge(
            "resources_discovered",
            "Live resources found by the last scan",
            &["namespace", "scan", "type"],
        );
        let drift_items =
            gauge("drift_items", "Drift items of the last scan", &["namespace", "scan", "kind", "type"]);
        let drifted_resource = gauge(
            "drifted_resource",
            "1 for each resource that drifted in its scan's last run",
            &["namespace", "scan", "kind", "type", "id", "severity"],
        );
        let cloud_api_calls = IntCounterVec::new(
            Opts::new("cloud_api_calls_total", "Cloud API calls by service, operation and outcome"),
            &["service", "operation", "outcome"],
        )
        .expect("static metric definition");
        let watch_errors = IntCounterVec::new(
            Opts::new(
                "watch_errors_total",
                "Watch and queue errors by controller (reconcile errors are counted apart)",
            ),
            &["controller"],
        )
        .expect("static metric definition");
        for collector in [
            Box::new(reconciliations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(reconcile_errors.clone()),
            Box::new(reconcile_duration.clone()),
            Box::new(leader.clone()),
            Box::new(scan_duration.clone()),
            Box::new(resources_discovered.clone()),
            Box::new(drift_items.clone()),
            Box::new(drifted_resource.clone()),
            Box::new(cloud_api_calls.clone()),
            Box::new(watch_errors.clone()),
        ] {
            registry.register(collector).expect("metric names are unique");
        }
        Self {
            registry,
            reconciliations,
            reconcile_errors,
            reconcile_duration,
            leader,
            scan_duration,
            resources_discovered,
            drift_items,
            drifted_resource,
            cloud_api_calls,
            watch_errors,
            scan_series: Mutex::new(HashMap::new()),
        }
    }

    /// Starts timing one reconcile of `controller`; the result is recorded on drop.
    pub fn reconcile_timer(&self, controller: &'static str) -> ReconcileTimer<'_> {
        ReconcileTimer { metrics: self, controller, started: Instant::now(), result: "error" }
    }

    /// Replaces the per-scan gauges of `scan_key` with `series` (gauge name, labels,
    /// value), removing label sets the scan no longer reports.
    pub fn set_scan_series(&self, scan_key: &str, series: Vec<(&'static str, Vec<String>, i64)>) {
        let mut known = self.scan_series.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = known.remove(scan_key) {
            for (name, labels) in old {
                let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
                let _ = self.scan_vec(name).remove_label_values(&refs);
            }
        }
        let mut kept = Vec::with_capacity(series.len());
        for (name, labels, value) in series {
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            self.scan_vec(name).with_label_values(&refs).set(value);
            kept.push((name, labels));
        }
        known.insert(scan_key.to_string(), kept);
    }

    /// Removes the per-scan gauges of every scan `keep` rejects (deleted scans).
    pub fn retain_scan_series(&self, keep: impl Fn(&str) -> bool) {
        let mut known = self.scan_series.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = known.keys().filter(|k| !keep(k)).cloned().collect();
        for key in gone {
            for (name, labels) in known.remove(&key).unwrap_or_default() {
                let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
                let _ = self.scan_vec(name).remove_label_values(&refs);
            }
        }
    }

    fn scan_vec(&self, name: &str) -> &IntGaugeVec {
        match name {
            "resources_discovered" => &self.resources_discovered,
            "drift_items" => &self.drift_items,
            _ => &self.drifted_resource,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let encoder = prometheus::TextEncoder::new();
        // Encoding into a String only fails on a broken metric family, which the
        // static definitions above rule out; an empty body is the safe answer then.
        if encoder.encode_utf8(&self.registry.gather(), &mut out).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Records a reconcile's duration and result when dropped, so early returns count.
pub struct ReconcileTimer<'a> {
    metrics: &'a Metrics,
    controller: &'static str,
    started: Instant,
    result: &'static str,
}

impl ReconcileTimer<'_> {
    pub fn set_result(&mut self, result: &'static str) {
        self.result = result;
    }
}

impl Drop for ReconcileTimer<'_> {
    fn drop(&mut self) {
        self.metrics
            .reconcile_duration
            .with_label_values(&[self.controller])
            .observe(self.started.elapsed().as_secs_f64());
        self.metrics.reconciliations.with_label_values(&[self.controller, self.result]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_records_result_and_duration() {
        let metrics = Metrics::new();
        {
            let mut timer = metrics.reconcile_timer("driftscan");
            timer.set_result("success");
        }
        drop(metrics.reconcile_timer("driftscan"));
        let text = metrics.render();
        assert!(
            text.contains(r#"driftmgr_reconciliations_total{controller="driftscan",result="success"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"driftmgr_reconciliations_total{controller="driftscan",result="error"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"driftmgr_reconcile_duration_seconds_count{controller="driftscan"} 2"#),
            "{text}"
        );
    }
}
