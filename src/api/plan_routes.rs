//! The `/api/v1/plans` handlers: read plans from the watch cache; approve, reject,
//! execute and roll back by patching the plan as the API, for the user it authenticated.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};
use tracing::info;

use super::AppState;
use super::access::{ApiError, authorize};
use super::auth::Route;
use super::routes::{by_name, find, write_for};
use crate::crd::RemediationPlan;

/// Merge-patches `spec` of a cached plan for an authorized caller, and audits it.
async fn set_spec(
    state: &AppState,
    (peer, headers): (SocketAddr, &HeaderMap),
    route: Route,
    (namespace, name): (&str, &str),
    spec: Value,
) -> Result<(), ApiError> {
    let caller = authorize(state, headers, peer, route, &format!("{namespace}/{name}")).await?;
    find(state.plan(namespace, name), "RemediationPlan", namespace, name)?;
    write_for::<RemediationPlan>(
        state,
        &caller,
        (peer, headers),
        route,
        (namespace, name),
        json!({"spec": spec}),
    )
    .await
}

/// Rolls a plan back (`spec.rollback: true`): the operator restores its snapshot.
#[utoipa::path(post, path = "/api/v1/plans/{namespace}/{name}/rollback", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 202, description = "rollback requested (spec.rollback)"), (status = 404, description = "no such plan"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn rollback_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = json!({"rollback": true});
    set_spec(&state, (peer, &headers), Route::RollbackPlan, (&namespace, &name), spec).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"rollback": true}))))
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", security(("bearer" = [])),
    params(("namespace" = Option<String>, Query, description = "only this namespace"), ("limit" = Option<u32>, Query, description = "items per page, 1 to 500 (50)"), ("continue" = Option<String>, Query, description = "token from the previous page")),
    responses((status = 200, description = "RemediationPlans: mode, phase, author, approvals"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn list_plans(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::ListPlans, "plans").await?;
    let plans = state.plans();
    let views = super::parsed(&plans).map(|p| {
        let status = p.status.clone().unwrap_or_default();
        json!({
            "namespace": p.namespace(), "name": p.name_any(), "scan": p.spec.drift_scan_ref.name,
            "mode": p.spec.mode, "phase": status.phase, "author": p.spec.author,
            "approvals": p.spec.approval.approvers.len(), "required": p.spec.approval.required,
        })
    });
    by_name(views, &query)
}

#[utoipa::path(get, path = "/api/v1/plans/{namespace}/{name}", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 200, description = "spec and status"), (status = 404, description = "no such plan"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn get_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::GetPlan, &format!("{namespace}/{name}")).await?;
    let plan = find(state.plan(&namespace, &name), "RemediationPlan", &namespace, &name)?;
    Ok(Json(json!({"namespace": namespace, "name": name, "spec": plan.spec, "status": plan.status})))
}

/// Approves a plan for the caller: the approval names the user the API authenticated,
/// marked `recordedBy` with the API's own user, which the admission policy trusts for
/// exactly this. The policy's other rules still hold: an author's own approval, or a
/// second one by the same user, is refused, and that refusal is passed on.
#[utoipa::path(post, path = "/api/v1/plans/{namespace}/{name}/approve", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")), request_body(content = String, description = "optional JSON: {\"comment\": \"...\"}"),
    responses((status = 200, description = "approved for the caller"), (status = 409, description = "the plan changed meanwhile; approve again"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route, or the admission policy refused")))]
pub async fn approve_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    decide(&state, (peer, &headers), (&namespace, &name), &body, Route::ApprovePlan).await
}

/// Rejects a plan for the caller: recorded like an approval, with `rejected: true`; the
/// plan's phase becomes `Rejected` and it never runs.
#[utoipa::path(post, path = "/api/v1/plans/{namespace}/{name}/reject", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")), request_body(content = String, description = "optional JSON: {\"comment\": \"...\"}"),
    responses((status = 200, description = "rejected for the caller"), (status = 409, description = "the plan changed meanwhile; reject again"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route, or the admission policy refused")))]
pub async fn reject_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    decide(&state, (peer, &headers), (&namespace, &name), &body, Route::RejectPlan).await
}

/// The optional `{"comment": "..."}` of an approval or rejection.
fn comment_of(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.is_empty() {
        return Ok(None);
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: not JSON: {e}")))?;
    match &body["comment"] {
        Value::Null => Ok(None),
        Value::String(text) if text.chars().count() <= 1024 => Ok(Some(text.clone())),
        _ => Err(ApiError::BadRequest("comment: a string of at most 1024 characters".into())),
    }
}

/// Records the caller's approval (or rejection) on the plan version read.
async fn decide(
    state: &AppState,
    (peer, headers): (SocketAddr, &HeaderMap),
    (namespace, name): (&str, &str),
    body: &[u8],
    route: Route,
) -> Result<Json<Value>, ApiError> {
    let target = format!("{namespace}/{name}");
    let caller = authorize(state, headers, peer, route, &target).await?;
    let comment = comment_of(body)?;
    let plans: Api<RemediationPlan> = Api::namespaced(state.client.clone(), namespace);
    let plan = plans
        .get_opt(name)
        .await
        .map_err(|e| ApiError::Upstream(format!("the plan could not be read: {e}")))?
        .ok_or_else(|| ApiError::NotFound(format!("RemediationPlan {namespace}/{name} was not found")))?;
    let mut record = json!({
        "user": caller.user,
        "time": Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "recordedBy": state.own_user,
    });
    if let Some(comment) = comment {
        record["comment"] = Value::String(comment);
    }
    if route == Route::RejectPlan {
        record["rejected"] = Value::Bool(true);
    }
    let add = if plan.spec.approval.approvers.is_empty() {
        json!({"op": "add", "path": "/spec/approval/approvers", "value": [record]})
    } else {
        json!({"op": "add", "path": "/spec/approval/approvers/-", "value": record})
    };
    // Applied only to the version read: a concurrent approval makes this one retry.
    let patch =
        json!([{"op": "test", "path": "/metadata/resourceVersion", "value": plan.resource_version()}, add]);
    let patch: json_patch::Patch =
        serde_json::from_value(patch).map_err(|e| ApiError::Upstream(e.to_string()))?;
    let outcome = approve_patch(&plans, name, patch, &caller.user).await;
    let result = match &outcome {
        Ok(_) => "allowed 200".to_string(),
        Err(error) => format!("failed {}", error.status().as_u16()),
    };
    state.record(Some(&caller), route, &target, &result, peer, headers).await;
    outcome
}

/// Asks a plan to execute once approved (`spec.mode: Execute`). The CRD refuses the
/// change once the plan has approvals: approvers approve what they saw.
#[utoipa::path(post, path = "/api/v1/plans/{namespace}/{name}/execute", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 202, description = "the plan is in Execute mode: it runs once approved"), (status = 404, description = "no such plan"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route, or the plan already has approvals")))]
pub async fn execute_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = json!({"mode": "Execute"});
    set_spec(&state, (peer, &headers), Route::ExecutePlan, (&namespace, &name), spec).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"mode": "Execute"}))))
}

/// Writes an approval patch; the admission policy's and the CRD's refusals become 403.
async fn approve_patch(
    plans: &Api<RemediationPlan>,
    name: &str,
    patch: json_patch::Patch,
    user: &str,
) -> Result<Json<Value>, ApiError> {
    match plans.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch)).await {
        Ok(updated) => {
            info!(%user, plan = %name, "plan approved through the API");
            Ok(Json(json!({
                "approvals": updated.spec.approval.approvers.len(),
                "required": updated.spec.approval.required,
            })))
        }
        Err(kube::Error::Api(status)) if status.code == 403 || status.code == 422 => {
            Err(ApiError::Forbidden(status.message))
        }
        Err(kube::Error::Api(status))
            if status.code == 409 || status.code == 500 && status.message.contains("test") =>
        {
            Err(ApiError::Conflict("the plan changed while it was approved; approve again".into()))
        }
        Err(error) => Err(ApiError::Upstream(format!("the approval could not be written: {error}"))),
    }
}
