//! `driftmgr api`: the sidecar HTTP API. It runs beside the operator on every
//! replica, reads through watch caches (reflectors) so every replica serves the same
//! data without leadership, and writes by patching the custom resources.
//!
//! Callers authenticate with a password session (JWT access and rotating refresh
//! tokens), an API key, or a Kubernetes token (TokenReview); one table maps each route
//! to the roles that may use it (`auth::ROUTES`); `access` is every request's way in.

pub mod access;
mod audit_routes;
pub mod auth;
mod dashboard;
pub mod events;
pub mod identity;
pub mod openapi;
mod plan_routes;
pub mod routes;
pub mod secrets;
mod session_routes;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
    /// Keep users, sessions, API keys and the token signing key in Secrets of this
    /// namespace (password logins and API keys are off when unset). With no users
    /// Secret yet, a bootstrap `admin` is created; its password is in Secret
    /// `driftmgr-api-initial-admin`.
    #[arg(long, env = "DRIFTMGR_AUTH_NAMESPACE")]
    pub auth_namespace: Option<String>,
    /// `iss` of the API's tokens; replicas sharing a namespace must agree.
    #[arg(long, default_value = "driftmgr")]
    pub token_issuer: String,
    /// Lifetime of an access token, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=3600))]
    pub access_token_seconds: u64,
    /// Lifetime of a refresh token (and an idle session), in seconds.
    #[arg(long, default_value_t = 43_200, value_parser = clap::value_parser!(u64).range(60..=2_592_000))]
    pub refresh_token_seconds: u64,
    /// Send the dashboard's cookies without `Secure`, for plain-HTTP development only.
    #[arg(long)]
    pub insecure_cookies: bool,
    /// Requests per second (and burst) one client address may make.
    #[arg(long, default_value_t = 200)]
    pub rate_per_ip: u32,
    /// Requests per second (and burst) one authenticated user may make.
    #[arg(long, default_value_t = 100)]
    pub rate_per_user: u32,
    /// Password login attempts per minute from one address.
    #[arg(long, default_value_t = 10)]
    pub logins_per_minute: u32,
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
    /// Password users, sessions and API keys, when enabled.
    pub identity: Option<identity::Identity>,
    pub limits: access::Limits,
    /// Bumped on every change to the scan cache.
    scan_version: Arc<AtomicU64>,
    /// The scans as lists show them, and the `scan_version` they were built at.
    scan_views: std::sync::Mutex<Option<(u64, Arc<Vec<routes::ScanView>>)>>,
    /// Scan and plan events for `/api/v1/events`.
    pub events: Arc<events::EventHub>,
    pub secure_cookies: bool,
    pub refresh_ttl: u64,
}

/// The objects of a cache, shared, not copied: lists borrow from them.
pub type Cached<K> = Vec<Arc<DeserializeGuard<K>>>;

/// The parsed objects of `cached`; objects that do not parse are left out.
pub fn parsed<K>(cached: &Cached<K>) -> impl Iterator<Item = &K> {
    cached.iter().filter_map(|guard| guard.0.as_ref().ok())
}

/// One object of a cache, by key, if it parsed.
fn lookup<K>(store: &Store<DeserializeGuard<K>>, namespace: &str, name: &str) -> Option<K>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + 'static,
{
    let key = reflector::ObjectRef::<DeserializeGuard<K>>::new(name).within(namespace);
    store.get(&key)?.0.as_ref().ok().cloned()
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
        headers: &axum::http::HeaderMap,
    ) {
        let Some(audit) = &self.audit else { return };
        let record = Record {
            seq: 0,
            time: k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            actor: caller.map_or_else(|| "anonymous".to_string(), |c| c.user.clone()),
            roles: caller.map(|c| c.roles.iter().map(|r| r.name().to_string()).collect()).unwrap_or_default(),
            action: format!("{route:?}"),
            target: target.to_string(),
            result: result.to_string(),
            request_id: access::request_id(headers),
            source: peer.ip().to_string(),
            prev: String::new(),
            hash: String::new(),
        };
        if let Err(error) = audit.append(record).await {
            tracing::error!(%error, "audit record not written");
        }
    }

    pub fn plans(&self) -> Cached<RemediationPlan> {
        self.plans.state()
    }
    pub fn accounts(&self) -> Cached<ProviderAccount> {
        self.accounts.state()
    }
    /// Every scan as lists show it, rebuilt only after the cache changed. The version is
    /// read before the cache, so a change during a rebuild makes the next list rebuild.
    pub fn scan_views(&self) -> Arc<Vec<routes::ScanView>> {
        let version = self.scan_version.load(Ordering::Acquire);
        if let Some((built, views)) = self.scan_views.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *built == version
        {
            return views.clone();
        }
        let cached = self.scans.state();
        let views = Arc::new(routes::scan_views(parsed(&cached)));
        *self.scan_views.lock().unwrap_or_else(|p| p.into_inner()) = Some((version, views.clone()));
        views
    }

    pub fn scan(&self, namespace: &str, name: &str) -> Option<DriftScan> {
        lookup(&self.scans, namespace, name)
    }
    pub fn plan(&self, namespace: &str, name: &str) -> Option<RemediationPlan> {
        lookup(&self.plans, namespace, name)
    }
}

/// A reflector over `K` in the watched scope, run in the background.
/// `on_change` hears every change to the cache: `Some` with an object added or
/// updated (that parsed), `None` for a deletion, a re-list, or an object that does not
/// parse.
fn cache<K>(
    client: &Client,
    namespace: Option<&str>,
    on_change: impl Fn(Option<&K>) + Send + Sync + 'static,
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
        .default_backoff();
    let task = tokio::spawn(stream.for_each(move |event| {
        match event {
            Ok(watcher::Event::Apply(guard) | watcher::Event::InitApply(guard)) => {
                on_change(guard.0.as_ref().ok())
            }
            Ok(_) => on_change(None),
            Err(error) => tracing::warn!(%error, "watch error; retrying with backoff"),
        }
        async {}
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

/// The `/api/v1` routes: method, path, the role table's name for it, and handler.
/// The router, the OpenAPI test and the role-matrix test all read this table.
pub fn api_routes() -> Vec<(&'static str, &'static str, Route, MethodRouter<Arc<AppState>>)> {
    vec![
        ("get", "/api/v1/accounts", Route::ListAccounts, get(routes::list_accounts)),
        ("get", "/api/v1/scans", Route::ListScans, get(routes::list_scans)),
        ("get", "/api/v1/scans/{namespace}/{name}", Route::GetScan, get(routes::get_scan)),
        ("post", "/api/v1/scans/{namespace}/{name}/scan", Route::TriggerScan, post(routes::trigger_scan)),
        ("get", "/api/v1/scans/{namespace}/{name}/report", Route::GetReport, get(routes::scan_report)),
        ("post", "/api/v1/scans/{namespace}/{name}/plan", Route::GeneratePlan, post(routes::generate_plan)),
        ("get", "/api/v1/plans", Route::ListPlans, get(plan_routes::list_plans)),
        ("get", "/api/v1/plans/{namespace}/{name}", Route::GetPlan, get(plan_routes::get_plan)),
        (
            "post",
            "/api/v1/plans/{namespace}/{name}/approve",
            Route::ApprovePlan,
            post(plan_routes::approve_plan),
        ),
        (
            "post",
            "/api/v1/plans/{namespace}/{name}/reject",
            Route::RejectPlan,
            post(plan_routes::reject_plan),
        ),
        (
            "post",
            "/api/v1/plans/{namespace}/{name}/execute",
            Route::ExecutePlan,
            post(plan_routes::execute_plan),
        ),
        (
            "post",
            "/api/v1/plans/{namespace}/{name}/rollback",
            Route::RollbackPlan,
            post(plan_routes::rollback_plan),
        ),
        ("get", "/api/v1/audit", Route::ReadAudit, get(audit_routes::list_audit)),
        ("get", "/api/v1/audit/verify", Route::VerifyAudit, get(audit_routes::verify_audit)),
        ("post", "/api/v1/auth/login", Route::Login, post(session_routes::login)),
        ("post", "/api/v1/auth/refresh", Route::Refresh, post(session_routes::refresh)),
        ("post", "/api/v1/auth/logout", Route::Logout, post(session_routes::logout)),
        ("get", "/api/v1/auth/me", Route::WhoAmI, get(session_routes::me)),
        ("post", "/api/v1/auth/keys", Route::ManageKeys, post(session_routes::create_key)),
        ("get", "/api/v1/auth/keys", Route::ManageKeys, get(session_routes::list_keys)),
        ("get", "/api/v1/events", Route::WatchEvents, get(events::events)),
        (
            "delete",
            "/api/v1/auth/keys/{id}",
            Route::ManageKeys,
            axum::routing::delete(session_routes::revoke_key),
        ),
    ]
}

/// The routes (`/api/v1/...`, `/openapi.json`, `/health`, `/health/live`, `/health/ready`).
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/health/live", get(health))
        .route("/health/ready", get(ready))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/", get(dashboard::index))
        .route("/assets/app.js", get(dashboard::script))
        .route("/assets/app.css", get(dashboard::style));
    for (_, path, _, handler) in api_routes() {
        router = router.route(path, handler);
    }
    harden(router, state.clone()).with_state(state)
}

/// Longest a request may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// The layers every response passes: request ids, security headers, a body limit, a
/// timeout, the per-address rate limit and the CSRF check. No CORS layer: the API and
/// the dashboard share an origin, and other origins get no CORS headers at all.
fn harden(router: Router<Arc<AppState>>, state: Arc<AppState>) -> Router<Arc<AppState>> {
    use axum::http::{HeaderName, HeaderValue, header};
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::set_header::SetResponseHeaderLayer;
    let request_id = HeaderName::from_static("x-request-id");
    let headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    let mut router = router
        .layer(axum::middleware::from_fn(access::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(state, access::ip_limit))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves the API until SIGTERM or Ctrl-C.
pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let bindings = RoleBindings::parse(&args.user_role, &args.group_role).map_err(anyhow::Error::msg)?;
    let client = Client::try_default().await?;
    let namespace = args.watch_namespace.as_deref();
    let hub = Arc::new(events::EventHub::default());
    let scan_version = Arc::new(AtomicU64::new(0));
    let (scans, scan_task) = cache::<DriftScan>(&client, namespace, {
        let (hub, version) = (hub.clone(), scan_version.clone());
        move |scan| {
            version.fetch_add(1, Ordering::AcqRel);
            scan.into_iter().for_each(|scan| hub.scan_seen(scan));
        }
    });
    let (plans, plan_task) = cache::<RemediationPlan>(&client, namespace, {
        let hub = hub.clone();
        move |plan| plan.into_iter().for_each(|plan| hub.plan_seen(plan))
    });
    let (accounts, account_task) = cache::<ProviderAccount>(&client, namespace, |_| {});
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
    let identity = match &args.auth_namespace {
        Some(namespace) => Some(
            identity::Identity::open(
                &client,
                namespace,
                &args.token_issuer,
                args.access_token_seconds,
                args.refresh_token_seconds,
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
        identity,
        events: hub,
        scan_version,
        scan_views: Default::default(),
        limits: access::Limits::new(args.rate_per_ip, args.rate_per_user, args.logins_per_minute),
        secure_cookies: !args.insecure_cookies,
        refresh_ttl: args.refresh_token_seconds,
    });
    let limits = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.limits.shrink();
        }
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
