//! Resources Terraform manages on their own but AWS reports on a parent: security
//! group rules, routes, route table and main route table associations, network ACL
//! rules, Elastic IP associations, volume attachments. Each is folded into its
//! parent's expected attributes, in the shape of the parent's inline blocks, so a
//! parent whose rules live elsewhere is not reported Modified. Also: the
//! `aws_default_*` types, which manage the default objects of an account.

use crate::attributes::Attributes;
use serde_json::{Map, Value, json};

use crate::provider::{CloudRules, Fold, FoldValue};

/// AWS's rules for the engine.
pub struct AwsRules;

/// Types verified only through their parent: the declarations listed `Folded`.
static CHILD_TYPES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    super::types::TYPES
        .iter()
        .filter(|t| matches!(t.listing, super::types::Listing::Folded { .. }))
        .map(|t| t.name)
        .collect()
});

fn text<'a>(attributes: &'a Attributes, name: &str) -> Option<&'a str> {
    attributes.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn value(attributes: &Attributes, name: &str) -> Value {
    attributes.get(name).cloned().unwrap_or(Value::Null)
}

/// A list attribute, or a one-item list from a scalar, or an empty list.
fn list_of(attributes: &Attributes, name: &str) -> Value {
    match attributes.get(name) {
        Some(Value::Array(items)) => Value::Array(items.clone()),
        Some(Value::String(s)) if !s.is_empty() => json!([s]),
        _ => json!([]),
    }
}

/// One entry a separately managed resource adds to its parent's `attribute`, compared
/// there and checked on the live parent.
pub(super) fn fold(
    parent_type: &'static str,
    parent_id: &str,
    attribute: &'static str,
    entry: Value,
) -> Fold {
    Fold {
        parent_type,
        parent_id: parent_id.to_string(),
        attribute,
        value: FoldValue::Entry(entry),
        on_parent: true,
        verify_via_parent: true,
    }
}

/// The source of a rule: the group itself is `self`, another group goes in `security_groups`.
fn sources(group: &str, referenced: Option<&str>, self_flag: bool) -> (Value, bool) {
    match referenced {
        Some(other) if other != group => (json!([other]), self_flag),
        Some(_) => (json!([]), true),
        None => (json!([]), self_flag),
    }
}

/// One rule in the shape of the group's inline `ingress`/`egress` blocks.
fn rule_entry(
    protocol: Value,
    ports: (Value, Value),
    sources: [Value; 3],
    groups: Value,
    self_flag: bool,
) -> Value {
    let [cidr_blocks, ipv6_cidr_blocks, prefix_list_ids] = sources;
    json!({
        "protocol": protocol, "from_port": ports.0, "to_port": ports.1, "cidr_blocks": cidr_blocks,
        "ipv6_cidr_blocks": ipv6_cidr_blocks, "prefix_list_ids": prefix_list_ids,
        "security_groups": groups, "self": self_flag,
    })
}

/// `aws_security_group_rule`: the classic form, many sources per resource.
pub(super) fn security_group_rule(a: &Attributes) -> Option<Fold> {
    let group = text(a, "security_group_id")?;
    let attribute = match text(a, "type")? {
        "ingress" => "ingress",
        "egress" => "egress",
        _ => return None,
    };
    let self_flag = a.get("self").and_then(Value::as_bool).unwrap_or(false);
    let (groups, self_flag) = sources(group, text(a, "source_security_group_id"), self_flag);
    let entry = rule_entry(
        value(a, "protocol"),
        (value(a, "from_port"), value(a, "to_port")),
        [list_of(a, "cidr_blocks"), list_of(a, "ipv6_cidr_blocks"), list_of(a, "prefix_list_ids")],
        groups,
        self_flag,
    );
    Some(fold("aws_security_group", group, attribute, entry))
}

/// `aws_vpc_security_group_ingress_rule` / `_egress_rule`: one source per resource,
/// with its own cloud id (`sgr-...`); discovered in its own right, so only folded.
pub(super) fn ingress_rule(a: &Attributes) -> Option<Fold> {
    vpc_security_group_rule(a, "ingress")
}

pub(super) fn egress_rule(a: &Attributes) -> Option<Fold> {
    vpc_security_group_rule(a, "egress")
}

fn vpc_security_group_rule(a: &Attributes, attribute: &'static str) -> Option<Fold> {
    let group = text(a, "security_group_id")?;
    let (groups, self_flag) = sources(group, text(a, "referenced_security_group_id"), false);
    let entry = rule_entry(
        value(a, "ip_protocol"),
        (value(a, "from_port"), value(a, "to_port")),
        [list_of(a, "cidr_ipv4"), list_of(a, "cidr_ipv6"), list_of(a, "prefix_list_id")],
        groups,
        self_flag,
    );
    Some(Fold { verify_via_parent: false, ..fold("aws_security_group", group, attribute, entry) })
}

/// `aws_iam_{role,user,group}_policy_attachment`: one managed policy attached to its
/// principal. A role's state records every attached policy (`managed_policy_arns`), so
/// it is compared there too: a policy attached in the console shows on the role. Users
/// and groups record none, so their attachments are checked on them only.
pub(super) fn role_policy_attachment(a: &Attributes) -> Option<Fold> {
    policy_attachment(a, "aws_iam_role", "role")
}

pub(super) fn user_policy_attachment(a: &Attributes) -> Option<Fold> {
    policy_attachment(a, "aws_iam_user", "user")
}

pub(super) fn group_policy_attachment(a: &Attributes) -> Option<Fold> {
    policy_attachment(a, "aws_iam_group", "group")
}

fn policy_attachment(a: &Attributes, parent_type: &'static str, principal: &str) -> Option<Fold> {
    let parent = text(a, principal)?;
    let arn = text(a, "policy_arn")?;
    let folded = fold(parent_type, parent, "managed_policy_arns", json!(arn));
    Some(Fold { on_parent: parent_type == "aws_iam_role", ..folded })
}

/// A bucket setting managed as its own resource (`aws_s3_bucket_policy`): the bucket's
/// inline copy, recorded when the bucket was
/// created, is owned elsewhere and not compared on the bucket.
pub(super) fn bucket_policy(a: &Attributes) -> Option<Fold> {
    bucket_setting(a, "policy")
}

fn bucket_setting(a: &Attributes, inline: &'static str) -> Option<Fold> {
    let bucket = text(a, "bucket")?;
    let mut owned = Map::new();
    owned.insert(inline.to_string(), Value::Null);
    Some(Fold {
        parent_type: "aws_s3_bucket",
        parent_id: bucket.to_string(),
        attribute: inline,
        value: FoldValue::Scalars(owned),
        on_parent: true,
        verify_via_parent: false,
    })
}

/// Route targets, as both `aws_route` and the inline `route` block name them.
pub const ROUTE_TARGETS: &[&str] = &[
    "gateway_id",
    "egress_only_gateway_id",
    "nat_gateway_id",
    "transit_gateway_id",
    "vpc_peering_connection_id",
    "vpc_endpoint_id",
    "carrier_gateway_id",
    "local_gateway_id",
    "core_network_arn",
    "network_interface_id",
    "instance_id",
];

pub(super) fn route(a: &Attributes) -> Option<Fold> {
    let table = text(a, "route_table_id")?;
    let mut entry = Map::new();
    entry.insert("cidr_block".into(), value(a, "destination_cidr_block"));
    entry.insert("ipv6_cidr_block".into(), value(a, "destination_ipv6_cidr_block"));
    entry.insert("destination_prefix_list_id".into(), value(a, "destination_prefix_list_id"));
    for target in ROUTE_TARGETS {
        entry.insert((*target).into(), value(a, target));
    }
    Some(fold("aws_route_table", table, "route", Value::Object(entry)))
}

pub(super) fn route_table_association(a: &Attributes) -> Option<Fold> {
    let table = text(a, "route_table_id")?;
    let target = text(a, "subnet_id").or_else(|| text(a, "gateway_id"))?;
    Some(Fold { on_parent: false, ..fold("aws_route_table", table, "associations", json!(target)) })
}

pub(super) fn main_route_table_association(a: &Attributes) -> Option<Fold> {
    let table = text(a, "route_table_id")?;
    Some(Fold { on_parent: false, ..fold("aws_route_table", table, "associations", json!("main")) })
}

pub(super) fn network_acl_rule(a: &Attributes) -> Option<Fold> {
    let acl = text(a, "network_acl_id")?;
    let egress = a.get("egress").and_then(Value::as_bool).unwrap_or(false);
    let entry = json!({
        "rule_no": value(a, "rule_number"),
        "action": value(a, "rule_action"),
        "protocol": value(a, "protocol"),
        "cidr_block": value(a, "cidr_block"),
        "ipv6_cidr_block": value(a, "ipv6_cidr_block"),
        "from_port": value(a, "from_port"),
        "to_port": value(a, "to_port"),
    });
    Some(fold("aws_network_acl", acl, if egress { "egress" } else { "ingress" }, entry))
}

/// An association sets the address's `instance` and/or `network_interface`; what it
/// did not name is owned by AWS (an instance's primary interface) and not compared.
pub(super) fn eip_association(a: &Attributes) -> Option<Fold> {
    let allocation = text(a, "allocation_id")?;
    let mut scalars = Map::new();
    scalars.insert("instance".into(), text(a, "instance_id").map_or(Value::Null, |v| json!(v)));
    scalars.insert(
        "network_interface".into(),
        text(a, "network_interface_id").map_or(Value::Null, |v| json!(v)),
    );
    Some(Fold {
        value: FoldValue::Scalars(scalars),
        ..fold("aws_eip", allocation, "association", Value::Null)
    })
}

/// A NAT gateway's address is attached to the gateway's own interface, which the
/// address in state (written before the gateway) does not record.
pub(super) fn nat_gateway_address(a: &Attributes) -> Option<Fold> {
    let allocation = text(a, "allocation_id")?;
    let mut scalars = Map::new();
    scalars.insert("instance".into(), Value::Null);
    scalars.insert(
        "network_interface".into(),
        text(a, "network_interface_id").map_or(Value::Null, |v| json!(v)),
    );
    Some(Fold {
        value: FoldValue::Scalars(scalars),
        verify_via_parent: false,
        ..fold("aws_eip", allocation, "association", Value::Null)
    })
}

pub(super) fn volume_attachment(a: &Attributes) -> Option<Fold> {
    let volume = text(a, "volume_id")?;
    let instance = text(a, "instance_id")?;
    let device = text(a, "device_name").unwrap_or_default();
    Some(Fold {
        on_parent: false,
        ..fold("aws_ebs_volume", volume, "attachments", json!(format!("{instance} {device}")))
    })
}

/// Declares the attributes the parser keeps: a list (for the tests) and a `match`
/// (for the parser: it runs for every attribute of every resource, ~50 per instance).
macro_rules! kept_attributes {
    ($($name:literal),* $(,)?) => {
        /// State attributes the engine reads: what the per-type rules compare, what
        /// folding reads, and what places a resource in a region (its ARN or zone, or a
        /// reference to a resource whose region is known). The tests check that every
        /// compared attribute is here and that folding sees the same with and without
        /// the filter on the real fixtures.
        #[cfg(test)]
        const KEPT_ATTRIBUTES: &[&str] = &[$($name),*];

        /// Whether the engine reads a state attribute of an AWS resource, under the
        /// static copy of its name.
        fn keeps(name: &str) -> crate::state::Keep {
            match name {
                $($name => crate::state::Keep::Known($name),)*
                _ => crate::state::Keep::Drop,
            }
        }

        /// The static copy of an attribute name the engine knows: one it reads from
        /// state, or one only the live mapping emits.
        pub(super) fn known_name(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some($name),)*
                _ => LIVE_ONLY_ATTRIBUTES.iter().find(|n| **n == name).copied(),
            }
        }
    };
}

kept_attributes!(
    "access_control_policy",
    "access_log_settings",
    "access_logs",
    "action",
    "alias",
    "allocated_storage",
    "allocation_id",
    "amazon_side_asn",
    "ami",
    "ami_type",
    "api_id",
    "api_key_required",
    "api_key_selection_expression",
    "api_key_source",
    "api_mapping_key",
    "architectures",
    "arn",
    "associate_public_ip_address",
    "assume_role_policy",
    "attribute",
    "authorization",
    "authorization_scopes",
    "authorization_type",
    "authorizer_id",
    "auto_deploy",
    "auto_minor_version_upgrade",
    "availability_zone",
    "aws_service_name",
    "backup_retention_period",
    "backup_window",
    "batch_size",
    "bgp_asn",
    "billing_mode",
    "binary_media_types",
    "block_public_acls",
    "block_public_policy",
    "body",
    "bucket",
    "ca_cert_identifier",
    "cache_cluster_enabled",
    "cache_key_parameters",
    "capacity_type",
    "carrier_gateway_id",
    "certificate_arn",
    "cidr_block",
    "cidr_blocks",
    "cidr_ipv4",
    "cidr_ipv6",
    "client_certificate_id",
    "client_id_list",
    "cluster",
    "cluster_identifier",
    "cluster_name",
    "code_sha256",
    "comment",
    "compatible_architectures",
    "compatible_runtimes",
    "condition",
    "connection_id",
    "connection_type",
    "connectivity_type",
    "container_definitions",
    "content_handling",
    "copy_tags_to_snapshot",
    "core_network_arn",
    "cors_rule",
    "cpu",
    "credentials",
    "credentials_arn",
    "customer_master_key_spec",
    "db_cluster_parameter_group_name",
    "db_parameter_group_name",
    "db_subnet_group_name",
    "dead_letter_config",
    "default_action",
    "default_route_settings",
    "default_version",
    "deletion_protection",
    "deletion_protection_enabled",
    "deployment_id",
    "deregistration_delay",
    "description",
    "desired_count",
    "destination_cidr_block",
    "destination_ipv6_cidr_block",
    "destination_prefix_list_id",
    "device_name",
    "disable_execute_api_endpoint",
    "disk_size",
    "domain_name",
    "domain_name_configuration",
    "drop_invalid_header_fields",
    "ebs_optimized",
    "egress",
    "egress_only_gateway_id",
    "enable_deletion_protection",
    "enable_execute_command",
    "enable_http2",
    "enable_key_rotation",
    "enable_monitoring",
    "enabled",
    "enabled_cloudwatch_logs_exports",
    "enabled_cluster_log_types",
    "encrypted",
    "encryption_config",
    "encryption_configuration",
    "endpoint_configuration",
    "engine",
    "engine_mode",
    "eni_id",
    "environment",
    "ephemeral_storage",
    "error_document",
    "event_source_arn",
    "execution_role_arn",
    "family",
    "file_system_id",
    "fingerprint",
    "fqdn",
    "from_port",
    "function_arn",
    "function_name",
    "function_url_auth_type",
    "function_version",
    "gateway_id",
    "global_secondary_index",
    "group",
    "groups",
    "handler",
    "hash_key",
    "health_check",
    "health_check_grace_period",
    "health_check_type",
    "http_method",
    "iam_database_authentication_enabled",
    "iam_instance_profile",
    "iam_role_arn",
    "id",
    "identifier",
    "idle_timeout",
    "ignore_public_acls",
    "image_id",
    "image_scanning_configuration",
    "image_tag_mutability",
    "image_uri",
    "index_document",
    "ingress",
    "instance",
    "instance_class",
    "instance_id",
    "instance_tenancy",
    "instance_type",
    "instance_types",
    "integration_http_method",
    "integration_method",
    "integration_type",
    "integration_uri",
    "internal",
    "iops",
    "ip_address",
    "ip_address_type",
    "ip_protocol",
    "ipv6_cidr_block",
    "ipv6_cidr_blocks",
    "is_enabled",
    "key_algorithm",
    "key_id",
    "key_name",
    "key_usage",
    "kms_key_arn",
    "kms_key_id",
    "labels",
    "latest_version",
    "launch_configuration",
    "launch_template",
    "launch_type",
    "layers",
    "license_info",
    "listener_arn",
    "load_balancer",
    "load_balancer_type",
    "load_balancing_algorithm_type",
    "local_gateway_id",
    "log_destination",
    "log_destination_type",
    "log_group_class",
    "maintenance_window",
    "managed_policy_arns",
    "map_public_ip_on_launch",
    "max_aggregation_interval",
    "max_allocated_storage",
    "max_session_duration",
    "max_size",
    "maximum_batching_window_in_seconds",
    "memory",
    "memory_size",
    "min_size",
    "monitoring",
    "monitoring_interval",
    "multi_attach_enabled",
    "multi_az",
    "multi_region",
    "mutual_tls_authentication",
    "name",
    "nat_gateway_id",
    "network_acl_id",
    "network_configuration",
    "network_interface",
    "network_interface_id",
    "network_mode",
    "node_group_name",
    "node_role_arn",
    "operation_name",
    "options",
    "package_type",
    "parameter",
    "parameter_group_name",
    "parent_id",
    "passthrough_behavior",
    "path",
    "path_part",
    "payload_format_version",
    "peer_owner_id",
    "peer_region",
    "peer_vpc_id",
    "performance_insights_enabled",
    "performance_mode",
    "permissions_boundary",
    "point_in_time_recovery",
    "policy",
    "policy_arn",
    "port",
    "preferred_backup_window",
    "preferred_maintenance_window",
    "prefix_list_id",
    "prefix_list_ids",
    "principal",
    "principal_org_id",
    "priority",
    "private_dns_enabled",
    "promotion_tier",
    "protocol",
    "protocol_type",
    "protocol_version",
    "provisioned_throughput_in_mibps",
    "publicly_accessible",
    "qualifier",
    "range_key",
    "read_capacity",
    "records",
    "redirect_all_requests_to",
    "referenced_security_group_id",
    "region",
    "repository",
    "request_models",
    "request_parameters",
    "request_templates",
    "request_validator_id",
    "requires_compatibilities",
    "reserved_concurrent_executions",
    "resource_id",
    "response_models",
    "response_parameters",
    "response_templates",
    "rest_api_id",
    "restrict_public_buckets",
    "retention_in_days",
    "revision",
    "role",
    "role_arn",
    "roles",
    "route",
    "route_key",
    "route_selection_expression",
    "route_table_id",
    "route_table_ids",
    "routing_config",
    "rule",
    "rule_action",
    "rule_no",
    "rule_number",
    "runtime",
    "scaling_config",
    "scheduling_strategy",
    "security_group_id",
    "security_group_ids",
    "security_groups",
    "selection_pattern",
    "self",
    "server_side_encryption",
    "service_name",
    "set_identifier",
    "setting",
    "size",
    "slow_start",
    "source_account",
    "source_arn",
    "source_code_hash",
    "source_dest_check",
    "source_security_group_id",
    "ssl_policy",
    "stage",
    "stage_name",
    "statement_id",
    "status_code",
    "storage_encrypted",
    "storage_type",
    "stream_enabled",
    "stream_view_type",
    "subject_alternative_names",
    "subnet_id",
    "subnet_ids",
    "subnets",
    "tag",
    "tags",
    "tags_all",
    "target",
    "target_bucket",
    "target_group_arn",
    "target_group_arns",
    "target_id",
    "target_key_id",
    "target_prefix",
    "target_type",
    "task_definition",
    "task_role_arn",
    "throughput",
    "throughput_mode",
    "thumbprint_list",
    "timeout",
    "timeout_milliseconds",
    "to_port",
    "tracing_config",
    "traffic_type",
    "transit_gateway_id",
    "ttl",
    "type",
    "uri",
    "url",
    "user",
    "users",
    "validate_request_body",
    "validate_request_parameters",
    "validation_method",
    "variables",
    "version",
    "versioning",
    "versioning_configuration",
    "volume_id",
    "vpc_config",
    "vpc_endpoint_id",
    "vpc_endpoint_type",
    "vpc_id",
    "vpc_peering_connection_id",
    "vpc_security_group_ids",
    "vpc_zone_identifier",
    "write_capacity",
    "xray_tracing_enabled",
    "zone_id",
);

/// Attributes the live mapping emits that state does not record under that name.
const LIVE_ONLY_ATTRIBUTES: &[&str] = &[
    "associations",
    "attachments",
    "block_device_volume_ids",
    "domain",
    "key_pair_id",
    "methods",
    "permissions",
    "public_ip",
    "security_group_rule_id",
    "snapshot_id",
    "targets",
];

impl CloudRules for AwsRules {
    fn fix_risk(&self, type_: &str, change: &crate::crd::AttributeChange) -> Option<crate::crd::Risk> {
        super::remediate::fix_risk(type_, change)
    }

    fn deletable(&self, type_: &str) -> bool {
        super::remediate::DELETABLE.contains(&type_)
    }

    fn match_id(&self, type_: &str, attributes: &Attributes) -> Option<String> {
        super::types::declaration(type_).and_then(|t| t.match_by).and_then(|derive| derive(attributes))
    }

    fn parts(&self, type_: &str) -> &'static [&'static str] {
        super::types::declaration(type_).map_or(&[], |t| t.parts)
    }

    fn compared(&self, type_: &str) -> &'static [(&'static str, crate::drift::Compare)] {
        super::rules::compared(type_)
    }

    fn default_value(&self, type_: &str, attribute: &str) -> Option<&'static str> {
        super::rules::default_value(type_, attribute)
    }

    fn not_applicable(&self, type_: &str, attribute: &str, expected: &Attributes) -> bool {
        super::rules::not_applicable(type_, attribute, expected)
    }

    fn change_severity(
        &self,
        type_: &str,
        attribute: &str,
        actual: Option<&str>,
    ) -> Option<crate::crd::Severity> {
        super::rules::change_severity(type_, attribute, actual)
    }

    fn type_severity(&self, type_: &str) -> Option<crate::crd::Severity> {
        super::rules::type_severity(type_)
    }

    fn managed_tag_prefixes(&self) -> &'static [&'static str] {
        super::rules::MANAGED_TAG_PREFIXES
    }

    fn full_tag_map(&self, attribute: &str) -> Option<&'static str> {
        (attribute == "tags").then_some("tags_all")
    }

    fn opens_to_world(&self, resource: &crate::provider::LiveResource) -> bool {
        let ingress = crate::drift::compare_for(self, &resource.type_, "ingress");
        matches!(ingress, crate::drift::Compare::Entries(_))
            && crate::drift::entries(ingress, resource.attributes.get("ingress"))
                .iter()
                .any(|rule| crate::drift::opens_to_world(rule))
    }

    fn own_region<'a>(&self, attributes: &'a Attributes) -> Option<&'a str> {
        super::rules::own_region(attributes)
    }

    fn attribute_filter(&self) -> crate::state::AttributeFilter {
        // `tags_all` holds `tags` plus the provider's default tags; it is what is compared.
        crate::state::AttributeFilter { keep: keeps, supersedes: &[("tags_all", "tags")] }
    }

    fn live_type(&self, state_type: &str) -> Option<&'static str> {
        match super::types::declaration(state_type)?.listing {
            super::types::Listing::Alias { of } => Some(of),
            _ => None,
        }
    }

    fn folds(&self, type_: &str, attributes: &Attributes) -> Vec<Fold> {
        let fold = super::types::declaration(type_).and_then(|t| t.fold);
        fold.and_then(|fold| fold(attributes)).into_iter().collect()
    }

    fn child_types(&self) -> &'static [&'static str] {
        CHILD_TYPES.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(v: Value) -> Attributes {
        v.as_object().cloned().map(Attributes::from).expect("object")
    }

    #[test]
    fn every_attribute_the_engine_reads_survives_the_parse_filter() {
        assert!(KEPT_ATTRIBUTES.windows(2).all(|w| w[0] < w[1]), "KEPT_ATTRIBUTES must stay sorted");
        for type_ in crate::provider::aws::types::supported_types() {
            let parts = AwsRules.parts(type_);
            for (name, _) in AwsRules.compared(type_).iter().filter(|(name, _)| !parts.contains(name)) {
                assert!(
                    keeps(name) != crate::state::Keep::Drop,
                    "{type_}.{name} is compared but dropped by the parser"
                );
            }
        }
        for dropped in [
            "root_block_device",
            "metadata_options",
            "user_data_base64",
            "timeouts",
            "private_dns",
            "host_id",
        ] {
            assert_eq!(keeps(dropped), crate::state::Keep::Drop, "{dropped}");
        }
    }

    #[test]
    fn folding_sees_the_same_through_the_parse_filter() {
        let fixtures = [
            include_str!(
                "../../../tests/fixtures/tfstate/driftctl/test/aws_vpc_security_group_rule/terraform.tfstate"
            ),
            include_str!("../../../tests/fixtures/tfstate/driftctl/test/aws_route/terraform.tfstate"),
            include_str!("../../../tests/fixtures/tfstate/driftctl/test/aws_route_assoc/terraform.tfstate"),
            include_str!(
                "../../../tests/fixtures/tfstate/driftctl/test/aws_network_acl_rule/terraform.tfstate"
            ),
            include_str!(
                "../../../tests/fixtures/tfstate/driftctl/test/aws_ec2_eip_association/terraform.tfstate"
            ),
            include_str!("../../../tests/fixtures/tfstate/driftctl/test/aws_nat_gateway/terraform.tfstate"),
            include_str!("../../../tests/fixtures/tfstate/replay/network-stack.tfstate"),
        ];
        let mut folded = 0;
        for text in fixtures {
            let full = crate::state::parse_state(text.as_bytes(), "full").expect("parses");
            let kept =
                crate::state::parse_state_keeping(text.as_bytes(), "kept", AwsRules.attribute_filter())
                    .expect("parses");
            for (a, b) in full.resources.iter().zip(&kept.resources) {
                let (from_full, from_kept) =
                    (AwsRules.folds(&a.type_, &a.attributes), AwsRules.folds(&b.type_, &b.attributes));
                assert_eq!(from_full, from_kept, "{}", a.address);
                folded += from_full.len();
            }
        }
        assert!(folded >= 25, "the fixtures fold {folded} resources");
    }

    #[test]
    fn a_rule_naming_its_own_group_is_self() {
        let rule = attrs(json!({"type": "ingress", "security_group_id": "sg-1", "protocol": "tcp",
            "from_port": 0, "to_port": 65535, "self": true, "source_security_group_id": "sg-1"}));
        let folds = AwsRules.folds("aws_security_group_rule", &rule);
        let FoldValue::Entry(entry) = &folds[0].value else { panic!("entry") };
        assert_eq!((folds[0].parent_type, folds[0].attribute), ("aws_security_group", "ingress"));
        assert_eq!(entry["self"], true);
        assert_eq!(entry["security_groups"], json!([]));
    }

    #[test]
    fn a_route_keeps_every_target() {
        let r = attrs(json!({"route_table_id": "rtb-1", "destination_prefix_list_id": "pl-1",
            "vpc_endpoint_id": "vpce-1", "destination_cidr_block": ""}));
        let folds = AwsRules.folds("aws_route", &r);
        let FoldValue::Entry(entry) = &folds[0].value else { panic!("entry") };
        assert_eq!(entry["destination_prefix_list_id"], "pl-1");
        assert_eq!(entry["vpc_endpoint_id"], "vpce-1");
    }

    #[test]
    fn associations_are_checked_on_the_child_only() {
        let a = attrs(json!({"route_table_id": "rtb-1", "subnet_id": null, "gateway_id": "igw-1"}));
        let folds = AwsRules.folds("aws_route_table_association", &a);
        assert!(!folds[0].on_parent && folds[0].verify_via_parent);
        assert_eq!(folds[0].value, FoldValue::Entry(json!("igw-1")));
        assert!(AwsRules.folds("aws_route_table_association", &attrs(json!({"subnet_id": "s"}))).is_empty());
    }

    #[test]
    fn an_eip_association_names_only_what_it_set() {
        let a =
            attrs(json!({"allocation_id": "eipalloc-1", "instance_id": "i-1", "network_interface_id": ""}));
        let folds = AwsRules.folds("aws_eip_association", &a);
        let FoldValue::Scalars(s) = &folds[0].value else { panic!("scalars") };
        assert_eq!((s["instance"].clone(), s["network_interface"].clone()), (json!("i-1"), Value::Null));
    }
}
