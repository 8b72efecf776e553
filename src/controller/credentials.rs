//! Turning a ProviderAccount and its Secrets into provider settings. Secret values
//! go into the provider's credential chain and nowhere else.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};

use super::{Context, Error};
use crate::crd::ProviderAccount;
use crate::provider::{CredentialSource, ProviderSettings, StaticKeys};
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
    Kube(#[from] Error),
}

async fn static_keys(secrets: &Api<Secret>, name: &str) -> Result<StaticKeys, CredentialError> {
    let secret = secrets
        .get_opt(name)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| CredentialError::SecretNotFound(name.into()))?;
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| -> Result<Option<String>, CredentialError> {
        data.get(key)
            .map(|bytes| {
                String::from_utf8(bytes.0.clone())
                    .map(|s| s.trim().to_string())
                    .map_err(|_| CredentialError::NotText { secret: name.into(), key: key.into() })
            })
            .transpose()
    };
    let required = |key: &str| {
        text(key)?.ok_or_else(|| CredentialError::KeyMissing { secret: name.into(), key: key.into() })
    };
    Ok(StaticKeys {
        access_key_id: required("AWS_ACCESS_KEY_ID")?,
        secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
        session_token: text("AWS_SESSION_TOKEN")?,
    })
}

/// Provider settings for `account`, with the account's shared guard.
pub async fn provider_settings(
    ctx: &Context,
    account: &ProviderAccount,
) -> Result<ProviderSettings, CredentialError> {
    let namespace = account.namespace().ok_or(Error::MissingNamespace)?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let spec = &account.spec;
    let creds = &spec.credentials;
    let credentials = if let Some(secret) = &creds.secret_ref {
        CredentialSource::Static(static_keys(&secrets, &secret.name).await?)
    } else if let Some(chain) = &creds.assume_role {
        let base = match &chain.source_secret_ref {
            Some(secret) => Some(static_keys(&secrets, &secret.name).await?),
            None => None,
        };
        CredentialSource::AssumeRole { base, roles: chain.roles.clone() }
    } else if let Some(web) = &creds.web_identity {
        CredentialSource::WebIdentity { role_arn: web.role_arn.clone(), token_file: web.token_file.clone() }
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
        endpoint: spec.endpoint.clone(),
        credentials,
        guard: Arc::clone(&guard),
    })
}
