//! The scheduler: runs each enabled source on its cron schedule, and the pipeline one run
//! walks through: fetch every page, parse, normalize, store atomically, re-index the source.
//!
//! A run that fails anywhere before the store leaves the source's last good events in place
//! and records the error in the source's status.
//!
//! [`live::Live`] runs the sources on their schedules and swaps in a new configuration when
//! the sources file changes.

pub mod live;

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{Mutex, Semaphore, watch};

use crate::adapter::{self, Context, Kind};
use crate::catalog::Catalog;
use crate::config::{Config, Source};
use crate::dedup::{self, Priorities};
use crate::event::{Draft, Event, Rejection};
use crate::fetch::{self, Fetcher, Response};
use crate::geocode::Geocoder;
use crate::index::Index;
use crate::metrics::Metrics;
use crate::normalize::{Normalizer, event_id};
use crate::places::Gazetteer;
use crate::store::{Applied, FetchRecord, Outcome, Store, Validators};

/// Most pages followed through `next` links in one run, so a feed whose pages link in a
/// circle or without end cannot hold a run forever.
pub const MAX_PAGES: usize = 200;

/// Most bytes of all pages of one feed together, so that a feed of many large pages cannot
/// exhaust memory: twice the largest accepted page.
pub const MAX_FEED_BYTES: usize = 64 * 1024 * 1024;

/// Sources fetched at the same time.
const CONCURRENT_FETCHES: usize = 4;

/// How one run of one source ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RunOutcome {
    /// The feed parsed and the store took it (possibly with no change).
    Stored {
        applied: Applied,
        kept: usize,
        rejected: usize,
    },
    /// The feed is the same as last time: nothing was parsed or re-indexed.
    Unchanged,
    /// Nothing changed in the store; the source keeps its last good events.
    Failed { error: String },
}

/// The report of one run of one source.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRun {
    pub source: String,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

/// Everything a run needs: the store, the index and the lookup tables.
pub struct Aggregator {
    pub store: Arc<Store>,
    pub index: Arc<Index>,
    pub catalog: Arc<Catalog>,
    pub gazetteer: Arc<Gazetteer>,
    pub metrics: Arc<Metrics>,
    fetcher: Fetcher,
    /// Days ahead over which recurring events are expanded; a reload may change it.
    horizon_days: AtomicU32,
    /// Serializes store-and-index updates, so the index commits generations in order.
    apply_lock: Mutex<()>,
    fetch_slots: Semaphore,
    /// Merge priority of each configured source, for merging duplicates across sources.
    priorities: std::sync::RwLock<Arc<Priorities>>,
    /// The optional HTTP geocoder, asked after normalization.
    geocoder: Option<Arc<Geocoder>>,
}

/// A whole feed read from every page: drafts, rejections and validators.
struct Read {
    drafts: Vec<Draft>,
    rejections: Vec<Rejection>,
    validators: Validators,
    http_status: Option<u16>,
}

impl Aggregator {
    pub fn new(
        store: Arc<Store>,
        index: Arc<Index>,
        catalog: Arc<Catalog>,
        gazetteer: Arc<Gazetteer>,
        fetcher: Fetcher,
        horizon_days: u32,
    ) -> Aggregator {
        Aggregator {
            store,
            index,
            catalog,
            gazetteer,
            metrics: Arc::new(Metrics::new()),
            fetcher,
            horizon_days: AtomicU32::new(horizon_days),
            apply_lock: Mutex::new(()),
            fetch_slots: Semaphore::new(CONCURRENT_FETCHES),
            priorities: std::sync::RwLock::default(),
            geocoder: None,
        }
    }

    /// Allows the hosts of `config`'s sources on restricted addresses (see
    /// [`crate::fetch::guard`]); call it again whenever the sources change.
    pub fn name_hosts(&self, config: &Config) {
        self.fetcher.name_hosts(config);
    }

    /// Places events at their address with `geocoder` after normalization.
    pub fn with_geocoder(mut self, geocoder: Option<Arc<Geocoder>>) -> Aggregator {
        self.geocoder = geocoder;
        self
    }

    /// Takes the merge priorities of `config`'s sources (enabled or not, since a disabled
    /// source keeps its stored events). Events of a source missing from it rank last.
    pub fn set_priorities(&self, config: &Config) {
        let priorities: Priorities = config
            .sources
            .iter()
            .map(|source| (source.id.clone(), source.priority))
            .collect();
        *self
            .priorities
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(priorities);
    }

    fn priorities(&self) -> Arc<Priorities> {
        self.priorities
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Rebuilds the index from the store when it is missing or behind, or when the merge
    /// priorities changed since the clusters were recorded.
    ///
    /// # Errors
    ///
    /// Returns an error when the store cannot be read or the index cannot be written.
    pub async fn sync_index(&self, index_was_created: bool) -> anyhow::Result<()> {
        // A reload may call this while sources run: their updates wait for the rebuild.
        let _apply = self.apply_lock.lock().await;
        let store = self.store.clone();
        let index = self.index.clone();
        let priorities = self.priorities();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let generation = store.generation()?;
            let same_priorities =
                store.priorities_fingerprint()? == Some(dedup::fingerprint(&priorities));
            if !index_was_created && index.generation() == Some(generation) && same_priorities {
                return Ok(());
            }
            let started = Instant::now();
            let synced = dedup::rebuild(&store, &index, &priorities, generation)?;
            tracing::info!(
                events = synced.documents,
                merged = synced.merged_events,
                generation,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "rebuilt index from store"
            );
            Ok(())
        })
        .await?
    }

    /// Runs one source once: fetch, parse, normalize, store, index.
    pub async fn run_source(&self, source: &Source) -> SourceRun {
        // The sender lives as long as the run, so this run is never stopped.
        let (_never, stop) = watch::channel(false);
        self.run_source_until(source, stop).await
    }

    /// Like [`Aggregator::run_source`], but gives up the download when `stop` turns true.
    /// A download changes nothing, so it is safe to abandon; a store write, once begun,
    /// finishes.
    pub async fn run_source_until(
        &self,
        source: &Source,
        mut stop: watch::Receiver<bool>,
    ) -> SourceRun {
        let _slot = self.fetch_slots.acquire().await;
        let started = Instant::now();
        let at = Utc::now();

        let read = tokio::select! {
            read = self.read(source) => read,
            () = stopped(&mut stop) => Err(ReadError::new(
                "stopped before the feed was read: the server is shutting down",
            )),
        };
        let (outcome, http_status) = match read {
            Ok(None) => (RunOutcome::Unchanged, None),
            Ok(Some(read)) => {
                let status = read.http_status;
                match self.store_read(source, read, at, started).await {
                    Ok(outcome) => (outcome, status),
                    Err(error) => (
                        RunOutcome::Failed {
                            error: format!("{error:#}"),
                        },
                        status,
                    ),
                }
            }
            Err(error) => (
                RunOutcome::Failed {
                    error: error.message,
                },
                error.http_status,
            ),
        };

        let duration_ms = started.elapsed().as_millis() as u64;
        let result = match &outcome {
            RunOutcome::Stored { .. } => "stored",
            RunOutcome::Unchanged => "unchanged",
            RunOutcome::Failed { .. } => "failed",
        };
        self.metrics
            .record_fetch(&source.id, result, started.elapsed().as_secs_f64());
        if !matches!(outcome, RunOutcome::Stored { .. }) {
            let record = FetchRecord {
                at,
                duration_ms,
                http_status,
                outcome: match &outcome {
                    RunOutcome::Failed { error } => Outcome::Failed {
                        error: error.clone(),
                    },
                    _ => Outcome::Unchanged,
                },
            };
            let store = self.store.clone();
            let id = source.id.clone();
            let recorded = tokio::task::spawn_blocking(move || store.record(&id, &record)).await;
            match recorded {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::error!(source = %source.id, %error, "cannot record fetch status")
                }
                Err(error) => {
                    tracing::error!(source = %source.id, %error, "cannot record fetch status")
                }
            }
        }
        match &outcome {
            RunOutcome::Failed { error } => {
                tracing::warn!(source = %source.id, %error, duration_ms, "fetch failed; stored events unchanged")
            }
            RunOutcome::Unchanged => {
                tracing::info!(source = %source.id, duration_ms, "feed unchanged")
            }
            RunOutcome::Stored {
                applied,
                kept,
                rejected,
            } => tracing::info!(
                source = %source.id, kept, rejected, added = applied.added, updated = applied.updated,
                withdrawn = applied.withdrawn, duration_ms, "feed stored"
            ),
        }
        SourceRun {
            source: source.id.clone(),
            duration_ms,
            outcome,
        }
    }

    /// Fetches every page and parses them; `None` when the feed has not changed.
    async fn read(&self, source: &Source) -> Result<Option<Read>, ReadError> {
        let store = self.store.clone();
        let id = source.id.clone();
        let previous = tokio::task::spawn_blocking(move || store.validators(&id))
            .await
            .map_err(|e| ReadError::new(e.to_string()))?
            .map_err(|e| ReadError::new(e.to_string()))?;
        let context = Context {
            default_time_zone: source.time_zone,
            now: Utc::now(),
            horizon_days: self.horizon_days.load(Ordering::Relaxed),
        };

        let Some(download) = self.download(source, &previous, &context).await? else {
            return Ok(None);
        };
        if previous.content_hash == download.validators.content_hash {
            return Ok(None);
        }

        let kind = source.kind;
        let pages = download.pages;
        let (drafts, rejections) = tokio::task::spawn_blocking(move || {
            let mut drafts = Vec::new();
            let mut rejections = Vec::new();
            for page in pages {
                let parsed = adapter::parse(kind, &page.bytes, &context).map_err(|error| {
                    let served_as = page
                        .content_type
                        .filter(|t| !expected_media_type(kind, t))
                        .map(|t| format!(" (served as {t})"))
                        .unwrap_or_default();
                    ReadError::new(format!("{}: {error}{served_as}", page.location))
                })?;
                drafts.extend(parsed.drafts);
                rejections.extend(parsed.rejections);
            }
            Ok::<_, ReadError>((drafts, rejections))
        })
        .await
        .map_err(|e| ReadError::new(e.to_string()))??;

        Ok(Some(Read {
            drafts,
            rejections,
            validators: download.validators,
            http_status: download.http_status,
        }))
    }

    /// Fetches the first page and every page its `next` links lead to, hashing the bytes;
    /// `None` when the server answers that a single-page feed has not changed.
    async fn download(
        &self,
        source: &Source,
        previous: &Validators,
        context: &Context,
    ) -> Result<Option<Download>, ReadError> {
        let mut download = Download {
            pages: Vec::new(),
            validators: Validators::default(),
            http_status: None,
        };
        let mut hasher = std::hash::DefaultHasher::new();
        parse_settings(source, context).hash(&mut hasher);
        let mut location = source.location.clone();
        let mut visited = HashSet::new();
        let mut total_bytes = 0;
        loop {
            if download.pages.len() == MAX_PAGES {
                return Err(ReadError::new(format!(
                    "the feed has more than {MAX_PAGES} pages"
                )));
            }
            visited.insert(location.to_string());
            let conditional = download.pages.is_empty().then_some(previous);
            let response = self
                .fetcher
                .fetch(&location, &source.headers, conditional)
                .await
                .map_err(|error| ReadError {
                    http_status: error.http_status(),
                    message: format!("{location}: {error}"),
                })?;
            let Response::Body {
                bytes,
                http_status,
                etag,
                last_modified,
                content_type,
            } = response
            else {
                return Ok(None);
            };
            if download.pages.is_empty() {
                download.http_status = http_status;
                download.validators.etag = etag;
                download.validators.last_modified = last_modified;
            }
            total_bytes += bytes.len();
            if total_bytes > MAX_FEED_BYTES {
                return Err(ReadError::new(format!(
                    "the feed's pages add up to more than {MAX_FEED_BYTES} bytes"
                )));
            }
            bytes.hash(&mut hasher);

            let next = match source.kind {
                Kind::Openfresque => adapter::openfresque::next_link(&bytes),
                _ => None,
            };
            download.pages.push(Page {
                location: location.clone(),
                bytes,
                content_type,
            });
            let Some(next) = next else {
                break;
            };
            location =
                fetch::resolve_next(&source.location, &location, &next).map_err(ReadError::new)?;
            if visited.contains(&location.to_string()) {
                return Err(ReadError::new(format!(
                    "`next` of {location} loops back to a page already read"
                )));
            }
        }
        if download.pages.len() > 1 {
            // A 304 for the first page says nothing of the others, so a paged feed is always
            // downloaded whole; its content hash still spares parsing and re-indexing.
            download.validators.etag = None;
            download.validators.last_modified = None;
        }
        download.validators.content_hash = Some(format!("{:016x}", hasher.finish()));
        Ok(Some(download))
    }

    /// Normalizes a read feed, stores it and re-indexes the source when anything changed.
    async fn store_read(
        &self,
        source: &Source,
        read: Read,
        at: chrono::DateTime<Utc>,
        started: Instant,
    ) -> anyhow::Result<RunOutcome> {
        let (mut events, rejections) = {
            let source = source.clone();
            let catalog = self.catalog.clone();
            let gazetteer = self.gazetteer.clone();
            tokio::task::spawn_blocking(move || {
                let (events, mut rejections) =
                    normalize_all(&source, &catalog, &gazetteer, read.drafts, read.rejections);
                let (events, duplicates) = dedup::within_source(events);
                rejections.extend(duplicates);
                (events, rejections)
            })
            .await?
        };
        let kept = events.len();
        let rejected = rejections.len();
        // A duplicate of another entry is not kept in its last good version: the session
        // stays listed through the entry that was kept.
        let rejected_ids: Vec<String> = rejections
            .iter()
            .filter(|rejection| rejection.reason != dedup::DUPLICATE_EVENT)
            .filter_map(|rejection| rejection.event_id.as_deref())
            .map(|id| event_id(&source.id, id))
            .collect();
        let mut validators = read.validators;
        if let Some(geocoder) = &self.geocoder {
            let placed = geocoder.place(&source.id, &mut events).await;
            if placed.pending > 0 {
                // Forgetting the validators makes the next run read the feed again even if
                // it has not changed, so the addresses left out now are asked then.
                validators = Validators::default();
            }
            tracing::info!(
                source = %source.id, candidates = placed.candidates, cached = placed.cached,
                requested = placed.requested, at_address = placed.at_address,
                at_city = placed.at_city, pending = placed.pending, "geocoded addresses"
            );
        }

        let _apply = self.apply_lock.lock().await;
        let store = self.store.clone();
        let index = self.index.clone();
        let id = source.id.clone();
        let http_status = read.http_status;
        let priorities = self.priorities();
        let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Applied>> {
            let searchable_before = store.searchable_events(&id)?.len();
            if events.is_empty() && searchable_before > 0 {
                // An empty feed is far more often a broken export than a family cancelling
                // every session at once, so it must not wipe the source.
                anyhow::bail!(
                    "the feed has no valid event ({rejected} rejected); keeping the {searchable_before} events of the last good fetch"
                );
            }
            let record = FetchRecord {
                at,
                duration_ms: started.elapsed().as_millis() as u64,
                http_status,
                outcome: Outcome::Fetched { events, rejections, rejected_ids, validators },
            };
            let applied = store.record(&id, &record)?;
            if applied.changed()
                && let Outcome::Fetched {
                    events,
                    rejected_ids,
                    ..
                } = record.outcome
            {
                dedup::sync_stored_source(
                    &store,
                    &index,
                    &priorities,
                    &id,
                    events,
                    &rejected_ids,
                    applied.generation,
                )?;
            }
            Ok(Some(applied))
        })
        .await??;

        Ok(match applied {
            Some(applied) => RunOutcome::Stored {
                applied,
                kept,
                rejected,
            },
            None => RunOutcome::Unchanged,
        })
    }

    /// Runs every enabled source once, concurrently, reporting each run as it ends.
    pub async fn run_all(
        self: &Arc<Self>,
        config: &Config,
        mut on_done: impl FnMut(&SourceRun),
    ) -> Vec<SourceRun> {
        self.set_priorities(config);
        let mut tasks = tokio::task::JoinSet::new();
        for source in config.enabled_sources() {
            let aggregator = self.clone();
            let source = source.clone();
            tasks.spawn(async move { aggregator.run_source(&source).await });
        }
        let mut runs = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(run) => {
                    on_done(&run);
                    runs.push(run);
                }
                Err(error) => tracing::error!(%error, "source run panicked"),
            }
        }
        runs.sort_by(|a, b| a.source.cmp(&b.source));
        runs
    }

    /// Withdraws the events of a source that left the configuration, in the store and the
    /// index.
    ///
    /// # Errors
    ///
    /// Returns an error when the store or the index cannot be updated.
    pub async fn retire(&self, source_id: &str) -> anyhow::Result<usize> {
        let _apply = self.apply_lock.lock().await;
        let store = self.store.clone();
        let index = self.index.clone();
        let id = source_id.to_owned();
        let priorities = self.priorities();
        tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let applied = store.retire_source(&id, Utc::now())?;
            if applied.changed() {
                dedup::sync_source(&store, &index, &priorities, &id, applied.generation)?;
            }
            Ok(applied.withdrawn)
        })
        .await?
    }

    /// Sets how far ahead recurring events are expanded, for the next runs.
    pub fn set_horizon_days(&self, days: u32) {
        self.horizon_days.store(days, Ordering::Relaxed);
    }
}

/// Resolves when `stop` turns true; never when its sender is gone without asking.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Everything besides the bytes that shapes the parsed events, hashed with the content
/// so that an upgrade or a configuration change re-reads an unchanged feed. Calendars also
/// depend on the day, because their recurrences are expanded from today.
fn parse_settings(source: &Source, context: &Context) -> String {
    let day = match source.kind {
        Kind::Ics | Kind::Jsonld => context.now.date_naive().to_string(),
        _ => String::new(),
    };
    format!(
        "{}|{:?}|{:?}|{}|{:?}|{:?}|{}|{day}",
        env!("CARGO_PKG_VERSION"),
        source.kind,
        source.workshop,
        source.time_zone,
        source.country,
        source.language,
        context.horizon_days,
    )
}

/// Whether a `Content-Type` is the one a feed of this kind should carry; a failing feed
/// served as anything else (often an HTML error page) says so in its status.
fn expected_media_type(kind: Kind, content_type: &str) -> bool {
    let content_type = content_type.to_ascii_lowercase();
    match kind {
        Kind::Ics => content_type.contains("calendar"),
        Kind::Openfresque | Kind::Tuf => content_type.contains("json"),
        // JSON-LD comes alone or in the script blocks of an HTML page.
        Kind::Jsonld => content_type.contains("json") || content_type.contains("html"),
    }
}

/// One fetched page, before parsing.
struct Page {
    location: crate::config::Location,
    bytes: Vec<u8>,
    content_type: Option<String>,
}

/// The raw pages of one feed, before parsing.
struct Download {
    pages: Vec<Page>,
    validators: Validators,
    http_status: Option<u16>,
}

/// Why reading a feed failed, with the HTTP status when the server answered.
struct ReadError {
    message: String,
    http_status: Option<u16>,
}

impl ReadError {
    fn new(message: impl Into<String>) -> Self {
        ReadError {
            message: message.into(),
            http_status: None,
        }
    }
}

/// Normalizes every draft, keeping the first of several entries with the same id.
fn normalize_all(
    source: &Source,
    catalog: &Catalog,
    gazetteer: &Gazetteer,
    drafts: Vec<Draft>,
    mut rejections: Vec<Rejection>,
) -> (Vec<Event>, Vec<Rejection>) {
    let normalizer = Normalizer {
        source,
        catalog,
        gazetteer,
    };
    let mut seen = HashSet::new();
    let mut events = Vec::with_capacity(drafts.len());
    for draft in drafts {
        match normalizer.normalize(draft) {
            Ok(event) if seen.insert(event.id.clone()) => events.push(event),
            Ok(event) => rejections.push(Rejection::new(
                Some(&event.source_event_id),
                "duplicate_id",
                format!(
                    "id {:?} appears more than once in the feed; the first entry is kept",
                    event.source_event_id
                ),
            )),
            Err(rejection) => rejections.push(rejection),
        }
    }
    (events, rejections)
}
