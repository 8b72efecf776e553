//! `/metrics`, `/healthz` and `/readyz`, served on every replica (leader or not).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use tokio::net::TcpListener;

use super::Metrics;

/// What the probes report. Liveness answers while the process serves (controllers
/// that end are restarted by the leadership loop); readiness waits for the first
/// API server contact.
#[derive(Default)]
pub struct HealthState {
    ready: AtomicBool,
}

impl HealthState {
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Arc<HealthState>,
}

/// Binds `addr` and serves until `shutdown` resolves. Returns the bound address
/// (useful when `addr` has port 0) and the server task.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: Arc<HealthState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { metrics, health });
    let task = tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await });
    Ok((bound, task))
}

async fn metrics_handler(State(state): State<AppState>) -> String {
    state.metrics.render()
}

async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.health.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}
