//! AWS's set-like attributes in their compared form: security group rules flattened
//! to one entry per protocol, port range and source; routes as destination and
//! target; network ACL entries. Terraform and the EC2 API group these differently;
//! the normal forms compare equal when the settings are the same.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::drift::{scalar, string_set};

fn protocol_name(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".into(),
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        other => other.into(),
    }
}

fn field(entry: &Map<String, Value>, name: &str) -> String {
    scalar(entry.get(name)).map(Cow::into_owned).unwrap_or_default()
}

/// The blocks of a nested-block attribute (`[{...}, ...]`), as Terraform records
/// them and the live mappings write them; nothing when absent.
pub fn blocks(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
}

/// A list whose items are compared one by one: one added or gone outside Terraform (an
/// attached policy, a registered target, a route) is reported as itself.
pub fn each(value: Option<&Value>) -> BTreeSet<String> {
    crate::drift::string_set(value).into_iter().map(std::borrow::Cow::into_owned).collect()
}

/// Security group rules flattened to `protocol from-to source` entries, so a rule
/// that Terraform groups and AWS splits (or the reverse) compares equal.
pub fn security_group_rules(value: Option<&Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in blocks(value) {
        let protocol = protocol_name(&field(entry, "protocol"));
        let ports = if protocol == "all" {
            "all".to_string()
        } else {
            format!("{}-{}", field(entry, "from_port"), field(entry, "to_port"))
        };
        let mut sources: Vec<String> = Vec::new();
        for key in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups"] {
            sources.extend(string_set(entry.get(key)).into_iter().map(Cow::into_owned));
        }
        if entry.get("self").and_then(Value::as_bool).unwrap_or(false) {
            sources.push("self".into());
        }
        for source in sources {
            out.insert(format!("{protocol} {ports} {source}"));
        }
    }
    out
}

/// Routes as `destination -> target` entries. The destination is an IPv4 or IPv6
/// block or a prefix list; the target is whichever of the provider's target
/// attributes is set (an instance route names its interface too; either matches).
pub fn routes(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|route| {
            let destination = ["cidr_block", "ipv6_cidr_block", "destination_prefix_list_id"]
                .iter()
                .map(|d| field(route, d))
                .find(|d| !d.is_empty());
            let target = super::ROUTE_TARGETS.iter().map(|t| field(route, t)).find(|t| !t.is_empty());
            format!("{} -> {}", destination.unwrap_or_default(), target.unwrap_or_default())
        })
        .collect()
}

/// Network ACL entries as `rule action protocol source from-to` entries.
pub fn acl_entries(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|e| {
            let source =
                [field(e, "cidr_block"), field(e, "ipv6_cidr_block")].into_iter().find(|d| !d.is_empty());
            format!(
                "{} {} {} {} {}-{}",
                field(e, "rule_no"),
                field(e, "action").to_ascii_lowercase(),
                protocol_name(&field(e, "protocol")),
                source.unwrap_or_default(),
                field(e, "from_port"),
                field(e, "to_port")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grouped_and_split_rules_compare_equal() {
        let terraform = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443,
            "cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"], "ipv6_cidr_blocks": [], "security_groups": [], "self": false}]);
        let aws = json!([
            {"protocol": "6", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]},
            {"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}
        ]);
        assert_eq!(security_group_rules(Some(&terraform)), security_group_rules(Some(&aws)));
        let all = json!([{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}]);
        assert_eq!(security_group_rules(Some(&all)).into_iter().collect::<Vec<_>>(), ["all all 0.0.0.0/0"]);
    }

    #[test]
    fn routes_name_destination_and_target() {
        let r = json!([{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-1", "nat_gateway_id": ""},
            {"cidr_block": "", "destination_prefix_list_id": "pl-9", "vpc_endpoint_id": "vpce-2"},
            {"ipv6_cidr_block": "::/0", "egress_only_gateway_id": "eigw-3"},
            {"cidr_block": "10.9.0.0/16", "carrier_gateway_id": "cagw-4", "gateway_id": null}]);
        assert_eq!(
            routes(Some(&r)).into_iter().collect::<Vec<_>>(),
            ["0.0.0.0/0 -> igw-1", "10.9.0.0/16 -> cagw-4", "::/0 -> eigw-3", "pl-9 -> vpce-2"]
        );
    }
}
