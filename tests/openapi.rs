//! The OpenAPI document describes the routes the server has: each documented read path
//! answers, and no route of the server is missing from the document.

mod common;

use std::path::Path;

use common::TestService;

/// Every route the router serves.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/sources"),
    ("get", "/api/openapi.json"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/{id}"),
    ("get", "/api/v1/events.ics"),
    ("get", "/api/v1/events.atom"),
    ("get", "/api/v1/workshops"),
    ("get", "/api/v1/places"),
    ("get", "/api/v1/feed"),
    ("get", "/api/v1/trouver-une-fresque"),
    ("get", "/api/v1/sources"),
    ("get", "/api/v1/sources/{id}"),
    ("get", "/api/v1/sources/quality"),
    ("post", "/api/v1/sources/{id}/refresh"),
];

#[tokio::test]
async fn document_lists_every_route_and_each_answers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("sources.toml")).unwrap();
    let service = TestService::start(&text, root).await;
    service.fetch_all().await;

    let (status, document) = service.get("/api/openapi.json").await;

    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.0.3");
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(paths.len(), ROUTES.len(), "{:?}", paths.keys());
    for (method, path) in ROUTES {
        let operation = &paths[*path][*method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        if *method == "get" {
            let concrete = path
                .replace("/events/{id}", "/events/fresque-du-climat~fdc-11402")
                .replace("/sources/{id}", "/sources/fresque-du-climat");
            let (status, body) = service.get(&concrete).await;
            assert_eq!(status, 200, "{concrete}: {body}");
        }
    }
}
