//! CloudWatch Logs, one declaration per type. Log groups are listed per region
//! (DescribeLogGroups, 50 a page, with retention, key and class); their tags have no
//! list call, so each group costs one ListTagsForResource, concurrently under the
//! account's budget. The groups AWS creates for a resource's output (a Lambda
//! function's, an EKS control plane's) are part of it: never reported unmanaged while
//! it exists.

use aws_sdk_cloudwatchlogs::types::LogGroup;
use serde_json::json;

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Scalar, Tags};
use crate::drift::LiveResource;

/// The CloudWatch Logs family.
pub static TYPES: &[AwsType] = &[AwsType {
    compared: &[
        ("retention_in_days", Scalar),
        ("kms_key_id", Scalar),
        ("log_group_class", Scalar),
        ("tags", Tags),
    ],
    defaults: &[("retention_in_days", "0"), ("log_group_class", "STANDARD")],
    severity: &[("kms_key_id", Severity::High)],
    ..AwsType::new(
        "aws_cloudwatch_log_group",
        Listing::List {
            scope: Scope::Regional,
            service: "logs",
            operations: &["DescribeLogGroups", "ListTagsForResource"],
            page_size: Some(50),
            actions: &["logs:DescribeLogGroups", "logs:ListTagsForResource"],
            list: list_log_group,
        },
    )
}];

/// The resource whose output a group holds, for the groups AWS creates: a Lambda
/// function's (`/aws/lambda/<function>`), an EKS control plane's
/// (`/aws/eks/<cluster>/cluster`).
fn derived_from(name: &str) -> Option<(String, String)> {
    let owned = |type_: &str, name: &str| Some((type_.to_string(), name.to_string()));
    if let Some(function) = name.strip_prefix("/aws/lambda/").filter(|f| !f.is_empty() && !f.contains('/')) {
        return owned("aws_lambda_function", function);
    }
    let cluster = name
        .strip_prefix("/aws/eks/")?
        .strip_suffix("/cluster")
        .filter(|c| !c.is_empty() && !c.contains('/'))?;
    owned("aws_eks_cluster", cluster)
}

fn list_log_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let logs = cx.provider.logs_client(cx.region);
        let groups = paginate(&cx.guard, "logs", "DescribeLogGroups", |token| {
            let request = logs.describe_log_groups().limit(50).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.log_groups().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        read_each(groups, |group| read_group(cx, group)).await
    })
}

async fn read_group(cx: &ListContext<'_>, group: LogGroup) -> Result<Option<LiveResource>, (String, String)> {
    let Some(name) = group.log_group_name().map(str::to_string) else { return Ok(None) };
    // `arn` ends in `:*` (for IAM policies); tags are read by the group's own ARN.
    let arn = group.log_group_arn().or(group.arn().map(|a| a.trim_end_matches(":*"))).unwrap_or_default();
    let logs = cx.provider.logs_client(cx.region);
    let tags =
        call_optional(&cx.guard, "logs", "ListTagsForResource", &["ResourceNotFoundException"], || {
            logs.list_tags_for_resource().resource_arn(arn).send()
        })
        .await?;
    let attributes = json!({
        "id": name, "name": name, "arn": arn,
        "retention_in_days": group.retention_in_days(),
        "kms_key_id": group.kms_key_id(),
        "log_group_class": group.log_group_class().map(|c| c.as_str()),
        "tags": tags.as_ref().and_then(|t| t.tags()),
    });
    let live = super::mapping::live("aws_cloudwatch_log_group", &name, Some(cx.region), attributes);
    Ok(Some(LiveResource { part_of: derived_from(&name), ..live }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_groups_aws_makes_for_a_resource_are_derived() {
        assert_eq!(
            super::derived_from("/aws/lambda/orders"),
            Some(("aws_lambda_function".into(), "orders".into()))
        );
        assert_eq!(super::derived_from("/aws/lambda/"), None);
        assert_eq!(
            super::derived_from("/aws/eks/prod/cluster"),
            Some(("aws_eks_cluster".into(), "prod".into()))
        );
        assert_eq!(super::derived_from("/app/orders"), None);
    }
}
