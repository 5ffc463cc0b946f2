//! The store's record of the clusters of events that list one session, found by `dedup`.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, decode};
use crate::dedup::Clusters;
use crate::event::Event;

impl Store {
    /// Every event that is not withdrawn, cancelled ones included, ordered by id. Merging
    /// needs the cancelled ones: a session that its own feed cancelled must not stay
    /// listed through another source's copy.
    pub fn current_events(&self) -> Result<Vec<Event>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT id, data FROM events WHERE withdrawn_at IS NULL ORDER BY id")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.map(|row| decode(row?)).collect()
    }

    /// Reads the events of [`Store::current_events`] that belong to sources other than
    /// `source`, ordered by id.
    pub fn current_events_of_other_sources(&self, source: &str) -> Result<Vec<Event>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT id, data FROM events WHERE withdrawn_at IS NULL AND source <> ?1 ORDER BY id",
        )?;
        let rows = statement.query_map([source], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.map(|row| decode(row?)).collect()
    }

    /// Reads the current events of `source` among `ids`, in the order of `ids`.
    pub fn current_events_by_id(
        &self,
        source: &str,
        ids: &[&str],
    ) -> Result<Vec<Event>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT id, data FROM events WHERE id = ?1 AND source = ?2 AND withdrawn_at IS NULL",
        )?;
        let mut events = Vec::new();
        for id in ids {
            let row: Option<(String, String)> = statement
                .query_row(params![id, source], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some(row) = row {
                events.push(decode(row)?);
            }
        }
        Ok(events)
    }

    /// The clusters recorded by the last [`Store::replace_clusters`].
    pub fn clusters(&self) -> Result<Clusters, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare("SELECT event_id, cluster_id FROM clusters")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(Clusters {
            assignments: rows.collect::<Result<_, _>>()?,
        })
    }

    /// Replaces the recorded clusters, in one transaction.
    pub fn replace_clusters(&self, clusters: &Clusters) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        transaction.execute("DELETE FROM clusters", [])?;
        {
            let mut insert = transaction
                .prepare_cached("INSERT INTO clusters (event_id, cluster_id) VALUES (?1, ?2)")?;
            for (event_id, cluster_id) in &clusters.assignments {
                insert.execute(params![event_id, cluster_id])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// The cluster `event_id` belongs to, or `None` when it is in no cluster of two or more.
    pub fn cluster_of(&self, event_id: &str) -> Result<Option<String>, StoreError> {
        let connection = self.lock();
        Ok(connection
            .query_row(
                "SELECT cluster_id FROM clusters WHERE event_id = ?1",
                [event_id],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// The fingerprint of the merge priorities the recorded clusters were computed with, or
    /// `None` before the first [`Store::set_priorities_fingerprint`].
    pub fn priorities_fingerprint(&self) -> Result<Option<i64>, StoreError> {
        let connection = self.lock();
        Ok(connection
            .query_row(
                "SELECT value FROM meta WHERE key = 'priorities_fingerprint'",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Records the fingerprint of the merge priorities the clusters were computed with.
    pub fn set_priorities_fingerprint(&self, fingerprint: i64) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            "INSERT INTO meta (key, value) VALUES ('priorities_fingerprint', ?1)
             ON CONFLICT (key) DO UPDATE SET value = ?1",
            [fingerprint],
        )?;
        Ok(())
    }
}
