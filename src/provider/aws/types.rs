//! Every AWS type driftmgr knows, each one declaration in its service's file
//! (`ec2.rs`, `iam.rs`): how it is listed (operation, page size, regional or global,
//! the IAM actions the listing needs), what is compared and how, the provider's
//! defaults and the severity of its changes. The supported-types list, the compared
//! attributes, the defaults and the read-only policy (`driftmgr policy`) are derived
//! from these declarations; nothing else names a type's listing.

use std::sync::LazyLock;

use futures::future::BoxFuture;

use super::{
    acm, apigateway, apigatewayv2, autoscaling, dynamodb, ec2, ecr, ecs, efs, eks, elbv2, iam, kms, lambda,
    launch_template, logs, rds, route53, s3, vpc,
};
use crate::crd::Severity;
use crate::drift::{Compare, LiveResource};
use crate::resilience::RegionGuard;

/// One listing's result: the resources, or why the listing failed (reason, message).
pub type Listed<'a> = BoxFuture<'a, Result<Vec<LiveResource>, (String, String)>>;

/// Lists every resource of one type in one place (a region, or the account).
pub type ListFn = for<'a> fn(&'a ListContext<'a>) -> Listed<'a>;

/// Where a type's resources live, and so how often it is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Once per configured region.
    Regional,
    /// Once per account (IAM, Route53, CloudFront): the API is global.
    Global,
}

/// How driftmgr learns of a type's live resources.
#[derive(Clone, Copy)]
pub enum Listing {
    /// Listed by its own call.
    List {
        scope: Scope,
        /// The service the calls go to (its endpoint override and breaker).
        service: &'static str,
        /// The API operations the listing makes, for people (docs, benchmarks).
        operations: &'static [&'static str],
        /// The largest page the API allows (`None`: one response holds everything).
        page_size: Option<u32>,
        /// The IAM actions the listing needs (the read-only policy is their union).
        actions: &'static [&'static str],
        list: ListFn,
    },
    /// Verified through the parent it folds into (a rule, a route, an attachment).
    Folded { parent: &'static str },
    /// Manages an object of another type (`aws_default_vpc` manages an `aws_vpc`).
    Alias { of: &'static str },
}

/// One Terraform type of AWS.
pub struct AwsType {
    pub name: &'static str,
    pub listing: Listing,
    /// The attributes compared, and how; other attributes are not.
    pub compared: &'static [(&'static str, Compare)],
    /// The value the provider records, or the API reports, for an attribute the other
    /// side leaves unset: the two are the same setting, not drift.
    pub defaults: &'static [(&'static str, &'static str)],
    /// The severity of a change of an attribute, where it is not the engine's default
    /// (tags Low, the rest Medium).
    pub severity: &'static [(&'static str, Severity)],
    /// Why an attribute Terraform records is not compared, for the docs (a value the
    /// API never returns, a secret).
    pub not_compared: &'static [(&'static str, &'static str)],
    /// Compared attributes Terraform never records on this type, made only of parts
    /// managed as their own resources and folded in (a function's permissions).
    pub parts: &'static [&'static str],
    /// How a state resource of this type lands on its parent (a rule on its group):
    /// required for `Folded` types, and for listed types whose parent also shows them.
    pub fold: Option<FoldFn>,
    /// The id discovery uses, from a state resource's attributes, where Terraform's id
    /// is another (`identifier` of an RDS instance, whose id is its resource id from v5).
    pub match_by: Option<MatchFn>,
    /// Changes that are Critical for what they changed to: the attribute, and whether
    /// its new value (as the report writes it) opens the resource (a rule admitting the
    /// internet, a public grant, a method anyone may call).
    pub critical_when: &'static [(&'static str, OpensFn)],
    /// Attributes that mean nothing for a resource as its state describes it (IOPS of
    /// a gp2 volume): not compared for that resource.
    pub not_applicable: &'static [(&'static str, StateTest)],
    /// The severity of any change, and of a missing or unmanaged resource, of this
    /// type where it is not the engine's default (firewalls: High).
    pub rated: Option<Severity>,
}

/// Whether a changed attribute's new value (as the report writes it) opens the
/// resource to the world.
pub type OpensFn = fn(&str) -> bool;

/// A test of a state resource's recorded attributes.
pub type StateTest = fn(&crate::attributes::Attributes) -> bool;

/// Derives the id discovery knows a state resource by.
pub type MatchFn = fn(&crate::attributes::Attributes) -> Option<String>;

/// The id is the value of `attribute`.
pub fn by_attribute(attributes: &crate::attributes::Attributes, attribute: &str) -> Option<String> {
    attributes.get(attribute).and_then(serde_json::Value::as_str).map(str::to_string)
}

/// Folds one state resource into its parent's expected attributes.
pub type FoldFn = fn(&crate::attributes::Attributes) -> Option<crate::drift::Fold>;

impl AwsType {
    /// A type verified through its parent only.
    pub const fn folded(name: &'static str, parent: &'static str, fold: FoldFn) -> Self {
        Self { fold: Some(fold), ..Self::new(name, Listing::Folded { parent }) }
    }

    /// A declaration with nothing compared yet: fill in what applies.
    pub const fn new(name: &'static str, listing: Listing) -> Self {
        Self {
            name,
            listing,
            compared: &[],
            defaults: &[],
            severity: &[],
            not_compared: &[],
            parts: &[],
            fold: None,
            match_by: None,
            critical_when: &[],
            not_applicable: &[],
            rated: None,
        }
    }
}

/// What one listing has to hand: the region (the home region for global types), the
/// account's guard for it, and the clients and listings shared within a discovery.
pub struct ListContext<'a> {
    pub region: &'a str,
    pub guard: RegionGuard<'a>,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub ecr: aws_sdk_ecr::Client,
    /// One DescribeSecurityGroupRules per region, shared by the ingress and egress types.
    pub rules: &'a ec2::RuleListing,
    /// One DescribeRepositories listing per region, shared by the ECR types.
    pub repositories: &'a ecr::RepositoryListing,
    /// One DescribeLoadBalancers listing per region, shared by balancers and listeners.
    pub balancers: &'a elbv2::BalancerListing,
    /// One reading of the region's REST APIs, shared by the nine API Gateway types.
    pub apis: &'a apigateway::ApiListing,
    /// One reading of the region's HTTP and WebSocket APIs, shared by the v2 types.
    pub http_apis: &'a apigatewayv2::ApiListing,
    /// One reading of the region's custom domain names, shared by domains and mappings.
    pub domains: &'a apigatewayv2::DomainListing,
    /// One GetAccountAuthorizationDetails listing per account, shared by the IAM types.
    pub authorization: &'a iam::Authorization,
    /// One ListBuckets per account, shared by the S3 types.
    pub buckets: &'a s3::BucketListing,
    pub provider: &'a super::AwsProvider,
}

/// Every declared AWS type, service by service.
pub static TYPES: LazyLock<Vec<&'static AwsType>> = LazyLock::new(|| {
    [
        ec2::TYPES,
        vpc::TYPES,
        launch_template::TYPES,
        apigateway::TYPES,
        apigatewayv2::TYPES,
        eks::TYPES,
        ecs::TYPES,
        autoscaling::TYPES,
        dynamodb::TYPES,
        efs::TYPES,
        acm::TYPES,
        route53::TYPES,
        kms::TYPES,
        ecr::TYPES,
        elbv2::TYPES,
        iam::TYPES,
        lambda::TYPES,
        logs::TYPES,
        rds::TYPES,
        s3::TYPES,
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Types discovery lists in their own right: what `resourceTypes` accepts.
pub static SUPPORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    TYPES.iter().filter(|t| matches!(t.listing, Listing::List { .. })).map(|t| t.name).collect()
});

/// The declaration of `name`, if AWS has one.
pub fn declaration(name: &str) -> Option<&'static AwsType> {
    BY_NAME.get(name).copied()
}

/// The declarations by name: the engine asks for one several times per resource.
static BY_NAME: LazyLock<std::collections::HashMap<&'static str, &'static AwsType>> =
    LazyLock::new(|| TYPES.iter().map(|t| (t.name, *t)).collect());

/// Every type `resourceTypes` accepts.
pub fn supported_types() -> &'static [&'static str] {
    SUPPORTED.as_slice()
}

/// Whether a type's tags are EC2 tags (its own listing, or the type it manages, is an
/// EC2 one): remediation writes tags through EC2's CreateTags and DeleteTags.
pub fn tagged_through_ec2(name: &str) -> bool {
    match declaration(name).map(|t| t.listing) {
        Some(Listing::List { service, .. }) => service == "ec2",
        Some(Listing::Alias { of }) => tagged_through_ec2(of),
        Some(Listing::Folded { .. }) | None => false,
    }
}

/// The IAM actions a scan of every supported type needs (sorted, once each), plus
/// the identity check and the region list.
pub fn read_actions() -> Vec<&'static str> {
    let mut actions: Vec<&'static str> = TYPES
        .iter()
        .flat_map(|t| match t.listing {
            Listing::List { actions, .. } => actions,
            Listing::Folded { .. } | Listing::Alias { .. } => &[],
        })
        .copied()
        .chain(["sts:GetCallerIdentity", "ec2:DescribeRegions"])
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The IAM policy (JSON) that grants exactly `read_actions`: what `driftmgr policy
/// --provider aws` prints, for the principal a scan runs as.
pub fn read_policy() -> String {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DriftmgrReadOnlyDiscovery",
            "Effect": "Allow",
            "Action": read_actions(),
            "Resource": "*",
        }],
    });
    serde_json::to_string_pretty(&policy).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_declared_once_and_every_reference_resolves() {
        let mut names: Vec<&str> = TYPES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a type declared twice");
        for t in TYPES.iter() {
            assert!(t.name.starts_with("aws_"), "{}", t.name);
            match t.listing {
                Listing::Folded { parent: other } | Listing::Alias { of: other } => {
                    let folds = t.fold.is_some();
                    assert!(
                        folds || matches!(t.listing, Listing::Alias { .. }),
                        "{} is folded but declares no fold",
                        t.name
                    );
                    let target = declaration(other).map(|d| d.listing);
                    assert!(
                        matches!(target, Some(Listing::List { .. })),
                        "{} refers to {other}, which is not listed",
                        t.name
                    );
                }
                Listing::List { actions, operations, .. } => {
                    assert!(!actions.is_empty() && !operations.is_empty(), "{} lists without calls", t.name);
                    for action in actions {
                        let verb = action.split_once(':').map_or("", |(_, a)| a);
                        // API Gateway names every read of its management API `GET`.
                        assert!(
                            ["Describe", "List", "Get"].iter().any(|v| verb.starts_with(v)) || verb == "GET",
                            "{}: {action} is not read-only",
                            t.name
                        );
                    }
                }
            }
            let named = t.defaults.iter().map(|(a, _)| a).chain(t.severity.iter().map(|(a, _)| a));
            let named = named
                .chain(t.critical_when.iter().map(|(a, _)| a))
                .chain(t.not_applicable.iter().map(|(a, _)| a));
            for attribute in named {
                assert!(
                    t.compared.iter().any(|(name, _)| name == attribute),
                    "{}.{attribute} has a default, severity or rule but is not compared",
                    t.name
                );
            }
        }
    }

    #[test]
    fn the_read_policy_holds_only_read_actions() {
        let actions = read_actions();
        assert!(
            actions.contains(&"ec2:DescribeInstances")
                && actions.contains(&"iam:GetAccountAuthorizationDetails")
        );
        assert!(actions.windows(2).all(|w| w[0] < w[1]));
    }
}
