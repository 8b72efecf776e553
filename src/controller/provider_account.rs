//! ProviderAccount: checks that the credentials it names can be found.
//!
//! Confirming the identity with the provider (STS GetCallerIdentity and friends)
//! is the provider layer's job and joins this pipeline with the providers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::core::error_boundary::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use tracing::info;

use super::credentials::{FetchedSecrets, fetch_secrets, provider_settings_from, referenced_secrets};
use super::status::{apply_status, event_reference, publish_ready_transition, report_invalid};
use super::tenancy::{self, TenancyPolicy, TenancyViolation};
use super::{Context, Error, observe_stream, on_error};
use crate::crd::{
    ConditionStatus, ConditionUpdate, Credentials, ProviderAccount, ProviderAccountSpec,
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
    /// The account would use the operator's own identity, or send it to an endpoint,
    /// without the cluster admin's permission.
    NotAllowed(TenancyViolation),
    /// A token of this ServiceAccount (of the account's namespace) is exchanged.
    ServiceAccountToken { service_account: String },
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
    policy: &TenancyPolicy,
    namespace: &str,
) -> CredentialCheck {
    if let Err(violation) = tenancy::check(policy, namespace, spec) {
        return CredentialCheck::NotAllowed(violation);
    }
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
    let required = spec.provider.required_secret_keys();
    match creds {
        Credentials::SecretRef(secret) => secret_check(&secret.name, required),
        Credentials::AssumeRole(chain) => match &chain.source_secret_ref {
            Some(source) => secret_check(&source.name, required),
            None => CredentialCheck::Ambient { source: "assumeRole from the ambient chain" },
        },
        Credentials::WebIdentity(web) => {
            CredentialCheck::ServiceAccountToken { service_account: web.service_account_name.clone() }
        }
        Credentials::WorkloadIdentity(_) => match creds.service_account_token() {
            Some((service_account, _)) => {
                CredentialCheck::ServiceAccountToken { service_account: service_account.to_string() }
            }
            None => CredentialCheck::Ambient { source: "workloadIdentity (the metadata server)" },
        },
        Credentials::None(_) => CredentialCheck::Ambient { source: "the ambient credential chain" },
    }
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
            CredentialCheck::NotAllowed(violation) => {
                (ConditionStatus::False, violation.reason(), violation.to_string())
            }
            CredentialCheck::ServiceAccountToken { service_account } => (
                ConditionStatus::True,
                "ServiceAccountToken",
                format!("a token of ServiceAccount {service_account} is exchanged for the role"),
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

/// How long until a Ready account of this generation is due for revalidation
/// (`interval` after `lastValidated`); `None` when it is due now (pure).
pub fn revalidation_due_in(
    account: &ProviderAccount,
    interval: Duration,
    now: Timestamp,
) -> Option<Duration> {
    let status = account.status.as_ref()?;
    let current = status.observed_generation == account.meta().generation;
    if !current || !crate::crd::is_condition_true(&status.conditions, "Ready") {
        return None;
    }
    let validated = status.last_validated.as_ref()?.0;
    let elapsed = now.duration_since(validated).as_secs_f64().max(0.0);
    let remaining = interval.as_secs_f64() - elapsed;
    (remaining > 0.0).then(|| Duration::from_secs_f64(remaining))
}

async fn reconcile(
    guard: Arc<DeserializeGuard<ProviderAccount>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let account = match &guard.0 {
        Ok(account) => account,
        Err(invalid) => return Ok(report_invalid::<ProviderAccount>(&ctx, CONTROLLER, invalid).await),
    };
    let namespace = account.namespace().ok_or(Error::MissingNamespace)?;
    let name = account.name_any();
    // Its own status write brings the account back here: a Ready account validated
    // recently is left alone until its revalidation is due.
    if let Some(wait) = revalidation_due_in(account, ctx.config.resync_interval, Timestamp::now()) {
        return Ok(Action::requeue(wait));
    }
    let mut timer = ctx.metrics.reconcile_timer(CONTROLLER);

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
    let check = check_credentials(&account.spec, &secrets, &ctx.config.tenancy, &namespace);
    let locally_ok = matches!(
        check,
        CredentialCheck::SecretComplete { .. }
            | CredentialCheck::Ambient { .. }
            | CredentialCheck::ServiceAccountToken { .. }
    );
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
    let settings = match provider_settings_from(ctx, account, secrets).await {
        Ok(settings) => settings,
        Err(error) => return IdentityCheck::Failed { reason: error.reason(), message: error.to_string() },
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
    // Secrets are not watched: the operator may only `get` the Secrets accounts name
    // (a watch would need list and watch on every Secret of the cluster). A changed
    // Secret is picked up at the next revalidation, or at once on any spec change.
    Controller::new(accounts, watcher::Config::default().any_semantic())
        .with_config(ctx.controller_config())
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| observe_stream(CONTROLLER, &ctx, result))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ProviderAccountSpec {
        let account: ProviderAccount = crate::crd::from_yaml(yaml).expect("fixture parses");
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
        let check = check_credentials(&spec, &secrets, &TenancyPolicy::default(), "platform");
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
        let check = check_credentials(&spec, &secrets, &TenancyPolicy::default(), "platform");
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
        let check = check_credentials(&spec, &secrets, &TenancyPolicy::default(), "platform");
        assert_eq!(check, CredentialCheck::SecretNotFound { secret: "aws-creds".into() });
    }

    #[test]
    fn assume_role_checks_its_source_secret() {
        let spec = spec(ROLE_ACCOUNT);
        assert_eq!(referenced_secrets(&spec), ["base-creds"]);
        let check = check_credentials(&spec, &SecretKeys::new(), &TenancyPolicy::default(), "platform");
        assert_eq!(check, CredentialCheck::SecretNotFound { secret: "base-creds".into() });
    }

    #[test]
    fn confirmed_identity_is_recorded_and_failures_clear_it() {
        let spec = spec(SECRET_ACCOUNT);
        let secrets =
            SecretKeys::from([("aws-creds".into(), keys(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]))]);
        let check = check_credentials(&spec, &secrets, &TenancyPolicy::default(), "platform");
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
        let broken = check_credentials(&spec, &SecretKeys::new(), &TenancyPolicy::default(), "platform");
        let t1 = Timestamp::from_second(100).expect("valid");
        let t2 = Timestamp::from_second(200).expect("valid");
        let first = build_provider_account_status(&broken, None, None, Some(1), t1);
        let again = build_provider_account_status(&broken, None, Some(&first), Some(1), t2);
        assert_eq!(first, again, "an unchanged outcome must produce an identical status (no write)");
    }

    #[test]
    fn a_ready_account_is_revalidated_only_when_due() {
        let mut account: ProviderAccount = crate::crd::from_yaml(SECRET_ACCOUNT).expect("fixture parses");
        account.metadata.generation = Some(2);
        let validated = Timestamp::from_second(1_000).expect("valid");
        let check = CredentialCheck::SecretComplete { secret: "aws-creds".into() };
        account.status = Some(build_provider_account_status(&check, None, None, Some(2), validated));
        let at = |second| Timestamp::from_second(second).expect("valid");
        let interval = Duration::from_secs(300);
        assert_eq!(revalidation_due_in(&account, interval, at(1_100)), Some(Duration::from_secs(200)));
        assert_eq!(revalidation_due_in(&account, interval, at(1_300)), None, "due");
        account.metadata.generation = Some(3);
        assert_eq!(revalidation_due_in(&account, interval, at(1_100)), None, "the spec changed");
        account.metadata.generation = Some(2);
        let missing = CredentialCheck::SecretNotFound { secret: "aws-creds".into() };
        account.status = Some(build_provider_account_status(&missing, None, None, Some(2), validated));
        assert_eq!(
            revalidation_due_in(&account, interval, at(1_100)),
            None,
            "not Ready: retried on its own schedule"
        );
    }
}
