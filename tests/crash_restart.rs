//! Crash safety of the real binary: `multifresque fetch` and `multifresque serve` ingest
//! feeds from a local server and are killed with SIGKILL at random points, over and over.
//! After each kill the test checks what a restart finds:
//!
//! - SQLite passes `PRAGMA integrity_check`;
//! - each source holds either all of its previous events or all of the new feed's, never
//!   a mix and never fewer (a fetch replaces a source in one transaction);
//! - when the process finished before the kill, every source holds the new feed: no event
//!   of a completed fetch is lost;
//! - after the restart's index check, the index holds exactly the store's searchable
//!   events.
//!
//! The run is random but repeatable: it prints its seed, and `CRASH_SEED=N` replays it.
//! `CRASH_CYCLES=N` changes the number of cycles (60 by default).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use common::{Behaviour, FeedServer, fast_fetch, feed};
use multifresque::app::{App, INDEX_DIR, STORE_FILE};
use multifresque::config::Config;
use multifresque::index::Index;
use multifresque::search::SearchQuery;
use multifresque::store::Store;
use serde_json::{Value, json};

const SOURCES: [&str; 3] = ["alpha", "beta", "gamma"];
/// Events per feed: enough that storing and indexing a feed takes a while to kill into.
const EVENTS_PER_FEED: usize = 600;
/// Events replaced by each new generation of a feed: withdrawn ones and added ones.
const TURNOVER: usize = 40;

/// xorshift64*: a small repeatable generator, so a failing seed can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// The event ids of `source`'s feed in generation `generation`.
fn feed_ids(source: &str, generation: usize) -> BTreeSet<String> {
    let first = generation * TURNOVER;
    (first..first + EVENTS_PER_FEED)
        .map(|n| format!("{source}~e{n}"))
        .collect()
}

fn feed_body(source: &str, generation: usize) -> String {
    let start = Utc::now() + chrono::Duration::days(30);
    let events: Vec<Value> = feed_ids(source, generation)
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let publisher_id = id.split('~').nth(1).unwrap_or_default();
            let begins = start + chrono::Duration::minutes(n as i64 * 7);
            json!({
                "id": publisher_id,
                // The title changes with the generation, so kept events are updated too.
                "title": format!("Fresque du Climat {source} {n}, édition {generation}"),
                "description": "Trois heures pour comprendre le changement climatique, en équipe.",
                "start": begins.to_rfc3339(),
                "end": (begins + chrono::Duration::hours(3)).to_rfc3339(),
                "time_zone": "Europe/Paris",
                "attendance": "in_person",
                "location": {"city": "Lyon", "country": "FR", "latitude": 45.76, "longitude": 4.83},
            })
        })
        .collect();
    feed(events, None)
}

fn sources_toml(feeds: &FeedServer) -> String {
    SOURCES
        .iter()
        .map(|source| {
            format!(
                "[[source]]\nid = \"{source}\"\nkind = \"openfresque\"\nurl = \"{}\"\n\
                 workshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\n",
                feeds.url(&format!("{source}.json"))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How one cycle's process was started.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Fetch,
    Serve,
}

fn spawn(mode: Mode, sources: &Path, data: &Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_multifresque"));
    match mode {
        Mode::Fetch => command.arg("fetch"),
        Mode::Serve => command.args(["serve", "--port", "0"]),
    };
    command
        .arg("--sources")
        .arg(sources)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits up to `delay` for the child to exit by itself, then kills it with SIGKILL.
/// Returns whether it had exited successfully before the kill.
fn kill_after(child: &mut Child, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() >= deadline {
            // `Child::kill` sends SIGKILL on Unix: no handler runs, nothing is flushed.
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Searchable event ids per source, straight from the store.
fn stored_ids(data: &Path) -> Vec<BTreeSet<String>> {
    let store = Store::open(&data.join(STORE_FILE)).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Ok(()), "integrity_check");
    SOURCES
        .iter()
        .map(|source| {
            store
                .searchable_events(source)
                .unwrap()
                .into_iter()
                .map(|event| event.id)
                .collect()
        })
        .collect()
}

/// Opens the data directory as a restart does and returns the ids the index holds, and
/// those the store holds as searchable.
async fn restart_and_list(config: &Config, data: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let app = App::open_with(config.clone(), data, fast_fetch())
        .await
        .unwrap();
    let mut everything = SearchQuery::upcoming(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap());
    everything.limit = SOURCES.len() * EVENTS_PER_FEED * 2;
    let index = app.state.index.clone();
    let results = tokio::task::spawn_blocking(move || index.search(&everything))
        .await
        .unwrap()
        .unwrap();
    let indexed: BTreeSet<String> = results.events.into_iter().map(|hit| hit.event.id).collect();
    let stored: BTreeSet<String> = app
        .state
        .store
        .all_searchable_events()
        .unwrap()
        .into_iter()
        .map(|event| event.id)
        .collect();
    assert_eq!(results.total, indexed.len());
    (indexed, stored)
}

#[derive(Default, Debug)]
struct Tally {
    /// The process finished before its kill time.
    completed: usize,
    /// Killed before any source took the new feed.
    killed_before_writes: usize,
    /// Killed after some but not all sources took the new feed.
    killed_between_writes: usize,
    /// Killed after every source took the new feed (while indexing or serving).
    killed_after_writes: usize,
    /// Restarts that found the index behind the store, or unreadable, and rebuilt it.
    index_behind: usize,
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_ingest_loses_nothing() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64 | 1);
    let cycles: usize = std::env::var("CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    println!("crash test seed {seed} ({cycles} cycles); replay with CRASH_SEED={seed}");
    let mut random = Random(seed);

    let feeds = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sources_path = dir.path().join("sources.toml");
    let data = dir.path().join("data");
    std::fs::write(&sources_path, sources_toml(&feeds)).unwrap();
    let config = Config::load(&sources_path).unwrap();

    // Generation 0, uninterrupted, also measures how long a whole fetch takes here.
    for source in SOURCES {
        feeds.set(
            &format!("{source}.json"),
            Behaviour::Serve(feed_body(source, 0)),
        );
    }
    let started = Instant::now();
    let mut child = spawn(Mode::Fetch, &sources_path, &data);
    assert!(
        kill_after(&mut child, Duration::from_secs(120)),
        "first fetch failed"
    );
    let full_run = started.elapsed();
    let mut previous: Vec<BTreeSet<String>> = SOURCES.iter().map(|s| feed_ids(s, 0)).collect();
    assert_eq!(stored_ids(&data), previous);
    println!("uninterrupted fetch: {} ms", full_run.as_millis());

    let mut tally = Tally::default();
    for cycle in 1..=cycles {
        for source in SOURCES {
            feeds.set(
                &format!("{source}.json"),
                Behaviour::Serve(feed_body(source, cycle)),
            );
        }
        let expected: Vec<BTreeSet<String>> = SOURCES.iter().map(|s| feed_ids(s, cycle)).collect();
        let mode = if cycle % 2 == 0 {
            Mode::Serve
        } else {
            Mode::Fetch
        };
        // Up to 120% of a whole run, so some kills come after the end.
        let delay = Duration::from_micros(random.below(full_run.as_micros() as u64 * 6 / 5));

        let mut child = spawn(mode, &sources_path, &data);
        let completed = kill_after(&mut child, delay);

        let found = stored_ids(&data);
        for (n, source) in SOURCES.iter().enumerate() {
            assert!(
                found[n] == previous[n] || found[n] == expected[n],
                "cycle {cycle} ({mode:?}, killed after {delay:?}): source {source} holds a mix \
                 of {} events",
                found[n].len()
            );
        }
        if completed {
            assert_eq!(
                found, expected,
                "cycle {cycle}: a completed fetch lost events"
            );
        }
        let new = found.iter().zip(&expected).filter(|(f, e)| f == e).count();
        match (completed, new) {
            (true, _) => tally.completed += 1,
            (false, 0) => tally.killed_before_writes += 1,
            (false, n) if n == SOURCES.len() => tally.killed_after_writes += 1,
            (false, _) => tally.killed_between_writes += 1,
        }

        let store_generation = Store::open(&data.join(STORE_FILE))
            .unwrap()
            .generation()
            .unwrap();
        let index_generation = Index::open_read_only(
            &data.join(INDEX_DIR),
            Arc::new(multifresque::Catalog::embedded()),
        )
        .ok()
        .and_then(|index| index.generation());
        if index_generation != Some(store_generation) {
            tally.index_behind += 1;
        }
        let (indexed, stored) = restart_and_list(&config, &data).await;
        assert_eq!(
            indexed, stored,
            "cycle {cycle}: after restart the index differs from the store"
        );
        let all_found: BTreeSet<String> = found.iter().flatten().cloned().collect();
        assert_eq!(stored, all_found);
        previous = found;
    }

    println!("{cycles} SIGKILL cycles passed: {tally:?}");
    assert!(
        tally.killed_before_writes + tally.killed_between_writes + tally.killed_after_writes
            >= cycles / 2,
        "too few kills landed before the end: {tally:?}"
    );
}
