//! Who is calling, and what they may do. Callers authenticate with a Kubernetes token
//! (a ServiceAccount's, or any the API server accepts), checked with a TokenReview;
//! roles come from the user and its groups, as the admin maps them. Deny by default:
//! one table (`ROUTES`) says which roles may use each route.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use kube::api::PostParams;
use kube::{Api, Client};

/// The API's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    Admin,
    /// Trigger scans, generate plans, execute approved plans.
    Operator,
    /// Read.
    Viewer,
    /// Approve or reject plans.
    Approver,
    /// Read and verify the audit trail.
    Auditor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Operator, Role::Viewer, Role::Approver, Role::Auditor];

    /// The role's name, as the flags and Secrets write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
            Self::Approver => "approver",
            Self::Auditor => "auditor",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "admin" => Self::Admin,
            "operator" => Self::Operator,
            "viewer" => Self::Viewer,
            "approver" => Self::Approver,
            "auditor" => Self::Auditor,
            other => {
                return Err(format!("unknown role {other:?}: admin, operator, viewer, approver or auditor"));
            }
        })
    }
}

/// What a route does, for the role table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    ListAccounts,
    ListScans,
    GetScan,
    GetReport,
    TriggerScan,
    GeneratePlan,
    RollbackPlan,
    ListPlans,
    GetPlan,
    ApprovePlan,
    RejectPlan,
    ExecutePlan,
    ReadAudit,
    VerifyAudit,
    /// The WebSocket stream of scan and plan events.
    WatchEvents,
    /// Log in with a password, or refresh a session (authenticated by what they carry).
    Login,
    Refresh,
    /// End a session (authenticated by the refresh token it ends).
    Logout,
    /// Who the caller is.
    WhoAmI,
    /// Create, list and revoke one's own API keys (with at most one's own roles).
    ManageKeys,
}

/// The one table of who may do what. Admin may do everything; a route not listed
/// here is allowed to nobody else. Login, Refresh and Logout are not listed: they are
/// authenticated by the password or refresh token they carry.
pub const ROUTES: &[(Route, &[Role])] = &[
    (Route::ListAccounts, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::ListScans, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::GetScan, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::GetReport, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::TriggerScan, &[Role::Operator]),
    (Route::GeneratePlan, &[Role::Operator]),
    (Route::RollbackPlan, &[Role::Operator]),
    (Route::ListPlans, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::GetPlan, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::ApprovePlan, &[Role::Approver]),
    (Route::RejectPlan, &[Role::Approver]),
    (Route::ExecutePlan, &[Role::Operator]),
    (Route::ReadAudit, &[Role::Auditor]),
    (Route::VerifyAudit, &[Role::Auditor]),
    (Route::WatchEvents, &[Role::Operator, Role::Viewer, Role::Approver]),
    (Route::WhoAmI, &Role::ALL),
    (Route::ManageKeys, &Role::ALL),
];

/// Whether any of `roles` may use `route` (pure).
pub fn allowed(route: Route, roles: &BTreeSet<Role>) -> bool {
    roles.contains(&Role::Admin)
        || ROUTES.iter().any(|(r, allowed)| *r == route && allowed.iter().any(|role| roles.contains(role)))
}

/// Roles granted to users and groups (`--user-role`, `--group-role`).
#[derive(Clone, Debug, Default)]
pub struct RoleBindings {
    pub users: BTreeMap<String, BTreeSet<Role>>,
    pub groups: BTreeMap<String, BTreeSet<Role>>,
}

impl RoleBindings {
    /// Parses `NAME=ROLE` entries.
    pub fn parse(users: &[String], groups: &[String]) -> Result<Self, String> {
        fn fold(entries: &[String], flag: &str) -> Result<BTreeMap<String, BTreeSet<Role>>, String> {
            let mut out: BTreeMap<String, BTreeSet<Role>> = BTreeMap::new();
            for entry in entries {
                let (name, role) =
                    entry.rsplit_once('=').ok_or_else(|| format!("{flag} {entry:?}: expected NAME=ROLE"))?;
                if name.is_empty() {
                    return Err(format!("{flag} {entry:?}: the name is empty"));
                }
                out.entry(name.to_string())
                    .or_default()
                    .insert(role.parse().map_err(|e| format!("{flag} {entry:?}: {e}"))?);
            }
            Ok(out)
        }
        Ok(Self { users: fold(users, "--user-role")?, groups: fold(groups, "--group-role")? })
    }

    /// Every role of a user with `groups` (pure).
    pub fn roles_of(&self, user: &str, groups: &[String]) -> BTreeSet<Role> {
        let mut roles = self.users.get(user).cloned().unwrap_or_default();
        for group in groups {
            roles.extend(self.groups.get(group).into_iter().flatten());
        }
        roles
    }
}

/// A caller the API server vouched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    pub groups: Vec<String>,
    pub roles: BTreeSet<Role>,
}

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send Authorization: Bearer <token>")]
    Missing,
    #[error("the token was not accepted: {0}")]
    Rejected(String),
    #[error("the token could not be checked: {0}")]
    Review(#[from] kube::Error),
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let token = value.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty());
    token.ok_or(AuthError::Missing)
}

/// Recent TokenReview answers, so a busy caller costs the API server one review per
/// `ttl`, not one per request. Keyed by the token's SHA-256, never the token; bounded
/// (the oldest half is dropped when full). A token revoked meanwhile stays accepted
/// for at most `ttl`.
pub struct ReviewCache {
    ttl: std::time::Duration,
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<Vec<u8>, (std::time::Instant, Caller)>>,
}

impl ReviewCache {
    pub fn new(ttl: std::time::Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(2), entries: Default::default() }
    }

    fn key(token: &str) -> Vec<u8> {
        ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec()
    }

    /// The caller a review accepted for `token` within `ttl`, if any.
    pub fn get(&self, token: &str, now: std::time::Instant) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (at, caller) = entries.get(&Self::key(token))?;
        (now.duration_since(*at) < self.ttl).then(|| caller.clone())
    }

    /// Remembers an accepted review (refusals are not cached: a fixed token works at once).
    pub fn put(&self, token: &str, caller: &Caller, now: std::time::Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            let mut ages: Vec<std::time::Instant> = entries.values().map(|(at, _)| *at).collect();
            ages.sort();
            let cutoff = ages[ages.len() / 2];
            entries.retain(|_, (at, _)| *at > cutoff);
        }
        entries.insert(Self::key(token), (now, caller.clone()));
    }
}

/// Checks `token` with a TokenReview (or a recent answer for it). The token itself
/// never leaves this function except to the API server: it is not logged, stored or
/// echoed.
pub async fn review_cached(
    client: &Client,
    cache: &ReviewCache,
    token: &str,
    bindings: &RoleBindings,
) -> Result<Caller, AuthError> {
    let now = std::time::Instant::now();
    if let Some(caller) = cache.get(token, now) {
        return Ok(caller);
    }
    let caller = review(client, token, bindings).await?;
    cache.put(token, &caller, now);
    Ok(caller)
}

async fn review(client: &Client, token: &str, bindings: &RoleBindings) -> Result<Caller, AuthError> {
    let reviews: Api<TokenReview> = Api::all(client.clone());
    let request = TokenReview {
        spec: TokenReviewSpec { token: token.to_string(), audiences: None },
        ..Default::default()
    };
    let status = reviews.create(&PostParams::default(), &request).await?.status.unwrap_or_default();
    if status.authenticated != Some(true) {
        let reason = status.error.filter(|e| !e.is_empty()).unwrap_or_else(|| "not authenticated".into());
        return Err(AuthError::Rejected(reason));
    }
    let info = status.user.unwrap_or_default();
    let user = info.username.unwrap_or_default();
    let groups = info.groups.unwrap_or_default();
    let roles = bindings.roles_of(&user, &groups);
    Ok(Caller { user, groups, roles })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[Role]) -> BTreeSet<Role> {
        list.iter().copied().collect()
    }

    #[test]
    fn deny_by_default_and_one_table_grants() {
        assert!(!allowed(Route::ListScans, &roles(&[])), "no role: nothing");
        assert!(allowed(Route::ListScans, &roles(&[Role::Viewer])));
        assert!(!allowed(Route::TriggerScan, &roles(&[Role::Viewer])), "a viewer only reads");
        assert!(!allowed(Route::TriggerScan, &roles(&[Role::Approver])));
        assert!(
            !allowed(Route::ListScans, &roles(&[Role::Auditor])),
            "an auditor reads the audit trail only"
        );
        assert!(allowed(Route::TriggerScan, &roles(&[Role::Operator])));
        assert!(allowed(Route::TriggerScan, &roles(&[Role::Admin])));
        assert!(allowed(Route::ApprovePlan, &roles(&[Role::Approver])));
        assert!(
            !allowed(Route::ApprovePlan, &roles(&[Role::Operator])),
            "operators execute, approvers approve"
        );
    }

    #[test]
    fn bindings_come_from_users_and_groups() {
        let bindings = RoleBindings::parse(
            &["system:serviceaccount:ci:deployer=operator".into()],
            &["system:serviceaccounts:team-a=viewer".into(), "oncall=operator".into()],
        )
        .expect("parses");
        let team = vec!["system:serviceaccounts:team-a".to_string()];
        assert_eq!(bindings.roles_of("system:serviceaccount:team-a:x", &team), roles(&[Role::Viewer]));
        assert_eq!(bindings.roles_of("system:serviceaccount:ci:deployer", &[]), roles(&[Role::Operator]));
        assert!(bindings.roles_of("mallory", &[]).is_empty());
        let bad = RoleBindings::parse(&["alice=root".into()], &[]).expect_err("unknown role");
        assert!(bad.contains("--user-role \"alice=root\"") && bad.contains("unknown role"), "{bad}");
        assert!(RoleBindings::parse(&[], &["=viewer".into()]).is_err());
    }

    #[test]
    fn reviews_are_remembered_briefly_by_hash_and_the_cache_stays_bounded() {
        let cache = ReviewCache::new(std::time::Duration::from_secs(10), 4);
        let caller = Caller { user: "bob".into(), groups: vec![], roles: roles(&[Role::Viewer]) };
        let start = std::time::Instant::now();
        cache.put("token-1", &caller, start);
        assert_eq!(cache.get("token-1", start + std::time::Duration::from_secs(9)), Some(caller.clone()));
        assert_eq!(cache.get("token-1", start + std::time::Duration::from_secs(10)), None, "expired");
        assert_eq!(cache.get("token-2", start), None);
        let stored = cache.entries.lock().expect("lock");
        assert!(stored.keys().all(|k| k.len() == 32 && k.as_slice() != b"token-1"), "only hashes are kept");
        drop(stored);
        for i in 0..20 {
            cache.put(&format!("t{i}"), &caller, start + std::time::Duration::from_millis(i));
        }
        assert!(cache.entries.lock().expect("lock").len() <= 4, "bounded");
        assert!(cache.get("t19", start + std::time::Duration::from_millis(19)).is_some(), "the newest stays");
    }

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc")).ok(), Some("abc"));
        assert!(matches!(bearer(Some("Basic abc")), Err(AuthError::Missing)));
        assert!(matches!(bearer(Some("Bearer ")), Err(AuthError::Missing)));
        assert!(matches!(bearer(None), Err(AuthError::Missing)));
    }
}
