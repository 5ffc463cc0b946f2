//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every endpoint, kept in
//! `openapi.json` beside this file and checked against the router by the tests.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The OpenAPI route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(serve))
}

async fn serve() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        DOCUMENT,
    )
}
