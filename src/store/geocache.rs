//! The geocoder's responses, stored so that each address is requested once.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One cached response of an HTTP geocoder to one query.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedGeocode {
    /// WGS 84 degrees; `None` when the geocoder found nothing.
    pub position: Option<(f64, f64)>,
    /// `address` or `city`, as classified by `geocode`; `None` when nothing was found.
    pub precision: Option<String>,
    pub fetched_at: DateTime<Utc>,
}

impl Store {
    /// Looks up the cached response of `provider` (the geocoder's kind and URL) to `query`.
    pub fn cached_geocode(
        &self,
        provider: &str,
        query: &str,
    ) -> Result<Option<CachedGeocode>, StoreError> {
        let connection = self.lock();
        type Row = (Option<f64>, Option<f64>, Option<String>, String);
        let row: Option<Row> = connection
            .query_row(
                "SELECT latitude, longitude, precision, fetched_at FROM geocode_cache
                 WHERE provider = ?1 AND query = ?2",
                params![provider, query],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        Ok(row.map(
            |(latitude, longitude, precision, fetched_at)| CachedGeocode {
                position: latitude.zip(longitude),
                precision,
                // An unreadable date makes the entry look old, so it is asked again.
                fetched_at: DateTime::parse_from_rfc3339(&fetched_at)
                    .map(|at| at.to_utc())
                    .unwrap_or_default(),
            },
        ))
    }

    /// Stores the answer of `provider` for `query`, replacing an older one.
    pub fn cache_geocode(
        &self,
        provider: &str,
        query: &str,
        answer: &CachedGeocode,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            "INSERT INTO geocode_cache (provider, query, latitude, longitude, precision, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (provider, query) DO UPDATE SET latitude = ?3, longitude = ?4,
                 precision = ?5, fetched_at = ?6",
            params![
                provider,
                query,
                answer.position.map(|p| p.0),
                answer.position.map(|p| p.1),
                answer.precision,
                answer.fetched_at.to_rfc3339(),
            ],
        )?;
        Ok(())
    }
}
