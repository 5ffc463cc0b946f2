//! The feed validator for workshop families: checks every page of an OpenFresque feed v1
//! and reports, per event, what is wrong and how to fix it.
//!
//! Errors are what makes a consumer reject the event (or the page); warnings are what it
//! accepts but reads with a loss, such as a missing time zone or an address without a city.
//! The rules are those of `docs/feed-format.md`, plus the limits multifresque applies when
//! it normalizes (years 2000 to 2100, sessions of at most 31 days).

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::Catalog;

/// Maximum length of a session that multifresque accepts, in days.
const MAX_DURATION_DAYS: i64 = 31;

/// The seriousness of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Consumers reject the event or the page.
    Error,
    /// Consumers accept it but lose or guess something.
    Warning,
}

/// One problem, on one field, with its fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The field, such as `start` or `location.latitude`; empty for the whole entry.
    pub field: String,
    pub message: String,
    pub fix: String,
}

/// The findings of one event.
#[derive(Debug, Clone, Serialize)]
pub struct EventReport {
    /// 1-based page number.
    pub page: usize,
    /// 1-based position in the page's `events`.
    pub position: usize,
    pub id: Option<String>,
    pub title: Option<String>,
    pub findings: Vec<Finding>,
}

impl EventReport {
    pub fn is_valid(&self) -> bool {
        self.findings.iter().all(|f| f.severity != Severity::Error)
    }
}

/// The findings of one page as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    pub page: usize,
    pub location: String,
    pub findings: Vec<Finding>,
}

/// Everything the validator found in a feed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub pages: Vec<PageReport>,
    pub events: Vec<EventReport>,
}

/// Counts for the closing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pages: usize,
    pub events: usize,
    pub valid: usize,
    pub invalid: usize,
    pub with_warnings: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let findings = || {
            self.pages
                .iter()
                .flat_map(|p| &p.findings)
                .chain(self.events.iter().flat_map(|e| &e.findings))
        };
        let valid = self.events.iter().filter(|e| e.is_valid()).count();
        Summary {
            pages: self.pages.len(),
            events: self.events.len(),
            valid,
            invalid: self.events.len() - valid,
            with_warnings: self
                .events
                .iter()
                .filter(|e| e.is_valid() && !e.findings.is_empty())
                .count(),
            errors: findings().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings()
                .filter(|f| f.severity == Severity::Warning)
                .count(),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.summary().errors > 0
    }
}

/// Why a page could not be checked at all: consumers reject the whole feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}; fix: {fix}")]
pub struct PageError {
    pub message: String,
    pub fix: String,
}

/// Checks events across the pages of one feed: ids must be unique over all pages.
pub struct Validator<'a> {
    catalog: &'a Catalog,
    now: DateTime<Utc>,
    seen_ids: HashSet<String>,
    pub report: Report,
}

impl<'a> Validator<'a> {
    pub fn new(catalog: &'a Catalog, now: DateTime<Utc>) -> Validator<'a> {
        Validator {
            catalog,
            now,
            seen_ids: HashSet::new(),
            report: Report::default(),
        }
    }

    /// Checks one page and records its findings.
    ///
    /// # Errors
    ///
    /// Returns [`PageError`] when the page is not a v1 feed page at all; nothing is recorded
    /// for it then.
    ///
    /// # Returns
    ///
    /// The page's `next` link, if any.
    pub fn check_page(
        &mut self,
        location: &str,
        bytes: &[u8],
    ) -> Result<Option<String>, PageError> {
        let document: Value = serde_json::from_slice(bytes).map_err(|error| PageError {
            message: format!("{location} is not valid JSON: {error}"),
            fix: "serve the page as a JSON document in UTF-8; check it with a JSON linter"
                .to_owned(),
        })?;
        let Value::Object(page) = document else {
            return Err(PageError {
                message: format!("{location} is a JSON {}, not an object", kind(&document)),
                fix: "serve one object with openfresque_feed, publisher and events".to_owned(),
            });
        };
        match page.get("openfresque_feed") {
            Some(Value::String(version)) if version == "1" => {}
            Some(other) => {
                return Err(PageError {
                    message: format!("openfresque_feed is {other}, not \"1\""),
                    fix: "write \"openfresque_feed\": \"1\" (a string)".to_owned(),
                });
            }
            None => {
                return Err(PageError {
                    message: "openfresque_feed is missing".to_owned(),
                    fix: "add \"openfresque_feed\": \"1\" at the top of the page".to_owned(),
                });
            }
        }
        let Some(Value::Array(events)) = page.get("events") else {
            return Err(PageError {
                message: "events is missing or not an array".to_owned(),
                fix: "add \"events\": [ ... ], possibly empty".to_owned(),
            });
        };

        let number = self.report.pages.len() + 1;
        let mut findings = Vec::new();
        check_publisher(&page, &mut findings);
        if let Some(value) = page.get("generated_at")
            && !value.is_null()
            && value
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_none()
        {
            findings.push(warning(
                "generated_at",
                format!("{value} is not an RFC 3339 date-time"),
                "write it as 2027-03-14T05:00:00Z",
            ));
        }
        let next = match page.get("next") {
            None | Some(Value::Null) => None,
            Some(Value::String(next)) if !next.trim().is_empty() => Some(next.trim().to_owned()),
            Some(other) => {
                findings.push(error(
                    "next",
                    format!("{other} is neither a URL nor null"),
                    "write the next page's URL, or null on the last page",
                ));
                None
            }
        };
        self.report.pages.push(PageReport {
            page: number,
            location: location.to_owned(),
            findings,
        });

        for (index, entry) in events.iter().enumerate() {
            let report = self.check_event(number, index + 1, entry);
            self.report.events.push(report);
        }
        Ok(next)
    }

    fn check_event(&mut self, page: usize, position: usize, entry: &Value) -> EventReport {
        let mut report = EventReport {
            page,
            position,
            id: None,
            title: None,
            findings: Vec::new(),
        };
        let Value::Object(event) = entry else {
            report.findings.push(error(
                "",
                format!("the entry is a JSON {}, not an object", kind(entry)),
                "write each event as an object",
            ));
            return report;
        };
        report.id = event.get("id").and_then(Value::as_str).map(str::to_owned);
        report.title = event
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let findings = &mut report.findings;

        match event.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => {
                if !self.seen_ids.insert(id.clone()) {
                    findings.push(error(
                        "id",
                        format!("{id:?} is used by an earlier event"),
                        "give each session its own id; consumers keep only the first",
                    ));
                }
            }
            _ => findings.push(error(
                "id",
                "missing, blank or not a string".to_owned(),
                "add a stable id from your ticketing tool, such as \"session-1234\"",
            )),
        }
        self.check_workshop(event, findings);
        match event.get("title") {
            Some(Value::String(title)) if !title.trim().is_empty() => {}
            _ => findings.push(error(
                "title",
                "missing, blank or not a string".to_owned(),
                "add the session's title",
            )),
        }
        for field in ["description", "url", "tickets_url"] {
            check_text(event, field, findings);
        }
        for field in ["url", "tickets_url"] {
            if let Some(Value::String(link)) = event.get(field)
                && !(link.starts_with("https://") || link.starts_with("http://"))
            {
                findings.push(warning(
                    field,
                    format!("{link:?} is not an absolute http(s) URL"),
                    "write the full address, starting with https://",
                ));
            }
        }
        self.check_times(event, findings);
        check_enum(
            event,
            "attendance",
            &["in_person", "online", "mixed"],
            findings,
        );
        check_enum(
            event,
            "audience",
            &["general_public", "training", "kids", "companies"],
            findings,
        );
        check_enum(
            event,
            "status",
            &["scheduled", "cancelled", "postponed", "sold_out"],
            findings,
        );
        check_languages(event, findings);
        check_location(event, findings);
        check_counts(event, findings);
        check_price(event, findings);
        if event.get("url").is_none() && event.get("tickets_url").is_none() {
            findings.push(warning(
                "tickets_url",
                "the session has no link".to_owned(),
                "add tickets_url (registration page) or url so that participants can register",
            ));
        }
        report
    }

    fn check_workshop(&self, event: &Map<String, Value>, findings: &mut Vec<Finding>) {
        match event.get("workshop") {
            Some(Value::String(code)) if !code.trim().is_empty() => {
                if self.catalog.get(code).is_none() {
                    findings.push(warning("workshop", format!("{code:?} is not in the multifresque catalog"), "use a code from GET /api/v1/workshops, such as \"FresqueClimat\"; a new family keeps its code as written"));
                }
            }
            _ => findings.push(error(
                "workshop",
                "missing, blank or not a string".to_owned(),
                "add the family code, such as \"workshop\": \"FresqueClimat\"",
            )),
        }
    }

    fn check_times(&self, event: &Map<String, Value>, findings: &mut Vec<Finding>) {
        let start = match event.get("start") {
            None | Some(Value::Null) => {
                findings.push(error(
                    "start",
                    "missing".to_owned(),
                    "add the start as 2027-03-14T18:30:00+01:00",
                ));
                None
            }
            Some(value) => instant(value, "start", findings),
        };
        let end = match event.get("end") {
            None | Some(Value::Null) => None,
            Some(value) => instant(value, "end", findings),
        };
        let zone = match event.get("time_zone") {
            None | Some(Value::Null) => {
                findings.push(warning("time_zone", "missing".to_owned(), "add the IANA zone of the place, such as \"Europe/Paris\", so that local times show right"));
                None
            }
            Some(Value::String(name)) => match Tz::from_str(name) {
                Ok(zone) => Some(zone),
                Err(_) => {
                    findings.push(error("time_zone", format!("{name:?} is not an IANA time zone"), "use a name such as \"Europe/Paris\", \"Europe/Zurich\" or \"Europe/London\""));
                    None
                }
            },
            Some(other) => {
                findings.push(error(
                    "time_zone",
                    format!("{other} is not a string"),
                    "write it as \"Europe/Paris\"",
                ));
                None
            }
        };

        let Some(start) = start else {
            return;
        };
        if !(2000..=2100).contains(&start.year()) {
            findings.push(error(
                "start",
                format!("year {} is out of range", start.year()),
                "check the date: multifresque accepts years 2000 to 2100",
            ));
        } else if start.with_timezone(&Utc) < self.now {
            findings.push(warning(
                "start",
                "the session has already started".to_owned(),
                "list upcoming sessions; consumers hide past ones",
            ));
        }
        if let Some(zone) = zone {
            let expected = zone.offset_from_utc_datetime(&start.naive_utc()).fix();
            if expected != *start.offset() {
                findings.push(warning(
                    "start",
                    format!(
                        "the offset {} is not {}'s offset on that date ({expected})",
                        start.offset(),
                        zone.name()
                    ),
                    "write the offset in force in the session's zone; consumers trust the offset",
                ));
            }
        }
        if let Some(end) = end {
            if end < start {
                findings.push(error(
                    "end",
                    "end is before start".to_owned(),
                    "check the dates; end must not be before start",
                ));
            } else if (end - start).num_days() > MAX_DURATION_DAYS {
                findings.push(error(
                    "end",
                    format!("the session lasts more than {MAX_DURATION_DAYS} days"),
                    "list each session of a series as its own event",
                ));
            }
        }
    }
}

fn check_publisher(page: &Map<String, Value>, findings: &mut Vec<Finding>) {
    match page.get("publisher") {
        Some(Value::Object(publisher)) => {
            if publisher
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(|n| n.trim().is_empty())
            {
                findings.push(error(
                    "publisher.name",
                    "missing or blank".to_owned(),
                    "add the name shown to people, such as \"La Fresque du Climat\"",
                ));
            }
            if let Some(workshops) = publisher.get("workshops")
                && !workshops
                    .as_array()
                    .is_some_and(|list| list.iter().all(Value::is_string))
            {
                findings.push(warning(
                    "publisher.workshops",
                    "not a list of family codes".to_owned(),
                    "write [\"FresqueClimat\"]",
                ));
            }
        }
        _ => findings.push(error(
            "publisher",
            "missing or not an object".to_owned(),
            "add \"publisher\": {\"name\": \"...\", \"url\": \"https://...\"}",
        )),
    }
}

fn instant(
    value: &Value,
    field: &str,
    findings: &mut Vec<Finding>,
) -> Option<DateTime<FixedOffset>> {
    let parsed = value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text.trim()).ok());
    if parsed.is_none() {
        findings.push(error(
            field,
            format!("{value} is not an RFC 3339 date-time with an offset"),
            "write it as 2027-03-14T18:30:00+01:00 (seconds and offset included)",
        ));
    }
    parsed
}

fn check_text(event: &Map<String, Value>, field: &str, findings: &mut Vec<Finding>) {
    if let Some(value) = event.get(field)
        && !value.is_null()
        && !value.is_string()
    {
        findings.push(error(
            field,
            format!("{} is not a string", kind(value)),
            "write it as a string",
        ));
    }
}

fn check_enum(
    event: &Map<String, Value>,
    field: &str,
    accepted: &[&str],
    findings: &mut Vec<Finding>,
) {
    match event.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::String(value)) if accepted.contains(&value.as_str()) => {}
        Some(other) => findings.push(error(
            field,
            format!("{other} is not an accepted value"),
            &format!("use one of {}", accepted.join(", ")),
        )),
    }
}

fn check_languages(event: &Map<String, Value>, findings: &mut Vec<Finding>) {
    match event.get("languages") {
        None | Some(Value::Null) => findings.push(warning("languages", "missing".to_owned(), "add the languages spoken, such as [\"fr\"]; without them the session matches every language filter")),
        Some(Value::Array(codes)) => {
            for code in codes {
                let valid = code.as_str().is_some_and(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_lowercase()));
                if !valid {
                    findings.push(error("languages", format!("{code} is not an ISO 639-1 code in lower case"), "write two-letter codes such as \"fr\", \"en\", \"de\""));
                }
            }
        }
        Some(other) => findings.push(error("languages", format!("{other} is not a list"), "write a list such as [\"fr\", \"en\"]")),
    }
}

fn check_location(event: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let attendance = event
        .get("attendance")
        .and_then(Value::as_str)
        .unwrap_or("in_person");
    let location = match event.get("location") {
        None | Some(Value::Null) => {
            if attendance != "online" {
                findings.push(warning(
                    "location",
                    "an in-person session without a place".to_owned(),
                    "add location with at least city and country, or set attendance to \"online\"",
                ));
            }
            return;
        }
        Some(Value::Object(location)) => location,
        Some(other) => {
            findings.push(error("location", format!("{} is not an object", kind(other)), "write location as an object with name, street, postal_code, city, country, latitude, longitude"));
            return;
        }
    };
    for field in ["name", "street", "postal_code", "city", "region"] {
        if let Some(value) = location.get(field)
            && !value.is_null()
            && !value.is_string()
        {
            findings.push(error(
                &format!("location.{field}"),
                format!("{} is not a string", kind(value)),
                "write it as a string",
            ));
        }
    }
    match location.get("country") {
        None | Some(Value::Null) => findings.push(warning(
            "location.country",
            "missing".to_owned(),
            "add the ISO 3166-1 alpha-2 code, such as \"FR\"",
        )),
        Some(Value::String(code))
            if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) => {}
        Some(Value::String(code))
            if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            findings.push(warning(
                "location.country",
                format!("{code:?} is in lower case"),
                "write it in upper case, such as \"FR\"",
            ))
        }
        Some(other) => findings.push(error(
            "location.country",
            format!("{other} is not a two-letter country code"),
            "write an ISO 3166-1 alpha-2 code such as \"FR\"",
        )),
    }
    let coordinate =
        |field: &str, bound: f64, findings: &mut Vec<Finding>| match location.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_f64().is_some_and(|v| v.abs() <= bound) => n.as_f64(),
            Some(other) => {
                findings.push(error(
                    &format!("location.{field}"),
                    format!("{other} is not a number from -{bound} to {bound}"),
                    "write degrees as a JSON number, such as 45.7629",
                ));
                None
            }
        };
    let latitude = coordinate("latitude", 90.0, findings);
    let longitude = coordinate("longitude", 180.0, findings);
    match (latitude, longitude) {
        (Some(_), None) | (None, Some(_)) => findings.push(error(
            "location",
            "only one of latitude and longitude is given".to_owned(),
            "give both, or neither",
        )),
        (None, None) if attendance != "online" => {
            if location.get("city").is_some() || location.get("postal_code").is_some() {
                findings.push(warning("location.latitude", "no coordinates".to_owned(), "add latitude and longitude; without them multifresque places the session at its city's centre"));
            } else {
                findings.push(warning("location.city", "no coordinates, city or postal code".to_owned(), "add city and postal_code, or coordinates, so that the session can be found by distance"));
            }
        }
        _ => {}
    }
}

fn check_counts(event: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let count = |field: &str, findings: &mut Vec<Finding>| match event.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
        Some(other) => {
            findings.push(error(
                field,
                format!("{other} is not an integer ≥ 0"),
                "write a whole number such as 14",
            ));
            None
        }
    };
    let capacity = count("capacity", findings);
    let seats_left = count("seats_left", findings);
    if let (Some(capacity), Some(seats_left)) = (capacity, seats_left)
        && seats_left > capacity
    {
        findings.push(warning(
            "seats_left",
            format!("{seats_left} seats left out of a capacity of {capacity}"),
            "check both numbers",
        ));
    }
}

fn check_price(event: &Map<String, Value>, findings: &mut Vec<Finding>) {
    let price = match event.get("price") {
        None | Some(Value::Null) => return,
        Some(Value::Object(price)) => price,
        Some(other) => {
            findings.push(error(
                "price",
                format!("{} is not an object", kind(other)),
                "write {\"free\": false, \"min\": 5, \"max\": 20, \"currency\": \"EUR\"}",
            ));
            return;
        }
    };
    if let Some(free) = price.get("free")
        && !free.is_boolean()
    {
        findings.push(error(
            "price.free",
            format!("{free} is not true or false"),
            "write true or false",
        ));
    }
    let amount = |field: &str, findings: &mut Vec<Finding>| match price.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_f64().is_some_and(|v| v >= 0.0) => n.as_f64(),
        Some(other) => {
            findings.push(error(
                &format!("price.{field}"),
                format!("{other} is not a number ≥ 0"),
                "write an amount such as 15",
            ));
            None
        }
    };
    if let (Some(min), Some(max)) = (amount("min", findings), amount("max", findings))
        && min > max
    {
        findings.push(warning(
            "price",
            format!("min {min} is above max {max}"),
            "swap them",
        ));
    }
    if let Some(currency) = price.get("currency")
        && !currency
            .as_str()
            .is_some_and(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        findings.push(error(
            "price.currency",
            format!("{currency} is not an ISO 4217 code"),
            "write a code such as \"EUR\" or \"CHF\"",
        ));
    }
}

/// Formats the report as text for a terminal: the page problems, each event with findings, and a
/// summary line.
pub fn render_text(report: &Report) -> String {
    use std::fmt::Write as _;

    let mut out = String::new();
    for page in &report.pages {
        for finding in &page.findings {
            let _ = writeln!(out, "page {} ({}):", page.page, page.location);
            write_finding(&mut out, finding);
        }
    }
    for event in report.events.iter().filter(|e| !e.findings.is_empty()) {
        let id = event
            .id
            .as_deref()
            .map(|id| format!(" {id:?}"))
            .unwrap_or_default();
        let title = event
            .title
            .as_deref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "page {}, event {}{id}{title}:",
            event.page, event.position
        );
        for finding in &event.findings {
            write_finding(&mut out, finding);
        }
    }
    let summary = report.summary();
    let _ = writeln!(
        out,
        "{} page(s), {} event(s): {} valid ({} with warnings), {} invalid; {} error(s), {} warning(s)",
        summary.pages,
        summary.events,
        summary.valid,
        summary.with_warnings,
        summary.invalid,
        summary.errors,
        summary.warnings
    );
    out
}

fn write_finding(out: &mut String, finding: &Finding) {
    use std::fmt::Write as _;

    let severity = match finding.severity {
        Severity::Error => "error  ",
        Severity::Warning => "warning",
    };
    let field = if finding.field.is_empty() {
        String::new()
    } else {
        format!("{}: ", finding.field)
    };
    let _ = writeln!(out, "  {severity} {field}{}", finding.message);
    let _ = writeln!(out, "          fix: {}", finding.fix);
}

fn error(field: &str, message: String, fix: &str) -> Finding {
    Finding {
        severity: Severity::Error,
        field: field.to_owned(),
        message,
        fix: fix.to_owned(),
    }
}

fn warning(field: &str, message: String, fix: &str) -> Finding {
    Finding {
        severity: Severity::Warning,
        field: field.to_owned(),
        message,
        fix: fix.to_owned(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(events: Value) -> Report {
        let catalog = Catalog::embedded();
        let mut validator = Validator::new(&catalog, "2026-12-01T00:00:00Z".parse().unwrap());
        let page =
            json!({"openfresque_feed": "1", "publisher": {"name": "Test"}, "events": events});
        validator
            .check_page("page.json", page.to_string().as_bytes())
            .unwrap();
        validator.report
    }

    fn fields(report: &EventReport, severity: Severity) -> Vec<&str> {
        report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.field.as_str())
            .collect()
    }

    #[test]
    fn complete_event_has_no_finding() {
        let report = check(json!([{
            "id": "a", "workshop": "FresqueClimat", "title": "Fresque", "start": "2027-03-14T18:30:00+01:00",
            "end": "2027-03-14T21:30:00+01:00", "time_zone": "Europe/Paris", "languages": ["fr"],
            "tickets_url": "https://t.example.org/a",
            "location": {"city": "Lyon", "country": "FR", "latitude": 45.76, "longitude": 4.83}
        }]));

        assert_eq!(report.events[0].findings, vec![]);
        assert_eq!(report.summary().valid, 1);
    }

    #[test]
    fn each_error_names_its_field() {
        let report = check(json!([
            {"id": "a", "workshop": "FresqueClimat", "title": "F", "start": "demain", "time_zone": "Europe/Lyon",
             "attendance": "hybrid", "languages": ["french"], "capacity": -1,
             "location": {"country": "France", "latitude": 91, "longitude": 4.8}},
            {"id": "a", "title": "", "start": "2027-03-14T18:30:00+01:00", "end": "2027-03-13T18:30:00+01:00"},
            "not an object"
        ]));

        assert_eq!(
            fields(&report.events[0], Severity::Error),
            vec![
                "start",
                "time_zone",
                "attendance",
                "languages",
                "location.country",
                "location.latitude",
                "location",
                "capacity"
            ]
        );
        assert_eq!(
            fields(&report.events[1], Severity::Error),
            vec!["id", "workshop", "title", "end"]
        );
        assert_eq!(fields(&report.events[2], Severity::Error), vec![""]);
        assert_eq!(report.summary().invalid, 3);
    }

    #[test]
    fn offset_outside_zone_warns() {
        let report = check(json!([{
            "id": "a", "workshop": "FresqueClimat", "title": "F", "start": "2027-07-14T18:30:00+01:00",
            "time_zone": "Europe/Paris", "languages": ["fr"], "url": "https://e.example.org",
            "location": {"city": "Lyon", "country": "FR", "latitude": 45.76, "longitude": 4.83}
        }]));

        assert_eq!(fields(&report.events[0], Severity::Warning), vec!["start"]);
        assert!(report.events[0].findings[0].message.contains("+02:00"));
    }

    #[test]
    fn wrong_version_fails_the_page() {
        let catalog = Catalog::embedded();
        let mut validator = Validator::new(&catalog, Utc::now());

        let error = validator
            .check_page("p.json", br#"{"openfresque_feed": 1, "events": []}"#)
            .unwrap_err();

        assert!(error.fix.contains("\"1\""));
    }
}
