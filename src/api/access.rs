//! Every request's way in: who is calling (a session's access token, an API key, or a
//! Kubernetes token checked with a TokenReview; as a bearer token or, for the
//! dashboard, a cookie), whether the role table lets them, and whether they are within
//! their rate. Cookie-authenticated writes must also carry the CSRF token
//! (double-submit), and every refusal is audited.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use tracing::warn;

use super::AppState;
use super::auth::{AuthError, Caller, Route, allowed, bearer, review_cached};
use super::identity::{API_KEY_PREFIX, IdentityError};
use super::tokens::is_ours;

/// The dashboard's session cookie (an access token; HttpOnly).
pub const ACCESS_COOKIE: &str = "driftmgr_access";
/// The dashboard's refresh cookie (HttpOnly, sent to /api/v1/auth only).
pub const REFRESH_COOKIE: &str = "driftmgr_refresh";
/// The CSRF cookie, readable by the page, which echoes it in `X-CSRF-Token`.
pub const CSRF_COOKIE: &str = "driftmgr_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An error as the API answers it: a status and `{"error": Reason, "message": ...}`.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    TooManyRequests(Duration),
    Upstream(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (reason, message) = match self {
            Self::Unauthorized(m) => ("Unauthorized", m),
            Self::Forbidden(m) => ("Forbidden", m),
            Self::BadRequest(m) => ("BadRequest", m),
            Self::NotFound(m) => ("NotFound", m),
            Self::Conflict(m) => ("Conflict", m),
            Self::TooManyRequests(wait) => {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let body = Json(
                    json!({"error": "TooManyRequests", "message": format!("too many requests; retry in {seconds} s")}),
                );
                return (status, [(header::RETRY_AFTER, seconds.max(1).to_string())], body).into_response();
            }
            Self::Upstream(m) => ("KubernetesError", m),
        };
        let body = Json(json!({"error": reason, "message": message}));
        if status == StatusCode::UNAUTHORIZED {
            return (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (status, body).into_response()
    }
}

/// Per-IP, per-user and per-IP login-attempt rate limits.
pub struct Limits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<String>,
    logins: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(per_second: u32) -> Quota {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(rate)
}

impl Limits {
    pub fn new(per_ip: u32, per_user: u32, logins_per_minute: u32) -> Self {
        let logins = NonZeroU32::new(logins_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            per_ip: RateLimiter::keyed(quota(per_ip)),
            per_user: RateLimiter::keyed(quota(per_user)),
            logins: RateLimiter::keyed(Quota::per_minute(logins).allow_burst(logins)),
        }
    }

    fn wait(outcome: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>) -> Result<(), ApiError> {
        outcome.map_err(|not_until| {
            ApiError::TooManyRequests(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        Self::wait(self.per_ip.check_key(&ip))
    }

    pub fn check_user(&self, user: &str) -> Result<(), ApiError> {
        Self::wait(self.per_user.check_key(&user.to_string()))
    }

    pub fn check_login(&self, ip: IpAddr) -> Result<(), ApiError> {
        Self::wait(self.logins.check_key(&ip))
    }

    /// Forgets keys that are back to full quota, so the limiters stay small.
    pub fn shrink(&self) {
        self.per_ip.retain_recent();
        self.per_user.retain_recent();
        self.logins.retain_recent();
    }
}

/// Whether two secrets are equal, compared in constant time.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The caller's credential: the bearer token, else the session cookie.
fn credential(headers: &HeaderMap) -> Result<&str, AuthError> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match bearer(header) {
        Ok(token) => Ok(token),
        Err(missing) => cookie(headers, ACCESS_COOKIE).ok_or(missing),
    }
}

/// Refuses a cookie-authenticated request that changes something without the CSRF
/// token (double-submit: the page reads the CSRF cookie and sends it back as a header,
/// which another site's page cannot do). Requests with an Authorization header carry
/// no ambient credential and need none.
pub async fn csrf_guard(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let uses_cookie = headers.get(header::AUTHORIZATION).is_none()
        && (cookie(headers, ACCESS_COOKIE).is_some() || cookie(headers, REFRESH_COOKIE).is_some());
    if !safe && uses_cookie {
        let expected = cookie(headers, CSRF_COOKIE).unwrap_or_default();
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let matches = !expected.is_empty() && same(expected.as_bytes(), sent.as_bytes());
        if !matches {
            return ApiError::Forbidden(format!(
                "a cookie session must send the {CSRF_COOKIE} cookie's value in {CSRF_HEADER}"
            ))
            .into_response();
        }
    }
    next.run(request).await
}

/// Answers 429 to an address past its rate, before anything else is done for it.
pub async fn ip_limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let Some(ip) = peer
        && let Err(error) = state.limits.check_ip(ip)
    {
        return error.into_response();
    }
    next.run(request).await
}

/// The request id (set by the request-id layer), for the audit trail.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string()
}

/// Authenticates the request and checks the role table for `route`. A refusal is
/// recorded in the audit trail.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    route: Route,
    target: &str,
) -> Result<Caller, ApiError> {
    let outcome = check(state, headers, route).await;
    if let Err((caller, error)) = &outcome {
        let status = error.status().as_u16();
        state.record(caller.as_ref(), route, target, &format!("denied {status}"), peer, headers).await;
    }
    outcome.map_err(|(_, error)| error)
}

/// Who the credential belongs to.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = credential(headers).map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let own = |result: Result<(Caller, String), IdentityError>| match result {
        Ok((caller, _)) => Ok(caller),
        Err(IdentityError::Store(error)) => {
            warn!(%error, "the API's Secrets could not be read");
            Err(ApiError::Upstream("the credential could not be checked".into()))
        }
        Err(error) => Err(ApiError::Unauthorized(error.to_string())),
    };
    match &state.identity {
        Some(identity) if token.starts_with(API_KEY_PREFIX) => own(identity.check_key(token).await),
        Some(identity) if is_ours(token) => own(identity.check_access(token).await),
        _ => match review_cached(&state.client, &state.reviews, token, &state.bindings).await {
            Ok(caller) => Ok(caller),
            Err(AuthError::Review(error)) => {
                warn!(%error, "TokenReview failed");
                Err(ApiError::Upstream("the token could not be checked".into()))
            }
            Err(error) => Err(ApiError::Unauthorized(error.to_string())),
        },
    }
}

async fn check(
    state: &AppState,
    headers: &HeaderMap,
    route: Route,
) -> Result<Caller, (Option<Caller>, ApiError)> {
    let caller = authenticate(state, headers).await.map_err(|e| (None, e))?;
    if let Err(error) = state.limits.check_user(&caller.user) {
        return Err((Some(caller), error));
    }
    if !allowed(route, &caller.roles) {
        let roles =
            if caller.roles.is_empty() { "no role".to_string() } else { format!("roles {:?}", caller.roles) };
        let message = format!("{} has {roles}, which may not {route:?}", caller.user);
        return Err((Some(caller), ApiError::Forbidden(message)));
    }
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; driftmgr_access=tok; b=".parse().expect("header"));
        headers.append(header::COOKIE, "driftmgr_csrf=c".parse().expect("header"));
        assert_eq!(cookie(&headers, ACCESS_COOKIE), Some("tok"));
        assert_eq!(cookie(&headers, CSRF_COOKIE), Some("c"));
        assert_eq!(cookie(&headers, "b"), None, "empty is absent");
        assert_eq!(credential(&headers).ok(), Some("tok"));
        headers.insert(header::AUTHORIZATION, "Bearer header-token".parse().expect("header"));
        assert_eq!(credential(&headers).ok(), Some("header-token"), "the header wins");
    }

    #[test]
    fn rates_are_limited_per_key_with_a_wait() {
        let limits = Limits::new(2, 1, 1);
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        assert!(limits.check_ip(ip).is_ok() && limits.check_ip(ip).is_ok());
        let Err(ApiError::TooManyRequests(wait)) = limits.check_ip(ip) else { panic!("third in a second") };
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limits.check_ip("10.0.0.2".parse().expect("ip")).is_ok(), "per address");
        assert!(
            limits.check_user("a").is_ok()
                && limits.check_user("a").is_err()
                && limits.check_user("b").is_ok()
        );
        assert!(limits.check_login(ip).is_ok());
        let Err(ApiError::TooManyRequests(wait)) = limits.check_login(ip) else {
            panic!("one login a minute")
        };
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        let response = ApiError::TooManyRequests(Duration::from_millis(1500)).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
