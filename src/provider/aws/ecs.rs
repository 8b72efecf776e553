//! ECS, one declaration per type. Clusters: ListClusters (100 a page) and
//! DescribeClusters for 100 at once, with tags and settings. Services: per cluster,
//! ListServices (100 a page) and DescribeServices for 10 at once, with tags. Task
//! definitions: ListTaskDefinitions (100 a page) and one DescribeTaskDefinition for the
//! latest active revision of each family, the one Terraform manages (its id is the
//! family). Containers compare by name and image; their environment is never read into
//! a report.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{Cluster, Service, TaskDefinition};
use serde_json::{Value, json};

use super::entries::blocks;
use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

const fn ecs(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Regional, service: "ecs", operations, page_size: Some(100), actions, list }
}

/// The ECS family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[("setting", Entries(settings)), ("tags", Tags)],
        ..AwsType::new(
            "aws_ecs_cluster",
            ecs(
                &["ListClusters", "DescribeClusters"],
                &["ecs:ListClusters", "ecs:DescribeClusters"],
                list_cluster,
            ),
        )
    },
    AwsType {
        compared: &[
            ("revision", Scalar),
            ("cpu", Scalar),
            ("memory", Scalar),
            ("network_mode", Scalar),
            ("requires_compatibilities", StringSet),
            ("task_role_arn", Scalar),
            ("execution_role_arn", Scalar),
            ("container_definitions", Entries(images)),
            ("tags", Tags),
        ],
        severity: &[
            ("revision", Severity::High),
            ("task_role_arn", Severity::High),
            ("container_definitions", Severity::High),
        ],
        not_compared: &[("container environment", "may hold secrets; never read into a report")],
        match_by: Some(|a| super::types::by_attribute(a, "family")),
        ..AwsType::new(
            "aws_ecs_task_definition",
            ecs(
                &["ListTaskDefinitions", "DescribeTaskDefinition"],
                &["ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"],
                list_task_definition,
            ),
        )
    },
    AwsType {
        compared: &[
            ("cluster", Scalar),
            ("task_definition", Entries(revision)),
            ("desired_count", Scalar),
            ("launch_type", Scalar),
            ("scheduling_strategy", Scalar),
            ("enable_execute_command", Scalar),
            ("network_configuration", Entries(network)),
            ("load_balancer", Entries(balancers)),
            ("tags", Tags),
        ],
        defaults: &[("scheduling_strategy", "REPLICA"), ("enable_execute_command", "false")],
        severity: &[
            ("task_definition", Severity::High),
            ("network_configuration", Severity::High),
            ("enable_execute_command", Severity::High),
        ],
        ..AwsType::new(
            "aws_ecs_service",
            ecs(
                &["ListClusters", "ListServices", "DescribeServices"],
                &["ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"],
                list_service,
            ),
        )
    },
];

fn text<'a>(block: &'a serde_json::Map<String, Value>, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn settings(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value).map(|b| format!("{}={}", text(b, "name"), text(b, "value"))).collect()
}

/// `<name>=<image>` per container, from the provider's JSON text (or a list).
fn images(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let parsed = match value {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text).ok(),
        other => other.cloned(),
    };
    let containers =
        parsed.as_ref().and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object);
    containers.map(|c| format!("{}={}", text(c, "name"), text(c, "image"))).collect()
}

/// `<family>:<revision>` whether state records an ARN or the short form.
fn revision(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let text = value.and_then(Value::as_str).unwrap_or_default();
    let short = text.rsplit_once("task-definition/").map_or(text, |(_, rest)| rest);
    [short.to_string()].into_iter().filter(|s| !s.is_empty()).collect()
}

fn sorted(block: &serde_json::Map<String, Value>, key: &str) -> String {
    let mut items: Vec<&str> =
        block.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    items.sort_unstable();
    items.join(",")
}

fn network(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .map(|b| {
            let public = b.get("assign_public_ip").and_then(Value::as_bool).unwrap_or(false);
            format!(
                "subnets={} groups={} public_ip={public}",
                sorted(b, "subnets"),
                sorted(b, "security_groups")
            )
        })
        .collect()
}

fn balancers(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .map(|b| {
            let port = b.get("container_port").and_then(Value::as_i64).unwrap_or_default();
            format!("{} {}:{port}", text(b, "target_group_arn"), text(b, "container_name"))
        })
        .collect()
}

fn client(cx: &ListContext<'_>) -> aws_sdk_ecs::Client {
    cx.provider.ecs_client(cx.region)
}

fn tag_map(tags: &[aws_sdk_ecs::types::Tag]) -> Value {
    Value::Object(tags.iter().filter_map(|t| Some((t.key()?.to_string(), json!(t.value())))).collect())
}

async fn cluster_arns(cx: &ListContext<'_>) -> Result<Vec<String>, (String, String)> {
    let ecs = client(cx);
    paginate(&cx.guard, "ecs", "ListClusters", |token| {
        let request = ecs.list_clusters().max_results(100).set_next_token(token);
        async move {
            let out = request.send().await?;
            Ok((out.cluster_arns().to_vec(), out.next_token().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)
}

fn list_cluster<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let arns = cluster_arns(cx).await?;
        let chunks: Vec<Vec<String>> = arns.chunks(100).map(<[String]>::to_vec).collect();
        let described = read_each(chunks, |chunk| async move {
            let ecs = client(cx);
            let out = call_optional(&cx.guard, "ecs", "DescribeClusters", &[], || {
                ecs.describe_clusters()
                    .set_clusters(Some(chunk.clone()))
                    .include(aws_sdk_ecs::types::ClusterField::Tags)
                    .include(aws_sdk_ecs::types::ClusterField::Settings)
                    .send()
            })
            .await?;
            Ok(out.map(|o| o.clusters().to_vec()))
        })
        .await?;
        Ok(described.iter().flatten().filter_map(|c| cluster(c, cx.region)).collect())
    })
}

fn cluster(c: &Cluster, region: &str) -> Option<LiveResource> {
    let arn = c.cluster_arn()?;
    if c.status() == Some("INACTIVE") {
        return None;
    }
    let settings: Vec<Value> = c
        .settings()
        .iter()
        .map(|s| json!({"name": s.name().map(|n| n.as_str()), "value": s.value()}))
        .collect();
    let attributes = json!({"id": arn, "arn": arn, "name": c.cluster_name(), "setting": settings, "tags": tag_map(c.tags())});
    Some(super::mapping::live("aws_ecs_cluster", arn, Some(region), attributes))
}

fn list_task_definition<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let ecs = client(cx);
        let arns = paginate(&cx.guard, "ecs", "ListTaskDefinitions", |token| {
            let request = ecs
                .list_task_definitions()
                .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
                .max_results(100)
                .set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.task_definition_arns().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        read_each(latest_per_family(&arns), |arn| async move {
            let ecs = client(cx);
            let out = call_optional(&cx.guard, "ecs", "DescribeTaskDefinition", &["ClientException"], || {
                ecs.describe_task_definition()
                    .task_definition(&arn)
                    .include(aws_sdk_ecs::types::TaskDefinitionField::Tags)
                    .send()
            })
            .await?;
            Ok(out.and_then(|o| o.task_definition().and_then(|t| task_definition(t, o.tags(), cx.region))))
        })
        .await
    })
}

/// The ARN of each family's highest active revision.
fn latest_per_family(arns: &[String]) -> Vec<String> {
    let mut latest: BTreeMap<&str, (i64, &String)> = BTreeMap::new();
    for arn in arns {
        let Some((family, number)) =
            arn.rsplit_once("task-definition/").and_then(|(_, f)| f.rsplit_once(':'))
        else {
            continue;
        };
        let number = number.parse().unwrap_or_default();
        let entry = latest.entry(family).or_insert((number, arn));
        if number > entry.0 {
            *entry = (number, arn);
        }
    }
    latest.into_values().map(|(_, arn)| arn.clone()).collect()
}

fn task_definition(
    t: &TaskDefinition,
    tags: &[aws_sdk_ecs::types::Tag],
    region: &str,
) -> Option<LiveResource> {
    let family = t.family()?;
    let containers: Vec<Value> =
        t.container_definitions().iter().map(|c| json!({"name": c.name(), "image": c.image()})).collect();
    let attributes = json!({
        "id": family, "family": family, "arn": t.task_definition_arn(), "revision": t.revision(),
        "cpu": t.cpu(), "memory": t.memory(), "network_mode": t.network_mode().map(|m| m.as_str()),
        "requires_compatibilities": t.requires_compatibilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "task_role_arn": t.task_role_arn(), "execution_role_arn": t.execution_role_arn(),
        "container_definitions": containers, "tags": tag_map(tags),
    });
    Some(super::mapping::live("aws_ecs_task_definition", family, Some(region), attributes))
}

fn list_service<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let clusters = cluster_arns(cx).await?;
        let per_cluster = read_each(clusters, |cluster| async move {
            let ecs = client(cx);
            let arns = paginate(&cx.guard, "ecs", "ListServices", |token| {
                let request = ecs.list_services().cluster(&cluster).max_results(100).set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.service_arns().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            let batches: Vec<Vec<String>> = arns.chunks(10).map(<[String]>::to_vec).collect();
            Ok(Some(batches.into_iter().map(|b| (cluster.clone(), b)).collect::<Vec<_>>()))
        })
        .await?;
        let described = read_each(per_cluster.into_iter().flatten(), |(cluster, batch)| async move {
            let ecs = client(cx);
            let out = call_optional(&cx.guard, "ecs", "DescribeServices", &[], || {
                ecs.describe_services()
                    .cluster(&cluster)
                    .set_services(Some(batch.clone()))
                    .include(aws_sdk_ecs::types::ServiceField::Tags)
                    .send()
            })
            .await?;
            Ok(out.map(|o| o.services().to_vec()))
        })
        .await?;
        Ok(described.iter().flatten().filter_map(|s| service(s, cx.region)).collect())
    })
}

fn service(s: &Service, region: &str) -> Option<LiveResource> {
    let arn = s.service_arn()?;
    if s.status() == Some("INACTIVE") {
        return None;
    }
    let network = s.network_configuration().and_then(|n| n.awsvpc_configuration()).map(|v| {
        json!([{
            "subnets": v.subnets(), "security_groups": v.security_groups(),
            "assign_public_ip": v.assign_public_ip().map(|a| a.as_str() == "ENABLED"),
        }])
    });
    let balancers: Vec<Value> = s
        .load_balancers()
        .iter()
        .map(|b| json!({"target_group_arn": b.target_group_arn(), "container_name": b.container_name(), "container_port": b.container_port()}))
        .collect();
    let attributes = json!({
        "id": arn, "arn": arn, "name": s.service_name(), "cluster": s.cluster_arn(),
        "task_definition": s.task_definition(), "desired_count": s.desired_count(),
        "launch_type": s.launch_type().map(|l| l.as_str()),
        "scheduling_strategy": s.scheduling_strategy().map(|x| x.as_str()),
        "enable_execute_command": s.enable_execute_command(),
        "network_configuration": network.unwrap_or_else(|| json!([])),
        "load_balancer": balancers, "tags": tag_map(s.tags()),
    });
    Some(super::mapping::live("aws_ecs_service", arn, Some(region), attributes))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn a_task_definition_is_its_familys_latest_revision() {
        let arns: Vec<String> = ["web:1", "web:12", "web:3", "api:2"]
            .iter()
            .map(|r| format!("arn:aws:ecs:eu-west-1:1:task-definition/{r}"))
            .collect();
        let latest = super::latest_per_family(&arns);
        assert_eq!(latest.len(), 2);
        assert!(latest.iter().any(|a| a.ends_with("web:12")) && latest.iter().any(|a| a.ends_with("api:2")));
    }

    #[test]
    fn containers_compare_by_name_and_image_from_text_or_list() {
        let text = json!(
            r#"[{"name":"web","image":"nginx:1.27","environment":[{"name":"TOKEN","value":"s3cr3t"}]}]"#
        );
        let list = json!([{"name": "web", "image": "nginx:1.27"}]);
        assert_eq!(super::images(Some(&text)), super::images(Some(&list)));
        assert!(!format!("{:?}", super::images(Some(&text))).contains("s3cr3t"));
        let short = json!("web:3");
        let arn = json!("arn:aws:ecs:eu-west-1:1:task-definition/web:3");
        assert_eq!(super::revision(Some(&short)), super::revision(Some(&arn)));
    }
}
