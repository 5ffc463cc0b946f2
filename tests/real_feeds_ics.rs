//! Reads the real-world calendars kept beside the project (written by Apple Calendar,
//! Exchange, Google, Nextcloud, Outlook, Podio, Sixt, Thunderbird and TripIt) and checks
//! what the iCalendar adapter makes of each one.
//!
//! The files are not part of this repository because their licences differ. The folder is
//! `$MULTIFRESQUE_REAL_FEEDS/ics`, else `../shared/data/real-feeds/ics` next to the crate;
//! when it is absent the test prints where it looked and passes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use multifresque::adapter::{Context, Parsed, ics};
use multifresque::event::{Draft, Status, When};

fn feeds_folder() -> PathBuf {
    match std::env::var_os("MULTIFRESQUE_REAL_FEEDS") {
        Some(root) => PathBuf::from(root).join("ics"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/real-feeds/ics"),
    }
}

/// Parses one file with `now` chosen so that its recurring events fall in the window.
fn parse_file(path: &Path, now: &str) -> Parsed {
    let context = Context {
        default_time_zone: chrono_tz::Europe::Paris,
        now: now.parse().expect("a valid test time"),
        horizon_days: 365,
    };
    let bytes = std::fs::read(path).expect("a readable feed file");
    ics::parse(&bytes, &context).expect("a readable calendar")
}

fn utc(text: &str) -> When {
    let instant: DateTime<Utc> = text.parse().expect("a valid test time");
    When::Instant(instant.fixed_offset())
}

/// Compares instants by their UTC time line position, whatever offset they carry.
fn starts_at(draft: &Draft, expected: &str) -> bool {
    match (draft.start, utc(expected)) {
        (Some(When::Instant(actual)), When::Instant(expected)) => actual == expected,
        _ => false,
    }
}

fn by_title<'a>(parsed: &'a Parsed, title: &str) -> Vec<&'a Draft> {
    parsed.drafts.iter().filter(|d| d.title == title).collect()
}

fn by_id<'a>(parsed: &'a Parsed, id: &str) -> Option<&'a Draft> {
    parsed.drafts.iter().find(|d| d.source_event_id == id)
}

fn check_apple(path: &Path) {
    let parsed = parse_file(path, "2022-07-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 4);
    assert!(parsed.rejections.is_empty());

    let cancelled = by_title(&parsed, "Cancelled")[0];
    assert_eq!(cancelled.status, Some(Status::Cancelled));
    assert_eq!(by_title(&parsed, "Tentative")[0].status, None);
    assert_eq!(by_title(&parsed, "Confirmed")[0].status, None);

    let confirmed = by_title(&parsed, "Confirmed")[0];
    assert!(
        starts_at(confirmed, "2022-07-05T16:00:00Z"),
        "{confirmed:?}"
    );
    assert_eq!(confirmed.time_zone.as_deref(), Some("America/Vancouver"));
}

fn check_exchange(path: &Path) {
    let parsed = parse_file(path, "2020-09-01T00:00:00Z");
    // Two single events, 164 Monday-to-Saturday instances of the first series and 108
    // instances of the second (Tuesday, Thursday, Friday, Sunday, minus one EXDATE in the
    // window), from 2020-08-31 to the UNTIL of 2021-03-09.
    assert_eq!(parsed.drafts.len(), 274);
    assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);

    let berlin = by_title(&parsed, "test")[0];
    assert!(starts_at(berlin, "2020-09-10T07:00:00Z"), "{berlin:?}");
    assert_eq!(berlin.time_zone.as_deref(), Some("Europe/Berlin"));
    let pacific = by_title(&parsed, "Not the actual summary 1")[0];
    assert!(starts_at(pacific, "2020-09-15T15:30:00Z"), "{pacific:?}");

    let jira = "040000008200E00074C5B7101A82E008000000008001F1896B63D301000000000000000\
                0100000005D0552D848712746896D6C8E2E066560";
    // The quoted TZID that swallows the value is still read as W. Europe time.
    assert!(by_id(&parsed, &format!("{jira}/20200831T070000Z")).is_some());
    // UNTIL=20210309T080000Z is inclusive, and March is winter time (UTC+1).
    assert!(by_id(&parsed, &format!("{jira}/20210309T080000Z")).is_some());

    let weekly = "040000008200E00074C5B7101A82E00800000000C8CF296B9654D601000000000000000\
                  01000000031C6A267A9E4A2489CEB57D709E7A37F";
    assert!(by_id(&parsed, &format!("{weekly}/20200903T190000Z")).is_none());
    assert!(by_id(&parsed, &format!("{weekly}/20200904T190000Z")).is_some());
}

fn check_google_birthday(path: &Path) {
    let parsed = parse_file(path, "2012-12-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 4);
    assert!(parsed.rejections.is_empty());

    let orphan = by_id(&parsed, "BIRTHDAY_79d389868f96182e@google.com/20131210");
    let orphan = orphan.expect("the RECURRENCE-ID instance of 2013");
    assert_eq!(
        orphan.start,
        NaiveDate::from_ymd_opt(2013, 12, 10).map(When::Date)
    );
    // The RDATE written as `20121210Z` is a date, inside the window.
    assert!(
        by_id(
            &parsed,
            "2014_BIRTHDAY_79d389868f96182e@google.com/20121210"
        )
        .is_some()
    );
}

fn check_google_location(path: &Path) {
    let parsed = parse_file(path, "2016-10-25T00:00:00Z");
    // Weekdays from 2016-10-28 to the window end, 2017-10-25.
    assert_eq!(parsed.drafts.len(), 258);

    let first = &parsed.drafts[0];
    assert!(starts_at(first, "2016-10-28T12:00:00Z"), "{first:?}");
    assert_eq!(
        first.location_text.as_deref(),
        Some("Roadstar 16, 12764 Happyville, Denmark")
    );
    assert_eq!(first.location.latitude, Some(52.382762));
    assert_eq!(first.location.longitude, Some(7.528319));

    // After the end of summer time the wall-clock time stays 14:00 in Zurich.
    let after_change = by_id(
        &parsed,
        "BFE33ADD-5553-48B5-B5A5-F9DA5CA4C393/20161031T130000Z",
    );
    assert!(after_change.is_some());
}

fn check_nextcloud_override(path: &Path) {
    let parsed = parse_file(path, "2022-10-10T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 3);

    let overridden = by_id(&parsed, "c4d17ac9-2a86-4e93-a689-c020fafadf28/20221015");
    let overridden = overridden.expect("the overridden occurrence");
    assert_eq!(overridden.description.as_deref(), Some("added description"));
    let plain = by_id(&parsed, "c4d17ac9-2a86-4e93-a689-c020fafadf28/20221017");
    assert_eq!(plain.expect("the last occurrence").description, None);
}

fn check_nextcloud_yearly(path: &Path) {
    let parsed = parse_file(path, "2022-09-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);

    let draft = &parsed.drafts[0];
    assert_eq!(draft.categories, vec!["Holiday".to_owned()]);
    assert_eq!(
        draft.location_text.as_deref(),
        Some("Some Hotel, Some Country")
    );
    assert_eq!(
        draft.description.as_deref(),
        Some("Event with a tag, a notification\nand a recurrence.")
    );
}

fn check_outlook_numeric_tzid(path: &Path) {
    let parsed = parse_file(path, "2023-12-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 2);

    let paris = by_title(&parsed, "test export import")[0];
    assert!(starts_at(paris, "2023-12-15T14:00:00Z"), "{paris:?}");
    // `TZID= 1` is read through the file's VTIMEZONE: winter, UTC+1.
    let numeric = by_title(&parsed, "Atelier groupes portail/Nuage")[0];
    assert!(starts_at(numeric, "2024-01-08T10:00:00Z"), "{numeric:?}");
    assert_eq!(numeric.languages, vec!["fr".to_owned()]);
    assert!(
        numeric
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Désolé pour ces changements de date, j'espère"))
    );
}

fn check_outlook_html(path: &Path) {
    let parsed = parse_file(path, "2009-06-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);

    let draft = &parsed.drafts[0];
    assert_eq!(
        draft.start,
        NaiveDate::from_ymd_opt(2009, 6, 21).map(When::Date)
    );
    assert!(
        draft
            .description
            .as_deref()
            .is_some_and(|d| d.contains("<BODY>"))
    );
    assert!(draft.location_text.as_deref().is_some_and(|l| {
        l.starts_with("The Exceptionally Long Named Meeting Room Whose Name Wraps Over Several")
    }));
    assert_eq!(draft.languages, vec!["en".to_owned()]);
}

fn check_podio(path: &Path) {
    let parsed = parse_file(path, "2022-02-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);

    let draft = &parsed.drafts[0];
    assert_eq!(draft.title, "Termin 4353 und\"so\"");
    assert_eq!(
        draft.url.as_deref(),
        Some("https://podio.com/xxxxxxyyyyyy/zpodio-testgelande/apps/calendar/items/5")
    );
    assert!(starts_at(draft, "2022-02-22T18:30:00Z"));
}

fn check_sixt(path: &Path) {
    let parsed = parse_file(path, "2019-06-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);

    let draft = &parsed.drafts[0];
    assert!(starts_at(draft, "2019-06-24T06:30:00Z"));
    let description = draft.description.as_deref().unwrap_or("");
    assert!(description.contains("Votre véhicule"));
    assert!(
        !description.contains("Le véhicule"),
        "the VALARM text leaked"
    );
}

fn check_thunderbird(path: &Path) {
    let parsed = parse_file(path, "2025-09-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 1);
    assert!(starts_at(&parsed.drafts[0], "2025-09-24T11:30:00Z"));
}

fn check_tripit(path: &Path) {
    let parsed = parse_file(path, "2011-10-01T00:00:00Z");
    assert_eq!(parsed.drafts.len(), 47);
    assert!(parsed.rejections.is_empty());

    let trip = &parsed.drafts[0];
    assert_eq!(trip.title, "South San Francisco, CA, October 2011;");
    assert_eq!(trip.location.latitude, Some(37.654656));
    let hotel = by_title(
        &parsed,
        "Check-in: Embassy Suites San Francisco Airport - South San Francisco",
    );
    assert_eq!(
        hotel[0].location_text.as_deref(),
        Some("250 GATEWAY BLVD, South San Francisco, CA, 94080")
    );
    let directions = &parsed.drafts[1];
    assert!(matches!(directions.start, Some(When::Local(_))));
}

/// Checks one file's drafts and rejections.
type Check = fn(&Path);

/// The expectation for each known file, by name prefix.
const CHECKS: &[(&str, Check)] = &[
    ("apple-status", check_apple),
    ("exchange-windows", check_exchange),
    ("google-birthday", check_google_birthday),
    ("google-multiline", check_google_location),
    ("nextcloud-allday-recurrence", check_nextcloud_override),
    ("nextcloud-allday-yearly", check_nextcloud_yearly),
    ("outlook-french", check_outlook_numeric_tzid),
    ("outlook2007", check_outlook_html),
    ("podio", check_podio),
    ("sixt", check_sixt),
    ("thunderbird", check_thunderbird),
    ("tripit", check_tripit),
];

#[test]
fn real_feeds_parse_as_expected() {
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
        .filter(|path| path.extension().is_some_and(|ext| ext == "ics"))
        .collect();
    paths.sort();

    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match CHECKS.iter().find(|(prefix, _)| name.starts_with(prefix)) {
            Some((_, check)) => check(&path),
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
}
