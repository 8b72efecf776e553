//! `DriftScan`: what to compare, how often, and the typed result.
// kube-derive takes one `printcolumn(...)` per column; clippy reads the repeated
// `type_ = ...` keys inside them as duplicated attributes.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{LocalObjectRef, SecretKeyRef, Severity};

/// Annotation whose every new value asks for an immediate scan.
pub const SCAN_REQUESTED_ANNOTATION: &str = "driftmgr.io/scan-requested";
/// Annotation that asks for a RemediationPlan built from the scan's current report;
/// set it to a new value for each request.
pub const GENERATE_PLAN_ANNOTATION: &str = "driftmgr.io/generate-plan";

/// Compares the Terraform state in `stateSources` with the live resources of the
/// referenced ProviderAccount on a schedule, and records field-level drift in status.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "driftmgr.io",
    version = "v1alpha1",
    kind = "DriftScan",
    namespaced,
    status = "DriftScanStatus",
    shortname = "dscan",
    category = "driftmgr",
    doc = "Compares Terraform state with the live resources of a ProviderAccount and reports typed drift.",
    printcolumn(name = "Account", type_ = "string", json_path = ".spec.providerAccountRef.name"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Modified", type_ = "integer", json_path = ".status.summary.modified"),
    printcolumn(name = "Missing", type_ = "integer", json_path = ".status.summary.missing"),
    printcolumn(name = "Unmanaged", type_ = "integer", json_path = ".status.summary.unmanaged"),
    printcolumn(name = "Last Scan", type_ = "date", json_path = ".status.lastScanTime"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct DriftScanSpec {
    /// The ProviderAccount (same namespace) whose live resources are discovered.
    pub provider_account_ref: LocalObjectRef,

    /// Where the Terraform/OpenTofu state comes from. All sources are merged.
    #[schemars(length(min = 1, max = 64))]
    pub state_sources: Vec<StateSource>,

    /// Terraform resource types to compare (for example `aws_instance`). Empty means
    /// every type the provider can discover. Only types discovery lists are accepted;
    /// resources Terraform manages separately (`aws_security_group_rule`, `aws_route`,
    /// associations) are compared with their parent type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new(resource_types_rule()).message(kube::core::Message::Message(resource_types_message())))]
    pub resource_types: Vec<String>,

    /// Drift to leave out of the result. Each rule says why; an expired rule stops applying.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512))]
    pub ignore: Vec<IgnoreRule>,

    /// Apply the built-in ignores (provider-managed tags such as `aws:*`, and default
    /// resources such as the default VPC). Set false to see everything.
    #[serde(default = "default_true")]
    pub default_ignores: bool,

    /// When scans run. Without it, a scan runs every hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,

    /// Stop scheduled scans. A scan requested with the `driftmgr.io/scan-requested`
    /// annotation still runs.
    #[serde(default)]
    pub suspend: bool,

    /// Override the built-in severity of matching drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub severity: Vec<SeverityOverride>,

    /// Where to send a message when a scan finds drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,

    /// How many drift items the status lists (most severe first); the full report
    /// is always in the ConfigMap named by `status.reportRef`.
    #[serde(default = "default_status_items")]
    #[schemars(range(min = 0, max = 500))]
    pub max_status_items: u32,
}

fn default_true() -> bool {
    true
}
fn default_status_items() -> u32 {
    50
}

// An enum so that every reader of sources matches each kind (serde keeps the YAML
// `{configMapRef: ...}`; kube hoists the variants into properties plus a oneOf).
/// One place state is read from: exactly one kind of source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[schemars(extend("x-kubernetes-validations" = [
    {
        "rule": "[has(self.configMapRef), has(self.secretRef), has(self.s3), has(self.gcs), has(self.azureBlob), has(self.http), has(self.terraformCloud)].filter(x, x).size() == 1",
        "message": "exactly one of configMapRef, secretRef, s3, gcs, azureBlob, http or terraformCloud must be set"
    },
    {
        "rule": "!has(self.gcs) || has(self.gcs.credentialsSecretRef)",
        "message": "gcs.credentialsSecretRef: a GCS source needs a service-account key"
    }
]))]
#[serde(rename_all = "camelCase")]
pub enum StateSource {
    /// A key of a ConfigMap in this namespace holding a state file.
    ConfigMapRef(SecretKeyRef),

    /// A key of a Secret in this namespace holding a state file.
    SecretRef(SecretKeyRef),

    /// An S3 object, or every `*.tfstate` under a prefix. Read with the account's credentials.
    S3(ObjectLocation),

    /// A GCS object, or every `*.tfstate` under a prefix.
    Gcs(ObjectLocation),

    /// An Azure Blob, or every `*.tfstate` under a prefix; `bucket` is the container.
    AzureBlob(AzureBlobLocation),

    /// An HTTP(S) URL serving a state file (for example the Terraform http backend).
    Http(HttpLocation),

    /// Terraform Cloud or Enterprise: the current state of one workspace, or of every
    /// workspace with a name prefix or with tags.
    TerraformCloud(TerraformCloudLocation),
}

/// Workspaces of a Terraform Cloud/Enterprise organization.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("[has(self.workspace), has(self.workspacePrefix), has(self.tags)].filter(x, x).size() == 1").message("exactly one of workspace, workspacePrefix or tags must be set"))]
#[serde(rename_all = "camelCase")]
pub struct TerraformCloudLocation {
    /// The service's address: `https://app.terraform.io` (default) or an Enterprise host.
    #[serde(default = "default_terraform_cloud")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s/]+(/[^\s]*)?$"))]
    pub address: String,

    /// Organization name.
    #[schemars(length(min = 1, max = 256))]
    pub organization: String,

    /// One workspace, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub workspace: Option<String>,

    /// Every workspace whose name starts with this (those without state yet are skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub workspace_prefix: Option<String>,

    /// Every workspace that has all these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 20))]
    pub tags: Option<Vec<String>>,

    /// A Secret key in this namespace holding an API token that may read state.
    pub token_secret_ref: SecretKeyRef,
}

fn default_terraform_cloud() -> String {
    "https://app.terraform.io".into()
}

/// A bucket and either one object key or a prefix.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.key) != has(self.prefix)").message("exactly one of key or prefix must be set"))]
#[serde(rename_all = "camelCase")]
pub struct ObjectLocation {
    /// Bucket name.
    #[schemars(length(min = 3, max = 222))]
    pub bucket: String,

    /// Object key of one state file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub key: Option<String>,

    /// Every object under this prefix whose name ends in `.tfstate` is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub prefix: Option<String>,

    /// Bucket region, when it differs from the account's first region (S3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// GCS: a Secret key in this namespace holding a service-account key (the JSON key
    /// file) that may read the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretKeyRef>,
}

/// A storage account, container, and either one blob or a prefix.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.blob) != has(self.prefix)").message("exactly one of blob or prefix must be set"))]
#[x_kube(validation = Rule::new("has(self.accessKeySecretRef) != has(self.sasTokenSecretRef)").message("exactly one of accessKeySecretRef or sasTokenSecretRef must be set"))]
#[serde(rename_all = "camelCase")]
pub struct AzureBlobLocation {
    /// Storage account name.
    #[schemars(length(min = 3, max = 24), regex(pattern = r"^[a-z0-9]+$"))]
    pub account: String,

    /// Container name.
    #[schemars(length(min = 3, max = 63))]
    pub container: String,

    /// Blob name of one state file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,

    /// Every blob under this prefix whose name ends in `.tfstate` is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,

    /// A Secret key in this namespace holding the storage account's access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_secret_ref: Option<SecretKeyRef>,

    /// A Secret key in this namespace holding a SAS token that may read the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sas_token_secret_ref: Option<SecretKeyRef>,

    /// The blob service's URL, when it is not `https://{account}.blob.core.windows.net`
    /// (a sovereign cloud, a private endpoint, or the Azurite emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s]+$"))]
    pub endpoint: Option<String>,
}

/// A state file served over HTTP(S).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("!(has(self.authorizationSecretRef) && has(self.basicAuthSecretRef))").message("set at most one of authorizationSecretRef and basicAuthSecretRef"))]
#[serde(rename_all = "camelCase")]
pub struct HttpLocation {
    /// URL of the state file.
    #[schemars(length(max = 2048), regex(pattern = r"^https?://[^\s]+$"))]
    pub url: String,

    /// A Secret key whose value is sent as the `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_secret_ref: Option<SecretKeyRef>,

    /// Basic authentication, as the http backend's `username` and `password`: a Secret
    /// in this namespace with keys `username` and `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth_secret_ref: Option<crate::crd::LocalObjectRef>,

    /// PEM certificates to trust for this URL besides the system's (a private CA): a
    /// Secret key in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret_ref: Option<SecretKeyRef>,
}

/// Drift that is expected and should not be reported. At least one matcher is set;
/// all set matchers must match.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.address) || has(self.id) || has(self.type) || has(self.attributes) || has(self.tagKeyPrefixes)").message("an ignore rule needs at least one of address, id, type, attributes or tagKeyPrefixes"))]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    /// Glob over the Terraform address, such as `module.legacy.*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub address: Option<String>,

    /// Glob over the cloud resource id, such as `i-0abc*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub id: Option<String>,

    /// Glob over the Terraform resource type, such as `aws_security_group*`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub type_: Option<String>,

    /// Attribute paths to ignore (dotted, `*` matches one segment), such as
    /// `tags.LastModifiedBy` or `ingress.*.description`. Without it the whole
    /// resource is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub attributes: Option<Vec<String>>,

    /// Tag keys starting with any of these prefixes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub tag_key_prefixes: Option<Vec<String>>,

    /// Why this drift is acceptable. Shown in reports next to what it hid.
    #[schemars(length(min = 1, max = 1024))]
    pub reason: String,

    /// After this time the rule no longer applies, and the status says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Time>,
}

/// Exactly one of `interval` or `cron`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.interval) != has(self.cron)").message("exactly one of interval or cron must be set"))]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Time between scans, as a duration such as `30m`, `1h` or `1h30m` (at least 1m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"), length(min = 2, max = 16))]
    pub interval: Option<String>,

    /// A five-field cron expression in UTC, such as `0 */6 * * *`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(\S+\s+){4}\S+$"), length(max = 128))]
    pub cron: Option<String>,
}

/// Sets the severity of matching drift.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.type) || has(self.attribute)").message("a severity override needs type, attribute, or both"))]
#[serde(rename_all = "camelCase")]
pub struct SeverityOverride {
    /// Glob over the Terraform resource type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,

    /// Attribute path (dotted, `*` matches one segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,

    /// The severity to report instead.
    pub severity: Severity,
}

/// Notification targets. URLs live in Secrets because they carry tokens.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[x_kube(validation = Rule::new("has(self.webhookSecretRef) || has(self.slackSecretRef)").message("notify needs webhookSecretRef, slackSecretRef, or both"))]
#[serde(rename_all = "camelCase")]
pub struct Notify {
    /// Secret key holding a URL that receives the JSON summary as a POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret_ref: Option<SecretKeyRef>,

    /// Secret key holding a Slack incoming-webhook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_secret_ref: Option<SecretKeyRef>,

    /// Only notify when an item is at least this severe.
    #[serde(default = "default_notify_severity")]
    pub min_severity: Severity,
}

fn default_notify_severity() -> Severity {
    Severity::High
}

/// Where a scan is in its life.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ScanPhase {
    /// Accepted, not scanned yet (or waiting for its references).
    Pending,
    /// A scan is running.
    Scanning,
    /// The last scan finished; see `summary`.
    Completed,
    /// The last scan could not run; see the `Ready` condition.
    Failed,
}

/// What the last scan found.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftScanStatus {
    /// Where the scan is in its life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ScanPhase>,

    /// When the last scan finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan_time: Option<Time>,

    /// When the next scan is due: the schedule's next time after a completed scan,
    /// the retry time after a failed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_scan_time: Option<Time>,

    /// Scans that failed in a row. Each retry waits twice as long as the one before,
    /// from the operator's retry interval up to its maximum (`--max-retry-interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<u32>,

    /// How long the last scan took, such as `12.4s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,

    /// Counts from the last scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ScanSummary>,

    /// The most severe drift items of the last scan (at most `spec.maxStatusItems`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<DriftItem>,

    /// The ConfigMap(s) holding the complete last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_ref: Option<ReportRef>,

    /// Ignore rules that have expired and no longer apply, by reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired_ignore_rules: Vec<String>,

    /// The last `driftmgr.io/scan-requested` annotation value a scan was run for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan_request: Option<String>,

    /// The counts of the last completed scans, oldest first (at most 20): the trend
    /// the dashboard draws.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub history: Vec<ScanHistoryEntry>,

    /// The last `driftmgr.io/generate-plan` request handled, and the plan it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_plan: Option<GeneratedPlan>,

    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready` (the scan can run and its last run completed), `Drifted` (the last
    /// scan found drift), `Degraded` (the last result is partial, e.g. a region failed).
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// What one completed scan found.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanHistoryEntry {
    /// When the scan finished.
    pub time: Time,
    /// Managed resources whose live attributes differed.
    pub modified: u64,
    /// Managed resources gone from the cloud.
    pub missing: u64,
    /// Live resources no state knew about.
    pub unmanaged: u64,
}

/// Counts of the last scan.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanSummary {
    /// Resources in state.
    pub managed: u64,
    /// Managed resources that match the cloud.
    pub in_sync: u64,
    /// Managed resources whose live attributes differ.
    pub modified: u64,
    /// Managed resources gone from the cloud.
    pub missing: u64,
    /// Live resources no state knows about.
    pub unmanaged: u64,
    /// Drift items hidden by ignore rules.
    pub ignored: u64,
    /// Managed resources that could not be checked: discovery of their type or region
    /// failed, or their id names resources in several regions and state says not which.
    /// A scan with unverified resources never reports "no drift" as complete.
    #[serde(default)]
    pub unverified: u64,
    /// Share of discovered live resources that some state manages, in percent.
    pub coverage_percent: f64,
    /// Share of the state's resources of this cloud that were checked (in sync, drifted
    /// or ignored), in percent; the rest are counted in `notChecked`.
    #[serde(default)]
    pub checked_percent: f64,
    /// State resources that were not checked, by type and reason, most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
}

/// State resources of one type that were not checked, for one reason.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotChecked {
    /// Terraform resource type, such as `aws_s3_bucket`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Why: `UnsupportedType` (driftmgr does not list it), `ExcludedByFilter` (not in
    /// `resourceTypes`), `RegionNotScanned`, `Ambiguous` (its id names resources in
    /// several regions), or the reason its listing failed (`AccessDenied`, `Throttled`,
    /// `CircuitOpen`, ...).
    pub reason: String,
    /// How many state resources.
    pub count: u64,
}

/// How a resource drifted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
pub enum DriftKind {
    /// In state and in the cloud, with different attributes.
    Modified,
    /// In state, gone from the cloud.
    Missing,
    /// In the cloud, in no state.
    Unmanaged,
}

/// One drifted resource.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftItem {
    /// Terraform address, such as `module.net.aws_subnet.private["a"]` (not set for unmanaged resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Terraform resource type, such as `aws_instance`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Cloud resource id.
    pub id: String,
    /// Region or zone of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Kind of drift.
    pub kind: DriftKind,
    /// How serious it is.
    pub severity: Severity,
    /// For `Modified`: every changed attribute. In `status.items` at most 10, with
    /// values cut to 512 characters; the report (`status.reportRef`) has them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<AttributeChange>,
    /// In `status.items`: how many changes of this item are left out (see the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_omitted: Option<u32>,
}

/// One attribute whose live value differs from state.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributeChange {
    /// Dotted attribute path, such as `instance_type` or `tags.Env`.
    pub path: String,
    /// Value in state, JSON-encoded; absent when state has no such attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// Live value, JSON-encoded; absent when the cloud has no such attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

impl AttributeChange {
    /// A change of `path` from the state's `expected` to the live `actual` (JSON text).
    pub fn new(path: &str, expected: Option<&str>, actual: Option<&str>) -> Self {
        Self { path: path.into(), expected: expected.map(str::to_string), actual: actual.map(str::to_string) }
    }
}

/// The ConfigMaps holding the complete report as gzip JSON, in order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRef {
    /// ConfigMap names; concatenate their `report.json.gz` parts in this order.
    pub config_maps: Vec<String>,
    /// Increases by one with every report.
    pub generation: i64,
}

/// Every resource type some provider discovers (the CRD schema accepts these).
pub fn known_resource_types() -> Vec<&'static str> {
    use crate::crd::CloudProvider;
    [CloudProvider::Aws, CloudProvider::Gcp, CloudProvider::Azure, CloudProvider::Digitalocean]
        .into_iter()
        .flat_map(|p| crate::provider::supported_types(p).iter().copied())
        .collect()
}

fn resource_types_rule() -> String {
    let quoted: Vec<String> = known_resource_types().iter().map(|t| format!("'{t}'")).collect();
    format!("self.all(t, t in [{}])", quoted.join(", "))
}

fn resource_types_message() -> String {
    format!("every entry must be a supported resource type: {}", known_resource_types().join(", "))
}

/// A RemediationPlan generated on request (`driftmgr.io/generate-plan`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedPlan {
    /// The annotation value this answers.
    pub request: String,
    /// The plan's name (owned by this scan); absent when the report had nothing to fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The report generation it was built from.
    pub report_generation: i64,
    /// What was generated, for people.
    pub message: String,
}
