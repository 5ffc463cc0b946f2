//! iCalendar (RFC 5545) output: one `VEVENT` per session, times in UTC, text escaped and
//! lines folded at 75 octets, for calendar applications that subscribe to a search.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use crate::event::{Attendance, Event, Status};

/// Maximum line length in octets, the CRLF excluded (RFC 5545, section 3.1).
const MAX_LINE_OCTETS: usize = 75;

/// How often subscribed calendar applications should read the calendar again.
const REFRESH_INTERVAL: &str = "PT1H";

/// Writes a whole calendar named `name`; `stamp` is when the events last changed.
pub fn calendar(name: &str, events: &[Event], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        concat!(
            "PRODID:-//multifresque//multifresque ",
            env!("CARGO_PKG_VERSION"),
            "//FR"
        ),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    line(
        &mut out,
        &format!("REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}"),
    );
    line(&mut out, &format!("X-PUBLISHED-TTL:{REFRESH_INTERVAL}"));
    for event in events {
        write_event(&mut out, event, stamp);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn write_event(out: &mut String, event: &Event, stamp: DateTime<Utc>) {
    let start = event.start_utc();
    // A session without an end is shown as three hours long, the usual length of a fresque.
    let end = event
        .end
        .map(|end| end.with_timezone(&Utc))
        .unwrap_or(start + Duration::hours(3));
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@multifresque", escape(&event.id)));
    line(out, &format!("DTSTAMP:{}", utc(stamp)));
    line(out, &format!("DTSTART:{}", utc(start)));
    line(out, &format!("DTEND:{}", utc(end)));
    line(out, &format!("SUMMARY:{}", escape(&event.title)));
    let description = description(event);
    if !description.is_empty() {
        line(out, &format!("DESCRIPTION:{}", escape(&description)));
    }
    if let Some(place) = place(event) {
        line(out, &format!("LOCATION:{}", escape(&place)));
    }
    if let Some((latitude, longitude)) = event.location.coordinates() {
        line(out, &format!("GEO:{latitude:.6};{longitude:.6}"));
    }
    if let Some(url) = event.tickets_url.as_ref().or(event.url.as_ref()) {
        line(out, &format!("URL:{}", url.replace(['\r', '\n'], "")));
    }
    line(out, &format!("CATEGORIES:{}", escape(&event.workshop)));
    let status = match event.status {
        Status::Cancelled => "CANCELLED",
        Status::Postponed => "TENTATIVE",
        Status::Scheduled | Status::SoldOut => "CONFIRMED",
    };
    line(out, &format!("STATUS:{status}"));
    if let Some(updated) = event.updated_at {
        line(out, &format!("LAST-MODIFIED:{}", utc(updated)));
    }
    line(out, "END:VEVENT");
}

fn description(event: &Event) -> String {
    let mut text = event.description.clone();
    if event.status == Status::SoldOut || event.seats_left == Some(0) {
        text.insert_str(0, "Complet. ");
    }
    if let Some(url) = event.tickets_url.as_ref().or(event.url.as_ref()) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let _ = write!(text, "Inscription : {url}");
    }
    text
}

fn place(event: &Event) -> Option<String> {
    if event.attendance == Attendance::Online {
        return Some("En ligne".to_owned());
    }
    let location = &event.location;
    let town = [location.postal_code.as_deref(), location.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<&str> = [
        location.name.as_deref(),
        location.street.as_deref(),
        Some(town.as_str()),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.is_empty())
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no line exceeds 75 octets and no UTF-8
/// character is split.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts toward its 75 octets.
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_lines_short_and_characters_whole() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "é".repeat(100)));

        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= MAX_LINE_OCTETS, "{physical}");
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "é".repeat(100)));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
