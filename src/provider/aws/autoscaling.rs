//! Auto Scaling, one declaration per type: groups (DescribeAutoScalingGroups, 100 a
//! page, tags included) and launch configurations (DescribeLaunchConfigurations, 100 a
//! page). A group's desired capacity is its scaling policies' to change: its bounds
//! are compared. Groups EKS makes for its managed node groups are the node group's.

use aws_sdk_autoscaling::types::{AutoScalingGroup, LaunchConfiguration};
use serde_json::{Map, Value, json};

use super::listing::{failure, paginate};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet};
use crate::drift::LiveResource;

const fn autoscaling(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List {
        scope: Scope::Regional,
        service: "autoscaling",
        operations,
        page_size: Some(100),
        actions,
        list,
    }
}

/// The Auto Scaling family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("min_size", Scalar),
            ("max_size", Scalar),
            ("launch_configuration", Scalar),
            ("launch_template", Entries(template)),
            ("vpc_zone_identifier", StringSet),
            ("target_group_arns", StringSet),
            ("health_check_type", Scalar),
            ("health_check_grace_period", Scalar),
            ("tag", Entries(tag_entries)),
        ],
        defaults: &[("health_check_type", "EC2"), ("health_check_grace_period", "300")],
        severity: &[
            ("launch_configuration", Severity::High),
            ("launch_template", Severity::High),
            ("target_group_arns", Severity::High),
        ],
        not_compared: &[("desired_capacity", "its scaling policies' to change")],
        ..AwsType::new(
            "aws_autoscaling_group",
            autoscaling(
                &["DescribeAutoScalingGroups"],
                &["autoscaling:DescribeAutoScalingGroups"],
                list_group,
            ),
        )
    },
    AwsType {
        compared: &[
            ("image_id", Scalar),
            ("instance_type", Scalar),
            ("key_name", Scalar),
            ("security_groups", StringSet),
            ("iam_instance_profile", Scalar),
            ("associate_public_ip_address", Scalar),
            ("ebs_optimized", Scalar),
            ("enable_monitoring", Scalar),
        ],
        defaults: &[
            ("ebs_optimized", "false"),
            ("enable_monitoring", "true"),
            ("associate_public_ip_address", "false"),
        ],
        not_compared: &[(
            "user_data",
            "AWS returns it only base64-encoded; launch configurations cannot change",
        )],
        ..AwsType::new(
            "aws_launch_configuration",
            autoscaling(
                &["DescribeLaunchConfigurations"],
                &["autoscaling:DescribeLaunchConfigurations"],
                list_launch_configuration,
            ),
        )
    },
];

/// `<id or name> version=<v>`.
fn template(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            let which = text("id").or(text("name")).unwrap_or_default();
            format!("{which} version={}", text("version").unwrap_or("$Default"))
        })
        .collect()
}

/// `<key>=<value> at launch=<bool>` per tag (the provider's `tag` blocks).
fn tag_entries(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            let launch = b.get("propagate_at_launch").and_then(Value::as_bool).unwrap_or(false);
            format!("{}={} at launch={launch}", text("key"), text("value"))
        })
        .collect()
}

fn client(cx: &ListContext<'_>) -> aws_sdk_autoscaling::Client {
    cx.provider.autoscaling_client(cx.region)
}

fn list_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let autoscaling = client(cx);
        paginate(&cx.guard, "autoscaling", "DescribeAutoScalingGroups", |token| {
            let request = autoscaling.describe_auto_scaling_groups().max_records(100).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.auto_scaling_groups().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|groups| groups.iter().filter_map(|g| group(g, cx.region)).collect())
        .map_err(failure)
    })
}

fn group(g: &AutoScalingGroup, region: &str) -> Option<LiveResource> {
    let name = g.auto_scaling_group_name()?;
    let mut zones: Vec<&str> =
        g.vpc_zone_identifier().unwrap_or_default().split(',').filter(|s| !s.is_empty()).collect();
    zones.sort_unstable();
    let tags: Vec<Value> = g
        .tags()
        .iter()
        .map(|t| json!({"key": t.key(), "value": t.value(), "propagate_at_launch": t.propagate_at_launch()}))
        .collect();
    let template = g.launch_template().map(
        |t| json!([{"id": t.launch_template_id(), "name": t.launch_template_name(), "version": t.version()}]),
    );
    let attributes = json!({
        "id": name, "name": name, "arn": g.auto_scaling_group_arn(),
        "min_size": g.min_size(), "max_size": g.max_size(), "desired_capacity": g.desired_capacity(),
        "launch_configuration": g.launch_configuration_name(),
        "launch_template": template.unwrap_or_else(|| json!([])),
        "vpc_zone_identifier": zones, "target_group_arns": g.target_group_arns(),
        "health_check_type": g.health_check_type(), "health_check_grace_period": g.health_check_grace_period(),
        "tag": tags,
    });
    // EKS names its node groups' groups `eks-<node group>-<uuid>` and tags them.
    let is_default = g.tags().iter().any(|t| t.key().is_some_and(|k| k.starts_with("eks:")));
    Some(LiveResource {
        is_default,
        ..super::mapping::live("aws_autoscaling_group", name, Some(region), attributes)
    })
}

fn list_launch_configuration<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let autoscaling = client(cx);
        paginate(&cx.guard, "autoscaling", "DescribeLaunchConfigurations", |token| {
            let request = autoscaling.describe_launch_configurations().max_records(100).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.launch_configurations().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|c| launch_configuration(c, cx.region)).collect())
        .map_err(failure)
    })
}

fn launch_configuration(c: &LaunchConfiguration, region: &str) -> Option<LiveResource> {
    let name = c.launch_configuration_name()?;
    let mut attributes = Map::new();
    let mut set = |key: &str, value: Value| {
        attributes.insert(key.to_string(), value);
    };
    set("id", json!(name));
    set("name", json!(name));
    set("arn", json!(c.launch_configuration_arn()));
    set("image_id", json!(c.image_id()));
    set("instance_type", json!(c.instance_type()));
    set("key_name", json!(c.key_name()));
    set("security_groups", json!(c.security_groups()));
    set("iam_instance_profile", json!(c.iam_instance_profile()));
    set("associate_public_ip_address", json!(c.associate_public_ip_address()));
    set("ebs_optimized", json!(c.ebs_optimized()));
    set("enable_monitoring", json!(c.instance_monitoring().and_then(|m| m.enabled())));
    Some(super::mapping::live("aws_launch_configuration", name, Some(region), Value::Object(attributes)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_compare_with_their_propagation() {
        let state = serde_json::json!([{"key": "Name", "value": "web", "propagate_at_launch": true}]);
        let live = serde_json::json!([{"key": "Name", "value": "web", "propagate_at_launch": false}]);
        assert_ne!(super::tag_entries(Some(&state)), super::tag_entries(Some(&live)));
    }
}
