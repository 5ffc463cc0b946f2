//! The data quality report: for each source, how complete its current events are, how
//! they were placed, why entries were rejected and how many were merged with another
//! source's. `multifresque sources report`, `GET /api/v1/sources/quality` and the status
//! page show it; it only reads the store.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::event::{Attendance, Event};
use crate::store::{Store, StoreError};

/// The quality of one source's current (not withdrawn) events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceQuality {
    pub source: String,
    /// Events of the last good fetch that are not withdrawn, past and cancelled included.
    pub events: u64,
    /// Events held on site (in person or mixed): the ones that need a position.
    pub on_site: u64,
    /// On-site events with coordinates, over `on_site`.
    pub with_coordinates: Share,
    pub with_tickets_url: Share,
    pub with_language: Share,
    pub with_end: Share,
    pub with_description: Share,
    /// Where the positions of on-site events come from.
    pub placement: Placement,
    /// Entries of the last parsed fetch that were rejected.
    pub rejected: u64,
    /// Those rejections counted by reason, such as `invalid_start` or `duplicate_event`.
    pub rejections: BTreeMap<String, u64>,
    /// Events merged with the same session from another source.
    pub merged: u64,
}

/// A count of events and its share of the total, from 0 to 1, rounded to 3 decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Share {
    pub count: u64,
    pub share: f64,
}

impl Share {
    fn of(count: u64, total: u64) -> Share {
        let share = if total == 0 {
            0.0
        } else {
            (count as f64 / total as f64 * 1000.0).round() / 1000.0
        };
        Share { count, share }
    }
}

/// Counts of on-site events by the source of their position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// At the venue: coordinates from the feed or an address found by the HTTP geocoder.
    pub exact: u64,
    /// At the town's centre, from the gazetteer or the HTTP geocoder.
    pub city_centre: u64,
    /// Not placed: no coordinates and no town that could be found.
    pub none: u64,
}

/// Computes the report for every source the store has fetched at least once, by source id.
///
/// Blocking: reads SQLite.
///
/// # Errors
///
/// [`StoreError`] when the store cannot be read.
pub fn report(store: &Store) -> Result<Vec<SourceQuality>, StoreError> {
    let statuses = store.source_statuses()?;
    let merged = store.clusters()?.merged_per_source();

    let mut by_source: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    for event in store.current_events()? {
        by_source
            .entry(event.source.clone())
            .or_default()
            .push(event);
    }
    let sources: BTreeSet<String> = statuses
        .iter()
        .map(|status| status.id.clone())
        .chain(by_source.keys().cloned())
        .collect();

    Ok(sources
        .into_iter()
        .map(|source| {
            let events = by_source.remove(&source).unwrap_or_default();
            let mut quality = measure(&source, &events);
            if let Some(status) = statuses.iter().find(|status| status.id == source) {
                quality.rejected = status.events_rejected;
                quality.rejections = status.rejections_by_reason.clone();
            }
            quality.merged = merged.get(&source).copied().unwrap_or(0);
            quality
        })
        .collect())
}

/// Measures the completeness and placement of one source's events.
fn measure(source: &str, events: &[Event]) -> SourceQuality {
    let total = events.len() as u64;
    let count = |test: &dyn Fn(&Event) -> bool| events.iter().filter(|e| test(e)).count() as u64;
    let on_site: Vec<&Event> = events
        .iter()
        .filter(|event| event.attendance != Attendance::Online)
        .collect();

    let mut placement = Placement::default();
    for event in &on_site {
        match (
            event.location.coordinates(),
            event.location.geocoded.as_deref(),
        ) {
            (None, _) => placement.none += 1,
            (Some(_), Some("feed" | "geocoder")) => placement.exact += 1,
            (Some(_), _) => placement.city_centre += 1,
        }
    }
    let on_site_total = on_site.len() as u64;

    SourceQuality {
        source: source.to_owned(),
        events: total,
        on_site: on_site_total,
        with_coordinates: Share::of(placement.exact + placement.city_centre, on_site_total),
        with_tickets_url: Share::of(count(&|e| e.tickets_url.is_some()), total),
        with_language: Share::of(count(&|e| !e.languages.is_empty()), total),
        with_end: Share::of(count(&|e| e.end.is_some()), total),
        with_description: Share::of(count(&|e| !e.description.trim().is_empty()), total),
        placement,
        ..SourceQuality::default()
    }
}

/// Renders the report as a text table for a terminal, followed by the rejections by reason.
pub fn render_table(report: &[SourceQuality]) -> String {
    let percent = |share: Share| format!("{:.0}%", share.share * 100.0);
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "{:<28} {:>6} {:>7} {:>6} {:>5} {:>5} {:>8} {:>9} {:>5} {:>12} {:>7} {:>9}",
        "source",
        "events",
        "placed",
        "exact",
        "city",
        "none",
        "tickets",
        "language",
        "end",
        "description",
        "merged",
        "rejected"
    );
    for source in report {
        let _ = writeln!(
            out,
            "{:<28} {:>6} {:>7} {:>6} {:>5} {:>5} {:>8} {:>9} {:>5} {:>12} {:>7} {:>9}",
            source.source,
            source.events,
            percent(source.with_coordinates),
            source.placement.exact,
            source.placement.city_centre,
            source.placement.none,
            percent(source.with_tickets_url),
            percent(source.with_language),
            percent(source.with_end),
            percent(source.with_description),
            source.merged,
            source.rejected,
        );
    }
    let rejecting: Vec<&SourceQuality> = report
        .iter()
        .filter(|source| !source.rejections.is_empty())
        .collect();
    if !rejecting.is_empty() {
        let _ = writeln!(out, "\nrejections by reason:");
        for source in rejecting {
            let reasons: Vec<String> = source
                .rejections
                .iter()
                .map(|(reason, count)| format!("{reason} {count}"))
                .collect();
            let _ = writeln!(out, "  {:<26} {}", source.source, reasons.join(", "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Audience, Location, Status};

    fn event(id: &str, attendance: Attendance, geocoded: Option<&str>) -> Event {
        let placed = geocoded.is_some();
        Event {
            id: format!("s~{id}"),
            workshop: "FresqueClimat".to_owned(),
            title: "Atelier".to_owned(),
            description: String::new(),
            url: None,
            tickets_url: Some("https://example.org/t".to_owned()),
            start: "2027-03-14T18:30:00+01:00".parse().unwrap(),
            end: None,
            time_zone: "Europe/Paris".to_owned(),
            attendance,
            audience: Audience::GeneralPublic,
            languages: vec!["fr".to_owned()],
            location: Location {
                latitude: placed.then_some(45.76),
                longitude: placed.then_some(4.85),
                geocoded: geocoded.map(str::to_owned),
                ..Location::default()
            },
            capacity: None,
            seats_left: None,
            status: Status::Scheduled,
            price: None,
            updated_at: None,
            source: "s".to_owned(),
            source_event_id: id.to_owned(),
            links: Vec::new(),
        }
    }

    #[test]
    fn placement_counts_on_site_events_only() {
        let events = vec![
            event("a", Attendance::InPerson, Some("feed")),
            event("b", Attendance::InPerson, Some("geocoder")),
            event("c", Attendance::Mixed, Some("gazetteer")),
            event("d", Attendance::InPerson, None),
            event("e", Attendance::Online, None),
        ];

        let quality = measure("s", &events);

        assert_eq!(quality.events, 5);
        assert_eq!(quality.on_site, 4);
        assert_eq!(
            quality.placement,
            Placement {
                exact: 2,
                city_centre: 1,
                none: 1
            }
        );
        assert_eq!(
            quality.with_coordinates,
            Share {
                count: 3,
                share: 0.75
            }
        );
        assert_eq!(quality.with_tickets_url.share, 1.0);
        assert_eq!(quality.with_end.count, 0);
    }

    #[test]
    fn empty_source_has_zero_shares() {
        let quality = measure("s", &[]);

        assert_eq!(
            quality.with_language,
            Share {
                count: 0,
                share: 0.0
            }
        );
    }
}
