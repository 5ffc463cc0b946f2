//! One session listed by three sources (its family's OpenFresque feed, a local calendar and
//! the incumbent's export), each served by a real local HTTP server: search returns it
//! once, with the three links and the family feed's fields.

mod common;

use std::path::Path;

use common::{Behaviour, FeedServer, TestService};
use serde_json::{Value, json};

use multifresque::app::App;
use multifresque::config::Config;
use multifresque::search::SearchQuery;

const WINDOW: &str = "from=2027-05-01&to=2027-05-10";
const TICKETS: &str = "https://billetterie.example.org/sessions/fdc-11526/inscription";

fn family_feed(title: &str) -> String {
    json!({
        "openfresque_feed": "1",
        "publisher": {"name": "La Fresque du Climat"},
        "events": [{
            "id": "fdc-11526", "workshop": "FresqueClimat", "title": title,
            "description": "<p>Trois heures pour comprendre le climat.</p>",
            "url": "https://billetterie.example.org/sessions/fdc-11526",
            "tickets_url": TICKETS,
            "start": "2027-05-06T18:30:00+02:00", "end": "2027-05-06T21:30:00+02:00",
            "time_zone": "Europe/Paris", "attendance": "in_person", "languages": ["fr"],
            "location": {"name": "Salle Tronchet", "street": "33 rue Tronchet",
                         "postal_code": "69006", "city": "Lyon", "country": "FR",
                         "latitude": 45.7712, "longitude": 4.8487},
            "seats_left": 3
        }, {
            "id": "fdc-11527", "workshop": "FresqueClimat", "title": "Fresque du Climat – Vaise",
            "start": "2027-05-06T18:30:00+02:00", "time_zone": "Europe/Paris",
            "location": {"street": "2 place de Paris", "postal_code": "69009", "city": "Lyon",
                         "latitude": 45.7745, "longitude": 4.8049}
        }]
    })
    .to_string()
}

/// The same session in a calendar: no coordinates, the address in LOCATION, and a start 10
/// minutes later (the group announces the start of the game, not of the welcome).
fn calendar() -> String {
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Test//Calendar//FR",
        "BEGIN:VEVENT",
        "UID:brotteaux-0506@example.org",
        "DTSTAMP:20261201T000000Z",
        "DTSTART;TZID=Europe/Paris:20270506T184000",
        "DTEND;TZID=Europe/Paris:20270506T213000",
        "SUMMARY:Atelier Fresque du Climat aux Brotteaux",
        "DESCRIPTION:Relayé par le groupe local.",
        "LOCATION:Salle Tronchet\\, 33 rue Tronchet\\, 69006 Lyon",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n")
}

/// The same session scraped by the incumbent, with a tracking parameter on its link.
fn export() -> String {
    json!([{
        "id": "200-11526", "workshop_type": 200, "title": "Fresque du Climat Lyon",
        "description": "Atelier scrappé.",
        "start_date": "2027-05-06T18:30:00+02:00", "end_date": "2027-05-06T21:30:00+02:00",
        "online": false, "training": false, "kids": false, "sold_out": false,
        "location_name": "Salle Tronchet", "address": "33 Rue Tronchet", "city": "Lyon",
        "zip_code": "69006", "department": "69", "country_code": "fr",
        "latitude": "45.7713", "longitude": "4.8488", "language_code": "fr",
        "source_link": "https://trouver.example.org/e/200-11526",
        "tickets_link": "http://BILLETTERIE.example.org/sessions/fdc-11526/inscription/?utm_source=tuf",
        "scrape_date": "2026-12-01T00:00:00+01:00"
    }])
    .to_string()
}

fn sources(server: &FeedServer) -> String {
    format!(
        r#"
[[source]]
id = "fresque-du-climat"
kind = "openfresque"
url = "{feed}"
workshop = "FresqueClimat"

[[source]]
id = "groupe-lyon"
kind = "ics"
url = "{calendar}"
workshop = "FresqueClimat"

[[source]]
id = "export"
kind = "tuf"
url = "{export}"
"#,
        feed = server.url("feed.json"),
        calendar = server.url("agenda.ics"),
        export = server.url("export.json"),
    )
}

async fn three_sources() -> (FeedServer, TestService) {
    let server = FeedServer::start().await;
    server.set(
        "feed.json",
        Behaviour::Serve(family_feed("Fresque du Climat – Brotteaux")),
    );
    server.set("agenda.ics", Behaviour::Serve(calendar()));
    server.set("export.json", Behaviour::Serve(export()));
    let service = TestService::start(&sources(&server), Path::new(".")).await;
    for run in service.fetch_all().await {
        assert!(
            matches!(
                run.outcome,
                multifresque::scheduler::RunOutcome::Stored { .. }
            ),
            "{run:?}"
        );
    }
    (server, service)
}

fn link_sources(event: &Value) -> Vec<&str> {
    event["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["source"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn three_sources_give_one_result() {
    let (_server, service) = three_sources().await;

    let (status, body) = service.get(&format!("/api/v1/events?{WINDOW}")).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 2, "the session once, plus Vaise: {body}");
    let session = &body["events"][0];
    assert_eq!(session["id"], "fresque-du-climat~fdc-11526");
    assert_eq!(session["title"], "Fresque du Climat – Brotteaux");
    assert_eq!(session["tickets_url"], TICKETS);
    assert_eq!(session["seats_left"], 3);
    assert_eq!(session["location"]["geocoded"], "feed");
    assert_eq!(
        link_sources(session),
        vec!["fresque-du-climat", "groupe-lyon", "export"]
    );
    assert_eq!(
        session["links"][2]["url"],
        "https://trouver.example.org/e/200-11526"
    );
    assert_eq!(body["events"][1]["id"], "fresque-du-climat~fdc-11527");
}

#[tokio::test]
async fn member_id_names_the_merged_event() {
    let (_server, service) = three_sources().await;

    let (_, merged) = service
        .get("/api/v1/events/fresque-du-climat~fdc-11526")
        .await;
    let (status, member) = service.get("/api/v1/events/export~200-11526").await;

    assert_eq!(link_sources(&merged).len(), 3, "{merged}");
    assert_eq!(merged.get("merged_into"), None);
    assert_eq!(status, 200);
    assert_eq!(
        member["title"], "Fresque du Climat Lyon",
        "the export's own data"
    );
    assert_eq!(member["merged_into"], "fresque-du-climat~fdc-11526");
}

#[tokio::test]
async fn merged_id_survives_member_changes() {
    let (server, service) = three_sources().await;

    server.set(
        "feed.json",
        Behaviour::Serve(family_feed(
            "Fresque du Climat – Brotteaux (complet bientôt)",
        )),
    );
    service.fetch_all().await;
    let ids = service.search_ids(WINDOW).await;

    assert_eq!(
        ids,
        vec!["fresque-du-climat~fdc-11526", "fresque-du-climat~fdc-11527"]
    );
    let (_, body) = service
        .get(&format!("/api/v1/events?{WINDOW}&q=complet"))
        .await;
    assert_eq!(link_sources(&body["events"][0]).len(), 3, "{body}");
}

#[tokio::test]
async fn withdrawn_feed_event_leaves_the_copies_merged() {
    let (server, service) = three_sources().await;

    let only_vaise = family_feed("x").replace("fdc-11526", "fdc-gone");
    let mut feed: Value = serde_json::from_str(&only_vaise).unwrap();
    feed["events"].as_array_mut().unwrap().remove(0);
    server.set("feed.json", Behaviour::Serve(feed.to_string()));
    service.fetch_all().await;
    let (_, body) = service.get(&format!("/api/v1/events?{WINDOW}")).await;

    assert_eq!(body["total"], 2, "{body}");
    let session = &body["events"][1];
    let id = session["id"].as_str().unwrap();
    assert!(
        id.starts_with("groupe-lyon~"),
        "the calendar's copy leads: {session}"
    );
    assert_eq!(session["title"], "Atelier Fresque du Climat aux Brotteaux");
    assert_eq!(link_sources(session), vec!["groupe-lyon", "export"]);
}

#[tokio::test]
async fn quality_report_counts_merges() {
    let (_server, service) = three_sources().await;

    let (status, body) = service.get("/api/v1/sources/quality").await;

    assert_eq!(status, 200, "{body}");
    let merged: Vec<(String, u64)> = body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_owned(),
                s["merged"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        merged,
        vec![
            ("export".to_owned(), 1),
            ("fresque-du-climat".to_owned(), 1),
            ("groupe-lyon".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn priority_change_applies_at_restart() {
    let server = FeedServer::start().await;
    server.set(
        "feed.json",
        Behaviour::Serve(family_feed("Fresque du Climat – Brotteaux")),
    );
    server.set("agenda.ics", Behaviour::Serve(calendar()));
    server.set("export.json", Behaviour::Serve(export()));
    let data = tempfile::tempdir().unwrap();
    let open = |sources: String| {
        let config = Config::parse(&sources, Path::new(".")).unwrap();
        App::open_with(config, data.path(), common::fast_fetch())
    };
    let first = open(sources(&server)).await.unwrap();
    first.aggregator.run_all(&first.config, |_| {}).await;
    drop(first);

    let export_first =
        sources(&server).replace("id = \"export\"", "id = \"export\"\npriority = 99");
    let second = open(export_first).await.unwrap();
    let mut query = SearchQuery::upcoming("2027-05-01T00:00:00Z".parse().unwrap());
    query.workshops = vec!["FresqueClimat".to_owned()];
    let results = second.state.index.search(&query).unwrap();

    let merged = &results.events[0].event;
    assert_eq!(merged.id, "export~200-11526");
    assert_eq!(
        merged.title, "Fresque du Climat Lyon",
        "the export's fields now win"
    );
    assert_eq!(merged.links.len(), 3);
}
