use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::catalog::Catalog;
use crate::event::{Audience, Location, Price, Status};
use crate::store::{FetchRecord, Outcome, Validators};

fn event(source: &str, id: &str, start: &str) -> Event {
    Event {
        id: format!("{source}~{id}"),
        workshop: "FresqueClimat".to_owned(),
        title: "Fresque du Climat".to_owned(),
        description: String::new(),
        url: None,
        tickets_url: None,
        start: start.parse().unwrap(),
        end: None,
        time_zone: "Europe/Paris".to_owned(),
        attendance: Attendance::InPerson,
        audience: Audience::GeneralPublic,
        languages: Vec::new(),
        location: Location::default(),
        capacity: None,
        seats_left: None,
        status: Status::Scheduled,
        price: None,
        updated_at: None,
        source: source.to_owned(),
        source_event_id: id.to_owned(),
        links: Vec::new(),
    }
}

fn at_venue(mut event: Event, latitude: f64, longitude: f64) -> Event {
    event.location = Location {
        street: Some("33 rue Tronchet".to_owned()),
        postal_code: Some("69006".to_owned()),
        city: Some("Lyon".to_owned()),
        country: Some("FR".to_owned()),
        latitude: Some(latitude),
        longitude: Some(longitude),
        geocoded: Some("feed".to_owned()),
        ..Location::default()
    };
    event
}

fn priorities() -> Priorities {
    [("feed", 40), ("calendar", 20), ("export", 10)]
        .into_iter()
        .map(|(source, priority)| (source.to_owned(), priority))
        .collect()
}

const EVENING: &str = "2027-05-06T18:30:00+02:00";

#[test]
fn link_key_ignores_scheme_case_and_tracking() {
    assert_eq!(
        link_key("http://WWW.Example.org/s/42/?utm_source=news&b=2&a=1#top"),
        link_key("https://example.org/s/42?a=1&b=2&fbclid=xyz"),
    );
    assert_ne!(
        link_key("https://example.org/s/42"),
        link_key("https://example.org/s/43")
    );
    assert_eq!(link_key("javascript:alert(1)"), None);
}

#[test]
fn same_ticket_link_matches_within_tolerance() {
    let mut a = event("feed", "a", EVENING);
    let mut b = event("export", "b", "2027-05-06T18:40:00+02:00");
    a.tickets_url = Some("https://tickets.example.org/s/1".to_owned());
    b.tickets_url = Some("http://tickets.example.org/s/1/?utm_medium=x".to_owned());

    assert!(same_session(&a, &b));

    b.start = "2027-05-06T18:50:00+02:00".parse().unwrap();
    assert!(!same_session(&a, &b), "20 minutes apart");
}

#[test]
fn generic_link_in_two_towns_does_not_match() {
    let mut lyon = at_venue(event("feed", "a", EVENING), 45.7712, 4.8487);
    let mut geneve = at_venue(event("export", "b", EVENING), 46.2044, 6.1432);
    lyon.tickets_url = Some("https://fresque.example.org/participer".to_owned());
    geneve.tickets_url = lyon.tickets_url.clone();

    assert!(!same_session(&lyon, &geneve));
}

#[test]
fn other_family_never_matches() {
    let mut a = event("feed", "a", EVENING);
    let mut b = event("export", "b", EVENING);
    a.tickets_url = Some("https://tickets.example.org/s/1".to_owned());
    b.tickets_url = a.tickets_url.clone();
    b.workshop = "FresqueNumerique".to_owned();

    assert!(!same_session(&a, &b));
}

#[test]
fn close_precise_positions_match() {
    let a = at_venue(event("feed", "a", EVENING), 45.7712, 4.8487);
    let near = at_venue(event("export", "b", EVENING), 45.7722, 4.8490);
    let far = at_venue(event("export", "c", EVENING), 45.7800, 4.8487);

    assert!(same_session(&a, &near), "about 110 m apart");
    assert!(!same_session(&a, &far), "about 1 km apart");
}

#[test]
fn town_centres_need_the_same_street() {
    let mut a = at_venue(event("feed", "a", EVENING), 45.76, 4.84);
    let mut b = at_venue(event("export", "b", EVENING), 45.76, 4.84);
    a.location.geocoded = Some("gazetteer".to_owned());
    b.location.geocoded = Some("gazetteer".to_owned());
    b.location.street = Some("12 place Bellecour".to_owned());

    assert!(
        !same_session(&a, &b),
        "two venues placed at the same city centre"
    );

    b.location.street = Some("33, Rue Tronchet".to_owned());
    assert!(same_session(&a, &b));
}

#[test]
fn online_sessions_match_by_title() {
    let mut a = event("feed", "a", EVENING);
    let mut b = event("export", "b", EVENING);
    a.attendance = Attendance::Online;
    b.attendance = Attendance::Online;
    a.title = "Fresque du Climat en ligne".to_owned();
    b.title = "FRESQUE DU CLIMAT – en ligne".to_owned();

    assert!(same_session(&a, &b));

    b.title = "Fresque du Climat en ligne (anglais)".to_owned();
    assert!(!same_session(&a, &b));
}

#[test]
fn cluster_id_is_the_highest_priority_member() {
    let events = vec![
        at_venue(event("export", "x1", EVENING), 45.7712, 4.8487),
        at_venue(event("calendar", "c1", EVENING), 45.7712, 4.8487),
        at_venue(event("feed", "f1", EVENING), 45.7712, 4.8487),
    ];

    let clusters = cluster(&events, &priorities());

    for id in ["export~x1", "calendar~c1", "feed~f1"] {
        assert_eq!(clusters.cluster_of(id), "feed~f1", "{id}");
    }
}

#[test]
fn cluster_takes_one_event_per_source() {
    let events = vec![
        at_venue(event("feed", "room-a", EVENING), 45.7712, 4.8487),
        at_venue(event("feed", "room-b", EVENING), 45.7712, 4.8487),
        at_venue(event("export", "x1", EVENING), 45.7712, 4.8487),
    ];

    let clusters = cluster(&events, &priorities());

    assert_eq!(clusters.assignments.len(), 2, "{clusters:?}");
    assert_eq!(clusters.cluster_of("export~x1"), "feed~room-a");
    assert_eq!(clusters.cluster_of("feed~room-b"), "feed~room-b");
}

#[test]
fn clustering_ignores_input_order() {
    let mut events = vec![
        at_venue(event("export", "x1", EVENING), 45.7712, 4.8487),
        at_venue(event("feed", "f1", EVENING), 45.7712, 4.8487),
        at_venue(
            event("calendar", "c1", "2027-05-06T18:35:00+02:00"),
            45.7713,
            4.8487,
        ),
        event("export", "alone", EVENING),
    ];
    let first = cluster(&events, &priorities());

    events.reverse();
    let second = cluster(&events, &priorities());

    assert_eq!(first, second);
}

#[test]
fn equal_priorities_break_ties_by_source_id() {
    let events = vec![
        at_venue(event("zeta", "z", EVENING), 45.7712, 4.8487),
        at_venue(event("alpha", "a", EVENING), 45.7712, 4.8487),
    ];

    let clusters = cluster(&events, &Priorities::new());

    assert_eq!(clusters.cluster_of("zeta~z"), "alpha~a");
}

#[test]
fn merge_prefers_priority_and_fills_gaps() {
    let mut feed = at_venue(event("feed", "f1", EVENING), 45.7712, 4.8487);
    feed.title = "Fresque du Climat – Brotteaux".to_owned();
    feed.tickets_url = Some("https://feed.example.org/f1".to_owned());
    let mut export = at_venue(event("export", "x1", EVENING), 45.7712, 4.8487);
    export.title = "Atelier Fresque du Climat".to_owned();
    export.description = "Une description".to_owned();
    export.tickets_url = Some("https://export.example.org/x1".to_owned());
    export.price = Some(Price {
        free: true,
        ..Price::default()
    });
    export.languages = vec!["fr".to_owned()];

    let merged = merge(&[&feed, &export]).unwrap();

    assert_eq!(merged.id, "feed~f1");
    assert_eq!(merged.title, "Fresque du Climat – Brotteaux");
    assert_eq!(
        merged.tickets_url.as_deref(),
        Some("https://feed.example.org/f1")
    );
    assert_eq!(merged.description, "Une description");
    assert!(merged.price.unwrap().free);
    assert_eq!(merged.languages, vec!["fr".to_owned()]);
    let sources: Vec<&str> = merged.links.iter().map(|l| l.source.as_str()).collect();
    assert_eq!(sources, vec!["feed", "export"]);
    assert_eq!(
        merged.links[1].tickets_url.as_deref(),
        Some("https://export.example.org/x1")
    );
}

#[test]
fn online_merge_takes_no_place() {
    let mut feed = event("feed", "f1", EVENING);
    feed.attendance = Attendance::Online;
    let export = at_venue(event("export", "x1", EVENING), 45.7712, 4.8487);

    let merged = merge(&[&feed, &export]).unwrap();

    assert!(merged.location.is_empty(), "{:?}", merged.location);
}

#[test]
fn merge_takes_the_most_precise_position() {
    let mut feed = at_venue(event("feed", "f1", EVENING), 45.76, 4.84);
    feed.location.geocoded = Some("gazetteer".to_owned());
    let export = at_venue(event("export", "x1", EVENING), 45.7712, 4.8487);

    let merged = merge(&[&feed, &export]).unwrap();

    assert_eq!(merged.location.coordinates(), Some((45.7712, 4.8487)));
    assert_eq!(merged.location.geocoded.as_deref(), Some("feed"));
}

#[test]
fn within_source_keeps_smallest_id() {
    let mut first = event("feed", "b-2", EVENING);
    let mut second = event("feed", "a-1", EVENING);
    first.tickets_url = Some("https://tickets.example.org/s/1".to_owned());
    second.tickets_url = Some("https://tickets.example.org/s/1?utm_source=x".to_owned());
    let other = event("feed", "c-3", "2027-05-07T18:30:00+02:00");

    let (kept, rejections) = within_source(vec![first, second, other]);

    let ids: Vec<&str> = kept.iter().map(|e| e.source_event_id.as_str()).collect();
    assert_eq!(ids, vec!["a-1", "c-3"]);
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].reason, "duplicate_event");
    assert_eq!(rejections[0].event_id.as_deref(), Some("b-2"));
    assert!(rejections[0].detail.contains("\"a-1\""));
}

#[test]
fn within_source_keeps_parallel_rooms() {
    let mut room_a = at_venue(event("feed", "a", EVENING), 45.7712, 4.8487);
    let mut room_b = at_venue(event("feed", "b", EVENING), 45.7712, 4.8487);
    room_a.title = "Fresque du Climat – salle A".to_owned();
    room_b.title = "Fresque du Climat – salle B".to_owned();

    let (kept, rejections) = within_source(vec![room_a, room_b]);

    assert_eq!(kept.len(), 2);
    assert!(rejections.is_empty());
}

/// Stores each source's events, then compares the index after incremental updates with a
/// rebuild from scratch.
#[test]
fn incremental_sync_matches_rebuild() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(&data.path().join("store.sqlite3")).unwrap();
    let (index, _) = Index::open(&data.path().join("a"), Arc::new(Catalog::embedded())).unwrap();
    let (fresh, _) = Index::open(&data.path().join("b"), Arc::new(Catalog::embedded())).unwrap();
    let priorities = priorities();
    let put = |source: &str, events: Vec<Event>| {
        let applied = store
            .record(
                source,
                &FetchRecord {
                    at: chrono::Utc::now(),
                    duration_ms: 1,
                    http_status: None,
                    outcome: Outcome::Fetched {
                        events,
                        rejections: Vec::new(),
                        rejected_ids: Vec::new(),
                        validators: Validators::default(),
                    },
                },
            )
            .unwrap();
        sync_source(&store, &index, &priorities, source, applied.generation).unwrap();
    };
    let venue =
        |source: &str, id: &str, start: &str| at_venue(event(source, id, start), 45.7712, 4.8487);

    put(
        "export",
        vec![
            venue("export", "x1", EVENING),
            event("export", "x2", EVENING),
        ],
    );
    put("calendar", vec![venue("calendar", "c1", EVENING)]);
    put("feed", vec![venue("feed", "f1", EVENING)]);
    // The feed moves its session an hour later: the copies are no longer the same session.
    put(
        "feed",
        vec![venue("feed", "f1", "2027-05-06T19:30:00+02:00")],
    );
    // The calendar withdraws its copy.
    put(
        "calendar",
        vec![event("calendar", "c2", "2027-06-01T18:00:00+02:00")],
    );

    let generation = store.generation().unwrap();
    rebuild(&store, &fresh, &priorities, generation).unwrap();
    let documents = |index: &Index| -> BTreeMap<String, Vec<String>> {
        let mut query =
            crate::search::SearchQuery::upcoming("2020-01-01T00:00:00Z".parse().unwrap());
        query.limit = 100;
        index
            .search(&query)
            .unwrap()
            .events
            .into_iter()
            .map(|hit| {
                let links = hit.event.links.iter().map(|l| l.id.clone()).collect();
                (hit.event.id, links)
            })
            .collect()
    };
    let incremental = documents(&index);

    assert_eq!(incremental, documents(&fresh));
    assert_eq!(
        incremental.keys().cloned().collect::<Vec<_>>(),
        vec!["calendar~c2", "export~x1", "export~x2", "feed~f1"]
    );
    let _ = Path::new(".");
}

#[test]
fn stored_source_sync_matches_rebuild() {
    let data = tempfile::tempdir().unwrap();
    let store = Store::open(&data.path().join("store.sqlite3")).unwrap();
    let (index, _) = Index::open(&data.path().join("a"), Arc::new(Catalog::embedded())).unwrap();
    let (fresh, _) = Index::open(&data.path().join("b"), Arc::new(Catalog::embedded())).unwrap();
    let priorities = priorities();
    let put = |source: &str, events: Vec<Event>, rejected_ids: Vec<String>| {
        let record = FetchRecord {
            at: chrono::Utc::now(),
            duration_ms: 1,
            http_status: None,
            outcome: Outcome::Fetched {
                events: events.clone(),
                rejections: Vec::new(),
                rejected_ids: rejected_ids.clone(),
                validators: Validators::default(),
            },
        };
        let applied = store.record(source, &record).unwrap();
        sync_stored_source(
            &store,
            &index,
            &priorities,
            source,
            events,
            &rejected_ids,
            applied.generation,
        )
        .unwrap();
    };
    // Sums like a feed's jittered positions print with 17 significant digits, which JSON may
    // not read back bit for bit.
    let venue = |source: &str, id: &str| {
        at_venue(event(source, id, EVENING), 45.764 - 0.025, 4.8357 + 0.025)
    };

    put("export", vec![venue("export", "x1")], Vec::new());
    put(
        "feed",
        vec![venue("feed", "f1"), venue("feed", "f2")],
        Vec::new(),
    );
    // f2 is rejected this time: its last good version stays listed.
    put(
        "feed",
        vec![venue("feed", "f1")],
        vec!["feed~f2".to_owned()],
    );

    let generation = store.generation().unwrap();
    rebuild(&store, &fresh, &priorities, generation).unwrap();
    let documents = |index: &Index| -> Vec<Event> {
        let mut query =
            crate::search::SearchQuery::upcoming("2020-01-01T00:00:00Z".parse().unwrap());
        query.limit = 100;
        let hits = index.search(&query).unwrap().events;
        hits.into_iter().map(|hit| hit.event).collect()
    };
    let incremental = documents(&index);

    assert_eq!(incremental, documents(&fresh));
    // Three sessions at one place and time, two of them from one source: two documents.
    assert_eq!(incremental.len(), 2);
}
