//! KMS, one declaration per type. Keys are listed per region (ListKeys, 1,000 a page)
//! and described one call each; a customer-managed key also costs its rotation status,
//! its policy and its tags (no list call returns them). Keys and aliases AWS manages for
//! its services (`alias/aws/...`) are defaults, never unmanaged. Aliases come from one
//! ListAliases listing.

use aws_sdk_kms::types::KeyManagerType;
use serde_json::{Map, Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Document, Scalar, Tags};
use crate::drift::LiveResource;

const fn kms(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Regional, service: "kms", operations, page_size: Some(1000), actions, list }
}

/// The KMS family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("description", Scalar),
            ("key_usage", Scalar),
            ("customer_master_key_spec", Scalar),
            ("is_enabled", Scalar),
            ("enable_key_rotation", Scalar),
            ("multi_region", Scalar),
            ("policy", Document(canonical)),
            ("tags", Tags),
        ],
        defaults: &[
            ("key_usage", "ENCRYPT_DECRYPT"),
            ("customer_master_key_spec", "SYMMETRIC_DEFAULT"),
            ("is_enabled", "true"),
            ("enable_key_rotation", "false"),
            ("multi_region", "false"),
        ],
        severity: &[
            ("policy", Severity::Critical),
            ("is_enabled", Severity::High),
            ("enable_key_rotation", Severity::High),
        ],
        ..AwsType::new(
            "aws_kms_key",
            kms(
                &["ListKeys", "DescribeKey", "GetKeyRotationStatus", "GetKeyPolicy", "ListResourceTags"],
                &[
                    "kms:ListKeys",
                    "kms:DescribeKey",
                    "kms:GetKeyRotationStatus",
                    "kms:GetKeyPolicy",
                    "kms:ListResourceTags",
                ],
                list_key,
            ),
        )
    },
    AwsType {
        compared: &[("target_key_id", Scalar)],
        severity: &[("target_key_id", Severity::High)],
        ..AwsType::new("aws_kms_alias", kms(&["ListAliases"], &["kms:ListAliases"], list_alias))
    },
];

fn client(cx: &ListContext<'_>) -> aws_sdk_kms::Client {
    cx.provider.kms_client(cx.region)
}

fn list_key<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let kms = client(cx);
        let keys = paginate(&cx.guard, "kms", "ListKeys", |marker| {
            let request = kms.list_keys().limit(1000).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.keys().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        let ids = keys.iter().filter_map(|k| k.key_id().map(str::to_string)).collect::<Vec<_>>();
        read_each(ids, |id| read_key(cx, id)).await
    })
}

/// A key's description, and for a customer-managed key its rotation, policy and tags.
async fn read_key(cx: &ListContext<'_>, id: String) -> Result<Option<LiveResource>, (String, String)> {
    let kms = client(cx);
    let gone = &["NotFoundException"];
    let described =
        call_optional(&cx.guard, "kms", "DescribeKey", gone, || kms.describe_key().key_id(&id).send())
            .await?;
    let Some(meta) = described.and_then(|d| d.key_metadata().cloned()) else { return Ok(None) };
    if matches!(meta.key_state().map(|s| s.as_str()), Some("PendingDeletion" | "PendingReplicaDeletion")) {
        return Ok(None); // scheduled for deletion: gone as far as Terraform is concerned
    }
    let mut attributes = json!({
        "id": id, "key_id": id, "arn": meta.arn(), "description": meta.description(),
        "key_usage": meta.key_usage().map(|u| u.as_str()),
        "customer_master_key_spec": meta.key_spec().map(|s| s.as_str()),
        "is_enabled": meta.enabled(), "multi_region": meta.multi_region(),
    });
    if meta.key_manager() == Some(&KeyManagerType::Aws) {
        let live = super::mapping::live("aws_kms_key", &id, Some(cx.region), attributes);
        return Ok(Some(LiveResource { is_default: true, ..live }));
    }
    let rotation = call_optional(&cx.guard, "kms", "GetKeyRotationStatus", gone, || {
        kms.get_key_rotation_status().key_id(&id).send()
    })
    .await?;
    let policy = call_optional(&cx.guard, "kms", "GetKeyPolicy", gone, || {
        kms.get_key_policy().key_id(&id).policy_name("default").send()
    })
    .await?;
    let tags = call_optional(&cx.guard, "kms", "ListResourceTags", gone, || {
        kms.list_resource_tags().key_id(&id).limit(50).send()
    })
    .await?;
    let tags: Map<String, Value> =
        tags.iter().flat_map(|t| t.tags()).map(|t| (t.tag_key().to_string(), json!(t.tag_value()))).collect();
    if let Value::Object(map) = &mut attributes {
        map.insert("enable_key_rotation".into(), json!(rotation.map(|r| r.key_rotation_enabled())));
        map.insert("policy".into(), json!(policy.as_ref().and_then(|p| p.policy())));
        map.insert("tags".into(), Value::Object(tags));
    }
    Ok(Some(super::mapping::live("aws_kms_key", &id, Some(cx.region), attributes)))
}

fn list_alias<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let kms = client(cx);
        let aliases = paginate(&cx.guard, "kms", "ListAliases", |marker| {
            let request = kms.list_aliases().limit(100).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.aliases().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        Ok(aliases
            .iter()
            .filter_map(|a| {
                let name = a.alias_name()?;
                let attributes = json!({"id": name, "name": name, "arn": a.alias_arn(), "target_key_id": a.target_key_id()});
                let live = super::mapping::live("aws_kms_alias", name, Some(cx.region), attributes);
                Some(LiveResource { is_default: name.starts_with("alias/aws/"), ..live })
            })
            .collect())
    })
}
