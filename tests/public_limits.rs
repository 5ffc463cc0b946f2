//! The limits that keep the public API up under abuse, against the real server: the
//! per-client quota, the parameter bounds, the body limit on every route, and query text
//! that tantivy's syntax would choke on.

mod common;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use axum::http::HeaderName;
use common::{Behaviour, FeedServer, TestService, event, feed, openfresque_source};
use multifresque::http::rate_limit::{ClientRateLimiter, RateLimitSettings};

async fn service() -> TestService {
    let feeds = FeedServer::start().await;
    feeds.set(
        "feed.json",
        Behaviour::Serve(feed(
            vec![
                event("a", "Fresque du Climat à Lyon", 3, "Lyon", 45.76, 4.83),
                event(
                    "b",
                    "Fresque (spéciale) AND \"guillemets\"",
                    4,
                    "Lyon",
                    45.76,
                    4.83,
                ),
            ],
            None,
        )),
    );
    let service = TestService::start(
        &openfresque_source("limits", &feeds.url("feed.json")),
        Path::new("."),
    )
    .await;
    service.fetch_all().await;
    service
}

/// Serves the service's state again on another port, with these rate limits.
async fn with_rate_limit(service: &TestService, settings: RateLimitSettings) -> String {
    let mut state = service.app.state.clone();
    state.rate_limit = Arc::new(ClientRateLimiter::new(&settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router =
        multifresque::http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

fn tight(client_ip_header: Option<&'static str>) -> RateLimitSettings {
    RateLimitSettings {
        // One request a second after a burst of five.
        per_second: NonZeroU32::new(1),
        burst: NonZeroU32::new(5).unwrap(),
        client_ip_header: client_ip_header.map(HeaderName::from_static),
    }
}

#[tokio::test]
async fn client_over_quota_gets_429() {
    let service = service().await;
    let base = with_rate_limit(&service, tight(None)).await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();

    // The burst passes; a refill may let one more through on a slow machine, not fifteen.
    let mut passed = 0;
    let refused = loop {
        let response = get("/api/v1/events").await.unwrap();
        if response.status() != 200 {
            break response;
        }
        passed += 1;
        assert!(passed < 20, "never limited");
    };

    assert!(passed >= 5, "{passed}");
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_ne!(get("/static/missing.css").await.unwrap().status(), 429);
    assert_ne!(get("/widget.js").await.unwrap().status(), 429);
}

#[tokio::test]
async fn trusted_proxy_header_separates_clients() {
    let service = service().await;
    let base = with_rate_limit(&service, tight(Some("x-forwarded-for"))).await;
    let client = reqwest::Client::new();
    let get = |forwarded: &'static str| {
        client
            .get(format!("{base}/api/v1/workshops"))
            .header("x-forwarded-for", forwarded)
            .send()
    };

    let mut passed = 0;
    while get("198.51.100.1").await.unwrap().status() == 200 {
        passed += 1;
        assert!(passed < 20, "never limited");
    }

    assert!(passed >= 5, "{passed}");
    assert_eq!(get("198.51.100.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn malformed_query_text_is_searched_as_words() {
    let service = service().await;
    let texts = [
        "\"",
        "\"unbalanced",
        "(",
        ")",
        "[a TO",
        "title:",
        "title:(climat",
        "*",
        "?",
        "~2",
        "^3",
        "AND",
        "OR OR OR",
        "NOT",
        "-",
        "+",
        "\\",
        "climat AND",
        "field:value:other",
        "{}[]<>",
        "%00",
        "é́́́́",
        "🙂",
        "\u{202e}climat",
    ];

    for text in texts {
        let mut url = url::Url::parse("http://x/api/v1/events").unwrap();
        url.query_pairs_mut().append_pair("q", text);
        let path = format!("/api/v1/events?{}", url.query().unwrap());

        let (status, body) = service.get(&path).await;

        assert_eq!(status, 200, "{text:?}: {body}");
    }
    let found = service.search_ids("q=%28sp%C3%A9ciale%29%20AND").await;
    assert_eq!(found, vec!["limits~b"]);
}

#[tokio::test]
async fn parameter_bounds_are_enforced() {
    let service = service().await;
    let long = "a".repeat(201);
    let cases = [
        (format!("q={long}"), "q"),
        ("limit=101".to_owned(), "limit"),
        ("offset=10001".to_owned(), "offset"),
        ("lat=45&lon=4&radius_km=20001".to_owned(), "radius_km"),
        (format!("near={long}"), "near"),
    ];

    for (query, parameter) in cases {
        let (status, body) = service.get(&format!("/api/v1/events?{query}")).await;

        assert_eq!(status, 400, "{query}");
        assert_eq!(body["error"]["parameter"], parameter, "{body}");
    }
    let (status, _) = service.get(&format!("/api/v1/places?q={long}")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn every_route_refuses_large_bodies() {
    let service = service().await;
    let body = vec![b'x'; 17 * 1024];

    for path in [
        "/",
        "/healthz",
        "/api/v1/events",
        "/api/v1/events/limits~a",
        "/api/v1/workshops",
        "/api/v1/places?q=ly",
        "/no/such/page",
    ] {
        let response = service
            .client
            .get(format!("{}{path}", service.base))
            .body(body.clone())
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 413, "{path}");
    }
}
