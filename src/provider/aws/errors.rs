//! Classifying AWS SDK errors for retries, breakers, conditions and metrics.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;

use crate::provider::ProviderError;
use crate::resilience::{CallClass, GuardError};

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "SlowDown",
];

const AUTH_CODES: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "ExpiredToken",
    "InvalidAccessKeyId",
];

/// How an SDK call failed.
pub fn classify<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> CallClass {
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = context.err().code().unwrap_or_default();
            if status == 429 || THROTTLING_CODES.contains(&code) {
                CallClass::Throttled
            } else if status >= 500 {
                CallClass::Transient
            } else {
                CallClass::Permanent
            }
        }
        SdkError::DispatchFailure(failure) if !(failure.is_io() || failure.is_timeout()) => {
            CallClass::Permanent
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            CallClass::Transient
        }
        _ => CallClass::Permanent,
    }
}

/// A short, secret-free description of an SDK error: code and message, never the
/// request (which carries signed headers).
pub fn describe<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    error: &SdkError<E, HttpResponse>,
) -> (String, String) {
    match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            // Emulators do not always use the service's error body shape; without a
            // parsed code, an authentication status still says what happened.
            let fallback = if matches!(status, 401 | 403) { "AccessDenied" } else { "UnknownError" };
            let code = context.err().code().unwrap_or(fallback).to_string();
            let message = context.err().message().unwrap_or_default();
            (code.clone(), format!("{code} (HTTP {status}): {message}"))
        }
        SdkError::TimeoutError(_) => ("Timeout".into(), "request timed out".into()),
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            ("Unreachable".into(), format!("endpoint unreachable: {}", DisplayErrorContext(error)))
        }
        // Anything else that stops a request before it is sent: most often the
        // credentials could not be resolved (an assume-role hop or token exchange failed).
        SdkError::DispatchFailure(_) => {
            ("CredentialsUnavailable".into(), format!("{}", DisplayErrorContext(error)))
        }
        SdkError::ResponseError(_) => ("BadResponse".into(), "unreadable response from the endpoint".into()),
        _ => ("RequestError".into(), "the request could not be built (check credentials and region)".into()),
    }
}

/// A guarded-call failure as a CamelCase reason and a message.
pub fn reason_and_message<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    error: &GuardError<SdkError<E, HttpResponse>>,
) -> (String, String) {
    match error {
        GuardError::CircuitOpen { .. } => ("CircuitOpen".into(), error.to_string()),
        GuardError::Timeout { .. } => ("Timeout".into(), error.to_string()),
        GuardError::Call(inner) => {
            let (code, message) = describe(inner);
            let reason = match classify(inner) {
                CallClass::Throttled => "Throttled".to_string(),
                _ if AUTH_CODES.contains(&code.as_str()) => "CredentialsRejected".to_string(),
                _ => code,
            };
            (reason, message)
        }
    }
}

/// A guarded-call failure of an identity check as a provider error.
pub fn provider_error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    error: GuardError<SdkError<E, HttpResponse>>,
) -> ProviderError {
    let (reason, message) = reason_and_message(&error);
    match reason.as_str() {
        "CredentialsRejected" | "AccessDenied" | "CredentialsUnavailable" => {
            ProviderError::Unauthorized(message)
        }
        "Throttled" => ProviderError::Throttled(message),
        "Unreachable" | "Timeout" | "CircuitOpen" => ProviderError::Unreachable(message),
        _ => ProviderError::Other(message),
    }
}
