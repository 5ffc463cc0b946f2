//! A source whose feed breaks keeps its last good events; a healthy feed that drops an event
//! withdraws it; an unchanged feed costs no re-indexing.

mod common;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Behaviour, FeedServer, TestService, event, feed, openfresque_source};
use multifresque::scheduler::RunOutcome;

fn three_events() -> String {
    feed(
        vec![
            event(
                "lyon-1",
                "Fresque du Climat à Lyon",
                10,
                "Lyon",
                45.7640,
                4.8357,
            ),
            event(
                "villeurbanne-1",
                "Fresque du Climat à Villeurbanne",
                12,
                "Villeurbanne",
                45.7719,
                4.8902,
            ),
            event(
                "paris-1",
                "Fresque du Climat à Paris",
                14,
                "Paris",
                48.8566,
                2.3522,
            ),
        ],
        None,
    )
}

async fn service_with_feed(body: String) -> (FeedServer, TestService) {
    let feeds = FeedServer::start().await;
    feeds.set("climat.json", Behaviour::Serve(body));
    let service = TestService::start(
        &openfresque_source("climat", &feeds.url("climat.json")),
        Path::new("."),
    )
    .await;
    (feeds, service)
}

fn failed(outcome: &RunOutcome) -> bool {
    matches!(outcome, RunOutcome::Failed { .. })
}

#[tokio::test]
async fn broken_feed_keeps_last_good_events() {
    let (feeds, service) = service_with_feed(three_events()).await;
    let runs = service.fetch_all().await;
    assert!(
        matches!(runs[0].outcome, RunOutcome::Stored { kept: 3, .. }),
        "{runs:?}"
    );
    let before = service.search_ids("").await;
    assert_eq!(before.len(), 3);

    let truncated = three_events()[..200].to_owned();
    let failures = [
        ("HTTP 500", Behaviour::Status(500)),
        ("HTTP 404", Behaviour::Status(404)),
        (
            "timeout",
            Behaviour::Delay(Duration::from_secs(5), three_events()),
        ),
        ("truncated JSON", Behaviour::Serve(truncated)),
        ("empty body", Behaviour::Serve(String::new())),
        ("no events", Behaviour::Serve(feed(vec![], None))),
        (
            "HTML error page",
            Behaviour::Serve("<html><body>Maintenance</body></html>".to_owned()),
        ),
    ];
    for (name, behaviour) in failures {
        feeds.set("climat.json", behaviour);

        let runs = service.fetch_all().await;

        assert!(failed(&runs[0].outcome), "{name}: {runs:?}");
        assert_eq!(service.search_ids("").await, before, "{name}");
        let statuses = service.app.state.store.source_statuses().unwrap();
        assert!(statuses[0].last_error.is_some(), "{name}");
    }
}

#[tokio::test]
async fn withdrawn_event_disappears_from_search() {
    let (feeds, service) = service_with_feed(three_events()).await;
    service.fetch_all().await;

    feeds.set(
        "climat.json",
        Behaviour::Serve(feed(
            vec![
                event(
                    "lyon-1",
                    "Fresque du Climat à Lyon",
                    10,
                    "Lyon",
                    45.7640,
                    4.8357,
                ),
                event(
                    "paris-1",
                    "Fresque du Climat à Paris",
                    14,
                    "Paris",
                    48.8566,
                    2.3522,
                ),
            ],
            None,
        )),
    );
    let runs = service.fetch_all().await;

    assert!(
        matches!(&runs[0].outcome, RunOutcome::Stored { applied, .. } if applied.withdrawn == 1),
        "{runs:?}"
    );
    assert_eq!(
        service.search_ids("").await,
        vec!["climat~lyon-1", "climat~paris-1"]
    );
    let (status, body) = service.get("/api/v1/events/climat~villeurbanne-1").await;
    assert_eq!(status, 200);
    assert!(body["withdrawn_at"].is_string(), "{body}");
}

#[tokio::test]
async fn unchanged_feed_is_not_reindexed() {
    let (feeds, service) = service_with_feed(three_events()).await;
    service.fetch_all().await;
    let generation = service.app.state.index.generation();

    let runs = service.fetch_all().await;

    assert!(matches!(runs[0].outcome, RunOutcome::Unchanged), "{runs:?}");
    assert_eq!(feeds.not_modified.load(Ordering::SeqCst), 1);
    assert_eq!(service.app.state.index.generation(), generation);
}

#[tokio::test]
async fn pages_are_followed_through_next() {
    let feeds = FeedServer::start().await;
    feeds.set(
        "page-1.json",
        Behaviour::Serve(feed(
            vec![event("a", "Fresque A", 3, "Lyon", 45.76, 4.83)],
            Some("page-2.json"),
        )),
    );
    feeds.set(
        "page-2.json",
        Behaviour::Serve(feed(
            vec![event("b", "Fresque B", 4, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    let service = TestService::start(
        &openfresque_source("paged", &feeds.url("page-1.json")),
        Path::new("."),
    )
    .await;

    let runs = service.fetch_all().await;

    assert!(
        matches!(runs[0].outcome, RunOutcome::Stored { kept: 2, .. }),
        "{runs:?}"
    );
}

#[tokio::test]
async fn page_loop_fails_without_losing_events() {
    let feeds = FeedServer::start().await;
    feeds.set("loop.json", Behaviour::Serve(three_events()));
    let service = TestService::start(
        &openfresque_source("looping", &feeds.url("loop.json")),
        Path::new("."),
    )
    .await;
    service.fetch_all().await;

    let looping = three_events().replace("\"next\":null", "\"next\":\"loop.json\"");
    feeds.set("loop.json", Behaviour::Serve(looping));
    let runs = service.fetch_all().await;

    assert!(failed(&runs[0].outcome), "{runs:?}");
    assert_eq!(service.search_ids("").await.len(), 3);
}

#[tokio::test]
async fn one_failing_source_leaves_others_alone() {
    let feeds = FeedServer::start().await;
    feeds.set("good.json", Behaviour::Serve(three_events()));
    feeds.set("bad.json", Behaviour::Status(503));
    let sources = format!(
        "{}\n{}",
        openfresque_source("good", &feeds.url("good.json")),
        openfresque_source("bad", &feeds.url("bad.json"))
    );
    let service = TestService::start(&sources, Path::new(".")).await;

    let runs = service.fetch_all().await;

    assert!(failed(&runs[0].outcome), "{runs:?}");
    assert!(
        matches!(runs[1].outcome, RunOutcome::Stored { kept: 3, .. }),
        "{runs:?}"
    );
    assert_eq!(service.search_ids("").await.len(), 3);
}

#[tokio::test]
async fn rejected_entry_keeps_previous_version() {
    let (feeds, service) = service_with_feed(three_events()).await;
    service.fetch_all().await;

    let mut broken = event(
        "villeurbanne-1",
        "Fresque du Climat à Villeurbanne",
        12,
        "Villeurbanne",
        45.7719,
        4.8902,
    );
    broken["start"] = serde_json::json!("2027-03-04 18:30");
    feeds.set(
        "climat.json",
        Behaviour::Serve(feed(
            vec![
                event(
                    "lyon-1",
                    "Fresque du Climat à Lyon",
                    10,
                    "Lyon",
                    45.7640,
                    4.8357,
                ),
                broken,
                event(
                    "paris-1",
                    "Fresque du Climat à Paris",
                    14,
                    "Paris",
                    48.8566,
                    2.3522,
                ),
            ],
            None,
        )),
    );
    let runs = service.fetch_all().await;

    assert!(
        matches!(&runs[0].outcome, RunOutcome::Stored { applied, rejected: 1, .. } if applied.withdrawn == 0),
        "{runs:?}"
    );
    assert_eq!(service.search_ids("").await.len(), 3);
}

#[tokio::test]
async fn change_on_second_page_is_seen() {
    let feeds = FeedServer::start().await;
    feeds.set(
        "p1.json",
        Behaviour::Serve(feed(
            vec![event("a", "Fresque A", 3, "Lyon", 45.76, 4.83)],
            Some("p2.json"),
        )),
    );
    feeds.set(
        "p2.json",
        Behaviour::Serve(feed(
            vec![event("b", "Fresque B", 4, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    let service = TestService::start(
        &openfresque_source("paged", &feeds.url("p1.json")),
        Path::new("."),
    )
    .await;
    service.fetch_all().await;

    let mut cancelled = event("b", "Fresque B", 4, "Lyon", 45.76, 4.83);
    cancelled["status"] = serde_json::json!("cancelled");
    feeds.set(
        "p2.json",
        Behaviour::Serve(feed(
            vec![cancelled, event("c", "Fresque C", 5, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    let runs = service.fetch_all().await;

    assert!(
        matches!(&runs[0].outcome, RunOutcome::Stored { applied, .. } if applied.added == 1 && applied.updated == 1),
        "{runs:?}"
    );
    assert_eq!(service.search_ids("").await, vec!["paged~a", "paged~c"]);
}

#[tokio::test]
async fn removed_source_leaves_search() {
    let feeds = FeedServer::start().await;
    feeds.set(
        "one.json",
        Behaviour::Serve(feed(
            vec![event("a", "Fresque A", 3, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    feeds.set(
        "two.json",
        Behaviour::Serve(feed(
            vec![event("b", "Fresque B", 4, "Lyon", 45.76, 4.83)],
            None,
        )),
    );
    let both = format!(
        "{}\n{}",
        openfresque_source("one", &feeds.url("one.json")),
        openfresque_source("two", &feeds.url("two.json"))
    );
    let service = TestService::start(&both, Path::new(".")).await;
    service.fetch_all().await;
    assert_eq!(service.search_ids("").await.len(), 2);

    let restarted = TestService::start_in(
        &openfresque_source("one", &feeds.url("one.json")),
        Path::new("."),
        service.into_data().await,
    )
    .await;

    assert_eq!(restarted.search_ids("").await, vec!["one~a"]);
    let (status, body) = restarted.get("/api/v1/events/two~b").await;
    assert_eq!(status, 200);
    assert!(body["withdrawn_at"].is_string(), "{body}");
}

#[tokio::test]
async fn next_page_on_other_host_is_refused() {
    let feeds = FeedServer::start().await;
    let elsewhere = feeds.url("p2.json").replace("127.0.0.1", "127.0.0.2");
    feeds.set(
        "p1.json",
        Behaviour::Serve(feed(
            vec![event("a", "Fresque A", 3, "Lyon", 45.76, 4.83)],
            Some(&elsewhere),
        )),
    );
    let service = TestService::start(
        &openfresque_source("hop", &feeds.url("p1.json")),
        Path::new("."),
    )
    .await;

    let runs = service.fetch_all().await;

    assert!(
        matches!(&runs[0].outcome, RunOutcome::Failed { error } if error.contains("leaves the feed's origin")),
        "{runs:?}"
    );
    assert_eq!(feeds.requests.load(Ordering::SeqCst), 1);
}
