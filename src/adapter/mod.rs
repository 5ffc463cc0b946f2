//! Adapters turn the bytes of one feed page into [`Draft`] events and per-event
//! [`Rejection`]s. They know feed formats and nothing else: fetching is left to `fetch`,
//! defaults, text cleaning and places to `normalize`.
//!
//! A whole-feed failure (not JSON, not a calendar) is an [`AdapterError`] so that the caller
//! keeps the source's last good events; one bad entry is only a rejection.

pub mod ics;
mod json;
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
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Openfresque, Kind::Ics, Kind::Tuf];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Openfresque => "openfresque",
            Kind::Ics => "ics",
            Kind::Tuf => "tuf",
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
    #[error("not a {expected} feed: {detail}")]
    WrongFormat {
        expected: &'static str,
        detail: String,
    },
    #[error("feed is empty")]
    Empty,
    /// JSON must be UTF-8 (RFC 8259); calendars are read lossily instead.
    #[error("not valid UTF-8 at byte {offset} (line {line}): save the feed as UTF-8")]
    Encoding { offset: usize, line: usize },
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
        Kind::Openfresque => openfresque::parse(json_text(bytes)?, context),
        Kind::Ics => ics::parse(bytes, context),
        Kind::Tuf => tuf::parse(json_text(bytes)?, context),
    }
}

/// The bytes of a JSON feed once checked to be UTF-8, without the byte order mark that
/// Windows tools write and JSON parsers refuse.
fn json_text(bytes: &[u8]) -> Result<&[u8], AdapterError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(bytes),
        Err(error) => {
            let offset = error.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            Err(AdapterError::Encoding { offset, line })
        }
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
    fn json_feed_with_invalid_utf8_names_the_byte() {
        let bytes = b"[\n{\"id\": \"a\", \"title\": \"Caf\xe9\"}]";

        let error = parse(Kind::Tuf, bytes, &context()).unwrap_err();

        assert!(
            matches!(
                error,
                AdapterError::Encoding {
                    offset: 27,
                    line: 2
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn json_feed_may_start_with_a_byte_order_mark() {
        let parsed = parse(Kind::Tuf, b"\xEF\xBB\xBF[]", &context()).unwrap();

        assert!(parsed.drafts.is_empty());
    }
}
