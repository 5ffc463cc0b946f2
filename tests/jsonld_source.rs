//! A source of kind `jsonld` read end to end: an HTML agenda page with schema.org events,
//! served by a real local server, becomes searchable sessions.

mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use common::{Behaviour, FeedServer, TestService};

#[tokio::test]
async fn html_page_events_become_searchable() {
    let start = (Utc::now() + Duration::days(10)).format("%Y-%m-%dT18:30:00+01:00");
    let end = (Utc::now() + Duration::days(10)).format("%Y-%m-%dT21:30:00+01:00");
    let page = format!(
        r#"<!doctype html><html><head><title>Agenda</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@graph": [
  {{"@type": "EducationEvent", "@id": "https://agenda.example.org/e/1", "name": "Fresque du Climat à Grenoble",
    "startDate": "{start}", "endDate": "{end}",
    "location": {{"@type": "Place", "name": "Maison des associations",
      "address": {{"@type": "PostalAddress", "addressLocality": "Grenoble", "postalCode": "38000", "addressCountry": "FR"}}}},
    "offers": {{"@type": "Offer", "price": "0", "priceCurrency": "EUR", "url": "https://billets.example.org/1"}}}},
  {{"@type": "Event", "@id": "https://agenda.example.org/e/2", "name": "Fresque du Numérique en ligne",
    "startDate": "{start}", "eventAttendanceMode": "https://schema.org/OnlineEventAttendanceMode",
    "location": {{"@type": "VirtualLocation", "url": "https://visio.example.org/2"}}}},
  {{"@type": "Event", "@id": "https://agenda.example.org/e/3", "name": "Fresque annulée",
    "startDate": "{start}", "eventStatus": "https://schema.org/EventCancelled",
    "location": {{"@type": "Place", "address": "Grenoble"}}}}
]}}</script></head><body></body></html>"#
    );
    let feeds = FeedServer::start().await;
    feeds.set("agenda.html", Behaviour::Serve(page));
    let sources = format!(
        "[[source]]\nid = \"agenda\"\nkind = \"jsonld\"\nurl = \"{}\"\nworkshop = \"FresqueClimat\"\ncountry = \"FR\"\nlanguage = \"fr\"\n",
        feeds.url("agenda.html")
    );
    let service = TestService::start(&sources, Path::new(".")).await;

    let runs = service.fetch_all().await;

    assert!(format!("{runs:?}").contains("kept: 3"), "{runs:?}");
    let (_, near) = service
        .get("/api/v1/events?near=Grenoble&radius_km=10")
        .await;
    assert_eq!(near["total"], 1, "{near}");
    let grenoble = &near["events"][0];
    assert_eq!(grenoble["workshop"], "FresqueClimat");
    assert_eq!(grenoble["location"]["geocoded"], "gazetteer");
    assert_eq!(grenoble["price"]["free"], true);
    assert_eq!(grenoble["tickets_url"], "https://billets.example.org/1");
    let (_, online) = service.get("/api/v1/events?attendance=online").await;
    assert_eq!(
        online["events"][0]["workshop"], "FresqueNumerique",
        "family read from the title"
    );
    let (_, cancelled) = service.get("/api/v1/events?q=annulée").await;
    assert_eq!(cancelled["total"], 0, "cancelled sessions are not listed");
}

#[tokio::test]
async fn bundled_agenda_example_is_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(root.join("sources-jsonld.toml")).unwrap();
    let service = TestService::start(&text, &root).await;

    let runs = service.fetch_all().await;

    assert!(
        format!("{runs:?}").contains("kept: 9, rejected: 0"),
        "{runs:?}"
    );
    let (_, monthly) = service
        .get("/api/v1/events?from=2027-01-01&q=premier%20mardi")
        .await;
    assert_eq!(monthly["total"], 6, "{monthly}");
    let (_, cancelled) = service
        .get("/api/v1/events/fresques-grenoble~h0000000000000000")
        .await;
    assert_eq!(
        cancelled["error"]["code"], "not_found",
        "ids of URLs are hashed"
    );
}
