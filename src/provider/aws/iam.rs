//! IAM, one declaration per type. IAM is global: each type is listed once per
//! account, not per region. One paginated GetAccountAuthorizationDetails returns
//! roles (with their trust policy, inline policies, attached policies, boundary and
//! tags), customer-managed policies (with their documents), users and groups, and is
//! shared by every IAM type; ListRoles adds what it leaves out (description, maximum
//! session duration), ListInstanceProfiles the profiles. No call per resource.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_iam::types::{
    EntityType, GroupDetail, ManagedPolicyDetail, PolicyDetail, Role, RoleDetail, Tag, UserDetail,
};
use serde_json::{Value, json};

use super::entries::each;
use super::listing::{failure, paginate};
use super::policy::canonical;
use super::types::{AwsType, ListContext, Listed, Listing, Scope};
use crate::crd::Severity;
use crate::drift::Compare::{Document, Entries, Scalar, StringSet, Tags};
use crate::drift::LiveResource;

/// A global IAM listing.
const fn iam(
    operations: &'static [&'static str],
    actions: &'static [&'static str],
    list: super::types::ListFn,
) -> Listing {
    Listing::List { scope: Scope::Global, service: "iam", operations, page_size: Some(1000), actions, list }
}

const DETAILS: &[&str] = &["GetAccountAuthorizationDetails"];
const DETAILS_ACTION: &[&str] = &["iam:GetAccountAuthorizationDetails"];

/// The path IAM gives roles it creates for AWS services.
const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

/// The IAM family.
pub static TYPES: &[AwsType] = &[
    AwsType {
        compared: &[
            ("assume_role_policy", Document(canonical)),
            ("description", Scalar),
            ("max_session_duration", Scalar),
            ("path", Scalar),
            ("permissions_boundary", Scalar),
            ("managed_policy_arns", Entries(each)),
            ("tags", Tags),
        ],
        defaults: &[("max_session_duration", "3600"), ("path", "/")],
        severity: &[
            ("assume_role_policy", Severity::Critical),
            ("managed_policy_arns", Severity::High),
            ("permissions_boundary", Severity::High),
        ],
        not_compared: &[(
            "inline_policy",
            "each inline policy is compared as its own aws_iam_role_policy (a console-made one is Unmanaged)",
        )],
        ..AwsType::new(
            "aws_iam_role",
            iam(
                &["GetAccountAuthorizationDetails", "ListRoles"],
                &["iam:GetAccountAuthorizationDetails", "iam:ListRoles"],
                list_role,
            ),
        )
    },
    AwsType {
        compared: &[("policy", Document(canonical)), ("description", Scalar), ("path", Scalar)],
        defaults: &[("path", "/")],
        severity: &[("policy", Severity::Critical)],
        not_compared: &[("tags", "GetAccountAuthorizationDetails does not return a policy's tags")],
        ..AwsType::new("aws_iam_policy", iam(DETAILS, DETAILS_ACTION, list_policy))
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        severity: &[("policy", Severity::Critical)],
        ..AwsType::new("aws_iam_role_policy", iam(DETAILS, DETAILS_ACTION, list_role_policy))
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        severity: &[("policy", Severity::Critical)],
        ..AwsType::new("aws_iam_user_policy", iam(DETAILS, DETAILS_ACTION, list_user_policy))
    },
    AwsType {
        compared: &[("policy", Document(canonical))],
        severity: &[("policy", Severity::Critical)],
        ..AwsType::new("aws_iam_group_policy", iam(DETAILS, DETAILS_ACTION, list_group_policy))
    },
    AwsType {
        compared: &[("role", Scalar), ("path", Scalar)],
        defaults: &[("path", "/")],
        severity: &[("role", Severity::High)],
        not_compared: &[("tags", "ListInstanceProfiles does not return tags")],
        ..AwsType::new(
            "aws_iam_instance_profile",
            iam(&["ListInstanceProfiles"], &["iam:ListInstanceProfiles"], list_instance_profile),
        )
    },
    AwsType {
        compared: &[("path", Scalar), ("permissions_boundary", Scalar), ("tags", Tags)],
        defaults: &[("path", "/")],
        severity: &[("permissions_boundary", Severity::High)],
        ..AwsType::new("aws_iam_user", iam(DETAILS, DETAILS_ACTION, list_user))
    },
    AwsType {
        compared: &[("path", Scalar)],
        defaults: &[("path", "/")],
        ..AwsType::new("aws_iam_group", iam(DETAILS, DETAILS_ACTION, list_group))
    },
    AwsType {
        compared: &[("aws_service_name", Scalar), ("description", Scalar), ("tags", Tags)],
        ..AwsType::new("aws_iam_service_linked_role", iam(DETAILS, DETAILS_ACTION, list_service_linked_role))
    },
    AwsType {
        compared: &[
            ("url", Entries(issuer)),
            ("client_id_list", StringSet),
            ("thumbprint_list", StringSet),
            ("tags", Tags),
        ],
        severity: &[("url", Severity::High), ("client_id_list", Severity::High)],
        ..AwsType::new(
            "aws_iam_openid_connect_provider",
            iam(
                &["ListOpenIDConnectProviders", "GetOpenIDConnectProvider"],
                &["iam:ListOpenIDConnectProviders", "iam:GetOpenIDConnectProvider"],
                list_openid_connect_provider,
            ),
        )
    },
    AwsType {
        compared: &[("users", StringSet)],
        severity: &[("users", Severity::High)],
        // Terraform's id is the membership's own name; discovery knows it by its group.
        match_by: Some(|a| super::types::by_attribute(a, "group")),
        ..AwsType::new("aws_iam_group_membership", iam(DETAILS, DETAILS_ACTION, list_group_membership))
    },
    AwsType {
        compared: &[("users", StringSet), ("roles", StringSet), ("groups", StringSet)],
        severity: &[("users", Severity::High), ("roles", Severity::High), ("groups", Severity::High)],
        // Terraform's id is the attachment's own name; discovery knows it by its policy.
        match_by: Some(|a| super::types::by_attribute(a, "policy_arn")),
        ..AwsType::new("aws_iam_policy_attachment", iam(DETAILS, DETAILS_ACTION, list_policy_attachment))
    },
    AwsType::folded("aws_iam_role_policy_attachment", "aws_iam_role", super::fold::role_policy_attachment),
    AwsType::folded("aws_iam_user_policy_attachment", "aws_iam_user", super::fold::user_policy_attachment),
    AwsType::folded("aws_iam_group_policy_attachment", "aws_iam_group", super::fold::group_policy_attachment),
];

/// An OIDC issuer without its scheme: Terraform records the URL as written
/// (`https://token.actions.githubusercontent.com`), IAM returns it without `https://`.
fn issuer(value: Option<&Value>) -> BTreeSet<String> {
    let url = value.and_then(Value::as_str).unwrap_or_default();
    let bare = url.strip_prefix("https://").unwrap_or(url).trim_end_matches('/');
    (!bare.is_empty()).then(|| bare.to_string()).into_iter().collect()
}

/// What GetAccountAuthorizationDetails returned, listed once per discovery.
#[derive(Default)]
pub struct Details {
    roles: Vec<RoleDetail>,
    policies: Vec<ManagedPolicyDetail>,
    users: Vec<UserDetail>,
    groups: Vec<GroupDetail>,
}

/// The account's authorization details, shared by the IAM types of one discovery.
pub type Authorization = tokio::sync::OnceCell<Result<Details, (String, String)>>;

/// Every page of GetAccountAuthorizationDetails (roles, customer-managed policies,
/// users, groups), once.
async fn details<'a>(cx: &'a ListContext<'a>) -> Result<&'a Details, (String, String)> {
    let listed = cx
        .authorization
        .get_or_init(|| async {
            let pages = paginate(&cx.guard, "iam", "GetAccountAuthorizationDetails", |marker| {
                let request = cx
                    .iam
                    .get_account_authorization_details()
                    .filter(EntityType::Role)
                    .filter(EntityType::LocalManagedPolicy)
                    .filter(EntityType::User)
                    .filter(EntityType::Group)
                    .max_items(1000)
                    .set_marker(marker);
                async move {
                    let out = request.send().await?;
                    let next = out.is_truncated().then(|| out.marker().map(str::to_string)).flatten();
                    Ok((vec![out], next))
                }
            })
            .await
            .map_err(failure)?;
            let mut details = Details::default();
            for page in pages {
                details.roles.extend(page.role_detail_list().iter().cloned());
                details.policies.extend(page.policies().iter().cloned());
                details.users.extend(page.user_detail_list().iter().cloned());
                details.groups.extend(page.group_detail_list().iter().cloned());
            }
            Ok(details)
        })
        .await;
    listed.as_ref().map_err(Clone::clone)
}

fn tags(tags: &[Tag]) -> Value {
    Value::Object(tags.iter().map(|t| (t.key().to_string(), Value::String(t.value().to_string()))).collect())
}

/// A global resource (no region) with Terraform's attribute names.
fn live(type_: &str, id: &str, attributes: Value, is_default: bool) -> LiveResource {
    LiveResource { is_default, ..super::mapping::live(type_, id, None, attributes) }
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

fn is_service_role(role: &RoleDetail) -> bool {
    role.path().is_some_and(|p| p.starts_with(SERVICE_ROLE_PATH))
}

fn list_role<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        // What the details leave out: a role's description and session duration.
        let listed = paginate(&cx.guard, "iam", "ListRoles", |marker| {
            let request = cx.iam.list_roles().max_items(1000).set_marker(marker);
            async move {
                let out = request.send().await?;
                let next = out.is_truncated().then(|| out.marker().map(str::to_string)).flatten();
                Ok((out.roles().to_vec(), next))
            }
        })
        .await
        .map_err(failure)?;
        let summaries: HashMap<&str, &Role> = listed.iter().map(|r| (r.role_name(), r)).collect();
        Ok(details
            .roles
            .iter()
            .filter(|r| !is_service_role(r))
            .filter_map(|role| {
                let name = role.role_name()?;
                let summary = summaries.get(name);
                let attributes = json!({
                    "id": name,
                    "name": name,
                    "arn": role.arn(),
                    "path": role.path(),
                    "assume_role_policy": role.assume_role_policy_document(),
                    "description": summary.and_then(|s| s.description()),
                    "max_session_duration": summary.and_then(|s| s.max_session_duration()),
                    "permissions_boundary": role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                    "managed_policy_arns": sorted(
                        role.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
                    ),
                    "tags": tags(role.tags()),
                });
                Some(live("aws_iam_role", name, attributes, false))
            })
            .collect())
    })
}

fn list_service_linked_role<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .roles
            .iter()
            .filter(|r| is_service_role(r))
            .filter_map(|role| {
                let arn = role.arn()?;
                // `/aws-service-role/elasticbeanstalk.amazonaws.com/`: the service it serves.
                let service = role.path()?.strip_prefix(SERVICE_ROLE_PATH)?.trim_end_matches('/');
                let attributes =
                    json!({"id": arn, "arn": arn, "aws_service_name": service, "tags": tags(role.tags())});
                // AWS creates these for the services that use them: never unmanaged.
                Some(live("aws_iam_service_linked_role", arn, attributes, true))
            })
            .collect())
    })
}

fn list_role_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .roles
            .iter()
            .flat_map(|role| {
                let role_name = role.role_name().unwrap_or_default();
                role.role_policy_list().iter().filter_map(move |p| {
                    let name = p.policy_name()?;
                    let id = format!("{role_name}:{name}");
                    let attributes =
                        json!({"id": id, "name": name, "role": role_name, "policy": p.policy_document()});
                    Some(live("aws_iam_role_policy", &id, attributes, is_service_role(role)))
                })
            })
            .collect())
    })
}

/// An inline policy of a principal, as Terraform names it: `principal:name`.
fn inline_policy(
    type_: &str,
    principal: &str,
    policy: &PolicyDetail,
    is_default: bool,
) -> Option<LiveResource> {
    let name = policy.policy_name()?;
    let id = format!("{principal}:{name}");
    let owner = if type_ == "aws_iam_user_policy" { "user" } else { "group" };
    let attributes = json!({"id": id, "name": name, owner: principal, "policy": policy.policy_document()});
    Some(live(type_, &id, attributes, is_default))
}

fn list_user_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .users
            .iter()
            .flat_map(|user| {
                let name = user.user_name().unwrap_or_default();
                user.user_policy_list()
                    .iter()
                    .filter_map(move |p| inline_policy("aws_iam_user_policy", name, p, false))
            })
            .collect())
    })
}

fn list_group_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .groups
            .iter()
            .flat_map(|group| {
                let name = group.group_name().unwrap_or_default();
                group
                    .group_policy_list()
                    .iter()
                    .filter_map(move |p| inline_policy("aws_iam_group_policy", name, p, false))
            })
            .collect())
    })
}

fn list_policy<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .policies
            .iter()
            .filter_map(|policy| {
                let arn = policy.arn()?;
                let document = policy
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document());
                let attributes = json!({
                    "id": arn, "arn": arn, "name": policy.policy_name(), "path": policy.path(),
                    "description": policy.description(), "policy": document,
                });
                Some(live("aws_iam_policy", arn, attributes, false))
            })
            .collect())
    })
}

fn list_user<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .users
            .iter()
            .filter_map(|user| {
                let name = user.user_name()?;
                let attributes = json!({
                    "id": name, "name": name, "arn": user.arn(), "path": user.path(),
                    "permissions_boundary": user.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                    "managed_policy_arns": sorted(
                        user.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
                    ),
                    "tags": tags(user.tags()),
                });
                Some(live("aws_iam_user", name, attributes, false))
            })
            .collect())
    })
}

fn list_group<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        Ok(details
            .groups
            .iter()
            .filter_map(|group| {
                let name = group.group_name()?;
                let attributes = json!({
                    "id": name, "name": name, "arn": group.arn(), "path": group.path(),
                    "managed_policy_arns": sorted(
                        group.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect()
                    ),
                });
                Some(live("aws_iam_group", name, attributes, false))
            })
            .collect())
    })
}

fn list_instance_profile<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let profiles = paginate(&cx.guard, "iam", "ListInstanceProfiles", |marker| {
            let request = cx.iam.list_instance_profiles().max_items(1000).set_marker(marker);
            async move {
                let out = request.send().await?;
                let next = out.is_truncated().then(|| out.marker().map(str::to_string)).flatten();
                Ok((out.instance_profiles().to_vec(), next))
            }
        })
        .await
        .map_err(failure)?;
        Ok(profiles
            .iter()
            .map(|p| {
                let name = p.instance_profile_name();
                let attributes = json!({
                    "id": name, "name": name, "arn": p.arn(), "path": p.path(),
                    "role": p.roles().first().map(|r| r.role_name()),
                });
                live("aws_iam_instance_profile", name, attributes, false)
            })
            .collect())
    })
}

/// OIDC providers: one ListOpenIDConnectProviders (it returns every provider, unpaged),
/// then one GetOpenIDConnectProvider per provider, concurrently: no call lists their
/// settings.
fn list_openid_connect_provider<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let listed = cx
            .guard
            .call("iam", "ListOpenIDConnectProviders", super::errors::classify, || {
                cx.iam.list_open_id_connect_providers().send()
            })
            .await
            .map_err(|e| failure(super::listing::ListError::Call(Box::new(e))))?;
        let arns: Vec<String> = listed
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect();
        super::listing::read_each(arns, |arn| async move {
            let out =
                super::listing::call_optional(&cx.guard, "iam", "GetOpenIDConnectProvider", &[], || {
                    cx.iam.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send()
                })
                .await?;
            Ok(out.map(|out| {
                let attributes = json!({
                    "id": arn, "arn": arn, "url": out.url(),
                    "client_id_list": sorted(out.client_id_list().to_vec()),
                    "thumbprint_list": sorted(out.thumbprint_list().to_vec()),
                    "tags": tags(out.tags()),
                });
                live("aws_iam_openid_connect_provider", &arn, attributes, false)
            }))
        })
        .await
    })
}

/// A group's members, from the users' side of the details (a group's detail does not
/// name its members): exclusive, as `aws_iam_group_membership` manages them, so a user
/// added in the console shows. One per group with members; part of its group, never
/// unmanaged alone (most groups' members are not managed this way).
fn list_group_membership<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        let mut members: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for user in &details.users {
            for group in user.group_list() {
                members.entry(group.as_str()).or_default().extend(user.user_name().map(str::to_string));
            }
        }
        Ok(members
            .into_iter()
            .map(|(group, users)| {
                let attributes = json!({"id": group, "group": group, "users": sorted(users)});
                let resource = live("aws_iam_group_membership", group, attributes, false);
                LiveResource { part_of: Some(("aws_iam_group".into(), group.to_string())), ..resource }
            })
            .collect())
    })
}

/// Who each managed policy is attached to, from the principals' side of the details:
/// exclusive, as `aws_iam_policy_attachment` manages it (every role, user and group
/// of the policy), so a principal attached in the console shows. One per attached
/// policy; the attachments are the principals', so never unmanaged on their own.
fn list_policy_attachment<'a>(cx: &'a ListContext<'a>) -> Listed<'a> {
    Box::pin(async move {
        let details = details(cx).await?;
        let mut attached: std::collections::BTreeMap<String, [Vec<String>; 3]> = Default::default();
        let mut add = |policies: &[aws_sdk_iam::types::AttachedPolicy], kind: usize, name: Option<&str>| {
            for arn in policies.iter().filter_map(|p| p.policy_arn()) {
                attached.entry(arn.to_string()).or_default()[kind].extend(name.map(str::to_string));
            }
        };
        for role in details.roles.iter().filter(|r| !is_service_role(r)) {
            add(role.attached_managed_policies(), 0, role.role_name());
        }
        for user in &details.users {
            add(user.attached_managed_policies(), 1, user.user_name());
        }
        for group in &details.groups {
            add(group.attached_managed_policies(), 2, group.group_name());
        }
        Ok(attached
            .into_iter()
            .map(|(arn, [roles, users, groups])| {
                let attributes = json!({
                    "id": arn, "policy_arn": arn,
                    "roles": sorted(roles), "users": sorted(users), "groups": sorted(groups),
                });
                // Part of a customer policy; an AWS-managed policy's are the account's own.
                let customer = !arn.contains(":aws:policy/");
                let part_of = customer.then(|| ("aws_iam_policy".to_string(), arn.clone()));
                LiveResource { part_of, ..live("aws_iam_policy_attachment", &arn, attributes, !customer) }
            })
            .collect())
    })
}
