//! Discovery: every declared type listed where it lives, regional types in every
//! region concurrently and global types (IAM) once per account, each through its
//! declaration's listing.

use futures::future::join_all;

use super::AwsProvider;
use super::errors::classify;
use super::listing::{ListError, failure};
use super::mapping;
use super::types::{ListContext, Listing, Scope, TYPES};
use super::{apigateway, apigatewayv2, ec2, ecr, elbv2, iam, s3};
use crate::provider::{Discovery, DiscoveryFailure, LiveResource, ProgressSink};

/// The region failures of global types are scoped to (`global/aws_iam_role`).
const GLOBAL: &str = "global";

/// The declared types `types` asks for (every listed type when empty), by scope.
fn wanted(types: &[String], scope: Scope) -> Vec<&'static str> {
    TYPES
        .iter()
        .filter(|t| matches!(t.listing, Listing::List { scope: s, .. } if s == scope))
        .map(|t| t.name)
        .filter(|name| types.is_empty() || types.iter().any(|w| w == name))
        .collect()
}

pub async fn discover(provider: &AwsProvider, types: &[String], progress: &dyn ProgressSink) -> Discovery {
    let (regional, global) = (wanted(types, Scope::Regional), wanted(types, Scope::Global));
    let mut discovery = Discovery {
        covered_types: regional.iter().chain(&global).map(|t| t.to_string()).collect(),
        global_types: global.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let regions = match resolve_regions(provider).await {
        Ok(regions) => regions,
        Err(failure) => {
            discovery.failures.push(failure);
            return discovery;
        }
    };
    discovery.regions = regions.clone();
    progress.start((regions.len() * regional.len() + global.len()) as u64);
    let (authorization, buckets) = (iam::Authorization::default(), s3::BucketListing::default());
    let shared = Shared { authorization: &authorization, buckets: &buckets };
    let per_region =
        regions.iter().map(|region| list_all(provider, region, region, &regional, shared, progress));
    let home = regions.first().map_or("us-east-1", String::as_str);
    let account = list_all(provider, home, GLOBAL, &global, shared, progress);
    let (per_region, account) = futures::join!(join_all(per_region), account);
    for (scope, type_, result) in per_region.into_iter().flatten().chain(account) {
        match result {
            Ok(resources) => discovery.resources.extend(resources),
            Err((reason, message)) => discovery.failures.push(DiscoveryFailure {
                scope: format!("{scope}/{type_}"),
                reason,
                message,
            }),
        }
    }
    mapping::link_instance_volumes(&mut discovery.resources);
    mapping::mark_default_vpc_gateways(&mut discovery.resources);
    super::eks::link_cluster_resources(&mut discovery.resources);
    discovery
}

/// Listings shared by the types of one discovery (global services list once).
#[derive(Clone, Copy)]
struct Shared<'a> {
    authorization: &'a iam::Authorization,
    buckets: &'a s3::BucketListing,
}

type Outcome<'a> = (&'a str, &'static str, Result<Vec<LiveResource>, (String, String)>);

/// Lists `types` concurrently in `region`; failures are scoped `scope/type`.
async fn list_all<'a>(
    provider: &'a AwsProvider,
    region: &'a str,
    scope: &'a str,
    types: &[&'static str],
    shared: Shared<'a>,
    progress: &dyn ProgressSink,
) -> Vec<Outcome<'a>> {
    let (rules, repositories) = (ec2::RuleListing::new(), ecr::RepositoryListing::new());
    let (balancers, apis) = (elbv2::BalancerListing::new(), apigateway::ApiListing::new());
    let (http_apis, domains) = (apigatewayv2::ApiListing::new(), apigatewayv2::DomainListing::new());
    let cx = ListContext {
        region,
        guard: provider.settings.guard.in_region(if scope == GLOBAL { GLOBAL } else { region }),
        ec2: provider.ec2_client(region),
        iam: provider.iam_client(),
        ecr: provider.ecr_client(region),
        rules: &rules,
        repositories: &repositories,
        balancers: &balancers,
        apis: &apis,
        http_apis: &http_apis,
        domains: &domains,
        authorization: shared.authorization,
        buckets: shared.buckets,
        provider,
    };
    let cx = &cx;
    let lists =
        types.iter().filter_map(|name| super::types::declaration(name)).filter_map(|t| match t.listing {
            Listing::List { list, .. } => Some((t.name, list)),
            Listing::Folded { .. } | Listing::Alias { .. } => None,
        });
    let lists = lists.map(|(name, list)| async move {
        let result = list(cx).await;
        progress.advance(&format!("{scope}/{name}"));
        (scope, name, result)
    });
    join_all(lists).await
}

async fn resolve_regions(provider: &AwsProvider) -> Result<Vec<String>, DiscoveryFailure> {
    if !provider.settings.regions.is_empty() {
        return Ok(provider.settings.regions.clone());
    }
    let home = provider.base.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let client = provider.ec2_client(&home);
    let out = provider
        .settings
        .guard
        .call("ec2", "DescribeRegions", classify, || client.describe_regions().send())
        .await
        .map_err(|e| {
            let (reason, message) = failure(ListError::Call(Box::new(e)));
            DiscoveryFailure { scope: "regions".into(), reason, message }
        })?;
    let mut regions: Vec<String> =
        out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    regions.sort();
    Ok(regions)
}
