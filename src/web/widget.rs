//! The widget's iframe page at `/widget`: the next sessions of a search in a compact list
//! that any site may frame, with no script. Its colours come from `/widget/theme.css`, a
//! stylesheet built from validated colour parameters, so the page needs no inline style.
//!
//! The script widget (`/widget.js`, a custom element in a shadow root) reads the JSON API
//! instead; both take the same options.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use maud::{DOCTYPE, Markup, html};
use url::form_urlencoded;

use super::i18n::Lang;
use super::query::PageQuery;
use super::search_page::{availability, family_name, local_start, location_line};
use super::{WIDGET_FRAME_CSP, assets, event_path, interface_language, page_headers};
use crate::event::Attendance;
use crate::http::AppState;
use crate::search::SearchResults;

/// Colour parameters and the CSS custom property each one sets.
const COLOURS: [(&str, &str); 3] = [
    ("accent", "--mf-accent"),
    ("background", "--mf-background"),
    ("text", "--mf-text"),
];
/// Parameters of the widget besides the API's.
const WIDGET_ONLY: &[&str] = &["hl", "accent", "background", "text"];
/// Sessions shown when the embedder gives no `limit`.
const DEFAULT_WIDGET_LIMIT: &str = "5";

pub async fn widget_frame(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let raw = with_default_limit(raw.as_deref().unwrap_or(""));
    let (query, search) = PageQuery::parse(&raw, WIDGET_ONLY, &state.gazetteer, Utc::now());
    let lang = interface_language(query.extra("hl"), &headers);

    let results = match search {
        Ok(search) => {
            let index = state.index.clone();
            match super::blocking(move || index.search(&search.query)).await {
                Ok(results) => Ok(results),
                Err(error) => return error.into_response(),
            }
        }
        Err(error) => Err(error),
    };
    let status = if results.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let markup = render(&state, lang, &query, results.as_ref().ok());
    (
        status,
        page_headers(WIDGET_FRAME_CSP, lang),
        Html(markup.into_string()),
    )
        .into_response()
}

/// Adds `limit=5` when the embedder gave no limit: a widget shows a few sessions.
fn with_default_limit(raw: &str) -> String {
    let has_limit = form_urlencoded::parse(raw.as_bytes()).any(|(name, _)| name == "limit");
    match (has_limit, raw.is_empty()) {
        (true, _) => raw.to_owned(),
        (false, true) => format!("limit={DEFAULT_WIDGET_LIMIT}"),
        (false, false) => format!("{raw}&limit={DEFAULT_WIDGET_LIMIT}"),
    }
}

fn render(
    state: &AppState,
    lang: Lang,
    query: &PageQuery,
    results: Option<&SearchResults>,
) -> Markup {
    let texts = lang.texts();
    let theme: Vec<(&str, &str)> = COLOURS
        .iter()
        .filter_map(|(name, _)| Some((*name, query.extra(name).filter(|c| is_colour(c))?)))
        .collect();
    let theme_url = format!(
        "/widget/theme.css?{}",
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&theme)
            .finish()
    );
    // The full search page, without the widget's own options.
    let more_url = format!(
        "/?{}",
        query.with(&[
            ("limit", None),
            ("accent", None),
            ("background", None),
            ("text", None)
        ])
    );

    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (texts.widget_title) " · multifresque" }
                link rel="stylesheet" href=(assets::url("widget-frame.css"));
                link rel="stylesheet" href=(theme_url);
            }
            body class="mf-widget" {
                main {
                    h1 class="mf-heading" { (texts.widget_title) }
                    @match results {
                        None => p class="mf-empty" { (texts.invalid_filter) },
                        Some(results) if results.events.is_empty() => p class="mf-empty" { (texts.widget_none) },
                        Some(results) => ul class="mf-list" {
                            @for hit in &results.events {
                                @let event = &hit.event;
                                li class="mf-item" {
                                    p class="mf-when" {
                                        time datetime=(event.start.to_rfc3339()) {
                                            (texts.session_time(&event.start, event.end.as_ref(), &event.time_zone))
                                        }
                                    }
                                    p class="mf-title" {
                                        a href=(event_path(&event.id)) target="_blank" rel="noopener" { (event.title) }
                                    }
                                    p class="mf-meta" {
                                        (family_name(&state.catalog, lang, &event.workshop))
                                        " · "
                                        @if event.attendance == Attendance::Online {
                                            (texts.online)
                                        } @else {
                                            (location_line(event))
                                        }
                                        @if let Some(km) = hit.distance_km { " · " (texts.distance(km)) }
                                    }
                                    p class="mf-actions" {
                                        (availability(texts, event))
                                        @if let Some(tickets) = &event.tickets_url {
                                            " "
                                            a class="mf-book" href=(tickets) target="_blank" rel="noopener noreferrer" {
                                                (texts.book)
                                                span class="mf-hidden" { (texts.colon) (event.title) " (" (texts.long_date(&local_start(event))) ")" }
                                            }
                                        }
                                    }
                                }
                            }
                        },
                    }
                    p class="mf-more" {
                        a href=(more_url) target="_blank" rel="noopener" { (texts.widget_more) }
                    }
                }
            }
        }
    }
}

/// `#rgb` or `#rrggbb`: the only colours accepted, so nothing else reaches the stylesheet.
fn is_colour(value: &str) -> bool {
    value
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Serves a stylesheet setting the widget's colour properties from `accent`, `background` and
/// `text`; values that are not hexadecimal colours are left out.
pub async fn widget_theme(RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let mut rules = String::from(":root {\n");
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let property = COLOURS.iter().find(|(n, _)| *n == name).map(|(_, p)| p);
        if let Some(property) = property
            && is_colour(&value)
        {
            rules.push_str(&format!("  {property}: {value};\n"));
        }
    }
    rules.push_str("}\n");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        rules,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_must_be_hexadecimal() {
        assert!(is_colour("#0a7"));
        assert!(is_colour("#00AA77"));
        assert!(!is_colour("red"));
        assert!(!is_colour("#0a7;}body{display:none"));
        assert!(!is_colour("#12345"));
    }

    #[test]
    fn default_limit_only_when_absent() {
        assert_eq!(with_default_limit(""), "limit=5");
        assert_eq!(with_default_limit("near=Lyon"), "near=Lyon&limit=5");
        assert_eq!(with_default_limit("limit=3"), "limit=3");
    }
}
