//! `/api/v1/auth`: password login, refresh, logout, and API keys. Tokens go back in the
//! body, or, when the dashboard asks for a cookie session, only in HttpOnly cookies
//! (the page never holds them) with a CSRF cookie it echoes on writes.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::access::{ACCESS_COOKIE, ApiError, CSRF_COOKIE, REFRESH_COOKIE, authorize, cookie};
use super::auth::{Role, Route};
use super::identity::{Identity, IdentityError, Tokens};
use super::secrets::random_bytes;

fn identity(state: &AppState) -> Result<&Identity, ApiError> {
    state.identity.as_ref().ok_or_else(|| {
        ApiError::NotFound("password logins and API keys are not enabled (--auth-namespace)".into())
    })
}

fn refused(error: IdentityError) -> ApiError {
    match error {
        IdentityError::Store(error) => {
            tracing::warn!(%error, "the API's Secrets could not be read or written");
            ApiError::Upstream("the session store is not available".into())
        }
        IdentityError::Invalid(message) => ApiError::BadRequest(message),
        other => ApiError::Unauthorized(other.to_string()),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))
}

/// A `Set-Cookie` value.
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    http_only: bool,
) -> HeaderValue {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let text = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite=Strict{http_only}{secure}");
    // Tokens are base64url and hex: always valid header text.
    HeaderValue::from_str(&text).expect("cookie text")
}

/// The tokens as the caller asked for them: in the body, or as cookies.
fn deliver(state: &AppState, tokens: Tokens, as_cookies: bool, refresh_ttl: u64) -> Response {
    if !as_cookies {
        return Json(tokens).into_response();
    }
    let csrf = hex::encode(random_bytes(32));
    let mut response =
        Json(json!({"user": tokens.user, "roles": tokens.roles, "expiresIn": tokens.expires_in}))
            .into_response();
    let headers = response.headers_mut();
    for cookie in [
        set_cookie(state, ACCESS_COOKIE, &tokens.access_token, "/", tokens.expires_in, true),
        set_cookie(state, REFRESH_COOKIE, &tokens.refresh_token, "/api/v1/auth", refresh_ttl, true),
        set_cookie(state, CSRF_COOKIE, &csrf, "/", refresh_ttl, false),
    ] {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
    /// `"cookie"`: deliver the session as cookies (the dashboard).
    #[serde(default)]
    session: Option<String>,
}

/// Logs in with a user name and password from the users Secret.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content = String, description = "JSON: {\"username\", \"password\", \"session\": \"cookie\" (optional)}"),
    responses((status = 200, description = "accessToken, refreshToken, expiresIn, user, roles (or cookies)"), (status = 401, description = "wrong user name or password"), (status = 429, description = "too many attempts from this address")))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let identity = identity(&state)?;
    if let Err(error) = state.limits.check_login(peer.ip()) {
        state.record(None, Route::Login, "-", "denied 429", peer, &headers).await;
        return Err(error);
    }
    let login: Login = json_body(&body)?;
    if login.username.is_empty() || login.username.len() > 256 || login.password.len() > 1024 {
        return Err(ApiError::BadRequest("username: 1 to 256 characters; password: at most 1024".into()));
    }
    let as_cookies = match login.session.as_deref() {
        None => false,
        Some("cookie") => true,
        Some(other) => return Err(ApiError::BadRequest(format!("session: {other:?} is not \"cookie\""))),
    };
    match identity.login(&login.username, &login.password).await {
        Ok(tokens) => {
            let caller = super::auth::Caller {
                user: tokens.user.clone(),
                groups: Vec::new(),
                roles: tokens.roles.iter().filter_map(|r| r.parse().ok()).collect(),
            };
            state.record(Some(&caller), Route::Login, &login.username, "allowed 200", peer, &headers).await;
            Ok(deliver(&state, tokens, as_cookies, state.refresh_ttl))
        }
        Err(error) => {
            let error = refused(error);
            let result = format!("denied {}", error.status().as_u16());
            state.record(None, Route::Login, &login.username, &result, peer, &headers).await;
            Err(error)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

/// The refresh token presented: the refresh cookie when the body is empty (the
/// dashboard), else the body's `refreshToken`; and whether it came as a cookie. None
/// at all is a 401, not a bad request.
fn presented_refresh(headers: &HeaderMap, body: &[u8]) -> Result<(String, bool), ApiError> {
    match cookie(headers, REFRESH_COOKIE) {
        Some(token) if body.is_empty() => Ok((token.to_string(), true)),
        _ if body.is_empty() => Err(ApiError::Unauthorized(
            "no refresh token: send {\"refreshToken\"} or the refresh cookie".into(),
        )),
        _ => Ok((json_body::<Refresh>(body)?.refresh_token, false)),
    }
}

/// Rotates a refresh token (from the body, or the refresh cookie): new access and
/// refresh tokens. A refresh token works once; using it again ends the session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body(content = String, description = "JSON: {\"refreshToken\"}, or none with the refresh cookie"),
    responses((status = 200, description = "new tokens (or cookies)"), (status = 401, description = "expired, revoked or reused refresh token")))]
pub async fn refresh(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let identity = identity(&state)?;
    let (token, as_cookies) = presented_refresh(&headers, &body)?;
    match identity.refresh(&token).await {
        Ok(tokens) => Ok(deliver(&state, tokens, as_cookies, state.refresh_ttl)),
        Err(error) => {
            let error = refused(error);
            let result = format!("denied {}", error.status().as_u16());
            state.record(None, Route::Refresh, "session", &result, peer, &headers).await;
            Err(error)
        }
    }
}

/// Ends the caller's session: its refresh tokens and access tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    request_body(content = String, description = "JSON: {\"refreshToken\"}, or none with the session's cookies"),
    responses((status = 204, description = "the session has ended"), (status = 401, description = "no session")))]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let identity = identity(&state)?;
    let (token, _) = presented_refresh(&headers, &body)?;
    let claims = identity.refresh_claims(&token).map_err(refused)?;
    identity.logout(&claims.fam).await.map_err(refused)?;
    let caller = super::auth::Caller { user: claims.sub, groups: Vec::new(), roles: BTreeSet::new() };
    state.record(Some(&caller), Route::Logout, "session", "allowed 204", peer, &headers).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for (name, path) in [(ACCESS_COOKIE, "/"), (REFRESH_COOKIE, "/api/v1/auth"), (CSRF_COOKIE, "/")] {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, name, "", path, 0, true));
    }
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    roles: Vec<String>,
}

/// Creates an API key for the caller, with some of the caller's roles. The key is
/// shown once; only its SHA-256 is kept.
#[utoipa::path(post, path = "/api/v1/auth/keys", tag = "auth", security(("bearer" = [])),
    request_body(content = String, description = "JSON: {\"name\", \"roles\": [...]}"),
    responses((status = 201, description = "id, key (shown once), name, roles"), (status = 400, description = "a bad name or role"), (status = 403, description = "a role the caller does not have")))]
pub async fn create_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let identity = identity(&state)?;
    let caller = authorize(&state, &headers, peer, Route::ManageKeys, "keys").await?;
    let request: NewKey = json_body(&body)?;
    let name_ok = (1..=64).contains(&request.name.len())
        && request.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c));
    if !name_ok {
        return Err(ApiError::BadRequest("name: 1 to 64 letters, digits, '-', '_', '.' or spaces".into()));
    }
    let mut roles = BTreeSet::new();
    for name in &request.roles {
        let role: Role = name.parse().map_err(|e| ApiError::BadRequest(format!("roles: {e}")))?;
        if !caller.roles.contains(&role) && !caller.roles.contains(&Role::Admin) {
            let message = format!("roles: {} does not have role {name} to give a key", caller.user);
            state.record(Some(&caller), Route::ManageKeys, "keys", "denied 403", peer, &headers).await;
            return Err(ApiError::Forbidden(message));
        }
        roles.insert(role);
    }
    if roles.is_empty() {
        return Err(ApiError::BadRequest("roles: name at least one".into()));
    }
    let (id, key) = identity.create_key(&caller.user, &request.name, &roles).await.map_err(refused)?;
    state.record(Some(&caller), Route::ManageKeys, &format!("key {id}"), "allowed 201", peer, &headers).await;
    let roles: Vec<&str> = roles.iter().map(|r| r.name()).collect();
    Ok((StatusCode::CREATED, Json(json!({"id": id, "key": key, "name": request.name, "roles": roles}))))
}

/// The caller's API keys (an admin's list has everyone's), without the keys.
#[utoipa::path(get, path = "/api/v1/auth/keys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "id, name, owner, roles, created"), (status = 401, description = "no or refused token")))]
pub async fn list_keys(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    let identity = identity(&state)?;
    let caller = authorize(&state, &headers, peer, Route::ManageKeys, "keys").await?;
    let owner = (!caller.roles.contains(&Role::Admin)).then_some(caller.user.as_str());
    let keys = identity.list_keys(owner).await.map_err(refused)?;
    let items: Vec<Value> = keys
        .into_iter()
        .map(|(id, k)| json!({"id": id, "name": k.name, "owner": k.owner, "roles": k.roles, "created": k.created}))
        .collect();
    Ok(Json(json!({"items": items})))
}

/// Revokes one of the caller's API keys (an admin may revoke anyone's).
#[utoipa::path(delete, path = "/api/v1/auth/keys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "the key's id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "no such key of the caller's")))]
pub async fn revoke_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let identity = identity(&state)?;
    let caller = authorize(&state, &headers, peer, Route::ManageKeys, &format!("key {id}")).await?;
    let owner = (!caller.roles.contains(&Role::Admin)).then_some(caller.user.as_str());
    let revoked = identity.revoke_key(&id, owner).await.map_err(refused)?;
    let result = if revoked { "allowed 204" } else { "failed 404" };
    state.record(Some(&caller), Route::ManageKeys, &format!("key {id}"), result, peer, &headers).await;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("API key {id} was not found")))
    }
}

/// Who the caller is (the dashboard asks after loading).
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "user and roles"), (status = 401, description = "no or refused credential")))]
pub async fn me(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&state, &headers, peer, Route::WhoAmI, "self").await?;
    let roles: Vec<&str> = caller.roles.iter().map(|r| r.name()).collect();
    Ok(Json(json!({"user": caller.user, "roles": roles})))
}
