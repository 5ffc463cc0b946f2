//! Federation: a second multifresque following the first through `/api/v1/feed` ends up
//! with the same search results, and the feed honours the search filters and
//! `updated_since`.

mod common;

use std::path::Path;

use common::TestService;
use serde_json::Value;

/// The bundled sources file, whose enabled sources read the example feeds.
async fn primary() -> TestService {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("sources.toml")).unwrap();
    let service = TestService::start(&text, root).await;
    service.fetch_all().await;
    service
}

/// A follower reading the primary's feed in pages of 7 events, from 2000 so that no event is
/// left out by the time the test runs. It sets no default language or country, so that it
/// adds nothing the primary did not send.
async fn follower(primary: &TestService) -> TestService {
    let sources = format!(
        "[[source]]\nid = \"primary\"\nkind = \"openfresque\"\nurl = \"{}/api/v1/feed?limit=7&from=2000-01-01\"\n",
        primary.base
    );
    let service = TestService::start(&sources, Path::new(".")).await;
    let runs = service.fetch_all().await;
    assert!(
        format!("{runs:?}").contains("Stored"),
        "the follower read the feed: {runs:?}"
    );
    service
}

/// What a search returns, with the follower's ids mapped back to the primary's.
fn results(body: &Value, strip: Option<&str>) -> Vec<(String, Option<f64>, String, String)> {
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            let id = event["id"].as_str().unwrap();
            let id = match strip {
                Some(prefix) => id.strip_prefix(prefix).unwrap_or(id).to_owned(),
                None => id.to_owned(),
            };
            (
                id,
                event["distance_km"].as_f64(),
                event["title"].as_str().unwrap().to_owned(),
                event["start"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const QUERIES: &[&str] = &[
    "from=2026-01-01&limit=100",
    "from=2026-01-01&near=Lyon&radius_km=30&limit=100",
    "from=2026-01-01&near=69003&radius_km=10&sort=distance",
    "from=2026-01-01&q=climat&limit=50",
    "from=2026-01-01&q=numerique&sort=relevance",
    "from=2026-01-01&workshop=FresqueNumerique,FresqueClimat&audience=training",
    "from=2026-01-01&attendance=online",
    "from=2026-01-01&lang=en",
    "from=2026-01-01&near=Lyon&include_online=true&limit=100",
    "from=2026-01-01&country=FR&offset=5&limit=10",
];

#[tokio::test]
async fn follower_returns_same_search_results() {
    let primary = primary().await;
    let follower = follower(&primary).await;

    for query in QUERIES {
        let (status, expected) = primary.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(status, 200, "{query}: {expected}");
        let (_, actual) = follower.get(&format!("/api/v1/events?{query}")).await;

        assert_eq!(actual["total"], expected["total"], "{query}");
        assert_eq!(
            results(&actual, Some("primary~")),
            results(&expected, None),
            "{query}"
        );
        assert_eq!(actual["facets"], expected["facets"], "{query}");
    }
    let (_, all) = primary
        .get("/api/v1/events?from=2026-01-01&limit=100")
        .await;
    assert!(
        all["total"].as_u64().unwrap() > 50,
        "the examples are all there"
    );
}

#[tokio::test]
async fn cancelled_events_reach_follower_as_cancelled() {
    let primary = primary().await;
    let follower = follower(&primary).await;
    let (_, feed) = primary.get("/api/v1/feed?from=2000-01-01&limit=1000").await;
    let cancelled: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "cancelled")
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        !cancelled.is_empty(),
        "the examples contain cancelled sessions"
    );

    for id in cancelled {
        let (status, event) = follower.get(&format!("/api/v1/events/primary~{id}")).await;
        assert_eq!(status, 200, "{id}");
        assert_eq!(event["status"], "cancelled");
        assert!(event["withdrawn_at"].is_null());
    }
}

#[tokio::test]
async fn feed_pages_link_with_cursor() {
    let primary = primary().await;

    let (status, first) = primary.get("/api/v1/feed?from=2000-01-01&limit=10").await;

    assert_eq!(status, 200);
    assert_eq!(first["openfresque_feed"], "1");
    assert_eq!(first["publisher"]["name"], "multifresque");
    assert_eq!(first["events"].as_array().unwrap().len(), 10);
    let next = first["next"].as_str().unwrap();
    assert!(
        next.starts_with("/api/v1/feed?from=2000-01-01&limit=10&after="),
        "{next}"
    );
    let (_, second) = primary.get(next).await;
    let first_ids: Vec<&Value> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert!(
        second["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !first_ids.contains(&&e["id"]))
    );
    assert_eq!(second["generated_at"], first["generated_at"]);
}

#[tokio::test]
async fn feed_honours_search_filters() {
    let primary = primary().await;
    let filters = [
        "near=Lyon&radius_km=30",
        "workshop=FresqueNumerique",
        "attendance=online",
        "audience=kids",
        "lang=en",
        "q=climat",
        "near=Villeurbanne&radius_km=5&include_online=true",
        "country=FR&to=2027-02-01",
    ];

    for filter in filters {
        let (_, search) = primary
            .get(&format!(
                "/api/v1/events?from=2026-01-01&limit=100&{filter}"
            ))
            .await;
        let mut expected: Vec<&str> = search["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        let (status, feed) = primary
            .get(&format!("/api/v1/feed?from=2026-01-01&limit=1000&{filter}"))
            .await;
        assert_eq!(status, 200, "{filter}: {feed}");
        let mut listed: Vec<&str> = feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] != "cancelled")
            .map(|e| e["id"].as_str().unwrap())
            .collect();

        expected.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, expected, "{filter}");
    }
}

#[tokio::test]
async fn updated_since_lists_only_changes() {
    let primary = primary().await;

    let (_, none) = primary
        .get("/api/v1/feed?from=2000-01-01&updated_since=2100-01-01")
        .await;
    let (_, all) = primary
        .get("/api/v1/feed?from=2000-01-01&updated_since=2000-01-01&limit=1000")
        .await;
    let (_, bad) = primary.get("/api/v1/feed?updated_since=yesterday").await;

    assert_eq!(none["events"].as_array().unwrap().len(), 0);
    assert!(all["events"].as_array().unwrap().len() > 50);
    assert_eq!(bad["error"]["parameter"], "updated_since");
}

#[tokio::test]
async fn feed_rejects_search_only_parameters() {
    let primary = primary().await;

    let (status, body) = primary.get("/api/v1/feed?sort=distance").await;
    let (_, cursor) = primary.get("/api/v1/feed?after=nonsense").await;

    assert_eq!(status, 400);
    assert_eq!(body["error"]["parameter"], "sort");
    assert_eq!(cursor["error"]["parameter"], "after");
}
