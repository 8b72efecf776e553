//! The three controllers and what they share.
//!
//! Each reconcile is a pipeline: read what it needs from the API server, validate
//! and build the new status with pure functions (unit-tested from YAML fixtures),
//! then write the status with server-side apply under one field manager.

mod credentials;
mod drift_scan;
mod error;
mod plan_execution;
mod plan_generation;
mod provider_account;
mod remediation_plan;
pub mod report_store;
mod scan_run;
mod scan_status;
mod schedule;
mod status;
mod tenancy;

pub use drift_scan::{DriftScanFacts, build_drift_scan_status, reference_problem};
pub use error::Error;
pub use plan_generation::self_username;
pub use provider_account::{CredentialCheck, build_provider_account_status, check_credentials};
pub use remediation_plan::build_remediation_plan_status;
pub use schedule::RetryPolicy;
pub use tenancy::{TenancyPolicy, TenancyViolation};

use std::sync::Arc;
use std::time::Duration;

use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, Resource};
use tracing::{debug, warn};

use crate::resilience::GuardRegistry;
use crate::telemetry::Metrics;

/// The one field manager every write of the operator uses.
pub const FIELD_MANAGER: &str = "driftmgr-operator";

/// Settings the controllers share.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Watch only this namespace; all namespaces when `None`.
    pub namespace: Option<String>,
    /// Re-check a healthy object this often even without a change.
    pub resync_interval: Duration,
    /// Re-check an object waiting on a missing reference this often.
    pub retry_interval: Duration,
    /// How failed scans back off.
    pub retry: schedule::RetryPolicy,
    /// Reconciles each controller runs at once.
    pub max_concurrent_reconciles: u16,
    /// Scans of one ProviderAccount that run at once.
    pub max_scans_per_account: u32,
    /// Longest a scan may run before it is failed (`ScanDeadlineExceeded`).
    pub scan_timeout: Duration,
    /// Per-resource drift series (`driftmgr_drifted_resource`) exported per scan, most
    /// severe first.
    pub max_drift_series: usize,
    /// Which namespaces may use the operator's own credentials, and where they may go.
    pub tenancy: TenancyPolicy,
}

/// Everything a reconcile needs.
pub struct Context {
    pub client: Client,
    pub metrics: Arc<Metrics>,
    pub recorder: Recorder,
    pub config: ControllerConfig,
    /// One API budget and breaker set per account, shared by all its scans.
    pub guards: GuardRegistry,
    /// Running scans per account.
    pub scan_slots: ScanSlots,
    /// The user the API server knows the operator as (the author of generated plans).
    pub own_username: tokio::sync::OnceCell<String>,
}

/// Bounds the scans running at once per account.
#[derive(Default)]
pub struct ScanSlots {
    running: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl ScanSlots {
    /// A slot for a scan of `account`, if fewer than `limit` of its scans run now.
    pub fn try_acquire(&self, account: &str, limit: u32) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let semaphore = {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            let limit = usize::try_from(limit.max(1)).unwrap_or(1);
            running
                .entry(account.to_string())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(limit)))
                .clone()
        };
        semaphore.try_acquire_owned().ok()
    }
}

impl Context {
    pub fn new(client: Client, metrics: Arc<Metrics>, config: ControllerConfig, instance: String) -> Self {
        let reporter = Reporter { controller: FIELD_MANAGER.into(), instance: Some(instance) };
        let recorder = Recorder::new(client.clone(), reporter);
        Self {
            client,
            metrics,
            recorder,
            config,
            guards: GuardRegistry::default(),
            scan_slots: ScanSlots::default(),
            own_username: tokio::sync::OnceCell::new(),
        }
    }

    /// Settings every controller runs with.
    fn controller_config(&self) -> kube::runtime::controller::Config {
        kube::runtime::controller::Config::default().concurrency(self.config.max_concurrent_reconciles)
    }

    /// An Api for `K` over the watched scope.
    fn watched_api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        match &self.config.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }
}

/// The objects in `store` (of `namespace`) that `refers` says point at a changed
/// object: how a change to a Secret, account or scan re-queues its dependents.
fn referrers<K>(
    store: &Store<DeserializeGuard<K>>,
    namespace: Option<String>,
    refers: impl Fn(&K) -> bool,
) -> Vec<ObjectRef<DeserializeGuard<K>>>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    store
        .state()
        .into_iter()
        .filter(|guard| {
            guard.0.as_ref().is_ok_and(|object| object.meta().namespace == namespace && refers(object))
        })
        .map(|guard| ObjectRef::from_obj(&*guard))
        .collect()
}

/// What every controller does when a reconcile fails: count it, log it, retry.
/// A conflict means the reconcile read a stale object; the cache catches up within
/// moments, so it is retried almost at once and is not worth a warning.
fn on_error(controller: &'static str, error: &Error, ctx: &Context) -> Action {
    ctx.metrics.reconcile_errors.with_label_values(&[controller, error.metric_label()]).inc();
    if error.is_conflict() {
        debug!(controller, %error, "stale read; retrying");
        return Action::requeue(Duration::from_millis(500));
    }
    warn!(controller, %error, "reconcile failed");
    Action::requeue(ctx.config.retry_interval)
}

/// Logs and counts what a controller's stream yields besides successful reconciles:
/// watch and queue errors (reconcile errors went through `on_error` already).
fn observe_stream<T>(
    controller: &'static str,
    ctx: &Context,
    result: Result<T, kube::runtime::controller::Error<Error, kube::runtime::watcher::Error>>,
) -> std::future::Ready<()> {
    use kube::runtime::controller::Error as ControllerError;
    match result {
        Ok(_) | Err(ControllerError::ReconcilerFailed(..)) => {}
        Err(error) => {
            ctx.metrics.watch_errors.with_label_values(&[controller]).inc();
            warn!(controller, %error, "watch error");
        }
    }
    std::future::ready(())
}

/// Runs the three controllers until the future is dropped (which is how the
/// operator stops them the moment leadership is lost).
pub async fn run(ctx: Arc<Context>) {
    tokio::join!(
        provider_account::run(ctx.clone()),
        drift_scan::run(ctx.clone()),
        remediation_plan::run(ctx),
    );
}
