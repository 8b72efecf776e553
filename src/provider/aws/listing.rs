//! Paging through an AWS list operation: one call per page, never one per resource,
//! each call through the account guard (rate limit, breaker, retries, timeout).

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::errors::{classify, reason_and_message};
use crate::resilience::{GuardError, RegionGuard};

/// The most pages one listing follows: 2 million instances at 1,000 a page. A cloud
/// (or proxy) that never stops handing out tokens ends here, with a failure.
pub const MAX_PAGES: usize = 2_000;

/// Why a listing stopped.
pub enum ListError<E> {
    Call(Box<GuardError<SdkError<E, HttpResponse>>>),
    /// The API returned a token it had returned before: following it would loop.
    TokenRepeated {
        operation: &'static str,
        pages: usize,
    },
    /// More than `MAX_PAGES` pages.
    TooManyPages {
        operation: &'static str,
    },
}

/// Fetches every page of a list operation of `service`. `page` gets the continuation
/// token (NextToken, Marker) and returns one page's items and the next token.
pub async fn paginate<T, E, F, Fut>(
    guard: &RegionGuard<'_>,
    service: &'static str,
    operation: &'static str,
    mut page: F,
) -> Result<Vec<T>, ListError<E>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), SdkError<E, HttpResponse>>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for pages in 1..=MAX_PAGES {
        let (batch, next) = guard
            .call(service, operation, classify, || page(token.clone()))
            .await
            .map_err(|e| ListError::Call(Box::new(e)))?;
        items.extend(batch);
        match next {
            Some(next) if !next.is_empty() => {
                if !seen.insert(next.clone()) {
                    return Err(ListError::TokenRepeated { operation, pages });
                }
                token = Some(next);
            }
            _ => return Ok(items),
        }
    }
    Err(ListError::TooManyPages { operation })
}

/// Why a listing failed: a CamelCase reason and a secret-free message.
pub fn failure<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    error: ListError<E>,
) -> (String, String) {
    match error {
        ListError::Call(error) => reason_and_message(&error),
        ListError::TokenRepeated { operation, pages } => (
            "PaginationLoop".to_string(),
            format!(
                "{operation} returned a NextToken it had already returned (after {pages} pages); the listing was stopped"
            ),
        ),
        ListError::TooManyPages { operation } => (
            "PaginationLoop".to_string(),
            format!("{operation} was still returning pages after {MAX_PAGES}; the listing was stopped"),
        ),
    }
}

/// Reads at once where a listing must read per resource (no list call returns what is
/// compared: S3 bucket settings, ECR tags and policies, OIDC providers).
pub const PER_RESOURCE_CONCURRENCY: usize = 16;

/// One call to `service` under the guard. An error whose code is one of `absent` is the
/// API's way of saying "nothing configured" (`NoSuchBucketPolicy`): `None`.
pub async fn call_optional<T, E, F, Fut>(
    guard: &RegionGuard<'_>,
    service: &'static str,
    operation: &'static str,
    absent: &[&str],
    send: F,
) -> Result<Option<T>, (String, String)>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    match guard.call(service, operation, classify, send).await {
        Ok(out) => Ok(Some(out)),
        Err(GuardError::Call(error))
            if error.as_service_error().and_then(|e| e.code()).is_some_and(|code| absent.contains(&code)) =>
        {
            Ok(None)
        }
        Err(error) => Err(failure(ListError::Call(Box::new(error)))),
    }
}

/// Runs `read` for every item, `PER_RESOURCE_CONCURRENCY` at a time, and keeps what it
/// found; the first failure fails the listing.
pub async fn read_each<I, T, F, Fut>(
    items: impl IntoIterator<Item = I>,
    read: F,
) -> Result<Vec<T>, (String, String)>
where
    F: FnMut(I) -> Fut,
    Fut: Future<Output = Result<Option<T>, (String, String)>>,
{
    use futures::StreamExt;
    let reads = futures::stream::iter(items).map(read).buffer_unordered(PER_RESOURCE_CONCURRENCY);
    let results: Vec<_> = reads.collect().await;
    results.into_iter().filter_map(Result::transpose).collect()
}
