//! API Gateway v2 (HTTP and WebSocket APIs), one declaration per type. APIs are listed
//! per region (GetApis, 500 a page); each API's routes and integrations take one paged
//! call each. Routes and integrations are parts of their API: the
//! API's `routes` are made of its `aws_apigatewayv2_route`s, so a route added in the
//! console shows on the API (unless the API is defined by an OpenAPI `body`). Stages
//! take one more paged call per API; Terraform knows a stage by its name alone
//! (`$default` on every HTTP API), so discovery knows it as `<api id>/<name>`. Custom
//! domain names are listed per region (GetDomainNames), their API mappings with one
//! paged GetApiMappings per domain.

use std::sync::Arc;

use aws_sdk_apigatewayv2::types::{Api, ApiMapping, DomainName, Integration, Route, Stage};
use serde_json::{Value, json};

use super::entries::each;
use super::listing::{failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::{Fold, LiveResource};

const READ: &[&str] = &["apigateway:GET"];
const PER_API: &[&str] = &["GetApis", "GetRoutes", "GetIntegrations", "GetStages"];

const fn v2(list: super::types::ListFn) -> Listing {
    Listing::List {
        scope: Scope::Regional,
        service: "apigatewayv2",
        operations: PER_API,
        page_size: Some(500),
        actions: READ,
        list,
    }
}

/// The API Gateway v2 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("name", Scalar),
            ("protocol_type", Scalar),
            ("description", Scalar),
            ("route_selection_expression", Scalar),
            ("api_key_selection_expression", Scalar),
            ("disable_execute_api_endpoint", Scalar),
            ("routes", Entries(each)),
            ("tags", Tags),
        ],
        defaults: &[("disable_execute_api_endpoint", "false")],
        severity: &[("routes", Severity::High), ("disable_execute_api_endpoint", Severity::High)],
        not_compared: &[("body", "an OpenAPI definition: its routes are not compared on the API")],
        parts: &["routes"],
        not_applicable: &[("routes", defined_by_body)],
        ..AwsType::new("aws_apigatewayv2_api", v2(list_api))
    },
    AwsType {
        compared: &[
            ("route_key", Scalar),
            ("target", Scalar),
            ("authorization_type", Scalar),
            ("authorizer_id", Scalar),
            ("api_key_required", Scalar),
            ("authorization_scopes", StringSet),
            ("operation_name", Scalar),
        ],
        defaults: &[("authorization_type", "NONE"), ("api_key_required", "false")],
        severity: &[("authorization_type", Severity::High), ("target", Severity::High)],
        fold: Some(fold_route),
        ..AwsType::new("aws_apigatewayv2_route", v2(list_route))
    },
    AwsType {
        compared: &[
            ("integration_type", Scalar),
            ("integration_uri", Scalar),
            ("integration_method", Scalar),
            ("connection_type", Scalar),
            ("connection_id", Scalar),
            ("credentials_arn", Scalar),
            ("payload_format_version", Scalar),
            ("timeout_milliseconds", Scalar),
            ("passthrough_behavior", Scalar),
        ],
        defaults: &[("connection_type", "INTERNET"), ("timeout_milliseconds", "29000")],
        severity: &[("integration_uri", Severity::High), ("credentials_arn", Severity::High)],
        ..AwsType::new("aws_apigatewayv2_integration", v2(list_integration))
    },
    AwsType {
        compared: &[
            ("auto_deploy", Scalar),
            ("description", Scalar),
            ("access_log_settings", Entries(access_logs)),
            ("default_route_settings", Entries(route_settings)),
            ("client_certificate_id", Scalar),
        ],
        defaults: &[("auto_deploy", "false")],
        // Access logs off, or throttling lifted: what lets abuse through unseen.
        severity: &[("access_log_settings", Severity::High), ("default_route_settings", Severity::High)],
        not_compared: &[
            ("deployment_id", "an auto-deployed stage moves to each new deployment by itself"),
            ("stage_variables, route_settings", "not yet"),
        ],
        match_by: Some(|a| {
            let text = |key: &str| a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
            Some(format!("{}/{}", text("api_id")?, text("name")?))
        }),
        ..AwsType::new("aws_apigatewayv2_stage", v2(list_stage))
    },
    AwsType {
        compared: &[
            ("domain_name_configuration", Entries(domain_configuration)),
            ("mutual_tls_authentication", Entries(mutual_tls)),
            ("tags", Tags),
        ],
        // The certificate served and the TLS policy: a downgrade or another certificate.
        severity: &[
            ("domain_name_configuration", Severity::High),
            ("mutual_tls_authentication", Severity::High),
        ],
        ..AwsType::new(
            "aws_apigatewayv2_domain_name",
            Listing::List {
                scope: Scope::Regional,
                service: "apigatewayv2",
                operations: &["GetDomainNames"],
                page_size: Some(500),
                actions: READ,
                list: list_domain_name,
            },
        )
    },
    AwsType {
        compared: &[("api_id", Scalar), ("stage", Scalar), ("api_mapping_key", Scalar)],
        severity: &[("api_id", Severity::High)],
        ..AwsType::new(
            "aws_apigatewayv2_api_mapping",
            Listing::List {
                scope: Scope::Regional,
                service: "apigatewayv2",
                operations: &["GetDomainNames", "GetApiMappings"],
                page_size: Some(500),
                actions: READ,
                list: list_api_mapping,
            },
        )
    },
];

/// A route on its API's `routes` (it is also listed and compared on its own).
fn fold_route(a: &Attributes) -> Option<Fold> {
    let text = |key: &str| a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (api, key) = (text("api_id")?, text("route_key")?);
    Some(Fold {
        verify_via_parent: false,
        ..super::fold::fold("aws_apigatewayv2_api", api, "routes", json!(key))
    })
}

/// One API and its parts.
pub struct HttpApi {
    api: Api,
    routes: Vec<Route>,
    integrations: Vec<Integration>,
    stages: Vec<Stage>,
}

/// One region's v2 APIs, read once for the three types of a discovery.
pub type ApiListing = tokio::sync::OnceCell<Result<Arc<Vec<HttpApi>>, (String, String)>>;

fn client(cx: &ListContext<'_>) -> aws_sdk_apigatewayv2::Client {
    cx.provider.apigatewayv2_client(cx.region)
}

/// Pages of one API's parts (`GetRoutes`, `GetIntegrations`).
macro_rules! parts_of {
    ($cx:expr, $client:expr, $api:expr, $op:literal, $call:ident, $items:ident) => {
        paginate(&$cx.guard, "apigatewayv2", $op, |token| {
            let request = $client.$call().api_id($api).max_results("500").set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.$items().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?
    };
}

async fn apis<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<HttpApi>>, (String, String)> {
    cx.http_apis
        .get_or_init(|| async {
            let apigw = client(cx);
            let listed = paginate(&cx.guard, "apigatewayv2", "GetApis", |token| {
                let request = apigw.get_apis().max_results("500").set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.items().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            let read = read_each(listed, |api| async move {
                let Some(id) = api.api_id().map(str::to_string) else { return Ok(None) };
                let apigw = client(cx);
                let routes = parts_of!(cx, apigw, &id, "GetRoutes", get_routes, items);
                let integrations = parts_of!(cx, apigw, &id, "GetIntegrations", get_integrations, items);
                let stages = parts_of!(cx, apigw, &id, "GetStages", get_stages, items);
                Ok(Some(HttpApi { api, routes, integrations, stages }))
            });
            read.await.map(Arc::new)
        })
        .await
        .clone()
}

fn live(type_: &str, id: &str, region: &str, attributes: Value) -> LiveResource {
    super::mapping::live(type_, id, Some(region), attributes)
}

fn part(type_: &str, id: &str, api: &str, region: &str, attributes: Value) -> LiveResource {
    let part_of = Some(("aws_apigatewayv2_api".to_string(), api.to_string()));
    LiveResource { part_of, ..live(type_, id, region, attributes) }
}

fn from_apis<'a>(cx: &'a ListContext<'a>, map: fn(&[HttpApi], &str) -> Vec<LiveResource>) -> Listed<'a> {
    Box::pin(async move { Ok(map(&apis(cx).await?, cx.region)) })
}

fn list_api<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        apis.iter()
            .filter_map(|a| {
                let api = &a.api;
                let id = api.api_id()?;
                let attributes = json!({
                    "id": id, "name": api.name(), "protocol_type": api.protocol_type().map(|p| p.as_str()),
                    "description": api.description(), "route_selection_expression": api.route_selection_expression(),
                    "api_key_selection_expression": api.api_key_selection_expression(),
                    "disable_execute_api_endpoint": api.disable_execute_api_endpoint(),
                    "routes": a.routes.iter().filter_map(|r| r.route_key()).collect::<Vec<_>>(),
                    "tags": api.tags(),
                });
                Some(live("aws_apigatewayv2_api", id, region, attributes))
            })
            .collect()
    })
}

fn list_route<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let routes =
            apis.iter().flat_map(|a| a.routes.iter().map(move |r| (a.api.api_id().unwrap_or_default(), r)));
        routes
            .filter_map(|(api, r)| {
                let id = r.route_id()?;
                let attributes = json!({
                    "id": id, "api_id": api, "route_key": r.route_key(), "target": r.target(),
                    "authorization_type": r.authorization_type().map(|t| t.as_str()),
                    "authorizer_id": r.authorizer_id(), "api_key_required": r.api_key_required(),
                    "authorization_scopes": r.authorization_scopes(), "operation_name": r.operation_name(),
                });
                Some(part("aws_apigatewayv2_route", id, api, region, attributes))
            })
            .collect()
    })
}

fn list_integration<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let integrations = apis
            .iter()
            .flat_map(|a| a.integrations.iter().map(move |i| (a.api.api_id().unwrap_or_default(), i)));
        integrations
            .filter_map(|(api, i)| {
                let id = i.integration_id()?;
                let attributes = json!({
                    "id": id, "api_id": api, "integration_type": i.integration_type().map(|t| t.as_str()),
                    "integration_uri": i.integration_uri(), "integration_method": i.integration_method(),
                    "connection_type": i.connection_type().map(|c| c.as_str()), "connection_id": i.connection_id(),
                    "credentials_arn": i.credentials_arn(), "payload_format_version": i.payload_format_version(),
                    "timeout_milliseconds": i.timeout_in_millis(),
                    "passthrough_behavior": i.passthrough_behavior().map(|p| p.as_str()),
                });
                Some(part("aws_apigatewayv2_integration", id, api, region, attributes))
            })
            .collect()
    })
}

fn list_stage<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let stages =
            apis.iter().flat_map(|a| a.stages.iter().map(move |s| (a.api.api_id().unwrap_or_default(), s)));
        stages
            .filter_map(|(api, s)| {
                let name = s.stage_name()?;
                let id = format!("{api}/{name}");
                let logs = s.access_log_settings().map(|l| json!([{"destination_arn": l.destination_arn(), "format": l.format()}]));
                let route = s.default_route_settings().map(|r| {
                    json!([{
                        "data_trace_enabled": r.data_trace_enabled(), "detailed_metrics_enabled": r.detailed_metrics_enabled(),
                        "logging_level": r.logging_level().map(|l| l.as_str()),
                        "throttling_burst_limit": r.throttling_burst_limit(), "throttling_rate_limit": r.throttling_rate_limit(),
                    }])
                });
                let attributes = json!({
                    "id": id, "api_id": api, "name": name, "auto_deploy": s.auto_deploy(), "description": s.description(),
                    "access_log_settings": logs.unwrap_or_else(|| json!([])),
                    "default_route_settings": route.unwrap_or_else(|| json!([])),
                    "client_certificate_id": s.client_certificate_id(),
                });
                Some(live("aws_apigatewayv2_stage", &id, region, attributes))
            })
            .collect()
    })
}

/// Access logging as `<destination> <format>`; none when no block or no destination.
fn access_logs(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .filter_map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            (!text("destination_arn").is_empty())
                .then(|| format!("{} {}", text("destination_arn"), text("format")))
        })
        .collect()
}

/// A stage's default route settings; an absent value (or block) is AWS's (off, no throttling
/// limit, logging `OFF`), so the provider's zero block and AWS's sparse one agree.
fn route_settings(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let empty = serde_json::Map::new();
    let mut blocks: Vec<&serde_json::Map<String, Value>> = super::entries::blocks(value).collect();
    if blocks.is_empty() {
        blocks.push(&empty); // no block: every setting at AWS's default
    }
    blocks
        .into_iter()
        .map(|b| {
            let flag = |k: &str| b.get(k).and_then(Value::as_bool).unwrap_or(false);
            let number = |k: &str| b.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            let level =
                b.get("logging_level").and_then(Value::as_str).filter(|l| !l.is_empty()).unwrap_or("OFF");
            format!(
                "trace={} metrics={} logging={level} burst={} rate={}",
                flag("data_trace_enabled"),
                flag("detailed_metrics_enabled"),
                number("throttling_burst_limit"),
                number("throttling_rate_limit")
            )
        })
        .collect()
}

/// One region's custom domain names, read once for domains and their mappings.
pub type DomainListing = tokio::sync::OnceCell<Result<Arc<Vec<DomainName>>, (String, String)>>;

async fn domains<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<DomainName>>, (String, String)> {
    cx.domains
        .get_or_init(|| async {
            let apigw = client(cx);
            let listed = paginate(&cx.guard, "apigatewayv2", "GetDomainNames", |token| {
                let request = apigw.get_domain_names().max_results("500").set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.items().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            Ok(Arc::new(listed))
        })
        .await
        .clone()
}

fn list_domain_name<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        Ok(domains(cx)
            .await?
            .iter()
            .filter_map(|d| {
                let name = d.domain_name()?;
                let configurations: Vec<Value> = d
                    .domain_name_configurations()
                    .iter()
                    .map(|c| {
                        json!({
                            "certificate_arn": c.certificate_arn(),
                            "endpoint_type": c.endpoint_type().map(|e| e.as_str()),
                            "security_policy": c.security_policy().map(|p| p.as_str()),
                        })
                    })
                    .collect();
                let mtls = d.mutual_tls_authentication().map(|m| {
                    json!([{"truststore_uri": m.truststore_uri(), "truststore_version": m.truststore_version()}])
                });
                let attributes = json!({
                    "id": name, "domain_name": name, "domain_name_configuration": configurations,
                    "mutual_tls_authentication": mtls.unwrap_or_else(|| json!([])), "tags": d.tags(),
                });
                Some(live("aws_apigatewayv2_domain_name", name, cx.region, attributes))
            })
            .collect())
    })
}

/// The mappings of every domain: GetApiMappings per domain (no region-wide call).
fn list_api_mapping<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let names: Vec<String> =
            domains(cx).await?.iter().filter_map(|d| d.domain_name().map(str::to_string)).collect();
        let per_domain = read_each(names, |domain| async move {
            let apigw = client(cx);
            let mappings: Vec<ApiMapping> = paginate(&cx.guard, "apigatewayv2", "GetApiMappings", |token| {
                let request =
                    apigw.get_api_mappings().domain_name(&domain).max_results("500").set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.items().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            let live_mappings = mappings.iter().filter_map(|m| {
                let id = m.api_mapping_id()?;
                let attributes = json!({
                    "id": id, "domain_name": domain, "api_id": m.api_id(), "stage": m.stage(),
                    "api_mapping_key": m.api_mapping_key(),
                });
                Some(live("aws_apigatewayv2_api_mapping", id, cx.region, attributes))
            });
            Ok(Some(live_mappings.collect::<Vec<_>>()))
        })
        .await?;
        Ok(per_domain.into_iter().flatten().collect())
    })
}

/// A domain's endpoints as `<endpoint type> <certificate> <TLS policy>`.
fn domain_configuration(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            format!("{} {} {}", text("endpoint_type"), text("certificate_arn"), text("security_policy"))
        })
        .collect()
}

/// Mutual TLS as its truststore; none when no block or no truststore.
fn mutual_tls(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .filter_map(|b| b.get("truststore_uri").and_then(Value::as_str).filter(|u| !u.is_empty()))
        .map(str::to_string)
        .collect()
}

/// Whether an API's state defines it by an OpenAPI body.
pub(super) fn defined_by_body(expected: &Attributes) -> bool {
    expected.get("body").and_then(Value::as_str).is_some_and(|b| !b.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_route_settings_agree_however_they_are_written() {
        let provider = json!([{"data_trace_enabled": false, "detailed_metrics_enabled": false, "logging_level": "",
                               "throttling_burst_limit": 0, "throttling_rate_limit": 0}]);
        let aws = json!([{"detailed_metrics_enabled": false, "logging_level": null}]);
        assert_eq!(route_settings(Some(&provider)), route_settings(Some(&aws)));
        assert_eq!(route_settings(Some(&provider)), route_settings(Some(&json!([]))));
        let lifted = json!([{"throttling_burst_limit": 5000, "throttling_rate_limit": 10000.0}]);
        assert_ne!(route_settings(Some(&provider)), route_settings(Some(&lifted)));
        assert!(access_logs(Some(&json!([{"destination_arn": "", "format": ""}]))).is_empty());
    }

    #[test]
    fn a_domain_reads_the_same_from_the_provider_and_the_api() {
        let recorded = json!([{"certificate_arn": "arn:c", "endpoint_type": "REGIONAL", "hosted_zone_id": "Z",
                               "security_policy": "TLS_1_2", "target_domain_name": "d-1.execute-api.example"}]);
        let api =
            json!([{"certificate_arn": "arn:c", "endpoint_type": "REGIONAL", "security_policy": "TLS_1_2"}]);
        assert_eq!(domain_configuration(Some(&recorded)), domain_configuration(Some(&api)));
        let downgraded =
            json!([{"certificate_arn": "arn:c", "endpoint_type": "REGIONAL", "security_policy": "TLS_1_0"}]);
        assert_ne!(domain_configuration(Some(&recorded)), domain_configuration(Some(&downgraded)));
        assert!(mutual_tls(Some(&json!([]))).is_empty() && mutual_tls(None).is_empty());
    }
}
