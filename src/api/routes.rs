//! The `/api/v1` handlers. Reads come from the watch caches (every replica serves
//! the same data without leadership); a scan is triggered by patching its
//! `driftmgr.io/scan-requested` annotation.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::{info, warn};

use super::AppState;
pub use super::access::{ApiError, authorize};
use super::auth::{Caller, Route};
use crate::controller::report_store;
use crate::crd::{
    DriftItem, DriftScan, GENERATE_PLAN_ANNOTATION, ProviderAccount, SCAN_REQUESTED_ANNOTATION,
    find_condition,
};

/// Most items one page returns.
pub const MAX_LIMIT: usize = 500;
const DEFAULT_LIMIT: usize = 50;

/// A page of `items` (pure): `limit` and the opaque `continue` token from the query.
pub fn page<T: Clone>(
    items: &[T],
    query: &HashMap<String, String>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "limit: {text:?} is not a number from 1 to {MAX_LIMIT}"
                )));
            }
        },
    };
    let start = match query.get("continue") {
        None => 0,
        Some(token) => token.parse::<usize>().ok().filter(|n| *n <= items.len()).ok_or_else(|| {
            ApiError::BadRequest(format!("continue: {token:?} is not a token this list returned"))
        })?,
    };
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

/// A DriftScan as lists show it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanView {
    pub namespace: String,
    pub name: String,
    pub account: String,
    pub phase: Option<String>,
    pub drifted: Option<String>,
    pub last_scan_time: Option<String>,
    pub modified: u64,
    pub missing: u64,
    pub unmanaged: u64,
    pub report_generation: Option<i64>,
}

fn scan_view(scan: &DriftScan) -> ScanView {
    // Borrowed: a status can hold hundreds of KiB of items that a list never shows.
    let status = scan.status.as_ref();
    let summary = status.and_then(|s| s.summary.as_ref());
    let count = |pick: fn(&crate::crd::ScanSummary) -> u64| summary.map_or(0, pick);
    ScanView {
        namespace: scan.namespace().unwrap_or_default(),
        name: scan.name_any(),
        account: scan.spec.provider_account_ref.name.clone(),
        phase: status.and_then(|s| s.phase).map(|p| format!("{p:?}")),
        drifted: status.and_then(|s| find_condition(&s.conditions, "Drifted")).map(|c| c.status.clone()),
        last_scan_time: status.and_then(|s| s.last_scan_time.as_ref()).map(|t| t.0.to_string()),
        modified: count(|s| s.modified),
        missing: count(|s| s.missing),
        unmanaged: count(|s| s.unmanaged),
        report_generation: status.and_then(|s| s.report_ref.as_ref()).map(|r| r.generation),
    }
}

/// Every scan as lists show it, sorted by namespace and name (pure). The API keeps
/// this until a scan changes, so a list only filters and pages.
pub fn scan_views<'a>(scans: impl IntoIterator<Item = &'a DriftScan>) -> Vec<ScanView> {
    let mut views: Vec<ScanView> = scans.into_iter().map(scan_view).collect();
    views.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    views
}

/// The views matching the query, sorted as it asks (pure).
pub fn select_views<'a>(
    views: &'a [ScanView],
    query: &HashMap<String, String>,
) -> Result<Vec<&'a ScanView>, ApiError> {
    let drifted = match query.get("drifted").map(String::as_str) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(ApiError::BadRequest(format!("drifted: {other:?} is not true or false"))),
    };
    let mut selected: Vec<&ScanView> = views
        .iter()
        .filter(|v| query.get("namespace").is_none_or(|n| &v.namespace == n))
        .filter(|v| query.get("account").is_none_or(|a| &v.account == a))
        .filter(|v| query.get("phase").is_none_or(|p| v.phase.as_ref() == Some(p)))
        .filter(|v| drifted.is_none_or(|d| (v.drifted.as_deref() == Some("True")) == d))
        .collect();
    match query.get("sort").map(String::as_str).unwrap_or("name") {
        "name" => {}
        "lastScanTime" => selected.sort_by(|a, b| b.last_scan_time.cmp(&a.last_scan_time)),
        "modified" => selected.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.name.cmp(&b.name))),
        other => {
            return Err(ApiError::BadRequest(format!(
                "sort: {other:?} is not one of name, lastScanTime, modified"
            )));
        }
    }
    Ok(selected)
}

pub(super) fn listed<T: Serialize>(items: Vec<T>, next: Option<String>, total: usize) -> Json<Value> {
    Json(json!({"items": items, "continue": next, "total": total}))
}

#[utoipa::path(get, path = "/api/v1/scans", tag = "scans", security(("bearer" = [])),
    params(("namespace" = Option<String>, Query, description = "only this namespace"),
        ("account" = Option<String>, Query, description = "only scans of this ProviderAccount"),
        ("phase" = Option<String>, Query, description = "Pending, Completed or Failed"),
        ("drifted" = Option<bool>, Query, description = "only scans whose Drifted condition is (not) True"),
        ("sort" = Option<String>, Query, description = "name (default), lastScanTime or modified"), ("limit" = Option<u32>, Query, description = "items per page, 1 to 500 (50)"), ("continue" = Option<String>, Query, description = "token from the previous page")),
    responses((status = 200, description = "DriftScans, paged"), (status = 400, description = "a bad parameter, named"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn list_scans(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::ListScans, "scans").await?;
    let views = state.scan_views();
    let selected = select_views(&views, &query)?;
    let (items, next) = page(&selected, &query)?;
    Ok(listed(items, next, selected.len()))
}

/// The cached object `namespace/name` of `kind`, or 404 naming it.
pub(super) fn find<K>(object: Option<K>, kind: &str, namespace: &str, name: &str) -> Result<K, ApiError> {
    object.ok_or_else(|| ApiError::NotFound(format!("{kind} {namespace}/{name} was not found")))
}

#[utoipa::path(get, path = "/api/v1/scans/{namespace}/{name}", tag = "scans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 200, description = "spec and status"), (status = 404, description = "no such scan"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn get_scan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::GetScan, &format!("{namespace}/{name}")).await?;
    let scan = find(state.scan(&namespace, &name), "DriftScan", &namespace, &name)?;
    Ok(Json(json!({"namespace": namespace, "name": name, "spec": scan.spec, "status": scan.status})))
}

/// The report's items that match `kind`, `type` and `severity` (pure).
pub fn select_items(
    items: &[DriftItem],
    query: &HashMap<String, String>,
) -> Result<Vec<DriftItem>, ApiError> {
    let parse = |name: &str| -> Result<Option<String>, ApiError> {
        let Some(text) = query.get(name) else { return Ok(None) };
        let known: &[&str] = match name {
            "kind" => &["Modified", "Missing", "Unmanaged"],
            _ => &["Critical", "High", "Medium", "Low"],
        };
        if known.contains(&text.as_str()) {
            Ok(Some(text.clone()))
        } else {
            Err(ApiError::BadRequest(format!("{name}: {text:?} is not one of {}", known.join(", "))))
        }
    };
    let (kind, severity) = (parse("kind")?, parse("severity")?);
    Ok(items
        .iter()
        .filter(|i| kind.as_ref().is_none_or(|k| format!("{:?}", i.kind) == *k))
        .filter(|i| severity.as_ref().is_none_or(|s| format!("{:?}", i.severity) == *s))
        .filter(|i| query.get("type").is_none_or(|t| &i.type_ == t))
        .cloned()
        .collect())
}

/// The scan's complete report (from its report ConfigMaps), its items filtered and paged.
#[utoipa::path(get, path = "/api/v1/scans/{namespace}/{name}/report", tag = "scans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name"), ("kind" = Option<String>, Query, description = "Modified, Missing or Unmanaged"),
        ("type" = Option<String>, Query, description = "a Terraform type"),
        ("severity" = Option<String>, Query, description = "Critical, High, Medium or Low"), ("limit" = Option<u32>, Query, description = "items per page, 1 to 500 (50)"), ("continue" = Option<String>, Query, description = "token from the previous page")),
    responses((status = 200, description = "the complete report, items filtered and paged"), (status = 404, description = "no scan or no report yet"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn scan_report(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::GetReport, &format!("{namespace}/{name}")).await?;
    let scan = find(state.scan(&namespace, &name), "DriftScan", &namespace, &name)?;
    let reference = scan
        .status
        .and_then(|s| s.report_ref)
        .ok_or_else(|| ApiError::NotFound(format!("DriftScan {namespace}/{name} has no report yet")))?;
    let report = report_store::load(&state.client, &namespace, &reference).await.map_err(|e| match e {
        report_store::ReportReadError::PartMissing(_) => ApiError::NotFound(format!("{e}; try again")),
        other => ApiError::Upstream(other.to_string()),
    })?;
    let items = select_items(&report.items, &query)?;
    let (page_items, next) = page(&items, &query)?;
    Ok(Json(json!({
        "generation": reference.generation, "generatedAt": report.generated_at, "summary": report.summary,
        "items": page_items, "continue": next, "total": items.len(),
    })))
}

/// Merge-patches an annotation or field of one object for the caller, and audits it.
pub(super) async fn write_for<K>(
    state: &AppState,
    caller: &Caller,
    (peer, headers): (SocketAddr, &HeaderMap),
    route: Route,
    (namespace, name): (&str, &str),
    patch: Value,
) -> Result<(), ApiError>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(state.client.clone(), namespace);
    let outcome = api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await;
    let target = format!("{namespace}/{name}");
    let (result, answer) = match outcome {
        Ok(_) => ("allowed 202".to_string(), Ok(())),
        Err(kube::Error::Api(s)) if s.code == 403 || s.code == 422 => {
            (format!("failed {}", s.code), Err(ApiError::Forbidden(s.message)))
        }
        Err(e) => {
            warn!(object = %target, error = %e, "write through the API failed");
            (
                "failed 502".to_string(),
                Err(ApiError::Upstream(format!("the change could not be written: {e}"))),
            )
        }
    };
    state.record(Some(caller), route, &target, &result, peer, headers).await;
    if answer.is_ok() {
        info!(user = %caller.user, object = %target, action = ?route, "written through the API");
    }
    answer
}

/// Sets a request annotation of the scan (`driftmgr.io/scan-requested`,
/// `driftmgr.io/generate-plan`) to a value naming the caller, `api/<user>/<millis>`,
/// and audits it; the value.
async fn request_on_scan(
    state: &AppState,
    caller: &Caller,
    origin: (SocketAddr, &HeaderMap),
    route: Route,
    (namespace, name): (&str, &str),
    annotation: &str,
) -> Result<String, ApiError> {
    let request = format!("api/{}/{}", caller.user, Timestamp::now().as_millisecond());
    let patch = json!({"metadata": {"annotations": {annotation: request}}});
    write_for::<DriftScan>(state, caller, origin, route, (namespace, name), patch).await?;
    Ok(request)
}

#[utoipa::path(post, path = "/api/v1/scans/{namespace}/{name}/scan", tag = "scans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 202, description = "a scan was requested (driftmgr.io/scan-requested)"), (status = 404, description = "no such scan"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn trigger_scan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller =
        authorize(&state, &headers, peer, Route::TriggerScan, &format!("{namespace}/{name}")).await?;
    find(state.scan(&namespace, &name), "DriftScan", &namespace, &name)?;
    let request = request_on_scan(
        &state,
        &caller,
        (peer, &headers),
        Route::TriggerScan,
        (&namespace, &name),
        SCAN_REQUESTED_ANNOTATION,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"request": request}))))
}

/// Asks the scan for a plan built from its current report (`driftmgr.io/generate-plan`).
#[utoipa::path(post, path = "/api/v1/scans/{namespace}/{name}/plan", tag = "plans", security(("bearer" = [])),
    params(("namespace" = String, Path, description = "namespace"), ("name" = String, Path, description = "name")),
    responses((status = 202, description = "a plan was requested (driftmgr.io/generate-plan)"), (status = 409, description = "the scan has no report yet"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn generate_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let caller =
        authorize(&state, &headers, peer, Route::GeneratePlan, &format!("{namespace}/{name}")).await?;
    let scan = find(state.scan(&namespace, &name), "DriftScan", &namespace, &name)?;
    let generation = scan.status.and_then(|s| s.report_ref).map(|r| r.generation).ok_or_else(|| {
        ApiError::Conflict(format!("DriftScan {namespace}/{name} has no report to build a plan from yet"))
    })?;
    let request = request_on_scan(
        &state,
        &caller,
        (peer, &headers),
        Route::GeneratePlan,
        (&namespace, &name),
        GENERATE_PLAN_ANNOTATION,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"request": request, "reportGeneration": generation}))))
}

/// Views in the requested namespace (if any), sorted by namespace and name, paged.
pub(super) fn by_name(
    views: impl Iterator<Item = Value>,
    query: &HashMap<String, String>,
) -> Result<Json<Value>, ApiError> {
    let mut views: Vec<Value> =
        views.filter(|v| query.get("namespace").is_none_or(|n| v["namespace"].as_str() == Some(n))).collect();
    views.sort_by(|a, b| {
        (a["namespace"].as_str(), a["name"].as_str()).cmp(&(b["namespace"].as_str(), b["name"].as_str()))
    });
    let (items, next) = page(&views, query)?;
    Ok(listed(items, next, views.len()))
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", security(("bearer" = [])),
    params(("namespace" = Option<String>, Query, description = "only this namespace"), ("limit" = Option<u32>, Query, description = "items per page, 1 to 500 (50)"), ("continue" = Option<String>, Query, description = "token from the previous page")),
    responses((status = 200, description = "ProviderAccounts: provider, account id, Ready"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route")))]
pub async fn list_accounts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers, peer, Route::ListAccounts, "accounts").await?;
    let accounts = state.accounts();
    let views = super::parsed(&accounts).map(|a: &ProviderAccount| {
        let status = a.status.clone().unwrap_or_default();
        json!({
            "namespace": a.namespace(), "name": a.name_any(), "provider": a.spec.provider,
            "accountId": status.account_id,
            "ready": find_condition(&status.conditions, "Ready").map(|c| c.status.clone()),
        })
    });
    by_name(views, &query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(ns: &str, name: &str, account: &str, modified: u64, drifted: &str) -> DriftScan {
        serde_json::from_value(json!({
            "apiVersion": "driftmgr.io/v1alpha1", "kind": "DriftScan",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"providerAccountRef": {"name": account}, "stateSources": [{"s3": {"bucket": "b", "key": "k"}}]},
            "status": {"phase": "Completed", "summary": {"managed": 1, "inSync": 0, "modified": modified, "missing": 0,
                "unmanaged": 0, "ignored": 0, "coveragePercent": 100.0},
                "conditions": [{"type": "Drifted", "status": drifted, "reason": "r", "message": "m",
                    "lastTransitionTime": "2026-12-01T00:00:00Z"}]}
        }))
        .expect("scan")
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn scans_filter_sort_and_page() {
        let scans = vec![
            scan("b", "net", "prod", 3, "True"),
            scan("a", "web", "prod", 0, "False"),
            scan("a", "db", "dev", 7, "True"),
        ];
        let names = |views: &[ScanView]| {
            views.iter().map(|v| format!("{}/{}", v.namespace, v.name)).collect::<Vec<_>>()
        };
        let views = scan_views(&scans);
        let select = |q: &[(&str, &str)]| {
            select_views(&views, &query(q)).map(|v| v.into_iter().cloned().collect::<Vec<ScanView>>())
        };
        let all = select(&[]).expect("list");
        assert_eq!(names(&all), ["a/db", "a/web", "b/net"]);
        let drifted = select(&[("drifted", "true"), ("sort", "modified")]).expect("list");
        assert_eq!(names(&drifted), ["a/db", "b/net"]);
        assert_eq!(names(&select(&[("account", "prod"), ("namespace", "a")]).expect("list")), ["a/web"]);
        let (first, next) = page(&all, &query(&[("limit", "2")])).expect("page");
        assert_eq!(
            (names(&first), next.as_deref()),
            (vec!["a/db".to_string(), "a/web".to_string()], Some("2"))
        );
        let (rest, next) = page(&all, &query(&[("limit", "2"), ("continue", "2")])).expect("page");
        assert_eq!((names(&rest), next), (vec!["b/net".to_string()], None));
    }

    #[test]
    fn report_items_filter_by_kind_type_and_severity() {
        let report: crate::drift::Report =
            serde_json::from_str(include_str!("../../tests/fixtures/objects/plan-report.json"))
                .expect("fixture");
        let ids = |items: Vec<DriftItem>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(
            ids(select_items(&report.items, &query(&[("kind", "Modified")])).expect("ok")),
            ["sg-1", "i-1"]
        );
        assert_eq!(
            ids(select_items(&report.items, &query(&[("type", "aws_instance"), ("severity", "Medium")]))
                .expect("ok")),
            ["i-1", "i-rogue"]
        );
        let bad = select_items(&report.items, &query(&[("severity", "Severe")])).expect_err("refused");
        assert!(
            matches!(bad, ApiError::BadRequest(m) if m.starts_with("severity: \"Severe\" is not one of"))
        );
    }

    #[test]
    fn bad_queries_name_the_parameter() {
        let scans = vec![scan("a", "web", "prod", 0, "False")];
        let message = |e: ApiError| match e {
            ApiError::BadRequest(m) => m,
            other => panic!("{other:?}"),
        };
        assert!(
            message(select_views(&scan_views(&scans), &query(&[("drifted", "yes")])).expect_err("bad"))
                .starts_with("drifted:")
        );
        assert!(
            message(select_views(&scan_views(&scans), &query(&[("sort", "size")])).expect_err("bad"))
                .starts_with("sort:")
        );
        let views = scan_views(&scans);
        assert!(message(page(&views, &query(&[("limit", "0")])).expect_err("bad")).starts_with("limit:"));
        assert!(message(page(&views, &query(&[("limit", "9999")])).expect_err("bad")).starts_with("limit:"));
        assert!(
            message(page(&views, &query(&[("continue", "7")])).expect_err("bad")).starts_with("continue:")
        );
    }
}
