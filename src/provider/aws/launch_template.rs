//! EC2 launch templates: one DescribeLaunchTemplates listing per region (200 a page)
//! and one DescribeLaunchTemplateVersions for the latest version of every template
//! (the provider records the latest version's data). User data is not read.

use std::collections::HashMap;

use aws_sdk_ec2::types::{LaunchTemplate, ResponseLaunchTemplateData};
use serde_json::{Value, json};

use super::listing::{failure, paginate};
use super::mapping::tags;
use super::types::{AwsType, ListContext, Listed};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

/// The launch template type.
pub static TYPES: &[AwsType] = &[AwsType {
    compared: &[
        ("name", Scalar),
        ("default_version", Scalar),
        ("latest_version", Scalar),
        ("image_id", Scalar),
        ("instance_type", Scalar),
        ("key_name", Scalar),
        ("vpc_security_group_ids", StringSet),
        ("iam_instance_profile", Entries(profile)),
        ("tags", Tags),
    ],
    severity: &[
        ("latest_version", Severity::High),
        ("image_id", Severity::High),
        ("iam_instance_profile", Severity::High),
    ],
    not_compared: &[(
        "user_data",
        "not read: every aws_instance of a state records user_data too, and the parser keeps attributes by name",
    )],
    ..AwsType::new(
        "aws_launch_template",
        super::ec2::ec2(
            &["DescribeLaunchTemplates", "DescribeLaunchTemplateVersions"],
            Some(200),
            &["ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"],
            list_launch_template,
        ),
    )
}];

/// The instance profile by name or ARN, as set.
fn profile(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = value.and_then(Value::as_array).into_iter().flatten();
    blocks
        .flat_map(|b| {
            ["name", "arn"].map(|k| b.get(k).and_then(Value::as_str).unwrap_or_default().to_string())
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn list_launch_template<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let templates = paginate(&cx.guard, "ec2", "DescribeLaunchTemplates", |token| {
            let request = cx.ec2.describe_launch_templates().max_results(200).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.launch_templates().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        if templates.is_empty() {
            return Ok(Vec::new());
        }
        // Without a template named, `$Latest` describes the latest version of every one.
        let versions = paginate(&cx.guard, "ec2", "DescribeLaunchTemplateVersions", |token| {
            let request = cx
                .ec2
                .describe_launch_template_versions()
                .versions("$Latest")
                .max_results(200)
                .set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.launch_template_versions().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        let latest: HashMap<&str, &ResponseLaunchTemplateData> = versions
            .iter()
            .filter_map(|v| Some((v.launch_template_id()?, v.launch_template_data()?)))
            .collect();
        Ok(templates
            .iter()
            .filter_map(|t| template(t, latest.get(t.launch_template_id()?).copied(), cx.region))
            .collect())
    })
}

fn template(
    t: &LaunchTemplate,
    data: Option<&ResponseLaunchTemplateData>,
    region: &str,
) -> Option<LiveResource> {
    let id = t.launch_template_id()?;
    let profile = data.and_then(|d| d.iam_instance_profile());
    let attributes = json!({
        "id": id, "name": t.launch_template_name(),
        "default_version": t.default_version_number(), "latest_version": t.latest_version_number(),
        "image_id": data.and_then(|d| d.image_id()),
        "instance_type": data.and_then(|d| d.instance_type()).map(|i| i.as_str()),
        "key_name": data.and_then(|d| d.key_name()),
        "vpc_security_group_ids": data.map(|d| d.security_group_ids()),
        "iam_instance_profile": [{"name": profile.and_then(|p| p.name()), "arn": profile.and_then(|p| p.arn())}],
        "tags": tags(t.tags()),
    });
    // EKS makes one for each managed node group (tagged `eks:...`): the cloud's own.
    let is_default = t.tags().iter().any(|tag| tag.key().is_some_and(|k| k.starts_with("eks:")));
    Some(LiveResource {
        is_default,
        ..super::mapping::live("aws_launch_template", id, Some(region), attributes)
    })
}
