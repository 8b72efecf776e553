//! ACM certificates: ListCertificates (1,000 a page, every status), then per
//! certificate DescribeCertificate and its tags. The certificate, never its key. A
//! certificate validation (Terraform's wait for issuance, no object of its own) is
//! verified on its certificate: issued, or not.

use aws_sdk_acm::types::CertificateDetail;
use serde_json::{Map, Value, json};

use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::{Fold, FoldValue, LiveResource};

/// The ACM types.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("domain_name", Scalar),
            ("subject_alternative_names", StringSet),
            ("validation_method", Scalar),
            ("key_algorithm", Scalar),
            ("options", Entries(transparency)),
            ("tags", Tags),
        ],
        defaults: &[("key_algorithm", "RSA_2048")],
        severity: &[("subject_alternative_names", Severity::High)],
        ..AwsType::new(
            "aws_acm_certificate",
            Listing::List {
                scope: Scope::Regional,
                service: "acm",
                operations: &["ListCertificates", "DescribeCertificate", "ListTagsForCertificate"],
                page_size: Some(1000),
                actions: &["acm:ListCertificates", "acm:DescribeCertificate", "acm:ListTagsForCertificate"],
                list: list_certificate,
            },
        )
    },
    AwsType {
        compared: &[("status", Scalar)],
        // A certificate no longer issued (revoked, expired, validation lost) breaks TLS.
        severity: &[("status", Severity::High)],
        ..AwsType::folded("aws_acm_certificate_validation", "aws_acm_certificate", fold_validation)
    },
];

/// A validation holds when its certificate is issued.
fn fold_validation(a: &Attributes) -> Option<Fold> {
    let arn = a.get("certificate_arn").and_then(Value::as_str).filter(|s| !s.is_empty())?;
    let status = Map::from_iter([("status".to_string(), json!("ISSUED"))]);
    Some(Fold {
        parent_type: "aws_acm_certificate",
        parent_id: arn.to_string(),
        attribute: "status",
        value: FoldValue::Scalars(status),
        on_parent: false,
        verify_via_parent: true,
    })
}

/// Certificate transparency logging; no block is AWS's `ENABLED`.
fn transparency(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let block = value.and_then(Value::as_array).and_then(|b| b.first());
    let preference =
        block.and_then(|b| b.get("certificate_transparency_logging_preference")).and_then(Value::as_str);
    [preference.filter(|p| !p.is_empty()).unwrap_or("ENABLED").to_string()].into()
}

fn client(cx: &ListContext<'_>) -> aws_sdk_acm::Client {
    cx.provider.acm_client(cx.region)
}

fn list_certificate<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let acm = client(cx);
        let summaries = paginate(&cx.guard, "acm", "ListCertificates", |token| {
            let request = acm.list_certificates().max_items(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.certificate_summary_list().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        let arns: Vec<String> =
            summaries.iter().filter_map(|s| s.certificate_arn().map(str::to_string)).collect();
        read_each(arns, |arn| read_certificate(cx, arn)).await
    })
}

async fn read_certificate(
    cx: &ListContext<'_>,
    arn: String,
) -> Result<Option<LiveResource>, (String, String)> {
    let acm = client(cx);
    let gone = &["ResourceNotFoundException"];
    let described = call_optional(&cx.guard, "acm", "DescribeCertificate", gone, || {
        acm.describe_certificate().certificate_arn(&arn).send()
    })
    .await?;
    let Some(certificate) = described.and_then(|d| d.certificate().cloned()) else { return Ok(None) };
    let tags = call_optional(&cx.guard, "acm", "ListTagsForCertificate", gone, || {
        acm.list_tags_for_certificate().certificate_arn(&arn).send()
    })
    .await?;
    let tags: Map<String, Value> =
        tags.iter().flat_map(|t| t.tags()).map(|t| (t.key().to_string(), json!(t.value()))).collect();
    Ok(Some(super::mapping::live(
        "aws_acm_certificate",
        &arn,
        Some(cx.region),
        attributes(&certificate, tags),
    )))
}

fn attributes(c: &CertificateDetail, tags: Map<String, Value>) -> Value {
    let domain = c.domain_name().unwrap_or_default();
    // The provider leaves the domain itself out of the alternative names AWS lists.
    let alternatives: Vec<&str> =
        c.subject_alternative_names().iter().map(String::as_str).filter(|name| *name != domain).collect();
    let method = c.domain_validation_options().iter().find_map(|o| o.validation_method()).map(|m| m.as_str());
    let preference =
        c.options().and_then(|o| o.certificate_transparency_logging_preference()).map(|p| p.as_str());
    json!({
        "id": c.certificate_arn(), "arn": c.certificate_arn(), "domain_name": domain,
        "subject_alternative_names": alternatives, "validation_method": method,
        "key_algorithm": c.key_algorithm().map(|k| k.as_str()), "status": c.status().map(|s| s.as_str()),
        "options": [{"certificate_transparency_logging_preference": preference}],
        "tags": tags,
    })
}
