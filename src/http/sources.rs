//! Source status for operators: `GET /api/v1/sources` (JSON), `GET /sources` (an HTML page
//! in French), and `POST /api/v1/sources/{id}/refresh`, which starts a fetch now and needs
//! the admin token from the environment.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use html_escape::encode_text as html;
use serde::Serialize;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};

use super::error::ApiError;
use super::{AppState, blocking};
use crate::app::ADMIN_TOKEN_ENV;
use crate::config::display_location;
use crate::event::Rejection;
use crate::scheduler::live::{ConfigView, RefreshError, SourceView};
use crate::store::SourceStatus;

/// Cache policy of the status responses: revalidated on every request, because operators
/// watch them change.
const STATUS_CACHE_CONTROL: &str = "no-cache";
/// Content-Security-Policy of the HTML page: no script, inline styles only.
const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Builds the status routes.
pub fn routes() -> Router<AppState> {
    let read = Router::new()
        .route("/api/v1/sources", get(list))
        .route("/api/v1/sources/{id}", get(one))
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD]),
        );
    Router::new()
        .merge(read)
        .route("/api/v1/sources/{id}/refresh", post(refresh))
        .route("/sources", get(page))
}

/// `GET /api/v1/sources` response.
#[derive(Serialize)]
struct Listing {
    config: ConfigView,
    sources: Vec<Status>,
}

/// One source: its configuration, its schedule and its last fetches.
#[derive(Serialize)]
struct Status {
    id: String,
    name: String,
    kind: &'static str,
    url: String,
    enabled: bool,
    schedule: String,
    /// `ok`, `failing`, `never_fetched` or `disabled`.
    state: &'static str,
    running: bool,
    next_run_at: Option<DateTime<Utc>>,
    last_fetch_at: Option<String>,
    last_success_at: Option<String>,
    duration_ms: Option<u64>,
    http_status: Option<u16>,
    events_kept: u64,
    events_rejected: u64,
    rejections: Vec<ReasonCount>,
    last_error: Option<String>,
    last_failure_at: Option<String>,
    consecutive_failures: u64,
    searchable_events: u64,
}

/// The rejections of one reason in the last parsed fetch.
#[derive(Serialize)]
struct ReasonCount {
    reason: String,
    count: u64,
    /// Up to a few rejections of this reason, among the 50 the store keeps.
    examples: Vec<Rejection>,
}

/// Loads the store's record of every configured source.
async fn statuses(state: &AppState) -> Result<Vec<Status>, ApiError> {
    let store = state.store.clone();
    let mut recorded: BTreeMap<String, SourceStatus> = blocking(move || store.source_statuses())
        .await?
        .into_iter()
        .map(|status| (status.id.clone(), status))
        .collect();
    Ok(state
        .live
        .sources()
        .into_iter()
        .map(|view| {
            let record = recorded.remove(&view.source.id).unwrap_or_default();
            status(view, record)
        })
        .collect())
}

fn status(view: SourceView, record: SourceStatus) -> Status {
    let source = view.source;
    let state = if !source.enabled {
        "disabled"
    } else if record.last_fetch_at.is_none() {
        "never_fetched"
    } else if record.last_error.is_some() {
        "failing"
    } else {
        "ok"
    };
    let rejections = record
        .rejections_by_reason
        .iter()
        .map(|(reason, &count)| ReasonCount {
            reason: reason.clone(),
            count,
            examples: record
                .rejections
                .iter()
                .filter(|r| &r.reason == reason)
                .take(5)
                .cloned()
                .collect(),
        })
        .collect();
    Status {
        url: display_location(&source.location),
        kind: source.kind.as_str(),
        enabled: source.enabled,
        schedule: source.schedule_text.clone(),
        state,
        running: view.running,
        next_run_at: view.next_run,
        last_fetch_at: record.last_fetch_at,
        last_success_at: record.last_success_at,
        duration_ms: record.duration_ms,
        http_status: record.http_status,
        events_kept: record.events_kept,
        events_rejected: record.events_rejected,
        rejections,
        last_error: record.last_error,
        last_failure_at: record.last_failure_at,
        consecutive_failures: record.consecutive_failures,
        searchable_events: record.searchable_events,
        id: source.id,
        name: source.name,
    }
}

async fn list(State(state): State<AppState>) -> Result<Response, ApiError> {
    let listing = Listing {
        config: state.live.config_view(),
        sources: statuses(&state).await?,
    };
    Ok((
        [(header::CACHE_CONTROL, STATUS_CACHE_CONTROL)],
        Json(listing),
    )
        .into_response())
}

async fn one(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let found = statuses(&state)
        .await?
        .into_iter()
        .find(|status| status.id == id)
        .ok_or_else(|| unknown_source(&id))?;
    Ok(([(header::CACHE_CONTROL, STATUS_CACHE_CONTROL)], Json(found)).into_response())
}

fn unknown_source(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no source {:?} in the configuration; GET /api/v1/sources lists them",
        id.chars().take(80).collect::<String>()
    ))
}

async fn refresh(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    if let Some(refusal) = check_token(&state, &headers) {
        return Err(refusal);
    }

    match state.live.refresh(&id) {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "source": id,
                "status": "started",
                "status_url": format!("/api/v1/sources/{id}"),
            })),
        )
            .into_response()),
        Err(RefreshError::UnknownSource(_)) => Err(unknown_source(&id).into_response()),
        Err(error @ RefreshError::Disabled(_)) => {
            Err(conflict("source_disabled", error).into_response())
        }
        Err(error @ RefreshError::AlreadyRunning(_)) => {
            Err(conflict("already_running", error).into_response())
        }
    }
}

fn conflict(code: &'static str, error: RefreshError) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        code,
        message: error.to_string(),
        parameter: None,
        accepted: Vec::new(),
    }
}

/// Returns the rejection to send, unless the request has `Authorization: Bearer {token}` equal to the
/// admin token. A request without credentials gets 401 even when no token is configured, so
/// that clients learn how to authenticate first.
fn check_token(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let unauthorized = || {
        let error = ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "send the admin token as Authorization: Bearer TOKEN".to_owned(),
            parameter: None,
            accepted: Vec::new(),
        };
        (
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"multifresque\"")],
            error,
        )
            .into_response()
    };
    let Some(given) = given else {
        tracing::warn!("refresh rejected: no admin token in the request");
        return Some(unauthorized());
    };
    let Some(expected) = &state.admin_token else {
        return Some(
            ApiError {
                status: StatusCode::FORBIDDEN,
                code: "refresh_disabled",
                message: format!(
                    "manual refresh is disabled: set {ADMIN_TOKEN_ENV} in the server's environment"
                ),
                parameter: None,
                accepted: Vec::new(),
            }
            .into_response(),
        );
    };
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        None
    } else {
        tracing::warn!("refresh rejected: invalid admin token");
        Some(unauthorized())
    }
}

/// Compares without stopping at the first difference, so the time taken does not reveal how
/// much of a guessed token is right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (i, byte) in b.iter().enumerate() {
        difference |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
    }
    difference == 0
}

// --- The HTML page ------------------------------------------------------------------------

async fn page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let sources = statuses(&state).await?;
    let config = state.live.config_view();
    let body = render(&config, &sources, Utc::now());
    Ok((
        [
            (header::CACHE_CONTROL, STATUS_CACHE_CONTROL),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        Html(body),
    )
        .into_response())
}

fn render(config: &ConfigView, sources: &[Status], now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(concat!(
        "<!doctype html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>État des sources – multifresque</title>\n<style>\n",
        "body{font-family:system-ui,sans-serif;margin:1rem;color:#1a1a1a;background:#fff}\n",
        "table{border-collapse:collapse;width:100%;font-size:.9rem}\n",
        "th,td{border-bottom:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}\n",
        ".scroll{overflow-x:auto}td:first-child{min-width:18rem;max-width:28rem}td:first-child code{word-break:break-all}\n",
        "th{background:#f0f0f0}.ok{color:#1b5e20}.failing{color:#b71c1c;font-weight:bold}\n",
        ".never_fetched,.disabled{color:#555}td.n{text-align:right}code{font-size:.85rem}\n",
        ".problem{color:#b71c1c}\n</style>\n</head>\n<body>\n",
        "<h1>État des sources</h1>\n"
    ));
    let _ = writeln!(
        out,
        "<p>Page générée le {}. Configuration chargée le {}{}.</p>",
        time(&now.to_rfc3339()),
        time(&config.loaded_at.to_rfc3339()),
        config
            .path
            .as_deref()
            .map(|p| format!(" depuis <code>{}</code>", html(p)))
            .unwrap_or_default()
    );
    if let Some(reload) = &config.last_reload
        && !reload.problems.is_empty()
    {
        let _ = writeln!(
            out,
            "<p class=\"problem\">Le fichier modifié le {} est invalide ; la configuration précédente reste en service :</p>\n<ul class=\"problem\">",
            time(&reload.at.to_rfc3339())
        );
        for problem in &reload.problems {
            let _ = writeln!(out, "<li>{}</li>", html(problem));
        }
        out.push_str("</ul>\n");
    }

    out.push_str(concat!(
        "<div class=\"scroll\"><table>\n<thead><tr><th scope=\"col\">Source</th><th scope=\"col\">État</th>",
        "<th scope=\"col\">Dernière récupération</th><th scope=\"col\">Durée</th>",
        "<th scope=\"col\">HTTP</th><th scope=\"col\">Gardés</th><th scope=\"col\">Rejetés</th>",
        "<th scope=\"col\">Recherchables</th><th scope=\"col\">Prochaine</th>",
        "<th scope=\"col\">Dernière erreur</th></tr></thead>\n<tbody>\n"
    ));
    for source in sources {
        row(&mut out, source);
    }
    out.push_str("</tbody>\n</table></div>\n");
    out.push_str(concat!(
        "<p>Les mêmes informations en JSON : <a href=\"/api/v1/sources\">/api/v1/sources</a>. ",
        "Relancer une source : <code>curl -X POST -H \"Authorization: Bearer $MULTIFRESQUE_ADMIN_TOKEN\" ",
        "/api/v1/sources/ID/refresh</code>.</p>\n</body>\n</html>\n"
    ));
    out
}

fn row(out: &mut String, source: &Status) {
    let state = match source.state {
        "ok" => "OK",
        "failing" => "En échec",
        "never_fetched" => "Jamais lue",
        _ => "Désactivée",
    };
    let running = if source.running { " (en cours)" } else { "" };
    let _ = write!(
        out,
        "<tr><td><strong>{}</strong><br><code>{}</code> · {} · <code>{}</code></td><td class=\"{}\">{state}{running}</td>",
        html(&source.name),
        html(&source.id),
        source.kind,
        html(&source.url),
        source.state,
    );
    let _ = write!(
        out,
        "<td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        source
            .last_fetch_at
            .as_deref()
            .map(time)
            .unwrap_or_else(|| "–".to_owned()),
        source
            .duration_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_else(|| "–".to_owned()),
        source
            .http_status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "–".to_owned()),
        source.events_kept,
    );
    out.push_str("<td class=\"n\">");
    if source.rejections.is_empty() {
        let _ = write!(out, "{}", source.events_rejected);
    } else {
        let _ = write!(
            out,
            "<details><summary>{}</summary><ul>",
            source.events_rejected
        );
        for reason in &source.rejections {
            let _ = write!(
                out,
                "<li><code>{}</code> : {}",
                html(&reason.reason),
                reason.count
            );
            for example in &reason.examples {
                let _ = write!(
                    out,
                    "<br>– {}{}",
                    example
                        .event_id
                        .as_deref()
                        .map(|id| format!("<code>{}</code> : ", html(id)))
                        .unwrap_or_default(),
                    html(&example.detail)
                );
            }
            out.push_str("</li>");
        }
        out.push_str("</ul></details>");
    }
    let _ = writeln!(
        out,
        "</td><td class=\"n\">{}</td><td>{}</td><td class=\"problem\">{}</td></tr>",
        source.searchable_events,
        source
            .next_run_at
            .map(|at| time(&at.to_rfc3339()))
            .unwrap_or_else(|| "–".to_owned()),
        source
            .last_error
            .as_deref()
            .map(|error| {
                let failures = if source.consecutive_failures > 1 {
                    format!(" ({} échecs de suite)", source.consecutive_failures)
                } else {
                    String::new()
                };
                format!("{}{failures}", html(error))
            })
            .unwrap_or_default(),
    );
}

/// Formats an RFC 3339 time as `2026-12-04 20:15:03 UTC` in a `<time>` element.
fn time(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(at) => format!(
            "<time datetime=\"{}\">{}</time>",
            html_escape::encode_double_quoted_attribute(rfc3339),
            at.with_timezone(&Utc).format("%Y-%m-%d %H:%M:%S UTC")
        ),
        Err(_) => html(rfc3339).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secreT", b"secret"));
        assert!(!constant_time_eq(b"secret-longer", b"secret"));
        assert!(!constant_time_eq(b"", b"secret"));
    }
}
