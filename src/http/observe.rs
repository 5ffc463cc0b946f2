//! Observability endpoints and layers: `GET /metrics` in the Prometheus text format, and the
//! request latency histogram recorded for every route.

use std::path::Path;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::ApiError;
use super::{AppState, blocking};
use crate::app::{INDEX_DIR, STORE_FILE};
use crate::metrics::{self, SourceLabels};

/// Builds the metrics route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(serve_metrics))
}

/// Middleware recording each request's latency by method, route pattern and status class.
pub async fn record_latency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn serve_metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let metrics = state.metrics.clone();
    let store = state.store.clone();
    let index = state.index.clone();
    let data_dir = state.data_dir.clone();
    let configured: Vec<String> = state
        .live
        .sources()
        .into_iter()
        .map(|v| v.source.id)
        .collect();
    let text = blocking(move || -> Result<String, crate::store::StoreError> {
        let statuses = store.source_statuses()?;
        let index_bytes = directory_size(&data_dir.join(INDEX_DIR));
        let store_bytes = [STORE_FILE.to_owned(), format!("{STORE_FILE}-wal")]
            .iter()
            .map(|name| file_size(&data_dir.join(name)))
            .sum::<u64>();
        Ok(metrics.encode(|m| {
            m.index_documents.set(gauge(index.num_docs()));
            m.index_generation
                .set(gauge(index.generation().unwrap_or(0)));
            m.index_size_bytes.set(gauge(index_bytes));
            m.store_size_bytes.set(gauge(store_bytes));
            // Only sources in the running configuration have series, so a removed source's
            // series disappear at the next scrape.
            m.source_searchable_events.clear();
            m.source_events_kept.clear();
            m.source_events_rejected.clear();
            m.source_last_success.clear();
            for status in statuses.iter().filter(|s| configured.contains(&s.id)) {
                let labels = SourceLabels {
                    source: status.id.clone(),
                };
                m.source_searchable_events
                    .get_or_create(&labels)
                    .set(gauge(status.searchable_events));
                m.source_events_kept
                    .get_or_create(&labels)
                    .set(gauge(status.events_kept));
                m.source_events_rejected
                    .get_or_create(&labels)
                    .set(gauge(status.events_rejected));
                if let Some(at) = status
                    .last_success_at
                    .as_deref()
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                {
                    m.source_last_success
                        .get_or_create(&labels)
                        .set(at.timestamp());
                }
            }
        }))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, metrics::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}

fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Total size of the files in a directory and its subdirectories, in bytes.
fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => directory_size(&entry.path()),
            Ok(_) => entry.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
