//! Adapters turn the bytes of one feed page into [`Draft`] events and per-event
//! [`Rejection`]s. They know feed formats and nothing else: fetching is left to `fetch`,
//! defaults, text cleaning and places to `normalize`.
//!
//! A whole-feed failure (not JSON, not a calendar) is an [`AdapterError`] so that the caller
//! keeps the source's last good events; one bad entry is only a rejection.

pub mod ics;
mod json;
pub mod jsonld;
pub mod openfresque;
pub mod tuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::event::{Draft, Rejection};

/// The feed formats multifresque reads, as named by `kind` in `sources.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// OpenFresque event feed v1 (JSON, paged with `next`).
    Openfresque,
    /// iCalendar (RFC 5545).
    Ics,
    /// Trouver une Fresque's JSON array of records.
    Tuf,
    /// schema.org `Event` objects in JSON-LD, or in the JSON-LD blocks of an HTML page.
    Jsonld,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Openfresque, Kind::Ics, Kind::Tuf, Kind::Jsonld];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Openfresque => "openfresque",
            Kind::Ics => "ics",
            Kind::Tuf => "tuf",
            Kind::Jsonld => "jsonld",
        }
    }
}

/// What an adapter may need to know about the source it reads.
#[derive(Debug, Clone)]
pub struct Context {
    /// Zone for floating and all-day times when the feed names none.
    pub default_time_zone: Tz,
    /// The time of the fetch; recurrence expansion starts a little before it.
    pub now: DateTime<Utc>,
    /// How far ahead recurring events are expanded, in days.
    pub horizon_days: u32,
}

/// The result of reading one feed page.
#[derive(Debug, Default)]
pub struct Parsed {
    pub drafts: Vec<Draft>,
    pub rejections: Vec<Rejection>,
    /// The next page's URL, for paged formats.
    pub next: Option<String>,
}

/// Why a whole feed page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not a valid {expected} feed: {detail}")]
    WrongFormat {
        expected: &'static str,
        detail: String,
    },
    #[error("feed is empty")]
    Empty,
}

impl From<serde_json::Error> for AdapterError {
    fn from(error: serde_json::Error) -> Self {
        AdapterError::Json {
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }
}

/// Reads one page of a feed of the given kind.
///
/// # Errors
///
/// Returns [`AdapterError`] when the page as a whole is unreadable.
pub fn parse(kind: Kind, bytes: &[u8], context: &Context) -> Result<Parsed, AdapterError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AdapterError::Empty);
    }
    match kind {
        Kind::Openfresque => parse_json(bytes, |text| openfresque::parse(text, context)),
        Kind::Ics => ics::parse(bytes, context),
        Kind::Tuf => parse_json(bytes, |text| tuf::parse(text, context)),
        Kind::Jsonld => jsonld::parse(bytes, context),
    }
}

/// Prepares a JSON body as publishers write it: a UTF-8 byte order mark is skipped, and an
/// invalid byte becomes U+FFFD so that one bad character costs one title, not the feed.
fn parse_json(
    bytes: &[u8],
    parse: impl FnOnce(&[u8]) -> Result<Parsed, AdapterError>,
) -> Result<Parsed, AdapterError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);

    match parse(text.as_bytes()) {
        Err(AdapterError::Json { .. }) if text.trim_start().starts_with('<') => {
            Err(AdapterError::WrongFormat {
                expected: "JSON",
                detail: "the body is HTML or XML, such as an error or login page".to_owned(),
            })
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            default_time_zone: chrono_tz::Europe::Paris,
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
            horizon_days: 365,
        }
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(b"[]");

        assert!(
            parse(Kind::Tuf, &bytes, &context())
                .unwrap()
                .drafts
                .is_empty()
        );
    }

    #[test]
    fn invalid_utf8_costs_one_character() {
        let mut bytes =
            br#"{"openfresque_feed": "1", "events": [{"id": "a", "title": "Fresque "#.to_vec();
        bytes.push(0xFF);
        bytes.extend_from_slice(br#"", "start": "2027-01-14T18:30:00+01:00"}]}"#);

        let parsed = parse(Kind::Openfresque, &bytes, &context()).unwrap();

        assert_eq!(parsed.drafts[0].title, "Fresque \u{fffd}");
    }

    #[test]
    fn html_body_is_named() {
        let error = parse(
            Kind::Openfresque,
            b"<html><body>Maintenance</body></html>",
            &context(),
        )
        .unwrap_err();

        assert!(error.to_string().contains("the body is HTML"), "{error}");
    }
}
