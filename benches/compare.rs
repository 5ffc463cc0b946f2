//! multifresque against its peers, pair by pair, on the data of `multifresque bench generate`.
//!
//! `scripts/bench.sh` runs the phases in order and starts the servers they need; each phase
//! prints Markdown tables on standard output and notes on standard error.
//!
//! ```text
//! cargo bench --bench compare -- ingest   DIR POSTGRES
//! cargo bench --bench compare -- query    DIR POSTGRES [RUNS]
//! cargo bench --bench compare -- download DIR MULTIFRESQUE_URL INCUMBENT_URL [RUNS]
//! ```
//!
//! - `ingest`: from the generated files to searchable, cold. multifresque reads the feed
//!   pages, then parses, normalizes, stores and indexes. SQLite loads the CSV into a table,
//!   an FTS5 index and an R*Tree. PostgreSQL runs `COPY`, then builds a GiST index on a
//!   PostGIS geography, a GIN index on a French `tsvector` and B-trees on dates and
//!   families, then `ANALYZE`. Last, multifresque reads the unchanged feed again.
//! - `query`: the query mix in process, interleaved run by run: multifresque's
//!   `Index::search`, and for each peer the SQL an expert would write for the same
//!   [`SearchQuery`], returning the page, the total and the four facets.
//! - `download`: time to the first useful result, near Lyon, with the incumbent's approach
//!   (download every future session as JSON, filter in the client) and with multifresque's
//!   API; bytes on the wire with gzip.
//!
//! POSTGRES is a connection string such as `host=/tmp/pg port=5433 user=postgres
//! dbname=bench`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rusqlite::functions::FunctionFlags;

use multifresque::Catalog;
use multifresque::app::{App, INDEX_DIR};
use multifresque::config::Config;
use multifresque::fetch::FetchSettings;
use multifresque::http::params::parse_event_search;
use multifresque::index::Index;
use multifresque::places::Gazetteer;
use multifresque::search::{SearchQuery, Sort, distance_km};

/// The query mix: around a place with a radius, with and without text, family and audience
/// filters, by date, distance and relevance, and online only. Every response has facets.
const QUERIES: &[&str] = &[
    "",
    "near=Lyon&radius_km=50",
    "near=Lyon&radius_km=50&sort=distance",
    "near=Paris&radius_km=25&q=climat",
    "near=Lyon&radius_km=100&workshop=FresqueNumerique&audience=training",
    "near=Nantes&radius_km=30&audience=kids",
    "q=atelier%20enfants&sort=relevance",
    "q=biodiversite",
    "attendance=online&lang=en",
    "near=69003&radius_km=10&limit=100",
];

/// Folder names inside the data folder.
const MULTIFRESQUE_DATA: &str = "multifresque-data";
const SQLITE_FILE: &str = "peer.sqlite";

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; positional arguments are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let runs = |i: usize| arg(i).and_then(|r| r.parse().ok()).unwrap_or(200);
    match (arg(0), arg(1), arg(2), arg(3)) {
        (Some("ingest"), Some(data), Some(postgres), _) => ingest(Path::new(data), postgres),
        (Some("query"), Some(data), Some(postgres), _) => query(Path::new(data), postgres, runs(3)),
        (Some("download"), Some(data), Some(multifresque), Some(incumbent)) => {
            download(Path::new(data), multifresque, incumbent, runs(4))
        }
        _ => bail!(
            "usage: compare ingest DIR POSTGRES | query DIR POSTGRES [RUNS] | download DIR MULTIFRESQUE_URL INCUMBENT_URL [RUNS]"
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Ingest

fn ingest(data: &Path, postgres: &str) -> anyhow::Result<()> {
    let sessions = count_csv_rows(&data.join("events.csv"))?;

    let runtime = tokio::runtime::Runtime::new()?;
    let (cold, unchanged, searchable) = runtime.block_on(ingest_multifresque(data))?;
    let rss = peak_rss_kib();
    drop(runtime);

    let started = Instant::now();
    let sqlite_rows = load_sqlite(data)?;
    let sqlite = started.elapsed();

    let started = Instant::now();
    let postgres_rows = load_postgres(data, postgres)?;
    let postgres = started.elapsed();

    println!("| {sessions} sessions | searchable | time | ratio to multifresque |");
    println!("|---|---:|---:|---:|");
    println!(
        "| multifresque: feed pages to index, cold | {searchable} | {} | 1 |",
        show(cold)
    );
    println!(
        "| SQLite: CSV to FTS5 and R*Tree | {sqlite_rows} | {} | {:.2} |",
        show(sqlite),
        ratio(sqlite, cold)
    );
    println!(
        "| PostgreSQL + PostGIS: COPY, indexes, ANALYZE | {postgres_rows} | {} | {:.2} |",
        show(postgres),
        ratio(postgres, cold)
    );
    println!(
        "| multifresque: the same feed again, unchanged | {searchable} | {} | |",
        show(unchanged)
    );
    println!();
    println!(
        "Peak RSS of the multifresque ingest: {} MB.",
        rss.map_or("unknown".to_owned(), |kib| format!(
            "{:.0}",
            kib as f64 / 1024.0
        ))
    );
    Ok(())
}

async fn ingest_multifresque(data: &Path) -> anyhow::Result<(Duration, Duration, u64)> {
    let sources = data.join("sources.toml");
    let text = std::fs::read_to_string(&sources)
        .with_context(|| format!("cannot read {}", sources.display()))?;
    let config = Config::parse(&text, data).map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let directory = data.join(MULTIFRESQUE_DATA);
    if directory.exists() {
        std::fs::remove_dir_all(&directory)?;
    }

    let started = Instant::now();
    let app = App::open_with(config, &directory, FetchSettings::default()).await?;
    let runs = app.aggregator.run_all(&app.config, |_| {}).await;
    let cold = started.elapsed();
    eprintln!("multifresque cold ingest: {runs:?}");

    let started = Instant::now();
    let runs = app.aggregator.run_all(&app.config, |_| {}).await;
    let unchanged = started.elapsed();
    eprintln!("multifresque unchanged ingest: {runs:?}");
    Ok((cold, unchanged, app.state.index.num_docs()))
}

const CSV_COLUMNS: &str = "id, workshop, workshop_names, title, description, language, start_at, end_at, attendance, audience, city, postal_code, country, latitude, longitude";

fn load_sqlite(data: &Path) -> anyhow::Result<u64> {
    let path = data.join(SQLITE_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(file)?;
        }
    }
    let mut connection = rusqlite::Connection::open(&path)?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         CREATE TABLE events (
             rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, workshop TEXT NOT NULL,
             workshop_names TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
             language TEXT NOT NULL, start_at INTEGER NOT NULL, end_at INTEGER NOT NULL,
             attendance TEXT NOT NULL, audience TEXT NOT NULL, city TEXT, postal_code TEXT,
             country TEXT, latitude REAL, longitude REAL);
         CREATE VIRTUAL TABLE events_text USING fts5(
             title, description, city, workshop_names,
             content = 'events', content_rowid = 'rowid',
             tokenize = 'unicode61 remove_diacritics 2');
         CREATE VIRTUAL TABLE events_geo USING rtree(rowid, min_lat, max_lat, min_lon, max_lon);",
    )?;

    let transaction = connection.transaction()?;
    let mut rows = 0;
    {
        let mut insert = transaction.prepare(&format!(
            "INSERT INTO events ({CSV_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ))?;
        let mut place = transaction
            .prepare("INSERT INTO events_geo VALUES (last_insert_rowid(), ?1, ?1, ?2, ?2)")?;
        let text = std::fs::read_to_string(data.join("events.csv"))?;
        for record in csv_records(&text).skip(1) {
            let field = |i: usize| record.get(i).map(String::as_str).unwrap_or_default();
            let seconds =
                |i: usize| DateTime::parse_from_rfc3339(field(i)).map_or(0, |t| t.timestamp());
            let number = |i: usize| field(i).parse::<f64>().ok();
            insert.execute(rusqlite::params![
                field(0),
                field(1),
                field(2),
                field(3),
                field(4),
                field(5),
                seconds(6),
                seconds(7),
                field(8),
                field(9),
                field(10),
                field(11),
                field(12),
                number(13),
                number(14),
            ])?;
            if let (Some(latitude), Some(longitude)) = (number(13), number(14)) {
                place.execute(rusqlite::params![latitude, longitude])?;
            }
            rows += 1;
        }
    }
    transaction.execute_batch(
        "INSERT INTO events_text (events_text) VALUES ('rebuild');
         CREATE INDEX events_start ON events (start_at);
         CREATE INDEX events_family ON events (workshop, start_at);
         ANALYZE;",
    )?;
    transaction.commit()?;
    Ok(rows)
}

fn load_postgres(data: &Path, connection: &str) -> anyhow::Result<u64> {
    let mut client = postgres::Client::connect(connection, postgres::NoTls)
        .with_context(|| format!("cannot connect to PostgreSQL with {connection:?}"))?;
    client.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS postgis;
         CREATE EXTENSION IF NOT EXISTS unaccent;
         DROP TABLE IF EXISTS events;
         DROP TEXT SEARCH CONFIGURATION IF EXISTS french_folded;
         CREATE TEXT SEARCH CONFIGURATION french_folded (COPY = french);
         ALTER TEXT SEARCH CONFIGURATION french_folded
             ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
         CREATE TABLE events (
             id text PRIMARY KEY, workshop text NOT NULL, workshop_names text NOT NULL,
             title text NOT NULL, description text NOT NULL, language text NOT NULL,
             start_at timestamptz NOT NULL, end_at timestamptz NOT NULL,
             attendance text NOT NULL, audience text NOT NULL, city text, postal_code text,
             country text, latitude double precision, longitude double precision);",
    )?;

    let mut writer = client.copy_in(&format!(
        "COPY events ({CSV_COLUMNS}) FROM STDIN (FORMAT csv, HEADER true)"
    ))?;
    let mut file = std::fs::File::open(data.join("events.csv"))?;
    std::io::copy(&mut file, &mut writer)?;
    let rows = writer.finish()?;

    client.batch_execute(
        "ALTER TABLE events
             ADD COLUMN place geography(Point, 4326) GENERATED ALWAYS AS (
                 CASE WHEN latitude IS NULL THEN NULL
                 ELSE ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography END
             ) STORED,
             ADD COLUMN document tsvector GENERATED ALWAYS AS (
                 to_tsvector('french_folded', title || ' ' || description || ' '
                     || coalesce(city, '') || ' ' || workshop_names)
             ) STORED;
         CREATE INDEX events_place ON events USING gist (place);
         CREATE INDEX events_document ON events USING gin (document);
         CREATE INDEX events_start ON events (start_at);
         CREATE INDEX events_family ON events (workshop, start_at);
         ANALYZE events;",
    )?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Queries

/// One row of a page, decoded as an application would.
#[allow(dead_code)]
struct Row {
    id: String,
    workshop: String,
    title: String,
    description: String,
    language: String,
    start: DateTime<Utc>,
    attendance: String,
    audience: String,
    city: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    distance_km: Option<f64>,
}

/// An engine's result for one search: page size and total.
struct Answer {
    page: usize,
    total: u64,
}

fn query(data: &Path, postgres: &str, runs: usize) -> anyhow::Result<()> {
    let catalog = Arc::new(Catalog::embedded());
    let gazetteer = Gazetteer::embedded();
    let index = Index::open_read_only(
        &data.join(MULTIFRESQUE_DATA).join(INDEX_DIR),
        catalog.clone(),
    )?;
    let sqlite = rusqlite::Connection::open_with_flags(
        data.join(SQLITE_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    sqlite.create_scalar_function(
        "distance_km",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            // Online sessions have no position: NULL, as in SQL.
            let coordinate = |i: usize| context.get::<Option<f64>>(i);
            Ok(
                match (
                    coordinate(0)?,
                    coordinate(1)?,
                    coordinate(2)?,
                    coordinate(3)?,
                ) {
                    (Some(a), Some(b), Some(c), Some(d)) => Some(distance_km((a, b), (c, d))),
                    _ => None,
                },
            )
        },
    )?;
    let mut postgres = postgres::Client::connect(postgres, postgres::NoTls)?;
    let now = Utc::now();

    println!(
        "| query | totals: multifresque / SQLite / PostgreSQL | multifresque p50 | p99 | SQLite p50 | p99 | ratio | PostgreSQL p50 | p99 | ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut sqlite_ratios = Vec::new();
    let mut postgres_ratios = Vec::new();
    let mut worst_p99 = Duration::ZERO;
    for raw in QUERIES {
        let search = parse_event_search(raw, &gazetteer, now)
            .map_err(|e| anyhow::anyhow!("{raw}: {}", e.message))?
            .query;
        let sqlite_sql = SqlSearch::sqlite(&search);
        let postgres_sql = SqlSearch::postgres(&search);
        let mut sqlite_page = sqlite.prepare(&sqlite_sql.page)?;
        let mut sqlite_facets = sqlite.prepare(&sqlite_sql.facets)?;
        let postgres_page = postgres.prepare(&postgres_sql.page)?;
        let postgres_facets = postgres.prepare(&postgres_sql.facets)?;

        let run_multifresque = || -> anyhow::Result<Answer> {
            let results = index.search(&search)?;
            Ok(Answer {
                page: results.events.len(),
                total: results.total as u64,
            })
        };
        let mut run_sqlite = || -> anyhow::Result<Answer> {
            let rows: Vec<Row> = sqlite_page
                .query_map([], |row| {
                    Ok(Row {
                        id: row.get(0)?,
                        workshop: row.get(1)?,
                        title: row.get(2)?,
                        description: row.get(3)?,
                        language: row.get(4)?,
                        start: DateTime::from_timestamp(row.get(5)?, 0).unwrap_or_default(),
                        attendance: row.get(6)?,
                        audience: row.get(7)?,
                        city: row.get(8)?,
                        latitude: row.get(9)?,
                        longitude: row.get(10)?,
                        distance_km: row.get(11)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let mut total = 0;
            let mut facets = Vec::new();
            let mut facet_rows = sqlite_facets.query([])?;
            while let Some(row) = facet_rows.next()? {
                let facet: String = row.get(0)?;
                let value: Option<String> = row.get(1)?;
                let count: i64 = row.get(2)?;
                if facet == "total" {
                    total = count as u64;
                } else {
                    facets.push((facet, value, count));
                }
            }
            std::hint::black_box(facets);
            Ok(Answer {
                page: rows.len(),
                total,
            })
        };
        let mut run_postgres = || -> anyhow::Result<Answer> {
            let rows: Vec<Row> = postgres
                .query(&postgres_page, &[])?
                .iter()
                .map(|row| Row {
                    id: row.get(0),
                    workshop: row.get(1),
                    title: row.get(2),
                    description: row.get(3),
                    language: row.get(4),
                    start: row.get(5),
                    attendance: row.get(6),
                    audience: row.get(7),
                    city: row.get(8),
                    latitude: row.get(9),
                    longitude: row.get(10),
                    distance_km: row.get(11),
                })
                .collect();
            let mut total = 0;
            let mut facets = Vec::new();
            for row in postgres.query(&postgres_facets, &[])? {
                let facet: String = row.get(0);
                let value: Option<String> = row.get(1);
                let count: i64 = row.get(2);
                if facet == "total" {
                    total = count as u64;
                } else {
                    facets.push((facet, value, count));
                }
            }
            std::hint::black_box(facets);
            Ok(Answer {
                page: rows.len(),
                total,
            })
        };

        // One warm-up run each, then the engines in turn, so that noise hits all three.
        let answers = [run_multifresque()?, run_sqlite()?, run_postgres()?];
        let mut times = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..runs {
            for (engine, times) in times.iter_mut().enumerate() {
                let started = Instant::now();
                std::hint::black_box(match engine {
                    0 => run_multifresque()?,
                    1 => run_sqlite()?,
                    _ => run_postgres()?,
                });
                times.push(started.elapsed());
            }
        }
        let [mf, lite, pg] = times.map(|mut t| {
            t.sort();
            (t[t.len() / 2], t[t.len() * 99 / 100])
        });
        worst_p99 = worst_p99.max(mf.1);
        sqlite_ratios.push(ratio(lite.0, mf.0));
        postgres_ratios.push(ratio(pg.0, mf.0));
        let label = if raw.is_empty() {
            "(no filter)".to_owned()
        } else {
            format!("`{raw}`")
        };
        println!(
            "| {label} | {} / {} / {} | {} | {} | {} | {} | {:.1} | {} | {} | {:.1} |",
            answers[0].total,
            answers[1].total,
            answers[2].total,
            show(mf.0),
            show(mf.1),
            show(lite.0),
            show(lite.1),
            ratio(lite.0, mf.0),
            show(pg.0),
            show(pg.1),
            ratio(pg.0, mf.0),
        );
        for (name, answer) in ["multifresque", "SQLite", "PostgreSQL"]
            .iter()
            .zip(&answers)
        {
            eprintln!(
                "{label}: {name} returned {} of {}",
                answer.page, answer.total
            );
        }
    }
    println!();
    println!(
        "Median ratio of p50 times, peer to multifresque, over the {} queries: SQLite {:.1}, PostgreSQL {:.1}. Slowest multifresque p99: {}. Runs per query: {runs}.",
        QUERIES.len(),
        median(&mut sqlite_ratios),
        median(&mut postgres_ratios),
        show(worst_p99),
    );
    Ok(())
}

/// The two statements a peer runs for one search: the page, then the total and facets.
struct SqlSearch {
    page: String,
    facets: String,
}

impl SqlSearch {
    fn sqlite(search: &SearchQuery) -> SqlSearch {
        let mut joins = String::new();
        let mut conditions = vec![format!("e.start_at >= {}", search.from.timestamp())];
        if let Some(to) = search.to {
            conditions.push(format!("e.start_at < {}", to.timestamp()));
        }
        let mut distance = "NULL".to_owned();
        if let Some(geo) = search.geo {
            distance = format!(
                "distance_km(e.latitude, e.longitude, {}, {})",
                geo.latitude, geo.longitude
            );
            if let Some(radius) = geo.radius_km {
                // The R*Tree narrows to a box around the circle, the exact distance cuts it.
                let dlat = radius / 111.2;
                let dlon = radius / (111.2 * geo.latitude.to_radians().cos().max(0.01));
                joins.push_str(&format!(
                    " JOIN events_geo g ON g.rowid = e.rowid AND g.min_lat >= {} AND g.max_lat <= {} AND g.min_lon >= {} AND g.max_lon <= {}",
                    geo.latitude - dlat,
                    geo.latitude + dlat,
                    geo.longitude - dlon,
                    geo.longitude + dlon
                ));
                conditions.push(format!("{distance} <= {radius}"));
            } else {
                conditions.push("e.latitude IS NOT NULL".to_owned());
            }
        }
        let mut rank = "0";
        if let Some(text) = &search.text {
            // FTS5 has no French stemmer: each word matches as a prefix instead.
            let words: Vec<String> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| format!("\"{w}\"*"))
                .collect();
            joins.push_str(&format!(
                " JOIN events_text t ON t.rowid = e.rowid AND events_text MATCH '{}'",
                words.join(" ")
            ));
            rank = "bm25(events_text)";
        }
        conditions.extend(filters(search, "e."));
        let order = match search.sort {
            Sort::Date => "e.start_at, e.id".to_owned(),
            Sort::Distance => format!("{distance}, e.start_at"),
            Sort::Relevance => format!("{rank}, e.start_at"),
        };
        let from = format!("events e{joins} WHERE {}", conditions.join(" AND "));
        SqlSearch {
            page: format!(
                "SELECT e.id, e.workshop, e.title, e.description, e.language, e.start_at, e.attendance, e.audience, e.city, e.latitude, e.longitude, {distance} FROM {from} ORDER BY {order} LIMIT {} OFFSET {}",
                search.limit, search.offset
            ),
            facets: format!(
                "WITH m AS MATERIALIZED (SELECT e.workshop, e.attendance, e.audience, e.language FROM {from})
                 SELECT 'total', NULL, count(*) FROM m
                 UNION ALL SELECT 'workshop', workshop, count(*) FROM m GROUP BY workshop
                 UNION ALL SELECT 'attendance', attendance, count(*) FROM m GROUP BY attendance
                 UNION ALL SELECT 'audience', audience, count(*) FROM m GROUP BY audience
                 UNION ALL SELECT 'language', language, count(*) FROM m GROUP BY language"
            ),
        }
    }

    fn postgres(search: &SearchQuery) -> SqlSearch {
        let mut conditions = vec![format!("start_at >= '{}'", search.from.to_rfc3339())];
        if let Some(to) = search.to {
            conditions.push(format!("start_at < '{}'", to.to_rfc3339()));
        }
        let mut distance = "NULL::float8".to_owned();
        if let Some(geo) = search.geo {
            let point = format!(
                "ST_SetSRID(ST_MakePoint({}, {}), 4326)::geography",
                geo.longitude, geo.latitude
            );
            // On the sphere, as multifresque measures.
            distance = format!("ST_Distance(place, {point}, false) / 1000");
            match geo.radius_km {
                Some(radius) => conditions.push(format!(
                    "ST_DWithin(place, {point}, {}, false)",
                    radius * 1000.0
                )),
                None => conditions.push("place IS NOT NULL".to_owned()),
            }
        }
        let mut rank = "0".to_owned();
        if let Some(text) = &search.text {
            let text = text.replace('\'', "''");
            conditions.push(format!(
                "document @@ plainto_tsquery('french_folded', '{text}')"
            ));
            rank = format!("ts_rank(document, plainto_tsquery('french_folded', '{text}')) DESC");
        }
        conditions.extend(filters(search, ""));
        let order = match search.sort {
            Sort::Date => "start_at, id".to_owned(),
            Sort::Distance => format!("{distance}, start_at"),
            Sort::Relevance => format!("{rank}, start_at"),
        };
        let filter = conditions.join(" AND ");
        SqlSearch {
            page: format!(
                "SELECT id, workshop, title, description, language, start_at, attendance, audience, city, latitude, longitude, {distance} FROM events WHERE {filter} ORDER BY {order} LIMIT {} OFFSET {}",
                search.limit, search.offset
            ),
            facets: format!(
                "SELECT CASE WHEN GROUPING(workshop) = 0 THEN 'workshop'
                             WHEN GROUPING(attendance) = 0 THEN 'attendance'
                             WHEN GROUPING(audience) = 0 THEN 'audience'
                             WHEN GROUPING(language) = 0 THEN 'language'
                             ELSE 'total' END,
                        coalesce(workshop, attendance, audience, language), count(*)
                 FROM events WHERE {filter}
                 GROUP BY GROUPING SETS ((workshop), (attendance), (audience), (language), ())"
            ),
        }
    }
}

/// Builds the family, attendance, audience, language and country conditions of a search.
fn filters(search: &SearchQuery, prefix: &str) -> Vec<String> {
    let list = |values: &[String]| {
        values
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut conditions = Vec::new();
    if !search.workshops.is_empty() {
        conditions.push(format!("{prefix}workshop IN ({})", list(&search.workshops)));
    }
    if let Some(attendance) = search.attendance {
        conditions.push(format!("{prefix}attendance = '{}'", attendance.as_str()));
    }
    if let Some(audience) = search.audience {
        conditions.push(format!("{prefix}audience = '{}'", audience.as_str()));
    }
    if !search.languages.is_empty() {
        conditions.push(format!("{prefix}language IN ({})", list(&search.languages)));
    }
    if let Some(country) = &search.country {
        conditions.push(format!(
            "{prefix}country = '{}'",
            country.replace('\'', "''")
        ));
    }
    conditions
}

// ---------------------------------------------------------------------------------------
// Download

/// Around Lyon, 30 km: the search a participant makes first.
const LYON: (f64, f64) = (45.74846, 4.84671);
const RADIUS_KM: f64 = 30.0;

fn download(_data: &Path, multifresque: &str, incumbent: &str, runs: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    // Decompression is done here, so that the bytes on the wire can be counted.
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()?;
    let api = format!(
        "{}/api/v1/events?near=Lyon&radius_km={RADIUS_KM}",
        multifresque.trim_end_matches('/')
    );

    let mut api_times = Vec::new();
    let mut incumbent_times = Vec::new();
    let mut api_bytes = 0;
    let mut incumbent_bytes = 0;
    let mut api_first = String::new();
    let mut incumbent_first = String::new();
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let (bytes, body) = runtime.block_on(fetch_gzip(&client, &api))?;
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        api_first = page["events"][0]["start"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        api_times.push(started.elapsed());
        api_bytes = bytes;

        let started = Instant::now();
        let (bytes, body) = runtime.block_on(fetch_gzip(&client, incumbent))?;
        incumbent_first = filter_in_client(&body)?;
        incumbent_times.push(started.elapsed());
        incumbent_bytes = bytes;
    }
    api_times.sort();
    incumbent_times.sort();
    let api_median = api_times[api_times.len() / 2];
    let incumbent_median = incumbent_times[incumbent_times.len() / 2];
    println!(
        "| near Lyon, {RADIUS_KM} km, soonest first | bytes on the wire (gzip) | time to first result (median) | ratio |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| multifresque API: one page of 20 with facets | {api_bytes} | {} | 1 |",
        show(api_median)
    );
    println!(
        "| incumbent: every session as JSON, filtered in the client | {incumbent_bytes} | {} | {:.0} |",
        show(incumbent_median),
        ratio(incumbent_median, api_median)
    );
    println!();
    println!(
        "Start of the first result: multifresque {api_first}, incumbent approach {incumbent_first}. Runs: {runs}."
    );
    Ok(())
}

async fn fetch_gzip(client: &reqwest::Client, url: &str) -> anyhow::Result<(usize, Vec<u8>)> {
    let response = client
        .get(url)
        .header("accept-encoding", "gzip")
        .send()
        .await?
        .error_for_status()?;
    let gzipped = response
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let wire = response.bytes().await?;
    if !gzipped {
        return Ok((wire.len(), wire.to_vec()));
    }
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(&wire[..]).read_to_end(&mut body)?;
    Ok((wire.len(), body))
}

/// Filters as the incumbent's page does in the browser: parses every record, keeps the
/// upcoming in-person sessions within the radius, sorts them by date and returns the first
/// one's start.
fn filter_in_client(body: &[u8]) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Record {
        start_date: DateTime<chrono::FixedOffset>,
        latitude: Option<String>,
        longitude: Option<String>,
    }
    let records: Vec<Record> = serde_json::from_slice(body)?;
    let now = Utc::now();
    let mut near: Vec<&Record> = records
        .iter()
        .filter(|r| r.start_date >= now)
        .filter(|r| {
            let position = r
                .latitude
                .as_deref()
                .and_then(|l| l.parse().ok())
                .zip(r.longitude.as_deref().and_then(|l| l.parse().ok()));
            position.is_some_and(|p| distance_km(p, LYON) <= RADIUS_KM)
        })
        .collect();
    near.sort_by_key(|r| r.start_date);
    Ok(near
        .first()
        .map(|r| r.start_date.to_rfc3339())
        .unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// Helpers

fn count_csv_rows(path: &Path) -> anyhow::Result<usize> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {}; run `multifresque bench generate` first",
            path.display()
        )
    })?;
    Ok(csv_records(&text).count().saturating_sub(1))
}

/// Records of a CSV document as written by the generator: fields quoted when they hold a
/// comma, a quote or a line break, quotes doubled.
fn csv_records(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut record = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => record.push(std::mem::take(&mut field)),
                (false, '\n') => break,
                (false, c) => field.push(c),
            }
        }
        record.push(field);
        Some(record)
    })
}

/// Peak resident memory of this process, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn ratio(peer: Duration, ours: Duration) -> f64 {
    peer.as_secs_f64() / ours.as_secs_f64().max(1e-9)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn show(duration: Duration) -> String {
    if duration < Duration::from_millis(1) {
        format!("{:.0} µs", duration.as_secs_f64() * 1e6)
    } else if duration < Duration::from_secs(1) {
        format!("{:.2} ms", duration.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}
