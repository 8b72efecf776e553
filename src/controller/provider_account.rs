//! ProviderAccount: checks that the credentials it names can be found.
//!
//! Confirming the identity with the provider (STS GetCallerIdentity and friends)
//! is the provider layer's job and joins this pipeline with the providers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::core::PartialObjectMeta;
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use tracing::info;

use super::credentials::{FetchedSecrets, fetch_secrets, provider_settings_from, referenced_secrets};
use super::status::{apply_status, event_reference, publish_ready_transition, report_invalid};
use super::{Context, Error, on_error, referrers};
use crate::crd::{
    CloudProvider, ConditionStatus, ConditionUpdate, ProviderAccount, ProviderAccountSpec,
    ProviderAccountStatus, merge_conditions,
};
use crate::provider::{self, Identity, ProviderError};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

const CONTROLLER: &str = "provideraccount";

/// What the credential check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialCheck {
    /// The Secret exists and holds every key the provider needs.
    SecretComplete { secret: String },
    /// The named Secret does not exist.
    SecretNotFound { secret: String },
    /// The Secret exists but lacks keys (names only; values are never read out).
    SecretKeysMissing { secret: String, missing: Vec<String> },
    /// The projected web-identity token file is not there.
    TokenFileMissing { path: String },
    /// A credential source with nothing to check locally (ambient chain, metadata server).
    Ambient { source: &'static str },
}

/// The key names of the Secrets an account refers to; `None` for a Secret that
/// does not exist.
pub type SecretKeys = BTreeMap<String, Option<BTreeSet<String>>>;

/// Checks the credential source of `spec` against the Secrets found (pure).
pub fn check_credentials(
    spec: &ProviderAccountSpec,
    secrets: &SecretKeys,
    token_file_exists: impl Fn(&str) -> bool,
) -> CredentialCheck {
    let creds = &spec.credentials;
    let secret_check = |name: &str, required: &[&str]| match secrets.get(name) {
        Some(Some(keys)) => {
            let missing: Vec<String> =
                required.iter().filter(|k| !keys.contains(**k)).map(|k| k.to_string()).collect();
            if missing.is_empty() {
                CredentialCheck::SecretComplete { secret: name.to_string() }
            } else {
                CredentialCheck::SecretKeysMissing { secret: name.to_string(), missing }
            }
        }
        _ => CredentialCheck::SecretNotFound { secret: name.to_string() },
    };
    if let Some(secret) = &creds.secret_ref {
        return secret_check(&secret.name, spec.provider.required_secret_keys());
    }
    if let Some(chain) = &creds.assume_role {
        return match &chain.source_secret_ref {
            Some(source) => secret_check(&source.name, CloudProvider::Aws.required_secret_keys()),
            None => CredentialCheck::Ambient { source: "assumeRole from the ambient chain" },
        };
    }
    if let Some(web) = &creds.web_identity {
        return if token_file_exists(&web.token_file) {
            CredentialCheck::Ambient { source: "webIdentity" }
        } else {
            CredentialCheck::TokenFileMissing { path: web.token_file.clone() }
        };
    }
    if creds.workload_identity.is_some() {
        return CredentialCheck::Ambient { source: "workloadIdentity" };
    }
    CredentialCheck::Ambient { source: "the ambient credential chain" }
}

/// What the provider said about the credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentityCheck {
    Confirmed(Identity),
    /// The provider has no identity check yet; the local check stands.
    Unsupported,
    Failed {
        reason: &'static str,
        message: String,
    },
}

/// Builds the new status from the checks (pure). `identity` is `None` when the
/// local credential check failed and the provider was not asked.
pub fn build_provider_account_status(
    check: &CredentialCheck,
    identity: Option<&IdentityCheck>,
    previous: Option<&ProviderAccountStatus>,
    generation: Option<i64>,
    now: Timestamp,
) -> ProviderAccountStatus {
    let confirmed = match identity {
        Some(IdentityCheck::Confirmed(id)) => Some(id),
        _ => None,
    };
    let (status, reason, message) = match (check, identity) {
        (_, Some(IdentityCheck::Confirmed(id))) => (
            ConditionStatus::True,
            "IdentityConfirmed",
            format!("the provider confirmed the credentials: account {} ({})", id.account_id, id.principal),
        ),
        (_, Some(IdentityCheck::Failed { reason, message })) => {
            (ConditionStatus::False, *reason, message.clone())
        }
        _ => match check {
            CredentialCheck::SecretComplete { secret } => (
                ConditionStatus::True,
                "CredentialsFound",
                format!("Secret {secret} holds the expected keys"),
            ),
            CredentialCheck::SecretNotFound { secret } => (
                ConditionStatus::False,
                "SecretNotFound",
                format!("Secret {secret} was not found in this namespace"),
            ),
            CredentialCheck::SecretKeysMissing { secret, missing } => (
                ConditionStatus::False,
                "SecretKeysMissing",
                format!("Secret {secret} lacks the key(s) {}", missing.join(", ")),
            ),
            CredentialCheck::TokenFileMissing { path } => (
                ConditionStatus::False,
                "TokenFileMissing",
                format!("web identity token file {path} does not exist in the operator"),
            ),
            CredentialCheck::Ambient { source } => {
                (ConditionStatus::True, "AmbientCredentials", format!("credentials come from {source}"))
            }
        },
    };
    let previous = previous.cloned().unwrap_or_default();
    let conditions = merge_conditions(
        &previous.conditions,
        &[ConditionUpdate::new("Ready", status, reason, message)],
        generation,
        now,
    );
    let ready = status == ConditionStatus::True;
    ProviderAccountStatus {
        account_id: confirmed.map(|id| id.account_id.clone()).or(if ready {
            previous.account_id.clone()
        } else {
            None
        }),
        principal: confirmed.map(|id| id.principal.clone()).or(if ready {
            previous.principal.clone()
        } else {
            None
        }),
        last_validated: if ready { Some(Time(now)) } else { previous.last_validated.clone() },
        observed_generation: generation,
        conditions,
    }
}

async fn reconcile(
    guard: Arc<DeserializeGuard<ProviderAccount>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let account = match &guard.0 {
        Ok(account) => account,
        Err(invalid) => return Ok(report_invalid::<ProviderAccount>(&ctx, CONTROLLER, invalid).await),
    };
    let mut timer = ctx.metrics.reconcile_timer(CONTROLLER);
    let namespace = account.namespace().ok_or(Error::MissingNamespace)?;
    let name = account.name_any();

    // read
    let fetched = fetch_secrets(&ctx, &namespace, referenced_secrets(&account.spec)).await?;
    let secrets: SecretKeys = fetched
        .iter()
        .map(|(name, secret)| {
            let keys = secret.as_ref().map(|secret| {
                let data = secret.data.iter().flat_map(|d| d.keys().cloned());
                data.chain(secret.string_data.iter().flat_map(|d| d.keys().cloned())).collect()
            });
            (name.clone(), keys)
        })
        .collect();
    // validate, then ask the provider whose credentials these are
    let check = check_credentials(&account.spec, &secrets, |path| std::path::Path::new(path).exists());
    let locally_ok =
        matches!(check, CredentialCheck::SecretComplete { .. } | CredentialCheck::Ambient { .. });
    let identity = if locally_ok { Some(confirm_identity(&ctx, account, &fetched).await) } else { None };
    let status = build_provider_account_status(
        &check,
        identity.as_ref(),
        account.status.as_ref(),
        account.meta().generation,
        Timestamp::now(),
    );
    // apply
    let before = account.status.as_ref().map(|s| s.conditions.clone()).unwrap_or_default();
    if account.status.as_ref() != Some(&status) {
        apply_status(account, &status, &ctx.client).await?;
    }
    publish_ready_transition(&ctx, &event_reference(account), &before, &status.conditions).await;
    info!(controller = CONTROLLER, %namespace, %name, outcome = ?check, "reconciled");
    timer.set_result("success");
    let ready = crate::crd::is_condition_true(&status.conditions, "Ready");
    Ok(Action::requeue(if ready { ctx.config.resync_interval } else { ctx.config.retry_interval }))
}

async fn confirm_identity(
    ctx: &Context,
    account: &ProviderAccount,
    secrets: &FetchedSecrets,
) -> IdentityCheck {
    let settings = match provider_settings_from(ctx, account, secrets) {
        Ok(settings) => settings,
        Err(error) => {
            return IdentityCheck::Failed { reason: "CredentialsInvalid", message: error.to_string() };
        }
    };
    let provider = match provider::connect(settings).await {
        Ok(provider) => provider,
        Err(ProviderError::Unsupported(_)) => return IdentityCheck::Unsupported,
        Err(error) => return IdentityCheck::Failed { reason: error.reason(), message: error.to_string() },
    };
    match provider.identity().await {
        Ok(identity) => IdentityCheck::Confirmed(identity),
        Err(error) => IdentityCheck::Failed { reason: error.reason(), message: error.to_string() },
    }
}

fn error_policy(_: Arc<DeserializeGuard<ProviderAccount>>, error: &Error, ctx: Arc<Context>) -> Action {
    on_error(CONTROLLER, error, &ctx)
}

pub async fn run(ctx: Arc<Context>) {
    let accounts = ctx.watched_api::<DeserializeGuard<ProviderAccount>>();
    let controller = Controller::new(accounts, watcher::Config::default().any_semantic());
    let store = controller.store();
    // Secrets are watched by metadata only: the operator never caches credential values.
    let secrets = ctx.watched_api::<PartialObjectMeta<Secret>>();
    controller
        .watches(secrets, watcher::Config::default().any_semantic(), move |secret| {
            let name = secret.name_any();
            referrers(&store, secret.namespace(), |account: &ProviderAccount| {
                referenced_secrets(&account.spec).contains(&name)
            })
        })
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ProviderAccountSpec {
        let account: ProviderAccount = serde_yaml::from_str(yaml).expect("fixture parses");
        account.spec
    }

    const SECRET_ACCOUNT: &str = include_str!("../../tests/fixtures/objects/provideraccount-secret.yaml");
    const ROLE_ACCOUNT: &str = include_str!("../../tests/fixtures/objects/provideraccount-assumerole.yaml");

    fn keys(names: &[&str]) -> Option<BTreeSet<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn complete_secret_is_ready() {
        let spec = spec(SECRET_ACCOUNT);
        let secrets =
            SecretKeys::from([("aws-creds".into(), keys(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]))]);
        let check = check_credentials(&spec, &secrets, |_| false);
        assert_eq!(check, CredentialCheck::SecretComplete { secret: "aws-creds".into() });
        let status = build_provider_account_status(&check, None, None, Some(3), Timestamp::UNIX_EPOCH);
        let ready = &status.conditions[0];
        assert_eq!(
            (ready.type_.as_str(), ready.status.as_str(), ready.reason.as_str()),
            ("Ready", "True", "CredentialsFound")
        );
        assert_eq!(ready.observed_generation, Some(3));
        assert_eq!(status.observed_generation, Some(3));
        assert!(status.last_validated.is_some());
    }

    #[test]
    fn missing_keys_are_named_and_values_never_appear() {
        let spec = spec(SECRET_ACCOUNT);
        let secrets = SecretKeys::from([("aws-creds".into(), keys(&["AWS_ACCESS_KEY_ID"]))]);
        let check = check_credentials(&spec, &secrets, |_| false);
        let status = build_provider_account_status(&check, None, None, Some(1), Timestamp::UNIX_EPOCH);
        let ready = &status.conditions[0];
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason, "SecretKeysMissing");
        assert_eq!(ready.message, "Secret aws-creds lacks the key(s) AWS_SECRET_ACCESS_KEY");
        assert!(status.last_validated.is_none());
    }

    #[test]
    fn absent_secret_is_not_found() {
        let spec = spec(SECRET_ACCOUNT);
        let secrets = SecretKeys::from([("aws-creds".into(), None)]);
        let check = check_credentials(&spec, &secrets, |_| false);
        assert_eq!(check, CredentialCheck::SecretNotFound { secret: "aws-creds".into() });
    }

    #[test]
    fn assume_role_checks_its_source_secret() {
        let spec = spec(ROLE_ACCOUNT);
        assert_eq!(referenced_secrets(&spec), ["base-creds"]);
        let check = check_credentials(&spec, &SecretKeys::new(), |_| false);
        assert_eq!(check, CredentialCheck::SecretNotFound { secret: "base-creds".into() });
    }

    #[test]
    fn confirmed_identity_is_recorded_and_failures_clear_it() {
        let spec = spec(SECRET_ACCOUNT);
        let secrets =
            SecretKeys::from([("aws-creds".into(), keys(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]))]);
        let check = check_credentials(&spec, &secrets, |_| false);
        let id = Identity {
            account_id: "123456789012".into(),
            principal: "arn:aws:iam::123456789012:user/x".into(),
        };
        let ok = build_provider_account_status(
            &check,
            Some(&IdentityCheck::Confirmed(id)),
            None,
            Some(1),
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(ok.account_id.as_deref(), Some("123456789012"));
        assert_eq!(ok.conditions[0].reason, "IdentityConfirmed");
        let rejected =
            IdentityCheck::Failed { reason: "CredentialsRejected", message: "InvalidClientTokenId".into() };
        let bad =
            build_provider_account_status(&check, Some(&rejected), Some(&ok), Some(2), Timestamp::UNIX_EPOCH);
        assert_eq!(
            (bad.conditions[0].status.as_str(), bad.conditions[0].reason.as_str()),
            ("False", "CredentialsRejected")
        );
        assert_eq!(bad.account_id, None, "an unconfirmed account has no account id");
    }

    #[test]
    fn recovering_keeps_history_in_transition_time() {
        let spec = spec(SECRET_ACCOUNT);
        let broken = check_credentials(&spec, &SecretKeys::new(), |_| false);
        let t1 = Timestamp::from_second(100).expect("valid");
        let t2 = Timestamp::from_second(200).expect("valid");
        let first = build_provider_account_status(&broken, None, None, Some(1), t1);
        let again = build_provider_account_status(&broken, None, Some(&first), Some(1), t2);
        assert_eq!(first, again, "an unchanged outcome must produce an identical status (no write)");
    }
}
