use std::path::Path;

use chrono::NaiveDate;

use super::*;
use crate::config::Config;

fn source(extra: &str) -> Source {
    let text = format!(
        "[[source]]\nid = \"test\"\nkind = \"ics\"\nurl = \"a.ics\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\nlanguage = \"fr\"\n{extra}\n"
    );
    Config::parse(&text, Path::new("."))
        .unwrap()
        .sources
        .remove(0)
}

fn draft(title: &str) -> Draft {
    Draft {
        source_event_id: "e1".to_owned(),
        title: title.to_owned(),
        start: Some(When::Local(
            NaiveDate::from_ymd_opt(2027, 3, 14)
                .unwrap()
                .and_hms_opt(18, 30, 0)
                .unwrap(),
        )),
        ..Draft::default()
    }
}

fn normalize_with(source: &Source, draft: Draft) -> Result<Event, Rejection> {
    let catalog = Catalog::embedded();
    let gazetteer = Gazetteer::embedded();
    Normalizer {
        source,
        catalog: &catalog,
        gazetteer: &gazetteer,
    }
    .normalize(draft)
}

#[test]
fn floating_time_uses_source_zone() {
    let source = source("workshop = \"FresqueClimat\"");

    let event = normalize_with(&source, draft("Atelier")).unwrap();

    assert_eq!(event.start.to_rfc3339(), "2027-03-14T18:30:00+01:00");
    assert_eq!(event.time_zone, "Europe/Paris");
    assert_eq!(event.id, "test~e1");
}

#[test]
fn utc_instant_is_shown_in_event_zone() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut summer = draft("Atelier");
    summer.start = Some(When::Instant("2027-07-01T16:30:00Z".parse().unwrap()));
    summer.time_zone = Some("Europe/London".to_owned());

    let event = normalize_with(&source, summer).unwrap();

    assert_eq!(event.start.to_rfc3339(), "2027-07-01T17:30:00+01:00");
    assert_eq!(event.start_utc().to_rfc3339(), "2027-07-01T16:30:00+00:00");
}

#[test]
fn all_day_event_ends_next_midnight() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut day = draft("Journée");
    day.start = Some(When::Date(NaiveDate::from_ymd_opt(2027, 5, 2).unwrap()));
    day.end = Some(When::Date(NaiveDate::from_ymd_opt(2027, 5, 3).unwrap()));

    let event = normalize_with(&source, day).unwrap();

    assert_eq!(event.start.to_rfc3339(), "2027-05-02T00:00:00+02:00");
    assert_eq!(event.end.unwrap().to_rfc3339(), "2027-05-03T00:00:00+02:00");
}

#[test]
fn skipped_local_time_moves_forward() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut gap = draft("Atelier");
    gap.start = Some(When::Local(
        NaiveDate::from_ymd_opt(2027, 3, 28)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap(),
    ));

    let event = normalize_with(&source, gap).unwrap();

    assert_eq!(event.start.to_rfc3339(), "2027-03-28T03:30:00+02:00");
}

#[test]
fn rejections_name_their_reason() {
    let source = source("workshop = \"FresqueClimat\"");
    let cases = [
        ("invalid_time_zone", {
            let mut d = draft("A");
            d.time_zone = Some("Europe/Lyon".into());
            d
        }),
        ("missing_start", {
            let mut d = draft("A");
            d.start = None;
            d
        }),
        ("date_out_of_range", {
            let mut d = draft("A");
            d.start = Some(When::Date(NaiveDate::from_ymd_opt(9999, 1, 1).unwrap()));
            d
        }),
        ("end_before_start", {
            let mut d = draft("A");
            d.end = Some(When::Instant("2027-03-14T10:00:00+01:00".parse().unwrap()));
            d
        }),
        ("too_long", {
            let mut d = draft("A");
            d.end = Some(When::Instant("2027-06-14T10:00:00+01:00".parse().unwrap()));
            d
        }),
        ("missing_title", draft("<b> </b>")),
    ];

    for (reason, case) in cases {
        let rejection = normalize_with(&source, case).unwrap_err();
        assert_eq!(rejection.reason, reason, "{rejection:?}");
    }
}

#[test]
fn missing_family_without_default_is_rejected() {
    let source = source("");

    let rejection = normalize_with(&source, draft("Atelier sans famille")).unwrap_err();

    assert_eq!(rejection.reason, "missing_workshop");
}

#[test]
fn family_from_title_overrides_source_default() {
    let source = source("workshop = \"FresqueClimat\"");

    let event = normalize_with(&source, draft("Fresque du Numérique – Lyon 3e")).unwrap();

    assert_eq!(event.workshop, "FresqueNumerique");
}

#[test]
fn feed_family_wins_and_unknown_family_is_kept() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut legacy = draft("Atelier");
    legacy.workshop = Some("3".to_owned());
    let mut unknown = draft("Atelier");
    unknown.workshop = Some("FresqueDesMontagnes".to_owned());

    assert_eq!(
        normalize_with(&source, legacy).unwrap().workshop,
        "FresqueNumerique"
    );
    assert_eq!(
        normalize_with(&source, unknown).unwrap().workshop,
        "FresqueDesMontagnes"
    );
}

#[test]
fn audience_matches_whole_words_only() {
    let source = source("workshop = \"FresqueClimat\"");
    let cases = [
        ("Formation animateur Fresque du Climat", Audience::Training),
        ("Fresque du Climat pour enfants", Audience::Kids),
        ("Atelier informationnel", Audience::GeneralPublic),
        ("Atelier à London Road", Audience::GeneralPublic),
        ("Fresque Junior", Audience::Kids),
    ];

    for (title, audience) in cases {
        assert_eq!(
            normalize_with(&source, draft(title)).unwrap().audience,
            audience,
            "{title}"
        );
    }
}

#[test]
fn video_call_location_means_online() {
    let source = source("workshop = \"FresqueClimat\"");
    for location in [
        "https://zoom.us/j/123456",
        "Google Meet: https://meet.google.com/abc-defg-hij",
        "https://visio-agents.education.fr/",
        "En ligne",
    ] {
        let mut call = draft("Atelier");
        call.location_text = Some(location.to_owned());

        let event = normalize_with(&source, call).unwrap();

        assert_eq!(event.attendance, Attendance::Online, "{location}");
        assert_eq!(event.location.coordinates(), None, "{location}");
    }
}

#[test]
fn address_line_is_split_into_fields() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut address = draft("Atelier");
    address.location_text =
        Some("MJC Monplaisir, 25 avenue des Frères Lumière, 69008 Lyon, France".to_owned());

    let event = normalize_with(&source, address).unwrap();

    assert_eq!(event.location.name.as_deref(), Some("MJC Monplaisir"));
    assert_eq!(
        event.location.street.as_deref(),
        Some("25 avenue des Frères Lumière")
    );
    assert_eq!(event.location.postal_code.as_deref(), Some("69008"));
    assert_eq!(event.location.city.as_deref(), Some("Lyon"));
    assert_eq!(event.location.country.as_deref(), Some("FR"));
    assert_eq!(event.attendance, Attendance::InPerson);
}

#[test]
fn invalid_coordinates_are_dropped() {
    let source = source("workshop = \"FresqueClimat\"");
    for (lat, lon) in [(f64::NAN, 4.8), (95.0, 4.8), (45.0, 200.0), (0.0, 0.0)] {
        let mut bad = draft("Atelier");
        bad.location.latitude = Some(lat);
        bad.location.longitude = Some(lon);

        let event = normalize_with(&source, bad).unwrap();

        assert_eq!(event.location.coordinates(), None, "{lat},{lon}");
    }
}

#[test]
fn html_is_cleaned_from_text() {
    assert_eq!(
        clean_html("<p>Venez&nbsp;nombreux&nbsp;!</p><p>Billets : <a href=\"x\">ici</a></p>"),
        "Venez nombreux !\n\nBillets : ici"
    );
    assert_eq!(clean_html("a < b et c > d"), "a < b et c > d");
    assert_eq!(clean_html("<script>alert(1)</script>Bonjour"), "Bonjour");
    assert_eq!(clean_html("<img src=x onerror=alert(1)>"), "");
    assert_eq!(clean_html("Texte &amp; suite"), "Texte & suite");
}

#[test]
fn only_web_links_are_kept() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut links = draft("Atelier");
    links.url = Some("javascript:alert(1)".to_owned());
    links.tickets_url = Some("https://billetweb.fr/x".to_owned());

    let event = normalize_with(&source, links).unwrap();

    assert_eq!(event.url, None);
    assert_eq!(event.tickets_url.as_deref(), Some("https://billetweb.fr/x"));
}

#[test]
fn zero_seats_left_means_sold_out() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut full = draft("Atelier");
    full.seats_left = Some(0);

    assert_eq!(
        normalize_with(&source, full).unwrap().status,
        Status::SoldOut
    );
}

#[test]
fn languages_keep_primary_subtag_or_source_default() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut tagged = draft("Atelier");
    tagged.languages = vec!["en-GB".to_owned(), "EN".to_owned(), "x".to_owned()];

    assert_eq!(
        normalize_with(&source, tagged).unwrap().languages,
        vec!["en"]
    );
    assert_eq!(
        normalize_with(&source, draft("Atelier")).unwrap().languages,
        vec!["fr"]
    );
}

#[test]
fn unsafe_ids_are_hashed_stably() {
    assert_eq!(event_id("s", "abc-1.2_3"), "s~abc-1.2_3");
    assert_eq!(event_id("s", "primary~fdc-1"), "s~primary~fdc-1");
    assert_eq!(
        event_id("s", "uid@google.com/20270101T100000Z"),
        event_id("s", "uid@google.com/20270101T100000Z")
    );
    assert!(event_id("s", "uid@google.com").starts_with("s~h"));
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
}

#[test]
fn clean_html_is_linear_on_hostile_text() {
    let hostile = "<a".repeat(500_000) + &"< ".repeat(500_000);

    let cleaned = clean_html(&hostile);

    assert!(cleaned.len() <= hostile.len());
}

#[test]
fn zone_follows_country_and_overseas_postal_code() {
    let source = source("workshop = \"FresqueClimat\"");
    let cases = [
        (
            Some("CH"),
            None,
            "Europe/Zurich",
            "2027-03-14T18:30:00+01:00",
        ),
        (
            Some("GB"),
            None,
            "Europe/London",
            "2027-03-14T18:30:00+00:00",
        ),
        (
            None,
            Some("97400"),
            "Indian/Reunion",
            "2027-03-14T18:30:00+04:00",
        ),
        (
            Some("FR"),
            Some("97200"),
            "America/Martinique",
            "2027-03-14T18:30:00-04:00",
        ),
        (
            Some("FR"),
            Some("69003"),
            "Europe/Paris",
            "2027-03-14T18:30:00+01:00",
        ),
        (
            Some("JP"),
            None,
            "Europe/Paris",
            "2027-03-14T18:30:00+01:00",
        ),
    ];

    for (country, postal_code, zone, start) in cases {
        let mut away = draft("Atelier");
        away.location.city = Some("Ville".to_owned());
        away.location.country = country.map(str::to_owned);
        away.location.postal_code = postal_code.map(str::to_owned);

        let event = normalize_with(&source, away).unwrap();

        assert_eq!(event.time_zone, zone, "{country:?} {postal_code:?}");
        assert_eq!(
            event.start.to_rfc3339(),
            start,
            "{country:?} {postal_code:?}"
        );
    }
}

#[test]
fn control_and_bidi_characters_are_removed() {
    let source = source("workshop = \"FresqueClimat\"");

    let event = normalize_with(
        &source,
        draft("Atelier\u{1b}]0;PWNED\u{7} \u{202e}Lyon\u{0}"),
    )
    .unwrap();

    assert_eq!(event.title, "Atelier]0;PWNED Lyon");
}

#[test]
fn decomposed_accents_are_composed() {
    let source = source("workshop = \"FresqueClimat\"");

    let event = normalize_with(&source, draft("Nume\u{301}rique")).unwrap();

    assert_eq!(event.title, "Numérique");
}

#[test]
fn oversized_family_code_is_rejected() {
    let source = source("workshop = \"FresqueClimat\"");
    let mut long = draft("Atelier");
    long.workshop = Some("F".repeat(5000));

    assert_eq!(
        normalize_with(&source, long).unwrap_err().reason,
        "invalid_workshop"
    );
}
