//! The interface a cloud plugs into: what discovery returns, how separately managed
//! resources fold into their parents, and the rules the engine consults. The engine
//! owns these types; a cloud implements them and never the other way round.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Compare;
use crate::attributes::Attributes;
use crate::crd::{AttributeChange, Risk, Severity};
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
    /// Types listed once for the whole account rather than per scope (AWS IAM); their
    /// failures are scoped `global/<type>`.
    pub global_types: Vec<String>,
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
    /// Attributes of `type_` that state never records because they are made only of
    /// separately managed parts (a Lambda function's permissions, a target group's
    /// targets): expected to hold exactly the parts folded into them, so a part added
    /// outside Terraform shows on the parent.
    fn parts(&self, type_: &str) -> &'static [&'static str] {
        let _ = type_;
        &[]
    }
    /// The id discovery knows a state resource of `type_` by, where Terraform's id is
    /// another one (provider v5 records an RDS instance's resource id, discovery its
    /// identifier); `None` when Terraform's id is the cloud's.
    fn match_id(&self, type_: &str, attributes: &Attributes) -> Option<String> {
        let _ = (type_, attributes);
        None
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
pub struct NoRules;

impl CloudRules for NoRules {}
