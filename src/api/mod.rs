//! `driftmgr api`: the sidecar HTTP API. It runs beside the operator on every
//! replica, reads through watch caches (reflectors) so every replica serves the same
//! data without leadership, and writes by patching the custom resources.
//!
//! This is the API's first part: Kubernetes TokenReview authentication, the role table,
//! read routes for accounts, scans and plans, triggering a scan, and health. JWT and
//! API keys, plan writes, audit, the WebSocket stream, OpenAPI and the dashboard follow.

mod audit_routes;
pub mod auth;
pub mod openapi;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get, post};
use futures::{FutureExt, StreamExt};
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tracing::info;

use crate::audit::chain::Record;
use crate::audit::store::AuditLog;
use crate::crd::{DriftScan, ProviderAccount, RemediationPlan};
use auth::{Caller, RoleBindings, Route};

/// Flags of `driftmgr api`.
#[derive(clap::Args, Debug)]
pub struct ApiArgs {
    /// Address to serve on.
    #[arg(long, env = "DRIFTMGR_API_ADDR", default_value = "0.0.0.0:8081")]
    pub listen: SocketAddr,
    /// Watch only this namespace (all namespaces when unset).
    #[arg(long, env = "DRIFTMGR_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// Grant a role to a user, as the API server names it: `NAME=ROLE` (admin,
    /// operator, viewer, approver, auditor). Repeatable.
    #[arg(long = "user-role")]
    pub user_role: Vec<String>,
    /// Grant a role to every member of a group (`system:serviceaccounts:team-a=viewer`).
    /// Repeatable.
    #[arg(long = "group-role")]
    pub group_role: Vec<String>,
    /// Keep the audit trail in ConfigMaps of this namespace (off when unset).
    #[arg(long, env = "DRIFTMGR_AUDIT_NAMESPACE")]
    pub audit_namespace: Option<String>,
    /// Secret (in the audit namespace) whose key `ed25519-seed` (32 bytes, hex) signs
    /// the segment digests.
    #[arg(long, default_value = "driftmgr-audit-key")]
    pub audit_key_secret: String,
    /// Records per audit segment before it is closed and its digest signed.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub audit_segment_records: u32,
}

/// How long a TokenReview answer is reused (the API server's own webhook token
/// authenticator caches for 2 minutes by default; this is shorter).
const REVIEW_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// What the handlers share.
pub struct AppState {
    pub client: Client,
    pub bindings: RoleBindings,
    /// The user the API server knows this API as: `recordedBy` of approvals it records.
    pub own_user: String,
    /// Recent TokenReview answers.
    pub reviews: auth::ReviewCache,
    scans: Store<DeserializeGuard<DriftScan>>,
    plans: Store<DeserializeGuard<RemediationPlan>>,
    accounts: Store<DeserializeGuard<ProviderAccount>>,
    /// Caches that have finished their first list.
    synced: AtomicUsize,
    /// The audit trail, when enabled.
    pub audit: Option<AuditLog>,
    requests: std::sync::atomic::AtomicU64,
}

/// The parsed objects of a cache; objects that do not parse are left out.
fn parsed<K>(store: &Store<DeserializeGuard<K>>) -> Vec<K>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + 'static,
{
    store.state().iter().filter_map(|guard| guard.0.as_ref().ok().cloned()).collect()
}

impl AppState {
    /// Records one request in the audit trail (when enabled). A record that cannot be
    /// written is logged as an error; the request's outcome stands.
    pub async fn record(
        &self,
        caller: Option<&Caller>,
        route: Route,
        target: &str,
        result: &str,
        peer: SocketAddr,
    ) {
        let Some(audit) = &self.audit else { return };
        let number = self.requests.fetch_add(1, Ordering::Relaxed);
        let record = Record {
            seq: 0,
            time: k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            actor: caller.map_or_else(|| "anonymous".to_string(), |c| c.user.clone()),
            roles: caller
                .map(|c| c.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect())
                .unwrap_or_default(),
            action: format!("{route:?}"),
            target: target.to_string(),
            result: result.to_string(),
            request_id: format!("{}-{number}", std::process::id()),
            source: peer.ip().to_string(),
            prev: String::new(),
            hash: String::new(),
        };
        if let Err(error) = audit.append(record).await {
            tracing::error!(%error, "audit record not written");
        }
    }

    pub fn scans(&self) -> Vec<DriftScan> {
        parsed(&self.scans)
    }
    pub fn plans(&self) -> Vec<RemediationPlan> {
        parsed(&self.plans)
    }
    pub fn accounts(&self) -> Vec<ProviderAccount> {
        parsed(&self.accounts)
    }
}

/// A reflector over `K` in the watched scope, run in the background.
fn cache<K>(
    client: &Client,
    namespace: Option<&str>,
) -> (Store<DeserializeGuard<K>>, tokio::task::JoinHandle<()>)
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let api: Api<DeserializeGuard<K>> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default().any_semantic()))
        .default_backoff()
        .touched_objects();
    let task = tokio::spawn(stream.for_each(|event| async move {
        if let Err(error) = event {
            tracing::warn!(%error, "watch error; retrying with backoff");
        }
    }));
    (reader, task)
}

async fn health() -> &'static str {
    "ok"
}

async fn ready(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> (StatusCode, &'static str) {
    if state.synced.load(Ordering::Acquire) == 3 {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "watch caches are not synced yet")
    }
}

/// The `/api/v1` routes: method, path and handler. The router and the OpenAPI test
/// both read this table.
pub fn api_routes() -> Vec<(&'static str, &'static str, MethodRouter<Arc<AppState>>)> {
    vec![
        ("get", "/api/v1/accounts", get(routes::list_accounts)),
        ("get", "/api/v1/scans", get(routes::list_scans)),
        ("get", "/api/v1/scans/{namespace}/{name}", get(routes::get_scan)),
        ("post", "/api/v1/scans/{namespace}/{name}/scan", post(routes::trigger_scan)),
        ("get", "/api/v1/scans/{namespace}/{name}/report", get(routes::scan_report)),
        ("post", "/api/v1/scans/{namespace}/{name}/plan", post(routes::generate_plan)),
        ("get", "/api/v1/plans", get(routes::list_plans)),
        ("get", "/api/v1/plans/{namespace}/{name}", get(routes::get_plan)),
        ("post", "/api/v1/plans/{namespace}/{name}/approve", post(routes::approve_plan)),
        ("post", "/api/v1/plans/{namespace}/{name}/rollback", post(routes::rollback_plan)),
        ("get", "/api/v1/audit", get(audit_routes::list_audit)),
        ("get", "/api/v1/audit/verify", get(audit_routes::verify_audit)),
    ]
}

/// The routes (`/api/v1/...`, `/openapi.json`, `/health`, `/health/live`, `/health/ready`).
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/health/live", get(health))
        .route("/health/ready", get(ready))
        .route("/openapi.json", get(openapi::openapi_json));
    for (_, path, handler) in api_routes() {
        router = router.route(path, handler);
    }
    router.with_state(state)
}

/// Serves the API until SIGTERM or Ctrl-C.
pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let bindings = RoleBindings::parse(&args.user_role, &args.group_role).map_err(anyhow::Error::msg)?;
    let client = Client::try_default().await?;
    let namespace = args.watch_namespace.as_deref();
    let (scans, scan_task) = cache::<DriftScan>(&client, namespace);
    let (plans, plan_task) = cache::<RemediationPlan>(&client, namespace);
    let (accounts, account_task) = cache::<ProviderAccount>(&client, namespace);
    let own_user = crate::controller::self_username(&client).await?;
    info!(user = %own_user, "API identity");
    let audit = match &args.audit_namespace {
        Some(namespace) => Some(
            AuditLog::open(
                client.clone(),
                namespace,
                &args.audit_key_secret,
                args.audit_segment_records as usize,
            )
            .await?,
        ),
        None => None,
    };
    let state = Arc::new(AppState {
        client,
        bindings,
        own_user,
        reviews: auth::ReviewCache::new(REVIEW_TTL, 4096),
        scans: scans.clone(),
        plans: plans.clone(),
        accounts: accounts.clone(),
        synced: AtomicUsize::new(0),
        audit,
        requests: std::sync::atomic::AtomicU64::new(0),
    });
    let waits = [
        async move { scans.wait_until_ready().await }.boxed(),
        async move { plans.wait_until_ready().await }.boxed(),
        async move { accounts.wait_until_ready().await }.boxed(),
    ];
    for waiting in waits {
        let state = state.clone();
        tokio::spawn(async move {
            if waiting.await.is_ok() {
                state.synced.fetch_add(1, Ordering::AcqRel);
            }
        });
    }
    let listener = TcpListener::bind(args.listen).await?;
    info!(address = %listener.local_addr()?, "API serving");
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(crate::operator::forward_signals(stop));
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let service = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await?;
    for task in [scan_task, plan_task, account_task] {
        task.abort();
    }
    Ok(())
}
