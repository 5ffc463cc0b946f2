//! The store: SQLite, the source of truth for events and for each source's fetch history.
//!
//! One fetch replaces one source's events in one transaction, so readers see the old set or
//! the new one, never a mix. Events missing from a healthy feed are marked withdrawn, not
//! deleted. Every change bumps a generation number that the derived index records, so a
//! stale index is detected at start-up.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::event::{Event, Rejection};

/// Migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,
    last_fetch_at TEXT,
    last_success_at TEXT,
    duration_ms INTEGER,
    http_status INTEGER,
    events_kept INTEGER NOT NULL DEFAULT 0,
    events_rejected INTEGER NOT NULL DEFAULT 0,
    rejections TEXT NOT NULL DEFAULT '[]',
    last_error TEXT
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    start_utc INTEGER NOT NULL,
    searchable INTEGER NOT NULL,
    withdrawn_at TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_by_source ON events (source);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('generation', 0);
",
    r"
ALTER TABLE sources ADD COLUMN rejections_by_reason TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sources ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN last_failure_at TEXT;
ALTER TABLE events ADD COLUMN changed_at TEXT;
UPDATE events SET changed_at = COALESCE(withdrawn_at, last_seen_at);
CREATE INDEX events_by_start ON events (start_utc, id);
CREATE INDEX events_by_change ON events (changed_at);
INSERT INTO meta (key, value) VALUES ('changed_at_ms', 0);
",
    r"
CREATE TABLE clusters (
    event_id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL
);
CREATE INDEX clusters_by_cluster ON clusters (cluster_id);
CREATE TABLE geocode_cache (
    provider TEXT NOT NULL,
    query TEXT NOT NULL,
    latitude REAL,
    longitude REAL,
    precision TEXT,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (provider, query)
);
",
];

/// Rejections kept per source for the status page; the count is always exact.
const MAX_STORED_REJECTIONS: usize = 50;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored event {id} is unreadable: {source}")]
    Corrupt {
        id: String,
        source: serde_json::Error,
    },
    #[error("database schema version {found} is newer than this program's {supported}")]
    TooNew { found: usize, supported: usize },
}

/// The HTTP validators of a source's last successful fetch, for conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Hash of the feed bytes, to skip re-indexing an unchanged feed served without validators.
    pub content_hash: Option<String>,
}

/// What one fetch of a source produced.
#[derive(Debug)]
pub struct FetchRecord {
    pub at: DateTime<Utc>,
    pub duration_ms: u64,
    pub http_status: Option<u16>,
    pub outcome: Outcome,
}

/// How a fetch ended.
#[derive(Debug)]
pub enum Outcome {
    /// The feed parsed: these are all its events.
    Fetched {
        events: Vec<Event>,
        rejections: Vec<Rejection>,
        /// Global ids of entries the feed still lists but that were rejected this time:
        /// their last good version stays as it was instead of being withdrawn.
        rejected_ids: Vec<String>,
        validators: Validators,
    },
    /// The feed has not changed since the last success.
    Unchanged,
    /// The fetch or the parse failed; the source keeps its events.
    Failed { error: String },
}

/// What applying a fetch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub added: usize,
    pub updated: usize,
    pub withdrawn: usize,
    /// The store generation after the change.
    pub generation: u64,
}

impl Applied {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.withdrawn > 0
    }
}

/// A source's health as the store records it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceStatus {
    pub id: String,
    pub last_fetch_at: Option<String>,
    pub last_success_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub http_status: Option<u16>,
    pub events_kept: u64,
    pub events_rejected: u64,
    /// Exact count of the last parsed fetch's rejections, by reason.
    pub rejections_by_reason: BTreeMap<String, u64>,
    /// Up to 50 rejections of the last parsed fetch, as examples.
    pub rejections: Vec<Rejection>,
    pub last_error: Option<String>,
    /// When the last failed fetch happened, even if a later one succeeded.
    pub last_failure_at: Option<String>,
    /// Failed fetches since the last success; 0 when the last fetch succeeded.
    pub consecutive_failures: u64,
    /// Events currently searchable.
    pub searchable_events: u64,
}

/// A stored event with its lifecycle.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    #[serde(flatten)]
    pub event: Event,
    /// Set when the event disappeared from its feed.
    pub withdrawn_at: Option<String>,
}

/// The SQLite store. Cheap to share behind an `Arc`; calls block, so async code runs them in
/// `spawn_blocking`.
pub struct Store {
    connection: Mutex<Connection>,
    /// Copy of the time of the last change to the events, in Unix milliseconds, so the HTTP
    /// layer reads `Last-Modified` without a query.
    changed_at_ms: AtomicI64,
}

/// One event of the store with its lifecycle, as the aggregated feed lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedEvent {
    #[serde(flatten)]
    pub event: Event,
    /// Set when the event disappeared from its feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
    /// Start in Unix seconds and id: the position of the event in feed order.
    #[serde(skip)]
    pub key: (i64, String),
}

/// Which events [`Store::feed_events`] reads, in (start, id) order.
#[derive(Debug, Clone, Default)]
pub struct FeedScan {
    /// Only events after this (start in Unix seconds, id) position.
    pub after: Option<(i64, String)>,
    /// Only events starting at or after this Unix second.
    pub start_from: i64,
    /// Only events starting before this Unix second.
    pub start_before: Option<i64>,
    /// Only events changed (added, updated, cancelled or withdrawn) at or after this time;
    /// withdrawn events are listed only when this is set.
    pub changed_since: Option<DateTime<Utc>>,
    /// Most rows returned.
    pub limit: usize,
}

impl Store {
    /// Opens (creating if needed) the database file and applies pending migrations.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when the file cannot be opened or was written by a newer version.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let connection = Connection::open(path)?;
        Store::with_connection(connection)
    }

    fn with_connection(mut connection: Connection) -> Result<Store, StoreError> {
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL with WAL stays consistent after a crash; a power loss may drop the last
        // commits, which the next fetch restores.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        let changed_at_ms = meta(&connection, "changed_at_ms")?;
        Ok(Store {
            connection: Mutex::new(connection),
            changed_at_ms: AtomicI64::new(changed_at_ms),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent (the transaction
        // rolls back on drop), so a poisoned lock is safe to reuse.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The generation: a counter bumped by every change to the searchable events.
    pub fn generation(&self) -> Result<u64, StoreError> {
        let connection = self.lock();
        Ok(generation(&connection)?)
    }

    /// When the events last changed, in Unix milliseconds; 0 before the first change.
    pub fn changed_at_ms(&self) -> i64 {
        self.changed_at_ms.load(Ordering::Relaxed)
    }

    /// The validators of a source's last successful fetch.
    pub fn validators(&self, source_id: &str) -> Result<Validators, StoreError> {
        let connection = self.lock();
        let found = connection
            .query_row(
                "SELECT etag, last_modified, content_hash FROM sources WHERE id = ?1",
                [source_id],
                |row| {
                    Ok(Validators {
                        etag: row.get(0)?,
                        last_modified: row.get(1)?,
                        content_hash: row.get(2)?,
                    })
                },
            )
            .optional()?;
        Ok(found.unwrap_or_default())
    }

    /// Records a fetch. A parsed feed replaces the source's events atomically; an unchanged
    /// or failed one only updates the source's status.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when SQLite fails; the transaction is then rolled back.
    pub fn record(&self, source_id: &str, record: &FetchRecord) -> Result<Applied, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let at = record.at.to_rfc3339();
        transaction.execute(
            "INSERT INTO sources (id) VALUES (?1) ON CONFLICT (id) DO NOTHING",
            [source_id],
        )?;
        transaction.execute(
            "UPDATE sources SET last_fetch_at = ?2, duration_ms = ?3, http_status = ?4 WHERE id = ?1",
            params![source_id, at, record.duration_ms, record.http_status],
        )?;

        let mut applied = Applied::default();
        match &record.outcome {
            Outcome::Fetched {
                events,
                rejections,
                rejected_ids,
                validators,
            } => {
                applied = replace_events(&transaction, source_id, events, rejected_ids, &at)?;
                let examples = &rejections[..rejections.len().min(MAX_STORED_REJECTIONS)];
                let mut by_reason: BTreeMap<&str, u64> = BTreeMap::new();
                for rejection in rejections {
                    *by_reason.entry(rejection.reason.as_str()).or_default() += 1;
                }
                transaction.execute(
                    "UPDATE sources SET last_success_at = ?2, etag = ?3, last_modified = ?4,
                        content_hash = ?5, events_kept = ?6, events_rejected = ?7,
                        rejections = ?8, rejections_by_reason = ?9, last_error = NULL,
                        consecutive_failures = 0
                     WHERE id = ?1",
                    params![
                        source_id,
                        at,
                        validators.etag,
                        validators.last_modified,
                        validators.content_hash,
                        events.len(),
                        rejections.len(),
                        serde_json::to_string(examples).unwrap_or_else(|_| "[]".to_owned()),
                        serde_json::to_string(&by_reason).unwrap_or_else(|_| "{}".to_owned()),
                    ],
                )?;
            }
            Outcome::Unchanged => {
                transaction.execute(
                    "UPDATE sources SET last_success_at = ?2, last_error = NULL,
                        consecutive_failures = 0 WHERE id = ?1",
                    params![source_id, at],
                )?;
            }
            Outcome::Failed { error } => {
                transaction.execute(
                    "UPDATE sources SET last_error = ?2, last_failure_at = ?3,
                        consecutive_failures = consecutive_failures + 1 WHERE id = ?1",
                    params![source_id, error, at],
                )?;
            }
        }
        if applied.changed() {
            bump_generation(&transaction, record.at)?;
        }
        applied.generation = generation(&transaction)?;
        transaction.commit()?;
        if applied.changed() {
            self.changed_at_ms
                .store(record.at.timestamp_millis(), Ordering::Relaxed);
        }
        Ok(applied)
    }

    /// Withdraws every event of a source that left the configuration and forgets its
    /// validators, so that the source, if it comes back, is read again in full.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when SQLite fails; the transaction is then rolled back.
    pub fn retire_source(&self, source_id: &str, at: DateTime<Utc>) -> Result<Applied, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let mut applied = Applied {
            withdrawn: transaction.execute(
                "UPDATE events SET withdrawn_at = ?2, changed_at = ?2, searchable = 0
                 WHERE source = ?1 AND withdrawn_at IS NULL",
                params![source_id, at.to_rfc3339()],
            )?,
            ..Applied::default()
        };
        transaction.execute(
            "UPDATE sources SET etag = NULL, last_modified = NULL, content_hash = NULL WHERE id = ?1",
            [source_id],
        )?;
        if applied.changed() {
            bump_generation(&transaction, at)?;
        }
        applied.generation = generation(&transaction)?;
        transaction.commit()?;
        if applied.changed() {
            self.changed_at_ms
                .store(at.timestamp_millis(), Ordering::Relaxed);
        }
        Ok(applied)
    }

    /// Events in feed order (start, then id): searchable and cancelled ones, plus withdrawn
    /// ones when `scan.changed_since` is set.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when SQLite fails or a stored event is unreadable.
    pub fn feed_events(&self, scan: &FeedScan) -> Result<Vec<FeedEvent>, StoreError> {
        let connection = self.lock();
        let (after_start, after_id) = scan.after.clone().unwrap_or((i64::MIN, String::new()));
        let mut statement = connection.prepare_cached(
            "SELECT id, data, withdrawn_at, start_utc FROM events
             WHERE (start_utc > ?1 OR (start_utc = ?1 AND id > ?2))
               AND start_utc >= ?3 AND start_utc < ?4
               AND (?5 IS NULL OR changed_at >= ?5)
               AND (withdrawn_at IS NULL OR ?5 IS NOT NULL)
             ORDER BY start_utc, id
             LIMIT ?6",
        )?;
        let changed_since = scan.changed_since.map(|at| at.to_rfc3339());
        let rows = statement.query_map(
            params![
                after_start,
                after_id,
                scan.start_from,
                scan.start_before.unwrap_or(i64::MAX),
                changed_since,
                scan.limit as i64,
            ],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            },
        )?;
        rows.map(|row| {
            let (id, data, withdrawn_at, start) = row?;
            Ok(FeedEvent {
                event: decode((id.clone(), data))?,
                withdrawn_at,
                key: (start, id),
            })
        })
        .collect()
    }

    /// Withdraws the events of every source not in `kept_sources`, such as a source removed
    /// from the configuration or disabled. Returns how many events were withdrawn; a later
    /// successful fetch of such a source brings its events back.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] when SQLite fails.
    pub fn withdraw_other_sources(
        &self,
        kept_sources: &[&str],
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS kept (id TEXT PRIMARY KEY); DELETE FROM kept;",
        )?;
        {
            let mut keep =
                transaction.prepare_cached("INSERT OR IGNORE INTO kept (id) VALUES (?1)")?;
            for source in kept_sources {
                keep.execute([source])?;
            }
        }
        let withdrawn = transaction.execute(
            "UPDATE events SET withdrawn_at = ?1, changed_at = ?1, searchable = 0
             WHERE withdrawn_at IS NULL AND source NOT IN (SELECT id FROM kept)",
            [at.to_rfc3339()],
        )?;
        // A source that comes back must be read again in full, even if its feed is unchanged.
        transaction.execute(
            "UPDATE sources SET etag = NULL, last_modified = NULL, content_hash = NULL
             WHERE id NOT IN (SELECT id FROM kept)",
            [],
        )?;
        if withdrawn > 0 {
            bump_generation(&transaction, at)?;
        }
        transaction.commit()?;
        if withdrawn > 0 {
            self.changed_at_ms
                .store(at.timestamp_millis(), Ordering::Relaxed);
        }
        Ok(withdrawn)
    }

    /// The searchable events of one source, for re-indexing it.
    pub fn searchable_events(&self, source_id: &str) -> Result<Vec<Event>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT id, data FROM events WHERE source = ?1 AND searchable = 1")?;
        let rows = statement.query_map([source_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.map(|row| decode(row?)).collect()
    }

    /// Every searchable event, for rebuilding the index.
    pub fn all_searchable_events(&self) -> Result<Vec<Event>, StoreError> {
        let connection = self.lock();
        let mut statement =
            connection.prepare("SELECT id, data FROM events WHERE searchable = 1 ORDER BY id")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.map(|row| decode(row?)).collect()
    }

    /// One event by id, withdrawn or not.
    pub fn event(&self, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let connection = self.lock();
        let found: Option<(String, String, Option<String>)> = connection
            .query_row(
                "SELECT id, data, withdrawn_at FROM events WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        found
            .map(|(id, data, withdrawn_at)| {
                Ok(StoredEvent {
                    event: decode((id, data))?,
                    withdrawn_at,
                })
            })
            .transpose()
    }

    /// The recorded status of every source that was fetched at least once.
    pub fn source_statuses(&self) -> Result<Vec<SourceStatus>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT s.id, s.last_fetch_at, s.last_success_at, s.duration_ms, s.http_status,
                    s.events_kept, s.events_rejected, s.rejections, s.last_error,
                    (SELECT COUNT(*) FROM events e WHERE e.source = s.id AND e.searchable = 1),
                    s.rejections_by_reason, s.last_failure_at, s.consecutive_failures
             FROM sources s ORDER BY s.id",
        )?;
        let rows = statement.query_map([], |row| {
            let rejections: String = row.get(7)?;
            let by_reason: String = row.get(10)?;
            Ok(SourceStatus {
                id: row.get(0)?,
                last_fetch_at: row.get(1)?,
                last_success_at: row.get(2)?,
                duration_ms: row.get(3)?,
                http_status: row.get(4)?,
                events_kept: row.get(5)?,
                events_rejected: row.get(6)?,
                rejections: serde_json::from_str(&rejections).unwrap_or_default(),
                last_error: row.get(8)?,
                searchable_events: row.get(9)?,
                rejections_by_reason: serde_json::from_str(&by_reason).unwrap_or_default(),
                last_failure_at: row.get(11)?,
                consecutive_failures: row.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` means the file is sound.
    pub fn integrity_check(&self) -> Result<Result<(), String>, StoreError> {
        let connection = self.lock();
        let verdict: String =
            connection.query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(if verdict == "ok" {
            Ok(())
        } else {
            Err(verdict)
        })
    }
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found: applied,
            supported: MIGRATIONS.len(),
        });
    }
    for (number, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", number + 1)?;
        transaction.commit()?;
        tracing::info!(version = number + 1, "applied store migration");
    }
    Ok(())
}

fn generation(connection: &Connection) -> rusqlite::Result<u64> {
    connection.query_row(
        "SELECT value FROM meta WHERE key = 'generation'",
        [],
        |row| row.get(0),
    )
}

fn meta(connection: &Connection, key: &str) -> rusqlite::Result<i64> {
    connection
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()
        .map(Option::unwrap_or_default)
}

/// Counts one more change to the searchable events and records when it happened.
fn bump_generation(connection: &Connection, at: DateTime<Utc>) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
        [],
    )?;
    connection.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'changed_at_ms'",
        [at.timestamp_millis()],
    )?;
    Ok(())
}

fn decode((id, data): (String, String)) -> Result<Event, StoreError> {
    serde_json::from_str(&data).map_err(|source| StoreError::Corrupt { id, source })
}

/// Upserts `events` for one source and withdraws the source's events that are not among them.
fn replace_events(
    transaction: &rusqlite::Transaction<'_>,
    source_id: &str,
    events: &[Event],
    rejected_ids: &[String],
    at: &str,
) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    transaction.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY); DELETE FROM seen;",
    )?;
    {
        let mut still_listed =
            transaction.prepare_cached("INSERT OR IGNORE INTO seen (id) VALUES (?1)")?;
        for id in rejected_ids {
            still_listed.execute([id])?;
        }
    }
    {
        let mut existing =
            transaction.prepare_cached("SELECT data, withdrawn_at FROM events WHERE id = ?1")?;
        let mut upsert = transaction.prepare_cached(
            "INSERT INTO events (id, source, start_utc, searchable, withdrawn_at, first_seen_at, last_seen_at, changed_at, data)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET source = ?2, start_utc = ?3, searchable = ?4,
                 withdrawn_at = NULL, last_seen_at = ?5, changed_at = ?5, data = ?6",
        )?;
        let mut touch =
            transaction.prepare_cached("UPDATE events SET last_seen_at = ?2 WHERE id = ?1")?;
        let mut seen = transaction.prepare_cached("INSERT OR IGNORE INTO seen (id) VALUES (?1)")?;
        for event in events {
            let data = serde_json::to_string(event).map_err(|source| StoreError::Corrupt {
                id: event.id.clone(),
                source,
            })?;
            seen.execute([&event.id])?;
            let previous: Option<(String, Option<String>)> = existing
                .query_row([&event.id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            match previous {
                Some((old, None)) if old == data => {
                    touch.execute(params![event.id, at])?;
                    continue;
                }
                Some(_) => applied.updated += 1,
                None => applied.added += 1,
            }
            upsert.execute(params![
                event.id,
                source_id,
                event.start_utc().timestamp(),
                event.is_searchable(),
                at,
                data
            ])?;
        }
    }
    applied.withdrawn = transaction.execute(
        "UPDATE events SET withdrawn_at = ?2, changed_at = ?2, searchable = 0
         WHERE source = ?1 AND withdrawn_at IS NULL AND id NOT IN (SELECT id FROM seen)",
        params![source_id, at],
    )?;
    Ok(applied)
}

mod clusters;
mod geocache;
#[cfg(test)]
mod tests;

pub use geocache::CachedGeocode;
