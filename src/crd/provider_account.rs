//! `ProviderAccount`: one cloud account and how to reach it.
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated
// `type_ = ...` keys inside them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::LocalObjectRef;

/// One cloud account (AWS account, GCP project set, Azure subscription,
/// DigitalOcean team) and how driftmgr reaches it. Every DriftScan of the account
/// shares the account's API rate limit and circuit breaker.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "driftmgr.io",
    version = "v1alpha1",
    kind = "ProviderAccount",
    namespaced,
    status = "ProviderAccountStatus",
    shortname = "pa",
    category = "driftmgr",
    doc = "A cloud account driftmgr discovers live resources in, and the credentials it uses.",
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider"),
    printcolumn(name = "Account", type_ = "string", json_path = ".status.accountId"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[x_kube(validation = Rule::new("!has(self.credentials.assumeRole) && !has(self.credentials.webIdentity) || self.provider == 'aws'").message("credentials.assumeRole and credentials.webIdentity are only valid for provider aws"))]
#[x_kube(validation = Rule::new("!has(self.credentials.workloadIdentity) || self.provider == 'gcp'").message("credentials.workloadIdentity is only valid for provider gcp"))]
#[x_kube(validation = Rule::new("!has(self.projects) || self.provider == 'gcp'").message("projects is only valid for provider gcp"))]
#[x_kube(validation = Rule::new("self.provider != 'gcp' || has(self.projects) && size(self.projects) > 0").message("provider gcp needs at least one entry in projects"))]
#[serde(rename_all = "camelCase")]
pub struct ProviderAccountSpec {
    /// The cloud. Cannot be changed after creation: create another ProviderAccount instead.
    #[x_kube(validation = Rule::new("self == oldSelf").message("provider is immutable"))]
    pub provider: CloudProvider,

    /// Regions (AWS), regions or zones (GCP) or locations (Azure) to discover. An empty
    /// list means every region the account has enabled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), inner(length(min = 1, max = 64), regex(pattern = r"^[a-z0-9-]+$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub regions: Vec<String>,

    /// GCP project IDs to discover (provider gcp only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 64),
        inner(length(min = 6, max = 30), regex(pattern = r"^[a-z][-a-z0-9]*[a-z0-9]$"))
    )]
    pub projects: Option<Vec<String>>,

    /// How driftmgr authenticates. Exactly one source must be set.
    pub credentials: Credentials,

    /// Endpoint overrides, for an emulator, LocalStack, or a private (VPC) endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointOverride>,

    /// The API request budget of this account, shared by every scan of it.
    #[serde(default)]
    pub rate_limit: RateLimit,

    /// When to stop calling a failing service of this account for a while.
    #[serde(default)]
    pub circuit_breaker: CircuitBreakerSettings,
}

/// Supported clouds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloudProvider {
    Aws,
    Gcp,
    Azure,
    Digitalocean,
}

impl CloudProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::Gcp => "gcp",
            Self::Azure => "azure",
            Self::Digitalocean => "digitalocean",
        }
    }

    /// Keys a credentials Secret must hold for this provider.
    pub fn required_secret_keys(self) -> &'static [&'static str] {
        match self {
            Self::Aws => &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
            Self::Gcp => &["credentials.json"],
            Self::Azure => &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            Self::Digitalocean => &["DIGITALOCEAN_TOKEN"],
        }
    }
}

// An enum so that every decision over credentials (tenancy, the Secret to check,
// the exchange to run) is an exhaustive `match`: a new source that forgets one does
// not compile. Serde keeps the YAML `{secretRef: ...}`.
/// Where the credentials come from: exactly one source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "[has(self.secretRef), has(self.assumeRole), has(self.webIdentity), has(self.workloadIdentity), has(self.none)].filter(x, x).size() == 1",
    "message": "exactly one of secretRef, assumeRole, webIdentity, workloadIdentity or none must be set"
}]))]
#[serde(rename_all = "camelCase")]
pub enum Credentials {
    /// A Secret in this namespace with static credentials. Keys: AWS `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`; GCP `credentials.json`
    /// (a service-account key); Azure `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`; DigitalOcean `DIGITALOCEAN_TOKEN`.
    SecretRef(LocalObjectRef),

    /// AWS only: a chain of roles to assume, in order, starting from `sourceSecretRef`
    /// (or the ambient chain when that is not set).
    AssumeRole(AssumeRoleChain),

    /// AWS only: exchange a projected service-account token for role credentials
    /// (IRSA / EKS Pod Identity style).
    WebIdentity(WebIdentity),

    /// GCP only: GKE-style workload identity (a token of a ServiceAccount of this
    /// namespace exchanged through STS), or the metadata server when no
    /// `serviceAccountName` is set; optionally impersonating a service account.
    WorkloadIdentity(WorkloadIdentity),

    /// Use the ambient default credential chain of the operator's environment.
    None(AmbientCredentials),
}

impl Credentials {
    /// The ServiceAccount of the account's namespace whose token these credentials
    /// exchange, and the audience it is minted for.
    pub fn service_account_token(&self) -> Option<(&str, &str)> {
        match self {
            Self::WebIdentity(web) => Some((&web.service_account_name, web.audience())),
            Self::WorkloadIdentity(workload) => {
                Some((workload.service_account_name.as_deref()?, workload.audience.as_deref()?))
            }
            Self::SecretRef(_) | Self::AssumeRole(_) | Self::None(_) => None,
        }
    }

    /// The Secret whose keys the credentials use: `secretRef`, or a role chain's
    /// `sourceSecretRef`.
    pub fn secret_name(&self) -> Option<&str> {
        match self {
            Self::SecretRef(secret) => Some(&secret.name),
            Self::AssumeRole(chain) => chain.source_secret_ref.as_ref().map(|r| r.name.as_str()),
            Self::WebIdentity(_) | Self::WorkloadIdentity(_) | Self::None(_) => None,
        }
    }

    /// The role chain to assume, when the credentials are one.
    pub fn assume_role(&self) -> Option<&AssumeRoleChain> {
        match self {
            Self::AssumeRole(chain) => Some(chain),
            _ => None,
        }
    }

    /// The web identity exchange, when the credentials are one.
    pub fn web_identity(&self) -> Option<&WebIdentity> {
        match self {
            Self::WebIdentity(web) => Some(web),
            _ => None,
        }
    }

    /// GCP workload identity, when the credentials are one.
    pub fn workload_identity(&self) -> Option<&WorkloadIdentity> {
        match self {
            Self::WorkloadIdentity(workload) => Some(workload),
            _ => None,
        }
    }
}

/// Roles assumed one after another.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssumeRoleChain {
    /// Base credentials for the first AssumeRole call: a Secret with
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. Without it the ambient chain is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_secret_ref: Option<LocalObjectRef>,

    /// The roles, assumed in this order; the last one is the identity scans use.
    #[schemars(length(min = 1, max = 5))]
    pub roles: Vec<AssumeRoleStep>,
}

/// One AssumeRole call.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssumeRoleStep {
    /// ARN of the role, `arn:<partition>:iam::<12-digit account>:role/<name>`.
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"))]
    pub role_arn: String,

    /// External ID the role's trust policy requires, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 1224))]
    pub external_id: Option<String>,

    /// Session name recorded in CloudTrail. Defaults to `driftmgr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 64), regex(pattern = r"^[\w+=,.@-]+$"))]
    pub session_name: Option<String>,
}

/// AssumeRoleWithWebIdentity with a token of a ServiceAccount in this account's own
/// namespace, minted by the operator through the TokenRequest API (IRSA style). The
/// role's trust policy names the ServiceAccount
/// (`system:serviceaccount:<namespace>:<name>`), so a namespace can only assume
/// roles that trust its own ServiceAccounts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebIdentity {
    /// ARN of the role to assume.
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"))]
    pub role_arn: String,

    /// Name of a ServiceAccount in this namespace whose token is exchanged.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub service_account_name: String,

    /// Audience of the minted token. Defaults to `sts.amazonaws.com`, which is what
    /// an IAM OIDC provider for the cluster expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub audience: Option<String>,
}

impl WebIdentity {
    /// The audience the token is minted for.
    pub fn audience(&self) -> &str {
        self.audience.as_deref().unwrap_or("sts.amazonaws.com")
    }
}

/// GCP workload identity. With `serviceAccountName`, the operator mints a token of
/// that ServiceAccount (of this account's own namespace) for `audience` through the
/// TokenRequest API and exchanges it at Google's STS, as GKE does; the workload
/// identity pool's provider trusts the cluster's issuer, so a namespace can only use
/// identities granted to its own ServiceAccounts. Without it, the operator's own
/// metadata-server identity is used (subject to the ambient-credential policy).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.serviceAccountName) == has(self.audience)").message("serviceAccountName and audience are set together"))]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentity {
    /// Name of a ServiceAccount in this namespace whose token is exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub service_account_name: Option<String>,

    /// The workload identity pool provider the token is minted for and exchanged with:
    /// `//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 512),
        regex(
            pattern = r"^//iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[-a-z0-9]+/providers/[-a-z0-9]+$"
        )
    )]
    pub audience: Option<String>,

    /// Service account to impersonate through IAM Credentials; without it the
    /// federated (or metadata-server) identity itself is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][-a-z0-9]{4,28}[a-z0-9]@[-a-z0-9.]+\.iam\.gserviceaccount\.com$"))]
    pub service_account_email: Option<String>,
}

/// Marker for the ambient credential chain; it has no fields.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, KubeSchema)]
pub struct AmbientCredentials {}

/// Where to send API calls instead of the cloud's public endpoints.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.url) || has(self.services)").message("set url, services, or both"))]
#[serde(rename_all = "camelCase")]
pub struct EndpointOverride {
    /// Base URL for every service, for example `http://127.0.0.1:5000` for moto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s]+$"))]
    pub url: Option<String>,

    /// Per-service base URLs (keys such as `ec2`, `sts`, `s3`, `compute`), taking
    /// precedence over `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 32))]
    pub services: Option<BTreeMap<String, String>>,
}

impl EndpointOverride {
    /// The base URL for `service` (such as `ec2`): its own entry, else `url`.
    pub fn for_service(&self, service: &str) -> Option<String> {
        self.services.as_ref().and_then(|s| s.get(service).cloned()).or_else(|| self.url.clone())
    }
}

/// A token bucket: `requestsPerSecond` sustained, bursts up to `burst`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("self.burst >= self.requestsPerSecond").message("burst must be at least requestsPerSecond"))]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Sustained API requests per second for the whole account.
    #[serde(default = "default_rps")]
    #[schemars(range(min = 1, max = 10000))]
    pub requests_per_second: u32,

    /// Requests that may be made at once after an idle period.
    #[serde(default = "default_burst")]
    #[schemars(range(min = 1, max = 10000))]
    pub burst: u32,
}

fn default_rps() -> u32 {
    10
}
fn default_burst() -> u32 {
    20
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { requests_per_second: default_rps(), burst: default_burst() }
    }
}

/// Circuit breaker per account and service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerSettings {
    /// Consecutive failed calls that open the breaker.
    #[serde(default = "default_failure_threshold")]
    #[schemars(range(min = 1, max = 1000))]
    pub failure_threshold: u32,

    /// Seconds the breaker stays open before one trial call is let through.
    #[serde(default = "default_open_seconds")]
    #[schemars(range(min = 1, max = 3600))]
    pub open_seconds: u32,
}

fn default_failure_threshold() -> u32 {
    5
}
fn default_open_seconds() -> u32 {
    30
}

impl Default for CircuitBreakerSettings {
    fn default() -> Self {
        Self { failure_threshold: default_failure_threshold(), open_seconds: default_open_seconds() }
    }
}

/// What driftmgr last confirmed about the account.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderAccountStatus {
    /// Account ID (AWS), project number (GCP) or subscription ID (Azure) the provider
    /// reported for these credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,

    /// The caller identity's ARN or principal, as the provider reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,

    /// When the credentials were last checked successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_validated: Option<Time>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready`: the credentials resolve and the provider accepted them.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}
