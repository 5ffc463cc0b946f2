//! Export endpoints, each honouring the filters of `GET /api/v1/events`:
//!
//! - `GET /api/v1/feed`: the OpenFresque feed v1, paged with a cursor, with `updated_since`,
//!   so that another multifresque can follow this one;
//! - `GET /api/v1/trouver-une-fresque`: every matching session in Trouver une Fresque's
//!   record shape, one JSON array, as its front end expects;
//! - `GET /api/v1/events.ics` and `GET /api/v1/events.atom`: a search as a calendar to
//!   subscribe to and as an Atom feed.

use std::collections::HashSet;

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeZone, Utc};
use tower_http::cors::{Any, CorsLayer};

use super::error::ApiError;
use super::params::{self, EventSearch};
use super::{AppState, blocking};
use crate::export::{self, atom, ics, openfresque, tuf};
use crate::search::{SearchQuery, SearchResults, Sort};
use crate::store::{FeedEvent, FeedScan};

/// Default and largest page of the aggregated feed, in events. The feed format advises
/// pages under about 1,000 events.
const FEED_PAGE: usize = 500;
const MAX_FEED_PAGE: usize = 1_000;
/// Default and largest number of sessions in a calendar subscription.
const CALENDAR_EVENTS: usize = 500;
const MAX_CALENDAR_EVENTS: usize = 2_000;
/// Largest number of records of the compatibility endpoint; by default it lists every match,
/// as the incumbent does.
const MAX_RECORDS: usize = 100_000;
/// How long caches may keep an export.
const EXPORT_CACHE_CONTROL: &str = "public, max-age=60";
/// Longest accepted cursor, in bytes.
const MAX_CURSOR_BYTES: usize = 400;

/// Builds the export routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/feed", get(feed))
        .route("/api/v1/trouver-une-fresque", get(trouver_une_fresque))
        .route("/api/v1/events.ics", get(calendar))
        .route("/api/v1/events.atom", get(atom_feed))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD]),
        )
}

/// A search parsed from a query string that may also hold `limit` with other bounds, and
/// parameters of the export's own.
struct ExportSearch {
    search: EventSearch,
    /// Values of the export's own parameters, by name.
    extra: Vec<(String, String)>,
}

/// Parses the search filters with [`params::parse_event_search`], after taking out `limit`
/// (checked against `max_limit`) and the `extra` parameters the endpoint adds.
fn parse_search(
    raw: &str,
    state: &AppState,
    extra: &[&str],
    refused: &[&str],
    default_limit: usize,
    max_limit: usize,
) -> Result<ExportSearch, ApiError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let accepted: Vec<&str> = params::EVENT_PARAMETERS
        .iter()
        .copied()
        .filter(|name| *name != "limit" && !refused.contains(name))
        .chain(extra.iter().copied())
        .chain(["limit"])
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !accepted.contains(&name.as_str()))
    {
        return Err(ApiError::invalid(
            name,
            format!("unknown parameter {name:?}"),
            &accepted,
        ));
    }

    let limit = match params::single(&pairs, "limit")? {
        None => default_limit,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max_limit).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!("invalid limit {text:?}"),
                    &[&format!("an integer from 1 to {max_limit}")],
                )
            })?,
    };
    let (own, filters): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(name, _)| name == "limit" || extra.contains(&name.as_str()));
    let filters = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&filters)
        .finish();

    let mut search = params::parse_event_search(&filters, &state.gazetteer, Utc::now())?;
    search.query.limit = limit;
    Ok(ExportSearch {
        search,
        extra: own
            .into_iter()
            .filter(|(name, _)| name != "limit")
            .collect(),
    })
}

/// Runs a search on the index.
async fn run(state: &AppState, query: SearchQuery) -> Result<SearchResults, ApiError> {
    let index = state.index.clone();
    blocking(move || index.search(&query)).await
}

/// When the events last changed: the store's last change, or now before any.
fn changed_at(state: &AppState) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(state.store.changed_at_ms())
        .single()
        .filter(|at| at.timestamp() > 0)
        .unwrap_or_else(Utc::now)
}

/// Returns `Last-Modified` and `Cache-Control` for a response built from the events.
fn data_headers(state: &AppState) -> [(header::HeaderName, String); 2] {
    [
        (
            header::LAST_MODIFIED,
            super::caching::http_date(changed_at(state)),
        ),
        (header::CACHE_CONTROL, EXPORT_CACHE_CONTROL.to_owned()),
    ]
}

// --- The aggregated feed ------------------------------------------------------------------

async fn feed(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let parsed = parse_search(
        &raw,
        &state,
        &["after", "updated_since"],
        &["sort", "offset"],
        FEED_PAGE,
        MAX_FEED_PAGE,
    )?;
    let query = parsed.search.query;
    let value = |name: &str| {
        parsed
            .extra
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let after = value("after").map(|text| parse_cursor(&text)).transpose()?;
    let changed_since = value("updated_since")
        .map(|text| params::date_time("updated_since", &text))
        .transpose()?;

    // The index matches the text, and the other filters are checked on each event.
    let text_matches = match &query.text {
        None => None,
        Some(_) => {
            let mut all = query.clone();
            all.sort = Sort::Date;
            all.offset = 0;
            all.limit = usize::try_from(state.index.num_docs())
                .unwrap_or(usize::MAX)
                .max(1);
            let results = run(&state, all).await?;
            Some(
                results
                    .events
                    .into_iter()
                    .map(|hit| hit.event.id)
                    .collect::<HashSet<String>>(),
            )
        }
    };

    let store = state.store.clone();
    let index = state.index.clone();
    let limit = query.limit;
    let scan = FeedScan {
        after,
        start_from: query.from.timestamp(),
        start_before: query.to.map(|to| to.timestamp()),
        changed_since,
        limit: limit.max(100),
    };
    let filter = query.clone();
    let mut page = blocking(move || {
        let merged = Merged {
            index: &index,
            clusters: store.clusters()?,
        };
        collect_page(
            &store,
            scan,
            limit + 1,
            &filter,
            text_matches.as_ref(),
            &merged,
        )
    })
    .await?;

    let next = if page.len() > limit {
        page.truncate(limit);
        page.last().map(|last| next_link(&raw, &last.key))
    } else {
        None
    };
    let mut workshops: Vec<String> = state.catalog.all().iter().map(|w| w.code.clone()).collect();
    for event in &page {
        if !workshops.contains(&event.event.workshop) {
            workshops.push(event.event.workshop.clone());
        }
    }
    let publisher = openfresque::Publisher {
        name: "multifresque".to_owned(),
        url: None,
        workshops,
    };
    let body = openfresque::Page::new(publisher, changed_at(&state), next, &page);
    Ok((data_headers(&state), Json(body)).into_response())
}

/// The sessions that several sources list, so the feed publishes each once, merged, as
/// search does.
struct Merged<'a> {
    index: &'a crate::index::Index,
    clusters: crate::dedup::Clusters,
}

impl Merged<'_> {
    /// Replaces a current event by the merged session it leads, or returns `false` when
    /// another source's event leads its session and this one must be left out. Withdrawn
    /// events stay as they are, so followers withdraw them too.
    fn apply(&self, row: &mut FeedEvent) -> Result<bool, FeedError> {
        if row.withdrawn_at.is_some() {
            return Ok(true);
        }
        if self.clusters.cluster_of(&row.event.id) != row.event.id {
            return Ok(false);
        }
        if let Some(merged) = self.index.event(&row.event.id)? {
            row.event = merged;
        }
        Ok(true)
    }
}

/// Why a feed page could not be read.
#[derive(Debug, thiserror::Error)]
enum FeedError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
}

/// Reads events from the store in feed order until `wanted` pass the filters.
fn collect_page(
    store: &crate::store::Store,
    mut scan: FeedScan,
    wanted: usize,
    query: &SearchQuery,
    text_matches: Option<&HashSet<String>>,
    merged: &Merged<'_>,
) -> Result<Vec<FeedEvent>, FeedError> {
    let mut page = Vec::new();
    loop {
        let rows = store.feed_events(&scan)?;
        let exhausted = rows.len() < scan.limit;
        scan.after = rows.last().map(|row| row.key.clone()).or(scan.after);
        for mut row in rows {
            if !merged.apply(&mut row)? {
                continue;
            }
            let searchable = row.withdrawn_at.is_none() && row.event.is_searchable();
            let text_ok = match text_matches {
                None => true,
                // Cancelled and withdrawn events are not in the index; they are listed when
                // they pass the other filters, which costs a consumer nothing.
                Some(ids) => !searchable || ids.contains(&row.event.id),
            };
            if text_ok && export::filter::matches(query, &row.event) {
                page.push(row);
                if page.len() == wanted {
                    return Ok(page);
                }
            }
        }
        if exhausted {
            return Ok(page);
        }
    }
}

/// Encodes the cursor after an event: its start in Unix seconds, a dot, and its id.
fn cursor(key: &(i64, String)) -> String {
    format!("{}.{}", key.0, key.1)
}

fn parse_cursor(text: &str) -> Result<(i64, String), ApiError> {
    let invalid = || {
        ApiError::invalid(
            "after",
            format!(
                "invalid cursor {:?}",
                text.chars().take(60).collect::<String>()
            ),
            &["the value of `after` in a `next` link of this feed"],
        )
    };
    if text.len() > MAX_CURSOR_BYTES {
        return Err(invalid());
    }
    let (start, id) = text.split_once('.').ok_or_else(invalid)?;
    let start: i64 = start.parse().map_err(|_| invalid())?;
    if id.is_empty() {
        return Err(invalid());
    }
    Ok((start, id.to_owned()))
}

/// Builds the next page's link: this page's query with `after` set to the last event's
/// cursor.
fn next_link(raw: &str, last: &(i64, String)) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if name != "after" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("after", &cursor(last));
    format!("/api/v1/feed?{}", query.finish())
}

// --- Trouver une Fresque compatibility ----------------------------------------------------

async fn trouver_une_fresque(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let parsed = parse_search(
        &raw.unwrap_or_default(),
        &state,
        &[],
        &[],
        MAX_RECORDS,
        MAX_RECORDS,
    )?;
    let mut query = parsed.search.query;
    query.limit = query.limit.min(
        usize::try_from(state.index.num_docs())
            .unwrap_or(usize::MAX)
            .max(1),
    );

    let results = run(&state, query).await?;
    let seen_at = changed_at(&state);
    let records: Vec<tuf::Record> = results
        .events
        .iter()
        .filter_map(|hit| tuf::record(&hit.event, &state.catalog, seen_at))
        .collect();
    Ok((data_headers(&state), Json(records)).into_response())
}

// --- Calendar and Atom --------------------------------------------------------------------

async fn calendar(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let parsed = parse_search(
        &raw.unwrap_or_default(),
        &state,
        &[],
        &[],
        CALENDAR_EVENTS,
        MAX_CALENDAR_EVENTS,
    )?;
    let name = match &parsed.search.place {
        Some(place) => format!("Fresques près de {}", place.name),
        None => "Fresques".to_owned(),
    };
    let results = run(&state, parsed.search.query).await?;
    let events: Vec<_> = results.events.into_iter().map(|hit| hit.event).collect();
    let body = ics::calendar(&name, &events, changed_at(&state));
    let headers = data_headers(&state);
    Ok((
        headers,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"multifresque.ics\"",
            ),
        ],
        body,
    )
        .into_response())
}

async fn atom_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let parsed = parse_search(&raw, &state, &[], &[], 50, crate::search::MAX_LIMIT)?;
    let title = match &parsed.search.place {
        Some(place) => format!("Fresques près de {}", place.name),
        None => "Fresques".to_owned(),
    };
    let results = run(&state, parsed.search.query).await?;
    let events: Vec<_> = results.events.into_iter().map(|hit| hit.event).collect();

    let base = base_url(&headers);
    let suffix = if raw.is_empty() {
        String::new()
    } else {
        format!("?{raw}")
    };
    let self_url = format!("{base}/api/v1/events.atom{suffix}");
    let alternate_url = format!("{base}/api/v1/events{suffix}");
    let info = atom::FeedInfo {
        title: &title,
        self_url: &self_url,
        alternate_url: &alternate_url,
        base_url: &base,
        updated: changed_at(&state),
    };
    let body = atom::feed(&info, &events);
    Ok((
        data_headers(&state),
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

/// Returns the service's base URL as the client reached it: `X-Forwarded-Proto` (set by a reverse
/// proxy) or `http`, and the `Host` header when it is a plain host name and port.
fn base_url(headers: &HeaderMap) -> String {
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.len() <= 255
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let key = (1_800_000_000, "fresque-du-climat~fdc.1".to_owned());

        assert_eq!(parse_cursor(&cursor(&key)).unwrap(), key);
        assert!(parse_cursor("abc").is_err());
        assert!(parse_cursor("12.").is_err());
    }

    #[test]
    fn next_link_replaces_after() {
        let link = next_link("near=Lyon&after=1.a&limit=2", &(5, "b~c".to_owned()));

        assert_eq!(link, "/api/v1/feed?near=Lyon&limit=2&after=5.b%7Ec");
    }

    #[test]
    fn base_url_ignores_odd_hosts() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("evil.org/<script>"));

        assert_eq!(base_url(&headers), "http://localhost");
    }
}
