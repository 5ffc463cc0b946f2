//! The search API over the bundled example feeds, served by a real server on an ephemeral
//! port. Searches give `from` explicitly so the assertions hold whatever today's date is.

mod common;

use std::path::Path;

use common::TestService;
use serde_json::Value;

const FROM: &str = "from=2026-12-01";

async fn examples() -> TestService {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = std::fs::read_to_string(root.join("sources.toml")).unwrap();
    let service = TestService::start(&sources, root).await;
    service.fetch_all().await;
    service
}

fn events(body: &Value) -> &Vec<Value> {
    body["events"].as_array().unwrap()
}

fn ids(body: &Value) -> Vec<String> {
    events(body)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn near_lyon_returns_only_close_events_by_date() {
    let service = examples().await;

    let (status, body) = service
        .get(&format!(
            "/api/v1/events?near=Lyon&radius_km=30&limit=100&{FROM}"
        ))
        .await;

    assert_eq!(status, 200, "{body}");
    let found = ids(&body);
    assert!(
        found.contains(&"fresque-du-climat~fdc-11402".to_owned()),
        "Part-Dieu: {found:?}"
    );
    assert!(
        found.contains(&"fresque-du-climat~fdc-11408".to_owned()),
        "Villeurbanne, placed by the gazetteer: {found:?}"
    );
    assert!(
        !found.contains(&"fresque-du-climat~fdc-11452".to_owned()),
        "Saint-Étienne is about 50 km away"
    );
    assert!(
        !found.contains(&"fresque-du-climat~fdc-11441".to_owned()),
        "Grenoble is about 95 km away"
    );
    assert!(
        !found.contains(&"fresque-du-climat~fdc-11415".to_owned()),
        "Paris"
    );
    assert_eq!(body["total"].as_u64().unwrap() as usize, found.len());
    let mut previous = String::new();
    for event in events(&body) {
        let distance = event["distance_km"].as_f64().unwrap();
        assert!(distance <= 30.0, "{event}");
        let start = chrono::DateTime::parse_from_rfc3339(event["start"].as_str().unwrap())
            .unwrap()
            .to_utc()
            .to_rfc3339();
        assert!(start >= previous, "not sorted by date at {event}");
        previous = start;
    }
    assert_eq!(body["place"]["name"], "Lyon");
}

#[tokio::test]
async fn postal_code_searches_like_city() {
    let service = examples().await;

    let (_, by_city) = service
        .get(&format!(
            "/api/v1/events?near=Lyon&radius_km=30&limit=100&{FROM}"
        ))
        .await;
    let (status, by_code) = service
        .get(&format!(
            "/api/v1/events?near=69003&radius_km=30&limit=100&{FROM}"
        ))
        .await;

    assert_eq!(status, 200, "{by_code}");
    let mut city_ids = ids(&by_city);
    let mut code_ids = ids(&by_code);
    city_ids.sort();
    code_ids.sort();
    assert_eq!(code_ids, city_ids);
}

#[tokio::test]
async fn text_without_accent_finds_accented_title() {
    let service = examples().await;

    let (_, body) = service
        .get(&format!("/api/v1/events?q=numerique&limit=100&{FROM}"))
        .await;

    assert!(
        ids(&body).contains(&"collectif-fresques-lyon~cfl-2026-101".to_owned()),
        "{body}"
    );
    for event in events(&body) {
        let text = format!("{} {}", event["title"], event["workshop"]).to_lowercase();
        assert!(
            text.contains("numérique") || text.contains("numerique"),
            "{event}"
        );
    }
}

#[tokio::test]
async fn family_word_finds_its_sessions() {
    let service = examples().await;

    let (_, body) = service
        .get(&format!("/api/v1/events?q=climat&limit=100&{FROM}"))
        .await;

    let climate = events(&body)
        .iter()
        .filter(|e| e["workshop"] == "FresqueClimat")
        .count();
    assert!(
        climate >= 20,
        "only {climate} Fresque du Climat sessions for q=climat"
    );
}

#[tokio::test]
async fn facets_count_the_whole_result() {
    let service = examples().await;

    let (_, body) = service.get(&format!("/api/v1/events?limit=1&{FROM}")).await;

    let total = body["total"].as_u64().unwrap();
    let by_workshop: u64 = body["facets"]["workshop"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_workshop, total);
    assert_eq!(events(&body).len(), 1);
    assert!(
        body["facets"]["attendance"]["online"].as_u64().unwrap() >= 2,
        "{}",
        body["facets"]
    );
    assert!(
        body["facets"]["workshop"]["FresqueDesMontagnes"]
            .as_u64()
            .unwrap()
            == 2,
        "{}",
        body["facets"]
    );
}

#[tokio::test]
async fn unknown_family_is_kept_and_filterable() {
    let service = examples().await;

    let found = service
        .search_ids(&format!("workshop=FresqueDesMontagnes&{FROM}"))
        .await;

    assert_eq!(
        found,
        vec![
            "collectif-fresques-lyon~cfl-2027-105",
            "collectif-fresques-lyon~cfl-2027-114"
        ]
    );
}

#[tokio::test]
async fn every_format_contributes_events() {
    let service = examples().await;

    let (_, body) = service
        .get(&format!("/api/v1/events?limit=100&{FROM}"))
        .await;

    for source in [
        "fresque-du-climat",
        "collectif-fresques-lyon",
        "fresque-biodiversite-lyon",
        "trouver-une-fresque-export",
    ] {
        assert!(
            events(&body).iter().any(|e| e["source"] == source),
            "no event from {source}"
        );
    }
}

#[tokio::test]
async fn rejected_entries_are_counted_per_source() {
    let service = examples().await;

    let statuses = service.app.state.store.source_statuses().unwrap();
    let collective = statuses
        .iter()
        .find(|s| s.id == "collectif-fresques-lyon")
        .unwrap();

    assert_eq!(collective.events_rejected, 2);
    let reasons: Vec<&str> = collective
        .rejections
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert_eq!(reasons, vec!["invalid_start", "missing_title"]);
}

#[tokio::test]
async fn bad_parameters_get_400_naming_them() {
    let service = examples().await;
    let cases = [
        ("radius_km=-1&near=Lyon", "radius_km"),
        ("near=Atlantide-sur-Mer", "near"),
        ("sort=price", "sort"),
        ("limit=1000", "limit"),
        ("attendance=remote", "attendance"),
        ("from=yesterday", "from"),
        ("lat=100&lon=4", "lat"),
        ("unknown=1", "unknown"),
    ];

    for (query, parameter) in cases {
        let (status, body) = service.get(&format!("/api/v1/events?{query}")).await;

        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
        assert!(body["error"]["message"].is_string(), "{query}: {body}");
    }
}

#[tokio::test]
async fn hostile_input_never_causes_server_error() {
    let service = examples().await;
    let long = "a".repeat(5000);
    let queries = [
        "q=%22%28".to_owned(),
        "q=title%3Ax%20AND%20%28".to_owned(),
        "q=*".to_owned(),
        "q=~2%20%5E3%20-".to_owned(),
        "q=%00%FF".to_owned(),
        format!("q={long}"),
        format!("near={long}"),
        "near=%F0%9F%94%A5".to_owned(),
        "lat=NaN&lon=4".to_owned(),
        "lat=1e400&lon=4".to_owned(),
        "radius_km=inf&near=Lyon".to_owned(),
        "offset=18446744073709551616".to_owned(),
        "workshop=".to_owned(),
        "q=&near=&lang=".to_owned(),
        "from=9999-12-31".to_owned(),
        "from=0000-01-01".to_owned(),
        "%ZZ=%ZZ".to_owned(),
    ];

    for query in queries {
        let (status, body) = service.get(&format!("/api/v1/events?{query}")).await;

        assert!(status == 200 || status == 400, "{query}: {status} {body}");
    }
    for path in [
        "/api/v1/events/%00",
        "/api/v1/events/..%2F..%2Fetc",
        &format!("/api/v1/events/{long}"),
        "/api/v1/places?q=%FF%FE",
        "/nope",
    ] {
        let (status, _) = service.get(path).await;
        assert!(
            status == 404 || status == 200 || status == 400,
            "{path}: {status}"
        );
    }
}

#[tokio::test]
async fn single_event_and_lookups() {
    let service = examples().await;

    let (status, event) = service
        .get("/api/v1/events/fresque-du-climat~fdc-11402")
        .await;
    assert_eq!(status, 200);
    assert_eq!(event["title"], "Fresque du Climat – Part-Dieu");
    assert_eq!(event["time_zone"], "Europe/Paris");
    assert_eq!(event["start"], "2026-12-15T18:30:00+01:00");

    let (status, missing) = service.get("/api/v1/events/nope~1").await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "not_found");

    let (_, workshops) = service.get("/api/v1/workshops").await;
    assert_eq!(workshops["workshops"].as_array().unwrap().len(), 43);

    let (_, places) = service.get("/api/v1/places?q=lyo").await;
    assert_eq!(places["places"][0]["name"], "Lyon", "{places}");
    assert!(places["attribution"].as_str().unwrap().contains("GeoNames"));

    let (status, health) = service.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(
        health["searchable_events"].as_u64().unwrap() > 50,
        "{health}"
    );
}

#[tokio::test]
async fn framework_errors_are_json_and_not_cached() {
    let service = examples().await;
    let client = &service.client;

    let posted = client
        .post(format!("{}/api/v1/events", service.base))
        .send()
        .await
        .unwrap();
    let undecodable = client
        .get(format!("{}/api/v1/events/%FF%FE", service.base))
        .send()
        .await
        .unwrap();
    let invalid = client
        .get(format!("{}/api/v1/events?sort=price", service.base))
        .send()
        .await
        .unwrap();

    for (response, status, code) in [
        (posted, 405, "method_not_allowed"),
        (undecodable, 400, "invalid_request"),
        (invalid, 400, "invalid_parameter"),
    ] {
        assert_eq!(response.status().as_u16(), status);
        assert!(response.headers().get("cache-control").is_none(), "{code}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], code);
    }
}
