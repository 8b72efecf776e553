//! Elastic Load Balancing v2 (application, network and gateway load balancers), one
//! declaration per type. Load balancers and target groups are listed per region (400
//! a page); their tags come 20 resources a call (DescribeTags). What no list returns
//! is read per resource, concurrently under the account's budget: a balancer's
//! attributes and listeners, a target group's attributes and registered targets. A
//! target group attachment is one registered target: folded into its group's
//! `targets`, so a target registered in the console shows on the group.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, Listener, LoadBalancer, Rule, RuleCondition, TargetGroup,
};
use serde_json::{Map, Value, json};

use super::entries::{blocks, each};
use super::listing::{call_optional, failure, paginate, read_each};
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::attributes::Attributes;
use crate::crd::Severity;
use crate::drift::Compare::{Entries, Scalar, StringSet, Tags};
use crate::drift::{Fold, LiveResource};

const fn elbv2(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List {
        scope: Scope::Regional,
        service: "elasticloadbalancing",
        operations,
        page_size: Some(400),
        actions,
        list,
    }
}

const BALANCERS: &str = "elasticloadbalancing:DescribeLoadBalancers";
const TAGS: &str = "elasticloadbalancing:DescribeTags";
/// The most resources one DescribeTags names.
const TAGS_PER_CALL: usize = 20;

/// The ELBv2 family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("internal", Scalar),
            ("load_balancer_type", Scalar),
            ("ip_address_type", Scalar),
            ("security_groups", StringSet),
            ("subnets", StringSet),
            ("enable_deletion_protection", Scalar),
            ("idle_timeout", Scalar),
            ("enable_http2", Scalar),
            ("drop_invalid_header_fields", Scalar),
            ("access_logs", Entries(access_logs)),
            ("tags", Tags),
        ],
        defaults: &[
            ("load_balancer_type", "application"),
            ("ip_address_type", "ipv4"),
            ("enable_deletion_protection", "false"),
            ("idle_timeout", "60"),
            ("enable_http2", "true"),
            ("drop_invalid_header_fields", "false"),
        ],
        severity: &[
            ("internal", Severity::High),
            ("security_groups", Severity::High),
            ("enable_deletion_protection", Severity::High),
        ],
        not_compared: &[("subnet_mapping", "compared as `subnets`")],
        // HTTP settings of application load balancers.
        not_applicable: &[
            ("idle_timeout", not_application),
            ("enable_http2", not_application),
            ("drop_invalid_header_fields", not_application),
        ],
        ..AwsType::new(
            "aws_lb",
            elbv2(
                &["DescribeLoadBalancers", "DescribeLoadBalancerAttributes", "DescribeTags"],
                &[BALANCERS, "elasticloadbalancing:DescribeLoadBalancerAttributes", TAGS],
                list_load_balancer,
            ),
        )
    },
    AwsType {
        compared: &[
            ("port", Scalar),
            ("protocol", Scalar),
            ("ssl_policy", Scalar),
            ("certificate_arn", Scalar),
            ("default_action", Entries(actions)),
            ("tags", Tags),
        ],
        severity: &[
            ("protocol", Severity::High),
            ("ssl_policy", Severity::High),
            ("default_action", Severity::High),
        ],
        // A security policy belongs to TLS listeners only (moto gives plain HTTP one too).
        not_applicable: &[("ssl_policy", |state| {
            !matches!(state.get("protocol").and_then(Value::as_str), Some("HTTPS" | "TLS"))
        })],
        ..AwsType::new(
            "aws_lb_listener",
            elbv2(
                &["DescribeLoadBalancers", "DescribeListeners", "DescribeTags"],
                &[BALANCERS, "elasticloadbalancing:DescribeListeners", TAGS],
                list_listener,
            ),
        )
    },
    AwsType {
        compared: &[
            ("listener_arn", Scalar),
            ("priority", Scalar),
            ("action", Entries(actions)),
            ("condition", Entries(conditions)),
            ("tags", Tags),
        ],
        // Where matching requests go, and which requests match: a rule widened to every
        // path, or forwarding elsewhere.
        severity: &[("action", Severity::High), ("condition", Severity::High)],
        ..AwsType::new(
            "aws_lb_listener_rule",
            elbv2(
                &["DescribeLoadBalancers", "DescribeListeners", "DescribeRules", "DescribeTags"],
                &[
                    BALANCERS,
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    TAGS,
                ],
                list_listener_rule,
            ),
        )
    },
    AwsType {
        compared: &[
            ("port", Scalar),
            ("protocol", Scalar),
            ("protocol_version", Scalar),
            ("vpc_id", Scalar),
            ("target_type", Scalar),
            ("deregistration_delay", Scalar),
            ("slow_start", Scalar),
            ("load_balancing_algorithm_type", Scalar),
            ("health_check", Entries(health_check)),
            ("targets", Entries(each)),
            ("tags", Tags),
        ],
        defaults: &[
            ("target_type", "instance"),
            ("deregistration_delay", "300"),
            ("slow_start", "0"),
            ("load_balancing_algorithm_type", "round_robin"),
        ],
        severity: &[("targets", Severity::High)],
        not_compared: &[("stickiness", "not yet")],
        parts: &["targets"],
        ..AwsType::new(
            "aws_lb_target_group",
            elbv2(
                &[
                    "DescribeTargetGroups",
                    "DescribeTargetGroupAttributes",
                    "DescribeTargetHealth",
                    "DescribeTags",
                ],
                &[
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                    "elasticloadbalancing:DescribeTargetHealth",
                    TAGS,
                ],
                list_target_group,
            ),
        )
    },
    AwsType::folded("aws_lb_target_group_attachment", "aws_lb_target_group", fold_attachment),
    AwsType::folded("aws_alb_target_group_attachment", "aws_lb_target_group", fold_attachment),
    AwsType::new("aws_alb", Listing::Alias { of: "aws_lb" }),
    AwsType::new("aws_alb_listener", Listing::Alias { of: "aws_lb_listener" }),
    AwsType::new("aws_alb_listener_rule", Listing::Alias { of: "aws_lb_listener_rule" }),
    AwsType::new("aws_alb_target_group", Listing::Alias { of: "aws_lb_target_group" }),
];

/// One region's load balancers, listed once for the balancer and listener types.
pub type BalancerListing = tokio::sync::OnceCell<Result<Arc<Vec<LoadBalancer>>, (String, String)>>;

fn text<'a>(block: &'a Map<String, Value>, key: &str) -> &'a str {
    block.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn number(block: &Map<String, Value>, key: &str) -> String {
    match block.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// `s3://<bucket>/<prefix>` when access logs are on; nothing when off.
fn access_logs(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .filter(|b| b.get("enabled").and_then(Value::as_bool).unwrap_or(false))
        .map(|b| format!("s3://{}/{}", text(b, "bucket"), text(b, "prefix")))
        .collect()
}

/// The health check's settings in one line.
fn health_check(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .map(|b| {
            let enabled = b.get("enabled").and_then(Value::as_bool).unwrap_or(true);
            format!(
                "enabled={enabled} {}:{}{} every {}s timeout {}s healthy {} unhealthy {} matcher {}",
                text(b, "protocol"),
                text(b, "port"),
                text(b, "path"),
                number(b, "interval"),
                number(b, "timeout"),
                number(b, "healthy_threshold"),
                number(b, "unhealthy_threshold"),
                text(b, "matcher"),
            )
        })
        .collect()
}

/// One listener action in one line: where it forwards, redirects or what it answers.
fn actions(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    blocks(value)
        .map(|b| match text(b, "type") {
            "forward" => {
                let mut groups: Vec<&str> = blocks(b.get("forward"))
                    .flat_map(|f| blocks(f.get("target_group")))
                    .map(|g| text(g, "arn"))
                    .chain(Some(text(b, "target_group_arn")).filter(|g| !g.is_empty()))
                    .collect();
                groups.sort_unstable();
                groups.dedup();
                format!("forward {}", groups.join(","))
            }
            "redirect" => blocks(b.get("redirect")).next().map_or_else(
                || "redirect".to_string(),
                |r| {
                    format!(
                        "redirect {} {}://{}:{}{}?{}",
                        text(r, "status_code"),
                        text(r, "protocol"),
                        text(r, "host"),
                        text(r, "port"),
                        text(r, "path"),
                        text(r, "query")
                    )
                },
            ),
            "fixed-response" => blocks(b.get("fixed_response")).next().map_or_else(
                || "fixed-response".to_string(),
                |f| format!("fixed-response {} {}", text(f, "status_code"), text(f, "content_type")),
            ),
            other => other.to_string(),
        })
        .collect()
}

fn fold_attachment(a: &Attributes) -> Option<Fold> {
    let group = a.get("target_group_arn").and_then(Value::as_str).filter(|g| !g.is_empty())?;
    let target = a.get("target_id").and_then(Value::as_str).filter(|t| !t.is_empty())?;
    Some(super::fold::fold("aws_lb_target_group", group, "targets", json!(target)))
}

/// A balancer that is not an application one (the default when unset).
fn not_application(state: &Attributes) -> bool {
    state.get("load_balancer_type").and_then(Value::as_str).is_some_and(|t| t != "application")
}

fn client(cx: &ListContext<'_>) -> aws_sdk_elasticloadbalancingv2::Client {
    cx.provider.elbv2_client(cx.region)
}

async fn balancers<'a>(cx: &'a ListContext<'a>) -> Result<Arc<Vec<LoadBalancer>>, (String, String)> {
    cx.balancers
        .get_or_init(|| async {
            let elb = client(cx);
            paginate(&cx.guard, "elasticloadbalancing", "DescribeLoadBalancers", |marker| {
                let request = elb.describe_load_balancers().page_size(400).set_marker(marker);
                async move {
                    let out = request.send().await?;
                    Ok((out.load_balancers().to_vec(), out.next_marker().map(str::to_string)))
                }
            })
            .await
            .map(Arc::new)
            .map_err(failure)
        })
        .await
        .clone()
}

/// The tags of `arns`, 20 a call.
async fn tags_of(
    cx: &ListContext<'_>,
    arns: Vec<String>,
) -> Result<HashMap<String, Value>, (String, String)> {
    let elb = client(cx);
    let chunks: Vec<Vec<String>> = arns.chunks(TAGS_PER_CALL).map(<[String]>::to_vec).collect();
    let pages = read_each(chunks, |chunk| {
        let elb = elb.clone();
        async move {
            let out = call_optional(&cx.guard, "elasticloadbalancing", "DescribeTags", &[], || {
                elb.describe_tags().set_resource_arns(Some(chunk.clone())).send()
            })
            .await?;
            Ok(out.map(|o| o.tag_descriptions().to_vec()))
        }
    })
    .await?;
    Ok(pages
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let tags: Map<String, Value> = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), json!(t.value().unwrap_or_default()))))
                .collect();
            Some((d.resource_arn()?.to_string(), Value::Object(tags)))
        })
        .collect())
}

/// The `Key`/`Value` attributes of a balancer or group as a map.
fn attribute_map<'a>(
    pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> HashMap<String, String> {
    pairs.filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string()))).collect()
}

fn flag(attributes: &HashMap<String, String>, key: &str) -> Option<bool> {
    attributes.get(key).and_then(|v| v.parse().ok())
}

fn int(attributes: &HashMap<String, String>, key: &str) -> Option<i64> {
    attributes.get(key).and_then(|v| v.parse().ok())
}

fn live(type_: &str, arn: &str, region: &str, attributes: Value) -> LiveResource {
    super::mapping::live(type_, arn, Some(region), attributes)
}

fn list_load_balancer<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let balancers = balancers(cx).await?;
        let arns = balancers.iter().filter_map(|b| b.load_balancer_arn().map(str::to_string)).collect();
        let tags = tags_of(cx, arns).await?;
        let tags = &tags;
        read_each(balancers.iter().cloned(), |balancer| async move {
            let Some(arn) = balancer.load_balancer_arn().map(str::to_string) else { return Ok(None) };
            let elb = client(cx);
            let out = call_optional(
                &cx.guard,
                "elasticloadbalancing",
                "DescribeLoadBalancerAttributes",
                &["LoadBalancerNotFound"],
                || elb.describe_load_balancer_attributes().load_balancer_arn(&arn).send(),
            )
            .await?;
            let Some(out) = out else { return Ok(None) };
            let settings = attribute_map(out.attributes().iter().map(|a| (a.key(), a.value())));
            Ok(Some(live(
                "aws_lb",
                &arn,
                cx.region,
                balancer_attributes(&balancer, &settings, tags.get(&arn)),
            )))
        })
        .await
    })
}

fn balancer_attributes(b: &LoadBalancer, settings: &HashMap<String, String>, tags: Option<&Value>) -> Value {
    let mut subnets: Vec<&str> = b.availability_zones().iter().filter_map(|z| z.subnet_id()).collect();
    subnets.sort_unstable();
    json!({
        "id": b.load_balancer_arn(), "arn": b.load_balancer_arn(), "name": b.load_balancer_name(),
        "internal": b.scheme().map(|s| s.as_str() == "internal"),
        "load_balancer_type": b.r#type().map(|t| t.as_str()),
        "ip_address_type": b.ip_address_type().map(|t| t.as_str()),
        "security_groups": b.security_groups(),
        "subnets": subnets,
        "vpc_id": b.vpc_id(),
        "enable_deletion_protection": flag(settings, "deletion_protection.enabled"),
        "idle_timeout": int(settings, "idle_timeout.timeout_seconds"),
        "enable_http2": flag(settings, "routing.http2.enabled"),
        "drop_invalid_header_fields": flag(settings, "routing.http.drop_invalid_header_fields.enabled"),
        "access_logs": [{
            "enabled": flag(settings, "access_logs.s3.enabled").unwrap_or(false),
            "bucket": settings.get("access_logs.s3.bucket"),
            "prefix": settings.get("access_logs.s3.prefix"),
        }],
        "tags": tags,
    })
}

/// Every listener of every balancer of the region: DescribeListeners per balancer
/// (there is no region-wide call), concurrently.
async fn listeners<'a>(cx: &'a ListContext<'a>) -> Result<Vec<Listener>, (String, String)> {
    let balancers = balancers(cx).await?;
    let arns: Vec<String> =
        balancers.iter().filter_map(|b| b.load_balancer_arn().map(str::to_string)).collect();
    let per_balancer = read_each(arns, |balancer| async move {
        let elb = client(cx);
        let listeners = paginate(&cx.guard, "elasticloadbalancing", "DescribeListeners", |marker| {
            let request =
                elb.describe_listeners().load_balancer_arn(&balancer).page_size(400).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.listeners().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        Ok(Some(listeners))
    })
    .await?;
    Ok(per_balancer.into_iter().flatten().collect())
}

fn list_listener<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let listeners = listeners(cx).await?;
        let arns = listeners.iter().filter_map(|l| l.listener_arn().map(str::to_string)).collect();
        let tags = tags_of(cx, arns).await?;
        Ok(listeners
            .iter()
            .filter_map(|l| {
                let arn = l.listener_arn()?;
                Some(live("aws_lb_listener", arn, cx.region, listener_attributes(l, tags.get(arn))))
            })
            .collect())
    })
}

/// The rules of every listener (DescribeRules per listener, concurrently), without
/// each listener's default rule: that is the listener's `default_action`.
fn list_listener_rule<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let listeners = listeners(cx).await?;
        let arns: Vec<String> =
            listeners.iter().filter_map(|l| l.listener_arn().map(str::to_string)).collect();
        let per_listener = read_each(arns, |listener| async move {
            let elb = client(cx);
            let rules = paginate(&cx.guard, "elasticloadbalancing", "DescribeRules", |marker| {
                let request = elb.describe_rules().listener_arn(&listener).page_size(400).set_marker(marker);
                async move {
                    let out = request.send().await?;
                    Ok((out.rules().to_vec(), out.next_marker().map(str::to_string)))
                }
            })
            .await
            .map_err(failure)?;
            let own = rules.into_iter().filter(|r| r.is_default() != Some(true));
            Ok(Some(own.map(|rule| (listener.clone(), rule)).collect::<Vec<_>>()))
        })
        .await?;
        let rules: Vec<(String, Rule)> = per_listener.into_iter().flatten().collect();
        let arns = rules.iter().filter_map(|(_, r)| r.rule_arn().map(str::to_string)).collect();
        let tags = tags_of(cx, arns).await?;
        Ok(rules
            .iter()
            .filter_map(|(listener, r)| {
                let arn = r.rule_arn()?;
                let attributes = json!({
                    "id": arn, "arn": arn, "listener_arn": listener,
                    "priority": r.priority().and_then(|p| p.parse::<i64>().ok()),
                    "action": r.actions().iter().map(action).collect::<Vec<_>>(),
                    "condition": r.conditions().iter().map(condition).collect::<Vec<_>>(),
                    "tags": tags.get(arn),
                });
                Some(live("aws_lb_listener_rule", arn, cx.region, attributes))
            })
            .collect())
    })
}

/// A rule condition in the provider's block shape (`path_pattern: [{values}]`).
fn condition(c: &RuleCondition) -> Value {
    let values = |config: Option<&[String]>| {
        let mut values: Vec<String> = config.filter(|v| !v.is_empty()).unwrap_or(c.values()).to_vec();
        values.sort();
        values
    };
    match c.field().unwrap_or_default() {
        "host-header" => {
            json!({"host_header": [{"values": values(c.host_header_config().map(|h| h.values()))}]})
        }
        "path-pattern" => {
            json!({"path_pattern": [{"values": values(c.path_pattern_config().map(|p| p.values()))}]})
        }
        "http-request-method" => json!({"http_request_method": [{
            "values": values(c.http_request_method_config().map(|m| m.values()))
        }]}),
        "source-ip" => json!({"source_ip": [{"values": values(c.source_ip_config().map(|s| s.values()))}]}),
        "http-header" => json!({"http_header": [{
            "http_header_name": c.http_header_config().and_then(|h| h.http_header_name()),
            "values": values(c.http_header_config().map(|h| h.values())),
        }]}),
        "query-string" => {
            let pairs = c.query_string_config().map(|q| q.values()).unwrap_or_default();
            let pairs: Vec<Value> =
                pairs.iter().map(|p| json!({"key": p.key(), "value": p.value()})).collect();
            json!({"query_string": pairs})
        }
        other => json!({ other: [] }),
    }
}

/// Conditions as `<field> <values>` entries (`path_pattern /api/*`), one per block.
fn conditions(value: Option<&Value>) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for block in blocks(value) {
        for (field, configs) in block {
            for config in configs.as_array().into_iter().flatten().filter_map(Value::as_object) {
                let mut values: Vec<String> = config
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                values.sort();
                let name = text(config, "http_header_name");
                let pair = format!("{}={}", text(config, "key"), text(config, "value"));
                let detail = match field.as_str() {
                    "http_header" => format!("{name}: {}", values.join(",")),
                    "query_string" => pair,
                    _ => values.join(","),
                };
                out.insert(format!("{field} {detail}"));
            }
        }
    }
    out
}

fn listener_attributes(l: &Listener, tags: Option<&Value>) -> Value {
    json!({
        "id": l.listener_arn(), "arn": l.listener_arn(), "load_balancer_arn": l.load_balancer_arn(),
        "port": l.port(), "protocol": l.protocol().map(|p| p.as_str()),
        "ssl_policy": l.ssl_policy(),
        "certificate_arn": l.certificates().iter().find_map(|c| c.certificate_arn()),
        "default_action": l.default_actions().iter().map(action).collect::<Vec<_>>(),
        "tags": tags,
    })
}

/// An action in the provider's `default_action` shape.
fn action(a: &Action) -> Value {
    let forward: Vec<Value> = a
        .forward_config()
        .map(|f| f.target_groups().iter().map(|g| json!({"arn": g.target_group_arn()})).collect())
        .unwrap_or_default();
    let redirect = a.redirect_config().map(|r| {
        json!([{
            "status_code": r.status_code().map(|s| s.as_str()), "protocol": r.protocol(), "host": r.host(),
            "port": r.port(), "path": r.path(), "query": r.query(),
        }])
    });
    let fixed = a.fixed_response_config().map(|f| {
        json!([{"status_code": f.status_code(), "content_type": f.content_type(), "message_body": f.message_body()}])
    });
    json!({
        "type": a.r#type().map(|t| t.as_str()),
        "target_group_arn": a.target_group_arn(),
        "forward": [{"target_group": forward}],
        "redirect": redirect.unwrap_or_else(|| json!([])),
        "fixed_response": fixed.unwrap_or_else(|| json!([])),
    })
}

fn list_target_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let elb = client(cx);
        let groups = paginate(&cx.guard, "elasticloadbalancing", "DescribeTargetGroups", |marker| {
            let request = elb.describe_target_groups().page_size(400).set_marker(marker);
            async move {
                let out = request.send().await?;
                Ok((out.target_groups().to_vec(), out.next_marker().map(str::to_string)))
            }
        })
        .await
        .map_err(failure)?;
        let arns = groups.iter().filter_map(|g| g.target_group_arn().map(str::to_string)).collect();
        let tags = tags_of(cx, arns).await?;
        let tags = &tags;
        read_each(groups, |group| async move { read_target_group(cx, group, tags).await }).await
    })
}

/// A group's attributes and registered targets.
async fn read_target_group(
    cx: &ListContext<'_>,
    group: TargetGroup,
    tags: &HashMap<String, Value>,
) -> Result<Option<LiveResource>, (String, String)> {
    let Some(arn) = group.target_group_arn().map(str::to_string) else { return Ok(None) };
    let elb = client(cx);
    let gone = &["TargetGroupNotFound"];
    let settings =
        call_optional(&cx.guard, "elasticloadbalancing", "DescribeTargetGroupAttributes", gone, || {
            elb.describe_target_group_attributes().target_group_arn(&arn).send()
        })
        .await?;
    let health = call_optional(&cx.guard, "elasticloadbalancing", "DescribeTargetHealth", gone, || {
        elb.describe_target_health().target_group_arn(&arn).send()
    })
    .await?;
    let (Some(settings), Some(health)) = (settings, health) else { return Ok(None) };
    let settings = attribute_map(settings.attributes().iter().map(|a| (a.key(), a.value())));
    let mut targets: Vec<&str> =
        health.target_health_descriptions().iter().filter_map(|d| d.target().and_then(|t| t.id())).collect();
    targets.sort_unstable();
    let check = json!([{
        "enabled": group.health_check_enabled(), "protocol": group.health_check_protocol().map(|p| p.as_str()),
        "port": group.health_check_port(), "path": group.health_check_path(),
        "interval": group.health_check_interval_seconds(), "timeout": group.health_check_timeout_seconds(),
        "healthy_threshold": group.healthy_threshold_count(), "unhealthy_threshold": group.unhealthy_threshold_count(),
        "matcher": group.matcher().and_then(|m| m.http_code().or(m.grpc_code())),
    }]);
    let attributes = json!({
        "id": arn, "arn": arn, "name": group.target_group_name(),
        "port": group.port(), "protocol": group.protocol().map(|p| p.as_str()),
        "protocol_version": group.protocol_version(), "vpc_id": group.vpc_id(),
        "target_type": group.target_type().map(|t| t.as_str()),
        "deregistration_delay": settings.get("deregistration_delay.timeout_seconds"),
        "slow_start": int(&settings, "slow_start.duration_seconds"),
        "load_balancing_algorithm_type": settings.get("load_balancing.algorithm.type"),
        "health_check": check,
        "targets": targets,
        "tags": tags.get(&arn),
    });
    Ok(Some(live("aws_lb_target_group", &arn, cx.region, attributes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forward_reads_the_same_from_the_provider_and_the_api() {
        let recorded =
            json!([{"type": "forward", "target_group_arn": "tg-1", "forward": [], "redirect": []}]);
        let api = json!([{"type": "forward", "target_group_arn": "tg-1", "forward": [{"target_group": [{"arn": "tg-1"}]}]}]);
        assert_eq!(actions(Some(&recorded)), actions(Some(&api)));
        let redirect = json!([{"type": "redirect", "redirect": [{"status_code": "HTTP_301", "protocol": "HTTPS",
            "host": "#{host}", "port": "443", "path": "/#{path}", "query": "#{query}"}]}]);
        assert_eq!(
            actions(Some(&redirect)).into_iter().next().as_deref(),
            Some("redirect HTTP_301 HTTPS://#{host}:443/#{path}?#{query}")
        );
    }

    #[test]
    fn a_rule_condition_reads_the_same_from_the_provider_and_the_api() {
        use aws_sdk_elasticloadbalancingv2::types::{HttpHeaderConditionConfig, PathPatternConditionConfig};
        let empty = json!({"host_header": [], "http_header": [], "path_pattern": [], "source_ip": []});
        let mut path = empty.clone();
        path["path_pattern"] = json!([{"values": ["/b/*", "/a/*"]}]);
        let mut header = empty;
        header["http_header"] = json!([{"http_header_name": "X-Team", "values": ["ops"]}]);
        let recorded = json!([path, header]);
        let api = [
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder().values("/a/*").values("/b/*").build(),
                )
                .build(),
            RuleCondition::builder()
                .field("http-header")
                .http_header_config(
                    HttpHeaderConditionConfig::builder().http_header_name("X-Team").values("ops").build(),
                )
                .build(),
        ];
        let live = Value::Array(api.iter().map(condition).collect());
        let entries = conditions(Some(&recorded));
        assert_eq!(entries, conditions(Some(&live)));
        assert!(
            entries.contains("path_pattern /a/*,/b/*") && entries.contains("http_header X-Team: ops"),
            "{entries:?}"
        );
    }

    #[test]
    fn access_logs_that_are_off_are_none() {
        let off = json!([{"bucket": "", "enabled": false, "prefix": ""}]);
        assert!(access_logs(Some(&off)).is_empty() && access_logs(None).is_empty());
        let on = json!([{"bucket": "logs", "enabled": true, "prefix": "lb"}]);
        assert_eq!(access_logs(Some(&on)).into_iter().next().as_deref(), Some("s3://logs/lb"));
    }
}
