//! Ingest and query benchmark on a generated data set.
//!
//! Run with `cargo bench --bench pipeline` (100,000 events) or
//! `cargo bench --bench pipeline -- 10000` for another size. It prints a Markdown table.
//!
//! Steps: generate an OpenFresque feed of N events in pages of 5,000 in a temporary folder;
//! ingest it cold (parse, normalize, store, index) through the same pipeline as `fetch`;
//! ingest it again unchanged; then time a mix of in-process queries.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use serde_json::{Value, json};

use multifresque::app::App;
use multifresque::config::Config;
use multifresque::fetch::FetchSettings;
use multifresque::http::params::parse_event_search;

/// Events per feed page.
const PAGE_SIZE: usize = 5_000;
/// Timed runs of each query after one warm-up run.
const QUERY_RUNS: usize = 300;

/// Cities the generated sessions happen in, with a weight roughly proportional to population.
const CITIES: &[(&str, &str, f64, f64, u32)] = &[
    ("Paris", "75011", 48.8566, 2.3522, 30),
    ("Lyon", "69003", 45.7640, 4.8357, 12),
    ("Marseille", "13001", 43.2965, 5.3698, 10),
    ("Toulouse", "31000", 43.6047, 1.4442, 8),
    ("Nantes", "44000", 47.2184, -1.5536, 7),
    ("Bordeaux", "33000", 44.8378, -0.5792, 7),
    ("Lille", "59000", 50.6292, 3.0573, 7),
    ("Grenoble", "38000", 45.1885, 5.7245, 5),
    ("Rennes", "35000", 48.1173, -1.6778, 5),
    ("Strasbourg", "67000", 48.5734, 7.7521, 5),
    ("Montpellier", "34000", 43.6108, 3.8767, 5),
    ("Villeurbanne", "69100", 45.7719, 4.8902, 3),
    ("Saint-Étienne", "42000", 45.4397, 4.3872, 3),
    ("Genève", "1205", 46.2044, 6.1432, 3),
    ("Bruxelles", "1000", 50.8503, 4.3517, 3),
];

const TITLES: &[&str] = &[
    "Atelier découverte",
    "Session ouverte à tous",
    "Formation à l'animation",
    "Atelier pour enfants",
    "Workshop in English",
    "Atelier en entreprise",
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
    let generated = Instant::now();
    let pages = write_feed(work.path(), size)?;
    eprintln!(
        "generated {size} events in {pages} pages in {:?}",
        generated.elapsed()
    );

    let sources = "[[source]]\nid = \"bench\"\nkind = \"openfresque\"\nurl = \"feed-1.json\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\nlanguage = \"fr\"\n";
    let config = Config::parse(sources, work.path()).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let data = work.path().join("data");

    let started = Instant::now();
    let app = App::open_with(config, &data, FetchSettings::default()).await?;
    let runs = app.aggregator.run_all(&app.config, |_| {}).await;
    let cold = started.elapsed();
    eprintln!("{runs:?}");
    let searchable = app.state.index.num_docs();

    let started = Instant::now();
    let again = app.aggregator.run_all(&app.config, |_| {}).await;
    let unchanged = started.elapsed();
    eprintln!("{again:?}");

    // A second source that lists 1% of the sessions again, as the incumbent's export does:
    // storing it re-clusters every event and re-indexes the merged sessions.
    let copies = write_copies(work.path(), size)?;
    let copies_source = Config::parse(
        "[[source]]\nid = \"copies\"\nkind = \"openfresque\"\nurl = \"copies.json\"\ntime_zone = \"Europe/Paris\"\n",
        work.path(),
    )
    .map_err(|p| anyhow::anyhow!("{p:?}"))?
    .sources
    .remove(0);
    let started = Instant::now();
    let copied = app.aggregator.run_source(&copies_source).await;
    let merge = started.elapsed();
    eprintln!("{copied:?}");
    let merged_documents = app.state.index.num_docs();

    // The steps of merging, one by one: read every current event, cluster them.
    let store = app.state.store.clone();
    let (load, clustering, merged_events) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, Duration, usize)> {
            let started = Instant::now();
            let events = store.current_events()?;
            let load = started.elapsed();
            let priorities = multifresque::dedup::Priorities::new();
            let started = Instant::now();
            let clusters = multifresque::dedup::cluster(&events, &priorities);
            Ok((load, started.elapsed(), clusters.assignments.len()))
        })
        .await??;

    // Everything again from the store: cluster every event and rebuild the index.
    let started = Instant::now();
    app.aggregator.sync_index(true).await?;
    let rebuild = started.elapsed();

    println!("| step | events | time |");
    println!("|---|---:|---:|");
    println!(
        "| cold ingest: parse, normalize, store, index | {searchable} | {} |",
        format_duration(cold)
    );
    println!(
        "| re-ingest of the unchanged feed | {searchable} | {} |",
        format_duration(unchanged)
    );
    println!(
        "| second source of {copies} copies: store, cluster all, re-index merged | {merged_documents} | {} |",
        format_duration(merge)
    );
    println!(
        "| read every current event from the store | {} | {} |",
        searchable + copies as u64,
        format_duration(load)
    );
    println!(
        "| cluster them ({merged_events} events merged) | {} | {} |",
        searchable + copies as u64,
        format_duration(clustering)
    );
    println!(
        "| cluster every stored event and rebuild the index | {} | {} |",
        app.state.index.num_docs(),
        format_duration(rebuild)
    );
    println!();

    let gazetteer = app.state.gazetteer.clone();
    let now = Utc::now();
    println!("| query | total | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for raw in QUERIES {
        let query = parse_event_search(raw, &gazetteer, now)
            .map_err(|e| anyhow::anyhow!("{raw}: {}", e.message))?
            .query;
        let index = app.state.index.clone();
        let (total, mut times) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, Vec<Duration>)> {
                let total = index.search(&query)?.total;
                let mut times = Vec::with_capacity(QUERY_RUNS);
                for _ in 0..QUERY_RUNS {
                    let started = Instant::now();
                    std::hint::black_box(index.search(&query)?);
                    times.push(started.elapsed());
                }
                Ok((total, times))
            })
            .await??;
        times.sort();
        let p50 = times[times.len() / 2];
        let p99 = times[times.len() * 99 / 100];
        println!(
            "| `{raw}` | {total} | {} | {} |",
            format_duration(p50),
            format_duration(p99)
        );
    }
    Ok(())
}

/// The query mix: place with radius, with and without text, family and audience filters,
/// sorted by date and by distance; every answer carries facets.
const QUERIES: &[&str] = &[
    "",
    "near=Lyon&radius_km=50",
    "near=Lyon&radius_km=50&sort=distance",
    "near=Paris&radius_km=25&q=climat",
    "near=Lyon&radius_km=100&workshop=FresqueNumerique&audience=training",
    "q=atelier%20enfants&sort=relevance",
    "attendance=online&lang=en",
    "near=69003&radius_km=10&limit=100",
];

fn write_feed(directory: &Path, size: usize) -> anyhow::Result<usize> {
    let catalog = multifresque::Catalog::embedded();
    let families: Vec<&str> = catalog.all().iter().map(|w| w.code.as_str()).collect();
    let events = generate(size);

    let pages: Vec<&[Value]> = events.chunks(PAGE_SIZE).collect();
    for (number, chunk) in pages.iter().enumerate() {
        let next = (number + 1 < pages.len()).then(|| format!("feed-{}.json", number + 2));
        let page = json!({
            "openfresque_feed": "1",
            "publisher": {"name": "Benchmark", "url": "https://example.org", "workshops": families},
            "generated_at": Utc::now().to_rfc3339(),
            "next": next,
            "events": chunk,
        });
        std::fs::write(
            directory.join(format!("feed-{}.json", number + 1)),
            serde_json::to_vec(&page)?,
        )?;
    }
    Ok(pages.len())
}

/// Writes `copies.json`: every 100th in-person session of the generated feed under another
/// id, 50 m away, as another source would list it. Returns the number of copies.
fn write_copies(directory: &Path, size: usize) -> anyhow::Result<usize> {
    let copies: Vec<Value> = generate(size)
        .into_iter()
        // Every 10th generated session is online, so start at 1 to copy in-person ones.
        .skip(1)
        .step_by(100)
        .filter(|event| event.get("location").is_some())
        .map(|mut event| {
            event["id"] = json!(format!("copy-{}", event["id"].as_str().unwrap_or("")));
            let latitude = event["location"]["latitude"].as_f64().unwrap_or(0.0);
            event["location"]["latitude"] = json!(latitude + 0.000_45);
            event
        })
        .collect();
    let page = json!({
        "openfresque_feed": "1",
        "publisher": {"name": "Copies"},
        "events": copies,
    });
    std::fs::write(directory.join("copies.json"), serde_json::to_vec(&page)?)?;
    Ok(page["events"].as_array().map_or(0, Vec::len))
}

/// The generated sessions, the same on every run.
fn generate(size: usize) -> Vec<Value> {
    let catalog = multifresque::Catalog::embedded();
    let families: Vec<&str> = catalog.all().iter().map(|w| w.code.as_str()).collect();
    let weights: u32 = CITIES.iter().map(|c| c.4).sum();
    let start = Utc::now() + Days::days(1);

    (0..size)
        .map(|i| {
            // A deterministic spread: no random numbers, so every run measures the same data.
            let mut pick = (i as u32).wrapping_mul(2_654_435_761) % weights;
            let city = CITIES.iter().find(|c| {
                if pick < c.4 {
                    true
                } else {
                    pick -= c.4;
                    false
                }
            });
            let (name, postal_code, lat, lon, _) = city.copied().unwrap_or(CITIES[0]);
            let family = families[i % families.len()];
            let online = i % 10 == 0;
            let at = start + Days::minutes(((i * 7_919) % (365 * 24 * 60)) as i64);
            let jitter = ((i % 100) as f64 - 50.0) / 2_000.0;
            let mut event = json!({
                "id": format!("e{i}"),
                "workshop": family,
                "title": format!("{} – {family} à {name}", TITLES[i % TITLES.len()]),
                "description": "Trois heures pour comprendre les enjeux et passer à l'action, en groupe, avec un animateur formé.",
                "start": at.to_rfc3339(),
                "end": (at + Days::hours(3)).to_rfc3339(),
                "time_zone": "Europe/Paris",
                "attendance": if online { "online" } else { "in_person" },
                "languages": [if i % 7 == 0 { "en" } else { "fr" }],
                "capacity": 14,
                "seats_left": i % 15,
            });
            if !online {
                event["location"] = json!({
                    "name": "Maison des associations", "city": name, "postal_code": postal_code,
                    "latitude": lat + jitter, "longitude": lon - jitter,
                });
            }
            event
        })
        .collect()
}

fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.0} µs", duration.as_secs_f64() * 1e6)
    } else if duration < Duration::from_secs(1) {
        format!("{:.1} ms", duration.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}
