//! The API's own callers: users with passwords (Secret `driftmgr-api-users`), their
//! sessions (refresh-token families in `driftmgr-api-sessions`) and API keys
//! (`driftmgr-api-keys`). Passwords are argon2id hashes; API keys are 256-bit random
//! values stored as their SHA-256; nothing secret is kept in the clear except the
//! bootstrap admin's first password, in its own Secret for the admin to read once.
//!
//! A refresh token rotates on every use: the family remembers the one generation that
//! may be used next. Presenting an older one means a token was copied, so the whole
//! family (every token of that login) is revoked.

use std::collections::{BTreeMap, BTreeSet};

use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kube::Client;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::auth::{Caller, Role};
use super::secrets::{CachedSecret, SecretData, SecretError, random_bytes};
use super::tokens::{ACCESS_AUDIENCE, Claims, REFRESH_AUDIENCE, Signer, TokenError, now};

pub const SIGNING_SECRET: &str = "driftmgr-api-signing";
pub const USERS_SECRET: &str = "driftmgr-api-users";
pub const SESSIONS_SECRET: &str = "driftmgr-api-sessions";
pub const KEYS_SECRET: &str = "driftmgr-api-keys";
/// Holds the bootstrap admin's first password (key `password`); delete it once read.
pub const INITIAL_ADMIN_SECRET: &str = "driftmgr-api-initial-admin";
const SIGNING_KEY: &str = "hs256";
/// How API keys start: `dmk_<id>_<secret>`.
pub const API_KEY_PREFIX: &str = "dmk_";
/// Most sessions kept at once (a Secret holds at most 1 MiB); the oldest go first.
const MAX_SESSIONS: usize = 4000;
/// How long a replica trusts its copy of the users, sessions and keys: a revoked
/// session or key is refused everywhere within this time.
const SECRET_TTL: std::time::Duration = std::time::Duration::from_secs(3);

/// One user of `driftmgr-api-users` (the value of the user's key, JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    /// An argon2 PHC string (`driftmgr hash-password` makes one).
    pub password_hash: String,
    pub roles: Vec<String>,
}

/// One login's refresh-token family.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Family {
    user: String,
    /// The generation of the one refresh token that may be used next.
    generation: u64,
    revoked: bool,
    expires: u64,
}

/// One API key (the value of its id's key, JSON). `hash` is the key's SHA-256.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    pub name: String,
    pub owner: String,
    pub roles: Vec<String>,
    pub hash: String,
    pub created: u64,
}

/// Why a login, refresh or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the user name or password is wrong")]
    BadCredentials,
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("the session has ended (logged out or revoked)")]
    Revoked,
    #[error("this refresh token was already used: every token of the session is revoked")]
    Reused,
    #[error("the API key is not valid")]
    BadKey,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] SecretError),
}

/// Tokens of a session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: String,
    pub roles: Vec<String>,
}

/// An argon2id hash of `password` (PHC string).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes(16)).expect("16 bytes make a salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Whether `password` matches `hash`. Runs the full hash even for a user that does not
/// exist (against a fixed hash), so timing does not tell which names exist.
fn password_matches(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("no such user"));
    let known = hash.is_some();
    let Ok(parsed) = PasswordHash::new(hash.unwrap_or(dummy)) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// Roles named in a record; unknown names are dropped with a warning (never granted).
fn parse_roles(names: &[String], whose: &str) -> BTreeSet<Role> {
    names
        .iter()
        .filter_map(|name| match name.parse() {
            Ok(role) => Some(role),
            Err(error) => {
                warn!(%whose, %error, "role ignored");
                None
            }
        })
        .collect()
}

fn role_names(roles: &BTreeSet<Role>) -> Vec<String> {
    roles.iter().map(|r| r.name().to_string()).collect()
}

fn read_json<T: serde::de::DeserializeOwned>(data: &SecretData, key: &str, secret: &str) -> Option<T> {
    let bytes = data.get(key)?;
    match serde_json::from_slice(bytes) {
        Ok(value) => Some(value),
        Err(error) => {
            warn!(secret, key, %error, "entry is not valid JSON; ignored");
            None
        }
    }
}

fn write_json<T: Serialize>(data: &mut SecretData, key: &str, value: &T) {
    data.insert(key.to_string(), serde_json::to_vec(value).expect("plain data serialises"));
}

/// Users, sessions and API keys of one namespace.
pub struct Identity {
    signer: Signer,
    users: CachedSecret,
    sessions: CachedSecret,
    keys: CachedSecret,
    access_ttl: u64,
    refresh_ttl: u64,
}

impl Identity {
    /// Opens the Secrets of `namespace`, creating the signing key and, when there is no
    /// users Secret yet, a bootstrap `admin` whose password goes to
    /// `driftmgr-api-initial-admin`.
    pub async fn open(
        client: &Client,
        namespace: &str,
        issuer: &str,
        access_ttl: u64,
        refresh_ttl: u64,
    ) -> Result<Self, IdentityError> {
        let secret = |name| CachedSecret::new(client, namespace, name, SECRET_TTL);
        let key = secret(SIGNING_SECRET).ensure(SIGNING_KEY, || random_bytes(32)).await?;
        let signer = Signer::new(&key, issuer)?;
        let identity = Self {
            signer,
            users: secret(USERS_SECRET),
            sessions: secret(SESSIONS_SECRET),
            keys: secret(KEYS_SECRET),
            access_ttl,
            refresh_ttl,
        };
        if identity.users.refresh().await?.is_empty() {
            // Every replica uses the one password the first of them wrote.
            let password = secret(INITIAL_ADMIN_SECRET)
                .ensure("password", || URL_SAFE_NO_PAD.encode(random_bytes(18)).into_bytes())
                .await?;
            let password = String::from_utf8_lossy(&password).into_owned();
            let created = identity
                .users
                .modify(|data| {
                    if !data.is_empty() {
                        return false;
                    }
                    let admin =
                        UserRecord { password_hash: hash_password(&password), roles: vec!["admin".into()] };
                    write_json(data, "admin", &admin);
                    true
                })
                .await?;
            if created {
                info!(
                    namespace,
                    secret = INITIAL_ADMIN_SECRET,
                    "bootstrap user admin created; its password is in the Secret"
                );
            }
        }
        Ok(identity)
    }

    fn session_tokens(&self, user: &str, roles: &BTreeSet<Role>, fam: &str, generation: u64) -> Tokens {
        let now = now();
        let claims = |aud: &str, ttl: u64| Claims {
            iss: String::new(),
            aud: aud.into(),
            sub: user.into(),
            iat: now,
            nbf: now,
            exp: now + ttl,
            fam: fam.into(),
            generation,
            roles: Vec::new(),
        };
        let mut access = claims(ACCESS_AUDIENCE, self.access_ttl);
        access.roles = role_names(roles);
        Tokens {
            access_token: self.signer.sign(access),
            refresh_token: self.signer.sign(claims(REFRESH_AUDIENCE, self.refresh_ttl)),
            expires_in: self.access_ttl,
            user: user.into(),
            roles: role_names(roles),
        }
    }

    async fn user(&self, name: &str, fresh: bool) -> Result<Option<UserRecord>, IdentityError> {
        let data = if fresh { self.users.refresh().await? } else { self.users.data().await? };
        Ok(read_json(&data, name, USERS_SECRET))
    }

    /// Checks a user's password and starts a session.
    pub async fn login(&self, user: &str, password: &str) -> Result<Tokens, IdentityError> {
        let record = self.user(user, true).await?;
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || password_matches(&password, hash.as_deref()))
            .await
            .unwrap_or(false);
        let Some(record) = record.filter(|_| matches) else { return Err(IdentityError::BadCredentials) };
        let roles = parse_roles(&record.roles, user);
        let fam = hex::encode(random_bytes(16));
        let family =
            Family { user: user.into(), generation: 0, revoked: false, expires: now() + self.refresh_ttl };
        self.sessions
            .modify(|data| {
                prune_sessions(data, now());
                write_json(data, &fam, &family);
            })
            .await?;
        Ok(self.session_tokens(user, &roles, &fam, 0))
    }

    /// Rotates a refresh token: the next generation of its family, with the user's
    /// current roles. An already rotated token revokes the family.
    pub async fn refresh(&self, token: &str) -> Result<Tokens, IdentityError> {
        let claims = self.signer.verify(token, REFRESH_AUDIENCE, now())?;
        let record = self.user(&claims.sub, true).await?;
        let outcome = self
            .sessions
            .update(|data| {
                let Some(mut family) = read_json::<Family>(data, &claims.fam, SESSIONS_SECRET) else {
                    return Err(IdentityError::Revoked);
                };
                if family.revoked || family.user != claims.sub {
                    return Err(IdentityError::Revoked);
                }
                if claims.generation != family.generation || record.is_none() {
                    family.revoked = true;
                    write_json(data, &claims.fam, &family);
                    return Ok(Err(if record.is_none() {
                        IdentityError::Revoked
                    } else {
                        IdentityError::Reused
                    }));
                }
                family.generation += 1;
                family.expires = now() + self.refresh_ttl;
                write_json(data, &claims.fam, &family);
                Ok(Ok(family.generation))
            })
            .await??;
        let generation = outcome?;
        let roles = parse_roles(&record.map(|r| r.roles).unwrap_or_default(), &claims.sub);
        Ok(self.session_tokens(&claims.sub, &roles, &claims.fam, generation))
    }

    /// Ends the session `fam` (every token of that login).
    pub async fn logout(&self, fam: &str) -> Result<(), IdentityError> {
        self.sessions
            .modify(|data| {
                if let Some(mut family) = read_json::<Family>(data, fam, SESSIONS_SECRET) {
                    family.revoked = true;
                    write_json(data, fam, &family);
                }
            })
            .await?;
        Ok(())
    }

    /// The claims of a refresh token (for logging out with it).
    pub fn refresh_claims(&self, token: &str) -> Result<Claims, IdentityError> {
        Ok(self.signer.verify(token, REFRESH_AUDIENCE, now())?)
    }

    /// The caller of an access token whose session is still live.
    pub async fn check_access(&self, token: &str) -> Result<(Caller, String), IdentityError> {
        let claims = self.signer.verify(token, ACCESS_AUDIENCE, now())?;
        let sessions = self.sessions.data().await?;
        let live = read_json::<Family>(&sessions, &claims.fam, SESSIONS_SECRET)
            .is_some_and(|f| !f.revoked && f.user == claims.sub);
        if !live {
            return Err(IdentityError::Revoked);
        }
        let roles = parse_roles(&claims.roles, &claims.sub);
        Ok((Caller { user: claims.sub, groups: Vec::new(), roles }, claims.fam))
    }

    /// A new API key for `owner` with `roles`; the key itself is returned once.
    pub async fn create_key(
        &self,
        owner: &str,
        name: &str,
        roles: &BTreeSet<Role>,
    ) -> Result<(String, String), IdentityError> {
        let id = hex::encode(random_bytes(8));
        let secret = URL_SAFE_NO_PAD.encode(random_bytes(32));
        let key = format!("{API_KEY_PREFIX}{id}_{secret}");
        let record = KeyRecord {
            name: name.into(),
            owner: owner.into(),
            roles: role_names(roles),
            hash: sha256_hex(key.as_bytes()),
            created: now(),
        };
        self.keys.modify(|data| write_json(data, &id, &record)).await?;
        Ok((id, key))
    }

    /// API keys (without their hashes), of `owner` only unless `None`.
    pub async fn list_keys(&self, owner: Option<&str>) -> Result<Vec<(String, KeyRecord)>, IdentityError> {
        let data = self.keys.refresh().await?;
        Ok(data
            .keys()
            .filter_map(|id| Some((id.clone(), read_json::<KeyRecord>(&data, id, KEYS_SECRET)?)))
            .filter(|(_, k)| owner.is_none_or(|o| k.owner == o))
            .map(|(id, mut k)| {
                k.hash.clear();
                (id, k)
            })
            .collect())
    }

    /// Revokes key `id` if `owner` (or anyone, when `None`) owns it; whether it existed.
    pub async fn revoke_key(&self, id: &str, owner: Option<&str>) -> Result<bool, IdentityError> {
        Ok(self
            .keys
            .modify(|data| {
                let owned = read_json::<KeyRecord>(data, id, KEYS_SECRET)
                    .is_some_and(|k| owner.is_none_or(|o| k.owner == o));
                if owned {
                    data.remove(id);
                }
                owned
            })
            .await?)
    }

    /// The caller of an API key.
    pub async fn check_key(&self, key: &str) -> Result<(Caller, String), IdentityError> {
        let id = key
            .strip_prefix(API_KEY_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id)
            .ok_or(IdentityError::BadKey)?;
        let data = self.keys.data().await?;
        let record = read_json::<KeyRecord>(&data, id, KEYS_SECRET).ok_or(IdentityError::BadKey)?;
        let presented = sha256_hex(key.as_bytes());
        // Both are hex SHA-256 digests: compare in constant time all the same.
        if !super::access::same(presented.as_bytes(), record.hash.as_bytes()) {
            return Err(IdentityError::BadKey);
        }
        let roles = parse_roles(&record.roles, &record.owner);
        Ok((Caller { user: record.owner, groups: Vec::new(), roles }, id.to_string()))
    }
}

/// Drops expired families, then the oldest beyond `MAX_SESSIONS` (pure).
fn prune_sessions(data: &mut SecretData, now: u64) {
    let families: BTreeMap<String, Family> = data
        .keys()
        .filter_map(|k| Some((k.clone(), read_json::<Family>(data, k, SESSIONS_SECRET)?)))
        .collect();
    data.retain(|k, _| families.get(k).is_some_and(|f| f.expires > now));
    if data.len() >= MAX_SESSIONS {
        let mut by_expiry: Vec<(&String, u64)> =
            families.iter().filter(|(k, _)| data.contains_key(*k)).map(|(k, f)| (k, f.expires)).collect();
        by_expiry.sort_by_key(|(_, e)| *e);
        let drop: Vec<String> =
            by_expiry.iter().take(data.len() + 1 - MAX_SESSIONS).map(|(k, _)| (*k).clone()).collect();
        for key in drop {
            data.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_checked() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(password_matches("correct horse", Some(&hash)));
        assert!(!password_matches("wrong", Some(&hash)));
        assert!(!password_matches("no such user", None), "an unknown user never matches");
        assert!(!password_matches("x", Some("not a PHC string")));
    }

    #[test]
    fn expired_sessions_are_pruned_and_the_count_is_bounded() {
        let mut data = SecretData::new();
        let family = |expires| Family { user: "u".into(), generation: 0, revoked: false, expires };
        write_json(&mut data, "old", &family(10));
        write_json(&mut data, "live", &family(1000));
        data.insert("garbage".into(), b"{".to_vec());
        prune_sessions(&mut data, 100);
        assert_eq!(data.keys().collect::<Vec<_>>(), ["live"]);
        for i in 0..MAX_SESSIONS + 10 {
            write_json(&mut data, &format!("f{i:05}"), &family(2000 + i as u64));
        }
        prune_sessions(&mut data, 100);
        assert_eq!(data.len(), MAX_SESSIONS - 1, "room for the one being added");
        assert!(data.contains_key(&format!("f{:05}", MAX_SESSIONS + 9)), "the newest stay");
        assert!(!data.contains_key("live"), "the oldest go first");
    }

    #[test]
    fn unknown_roles_are_never_granted() {
        let roles = parse_roles(&["viewer".into(), "root".into()], "alice");
        assert_eq!(roles, [Role::Viewer].into_iter().collect());
    }
}
