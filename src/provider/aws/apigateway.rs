//! API Gateway (REST APIs, v1), one declaration per type. APIs are listed per region
//! (GetRestApis, 500 a page); each API's resources come with their methods,
//! integrations and responses embedded (GetResources `embed=methods`, 500 a page), and
//! its stages, deployments and request validators take one call each: four calls per
//! API for nine Terraform types. Ids are Terraform's (`agm-<api>-<resource>-<verb>`
//! for a method). Resources, methods, integrations and responses are parts of their
//! API (never unmanaged on their own); the API's `methods` are made of its
//! `aws_api_gateway_method`s, so a method added in the console shows on the API,
//! unless the API is defined by an OpenAPI `body` (then the body manages them). A stage
//! a deployment created (`stage_name` of `aws_api_gateway_deployment`) is part of it.

use std::sync::Arc;

use aws_sdk_apigateway::types::{Method, Resource, RestApi};
use serde_json::{Map, Value, json};

use super::entries::each;
use super::listing::{call_optional, failure, paginate, read_each};
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Document, Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

/// API Gateway's IAM action for every read of its management API.
const READ: &[&str] = &["apigateway:GET"];

const fn apigateway(operations: &'static [&'static str], list: super::types::ListFn) -> Listing {
    Listing::List {
        scope: Scope::Regional,
        service: "apigateway",
        operations,
        page_size: Some(500),
        actions: READ,
        list,
    }
}

const PER_API: &[&str] =
    &["GetRestApis", "GetResources", "GetStages", "GetDeployments", "GetRequestValidators"];

/// The API Gateway v1 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("name", Scalar),
            ("description", Scalar),
            ("api_key_source", Scalar),
            ("binary_media_types", StringSet),
            ("disable_execute_api_endpoint", Scalar),
            ("endpoint_configuration", Entries(endpoint_types)),
            ("policy", Document(canonical)),
            ("methods", Entries(each)),
            ("tags", Tags),
        ],
        defaults: &[("api_key_source", "HEADER"), ("disable_execute_api_endpoint", "false")],
        severity: &[
            ("policy", Severity::Critical),
            ("endpoint_configuration", Severity::High),
            ("methods", Severity::High),
        ],
        not_compared: &[("body", "an OpenAPI definition: its methods are not compared on the API")],
        parts: &["methods"],
        not_applicable: &[("methods", defined_by_body)],
        ..AwsType::new("aws_api_gateway_rest_api", apigateway(PER_API, list_rest_api))
    },
    AwsType {
        compared: &[("path_part", Scalar), ("parent_id", Scalar)],
        ..AwsType::new("aws_api_gateway_resource", apigateway(PER_API, list_resource))
    },
    AwsType {
        compared: &[
            ("authorization", Scalar),
            ("authorizer_id", Scalar),
            ("api_key_required", Scalar),
            ("request_validator_id", Scalar),
            ("operation_name", Scalar),
            ("authorization_scopes", StringSet),
            ("request_parameters", Entries(pairs)),
            ("request_models", Entries(pairs)),
        ],
        defaults: &[("api_key_required", "false")],
        severity: &[("authorization", Severity::High), ("api_key_required", Severity::High)],
        fold: Some(fold_method),
        // A method anyone may call without credentials.
        critical_when: &[("authorization", |actual| actual == "\"NONE\"")],
        ..AwsType::new("aws_api_gateway_method", apigateway(PER_API, list_method))
    },
    AwsType {
        compared: &[
            ("type", Scalar),
            ("integration_http_method", Scalar),
            ("uri", Scalar),
            ("connection_type", Scalar),
            ("connection_id", Scalar),
            ("credentials", Scalar),
            ("passthrough_behavior", Scalar),
            ("content_handling", Scalar),
            ("timeout_milliseconds", Scalar),
            ("cache_key_parameters", StringSet),
            ("request_parameters", Entries(pairs)),
            ("request_templates", Entries(pairs)),
        ],
        defaults: &[
            ("connection_type", "INTERNET"),
            ("timeout_milliseconds", "29000"),
            ("passthrough_behavior", "WHEN_NO_MATCH"),
        ],
        severity: &[("uri", Severity::High), ("credentials", Severity::High)],
        ..AwsType::new("aws_api_gateway_integration", apigateway(PER_API, list_integration))
    },
    AwsType {
        compared: &[("response_models", Entries(pairs)), ("response_parameters", Entries(pairs))],
        ..AwsType::new("aws_api_gateway_method_response", apigateway(PER_API, list_method_response))
    },
    AwsType {
        compared: &[
            ("selection_pattern", Scalar),
            ("content_handling", Scalar),
            ("response_templates", Entries(pairs)),
            ("response_parameters", Entries(pairs)),
        ],
        ..AwsType::new("aws_api_gateway_integration_response", apigateway(PER_API, list_integration_response))
    },
    AwsType {
        compared: &[("description", Scalar)],
        ..AwsType::new("aws_api_gateway_deployment", apigateway(PER_API, list_deployment))
    },
    AwsType {
        compared: &[
            ("deployment_id", Scalar),
            ("description", Scalar),
            ("cache_cluster_enabled", Scalar),
            ("xray_tracing_enabled", Scalar),
            ("variables", Entries(pairs)),
            ("tags", Tags),
        ],
        defaults: &[("cache_cluster_enabled", "false"), ("xray_tracing_enabled", "false")],
        severity: &[("deployment_id", Severity::High)],
        ..AwsType::new("aws_api_gateway_stage", apigateway(PER_API, list_stage))
    },
    AwsType {
        compared: &[
            ("name", Scalar),
            ("validate_request_body", Scalar),
            ("validate_request_parameters", Scalar),
        ],
        defaults: &[("validate_request_body", "false"), ("validate_request_parameters", "false")],
        ..AwsType::new("aws_api_gateway_request_validator", apigateway(PER_API, list_request_validator))
    },
];

/// Endpoint types (`EDGE`, `REGIONAL`, `PRIVATE`).
fn endpoint_types(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = value.and_then(Value::as_array).into_iter().flatten();
    let types = blocks.filter_map(|b| b.get("types")?.as_array()).flatten();
    types.filter_map(Value::as_str).map(str::to_string).collect()
}

/// A method on its API's `methods` (it is also listed and compared on its own).
fn fold_method(a: &crate::attributes::Attributes) -> Option<crate::drift::Fold> {
    let text = |key: &str| a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (api, resource, verb) = (text("rest_api_id")?, text("resource_id")?, text("http_method")?);
    let entry = json!(format!("{verb} {resource}"));
    let on_api = super::fold::fold("aws_api_gateway_rest_api", api, "methods", entry);
    Some(crate::drift::Fold { verify_via_parent: false, ..on_api })
}

/// Whether an API's state defines it by an OpenAPI body.
pub(super) fn defined_by_body(expected: &crate::attributes::Attributes) -> bool {
    expected.get("body").and_then(Value::as_str).is_some_and(|b| !b.is_empty())
}

/// A map of strings or booleans as `key=value` entries; a null value is "".
fn pairs(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let map = value.and_then(Value::as_object).into_iter().flatten();
    map.map(|(key, value)| {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        format!("{key}={value}")
    })
    .collect()
}

/// One API and what hangs off it.
pub struct Api {
    api: RestApi,
    resources: Vec<Resource>,
    stages: Vec<aws_sdk_apigateway::types::Stage>,
    deployments: Vec<aws_sdk_apigateway::types::Deployment>,
    validators: Vec<aws_sdk_apigateway::types::RequestValidator>,
}

/// One region's APIs, read once for the nine types of a discovery.
pub type ApiListing = tokio::sync::OnceCell<Result<Arc<Vec<Api>>, (String, String)>>;

fn client(cx: &ListContext<'_>) -> aws_sdk_apigateway::Client {
    cx.provider.apigateway_client(cx.region)
}

async fn apis<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<Api>>, (String, String)> {
    cx.apis
        .get_or_init(|| async {
            let client = client(cx);
            let listed = paginate(&cx.guard, "apigateway", "GetRestApis", |position| {
                let request = client.get_rest_apis().limit(500).set_position(position);
                async move {
                    let out = request.send().await?;
                    Ok((out.items().to_vec(), out.position().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            read_each(listed, |api| read_api(cx, api)).await.map(Arc::new)
        })
        .await
        .clone()
}

/// Resources (methods embedded), stages, deployments and validators of one API.
async fn read_api(cx: &ListContext<'_>, api: RestApi) -> Result<Option<Api>, (String, String)> {
    let Some(id) = api.id().map(str::to_string) else { return Ok(None) };
    let client = client(cx);
    let resources = paginate(&cx.guard, "apigateway", "GetResources", |position| {
        let request =
            client.get_resources().rest_api_id(&id).embed("methods").limit(500).set_position(position);
        async move {
            let out = request.send().await?;
            Ok((out.items().to_vec(), out.position().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)?;
    let gone = &["NotFoundException"];
    let stages = call_optional(&cx.guard, "apigateway", "GetStages", gone, || {
        client.get_stages().rest_api_id(&id).send()
    })
    .await?;
    let deployments = paginate(&cx.guard, "apigateway", "GetDeployments", |position| {
        let request = client.get_deployments().rest_api_id(&id).limit(500).set_position(position);
        async move {
            let out = request.send().await?;
            Ok((out.items().to_vec(), out.position().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)?;
    let validators = paginate(&cx.guard, "apigateway", "GetRequestValidators", |position| {
        let request = client.get_request_validators().rest_api_id(&id).limit(500).set_position(position);
        async move {
            let out = request.send().await?;
            Ok((out.items().to_vec(), out.position().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)?;
    let stages = stages.map(|s| s.item().to_vec()).unwrap_or_default();
    Ok(Some(Api { api, resources, stages, deployments, validators }))
}

fn live(type_: &str, id: &str, region: &str, attributes: Value) -> LiveResource {
    super::mapping::live(type_, id, Some(region), attributes)
}

/// A resource, method, integration or response: part of its API.
fn part(type_: &str, id: &str, api: &str, region: &str, attributes: Value) -> LiveResource {
    let part_of = Some(("aws_api_gateway_rest_api".to_string(), api.to_string()));
    LiveResource { part_of, ..live(type_, id, region, attributes) }
}

/// Every (API, resource, verb, method) of the region's APIs.
fn methods(apis: &[Api]) -> impl Iterator<Item = (&str, &str, &str, &Method)> {
    apis.iter().flat_map(|a| {
        let api = a.api.id().unwrap_or_default();
        a.resources.iter().flat_map(move |r| {
            let resource = r.id().unwrap_or_default();
            r.resource_methods().into_iter().flatten().map(move |(verb, m)| (api, resource, verb.as_str(), m))
        })
    })
}

/// Lists one type from the region's APIs with `map`.
fn from_apis<'a>(cx: &'a ListContext<'a>, map: fn(&[Api], &str) -> Vec<LiveResource>) -> Listed<'a> {
    Box::pin(async move { Ok(map(&apis(cx).await?, cx.region)) })
}

fn string_map<K: AsRef<str>, V: serde::Serialize>(map: Option<&std::collections::HashMap<K, V>>) -> Value {
    let entries = map.into_iter().flatten().map(|(k, v)| (k.as_ref().to_string(), json!(v)));
    Value::Object(entries.collect::<Map<String, Value>>())
}

fn list_rest_api<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        apis.iter()
            .filter_map(|a| {
                let api = &a.api;
                let id = api.id()?;
                // IAM returns the resource policy with its quotes escaped.
                let policy = api.policy().map(|p| p.replace("\\\"", "\""));
                let attributes = json!({
                    "id": id, "name": api.name(), "description": api.description(),
                    "api_key_source": api.api_key_source().map(|s| s.as_str()),
                    "binary_media_types": api.binary_media_types(),
                    "disable_execute_api_endpoint": api.disable_execute_api_endpoint(),
                    "endpoint_configuration": [{
                        "types": api.endpoint_configuration().map(|e| e.types().iter().map(|t| t.as_str()).collect::<Vec<_>>()),
                    }],
                    "policy": policy,
                    "root_resource_id": api.root_resource_id(),
                    "methods": methods(std::slice::from_ref(a)).map(|(_, r, verb, _)| format!("{verb} {r}")).collect::<Vec<_>>(),
                    "tags": string_map(api.tags()),
                });
                Some(live("aws_api_gateway_rest_api", id, region, attributes))
            })
            .collect()
    })
}

fn list_resource<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let resources = apis.iter().flat_map(|a| a.resources.iter().map(move |r| (a, r)));
        resources
            .filter_map(|(a, r)| {
                let id = r.id()?;
                let attributes = json!({
                    "id": id, "rest_api_id": a.api.id(), "parent_id": r.parent_id(),
                    "path_part": r.path_part(), "path": r.path(),
                });
                // The root resource comes with the API; Terraform never manages it.
                let is_default = r.parent_id().is_none();
                let api = a.api.id().unwrap_or_default();
                Some(LiveResource {
                    is_default,
                    ..part("aws_api_gateway_resource", id, api, region, attributes)
                })
            })
            .collect()
    })
}

fn list_method<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        methods(apis)
            .map(|(api, resource, verb, m)| {
                let id = format!("agm-{api}-{resource}-{verb}");
                let attributes = json!({
                    "id": id, "rest_api_id": api, "resource_id": resource, "http_method": verb,
                    "authorization": m.authorization_type(), "authorizer_id": m.authorizer_id(),
                    "api_key_required": m.api_key_required(),
                    "request_validator_id": m.request_validator_id(), "operation_name": m.operation_name(),
                    "authorization_scopes": m.authorization_scopes(),
                    "request_parameters": string_map(m.request_parameters()),
                    "request_models": string_map(m.request_models()),
                });
                part("aws_api_gateway_method", &id, api, region, attributes)
            })
            .collect()
    })
}

fn list_integration<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        methods(apis)
            .filter_map(|(api, resource, verb, m)| {
                let i = m.method_integration()?;
                let id = format!("agi-{api}-{resource}-{verb}");
                let attributes = json!({
                    "id": id, "rest_api_id": api, "resource_id": resource, "http_method": verb,
                    "type": i.r#type().map(|t| t.as_str()), "integration_http_method": i.http_method(),
                    "uri": i.uri(), "connection_type": i.connection_type().map(|c| c.as_str()),
                    "connection_id": i.connection_id(), "credentials": i.credentials(),
                    "passthrough_behavior": i.passthrough_behavior(),
                    "content_handling": i.content_handling().map(|c| c.as_str()),
                    "timeout_milliseconds": i.timeout_in_millis(),
                    "cache_key_parameters": i.cache_key_parameters(),
                    "request_parameters": string_map(i.request_parameters()),
                    "request_templates": string_map(i.request_templates()),
                });
                Some(part("aws_api_gateway_integration", &id, api, region, attributes))
            })
            .collect()
    })
}

fn list_method_response<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        methods(apis)
            .flat_map(|(api, resource, verb, m)| {
                m.method_responses().into_iter().flatten().map(move |(status, r)| {
                    let id = format!("agmr-{api}-{resource}-{verb}-{status}");
                    let attributes = json!({
                        "id": id, "rest_api_id": api, "resource_id": resource, "http_method": verb,
                        "status_code": status,
                        "response_models": string_map(r.response_models()),
                        "response_parameters": string_map(r.response_parameters()),
                    });
                    part("aws_api_gateway_method_response", &id, api, region, attributes)
                })
            })
            .collect()
    })
}

fn list_integration_response<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        methods(apis)
            .filter_map(|(api, resource, verb, m)| Some((api, resource, verb, m.method_integration()?)))
            .flat_map(|(api, resource, verb, i)| {
                i.integration_responses().into_iter().flatten().map(move |(status, r)| {
                    let id = format!("agir-{api}-{resource}-{verb}-{status}");
                    let attributes = json!({
                        "id": id, "rest_api_id": api, "resource_id": resource, "http_method": verb,
                        "status_code": status, "selection_pattern": r.selection_pattern(),
                        "content_handling": r.content_handling().map(|c| c.as_str()),
                        "response_templates": string_map(r.response_templates()),
                        "response_parameters": string_map(r.response_parameters()),
                    });
                    part("aws_api_gateway_integration_response", &id, api, region, attributes)
                })
            })
            .collect()
    })
}

fn list_deployment<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let deployments = apis.iter().flat_map(|a| a.deployments.iter().map(move |d| (a, d)));
        deployments
            .filter_map(|(a, d)| {
                let id = d.id()?;
                let attributes = json!({"id": id, "rest_api_id": a.api.id(), "description": d.description()});
                Some(live("aws_api_gateway_deployment", id, region, attributes))
            })
            .collect()
    })
}

fn list_stage<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let stages = apis.iter().flat_map(|a| a.stages.iter().map(move |s| (a, s)));
        stages
            .filter_map(|(a, s)| {
                let (api, name) = (a.api.id()?, s.stage_name()?);
                let id = format!("ags-{api}-{name}");
                let attributes = json!({
                    "id": id, "rest_api_id": api, "stage_name": name, "deployment_id": s.deployment_id(),
                    "description": s.description(), "cache_cluster_enabled": s.cache_cluster_enabled(),
                    "xray_tracing_enabled": s.tracing_enabled(),
                    "variables": string_map(s.variables()), "tags": string_map(s.tags()),
                });
                // A stage a deployment made (its `stage_name`) is part of that deployment.
                let part_of =
                    s.deployment_id().map(|d| ("aws_api_gateway_deployment".to_string(), d.to_string()));
                Some(LiveResource { part_of, ..live("aws_api_gateway_stage", &id, region, attributes) })
            })
            .collect()
    })
}

fn list_request_validator<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    from_apis(cx, |apis, region| {
        let validators = apis.iter().flat_map(|a| a.validators.iter().map(move |v| (a, v)));
        validators
            .filter_map(|(a, v)| {
                let id = v.id()?;
                let attributes = json!({
                    "id": id, "rest_api_id": a.api.id(), "name": v.name(),
                    "validate_request_body": v.validate_request_body(),
                    "validate_request_parameters": v.validate_request_parameters(),
                });
                Some(live("aws_api_gateway_request_validator", id, region, attributes))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn maps_compare_key_by_key_whatever_their_value_type() {
        let state = serde_json::json!({"method.request.querystring.q": true, "application/json": ""});
        let live = serde_json::json!({"method.request.querystring.q": true, "application/json": null});
        assert_eq!(super::pairs(Some(&state)), super::pairs(Some(&live)));
    }
}
