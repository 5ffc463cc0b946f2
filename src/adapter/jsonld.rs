//! schema.org JSON-LD adapter: `Event` objects (and subtypes such as `EducationEvent`) from a
//! JSON-LD document or from the `<script type="application/ld+json">` blocks of an HTML
//! page.
//!
//! Events are found in a single object, a top-level array, a `@graph`, an `ItemList` and the
//! embedded `subEvent`s of a series. Places read `PostalAddress` and `GeoCoordinates`, a
//! `VirtualLocation` means online, `eventStatus` and `eventAttendanceMode` map to the feed's
//! status and attendance, and the offers give the ticket link, price and availability. An
//! event with an `eventSchedule` and no start of its own is expanded into one event per
//! occurrence in the horizon.
//!
//! JSON-LD is read as plain JSON with the schema.org vocabulary: `@context` is not resolved,
//! so terms must be the schema.org names (with or without the `schema:` prefix).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::{AdapterError, Context, Parsed};
use crate::event::{Attendance, Draft, Location, Price, Rejection, Status, When};

/// Most events read from one document, occurrences of schedules included.
const MAX_EVENTS: usize = 50_000;
/// Most occurrences kept from one `eventSchedule`.
const MAX_OCCURRENCES: usize = 1_000;
/// Most days walked through one `eventSchedule` (about 30 years).
const MAX_SCHEDULE_DAYS: usize = 11_000;
/// Deepest nesting followed through `@graph`, lists and sub-events.
const MAX_DEPTH: usize = 16;

/// Reads every event of a JSON-LD document or of an HTML page's JSON-LD blocks.
///
/// # Errors
///
/// Returns [`AdapterError`] when the bytes are neither JSON nor an HTML page with at least
/// one readable JSON-LD block, or when they contain no schema.org event at all.
pub fn parse(bytes: &[u8], context: &Context) -> Result<Parsed, AdapterError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let documents = if text.starts_with('<') {
        html_blocks(text)?
    } else {
        vec![serde_json::from_str::<Value>(text)?]
    };

    let mut found = Vec::new();
    for document in &documents {
        collect_events(document, 0, &mut found);
    }
    if found.is_empty() {
        return Err(AdapterError::WrongFormat {
            expected: "schema.org JSON-LD",
            detail: "no object of type Event (or a subtype such as EducationEvent) was found"
                .to_owned(),
        });
    }

    let mut parsed = Parsed::default();
    let mut seen = HashSet::new();
    for event in found {
        // The same event may be both listed at the top and embedded as a sub-event.
        if !seen.insert(event as *const Map<String, Value>) {
            continue;
        }
        match read_event(event, context) {
            Ok(drafts) => parsed.drafts.extend(drafts),
            Err(rejection) => parsed.rejections.push(rejection),
        }
        if parsed.drafts.len() >= MAX_EVENTS {
            parsed.rejections.push(Rejection::new(
                None,
                "too_many_events",
                format!("the document has more than {MAX_EVENTS} events; the rest are ignored"),
            ));
            break;
        }
    }
    Ok(parsed)
}

/// Parses every `<script type="application/ld+json">` block of an HTML page.
fn html_blocks(html: &str) -> Result<Vec<Value>, AdapterError> {
    let lower = html.to_ascii_lowercase();
    let mut blocks = Vec::new();
    let mut first_error = None;
    let mut position = 0;
    while let Some(offset) = lower[position..].find("<script") {
        let tag_start = position + offset;
        let Some(tag_length) = lower[tag_start..].find('>') else {
            break;
        };
        let body_start = tag_start + tag_length + 1;
        let Some(body_length) = lower[body_start..].find("</script") else {
            break;
        };
        let tag = &lower[tag_start..body_start];
        if tag.contains("application/ld+json") {
            let body = html[body_start..body_start + body_length].trim();
            let body = body
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim();
            match serde_json::from_str(body) {
                Ok(value) => blocks.push(value),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        position = body_start + body_length;
    }
    match (blocks.is_empty(), first_error) {
        (true, Some(error)) => Err(error.into()),
        (true, None) => Err(AdapterError::WrongFormat {
            expected: "schema.org JSON-LD",
            detail: "the HTML page has no <script type=\"application/ld+json\"> block".to_owned(),
        }),
        (false, _) => Ok(blocks),
    }
}

/// Finds event objects anywhere a document usually puts them.
fn collect_events<'a>(value: &'a Value, depth: usize, found: &mut Vec<&'a Map<String, Value>>) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                collect_events(item, depth + 1, found);
            }
        }
        Value::Object(object) => {
            if is_event(object) && !is_series(object) {
                found.push(object);
            }
            for key in ["@graph", "itemListElement", "item", "subEvent", "subEvents"] {
                if let Some(inner) = field(object, key) {
                    collect_events(inner, depth + 1, found);
                }
            }
        }
        _ => {}
    }
}

/// Returns the value of a schema.org property, written bare or with the `schema:` prefix.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object
        .get(key)
        .or_else(|| object.get(&format!("schema:{key}")))
        .filter(|value| !value.is_null())
}

/// Returns the `@type` names of an object, without any vocabulary prefix.
fn types(object: &Map<String, Value>) -> Vec<&str> {
    let names: Vec<&str> = match object.get("@type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    names.into_iter().map(term).collect()
}

/// `https://schema.org/EventCancelled`, `schema:EventCancelled` → `EventCancelled`.
fn term(value: &str) -> &str {
    value.rsplit(['/', ':', '#']).next().unwrap_or(value).trim()
}

fn is_event(object: &Map<String, Value>) -> bool {
    types(object)
        .iter()
        .any(|name| name.ends_with("Event") || *name == "Festival" || *name == "EventSeries")
}

/// A series only groups events: its sub-events are read, not the series itself, unless it
/// has a start of its own.
fn is_series(object: &Map<String, Value>) -> bool {
    types(object).contains(&"EventSeries") && field(object, "startDate").is_none()
}

fn read_event(event: &Map<String, Value>, context: &Context) -> Result<Vec<Draft>, Rejection> {
    let id = event_id(event);
    let reject = |reason: &str, detail: String| Rejection::new(id.as_deref(), reason, detail);
    let Some(id) = id.clone() else {
        return Err(reject(
            "missing_id",
            "the event has no @id, identifier, url or startDate to identify it".to_owned(),
        ));
    };
    let Some(title) = text(event, "name") else {
        return Err(reject(
            "missing_title",
            "`name` is missing or empty".to_owned(),
        ));
    };

    let (location, location_text, online_by_location, in_person_by_location) =
        read_locations(field(event, "location"));
    let attendance = attendance(event, online_by_location, in_person_by_location);
    let offers = read_offers(field(event, "offers"));
    let draft = Draft {
        source_event_id: id.clone(),
        title,
        description: text(event, "description"),
        url: text(event, "url"),
        tickets_url: offers.url,
        time_zone: None,
        attendance,
        languages: languages(field(event, "inLanguage")),
        location,
        location_text,
        capacity: count(event, "maximumAttendeeCapacity"),
        seats_left: count(event, "remainingAttendeeCapacity"),
        status: status(event).or(offers.sold_out.then_some(Status::SoldOut)),
        price: offers.price,
        updated_at: text(event, "dateModified")
            .and_then(|value| DateTime::parse_from_rfc3339(&value).ok())
            .map(|at| at.with_timezone(&Utc)),
        categories: keywords(event),
        ..Draft::default()
    };

    match text(event, "startDate") {
        Some(start) => {
            let start = super::json::parse_when(&start).ok_or_else(|| {
                reject(
                    "invalid_start",
                    format!("`startDate` is not an ISO 8601 date or date-time: {start:?}"),
                )
            })?;
            let end = match text(event, "endDate") {
                None => duration(event).and_then(|length| add(start, length)),
                Some(end) => Some(super::json::parse_when(&end).ok_or_else(|| {
                    reject(
                        "invalid_end",
                        format!("`endDate` is not an ISO 8601 date or date-time: {end:?}"),
                    )
                })?),
            };
            Ok(vec![Draft {
                start: Some(start),
                end,
                ..draft
            }])
        }
        None => match field(event, "eventSchedule") {
            Some(schedule) => expand_schedules(schedule, &draft, event, context)
                .map_err(|detail| reject("invalid_schedule", detail)),
            None => Err(reject(
                "missing_start",
                "the event has neither `startDate` nor `eventSchedule`".to_owned(),
            )),
        },
    }
}

/// Picks a stable id: `@id`, then `identifier`, then the page URL, then a hash of name and
/// start.
fn event_id(event: &Map<String, Value>) -> Option<String> {
    let start = text(event, "startDate");
    if let Some(id) = event
        .get("@id")
        .and_then(Value::as_str)
        .filter(|id| !id.trim().is_empty())
    {
        return Some(id.trim().to_owned());
    }
    if let Some(identifier) = field(event, "identifier") {
        let value = match identifier {
            Value::Object(object) => text(object, "value").or_else(|| text(object, "propertyID")),
            other => scalar(other),
        };
        if value.is_some() {
            return value;
        }
    }
    // One page may list several sessions, so the start keeps their ids apart.
    match (text(event, "url"), &start) {
        (Some(url), Some(start)) => Some(format!("{url}#{start}")),
        (Some(url), None) => Some(url),
        (None, Some(start)) => text(event, "name").map(|name| {
            format!(
                "{:016x}",
                crate::normalize::fnv1a(format!("{name}|{start}").as_bytes())
            )
        }),
        (None, None) => None,
    }
}

/// Reads a property as text: a string, a number, or the `@value` of a value object.
fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    match field(object, key)? {
        Value::Array(items) => items.iter().find_map(scalar),
        other => scalar(other),
    }
}

fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Object(object) => return object.get("@value").and_then(scalar),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn number(object: &Map<String, Value>, key: &str) -> Option<f64> {
    match field(object, key)? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
    .filter(|value: &f64| value.is_finite())
}

fn count(object: &Map<String, Value>, key: &str) -> Option<u32> {
    number(object, key)
        .filter(|value| *value >= 0.0 && value.fract() == 0.0 && *value <= f64::from(u32::MAX))
        .map(|value| value as u32)
}

/// Reads the place, a free-text location, and whether a virtual or a physical place was
/// given.
fn read_locations(value: Option<&Value>) -> (Location, Option<String>, bool, bool) {
    let mut location = Location::default();
    let mut location_text = None;
    let mut online = false;
    let mut in_person = false;
    let items: Vec<&Value> = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    for item in items {
        match item {
            Value::String(text) if !text.trim().is_empty() => {
                location_text.get_or_insert_with(|| text.trim().to_owned());
            }
            Value::Object(object) if types(object).contains(&"VirtualLocation") => online = true,
            Value::Object(object) if location.is_empty() => {
                location = read_place(object, &mut location_text);
                in_person = true;
            }
            _ => {}
        }
    }
    (location, location_text, online, in_person)
}

fn read_place(place: &Map<String, Value>, location_text: &mut Option<String>) -> Location {
    let mut location = Location {
        name: text(place, "name"),
        ..Location::default()
    };
    match field(place, "address") {
        Some(Value::Object(address)) => {
            location.street = text(address, "streetAddress");
            location.postal_code = text(address, "postalCode");
            location.city = text(address, "addressLocality");
            location.region = text(address, "addressRegion");
            location.country = match field(address, "addressCountry") {
                Some(Value::Object(country)) => {
                    text(country, "identifier").or_else(|| text(country, "name"))
                }
                Some(other) => scalar(other),
                None => None,
            }
            .filter(|code| code.len() == 2);
        }
        Some(Value::String(address)) if !address.trim().is_empty() => {
            location_text.get_or_insert_with(|| address.trim().to_owned());
        }
        _ => {}
    }
    let geo = match field(place, "geo") {
        Some(Value::Object(geo)) => Some(geo),
        _ => None,
    };
    location.latitude = geo
        .and_then(|geo| number(geo, "latitude"))
        .or_else(|| number(place, "latitude"));
    location.longitude = geo
        .and_then(|geo| number(geo, "longitude"))
        .or_else(|| number(place, "longitude"));
    location
}

fn attendance(
    event: &Map<String, Value>,
    online_by_location: bool,
    in_person_by_location: bool,
) -> Option<Attendance> {
    let declared = text(event, "eventAttendanceMode");
    match declared.as_deref().map(term) {
        Some("OnlineEventAttendanceMode") => return Some(Attendance::Online),
        Some("OfflineEventAttendanceMode") => return Some(Attendance::InPerson),
        Some("MixedEventAttendanceMode") => return Some(Attendance::Mixed),
        _ => {}
    }
    if text(event, "eventStatus").as_deref().map(term) == Some("EventMovedOnline") {
        return Some(Attendance::Online);
    }
    match (online_by_location, in_person_by_location) {
        (true, true) => Some(Attendance::Mixed),
        (true, false) => Some(Attendance::Online),
        (false, true) => Some(Attendance::InPerson),
        (false, false) => None,
    }
}

fn status(event: &Map<String, Value>) -> Option<Status> {
    match text(event, "eventStatus").as_deref().map(term)? {
        "EventCancelled" => Some(Status::Cancelled),
        "EventPostponed" => Some(Status::Postponed),
        // A rescheduled event carries its new dates; one moved online is still on.
        "EventScheduled" | "EventRescheduled" | "EventMovedOnline" => Some(Status::Scheduled),
        _ => None,
    }
}

/// The offers' ticket link, price range, and whether every offer is sold out.
#[derive(Default)]
struct Offers {
    url: Option<String>,
    price: Option<Price>,
    sold_out: bool,
}

fn read_offers(value: Option<&Value>) -> Offers {
    let offers: Vec<&Map<String, Value>> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(offer)) => vec![offer],
        _ => Vec::new(),
    };
    if offers.is_empty() {
        return Offers::default();
    }

    let mut prices: Vec<f64> = Vec::new();
    let mut currency = None;
    for offer in &offers {
        let low = number(offer, "lowPrice").or_else(|| number(offer, "price"));
        let high = number(offer, "highPrice").or(low);
        prices.extend(low.into_iter().chain(high).filter(|price| *price >= 0.0));
        currency = currency.or_else(|| text(offer, "priceCurrency"));
    }
    let price = (!prices.is_empty()).then(|| {
        let min = prices.iter().copied().fold(f64::INFINITY, f64::min);
        let max = prices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Price {
            free: max == 0.0,
            min: Some(min),
            max: Some(max),
            currency: currency
                .filter(|code| code.len() == 3)
                .map(|code| code.to_ascii_uppercase()),
        }
    });
    let sold_out = offers.iter().all(|offer| {
        matches!(
            text(offer, "availability").as_deref().map(term),
            Some("SoldOut" | "OutOfStock" | "Discontinued")
        )
    });
    Offers {
        url: offers.iter().find_map(|offer| text(offer, "url")),
        price,
        sold_out,
    }
}

/// ISO 639-1 codes from `inLanguage`: a code, a BCP 47 tag, or a `Language` object.
fn languages(value: Option<&Value>) -> Vec<String> {
    let items: Vec<&Value> = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(language) => {
                text(language, "alternateName").or_else(|| text(language, "identifier"))
            }
            other => scalar(other),
        })
        .collect()
}

/// `keywords` and `audience.audienceType`, which may name a family or an audience.
fn keywords(event: &Map<String, Value>) -> Vec<String> {
    let mut words = Vec::new();
    match field(event, "keywords") {
        Some(Value::String(list)) => words.extend(
            list.split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        ),
        Some(Value::Array(items)) => words.extend(items.iter().filter_map(scalar)),
        _ => {}
    }
    if let Some(Value::Object(audience)) = field(event, "audience")
        && let Some(kind) = text(audience, "audienceType")
    {
        words.push(kind);
    }
    words
}

/// `duration` as an ISO 8601 duration such as `PT3H` or `PT90M`.
fn duration(event: &Map<String, Value>) -> Option<Duration> {
    parse_duration(&text(event, "duration")?)
}

/// Parses the day and time parts of an ISO 8601 duration (`P1W`, `P1D`, `PT2H30M`).
fn parse_duration(text: &str) -> Option<Duration> {
    let body = text.trim().strip_prefix('P')?;
    let (date, time) = body.split_once('T').unwrap_or((body, ""));
    let mut total = Duration::zero();
    for (part, is_time) in [(date, false), (time, true)] {
        let mut digits = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                digits.push(c);
                continue;
            }
            let amount: f64 = digits.parse().ok()?;
            digits.clear();
            let seconds = match (c, is_time) {
                ('W', false) => 7.0 * 86_400.0,
                ('D', false) => 86_400.0,
                ('H', true) => 3_600.0,
                ('M', true) => 60.0,
                ('S', true) => 1.0,
                _ => return None,
            };
            total += Duration::milliseconds((amount * seconds * 1000.0) as i64);
        }
        if !digits.is_empty() {
            return None;
        }
    }
    (total > Duration::zero()).then_some(total)
}

fn add(start: When, length: Duration) -> Option<When> {
    match start {
        When::Instant(at) => Some(When::Instant(at + length)),
        When::Local(at) => Some(When::Local(at + length)),
        When::Date(_) => None,
    }
}

/// Expands each `Schedule` into one draft per occurrence in the window of `context`.
fn expand_schedules(
    value: &Value,
    draft: &Draft,
    event: &Map<String, Value>,
    context: &Context,
) -> Result<Vec<Draft>, String> {
    let schedules: Vec<&Map<String, Value>> = match value {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(schedule) => vec![schedule],
        _ => return Err("`eventSchedule` must be a Schedule object".to_owned()),
    };
    let mut drafts = Vec::new();
    for schedule in schedules {
        for (start, end, zone) in occurrences(schedule, event, context)? {
            let key = start.format("%Y%m%dT%H%M").to_string();
            drafts.push(Draft {
                source_event_id: format!("{}@{key}", draft.source_event_id),
                start: Some(When::Local(start)),
                end: end.map(When::Local),
                time_zone: zone.clone(),
                ..draft.clone()
            });
        }
    }
    Ok(drafts)
}

type Occurrence = (
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
    Option<String>,
);

/// Lists the local start and end of each occurrence of a schedule, from a day before `now`
/// to the horizon, with the schedule's zone.
fn occurrences(
    schedule: &Map<String, Value>,
    event: &Map<String, Value>,
    context: &Context,
) -> Result<Vec<Occurrence>, String> {
    let zone_name = text(schedule, "scheduleTimezone");
    let zone: Tz = match &zone_name {
        Some(name) => name
            .parse()
            .map_err(|_| format!("unknown scheduleTimezone {name:?}"))?,
        None => context.default_time_zone,
    };
    let first_day = date(schedule, "startDate")?.ok_or("the schedule has no startDate")?;
    let last_day = date(schedule, "endDate")?;
    let start_time = time(schedule, "startTime")?.unwrap_or(NaiveTime::MIN);
    let end_time = time(schedule, "endTime")?;
    let length = match end_time {
        Some(end) if end > start_time => Some(end - start_time),
        _ => text(schedule, "duration")
            .and_then(|d| parse_duration(&d))
            .or_else(|| duration(event)),
    };
    let step = schedule_step(schedule)?;
    let weekdays = weekdays(schedule);
    let month_days: Vec<u32> = match field(schedule, "byMonthDay") {
        Some(Value::Array(days)) => days
            .iter()
            .filter_map(Value::as_u64)
            .map(|d| d as u32)
            .collect(),
        Some(Value::Number(day)) => day.as_u64().map(|d| d as u32).into_iter().collect(),
        _ => Vec::new(),
    };
    let except: HashSet<NaiveDate> = match field(schedule, "exceptDate") {
        Some(Value::Array(days)) => days
            .iter()
            .filter_map(scalar)
            .filter_map(|d| parse_date(&d))
            .collect(),
        Some(other) => scalar(other)
            .and_then(|d| parse_date(&d))
            .into_iter()
            .collect(),
        None => HashSet::new(),
    };
    let repeat_count = count(schedule, "repeatCount").map(|n| n as usize);

    let now_local = zone
        .from_utc_datetime(&context.now.naive_utc())
        .date_naive();
    let window_start = now_local - Duration::days(1);
    let window_end = now_local + Duration::days(i64::from(context.horizon_days));
    let last = last_day.map_or(window_end, |day| day.min(window_end));

    // Without a count, days before the window cannot matter, so the walk starts there.
    let mut day = match repeat_count {
        None => first_day.max(window_start),
        Some(_) => first_day,
    };
    let mut found = Vec::new();
    let mut seen = 0_usize;
    let mut steps = 0_usize;
    while day <= last && steps < MAX_SCHEDULE_DAYS {
        steps += 1;
        if on_schedule(day, first_day, step, &weekdays, &month_days) && !except.contains(&day) {
            seen += 1;
            if repeat_count.is_some_and(|limit| seen > limit) {
                break;
            }
            if day >= window_start {
                let start = day.and_time(start_time);
                found.push((start, length.map(|l| start + l), zone_name.clone()));
                if found.len() == MAX_OCCURRENCES {
                    break;
                }
            }
        }
        day += Duration::days(1);
    }
    Ok(found)
}

/// Checks whether a schedule starting on `first` has an occurrence on `day`. Without `byDay` or
/// `byMonthDay`, a weekly schedule repeats on the first day's weekday and a monthly one on
/// its day of the month.
fn on_schedule(
    day: NaiveDate,
    first: NaiveDate,
    step: Step,
    weekdays: &[Weekday],
    month_days: &[u32],
) -> bool {
    let weekday_ok = weekdays.is_empty() || weekdays.contains(&day.weekday());
    let month_day_ok = month_days.is_empty() || month_days.contains(&day.day());
    let offset = (day - first).num_days();
    match step {
        Step::Days(n) => offset % n == 0 && weekday_ok && month_day_ok,
        Step::Weeks(n) => {
            let weekday_matches = if weekdays.is_empty() {
                day.weekday() == first.weekday()
            } else {
                weekday_ok
            };
            (offset / 7) % n == 0 && weekday_matches && month_day_ok
        }
        Step::Months(n) => {
            let months =
                (day.year() - first.year()) * 12 + day.month() as i32 - first.month() as i32;
            let day_matches = if weekdays.is_empty() && month_days.is_empty() {
                day.day() == first.day()
            } else {
                weekday_ok && month_day_ok
            };
            i64::from(months) % n == 0 && day_matches
        }
    }
}

/// How often a schedule repeats.
#[derive(Debug, Clone, Copy)]
enum Step {
    Days(i64),
    Weeks(i64),
    Months(i64),
}

fn schedule_step(schedule: &Map<String, Value>) -> Result<Step, String> {
    let Some(frequency) = text(schedule, "repeatFrequency") else {
        return Ok(Step::Days(1));
    };
    let lower = frequency.to_ascii_lowercase();
    let step = match lower.as_str() {
        "daily" => Step::Days(1),
        "weekly" => Step::Weeks(1),
        "monthly" => Step::Months(1),
        _ => {
            let body = lower.strip_prefix('p').unwrap_or("");
            let amount: i64 = body
                .trim_end_matches(['d', 'w', 'm'])
                .parse()
                .map_err(|_| {
                    format!("unsupported repeatFrequency {frequency:?}: use P1D, P1W or P1M")
                })?;
            if amount < 1 {
                return Err(format!("repeatFrequency {frequency:?} must be at least 1"));
            }
            match body.chars().last() {
                Some('d') => Step::Days(amount),
                Some('w') => Step::Weeks(amount),
                Some('m') => Step::Months(amount),
                _ => {
                    return Err(format!(
                        "unsupported repeatFrequency {frequency:?}: use P1D, P1W or P1M"
                    ));
                }
            }
        }
    };
    Ok(step)
}

fn weekdays(schedule: &Map<String, Value>) -> Vec<Weekday> {
    let items: Vec<String> = match field(schedule, "byDay") {
        Some(Value::Array(days)) => days.iter().filter_map(scalar).collect(),
        Some(other) => scalar(other).into_iter().collect(),
        None => Vec::new(),
    };
    items
        .iter()
        .filter_map(|day| match term(day).to_ascii_lowercase().as_str() {
            "monday" | "mo" => Some(Weekday::Mon),
            "tuesday" | "tu" => Some(Weekday::Tue),
            "wednesday" | "we" => Some(Weekday::Wed),
            "thursday" | "th" => Some(Weekday::Thu),
            "friday" | "fr" => Some(Weekday::Fri),
            "saturday" | "sa" => Some(Weekday::Sat),
            "sunday" | "su" => Some(Weekday::Sun),
            _ => None,
        })
        .collect()
}

fn date(object: &Map<String, Value>, key: &str) -> Result<Option<NaiveDate>, String> {
    match text(object, key) {
        None => Ok(None),
        Some(value) => parse_date(&value)
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a date: {value:?}")),
    }
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.get(..10)?, "%Y-%m-%d").ok()
}

fn time(object: &Map<String, Value>, key: &str) -> Result<Option<NaiveTime>, String> {
    match text(object, key) {
        None => Ok(None),
        Some(value) => ["%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|format| NaiveTime::parse_from_str(&value, format).ok())
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a time such as 19:00: {value:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context(now: &str) -> Context {
        Context {
            default_time_zone: chrono_tz::Europe::Paris,
            now: now.parse().unwrap(),
            horizon_days: 365,
        }
    }

    fn read(value: Value) -> Parsed {
        parse(
            value.to_string().as_bytes(),
            &context("2027-01-01T00:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn full_event_is_read() {
        let parsed = read(json!({
            "@context": "https://schema.org", "@type": "EducationEvent",
            "@id": "https://example.org/e/1", "name": "Fresque du Climat",
            "startDate": "2027-03-04T18:30:00+01:00", "endDate": "2027-03-04T21:30:00+01:00",
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
            "location": {"@type": "Place", "name": "MJC",
                "address": {"@type": "PostalAddress", "streetAddress": "3 rue X", "postalCode": "69003",
                            "addressLocality": "Lyon", "addressCountry": "FR"},
                "geo": {"@type": "GeoCoordinates", "latitude": "45.76", "longitude": 4.85}},
            "offers": [{"@type": "Offer", "price": 10, "priceCurrency": "EUR", "url": "https://t.example.org/1",
                        "availability": "https://schema.org/SoldOut"}],
            "maximumAttendeeCapacity": 14, "inLanguage": "fr-FR"
        }));

        let draft = &parsed.drafts[0];
        assert_eq!(draft.source_event_id, "https://example.org/e/1");
        assert_eq!(draft.attendance, Some(Attendance::InPerson));
        assert_eq!(draft.location.city.as_deref(), Some("Lyon"));
        assert_eq!(draft.location.latitude, Some(45.76));
        assert_eq!(
            draft.tickets_url.as_deref(),
            Some("https://t.example.org/1")
        );
        assert_eq!(draft.status, Some(Status::SoldOut));
        assert_eq!(
            draft.price.as_ref().unwrap().currency.as_deref(),
            Some("EUR")
        );
        assert_eq!(draft.capacity, Some(14));
        assert_eq!(draft.languages, vec!["fr-FR"]);
    }

    #[test]
    fn graph_and_item_list_are_searched() {
        let parsed = read(json!({
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Organization", "name": "Fresque"},
                {"@type": "ItemList", "itemListElement": [
                    {"@type": "ListItem", "item": {"@type": "Event", "name": "A", "startDate": "2027-03-04T18:30:00+01:00", "url": "https://e/a"}},
                    {"@type": "ListItem", "item": {"@type": "Event", "name": "B", "startDate": "2027-03-05T18:30:00+01:00", "url": "https://e/b"}}
                ]}
            ]
        }));

        let titles: Vec<&str> = parsed.drafts.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(titles, vec!["A", "B"]);
    }

    #[test]
    fn html_page_blocks_are_read() {
        let html = r#"<!doctype html><html><head>
            <script type="application/ld+json">{"@type": "Event", "name": "Atelier", "startDate": "2027-03-04T18:30:00+01:00", "url": "https://e/1"}</script>
            <SCRIPT TYPE='application/ld+json'>[{"@type": "Event", "name": "Autre", "startDate": "2027-03-05", "url": "https://e/2"}]</SCRIPT>
            </head></html>"#;

        let parsed = parse(html.as_bytes(), &context("2027-01-01T00:00:00Z")).unwrap();

        assert_eq!(parsed.drafts.len(), 2);
        assert_eq!(
            parsed.drafts[1].start,
            Some(When::Date("2027-03-05".parse().unwrap()))
        );
    }

    #[test]
    fn virtual_and_physical_place_is_mixed() {
        let parsed = read(
            json!({"@type": "Event", "name": "A", "startDate": "2027-03-04T18:30:00+01:00", "url": "https://e/a",
            "location": [{"@type": "VirtualLocation", "url": "https://meet.example.org"}, {"@type": "Place", "name": "Salle"}]}),
        );

        assert_eq!(parsed.drafts[0].attendance, Some(Attendance::Mixed));
        assert_eq!(parsed.drafts[0].location.name.as_deref(), Some("Salle"));
    }

    #[test]
    fn event_without_start_is_rejected_alone() {
        let parsed = read(json!([
            {"@type": "Event", "name": "A", "url": "https://e/a"},
            {"@type": "Event", "name": "B", "startDate": "2027-03-04T18:30:00+01:00", "url": "https://e/b"}
        ]));

        assert_eq!(parsed.drafts.len(), 1);
        assert_eq!(parsed.rejections[0].reason, "missing_start");
    }

    #[test]
    fn document_without_event_is_wrong_format() {
        assert!(matches!(
            parse(
                br#"{"@type": "Organization"}"#,
                &context("2027-01-01T00:00:00Z")
            ),
            Err(AdapterError::WrongFormat { .. })
        ));
        assert!(matches!(
            parse(
                b"<html><body>no data</body></html>",
                &context("2027-01-01T00:00:00Z")
            ),
            Err(AdapterError::WrongFormat { .. })
        ));
    }

    #[test]
    fn weekly_schedule_expands_in_window() {
        let parsed = parse(
            json!({"@type": "Event", "name": "Cours", "url": "https://e/c",
                "eventSchedule": {"@type": "Schedule", "startDate": "2027-01-01", "endDate": "2027-01-31",
                  "repeatFrequency": "P1W", "byDay": ["https://schema.org/Wednesday", "Friday"],
                  "startTime": "19:00", "endTime": "20:30", "exceptDate": "2027-01-13",
                  "scheduleTimezone": "Europe/London"}})
            .to_string()
            .as_bytes(),
            &context("2027-01-01T00:00:00Z"),
        )
        .unwrap();

        let starts: Vec<String> = parsed
            .drafts
            .iter()
            .map(|d| match d.start {
                Some(When::Local(at)) => at.format("%m-%d %H:%M").to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            starts,
            vec![
                "01-01 19:00",
                "01-06 19:00",
                "01-08 19:00",
                "01-15 19:00",
                "01-20 19:00",
                "01-22 19:00",
                "01-27 19:00",
                "01-29 19:00"
            ]
        );
        assert_eq!(parsed.drafts[0].time_zone.as_deref(), Some("Europe/London"));
        assert_eq!(
            parsed.drafts[0].source_event_id,
            "https://e/c@20270101T1900"
        );
        assert!(matches!(parsed.drafts[0].end, Some(When::Local(_))));
    }

    #[test]
    fn iso_durations_parse() {
        assert_eq!(parse_duration("PT60M"), Some(Duration::minutes(60)));
        assert_eq!(parse_duration("PT2H30M"), Some(Duration::minutes(150)));
        assert_eq!(parse_duration("P1W"), Some(Duration::days(7)));
        assert_eq!(parse_duration("P1X"), None);
        assert_eq!(parse_duration("3h"), None);
    }
}
