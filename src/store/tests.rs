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
            rejected_ids: Vec::new(),
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
            &fetched(vec![event("a", "1", "Un"), event("a", "2", "Deux")]),
        )
        .unwrap();
    let second = store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
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
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    let again = store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();

    assert!(!again.changed());
    assert_eq!(again.generation, 1);
}

#[test]
fn failure_keeps_events_and_reports_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store.record("a", &failed()).unwrap();

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
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store.record("a", &fetched(vec![])).unwrap();
    let back = store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();

    assert_eq!(back.updated, 1);
    assert!(store.event("a~1").unwrap().unwrap().withdrawn_at.is_none());
}

#[test]
fn sources_are_replaced_independently() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();

    store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store
        .record("b", &fetched(vec![event("b", "1", "Un")]))
        .unwrap();
    store.record("a", &fetched(vec![])).unwrap();

    assert_eq!(ids(&store.all_searchable_events().unwrap()), vec!["b~1"]);
}

#[test]
fn cancelled_event_is_stored_but_not_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let mut cancelled = event("a", "1", "Un");
    cancelled.status = Status::Cancelled;

    store.record("a", &fetched(vec![cancelled])).unwrap();

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
            .record("a", &fetched(vec![event("a", "1", "Un")]))
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

#[test]
fn failures_count_until_success() {
    let store = Store::with_connection(Connection::open_in_memory().unwrap()).unwrap();

    store.record("s", &failed()).unwrap();
    store.record("s", &failed()).unwrap();
    let failing = store.source_statuses().unwrap().remove(0);
    store
        .record("s", &fetched(vec![event("s", "1", "A")]))
        .unwrap();
    let recovered = store.source_statuses().unwrap().remove(0);

    assert_eq!(failing.consecutive_failures, 2);
    assert!(failing.last_failure_at.is_some());
    assert_eq!(recovered.consecutive_failures, 0);
    assert_eq!(recovered.last_error, None);
    assert_eq!(
        recovered.rejections_by_reason.get("missing_title"),
        Some(&1)
    );
}

#[test]
fn retired_source_is_withdrawn_and_read_again() {
    let store = Store::with_connection(Connection::open_in_memory().unwrap()).unwrap();
    store
        .record("s", &fetched(vec![event("s", "1", "A")]))
        .unwrap();
    let before = store.changed_at_ms();

    let applied = store.retire_source("s", Utc::now()).unwrap();

    assert_eq!(applied.withdrawn, 1);
    assert!(store.searchable_events("s").unwrap().is_empty());
    assert_eq!(store.validators("s").unwrap(), Validators::default());
    assert!(store.changed_at_ms() >= before);
    store
        .record("s", &fetched(vec![event("s", "1", "A")]))
        .unwrap();
    assert_eq!(ids(&store.searchable_events("s").unwrap()), vec!["s~1"]);
}

#[test]
fn feed_events_page_in_start_order() {
    let store = Store::with_connection(Connection::open_in_memory().unwrap()).unwrap();
    let mut late = event("s", "late", "Late");
    late.start = "2027-03-15T18:30:00+01:00".parse().unwrap();
    let mut cancelled = event("s", "c", "Cancelled");
    cancelled.status = Status::Cancelled;
    store
        .record(
            "s",
            &fetched(vec![
                late,
                event("s", "b", "B"),
                event("s", "a", "A"),
                cancelled,
            ]),
        )
        .unwrap();
    let scan = |after: Option<(i64, String)>, changed_since| FeedScan {
        after,
        start_from: 0,
        start_before: None,
        changed_since,
        limit: 2,
    };

    let first = store.feed_events(&scan(None, None)).unwrap();
    let second = store
        .feed_events(&scan(first.last().map(|e| e.key.clone()), None))
        .unwrap();

    let listed: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|e| e.event.id.as_str())
        .collect();
    assert_eq!(listed, vec!["s~a", "s~b", "s~c", "s~late"]);
    store
        .record("s", &fetched(vec![event("s", "a", "A")]))
        .unwrap();
    let since = Utc::now() - chrono::Duration::minutes(1);
    let changes = store
        .feed_events(&FeedScan {
            limit: 10,
            ..scan(None, Some(since))
        })
        .unwrap();
    let withdrawn: Vec<&str> = changes
        .iter()
        .filter(|e| e.withdrawn_at.is_some())
        .map(|e| e.event.id.as_str())
        .collect();
    assert_eq!(withdrawn, vec!["s~b", "s~c", "s~late"]);
    let current = store
        .feed_events(&FeedScan {
            limit: 10,
            ..scan(None, None)
        })
        .unwrap();
    assert_eq!(
        current.len(),
        1,
        "withdrawn events are listed only with changed_since"
    );
}

#[test]
fn rejected_entry_keeps_its_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    store
        .record(
            "a",
            &fetched(vec![event("a", "1", "Un"), event("a", "2", "Deux")]),
        )
        .unwrap();

    let mut partial = fetched(vec![event("a", "1", "Un")]);
    if let Outcome::Fetched { rejected_ids, .. } = &mut partial.outcome {
        rejected_ids.push("a~2".to_owned());
    }
    let applied = store.record("a", &partial).unwrap();

    assert_eq!(applied.withdrawn, 0);
    assert_eq!(
        ids(&store.searchable_events("a").unwrap()),
        vec!["a~1", "a~2"]
    );
}

#[test]
fn first_schema_upgrades_with_its_events() {
    let connection = Connection::open_in_memory().unwrap();
    connection.execute_batch(MIGRATIONS[0]).unwrap();
    connection.pragma_update(None, "user_version", 1).unwrap();
    let data = serde_json::to_string(&event("s", "1", "A")).unwrap();
    connection
        .execute(
            "INSERT INTO events (id, source, start_utc, searchable, withdrawn_at, first_seen_at, last_seen_at, data)
             VALUES ('s~1', 's', 1805045400, 1, NULL, '2026-01-01T00:00:00+00:00', '2026-02-01T00:00:00+00:00', ?1)",
            [data],
        )
        .unwrap();

    let store = Store::with_connection(connection).unwrap();
    let since = "2026-01-15T00:00:00Z".parse().unwrap();
    let changed = store
        .feed_events(&FeedScan {
            changed_since: Some(since),
            limit: 10,
            ..FeedScan::default()
        })
        .unwrap();

    assert_eq!(
        changed.len(),
        1,
        "the last sighting counts as the last change"
    );
    assert_eq!(store.changed_at_ms(), 0);
}

#[test]
fn removed_source_is_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    store
        .record("a", &fetched(vec![event("a", "1", "Un")]))
        .unwrap();
    store
        .record("b", &fetched(vec![event("b", "1", "Un")]))
        .unwrap();

    let withdrawn = store.withdraw_other_sources(&["b"], Utc::now()).unwrap();

    assert_eq!(withdrawn, 1);
    assert_eq!(ids(&store.all_searchable_events().unwrap()), vec!["b~1"]);
    assert_eq!(store.generation().unwrap(), 3);
    assert_eq!(store.withdraw_other_sources(&["b"], Utc::now()).unwrap(), 0);
    assert_eq!(
        store.validators("a").unwrap(),
        Validators::default(),
        "a source that comes back is read again in full"
    );
}
