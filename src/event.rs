//! The shared event schema: the normalized [`Event`] that the store, the index and the API
//! share, and the looser [`Draft`] that adapters produce before normalization.
//!
//! An [`Event`] serializes with the field names of the OpenFresque feed v1, so the API, the
//! aggregated feed and the stored JSON are one shape.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a participant attends a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    InPerson,
    Online,
    Mixed,
}

impl Attendance {
    pub const ALL: [Attendance; 3] = [Attendance::InPerson, Attendance::Online, Attendance::Mixed];

    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::InPerson => "in_person",
            Attendance::Online => "online",
            Attendance::Mixed => "mixed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// Who a session is for. Feeds may send values this version does not know; those are
/// rejected per event by the adapter, never for the whole feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    GeneralPublic,
    /// Facilitator training.
    Training,
    Kids,
    Companies,
}

impl Audience {
    pub const ALL: [Audience; 4] = [
        Audience::GeneralPublic,
        Audience::Training,
        Audience::Kids,
        Audience::Companies,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::GeneralPublic => "general_public",
            Audience::Training => "training",
            Audience::Kids => "kids",
            Audience::Companies => "companies",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// Whether a session still takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Scheduled,
    Cancelled,
    Postponed,
    SoldOut,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Scheduled,
        Status::Cancelled,
        Status::Postponed,
        Status::SoldOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Cancelled => "cancelled",
            Status::Postponed => "postponed",
            Status::SoldOut => "sold_out",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Where a session happens. Every field is optional because feeds give what they have.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// WGS 84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// WGS 84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Source of the coordinates: `feed` (given by the source), `geocoder` (street address
    /// found by the operator's HTTP geocoder), `gazetteer` (town centre from the embedded
    /// gazetteer) or `geocoder_city` (town centre from the HTTP geocoder). Absent when there
    /// are no coordinates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geocoded: Option<String>,
}

impl Location {
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }

    pub fn is_empty(&self) -> bool {
        *self == Location::default()
    }
}

/// What a seat costs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    #[serde(default)]
    pub free: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// ISO 4217 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// One normalized session, as stored, indexed and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Global id: the source id, a `~`, then the publisher's id when it is URL-safe or a
    /// stable hash of it otherwise. Stable across runs for the same feed entry.
    pub id: String,
    /// Workshop family code from the catalog, or the feed's own code for a family the
    /// catalog does not know yet.
    pub workshop: String,
    pub title: String,
    /// Plain text, HTML removed.
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets_url: Option<String>,
    /// Start with the UTC offset in force at that instant in `time_zone`.
    pub start: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// IANA zone name, such as `Europe/Paris`.
    pub time_zone: String,
    pub attendance: Attendance,
    pub audience: Audience,
    /// ISO 639-1 codes, lower case. Empty when unknown.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Location::is_empty")]
    pub location: Location,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats_left: Option<u32>,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The source this event came from (multifresque's addition to the feed format).
    pub source: String,
    /// The publisher's own id for this event, unique within `source`.
    pub source_event_id: String,
    /// Every source that lists this session, highest merge priority first. The store keeps
    /// each source's events as their feeds gave them, so it is empty there. It is filled on
    /// the events that search serves, where one session listed by several sources is merged
    /// into one event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// A source's listing of a session: its event id and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The source id, as in `sources.toml`.
    pub source: String,
    /// The global id of that source's event.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tickets_url: Option<String>,
}

impl Event {
    pub fn start_utc(&self) -> DateTime<Utc> {
        self.start.with_timezone(&Utc)
    }

    /// Whether participants should find this event in search: withdrawn events never reach
    /// this point, cancelled ones stay reachable by id only.
    pub fn is_searchable(&self) -> bool {
        self.status != Status::Cancelled
    }
}

/// A start or end time as a feed wrote it, before time zones are resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// An instant with its offset (RFC 3339, iCalendar UTC or TZID times).
    Instant(DateTime<FixedOffset>),
    /// A wall-clock time in the event's zone (iCalendar floating time, feeds without offset).
    Local(NaiveDateTime),
    /// A whole day (iCalendar `VALUE=DATE`).
    Date(NaiveDate),
}

impl std::fmt::Display for When {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            When::Instant(at) => write!(f, "{}", at.to_rfc3339()),
            When::Local(local) => write!(f, "{} (local time)", local.format("%Y-%m-%dT%H:%M:%S")),
            When::Date(day) => write!(f, "{}", day.format("%Y-%m-%d")),
        }
    }
}

/// An event as an adapter read it: the feed's own values, before normalization fills in
/// defaults, cleans text and resolves places.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The publisher's id, unique within the source (for expanded recurrences, the series id
    /// plus the occurrence start).
    pub source_event_id: String,
    /// Family code or legacy integer id as written by the feed; `None` means the source's
    /// default family.
    pub workshop: Option<String>,
    pub title: String,
    /// Plain text or HTML.
    pub description: Option<String>,
    pub url: Option<String>,
    pub tickets_url: Option<String>,
    pub start: Option<When>,
    pub end: Option<When>,
    /// IANA zone name given by the feed; `None` means the source's default zone.
    pub time_zone: Option<String>,
    pub attendance: Option<Attendance>,
    pub audience: Option<Audience>,
    pub languages: Vec<String>,
    pub location: Location,
    /// A free-text location line (iCalendar `LOCATION`) that normalization may split into
    /// place fields or recognise as a video-call link.
    pub location_text: Option<String>,
    pub capacity: Option<u32>,
    pub seats_left: Option<u32>,
    pub status: Option<Status>,
    pub price: Option<Price>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Free labels (iCalendar `CATEGORIES`) that may name a family, a language or an audience.
    pub categories: Vec<String>,
}

/// Why one entry of a feed was not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The publisher's id when the entry had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Stable machine-readable reason, such as `missing_start` or `invalid_time_zone`.
    pub reason: String,
    /// What was wrong, for people, naming the offending value.
    pub detail: String,
}

impl Rejection {
    pub fn new(event_id: Option<&str>, reason: &str, detail: impl Into<String>) -> Self {
        Rejection {
            event_id: event_id.filter(|id| !id.is_empty()).map(str::to_owned),
            reason: reason.to_owned(),
            detail: detail.into(),
        }
    }
}
