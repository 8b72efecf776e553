//! EKS, one declaration per type. Clusters are listed per region (ListClusters, 100 a
//! page) and described one call each; node groups likewise per cluster. The desired
//! size of a node group is the autoscaler's to change: its bounds are compared. What
//! EKS creates for a cluster (its security group, its control-plane log group, the
//! launch templates of managed node groups) is part of the cluster, never unmanaged.

use aws_sdk_eks::types::{Cluster, Nodegroup};
use serde_json::{Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

const fn eks(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Regional, service: "eks", operations, page_size: Some(100), actions, list }
}

/// The EKS family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("role_arn", Scalar),
            ("version", Scalar),
            ("vpc_config", Entries(vpc_config)),
            ("enabled_cluster_log_types", StringSet),
            ("encryption_config", Entries(encryption)),
            ("tags", Tags),
        ],
        severity: &[
            ("role_arn", Severity::High),
            ("vpc_config", Severity::High),
            ("encryption_config", Severity::High),
        ],
        ..AwsType::new(
            "aws_eks_cluster",
            eks(
                &["ListClusters", "DescribeCluster"],
                &["eks:ListClusters", "eks:DescribeCluster"],
                list_cluster,
            ),
        )
    },
    AwsType {
        compared: &[
            ("node_role_arn", Scalar),
            ("subnet_ids", StringSet),
            ("instance_types", StringSet),
            ("ami_type", Scalar),
            ("capacity_type", Scalar),
            ("disk_size", Scalar),
            ("scaling_config", Entries(bounds)),
            ("labels", Entries(labels)),
            ("tags", Tags),
        ],
        severity: &[("node_role_arn", Severity::High), ("subnet_ids", Severity::High)],
        not_compared: &[
            ("scaling_config.desired_size", "the cluster autoscaler's to change"),
            ("version, release_version", "moto (the test emulator) ignores a node group's version"),
        ],
        ..AwsType::new(
            "aws_eks_node_group",
            eks(
                &["ListClusters", "ListNodegroups", "DescribeNodegroup"],
                &["eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup"],
                list_node_group,
            ),
        )
    },
];

fn strings(block: &serde_json::Map<String, Value>, key: &str) -> String {
    let mut items: Vec<&str> =
        block.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    items.sort_unstable();
    items.join(",")
}

fn flag(block: &serde_json::Map<String, Value>, key: &str) -> bool {
    block.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The API endpoint's exposure and the cluster's network, one entry per setting.
fn vpc_config(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .flat_map(|b| {
            [
                format!("endpoint_public_access={}", flag(b, "endpoint_public_access")),
                format!("endpoint_private_access={}", flag(b, "endpoint_private_access")),
                format!("public_access_cidrs={}", strings(b, "public_access_cidrs")),
                format!("subnet_ids={}", strings(b, "subnet_ids")),
                format!("security_group_ids={}", strings(b, "security_group_ids")),
            ]
        })
        .collect()
}

/// `<resources> key=<arn>` per encryption block.
fn encryption(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let key = b
                .get("provider")
                .and_then(Value::as_array)
                .and_then(|p| p.first())
                .and_then(|p| p.get("key_arn"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{} key={key}", strings(b, "resources"))
        })
        .collect()
}

/// `min=<n> max=<n>`: the bounds, not the autoscaler's desired size.
fn bounds(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let n = |k: &str| b.get(k).and_then(Value::as_i64).unwrap_or_default();
            format!("min={} max={}", n("min_size"), n("max_size"))
        })
        .collect()
}

fn labels(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let map = value.and_then(Value::as_object).into_iter().flatten();
    map.map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect()
}

fn client(cx: &ListContext<'_>) -> aws_sdk_eks::Client {
    cx.provider.eks_client(cx.region)
}

async fn cluster_names(cx: &ListContext<'_>) -> Result<Vec<String>, (String, String)> {
    let eks = client(cx);
    paginate(&cx.guard, "eks", "ListClusters", |token| {
        let request = eks.list_clusters().max_results(100).set_next_token(token);
        async move {
            let out = request.send().await?;
            Ok((out.clusters().to_vec(), out.next_token().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)
}

fn list_cluster<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let names = cluster_names(cx).await?;
        read_each(names, |name| async move {
            let eks = client(cx);
            let out =
                call_optional(&cx.guard, "eks", "DescribeCluster", &["ResourceNotFoundException"], || {
                    eks.describe_cluster().name(&name).send()
                })
                .await?;
            Ok(out.and_then(|o| o.cluster().and_then(|c| cluster(c, cx.region))))
        })
        .await
    })
}

fn cluster(c: &Cluster, region: &str) -> Option<LiveResource> {
    let name = c.name()?;
    let vpc = c.resources_vpc_config();
    let logs: Vec<&str> = c
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str()))
        .collect();
    let encryption: Vec<Value> = c
        .encryption_config()
        .iter()
        .map(|e| json!({"resources": e.resources(), "provider": [{"key_arn": e.provider().and_then(|p| p.key_arn())}]}))
        .collect();
    let attributes = json!({
        "id": name, "name": name, "arn": c.arn(), "role_arn": c.role_arn(), "version": c.version(),
        "vpc_config": [{
            "endpoint_public_access": vpc.map(|v| v.endpoint_public_access()),
            "endpoint_private_access": vpc.map(|v| v.endpoint_private_access()),
            "public_access_cidrs": vpc.map(|v| v.public_access_cidrs()),
            "subnet_ids": vpc.map(|v| v.subnet_ids()),
            "security_group_ids": vpc.map(|v| v.security_group_ids()),
            "cluster_security_group_id": vpc.and_then(|v| v.cluster_security_group_id()),
        }],
        "cluster_security_group_id": vpc.and_then(|v| v.cluster_security_group_id()),
        "enabled_cluster_log_types": logs,
        "encryption_config": encryption,
        "tags": c.tags(),
    });
    Some(super::mapping::live("aws_eks_cluster", name, Some(region), attributes))
}

fn list_node_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let clusters = cluster_names(cx).await?;
        let per_cluster = read_each(clusters, |cluster| async move {
            let eks = client(cx);
            let names = paginate(&cx.guard, "eks", "ListNodegroups", |token| {
                let request =
                    eks.list_nodegroups().cluster_name(&cluster).max_results(100).set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.nodegroups().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            Ok(Some(names.into_iter().map(|n| (cluster.clone(), n)).collect::<Vec<_>>()))
        })
        .await?;
        read_each(per_cluster.into_iter().flatten(), |(cluster, name)| async move {
            let eks = client(cx);
            let out =
                call_optional(&cx.guard, "eks", "DescribeNodegroup", &["ResourceNotFoundException"], || {
                    eks.describe_nodegroup().cluster_name(&cluster).nodegroup_name(&name).send()
                })
                .await?;
            Ok(out.and_then(|o| o.nodegroup().and_then(|n| node_group(n, cx.region))))
        })
        .await
    })
}

fn node_group(n: &Nodegroup, region: &str) -> Option<LiveResource> {
    let id = format!("{}:{}", n.cluster_name()?, n.nodegroup_name()?);
    let scaling = n.scaling_config();
    let attributes = json!({
        "id": id, "arn": n.nodegroup_arn(), "cluster_name": n.cluster_name(), "node_group_name": n.nodegroup_name(),
        "node_role_arn": n.node_role(), "subnet_ids": n.subnets(), "instance_types": n.instance_types(),
        "ami_type": n.ami_type().map(|t| t.as_str()), "capacity_type": n.capacity_type().map(|t| t.as_str()),
        "disk_size": n.disk_size(),
        "scaling_config": [{
            "min_size": scaling.and_then(|s| s.min_size()), "max_size": scaling.and_then(|s| s.max_size()),
            "desired_size": scaling.and_then(|s| s.desired_size()),
        }],
        "labels": n.labels(), "tags": n.tags(),
    });
    Some(super::mapping::live("aws_eks_node_group", &id, Some(region), attributes))
}

/// What EKS makes for a cluster, marked part of it: the cluster security group.
pub(super) fn link_cluster_resources(resources: &mut [LiveResource]) {
    let groups: std::collections::HashMap<String, String> = resources
        .iter()
        .filter(|r| r.type_ == "aws_eks_cluster")
        .filter_map(|r| {
            Some((r.attributes.get("cluster_security_group_id")?.as_str()?.to_string(), r.id.clone()))
        })
        .collect();
    for resource in resources.iter_mut().filter(|r| r.type_ == "aws_security_group") {
        if let Some(cluster) = groups.get(&resource.id) {
            resource.part_of = Some(("aws_eks_cluster".to_string(), cluster.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn an_endpoint_opened_to_the_world_is_its_own_change() {
        let private = json!([{"endpoint_public_access": false, "endpoint_private_access": true,
                              "public_access_cidrs": [], "subnet_ids": ["b", "a"], "security_group_ids": []}]);
        let public = json!([{"endpoint_public_access": true, "endpoint_private_access": true,
                             "public_access_cidrs": ["0.0.0.0/0"], "subnet_ids": ["a", "b"], "security_group_ids": []}]);
        let (before, after) = (super::vpc_config(Some(&private)), super::vpc_config(Some(&public)));
        let changed: Vec<&String> = after.difference(&before).collect();
        assert_eq!(changed, ["endpoint_public_access=true", "public_access_cidrs=0.0.0.0/0"]);
    }
}
