//! Test support: a real local HTTP server that serves feeds and misbehaves on demand, and a
//! real multifresque server on an ephemeral port over a temporary data directory.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use multifresque::app::App;
use multifresque::config::Config;
use multifresque::fetch::FetchSettings;
use multifresque::http::rate_limit::{ClientRateLimiter, RateLimitSettings};

/// What the feed server does for a path.
#[derive(Clone)]
pub enum Behaviour {
    /// 200 with this body, and an ETag derived from it.
    Serve(String),
    /// This status with a short body.
    Status(u16),
    /// Waits this long before answering 200 with the body.
    Delay(Duration, String),
    /// Whatever the function builds: redirects, streams, odd headers.
    Respond(Arc<dyn Fn() -> Response + Send + Sync>),
}

impl Behaviour {
    pub fn respond(build: impl Fn() -> Response + Send + Sync + 'static) -> Behaviour {
        Behaviour::Respond(Arc::new(build))
    }
}

/// A local HTTP server serving feeds at `/{name}`.
#[derive(Clone)]
pub struct FeedServer {
    pub address: SocketAddr,
    routes: Arc<Mutex<std::collections::HashMap<String, Behaviour>>>,
    /// Requests answered 304 because the client sent a matching If-None-Match.
    pub not_modified: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = FeedServer {
            address: listener.local_addr().unwrap(),
            routes: Arc::default(),
            not_modified: Arc::default(),
            requests: Arc::default(),
        };
        let app = Router::new()
            .route("/{name}", get(serve_feed))
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        server
    }

    pub fn set(&self, name: &str, behaviour: Behaviour) {
        self.routes
            .lock()
            .unwrap()
            .insert(name.to_owned(), behaviour);
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.address)
    }
}

async fn serve_feed(
    State(server): State<FeedServer>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    server.requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = server.routes.lock().unwrap().get(&name).cloned();
    match behaviour {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Behaviour::Status(status)) => {
            (StatusCode::from_u16(status).unwrap(), "failure").into_response()
        }
        Some(Behaviour::Delay(delay, body)) => {
            tokio::time::sleep(delay).await;
            body.into_response()
        }
        Some(Behaviour::Respond(build)) => build(),
        Some(Behaviour::Serve(body)) => {
            let etag = format!("\"{:x}\"", multifresque::normalize::fnv1a(body.as_bytes()));
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some(etag.as_str())
            {
                server.not_modified.fetch_add(1, Ordering::SeqCst);
                return StatusCode::NOT_MODIFIED.into_response();
            }
            (
                [
                    (header::ETAG, etag),
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                ],
                body,
            )
                .into_response()
        }
    }
}

/// Fetch settings for tests: short timeouts, one quick retry, no rate limit to wait for.
pub fn fast_fetch() -> FetchSettings {
    FetchSettings {
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(2),
        retries: 1,
        retry_delay: Duration::from_millis(10),
        per_host_per_second: NonZeroU32::new(1000).unwrap(),
        ..FetchSettings::default()
    }
}

/// A multifresque serving HTTP on an ephemeral port.
pub struct TestService {
    pub app: App,
    pub base: String,
    pub client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _data: tempfile::TempDir,
}

impl TestService {
    /// Starts the service over the sources written in `sources_toml` (relative paths resolve
    /// against `base_dir`).
    pub async fn start(sources_toml: &str, base_dir: &Path) -> TestService {
        TestService::start_with(sources_toml, base_dir, fast_fetch()).await
    }

    /// Like [`TestService::start`], with these fetch settings.
    pub async fn start_with(
        sources_toml: &str,
        base_dir: &Path,
        fetch: FetchSettings,
    ) -> TestService {
        TestService::open(sources_toml, base_dir, tempfile::tempdir().unwrap(), fetch).await
    }

    /// Starts the service over an existing data directory, as a restart does.
    pub async fn start_in(
        sources_toml: &str,
        base_dir: &Path,
        data: tempfile::TempDir,
    ) -> TestService {
        TestService::open(sources_toml, base_dir, data, fast_fetch()).await
    }

    async fn open(
        sources_toml: &str,
        base_dir: &Path,
        data: tempfile::TempDir,
        fetch: FetchSettings,
    ) -> TestService {
        let config = Config::parse(sources_toml, base_dir).unwrap();
        let app = App::open_with(config, data.path(), fetch).await.unwrap();
        TestService::serve(app, data).await
    }

    /// Starts the service over a sources file, which its schedule reads again on change, with
    /// an admin token for manual refresh when given. The schedule is not started.
    pub async fn start_file(sources: &Path, admin_token: Option<&str>) -> TestService {
        let data = tempfile::tempdir().unwrap();
        let mut app = App::open(sources, data.path(), fast_fetch()).await.unwrap();
        app.state.admin_token = admin_token.map(Arc::from);
        TestService::serve(app, data).await
    }

    async fn serve(mut app: App, data: tempfile::TempDir) -> TestService {
        // Every request of a test comes from 127.0.0.1, so the default quota would turn a
        // long test into 429s; `tests/public_limits.rs` tests the limiter with its own.
        app.state.rate_limit = Arc::new(ClientRateLimiter::new(&RateLimitSettings {
            per_second: None,
            ..RateLimitSettings::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = multifresque::http::router(app.state.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TestService {
            app,
            base,
            client: reqwest::Client::new(),
            server,
            _data: data,
        }
    }

    /// Hands the data directory over, for a restart with [`TestService::start_in`].
    pub async fn into_data(self) -> tempfile::TempDir {
        // The server task holds the index writer through the router state; stop it first.
        self.server.abort();
        let _ = self.server.await;
        drop(self.app);
        self._data
    }

    /// Runs every enabled source once.
    pub async fn fetch_all(&self) -> Vec<multifresque::scheduler::SourceRun> {
        self.app.aggregator.run_all(&self.app.config, |_| {}).await
    }

    /// Polls `GET path` every 50 ms until `done` accepts the body; panics after 60 s with
    /// the last body. A wait for a background effect, not a timing assertion.
    pub async fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self.get(path).await;
            if done(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "condition on {path} not met; last body: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = match serde_json::from_str(&text) {
            Ok(json) => json,
            Err(_) => Value::String(text),
        };
        (status, body)
    }

    /// The ids of the events a search returns, in order.
    pub async fn search_ids(&self, query: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A one-source sources file reading `url` as an OpenFresque feed.
pub fn openfresque_source(id: &str, url: &str) -> String {
    format!(
        "[[source]]\nid = \"{id}\"\nkind = \"openfresque\"\nurl = \"{url}\"\nworkshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\nlanguage = \"fr\"\n"
    )
}

/// A test event `days` from now at a place.
pub fn event(id: &str, title: &str, days: i64, city: &str, latitude: f64, longitude: f64) -> Value {
    let start: DateTime<Utc> = Utc::now() + chrono::Duration::days(days);
    let end = start + chrono::Duration::hours(3);
    json!({
        "id": id, "title": title, "start": start.to_rfc3339(), "end": end.to_rfc3339(),
        "time_zone": "Europe/Paris", "attendance": "in_person",
        "location": {"city": city, "country": "FR", "latitude": latitude, "longitude": longitude}
    })
}

/// An OpenFresque v1 page.
pub fn feed(events: Vec<Value>, next: Option<&str>) -> String {
    json!({
        "openfresque_feed": "1",
        "publisher": {"name": "Test publisher", "url": "https://example.org", "workshops": ["FresqueClimat"]},
        "generated_at": Utc::now().to_rfc3339(),
        "next": next,
        "events": events,
    })
    .to_string()
}
