//! Conditional requests for every `GET` response: a weak `ETag` computed from the body, and
//! `304 Not Modified` when the client's `If-None-Match` (or, without it, its
//! `If-Modified-Since` against the response's `Last-Modified`) shows it already has it.
//!
//! Hashing the body after the handler ran saves bandwidth, not work; handlers stay simple
//! and the tag is always right. Compression runs after this layer, so the tag is weak: it
//! names the content, not the bytes of one encoding.

use std::sync::OnceLock;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};

use super::AppState;
use crate::normalize::fnv1a;

/// Largest body tagged, in bytes; a larger one is sent as it is. The compatibility export of
/// every event stays below it.
const MAX_TAGGED_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Headers a 304 repeats from the full response (RFC 9110, section 15.4.5).
const KEPT_ON_304: [header::HeaderName; 5] = [
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::EXPIRES,
    header::VARY,
    header::LAST_MODIFIED,
];

/// When this process started serving: content that does not come from the store, such as the
/// catalog or this program's pages, can change only across restarts.
static STARTED_AT: OnceLock<DateTime<Utc>> = OnceLock::new();

/// Records the start of serving; later calls keep the first time.
pub fn mark_start() {
    STARTED_AT.get_or_init(Utc::now);
}

/// Tags successful `GET` and `HEAD` responses, adds `Last-Modified` where the handler set
/// none, and responds 304 when the client's copy is current. A handler that has already
/// computed its body's tag (see [`weak_tag`]) sets `ETag` itself, which saves hashing the
/// body.
pub async fn conditional(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let conditions = request.headers().clone();
    let response = next.run(request).await;
    if !(method == Method::GET || method == Method::HEAD)
        || response.status() != StatusCode::OK
        || is_no_store(response.headers())
    {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    let (tag, body) = match parts
        .headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        Some(tag) => (tag.to_owned(), body),
        None => {
            let bytes = match to_bytes(body, MAX_TAGGED_BODY_BYTES).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    tracing::warn!(%error, "response body too large or unreadable to tag");
                    return super::ApiError::internal(&error).into_response();
                }
            };
            let tag = weak_tag(&bytes);
            if let Ok(value) = HeaderValue::from_str(&tag) {
                parts.headers.insert(header::ETAG, value);
            }
            (tag, Body::from(bytes))
        }
    };
    if !parts.headers.contains_key(header::LAST_MODIFIED)
        && let Ok(value) = HeaderValue::from_str(&http_date(last_change(&state)))
    {
        parts.headers.insert(header::LAST_MODIFIED, value);
    }

    if not_modified(&conditions, &tag, parts.headers.get(header::LAST_MODIFIED)) {
        let mut answer = StatusCode::NOT_MODIFIED.into_response();
        for name in KEPT_ON_304.iter().chain([&header::ETAG]) {
            if let Some(value) = parts.headers.get(name) {
                answer.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return answer;
    }
    Response::from_parts(parts, body)
}

/// Computes the weak entity tag of a body, which names the content whatever its encoding.
pub fn weak_tag(body: &[u8]) -> String {
    format!("W/\"{:016x}\"", fnv1a(body))
}

/// The later of the store's last change and the start of serving.
fn last_change(state: &AppState) -> DateTime<Utc> {
    let started = STARTED_AT.get().copied().unwrap_or_else(Utc::now);
    let changed = Utc
        .timestamp_millis_opt(state.store.changed_at_ms())
        .single()
        .unwrap_or(started);
    changed.max(started)
}

/// Formats a time as an HTTP date (RFC 9110, section 5.6.7).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn is_no_store(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"))
}

/// Checks whether the client's copy is current. `If-None-Match` wins over `If-Modified-Since`, and
/// tags compare weakly, as RFC 9110 requires for GET.
fn not_modified(conditions: &HeaderMap, tag: &str, last_modified: Option<&HeaderValue>) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if let Some(list) = conditions
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return list
            .split(',')
            .any(|candidate| candidate.trim() == "*" || opaque(candidate) == opaque(tag));
    }
    let since = conditions
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    let modified = last_modified
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    matches!((since, modified), (Some(since), Some(modified)) if modified <= since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_static(value));
        map
    }

    #[test]
    fn weak_tags_match_strong_ones() {
        let tag = "W/\"00aa\"";

        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "\"00aa\""),
            tag,
            None
        ));
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "\"x\", W/\"00aa\""),
            tag,
            None
        ));
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "*"),
            tag,
            None
        ));
        assert!(!not_modified(
            &headers(header::IF_NONE_MATCH, "\"00ab\""),
            tag,
            None
        ));
    }

    #[test]
    fn modified_since_compares_dates() {
        let last = HeaderValue::from_static("Fri, 04 Dec 2026 20:00:00 GMT");
        let later = headers(header::IF_MODIFIED_SINCE, "Fri, 04 Dec 2026 21:00:00 GMT");
        let earlier = headers(header::IF_MODIFIED_SINCE, "Fri, 04 Dec 2026 19:00:00 GMT");

        assert!(not_modified(&later, "W/\"1\"", Some(&last)));
        assert!(!not_modified(&earlier, "W/\"1\"", Some(&last)));
        assert!(!not_modified(&later, "W/\"1\"", None));
    }
}
