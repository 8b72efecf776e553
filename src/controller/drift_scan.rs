//! DriftScan: checks the scan's references, runs the scan when it is due, stores
//! the report, and writes typed drift into status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use tracing::{debug, info, warn};

use super::schedule::{Due, due, next_after};
use super::status::{apply_status, event_reference, publish_transition, report_invalid};
use super::{
    Context, Error, observe_stream, on_error, plan_generation, referrers, report_store, scan_run, scan_status,
};
use crate::crd::{
    ConditionStatus, ConditionUpdate, DriftScan, DriftScanSpec, DriftScanStatus, ProviderAccount, ReportRef,
    ScanPhase, StateSource, merge_conditions,
};
use crate::drift::{Report, Verdict};

const CONTROLLER: &str = "driftscan";
const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// What a reconcile read about a scan's in-cluster references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriftScanFacts {
    /// Whether the ProviderAccount exists.
    pub account_exists: bool,
    /// For each in-cluster state source (by index): a problem, if any.
    pub source_problems: Vec<(usize, SourceProblem)>,
}

/// Why an in-cluster state source cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceProblem {
    NotFound { kind: &'static str, name: String },
    KeyMissing { kind: &'static str, name: String, key: String },
}

/// The first reference problem of a scan, as a Ready=False condition (pure).
pub fn reference_problem(spec: &DriftScanSpec, facts: &DriftScanFacts) -> Option<ConditionUpdate> {
    let not_ready = |reason: &str, message: String| {
        Some(ConditionUpdate::new("Ready", ConditionStatus::False, reason, message))
    };
    if !facts.account_exists {
        let account = &spec.provider_account_ref.name;
        return not_ready(
            "ProviderAccountNotFound",
            format!("ProviderAccount {account} was not found in this namespace"),
        );
    }
    if let Some((index, problem)) = facts.source_problems.first() {
        let (reason, what) = match problem {
            SourceProblem::NotFound { kind, name } => {
                ("StateSourceNotFound", format!("{kind} {name} was not found"))
            }
            SourceProblem::KeyMissing { kind, name, key } => {
                ("StateSourceKeyMissing", format!("{kind} {name} has no key {key}"))
            }
        };
        return not_ready(reason, format!("spec.stateSources[{index}]: {what}"));
    }
    if let Err(message) = check_schedule(spec) {
        return not_ready("InvalidSchedule", message);
    }
    None
}

/// Status for a scan whose references do not resolve (pure).
pub fn build_drift_scan_status(
    scan: &DriftScan,
    problem: ConditionUpdate,
    now: Timestamp,
) -> DriftScanStatus {
    let previous = scan.status.clone().unwrap_or_default();
    let generation = scan.meta().generation;
    DriftScanStatus {
        phase: Some(
            previous
                .phase
                .filter(|p| !matches!(p, ScanPhase::Completed | ScanPhase::Scanning))
                .unwrap_or(ScanPhase::Pending),
        ),
        expired_ignore_rules: expired_ignore_rules(&scan.spec, now),
        observed_generation: generation,
        conditions: merge_conditions(&previous.conditions, &[problem], generation, now),
        ..previous
    }
}

fn check_schedule(spec: &DriftScanSpec) -> Result<(), String> {
    if let Some(interval) = spec.schedule.as_ref().and_then(|s| s.interval.as_deref()) {
        let parsed =
            crate::duration::parse_duration(interval).map_err(|e| format!("spec.schedule.interval: {e}"))?;
        if parsed < MIN_INTERVAL {
            return Err(format!("spec.schedule.interval: {interval} is shorter than the minimum of 1m"));
        }
    }
    next_after(spec.schedule.as_ref(), Timestamp::UNIX_EPOCH).map(|_| ())
}

fn expired_ignore_rules(spec: &DriftScanSpec, now: Timestamp) -> Vec<String> {
    spec.ignore
        .iter()
        .filter(|r| r.expires.as_ref().is_some_and(|t| t.0 <= now))
        .map(|r| r.reason.clone())
        .collect()
}

async fn read_facts(scan: &DriftScan, ctx: &Context, namespace: &str) -> Result<DriftScanFacts, Error> {
    let accounts: Api<DeserializeGuard<ProviderAccount>> = Api::namespaced(ctx.client.clone(), namespace);
    let account_exists = accounts.get_opt(&scan.spec.provider_account_ref.name).await?.is_some();
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut source_problems = Vec::new();
    for (index, source) in scan.spec.state_sources.iter().enumerate() {
        let problem = match source {
            StateSource::ConfigMapRef(r) => match config_maps.get_opt(&r.name).await? {
                None => Some(SourceProblem::NotFound { kind: "ConfigMap", name: r.name.clone() }),
                Some(cm) => {
                    let has = cm.data.is_some_and(|d| d.contains_key(&r.key))
                        || cm.binary_data.is_some_and(|d| d.contains_key(&r.key));
                    (!has).then(|| SourceProblem::KeyMissing {
                        kind: "ConfigMap",
                        name: r.name.clone(),
                        key: r.key.clone(),
                    })
                }
            },
            StateSource::SecretRef(r) => match secrets.get_opt(&r.name).await? {
                None => Some(SourceProblem::NotFound { kind: "Secret", name: r.name.clone() }),
                Some(secret) => {
                    let has = secret.data.is_some_and(|d| d.contains_key(&r.key));
                    (!has).then(|| SourceProblem::KeyMissing {
                        kind: "Secret",
                        name: r.name.clone(),
                        key: r.key.clone(),
                    })
                }
            },
            // Read with the account's or their own credentials when the scan runs.
            StateSource::S3(_)
            | StateSource::Gcs(_)
            | StateSource::AzureBlob(_)
            | StateSource::Http(_)
            | StateSource::TerraformCloud(_) => None,
        };
        if let Some(problem) = problem {
            source_problems.push((index, problem));
        }
    }
    Ok(DriftScanFacts { account_exists, source_problems })
}

async fn reconcile(guard: Arc<DeserializeGuard<DriftScan>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let scan = match &guard.0 {
        Ok(scan) => scan,
        Err(invalid) => return Ok(report_invalid::<DriftScan>(&ctx, CONTROLLER, invalid).await),
    };
    let mut timer = ctx.metrics.reconcile_timer(CONTROLLER);
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let name = scan.name_any();
    let now = Timestamp::now();
    let before = scan.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();

    let facts = read_facts(scan, &ctx, &namespace).await?;
    if let Some(problem) = reference_problem(&scan.spec, &facts) {
        let status = build_drift_scan_status(scan, problem, now);
        write_status(&ctx, scan, &before, status).await?;
        info!(controller = CONTROLLER, %namespace, %name, ready = false, "reconciled");
        timer.set_result("success");
        return Ok(Action::requeue(ctx.config.retry_interval));
    }
    // A plan requested from the current report is generated before anything else.
    if let Some(status) = plan_generation::generate_if_requested(&ctx, scan).await? {
        write_status(&ctx, scan, &before, status).await?;
        timer.set_result("success");
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let why = match due(scan, now) {
        Due::Now(why) => why,
        Due::At(at) => {
            timer.set_result("success");
            let wait = at.duration_since(now).unsigned_abs();
            return Ok(Action::requeue(wait.min(ctx.config.resync_interval).max(Duration::from_secs(1))));
        }
        Due::Never => {
            timer.set_result("success");
            return Ok(Action::await_change());
        }
    };

    // At most so many scans of one account at once: they share its API budget, and
    // each holds its states and live view in memory. A scan over the limit waits.
    let account_key = format!("{namespace}/{}", scan.spec.provider_account_ref.name);
    let Some(_slot) = ctx.scan_slots.try_acquire(&account_key, ctx.config.max_scans_per_account) else {
        timer.set_result("success");
        debug!(controller = CONTROLLER, %namespace, %name, "waiting for a scan slot of its account");
        return Ok(Action::requeue(SLOT_RETRY));
    };
    info!(controller = CONTROLLER, %namespace, %name, reason = why, "scanning");
    // Shown as running (the API's event stream and the dashboard watch for it). The
    // write is fenced like every status write: a stale read stops here and retries.
    let mut running = scan.status.clone().unwrap_or_default();
    running.phase = Some(ScanPhase::Scanning);
    let marked = apply_status(scan, &running, &ctx.client).await?;
    let scan = &DriftScan {
        metadata: kube::api::ObjectMeta { generation: scan.metadata.generation, ..marked.metadata },
        ..marked
    };
    let started = Instant::now();
    let deadline = ctx.config.scan_timeout;
    let outcome = tokio::time::timeout(deadline, scan_run::run(&ctx, scan))
        .await
        .unwrap_or(Err(scan_run::ScanFailure::DeadlineExceeded(deadline)));
    let took = started.elapsed();
    let finished = Timestamp::now();
    let next = next_after(scan.spec.schedule.as_ref(), finished).ok().filter(|_| !scan.spec.suspend);
    let outcome = match outcome {
        // Discovery failed everywhere: a report would prove nothing, so the last good
        // results stay and the scan is retried.
        Ok(report) if report.verdict() == Verdict::NothingVerified => {
            ctx.metrics
                .scan_duration
                .with_label_values(&[&report.provider, "failure"])
                .observe(took.as_secs_f64());
            let message =
                format!("discovery failed everywhere, nothing was verified: {}", report.failure_summary());
            warn!(controller = CONTROLLER, %namespace, %name, reason = "DiscoveryFailed", "scan failed");
            Outcome::Failed { reason: "DiscoveryFailed", message }
        }
        Ok(report) => {
            ctx.metrics
                .scan_duration
                .with_label_values(&[&report.provider, "success"])
                .observe(took.as_secs_f64());
            let report_ref = report_store::store(&ctx.client, scan, &report).await?;
            record_metrics(&ctx, &namespace, &name, &report);
            info!(
                controller = CONTROLLER, %namespace, %name,
                modified = report.summary.modified, missing = report.summary.missing,
                unmanaged = report.summary.unmanaged, partial = report.is_partial(), "scan completed"
            );
            Outcome::Completed { report: Box::new(report), report_ref }
        }
        Err(failure) => {
            ctx.metrics.scan_duration.with_label_values(&["unknown", "failure"]).observe(took.as_secs_f64());
            warn!(controller = CONTROLLER, %namespace, %name, reason = failure.reason(), error = %failure, "scan failed");
            Outcome::Failed { reason: failure.reason(), message: failure.to_string() }
        }
    };
    let build = |scan: &DriftScan| match &outcome {
        Outcome::Completed { report, report_ref } => {
            scan_status::completed(scan, report, report_ref.clone(), took, finished, next)
        }
        Outcome::Failed { reason, message } => {
            scan_status::failed(scan, reason, message.clone(), finished, &ctx.config.retry)
        }
    };
    let status = write_scan_result(&ctx, scan, &before, build).await?;
    // Only now that the status points at the new report may the old one go.
    if let Outcome::Completed { report_ref, .. } = &outcome {
        report_store::delete_superseded(&ctx.client, scan, report_ref).await?;
    }
    // Back when the next scan or retry is due (re-checked at least every resync).
    let requeue = status
        .next_scan_time
        .as_ref()
        .map_or(ctx.config.resync_interval, |n| n.0.duration_since(finished).unsigned_abs())
        .clamp(Duration::from_secs(1), ctx.config.resync_interval);
    timer.set_result("success");
    Ok(Action::requeue(requeue))
}

/// When a scan waiting for its account's scan slot looks again.
const SLOT_RETRY: Duration = Duration::from_secs(5);

/// What a scan run came to, before it is written.
enum Outcome {
    Completed { report: Box<Report>, report_ref: ReportRef },
    Failed { reason: &'static str, message: String },
}

/// Writes a scan's result. A conflict (the scan changed while it ran: an annotation,
/// a label, another status write) retries the write on a fresh read, never the scan:
/// the result is rebuilt on the fresh object but keeps the generation that was
/// scanned, so a spec changed meanwhile is still seen as unscanned.
async fn write_scan_result(
    ctx: &Context,
    scan: &DriftScan,
    before: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    build: impl Fn(&DriftScan) -> DriftScanStatus,
) -> Result<DriftScanStatus, Error> {
    const ATTEMPTS: usize = 5;
    let api: Api<DriftScan> =
        Api::namespaced(ctx.client.clone(), &scan.namespace().ok_or(Error::MissingNamespace)?);
    let mut current = scan.clone();
    let mut attempt = 1;
    loop {
        let status = build(&current);
        match write_status(ctx, &current, before, status.clone()).await {
            Ok(()) => return Ok(status),
            Err(error) if error.is_conflict() && attempt < ATTEMPTS => {
                let mut fresh = api.get(&scan.name_any()).await?;
                fresh.metadata.generation = scan.metadata.generation;
                current = fresh;
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

async fn write_status(
    ctx: &Context,
    scan: &DriftScan,
    before: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    status: DriftScanStatus,
) -> Result<(), Error> {
    if scan.status.as_ref() != Some(&status) {
        apply_status(scan, &status, &ctx.client).await?;
    }
    let reference = event_reference(scan);
    publish_transition(ctx, &reference, before, &status.conditions, "Ready", true).await;
    publish_transition(ctx, &reference, before, &status.conditions, "Drifted", false).await;
    Ok(())
}

fn record_metrics(ctx: &Context, namespace: &str, name: &str, report: &Report) {
    use std::collections::BTreeMap;
    let mut series = Vec::new();
    let mut by_kind: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (index, item) in report.items.iter().enumerate() {
        *by_kind.entry((format!("{:?}", item.kind), item.type_.clone())).or_default() += 1;
        // One series per drifted resource, for the most severe (items are sorted so)
        // up to the cap: the cardinality of a scan stays bounded however much drifts.
        if index >= ctx.config.max_drift_series {
            continue;
        }
        series.push((
            "drifted_resource",
            vec![
                namespace.into(),
                name.into(),
                format!("{:?}", item.kind),
                item.type_.clone(),
                item.id.clone(),
                format!("{:?}", item.severity),
            ],
            1,
        ));
    }
    for ((kind, type_), count) in by_kind {
        series.push(("drift_items", vec![namespace.into(), name.into(), kind, type_], count));
    }
    for (type_, count) in &report.discovered {
        let count = i64::try_from(*count).unwrap_or(i64::MAX);
        series.push(("resources_discovered", vec![namespace.into(), name.into(), type_.clone()], count));
    }
    ctx.metrics.set_scan_series(&format!("{namespace}/{name}"), series);
}

fn error_policy(_: Arc<DeserializeGuard<DriftScan>>, error: &Error, ctx: Arc<Context>) -> Action {
    on_error(CONTROLLER, error, &ctx)
}

pub async fn run(ctx: Arc<Context>) {
    let scans = ctx.watched_api::<DeserializeGuard<DriftScan>>();
    let controller = Controller::new(scans, watcher::Config::default().any_semantic())
        .with_config(ctx.controller_config());
    let store = controller.store();
    let sweep = sweep_deleted_scan_series(ctx.clone(), store.clone());
    let controller = controller
        .watches(
            ctx.watched_api::<DeserializeGuard<ProviderAccount>>(),
            watcher::Config::default().any_semantic(),
            move |account| {
                let name = account.name_any();
                referrers(&store, account.namespace(), |scan: &DriftScan| {
                    scan.spec.provider_account_ref.name == name
                })
            },
        )
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| observe_stream(CONTROLLER, &ctx, result));
    tokio::join!(controller, sweep);
}

/// How often the gauges of deleted scans are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Removes the per-scan gauges of scans that no longer exist. A deleted object is
/// never reconciled again, so its series would otherwise stay exported for ever.
async fn sweep_deleted_scan_series(
    ctx: Arc<Context>,
    store: kube::runtime::reflector::Store<DeserializeGuard<DriftScan>>,
) {
    // Until the first listing, every scan would look deleted.
    if store.wait_until_ready().await.is_err() {
        return;
    }
    loop {
        tokio::time::sleep(SWEEP_EVERY).await;
        let existing: std::collections::HashSet<String> = store
            .state()
            .iter()
            .filter_map(|guard| Some(format!("{}/{}", guard.namespace()?, guard.name_any())))
            .collect();
        ctx.metrics.retain_scan_series(|key| existing.contains(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = include_str!("../../tests/fixtures/objects/driftscan.yaml");

    fn scan() -> DriftScan {
        crate::crd::from_yaml(SCAN).expect("fixture parses")
    }

    #[test]
    fn missing_account_comes_first() {
        let facts = DriftScanFacts {
            account_exists: false,
            source_problems: vec![(0, SourceProblem::NotFound { kind: "ConfigMap", name: "x".into() })],
        };
        let problem = reference_problem(&scan().spec, &facts).expect("a problem");
        assert_eq!(problem.reason, "ProviderAccountNotFound");
        let status = build_drift_scan_status(&scan(), problem, Timestamp::UNIX_EPOCH);
        assert_eq!(status.phase, Some(ScanPhase::Pending));
    }

    #[test]
    fn missing_key_names_the_source_index() {
        let facts = DriftScanFacts {
            account_exists: true,
            source_problems: vec![(
                1,
                SourceProblem::KeyMissing {
                    kind: "Secret",
                    name: "legacy-state".into(),
                    key: "terraform.tfstate".into(),
                },
            )],
        };
        let problem = reference_problem(&scan().spec, &facts).expect("a problem");
        assert_eq!(
            (problem.reason.as_str(), problem.message.as_str()),
            (
                "StateSourceKeyMissing",
                "spec.stateSources[1]: Secret legacy-state has no key terraform.tfstate"
            )
        );
    }

    #[test]
    fn resolved_references_have_no_problem_and_expired_rules_are_listed() {
        let facts = DriftScanFacts { account_exists: true, source_problems: vec![] };
        assert_eq!(reference_problem(&scan().spec, &facts), None);
        let now = Timestamp::from_second(1_900_000_000).expect("valid"); // 2030
        assert_eq!(expired_ignore_rules(&scan().spec, now), ["temporary exception during migration"]);
    }

    #[test]
    fn too_short_interval_is_refused() {
        let mut scan = scan();
        scan.spec.schedule.as_mut().expect("fixture has a schedule").interval = Some("30s".into());
        let facts = DriftScanFacts { account_exists: true, source_problems: vec![] };
        assert_eq!(reference_problem(&scan.spec, &facts).map(|p| p.reason), Some("InvalidSchedule".into()));
    }
}
