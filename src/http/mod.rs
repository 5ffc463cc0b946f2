//! The HTTP API (axum): search, single events, the workshop catalog, place suggestions and
//! health here; source status, exports, metrics and the OpenAPI document in submodules. Handlers validate input, run blocking work (tantivy, SQLite) off the async
//! threads, and answer JSON; they never build SQL or touch index files themselves.

mod caching;
mod error;
mod events;
mod exports;
mod observe;
mod openapi;
pub mod params;
mod quality;
pub mod rate_limit;
mod response_cache;
mod sources;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use response_cache::ResponseCache;

use crate::catalog::{Catalog, Workshop};
use crate::index::Index;
use crate::metrics::Metrics;
use crate::places::{self, Gazetteer, Place};
use crate::scheduler::live::Live;
use crate::search::SearchResults;
use crate::store::Store;

/// Longest time a request may take before the server answers 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest accepted request body: the API reads none, so anything sizeable is abuse.
const MAX_REQUEST_BODY_BYTES: usize = 16 * 1024;
/// How long clients and caches may reuse a search answer.
const SEARCH_CACHE_CONTROL: &str = "public, max-age=60";
/// Most place suggestions per request.
const MAX_PLACE_SUGGESTIONS: usize = 20;

/// Shared state of every handler. Each request clones it once per middleware, so it is
/// one reference-counted pointer to [`Services`]; the fields read through it.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// Changing a field changes this handle only, as it did when each clone held its own
/// fields: a shared [`Services`] is copied first, which costs a few reference counts.
impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Services {
        Arc::make_mut(&mut self.0)
    }
}

/// The services every handler shares.
#[derive(Clone)]
pub struct Services {
    /// The search index: answers every search.
    pub index: Arc<Index>,
    /// The store: answers single-event requests, withdrawn ones included.
    pub store: Arc<Store>,
    pub catalog: Arc<Catalog>,
    pub gazetteer: Arc<Gazetteer>,
    /// Per-client request quota of every route.
    pub rate_limit: Arc<rate_limit::ClientRateLimiter>,
    /// The running schedule: source status, next runs and manual refresh.
    pub live: Arc<Live>,
    /// Counters and histograms served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The token `POST /api/v1/sources/{id}/refresh` requires; `None` disables the route.
    pub admin_token: Option<Arc<str>>,
    /// The data directory, whose files `/metrics` measures.
    pub data_dir: Arc<std::path::PathBuf>,
    /// Recent search responses.
    pub responses: Arc<ResponseCache>,
}

/// Builds the application's router; `main` serves it and tests drive it.
pub fn router(state: AppState) -> Router {
    caching::mark_start();
    let api = Router::new()
        .route("/api/v1/events", get(search_events))
        .route("/api/v1/events/{id}", get(get_event))
        .route("/api/v1/workshops", get(list_workshops))
        .route("/api/v1/places", get(suggest_places))
        .merge(quality::routes())
        .layer(axum::middleware::map_response(cache_success))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET]),
        );

    Router::new()
        .route("/healthz", get(health))
        .merge(api)
        .merge(crate::web::routes())
        .merge(sources::routes())
        .merge(exports::routes())
        .merge(observe::routes())
        .merge(openapi::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::record_latency,
        ))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caching::conditional,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.rate_limit.clone(),
            rate_limit::enforce,
        ))
        .with_state(state)
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(&"handler panicked").into_response()
        }))
}

/// Lets clients and caches reuse successful answers for a minute; errors are not cached.
async fn cache_success(mut response: Response) -> Response {
    if response.status().is_success() && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(SEARCH_CACHE_CONTROL),
        );
    }
    response
}

/// Runs blocking work on the blocking pool and maps its failure to a 500.
async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(ApiError::internal(&error)),
        Err(error) => Err(ApiError::internal(&error)),
    }
}

/// `GET /api/v1/events` answer: a page of results, its facets and the place searched around.
#[derive(Serialize)]
struct EventsPage {
    #[serde(flatten)]
    results: SearchResults,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<Place>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribution: Option<&'static str>,
}

async fn search_events(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    // Read the version before searching: a response computed while a commit lands is then
    // kept under the older version, and never served for the newer one.
    let version = state.index.version();
    let (body, tag) = state
        .responses
        .get_or_compute(&raw, version, search_response(&state, &raw))
        .await?;
    Ok(json_response(body, tag))
}

/// Runs a search and renders its response body with its entity tag.
async fn search_response(
    state: &AppState,
    raw: &str,
) -> Result<response_cache::CachedResponse, ApiError> {
    let search = params::parse_event_search(raw, &state.gazetteer, Utc::now())?;
    let index = state.index.clone();
    let query = search.query;
    let results = blocking(move || index.search(&query)).await?;

    let attribution = search.place.is_some().then_some(places::ATTRIBUTION);
    let page = EventsPage {
        results,
        place: search.place,
        attribution,
    };
    let body = serde_json::to_vec(&page).map_err(|e| ApiError::internal(&e))?;
    let tag =
        HeaderValue::from_str(&caching::weak_tag(&body)).map_err(|e| ApiError::internal(&e))?;
    Ok((axum::body::Bytes::from(body), tag))
}

/// Builds a JSON response as `Json` would, with its entity tag.
fn json_response(body: axum::body::Bytes, tag: HeaderValue) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, tag),
        ],
        body,
    )
        .into_response()
}

async fn get_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<events::ServedEvent>, ApiError> {
    if id.len() > 256 {
        return Err(ApiError::not_found("no event with this id".to_owned()));
    }
    let (store, index) = (state.store.clone(), state.index.clone());
    let lookup = id.clone();
    blocking(move || events::served_event(&store, &index, &lookup))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no event with id {id:?}")))
}

async fn list_workshops(State(state): State<AppState>) -> Json<serde_json::Value> {
    let workshops: &[Workshop] = state.catalog.all();
    Json(json!({ "workshops": workshops }))
}

async fn suggest_places(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<serde_json::Value>, ApiError> {
    let pairs = params::pairs(raw.as_deref().unwrap_or(""), &["q", "limit"])?;
    let prefix = params::single(&pairs, "q")?.unwrap_or("");
    if prefix.chars().count() > params::MAX_QUERY_CHARS {
        return Err(ApiError::invalid(
            "q",
            format!("q is longer than {} characters", params::MAX_QUERY_CHARS),
            &[],
        ));
    }
    let limit = match params::single(&pairs, "limit")? {
        None => 8,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PLACE_SUGGESTIONS).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!("invalid limit {text:?}"),
                    &[&format!("an integer from 1 to {MAX_PLACE_SUGGESTIONS}")],
                )
            })?,
    };

    let places = if prefix.is_empty() {
        Vec::new()
    } else {
        state.gazetteer.autocomplete(prefix, limit)
    };
    Ok(Json(
        json!({ "places": places, "attribution": places::ATTRIBUTION }),
    ))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    searchable_events: u64,
    index_generation: Option<u64>,
    time: DateTime<Utc>,
}

async fn health(State(state): State<AppState>) -> Response {
    let health = Health {
        status: "ok",
        searchable_events: state.index.num_docs(),
        index_generation: state.index.generation(),
        time: Utc::now(),
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(health)).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such page; the API is under /api/v1/".to_owned())
}
