//! Replays every input in `tests/fuzz-regressions/TARGET/` through the code its fuzz target
//! exercises (see `fuzz/fuzz_targets/`): parse a feed page and normalize its events, or
//! parse a search query string. Each file once crashed or hung its target.

use std::path::{Path, PathBuf};

use multifresque::adapter::{self, Context, Kind};
use multifresque::config::Config;
use multifresque::http::params::{self, MAX_OFFSET, MAX_QUERY_CHARS};
use multifresque::normalize::Normalizer;
use multifresque::search::MAX_LIMIT;
use multifresque::{Catalog, Gazetteer};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

fn context() -> Context {
    Context {
        default_time_zone: chrono_tz::Europe::Paris,
        now: "2026-12-01T00:00:00Z".parse().unwrap(),
        horizon_days: 365,
    }
}

fn replay_adapter(target: &str, kind: Kind) -> usize {
    let config = Config::parse(
        "[[source]]\nid = \"fuzz\"\nkind = \"openfresque\"\nurl = \"feed.json\"\n\
         workshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\n",
        Path::new("."),
    )
    .unwrap();
    let catalog = Catalog::embedded();
    let gazetteer = Gazetteer::embedded();
    let normalizer = Normalizer {
        source: &config.sources[0],
        catalog: &catalog,
        gazetteer: &gazetteer,
    };
    let files = inputs(target);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let Ok(parsed) = adapter::parse(kind, &bytes, &context()) else {
            continue;
        };
        for draft in parsed.drafts {
            if let Ok(event) = normalizer.normalize(draft) {
                serde_json::to_string(&event)
                    .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            }
        }
    }
    files.len()
}

#[test]
fn openfresque_regressions() {
    println!(
        "{} inputs",
        replay_adapter("adapter_openfresque", Kind::Openfresque)
    );
}

#[test]
fn ics_regressions() {
    println!("{} inputs", replay_adapter("adapter_ics", Kind::Ics));
}

#[test]
fn tuf_regressions() {
    println!("{} inputs", replay_adapter("adapter_tuf", Kind::Tuf));
}

#[test]
fn jsonld_regressions() {
    println!("{} inputs", replay_adapter("adapter_jsonld", Kind::Jsonld));
}

#[test]
fn event_search_params_regressions() {
    let gazetteer = Gazetteer::embedded();
    let now = "2026-12-01T00:00:00Z".parse().unwrap();
    for file in inputs("event_search_params") {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(raw) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Ok(search) = params::parse_event_search(raw, &gazetteer, now) {
            let query = search.query;
            assert!((1..=MAX_LIMIT).contains(&query.limit), "{}", file.display());
            assert!(query.offset <= MAX_OFFSET, "{}", file.display());
            assert!(
                query
                    .text
                    .is_none_or(|q| q.chars().count() <= MAX_QUERY_CHARS),
                "{}",
                file.display()
            );
        }
    }
}
