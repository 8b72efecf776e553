//! `driftmgr.io/generate-plan` on a DriftScan: a RemediationPlan built from the
//! scan's current report, owned by the scan. The operator is its author (the name the
//! API server knows it by, from a SelfSubjectReview), so the admission policy lets
//! any other user approve it; it asks for two approvals, as nobody chose its actions.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::{Api, Resource, ResourceExt};
use tracing::info;

use super::report_store;
use super::status::apply_status;
use super::{Context, Error};
use crate::crd::{
    Approval, DriftScan, DriftScanRef, DriftScanStatus, GENERATE_PLAN_ANNOTATION, GeneratedPlan,
    RemediationMode, RemediationPlan, RemediationPlanSpec, RemediationPlanStatus,
};
use crate::provider::cloud_rules;
use crate::remediation::generate::generate;

/// Approvals a generated plan asks for.
const GENERATED_APPROVALS: u32 = 2;

/// The name of the plan generated from report `generation` of `scan` (within 253).
pub fn plan_name(scan: &str, generation: i64) -> String {
    let suffix = format!("-plan-{generation}");
    let keep = 253usize.saturating_sub(suffix.len()).min(scan.len());
    format!("{}{suffix}", &scan[..keep])
}

/// The user the API server authenticates `client` as (a SelfSubjectReview; every
/// authenticated user may create one). The operator authors generated plans under this
/// name; the API records approvals under it.
pub async fn self_username(client: &kube::Client) -> Result<String, kube::Error> {
    let reviews: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = reviews.create(&PostParams::default(), &SelfSubjectReview::default()).await?;
    Ok(review.status.and_then(|s| s.user_info).and_then(|u| u.username).unwrap_or_default())
}

/// The operator's user name, asked once.
async fn own_username(ctx: &Context) -> Result<String, Error> {
    let name = ctx
        .own_username
        .get_or_try_init(|| async { Ok::<_, Error>(self_username(&ctx.client).await?) })
        .await?;
    Ok(name.clone())
}

/// Handles a new `driftmgr.io/generate-plan` request: creates the plan (once; an
/// existing one is kept) and returns the scan status recording it. `None` when there
/// is no new request, or no report to build from yet.
pub async fn generate_if_requested(
    ctx: &Context,
    scan: &DriftScan,
) -> Result<Option<DriftScanStatus>, Error> {
    let Some(request) = scan.annotations().get(GENERATE_PLAN_ANNOTATION).cloned() else { return Ok(None) };
    let previous = scan.status.clone().unwrap_or_default();
    if previous.generated_plan.as_ref().is_some_and(|g| g.request == request) {
        return Ok(None);
    }
    let Some(report_ref) = previous.report_ref.clone() else { return Ok(None) };
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let record = |name: Option<String>, message: String| {
        Some(DriftScanStatus {
            generated_plan: Some(GeneratedPlan {
                request: request.clone(),
                name,
                report_generation: report_ref.generation,
                message,
            }),
            ..previous.clone()
        })
    };
    let report = match report_store::load(&ctx.client, &namespace, &report_ref).await {
        Ok(report) => report,
        Err(error) => return Ok(record(None, format!("the report could not be read: {error}"))),
    };
    let (actions, unhandled) = generate(&report, cloud_rules(&report.provider));
    if actions.is_empty() {
        let message = format!(
            "report generation {}: nothing the cloud can change in place ({} item(s) need Terraform; see the report)",
            report_ref.generation,
            unhandled.len()
        );
        return Ok(record(None, message));
    }
    let name = plan_name(&scan.name_any(), report_ref.generation);
    let mut plan = RemediationPlan::new(
        &name,
        RemediationPlanSpec {
            author: Some(own_username(ctx).await?),
            drift_scan_ref: DriftScanRef {
                name: scan.name_any(),
                report_generation: Some(report_ref.generation),
            },
            actions,
            mode: RemediationMode::Execute,
            approval: Approval { required: GENERATED_APPROVALS, approvers: Vec::new() },
            continue_on_failure: false,
            allow_destructive: false,
            rollback: false,
        },
    );
    plan.metadata.namespace = Some(namespace.clone());
    plan.metadata.owner_references = scan.controller_owner_ref(&()).map(|owner| vec![owner]);
    let plans: Api<RemediationPlan> = Api::namespaced(ctx.client.clone(), &namespace);
    let created = match plans.create(&PostParams::default(), &plan).await {
        Ok(created) => Some(created),
        Err(kube::Error::Api(status)) if status.is_already_exists() => None,
        Err(error) => return Err(error.into()),
    };
    let count = plan.spec.actions.len();
    if let Some(created) = created {
        let status = RemediationPlanStatus { unhandled: unhandled.clone(), ..Default::default() };
        apply_status(&created, &status, &ctx.client).await?;
        info!(%namespace, scan = %scan.name_any(), plan = %name, actions = count, "remediation plan generated");
    }
    let message = format!(
        "RemediationPlan {name}: {count} action(s) from report generation {}; {} item(s) left to Terraform",
        report_ref.generation,
        unhandled.len()
    );
    Ok(record(Some(name), message))
}

#[cfg(test)]
mod tests {
    use super::plan_name;

    #[test]
    fn plan_names_fit() {
        assert_eq!(plan_name("net", 3), "net-plan-3");
        assert!(plan_name(&"x".repeat(300), 12).len() <= 253);
    }
}
