//! Listing the EC2 family: every region concurrently, every type of a region
//! concurrently, each list paginated at the largest page size the API allows.
//! One call per page, never one per resource; each call goes through the
//! account guard (rate limit, breaker, retries, timeout).

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::SecurityGroupRule;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use futures::future::join_all;

use super::errors::{classify, reason_and_message};
use super::mapping;
use super::{AwsProvider, SUPPORTED_TYPES};
use crate::provider::{Discovery, DiscoveryFailure, LiveResource, ProgressSink};
use crate::resilience::{AccountGuard, GuardError, RegionGuard};

/// The most pages one listing follows: 2 million instances at 1,000 a page. A cloud
/// (or proxy) that never stops handing out tokens ends here, with a failure.
pub const MAX_PAGES: usize = 2_000;

/// Why a listing stopped.
enum ListError<E> {
    Call(Box<GuardError<SdkError<E, HttpResponse>>>),
    /// The API returned a token it had returned before: following it would loop.
    TokenRepeated {
        operation: &'static str,
        pages: usize,
    },
    /// More than `MAX_PAGES` pages.
    TooManyPages {
        operation: &'static str,
    },
}

type Failure<E> = ListError<E>;

/// Fetches every page of a list operation. `page` gets the continuation token and
/// returns one page's items and the next token.
async fn paginate<T, E, F, Fut>(
    guard: &RegionGuard<'_>,
    operation: &'static str,
    mut page: F,
) -> Result<Vec<T>, Failure<E>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), SdkError<E, HttpResponse>>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for pages in 1..=MAX_PAGES {
        let (batch, next) = guard
            .call("ec2", operation, classify, || page(token.clone()))
            .await
            .map_err(|e| ListError::Call(Box::new(e)))?;
        items.extend(batch);
        match next {
            Some(next) if !next.is_empty() => {
                if !seen.insert(next.clone()) {
                    return Err(ListError::TokenRepeated { operation, pages });
                }
                token = Some(next);
            }
            _ => return Ok(items),
        }
    }
    Err(ListError::TooManyPages { operation })
}

fn failure<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    scope: String,
    error: Failure<E>,
) -> DiscoveryFailure {
    let (reason, message) = match error {
        ListError::Call(error) => reason_and_message(&error),
        ListError::TokenRepeated { operation, pages } => (
            "PaginationLoop".to_string(),
            format!(
                "{operation} returned a NextToken it had already returned (after {pages} pages); the listing was stopped"
            ),
        ),
        ListError::TooManyPages { operation } => (
            "PaginationLoop".to_string(),
            format!("{operation} was still returning pages after {MAX_PAGES}; the listing was stopped"),
        ),
    };
    DiscoveryFailure { scope, reason, message }
}

pub async fn discover(provider: &AwsProvider, types: &[String], progress: &dyn ProgressSink) -> Discovery {
    let wanted: Vec<&'static str> = SUPPORTED_TYPES
        .iter()
        .copied()
        .filter(|t| types.is_empty() || types.iter().any(|w| w == t))
        .collect();
    let mut discovery =
        Discovery { covered_types: wanted.iter().map(|t| t.to_string()).collect(), ..Default::default() };
    let regions = match resolve_regions(provider).await {
        Ok(regions) => regions,
        Err(failure) => {
            discovery.failures.push(failure);
            return discovery;
        }
    };
    discovery.regions = regions.clone();
    progress.start((regions.len() * wanted.len()) as u64);
    let wanted = &wanted;
    let per_region = regions.iter().map(|region| async move {
        let client = provider.ec2_client(region);
        let guard = provider.settings.guard.as_ref();
        let rules = RuleListing::new();
        let rules = &rules;
        let lists = wanted.iter().map(|type_| {
            let client = client.clone();
            async move {
                let result = list_type(guard, &client, region, type_, rules).await;
                progress.advance(&format!("{region}/{type_}"));
                result
            }
        });
        join_all(lists).await
    });
    for results in join_all(per_region).await {
        for result in results {
            match result {
                Ok(resources) => discovery.resources.extend(resources),
                Err(failure) => discovery.failures.push(failure),
            }
        }
    }
    mapping::link_instance_volumes(&mut discovery.resources);
    mapping::mark_default_vpc_gateways(&mut discovery.resources);
    discovery
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
        .map_err(|e| failure("regions".into(), ListError::Call(Box::new(e))))?;
    let mut regions: Vec<String> =
        out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    regions.sort();
    Ok(regions)
}

/// One DescribeSecurityGroupRules listing per region, shared by the ingress and egress
/// rule types (each takes its direction from it). Holds (reason, message) on failure.
type RuleListing = tokio::sync::OnceCell<Result<Vec<SecurityGroupRule>, (String, String)>>;

async fn list_type(
    guard: &AccountGuard,
    client: &aws_sdk_ec2::Client,
    region: &str,
    type_: &str,
    rules: &RuleListing,
) -> Result<Vec<LiveResource>, DiscoveryFailure> {
    let scope = format!("{region}/{type_}");
    let guard = &guard.in_region(region);
    let resources = match type_ {
        "aws_instance" => paginate(guard, "DescribeInstances", |token| {
            let request = client.describe_instances().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                let instances =
                    out.reservations().iter().flat_map(|r| r.instances().iter().cloned()).collect();
                Ok((instances, out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|i| mapping::instance(i, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_vpc" => paginate(guard, "DescribeVpcs", |token| {
            let request = client.describe_vpcs().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.vpcs().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|v| mapping::vpc(v, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_subnet" => paginate(guard, "DescribeSubnets", |token| {
            let request = client.describe_subnets().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.subnets().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|s| mapping::subnet(s, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_security_group" => paginate(guard, "DescribeSecurityGroups", |token| {
            let request = client.describe_security_groups().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.security_groups().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|g| mapping::security_group(g, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_ebs_volume" => paginate(guard, "DescribeVolumes", |token| {
            let request = client.describe_volumes().max_results(500).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.volumes().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|v| mapping::volume(v, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_eip" => paginate(guard, "DescribeAddresses", |_token| {
            // DescribeAddresses returns every address in one response.
            let request = client.describe_addresses();
            async move {
                let out = request.send().await?;
                Ok((out.addresses().to_vec(), None))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|a| mapping::address(a, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_internet_gateway" => paginate(guard, "DescribeInternetGateways", |token| {
            let request = client.describe_internet_gateways().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.internet_gateways().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|g| mapping::internet_gateway(g, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_nat_gateway" => paginate(guard, "DescribeNatGateways", |token| {
            let request = client.describe_nat_gateways().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.nat_gateways().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|g| mapping::nat_gateway(g, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_route_table" => paginate(guard, "DescribeRouteTables", |token| {
            let request = client.describe_route_tables().max_results(100).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.route_tables().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|t| mapping::route_table(t, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_key_pair" => paginate(guard, "DescribeKeyPairs", |_token| {
            // DescribeKeyPairs returns every key pair in one response.
            let request = client.describe_key_pairs();
            async move {
                let out = request.send().await?;
                Ok((out.key_pairs().to_vec(), None))
            }
        })
        .await
        .map(|items| items.iter().filter_map(|k| mapping::key_pair(k, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_network_acl" => paginate(guard, "DescribeNetworkAcls", |token| {
            let request = client.describe_network_acls().max_results(1000).set_next_token(token);
            async move {
                let out = request.send().await?;
                Ok((out.network_acls().to_vec(), out.next_token().map(str::to_string)))
            }
        })
        .await
        .map(|items| items.iter().map(|a| mapping::network_acl(a, region)).collect())
        .map_err(|e| failure(scope, e))?,
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            let egress = type_ == "aws_vpc_security_group_egress_rule";
            let listed = rules
                .get_or_init(|| async {
                    paginate(guard, "DescribeSecurityGroupRules", |token| {
                        let request =
                            client.describe_security_group_rules().max_results(1000).set_next_token(token);
                        async move {
                            let out = request.send().await?;
                            Ok((out.security_group_rules().to_vec(), out.next_token().map(str::to_string)))
                        }
                    })
                    .await
                    .map_err(|e| {
                        let DiscoveryFailure { reason, message, .. } = failure(String::new(), e);
                        (reason, message)
                    })
                })
                .await;
            match listed {
                Ok(items) => items
                    .iter()
                    .filter(|r| r.is_egress() == Some(egress))
                    .filter_map(|r| mapping::security_group_rule(r, region))
                    .collect(),
                Err((reason, message)) => {
                    return Err(DiscoveryFailure { scope, reason: reason.clone(), message: message.clone() });
                }
            }
        }
        _ => Vec::new(),
    };
    Ok(resources)
}
