//! Compute and Resource Manager REST calls: every call through the account guard
//! (rate limit, breaker, retries, timeout), lists followed by `pageToken` at the
//! largest page size the API allows, one call per page and never one per resource.

use serde_json::Value;

use super::GcpProvider;
use crate::provider::{DiscoveryFailure, ProviderError};
use crate::resilience::{CallClass, GuardError};

/// The largest `maxResults` Compute accepts.
pub const PAGE_SIZE: u32 = 500;

/// The most pages one listing follows (a million resources at 500 a page). An API (or
/// proxy) that never stops handing out tokens ends here, with a failure.
pub const MAX_PAGES: usize = 2_000;

/// How one call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The API answered with an error status; `reason` is its error status
    /// (`PERMISSION_DENIED`) when the body names one.
    #[error("HTTP {status} {reason}: {message}")]
    Status { status: u16, reason: String, message: String },
    #[error("endpoint unreachable: {0}")]
    Unreachable(String),
    #[error("the credentials could not be turned into a token: {0}")]
    Token(String),
    #[error("unreadable response: {0}")]
    BadResponse(String),
}

/// Whether a failed call may succeed when retried.
pub fn classify(error: &CallError) -> CallClass {
    match error {
        CallError::Status { status: 429, .. } => CallClass::Throttled,
        CallError::Status { status, reason, .. } if *status == 403 && reason.contains("RATE_LIMIT") => {
            CallClass::Throttled
        }
        CallError::Status { status, .. } if *status >= 500 => CallClass::Transient,
        CallError::Unreachable(_) => CallClass::Transient,
        _ => CallClass::Permanent,
    }
}

/// A guarded-call failure as a CamelCase reason (the metric label and condition
/// reason) and a message without credentials.
pub fn reason_and_message(error: &GuardError<CallError>) -> (String, String) {
    let reason = match error {
        GuardError::CircuitOpen { .. } => "CircuitOpen",
        GuardError::Timeout { .. } => "Timeout",
        GuardError::Call(call) => match call {
            CallError::Status { status: 401, .. } | CallError::Token(_) => "CredentialsRejected",
            CallError::Status { status: 403, .. } if classify(call) == CallClass::Throttled => "Throttled",
            CallError::Status { status: 403, .. } => "AccessDenied",
            CallError::Status { status: 404, .. } => "NotFound",
            CallError::Status { status: 429, .. } => "Throttled",
            CallError::Status { .. } => "ServerError",
            CallError::Unreachable(_) => "Unreachable",
            CallError::BadResponse(_) => "BadResponse",
        },
    };
    (reason.to_string(), error.to_string())
}

/// A guarded-call failure as a provider error.
pub fn provider_error(error: GuardError<CallError>) -> ProviderError {
    let (reason, message) = reason_and_message(&error);
    match reason.as_str() {
        "CredentialsRejected" | "AccessDenied" => ProviderError::Unauthorized(message),
        "Throttled" => ProviderError::Throttled(message),
        "Unreachable" | "Timeout" | "CircuitOpen" => ProviderError::Unreachable(message),
        _ => ProviderError::Other(message),
    }
}

/// Why a listing stopped.
pub enum ListError {
    Call(GuardError<CallError>),
    /// The API returned a token it had returned before: following it would loop.
    TokenRepeated {
        pages: usize,
    },
    TooManyPages,
}

impl ListError {
    /// The failure of `scope` (`global/<type>`) for the report.
    pub fn failure(self, scope: String, what: &str) -> DiscoveryFailure {
        let (reason, message) = match self {
            ListError::Call(error) => {
                let (reason, message) = reason_and_message(&error);
                (reason, format!("{what}: {message}"))
            }
            ListError::TokenRepeated { pages } => (
                "PaginationLoop".into(),
                format!(
                    "{what} returned a pageToken it had already returned (after {pages} pages); the listing was stopped"
                ),
            ),
            ListError::TooManyPages => (
                "PaginationLoop".into(),
                format!("{what} was still returning pages after {MAX_PAGES}; the listing was stopped"),
            ),
        };
        DiscoveryFailure { scope, reason, message }
    }
}

impl GcpProvider {
    /// GET `url` with the account's token, as JSON.
    async fn get_once(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, CallError> {
        let token = self.auth.bearer(&self.http).await.map_err(|e| CallError::Token(e.to_string()))?;
        let response = self
            .http
            .get(url)
            .query(query)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| CallError::Unreachable(describe(e)))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| CallError::BadResponse(describe(e)))?;
        if status >= 400 {
            return Err(status_error(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| CallError::BadResponse(e.to_string()))
    }

    /// GET `url` through the guard.
    pub async fn get(
        &self,
        service: &'static str,
        operation: &'static str,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, GuardError<CallError>> {
        self.settings.guard.call(service, operation, classify, || self.get_once(url, query)).await
    }

    /// Every page of a Compute list (`items` an array) or aggregated list (`items` a
    /// map of scope to `{<field>: [...]}`); returns the pages' `items` values.
    pub async fn list_pages(&self, operation: &'static str, url: &str) -> Result<Vec<Value>, ListError> {
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        let size = PAGE_SIZE.to_string();
        for page in 1..=MAX_PAGES {
            let mut query = vec![("maxResults", size.as_str())];
            if let Some(token) = &token {
                query.push(("pageToken", token));
            }
            if operation.starts_with("aggregated") {
                // A zone that cannot be listed comes back as a warning, not a failed list.
                query.push(("returnPartialSuccess", "true"));
            }
            let mut body = self.get("compute", operation, url, &query).await.map_err(ListError::Call)?;
            if let Some(items) = body.get_mut("items") {
                pages.push(items.take());
            }
            match body.get("nextPageToken").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                Some(next) => {
                    if !seen.insert(next.to_string()) {
                        return Err(ListError::TokenRepeated { pages: page });
                    }
                    token = Some(next.to_string());
                }
                None => return Ok(pages),
            }
        }
        Err(ListError::TooManyPages)
    }
}

/// A Google error body (`{"error": {"code", "message", "status"}}`) as a call error.
fn status_error(status: u16, body: &[u8]) -> CallError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text =
        |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut reason = text("status");
    if let Some(detail) = error
        .and_then(|e| e.get("errors"))
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .and_then(|first| first.get("reason"))
        .and_then(Value::as_str)
        .filter(|r| r.to_ascii_lowercase().contains("ratelimit"))
    {
        reason = format!("RATE_LIMIT_EXCEEDED ({detail})");
    }
    let message: String = text("message").chars().take(300).collect();
    CallError::Status { status, reason, message }
}

/// A reqwest error with its causes (`connection refused`), without the URL.
pub fn describe(error: reqwest::Error) -> String {
    with_causes(&error.without_url())
}

/// An error and its causes, outermost first: the cause says what failed (a refused
/// connection, the token endpoint's answer).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
