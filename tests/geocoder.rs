//! The HTTP geocoder against a local mock that answers like Nominatim, Photon and Addok:
//! addresses are placed, each is asked once, the rate limit holds, and a geocoder that is
//! down leaves the gazetteer's positions without losing any event.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{Behaviour, FeedServer, TestService};
use serde_json::{Value, json};

use multifresque::scheduler::RunOutcome;

/// The venue every known address is at.
const TRONCHET: (f64, f64) = (45.7712, 4.8487);

/// A geocoder on a local port. It knows streets containing "Tronchet" and the made-up town
/// "39999 Hameau-Imaginaire"; it answers 500 while `down` is set.
#[derive(Clone, Default)]
struct MockGeocoder {
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
    down: Arc<Mutex<bool>>,
}

impl MockGeocoder {
    async fn start() -> (MockGeocoder, String) {
        let mock = MockGeocoder::default();
        let app = Router::new()
            .route("/search", get(nominatim))
            .route("/api", get(photon))
            .route("/search/", get(addok))
            .with_state(mock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (mock, url)
    }

    fn queries(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, q)| q.clone())
            .collect()
    }

    /// Records the request and finds the address; `Err` while the mock is down.
    fn record(
        &self,
        params: &std::collections::HashMap<String, String>,
    ) -> Result<Option<(f64, f64, bool)>, StatusCode> {
        let q = params.get("q").cloned().unwrap_or_default();
        self.requests
            .lock()
            .unwrap()
            .push((Instant::now(), q.clone()));
        if *self.down.lock().unwrap() {
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Ok(if q.contains("Tronchet") {
            Some((TRONCHET.0, TRONCHET.1, true))
        } else if q == "39999 Hameau-Imaginaire" {
            Some((46.67, 5.55, false))
        } else {
            None
        })
    }
}

type Params = Query<std::collections::HashMap<String, String>>;

async fn nominatim(State(mock): State<MockGeocoder>, Query(params): Params) -> Response {
    let found = match mock.record(&params) {
        Ok(found) => found,
        Err(status) => return status.into_response(),
    };
    assert_eq!(params.get("format").map(String::as_str), Some("jsonv2"));
    let results: Vec<Value> = found
        .map(|(lat, lon, street)| {
            json!({"lat": lat.to_string(), "lon": lon.to_string(),
                   "place_rank": if street { 30 } else { 16 }, "display_name": "x"})
        })
        .into_iter()
        .collect();
    axum::Json(results).into_response()
}

fn feature_collection(
    found: Option<(f64, f64, bool)>,
    street_type: &str,
    city_type: &str,
    score: bool,
) -> Response {
    let features: Vec<Value> = found
        .map(|(lat, lon, street)| {
            let mut properties = json!({"type": if street { street_type } else { city_type }});
            if score {
                properties["score"] = json!(0.91);
            }
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                   "properties": properties})
        })
        .into_iter()
        .collect();
    axum::Json(json!({"type": "FeatureCollection", "features": features})).into_response()
}

async fn photon(State(mock): State<MockGeocoder>, Query(params): Params) -> Response {
    match mock.record(&params) {
        Ok(found) => feature_collection(found, "house", "city", false),
        Err(status) => status.into_response(),
    }
}

async fn addok(State(mock): State<MockGeocoder>, Query(params): Params) -> Response {
    match mock.record(&params) {
        Ok(found) => feature_collection(found, "housenumber", "municipality", true),
        Err(status) => status.into_response(),
    }
}

/// A feed of in-person sessions with addresses and no coordinates.
fn feed(streets: &[&str], revision: u32) -> String {
    let events: Vec<Value> = streets
        .iter()
        .enumerate()
        .map(|(i, street)| {
            json!({
                "id": format!("e{i}"), "workshop": "FresqueClimat",
                "title": format!("Atelier {i} (version {revision})"),
                "start": "2027-05-06T18:30:00+02:00", "time_zone": "Europe/Paris",
                "location": {"street": street, "postal_code": "69006", "city": "Lyon", "country": "FR"}
            })
        })
        .collect();
    common::feed(events, None)
}

fn sources(feed_url: &str, kind: &str, geocoder_url: &str, rate: f64) -> String {
    format!(
        "{}\n[geocoder]\nkind = \"{kind}\"\nurl = \"{geocoder_url}\"\nrequests_per_second = {rate}\ntimeout_seconds = 2\n",
        common::openfresque_source("adresses", feed_url)
    )
}

async fn events(service: &TestService) -> Vec<Value> {
    let (_, body) = service
        .get("/api/v1/events?from=2027-05-01&to=2027-05-10&limit=100")
        .await;
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_kind_places_an_address() {
    for kind in ["nominatim", "photon", "addok"] {
        let (mock, geocoder_url) = MockGeocoder::start().await;
        let server = FeedServer::start().await;
        server.set(
            "feed.json",
            Behaviour::Serve(feed(&["33 rue Tronchet (salle 2)"], 1)),
        );
        let service = TestService::start(
            &sources(&server.url("feed.json"), kind, &geocoder_url, 100.0),
            Path::new("."),
        )
        .await;

        service.fetch_all().await;
        let events = events(&service).await;

        assert_eq!(
            mock.queries(),
            vec!["33 rue Tronchet, 69006 Lyon"],
            "{kind}"
        );
        let location = &events[0]["location"];
        assert_eq!(location["geocoded"], "geocoder", "{kind}: {location}");
        assert_eq!(location["latitude"], TRONCHET.0, "{kind}");
        assert_eq!(location["longitude"], TRONCHET.1, "{kind}");
    }
}

#[tokio::test]
async fn second_run_reads_the_cache() {
    let (mock, geocoder_url) = MockGeocoder::start().await;
    let server = FeedServer::start().await;
    let streets = ["33 rue Tronchet", "35 rue Tronchet", "1 impasse Inconnue"];
    server.set("feed.json", Behaviour::Serve(feed(&streets, 1)));
    let service = TestService::start(
        &sources(&server.url("feed.json"), "nominatim", &geocoder_url, 100.0),
        Path::new("."),
    )
    .await;

    service.fetch_all().await;
    let first = mock.queries().len();
    // A new revision of the feed is parsed and normalized again.
    server.set("feed.json", Behaviour::Serve(feed(&streets, 2)));
    let runs = service.fetch_all().await;
    let events = events(&service).await;

    assert_eq!(first, 3, "one request per address, found or not");
    assert_eq!(mock.queries().len(), 3, "the second run asked nothing");
    assert!(
        matches!(runs[0].outcome, RunOutcome::Stored { .. }),
        "{runs:?}"
    );
    let geocoded: Vec<&str> = events
        .iter()
        .map(|e| e["location"]["geocoded"].as_str().unwrap())
        .collect();
    assert_eq!(geocoded, vec!["geocoder", "geocoder", "gazetteer"]);
    assert!(
        events[2]["title"]
            .as_str()
            .unwrap()
            .ends_with("(version 2)")
    );
}

#[tokio::test]
async fn requests_respect_the_rate_limit() {
    let (mock, geocoder_url) = MockGeocoder::start().await;
    let server = FeedServer::start().await;
    let streets: Vec<String> = (1..=5).map(|n| format!("{n} rue Tronchet")).collect();
    let streets: Vec<&str> = streets.iter().map(String::as_str).collect();
    server.set("feed.json", Behaviour::Serve(feed(&streets, 1)));
    // 10 requests per second: at least 100 ms between two requests.
    let service = TestService::start(
        &sources(&server.url("feed.json"), "photon", &geocoder_url, 10.0),
        Path::new("."),
    )
    .await;

    service.fetch_all().await;

    let times: Vec<Instant> = mock
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|(at, _)| *at)
        .collect();
    assert_eq!(times.len(), 5);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        // governor spaces cells by the period; allow 10 ms for timer and scheduling jitter.
        assert!(gap >= Duration::from_millis(90), "requests {gap:?} apart");
    }
}

#[tokio::test]
async fn geocoder_down_keeps_gazetteer_positions() {
    let (mock, geocoder_url) = MockGeocoder::start().await;
    *mock.down.lock().unwrap() = true;
    let server = FeedServer::start().await;
    server.set(
        "feed.json",
        Behaviour::Serve(feed(&["33 rue Tronchet", "35 rue Tronchet"], 1)),
    );
    let service = TestService::start(
        &sources(&server.url("feed.json"), "addok", &geocoder_url, 100.0),
        Path::new("."),
    )
    .await;

    let runs = service.fetch_all().await;
    let events = events(&service).await;

    match &runs[0].outcome {
        RunOutcome::Stored { kept, .. } => assert_eq!(*kept, 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mock.queries().len(),
        1,
        "the first failure pauses the geocoder"
    );
    assert_eq!(events.len(), 2, "no event lost");
    for event in &events {
        assert_eq!(event["location"]["geocoded"], "gazetteer", "{event}");
    }
    // The addresses left out are asked on a later run, so the feed is read again even
    // though it has not changed.
    let again = service.fetch_all().await;
    assert!(
        matches!(again[0].outcome, RunOutcome::Stored { .. }),
        "{again:?}"
    );
}

#[tokio::test]
async fn unreachable_geocoder_keeps_every_event() {
    // A port that was free a moment ago: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = FeedServer::start().await;
    server.set("feed.json", Behaviour::Serve(feed(&["33 rue Tronchet"], 1)));
    let service = TestService::start(
        &sources(&server.url("feed.json"), "nominatim", &url, 100.0),
        Path::new("."),
    )
    .await;

    service.fetch_all().await;
    let events = events(&service).await;

    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["location"]["geocoded"], "gazetteer");
}

#[tokio::test]
async fn unknown_town_takes_the_geocoder_centre() {
    let (mock, geocoder_url) = MockGeocoder::start().await;
    let server = FeedServer::start().await;
    let event = json!({
        "id": "hameau", "workshop": "FresqueClimat", "title": "Atelier au hameau",
        "start": "2027-05-06T18:30:00+02:00", "time_zone": "Europe/Paris",
        "location": {"postal_code": "39999", "city": "Hameau-Imaginaire", "country": "FR"}
    });
    server.set(
        "feed.json",
        Behaviour::Serve(common::feed(vec![event], None)),
    );
    let service = TestService::start(
        &sources(&server.url("feed.json"), "nominatim", &geocoder_url, 100.0),
        Path::new("."),
    )
    .await;

    service.fetch_all().await;
    let events = events(&service).await;

    assert_eq!(mock.queries(), vec!["39999 Hameau-Imaginaire"]);
    let location = &events[0]["location"];
    assert_eq!(location["geocoded"], "geocoder_city", "{location}");
    assert_eq!(location["latitude"], 46.67);
}
