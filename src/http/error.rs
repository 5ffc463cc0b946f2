//! The one error type of the HTTP API: a status and a JSON body with a stable `code`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API failure, sent as `{"error": {"code", "message", "parameter", "accepted"}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable machine-readable code, such as `invalid_parameter` or `not_found`.
    pub code: &'static str,
    pub message: String,
    /// The offending query parameter, for 400 answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What the parameter accepts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<String>,
}

impl ApiError {
    /// A 400 for one bad parameter.
    pub fn invalid(parameter: &str, message: String, accepted: &[&str]) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            message,
            parameter: Some(parameter.to_owned()),
            accepted: accepted.iter().map(|&a| a.to_owned()).collect(),
        }
    }

    pub fn with_code(mut self, code: &'static str) -> ApiError {
        self.code = code;
        self
    }

    pub fn not_found(message: String) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message,
            parameter: None,
            accepted: Vec::new(),
        }
    }

    /// A 500 that shows no internal detail; the cause is logged here, once.
    pub fn internal(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%error, "request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "the server failed to answer; the error is logged".to_owned(),
            parameter: None,
            accepted: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a ApiError,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::debug!(code = self.code, parameter = ?self.parameter, message = %self.message, "rejected request");
        }
        (self.status, Json(Body { error: &self })).into_response()
    }
}

/// Gives the answers that axum and tower produce themselves (a path that cannot be decoded,
/// a wrong method, a timeout, a body too large) the same JSON error body as the handlers'.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    // JSON errors are already in shape, and the web pages answer theirs as HTML pages.
    let is_json_or_page = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| {
            value.as_bytes().starts_with(b"application/json")
                || value.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json_or_page {
        return response;
    }

    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this path answers GET only"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long to answer"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("body_too_large", "the request body is larger than 16 KiB")
        }
        StatusCode::TOO_MANY_REQUESTS => (
            "too_many_requests",
            "too many requests from this client; retry later",
        ),
        status if status.is_server_error() => (
            "internal_error",
            "the server failed to answer; the error is logged",
        ),
        _ => (
            "invalid_request",
            "the request path or query string is invalid",
        ),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let error = ApiError {
        status,
        code,
        message: message.to_owned(),
        parameter: None,
        accepted: Vec::new(),
    };
    let body = error.into_response().into_body();
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, body)
}
