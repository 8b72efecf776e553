//! The OpenAPI description of the REST API, generated from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit_routes, events, plan_routes, routes, session_routes};

#[derive(OpenApi)]
#[openapi(
    info(title = "driftmgr API", description = "Drift scans, remediation plans and the audit trail. Authenticate with a Kubernetes token (Authorization: Bearer)."),
    paths(
        routes::list_accounts, routes::list_scans, routes::get_scan, routes::scan_report, routes::trigger_scan,
        routes::generate_plan, plan_routes::list_plans, plan_routes::get_plan, plan_routes::approve_plan,
        plan_routes::reject_plan, plan_routes::execute_plan, plan_routes::rollback_plan, events::events,
        session_routes::login, session_routes::refresh, session_routes::logout, session_routes::me,
        session_routes::create_key, session_routes::list_keys, session_routes::revoke_key,
        audit_routes::list_audit, audit_routes::verify_audit,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the paths require.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// `GET /openapi.json`.
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves under /api/v1 is described, and nothing else.
    #[test]
    fn every_route_is_described() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("json");
        let mut described: Vec<String> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object().into_iter().flatten().map(move |(method, _)| format!("{method} {path}"))
            })
            .collect();
        described.sort();
        let mut served: Vec<String> =
            super::super::api_routes().iter().map(|(m, p, _, _)| format!("{m} {p}")).collect();
        served.sort();
        assert_eq!(described, served);
        assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    }
}
