//! Per-segment copies of the fast fields that search reads for every matching document,
//! decoded once into plain vectors when a reader generation is warmed.
//!
//! tantivy's fast-field columns are compact but cost a dynamic call and a decode per value.
//! A search may touch every document (an upcoming search at 100,000 events does), so the
//! collector reads these vectors instead, at an estimated 80 bytes per document, ids
//! included.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SearcherGeneration, SegmentReader, TantivyError, Warmer};

/// Ordinal of a document that has no value in a keyword column.
pub const NO_VALUE: u32 = u32::MAX;

/// A single-valued string fast field: one ordinal per document and the sorted terms.
pub struct Keyword {
    /// Ordinal per document into `terms`, [`NO_VALUE`] when the document has none.
    pub ords: Vec<u32>,
    /// The segment's distinct values, sorted, so an ordinal's order is its term's order.
    pub terms: Vec<String>,
}

impl Keyword {
    fn load(segment: &SegmentReader, field: &str) -> tantivy::Result<Keyword> {
        let max_doc = segment.max_doc();
        let Some(column) = segment.fast_fields().str(field)? else {
            return Ok(Keyword {
                ords: vec![NO_VALUE; max_doc as usize],
                terms: Vec::new(),
            });
        };

        let ords = (0..max_doc)
            .map(|doc| column.ords().first(doc).map_or(NO_VALUE, ordinal))
            .collect();
        Ok(Keyword {
            ords,
            terms: terms(&column)?,
        })
    }

    /// Finds the ordinal of `value` in this segment.
    pub fn ordinal_of(&self, value: &str) -> Option<u32> {
        let position = self
            .terms
            .binary_search_by(|term| term.as_str().cmp(value))
            .ok()?;
        u32::try_from(position).ok()
    }
}

/// A multi-valued string fast field, stored as a compressed sparse row: the ordinals of
/// document `d` are `ords[offsets[d]..offsets[d + 1]]`.
pub struct MultiKeyword {
    pub offsets: Vec<u32>,
    pub ords: Vec<u32>,
    pub terms: Vec<String>,
}

impl MultiKeyword {
    fn load(segment: &SegmentReader, field: &str) -> tantivy::Result<MultiKeyword> {
        let max_doc = segment.max_doc();
        let mut offsets = Vec::with_capacity(max_doc as usize + 1);
        offsets.push(0);
        let Some(column) = segment.fast_fields().str(field)? else {
            offsets.resize(max_doc as usize + 1, 0);
            return Ok(MultiKeyword {
                offsets,
                ords: Vec::new(),
                terms: Vec::new(),
            });
        };

        let mut ords = Vec::new();
        for doc in 0..max_doc {
            ords.extend(column.term_ords(doc).map(ordinal));
            offsets.push(u32::try_from(ords.len()).map_err(|_| too_large(field))?);
        }
        Ok(MultiKeyword {
            offsets,
            ords,
            terms: terms(&column)?,
        })
    }

    pub fn ords_of(&self, doc: DocId) -> &[u32] {
        let start = self.offsets[doc as usize] as usize;
        let end = self.offsets[doc as usize + 1] as usize;
        &self.ords[start..end]
    }
}

/// The values of one segment that filtering, facets and sorting read.
pub struct SegmentColumns {
    /// Start, UTC seconds since the Unix epoch.
    pub start: Vec<i64>,
    /// WGS 84 degrees; NaN when the document has no position.
    pub latitude: Vec<f64>,
    /// WGS 84 degrees; NaN when the document has no position.
    pub longitude: Vec<f64>,
    /// Ordinal of each document's id, whose order is the ids' order within the segment.
    pub id_ords: Vec<u32>,
    /// The ids by ordinal, to break sort ties between segments.
    pub ids: Terms,
    pub workshop: Keyword,
    pub attendance: Keyword,
    pub audience: Keyword,
    pub country: Keyword,
    pub languages: MultiKeyword,
}

impl SegmentColumns {
    /// Decodes the columns of one segment, deleted documents included, so that document
    /// ids index the vectors directly.
    pub fn load(segment: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let fast = segment.fast_fields();
        let max_doc = segment.max_doc();

        let start_column = fast.i64("start")?;
        let latitude_column = fast.column_opt::<f64>("latitude")?;
        let longitude_column = fast.column_opt::<f64>("longitude")?;
        let mut start = Vec::with_capacity(max_doc as usize);
        let mut latitude = Vec::with_capacity(max_doc as usize);
        let mut longitude = Vec::with_capacity(max_doc as usize);
        for doc in 0..max_doc {
            start.push(start_column.first(doc).unwrap_or(i64::MIN));
            let position = latitude_column
                .as_ref()
                .and_then(|column| column.first(doc))
                .zip(
                    longitude_column
                        .as_ref()
                        .and_then(|column| column.first(doc)),
                );
            let (lat, lon) = position.unwrap_or((f64::NAN, f64::NAN));
            latitude.push(lat);
            longitude.push(lon);
        }

        let id = fast.str("id")?;
        let id_ords = (0..max_doc)
            .map(|doc| {
                id.as_ref()
                    .and_then(|column| column.ords().first(doc))
                    .map_or(NO_VALUE, ordinal)
            })
            .collect();
        let ids = match &id {
            Some(column) => Terms::load(column)?,
            None => Terms::default(),
        };

        Ok(SegmentColumns {
            start,
            latitude,
            longitude,
            id_ords,
            ids,
            workshop: Keyword::load(segment, "workshop")?,
            attendance: Keyword::load(segment, "attendance")?,
            audience: Keyword::load(segment, "audience")?,
            country: Keyword::load(segment, "country")?,
            languages: MultiKeyword::load(segment, "languages")?,
        })
    }
}

/// All terms of a string column in one buffer, by ordinal. Reading a term from tantivy's
/// dictionary decompresses a block, which costs microseconds; this costs nanoseconds.
#[derive(Default)]
pub struct Terms {
    bytes: Vec<u8>,
    /// Term `i` is `bytes[ends[i - 1]..ends[i]]`, with 0 before the first.
    ends: Vec<u32>,
}

impl Terms {
    fn load(column: &StrColumn) -> tantivy::Result<Terms> {
        let mut terms = Terms {
            bytes: Vec::new(),
            ends: Vec::with_capacity(column.num_terms()),
        };
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.bytes.extend_from_slice(stream.key());
            let end = u32::try_from(terms.bytes.len()).map_err(|_| too_large("id"))?;
            terms.ends.push(end);
        }
        Ok(terms)
    }

    /// Returns the term of ordinal `ord`, empty when there is none.
    pub fn get(&self, ord: u32) -> &str {
        let index = ord as usize;
        let Some(&end) = self.ends.get(index) else {
            return "";
        };
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        // The column holds text fields only, so terms are UTF-8.
        std::str::from_utf8(&self.bytes[start as usize..end as usize]).unwrap_or("")
    }
}

/// The decoded columns of every live segment, filled when tantivy warms a new reader
/// generation and pruned when no searcher uses a segment any more.
#[derive(Default)]
pub struct ColumnCache {
    segments: RwLock<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    /// Returns the columns of `segment`, decoding them if no warming did.
    pub fn get(&self, segment: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = segment.segment_id();
        let cached = self
            .segments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(columns) = cached {
            return Ok(columns);
        }

        let columns = Arc::new(SegmentColumns::load(segment)?);
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&columns));
        Ok(columns)
    }
}

impl Warmer for ColumnCache {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            self.get(segment)?;
        }
        Ok(())
    }

    fn garbage_collect(&self, live_generations: &[&SearcherGeneration]) {
        let live: HashSet<SegmentId> = live_generations
            .iter()
            .flat_map(|generation| generation.segments().keys().copied())
            .collect();
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id, _| live.contains(id));
    }
}

/// Narrows a dictionary ordinal; a segment never has 4 billion distinct values.
fn ordinal(ord: u64) -> u32 {
    u32::try_from(ord).unwrap_or(NO_VALUE)
}

fn terms(column: &StrColumn) -> tantivy::Result<Vec<String>> {
    let mut terms = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    Ok(terms)
}

fn too_large(field: &str) -> TantivyError {
    TantivyError::InvalidArgument(format!("too many {field} values in one segment"))
}
