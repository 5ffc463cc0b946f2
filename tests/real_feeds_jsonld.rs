//! Reads real-world schema.org JSON-LD documents kept beside the project (schema.org's own
//! examples and a Songkick page) and checks what the JSON-LD adapter makes of each one.
//!
//! The files are not part of this repository because their licences differ. The folder is
//! `$MULTIFRESQUE_REAL_FEEDS/jsonld`, else `../shared/data/real-feeds/jsonld` next to the
//! crate; when it is absent the test prints where it looked and passes.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, Weekday};
use multifresque::adapter::{Context, Parsed, jsonld};
use multifresque::event::{Attendance, Status, When};

fn feeds_folder() -> PathBuf {
    match std::env::var_os("MULTIFRESQUE_REAL_FEEDS") {
        Some(root) => PathBuf::from(root).join("jsonld"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real-feeds/jsonld"),
    }
}

/// Parses one file with `now` chosen so that scheduled events fall in the window.
fn parse_file(path: &Path, now: &str) -> Parsed {
    let context = Context {
        default_time_zone: chrono_tz::Europe::Paris,
        now: now.parse().expect("a valid test time"),
        horizon_days: 365,
    };
    let bytes = std::fs::read(path).expect("a readable feed file");
    jsonld::parse(&bytes, &context).expect("a readable document")
}

fn local(text: &str) -> When {
    When::Local(NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("a valid test time"))
}

fn instant(text: &str) -> When {
    When::Instant(chrono::DateTime::parse_from_rfc3339(text).expect("a valid test time"))
}

fn check_cancelled(path: &Path) {
    let parsed = parse_file(path, "2013-09-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);
    let event = &parsed.drafts[0];

    assert_eq!(event.title, "CANCELLED - Typhoon with Radiation City");
    assert_eq!(event.status, Some(Status::Cancelled));
    // A local time without offset is left for normalization to place in the source's zone.
    assert_eq!(event.start, Some(local("2013-09-14T21:30")));
    assert_eq!(event.location.name.as_deref(), Some("The Hi-Dive"));
    assert_eq!(event.location.street.as_deref(), Some("7 S. Broadway"));
    assert_eq!(event.location.city.as_deref(), Some("Denver"));
    assert_eq!(event.location.postal_code.as_deref(), Some("80209"));
    assert_eq!(event.location.region.as_deref(), Some("CO"));
    assert_eq!(event.attendance, Some(Attendance::InPerson));
    let price = event.price.as_ref().expect("the offer's price");
    assert_eq!(
        (price.min, price.currency.as_deref()),
        (Some(13.0), Some("USD"))
    );
    assert_eq!(
        event.tickets_url.as_deref(),
        Some("http://www.ticketfly.com/purchase/309433")
    );
    assert!(
        !event.source_event_id.is_empty(),
        "an id derived from name and start"
    );
}

fn check_schedule(path: &Path) {
    let parsed = parse_file(path, "2017-01-01T00:00:00Z");

    // Every Wednesday of 2017, from 4 January to 27 December.
    assert_eq!(parsed.drafts.len(), 52);
    assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
    let first = &parsed.drafts[0];
    assert_eq!(first.title, "Tai chi Class");
    assert_eq!(first.start, Some(local("2017-01-04T19:00")));
    assert_eq!(first.end, Some(local("2017-01-04T20:00")));
    assert_eq!(first.time_zone.as_deref(), Some("Europe/London"));
    assert_eq!(
        first.url.as_deref(),
        Some("http://www.example.org/events/1")
    );
    for draft in &parsed.drafts {
        match draft.start {
            Some(When::Local(at)) => assert_eq!(chrono::Datelike::weekday(&at), Weekday::Wed),
            other => panic!("unexpected start {other:?}"),
        }
    }
    let ids: std::collections::HashSet<&str> = parsed
        .drafts
        .iter()
        .map(|d| d.source_event_id.as_str())
        .collect();
    assert_eq!(ids.len(), 52, "each occurrence has its own id");
}

fn check_series(path: &Path) {
    let parsed = parse_file(path, "2016-01-01T00:00:00Z");

    // The series groups the events and is not one itself; the rowing event has no name.
    let titles: Vec<&str> = parsed.drafts.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(
        titles,
        vec![
            "The Rio 2016 Summer Olympics",
            "The London 2012 Summer Olympics"
        ]
    );
    assert_eq!(parsed.rejections.len(), 1);
    assert_eq!(parsed.rejections[0].reason, "missing_title");
    assert_eq!(
        parsed.rejections[0].event_id.as_deref(),
        Some("http://www.rio2016.com/en/rowing")
    );
    let rio = &parsed.drafts[0];
    assert_eq!(
        rio.source_event_id,
        "http://www.olympic.org/rio-2016-summer-olympics"
    );
    assert_eq!(
        rio.start,
        NaiveDate::from_ymd_opt(2016, 8, 5).map(When::Date)
    );
    assert_eq!(
        rio.end,
        NaiveDate::from_ymd_opt(2016, 8, 21).map(When::Date)
    );
    assert_eq!(
        rio.tickets_url.as_deref(),
        Some("http://www.rio2016.com/en/tourist-information")
    );
}

fn check_mixed(path: &Path) {
    let parsed = parse_file(path, "2025-07-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);
    let event = &parsed.drafts[0];

    assert_eq!(event.attendance, Some(Attendance::Mixed));
    assert_eq!(event.status, Some(Status::Scheduled));
    assert_eq!(event.start, Some(instant("2025-07-21T19:00:00-05:00")));
    assert_eq!(event.end, Some(instant("2025-07-21T23:00:00-05:00")));
    assert_eq!(event.location.name.as_deref(), Some("Snickerpark Stadium"));
    assert_eq!(event.location.country.as_deref(), Some("US"));
    assert_eq!(event.location.postal_code.as_deref(), Some("19019"));
    let price = event.price.as_ref().expect("the offer's price");
    assert_eq!(price.max, Some(30.0));
    assert!(!price.free);
    assert_eq!(
        event.tickets_url.as_deref(),
        Some("https://www.example.com/event_offer/12345_201803180430")
    );
    assert!(
        event
            .description
            .as_deref()
            .unwrap()
            .contains("Kira and Morrison")
    );
}

fn check_songkick(path: &Path) {
    let parsed = parse_file(path, "2015-10-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);
    let event = &parsed.drafts[0];

    assert_eq!(event.title, "Elysian Fields");
    // The offset is written without a colon: -0400.
    assert_eq!(event.start, Some(instant("2015-10-31T19:30:00-04:00")));
    assert_eq!(event.location.latitude, Some(40.660109));
    assert_eq!(event.location.longitude, Some(-73.953193));
    assert_eq!(event.location.city.as_deref(), Some("Brooklyn"));
    assert_eq!(event.location.country.as_deref(), Some("US"));
    assert!(
        event
            .url
            .as_deref()
            .unwrap()
            .starts_with("http://www.songkick.com/concerts/25248299")
    );
}

type Check = fn(&Path);

const CHECKS: &[(&str, Check)] = &[
    ("schemaorg-event-cancelled", check_cancelled),
    ("schemaorg-eventschedule-weekly", check_schedule),
    ("schemaorg-eventseries-array-subevents", check_series),
    ("schemaorg-mixed-attendance-virtual-and-place", check_mixed),
    ("songkick-musicevent-array-geocoordinates", check_songkick),
];

#[test]
fn real_jsonld_documents_parse_as_expected() {
    let folder = feeds_folder();
    let Ok(entries) = std::fs::read_dir(&folder) else {
        println!(
            "real feeds folder not found at {}; set MULTIFRESQUE_REAL_FEEDS",
            folder.display()
        );
        return;
    };

    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonld"))
        .collect();
    paths.sort();

    let mut checked = 0;
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match CHECKS.iter().find(|(prefix, _)| name.starts_with(prefix)) {
            Some((_, check)) => {
                check(&path);
                checked += 1;
            }
            // A file added later is at least parsed without a panic.
            None => {
                let parsed = parse_file(&path, "2026-12-01T00:00:00Z");
                println!(
                    "{name}: {} drafts, no expectation written",
                    parsed.drafts.len()
                );
            }
        }
    }
    assert_eq!(checked, CHECKS.len(), "every known document was found");
}
