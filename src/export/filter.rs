//! The non-text filters of a [`SearchQuery`] checked on one [`Event`], with the same rules
//! as the index: a place filter keeps events within the radius (and online ones when asked),
//! a language filter keeps events that declare no language, and dates bound the start.
//!
//! The aggregated feed uses it for cancelled and withdrawn events, which the index does not
//! hold.

use crate::event::{Attendance, Event};
use crate::search::{SearchQuery, distance_km};

/// Checks whether `event` passes every filter of `query` except the free text.
pub fn matches(query: &SearchQuery, event: &Event) -> bool {
    // Whole seconds, as the index stores starts.
    let start = event.start_utc().timestamp();
    if start < query.from.timestamp() || query.to.is_some_and(|to| start >= to.timestamp()) {
        return false;
    }
    if !query.workshops.is_empty() && !query.workshops.contains(&event.workshop) {
        return false;
    }
    if query.attendance.is_some_and(|a| a != event.attendance)
        || query.audience.is_some_and(|a| a != event.audience)
    {
        return false;
    }
    if !query.languages.is_empty()
        && !event.languages.is_empty()
        && !event.languages.iter().any(|l| query.languages.contains(l))
    {
        return false;
    }
    if let Some(country) = &query.country
        && !event
            .location
            .country
            .as_deref()
            .is_some_and(|code| code.eq_ignore_ascii_case(country))
    {
        return false;
    }
    match &query.geo {
        None => true,
        Some(geo) => match event.location.coordinates() {
            Some(position) => geo.radius_km.is_none_or(|radius| {
                distance_km((geo.latitude, geo.longitude), position) <= radius
            }),
            None => query.include_online && event.attendance == Attendance::Online,
        },
    }
}
