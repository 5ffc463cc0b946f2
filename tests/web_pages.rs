//! The pages over HTTP, without a browser: status codes, languages, escaping of feed text,
//! security headers, the calendar download, the widget's iframe page and the weight of the
//! first page. The browser tests in `tests/browser.rs` cover what needs a real browser.

mod common;

use std::io::Write as _;
use std::path::Path;

use reqwest::header;
use serde_json::{Value, json};

use common::{Behaviour, FeedServer, TestService, event, feed, openfresque_source};

/// Budget for the first page of results over the wire, compressed, with its assets.
const FIRST_PAGE_BUDGET_BYTES: usize = 100 * 1024;

async fn service() -> (FeedServer, TestService) {
    let mut hostile = event(
        "xss",
        "&lt;img src=x onerror=alert(1)&gt;",
        2,
        "Lyon",
        45.76,
        4.84,
    );
    hostile["description"] = json!("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    hostile["tickets_url"] = json!("javascript:alert(3)");
    let mut croix_rousse = event(
        "cr",
        "Fresque du Climat – Croix-Rousse",
        3,
        "Lyon",
        45.7741,
        4.832,
    );
    croix_rousse["tickets_url"] = json!("https://tickets.example.org/cr");
    croix_rousse["seats_left"] = json!(0);
    let paris = event(
        "paris",
        "Fresque du Climat – Paris",
        4,
        "Paris",
        48.859,
        2.38,
    );
    let mut sessions = vec![hostile, croix_rousse, paris];
    for day in 5..45 {
        let mut more = event(
            &format!("lyon-{day}"),
            &format!("Fresque de Lyon n°{day}"),
            day,
            "Lyon",
            45.75,
            4.85,
        );
        more["description"] = json!(
            "Trois heures pour comprendre les causes et les conséquences du dérèglement climatique, en équipe, avec une animatrice ou un animateur formé."
        );
        more["tickets_url"] = json!(format!("https://tickets.example.org/lyon-{day}"));
        more["seats_left"] = json!(8);
        sessions.push(more);
    }

    let feeds = FeedServer::start().await;
    feeds.set("feed.json", Behaviour::Serve(feed(sessions, None)));
    let sources = openfresque_source("web", &feeds.url("feed.json"));
    let service = TestService::start(&sources, Path::new(".")).await;
    service.fetch_all().await;
    (feeds, service)
}

async fn page(
    service: &TestService,
    path: &str,
    accept_language: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = service.client.get(format!("{}{path}", service.base));
    if let Some(languages) = accept_language {
        request = request.header(header::ACCEPT_LANGUAGE, languages);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn search_page_lists_sessions_near_lyon() {
    let (_feeds, service) = service().await;

    let (status, headers, html) = page(&service, "/?near=Lyon&radius_km=25", None).await;

    assert_eq!(status, 200);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("Fresque du Climat – Croix-Rousse"));
    assert!(!html.contains("Fresque du Climat – Paris"));
    assert!(
        html.contains("Complet"),
        "a session with no seat left says so"
    );
    assert!(
        html.contains("42 sessions trouvées"),
        "count of the Lyon sessions"
    );
    assert!(html.contains("rel=\"next\""), "a second page is linked");
}

#[tokio::test]
async fn page_and_api_find_the_same_sessions() {
    let (_feeds, service) = service().await;
    let query = "near=Lyon&radius_km=25&limit=5&offset=5";

    let api_ids = service.search_ids(query).await;
    let (_, _, html) = page(&service, &format!("/?{query}"), None).await;

    let page_ids: Vec<String> = html
        .match_indices("href=\"/evenements/")
        .map(|(at, _)| {
            let rest = &html[at + "href=\"/evenements/".len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect();
    assert_eq!(page_ids, api_ids);
}

#[tokio::test]
async fn interface_language_from_header_or_parameter() {
    let (_feeds, service) = service().await;

    let (_, headers, german) = page(&service, "/", Some("de-CH,de;q=0.9,en;q=0.5")).await;
    let (_, _, spanish) = page(&service, "/?hl=es", Some("de")).await;
    let (_, _, unknown) = page(&service, "/", Some("it,pt")).await;

    assert!(german.contains("<html lang=\"de\">"));
    assert_eq!(headers[header::CONTENT_LANGUAGE], "de");
    assert!(
        headers[header::VARY]
            .to_str()
            .unwrap()
            .contains("Accept-Language")
    );
    assert!(spanish.contains("<html lang=\"es\">"));
    assert!(spanish.contains("Ciudad o código postal"));
    assert!(unknown.contains("<html lang=\"fr\">"));
}

#[tokio::test]
async fn bad_filter_gets_a_readable_400_page() {
    let (_feeds, service) = service().await;

    let (status, _, unknown_place) = page(&service, "/?near=Nowhereville", None).await;
    let (_, _, bad_radius) = page(&service, "/?near=Lyon&radius_km=abc&hl=en", None).await;

    assert_eq!(status, 400);
    assert!(unknown_place.contains("Ce lieu est introuvable"));
    assert!(
        unknown_place.contains("value=\"Nowhereville\""),
        "the form keeps the input"
    );
    assert!(bad_radius.contains("A filter is not valid: Radius."));
}

#[tokio::test]
async fn feed_text_is_escaped_everywhere() {
    let (_feeds, service) = service().await;

    let (_, _, search) = page(&service, "/?near=Lyon", None).await;
    let (_, _, event_page) = page(&service, "/evenements/web~xss", None).await;
    let (_, _, widget) = page(&service, "/widget?near=Lyon&limit=20", None).await;

    for (name, html) in [
        ("search", &search),
        ("event", &event_page),
        ("widget", &widget),
    ] {
        assert!(
            !html.contains("<img src=x"),
            "{name} page has the raw title"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{name} page lacks the escaped title"
        );
        assert!(
            !html.contains("javascript:"),
            "{name} page links a javascript: URL"
        );
    }
    assert!(
        !event_page.contains("</script><script>alert(2)"),
        "the description closed a script element"
    );
    let json_ld = json_ld(&event_page);
    assert_eq!(json_ld["name"], "<img src=x onerror=alert(1)>");
    assert_eq!(json_ld["description"], "</script><script>alert(2)</script>");
}

fn json_ld(html: &str) -> Value {
    let start = html.find("<script type=\"application/ld+json\">").unwrap();
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

#[tokio::test]
async fn event_page_describes_the_session() {
    let (_feeds, service) = service().await;

    let (status, headers, html) = page(&service, "/evenements/web~cr", None).await;

    assert_eq!(status, 200);
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        policy.contains("img-src 'self' data: https://tile.openstreetmap.org"),
        "{policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let json_ld = json_ld(&html);
    assert_eq!(json_ld["@type"], "Event");
    assert_eq!(json_ld["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(
        json_ld["eventAttendanceMode"],
        "https://schema.org/OfflineEventAttendanceMode"
    );
    assert_eq!(json_ld["location"]["address"]["addressLocality"], "Lyon");
    assert_eq!(
        json_ld["offers"]["availability"],
        "https://schema.org/SoldOut"
    );
    assert_eq!(
        json_ld["url"],
        format!("{}/evenements/web~cr", service.base)
    );
    assert!(html.contains("href=\"/evenements/web~cr/agenda.ics\""));
}

#[tokio::test]
async fn missing_event_is_a_404_page() {
    let (_feeds, service) = service().await;

    let (status, headers, html) = page(&service, "/evenements/web~nothing?hl=en", None).await;
    let (ics_status, _, _) = page(&service, "/evenements/web~nothing/agenda.ics", None).await;

    assert_eq!(status, 404);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.contains("Session not found"));
    assert_eq!(ics_status, 404);
}

#[tokio::test]
async fn calendar_download_is_icalendar() {
    let (_feeds, service) = service().await;

    let (status, headers, body) = page(&service, "/evenements/web~cr/agenda.ics", None).await;

    assert_eq!(status, 200);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert!(
        headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("web_cr.ics")
    );
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(body.contains("SUMMARY:Fresque du Climat – Croix-Rousse\r\n"));
    assert!(body.contains("UID:web~cr@multifresque\r\n"));
}

#[tokio::test]
async fn widget_frame_may_be_framed_and_themed() {
    let (_feeds, service) = service().await;

    let (status, headers, html) = page(
        &service,
        "/widget?near=Lyon&hl=en&accent=%23123456&text=red",
        None,
    )
    .await;
    let (_, _, theme) = page(
        &service,
        "/widget/theme.css?accent=%23123456&text=red;}body{display:none",
        None,
    )
    .await;

    assert_eq!(status, 200);
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("frame-ancestors *"), "{policy}");
    assert!(
        !policy.contains("script-src"),
        "the iframe page runs no script: {policy}"
    );
    assert_eq!(
        html.matches("class=\"mf-item\"").count(),
        5,
        "five sessions by default"
    );
    assert!(
        html.contains("/widget/theme.css?accent=%23123456\""),
        "only valid colours are passed on"
    );
    assert_eq!(theme, ":root {\n  --mf-accent: #123456;\n}\n");
}

#[tokio::test]
async fn static_assets_and_widget_script_are_served() {
    let (_feeds, service) = service().await;
    let (_, _, html) = page(&service, "/", None).await;
    let stylesheet = html
        .split("href=\"")
        .find_map(|rest| {
            rest.starts_with("/static/style.css")
                .then(|| rest[..rest.find('"').unwrap()].to_owned())
        })
        .unwrap();

    let (status, headers, _) = page(&service, &stylesheet, None).await;
    let (script_status, script_headers, script) = page(&service, "/widget.js", None).await;
    let (missing, _, _) = page(&service, "/static/nothing.js", None).await;

    assert_eq!(status, 200);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(script_status, 200);
    assert!(
        script_headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.contains("customElements.define(\"multifresque-widget\""));
    assert_eq!(missing, 404);
}

/// Bytes of a response body as sent with `Accept-Encoding: br, gzip`.
async fn compressed_size(service: &TestService, path: &str) -> usize {
    // A client that leaves decompression to us, so the body is counted as sent.
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .unwrap();
    let response = client
        .get(format!("{}{path}", service.base))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers().contains_key(header::CONTENT_ENCODING),
        "{path} is not compressed"
    );
    response.bytes().await.unwrap().len()
}

#[tokio::test]
async fn first_page_stays_under_budget() {
    let (_feeds, service) = service().await;
    let search = "/?near=Lyon&radius_km=25";
    let (_, _, html) = page(&service, search, None).await;
    // Every asset the page names, Leaflet included: the script loads it when the map opens,
    // which it does at once on a wide screen.
    let assets: Vec<&str> = html
        .split('"')
        .filter(|part| part.starts_with("/static/"))
        .collect();
    assert!(
        assets
            .iter()
            .any(|a| a.starts_with("/static/leaflet/leaflet.js"))
    );

    let mut total = compressed_size(&service, search).await;
    let mut report = format!("{search}: {total} B\n");
    for asset in &assets {
        let size = compressed_size(&service, asset).await;
        report.push_str(&format!("{asset}: {size} B\n"));
        total += size;
    }

    let mut out = std::io::stdout();
    writeln!(out, "{report}total: {total} B").unwrap();
    assert!(total < FIRST_PAGE_BUDGET_BYTES, "{report}total {total} B");
}

#[tokio::test]
async fn withdrawn_event_keeps_a_noindex_page() {
    let feeds = FeedServer::start().await;
    let kept = event(
        "kept",
        "Fresque du Climat – Gerland",
        3,
        "Lyon",
        45.73,
        4.83,
    );
    let mut gone = event("gone", "Fresque du Climat – Vaise", 4, "Lyon", 45.77, 4.80);
    gone["tickets_url"] = json!("https://tickets.example.org/gone");
    feeds.set(
        "feed.json",
        Behaviour::Serve(feed(vec![kept.clone(), gone], None)),
    );
    let sources = openfresque_source("web", &feeds.url("feed.json"));
    let service = TestService::start(&sources, Path::new(".")).await;
    service.fetch_all().await;
    feeds.set("feed.json", Behaviour::Serve(feed(vec![kept], None)));
    service.fetch_all().await;

    let (status, _, html) = page(&service, "/evenements/web~gone", None).await;
    let (_, _, search) = page(&service, "/?near=Lyon", None).await;

    assert_eq!(status, 200);
    assert!(html.contains("n'est plus annoncée par son organisateur"));
    assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(
        !html.contains("class=\"button primary book\""),
        "no ticket link"
    );
    assert!(
        !search.contains("Vaise"),
        "a withdrawn session is not listed"
    );
}
