//! The auditor's routes: query the trail, and verify it end to end.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::AppState;
use super::access::{ApiError, authorize};
use super::auth::Route;
use super::routes::page;
use crate::audit::chain::{Record, verify};

fn unavailable() -> ApiError {
    ApiError::NotFound("the audit trail is not enabled (--audit-namespace)".into())
}

/// Records matching `actor`, `action`, `since` and `until` (RFC 3339), oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(("actor" = Option<String>, Query, description = "only this user"), ("action" = Option<String>, Query, description = "only this route"),
        ("since" = Option<String>, Query, description = "RFC 3339"), ("until" = Option<String>, Query, description = "RFC 3339"), ("limit" = Option<u32>, Query, description = "items per page, 1 to 500 (50)"), ("continue" = Option<String>, Query, description = "token from the previous page")),
    responses((status = 200, description = "audit records, oldest first"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn list_audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::ReadAudit, "audit").await?;
    let audit = state.audit.as_ref().ok_or_else(unavailable)?;
    let segments = audit.load().await.map_err(|e| ApiError::Upstream(e.to_string()))?;
    let records: Vec<Record> = segments
        .iter()
        .flat_map(|s| {
            s.text.lines().filter_map(|l| serde_json::from_str::<Record>(l).ok()).collect::<Vec<_>>()
        })
        .filter(|r| query.get("actor").is_none_or(|a| &r.actor == a))
        .filter(|r| query.get("action").is_none_or(|a| &r.action == a))
        .filter(|r| query.get("since").is_none_or(|t| r.time.as_str() >= t.as_str()))
        .filter(|r| query.get("until").is_none_or(|t| r.time.as_str() <= t.as_str()))
        .collect();
    let (items, next) = page(&records, &query)?;
    Ok(Json(json!({"items": items, "continue": next, "total": records.len()})))
}

/// Walks the chain and the signed digests; names the first broken link.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "intact, or the first broken link"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn verify_audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::VerifyAudit, "audit").await?;
    let audit = state.audit.as_ref().ok_or_else(unavailable)?;
    let segments = audit.load().await.map_err(|e| ApiError::Upstream(e.to_string()))?;
    Ok(Json(serde_json::to_value(verify(&segments, &audit.public_key())).unwrap_or_default()))
}
