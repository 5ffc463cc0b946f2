//! Export and federation benchmark on a generated data set, over real HTTP on loopback.
//!
//! Run with `cargo bench --bench exports` (100,000 events) or
//! `cargo bench --bench exports -- 10000` for another size. It prints a Markdown table.
//!
//! Steps: generate an OpenFresque feed of N events and ingest it; serve the API on a
//! loopback port; time the walk through the aggregated feed, its revalidation, the
//! Trouver une Fresque export, the calendar and Atom exports; then let a second instance
//! follow the first through its feed and time that ingest.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use serde_json::{Value, json};

use multifresque::app::App;
use multifresque::config::Config;
use multifresque::fetch::FetchSettings;

/// Events per generated feed page.
const PAGE_SIZE: usize = 5_000;
/// Timed runs of each single request after one warm-up run.
const RUNS: usize = 5;

/// Cities of the generated sessions: name, postal code, latitude, longitude.
const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Paris", "75011", 48.8566, 2.3522),
    ("Lyon", "69003", 45.7640, 4.8357),
    ("Marseille", "13001", 43.2965, 5.3698),
    ("Toulouse", "31000", 43.6047, 1.4442),
    ("Nantes", "44000", 47.2184, -1.5536),
    ("Lille", "59000", 50.6292, 3.0573),
    ("Grenoble", "38000", 45.1885, 5.7245),
    ("Genève", "1205", 46.2044, 6.1432),
];

fn main() -> anyhow::Result<()> {
    let size: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(size))
}

async fn run(size: usize) -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    write_feed(work.path(), size)?;
    let sources = "[[source]]\nid = \"bench\"\nkind = \"openfresque\"\nurl = \"feed-1.json\"\ncountry = \"FR\"\nlanguage = \"fr\"\n";
    let config = Config::parse(sources, work.path()).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let primary = App::open_with(
        config,
        &work.path().join("primary"),
        FetchSettings::default(),
    )
    .await?;
    primary.aggregator.run_all(&primary.config, |_| {}).await;
    let base = serve(&primary).await?;
    let client = reqwest::Client::new();
    let events = primary.state.index.num_docs();

    println!("| request | events | bytes | time |");
    println!("|---|---:|---:|---:|");
    for (query, label) in [
        ("from=2000-01-01&limit=1000", "whole feed, pages of 1,000"),
        ("from=2000-01-01&limit=500", "whole feed, pages of 500"),
        (
            "from=2000-01-01&limit=1000&near=Lyon&radius_km=50",
            "feed near Lyon, pages of 1,000",
        ),
    ] {
        let started = Instant::now();
        let (count, bytes, pages) = walk(&client, &base, query).await?;
        println!(
            "| {label} ({pages} pages) | {count} | {bytes} | {} |",
            format_duration(started.elapsed())
        );
    }

    let first = client
        .get(format!("{base}/api/v1/feed?limit=1000"))
        .send()
        .await?;
    let tag = first.headers()["etag"].to_str()?.to_owned();
    let revalidation = median(RUNS * 10, || {
        let request = client
            .get(format!("{base}/api/v1/feed?limit=1000"))
            .header("if-none-match", tag.clone());
        async move { request.send().await.map(|r| (r.status().as_u16(), 0)) }
    })
    .await?;
    println!(
        "| revalidate the first feed page (304) | - | 0 | {} |",
        format_duration(revalidation.0)
    );

    for (path, label) in [
        (
            "/api/v1/trouver-une-fresque",
            "Trouver une Fresque records, every session",
        ),
        (
            "/api/v1/trouver-une-fresque?near=Lyon&radius_km=50",
            "Trouver une Fresque records near Lyon",
        ),
        (
            "/api/v1/events.ics?near=Lyon&radius_km=50",
            "calendar near Lyon (500 sessions)",
        ),
        (
            "/api/v1/events.atom?near=Lyon&radius_km=50",
            "Atom near Lyon (50 entries)",
        ),
    ] {
        let url = format!("{base}{path}");
        let (time, bytes) = median(RUNS, || {
            let request = client.get(url.clone());
            async move {
                let response = request.send().await?;
                let status = response.status().as_u16();
                Ok((status, response.bytes().await?.len()))
            }
        })
        .await?;
        println!("| {label} | - | {bytes} | {} |", format_duration(time));
    }

    let follower_sources = format!(
        "[[source]]\nid = \"primary\"\nkind = \"openfresque\"\nurl = \"{base}/api/v1/feed?from=2000-01-01&limit=1000\"\n"
    );
    let config =
        Config::parse(&follower_sources, work.path()).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let started = Instant::now();
    let follower = App::open_with(
        config,
        &work.path().join("follower"),
        FetchSettings::default(),
    )
    .await?;
    let runs = follower.aggregator.run_all(&follower.config, |_| {}).await;
    eprintln!("{runs:?}");
    println!(
        "| a second instance follows the first: fetch, normalize, store, index | {} | - | {} |",
        follower.state.index.num_docs(),
        format_duration(started.elapsed())
    );
    eprintln!("primary serves {events} events");
    Ok(())
}

/// Follows the feed from its first page; returns events, bytes and pages read.
async fn walk(
    client: &reqwest::Client,
    base: &str,
    query: &str,
) -> anyhow::Result<(usize, usize, usize)> {
    let mut next = Some(format!("/api/v1/feed?{query}"));
    let (mut events, mut bytes, mut pages) = (0, 0, 0);
    while let Some(path) = next {
        let body = client
            .get(format!("{base}{path}"))
            .send()
            .await?
            .bytes()
            .await?;
        bytes += body.len();
        pages += 1;
        let page: Value = serde_json::from_slice(&body)?;
        events += page["events"].as_array().map_or(0, Vec::len);
        next = page["next"].as_str().map(str::to_owned);
    }
    Ok((events, bytes, pages))
}

/// Runs a request `runs` times after a warm-up and returns the median time and the size of
/// the last body.
async fn median<F, Fut>(runs: usize, mut request: F) -> anyhow::Result<(Duration, usize)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(u16, usize), reqwest::Error>>,
{
    request().await?;
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let (status, bytes) = request().await?;
        anyhow::ensure!(status == 200 || status == 304, "status {status}");
        times.push(started.elapsed());
        size = bytes;
    }
    times.sort();
    Ok((times[times.len() / 2], size))
}

async fn serve(app: &App) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = multifresque::http::router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

fn write_feed(directory: &Path, size: usize) -> anyhow::Result<()> {
    let catalog = multifresque::Catalog::embedded();
    let families: Vec<&str> = catalog.all().iter().map(|w| w.code.as_str()).collect();
    let start = Utc::now() + Days::days(1);
    let events: Vec<Value> = (0..size)
        .map(|i| {
            let (city, postal_code, lat, lon) = CITIES[(i * 7) % CITIES.len()];
            let at = start + Days::minutes(((i * 7_919) % (365 * 24 * 60)) as i64);
            let jitter = ((i % 100) as f64 - 50.0) / 2_000.0;
            json!({
                "id": format!("e{i}"), "workshop": families[i % families.len()],
                "title": format!("Atelier {i} à {city}"),
                "description": "Trois heures pour comprendre les enjeux et passer à l'action.",
                "start": at.to_rfc3339(), "end": (at + Days::hours(3)).to_rfc3339(),
                "time_zone": "Europe/Paris", "attendance": "in_person", "languages": ["fr"],
                "tickets_url": format!("https://billets.example.org/{i}"),
                "location": {"name": "Maison des associations", "city": city, "postal_code": postal_code,
                             "country": "FR", "latitude": lat + jitter, "longitude": lon - jitter},
            })
        })
        .collect();
    let chunks: Vec<&[Value]> = events.chunks(PAGE_SIZE).collect();
    for (number, chunk) in chunks.iter().enumerate() {
        let next = (number + 1 < chunks.len()).then(|| format!("feed-{}.json", number + 2));
        let page = json!({
            "openfresque_feed": "1", "publisher": {"name": "Benchmark"},
            "generated_at": Utc::now().to_rfc3339(), "next": next, "events": chunk,
        });
        std::fs::write(
            directory.join(format!("feed-{}.json", number + 1)),
            page.to_string(),
        )?;
    }
    Ok(())
}

fn format_duration(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros < 1_000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1_000.0)
    } else {
        format!("{:.2} s", micros as f64 / 1_000_000.0)
    }
}
