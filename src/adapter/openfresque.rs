//! OpenFresque event feed v1 adapter: one JSON page of events, linked to the next page by
//! `next`. Following the links is left to `fetch`, which bounds the number of pages.

use serde_json::Value;

use super::json::{self, Object};
use super::{AdapterError, Context, Parsed};
use crate::event::{Attendance, Audience, Draft, Location, Price, Rejection, Status, When};

/// The feed versions this adapter reads.
const SUPPORTED_VERSION: &str = "1";

/// Reads one page of an OpenFresque feed.
///
/// # Errors
///
/// Returns [`AdapterError`] when the page is not JSON, not a v1 feed, or has no `events` list.
pub fn parse(bytes: &[u8], _context: &Context) -> Result<Parsed, AdapterError> {
    let document: Value = serde_json::from_slice(bytes)?;
    let Value::Object(page) = document else {
        return Err(wrong_format(format!(
            "the document is {}, not an object",
            json::kind(&document)
        )));
    };

    match page.get("openfresque_feed") {
        Some(Value::String(version)) if version == SUPPORTED_VERSION => {}
        Some(other) => {
            return Err(wrong_format(format!(
                "unsupported openfresque_feed version {other}, expected \"1\""
            )));
        }
        None => return Err(wrong_format("missing `openfresque_feed`".to_owned())),
    }
    let Some(Value::Array(entries)) = page.get("events") else {
        return Err(wrong_format("missing `events` array".to_owned()));
    };
    let next = match page.get("next") {
        Some(Value::String(next)) if !next.trim().is_empty() => Some(next.trim().to_owned()),
        _ => None,
    };

    let mut parsed = Parsed {
        next,
        ..Parsed::default()
    };
    for entry in entries {
        match read_event(entry) {
            Ok(draft) => parsed.drafts.push(draft),
            Err(rejection) => parsed.rejections.push(rejection),
        }
    }
    Ok(parsed)
}

/// The `next` link of a page, read without building its events, so that an unchanged feed
/// can be recognised before it is parsed. `None` for the last page or an unreadable one.
pub fn next_link(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        next: Option<String>,
    }

    let head: Head = serde_json::from_slice(bytes).ok()?;
    head.next
        .map(|next| next.trim().to_owned())
        .filter(|next| !next.is_empty())
}

fn wrong_format(detail: String) -> AdapterError {
    AdapterError::WrongFormat {
        expected: "OpenFresque v1",
        detail,
    }
}

fn read_event(entry: &Value) -> Result<Draft, Rejection> {
    let (fields, source_event_id, title) = json::entry_head(entry, "an event")?;
    let reject =
        |reason: &str, detail: String| Rejection::new(Some(&source_event_id), reason, detail);
    let invalid = |detail: String| reject("invalid_field", detail);

    let start = instant(fields, "start").map_err(|d| reject("invalid_start", d))?;
    if start.is_none() {
        return Err(reject("missing_start", "`start` is missing".to_owned()));
    }

    Ok(Draft {
        source_event_id: source_event_id.clone(),
        workshop: json::text(fields, "workshop").map_err(invalid)?,
        title,
        description: json::text(fields, "description").map_err(invalid)?,
        url: json::text(fields, "url").map_err(invalid)?,
        tickets_url: json::text(fields, "tickets_url").map_err(invalid)?,
        start,
        end: instant(fields, "end").map_err(|d| reject("invalid_end", d))?,
        time_zone: json::text(fields, "time_zone").map_err(invalid)?,
        attendance: enum_field(
            fields,
            "attendance",
            Attendance::parse,
            "in_person, online, mixed",
        )
        .map_err(|d| reject("invalid_attendance", d))?,
        audience: enum_field(
            fields,
            "audience",
            Audience::parse,
            "general_public, training, kids, companies",
        )
        .map_err(|d| reject("invalid_audience", d))?,
        languages: languages(fields).map_err(invalid)?,
        location: match json::object(fields, "location") {
            Ok(Some(location)) => {
                read_location(location).map_err(|d| reject("invalid_location", d))?
            }
            Ok(None) => Location::default(),
            Err(detail) => return Err(reject("invalid_location", detail)),
        },
        capacity: json::count(fields, "capacity").map_err(invalid)?,
        seats_left: json::count(fields, "seats_left").map_err(invalid)?,
        status: enum_field(
            fields,
            "status",
            Status::parse,
            "scheduled, cancelled, postponed, sold_out",
        )
        .map_err(|d| reject("invalid_status", d))?,
        price: match json::object(fields, "price").map_err(invalid)? {
            Some(price) => Some(read_price(price).map_err(invalid)?),
            None => None,
        },
        updated_at: json::instant(fields, "updated_at").map_err(invalid)?,
        ..Draft::default()
    })
}

/// A start or end: the format requires an offset, because a bare local time is ambiguous.
fn instant(fields: &Object, key: &str) -> Result<Option<When>, String> {
    match json::when(fields, key)? {
        None => Ok(None),
        Some(at @ When::Instant(_)) => Ok(Some(at)),
        Some(_) => Err(format!(
            "`{key}` has no UTC offset: write it as 2027-03-14T18:30:00+01:00"
        )),
    }
}

fn enum_field<T>(
    fields: &Object,
    key: &str,
    parse: fn(&str) -> Option<T>,
    accepted: &str,
) -> Result<Option<T>, String> {
    match json::text(fields, key)? {
        None => Ok(None),
        Some(value) => parse(&value)
            .map(Some)
            .ok_or_else(|| format!("`{key}` has unknown value {value:?}; accepted: {accepted}")),
    }
}

fn read_location(fields: &Object) -> Result<Location, String> {
    let location = Location {
        name: json::text(fields, "name")?,
        street: json::text(fields, "street")?,
        postal_code: json::text(fields, "postal_code")?,
        city: json::text(fields, "city")?,
        region: json::text(fields, "region")?,
        country: json::text(fields, "country")?,
        latitude: json::number(fields, "latitude")?,
        longitude: json::number(fields, "longitude")?,
        geocoded: None,
    };

    if let Some(country) = &location.country
        && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Err(format!(
            "`country` {country:?} is not an ISO 3166-1 alpha-2 code such as \"FR\""
        ));
    }
    match (location.latitude, location.longitude) {
        (Some(latitude), _) if !(-90.0..=90.0).contains(&latitude) => {
            Err(format!("`latitude` {latitude} is outside -90 to 90"))
        }
        (_, Some(longitude)) if !(-180.0..=180.0).contains(&longitude) => {
            Err(format!("`longitude` {longitude} is outside -180 to 180"))
        }
        (Some(_), None) | (None, Some(_)) => {
            Err("give both `latitude` and `longitude`, or neither".to_owned())
        }
        _ => Ok(location),
    }
}

/// ISO 639-1 codes; a region subtag such as `fr-BE` is accepted and dropped later.
fn languages(fields: &Object) -> Result<Vec<String>, String> {
    let codes = json::strings(fields, "languages")?;
    for code in &codes {
        let primary = code.split(['-', '_']).next().unwrap_or("");
        if primary.len() != 2 || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "`languages` contains {code:?}, not an ISO 639-1 code such as \"fr\""
            ));
        }
    }
    Ok(codes)
}

fn read_price(fields: &Object) -> Result<Price, String> {
    let price = Price {
        free: json::boolean(fields, "free")?.unwrap_or(false),
        min: json::number(fields, "min")?,
        max: json::number(fields, "max")?,
        currency: json::text(fields, "currency")?,
    };

    for (name, amount) in [("min", price.min), ("max", price.max)] {
        if let Some(amount) = amount
            && amount < 0.0
        {
            return Err(format!("`price.{name}` {amount} is negative"));
        }
    }
    if let Some(currency) = &price.currency
        && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()))
    {
        return Err(format!(
            "`price.currency` {currency:?} is not an ISO 4217 code such as \"EUR\""
        ));
    }
    Ok(price)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        Context {
            default_time_zone: chrono_tz::Europe::Paris,
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
            horizon_days: 365,
        }
    }

    fn page(events: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "openfresque_feed": "1",
            "publisher": {"name": "Test", "url": "https://example.org", "workshops": ["FresqueClimat"]},
            "generated_at": "2026-12-01T00:00:00Z",
            "next": "page-2.json",
            "events": events,
        }))
        .unwrap()
    }

    #[test]
    fn full_event_is_read() {
        let bytes = page(json!([{
            "id": "evt-1", "workshop": "FresqueClimat", "title": "Fresque du Climat à Lyon",
            "description": "<p>Venez !</p>", "url": "https://example.org/e/1",
            "tickets_url": "https://example.org/t/1",
            "start": "2027-01-14T18:30:00+01:00", "end": "2027-01-14T21:30:00+01:00",
            "time_zone": "Europe/Paris", "attendance": "in_person", "audience": "training",
            "languages": ["fr", "en"],
            "location": {"name": "MJC", "city": "Lyon", "postal_code": "69003", "country": "FR",
                          "latitude": 45.76, "longitude": 4.85},
            "capacity": 14, "seats_left": 3, "status": "scheduled",
            "price": {"free": false, "min": 10, "max": 25, "currency": "EUR"},
            "updated_at": "2026-11-30T10:00:00Z",
            "some_future_field": {"ignored": true}
        }]));

        let parsed = parse(&bytes, &context()).unwrap();

        assert_eq!(parsed.rejections, vec![]);
        assert_eq!(parsed.next.as_deref(), Some("page-2.json"));
        let draft = &parsed.drafts[0];
        assert_eq!(draft.source_event_id, "evt-1");
        assert!(matches!(draft.start, Some(When::Instant(_))));
        assert_eq!(draft.audience, Some(Audience::Training));
        assert_eq!(draft.location.latitude, Some(45.76));
        assert_eq!(draft.seats_left, Some(3));
        assert_eq!(draft.price.as_ref().unwrap().max, Some(25.0));
    }

    #[test]
    fn invalid_event_is_rejected_alone() {
        let bytes = page(json!([
            {"id": "ok", "title": "Fresque", "start": "2027-01-14T18:30:00+01:00"},
            {"id": "bad-start", "title": "Fresque", "start": "demain"},
            {"id": "no-offset", "title": "Fresque", "start": "2027-01-14T18:30:00"},
            {"id": "no-title", "start": "2027-01-14T18:30:00+01:00"},
            {"title": "no id", "start": "2027-01-14T18:30:00+01:00"},
            {"id": "bad-attendance", "title": "F", "start": "2027-01-14T18:30:00+01:00", "attendance": "hybrid"},
            {"id": "negative", "title": "F", "start": "2027-01-14T18:30:00+01:00", "seats_left": -1},
            "not an object"
        ]));

        let parsed = parse(&bytes, &context()).unwrap();
        let reasons: Vec<(Option<&str>, &str)> = parsed
            .rejections
            .iter()
            .map(|r| (r.event_id.as_deref(), r.reason.as_str()))
            .collect();

        assert_eq!(parsed.drafts.len(), 1);
        assert_eq!(
            reasons,
            vec![
                (Some("bad-start"), "invalid_start"),
                (Some("no-offset"), "invalid_start"),
                (Some("no-title"), "missing_title"),
                (None, "missing_id"),
                (Some("bad-attendance"), "invalid_attendance"),
                (Some("negative"), "invalid_field"),
                (None, "not_an_object"),
            ]
        );
    }

    #[test]
    fn field_rejections_use_the_specified_reasons() {
        let cases = [
            (json!({"audience": "seniors"}), "invalid_audience"),
            (json!({"status": "maybe"}), "invalid_status"),
            (json!({"location": "Lyon"}), "invalid_location"),
            (json!({"location": {"country": "fra"}}), "invalid_location"),
            (
                json!({"location": {"latitude": 91, "longitude": 4}}),
                "invalid_location",
            ),
            (json!({"location": {"latitude": 45}}), "invalid_location"),
            (json!({"languages": ["french"]}), "invalid_field"),
            (json!({"price": {"min": -5}}), "invalid_field"),
            (json!({"price": {"currency": "euro"}}), "invalid_field"),
            (json!({"end": "demain"}), "invalid_end"),
        ];

        for (extra, reason) in cases {
            let mut event = json!({"id": "a", "title": "F", "start": "2027-01-14T18:30:00+01:00"});
            for (key, value) in extra.as_object().unwrap() {
                event[key] = value.clone();
            }
            let parsed = parse(&page(json!([event])), &context()).unwrap();

            assert_eq!(parsed.rejections.len(), 1, "{extra}");
            assert_eq!(parsed.rejections[0].reason, reason, "{extra}");
        }
    }

    #[test]
    fn next_link_reads_only_the_link() {
        assert_eq!(next_link(&page(json!([]))).as_deref(), Some("page-2.json"));
        assert_eq!(next_link(b"{\"next\": null, \"events\": [1, 2]}"), None);
        assert_eq!(next_link(b"{\"next\": 3}"), None);
        assert_eq!(next_link(b"{\"next\": \"a\""), None);
    }

    #[test]
    fn whole_page_errors() {
        assert!(matches!(
            parse(b"{\"events\": [", &context()),
            Err(AdapterError::Json { .. })
        ));
        assert!(matches!(
            parse(b"[]", &context()),
            Err(AdapterError::WrongFormat { .. })
        ));
        assert!(matches!(
            parse(b"{\"openfresque_feed\": \"2\", \"events\": []}", &context()),
            Err(AdapterError::WrongFormat { .. })
        ));
        assert!(matches!(
            parse(b"{\"openfresque_feed\": \"1\"}", &context()),
            Err(AdapterError::WrongFormat { .. })
        ));
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let bytes = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));

        assert!(parse(bytes.as_bytes(), &context()).is_err());
    }
}
