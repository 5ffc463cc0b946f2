//! Duplicate sessions: finding the same session listed by several sources, and merging each
//! group into the one event that search serves.
//!
//! It sits between the store and the index. The store keeps every source's events as their
//! feeds gave them and records the groups ("clusters") this module finds. The index contains
//! one merged event per cluster. Duplicates inside one source are not merged here: the
//! scheduler rejects all but one with [`within_source`], so they are counted and reported.
//!
//! Two events are the same session when they belong to the same workshop family, start
//! within [`START_TOLERANCE_MINUTES`] of each other, are not placed more than
//! [`MAX_LINKED_DISTANCE_KM`] apart, and either share a page or ticket link
//! (compared after [`link_key`]), or are held at the same place (precise positions within
//! [`MAX_DISTANCE_M`], or the same street and town), or are both online with the same
//! title. A cluster holds at most one event per source.
//!
//! Clustering is deterministic: events are taken in merge order (source priority, highest
//! first, then source id, then event id) and each joins the best matching cluster or founds
//! its own. A cluster's id is its founder's id, so it keeps its id while its members keep
//! theirs. The merged event takes each field from the first member in merge order that has
//! it, except coordinates, which come from the most precise member.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::Duration;

use crate::event::{Attendance, Event, Link, Rejection};
use crate::index::{Index, IndexError};
use crate::normalize::words;
use crate::search::distance_km;
use crate::store::{Store, StoreError};

/// Largest difference between the starts of two listings of one session, in minutes.
/// Sources round times differently (a scraper may drop the minutes a calendar keeps), but
/// two sessions of one family a quarter of an hour apart at one place are not plausible.
pub const START_TOLERANCE_MINUTES: i64 = 15;

/// Largest distance between two precise positions of one venue, in metres. Feeds place a
/// venue at its entrance, its building or its street, which differ by tens of metres.
pub const MAX_DISTANCE_M: f64 = 250.0;

/// Largest distance between the positions of two listings of one session, in kilometres,
/// when one of them may be a town centre: a venue can be a few kilometres from the centre
/// of a large town.
pub const MAX_LINKED_DISTANCE_KM: f64 = 20.0;

/// Rejection reason of an entry that repeats another entry of the same source.
pub const DUPLICATE_EVENT: &str = "duplicate_event";

/// Query parameters that only track where a visitor came from; links that differ only by
/// them lead to the same page.
const TRACKING_PARAMETERS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref",
    "referrer", "source", "from",
];

/// Groups of events that list one session, as found by [`cluster`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clusters {
    /// For each event of a cluster of two or more, its cluster id. Events alone are their
    /// own cluster and are not listed.
    pub assignments: BTreeMap<String, String>,
}

impl Clusters {
    /// Returns the cluster id of an event, which is its own id when it is alone.
    pub fn cluster_of<'a>(&'a self, event_id: &'a str) -> &'a str {
        self.assignments
            .get(event_id)
            .map_or(event_id, String::as_str)
    }

    /// Number of events merged with at least one other, per source.
    pub fn merged_per_source(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for event_id in self.assignments.keys() {
            let source = event_id.split('~').next().unwrap_or_default();
            *counts.entry(source.to_owned()).or_insert(0) += 1;
        }
        counts
    }
}

/// The merge order of sources: priority, highest first, then id.
pub type Priorities = HashMap<String, i32>;

/// Index changes after one source changed: documents to delete, then merged events to add.
#[derive(Debug, Default)]
pub struct IndexChanges {
    /// Delete every document that has an event of this source among its members.
    pub remove_source: Option<String>,
    /// Document ids (cluster ids) to delete.
    pub remove: BTreeSet<String>,
    /// The members of each affected cluster, as indices into the events in merge order:
    /// [`IndexChanges::merged`] turns each into the event to add. Merging one at a time
    /// while indexing keeps a cold ingest from holding a second copy of every event.
    pub add: Vec<Vec<usize>>,
}

impl IndexChanges {
    /// Builds the merged events to add, one per affected cluster, from the `events` the
    /// changes were computed on.
    pub fn merged<'a>(&'a self, events: &'a [Event]) -> impl Iterator<Item = Event> + 'a {
        self.add
            .iter()
            .filter_map(|indices| merge(&indices.iter().map(|&i| &events[i]).collect::<Vec<_>>()))
    }
}

/// Finds the clusters among `events` (the current, not withdrawn, events of every source).
pub fn cluster(events: &[Event], priorities: &Priorities) -> Clusters {
    let order = merge_order(events, priorities);

    // Candidate clusters are looked up by family and start bucket, so each event is
    // compared with the few clusters that could match rather than with every event.
    let bucket_seconds = START_TOLERANCE_MINUTES * 60;
    let bucket_of = |event: &Event| event.start_utc().timestamp().div_euclid(bucket_seconds);
    let mut buckets: HashMap<(&str, i64), Vec<usize>> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();

    for &index in &order {
        let event = &events[index];
        let bucket = bucket_of(event);
        let mut candidates: Vec<usize> = (bucket - 1..=bucket + 1)
            .filter_map(|b| buckets.get(&(event.workshop.as_str(), b)))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();

        let best = candidates
            .into_iter()
            .filter(|&group| {
                let members = &groups[group];
                members.iter().all(|&m| events[m].source != event.source)
                    && members.iter().any(|&m| same_session(&events[m], event))
            })
            .min_by_key(|&group| {
                let founder = &events[groups[group][0]];
                ((founder.start - event.start).num_seconds().abs(), group)
            });
        let group = match best {
            Some(group) => group,
            None => {
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        groups[group].push(index);
        buckets
            .entry((event.workshop.as_str(), bucket))
            .or_default()
            .push(group);
    }

    let mut assignments = BTreeMap::new();
    for members in groups.iter().filter(|members| members.len() > 1) {
        let cluster_id = &events[members[0]].id;
        for &member in members {
            assignments.insert(events[member].id.clone(), cluster_id.clone());
        }
    }
    Clusters { assignments }
}

/// Indices of `events` in merge order.
fn merge_order(events: &[Event], priorities: &Priorities) -> Vec<usize> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |event: &Event| {
            (
                Reverse(priorities.get(&event.source).copied().unwrap_or(0)),
                event.source.clone(),
                event.id.clone(),
            )
        };
        key(&events[a]).cmp(&key(&events[b]))
    });
    order
}

/// Checks whether two events of different sources list the same session.
pub fn same_session(a: &Event, b: &Event) -> bool {
    if a.workshop != b.workshop
        || (a.start - b.start).abs() > Duration::minutes(START_TOLERANCE_MINUTES)
    {
        return false;
    }
    if far_apart(a, b) {
        return false;
    }
    same_link(a, b) || same_place(a, b) || same_online_title(a, b)
}

/// Checks whether two events are too far apart to be one session, even with the same link,
/// because a family may link every session to one generic booking page.
fn far_apart(a: &Event, b: &Event) -> bool {
    match (a.location.coordinates(), b.location.coordinates()) {
        (Some(x), Some(y)) => distance_km(x, y) > MAX_LINKED_DISTANCE_KM,
        _ => false,
    }
}

/// Checks whether two events of one source list the same session. Stricter than
/// [`same_session`]: one publisher may list parallel sessions in one venue (several rooms,
/// one ticket page each), so a shared place counts only with the same title.
fn same_session_in_source(a: &Event, b: &Event) -> bool {
    if a.workshop != b.workshop
        || (a.start - b.start).abs() > Duration::minutes(START_TOLERANCE_MINUTES)
    {
        return false;
    }
    if far_apart(a, b) {
        return false;
    }
    same_link(a, b)
        || (same_place(a, b) && words(&a.title) == words(&b.title))
        || same_online_title(a, b)
}

fn same_link(a: &Event, b: &Event) -> bool {
    let keys = |event: &Event| -> HashSet<String> {
        [&event.url, &event.tickets_url]
            .into_iter()
            .flatten()
            .filter_map(|link| link_key(link))
            .collect()
    };
    !keys(a).is_disjoint(&keys(b))
}

fn same_place(a: &Event, b: &Event) -> bool {
    if a.attendance == Attendance::Online || b.attendance == Attendance::Online {
        return false;
    }
    if let (Some(x), Some(y)) = (a.location.coordinates(), b.location.coordinates())
        && is_precise(a)
        && is_precise(b)
    {
        return distance_km(x, y) * 1000.0 <= MAX_DISTANCE_M;
    }
    // A city centre from a gazetteer tells nothing about the venue: two sessions of one
    // family at the same hour in one city are common. The street and town must then agree.
    let street = |event: &Event| event.location.street.as_deref().map(words);
    let town = |event: &Event| {
        let location = &event.location;
        location
            .postal_code
            .as_deref()
            .or(location.city.as_deref())
            .map(words)
    };
    matches!((street(a), street(b)), (Some(x), Some(y)) if !x.is_empty() && x == y)
        && matches!((town(a), town(b)), (Some(x), Some(y)) if !x.is_empty() && x == y)
}

fn same_online_title(a: &Event, b: &Event) -> bool {
    a.attendance == Attendance::Online
        && b.attendance == Attendance::Online
        && words(&a.title) == words(&b.title)
}

/// Checks whether the event's position is its venue's (from the feed or an address geocoder)
/// rather than its town's centre.
fn is_precise(event: &Event) -> bool {
    precision_rank(event) == 2
}

/// 2 for a venue position, 1 for a town centre, 0 for none.
fn precision_rank(event: &Event) -> u8 {
    match event.location.geocoded.as_deref() {
        _ if event.location.coordinates().is_none() => 0,
        Some("feed" | "geocoder") => 2,
        _ => 1,
    }
}

/// Reduces a link to what identifies the page: no scheme, host in lower case without
/// `www.`, path without a trailing slash, query without tracking parameters and sorted, no
/// fragment. `None` for a link that is not an http(s) URL.
pub fn link_key(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = url.path().trim_end_matches('/');
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| {
            let name = name.to_ascii_lowercase();
            !name.starts_with("utm_") && !TRACKING_PARAMETERS.contains(&name.as_str())
        })
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    query.sort();
    let query: Vec<String> = query
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    Some(format!("{host}{path}?{}", query.join("&")))
}

/// Merges the members of one cluster, given in merge order, into the event search serves.
/// A single member is returned as it is, with its own link.
pub fn merge(members: &[&Event]) -> Option<Event> {
    let (primary, others) = members.split_first()?;
    let mut merged = (*primary).clone();

    for other in others {
        fill(&mut merged.url, &other.url);
        fill(&mut merged.tickets_url, &other.tickets_url);
        fill(&mut merged.end, &other.end);
        fill(&mut merged.capacity, &other.capacity);
        fill(&mut merged.seats_left, &other.seats_left);
        fill(&mut merged.price, &other.price);
        fill(&mut merged.updated_at, &other.updated_at);
        if merged.description.is_empty() {
            merged.description.clone_from(&other.description);
        }
        if merged.languages.is_empty() {
            merged.languages.clone_from(&other.languages);
        }
        // An online session has no place, whatever another listing says.
        if merged.attendance != Attendance::Online {
            let (location, theirs) = (&mut merged.location, &other.location);
            fill(&mut location.name, &theirs.name);
            fill(&mut location.street, &theirs.street);
            fill(&mut location.postal_code, &theirs.postal_code);
            fill(&mut location.city, &theirs.city);
            fill(&mut location.region, &theirs.region);
            fill(&mut location.country, &theirs.country);
        }
    }

    if merged.attendance != Attendance::Online
        && let Some(best) = members
            .iter()
            .filter(|member| member.attendance != Attendance::Online)
            .max_by_key(|member| precision_rank(member))
        && precision_rank(best) > precision_rank(&merged)
    {
        merged.location.latitude = best.location.latitude;
        merged.location.longitude = best.location.longitude;
        merged.location.geocoded.clone_from(&best.location.geocoded);
    }

    merged.links = members
        .iter()
        .map(|member| Link {
            source: member.source.clone(),
            id: member.id.clone(),
            url: member.url.clone(),
            tickets_url: member.tickets_url.clone(),
        })
        .collect();
    Some(merged)
}

fn fill<T: Clone>(value: &mut Option<T>, other: &Option<T>) {
    if value.is_none() {
        value.clone_from(other);
    }
}

/// Merges every cluster of `clusters`, for rebuilding the whole index.
pub fn merged_events(events: &[Event], clusters: &Clusters, priorities: &Priorities) -> Vec<Event> {
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for index in merge_order(events, priorities) {
        members
            .entry(clusters.cluster_of(&events[index].id))
            .or_default()
            .push(index);
    }
    members
        .values()
        .filter_map(|indices| merge(&indices.iter().map(|&i| &events[i]).collect::<Vec<_>>()))
        .collect()
}

/// Computes the index changes after the events of `source` changed: the documents of every
/// cluster that contained or contains one of its events, or whose members changed, are
/// replaced.
///
/// `old` are the clusters recorded before the change and `new` those of `events`, the
/// current events of every source after it.
pub fn changes_for_source(
    source: &str,
    events: &[Event],
    old: &Clusters,
    new: &Clusters,
    priorities: &Priorities,
) -> IndexChanges {
    let in_source = |id: &str| id.split_once('~').is_some_and(|(s, _)| s == source);

    // Clusters touched: those of the source's events, before and after, and both clusters
    // of every event that moved.
    let mut touched: BTreeSet<String> = old
        .assignments
        .iter()
        .filter(|(event, _)| in_source(event))
        .map(|(_, cluster)| cluster.clone())
        .collect();
    for event in events {
        let (before, after) = (old.cluster_of(&event.id), new.cluster_of(&event.id));
        if event.source == source || before != after {
            touched.insert(before.to_owned());
            touched.insert(after.to_owned());
        }
    }

    // Every current cluster with a member that was in, or is in, a touched cluster is
    // re-added whole.
    let rebuilt: BTreeSet<&str> = events
        .iter()
        .filter(|event| {
            touched.contains(old.cluster_of(&event.id))
                || touched.contains(new.cluster_of(&event.id))
        })
        .map(|event| new.cluster_of(&event.id))
        .collect();
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for index in merge_order(events, priorities) {
        let cluster = new.cluster_of(&events[index].id);
        if rebuilt.contains(cluster) {
            members.entry(cluster).or_default().push(index);
        }
    }
    // A merged event takes the id of its first member, which is its cluster's id. A
    // document whose id is one of this source's events has that event among its members,
    // so deleting the source's documents already removes it: deleting it by id as well
    // cost a cold ingest 100,000 delete operations.
    let mut remove = touched;
    remove.extend(members.keys().map(|&cluster| cluster.to_owned()));
    remove.retain(|id| !in_source(id));
    IndexChanges {
        remove_source: Some(source.to_owned()),
        remove,
        add: members.into_values().collect(),
    }
}

/// Fingerprints the priorities, so that a change of `priority` in `sources.toml` is noticed
/// at start-up: the merged events then take their fields in the new order.
pub fn fingerprint(priorities: &Priorities) -> i64 {
    let mut sorted: Vec<(&String, &i32)> = priorities.iter().collect();
    sorted.sort();
    let text: String = sorted
        .iter()
        .map(|(source, priority)| format!("{source}={priority};"))
        .collect();
    // The store keeps SQLite integers, which are signed; the bits are what matter.
    crate::normalize::fnv1a(text.as_bytes()) as i64
}

/// Error of bringing the clusters or the index up to date.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Counts of one synchronisation of the clusters and the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Synced {
    /// Events merged with at least one other, over all sources.
    pub merged_events: usize,
    /// Documents added to the index.
    pub documents: usize,
}

/// Re-clusters the store's current events after `source` changed, records the clusters and
/// updates the index documents of the affected clusters, recording `generation`.
///
/// Blocking: runs SQLite queries and an index commit.
///
/// # Errors
///
/// [`SyncError`] when the store cannot be read or the index cannot be written. The index
/// then keeps its previous generation, so the next start-up rebuilds it.
pub fn sync_source(
    store: &Store,
    index: &Index,
    priorities: &Priorities,
    source: &str,
    generation: u64,
) -> Result<Synced, SyncError> {
    let events = store.current_events()?;
    sync_events(store, index, priorities, source, &events, generation)
}

/// Like [`sync_source`], right after a fetch of `source` was stored: `stored` are the events
/// of its feed as given to [`Store::record`], and `rejected_ids` the ids it rejected.
///
/// The source's events are taken from memory rather than read back: decoding 100,000
/// events from their JSON took about 0.5 s, a tenth of a cold ingest. Only the other
/// sources' events and the last good versions of rejected entries are read.
///
/// # Errors
///
/// As [`sync_source`].
pub fn sync_stored_source(
    store: &Store,
    index: &Index,
    priorities: &Priorities,
    source: &str,
    stored: Vec<Event>,
    rejected_ids: &[String],
    generation: u64,
) -> Result<Synced, SyncError> {
    // The rejected entries whose last good version stays current.
    let fresh: HashSet<&str> = stored.iter().map(|event| event.id.as_str()).collect();
    let kept: Vec<&str> = rejected_ids
        .iter()
        .map(String::as_str)
        .filter(|id| !fresh.contains(id))
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect();

    let mut events = stored;
    events.iter_mut().for_each(as_stored);
    events.extend(store.current_events_of_other_sources(source)?);
    events.extend(store.current_events_by_id(source, &kept)?);
    // The order of `Store::current_events`, so that every later step gets the same order.
    events.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    sync_events(store, index, priorities, source, &events, generation)
}

/// Makes `event` what reading it back from the store gives. Floats are the only values
/// that can differ: serde_json's default parser may read a printed float one unit in the
/// last place away, and the index must hold what a rebuild from the store would.
fn as_stored(event: &mut Event) {
    let location = &mut event.location;
    location.latitude = location.latitude.and_then(stored_float);
    location.longitude = location.longitude.and_then(stored_float);
    if let Some(price) = &mut event.price {
        price.min = price.min.and_then(stored_float);
        price.max = price.max.and_then(stored_float);
    }
}

/// Returns a float as it reads back after a trip through JSON. A non-finite float is
/// written as null, so it reads back as `None`.
fn stored_float(value: f64) -> Option<f64> {
    let text = serde_json::to_string(&value).ok()?;
    serde_json::from_str::<Option<f64>>(&text).ok().flatten()
}

/// Clusters `events` (every current event after `source` changed), records the clusters and
/// updates the index documents of the affected clusters.
fn sync_events(
    store: &Store,
    index: &Index,
    priorities: &Priorities,
    source: &str,
    events: &[Event],
    generation: u64,
) -> Result<Synced, SyncError> {
    let old = store.clusters()?;
    let new = cluster(events, priorities);
    let changes = changes_for_source(source, events, &old, &new, priorities);

    // The index first: if it fails, the recorded clusters still describe what it contains.
    index.update(
        changes.remove_source.as_deref(),
        changes.remove.iter().map(String::as_str),
        changes.merged(events),
        generation,
    )?;
    store.replace_clusters(&new)?;
    Ok(Synced {
        merged_events: new.assignments.len(),
        documents: changes.add.len(),
    })
}

/// Re-clusters every current event, records the clusters and rebuilds the whole index,
/// recording `generation`.
///
/// Blocking: runs SQLite queries and rewrites the index.
///
/// # Errors
///
/// [`SyncError`] when the store cannot be read or the index cannot be written.
pub fn rebuild(
    store: &Store,
    index: &Index,
    priorities: &Priorities,
    generation: u64,
) -> Result<Synced, SyncError> {
    let events = store.current_events()?;
    let clusters = cluster(&events, priorities);
    let merged = merged_events(&events, &clusters, priorities);

    let documents = index.rebuild(merged, generation)?;
    store.replace_clusters(&clusters)?;
    store.set_priorities_fingerprint(fingerprint(priorities))?;
    Ok(Synced {
        merged_events: clusters.assignments.len(),
        documents,
    })
}

/// Keeps one event of each group of duplicates inside one source (the one with the
/// smallest id, so the choice is stable across runs) and rejects the others with
/// `duplicate_event`, naming the one kept. Duplicates here share the family and start, and
/// either a link, or the title and the place (or the title and both being online).
pub fn within_source(events: Vec<Event>) -> (Vec<Event>, Vec<Rejection>) {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| events[a].source_event_id.cmp(&events[b].source_event_id));

    let mut kept_by_key: HashMap<(&str, i64), Vec<usize>> = HashMap::new();
    let mut duplicate_of: HashMap<usize, usize> = HashMap::new();
    let bucket_seconds = START_TOLERANCE_MINUTES * 60;
    for &index in &order {
        let event = &events[index];
        let bucket = event.start_utc().timestamp().div_euclid(bucket_seconds);
        let original = (bucket - 1..=bucket + 1)
            .filter_map(|b| kept_by_key.get(&(event.workshop.as_str(), b)))
            .flatten()
            .copied()
            .filter(|&kept| same_session_in_source(&events[kept], event))
            .min_by(|&x, &y| events[x].source_event_id.cmp(&events[y].source_event_id));
        match original {
            Some(kept) => {
                duplicate_of.insert(index, kept);
            }
            None => kept_by_key
                .entry((event.workshop.as_str(), bucket))
                .or_default()
                .push(index),
        }
    }

    let rejections = duplicate_of
        .iter()
        .map(|(&index, &kept)| {
            let (event, original) = (&events[index], &events[kept]);
            (
                event.source_event_id.clone(),
                Rejection::new(
                    Some(&event.source_event_id),
                    DUPLICATE_EVENT,
                    format!(
                        "same session as {:?} (same family, start and place or link); that one is kept",
                        original.source_event_id
                    ),
                ),
            )
        })
        .collect::<BTreeMap<_, _>>()
        .into_values()
        .collect();
    let kept = events
        .into_iter()
        .enumerate()
        .filter(|(index, _)| !duplicate_of.contains_key(index))
        .map(|(_, event)| event)
        .collect();
    (kept, rejections)
}

#[cfg(test)]
mod tests;
