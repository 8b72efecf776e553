//! ECR, one declaration per type. Repositories are listed per region
//! (DescribeRepositories, 1,000 a page, with their scanning, mutability and encryption
//! settings); their tags and policies have no list call, so they are read one call per
//! repository, concurrently under the account's budget. A repository's policy and
//! lifecycle policy are part of it: never reported unmanaged on their own.

use std::sync::Arc;

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::Repository;
use serde_json::{Value, json};

use super::listing::{failure, paginate, read_each};
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Document, Entries, Scalar, Tags};
use crate::drift::LiveResource;

const fn ecr(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Regional, service: "ecr", operations, page_size: Some(1000), actions, list }
}

const REPOSITORIES: &str = "ecr:DescribeRepositories";

/// The ECR family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("image_tag_mutability", Scalar),
            ("image_scanning_configuration", Entries(scanning)),
            ("encryption_configuration", Entries(encryption)),
            ("tags", Tags),
        ],
        defaults: &[("image_tag_mutability", "MUTABLE")],
        severity: &[("encryption_configuration", Severity::High)],
        ..AwsType::new(
            "aws_ecr_repository",
            ecr(
                &["DescribeRepositories", "ListTagsForResource"],
                &[REPOSITORIES, "ecr:ListTagsForResource"],
                list_repository,
            ),
        )
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        severity: &[("policy", Severity::Critical)],
        ..AwsType::new(
            "aws_ecr_repository_policy",
            ecr(
                &["DescribeRepositories", "GetRepositoryPolicy"],
                &[REPOSITORIES, "ecr:GetRepositoryPolicy"],
                list_policy,
            ),
        )
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        ..AwsType::new(
            "aws_ecr_lifecycle_policy",
            ecr(
                &["DescribeRepositories", "GetLifecyclePolicy"],
                &[REPOSITORIES, "ecr:GetLifecyclePolicy"],
                list_lifecycle,
            ),
        )
    },
];

/// One region's repositories, listed once for the ECR types of a discovery.
pub type RepositoryListing = tokio::sync::OnceCell<Result<Arc<Vec<Repository>>, (String, String)>>;

async fn repositories<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<Repository>>, (String, String)> {
    cx.repositories
        .get_or_init(|| async {
            let client = &cx.ecr;
            paginate(&cx.guard, "ecr", "DescribeRepositories", |token| {
                let request = client.describe_repositories().max_results(1000).set_next_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.repositories().to_vec(), out.next_token().map(str::to_string)))
                }
            })
            .await
            .map(Arc::new)
            .map_err(failure)
        })
        .await
        .clone()
}

/// One read per repository, concurrently; `None` when the repository has no such thing.
async fn per_repository<'a, F, Fut>(
    cx: &'a ListContext<'a>,
    read: F,
) -> Result<Vec<LiveResource>, (String, String)>
where
    F: Fn(Repository) -> Fut,
    Fut: Future<Output = Result<Option<LiveResource>, (String, String)>>,
{
    let repositories = repositories(cx).await?;
    read_each(repositories.iter().cloned(), read).await
}

/// One ECR call; an answer with the `absent` code means "none".
async fn call<T, E, F, Fut>(
    cx: &ListContext<'_>,
    operation: &'static str,
    absent: &str,
    send: F,
) -> Result<Option<T>, (String, String)>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnMut() -> Fut,
    Fut: Future<
        Output = Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
{
    super::listing::call_optional(&cx.guard, "ecr", operation, &[absent], send).await
}

fn live(type_: &str, name: &str, region: &str, attributes: Value) -> LiveResource {
    let part_of =
        (type_ != "aws_ecr_repository").then(|| ("aws_ecr_repository".to_string(), name.to_string()));
    LiveResource { part_of, ..super::mapping::live(type_, name, Some(region), attributes) }
}

/// `scan_on_push=<bool>`.
fn scanning(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    blocks
        .iter()
        .map(|b| format!("scan_on_push={}", b.get("scan_on_push").and_then(Value::as_bool).unwrap_or(false)))
        .collect()
}

/// `<type> kms=<key>`: AES256 unless KMS.
fn encryption(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    blocks
        .iter()
        .map(|b| {
            let text = |key: &str| b.get(key).and_then(Value::as_str).unwrap_or_default();
            let kind = if text("encryption_type").is_empty() { "AES256" } else { text("encryption_type") };
            format!("{kind} kms={}", text("kms_key"))
        })
        .collect()
}

fn list_repository<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_repository(cx, move |repository| async move {
        let (Some(name), Some(arn)) = (repository.repository_name(), repository.repository_arn()) else {
            return Ok(None);
        };
        let client = &cx.ecr;
        let tags = call(cx, "ListTagsForResource", "RepositoryNotFoundException", || {
            client.list_tags_for_resource().resource_arn(arn).send()
        })
        .await?;
        let tags: serde_json::Map<String, Value> = tags
            .iter()
            .flat_map(|t| t.tags())
            .map(|t| (t.key().to_string(), Value::String(t.value().to_string())))
            .collect();
        let encryption = repository.encryption_configuration();
        let attributes = json!({
            "id": name, "name": name, "arn": arn,
            "image_tag_mutability": repository.image_tag_mutability().map(|m| m.as_str()),
            "image_scanning_configuration": [{
                "scan_on_push": repository.image_scanning_configuration().is_some_and(|c| c.scan_on_push()),
            }],
            "encryption_configuration": [{
                "encryption_type": encryption.map(|e| e.encryption_type().as_str()),
                "kms_key": encryption.and_then(|e| e.kms_key()),
            }],
            "tags": tags,
        });
        Ok(Some(live("aws_ecr_repository", name, cx.region, attributes)))
    }))
}

fn list_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_repository(cx, move |repository| async move {
        let Some(name) = repository.repository_name().map(str::to_string) else { return Ok(None) };
        let client = &cx.ecr;
        let out = call(cx, "GetRepositoryPolicy", "RepositoryPolicyNotFoundException", || {
            client.get_repository_policy().repository_name(&name).send()
        })
        .await?;
        Ok(out.and_then(|o| o.policy_text().map(str::to_string)).map(|policy| {
            let attributes = json!({"id": name, "repository": name, "policy": policy});
            live("aws_ecr_repository_policy", &name, cx.region, attributes)
        }))
    }))
}

fn list_lifecycle<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_repository(cx, move |repository| async move {
        let Some(name) = repository.repository_name().map(str::to_string) else { return Ok(None) };
        let client = &cx.ecr;
        let out = call(cx, "GetLifecyclePolicy", "LifecyclePolicyNotFoundException", || {
            client.get_lifecycle_policy().repository_name(&name).send()
        })
        .await?;
        Ok(out.and_then(|o| o.lifecycle_policy_text().map(str::to_string)).map(|policy| {
            let attributes = json!({"id": name, "repository": name, "policy": policy});
            live("aws_ecr_lifecycle_policy", &name, cx.region, attributes)
        }))
    }))
}
