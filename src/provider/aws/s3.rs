//! S3, one declaration per type. Buckets are listed once per account (ListBuckets,
//! paged), each in its own region; a bucket's settings have no list call that returns
//! them, so each setting type reads them with one call per bucket, concurrently under
//! the account's budget. The split resources (`aws_s3_bucket_policy`,
//! `_public_access_block`, `_server_side_encryption_configuration`,
//! `_ownership_controls`, `_logging`, `_cors_configuration`, ...) are part of their bucket: never reported unmanaged on
//! their own, while the bucket compares the settings its state records inline (a
//! policy set in the console on a bucket that had none is drift of the bucket).

use std::sync::Arc;

use std::collections::HashMap;

use aws_sdk_s3::types::{Bucket, Tag};
use serde_json::{Value, json};

use super::listing::{failure, paginate, read_each};
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Document, Entries, Scalar, Tags};
use crate::drift::LiveResource;

const fn s3(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Global, service: "s3", operations, page_size: Some(10_000), actions, list }
}

const BUCKETS: &str = "s3:ListAllMyBuckets";

/// The S3 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[("policy", Document(canonical)), ("tags", Tags)],
        severity: &[("policy", Severity::Critical)],
        not_compared: &[
            ("acl", "a canned ACL is write-only; aws_s3_bucket_acl is not listed yet"),
            (
                "server_side_encryption_configuration",
                "compared as aws_s3_bucket_server_side_encryption_configuration",
            ),
            (
                "versioning",
                "not yet: moto (the test emulator) answers GetBucketVersioning with a root element AWS does not use, which the SDK refuses",
            ),
        ],
        ..AwsType::new(
            "aws_s3_bucket",
            s3(
                &["ListBuckets", "GetBucketTagging", "GetBucketPolicy"],
                &[BUCKETS, "s3:GetBucketTagging", "s3:GetBucketPolicy"],
                list_bucket,
            ),
        )
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        severity: &[("policy", Severity::Critical)],
        fold: Some(super::fold::bucket_policy),
        ..AwsType::new(
            "aws_s3_bucket_policy",
            s3(&["ListBuckets", "GetBucketPolicy"], &[BUCKETS, "s3:GetBucketPolicy"], list_bucket_policy),
        )
    },
    AwsType {
        compared: &[
            ("block_public_acls", Scalar),
            ("block_public_policy", Scalar),
            ("ignore_public_acls", Scalar),
            ("restrict_public_buckets", Scalar),
        ],
        defaults: &[
            ("block_public_acls", "false"),
            ("block_public_policy", "false"),
            ("ignore_public_acls", "false"),
            ("restrict_public_buckets", "false"),
        ],
        severity: &[
            ("block_public_acls", Severity::Critical),
            ("block_public_policy", Severity::Critical),
            ("ignore_public_acls", Severity::Critical),
            ("restrict_public_buckets", Severity::Critical),
        ],
        ..AwsType::new(
            "aws_s3_bucket_public_access_block",
            s3(
                &["ListBuckets", "GetPublicAccessBlock"],
                &[BUCKETS, "s3:GetBucketPublicAccessBlock"],
                list_public_access_block,
            ),
        )
    },
    AwsType {
        compared: &[("rule", Entries(encryption_rules))],
        severity: &[("rule", Severity::High)],
        ..AwsType::new(
            "aws_s3_bucket_server_side_encryption_configuration",
            s3(
                &["ListBuckets", "GetBucketEncryption"],
                &[BUCKETS, "s3:GetEncryptionConfiguration"],
                list_encryption,
            ),
        )
    },
    AwsType {
        compared: &[("rule", Entries(ownership_rules))],
        ..AwsType::new(
            "aws_s3_bucket_ownership_controls",
            s3(
                &["ListBuckets", "GetBucketOwnershipControls"],
                &[BUCKETS, "s3:GetBucketOwnershipControls"],
                list_ownership,
            ),
        )
    },
    AwsType {
        compared: &[
            ("index_document", Entries(website_documents)),
            ("error_document", Entries(website_documents)),
            ("redirect_all_requests_to", Entries(website_redirect)),
        ],
        severity: &[("redirect_all_requests_to", Severity::High)],
        ..AwsType::new(
            "aws_s3_bucket_website_configuration",
            s3(&["ListBuckets", "GetBucketWebsite"], &[BUCKETS, "s3:GetBucketWebsite"], list_website),
        )
    },
    AwsType {
        compared: &[("target_bucket", Scalar), ("target_prefix", Scalar)],
        // Access logs sent elsewhere: someone else reads who accessed the bucket.
        severity: &[("target_bucket", Severity::High)],
        not_compared: &[("target_grant", "not yet")],
        ..AwsType::new(
            "aws_s3_bucket_logging",
            s3(&["ListBuckets", "GetBucketLogging"], &[BUCKETS, "s3:GetBucketLogging"], list_logging),
        )
    },
    AwsType {
        compared: &[("cors_rule", Entries(cors_rules))],
        // Which other sites' pages may read the bucket from a browser.
        severity: &[("cors_rule", Severity::High)],
        ..AwsType::new(
            "aws_s3_bucket_cors_configuration",
            s3(&["ListBuckets", "GetBucketCors"], &[BUCKETS, "s3:GetBucketCORS"], list_cors),
        )
    },
    AwsType {
        compared: &[("rule", Entries(lifecycle_rules))],
        // Objects expiring sooner, or no longer: data lost, or kept past its retention.
        severity: &[("rule", Severity::High)],
        not_compared: &[("rule.filter.and, rule.filter.tag", "a rule's tag filters are not compared yet")],
        ..AwsType::new(
            "aws_s3_bucket_lifecycle_configuration",
            s3(
                &["ListBuckets", "GetBucketLifecycleConfiguration"],
                &[BUCKETS, "s3:GetLifecycleConfiguration"],
                list_lifecycle,
            ),
        )
    },
    AwsType {
        compared: &[("access_control_policy", Entries(acl_grants))],
        severity: &[("access_control_policy", Severity::High)],
        critical_when: &[("access_control_policy", public_grant)],
        not_compared: &[("acl", "a canned ACL is write-only: the grants it made are compared")],
        // Terraform's id is `<bucket>` or `<bucket>,<canned acl>`; discovery's the bucket.
        match_by: Some(|a| super::types::by_attribute(a, "bucket")),
        ..AwsType::new(
            "aws_s3_bucket_acl",
            s3(&["ListBuckets", "GetBucketAcl"], &[BUCKETS, "s3:GetBucketAcl"], list_acl),
        )
    },
];

/// A website document (`suffix` of the index, `key` of the error document).
fn website_documents(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .filter_map(|b| b.get("suffix").or_else(|| b.get("key")).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn website_redirect(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let text = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            format!(
                "{}://{}",
                if text("protocol").is_empty() { "http" } else { text("protocol") },
                text("host_name")
            )
        })
        .collect()
}

/// `<grantee> <permission>` per grant of the provider's `access_control_policy`.
fn acl_grants(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let policies = value.and_then(Value::as_array).into_iter().flatten();
    let grants = policies.filter_map(|p| p.get("grant")?.as_array()).flatten();
    grants
        .map(|g| {
            let grantee = g.get("grantee").and_then(Value::as_array).and_then(|l| l.first());
            let text =
                |k: &str| grantee.and_then(|x| x.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
            let who = text("uri").or(text("id")).or(text("email_address")).unwrap_or_default();
            format!("{who} {}", g.get("permission").and_then(Value::as_str).unwrap_or_default())
        })
        .collect()
}

/// Lifecycle rules as `<id> <status> prefix=<p> expire=<days>d ...`, each part only
/// when set: the provider records empty blocks and zeros where AWS says nothing.
fn lifecycle_rules(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    use super::entries::blocks;
    let number =
        |b: &serde_json::Map<String, Value>, k: &str| b.get(k).and_then(Value::as_i64).filter(|n| *n > 0);
    blocks(value)
        .map(|rule| {
            let text = |k: &str| rule.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            let filter = blocks(rule.get("filter")).next();
            let prefix = filter.and_then(|f| f.get("prefix")).and_then(Value::as_str).map(str::to_string);
            let mut entry = format!(
                "{} {} prefix={}",
                text("id"),
                text("status"),
                prefix.unwrap_or_else(|| text("prefix"))
            );
            for expiration in blocks(rule.get("expiration")) {
                if let Some(days) = number(expiration, "days") {
                    entry.push_str(&format!(" expire={days}d"));
                }
                if expiration.get("expired_object_delete_marker").and_then(Value::as_bool) == Some(true) {
                    entry.push_str(" expire=delete-markers");
                }
            }
            let mut transitions: Vec<String> = blocks(rule.get("transition"))
                .map(|t| {
                    format!(
                        "{}d:{}",
                        number(t, "days").unwrap_or(0),
                        t.get("storage_class").and_then(Value::as_str).unwrap_or_default()
                    )
                })
                .collect();
            transitions.sort();
            if !transitions.is_empty() {
                entry.push_str(&format!(" transition={}", transitions.join(",")));
            }
            for noncurrent in blocks(rule.get("noncurrent_version_expiration")) {
                if let Some(days) = number(noncurrent, "noncurrent_days") {
                    entry.push_str(&format!(" noncurrent_expire={days}d"));
                }
            }
            for abort in blocks(rule.get("abort_incomplete_multipart_upload")) {
                if let Some(days) = number(abort, "days_after_initiation") {
                    entry.push_str(&format!(" abort_uploads={days}d"));
                }
            }
            entry
        })
        .collect()
}

/// CORS rules as `<methods> from <origins> headers=<headers> expose=<headers> max_age=<s>`.
fn cors_rules(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|rule| {
            let list = |key: &str| {
                let mut items: Vec<&str> = rule
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                items.sort_unstable();
                items.join(",")
            };
            let max_age = rule.get("max_age_seconds").and_then(Value::as_i64).unwrap_or(0);
            format!(
                "{} from {} headers={} expose={} max_age={max_age}",
                list("allowed_methods"),
                list("allowed_origins"),
                list("allowed_headers"),
                list("expose_headers")
            )
        })
        .collect()
}

/// Whether a grant (as `access_control_policy` compares) opens the bucket to everyone.
pub(super) fn public_grant(entry: &str) -> bool {
    entry.contains("/global/AllUsers") || entry.contains("/global/AuthenticatedUsers")
}

type Shared<T> = tokio::sync::OnceCell<Result<Arc<T>, (String, String)>>;

/// What the S3 types of one discovery share: the buckets (with their regions) and
/// their policies (read once though two types compare them).
#[derive(Default)]
pub struct BucketListing {
    buckets: Shared<Vec<(String, String)>>,
    policies: Shared<HashMap<String, String>>,
}

/// The S3 client for `region` (the account's cached one).
fn client(cx: &ListContext<'_>, region: &str) -> aws_sdk_s3::Client {
    cx.provider.s3_client(region)
}

/// One S3 call; an answer with one of the `absent` codes means "not configured".
async fn call<T, E, F, Fut>(
    cx: &ListContext<'_>,
    operation: &'static str,
    absent: &[&str],
    send: F,
) -> Result<Option<T>, (String, String)>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
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
    super::listing::call_optional(&cx.guard, "s3", operation, absent, send).await
}

async fn buckets<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<(String, String)>>, (String, String)> {
    cx.buckets
        .buckets
        .get_or_init(|| async {
            let listed: Vec<Bucket> = paginate(&cx.guard, "s3", "ListBuckets", |token| {
                let request =
                    client(cx, cx.region).list_buckets().max_buckets(10_000).set_continuation_token(token);
                async move {
                    let out = request.send().await?;
                    Ok((out.buckets().to_vec(), out.continuation_token().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            let home = cx.region.to_string();
            let named = listed.iter().filter_map(|b| {
                let name = b.name()?.to_string();
                Some((name, b.bucket_region().map_or_else(|| home.clone(), str::to_string)))
            });
            Ok(Arc::new(named.collect()))
        })
        .await
        .clone()
}

/// Every bucket's policy document (buckets without one are absent), read once.
async fn policies<'a>(cx: &'a ListContext<'a>) -> Result<Arc<HashMap<String, String>>, (String, String)> {
    cx.buckets
        .policies
        .get_or_init(|| async {
            let buckets = buckets(cx).await?;
            let policies = read_each(buckets.iter().cloned(), |(bucket, region)| async move {
                let client = client(cx, &region);
                let out = call(cx, "GetBucketPolicy", &["NoSuchBucketPolicy"], || {
                    client.get_bucket_policy().bucket(&bucket).send()
                })
                .await?;
                Ok(out.and_then(|o| o.policy().map(|p| (bucket, p.to_string()))))
            })
            .await?;
            let policies: HashMap<String, String> = policies.into_iter().collect();
            Ok(Arc::new(policies))
        })
        .await
        .clone()
}

/// One setting read per bucket, concurrently: `read` returns the resource, `None` when
/// the bucket has no such setting (the API's "not found" codes), or the failure.
async fn per_bucket<'a, F, Fut>(
    cx: &'a ListContext<'a>,
    read: F,
) -> Result<Vec<LiveResource>, (String, String)>
where
    F: Fn(String, String) -> Fut,
    Fut: Future<Output = Result<Option<LiveResource>, (String, String)>>,
{
    let buckets = buckets(cx).await?;
    read_each(buckets.iter().cloned(), |(name, region)| read(name, region)).await
}

fn live(type_: &str, bucket: &str, region: &str, attributes: Value, is_default: bool) -> LiveResource {
    // A bucket's settings are part of it: reported with it, never unmanaged alone.
    let part_of = (type_ != "aws_s3_bucket").then(|| ("aws_s3_bucket".to_string(), bucket.to_string()));
    LiveResource { is_default, part_of, ..super::mapping::live(type_, bucket, Some(region), attributes) }
}

fn tags(tags: &[Tag]) -> Value {
    Value::Object(tags.iter().map(|t| (t.key().to_string(), Value::String(t.value().to_string()))).collect())
}

/// Encryption rules as `algorithm key=<kms key> bucket_key=<bool>` entries.
fn encryption_rules(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let rules = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    rules
        .iter()
        .map(|rule| {
            let default = rule.get("apply_server_side_encryption_by_default").and_then(|d| d.get(0));
            let text =
                |key: &str| default.and_then(|d| d.get(key)).and_then(Value::as_str).unwrap_or_default();
            let bucket_key = rule.get("bucket_key_enabled").and_then(Value::as_bool).unwrap_or(false);
            format!("{} key={} bucket_key={bucket_key}", text("sse_algorithm"), text("kms_master_key_id"))
        })
        .collect()
}

/// Ownership rules as their `object_ownership`.
fn ownership_rules(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let rules = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    rules
        .iter()
        .filter_map(|r| r.get("object_ownership").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn list_bucket<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let tagging = call(cx, "GetBucketTagging", &["NoSuchTagSet"], || {
            client.get_bucket_tagging().bucket(&bucket).send()
        })
        .await?;
        let policies = policies(cx).await?;
        let attributes = json!({
            "id": bucket, "bucket": bucket, "region": region,
            "policy": policies.get(&bucket),
            "tags": tagging.as_ref().map_or_else(|| json!({}), |t| tags(t.tag_set())),
        });
        Ok(Some(live("aws_s3_bucket", &bucket, &region, attributes, false)))
    }))
}

fn list_bucket_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let (buckets, policies) = (buckets(cx).await?, policies(cx).await?);
        Ok(buckets
            .iter()
            .filter_map(|(bucket, region)| {
                let attributes = json!({"id": bucket, "bucket": bucket, "policy": policies.get(bucket)?});
                Some(live("aws_s3_bucket_policy", bucket, region, attributes, false))
            })
            .collect())
    })
}

fn list_public_access_block<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetPublicAccessBlock", &["NoSuchPublicAccessBlockConfiguration"], || {
            client.get_public_access_block().bucket(&bucket).send()
        })
        .await?;
        Ok(out.and_then(|o| o.public_access_block_configuration().cloned()).map(|c| {
            let flags = [c.block_public_acls(), c.block_public_policy(), c.ignore_public_acls(), c.restrict_public_buckets()];
            let attributes = json!({
                "id": bucket, "bucket": bucket,
                "block_public_acls": flags[0].unwrap_or(false), "block_public_policy": flags[1].unwrap_or(false),
                "ignore_public_acls": flags[2].unwrap_or(false), "restrict_public_buckets": flags[3].unwrap_or(false),
            });
            // Every new bucket blocks public access on all four counts: AWS's default.
            let default = flags.iter().all(|f| *f == Some(true));
            live("aws_s3_bucket_public_access_block", &bucket, &region, attributes, default)
        }))
    }))
}

fn list_encryption<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out =
            call(cx, "GetBucketEncryption", &["ServerSideEncryptionConfigurationNotFoundError"], || {
                client.get_bucket_encryption().bucket(&bucket).send()
            })
            .await?;
        Ok(out.and_then(|o| o.server_side_encryption_configuration().cloned()).map(|c| {
            let rules: Vec<Value> = c
                .rules()
                .iter()
                .map(|r| {
                    let default = r.apply_server_side_encryption_by_default();
                    json!({
                        "apply_server_side_encryption_by_default": [{
                            "sse_algorithm": default.map(|d| d.sse_algorithm().as_str()),
                            "kms_master_key_id": default.and_then(|d| d.kms_master_key_id()),
                        }],
                        "bucket_key_enabled": r.bucket_key_enabled().unwrap_or(false),
                    })
                })
                .collect();
            // SSE-S3 without a bucket key is what AWS gives every bucket since 2023.
            let default = encryption_rules(Some(&Value::Array(rules.clone())))
                .iter()
                .all(|r| r == "AES256 key= bucket_key=false");
            let attributes = json!({"id": bucket, "bucket": bucket, "rule": rules});
            live("aws_s3_bucket_server_side_encryption_configuration", &bucket, &region, attributes, default)
        }))
    }))
}

fn list_website<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetBucketWebsite", &["NoSuchWebsiteConfiguration"], || {
            client.get_bucket_website().bucket(&bucket).send()
        })
        .await?;
        Ok(out.map(|w| {
            let redirect = w
                .redirect_all_requests_to()
                .map(|r| json!([{"host_name": r.host_name(), "protocol": r.protocol().map(|p| p.as_str())}]));
            let attributes = json!({
                "id": bucket, "bucket": bucket,
                "index_document": [{"suffix": w.index_document().map(|i| i.suffix())}],
                "error_document": [{"key": w.error_document().map(|e| e.key())}],
                "redirect_all_requests_to": redirect.unwrap_or_else(|| json!([])),
            });
            live("aws_s3_bucket_website_configuration", &bucket, &region, attributes, false)
        }))
    }))
}

fn list_acl<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetBucketAcl", &[], || client.get_bucket_acl().bucket(&bucket).send()).await?;
        Ok(out.map(|acl| {
            let grants: Vec<Value> = acl
                .grants()
                .iter()
                .map(|g| {
                    let grantee = g.grantee();
                    json!({
                        "grantee": [{
                            "id": grantee.and_then(|x| x.id()), "uri": grantee.and_then(|x| x.uri()),
                            "email_address": grantee.and_then(|x| x.email_address()),
                            "type": grantee.map(|x| x.r#type().as_str()),
                        }],
                        "permission": g.permission().map(|p| p.as_str()),
                    })
                })
                .collect();
            let attributes =
                json!({"id": bucket, "bucket": bucket, "access_control_policy": [{"grant": grants}]});
            live("aws_s3_bucket_acl", &bucket, &region, attributes, false)
        }))
    }))
}

fn list_logging<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out =
            call(cx, "GetBucketLogging", &[], || client.get_bucket_logging().bucket(&bucket).send()).await?;
        // No `LoggingEnabled`: the bucket logs nothing, and has no logging resource.
        Ok(out.and_then(|o| o.logging_enabled().cloned()).map(|l| {
            let attributes = json!({
                "id": bucket, "bucket": bucket, "target_bucket": l.target_bucket(), "target_prefix": l.target_prefix(),
            });
            live("aws_s3_bucket_logging", &bucket, &region, attributes, false)
        }))
    }))
}

fn list_cors<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetBucketCors", &["NoSuchCORSConfiguration"], || {
            client.get_bucket_cors().bucket(&bucket).send()
        })
        .await?;
        Ok(out.map(|c| {
            let rules: Vec<Value> = c
                .cors_rules()
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id(), "allowed_methods": r.allowed_methods(), "allowed_origins": r.allowed_origins(),
                        "allowed_headers": r.allowed_headers(), "expose_headers": r.expose_headers(),
                        "max_age_seconds": r.max_age_seconds(),
                    })
                })
                .collect();
            let attributes = json!({"id": bucket, "bucket": bucket, "cors_rule": rules});
            live("aws_s3_bucket_cors_configuration", &bucket, &region, attributes, false)
        }))
    }))
}

fn list_lifecycle<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetBucketLifecycleConfiguration", &["NoSuchLifecycleConfiguration"], || {
            client.get_bucket_lifecycle_configuration().bucket(&bucket).send()
        })
        .await?;
        Ok(out.map(|c| {
            let rules: Vec<Value> = c.rules().iter().map(lifecycle_rule).collect();
            let attributes = json!({"id": bucket, "bucket": bucket, "rule": rules});
            live("aws_s3_bucket_lifecycle_configuration", &bucket, &region, attributes, false)
        }))
    }))
}

/// One lifecycle rule in the provider's block shape. A rule made with the legacy
/// top-level `Prefix` (no filter) still comes back with it, so it is read too.
#[allow(deprecated)]
fn lifecycle_rule(r: &aws_sdk_s3::types::LifecycleRule) -> Value {
    let expiration = r.expiration().map(
        |e| json!([{"days": e.days(), "expired_object_delete_marker": e.expired_object_delete_marker()}]),
    );
    let transitions: Vec<Value> = r
        .transitions()
        .iter()
        .map(|t| json!({"days": t.days(), "storage_class": t.storage_class().map(|c| c.as_str())}))
        .collect();
    json!({
        "id": r.id(), "status": r.status().as_str(),
        "filter": [{"prefix": r.filter().and_then(|f| f.prefix())}],
        "prefix": r.prefix(),
        "expiration": expiration.unwrap_or_else(|| json!([])),
        "transition": transitions,
        "noncurrent_version_expiration": r.noncurrent_version_expiration().map(|n| json!([{"noncurrent_days": n.noncurrent_days()}])).unwrap_or_else(|| json!([])),
        "abort_incomplete_multipart_upload": r.abort_incomplete_multipart_upload().map(|a| json!([{"days_after_initiation": a.days_after_initiation()}])).unwrap_or_else(|| json!([])),
    })
}

fn list_ownership<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(per_bucket(cx, move |bucket, region| async move {
        let client = client(cx, &region);
        let out = call(cx, "GetBucketOwnershipControls", &["OwnershipControlsNotFoundError"], || {
            client.get_bucket_ownership_controls().bucket(&bucket).send()
        })
        .await?;
        Ok(out.and_then(|o| o.ownership_controls().cloned()).map(|c| {
            let rules: Vec<Value> = c
                .rules()
                .iter()
                .map(|r| json!({"object_ownership": r.object_ownership().as_str()}))
                .collect();
            // Bucket owner enforced (ACLs off) is every new bucket's setting since 2023.
            let default = rules.len() == 1 && rules[0]["object_ownership"] == "BucketOwnerEnforced";
            live(
                "aws_s3_bucket_ownership_controls",
                &bucket,
                &region,
                json!({"id": bucket, "bucket": bucket, "rule": rules}),
                default,
            )
        }))
    }))
}

#[cfg(test)]
mod lifecycle_tests {
    use super::*;
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, Transition, TransitionStorageClass,
    };

    #[test]
    fn a_lifecycle_rule_reads_the_same_from_the_provider_and_the_api() {
        let recorded = json!([{
            "id": "expire-logs", "status": "Enabled", "prefix": "",
            "filter": [{"and": [], "prefix": "logs/", "tag": [], "object_size_greater_than": null}],
            "expiration": [{"date": null, "days": 90, "expired_object_delete_marker": false}],
            "transition": [{"date": null, "days": 30, "storage_class": "STANDARD_IA"}],
            "noncurrent_version_expiration": [], "noncurrent_version_transition": [],
            "abort_incomplete_multipart_upload": [{"days_after_initiation": 7}],
        }]);
        let rule = LifecycleRule::builder()
            .id("expire-logs")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
            .expiration(LifecycleExpiration::builder().days(90).build())
            .transitions(
                Transition::builder().days(30).storage_class(TransitionStorageClass::StandardIa).build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder().days_after_initiation(7).build(),
            )
            .build()
            .expect("a rule");
        let live = json!([lifecycle_rule(&rule)]);
        let entries = lifecycle_rules(Some(&recorded));
        assert_eq!(entries, lifecycle_rules(Some(&live)));
        assert_eq!(
            entries.into_iter().collect::<Vec<_>>(),
            ["expire-logs Enabled prefix=logs/ expire=90d transition=30d:STANDARD_IA abort_uploads=7d"]
        );
    }
}
