use super::*;
use crate::event::{Attendance, Audience, Location, Status};

fn event(source: &str, id: &str, title: &str) -> Event {
    Event {
        id: format!("{source}~{id}"),
        workshop: "FresqueClimat".to_owned(),
        title: title.to_owned(),
        description: String::new(),
        url: None,
        tickets_url: None,
        start: "2027-03-14T18:30:00+01:00".parse().unwrap(),
        end: None,
        time_zone: "Europe/Paris".to_owned(),
        attendance: Attendance::InPerson,
        audience: Audience::GeneralPublic,
        languages: vec!["fr".to_owned()],
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

fn fetched(events: Vec<Event>) -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        duration_ms: 12,
        http_status: Some(200),
        outcome: Outcome::Fetched {
            events,
            rejections: vec![Rejection::new(Some("x"), "missing_title", "no title")],
            validators: Validators {
                etag: Some("\"v1\"".to_owned()),
                ..Validators::default()
            },
        },
    }
}

fn failed() -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        duration_ms: 5,
        http_status: Some(500),
        outcome: Outcome::Failed {
            error: "HTTP 500".to_owned(),
        },
    }
}

fn ids(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

#[test]
fn fetch_adds_then_withdraws_missing_events() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    let first = store
        .record(
            "a",
            fetched(vec![event("a", "1", "Un"), event("a", "2", "Deux")]),
        )
        .unwrap();
    let second = store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();

    assert_eq!((first.added, first.withdrawn), (2, 0));
    assert_eq!((second.added, second.updated, second.withdrawn), (0, 0, 1));
    assert_eq!(ids(&store.searchable_events("a").unwrap()), vec!["a~1"]);
    assert!(store.event("a~2").unwrap().unwrap().withdrawn_at.is_some());
    assert_eq!(second.generation, 2);
}

#[test]
fn identical_fetch_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    let again = store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();

    assert!(!again.changed());
    assert_eq!(again.generation, 1);
}

#[test]
fn failure_keeps_events_and_reports_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store.record("a", failed()).unwrap();

    assert_eq!(ids(&store.searchable_events("a").unwrap()), vec!["a~1"]);
    let status = &store.source_statuses().unwrap()[0];
    assert_eq!(status.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(status.http_status, Some(500));
    assert_eq!(status.events_rejected, 1);
    assert_eq!(status.searchable_events, 1);
}

#[test]
fn withdrawn_event_returns_when_feed_lists_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store.record("a", fetched(vec![])).unwrap();
    let back = store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();

    assert_eq!(back.updated, 1);
    assert!(store.event("a~1").unwrap().unwrap().withdrawn_at.is_none());
}

#[test]
fn sources_are_replaced_independently() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store
        .record("b", fetched(vec![event("b", "1", "Un")]))
        .unwrap();
    store.record("a", fetched(vec![])).unwrap();

    assert_eq!(ids(&store.all_searchable_events().unwrap()), vec!["b~1"]);
}

#[test]
fn cancelled_event_is_stored_but_not_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let mut cancelled = event("a", "1", "Un");
    cancelled.status = Status::Cancelled;

    store.record("a", fetched(vec![cancelled])).unwrap();

    assert!(store.searchable_events("a").unwrap().is_empty());
    assert!(store.event("a~1").unwrap().is_some());
}

#[test]
fn reopen_keeps_data_and_validators() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        store
            .record("a", fetched(vec![event("a", "1", "Un")]))
            .unwrap();
    }

    let store = Store::open(&path).unwrap();

    assert_eq!(
        store.validators("a").unwrap().etag.as_deref(),
        Some("\"v1\"")
    );
    assert_eq!(store.generation().unwrap(), 1);
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();

    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}
