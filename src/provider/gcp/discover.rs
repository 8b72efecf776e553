//! Listing Compute: every project and type concurrently; aggregated lists (one
//! listing for every zone or region) where the API has them, global lists
//! otherwise; each followed page by page.

use std::collections::HashMap;

use futures::future::join_all;
use serde_json::Value;

use super::api::ListError;
use super::mapping::{self, zone_region};
use super::{GcpProvider, SUPPORTED_TYPES};
use crate::provider::{Discovery, DiscoveryFailure, LiveResource, ProgressSink};

/// How one type is listed.
struct Listing {
    type_: &'static str,
    /// The collection (`instances`), also the field of an aggregated scope.
    collection: &'static str,
    /// The operation's name in metrics and failures.
    operation: &'static str,
    aggregated: bool,
    map: fn(&Value) -> Option<LiveResource>,
}

const LISTINGS: &[Listing] = &[
    Listing {
        type_: "google_compute_instance",
        collection: "instances",
        operation: "aggregated.instances",
        aggregated: true,
        map: mapping::instance,
    },
    Listing {
        type_: "google_compute_disk",
        collection: "disks",
        operation: "aggregated.disks",
        aggregated: true,
        map: mapping::disk,
    },
    Listing {
        type_: "google_compute_subnetwork",
        collection: "subnetworks",
        operation: "aggregated.subnetworks",
        aggregated: true,
        map: mapping::subnetwork,
    },
    Listing {
        type_: "google_compute_address",
        collection: "addresses",
        operation: "aggregated.addresses",
        aggregated: true,
        map: mapping::address,
    },
    Listing {
        type_: "google_compute_router",
        collection: "routers",
        operation: "aggregated.routers",
        aggregated: true,
        map: mapping::router,
    },
    Listing {
        type_: "google_compute_network",
        collection: "networks",
        operation: "networks.list",
        aggregated: false,
        map: mapping::network,
    },
    Listing {
        type_: "google_compute_firewall",
        collection: "firewalls",
        operation: "firewalls.list",
        aggregated: false,
        map: mapping::firewall,
    },
    Listing {
        type_: "google_compute_route",
        collection: "routes",
        operation: "routes.list",
        aggregated: false,
        map: mapping::route,
    },
];

/// What one listing found: resources, and (for instances) boot disks by path.
#[derive(Default)]
struct Found {
    resources: Vec<LiveResource>,
    boot_disks: HashMap<String, String>,
}

pub async fn discover(provider: &GcpProvider, types: &[String], progress: &dyn ProgressSink) -> Discovery {
    debug_assert_eq!(LISTINGS.len(), SUPPORTED_TYPES.len());
    let wanted: Vec<&Listing> =
        LISTINGS.iter().filter(|l| types.is_empty() || types.iter().any(|t| t == l.type_)).collect();
    let mut discovery = Discovery {
        covered_types: wanted.iter().map(|l| l.type_.to_string()).collect(),
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
    // Every listing spans a project (aggregated lists cover all its regions); global
    // resources have no region and are in scope whatever the regions.
    discovery.scopes = provider.settings.projects.clone();
    let regions = &regions;
    progress.start((provider.settings.projects.len() * wanted.len()) as u64);
    let calls = provider.settings.projects.iter().flat_map(|project| {
        wanted.iter().map(move |listing| async move {
            let result = list(provider, project, listing, regions).await;
            progress.advance(&format!("{project}/{}", listing.type_));
            result
        })
    });
    let mut boot_disks = HashMap::new();
    for result in join_all(calls).await {
        match result {
            Ok(found) => {
                discovery.resources.extend(found.resources);
                boot_disks.extend(found.boot_disks);
            }
            Err(failure) => discovery.failures.push(failure),
        }
    }
    // A boot disk created with its instance is managed inline (`boot_disk`).
    for disk in discovery.resources.iter_mut().filter(|r| r.type_ == "google_compute_disk") {
        if let Some(instance) = boot_disks.get(&disk.id) {
            disk.part_of = Some(("google_compute_instance".into(), instance.clone()));
        }
    }
    discovery
}

/// The configured regions, else every region of the first project.
async fn resolve_regions(provider: &GcpProvider) -> Result<Vec<String>, DiscoveryFailure> {
    if !provider.settings.regions.is_empty() {
        return Ok(provider.settings.regions.clone());
    }
    let project = provider.settings.projects.first().map(String::as_str).unwrap_or_default();
    let url = format!("{}/projects/{project}/regions", provider.compute_base());
    let pages = provider
        .list_pages("regions.list", &url)
        .await
        .map_err(|e| e.failure("regions".into(), &format!("listing the regions of project {project}")))?;
    Ok(pages
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// One type of one project, keeping the configured regions (global resources always).
async fn list(
    provider: &GcpProvider,
    project: &str,
    listing: &Listing,
    regions: &[String],
) -> Result<Found, DiscoveryFailure> {
    let base = provider.compute_base();
    let operation = listing.operation;
    let url = if listing.aggregated {
        format!("{base}/projects/{project}/aggregated/{}", listing.collection)
    } else {
        format!("{base}/projects/{project}/global/{}", listing.collection)
    };
    let scope = format!("{project}/{}", listing.type_);
    let what = format!("{operation} of project {project}");
    let pages =
        provider.list_pages(operation, &url).await.map_err(|e: ListError| e.failure(scope.clone(), &what))?;
    let in_regions = |region: &str| regions.iter().any(|r| r == region);
    let mut items: Vec<&Value> = Vec::new();
    for page in &pages {
        if listing.aggregated {
            for (key, scoped) in page.as_object().into_iter().flatten() {
                let region = key.split_once('/').map_or(key.as_str(), |(_, name)| name);
                let region = if key.starts_with("zones/") { zone_region(region) } else { region };
                if !in_regions(region) {
                    continue;
                }
                if let Some(warning) = scoped.get("warning") {
                    let code = warning.get("code").and_then(Value::as_str).unwrap_or_default();
                    if code != "NO_RESULTS_ON_PAGE" {
                        // An unreachable zone or region cannot prove anything absent.
                        let message = warning.get("message").and_then(Value::as_str).unwrap_or_default();
                        return Err(DiscoveryFailure {
                            scope,
                            reason: "Unreachable".into(),
                            message: format!("{what}: {key} was not listed ({code}: {message})"),
                        });
                    }
                }
                items.extend(scoped.get(listing.collection).and_then(Value::as_array).into_iter().flatten());
            }
        } else {
            items.extend(page.as_array().into_iter().flatten());
        }
    }
    let mut found = Found::default();
    for item in items {
        if listing.type_ == "google_compute_instance"
            && let (Some(disk), Some(instance)) = (
                mapping::boot_disk(item),
                mapping::relative(item.get("selfLink").and_then(Value::as_str).unwrap_or_default()),
            )
        {
            found.boot_disks.insert(disk.to_string(), instance.to_string());
        }
        if let Some(resource) = (listing.map)(item) {
            found.resources.push(resource);
        }
    }
    Ok(found)
}
