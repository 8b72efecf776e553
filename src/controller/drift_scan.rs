//! DriftScan: checks the scan's references (account, state sources, schedule).
//!
//! Running the scan itself (state -> discover -> diff -> report) plugs into this
//! reconcile once the engine and providers exist; until then a scan whose
//! references resolve waits in phase Pending.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use tracing::info;

use super::status::{apply_status, event_reference, publish_ready_transition, report_invalid};
use super::{Context, Error, on_error};
use crate::crd::{
    ConditionStatus, ConditionUpdate, DriftScan, DriftScanSpec, DriftScanStatus, ProviderAccount, ScanPhase,
    is_condition_true, merge_conditions,
};
use crate::duration::parse_duration;

const CONTROLLER: &str = "driftscan";
const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// What a reconcile read about a scan's references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriftScanFacts {
    /// `None` when the account does not exist; otherwise whether it is Ready.
    pub account_ready: Option<bool>,
    /// For each in-cluster state source (by index): a problem, if any.
    pub source_problems: Vec<(usize, SourceProblem)>,
}

/// Why an in-cluster state source cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceProblem {
    NotFound { kind: &'static str, name: String },
    KeyMissing { kind: &'static str, name: String, key: String },
}

/// Builds the new status from what was read (pure).
pub fn build_drift_scan_status(scan: &DriftScan, facts: &DriftScanFacts, now: Timestamp) -> DriftScanStatus {
    let spec = &scan.spec;
    let account = &spec.provider_account_ref.name;
    let ready = if facts.account_ready.is_none() {
        ConditionUpdate::new(
            "Ready",
            ConditionStatus::False,
            "ProviderAccountNotFound",
            format!("ProviderAccount {account} was not found in this namespace"),
        )
    } else if facts.account_ready == Some(false) {
        ConditionUpdate::new(
            "Ready",
            ConditionStatus::False,
            "ProviderAccountNotReady",
            format!("ProviderAccount {account} is not Ready"),
        )
    } else if let Some((index, problem)) = facts.source_problems.first() {
        let (reason, what) = match problem {
            SourceProblem::NotFound { kind, name } => {
                ("StateSourceNotFound", format!("{kind} {name} was not found"))
            }
            SourceProblem::KeyMissing { kind, name, key } => {
                ("StateSourceKeyMissing", format!("{kind} {name} has no key {key}"))
            }
        };
        ConditionUpdate::new(
            "Ready",
            ConditionStatus::False,
            reason,
            format!("spec.stateSources[{index}]: {what}"),
        )
    } else if let Err(message) = check_schedule(spec) {
        ConditionUpdate::new("Ready", ConditionStatus::False, "InvalidSchedule", message)
    } else {
        ConditionUpdate::new(
            "Ready",
            ConditionStatus::True,
            "ReferencesResolved",
            "the provider account and in-cluster state sources resolve; waiting for the first scan",
        )
    };
    let previous = scan.status.clone().unwrap_or_default();
    let generation = scan.meta().generation;
    DriftScanStatus {
        phase: Some(previous.phase.filter(|p| *p != ScanPhase::Failed).unwrap_or(ScanPhase::Pending)),
        expired_ignore_rules: expired_ignore_rules(spec, now),
        observed_generation: generation,
        conditions: merge_conditions(&previous.conditions, &[ready], generation, now),
        ..previous
    }
}

/// Checks the schedule beyond what the schema can (pure).
fn check_schedule(spec: &DriftScanSpec) -> Result<(), String> {
    let Some(interval) = spec.schedule.as_ref().and_then(|s| s.interval.as_deref()) else {
        return Ok(());
    };
    let parsed = parse_duration(interval).map_err(|e| format!("spec.schedule.interval: {e}"))?;
    if parsed < MIN_INTERVAL {
        return Err(format!("spec.schedule.interval: {interval} is shorter than the minimum of 1m"));
    }
    Ok(())
}

/// Reasons of the ignore rules whose `expires` has passed (pure).
fn expired_ignore_rules(spec: &DriftScanSpec, now: Timestamp) -> Vec<String> {
    spec.ignore
        .iter()
        .filter(|rule| rule.expires.as_ref().is_some_and(|t| t.0 <= now))
        .map(|rule| rule.reason.clone())
        .collect()
}

async fn read_facts(scan: &DriftScan, ctx: &Context, namespace: &str) -> Result<DriftScanFacts, Error> {
    let accounts: Api<DeserializeGuard<ProviderAccount>> = Api::namespaced(ctx.client.clone(), namespace);
    let account_ready = accounts.get_opt(&scan.spec.provider_account_ref.name).await?.map(|guard| {
        guard
            .0
            .ok()
            .and_then(|a| a.status)
            .is_some_and(|status| is_condition_true(&status.conditions, "Ready"))
    });
    let config_maps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), namespace);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut source_problems = Vec::new();
    for (index, source) in scan.spec.state_sources.iter().enumerate() {
        let problem = if let Some(r) = &source.config_map_ref {
            config_maps.get_opt(&r.name).await?.map_or_else(
                || Some(SourceProblem::NotFound { kind: "ConfigMap", name: r.name.clone() }),
                |cm| {
                    let has = cm.data.is_some_and(|d| d.contains_key(&r.key))
                        || cm.binary_data.is_some_and(|d| d.contains_key(&r.key));
                    (!has).then(|| SourceProblem::KeyMissing {
                        kind: "ConfigMap",
                        name: r.name.clone(),
                        key: r.key.clone(),
                    })
                },
            )
        } else if let Some(r) = &source.secret_ref {
            secrets.get_opt(&r.name).await?.map_or_else(
                || Some(SourceProblem::NotFound { kind: "Secret", name: r.name.clone() }),
                |secret| {
                    let has = secret.data.is_some_and(|d| d.contains_key(&r.key));
                    (!has).then(|| SourceProblem::KeyMissing {
                        kind: "Secret",
                        name: r.name.clone(),
                        key: r.key.clone(),
                    })
                },
            )
        } else {
            None
        };
        if let Some(problem) = problem {
            source_problems.push((index, problem));
        }
    }
    Ok(DriftScanFacts { account_ready, source_problems })
}

async fn reconcile(guard: Arc<DeserializeGuard<DriftScan>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let scan = match &guard.0 {
        Ok(scan) => scan,
        Err(invalid) => return Ok(report_invalid::<DriftScan>(&ctx, CONTROLLER, invalid).await),
    };
    let mut timer = ctx.metrics.reconcile_timer(CONTROLLER);
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let name = scan.name_any();

    let facts = read_facts(scan, &ctx, &namespace).await?;
    let status = build_drift_scan_status(scan, &facts, Timestamp::now());
    let before = scan.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    if scan.status.as_ref() != Some(&status) {
        apply_status(scan, &status, &ctx.client).await?;
    }
    publish_ready_transition(&ctx, &event_reference(scan), &before, &status.conditions).await;
    let ready = is_condition_true(&status.conditions, "Ready");
    info!(controller = CONTROLLER, %namespace, %name, ready, "reconciled");
    timer.set_result("success");
    Ok(Action::requeue(if ready { ctx.config.resync_interval } else { ctx.config.retry_interval }))
}

fn error_policy(_: Arc<DeserializeGuard<DriftScan>>, error: &Error, ctx: Arc<Context>) -> Action {
    on_error(CONTROLLER, error, &ctx)
}

pub async fn run(ctx: Arc<Context>) {
    let scans = ctx.watched_api::<DeserializeGuard<DriftScan>>();
    let controller = Controller::new(scans, watcher::Config::default().any_semantic());
    let store = controller.store();
    controller
        .watches(
            ctx.watched_api::<DeserializeGuard<ProviderAccount>>(),
            watcher::Config::default().any_semantic(),
            move |account| {
                let (namespace, name) = (account.namespace(), account.name_any());
                store
                    .state()
                    .into_iter()
                    .filter(|guard| {
                        guard.0.as_ref().is_ok_and(|scan| {
                            scan.namespace() == namespace && scan.spec.provider_account_ref.name == name
                        })
                    })
                    .map(|guard| ObjectRef::from_obj(&*guard))
                    .collect::<Vec<_>>()
            },
        )
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = include_str!("../../tests/fixtures/objects/driftscan.yaml");

    fn scan() -> DriftScan {
        serde_yaml::from_str(SCAN).expect("fixture parses")
    }

    fn ready_of(status: &DriftScanStatus) -> (&str, &str, &str) {
        let c = status.conditions.iter().find(|c| c.type_ == "Ready").expect("Ready condition");
        (c.status.as_str(), c.reason.as_str(), c.message.as_str())
    }

    #[test]
    fn missing_account_comes_first() {
        let facts = DriftScanFacts {
            account_ready: None,
            source_problems: vec![(0, SourceProblem::NotFound { kind: "ConfigMap", name: "x".into() })],
        };
        let status = build_drift_scan_status(&scan(), &facts, Timestamp::UNIX_EPOCH);
        assert_eq!(ready_of(&status).1, "ProviderAccountNotFound");
        assert_eq!(status.phase, Some(ScanPhase::Pending));
    }

    #[test]
    fn missing_key_names_the_source_index() {
        let facts = DriftScanFacts {
            account_ready: Some(true),
            source_problems: vec![(
                1,
                SourceProblem::KeyMissing {
                    kind: "Secret",
                    name: "legacy-state".into(),
                    key: "terraform.tfstate".into(),
                },
            )],
        };
        let status = build_drift_scan_status(&scan(), &facts, Timestamp::UNIX_EPOCH);
        assert_eq!(
            ready_of(&status),
            (
                "False",
                "StateSourceKeyMissing",
                "spec.stateSources[1]: Secret legacy-state has no key terraform.tfstate"
            )
        );
    }

    #[test]
    fn resolved_references_are_ready_and_expired_rules_listed() {
        let facts = DriftScanFacts { account_ready: Some(true), source_problems: vec![] };
        let now = Timestamp::from_second(1_900_000_000).expect("valid"); // 2030
        let status = build_drift_scan_status(&scan(), &facts, now);
        assert_eq!(ready_of(&status).0, "True");
        assert_eq!(status.expired_ignore_rules, ["temporary exception during migration"]);
        assert_eq!(status.observed_generation, Some(4));
    }

    #[test]
    fn too_short_interval_is_refused() {
        let mut scan = scan();
        scan.spec.schedule.as_mut().expect("fixture has a schedule").interval = Some("30s".into());
        let facts = DriftScanFacts { account_ready: Some(true), source_problems: vec![] };
        let status = build_drift_scan_status(&scan, &facts, Timestamp::UNIX_EPOCH);
        assert_eq!(ready_of(&status).1, "InvalidSchedule");
    }
}
