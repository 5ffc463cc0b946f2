//! The tantivy search index, derived from the store.
//!
//! It owns the index directory, the one writer and the one reader, and serves
//! [`SearchQuery`]s with whole [`Event`]s read from the index alone. The store stays the
//! source of truth: each commit records the store generation it reflects, and the caller
//! rebuilds the index when that generation is stale or the index had to be recreated.
//!
//! - `schema`: fields, analyzer and the event-to-document mapping.
//! - `query`: the tantivy query for the user's words.
//! - `columns`: fast fields decoded per segment when a reader generation is warmed.
//! - `filter`: date, keyword, language and geographic filters on those columns.
//! - `collector`: filters, facets and the sorted window, in one pass.

mod collector;
mod columns;
mod filter;
mod query;
mod schema;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::query::{AllQuery, Query};
use tantivy::schema::Value;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term, Warmer,
};

use crate::catalog::Catalog;
use crate::event::Event;
use crate::search::{Hit, SearchQuery, SearchResults};
use collector::{Order, SearchCollector};
use columns::ColumnCache;
use filter::Filter;
use schema::{FRENCH_TOKENIZER, Fields};

pub use schema::SCHEMA_VERSION;

/// Memory the writer may use before it flushes a segment, in bytes. tantivy splits it
/// between its indexing threads and requires at least 15 MB per thread.
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

/// Errors of opening, updating and searching the index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// Another writer, usually another multifresque process, has locked the directory.
    #[error(
        "index directory {path} is locked by another writer: stop the other process or use another directory"
    )]
    Locked { path: PathBuf },
    #[error("cannot prepare index directory {path}: {source}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("index operation failed: {0}")]
    Tantivy(#[from] TantivyError),
    /// The event contains a value JSON cannot represent, such as a NaN price.
    #[error("event {id} cannot be serialized for the index: {source}")]
    Serialize {
        id: String,
        #[source]
        source: serde_json::Error,
    },
    /// An index opened with [`Index::open_read_only`] cannot be updated.
    #[error("the index was opened read-only")]
    ReadOnly,
    /// [`Index::open_read_only`] found no usable index.
    #[error(
        "no usable index in {path}: {reason}; run `multifresque fetch` or `multifresque serve` first"
    )]
    Unusable { path: PathBuf, reason: String },
    /// A stored document contains no readable event. Rebuilding the index repairs it.
    #[error("stored document {id} is invalid: {reason}")]
    StoredDocument { id: String, reason: String },
}

/// Why the index had to be (re)created at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenState {
    /// The existing index was opened as it was.
    Ready,
    /// The index is new and empty: the directory had none, or it was unreadable or written
    /// with another schema version. The caller must rebuild it from the store.
    Created { reason: String },
}

/// The payload each commit records beside the documents.
#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    schema_version: u32,
    /// Store generation the documents reflect; `None` before the first rebuild.
    generation: Option<u64>,
}

/// The search index: one writer behind a mutex and one reader reloaded after each commit.
///
/// Every method blocks on disk I/O or CPU work; async callers use `spawn_blocking`.
pub struct Index {
    fields: Fields,
    catalog: Arc<Catalog>,
    /// `None` for an index opened read-only.
    writer: Option<Mutex<IndexWriter>>,
    reader: IndexReader,
    /// Decoded columns of the reader's segments; the reader holds a weak reference to warm
    /// it on every reload.
    cache: Arc<ColumnCache>,
    analyzer: TextAnalyzer,
    /// Copy of the latest commit's generation, so reading it needs no disk access.
    generation: Mutex<Option<u64>>,
    /// Commits since this handle opened. Anything derived from search results, such as the
    /// HTTP response cache, is stale once it moves.
    commits: AtomicU64,
}

impl Index {
    /// Opens the index in `dir`, creating it when missing, and recreating it empty when it
    /// is unreadable or was written with another [`SCHEMA_VERSION`]. The caller then
    /// rebuilds it from the store when the state is [`OpenState::Created`] or when
    /// [`Index::generation`] differs from the store's.
    ///
    /// `dir` should hold nothing but the index: recreation deletes the files tantivy names
    /// (`meta.json`, `.managed.json` and segment files) and leaves any other file alone.
    ///
    /// # Errors
    ///
    /// [`IndexError::Locked`] when another writer holds the directory,
    /// [`IndexError::Directory`] when it cannot be created or cleaned, and
    /// [`IndexError::Tantivy`] when a new index cannot be written.
    pub fn open(dir: &Path, catalog: Arc<Catalog>) -> Result<(Index, OpenState), IndexError> {
        let directory_error = |source| IndexError::Directory {
            path: dir.to_owned(),
            source,
        };
        fs::create_dir_all(dir).map_err(directory_error)?;

        let (index, generation, state) = match open_existing(dir) {
            Ok((index, generation)) => (index, generation, OpenState::Ready),
            Err(reason) => {
                if dir.join("meta.json").exists() {
                    tracing::warn!(dir = %dir.display(), %reason, "index unusable, recreating it");
                }
                remove_index_files(dir).map_err(directory_error)?;
                let index = create(dir)?;
                (index, None, OpenState::Created { reason })
            }
        };

        let writer = index
            .writer(WRITER_HEAP_BYTES)
            .map_err(|error| match error {
                TantivyError::LockFailure(..) => IndexError::Locked {
                    path: dir.to_owned(),
                },
                other => IndexError::Tantivy(other),
            })?;
        let index = Index::assemble(&index, catalog, Some(writer), generation)?;
        // A new index records the schema version at once, so that reopening it before the
        // first rebuild does not recreate it.
        if state != OpenState::Ready {
            let mut writer = index.lock_writer()?;
            index.commit(&mut writer, None)?;
        }
        tracing::info!(
            dir = %dir.display(),
            documents = index.num_docs(),
            generation = ?generation,
            state = ?state,
            "index opened"
        );
        Ok((index, state))
    }

    /// Opens an existing index for searching only, beside a process that writes it (such as
    /// `multifresque search` while `multifresque serve` runs). The view is the last commit.
    ///
    /// # Errors
    ///
    /// [`IndexError::Unusable`] when the directory holds no index of this schema version.
    pub fn open_read_only(dir: &Path, catalog: Arc<Catalog>) -> Result<Index, IndexError> {
        let (index, generation) = open_existing(dir).map_err(|reason| IndexError::Unusable {
            path: dir.to_owned(),
            reason,
        })?;
        Index::assemble(&index, catalog, None, generation)
    }

    fn assemble(
        index: &tantivy::Index,
        catalog: Arc<Catalog>,
        writer: Option<IndexWriter>,
        generation: Option<u64>,
    ) -> Result<Index, IndexError> {
        let cache = Arc::new(ColumnCache::default());
        let warmer: Weak<dyn Warmer> = Arc::downgrade(&cache) as Weak<dyn Warmer>;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .warmers(vec![warmer])
            .try_into()?;
        let (_, fields) = schema::build_schema();
        Ok(Index {
            fields,
            catalog,
            writer: writer.map(Mutex::new),
            reader,
            cache,
            analyzer: schema::french_analyzer(),
            generation: Mutex::new(generation),
            commits: AtomicU64::new(0),
        })
    }

    /// The store generation the last commit reflects, `None` for a new index.
    pub fn generation(&self) -> Option<u64> {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes after every commit, once the reader shows it.
    pub fn version(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Number of searchable documents as of the last commit.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Replaces every document of one source with the searchable ones among `events`,
    /// records `generation`, commits and reloads the reader. Events of another source are
    /// skipped, since a later replacement of their own source could not remove them.
    ///
    /// # Errors
    ///
    /// On any error nothing is committed and searches keep seeing the previous state.
    pub fn replace_source(
        &self,
        source_id: &str,
        events: &[Event],
        generation: u64,
    ) -> Result<(), IndexError> {
        let started = Instant::now();
        let mut writer = self.lock_writer()?;

        let result = (|| {
            writer.delete_term(Term::from_field_text(self.fields.source, source_id));
            let mut added = 0_usize;
            for event in events.iter().filter(|event| event.is_searchable()) {
                if event.source != source_id {
                    tracing::warn!(source = source_id, event = %event.id, other = %event.source, "event of another source skipped");
                    continue;
                }
                writer.add_document(self.document(event)?)?;
                added += 1;
            }
            self.commit(&mut writer, Some(generation))?;
            Ok(added)
        })();

        let added = self.roll_back_on_error(&mut writer, result)?;
        tracing::debug!(
            source = source_id,
            documents = added,
            generation,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index source replaced"
        );
        Ok(())
    }

    /// Updates part of the index in one commit: deletes every document with an event of
    /// `remove_source` among its sources, then the documents with the `remove_ids`, then
    /// adds the searchable events among `add`; records `generation` and reloads the reader.
    ///
    /// # Errors
    ///
    /// On any error nothing is committed and searches keep seeing the previous state.
    pub fn update<'a>(
        &self,
        remove_source: Option<&str>,
        remove_ids: impl IntoIterator<Item = &'a str>,
        add: impl IntoIterator<Item = Event>,
        generation: u64,
    ) -> Result<(), IndexError> {
        let started = Instant::now();
        let mut writer = self.lock_writer()?;

        let result = (|| {
            if let Some(source) = remove_source {
                writer.delete_term(Term::from_field_text(self.fields.source, source));
            }
            let mut removed = 0_usize;
            for id in remove_ids {
                writer.delete_term(Term::from_field_text(self.fields.id, id));
                removed += 1;
            }
            let mut added = 0_usize;
            for event in add.into_iter().filter(Event::is_searchable) {
                writer.add_document(self.document(&event)?)?;
                added += 1;
            }
            self.commit(&mut writer, Some(generation))?;
            Ok((removed, added))
        })();

        let (removed, added) = self.roll_back_on_error(&mut writer, result)?;
        tracing::debug!(
            removed,
            documents = added,
            generation,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index updated"
        );
        Ok(())
    }

    /// The indexed event with this id (a merged event's id is its cluster id), as of the
    /// last commit; `None` when it is not searchable.
    ///
    /// # Errors
    ///
    /// [`IndexError::Tantivy`] when the index cannot be read, and
    /// [`IndexError::StoredDocument`] when the document holds no valid event.
    pub fn event(&self, id: &str) -> Result<Option<Event>, IndexError> {
        let searcher = self.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let found = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
        let Some(address) = found.into_iter().min() else {
            return Ok(None);
        };
        let document: TantivyDocument = searcher.doc(address)?;
        self.stored_event(&document, id).map(Some)
    }

    /// Deletes every document, indexes the searchable ones among `events`, records
    /// `generation` and commits. Searches see the old documents until the commit.
    ///
    /// # Returns
    ///
    /// The number of documents indexed.
    ///
    /// # Errors
    ///
    /// On any error nothing is committed and searches keep seeing the previous state.
    pub fn rebuild(
        &self,
        events: impl IntoIterator<Item = Event>,
        generation: u64,
    ) -> Result<usize, IndexError> {
        let started = Instant::now();
        let mut writer = self.lock_writer()?;

        let result = (|| {
            writer.delete_all_documents()?;
            let mut added = 0_usize;
            for event in events.into_iter().filter(Event::is_searchable) {
                writer.add_document(self.document(&event)?)?;
                added += 1;
            }
            self.commit(&mut writer, Some(generation))?;
            Ok(added)
        })();

        let added = self.roll_back_on_error(&mut writer, result)?;
        tracing::debug!(
            documents = added,
            generation,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "index rebuilt"
        );
        Ok(added)
    }

    /// Runs one search on the latest committed state.
    ///
    /// # Errors
    ///
    /// [`IndexError::Tantivy`] when the index files cannot be read, and
    /// [`IndexError::StoredDocument`] when a page document holds no valid event. User text
    /// never causes an error.
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults, IndexError> {
        let searcher = self.reader.searcher();

        let mut analyzer = self.analyzer.clone();
        let text = query::text_query(
            query.text.as_deref().unwrap_or(""),
            &self.fields,
            &mut analyzer,
        );
        let collector = SearchCollector {
            order: Order::resolve(query.sort, query.geo.is_some(), text.is_some()),
            filter: Filter::new(query),
            cache: Arc::clone(&self.cache),
            window: query.offset.saturating_add(query.limit),
        };
        let text: Box<dyn Query> = text.unwrap_or_else(|| Box::new(AllQuery));
        let collected = searcher.search(text.as_ref(), &collector)?;

        let mut events = Vec::with_capacity(collected.ranked.len().saturating_sub(query.offset));
        for ranked in collected.ranked.into_iter().skip(query.offset) {
            let document: TantivyDocument = searcher.doc(ranked.address)?;
            events.push(Hit {
                event: self.stored_event(&document, &ranked.id)?,
                distance_km: ranked.distance_km.map(|km| (km * 10.0).round() / 10.0),
            });
        }

        Ok(SearchResults {
            total: collected.total,
            events,
            facets: collected.facets,
        })
    }

    fn document(&self, event: &Event) -> Result<TantivyDocument, IndexError> {
        schema::to_document(&self.fields, &self.catalog, event).map_err(|source| {
            IndexError::Serialize {
                id: event.id.clone(),
                source,
            }
        })
    }

    fn stored_event(&self, document: &TantivyDocument, id: &str) -> Result<Event, IndexError> {
        let invalid = |reason: String| IndexError::StoredDocument {
            id: id.to_owned(),
            reason,
        };
        let bytes = document
            .get_first(self.fields.event)
            .and_then(|value| value.as_bytes())
            .ok_or_else(|| invalid("no event JSON".to_owned()))?;
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))
    }

    /// Commits the pending operations with the schema version and `generation` as
    /// payload, then makes them visible to searches.
    fn commit(&self, writer: &mut IndexWriter, generation: Option<u64>) -> Result<(), IndexError> {
        let payload = CommitPayload {
            schema_version: SCHEMA_VERSION,
            generation,
        };
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload_json(&payload));
        prepared.commit()?;

        self.reader.reload()?;
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = generation;
        self.commits.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Discards the uncommitted operations of a failed update, so the next commit does not
    /// publish half of it.
    fn roll_back_on_error<T>(
        &self,
        writer: &mut IndexWriter,
        result: Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        if result.is_err()
            && let Err(error) = writer.rollback()
        {
            tracing::error!(%error, "index rollback failed");
        }
        result
    }

    /// Locks the writer. A panic during an earlier update poisons the lock; its pending
    /// operations are then discarded before the writer is used again.
    fn lock_writer(&self) -> Result<MutexGuard<'_, IndexWriter>, IndexError> {
        let lock = self.writer.as_ref().ok_or(IndexError::ReadOnly)?;
        match lock.lock() {
            Ok(writer) => Ok(writer),
            Err(poisoned) => {
                let mut writer = poisoned.into_inner();
                writer.rollback()?;
                lock.clear_poison();
                Ok(writer)
            }
        }
    }
}

fn payload_json(payload: &CommitPayload) -> String {
    // Serializing two integers cannot fail; the fallback keeps this function total.
    serde_json::to_string(payload).unwrap_or_default()
}

/// Opens the index in `dir` and returns it with its generation, or the reason it cannot be
/// used as it is.
fn open_existing(dir: &Path) -> Result<(tantivy::Index, Option<u64>), String> {
    if !dir.join("meta.json").exists() {
        return Err("no index in the directory".to_owned());
    }

    let index =
        tantivy::Index::open_in_dir(dir).map_err(|error| format!("unreadable index: {error}"))?;
    let (expected_schema, _) = schema::build_schema();
    if index.schema() != expected_schema {
        return Err("the index was written with another schema".to_owned());
    }

    let metas = index
        .load_metas()
        .map_err(|error| format!("unreadable index metadata: {error}"))?;
    let payload: CommitPayload = metas
        .payload
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| "the index records no schema version".to_owned())?;
    if payload.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "the index has schema version {}, this build uses {SCHEMA_VERSION}",
            payload.schema_version
        ));
    }

    register_analyzer(&index);
    // Opening a reader opens every segment, which detects missing or truncated files.
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|error| format!("unreadable segments: {error}"))?;
    Ok((index, payload.generation))
}

/// Creates an empty index in `dir` and commits the schema version.
fn create(dir: &Path) -> Result<tantivy::Index, IndexError> {
    let (schema, _) = schema::build_schema();
    let index = tantivy::Index::create_in_dir(dir, schema)?;
    register_analyzer(&index);
    Ok(index)
}

fn register_analyzer(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(FRENCH_TOKENIZER, schema::french_analyzer());
}

/// Deletes the files of a tantivy index in `dir`: `meta.json`, `.managed.json` and segment
/// files, which are named by a 32-digit hexadecimal segment id and a component extension.
/// Lock files and unrelated files stay.
///
/// NOTE: this runs before the writer lock is taken, so a second process opening a corrupt
/// index that another process is writing would delete files under it.
fn remove_index_files(dir: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stem = name.split('.').next().unwrap_or("");
        let is_segment_file = stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit());
        if (name == "meta.json" || name == ".managed.json" || is_segment_file)
            && entry.file_type()?.is_file()
        {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
