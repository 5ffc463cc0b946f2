//! One event as an iCalendar file (RFC 5545), for the "add to my calendar" download.
//!
//! Times are written in UTC, which every calendar converts to its owner's zone, so no
//! `VTIMEZONE` block is needed. Text values are escaped and lines folded at 75 octets.

use chrono::{DateTime, Duration, Utc};

use crate::event::{Attendance, Event, Status};

/// Length of a session whose feed gave no end: fresque workshops last three hours.
const DEFAULT_DURATION_HOURS: i64 = 3;
/// Longest line of an iCalendar file, in octets, without its CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// Writes `event` as a calendar of one `VEVENT`.
///
/// `page_url` is the event's page on this site, added as the `URL` and at the end of the
/// description; `now` is the `DTSTAMP`.
pub fn event_calendar(event: &Event, page_url: Option<&str>, now: DateTime<Utc>) -> String {
    let start = event.start_utc();
    let end = event
        .end
        .map(|end| end.with_timezone(&Utc))
        .filter(|end| *end > start)
        .unwrap_or(start + Duration::hours(DEFAULT_DURATION_HOURS));

    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//multifresque//multifresque//FR".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", text(&format!("{}@multifresque", event.id))),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(start)),
        format!("DTEND:{}", utc(end)),
        format!("SUMMARY:{}", text(&event.title)),
    ];
    let description = description(event, page_url);
    if !description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", text(&description)));
    }
    if let Some(location) = location(event) {
        lines.push(format!("LOCATION:{}", text(&location)));
    }
    if let Some((latitude, longitude)) = event.location.coordinates() {
        lines.push(format!("GEO:{latitude};{longitude}"));
    }
    if let Some(url) = page_url.or(event.url.as_deref()) {
        lines.push(format!("URL:{url}"));
    }
    lines.push(format!("STATUS:{}", status(event.status)));
    if let Some(updated) = event.updated_at {
        lines.push(format!("LAST-MODIFIED:{}", utc(updated)));
    }
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());

    let mut calendar = String::new();
    for line in lines {
        fold_into(&mut calendar, &line);
    }
    calendar
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Scheduled | Status::SoldOut => "CONFIRMED",
        Status::Postponed => "TENTATIVE",
        Status::Cancelled => "CANCELLED",
    }
}

/// The feed's description, then the links a participant needs on the day.
fn description(event: &Event, page_url: Option<&str>) -> String {
    let mut parts = Vec::new();
    if !event.description.trim().is_empty() {
        parts.push(event.description.trim().to_owned());
    }
    if let Some(tickets) = &event.tickets_url {
        parts.push(tickets.clone());
    }
    if let Some(page) = page_url {
        parts.push(page.to_owned());
    }
    parts.join("\n\n")
}

/// The place on one line, or the online link for an online session.
fn location(event: &Event) -> Option<String> {
    let location = &event.location;
    let city = [location.postal_code.as_deref(), location.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        location.name.clone(),
        location.street.clone(),
        (!city.is_empty()).then_some(city),
        location.country.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.trim().is_empty())
    .collect();
    if !parts.is_empty() {
        return Some(parts.join(", "));
    }
    (event.attendance == Attendance::Online).then(|| event.url.clone().unwrap_or_default())
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines (RFC 5545, 3.3.11).
fn text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Appends a content line folded into 75-octet pieces, never inside a UTF-8 character,
/// each continuation starting with a space (RFC 5545, 3.1).
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let octets = c.len_utf8();
        if width + octets > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            // The leading space counts toward the next line's 75 octets.
            width = 1;
        }
        out.push(c);
        width += octets;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Audience, Location};

    fn event() -> Event {
        Event {
            id: "src~42".to_owned(),
            workshop: "FresqueClimat".to_owned(),
            title: "Fresque; du climat, Lyon".to_owned(),
            description: "Ligne 1\nLigne 2".to_owned(),
            url: Some("https://example.org/e/42".to_owned()),
            tickets_url: Some("https://tickets.example.org/42".to_owned()),
            start: "2027-03-14T18:30:00+01:00".parse().unwrap(),
            end: None,
            time_zone: "Europe/Paris".to_owned(),
            attendance: Attendance::InPerson,
            audience: Audience::GeneralPublic,
            languages: vec!["fr".to_owned()],
            location: Location {
                name: Some("Maison des associations".to_owned()),
                city: Some("Lyon".to_owned()),
                postal_code: Some("69003".to_owned()),
                latitude: Some(45.76),
                longitude: Some(4.85),
                ..Location::default()
            },
            capacity: None,
            seats_left: None,
            status: Status::Scheduled,
            price: None,
            updated_at: None,
            source: "src".to_owned(),
            source_event_id: "42".to_owned(),
            links: Vec::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2027-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn calendar_has_utc_times_and_default_end() {
        let calendar = event_calendar(&event(), None, now());

        assert!(
            calendar.contains("DTSTART:20270314T173000Z\r\n"),
            "{calendar}"
        );
        assert!(
            calendar.contains("DTEND:20270314T203000Z\r\n"),
            "{calendar}"
        );
        assert!(calendar.contains("DTSTAMP:20270101T000000Z\r\n"));
        assert!(calendar.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(calendar.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn text_values_are_escaped() {
        let calendar = event_calendar(&event(), None, now());

        assert!(calendar.contains("SUMMARY:Fresque\\; du climat\\, Lyon\r\n"));
        assert!(calendar.contains("DESCRIPTION:Ligne 1\\nLigne 2\\n\\nhttps://tickets"));
        assert!(calendar.contains("LOCATION:Maison des associations\\, 69003 Lyon\r\n"));
    }

    #[test]
    fn long_lines_fold_between_characters() {
        let mut long = event();
        long.title = "é".repeat(100);

        let calendar = event_calendar(&long, None, now());

        for line in calendar.split("\r\n") {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line}",
                line.len()
            );
        }
        let unfolded = calendar.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}\r\n", "é".repeat(100))));
    }

    #[test]
    fn cancelled_event_says_so() {
        let mut cancelled = event();
        cancelled.status = Status::Cancelled;

        let calendar = event_calendar(
            &cancelled,
            Some("http://localhost/evenements/src~42"),
            now(),
        );

        assert!(calendar.contains("STATUS:CANCELLED\r\n"));
        assert!(calendar.contains("URL:http://localhost/evenements/src~42\r\n"));
    }
}
