//! Cloud providers behind one trait. Adding a cloud touches its own folder and
//! one line in `CLOUDS`.

pub mod aws;
pub mod gcp;

use std::fmt;
use std::sync::Arc;

use crate::attributes::Attributes;
use async_trait::async_trait;
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crd::{
    AttributeChange, CloudProvider, Credentials, EndpointOverride, ResourceTarget, Risk, Severity,
};
use crate::drift::Compare;
use crate::resilience::AccountGuard;
use crate::state::{AttributeFilter, KEEP_ALL};

/// A live cloud resource, named the way Terraform names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveResource {
    /// Terraform resource type, such as `aws_instance`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The id Terraform records for it.
    pub id: String,
    pub region: Option<String>,
    /// Attributes under their Terraform names.
    pub attributes: Attributes,
    /// True for resources the cloud creates on its own (default VPC, its subnets,
    /// default security groups, main route tables, default network ACLs).
    #[serde(default)]
    pub is_default: bool,
    /// The resource this one is part of (`aws_instance/i-…` for a volume created with
    /// its instance, which Terraform manages inline as `root_block_device`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of: Option<(String, String)>,
}

/// A part of discovery that failed (one region, or one type in a region).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryFailure {
    /// What failed, such as `us-east-1/aws_instance` or `us-east-1`.
    pub scope: String,
    /// CamelCase reason, such as `Throttled`, `CircuitOpen`, `AccessDenied`.
    pub reason: String,
    pub message: String,
}

/// The result of discovery: what was found, and what could not be looked at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Discovery {
    pub resources: Vec<LiveResource>,
    pub failures: Vec<DiscoveryFailure>,
    /// Types discovery looked at (so the engine knows which state resources it can judge).
    pub covered_types: Vec<String>,
    /// Regions looked at.
    pub regions: Vec<String>,
    /// What each listing spans, when that is not one region (GCP: a project, whose
    /// aggregated lists cover every region); failures are then scoped `<scope>/<type>`
    /// or `<scope>`. Empty: listings are per region.
    pub scopes: Vec<String>,
}

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

/// Told how many units of discovery there are (a type in a region, or in a project),
/// once the provider knows, and when each has finished.
pub trait ProgressSink: Send + Sync {
    fn start(&self, units: u64) {
        let _ = units;
    }
    fn advance(&self, step: &str);
}

/// A sink that ignores progress.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn advance(&self, _: &str) {}
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

/// How a separately managed resource (a rule, a route, an association) shows on the
/// resource the cloud reports it on.
#[derive(Clone, Debug, PartialEq)]
pub enum FoldValue {
    /// One entry of a set attribute of the parent, in the parent's inline shape
    /// (an `ingress` block, a `route` block, an association target).
    Entry(Value),
    /// Scalar attributes of the parent this resource sets (an Elastic IP's
    /// `instance`). A null value means "owned elsewhere: do not compare".
    Scalars(Map<String, Value>),
}

/// A state resource folded into its parent's expected attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Fold {
    /// The parent's live type and cloud id.
    pub parent_type: &'static str,
    pub parent_id: String,
    /// The parent attribute it lands in (`ingress`, `route`, `associations`).
    pub attribute: &'static str,
    pub value: FoldValue,
    /// True when the parent's own comparison includes the attribute (inline rules and
    /// routes). False for attributes only the child is checked against (route table
    /// associations, volume attachments), which Terraform never records on the parent.
    pub on_parent: bool,
    /// True when this resource has no live counterpart of its own and is verified
    /// through its parent; false for resources discovered in their own right.
    pub verify_via_parent: bool,
}

/// Cloud-specific knowledge the cloud-neutral engine consults. Pure: no I/O.
pub trait CloudRules: Send + Sync {
    /// The live type a state type is compared with: `aws_default_vpc` manages an
    /// `aws_vpc`. `None` when the type is compared as itself.
    fn live_type(&self, state_type: &str) -> Option<&'static str> {
        let _ = state_type;
        None
    }
    /// How a state resource lands on other resources' expected attributes (none for a
    /// cloud without separately managed parts).
    fn folds(&self, type_: &str, attributes: &Attributes) -> Vec<Fold> {
        let _ = (type_, attributes);
        Vec::new()
    }
    /// Types only ever verified through a parent (rules, routes, associations).
    fn child_types(&self) -> &'static [&'static str] {
        &[]
    }
    /// The state attributes the engine reads for this cloud (compared, folded, or
    /// used to place a resource in a region); the parser drops the rest.
    fn attribute_filter(&self) -> AttributeFilter {
        KEEP_ALL
    }
    /// How risky it is to set `change.path` of a `type_` back to `change.expected` in
    /// place; `None` when the cloud cannot (Terraform has to replace the resource, or
    /// remediation of it is not implemented).
    fn fix_risk(&self, type_: &str, change: &AttributeChange) -> Option<Risk> {
        let _ = (type_, change);
        None
    }
    /// Whether `DeleteUnmanaged` can delete a resource of `type_`.
    fn deletable(&self, type_: &str) -> bool {
        let _ = type_;
        false
    }
    /// The attributes compared for `type_`, and how (tags only by default).
    fn compared(&self, type_: &str) -> &'static [(&'static str, Compare)] {
        let _ = type_;
        &[("tags", Compare::Tags)]
    }
    /// The value the provider writes for an attribute the other side leaves unset.
    fn default_value(&self, type_: &str, attribute: &str) -> Option<&'static str> {
        let _ = (type_, attribute);
        None
    }
    /// Whether `attribute` means nothing for a resource as state describes it.
    fn not_applicable(&self, type_: &str, attribute: &str, expected: &Attributes) -> bool {
        let _ = (type_, attribute, expected);
        false
    }
    /// The severity of a change of `attribute` (its first path segment), when the
    /// cloud rates it; the engine's default otherwise.
    fn change_severity(&self, type_: &str, attribute: &str, actual: Option<&str>) -> Option<Severity> {
        let _ = (type_, attribute, actual);
        None
    }
    /// The severity of any drift of a `type_` (firewall-like types), when it is not Medium.
    fn type_severity(&self, type_: &str) -> Option<Severity> {
        let _ = type_;
        None
    }
    /// The region a state resource names itself (AWS: its ARN or availability zone).
    fn own_region<'a>(&self, attributes: &'a Attributes) -> Option<&'a str> {
        let _ = attributes;
        None
    }
    /// Tag-key prefixes the cloud manages itself, hidden by the default ignores.
    fn managed_tag_prefixes(&self) -> &'static [&'static str] {
        &[]
    }
    /// The state attribute that holds a tag map with the provider's defaults merged in
    /// (AWS `tags_all` for `tags`), preferred over the map itself when recorded.
    fn full_tag_map(&self, attribute: &str) -> Option<&'static str> {
        let _ = attribute;
        None
    }
    /// Whether a live resource admits the whole internet (an unmanaged one is Critical).
    fn opens_to_world(&self, resource: &LiveResource) -> bool {
        let _ = resource;
        false
    }
}

/// The rules of a type of no registered cloud: tags only, nothing folded.
struct NoRules;

impl CloudRules for NoRules {}

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
    pub supported_types: &'static [&'static str],
    /// Builds the provider for an account.
    pub connect: Connect,
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

/// The rules of the cloud a Terraform type belongs to: Terraform names every type
/// after its provider (`aws_instance`, `google_compute_instance`).
pub fn type_rules(type_: &str) -> &'static dyn CloudRules {
    cloud_rules(type_.split('_').next().unwrap_or_default())
}

/// Every type `resourceTypes` accepts for a cloud: what its discovery lists.
pub fn supported_types(provider: CloudProvider) -> &'static [&'static str] {
    cloud(provider).map_or(&[], |c| c.supported_types)
}

/// Builds the provider for an account.
pub async fn connect(settings: ProviderSettings) -> Result<Box<dyn Provider>, ProviderError> {
    match cloud(settings.provider) {
        Some(cloud) => (cloud.connect)(settings).await,
        None => Err(ProviderError::Unsupported(settings.provider.as_str())),
    }
}
