//! Test vectors from mistakes that real multi-fresque data has caused: each test feeds the
//! case through a real local feed server and the real pipeline, and checks the value a
//! participant must see.

mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use common::{Behaviour, FeedServer, TestService};
use serde_json::{Value, json};

use multifresque::scheduler::{RunOutcome, SourceRun};

/// A service reading one source of `kind` whose feed is `body`; `settings` are extra lines
/// of the `[[source]]` table.
async fn ingest(
    kind: &str,
    body: String,
    settings: &str,
) -> (FeedServer, TestService, Vec<SourceRun>) {
    let server = FeedServer::start().await;
    server.set("feed", Behaviour::Serve(body));
    let sources = format!(
        "[[source]]\nid = \"src\"\nkind = \"{kind}\"\nurl = \"{}\"\n{settings}\n",
        server.url("feed")
    );
    let service = TestService::start(&sources, Path::new(".")).await;
    let runs = service.fetch_all().await;
    (server, service, runs)
}

/// Every searchable event from 2020 on, soonest first.
async fn events(service: &TestService) -> Vec<Value> {
    let (status, body) = service
        .get("/api/v1/events?from=2020-01-01&limit=100")
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

async fn rejections(service: &TestService) -> Value {
    let (_, body) = service.get("/api/v1/sources/quality").await;
    body["sources"][0]["rejections"].clone()
}

fn openfresque(events: Vec<Value>) -> String {
    common::feed(events, None)
}

fn calendar(events: &[&str]) -> String {
    let mut lines = vec!["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//FR"];
    let body = events.join("\r\n");
    lines.push(&body);
    lines.push("END:VCALENDAR");
    lines.join("\r\n") + "\r\n"
}

fn tuf_record(id: &str, overrides: Value) -> Value {
    let mut record = json!({
        "id": id, "workshop_type": 200, "title": "Atelier Fresque du Climat",
        "description": "", "start_date": "2027-03-04T18:30:00+01:00",
        "end_date": "2027-03-04T21:30:00+01:00", "online": false, "training": false,
        "kids": false, "sold_out": false, "location_name": "", "address": "",
        "city": "Lyon", "department": "69", "zip_code": "69003", "country_code": "fr",
        "latitude": "", "longitude": "", "language_code": "fr",
        "source_link": "https://example.org/e", "tickets_link": "https://example.org/t",
        "scrape_date": "2026-12-01T00:00:00+01:00"
    });
    for (key, value) in overrides.as_object().unwrap() {
        record[key] = value.clone();
    }
    record
}

const PARIS_SOURCE: &str = "workshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\nlanguage = \"fr\"";

// --- Times and zones -------------------------------------------------------------------

#[tokio::test]
async fn utc_time_is_converted_not_relabelled() {
    let event = json!({"id": "z", "workshop": "FresqueClimat", "title": "Atelier",
                       "start": "2027-04-15T16:30:00Z", "time_zone": "Europe/Paris"});

    let (_server, service, _) = ingest("openfresque", openfresque(vec![event]), PARIS_SOURCE).await;

    assert_eq!(
        events(&service).await[0]["start"],
        "2027-04-15T18:30:00+02:00"
    );
}

#[tokio::test]
async fn london_floating_time_stays_london() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:london-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20270415T183000\r\nDTEND:20270415T213000\r\nSUMMARY:Climate Fresk workshop\r\nLOCATION:Impact Hub\\, 34b York Way\\, London\r\nEND:VEVENT",
    ]);
    let settings = "workshop = \"FresqueClimat\"\ntime_zone = \"Europe/London\"\ncountry = \"GB\"";

    let (_server, service, _) = ingest("ics", body, settings).await;
    let event = &events(&service).await[0];

    assert_eq!(
        event["start"], "2027-04-15T18:30:00+01:00",
        "not Paris time"
    );
    assert_eq!(event["time_zone"], "Europe/London");
}

#[tokio::test]
async fn swiss_zone_from_tzid_wins_over_source() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:geneve-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Zurich:20270415T183000\r\nSUMMARY:Fresque du Climat à Genève\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;
    let event = &events(&service).await[0];

    assert_eq!(event["start"], "2027-04-15T18:30:00+02:00");
    assert_eq!(event["time_zone"], "Europe/Zurich");
}

#[tokio::test]
async fn session_later_today_stays_today() {
    let start = Utc::now() + Duration::minutes(90);
    let event = json!({"id": "today", "workshop": "FresqueClimat", "title": "Atelier du soir",
                       "start": start.to_rfc3339(), "time_zone": "Europe/Paris"});

    let (_server, service, _) = ingest("openfresque", openfresque(vec![event]), PARIS_SOURCE).await;
    let ids = service.search_ids("").await;
    let (_, found) = service.get("/api/v1/events/src~today").await;

    assert_eq!(
        ids,
        vec!["src~today"],
        "listed by the default search, which starts now"
    );
    let served = chrono::DateTime::parse_from_rfc3339(found["start"].as_str().unwrap()).unwrap();
    assert_eq!(
        served.to_utc(),
        start,
        "the same instant, not pushed to another day or year"
    );
}

// --- iCalendar ---------------------------------------------------------------------------

#[tokio::test]
async fn valarm_does_not_break_the_calendar() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:a1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Atelier avec rappel\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Rappel\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\nEND:VEVENT",
        "BEGIN:VEVENT\r\nUID:a2\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270305T183000\r\nSUMMARY:Atelier suivant\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    assert_eq!(events(&service).await.len(), 2);
}

#[tokio::test]
async fn ticket_link_comes_from_html_description() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:t1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Atelier\r\nDESCRIPTION:<p>Inscription : <a href=\"https://billetterie.example.org/t1\">ici</a></p>\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    assert_eq!(
        events(&service).await[0]["tickets_url"],
        "https://billetterie.example.org/t1"
    );
}

#[tokio::test]
async fn video_link_location_means_online() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:v1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Atelier du jeudi\r\nLOCATION:https://meet.google.com/abc-defg-hij\r\nEND:VEVENT",
        "BEGIN:VEVENT\r\nUID:v2\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270305T183000\r\nSUMMARY:Atelier du vendredi\r\nLOCATION:https://us02web.zoom.us/j/85012345678\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    for event in events(&service).await {
        assert_eq!(event["attendance"], "online", "{event}");
        assert_eq!(event["location"].get("latitude"), None, "{event}");
    }
}

#[tokio::test]
async fn categories_override_family_and_language() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:c1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Atelier\r\nCATEGORIES:FresqueOceane,en\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;
    let event = &events(&service).await[0];

    assert_eq!(event["workshop"], "FresqueOceane");
    assert_eq!(event["languages"], json!(["en"]));
}

#[tokio::test]
async fn moved_occurrence_keeps_its_own_location() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:serie\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Atelier hebdomadaire\r\nLOCATION:MJC\\, 3 rue Victor Hugo\\, 69002 Lyon\r\nEND:VEVENT",
        "BEGIN:VEVENT\r\nUID:serie\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID;TZID=Europe/Paris:20270311T183000\r\nDTSTART;TZID=Europe/Paris:20270311T183000\r\nSUMMARY:Atelier hebdomadaire (déplacé)\r\nLOCATION:Maison des Associations\\, 2 rue de la République\\, 69100 Villeurbanne\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;
    let events = events(&service).await;
    let cities: Vec<&str> = events
        .iter()
        .map(|e| e["location"]["city"].as_str().unwrap())
        .collect();

    assert_eq!(cities, vec!["Lyon", "Villeurbanne", "Lyon"]);
    let ids: std::collections::HashSet<&str> =
        events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "each occurrence is its own session");
}

#[tokio::test]
async fn multi_day_listing_is_rejected() {
    let festival = json!({"id": "festival", "workshop": "FresqueClimat",
                          "title": "Festival du climat : trois jours d'ateliers",
                          "start": "2027-06-04T10:00:00+02:00", "end": "2027-06-06T18:00:00+02:00"});
    let training = json!({"id": "training", "workshop": "FresqueClimat",
                          "title": "Formation animateur (journée)",
                          "start": "2027-06-05T09:00:00+02:00", "end": "2027-06-05T18:00:00+02:00"});

    let (_server, service, _) = ingest(
        "openfresque",
        openfresque(vec![festival, training]),
        PARIS_SOURCE,
    )
    .await;

    let ids: Vec<String> = events(&service)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec!["src~training"]);
    assert_eq!(rejections(&service).await["too_long"], 1);
}

#[tokio::test]
async fn all_day_event_on_clock_change_is_kept() {
    // 31 October 2027: clocks go back in Paris, so this day lasts 25 hours.
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:jour\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;VALUE=DATE:20271031\r\nDTEND;VALUE=DATE:20271101\r\nSUMMARY:Journée des fresques\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    assert_eq!(events(&service).await.len(), 1);
}

// --- Keywords ----------------------------------------------------------------------------

#[tokio::test]
async fn london_and_donnees_are_not_a_gift() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:l1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/London:20270304T183000\r\nSUMMARY:Fresque du Climat London\r\nDESCRIPTION:Les données du GIEC en trois heures.\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;
    let event = &events(&service).await[0];

    assert_eq!(event.get("price"), None, "no price is made up from words");
    assert_eq!(event["audience"], "general_public");
    assert_eq!(event["status"], "scheduled");
}

#[tokio::test]
async fn complet_in_a_negation_is_not_sold_out() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:p1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Atelier pas encore complet\r\nDESCRIPTION:Il reste des places : l'atelier n'est pas complet.\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    assert_eq!(events(&service).await[0]["status"], "scheduled");
}

#[tokio::test]
async fn kids_come_from_the_kids_field() {
    let records = json!([
        tuf_record(
            "200-1",
            json!({"title": "Fresque du Climat, enfants bienvenus avec leurs parents"})
        ),
        tuf_record(
            "200-2",
            json!({"title": "Fresque du Climat Junior", "kids": true,
                                   "start_date": "2027-03-05T14:00:00+01:00",
                                   "end_date": "2027-03-05T16:00:00+01:00"})
        ),
    ]);

    let (_server, service, _) = ingest("tuf", records.to_string(), PARIS_SOURCE).await;
    let audiences: Vec<Value> = events(&service)
        .await
        .iter()
        .map(|e| e["audience"].clone())
        .collect();

    assert_eq!(audiences, vec![json!("general_public"), json!("kids")]);
}

#[tokio::test]
async fn children_in_description_do_not_make_kids() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:k1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Fresque du Climat\r\nDESCRIPTION:Garde d'enfants possible sur place.\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;

    assert_eq!(events(&service).await[0]["audience"], "general_public");
}

#[tokio::test]
async fn title_keyword_splits_a_shared_ticket_page() {
    let body = calendar(&[
        "BEGIN:VEVENT\r\nUID:s1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Fresque Océane – Marseille\r\nURL:https://billetterie.example.org/collectif\r\nEND:VEVENT",
        "BEGIN:VEVENT\r\nUID:s2\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:Fresque du Climat – Marseille\r\nURL:https://billetterie.example.org/collectif\r\nEND:VEVENT",
    ]);

    let (_server, service, _) = ingest("ics", body, PARIS_SOURCE).await;
    let mut families: Vec<String> = events(&service)
        .await
        .iter()
        .map(|e| e["workshop"].as_str().unwrap().to_owned())
        .collect();
    families.sort();

    assert_eq!(families, vec!["FresqueClimat", "FresqueOceane"]);
}

// --- Ids and failures --------------------------------------------------------------------

#[tokio::test]
async fn ids_are_stable_across_runs_and_processes() {
    let body = |title: &str| {
        calendar(&[&format!(
            "BEGIN:VEVENT\r\nUID:4kq7v1c2@google.com\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;TZID=Europe/Paris:20270304T183000\r\nSUMMARY:{title}\r\nEND:VEVENT"
        )])
    };
    let (server, service, _) = ingest("ics", body("Atelier"), PARIS_SOURCE).await;
    let first = service.search_ids("from=2020-01-01").await;

    server.set("feed", Behaviour::Serve(body("Atelier modifié")));
    let runs = service.fetch_all().await;
    let second = service.search_ids("from=2020-01-01").await;

    // A hash of the UID that does not depend on the process or the build.
    assert_eq!(first, vec!["src~h794076cea9f43000"]);
    assert_eq!(second, first);
    match &runs[0].outcome {
        RunOutcome::Stored { applied, .. } => {
            assert_eq!((applied.added, applied.updated), (0, 1), "{applied:?}")
        }
        other => panic!("{other:?}"),
    }
}

/// Two countries' exports, both linking every session to one generic page: a failing or
/// empty export leaves the other country's events, and its own, in place.
#[tokio::test]
async fn failing_or_empty_source_keeps_its_events() {
    let server = FeedServer::start().await;
    let record = |id: &str, city: &str, country: &str| {
        tuf_record(
            id,
            json!({"city": city, "country_code": country, "zip_code": ""}),
        )
    };
    server.set(
        "fr",
        Behaviour::Serve(json!([record("200-1", "Lyon", "fr")]).to_string()),
    );
    server.set(
        "ch",
        Behaviour::Serve(json!([record("200-2", "Genève", "ch")]).to_string()),
    );
    let sources = format!(
        "[[source]]\nid = \"fr\"\nkind = \"tuf\"\nurl = \"{}\"\n\n[[source]]\nid = \"ch\"\nkind = \"tuf\"\nurl = \"{}\"\ntime_zone = \"Europe/Zurich\"\n",
        server.url("fr"),
        server.url("ch")
    );
    let service = TestService::start(&sources, Path::new(".")).await;
    service.fetch_all().await;

    server.set("ch", Behaviour::Serve("[]".to_owned()));
    server.set("fr", Behaviour::Status(500));
    service.fetch_all().await;

    let mut ids = service.search_ids("from=2020-01-01").await;
    ids.sort();
    assert_eq!(ids, vec!["ch~200-2", "fr~200-1"]);
}

#[tokio::test]
async fn duplicate_inside_one_source_is_reported() {
    let records = json!([
        tuf_record("200-1", json!({"tickets_link": "https://example.org/t/9"})),
        tuf_record(
            "200-1b",
            json!({"tickets_link": "https://example.org/t/9?utm_source=x"})
        ),
    ]);

    let (server, service, _) = ingest("tuf", records.to_string(), PARIS_SOURCE).await;

    assert_eq!(
        service.search_ids("from=2020-01-01").await,
        vec!["src~200-1"]
    );
    assert_eq!(rejections(&service).await["duplicate_event"], 1);

    // The export listed the copy alone before: once the original appears, the copy goes.
    server.set(
        "feed",
        Behaviour::Serve(json!([records[1].clone()]).to_string()),
    );
    service.fetch_all().await;
    assert_eq!(
        service.search_ids("from=2020-01-01").await,
        vec!["src~200-1b"]
    );
    server.set("feed", Behaviour::Serve(records.to_string()));
    service.fetch_all().await;
    assert_eq!(
        service.search_ids("from=2020-01-01").await,
        vec!["src~200-1"]
    );
}

// --- Addresses ---------------------------------------------------------------------------

/// The position an export record without coordinates gets.
async fn placed(overrides: Value) -> (f64, f64) {
    let records = json!([tuf_record("200-1", overrides)]);
    let (_server, service, _) = ingest("tuf", records.to_string(), PARIS_SOURCE).await;
    let events = events(&service).await;
    let location = &events[0]["location"];
    (
        location["latitude"]
            .as_f64()
            .unwrap_or_else(|| panic!("not placed: {location}")),
        location["longitude"].as_f64().unwrap(),
    )
}

fn near(found: (f64, f64), expected: (f64, f64), km: f64) -> bool {
    multifresque::search::distance_km(found, expected) <= km
}

#[tokio::test]
async fn upper_case_city_without_postal_code_is_placed() {
    let found =
        placed(json!({"city": "SAINT-ÉTIENNE", "zip_code": "", "department": "Loire"})).await;

    assert!(near(found, (45.434, 4.390), 10.0), "{found:?}");
}

#[tokio::test]
async fn parenthesised_note_in_address_is_ignored() {
    let found = placed(json!({"city": "Villeurbanne", "zip_code": "69100",
                              "address": "2 rue de la République (2e étage)"}))
    .await;

    assert!(near(found, (45.771, 4.890), 10.0), "{found:?}");
}

#[tokio::test]
async fn overseas_departments_are_placed_overseas() {
    // Saint-Denis of La Réunion, not Saint-Denis near Paris.
    let reunion =
        placed(json!({"city": "Saint-Denis", "zip_code": "97400", "department": "974"})).await;
    let guadeloupe =
        placed(json!({"city": "Pointe-à-Pitre", "zip_code": "97110", "department": "971"})).await;

    assert!(near(reunion, (-20.88, 55.45), 15.0), "{reunion:?}");
    assert!(near(guadeloupe, (16.24, -61.53), 15.0), "{guadeloupe:?}");
}

#[tokio::test]
async fn overseas_collectivities_are_placed() {
    let cases = [
        ("Saint-Pierre", "97500", (46.78, -56.17)),
        ("Gustavia", "97133", (17.90, -62.85)),
        ("Marigot", "97150", (18.07, -63.08)),
        ("Mata-Utu", "98600", (-13.28, -176.17)),
        ("Papeete", "98714", (-17.53, -149.57)),
        ("Nouméa", "98800", (-22.27, 166.44)),
    ];
    for (city, postal_code, expected) in cases {
        let found = placed(json!({"city": city, "zip_code": postal_code})).await;

        assert!(near(found, expected, 30.0), "{city}: {found:?}");
    }
}
