//! Feeds that misbehave on purpose, each served by a real local HTTP server beside a
//! healthy source. Every case must cost a bounded time and memory, leave a clear reason in
//! the hostile source's status, keep that source's last good events, and let the healthy
//! source update as usual.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::{Behaviour, FeedServer, TestService, event, fast_fetch, feed, openfresque_source};
use multifresque::fetch::FetchSettings;
use multifresque::scheduler::{RunOutcome, SourceRun};
use serde_json::{Value, json};

/// Body limit for these tests: above the 10 MB title, far below the bombs.
const BODY_LIMIT: usize = 12 * 1024 * 1024;

fn settings() -> FetchSettings {
    FetchSettings {
        max_body_bytes: BODY_LIMIT,
        ..fast_fetch()
    }
}

fn healthy_feed(count: usize) -> String {
    let events = (0..count)
        .map(|n| {
            event(
                &format!("good-{n}"),
                "Fresque du Climat",
                5 + n as i64,
                "Lyon",
                45.76,
                4.83,
            )
        })
        .collect();
    feed(events, None)
}

fn hostile_first_feed() -> String {
    feed(
        vec![
            event("h-1", "Fresque à Paris", 6, "Paris", 48.85, 2.35),
            event("h-2", "Fresque à Lille", 7, "Lille", 50.63, 3.06),
        ],
        None,
    )
}

/// A healthy source and a hostile one, both fetched once with good feeds.
struct Bench {
    feeds: FeedServer,
    service: TestService,
}

impl Bench {
    async fn start() -> Bench {
        let feeds = FeedServer::start().await;
        feeds.set("good.json", Behaviour::Serve(healthy_feed(3)));
        feeds.set("hostile.json", Behaviour::Serve(hostile_first_feed()));
        let sources = format!(
            "{}\n{}",
            openfresque_source("good", &feeds.url("good.json")),
            openfresque_source("hostile", &feeds.url("hostile.json"))
        );
        let service = TestService::start_with(&sources, Path::new("."), settings()).await;
        let runs = service.fetch_all().await;
        assert!(
            runs.iter()
                .all(|run| matches!(run.outcome, RunOutcome::Stored { .. })),
            "{runs:?}"
        );
        Bench { feeds, service }
    }

    /// Serves `behaviour` as the hostile feed and a changed healthy feed, fetches both, and
    /// checks the healthy source was stored. Returns the hostile source's run.
    async fn run(&self, name: &str, behaviour: Behaviour) -> SourceRun {
        self.feeds.set("hostile.json", behaviour);
        self.feeds
            .set("good.json", Behaviour::Serve(healthy_feed(4)));

        let runs = self.service.fetch_all().await;

        let good = runs.iter().find(|run| run.source == "good").unwrap();
        assert!(
            matches!(good.outcome, RunOutcome::Stored { kept: 4, .. }),
            "{name}: healthy source affected: {good:?}"
        );
        let hostile = runs.iter().find(|run| run.source == "hostile").unwrap();
        println!("{name}: {} ms, {:?}", hostile.duration_ms, hostile.outcome);
        hostile.clone()
    }

    /// Asserts the hostile run failed with `reason` in its status and its events survived.
    async fn assert_failed_keeping_events(&self, name: &str, run: &SourceRun, reason: &str) {
        let RunOutcome::Failed { error } = &run.outcome else {
            panic!("{name}: expected a failure, got {run:?}");
        };
        assert!(error.contains(reason), "{name}: {error:?} lacks {reason:?}");
        let status = self.status("hostile");
        let last_error = status["last_error"].as_str().unwrap_or_default();
        assert!(
            last_error.contains(reason),
            "{name}: status {last_error:?} lacks {reason:?}"
        );
        assert_eq!(
            self.ids("hostile").await,
            vec!["hostile~h-1", "hostile~h-2"],
            "{name}: last good events lost"
        );
        assert_eq!(self.ids("good").await.len(), 4, "{name}");
    }

    fn status(&self, source: &str) -> Value {
        let statuses = self.service.app.state.store.source_statuses().unwrap();
        let status = statuses.into_iter().find(|s| s.id == source).unwrap();
        serde_json::to_value(status).unwrap()
    }

    /// Ids of a source's searchable events, in date order.
    async fn ids(&self, source: &str) -> Vec<String> {
        let all = self.service.search_ids("limit=100").await;
        all.into_iter()
            .filter(|id| id.starts_with(&format!("{source}~")))
            .collect()
    }
}

fn stored(run: &SourceRun) -> (usize, usize) {
    match run.outcome {
        RunOutcome::Stored { kept, rejected, .. } => (kept, rejected),
        _ => panic!("expected the feed stored, got {run:?}"),
    }
}

fn rejection_reasons(bench: &Bench) -> Vec<String> {
    bench.status("hostile")["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// A body sent as chunks from `next`, until it returns `None` or the client hangs up.
fn streamed(
    content_type: &'static str,
    next: impl FnMut() -> Option<(Vec<u8>, Duration)> + Send + 'static,
) -> Response {
    let stream = futures_util::stream::unfold(next, |mut next| async move {
        let (chunk, pause) = next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(chunk), next))
    });
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(stream),
    )
        .into_response()
}

fn redirect(to: String) -> Behaviour {
    Behaviour::respond(move || {
        (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response()
    })
}

#[tokio::test]
async fn slow_body_times_out() {
    let bench = Bench::start().await;
    let body = hostile_first_feed().into_bytes();
    // One byte a second: a complete feed would take minutes.
    let drip = Behaviour::respond(move || {
        let body = body.clone();
        let mut position = 0;
        streamed("application/json", move || {
            let byte = body.get(position).copied()?;
            position += 1;
            Some((vec![byte], Duration::from_secs(1)))
        })
    });

    let run = bench.run("one byte a second", drip).await;

    bench
        .assert_failed_keeping_events("slow body", &run, "timed out")
        .await;
}

#[tokio::test]
async fn endless_body_stops_at_the_limit() {
    let bench = Bench::start().await;
    let endless = Behaviour::respond(|| {
        streamed("application/json", || {
            Some((vec![b' '; 64 * 1024], Duration::ZERO))
        })
    });

    let run = bench.run("endless body", endless).await;

    bench
        .assert_failed_keeping_events("endless body", &run, "larger than the 12582912-byte limit")
        .await;
}

#[tokio::test]
async fn declared_oversized_body_is_refused_before_download() {
    let bench = Bench::start().await;
    let oversized = Behaviour::respond(|| {
        let body = vec![b' '; BODY_LIMIT + 1];
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    });

    let run = bench.run("oversized body", oversized).await;

    bench
        .assert_failed_keeping_events("oversized body", &run, "larger than")
        .await;
}

#[tokio::test]
async fn gzip_bomb_stops_at_the_limit() {
    let bench = Bench::start().await;
    // 64 MiB of spaces compress to about 64 KiB.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..64 {
        encoder.write_all(&block).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let behaviour = Behaviour::respond(move || {
        (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            bomb.clone(),
        )
            .into_response()
    });

    let run = bench.run("gzip bomb", behaviour).await;

    bench
        .assert_failed_keeping_events("gzip bomb", &run, "larger than")
        .await;
}

#[tokio::test]
async fn redirect_loop_is_refused() {
    let bench = Bench::start().await;
    bench
        .feeds
        .set("loop-a.json", redirect(bench.feeds.url("loop-b.json")));
    bench
        .feeds
        .set("loop-b.json", redirect(bench.feeds.url("loop-a.json")));

    let run = bench
        .run("redirect loop", redirect(bench.feeds.url("loop-a.json")))
        .await;

    bench
        .assert_failed_keeping_events("redirect loop", &run, "redirect refused: loop")
        .await;
}

#[tokio::test]
async fn long_redirect_chain_is_refused() {
    let bench = Bench::start().await;
    for hop in 0..10 {
        bench.feeds.set(
            &format!("hop-{hop}.json"),
            redirect(bench.feeds.url(&format!("hop-{}.json", hop + 1))),
        );
    }

    let run = bench
        .run("redirect chain", redirect(bench.feeds.url("hop-0.json")))
        .await;

    bench
        .assert_failed_keeping_events("redirect chain", &run, "more than 5 redirects")
        .await;
}

#[tokio::test]
async fn redirect_to_another_scheme_is_refused() {
    let bench = Bench::start().await;
    let https = bench
        .feeds
        .url("hostile.json")
        .replace("http://", "https://");

    for target in [
        https.as_str(),
        "file:///etc/passwd",
        "ftp://127.0.0.1/feed.json",
    ] {
        let run = bench.run(target, redirect(target.to_owned())).await;

        bench
            .assert_failed_keeping_events(target, &run, "redirect refused")
            .await;
    }
}

#[tokio::test]
async fn redirect_within_the_named_endpoint_is_followed() {
    let bench = Bench::start().await;
    let moved = hostile_first_feed().replace("Fresque à Lille", "Fresque à Roubaix");
    bench.feeds.set("moved.json", Behaviour::Serve(moved));

    let run = bench
        .run(
            "redirect same host",
            redirect(bench.feeds.url("moved.json")),
        )
        .await;

    assert_eq!(stored(&run), (2, 0));
}

#[tokio::test]
async fn redirect_to_unnamed_loopback_refused() {
    let bench = Bench::start().await;
    // Another local server, not named in sources.toml, stands for an internal service.
    let internal = FeedServer::start().await;
    internal.set("feed.json", Behaviour::Serve(hostile_first_feed()));
    let port = internal.address.port();
    let targets = [
        format!("http://127.0.0.1:{port}/feed.json"),
        format!("http://127.0.0.2:{port}/feed.json"),
        format!("http://[::1]:{port}/feed.json"),
        format!("http://localhost:{port}/feed.json"),
    ];

    for target in &targets {
        let run = bench.run(target, redirect(target.clone())).await;

        bench
            .assert_failed_keeping_events(target, &run, "address refused")
            .await;
    }
    assert_eq!(internal.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn next_link_to_other_origin_refused() {
    let bench = Bench::start().await;
    let internal = FeedServer::start().await;
    internal.set("page-2.json", Behaviour::Serve(feed(vec![], None)));
    let next = format!("http://localhost:{}/page-2.json", internal.address.port());
    let first_page = feed(
        vec![event("h-1", "Fresque à Paris", 6, "Paris", 48.85, 2.35)],
        Some(&next),
    );

    let run = bench
        .run("next to loopback", Behaviour::Serve(first_page))
        .await;

    bench
        .assert_failed_keeping_events("next to loopback", &run, "leaves the feed's origin")
        .await;
    assert_eq!(internal.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn wrong_content_types() {
    let bench = Bench::start().await;
    let with_type = |content_type: &'static str, body: String| {
        Behaviour::respond(move || {
            ([(header::CONTENT_TYPE, content_type)], body.clone()).into_response()
        })
    };

    let image = bench
        .run("image", with_type("image/png", hostile_first_feed()))
        .await;
    bench
        .assert_failed_keeping_events("image", &image, "served as image/png, which is not a feed")
        .await;

    let html = "<!doctype html><html><body>Maintenance</body></html>".to_owned();
    let page = bench
        .run("html", with_type("text/html; charset=utf-8", html))
        .await;
    bench
        .assert_failed_keeping_events("html", &page, "(served as text/html; charset=utf-8)")
        .await;

    // A valid feed under a vague type is common on static hosts and is read.
    let plain = bench
        .run("text/plain", with_type("text/plain", hostile_first_feed()))
        .await;
    assert_eq!(stored(&plain).0, 2);
}

#[tokio::test]
async fn invalid_utf8_costs_one_character() {
    let bench = Bench::start().await;
    let mut body = hostile_first_feed().into_bytes();
    let at = body.windows(5).position(|w| w == b"Lille").unwrap();
    body[at + 1] = 0xff;
    let behaviour = Behaviour::respond(move || {
        ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
    });

    let run = bench.run("invalid UTF-8", behaviour).await;

    assert_eq!(stored(&run), (2, 0));
    let (_, event) = bench.service.get("/api/v1/events/hostile~h-2").await;
    assert_eq!(event["location"]["city"], "L\u{fffd}lle", "{event}");
}

#[tokio::test]
async fn json_nested_ten_thousand_deep_fails() {
    let bench = Bench::start().await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let body = hostile_first_feed().replace("\"events\":[", &format!("\"events\":[{nested},"));

    let run = bench.run("deep JSON", Behaviour::Serve(body)).await;

    bench
        .assert_failed_keeping_events("deep JSON", &run, "recursion limit exceeded")
        .await;
}

#[tokio::test]
async fn duplicate_ids_keep_the_first_entry() {
    let bench = Bench::start().await;
    let body = feed(
        vec![
            event("h-1", "Fresque à Paris", 6, "Paris", 48.85, 2.35),
            event("h-1", "Fresque à Paris (copie)", 8, "Paris", 48.85, 2.35),
            event("h-2", "Fresque à Lille", 7, "Lille", 50.63, 3.06),
        ],
        None,
    );

    let run = bench.run("duplicate ids", Behaviour::Serve(body)).await;

    assert_eq!(stored(&run), (2, 1));
    assert_eq!(rejection_reasons(&bench), vec!["duplicate_id"]);
    let (_, first) = bench.service.get("/api/v1/events/hostile~h-1").await;
    assert_eq!(first["title"], "Fresque à Paris");
}

#[tokio::test]
async fn years_zero_and_9999_are_rejected_alone() {
    let bench = Bench::start().await;
    let mut year_zero = event("h-0", "Fresque an zéro", 6, "Paris", 48.85, 2.35);
    year_zero["start"] = json!("0000-01-01T10:00:00+00:00");
    year_zero["end"] = json!("0000-01-01T13:00:00+00:00");
    let mut far = event("h-9999", "Fresque lointaine", 6, "Paris", 48.85, 2.35);
    far["start"] = json!("9999-12-31T10:00:00+01:00");
    far["end"] = json!("9999-12-31T13:00:00+01:00");
    let body = feed(
        vec![
            year_zero,
            far,
            event("h-1", "Fresque à Paris", 6, "Paris", 48.85, 2.35),
        ],
        None,
    );

    let run = bench.run("years 0 and 9999", Behaviour::Serve(body)).await;

    assert_eq!(stored(&run), (1, 2));
    assert_eq!(
        rejection_reasons(&bench),
        vec!["date_out_of_range", "date_out_of_range"]
    );
}

#[tokio::test]
async fn bad_coordinates_reject_their_event() {
    let bench = Bench::start().await;
    let out_of_range = event("h-1", "Fresque à Lyon", 6, "Lyon", 91.0, 200.0);
    let mut not_a_number = event("h-2", "Fresque à Lille", 7, "Lille", 0.0, 0.0);
    not_a_number["location"]["latitude"] = json!("NaN");
    let mut infinite = event("h-3", "Fresque à Nantes", 8, "Nantes", 0.0, 0.0);
    infinite["location"]["longitude"] = json!("inf");
    let good = event("h-4", "Fresque à Paris", 9, "Paris", 48.85, 2.35);
    let body = feed(vec![out_of_range, not_a_number, infinite, good], None);

    let run = bench.run("bad coordinates", Behaviour::Serve(body)).await;

    assert_eq!(stored(&run), (1, 3));
    assert_eq!(
        rejection_reasons(&bench),
        vec!["invalid_location", "invalid_location", "invalid_location"]
    );
    // An entry rejected by id keeps its last good version rather than being withdrawn.
    assert_eq!(
        bench.ids("hostile").await,
        vec!["hostile~h-1", "hostile~h-2", "hostile~h-4"]
    );
}

#[tokio::test]
async fn ten_megabyte_title_is_cut() {
    let bench = Bench::start().await;
    let mut huge = event("h-1", "", 6, "Paris", 48.85, 2.35);
    huge["title"] = json!(format!("Fresque {}", "très longue ".repeat(800_000)));
    let body = feed(
        vec![
            huge,
            event("h-2", "Fresque à Lille", 7, "Lille", 50.63, 3.06),
        ],
        None,
    );
    assert!(body.len() > 10_000_000);

    let run = bench.run("10 MB title", Behaviour::Serve(body)).await;

    assert_eq!(stored(&run), (2, 0));
    let (_, event) = bench.service.get("/api/v1/events/hostile~h-1").await;
    let title = event["title"].as_str().unwrap();
    assert!(title.len() <= 20_000, "{} bytes", title.len());
    let found = bench.service.search_ids("q=longue").await;
    assert_eq!(found, vec!["hostile~h-1"]);
}
