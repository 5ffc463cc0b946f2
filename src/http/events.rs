//! One event by id, as participants see it: the merged event when several sources list
//! the session.

use serde::Serialize;

use crate::index::Index;
use crate::store::{Store, StoredEvent};

/// The answer of `GET /api/v1/events/{id}`.
#[derive(Debug, Serialize)]
pub struct ServedEvent {
    #[serde(flatten)]
    pub stored: StoredEvent,
    /// For an event merged into another source's listing of the same session, the id of
    /// the merged event that search returns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

/// The event with this id: the merged event when `id` is a cluster's id and the session
/// is searchable, else the source's own event (withdrawn and cancelled ones included),
/// naming the cluster it was merged into.
///
/// # Errors
///
/// Returns the store's or the index's error as text, for a 500.
pub fn served_event(store: &Store, index: &Index, id: &str) -> Result<Option<ServedEvent>, String> {
    let Some(mut stored) = store.event(id).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let cluster = match stored.withdrawn_at {
        Some(_) => None,
        None => store.cluster_of(id).map_err(|e| e.to_string())?,
    };
    let merged_into = cluster.filter(|cluster| cluster != id);
    if merged_into.is_none()
        && stored.withdrawn_at.is_none()
        && let Some(merged) = index.event(id).map_err(|e| e.to_string())?
    {
        stored.event = merged;
    }
    Ok(Some(ServedEvent {
        stored,
        merged_into,
    }))
}
