//! Search requests and results: the vocabulary shared by the index (which answers them) and
//! the HTTP API and CLI (which build them from user input).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::event::{Attendance, Audience, Event};

/// Default search radius around a place, in kilometres.
pub const DEFAULT_RADIUS_KM: f64 = 50.0;
/// Maximum page size.
pub const MAX_LIMIT: usize = 100;
/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Soonest first.
    #[default]
    Date,
    /// Nearest first; needs a place.
    Distance,
    /// Best text match first; needs text.
    Relevance,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Sort::Date, Sort::Distance, Sort::Relevance];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Date => "date",
            Sort::Distance => "distance",
            Sort::Relevance => "relevance",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A circle on the Earth: events with coordinates inside it match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoFilter {
    pub latitude: f64,
    pub longitude: f64,
    /// `None` means unlimited: every event with coordinates matches, with its distance.
    pub radius_km: Option<f64>,
}

/// One search, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Free text, matched as plain words against title, description, place and family names.
    pub text: Option<String>,
    pub geo: Option<GeoFilter>,
    /// With a geo filter, also list online events (which have no position).
    pub include_online: bool,
    /// Family codes; empty means all.
    pub workshops: Vec<String>,
    pub attendance: Option<Attendance>,
    pub audience: Option<Audience>,
    /// ISO 639-1 codes; events that declare no language always match.
    pub languages: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// Events starting at or after this instant.
    pub from: DateTime<Utc>,
    /// Events starting before this instant.
    pub to: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

impl SearchQuery {
    /// Every upcoming event, soonest first.
    pub fn upcoming(now: DateTime<Utc>) -> Self {
        SearchQuery {
            text: None,
            geo: None,
            include_online: false,
            workshops: Vec::new(),
            attendance: None,
            audience: None,
            languages: Vec::new(),
            country: None,
            from: now,
            to: None,
            sort: Sort::Date,
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One matching event.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    #[serde(flatten)]
    pub event: Event,
    /// Great-circle distance from the searched place, in kilometres, rounded to 0.1 km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// Counts of matching events by value, over the whole result set (not only the page).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub workshop: BTreeMap<String, u64>,
    pub attendance: BTreeMap<String, u64>,
    pub audience: BTreeMap<String, u64>,
    pub language: BTreeMap<String, u64>,
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Number of matching events over all pages.
    pub total: usize,
    pub events: Vec<Hit>,
    pub facets: Facets,
}

/// Great-circle distance in kilometres (haversine, Earth radius 6371 km).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::{Distance, HaversineMeasure, Point};

    // 6371 km, as the incumbent search uses, so both report the same distances.
    const EARTH: HaversineMeasure = HaversineMeasure::new(6_371_000.0);
    EARTH.distance(Point::new(a.1, a.0), Point::new(b.1, b.0)) / 1000.0
}
