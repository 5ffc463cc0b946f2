//! Trouver une Fresque's record: the flat JSON object per session that the incumbent
//! publishes and its web front end reads, with the integer `workshop_type`, boolean audience
//! flags and coordinates as strings.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::event::{Attendance, Audience, Event, Status};

/// Length given to a session whose feed has no end: the usual length of a fresque workshop,
/// because the incumbent's records always carry an end.
const DEFAULT_LENGTH_HOURS: i64 = 3;

/// One record, field for field as the incumbent writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// `{workshop_type}-{id}`.
    pub id: String,
    pub workshop_type: u32,
    pub title: String,
    pub description: String,
    /// ISO 8601 with the offset of the session's zone.
    pub start_date: String,
    pub end_date: String,
    pub online: bool,
    pub training: bool,
    pub kids: bool,
    pub sold_out: bool,
    /// Name, street, postal code and city, and country name, joined by commas; empty online.
    pub full_location: String,
    pub location_name: String,
    pub address: String,
    pub city: String,
    /// French department or Swiss canton code, or null when unknown.
    pub department: Option<String>,
    pub zip_code: String,
    /// Lower-case ISO 3166-1 alpha-2.
    pub country_code: String,
    /// Degrees as text, empty when the session has no position.
    pub latitude: String,
    pub longitude: String,
    /// ISO 639-1, `fr` when the session declares no language.
    pub language_code: String,
    pub source_link: String,
    pub tickets_link: String,
    /// When multifresque last saw the session change.
    pub scrape_date: String,
}

/// Builds the record of `event`, or `None` when its family has no integer id in the catalog, since
/// the incumbent's front end can show only the families it numbers.
pub fn record(event: &Event, catalog: &Catalog, seen_at: DateTime<Utc>) -> Option<Record> {
    let workshop_type = catalog.get(&event.workshop)?.legacy_id?;
    let online = event.attendance == Attendance::Online;
    let location = &event.location;
    let text = |value: &Option<String>| {
        if online {
            String::new()
        } else {
            value.clone().unwrap_or_default()
        }
    };
    let coordinate = |value: Option<f64>| match value {
        Some(degrees) if !online => degrees.to_string(),
        _ => String::new(),
    };
    let end = event
        .end
        .unwrap_or(event.start + Duration::hours(DEFAULT_LENGTH_HOURS));
    let country = location.country.as_deref().unwrap_or("FR");

    Some(Record {
        id: format!("{workshop_type}-{}", event.id),
        workshop_type,
        title: event.title.clone(),
        description: event.description.clone(),
        start_date: event.start.to_rfc3339_opts(SecondsFormat::Secs, false),
        end_date: end.to_rfc3339_opts(SecondsFormat::Secs, false),
        online,
        training: event.audience == Audience::Training,
        kids: event.audience == Audience::Kids,
        sold_out: event.status == Status::SoldOut || event.seats_left == Some(0),
        full_location: if online {
            String::new()
        } else {
            full_location(event, country)
        },
        location_name: text(&location.name),
        address: text(&location.street),
        city: text(&location.city),
        department: if online {
            None
        } else {
            department(event, country)
        },
        zip_code: text(&location.postal_code),
        country_code: country.to_ascii_lowercase(),
        latitude: coordinate(location.latitude),
        longitude: coordinate(location.longitude),
        language_code: event
            .languages
            .first()
            .cloned()
            .unwrap_or_else(|| "fr".to_owned()),
        source_link: event.url.clone().unwrap_or_default(),
        tickets_link: event
            .tickets_url
            .clone()
            .or_else(|| event.url.clone())
            .unwrap_or_default(),
        scrape_date: event
            .updated_at
            .unwrap_or(seen_at)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

fn full_location(event: &Event, country: &str) -> String {
    let location = &event.location;
    let town = [location.postal_code.as_deref(), location.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        location.name.clone(),
        location.street.clone(),
        (!town.is_empty()).then_some(town),
        country_name(country).map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// Returns the French name the incumbent writes after the address, for the countries it covers.
fn country_name(code: &str) -> Option<&'static str> {
    match code {
        "FR" => Some("France"),
        "CH" => Some("Suisse"),
        "BE" => Some("Belgique"),
        "LU" => Some("Luxembourg"),
        "GB" => Some("Royaume-Uni"),
        "DE" => Some("Allemagne"),
        "ES" => Some("Espagne"),
        "IT" => Some("Italie"),
        "CA" => Some("Canada"),
        _ => None,
    }
}

/// Derives the French department from the postal code (`69003` → `69`, `20000` → `2A`, `97411` →
/// `974`), or for Switzerland a canton code the feed gave as region.
pub fn department(event: &Event, country: &str) -> Option<String> {
    let location = &event.location;
    match country {
        "FR" => {
            let code = location.postal_code.as_deref()?.trim();
            if code.len() != 5 || !code.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            Some(match &code[..2] {
                "20" if code < "20200" => "2A".to_owned(),
                "20" => "2B".to_owned(),
                "97" | "98" => code[..3].to_owned(),
                prefix => prefix.to_owned(),
            })
        }
        "CH" => location
            .region
            .as_deref()
            .filter(|region| region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase),
        _ => None,
    }
}
