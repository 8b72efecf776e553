//! GCP: Compute Engine discovery over its REST API; tokens through google-cloud-auth;
//! identity confirmed through Resource Manager.

mod api;
mod auth;
mod discover;
mod mapping;
mod rules;
#[cfg(test)]
mod tests;

pub use auth::KEY_FILE;
pub use rules::GcpRules;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::ObjectStore;
use serde_json::Value;

use super::{Cloud, Discovery, Identity, ProgressSink, Provider, ProviderError, ProviderSettings};
use crate::crd::CloudProvider;

/// Terraform types the GCP provider discovers.
pub const SUPPORTED_TYPES: &[&str] = &[
    "google_compute_instance",
    "google_compute_disk",
    "google_compute_subnetwork",
    "google_compute_address",
    "google_compute_router",
    "google_compute_network",
    "google_compute_firewall",
    "google_compute_route",
];

/// GCP in the provider registry.
pub static CLOUD: Cloud = Cloud {
    provider: CloudProvider::Gcp,
    terraform_name: "google",
    rules: &GcpRules,
    supported_types: || SUPPORTED_TYPES,
    read_policy: || None,
    connect: |settings| {
        Box::pin(async move { Ok(Box::new(GcpProvider::new(settings)?) as Box<dyn Provider>) })
    },
};

/// The projects of one account.
pub struct GcpProvider {
    settings: ProviderSettings,
    auth: auth::Auth,
    http: reqwest::Client,
}

impl GcpProvider {
    pub fn new(settings: ProviderSettings) -> Result<Self, ProviderError> {
        if settings.projects.is_empty() {
            return Err(ProviderError::Other(
                "provider gcp needs at least one project (spec.projects; --project for driftmgr scan)".into(),
            ));
        }
        let auth = auth::Auth::new(&settings)?;
        // Redirects are not followed: a token must not be sent on to another host.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Other(format!("HTTP client: {e}")))?;
        Ok(Self { settings, auth, http })
    }

    fn base(&self, service: &str, default: &str) -> String {
        service_base(&self.settings, service, default)
    }

    /// `.../compute/v1`, where every Compute path starts.
    fn compute_base(&self) -> String {
        format!("{}/compute/v1", self.base("compute", "https://compute.googleapis.com"))
    }
}

/// The base URL of a Google service: the account's override for it, else `default`;
/// without a trailing slash.
fn service_base(settings: &ProviderSettings, service: &str, default: &str) -> String {
    let base = settings.endpoint.as_ref().and_then(|e| e.for_service(service));
    base.unwrap_or_else(|| default.to_string()).trim_end_matches('/').to_string()
}

#[async_trait]
impl Provider for GcpProvider {
    fn terraform_name(&self) -> &'static str {
        "google"
    }

    fn supported_types(&self) -> &'static [&'static str] {
        SUPPORTED_TYPES
    }

    /// Each project's number (which also proves the token is accepted and the project
    /// readable) and whose credentials these are.
    async fn identity(&self) -> Result<Identity, ProviderError> {
        let base = self.base("cloudresourcemanager", "https://cloudresourcemanager.googleapis.com");
        let mut numbers = Vec::new();
        for project in &self.settings.projects {
            let url = format!("{base}/v1/projects/{project}");
            let body = self.get("cloudresourcemanager", "projects.get", &url, &[]).await.map_err(|e| {
                match api::provider_error(e) {
                    ProviderError::Other(message) => {
                        ProviderError::Other(format!("project {project}: {message}"))
                    }
                    other => other,
                }
            })?;
            let number = match body.get("projectNumber") {
                Some(Value::String(n)) => n.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(ProviderError::Other(format!(
                        "project {project}: no projectNumber in the answer"
                    )));
                }
            };
            numbers.push(number);
        }
        let principal = match self.auth.metadata_principal(&self.http).await {
            Some(email) => email,
            None => self.auth.principal.clone(),
        };
        Ok(Identity { account_id: numbers.join(","), principal })
    }

    async fn discover(&self, types: &[String], progress: &dyn ProgressSink) -> Discovery {
        discover::discover(self, types, progress).await
    }

    /// GCS state is read with the DriftScan source's own credentials (`gcs`), not the
    /// account's: S3 sources are AWS's.
    async fn state_bucket(
        &self,
        bucket: &str,
        _: Option<&str>,
    ) -> Result<Arc<dyn ObjectStore>, ProviderError> {
        Err(ProviderError::Other(format!(
            "s3://{bucket} is an AWS bucket; a GCP account reads state from gcs sources"
        )))
    }
}
