//! The exports and HTTP caching as other programs use them: the Trouver une Fresque record
//! shape, calendars and Atom of a search, ETags with 304 answers, CORS, and `/metrics`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::TestService;
use multifresque::adapter::{Context, ics, tuf};
use serde_json::Value;

async fn service() -> TestService {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("sources.toml")).unwrap();
    let service = TestService::start(&text, root).await;
    service.fetch_all().await;
    service
}

fn context() -> Context {
    Context {
        default_time_zone: chrono_tz::Europe::Paris,
        now: "2026-01-01T00:00:00Z".parse().unwrap(),
        horizon_days: 365,
    }
}

/// The JSON type of each field of the incumbent's record, read from its sample export;
/// `department` may also be null.
fn incumbent_shape() -> BTreeMap<String, &'static str> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/feeds/trouver-une-fresque-export.json");
    let records: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut shape = BTreeMap::new();
    for record in records.as_array().unwrap() {
        for (key, value) in record.as_object().unwrap() {
            let kind = json_type(value);
            if kind != "null" {
                shape.insert(key.clone(), kind);
            }
        }
    }
    shape
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn compatibility_records_match_incumbent_shape() {
    let service = service().await;
    let shape = incumbent_shape();
    assert_eq!(shape.len(), 23, "{shape:?}");

    let (status, body) = service
        .get("/api/v1/trouver-une-fresque?from=2026-01-01")
        .await;

    assert_eq!(status, 200);
    let records = body.as_array().unwrap();
    assert!(records.len() > 50, "{}", records.len());
    for record in records {
        let fields = record.as_object().unwrap();
        let keys: Vec<&String> = fields.keys().collect();
        assert_eq!(keys, shape.keys().collect::<Vec<_>>(), "{record}");
        for (key, value) in fields {
            let kind = json_type(value);
            let allowed = kind == shape[key] || (key == "department" && kind == "null");
            assert!(
                allowed,
                "{key} is {kind}, expected {}: {record}",
                shape[key]
            );
        }
        for key in ["start_date", "end_date", "scrape_date"] {
            let text = record[key].as_str().unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                "{key}: {text}"
            );
        }
        let online = record["online"].as_bool().unwrap();
        assert_eq!(
            record["latitude"].as_str().unwrap().is_empty(),
            online || record["latitude"] == "",
            "{record}"
        );
        let country = record["country_code"].as_str().unwrap();
        assert_eq!(country, country.to_ascii_lowercase());
        let id = record["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{}-", record["workshop_type"])),
            "{id}"
        );
    }
    let lyon = records
        .iter()
        .find(|r| r["zip_code"] == "69007")
        .expect("a session in Lyon 7e");
    assert_eq!(lyon["department"], "69");
    assert_eq!(lyon["country_code"], "fr");
}

#[tokio::test]
async fn compatibility_records_read_back_as_same_sessions() {
    let service = service().await;
    let (_, records) = service
        .get("/api/v1/trouver-une-fresque?from=2026-01-01&near=Lyon&radius_km=30")
        .await;
    let (_, search) = service
        .get("/api/v1/events?from=2026-01-01&near=Lyon&radius_km=30&limit=100")
        .await;

    let parsed = tuf::parse(records.to_string().as_bytes(), &context()).unwrap();

    assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
    let titles: Vec<&str> = parsed.drafts.iter().map(|d| d.title.as_str()).collect();
    // A family without an integer id, such as a new one, cannot be shown by the incumbent's
    // front end, so its sessions are left out.
    let catalog = multifresque::Catalog::embedded();
    let expected: Vec<&str> = search["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            catalog
                .get(e["workshop"].as_str().unwrap())
                .is_some_and(|w| w.legacy_id.is_some())
        })
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert!(expected.len() < search["total"].as_u64().unwrap() as usize);
    assert_eq!(titles, expected);
}

#[tokio::test]
async fn calendar_of_search_reads_back() {
    let service = service().await;
    let response = service
        .client
        .get(format!(
            "{}/api/v1/events.ics?from=2026-01-01&near=Lyon&radius_km=30",
            service.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let (_, search) = service
        .get("/api/v1/events?from=2026-01-01&near=Lyon&radius_km=30&limit=100")
        .await;

    let parsed = ics::parse(text.as_bytes(), &context()).unwrap();

    assert!(text.contains("X-WR-CALNAME:Fresques près de Lyon"));
    assert!(
        text.lines().all(|line| line.len() <= 76),
        "lines are folded"
    );
    assert_eq!(
        parsed.drafts.len() as u64,
        search["total"].as_u64().unwrap()
    );
    assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
}

#[tokio::test]
async fn atom_of_search_lists_entries() {
    let service = service().await;
    let response = service
        .client
        .get(format!(
            "{}/api/v1/events.atom?from=2026-01-01&workshop=FresqueNumerique",
            service.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let (_, search) = service
        .get("/api/v1/events?from=2026-01-01&workshop=FresqueNumerique&limit=50")
        .await;

    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    assert_eq!(
        text.matches("<entry>").count() as u64,
        search["total"].as_u64().unwrap().min(50)
    );
    assert!(
        text.contains("<link rel=\"self\" type=\"application/atom+xml\" href=\"http://127.0.0.1:")
    );
    assert!(text.trim_end().ends_with("</feed>"));
}

#[tokio::test]
async fn read_endpoints_answer_304_to_matching_etag() {
    let service = service().await;
    let paths = [
        "/api/v1/events?near=Lyon",
        "/api/v1/workshops",
        "/api/v1/feed",
        "/api/v1/trouver-une-fresque",
        "/api/v1/events.ics",
        "/api/v1/events.atom",
        "/api/openapi.json",
    ];

    for path in paths {
        let first = service
            .client
            .get(format!("{}{path}", service.base))
            .send()
            .await
            .unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let tag = first.headers()["etag"].to_str().unwrap().to_owned();
        assert!(first.headers().contains_key("cache-control"), "{path}");
        assert!(first.headers().contains_key("last-modified"), "{path}");

        let again = service
            .client
            .get(format!("{}{path}", service.base))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();

        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag, "{path}");
        assert!(again.text().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn data_answers_honour_if_modified_since() {
    let service = service().await;
    let first = service
        .client
        .get(format!("{}/api/v1/feed", service.base))
        .send()
        .await
        .unwrap();
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();

    let same = service
        .client
        .get(format!("{}/api/v1/feed", service.base))
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    let older = service
        .client
        .get(format!("{}/api/v1/feed", service.base))
        .header("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .await
        .unwrap();

    assert_eq!(same.status(), 304);
    assert_eq!(older.status(), 200);
}

#[tokio::test]
async fn read_endpoints_allow_any_origin() {
    let service = service().await;
    for path in [
        "/api/v1/events",
        "/api/v1/feed",
        "/api/v1/events.ics",
        "/api/v1/trouver-une-fresque",
        "/api/v1/sources",
        "/api/openapi.json",
    ] {
        let response = service
            .client
            .get(format!("{}{path}", service.base))
            .header("origin", "https://trouverunefresque.example.org")
            .send()
            .await
            .unwrap();

        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "*",
            "{path}"
        );
    }
}

#[tokio::test]
async fn metrics_count_fetches_and_queries() {
    let service = service().await;
    service.get("/api/v1/events?near=Lyon").await;

    let response = service
        .client
        .get(format!("{}/metrics", service.base))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();

    for expected in [
        r#"multifresque_fetches_total{source="fresque-du-climat",result="stored"} 1"#,
        r#"multifresque_source_searchable_events{source="fresque-du-climat"} 24"#,
        r#"multifresque_source_events_kept{source="fresque-du-climat"} 25"#,
        r#"multifresque_http_request_duration_seconds_count{method="GET",route="/api/v1/events",status="2xx"} 1"#,
        "multifresque_index_documents ",
        "multifresque_index_size_bytes ",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}

#[tokio::test]
async fn exports_reject_bad_filters_like_search() {
    let service = service().await;

    for path in [
        "/api/v1/events.ics",
        "/api/v1/events.atom",
        "/api/v1/trouver-une-fresque",
        "/api/v1/feed",
    ] {
        let (status, body) = service
            .get(&format!("{path}?radius_km=abc&near=Lyon"))
            .await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["parameter"], "radius_km", "{path}");
        let (_, unknown) = service.get(&format!("{path}?colour=red")).await;
        assert_eq!(unknown["error"]["parameter"], "colour", "{path}");
    }
}
