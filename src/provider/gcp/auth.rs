//! Google credentials for an account: a service-account key from a Secret, a
//! ServiceAccount token exchanged at STS (GKE-style workload identity), the metadata
//! server, or application default credentials; tokens through google-cloud-auth.
//! Impersonation (IAM Credentials `generateAccessToken`) is done here because
//! google-cloud-auth takes no endpoint override for it, and a private or emulated
//! IAM Credentials endpoint must work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use google_cloud_auth::credentials::subject_token::{
    Builder as SubjectTokenBuilder, SubjectToken, SubjectTokenProvider,
};
use google_cloud_auth::credentials::{
    self, CacheableResource, Credentials, external_account, mds, service_account,
};
use google_cloud_auth::errors::SubjectTokenProviderError;
use http::Extensions;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::provider::{CredentialSource, ProviderError, ProviderSettings, WebIdentityToken};

/// The scope every token asks for; IAM roles limit what it may do.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The Secret key of a service-account key file.
pub const KEY_FILE: &str = "credentials.json";

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Credentials(String),
    #[error("impersonating {email}: {message}")]
    Impersonation { email: String, message: String },
}

/// One account's credentials and whose they are.
pub struct Auth {
    credentials: Credentials,
    impersonation: Option<Impersonation>,
    /// Whose identity this is, as far as it is known without a call.
    pub principal: String,
    /// Where the metadata server says whose it is, when the account uses it.
    metadata_email_url: Option<String>,
}

/// A service account impersonated through IAM Credentials, with its cached token.
struct Impersonation {
    email: String,
    url: String,
    cached: Mutex<Option<(String, Instant)>>,
}

/// A ServiceAccount token the operator minted, handed to STS as the subject token.
#[derive(Debug)]
struct MintedToken(WebIdentityToken);

#[derive(Debug, thiserror::Error)]
#[error("the minted token is not available")]
struct NoToken;

impl SubjectTokenProviderError for NoToken {
    fn is_transient(&self) -> bool {
        false
    }
}

impl SubjectTokenProvider for MintedToken {
    type Error = NoToken;
    async fn subject_token(&self) -> Result<SubjectToken, NoToken> {
        Ok(SubjectTokenBuilder::new(self.0.0.trim().to_string()).build())
    }
}

fn unusable(what: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unauthorized(format!("{what}: {error}"))
}

impl Auth {
    /// Builds the credential chain the account declares. Nothing is sent yet.
    pub fn new(settings: &ProviderSettings) -> Result<Self, ProviderError> {
        let endpoint = |service: &str, default: &str| super::service_base(settings, service, default);
        let spec = &settings.spec;
        let workload = spec.workload_identity();
        let metadata = endpoint("metadata", "http://metadata.google.internal");
        let mut metadata_email_url = None;
        let (credentials, principal) = match &settings.credentials {
            CredentialSource::Secret(values) => {
                let text = values.get(KEY_FILE).ok_or_else(|| {
                    ProviderError::Unauthorized(format!("the credentials Secret lacks the key {KEY_FILE}"))
                })?;
                service_account_key(text)?
            }
            CredentialSource::ServiceAccountToken(token) => {
                let audience = workload.and_then(|w| w.audience.clone()).ok_or_else(|| {
                    ProviderError::Unauthorized(
                        "a ServiceAccount token needs credentials.workloadIdentity.audience".into(),
                    )
                })?;
                let sts = endpoint("sts", "https://sts.googleapis.com");
                let credentials =
                    external_account::ProgrammaticBuilder::new(Arc::new(MintedToken(token.clone())))
                        .with_audience(audience.clone())
                        .with_subject_token_type("urn:ietf:params:oauth:token-type:jwt")
                        .with_token_url(format!("{sts}/v1/token"))
                        .with_scopes([SCOPE])
                        .build()
                        .map_err(|e| unusable("workload identity", e))?;
                (credentials, format!("workload identity federation through {audience}"))
            }
            CredentialSource::Ambient if workload.is_some() => {
                let credentials = mds::Builder::default()
                    .with_endpoint(metadata.clone())
                    .with_scopes([SCOPE])
                    .build()
                    .map_err(|e| unusable("the metadata server", e))?;
                metadata_email_url =
                    Some(format!("{metadata}/computeMetadata/v1/instance/service-accounts/default/email"));
                (credentials, "the metadata server's service account".to_string())
            }
            CredentialSource::Ambient => {
                let credentials = credentials::Builder::default()
                    .with_scopes([SCOPE])
                    .build()
                    .map_err(|e| unusable("application default credentials", e))?;
                (credentials, ambient_principal())
            }
        };
        let impersonation =
            workload.and_then(|w| w.service_account_email.clone()).map(|email| Impersonation {
                url: format!(
                    "{}/v1/projects/-/serviceAccounts/{email}:generateAccessToken",
                    endpoint("iamcredentials", "https://iamcredentials.googleapis.com")
                ),
                email,
                cached: Mutex::new(None),
            });
        let principal = impersonation.as_ref().map_or(principal, |i| i.email.clone());
        // An impersonated account is known by its email already.
        if impersonation.is_some() {
            metadata_email_url = None;
        }
        Ok(Self { credentials, impersonation, principal, metadata_email_url })
    }

    /// A bearer token for the next call (google-cloud-auth caches and refreshes it).
    pub async fn bearer(&self, http: &reqwest::Client) -> Result<String, AuthError> {
        let own = self.own_token().await?;
        match &self.impersonation {
            None => Ok(own),
            Some(impersonation) => impersonation.token(http, &own).await,
        }
    }

    async fn own_token(&self) -> Result<String, AuthError> {
        let headers = match self.credentials.headers(Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            Ok(CacheableResource::NotModified) => {
                return Err(AuthError::Credentials("no token was returned".into()));
            }
            Err(error) => return Err(AuthError::Credentials(super::api::with_causes(&error))),
        };
        headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string)
            .ok_or_else(|| AuthError::Credentials("the credentials produced no bearer token".into()))
    }

    /// The principal the metadata server reports, when the account uses it.
    pub async fn metadata_principal(&self, http: &reqwest::Client) -> Option<String> {
        let url = self.metadata_email_url.as_ref()?;
        let response = http.get(url).header("Metadata-Flavor", "Google").send().await.ok()?;
        let text = response.error_for_status().ok()?.text().await.ok()?;
        Some(text.trim().to_string()).filter(|t| !t.is_empty())
    }
}

impl Impersonation {
    /// An access token of the impersonated account, cached until a minute before it expires.
    async fn token(&self, http: &reqwest::Client, source: &str) -> Result<String, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let failed = |message: String| AuthError::Impersonation { email: self.email.clone(), message };
        let response = http
            .post(&self.url)
            .bearer_auth(source)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(serde_json::json!({"scope": [SCOPE], "lifetime": "3600s"}).to_string())
            .send()
            .await
            .map_err(|e| failed(super::api::describe(e)))?;
        let status = response.status();
        let body: Value = match response.bytes().await {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        if !status.is_success() {
            let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or_default();
            return Err(failed(format!("HTTP {}: {message}", status.as_u16())));
        }
        let token = body
            .get("accessToken")
            .and_then(Value::as_str)
            .ok_or_else(|| failed("the answer holds no accessToken".into()))?
            .to_string();
        // `expireTime` is RFC 3339; a token is kept for at most 50 minutes either way.
        let lifetime = body
            .get("expireTime")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<k8s_openapi::jiff::Timestamp>().ok())
            .map(|t| t.duration_since(k8s_openapi::jiff::Timestamp::now()).as_secs().max(0) as u64)
            .unwrap_or(3000)
            .min(3000);
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(60));
        *cached = Some((token.clone(), until));
        Ok(token)
    }
}

/// Credentials from a service-account key file's text. Errors never quote the key.
pub fn service_account_key(text: &str) -> Result<(Credentials, String), ProviderError> {
    let key: Value = serde_json::from_str(text)
        .map_err(|_| ProviderError::Unauthorized(format!("{KEY_FILE} is not JSON")))?;
    if key.get("type").and_then(Value::as_str) != Some("service_account") {
        return Err(ProviderError::Unauthorized(format!(
            "{KEY_FILE} is not a service-account key (type is not service_account)"
        )));
    }
    let email = key.get("client_email").and_then(Value::as_str).unwrap_or_default().to_string();
    let credentials = service_account::Builder::new(key)
        .with_access_specifier(service_account::AccessSpecifier::from_scopes([SCOPE]))
        .build()
        .map_err(|_| {
            ProviderError::Unauthorized(format!("{KEY_FILE} is not a usable service-account key"))
        })?;
    Ok((credentials, email))
}

/// Whose application default credentials these are, when a key file says so.
fn ambient_principal() -> String {
    std::env::var("GOOGLE_APPLICATION_CREDENTIALS")
        .ok()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|key| key.get("client_email").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| "application default credentials".into())
}
