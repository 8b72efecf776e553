//! RDS, one declaration per type. Instances are listed per region with their tags
//! (DescribeDBInstances, 100 a page; an Aurora cluster's members are
//! `aws_rds_cluster_instance`, the others `aws_db_instance`), clusters likewise
//! (DescribeDBClusters); subnet and parameter groups are listed 100 a
//! page, and what their listing leaves out (tags; a parameter group's changed
//! parameters) is read per group, concurrently under the account's budget. The groups
//! AWS provides (`default`, `default.<family>`) are defaults, never unmanaged. The
//! master password is never read.

use aws_sdk_rds::types::{DbCluster, DbInstance, DbParameterGroup, DbSubnetGroup, Tag};
use serde_json::{Map, Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

const fn rds(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Regional, service: "rds", operations, page_size: Some(100), actions, list }
}

const TAGS: &str = "rds:ListTagsForResource";

/// The RDS family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("instance_class", Scalar),
            ("engine", Scalar),
            ("allocated_storage", Scalar),
            ("storage_type", Scalar),
            ("iops", Scalar),
            ("storage_encrypted", Scalar),
            ("kms_key_id", Scalar),
            ("multi_az", Scalar),
            ("publicly_accessible", Scalar),
            ("port", Scalar),
            ("db_subnet_group_name", Scalar),
            ("parameter_group_name", Scalar),
            ("vpc_security_group_ids", StringSet),
            ("backup_retention_period", Scalar),
            ("backup_window", Scalar),
            ("maintenance_window", Scalar),
            ("deletion_protection", Scalar),
            ("iam_database_authentication_enabled", Scalar),
            ("auto_minor_version_upgrade", Scalar),
            ("copy_tags_to_snapshot", Scalar),
            ("performance_insights_enabled", Scalar),
            ("monitoring_interval", Scalar),
            ("ca_cert_identifier", Scalar),
            ("enabled_cloudwatch_logs_exports", StringSet),
            ("tags", Tags),
        ],
        defaults: &[
            ("multi_az", "false"),
            ("publicly_accessible", "false"),
            ("storage_encrypted", "false"),
            ("deletion_protection", "false"),
            ("iam_database_authentication_enabled", "false"),
            ("copy_tags_to_snapshot", "false"),
            ("performance_insights_enabled", "false"),
            ("monitoring_interval", "0"),
            ("iops", "0"),
        ],
        severity: &[
            ("publicly_accessible", Severity::High),
            ("storage_encrypted", Severity::High),
            ("vpc_security_group_ids", Severity::High),
            ("deletion_protection", Severity::High),
            ("backup_retention_period", Severity::High),
            ("iam_database_authentication_enabled", Severity::High),
        ],
        not_compared: &[
            ("password", "a secret: never read"),
            ("engine_version", "AWS applies minor upgrades itself; the engine is compared"),
            (
                "allocated_storage",
                "not compared when storage autoscaling (max_allocated_storage) may grow it",
            ),
        ],
        match_by: Some(|a| super::types::by_attribute(a, "identifier")),
        critical_when: &[("publicly_accessible", made_public)],
        // Storage autoscaling grows the allocation within the maximum.
        not_applicable: &[("allocated_storage", |state| {
            state.get("max_allocated_storage").and_then(Value::as_i64).is_some_and(|max| max > 0)
        })],
        ..AwsType::new(
            "aws_db_instance",
            rds(&["DescribeDBInstances"], &["rds:DescribeDBInstances"], list_instance),
        )
    },
    AwsType {
        compared: &[
            ("engine", Scalar),
            ("engine_mode", Scalar),
            ("port", Scalar),
            ("db_subnet_group_name", Scalar),
            ("db_cluster_parameter_group_name", Scalar),
            ("vpc_security_group_ids", StringSet),
            ("storage_encrypted", Scalar),
            ("kms_key_id", Scalar),
            ("backup_retention_period", Scalar),
            ("preferred_backup_window", Scalar),
            ("preferred_maintenance_window", Scalar),
            ("deletion_protection", Scalar),
            ("iam_database_authentication_enabled", Scalar),
            ("copy_tags_to_snapshot", Scalar),
            ("enabled_cloudwatch_logs_exports", StringSet),
            ("tags", Tags),
        ],
        defaults: &[
            ("engine_mode", "provisioned"),
            ("storage_encrypted", "false"),
            ("deletion_protection", "false"),
            ("iam_database_authentication_enabled", "false"),
            ("copy_tags_to_snapshot", "false"),
        ],
        severity: &[
            ("storage_encrypted", Severity::High),
            ("vpc_security_group_ids", Severity::High),
            ("deletion_protection", Severity::High),
            ("backup_retention_period", Severity::High),
            ("iam_database_authentication_enabled", Severity::High),
        ],
        not_compared: &[
            ("master_password", "a secret: never read"),
            ("engine_version", "AWS applies minor upgrades itself; the engine is compared"),
        ],
        ..AwsType::new(
            "aws_rds_cluster",
            rds(&["DescribeDBClusters"], &["rds:DescribeDBClusters"], list_cluster),
        )
    },
    AwsType {
        compared: &[
            ("cluster_identifier", Scalar),
            ("instance_class", Scalar),
            ("engine", Scalar),
            ("publicly_accessible", Scalar),
            ("db_subnet_group_name", Scalar),
            ("db_parameter_group_name", Scalar),
            ("auto_minor_version_upgrade", Scalar),
            ("performance_insights_enabled", Scalar),
            ("monitoring_interval", Scalar),
            ("promotion_tier", Scalar),
            ("ca_cert_identifier", Scalar),
            ("tags", Tags),
        ],
        defaults: &[
            ("publicly_accessible", "false"),
            ("performance_insights_enabled", "false"),
            ("monitoring_interval", "0"),
            ("promotion_tier", "0"),
        ],
        severity: &[("cluster_identifier", Severity::High), ("publicly_accessible", Severity::High)],
        critical_when: &[("publicly_accessible", made_public)],
        ..AwsType::new(
            "aws_rds_cluster_instance",
            rds(&["DescribeDBInstances"], &["rds:DescribeDBInstances"], list_cluster_instance),
        )
    },
    AwsType {
        compared: &[("description", Scalar), ("subnet_ids", StringSet), ("tags", Tags)],
        severity: &[("subnet_ids", Severity::High)],
        ..AwsType::new(
            "aws_db_subnet_group",
            rds(
                &["DescribeDBSubnetGroups", "ListTagsForResource"],
                &["rds:DescribeDBSubnetGroups", TAGS],
                list_subnet_group,
            ),
        )
    },
    AwsType {
        compared: &[
            ("family", Scalar),
            ("description", Scalar),
            ("parameter", Entries(parameters)),
            ("tags", Tags),
        ],
        severity: &[("parameter", Severity::High)],
        ..AwsType::new(
            "aws_db_parameter_group",
            rds(
                &["DescribeDBParameterGroups", "DescribeDBParameters", "ListTagsForResource"],
                &["rds:DescribeDBParameterGroups", "rds:DescribeDBParameters", TAGS],
                list_parameter_group,
            ),
        )
    },
];

/// `name=value`, names case-insensitive as RDS treats them.
fn parameters(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let items = super::entries::blocks(value);
    items
        .map(|p| {
            let text = |key: &str| match p.get(key) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            format!("{}={}", text("name").to_ascii_lowercase(), text("value"))
        })
        .collect()
}

/// Reachable from the internet: the change turned `publicly_accessible` on.
fn made_public(actual: &str) -> bool {
    actual == "true"
}

fn tags(list: &[Tag]) -> Value {
    let map: Map<String, Value> = list
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), json!(t.value().unwrap_or_default()))))
        .collect();
    Value::Object(map)
}

fn client(cx: &ListContext<'_>) -> aws_sdk_rds::Client {
    cx.provider.rds_client(cx.region)
}

/// One resource's tags (`None` when it is gone since the listing).
async fn tags_of(cx: &ListContext<'_>, arn: &str) -> Result<Option<Value>, (String, String)> {
    let rds = client(cx);
    let absent = &["DBSubnetGroupNotFoundFault", "DBParameterGroupNotFound"];
    let out = call_optional(&cx.guard, "rds", "ListTagsForResource", absent, || {
        rds.list_tags_for_resource().resource_name(arn).send()
    })
    .await?;
    Ok(out.map(|o| tags(o.tag_list())))
}

fn live(type_: &str, id: &str, region: &str, attributes: Value, is_default: bool) -> LiveResource {
    LiveResource { is_default, ..super::mapping::live(type_, id, Some(region), attributes) }
}

/// Every DB instance of the region (DescribeDBInstances, 100 a page).
async fn instances(cx: &ListContext<'_>) -> Result<Vec<DbInstance>, (String, String)> {
    let rds = client(cx);
    paginate(&cx.guard, "rds", "DescribeDBInstances", |marker| {
        let request = rds.describe_db_instances().max_records(100).set_marker(marker);
        async move {
            let out = request.send().await?;
            Ok((out.db_instances().to_vec(), out.marker().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)
}

/// Instances of their own (not members of an Aurora cluster).
fn list_instance<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let own = instances(cx).await?.into_iter().filter(|i| i.db_cluster_identifier().is_none());
        Ok(own.filter_map(|i| instance(&i, cx.region)).collect())
    })
}

/// The members of Aurora clusters.
fn list_cluster_instance<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let members = instances(cx).await?.into_iter().filter(|i| i.db_cluster_identifier().is_some());
        Ok(members.filter_map(|i| cluster_instance(&i, cx.region)).collect())
    })
}

fn cluster_instance(i: &DbInstance, region: &str) -> Option<LiveResource> {
    let identifier = i.db_instance_identifier()?;
    let attributes = json!({
        "id": identifier, "identifier": identifier, "arn": i.db_instance_arn(),
        "cluster_identifier": i.db_cluster_identifier(),
        "instance_class": i.db_instance_class(), "engine": i.engine(),
        "publicly_accessible": i.publicly_accessible(),
        "db_subnet_group_name": i.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        "db_parameter_group_name": i.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name()),
        "auto_minor_version_upgrade": i.auto_minor_version_upgrade(),
        "performance_insights_enabled": i.performance_insights_enabled(),
        "monitoring_interval": i.monitoring_interval(),
        "promotion_tier": i.promotion_tier(),
        "ca_cert_identifier": i.ca_certificate_identifier(),
        "tags": tags(i.tag_list()),
    });
    Some(live("aws_rds_cluster_instance", identifier, region, attributes, false))
}

fn list_cluster<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let rds = client(cx);
        let clusters = paginate(&cx.guard, "rds", "DescribeDBClusters", |marker| {
            let request = rds.describe_db_clusters().max_records(100).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.db_clusters().to_vec(), out.marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        Ok(clusters.iter().filter_map(|c| cluster(c, cx.region)).collect())
    })
}

fn cluster(c: &DbCluster, region: &str) -> Option<LiveResource> {
    let identifier = c.db_cluster_identifier()?;
    let attributes = json!({
        "id": identifier, "cluster_identifier": identifier, "arn": c.db_cluster_arn(),
        "engine": c.engine(), "engine_mode": c.engine_mode(), "port": c.port(),
        "db_subnet_group_name": c.db_subnet_group(),
        "db_cluster_parameter_group_name": c.db_cluster_parameter_group(),
        "vpc_security_group_ids": c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect::<Vec<_>>(),
        "storage_encrypted": c.storage_encrypted(),
        // A key only encrypts an encrypted cluster (moto names a placeholder key on
        // every cluster; AWS names none on an unencrypted one).
        "kms_key_id": c.storage_encrypted().unwrap_or(false).then(|| c.kms_key_id()).flatten(),
        "backup_retention_period": c.backup_retention_period(),
        "preferred_backup_window": c.preferred_backup_window(),
        "preferred_maintenance_window": c.preferred_maintenance_window(),
        "deletion_protection": c.deletion_protection(),
        "iam_database_authentication_enabled": c.iam_database_authentication_enabled(),
        "copy_tags_to_snapshot": c.copy_tags_to_snapshot(),
        "enabled_cloudwatch_logs_exports": c.enabled_cloudwatch_logs_exports(),
        "tags": tags(c.tag_list()),
    });
    Some(live("aws_rds_cluster", identifier, region, attributes, false))
}

fn instance(i: &DbInstance, region: &str) -> Option<LiveResource> {
    let identifier = i.db_instance_identifier()?;
    let attributes = json!({
        "id": identifier, "identifier": identifier, "arn": i.db_instance_arn(),
        "resource_id": i.dbi_resource_id(),
        "instance_class": i.db_instance_class(), "engine": i.engine(),
        "allocated_storage": i.allocated_storage(), "storage_type": i.storage_type(),
        "iops": i.iops(), "storage_encrypted": i.storage_encrypted(), "kms_key_id": i.kms_key_id(),
        "multi_az": i.multi_az(), "publicly_accessible": i.publicly_accessible(),
        "port": i.endpoint().and_then(|e| e.port()).or(i.db_instance_port()),
        "db_subnet_group_name": i.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        "parameter_group_name": i.db_parameter_groups().first().and_then(|g| g.db_parameter_group_name()),
        "vpc_security_group_ids": i.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect::<Vec<_>>(),
        "backup_retention_period": i.backup_retention_period(),
        "backup_window": i.preferred_backup_window(),
        "maintenance_window": i.preferred_maintenance_window(),
        "deletion_protection": i.deletion_protection(),
        "iam_database_authentication_enabled": i.iam_database_authentication_enabled(),
        "auto_minor_version_upgrade": i.auto_minor_version_upgrade(),
        "copy_tags_to_snapshot": i.copy_tags_to_snapshot(),
        "performance_insights_enabled": i.performance_insights_enabled(),
        "monitoring_interval": i.monitoring_interval(),
        "ca_cert_identifier": i.ca_certificate_identifier(),
        "enabled_cloudwatch_logs_exports": i.enabled_cloudwatch_logs_exports(),
        "max_allocated_storage": i.max_allocated_storage(),
        "tags": tags(i.tag_list()),
    });
    Some(live("aws_db_instance", identifier, region, attributes, false))
}

fn list_subnet_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let rds = client(cx);
        let groups = paginate(&cx.guard, "rds", "DescribeDBSubnetGroups", |marker| {
            let request = rds.describe_db_subnet_groups().max_records(100).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.db_subnet_groups().to_vec(), out.marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        read_each(groups, |group| read_subnet_group(cx, group)).await
    })
}

async fn read_subnet_group(
    cx: &ListContext<'_>,
    group: DbSubnetGroup,
) -> Result<Option<LiveResource>, (String, String)> {
    let (Some(name), Some(arn)) = (group.db_subnet_group_name(), group.db_subnet_group_arn()) else {
        return Ok(None);
    };
    let Some(tags) = tags_of(cx, arn).await? else { return Ok(None) };
    let mut subnets: Vec<&str> = group.subnets().iter().filter_map(|s| s.subnet_identifier()).collect();
    subnets.sort_unstable();
    let attributes = json!({
        "id": name, "name": name, "arn": arn, "description": group.db_subnet_group_description(),
        "subnet_ids": subnets, "vpc_id": group.vpc_id(), "tags": tags,
    });
    Ok(Some(live("aws_db_subnet_group", name, cx.region, attributes, name == "default")))
}

fn list_parameter_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let rds = client(cx);
        let groups = paginate(&cx.guard, "rds", "DescribeDBParameterGroups", |marker| {
            let request = rds.describe_db_parameter_groups().max_records(100).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.db_parameter_groups().to_vec(), out.marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        read_each(groups, |group| read_parameter_group(cx, group)).await
    })
}

/// A group's tags and the parameters set on it (`Source=user`: what Terraform sets).
async fn read_parameter_group(
    cx: &ListContext<'_>,
    group: DbParameterGroup,
) -> Result<Option<LiveResource>, (String, String)> {
    let (Some(name), Some(arn)) = (group.db_parameter_group_name(), group.db_parameter_group_arn()) else {
        return Ok(None);
    };
    let rds = client(cx);
    let set = paginate(&cx.guard, "rds", "DescribeDBParameters", |marker| {
        let request = rds
            .describe_db_parameters()
            .db_parameter_group_name(name)
            .source("user")
            .max_records(100)
            .set_marker(marker);
        async move {
            let out = request.send().await?;
            Ok((out.parameters().to_vec(), out.marker().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)?;
    let Some(tags) = tags_of(cx, arn).await? else { return Ok(None) };
    let parameters: Vec<Value> = set
        .iter()
        .map(|p| json!({"name": p.parameter_name(), "value": p.parameter_value(), "apply_method": p.apply_method().map(|m| m.as_str())}))
        .collect();
    let attributes = json!({
        "id": name, "name": name, "arn": arn, "family": group.db_parameter_group_family(),
        "description": group.description(), "parameter": parameters, "tags": tags,
    });
    Ok(Some(live("aws_db_parameter_group", name, cx.region, attributes, name.starts_with("default."))))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unencrypted_cluster_has_no_key() {
        use aws_sdk_rds::types::DbCluster;
        let plain = DbCluster::builder()
            .db_cluster_identifier("ledger")
            .storage_encrypted(false)
            .kms_key_id("placeholder");
        let live = super::cluster(&plain.build(), "eu-west-1").expect("mapped");
        assert!(live.attributes.get("kms_key_id").is_none_or(serde_json::Value::is_null), "no key");
        let sealed =
            DbCluster::builder().db_cluster_identifier("ledger").storage_encrypted(true).kms_key_id("arn:k");
        let live = super::cluster(&sealed.build(), "eu-west-1").expect("mapped");
        assert_eq!(live.attributes.get("kms_key_id"), Some(&serde_json::json!("arn:k")));
    }

    #[test]
    fn parameters_compare_by_name_and_value() {
        let state = serde_json::json!([{"name": "Max_Connections", "value": "200", "apply_method": "pending-reboot"}]);
        let live =
            serde_json::json!([{"name": "max_connections", "value": "200", "apply_method": "immediate"}]);
        assert_eq!(super::parameters(Some(&state)), super::parameters(Some(&live)));
    }
}
