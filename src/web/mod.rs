//! The web front end: the search page at `/`, one page per event with its `.ics` download,
//! the embeddable widget (a script and an iframe page) and their static assets.
//!
//! Pages are rendered on the server with `maud`, which escapes every interpolated value, so
//! text from feeds reaches the browser only as text. JavaScript only enhances them (place
//! suggestions, live update, the map). Searches go through the same parameter parser as the
//! JSON API, so a page URL and an API URL with the same filters find the same events.
//! Every page carries a Content-Security-Policy that allows scripts and styles from this
//! origin only, and images from the OpenStreetMap tile server for the map.

mod assets;
mod event_page;
pub mod i18n;
pub mod ics;
mod layout;
mod query;
mod search_page;
mod widget;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::routing::get;

use crate::http::{ApiError, AppState};

use i18n::Lang;

/// Content-Security-Policy of the pages: nothing runs or loads from elsewhere except map
/// tiles, and no other site may frame them.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https://tile.openstreetmap.org; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Content-Security-Policy of the widget's iframe page: no script at all, and any site may
/// frame it, because embedding is its purpose.
const WIDGET_FRAME_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'none'; base-uri 'none'; frame-ancestors *";

/// Cache lifetime of a page, in seconds: the same as a search API response.
const PAGE_CACHE_CONTROL: &str = "public, max-age=60";

/// Builds the routes of the pages, the widget and the static assets, which
/// `http::router` merges.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search_page::search_page))
        .route("/evenements/{id}", get(event_page::event_page))
        .route("/evenements/{id}/agenda.ics", get(event_page::event_ics))
        .route("/widget", get(widget::widget_frame))
        .route("/widget/theme.css", get(widget::widget_theme))
        .route("/widget.js", get(assets::widget_script))
        .route("/static/{*path}", get(assets::static_asset))
}

/// Chooses the interface language: `hl` when it names a supported language, else the
/// browser's preference, else French.
fn interface_language(hl: Option<&str>, headers: &HeaderMap) -> Lang {
    hl.and_then(Lang::parse).unwrap_or_else(|| {
        Lang::negotiate(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
    })
}

/// Headers every HTML page carries: its policy, caching and the headers it varies on.
fn page_headers(csp: &'static str, lang: Lang) -> [(header::HeaderName, HeaderValue); 6] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(PAGE_CACHE_CONTROL),
        ),
        (header::VARY, HeaderValue::from_static("Accept-Language")),
        (
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.code()),
        ),
    ]
}

/// Runs blocking work (tantivy, SQLite) on the blocking pool and maps its failure to a 500.
async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ApiError::internal(&error)),
        Err(error) => Err(ApiError::internal(&error)),
    }
}

/// Returns the path of an event's page. Event ids are URL-safe by construction, but
/// encoding them anyway keeps a link correct whatever a future id contains.
pub fn event_path(id: &str) -> String {
    format!("/evenements/{}", encode_path_segment(id))
}

/// Percent-encodes every byte outside the unreserved set of RFC 3986.
fn encode_path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Serializes a value as JSON that is safe inside an HTML `<script>` element: `<`, `>` and
/// `&` become `\u` escapes, so no text from a feed can close the element or open a comment.
fn json_for_script(value: &serde_json::Value) -> String {
    let json = value.to_string();
    let mut safe = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\u{2028}' => safe.push_str("\\u2028"),
            '\u{2029}' => safe.push_str("\\u2029"),
            c => safe.push(c),
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_path_encodes_reserved_bytes() {
        assert_eq!(event_path("src~abc-1.2_3"), "/evenements/src~abc-1.2_3");
        assert_eq!(event_path("a/b c"), "/evenements/a%2Fb%20c");
    }

    #[test]
    fn json_for_script_cannot_close_the_element() {
        let value = serde_json::json!({"title": "</script><img src=x onerror=alert(1)>&"});

        let json = json_for_script(&value);

        assert!(!json.contains('<'), "{json}");
        assert!(!json.contains('>'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
    }
}
