//! Cloud providers behind one trait. Adding a cloud touches its own folder and
//! one line in `CLOUDS`.

pub mod aws;
pub mod gcp;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use object_store::ObjectStore;

use crate::crd::{AttributeChange, CloudProvider, Credentials, EndpointOverride, ResourceTarget};
pub use crate::drift::{
    CloudRules, Discovery, DiscoveryFailure, Fold, FoldValue, LiveResource, NoProgress, NoRules, ProgressSink,
};
use crate::resilience::AccountGuard;

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub principal: String,
}

/// The text keys of a credentials Secret; each cloud reads its own (AWS
/// `AWS_ACCESS_KEY_ID`, GCP `credentials.json`). `Debug` prints the key names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(pub std::collections::BTreeMap<String, String>);

impl SecretValues {
    /// The value of `key`, trimmed; `None` when absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim())
    }
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A minted ServiceAccount token. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebIdentityToken(pub String);

impl fmt::Debug for WebIdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebIdentityToken(<redacted>)")
    }
}

/// Credential material the operator resolved for an account; what it means (which
/// role, audience or service account) is in `ProviderSettings::spec`, which each
/// cloud reads itself.
#[derive(Clone, Debug, PartialEq)]
pub enum CredentialSource {
    /// The keys of the Secret the credentials name (`secretRef`, or a role chain's
    /// `sourceSecretRef`).
    Secret(SecretValues),
    /// A token of a ServiceAccount of the account's own namespace, minted for the
    /// audience the credentials name, for the cloud to exchange.
    ServiceAccountToken(WebIdentityToken),
    /// Nothing resolved locally: the ambient chain or the metadata server.
    Ambient,
}

/// Everything needed to talk to one account.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub provider: CloudProvider,
    pub regions: Vec<String>,
    /// Projects to discover (GCP); empty for clouds without them.
    pub projects: Vec<String>,
    pub endpoint: Option<EndpointOverride>,
    /// The account's credentials as declared (which role, audience, service account).
    pub spec: Credentials,
    pub credentials: CredentialSource,
    pub guard: Arc<AccountGuard>,
}

/// Why a provider could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider {0} is not supported yet")]
    Unsupported(&'static str),
    #[error("the provider refused the credentials: {0}")]
    Unauthorized(String),
    #[error("the provider endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider is throttling requests: {0}")]
    Throttled(String),
    #[error("{0}")]
    Other(String),
}

impl ProviderError {
    /// CamelCase reason for conditions; also the metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unsupported(_) => "ProviderUnsupported",
            Self::Unauthorized(_) => "CredentialsRejected",
            Self::Unreachable(_) => "ProviderUnreachable",
            Self::Throttled(_) => "Throttled",
            Self::Other(_) => "ProviderError",
        }
    }
}

/// A cloud, as the engine sees it.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name in Terraform (`aws`, `google`, `azurerm`).
    fn terraform_name(&self) -> &'static str;
    /// Terraform types this provider can discover.
    fn supported_types(&self) -> &'static [&'static str];
    /// Confirms the credentials and says whose they are.
    async fn identity(&self) -> Result<Identity, ProviderError>;
    /// Lists live resources of `types` (all supported types when empty) in every
    /// configured region. Failures of a region or type are reported, not fatal.
    async fn discover(&self, types: &[String], progress: &dyn ProgressSink) -> Discovery;
    /// An object store for a state bucket of this cloud (S3 for AWS), using the
    /// account's credentials and endpoint.
    async fn state_bucket(
        &self,
        bucket: &str,
        region: Option<&str>,
    ) -> Result<Arc<dyn ObjectStore>, ProviderError>;
    /// Reads one resource as `discover` maps it (at least every attribute
    /// `CloudRules::fix_risk` accepts a change of); `None` when it no longer exists.
    async fn read(&self, target: &ResourceTarget) -> Result<Option<LiveResource>, ProviderError> {
        let _ = target;
        Err(ProviderError::Unsupported(self.terraform_name()))
    }
    /// Sets each change's `path` of one resource to the change's `expected` value
    /// (absent: removes it). Only changes `CloudRules::fix_risk` accepts are passed.
    /// Returns what it did, for people.
    async fn remediate(
        &self,
        target: &ResourceTarget,
        changes: &[AttributeChange],
    ) -> Result<String, ProviderError> {
        let _ = (target, changes);
        Err(ProviderError::Unsupported(self.terraform_name()))
    }
    /// Deletes one resource (only types `CloudRules::deletable` accepts). Returns what
    /// it did, for people.
    async fn delete(&self, target: &ResourceTarget) -> Result<String, ProviderError> {
        let _ = target;
        Err(ProviderError::Unsupported(self.terraform_name()))
    }
}

/// Builds a cloud's provider for one account.
pub type Connect =
    fn(ProviderSettings) -> futures::future::BoxFuture<'static, Result<Box<dyn Provider>, ProviderError>>;

/// What the engine, the operator and the CLI need of one cloud.
pub struct Cloud {
    pub provider: CloudProvider,
    /// Its Terraform provider's name, the prefix of its resource types.
    pub terraform_name: &'static str,
    pub rules: &'static dyn CloudRules,
    /// Every type `resourceTypes` accepts: what its discovery lists.
    pub supported_types: fn() -> &'static [&'static str],
    /// Builds the provider for an account.
    pub connect: Connect,
    /// The least-privilege, read-only policy a scan of every supported type needs, in
    /// the cloud's own policy language; `None` where driftmgr cannot derive one yet.
    pub read_policy: fn() -> Option<String>,
}

/// The clouds driftmgr supports: one line per cloud.
pub static CLOUDS: &[&Cloud] = &[&aws::CLOUD, &gcp::CLOUD];

/// The registered cloud for `provider`.
pub fn cloud(provider: CloudProvider) -> Option<&'static Cloud> {
    CLOUDS.iter().copied().find(|c| c.provider == provider)
}

/// The rules of a cloud by its Terraform provider name.
pub fn cloud_rules(terraform_name: &str) -> &'static dyn CloudRules {
    CLOUDS.iter().find(|c| c.terraform_name == terraform_name).map_or(&NoRules, |c| c.rules)
}

/// Every type `resourceTypes` accepts for a cloud: what its discovery lists.
pub fn supported_types(provider: CloudProvider) -> &'static [&'static str] {
    cloud(provider).map_or(&[], |c| (c.supported_types)())
}

/// Builds the provider for an account.
pub async fn connect(settings: ProviderSettings) -> Result<Box<dyn Provider>, ProviderError> {
    match cloud(settings.provider) {
        Some(cloud) => (cloud.connect)(settings).await,
        None => Err(ProviderError::Unsupported(settings.provider.as_str())),
    }
}
