//! `GET /api/v1/sources/quality`: the data quality report of every source, for operators
//! and for the status page.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::{ApiError, AppState, blocking};
use crate::quality::{self, SourceQuality};

/// The routes of this module, merged into the API router.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/sources/quality", get(source_quality))
}

#[derive(Serialize)]
struct QualityPage {
    sources: Vec<SourceQuality>,
}

async fn source_quality(State(state): State<AppState>) -> Result<Json<QualityPage>, ApiError> {
    let store = state.store.clone();
    let sources = blocking(move || quality::report(&store)).await?;
    Ok(Json(QualityPage { sources }))
}
