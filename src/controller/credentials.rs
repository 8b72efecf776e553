//! Turning a ProviderAccount and its Secrets into provider settings. Secret values
//! go into the provider's credential chain and nowhere else.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, ResourceExt};

use super::tenancy::{self, TenancyViolation};
use super::{Context, Error};
use crate::crd::{ProviderAccount, ProviderAccountSpec};
use crate::provider::{CredentialSource, ProviderSettings, SecretValues, WebIdentityToken};
use crate::resilience::GuardSettings;

/// Why an account's credentials could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("Secret {0} was not found in this namespace")]
    SecretNotFound(String),
    #[error("Secret {secret} lacks the key {key}")]
    KeyMissing { secret: String, key: String },
    #[error("Secret {secret} key {key} is not UTF-8 text")]
    NotText { secret: String, key: String },
    #[error(transparent)]
    NotAllowed(#[from] TenancyViolation),
    #[error("ServiceAccount {0} was not found in this namespace")]
    ServiceAccountNotFound(String),
    #[error("could not mint a token for ServiceAccount {name}: {message}")]
    TokenRequest { name: String, message: String },
    #[error(transparent)]
    Kube(#[from] Error),
}

impl CredentialError {
    /// CamelCase reason for conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::SecretNotFound(_) => "SecretNotFound",
            Self::KeyMissing { .. } => "SecretKeysMissing",
            Self::NotText { .. } => "SecretNotText",
            Self::NotAllowed(violation) => violation.reason(),
            Self::ServiceAccountNotFound(_) => "ServiceAccountNotFound",
            Self::TokenRequest { .. } => "TokenRequestFailed",
            Self::Kube(_) => "KubernetesError",
        }
    }
}

/// How long a minted ServiceAccount token lives: long enough for one scan's token
/// exchange, the shortest the API server accepts.
const TOKEN_SECONDS: i64 = 600;

/// Mints a token of ServiceAccount `name` in `namespace` for `audience` with the
/// TokenRequest API. The token is never stored; it goes to the cloud's STS once.
async fn mint_token(
    ctx: &Context,
    namespace: &str,
    name: &str,
    audience: &str,
) -> Result<WebIdentityToken, CredentialError> {
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: Some(vec![audience.to_string()]),
            expiration_seconds: Some(TOKEN_SECONDS),
            ..Default::default()
        }),
        ..Default::default()
    };
    match api.create_token_request(name, &PostParams::default(), &request).await {
        Ok(minted) => minted.status.and_then(|s| s.token).map(WebIdentityToken).ok_or_else(|| {
            CredentialError::TokenRequest { name: name.into(), message: "no token returned".into() }
        }),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            Err(CredentialError::ServiceAccountNotFound(name.into()))
        }
        // The API server's message names the object and the verb; it holds no token.
        Err(error) => Err(CredentialError::TokenRequest { name: name.into(), message: error.to_string() }),
    }
}

/// The Secrets an account's credentials name, by name; `None` for a missing one.
pub type FetchedSecrets = BTreeMap<String, Option<Secret>>;

/// Reads the Secrets `names` from `namespace`, once, for both the credential check
/// and credential assembly.
pub async fn fetch_secrets(
    ctx: &Context,
    namespace: &str,
    names: Vec<String>,
) -> Result<FetchedSecrets, Error> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let mut fetched = FetchedSecrets::new();
    for name in names {
        let secret = api.get_opt(&name).await?;
        fetched.insert(name, secret);
    }
    Ok(fetched)
}

/// The text keys of Secret `name`, which must hold every key in `required`.
fn secret_values(
    secrets: &FetchedSecrets,
    name: &str,
    required: &[&str],
) -> Result<SecretValues, CredentialError> {
    let secret = secrets
        .get(name)
        .and_then(Option::as_ref)
        .ok_or_else(|| CredentialError::SecretNotFound(name.into()))?;
    let data = secret.data.clone().unwrap_or_default();
    if let Some(key) = required.iter().find(|key| !data.contains_key(**key)) {
        return Err(CredentialError::KeyMissing { secret: name.into(), key: key.to_string() });
    }
    let mut values = SecretValues::default();
    for (key, bytes) in data {
        let text = String::from_utf8(bytes.0)
            .map_err(|_| CredentialError::NotText { secret: name.into(), key: key.clone() })?;
        values.0.insert(key, text);
    }
    Ok(values)
}

/// Provider settings for `account`, with the account's shared guard; reads the
/// Secrets it names.
pub async fn provider_settings(
    ctx: &Context,
    account: &ProviderAccount,
) -> Result<ProviderSettings, CredentialError> {
    let namespace = account.namespace().ok_or(Error::MissingNamespace)?;
    let secrets = fetch_secrets(ctx, &namespace, referenced_secrets(&account.spec)).await?;
    provider_settings_from(ctx, account, &secrets).await
}

/// Provider settings for `account` from Secrets already read. Refuses, before
/// anything is sent anywhere, credentials the namespace may not use.
pub async fn provider_settings_from(
    ctx: &Context,
    account: &ProviderAccount,
    secrets: &FetchedSecrets,
) -> Result<ProviderSettings, CredentialError> {
    let namespace = account.namespace().ok_or(Error::MissingNamespace)?;
    let spec = &account.spec;
    tenancy::check(&ctx.config.tenancy, &namespace, spec)?;
    let creds = &spec.credentials;
    // Either Secret holds the provider's keys (a role chain is AWS's, the schema says).
    let required = spec.provider.required_secret_keys();
    let credentials = if let Some(name) = creds.secret_name() {
        CredentialSource::Secret(secret_values(secrets, name, required)?)
    } else if let Some((service_account, audience)) = creds.service_account_token() {
        CredentialSource::ServiceAccountToken(mint_token(ctx, &namespace, service_account, audience).await?)
    } else {
        CredentialSource::Ambient
    };
    let guard_settings = GuardSettings {
        rate_limit: spec.rate_limit.clone(),
        circuit_breaker: spec.circuit_breaker.clone(),
        ..GuardSettings::default()
    };
    let key = format!("{namespace}/{}", account.name_any());
    let guard = ctx.guards.get(&key, guard_settings, Some(ctx.metrics.cloud_api_calls.clone()));
    Ok(ProviderSettings {
        provider: spec.provider,
        regions: spec.regions.clone(),
        projects: spec.projects.clone().unwrap_or_default(),
        endpoint: spec.endpoint.clone(),
        spec: creds.clone(),
        credentials,
        guard: Arc::clone(&guard),
    })
}

/// Secret names the account's credentials refer to.
pub fn referenced_secrets(spec: &ProviderAccountSpec) -> Vec<String> {
    spec.credentials.secret_name().map(str::to_string).into_iter().collect()
}
