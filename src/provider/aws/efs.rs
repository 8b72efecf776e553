//! EFS, one declaration per type: file systems (DescribeFileSystems, 1,000 a page,
//! tags included) and their mount targets (DescribeMountTargets per file system, and
//! each target's security groups, which no list returns).

use aws_sdk_efs::types::{FileSystemDescription, MountTargetDescription};
use serde_json::{Map, Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Scalar, StringSet, Tags};
use crate::drift::LiveResource;

const FILE_SYSTEMS: &str = "elasticfilesystem:DescribeFileSystems";

/// The EFS family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("encrypted", Scalar),
            ("kms_key_id", Scalar),
            ("performance_mode", Scalar),
            ("throughput_mode", Scalar),
            ("provisioned_throughput_in_mibps", Scalar),
            ("tags", Tags),
        ],
        defaults: &[
            ("encrypted", "false"),
            ("performance_mode", "generalPurpose"),
            ("throughput_mode", "bursting"),
            ("provisioned_throughput_in_mibps", "0"),
        ],
        severity: &[("encrypted", Severity::High)],
        ..AwsType::new(
            "aws_efs_file_system",
            Listing::List {
                scope: Scope::Regional,
                service: "elasticfilesystem",
                operations: &["DescribeFileSystems"],
                page_size: Some(1000),
                actions: &[FILE_SYSTEMS],
                list: list_file_system,
            },
        )
    },
    AwsType {
        compared: &[("file_system_id", Scalar), ("subnet_id", Scalar), ("security_groups", StringSet)],
        severity: &[("security_groups", Severity::High)],
        ..AwsType::new(
            "aws_efs_mount_target",
            Listing::List {
                scope: Scope::Regional,
                service: "elasticfilesystem",
                operations: &[
                    "DescribeFileSystems",
                    "DescribeMountTargets",
                    "DescribeMountTargetSecurityGroups",
                ],
                page_size: Some(1000),
                actions: &[
                    FILE_SYSTEMS,
                    "elasticfilesystem:DescribeMountTargets",
                    "elasticfilesystem:DescribeMountTargetSecurityGroups",
                ],
                list: list_mount_target,
            },
        )
    },
];

fn client(cx: &ListContext<'_>) -> aws_sdk_efs::Client {
    cx.provider.efs_client(cx.region)
}

async fn file_systems(cx: &ListContext<'_>) -> Result<Vec<FileSystemDescription>, (String, String)> {
    let efs = client(cx);
    paginate(&cx.guard, "elasticfilesystem", "DescribeFileSystems", |marker| {
        let request = efs.describe_file_systems().max_items(1000).set_marker(marker);
        async move {
            let out = request.send().await?;
            Ok((out.file_systems().to_vec(), out.next_marker().map(str::to_string)))
        }
    })
    .await
    .map_err(failure)
}

fn list_file_system<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(
        async move { Ok(file_systems(cx).await?.iter().filter_map(|f| file_system(f, cx.region)).collect()) },
    )
}

fn file_system(f: &FileSystemDescription, region: &str) -> Option<LiveResource> {
    let id = f.file_system_id();
    if matches!(f.life_cycle_state().as_str(), "deleting" | "deleted") {
        return None;
    }
    let tags: Map<String, Value> = f.tags().iter().map(|t| (t.key().to_string(), json!(t.value()))).collect();
    let attributes = json!({
        "id": id, "arn": f.file_system_arn(), "encrypted": f.encrypted(), "kms_key_id": f.kms_key_id(),
        "performance_mode": f.performance_mode().as_str(),
        "throughput_mode": f.throughput_mode().map(|t| t.as_str()),
        "provisioned_throughput_in_mibps": f.provisioned_throughput_in_mibps(),
        "tags": tags,
    });
    Some(super::mapping::live("aws_efs_file_system", id, Some(region), attributes))
}

fn list_mount_target<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let ids: Vec<String> =
            file_systems(cx).await?.iter().map(|f| f.file_system_id().to_string()).collect();
        let per_system = read_each(ids, |id| async move {
            let efs = client(cx);
            let targets = paginate(&cx.guard, "elasticfilesystem", "DescribeMountTargets", |marker| {
                let request =
                    efs.describe_mount_targets().file_system_id(&id).max_items(1000).set_marker(marker);
                async move {
                    let out = request.send().await?;
                    Ok((out.mount_targets().to_vec(), out.next_marker().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            Ok(Some(targets))
        })
        .await?;
        read_each(per_system.into_iter().flatten(), |target| read_mount_target(cx, target)).await
    })
}

async fn read_mount_target(
    cx: &ListContext<'_>,
    target: MountTargetDescription,
) -> Result<Option<LiveResource>, (String, String)> {
    let id = target.mount_target_id().to_string();
    let efs = client(cx);
    let groups = call_optional(
        &cx.guard,
        "elasticfilesystem",
        "DescribeMountTargetSecurityGroups",
        &["MountTargetNotFound"],
        || efs.describe_mount_target_security_groups().mount_target_id(&id).send(),
    )
    .await?;
    let Some(groups) = groups else { return Ok(None) };
    let attributes = json!({
        "id": id, "file_system_id": target.file_system_id(), "subnet_id": target.subnet_id(),
        "ip_address": target.ip_address(), "security_groups": groups.security_groups(),
    });
    Ok(Some(super::mapping::live("aws_efs_mount_target", &id, Some(cx.region), attributes)))
}
