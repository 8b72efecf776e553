//! Lambda, one declaration per type. Functions are listed per region (ListFunctions,
//! 50 a page, with their configuration); their tags, reserved concurrency and
//! resource policy have no list call, so each function costs one GetFunction and one
//! GetPolicy, concurrently under the account's budget. A permission is a statement of
//! its function's resource policy: folded into the function's `permissions`, so one
//! changed or removed shows as the permission and one added outside Terraform shows
//! on the function. Environment values are compared by SHA-256 only: a value never
//! leaves the process, not in a report, a log or an event.

use aws_sdk_lambda::types::FunctionConfiguration;
use serde_json::{Map, Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::{Fold, LiveResource};

const FUNCTIONS: &str = "lambda:ListFunctions";

/// The Lambda family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("description", Scalar),
            ("handler", Scalar),
            ("runtime", Scalar),
            ("role", Scalar),
            ("memory_size", Scalar),
            ("timeout", Scalar),
            ("reserved_concurrent_executions", Scalar),
            ("kms_key_arn", Scalar),
            ("package_type", Scalar),
            ("image_uri", Scalar),
            ("source_code_hash", Scalar),
            ("code_sha256", Scalar),
            ("layers", StringSet),
            ("architectures", StringSet),
            ("environment", Entries(environment)),
            ("tracing_config", Entries(tracing)),
            ("vpc_config", Entries(vpc_config)),
            ("ephemeral_storage", Entries(ephemeral_storage)),
            ("dead_letter_config", Entries(dead_letter)),
            ("permissions", Entries(permissions)),
            ("tags", Tags),
        ],
        defaults: &[
            ("memory_size", "128"),
            ("timeout", "3"),
            ("reserved_concurrent_executions", "-1"),
            ("package_type", "Zip"),
        ],
        severity: &[
            ("role", Severity::High),
            ("source_code_hash", Severity::High),
            ("code_sha256", Severity::High),
            ("layers", Severity::High),
            ("permissions", Severity::High),
        ],
        not_compared: &[
            (
                "filename, s3_bucket, s3_key",
                "where Terraform took the code from; the code is compared by hash",
            ),
            (
                "source_code_hash",
                "not compared when the state records code_sha256 (provider v5+): then it is the configured trigger, not the code's hash",
            ),
            ("environment values", "compared by SHA-256; never read into a report"),
        ],
        parts: &["permissions"],
        critical_when: &[("permissions", invocable_by_anyone)],
        // Provider v5 records the code's hash as `code_sha256`; `source_code_hash` is then
        // the configured trigger, which need not be the package's hash.
        not_applicable: &[("source_code_hash", |state| state.get("code_sha256").is_some())],
        ..AwsType::new(
            "aws_lambda_function",
            Listing::List {
                scope: Scope::Regional,
                service: "lambda",
                operations: &["ListFunctions", "GetFunction", "GetPolicy"],
                page_size: Some(50),
                actions: &[FUNCTIONS, "lambda:GetFunction", "lambda:GetPolicy"],
                list: list_function,
            },
        )
    },
    AwsType::folded("aws_lambda_permission", "aws_lambda_function", fold_permission),
    AwsType {
        compared: &[
            ("description", Scalar),
            ("compatible_runtimes", StringSet),
            ("compatible_architectures", StringSet),
            ("license_info", Scalar),
        ],
        not_compared: &[(
            "source_code_hash",
            "a layer version's code never changes: a new version is a new resource",
        )],
        ..AwsType::new(
            "aws_lambda_layer_version",
            Listing::List {
                scope: Scope::Regional,
                service: "lambda",
                operations: &["ListLayers", "ListLayerVersions"],
                page_size: Some(50),
                actions: &["lambda:ListLayers", "lambda:ListLayerVersions"],
                list: list_layer_version,
            },
        )
    },
    AwsType {
        compared: &[
            ("function_version", Scalar),
            ("description", Scalar),
            ("routing_config", Entries(routing)),
        ],
        // Another version behind the alias is other code serving its callers.
        severity: &[("function_version", Severity::High), ("routing_config", Severity::High)],
        ..AwsType::new(
            "aws_lambda_alias",
            Listing::List {
                scope: Scope::Regional,
                service: "lambda",
                operations: &["ListFunctions", "ListAliases"],
                page_size: Some(10_000),
                actions: &[FUNCTIONS, "lambda:ListAliases"],
                list: list_alias,
            },
        )
    },
    AwsType {
        compared: &[
            ("event_source_arn", Scalar),
            ("function_arn", Scalar),
            ("batch_size", Scalar),
            ("enabled", Scalar),
            ("maximum_batching_window_in_seconds", Scalar),
        ],
        defaults: &[("enabled", "true"), ("maximum_batching_window_in_seconds", "0")],
        severity: &[
            ("event_source_arn", Severity::High),
            ("function_arn", Severity::High),
            ("enabled", Severity::High),
        ],
        not_compared: &[(
            "starting_position",
            "read only when the mapping is made; AWS reports it for stream sources only",
        )],
        ..AwsType::new(
            "aws_lambda_event_source_mapping",
            Listing::List {
                scope: Scope::Regional,
                service: "lambda",
                operations: &["ListEventSourceMappings"],
                page_size: Some(10_000),
                actions: &["lambda:ListEventSourceMappings"],
                list: list_event_source_mapping,
            },
        )
    },
];

/// Every version of every layer (each version is its own Terraform resource).
fn list_layer_version<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let lambda = client(cx);
        let layers = paginate(&cx.guard, "lambda", "ListLayers", |marker| {
            let request = lambda.list_layers().max_items(50).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.layers().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        let names: Vec<String> = layers.iter().filter_map(|l| l.layer_name().map(str::to_string)).collect();
        let per_layer = read_each(names, |name| async move {
            let lambda = client(cx);
            let versions = paginate(&cx.guard, "lambda", "ListLayerVersions", |marker| {
                let request = lambda.list_layer_versions().layer_name(&name).max_items(50).set_marker(marker);
                async move {
                    let out = request.send().await?;
                    Ok((out.layer_versions().to_vec(), out.next_marker().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            Ok(Some(versions.iter().filter_map(|v| layer_version(v, cx.region)).collect::<Vec<_>>()))
        })
        .await?;
        Ok(per_layer.into_iter().flatten().collect())
    })
}

fn layer_version(v: &aws_sdk_lambda::types::LayerVersionsListItem, region: &str) -> Option<LiveResource> {
    let arn = v.layer_version_arn()?;
    let attributes = json!({
        "id": arn, "arn": arn, "version": v.version().to_string(), "description": v.description(),
        "compatible_runtimes": v.compatible_runtimes().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "compatible_architectures": v.compatible_architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "license_info": v.license_info(),
    });
    Some(super::mapping::live("aws_lambda_layer_version", arn, Some(region), attributes))
}

/// An alias's weighted extra versions as `version=weight` (no block: none).
fn routing(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let weights = first_block(value).and_then(|b| b.get("additional_version_weights")?.as_object());
    weights.into_iter().flatten().map(|(version, weight)| format!("{version}={weight}")).collect()
}

/// The functions of the region (ListFunctions, 50 a page), for the per-function reads.
async fn functions(cx: &ListContext<'_>) -> Result<Vec<FunctionConfiguration>, (String, String)> {
    let lambda = client(cx);
    paginate(&cx.guard, "lambda", "ListFunctions", |marker| {
        let request = lambda.list_functions().max_items(50).set_marker(marker);
        async move {
            let out = request.send().await?;
            Ok((out.functions().to_vec(), out.next_marker().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)
}

/// Every alias of every function: ListAliases per function (AWS has no call for a
/// region's aliases), concurrently under the account's budget.
fn list_alias<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let names: Vec<String> =
            functions(cx).await?.iter().filter_map(|f| f.function_name().map(str::to_string)).collect();
        let per_function = read_each(names, |name| async move {
            let lambda = client(cx);
            let aliases = paginate(&cx.guard, "lambda", "ListAliases", |marker| {
                let request = lambda.list_aliases().function_name(&name).max_items(10_000).set_marker(marker);
                async move {
                    let out = request.send().await?;
                    Ok((out.aliases().to_vec(), out.next_marker().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            Ok(Some(aliases.iter().filter_map(|a| alias(a, &name, cx.region)).collect::<Vec<_>>()))
        })
        .await?;
        Ok(per_function.into_iter().flatten().collect())
    })
}

fn alias(
    a: &aws_sdk_lambda::types::AliasConfiguration,
    function: &str,
    region: &str,
) -> Option<LiveResource> {
    let arn = a.alias_arn()?;
    let weights = a.routing_config().and_then(|r| r.additional_version_weights());
    let routing = weights.map(|w| json!([{"additional_version_weights": w}])).unwrap_or_else(|| json!([]));
    let attributes = json!({
        "id": arn, "arn": arn, "name": a.name(), "function_name": function,
        "function_version": a.function_version(), "description": a.description(),
        "routing_config": routing,
    });
    Some(super::mapping::live("aws_lambda_alias", arn, Some(region), attributes))
}

/// Every event source mapping of the region: one paginated ListEventSourceMappings.
fn list_event_source_mapping<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let lambda = client(cx);
        let mappings = paginate(&cx.guard, "lambda", "ListEventSourceMappings", |marker| {
            let request = lambda.list_event_source_mappings().max_items(10_000).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.event_source_mappings().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        Ok(mappings.iter().filter_map(|m| event_source_mapping(m, cx.region)).collect())
    })
}

fn event_source_mapping(
    m: &aws_sdk_lambda::types::EventSourceMappingConfiguration,
    region: &str,
) -> Option<LiveResource> {
    let id = m.uuid()?;
    let state = m.state().unwrap_or_default();
    if matches!(state, "Deleting") {
        return None;
    }
    let attributes = json!({
        "id": id, "uuid": id, "event_source_arn": m.event_source_arn(), "function_arn": m.function_arn(),
        "batch_size": m.batch_size(), "enabled": matches!(state, "Enabled" | "Enabling" | "Updating"),
        "maximum_batching_window_in_seconds": m.maximum_batching_window_in_seconds(),
    });
    Some(super::mapping::live("aws_lambda_event_source_mapping", id, Some(region), attributes))
}

/// `KEY=sha256:<hex>` per variable. The state holds values (strings), the live mapping
/// their digests (`{"sha256": hex}`), so neither side's values appear in a change.
fn environment(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let variables = blocks.iter().filter_map(|b| b.get("variables")?.as_object()).flatten();
    variables
        .map(|(key, value)| {
            let digest = match value {
                Value::String(text) => sha256(text),
                other => other.get("sha256").and_then(Value::as_str).unwrap_or_default().to_string(),
            };
            format!("{key}=sha256:{digest}")
        })
        .collect()
}

fn sha256(text: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// The first block of a one-block attribute (`tracing_config`), if any.
fn first_block(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_array).and_then(|b| b.first()).and_then(Value::as_object)
}

fn text_of<'a>(block: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a str> {
    block.and_then(|b| b.get(key)).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The tracing mode; no block is AWS's `PassThrough`.
fn tracing(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    [text_of(first_block(value), "mode").unwrap_or("PassThrough").to_string()].into()
}

/// The size of `/tmp` in MB; no block is AWS's 512.
fn ephemeral_storage(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let size = first_block(value).and_then(|b| b.get("size")).and_then(Value::as_i64).unwrap_or(512);
    [size.to_string()].into()
}

fn sorted_list(block: &Map<String, Value>, key: &str) -> String {
    let mut items: Vec<&str> =
        block.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    items.sort_unstable();
    items.join(",")
}

/// `subnets=<ids> groups=<ids>`; a function outside a VPC has none (AWS reports
/// empty lists, the provider no block).
fn vpc_config(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let block = first_block(value);
    let (subnets, groups) = block
        .map(|b| (sorted_list(b, "subnet_ids"), sorted_list(b, "security_group_ids")))
        .unwrap_or_default();
    if subnets.is_empty() && groups.is_empty() {
        return Default::default();
    }
    [format!("subnets={subnets} groups={groups}")].into()
}

fn dead_letter(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    text_of(first_block(value), "target_arn").map(str::to_string).into_iter().collect()
}

/// A principal as AWS stores it: an account id is its root ARN.
fn principal(text: &str) -> String {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:aws:iam::{text}:root")
    } else {
        text.to_string()
    }
}

/// One statement as `<sid> <action> by <principal>` and its conditions, from the
/// provider's `aws_lambda_permission` attributes (the live mapping writes the same).
fn permissions(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let statements = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    statements
        .iter()
        .filter_map(Value::as_object)
        .map(|s| {
            let text = |key: &str| text_of(Some(s), key).unwrap_or_default();
            let mut entry = format!(
                "{} {} by {}",
                text("statement_id"),
                text("action"),
                principal(text_of(Some(s), "principal").unwrap_or("*"))
            );
            for condition in ["source_arn", "source_account", "principal_org_id", "function_url_auth_type"] {
                if let Some(value) = text_of(Some(s), condition) {
                    entry.push_str(&format!(" {condition}={value}"));
                }
            }
            entry
        })
        .collect()
}

/// Whether a permission entry (as `permissions` gives it) lets anyone invoke the
/// function: principal `*` and no source or organisation condition.
pub(super) fn invocable_by_anyone(entry: &str) -> bool {
    let entry = entry.trim_matches('"');
    let to_anyone = entry.ends_with(" by *") || entry.contains(" by * ");
    to_anyone && !["source_arn=", "source_account=", "principal_org_id="].iter().any(|c| entry.contains(c))
}

/// The function a permission names (a name or an ARN); `None` for a permission on a
/// version or alias, whose policy is another one (not read yet).
fn permission_function(a: &Attributes) -> Option<String> {
    let text = |key: &str| a.get(key).and_then(Value::as_str).filter(|s| !s.is_empty());
    let named = text("function_name")?;
    if text("qualifier").is_some() {
        return None;
    }
    match named.strip_prefix("arn:") {
        Some(arn) => {
            let parts: Vec<&str> = arn.split(':').collect();
            (parts.len() == 6).then(|| parts[5].to_string())
        }
        None => Some(named.to_string()),
    }
}

fn fold_permission(a: &Attributes) -> Option<Fold> {
    let function = permission_function(a)?;
    let keep = ["statement_id", "action", "principal", "source_arn", "source_account", "principal_org_id"];
    let entry: Map<String, Value> = keep
        .iter()
        .filter_map(|k| Some((k.to_string(), a.get(k)?.clone())))
        .chain(a.get("function_url_auth_type").map(|v| ("function_url_auth_type".to_string(), v.clone())))
        .collect();
    Some(super::fold::fold("aws_lambda_function", &function, "permissions", Value::Object(entry)))
}

/// A statement of a function's resource policy in `aws_lambda_permission`'s shape.
fn statement(s: &Value) -> Value {
    let principal = match s.get("Principal") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Object(p)) => p.values().find_map(Value::as_str).unwrap_or("*").to_string(),
        _ => "*".to_string(),
    };
    let condition = |operator: &str, key: &str| {
        let conditions = s.get("Condition")?.get(operator)?.as_object()?;
        conditions.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str())
    };
    json!({
        "statement_id": s.get("Sid"),
        "action": s.get("Action"),
        "principal": principal,
        "source_arn": condition("ArnLike", "AWS:SourceArn"),
        "source_account": condition("StringEquals", "AWS:SourceAccount"),
        "principal_org_id": condition("StringEquals", "aws:PrincipalOrgID"),
        "function_url_auth_type": condition("StringEquals", "lambda:FunctionUrlAuthType"),
    })
}

fn statements(policy: Option<&str>) -> Vec<Value> {
    let parsed: Option<Value> = policy.and_then(|p| serde_json::from_str(p).ok());
    match parsed.as_ref().and_then(|p| p.get("Statement")) {
        Some(Value::Array(list)) => list.iter().map(statement).collect(),
        Some(one @ Value::Object(_)) => vec![statement(one)],
        _ => Vec::new(),
    }
}

fn client(cx: &ListContext<'_>) -> aws_sdk_lambda::Client {
    cx.provider.lambda_client(cx.region)
}

fn list_function<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move { read_each(functions(cx).await?, |function| read_function(cx, function)).await })
}

/// GetFunction (tags, concurrency) and GetPolicy of one listed function.
async fn read_function(
    cx: &ListContext<'_>,
    function: FunctionConfiguration,
) -> Result<Option<LiveResource>, (String, String)> {
    let Some(name) = function.function_name().map(str::to_string) else { return Ok(None) };
    let lambda = client(cx);
    let absent = &["ResourceNotFoundException"];
    let details = call_optional(&cx.guard, "lambda", "GetFunction", absent, || {
        lambda.get_function().function_name(&name).send()
    })
    .await?;
    let Some(details) = details else { return Ok(None) }; // deleted since the listing
    let policy = call_optional(&cx.guard, "lambda", "GetPolicy", absent, || {
        lambda.get_policy().function_name(&name).send()
    })
    .await?;
    let mut attributes = configuration(&function);
    attributes.insert("tags".into(), json!(details.tags()));
    let reserved = details.concurrency().and_then(|c| c.reserved_concurrent_executions()).unwrap_or(-1);
    attributes.insert("reserved_concurrent_executions".into(), json!(reserved));
    attributes.insert("permissions".into(), json!(statements(policy.as_ref().and_then(|p| p.policy()))));
    Ok(Some(super::mapping::live("aws_lambda_function", &name, Some(cx.region), Value::Object(attributes))))
}

/// A function's configuration under the provider's attribute names.
fn configuration(f: &FunctionConfiguration) -> Map<String, Value> {
    let variables: Map<String, Value> = f
        .environment()
        .and_then(|e| e.variables())
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), json!({"sha256": sha256(value)})))
        .collect();
    let vpc = f.vpc_config();
    let attributes = json!({
        "id": f.function_name(), "function_name": f.function_name(), "arn": f.function_arn(),
        "description": f.description(), "handler": f.handler(),
        "runtime": f.runtime().map(|r| r.as_str()), "role": f.role(),
        "memory_size": f.memory_size(), "timeout": f.timeout(),
        "kms_key_arn": f.kms_key_arn(),
        "package_type": f.package_type().map(|p| p.as_str()),
        "source_code_hash": f.code_sha256(), "code_sha256": f.code_sha256(),
        "layers": f.layers().iter().filter_map(|l| l.arn()).collect::<Vec<_>>(),
        "architectures": f.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "environment": [{"variables": variables}],
        "tracing_config": [{"mode": f.tracing_config().and_then(|t| t.mode()).map(|m| m.as_str())}],
        "vpc_config": [{
            "subnet_ids": vpc.map(|v| v.subnet_ids()).unwrap_or_default(),
            "security_group_ids": vpc.map(|v| v.security_group_ids()).unwrap_or_default(),
        }],
        "ephemeral_storage": [{"size": f.ephemeral_storage().map(|e| e.size())}],
        "dead_letter_config": [{"target_arn": f.dead_letter_config().and_then(|d| d.target_arn())}],
    });
    match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::FoldValue;

    fn attrs(v: Value) -> Attributes {
        v.as_object().cloned().map(Attributes::from).expect("object")
    }

    #[test]
    fn environment_values_compare_by_digest_and_never_appear() {
        let state = json!([{"variables": {"DB_PASSWORD": "hunter2", "MODE": "prod"}}]);
        let live = json!([{"variables": {"DB_PASSWORD": {"sha256": sha256("hunter2")}, "MODE": {"sha256": sha256("dev")}}}]);
        let (expected, actual) = (environment(Some(&state)), environment(Some(&live)));
        let changed: Vec<&String> = actual.difference(&expected).collect();
        assert_eq!(changed.len(), 1);
        assert!(changed[0].starts_with("MODE=sha256:"));
        assert!(
            !format!("{expected:?}{actual:?}").contains("hunter2")
                && !format!("{actual:?}").contains("dev\"")
        );
    }

    #[test]
    fn a_permission_and_its_statement_read_the_same() {
        let state = json!({"statement_id": "s3", "action": "lambda:InvokeFunction", "principal": "111122223333",
                           "source_arn": "arn:aws:s3:::b", "function_name": "arn:aws:lambda:eu-west-3:1:function:bar"});
        let fold = fold_permission(&attrs(state)).expect("folds");
        assert_eq!(fold.parent_id, "bar");
        let FoldValue::Entry(entry) = fold.value else { panic!("an entry") };
        let policy = r#"{"Statement":[{"Sid":"s3","Action":"lambda:InvokeFunction","Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}}]}"#;
        let live = json!(statements(Some(policy)));
        assert_eq!(permissions(Some(&json!([entry]))), permissions(Some(&live)));
        let qualified = attrs(json!({"function_name": "bar", "qualifier": "live", "statement_id": "x"}));
        assert!(fold_permission(&qualified).is_none(), "an alias's policy is not the function's");
    }

    #[test]
    fn only_an_unconditioned_star_is_public() {
        assert!(invocable_by_anyone("\"console lambda:InvokeFunction by *\""));
        assert!(invocable_by_anyone("x lambda:InvokeFunction by * function_url_auth_type=NONE"));
        assert!(!invocable_by_anyone("x lambda:InvokeFunction by * principal_org_id=o-1"));
        assert!(!invocable_by_anyone(
            "x lambda:InvokeFunction by s3.amazonaws.com source_arn=arn:aws:s3:::b"
        ));
    }

    #[test]
    fn absent_blocks_are_the_defaults_aws_reports() {
        let none = json!([]);
        assert_eq!(tracing(Some(&none)), tracing(Some(&json!([{"mode": "PassThrough"}]))));
        assert_eq!(ephemeral_storage(None), ephemeral_storage(Some(&json!([{"size": 512}]))));
        let empty = json!([{"subnet_ids": [], "security_group_ids": []}]);
        assert!(vpc_config(Some(&empty)).is_empty() && vpc_config(Some(&none)).is_empty());
    }
}
