//! Pages of the OpenFresque feed v1 written by an aggregator: every event in the shared
//! schema, which already uses the feed's field names, plus `source`, `source_event_id`,
//! `location.geocoded` and, for events listed because they changed, `withdrawn_at`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::FeedEvent;

/// The feed version written.
pub const VERSION: &str = "1";

/// One page of the feed.
#[derive(Debug, Serialize)]
pub struct Page<'a> {
    pub openfresque_feed: &'static str,
    pub publisher: Publisher,
    /// When the events last changed: every page of one state of the store carries the same
    /// value.
    pub generated_at: DateTime<Utc>,
    /// The next page, relative to this one; `None` on the last page.
    pub next: Option<String>,
    pub events: &'a [FeedEvent],
}

/// The publisher of the aggregated feed.
#[derive(Debug, Serialize)]
pub struct Publisher {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every family code of the catalog and of the events served.
    pub workshops: Vec<String>,
}

impl<'a> Page<'a> {
    pub fn new(
        publisher: Publisher,
        generated_at: DateTime<Utc>,
        next: Option<String>,
        events: &'a [FeedEvent],
    ) -> Page<'a> {
        Page {
            openfresque_feed: VERSION,
            publisher,
            generated_at,
            next,
            events,
        }
    }
}
