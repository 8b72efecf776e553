//! Cloud providers behind one trait. Adding a cloud touches its own folder and
//! one line in `connect`.

pub mod aws;

use std::fmt;
use std::sync::Arc;

use crate::attributes::Attributes;
use async_trait::async_trait;
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crd::{
    AssumeRoleStep, AttributeChange, CloudProvider, EndpointOverride, ResourceTarget, Risk, Severity,
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
}

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub account_id: String,
    pub principal: String,
}

/// Static keys. `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticKeys").field("access_key_id", &"<redacted>").finish_non_exhaustive()
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

/// Resolved credential material for a provider.
#[derive(Clone, Debug, PartialEq)]
pub enum CredentialSource {
    Static(StaticKeys),
    AssumeRole { base: Option<StaticKeys>, roles: Vec<AssumeRoleStep> },
    WebIdentity { role_arn: String, token: WebIdentityToken },
    Ambient,
}

/// Everything needed to talk to one account.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    pub provider: CloudProvider,
    pub regions: Vec<String>,
    pub endpoint: Option<EndpointOverride>,
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

/// Told when one unit of discovery (a type in a region) has finished.
pub trait ProgressSink: Send + Sync {
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
    fn live_type(&self, state_type: &str) -> Option<&'static str>;
    /// How a state resource lands on other resources' expected attributes.
    fn folds(&self, type_: &str, attributes: &Attributes) -> Vec<Fold>;
    /// Types only ever verified through a parent (rules, routes, associations).
    fn child_types(&self) -> &'static [&'static str];
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
}

/// Rules of a cloud with nothing to fold (and the fallback for unknown names).
struct NoRules;

impl CloudRules for NoRules {
    fn live_type(&self, _: &str) -> Option<&'static str> {
        None
    }
    fn folds(&self, _: &str, _: &Attributes) -> Vec<Fold> {
        Vec::new()
    }
    fn child_types(&self) -> &'static [&'static str] {
        &[]
    }
}

/// The rules of a cloud by its Terraform provider name. One line per cloud.
pub fn cloud_rules(terraform_name: &str) -> &'static dyn CloudRules {
    match terraform_name {
        "aws" => &aws::AwsRules,
        _ => &NoRules,
    }
}

/// The rules of the cloud a Terraform type belongs to: Terraform names every type
/// after its provider (`aws_instance`, `google_compute_instance`).
pub fn type_rules(type_: &str) -> &'static dyn CloudRules {
    cloud_rules(type_.split('_').next().unwrap_or_default())
}

/// Every type `resourceTypes` accepts for a cloud: what its discovery lists.
pub fn supported_types(provider: CloudProvider) -> &'static [&'static str] {
    match provider {
        CloudProvider::Aws => aws::SUPPORTED_TYPES,
        _ => &[],
    }
}

/// Builds the provider for an account.
pub async fn connect(settings: ProviderSettings) -> Result<Box<dyn Provider>, ProviderError> {
    match settings.provider {
        CloudProvider::Aws => Ok(Box::new(aws::AwsProvider::new(settings).await?)),
        other => Err(ProviderError::Unsupported(other.as_str())),
    }
}
