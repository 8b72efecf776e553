//! DynamoDB tables: ListTables (100 a page), then per table DescribeTable, its tags,
//! its point-in-time recovery and its time to live (no list call returns them),
//! concurrently under the account's budget.

use aws_sdk_dynamodb::types::TableDescription;
use serde_json::{Map, Value, json};

use super::entries::blocks;
use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, Tags};
use crate::drift::LiveResource;

/// The DynamoDB table type.
pub static TYPES: &[AwsType] = &[AwsType {
    compared: &[
        ("billing_mode", Scalar),
        ("hash_key", Scalar),
        ("range_key", Scalar),
        ("read_capacity", Scalar),
        ("write_capacity", Scalar),
        ("attribute", Entries(attributes)),
        ("global_secondary_index", Entries(indexes)),
        ("stream_enabled", Scalar),
        ("stream_view_type", Scalar),
        ("server_side_encryption", Entries(encryption)),
        ("point_in_time_recovery", Entries(enabled)),
        ("ttl", Entries(ttl)),
        ("deletion_protection_enabled", Scalar),
        ("tags", Tags),
    ],
    defaults: &[
        ("billing_mode", "PROVISIONED"),
        ("stream_enabled", "false"),
        ("deletion_protection_enabled", "false"),
        ("read_capacity", "0"),
        ("write_capacity", "0"),
    ],
    severity: &[
        ("point_in_time_recovery", Severity::High),
        ("server_side_encryption", Severity::High),
        ("deletion_protection_enabled", Severity::High),
    ],
    ..AwsType::new(
        "aws_dynamodb_table",
        Listing::List {
            scope: Scope::Regional,
            service: "dynamodb",
            operations: &[
                "ListTables",
                "DescribeTable",
                "ListTagsOfResource",
                "DescribeContinuousBackups",
                "DescribeTimeToLive",
            ],
            page_size: Some(100),
            actions: &[
                "dynamodb:ListTables",
                "dynamodb:DescribeTable",
                "dynamodb:ListTagsOfResource",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:DescribeTimeToLive",
            ],
            list: list_table,
        },
    )
}];

fn text<'a>(block: &'a Map<String, Value>, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn attributes(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value).map(|b| format!("{}:{}", text(b, "name"), text(b, "type"))).collect()
}

fn indexes(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .map(|b| {
            let mut projected: Vec<&str> = b
                .get("non_key_attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            projected.sort_unstable();
            format!(
                "{} hash={} range={} projection={} {}",
                text(b, "name"),
                text(b, "hash_key"),
                text(b, "range_key"),
                text(b, "projection_type"),
                projected.join(",")
            )
        })
        .collect()
}

/// `enabled kms=<key>`; no block, or a disabled one, is AWS's owned key.
fn encryption(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .filter(|b| b.get("enabled").and_then(Value::as_bool).unwrap_or(false))
        .map(|b| format!("enabled kms={}", text(b, "kms_key_arn")))
        .collect()
}

/// `enabled` when on; off and absent read the same.
fn enabled(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .filter(|b| b.get("enabled").and_then(Value::as_bool).unwrap_or(false))
        .map(|_| "enabled".to_string())
        .collect()
}

fn ttl(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .filter(|b| b.get("enabled").and_then(Value::as_bool).unwrap_or(false))
        .map(|b| format!("expires by {}", text(b, "attribute_name")))
        .collect()
}

fn client(cx: &ListContext<'_>) -> aws_sdk_dynamodb::Client {
    cx.provider.dynamodb_client(cx.region)
}

fn list_table<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let dynamodb = client(cx);
        let names = paginate(&cx.guard, "dynamodb", "ListTables", |start| {
            let request = dynamodb.list_tables().limit(100).set_exclusive_start_table_name(start);
            async move {
                let out = request.send().await?;
                Ok((out.table_names().to_vec(), out.last_evaluated_table_name().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        read_each(names, |name| read_table(cx, name)).await
    })
}

async fn read_table(cx: &ListContext<'_>, name: String) -> Result<Option<LiveResource>, (String, String)> {
    let dynamodb = client(cx);
    let gone = &["ResourceNotFoundException", "TableNotFoundException"];
    let described = call_optional(&cx.guard, "dynamodb", "DescribeTable", gone, || {
        dynamodb.describe_table().table_name(&name).send()
    })
    .await?;
    let Some(table) = described.and_then(|d| d.table().cloned()) else { return Ok(None) };
    let Some(arn) = table.table_arn().map(str::to_string) else { return Ok(None) };
    let tags = call_optional(&cx.guard, "dynamodb", "ListTagsOfResource", gone, || {
        dynamodb.list_tags_of_resource().resource_arn(&arn).send()
    })
    .await?;
    let backups = call_optional(&cx.guard, "dynamodb", "DescribeContinuousBackups", gone, || {
        dynamodb.describe_continuous_backups().table_name(&name).send()
    })
    .await?;
    let ttl = call_optional(&cx.guard, "dynamodb", "DescribeTimeToLive", gone, || {
        dynamodb.describe_time_to_live().table_name(&name).send()
    })
    .await?;
    let recovery = backups
        .as_ref()
        .and_then(|b| b.continuous_backups_description())
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .is_some_and(|s| s.as_str() == "ENABLED");
    let ttl = ttl.as_ref().and_then(|t| t.time_to_live_description());
    let mut attributes = table_attributes(&table);
    attributes.insert(
        "tags".into(),
        Value::Object(
            tags.iter().flat_map(|t| t.tags()).map(|t| (t.key().to_string(), json!(t.value()))).collect(),
        ),
    );
    attributes.insert("point_in_time_recovery".into(), json!([{"enabled": recovery}]));
    attributes.insert(
        "ttl".into(),
        json!([{
            "enabled": ttl.and_then(|t| t.time_to_live_status()).is_some_and(|s| s.as_str() == "ENABLED"),
            "attribute_name": ttl.and_then(|t| t.attribute_name()),
        }]),
    );
    Ok(Some(super::mapping::live("aws_dynamodb_table", &name, Some(cx.region), Value::Object(attributes))))
}

fn table_attributes(t: &TableDescription) -> Map<String, Value> {
    let key = |kind: &str| {
        t.key_schema().iter().find(|k| k.key_type().as_str() == kind).map(|k| k.attribute_name().to_string())
    };
    let throughput = t.provisioned_throughput();
    let indexes: Vec<Value> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            let index_key = |kind: &str| {
                g.key_schema()
                    .iter()
                    .find(|k| k.key_type().as_str() == kind)
                    .map(|k| k.attribute_name().to_string())
            };
            json!({
                "name": g.index_name(), "hash_key": index_key("HASH"), "range_key": index_key("RANGE"),
                "projection_type": g.projection().and_then(|p| p.projection_type()).map(|p| p.as_str()),
                "non_key_attributes": g.projection().map(|p| p.non_key_attributes()),
            })
        })
        .collect();
    let sse = t.sse_description().filter(|s| s.status().is_some_and(|x| x.as_str() == "ENABLED"));
    let attributes = json!({
        "id": t.table_name(), "name": t.table_name(), "arn": t.table_arn(),
        "billing_mode": t.billing_mode_summary().and_then(|b| b.billing_mode()).map(|m| m.as_str()),
        "hash_key": key("HASH"), "range_key": key("RANGE"),
        "read_capacity": throughput.and_then(|p| p.read_capacity_units()),
        "write_capacity": throughput.and_then(|p| p.write_capacity_units()),
        "attribute": t.attribute_definitions().iter().map(|a| json!({"name": a.attribute_name(), "type": a.attribute_type().as_str()})).collect::<Vec<_>>(),
        "global_secondary_index": indexes,
        "stream_enabled": t.stream_specification().map(|s| s.stream_enabled()),
        "stream_view_type": t.stream_specification().and_then(|s| s.stream_view_type()).map(|v| v.as_str()),
        "server_side_encryption": [{"enabled": sse.is_some(), "kms_key_arn": sse.and_then(|s| s.kms_master_key_arn())}],
        "deletion_protection_enabled": t.deletion_protection_enabled(),
    });
    match attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn switched_off_settings_read_as_absent() {
        assert_eq!(super::enabled(Some(&json!([{"enabled": false}]))), super::enabled(None));
        assert_eq!(
            super::ttl(Some(&json!([{"attribute_name": "", "enabled": false}]))),
            super::ttl(Some(&json!([])))
        );
        assert_eq!(
            super::encryption(Some(&json!([]))),
            super::encryption(Some(&json!([{"enabled": false}])))
        );
    }
}
