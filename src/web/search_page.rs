//! The search page at `/`: a form holding the whole search, the results it finds, a map of
//! them, and links to the next pages. The URL is the search, so it can be shared.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use maud::{Markup, PreEscaped, html};
use serde_json::json;

use super::i18n::{Lang, Texts};
use super::layout::{Frame, page};
use super::query::PageQuery;
use super::{PAGE_CSP, assets, event_path, interface_language, json_for_script, page_headers};
use crate::catalog::Catalog;
use crate::event::{Attendance, Audience, Event, Status};
use crate::http::params::EventSearch;
use crate::http::{ApiError, AppState};
use crate::places::{Place, Precision};
use crate::search::{DEFAULT_LIMIT, Hit, SearchResults};

/// Parameters the page reads besides the API's: the interface language.
const PAGE_ONLY: &[&str] = &["hl"];
/// Radius choices of the form, in kilometres; `unlimited` follows them.
const RADIUS_CHOICES: [u32; 5] = [10, 25, 50, 100, 250];
/// Event languages offered by the form.
const EVENT_LANGUAGES: [&str; 4] = ["fr", "en", "de", "es"];

/// The search's results, or the reason it could not run.
enum Outcome {
    Found {
        results: SearchResults,
        // Boxed: a place is much larger than the error variant.
        place: Option<Box<Place>>,
        offset: usize,
        limit: usize,
    },
    Invalid(ApiError),
}

pub async fn search_page(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (query, search) = PageQuery::parse(
        raw.as_deref().unwrap_or(""),
        PAGE_ONLY,
        &state.gazetteer,
        Utc::now(),
    );
    let lang = interface_language(query.extra("hl"), &headers);

    let outcome = match search {
        Ok(search) => match run(&state, search).await {
            Ok(outcome) => outcome,
            Err(error) => return error.into_response(),
        },
        Err(error) => Outcome::Invalid(error),
    };

    let status = match &outcome {
        Outcome::Found { .. } => StatusCode::OK,
        Outcome::Invalid(_) => StatusCode::BAD_REQUEST,
    };
    let markup = render(&state.catalog, lang, &query, &outcome);
    (
        status,
        page_headers(PAGE_CSP, lang),
        Html(markup.into_string()),
    )
        .into_response()
}

async fn run(state: &AppState, search: EventSearch) -> Result<Outcome, ApiError> {
    let EventSearch { query, place } = search;
    let (offset, limit) = (query.offset, query.limit);
    let index = state.index.clone();
    let results = super::blocking(move || index.search(&query)).await?;
    Ok(Outcome::Found {
        results,
        place: place.map(Box::new),
        offset,
        limit,
    })
}

fn render(catalog: &Catalog, lang: Lang, query: &PageQuery, outcome: &Outcome) -> Markup {
    let texts = lang.texts();
    let title = match outcome {
        Outcome::Found { results, place, .. } => match place {
            Some(place) => format!(
                "{} {} {}",
                texts.result_count(results.total),
                texts.around,
                place.name
            ),
            None => texts.search_title.to_owned(),
        },
        Outcome::Invalid(_) => texts.search_title.to_owned(),
    };
    let body = html! {
        h1 class="page-title" { (texts.search_title) }
        p class="intro" { (texts.search_intro) }
        (form(catalog, lang, query))
        // The script announces the new count here after a live update.
        div id="live-status" class="visually-hidden" role="status" {}
        (results_region(catalog, lang, query, outcome))
        script src=(assets::url("search.js")) defer {}
    };
    page(Frame {
        lang,
        title: &title,
        query_without_hl: &query.with(&[("hl", None)]),
        path: "/",
        head: html! {},
        body,
    })
}

fn form(catalog: &Catalog, lang: Lang, query: &PageQuery) -> Markup {
    let texts = lang.texts();
    let value = |name: &str| query.value(name).unwrap_or("");
    let secondary_filters = [
        "attendance",
        "include_online",
        "audience",
        "lang",
        "from",
        "to",
        "sort",
    ];
    let open_filters = secondary_filters.iter().any(|n| query.value(n).is_some());
    html! {
        form id="search-form" class="search-form" method="get" action="/" role="search" {
            @if let Some(hl) = query.extra("hl") {
                input type="hidden" name="hl" value=(hl);
            }
            div class="field field-near" {
                label for="near" { (texts.near_label) }
                input id="near" name="near" type="search" value=(value("near"))
                    placeholder=(texts.near_placeholder) autocomplete="off"
                    list="place-suggestions" aria-describedby="near-hint" maxlength="200";
                datalist id="place-suggestions" {}
                p id="near-hint" class="hint" { (texts.near_hint) }
            }
            div class="field field-radius" {
                label for="radius" { (texts.radius_label) }
                (radius_select(texts, query.value("radius_km")))
            }
            div class="field field-text" {
                label for="q" { (texts.text_label) }
                input id="q" name="q" type="search" value=(value("q"))
                    placeholder=(texts.text_placeholder) maxlength="200";
            }
            (workshop_choice(catalog, lang, query))
            details class="filters" open[open_filters] {
                summary { (texts.more_filters) }
                div class="filter-grid" {
                    div class="field" {
                        label for="attendance" { (texts.attendance_label) }
                        select id="attendance" name="attendance" {
                            option value="" { (texts.any) }
                            @for attendance in Attendance::ALL {
                                option value=(attendance.as_str())
                                    selected[query.value("attendance") == Some(attendance.as_str())] {
                                    (texts.attendance(attendance))
                                }
                            }
                        }
                    }
                    div class="field field-check" {
                        input id="include_online" name="include_online" type="checkbox" value="true"
                            checked[query.value("include_online") == Some("true")];
                        label for="include_online" { (texts.include_online) }
                    }
                    div class="field" {
                        label for="audience" { (texts.audience_label) }
                        select id="audience" name="audience" {
                            option value="" { (texts.any) }
                            @for audience in Audience::ALL {
                                option value=(audience.as_str())
                                    selected[query.value("audience") == Some(audience.as_str())] {
                                    (texts.audience_name(audience))
                                }
                            }
                        }
                    }
                    div class="field" {
                        label for="lang" { (texts.language_label) }
                        select id="lang" name="lang" {
                            option value="" { (texts.language_any) }
                            @for code in EVENT_LANGUAGES {
                                option value=(code) selected[query.values("lang").first() == Some(&code)] {
                                    (texts.language_name(code))
                                }
                            }
                        }
                    }
                    div class="field" {
                        label for="from" { (texts.from_label) }
                        input id="from" name="from" type="date" value=(date_value(query.value("from")));
                    }
                    div class="field" {
                        label for="to" { (texts.to_label) }
                        input id="to" name="to" type="date" value=(date_value(query.value("to")));
                    }
                    div class="field" {
                        label for="sort" { (texts.sort_label) }
                        select id="sort" name="sort" {
                            option value="date" { (texts.sort_date) }
                            option value="distance" selected[query.value("sort") == Some("distance")] { (texts.sort_distance) }
                            option value="relevance" selected[query.value("sort") == Some("relevance")] { (texts.sort_relevance) }
                        }
                    }
                }
            }
            div class="form-actions" {
                button type="submit" class="button primary" { (texts.submit) }
                a class="reset" href={ "/?hl=" (lang.code()) } { (texts.reset) }
            }
        }
    }
}

/// Returns the date part of a URL value, because `<input type=date>` shows nothing for a
/// date-time.
fn date_value(value: Option<&str>) -> &str {
    value.map_or("", |v| v.get(..10).unwrap_or(v))
}

fn radius_select(texts: &Texts, current: Option<&str>) -> Markup {
    let current = current.unwrap_or("50");
    let listed = current == "unlimited"
        || RADIUS_CHOICES
            .iter()
            .any(|km| current.parse::<f64>().ok() == Some(f64::from(*km)));
    html! {
        select id="radius" name="radius_km" {
            @for km in RADIUS_CHOICES {
                option value=(km) selected[current.parse::<f64>().ok() == Some(f64::from(km))] {
                    (km) " km"
                }
            }
            // A radius typed into the URL by hand stays selected rather than silently changing.
            @if !listed {
                option value=(current) selected { (current) " km" }
            }
            option value="unlimited" selected[current == "unlimited"] { (texts.radius_unlimited) }
        }
    }
}

/// Renders the workshop families as checkboxes, folded away until opened.
fn workshop_choice(catalog: &Catalog, lang: Lang, query: &PageQuery) -> Markup {
    let texts = lang.texts();
    let chosen = query.values("workshop");
    let mut families: Vec<(String, String)> = catalog
        .all()
        .iter()
        .map(|w| (w.code.clone(), family_name(catalog, lang, &w.code)))
        .collect();
    // A code from the URL that the catalog does not know stays chosen and visible.
    for code in &chosen {
        if !families
            .iter()
            .any(|(known, _)| known.eq_ignore_ascii_case(code))
        {
            families.push(((*code).to_owned(), (*code).to_owned()));
        }
    }
    families.sort_by_cached_key(|(_, name)| sort_key(name));
    let is_chosen = |code: &str| chosen.iter().any(|c| c.eq_ignore_ascii_case(code));
    let summary = match chosen.len() {
        0 => texts.workshop_all.to_owned(),
        1 => family_name(catalog, lang, chosen[0]),
        n => format!("{n} {}", texts.workshop_chosen),
    };
    html! {
        details class="workshops" {
            summary {
                span class="summary-label" { (texts.workshop_label) (texts.colon) }
                span class="summary-value" { (summary) }
            }
            fieldset {
                legend class="visually-hidden" { (texts.workshop_label) }
                ul class="workshop-list" {
                    @for (code, name) in &families {
                        @let id = format!("workshop-{code}");
                        li {
                            input type="checkbox" name="workshop" id=(id) value=(code) checked[is_chosen(code)];
                            label for=(id) { (name) }
                        }
                    }
                }
            }
        }
    }
}

/// Folds a name for alphabetical order (lower case, accents removed), so "Écologie"
/// sorts among the E.
fn sort_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    use unicode_normalization::char::is_combining_mark;

    name.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Returns a family's name in the interface language: French for French, English
/// otherwise.
pub fn family_name(catalog: &Catalog, lang: Lang, code: &str) -> String {
    match catalog.get(code) {
        Some(workshop) if lang == Lang::Fr => workshop.name_fr.clone(),
        Some(workshop) => workshop.name_en.clone(),
        None => code.to_owned(),
    }
}

fn results_region(catalog: &Catalog, lang: Lang, query: &PageQuery, outcome: &Outcome) -> Markup {
    let texts = lang.texts();
    html! {
        section id="results" class="results-region" aria-labelledby="results-heading" {
            @match outcome {
                Outcome::Invalid(error) => {
                    h2 id="results-heading" class="visually-hidden" { (texts.results_heading) }
                    div class="notice error" role="alert" { (error_message(texts, error)) }
                }
                Outcome::Found { results, place, offset, limit } => {
                    div class="results-summary" {
                        h2 id="results-heading" { (texts.result_count(results.total)) }
                        @if let Some(place) = place {
                            p class="place-line" { (texts.around) " " strong { (place_label(place)) }
                                @if place.precision == Precision::Approximate {
                                    @if let Some(of) = &place.position_of {
                                        " (" (texts.approximate_position) " " (of) ")"
                                    }
                                }
                            }
                        }
                    }
                    @if results.total == 0 {
                        p class="notice" { (texts.no_results_hint) }
                    } @else {
                        div class="results-layout" {
                            (map_block(lang, &results.events))
                            div class="results-list" {
                                ol class="results" start=(offset + 1) {
                                    @for hit in &results.events {
                                        li { (result_card(catalog, lang, hit)) }
                                    }
                                }
                                (pagination(texts, query, results.total, *offset, *limit))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes a localized sentence for a rejected parameter, naming the form field.
fn error_message(texts: &Texts, error: &ApiError) -> String {
    if error.code == "unknown_place" {
        return texts.unknown_place.to_owned();
    }
    let field = match error.parameter.as_deref() {
        Some("near" | "lat" | "lon") => texts.near_label,
        Some("radius_km") => texts.radius_label,
        Some("q") => texts.text_label,
        Some("workshop") => texts.workshop_label,
        Some("attendance") => texts.attendance_label,
        Some("include_online") => texts.include_online,
        Some("audience") => texts.audience_label,
        Some("lang") => texts.language_label,
        Some("from") => texts.from_label,
        Some("to") => texts.to_label,
        Some("sort") => texts.sort_label,
        Some(other) => other,
        None => "",
    };
    format!("{} {field}.", texts.invalid_filter)
}

fn place_label(place: &Place) -> String {
    match (&place.postal_code, &place.admin) {
        (Some(code), _) if place.country == "FR" => format!("{} ({code})", place.name),
        (_, Some(admin)) => format!("{} ({admin}, {})", place.name, place.country),
        _ => format!("{} ({})", place.name, place.country),
    }
}

/// Renders one result: when, what, where, how many seats, and the ticket link.
fn result_card(catalog: &Catalog, lang: Lang, hit: &Hit) -> Markup {
    let texts = lang.texts();
    let event = &hit.event;
    html! {
        article class="result" {
            p class="when" {
                time datetime=(event.start.to_rfc3339()) {
                    (texts.session_time(&event.start, event.end.as_ref(), &event.time_zone))
                }
            }
            h3 class="title" { a href=(event_path(&event.id)) { (event.title) } }
            p class="family" {
                span class="family-name" { (family_name(catalog, lang, &event.workshop)) }
                @if event.audience != Audience::GeneralPublic {
                    " · " span class="audience" { (texts.audience_name(event.audience)) }
                }
            }
            p class="where" {
                @match event.attendance {
                    Attendance::Online => { span class="badge online" { (texts.online) } }
                    Attendance::Mixed => { span class="badge online" { (texts.attendance(Attendance::Mixed)) } " " }
                    Attendance::InPerson => {}
                }
                @if event.attendance != Attendance::Online {
                    (location_line(event))
                }
                @if let Some(km) = hit.distance_km {
                    " · " span class="distance" { (texts.distance(km)) }
                }
            }
            div class="actions" {
                (availability(texts, event))
                @if let Some(tickets) = &event.tickets_url {
                    @if event.status != Status::SoldOut && event.seats_left != Some(0) {
                        a class="button book" href=(tickets) rel="noopener noreferrer external" target="_blank" {
                            (texts.book)
                            span class="visually-hidden" { (texts.colon) (event.title) }
                        }
                    }
                }
            }
        }
    }
}

/// "Salle des fêtes, Lyon (69003)", from whatever parts the feed gave.
pub fn location_line(event: &Event) -> String {
    let location = &event.location;
    let city = match (&location.city, &location.postal_code) {
        (Some(city), Some(code)) => Some(format!("{city} ({code})")),
        (Some(city), None) => Some(city.clone()),
        (None, Some(code)) => Some(code.clone()),
        (None, None) => None,
    };
    [location.name.clone(), city]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seats left, "Complet", or another status; nothing when the feed gives no count.
pub fn availability(texts: &Texts, event: &Event) -> Markup {
    let sold_out = event.status == Status::SoldOut || event.seats_left == Some(0);
    html! {
        @if sold_out {
            span class="availability full" { (texts.sold_out) }
        } @else if let Some(label) = texts.status(event.status) {
            span class="availability warning" { (label) }
        } @else if let Some(seats) = event.seats_left {
            span class="availability" { (texts.seats_left(seats)) }
        }
    }
}

/// The map: an empty box and the points as JSON, which the script draws with Leaflet when
/// it runs and the tiles load. Without either, the list is still complete.
fn map_block(lang: Lang, hits: &[Hit]) -> Markup {
    let texts = lang.texts();
    let points: Vec<serde_json::Value> = hits
        .iter()
        .filter_map(|hit| {
            let event = &hit.event;
            let (latitude, longitude) = event.location.coordinates()?;
            Some(json!({
                "lat": latitude,
                "lon": longitude,
                "title": event.title,
                "when": texts.long_date(&local_start(event)),
                "place": location_line(event),
                "href": event_path(&event.id),
            }))
        })
        .collect();
    if points.is_empty() {
        return html! {};
    }
    html! {
        div class="map-block" {
            button type="button" id="map-toggle" class="button secondary" hidden
                aria-controls="map" aria-expanded="false"
                data-show=(texts.show_map) data-hide=(texts.show_list) {
                (texts.show_map)
            }
            div id="map" class="map" role="region" aria-label=(texts.map_label) hidden
                data-unavailable=(texts.map_unavailable)
                data-leaflet-js=(assets::url("leaflet/leaflet.js"))
                data-leaflet-css=(assets::url("leaflet/leaflet.css")) {}
            script type="application/json" id="map-data" {
                (PreEscaped(json_for_script(&serde_json::Value::Array(points))))
            }
        }
    }
}

/// Converts the start into the event's own zone, for dates shown on their own.
pub fn local_start(event: &Event) -> chrono::DateTime<chrono::FixedOffset> {
    match event.time_zone.parse::<chrono_tz::Tz>() {
        Ok(zone) => event.start.with_timezone(&zone).fixed_offset(),
        Err(_) => event.start,
    }
}

fn pagination(
    texts: &Texts,
    query: &PageQuery,
    total: usize,
    offset: usize,
    limit: usize,
) -> Markup {
    let last = (offset + limit).min(total);
    let previous = (offset > 0).then(|| offset.saturating_sub(limit));
    let next = (last < total && last <= crate::http::params::MAX_OFFSET).then_some(last);
    let link = |to: usize| {
        let offset = (to > 0).then(|| to.to_string());
        let limit = (limit != DEFAULT_LIMIT).then(|| limit.to_string());
        format!(
            "/?{}",
            query.with(&[("offset", offset.as_deref()), ("limit", limit.as_deref())])
        )
    };
    html! {
        nav class="pagination" aria-label=(texts.pages_label) {
            p { (texts.results_range(offset + 1, last, total)) }
            @if let Some(to) = previous {
                a class="button secondary" rel="prev" href=(link(to)) { (texts.previous_page) }
            }
            @if let Some(to) = next {
                a class="button secondary" rel="next" href=(link(to)) { (texts.next_page) }
            }
        }
    }
}
