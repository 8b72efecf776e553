//! Route 53, global: hosted zones (ListHostedZones, 100 a page) and their records
//! (ListResourceRecordSets per zone, 300 a page). Record ids are Terraform's
//! (`<zone>_<name>_<type>[_<set identifier>]`). The NS and SOA records AWS makes at a
//! zone's apex are defaults.

use aws_sdk_route53::types::{HostedZone, ResourceRecordSet};
use serde_json::{Value, json};

use super::listing::{failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet};
use crate::drift::LiveResource;

const ZONES: &str = "route53:ListHostedZones";

/// The Route 53 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[("name", Scalar), ("comment", Scalar)],
        ..AwsType::new(
            "aws_route53_zone",
            Listing::List {
                scope: Scope::Global,
                service: "route53",
                operations: &["ListHostedZones"],
                page_size: Some(100),
                actions: &[ZONES],
                list: list_zone,
            },
        )
    },
    AwsType {
        compared: &[("ttl", Scalar), ("records", StringSet), ("alias", Entries(alias))],
        // An alias record has no TTL: the provider records 0.
        defaults: &[("ttl", "0")],
        // Terraform's id holds the name as configured (`www`, or `www.example.com`);
        // discovery's the full name, which the state records as `fqdn`.
        match_by: Some(record_id),
        severity: &[("records", Severity::High), ("alias", Severity::High)],
        ..AwsType::new(
            "aws_route53_record",
            Listing::List {
                scope: Scope::Global,
                service: "route53",
                operations: &["ListHostedZones", "ListResourceRecordSets"],
                page_size: Some(300),
                actions: &[ZONES, "route53:ListResourceRecordSets"],
                list: list_record,
            },
        )
    },
];

/// `<target> evaluate=<bool>`: where an alias points.
fn alias(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let blocks = super::entries::blocks(value);
    blocks
        .map(|b| {
            let name = b
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim_end_matches('.')
                .to_lowercase();
            let evaluate = b.get("evaluate_target_health").and_then(Value::as_bool).unwrap_or(false);
            format!("{name} evaluate={evaluate}")
        })
        .collect()
}

/// `<zone>_<fqdn>_<type>[_<set identifier>]`, as discovery names a record.
fn record_id(a: &crate::attributes::Attributes) -> Option<String> {
    let text = |k: &str| a.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (zone, name, kind) = (text("zone_id")?, text("fqdn")?, text("type")?);
    let name = name.trim_end_matches('.').to_lowercase();
    Some(match text("set_identifier") {
        Some(set) => format!("{zone}_{name}_{kind}_{set}"),
        None => format!("{zone}_{name}_{kind}"),
    })
}

/// A zone id without its `/hostedzone/` prefix, as Terraform records it.
fn zone_id(zone: &HostedZone) -> &str {
    zone.id().trim_start_matches("/hostedzone/")
}

async fn zones(cx: &ListContext<'_>) -> Result<Vec<HostedZone>, (String, String)> {
    let route53 = cx.provider.route53_client();
    paginate(&cx.guard, "route53", "ListHostedZones", |marker| {
        let request = route53.list_hosted_zones().max_items(100).set_marker(marker);
        async move {
            let out = request.send().await?;
            let next = out.is_truncated().then(|| out.next_marker().map(str::to_string)).flatten();
            Ok((out.hosted_zones().to_vec(), next))
        }
    })
    .await
    .map_err(failure)
}

fn list_zone<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        Ok(zones(cx)
            .await?
            .iter()
            .map(|z| {
                let id = zone_id(z);
                let attributes = json!({
                    "id": id, "zone_id": id, "name": z.name().trim_end_matches('.'),
                    "comment": z.config().and_then(|c| c.comment()),
                });
                super::mapping::live("aws_route53_zone", id, None, attributes)
            })
            .collect())
    })
}

fn list_record<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let zones = zones(cx).await?;
        let per_zone = read_each(zones, |zone| async move {
            let route53 = cx.provider.route53_client();
            let id = zone_id(&zone).to_string();
            // The API pages by the next record's name, type and identifier: one token.
            let records = paginate(&cx.guard, "route53", "ListResourceRecordSets", |token| {
                let mut request = route53.list_resource_record_sets().hosted_zone_id(&id).max_items(300);
                if let Some(token) = token {
                    let mut parts = token.splitn(3, '\u{1f}');
                    let (name, kind, identifier) = (parts.next(), parts.next(), parts.next());
                    request = request
                        .set_start_record_name(name.map(str::to_string))
                        .set_start_record_type(kind.map(aws_sdk_route53::types::RrType::from))
                        .set_start_record_identifier(
                            identifier.filter(|i| !i.is_empty()).map(str::to_string),
                        );
                }
                async move {
                    let out = request.send().await?;
                    let next = out.is_truncated().then(|| {
                        let kind = out.next_record_type().map(|t| t.as_str()).unwrap_or_default();
                        let identifier = out.next_record_identifier().unwrap_or_default();
                        format!(
                            "{}\u{1f}{kind}\u{1f}{identifier}",
                            out.next_record_name().unwrap_or_default()
                        )
                    });
                    Ok((out.resource_record_sets().to_vec(), next))
                }
            })
            .await
            .map_err(failure)?;
            let apex = zone.name().trim_end_matches('.').to_lowercase();
            Ok(Some(records.iter().map(|r| record(&id, &apex, r)).collect::<Vec<_>>()))
        })
        .await?;
        Ok(per_zone.into_iter().flatten().collect())
    })
}

fn record(zone: &str, apex: &str, r: &ResourceRecordSet) -> LiveResource {
    let name = r.name().trim_end_matches('.').to_lowercase();
    let kind = r.r#type().as_str();
    let id = match r.set_identifier() {
        Some(set) => format!("{zone}_{name}_{kind}_{set}"),
        None => format!("{zone}_{name}_{kind}"),
    };
    let alias = r.alias_target().map(|a| {
        json!([{"name": a.dns_name(), "zone_id": a.hosted_zone_id(), "evaluate_target_health": a.evaluate_target_health()}])
    });
    let attributes = json!({
        "id": id, "zone_id": zone, "name": name, "type": kind, "ttl": r.ttl(),
        "records": r.resource_records().iter().map(|v| v.value()).collect::<Vec<_>>(),
        "alias": alias.unwrap_or_else(|| json!([])),
    });
    let is_default = name == apex && matches!(kind, "NS" | "SOA");
    LiveResource { is_default, ..super::mapping::live("aws_route53_record", &id, None, attributes) }
}
