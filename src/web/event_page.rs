//! One page per event at `/evenements/{id}`, with schema.org `Event` JSON-LD for search
//! engines, and its `.ics` download at `/evenements/{id}/agenda.ics`.
//!
//! Withdrawn and cancelled events keep their page, with a notice, so that shared links
//! still explain what happened.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::i18n::{Lang, Texts};
use super::layout::{Frame, page};
use super::search_page::{availability, family_name};
use super::{PAGE_CSP, event_path, ics, interface_language, json_for_script, page_headers};
use crate::event::{Attendance, Audience, Event, Price, Status};
use crate::http::{ApiError, AppState};
use crate::store::StoredEvent;

/// Maximum id length looked up, in bytes: longer ids cannot exist, so they never reach the
/// store.
const MAX_ID_BYTES: usize = 256;

#[derive(Deserialize)]
pub struct PageParameters {
    hl: Option<String>,
}

pub async fn event_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(parameters): Query<PageParameters>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = interface_language(parameters.hl.as_deref(), &headers);
    let Some(stored) = find(&state, id).await? else {
        return Ok(not_found(lang));
    };

    let page_url =
        origin(&headers).map(|origin| format!("{origin}{}", event_path(&stored.event.id)));
    let markup = render(
        &state,
        lang,
        &stored,
        page_url.as_deref(),
        parameters.hl.is_some(),
    );
    Ok((page_headers(PAGE_CSP, lang), Html(markup.into_string())).into_response())
}

pub async fn event_ics(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(stored) = find(&state, id.clone()).await? else {
        return Err(ApiError::not_found(format!("no event with id {id:?}")));
    };
    let event = &stored.event;
    let page_url = origin(&headers).map(|origin| format!("{origin}{}", event_path(&event.id)));
    let calendar = ics::event_calendar(event, page_url.as_deref(), Utc::now());

    // The id is URL-safe, but a file name has its own reserved characters.
    let file_name: String = event
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}.ics\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60"),
            ),
        ],
        calendar,
    )
        .into_response())
}

async fn find(state: &AppState, id: String) -> Result<Option<StoredEvent>, ApiError> {
    if id.len() > MAX_ID_BYTES {
        return Ok(None);
    }
    let store = state.store.clone();
    super::blocking(move || store.event(&id)).await
}

/// `scheme://host` of this site as the browser reached it, for absolute links in JSON-LD
/// and calendar files. `None` when the `Host` header is missing or malformed.
///
/// NOTE: the scheme is `https` only when a proxy sets `X-Forwarded-Proto: https`, because
/// the server itself serves plain HTTP.
fn origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let well_formed = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !well_formed {
        return None;
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    Some(format!("{}://{host}", if https { "https" } else { "http" }))
}

fn render(
    state: &AppState,
    lang: Lang,
    stored: &StoredEvent,
    page_url: Option<&str>,
    explicit_lang: bool,
) -> Markup {
    let texts = lang.texts();
    let event = &stored.event;
    let family = family_name(&state.catalog, lang, &event.workshop);
    let path = event_path(&event.id);
    let ics_path = format!("{path}/agenda.ics");
    let search_link = if explicit_lang {
        format!("/?hl={}", lang.code())
    } else {
        "/".to_owned()
    };
    let withdrawn = stored.withdrawn_at.is_some();
    let past = event.start_utc() < Utc::now();

    let body = html! {
        p class="back" { a href=(search_link) { "← " (texts.back_to_search) } }
        article class="event" {
            @if withdrawn {
                p class="notice warning" role="note" { (texts.withdrawn_notice) }
            } @else if event.status == Status::Cancelled {
                p class="notice warning" role="note" { (texts.cancelled_notice) }
            } @else if event.status == Status::Postponed {
                p class="notice warning" role="note" { (texts.postponed_notice) }
            } @else if past {
                p class="notice" role="note" { (texts.past_notice) }
            }
            h1 { (event.title) }
            p class="family" {
                span class="family-name" { (family) }
                @if event.audience != Audience::GeneralPublic {
                    " · " (texts.audience_name(event.audience))
                }
            }
            (facts(texts, event))
            div class="actions" {
                (availability(texts, event))
                @if let Some(tickets) = &event.tickets_url {
                    @if !withdrawn && event.status != Status::Cancelled {
                        a class="button primary book" href=(tickets) rel="noopener noreferrer external" {
                            (texts.book)
                        }
                    }
                }
                a class="button secondary" href=(ics_path) download { (texts.add_to_calendar) }
                @if let Some(url) = &event.url {
                    @if event.tickets_url.as_ref() != Some(url) {
                        a class="button secondary" href=(url) rel="noopener noreferrer external" { (texts.organizer_page) }
                    }
                }
            }
            @if !event.description.trim().is_empty() {
                section class="description" {
                    h2 { (texts.description) }
                    @for paragraph in event.description.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
                        p {
                            @for (i, line) in paragraph.lines().enumerate() {
                                @if i > 0 { br; }
                                (line)
                            }
                        }
                    }
                }
            }
        }
    };

    let json_ld = json_ld(state, event, page_url);
    page(Frame {
        lang,
        title: &event.title,
        query_without_hl: "",
        path: &path,
        head: html! {
            @if withdrawn { meta name="robots" content="noindex"; }
            @if let Some(url) = page_url { link rel="canonical" href=(url); }
            script type="application/ld+json" { (PreEscaped(json_for_script(&json_ld))) }
        },
        body,
    })
}

/// Renders the definition list of when, where, languages, price and seats.
fn facts(texts: &Texts, event: &Event) -> Markup {
    let location = &event.location;
    let city_line = [location.postal_code.as_deref(), location.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        dl class="facts" {
            dt { (texts.when) }
            dd {
                time datetime=(event.start.to_rfc3339()) {
                    (texts.session_time(&event.start, event.end.as_ref(), &event.time_zone))
                }
            }
            dt { (texts.where_) }
            dd {
                @if event.attendance != Attendance::InPerson {
                    span class="badge online" { (texts.attendance(event.attendance)) }
                }
                @if event.attendance != Attendance::Online {
                    @if let Some(name) = &location.name { span class="line" { (name) } }
                    @if let Some(street) = &location.street { span class="line" { (street) } }
                    @if !city_line.is_empty() { span class="line" { (city_line) } }
                    @if let Some((latitude, longitude)) = location.coordinates() {
                        a class="line" href=(format!(
                            "https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}#map=16/{latitude}/{longitude}"
                        )) rel="noopener noreferrer external" { (texts.open_street_map) }
                    }
                }
            }
            @if !event.languages.is_empty() {
                dt { (texts.languages) }
                dd {
                    (event.languages.iter().map(|code| texts.language_name(code)).collect::<Vec<_>>().join(", "))
                }
            }
            @if let Some(price) = &event.price {
                dt { (texts.price) }
                dd { (price_text(texts, price)) }
            }
            @if let Some(capacity) = event.capacity {
                dt { (texts.seats) }
                dd { (capacity) }
            }
        }
    }
}

fn price_text(texts: &Texts, price: &Price) -> String {
    if price.free {
        return texts.free.to_owned();
    }
    let currency = price.currency.as_deref().unwrap_or("");
    let amount = match (price.min, price.max) {
        (Some(min), Some(max)) if min != max => {
            format!("{} – {}", texts.decimal(min), texts.decimal(max))
        }
        (Some(value), _) | (None, Some(value)) if value == 0.0 => return texts.free.to_owned(),
        (Some(value), _) | (None, Some(value)) => texts.decimal(value),
        (None, None) => return String::new(),
    };
    format!("{amount} {currency}").trim().to_owned()
}

/// Builds the schema.org `Event` that search engines read. Every string goes through
/// `serde_json`, and [`json_for_script`] escapes what could end the `<script>` element.
fn json_ld(state: &AppState, event: &Event, page_url: Option<&str>) -> Value {
    let schema = |name: &str| format!("https://schema.org/{name}");
    let status = match event.status {
        Status::Scheduled | Status::SoldOut => "EventScheduled",
        Status::Cancelled => "EventCancelled",
        Status::Postponed => "EventPostponed",
    };
    let mode = match event.attendance {
        Attendance::InPerson => "OfflineEventAttendanceMode",
        Attendance::Online => "OnlineEventAttendanceMode",
        Attendance::Mixed => "MixedEventAttendanceMode",
    };

    let mut fields = Map::new();
    fields.insert("@context".into(), json!("https://schema.org"));
    fields.insert("@type".into(), json!("Event"));
    fields.insert("name".into(), json!(event.title));
    fields.insert("startDate".into(), json!(event.start.to_rfc3339()));
    fields.insert("eventStatus".into(), json!(schema(status)));
    fields.insert("eventAttendanceMode".into(), json!(schema(mode)));
    fields.insert("identifier".into(), json!(event.id));
    fields.insert("location".into(), location_ld(event));
    fields.insert(
        "about".into(),
        json!(family_name(&state.catalog, Lang::Fr, &event.workshop)),
    );
    if let Some(end) = event.end {
        fields.insert("endDate".into(), json!(end.to_rfc3339()));
    }
    if !event.description.is_empty() {
        fields.insert("description".into(), json!(event.description));
    }
    if let Some(url) = page_url.or(event.url.as_deref()) {
        fields.insert("url".into(), json!(url));
    }
    if !event.languages.is_empty() {
        fields.insert("inLanguage".into(), json!(event.languages));
    }
    if let Some(capacity) = event.capacity {
        fields.insert("maximumAttendeeCapacity".into(), json!(capacity));
    }
    if let Some(seats) = event.seats_left {
        fields.insert("remainingAttendeeCapacity".into(), json!(seats));
    }
    if let Some(offer) = offer_ld(event) {
        fields.insert("offers".into(), offer);
    }
    if event.audience == Audience::Kids {
        fields.insert(
            "audience".into(),
            json!({"@type": "PeopleAudience", "suggestedMaxAge": 17}),
        );
    }
    Value::Object(fields)
}

fn location_ld(event: &Event) -> Value {
    let location = &event.location;
    let mut place_fields = Map::new();
    place_fields.insert("@type".into(), json!("Place"));
    if let Some(name) = location.name.as_ref().or(location.city.as_ref()) {
        place_fields.insert("name".into(), json!(name));
    }
    let mut address = Map::new();
    address.insert("@type".into(), json!("PostalAddress"));
    for (key, field) in [
        ("streetAddress", &location.street),
        ("postalCode", &location.postal_code),
        ("addressLocality", &location.city),
        ("addressRegion", &location.region),
        ("addressCountry", &location.country),
    ] {
        if let Some(value) = field {
            address.insert(key.into(), json!(value));
        }
    }
    place_fields.insert("address".into(), Value::Object(address));
    if let Some((latitude, longitude)) = location.coordinates() {
        place_fields.insert(
            "geo".into(),
            json!({"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude}),
        );
    }
    let virtual_location = json!({
        "@type": "VirtualLocation",
        "url": event.url.as_ref().or(event.tickets_url.as_ref()),
    });
    let place = Value::Object(place_fields);
    match event.attendance {
        Attendance::InPerson => place,
        Attendance::Online => virtual_location,
        Attendance::Mixed => json!([place, virtual_location]),
    }
}

fn offer_ld(event: &Event) -> Option<Value> {
    let url = event.tickets_url.as_ref()?;
    let sold_out = event.status == Status::SoldOut || event.seats_left == Some(0);
    let availability = if sold_out {
        "SoldOut"
    } else if event.seats_left.is_some_and(|seats| seats <= 3) {
        "LimitedAvailability"
    } else {
        "InStock"
    };
    let mut fields = Map::new();
    fields.insert("@type".into(), json!("Offer"));
    fields.insert("url".into(), json!(url));
    fields.insert(
        "availability".into(),
        json!(format!("https://schema.org/{availability}")),
    );
    if let Some(price) = &event.price {
        let amount = if price.free {
            Some(0.0)
        } else {
            price.min.or(price.max)
        };
        if let Some(amount) = amount {
            fields.insert("price".into(), json!(amount));
        }
        if let Some(currency) = &price.currency {
            fields.insert("priceCurrency".into(), json!(currency));
        }
    }
    Some(Value::Object(fields))
}

fn not_found(lang: Lang) -> Response {
    let texts = lang.texts();
    let body = html! {
        h1 { (texts.event_not_found) }
        p { (texts.event_not_found_hint) }
        p { a href={ "/?hl=" (lang.code()) } { (texts.back_to_search) } }
    };
    let markup = page(Frame {
        lang,
        title: texts.event_not_found,
        query_without_hl: "",
        path: "/",
        head: html! { meta name="robots" content="noindex"; },
        body,
    });
    (
        StatusCode::NOT_FOUND,
        page_headers(PAGE_CSP, lang),
        Html(markup.into_string()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_text_reads_ranges_and_free() {
        let price = |free, min, max| Price {
            free,
            min,
            max,
            currency: Some("EUR".to_owned()),
        };

        assert_eq!(
            price_text(&super::super::i18n::FR, &price(true, None, None)),
            "Gratuit"
        );
        assert_eq!(
            price_text(
                &super::super::i18n::FR,
                &price(false, Some(5.0), Some(12.5))
            ),
            "5 – 12,5 EUR"
        );
        assert_eq!(
            price_text(&super::super::i18n::EN, &price(false, Some(0.0), None)),
            "Free"
        );
    }

    #[test]
    fn origin_rejects_malformed_hosts() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(origin(&headers).as_deref(), Some("http://127.0.0.1:8080"));

        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(origin(&headers).as_deref(), Some("https://127.0.0.1:8080"));

        headers.insert(header::HOST, HeaderValue::from_static("evil\"><script>"));
        assert_eq!(origin(&headers), None);
    }
}
