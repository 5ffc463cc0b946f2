//! The store: SQLite, the source of truth for events and for each source's fetch history.
//!
//! One fetch replaces one source's events in one transaction, so readers see the old set or
//! the new one, never a mix. Events missing from a healthy feed are marked withdrawn, not
//! deleted. Every change bumps a generation number that the derived index records, so a
//! stale index is detected at start-up.

use std::path::Path;
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
ALTER TABLE sources ADD COLUMN rejection_counts TEXT NOT NULL DEFAULT '{}';
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
    /// Up to 50 rejections of the last parsed fetch, as examples.
    pub rejections: Vec<Rejection>,
    pub last_error: Option<String>,
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
        Ok(Store {
            connection: Mutex::new(connection),
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
    pub fn record(&self, source_id: &str, record: FetchRecord) -> Result<Applied, StoreError> {
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
        match record.outcome {
            Outcome::Fetched {
                events,
                rejections,
                validators,
            } => {
                applied = replace_events(&transaction, source_id, &events, &at)?;
                clusters::record_rejection_counts(&transaction, source_id, &rejections)?;
                let examples = &rejections[..rejections.len().min(MAX_STORED_REJECTIONS)];
                transaction.execute(
                    "UPDATE sources SET last_success_at = ?2, etag = ?3, last_modified = ?4,
                        content_hash = ?5, events_kept = ?6, events_rejected = ?7,
                        rejections = ?8, last_error = NULL
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
                    ],
                )?;
            }
            Outcome::Unchanged => {
                transaction.execute(
                    "UPDATE sources SET last_success_at = ?2, last_error = NULL WHERE id = ?1",
                    params![source_id, at],
                )?;
            }
            Outcome::Failed { error } => {
                transaction.execute(
                    "UPDATE sources SET last_error = ?2 WHERE id = ?1",
                    params![source_id, error],
                )?;
            }
        }
        if applied.changed() {
            transaction.execute(
                "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
                [],
            )?;
        }
        applied.generation = generation(&transaction)?;
        transaction.commit()?;
        Ok(applied)
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
                    (SELECT COUNT(*) FROM events e WHERE e.source = s.id AND e.searchable = 1)
             FROM sources s ORDER BY s.id",
        )?;
        let rows = statement.query_map([], |row| {
            let rejections: String = row.get(7)?;
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

fn decode((id, data): (String, String)) -> Result<Event, StoreError> {
    serde_json::from_str(&data).map_err(|source| StoreError::Corrupt { id, source })
}

/// Upserts `events` for one source and withdraws the source's events that are not among them.
fn replace_events(
    transaction: &rusqlite::Transaction<'_>,
    source_id: &str,
    events: &[Event],
    at: &str,
) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    transaction.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY); DELETE FROM seen;",
    )?;
    {
        let mut existing =
            transaction.prepare_cached("SELECT data, withdrawn_at FROM events WHERE id = ?1")?;
        let mut upsert = transaction.prepare_cached(
            "INSERT INTO events (id, source, start_utc, searchable, withdrawn_at, first_seen_at, last_seen_at, data)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET source = ?2, start_utc = ?3, searchable = ?4,
                 withdrawn_at = NULL, last_seen_at = ?5, data = ?6",
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
        "UPDATE events SET withdrawn_at = ?2, searchable = 0
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
