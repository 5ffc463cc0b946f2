//! The search collector: one pass over the matching documents that checks the exact
//! distance, counts facets and keeps the best `offset + limit` documents in sort order.
//!
//! It reads fast fields only. Stored documents are fetched afterwards, for the page alone.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyError};

use crate::search::{Facets, GeoFilter, Sort, distance_km};

/// The sort order the collector applies, after falling back to date when a distance or
/// relevance sort has no place or no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Date,
    Distance,
    Relevance,
}

impl Order {
    /// Resolves the requested sort against what the query provides.
    pub fn resolve(sort: Sort, has_geo: bool, has_text: bool) -> Order {
        match sort {
            Sort::Distance if has_geo => Order::Distance,
            Sort::Relevance if has_text => Order::Relevance,
            _ => Order::Date,
        }
    }
}

/// Collects the total, the facets and the first `window` documents of one search.
pub struct SearchCollector {
    pub order: Order,
    pub geo: Option<GeoFilter>,
    /// How many of the best documents to keep: the page offset plus its limit.
    pub window: usize,
}

/// One kept document with its sort key.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Distance, negated score, or 0 for a date sort; lower sorts first.
    pub primary: f64,
    /// Start, UTC seconds.
    pub start: i64,
    pub id: String,
    pub address: DocAddress,
    pub distance_km: Option<f64>,
}

impl Ranked {
    fn cmp_key(&self, other: &Ranked) -> Ordering {
        self.primary
            .total_cmp(&other.primary)
            .then(self.start.cmp(&other.start))
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// What a search collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub total: usize,
    pub facets: Facets,
    /// At most `window` documents, sorted.
    pub ranked: Vec<Ranked>,
}

impl Collector for SearchCollector {
    type Fruit = Collected;
    type Child = SegmentSearch;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentSearch> {
        let fast = segment.fast_fields();
        let missing = |name: &str| TantivyError::SchemaError(format!("missing fast field {name}"));

        let position = match self.geo {
            Some(_) => Some(Positions {
                latitude: fast.column_opt("latitude")?,
                longitude: fast.column_opt("longitude")?,
            }),
            None => None,
        };
        Ok(SegmentSearch {
            segment_ord,
            order: self.order,
            geo: self.geo,
            window: self.window,
            start: fast.i64("start")?,
            position,
            id: fast.str("id")?.ok_or_else(|| missing("id"))?,
            facets: [
                FacetCounter::open(segment, "workshop")?,
                FacetCounter::open(segment, "attendance")?,
                FacetCounter::open(segment, "audience")?,
                FacetCounter::open(segment, "languages")?,
            ],
            total: 0,
            candidates: Vec::new(),
            worst_kept: None,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.order == Order::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Collected>) -> tantivy::Result<Collected> {
        let mut merged = Collected::default();
        for fruit in fruits {
            merged.total += fruit.total;
            add_counts(&mut merged.facets.workshop, fruit.facets.workshop);
            add_counts(&mut merged.facets.attendance, fruit.facets.attendance);
            add_counts(&mut merged.facets.audience, fruit.facets.audience);
            add_counts(&mut merged.facets.language, fruit.facets.language);
            merged.ranked.extend(fruit.ranked);
        }

        merged.ranked.sort_unstable_by(Ranked::cmp_key);
        merged.ranked.truncate(self.window);
        Ok(merged)
    }
}

fn add_counts(total: &mut BTreeMap<String, u64>, counts: BTreeMap<String, u64>) {
    for (value, count) in counts {
        *total.entry(value).or_default() += count;
    }
}

/// A matching document in one segment, before its id is resolved.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    primary: f64,
    start: i64,
    /// Ordinal of the id in the segment's dictionary, which sorts like the id itself.
    id_ord: u64,
    doc: DocId,
    /// Kilometres; NaN when the document has no position.
    distance_km: f64,
}

impl Candidate {
    fn cmp_key(&self, other: &Candidate) -> Ordering {
        self.primary
            .total_cmp(&other.primary)
            .then(self.start.cmp(&other.start))
            .then(self.id_ord.cmp(&other.id_ord))
    }
}

/// Counts the values of one string fast field over the matching documents of a segment.
struct FacetCounter {
    column: Option<StrColumn>,
    /// Matching documents per term ordinal.
    counts: Vec<u64>,
}

impl FacetCounter {
    fn open(segment: &SegmentReader, field: &str) -> tantivy::Result<FacetCounter> {
        let column = segment.fast_fields().str(field)?;
        let terms = column.as_ref().map_or(0, |column| column.num_terms());
        Ok(FacetCounter {
            column,
            counts: vec![0; terms],
        })
    }

    fn count(&mut self, doc: DocId) {
        let Some(column) = &self.column else {
            return;
        };
        for ord in column.term_ords(doc) {
            if let Some(count) = self.counts.get_mut(ord as usize) {
                *count += 1;
            }
        }
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        let Some(column) = self.column else {
            return counts;
        };
        for (ord, &count) in self.counts.iter().enumerate() {
            let mut value = String::new();
            // A dictionary read error leaves the value out of the facets; the search
            // itself stays valid.
            if count > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                counts.insert(value, count);
            }
        }
        counts
    }
}

/// The latitude and longitude columns of a segment; a column is absent when no document of
/// the segment has a position.
struct Positions {
    latitude: Option<Column<f64>>,
    longitude: Option<Column<f64>>,
}

impl Positions {
    fn get(&self, doc: DocId) -> Option<(f64, f64)> {
        let latitude = self.latitude.as_ref()?.first(doc)?;
        let longitude = self.longitude.as_ref()?.first(doc)?;
        Some((latitude, longitude))
    }
}

/// The per-segment half of [`SearchCollector`].
pub struct SegmentSearch {
    segment_ord: SegmentOrdinal,
    order: Order,
    geo: Option<GeoFilter>,
    window: usize,
    start: Column<i64>,
    /// Latitude and longitude columns, opened only for a geographic search.
    position: Option<Positions>,
    id: StrColumn,
    /// Workshop, attendance, audience and languages, in the order of [`Facets`].
    facets: [FacetCounter; 4],
    total: usize,
    candidates: Vec<Candidate>,
    /// The last candidate kept by the latest pruning: anything sorting after it cannot
    /// reach the window.
    worst_kept: Option<Candidate>,
}

impl SegmentSearch {
    /// Returns the distance to the searched place in kilometres, NaN for a document
    /// without position, or `None` when the document lies outside the radius.
    fn distance(&self, doc: DocId) -> Option<f64> {
        let (Some(geo), Some(positions)) = (&self.geo, &self.position) else {
            return Some(f64::NAN);
        };
        let coordinates = positions.get(doc);

        // The query admits a document without position only when it is an online event
        // and online events were requested.
        let Some(position) = coordinates else {
            return Some(f64::NAN);
        };
        let distance = distance_km((geo.latitude, geo.longitude), position);
        match geo.radius_km {
            // A NaN distance (from a NaN coordinate) is outside every radius.
            Some(radius) if distance > radius || distance.is_nan() => None,
            _ => Some(distance),
        }
    }

    /// Keeps the best `window` candidates once twice as many accumulated, so memory stays
    /// proportional to the page, not to the number of matches.
    fn prune(&mut self) {
        let window = self.window;
        if self.candidates.len() > window {
            self.candidates
                .select_nth_unstable_by(window - 1, Candidate::cmp_key);
            self.candidates.truncate(window);
        }
        self.worst_kept = self.candidates.iter().copied().max_by(Candidate::cmp_key);
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(distance) = self.distance(doc) else {
            return;
        };

        self.total += 1;
        for counter in &mut self.facets {
            counter.count(doc);
        }
        if self.window == 0 {
            return;
        }

        let primary = match self.order {
            Order::Date => 0.0,
            // Documents without position (online events) sort after every located one.
            Order::Distance if distance.is_nan() => f64::INFINITY,
            Order::Distance => distance,
            Order::Relevance => -f64::from(score),
        };
        let candidate = Candidate {
            primary,
            start: self.start.first(doc).unwrap_or(i64::MAX),
            id_ord: self.id.ords().first(doc).unwrap_or(u64::MAX),
            doc,
            distance_km: distance,
        };
        if let Some(worst) = &self.worst_kept
            && candidate.cmp_key(worst) == Ordering::Greater
        {
            return;
        }

        self.candidates.push(candidate);
        if self.candidates.len() >= self.window.saturating_mul(2).max(64) {
            self.prune();
        }
    }

    fn harvest(mut self) -> Collected {
        self.candidates.sort_unstable_by(Candidate::cmp_key);
        self.candidates.truncate(self.window);

        let mut ranked = Vec::with_capacity(self.candidates.len());
        for candidate in &self.candidates {
            let mut id = String::new();
            // The ordinal comes from this column, so the lookup only fails on an I/O error;
            // the id is then empty, which only changes the tie-break.
            if !self
                .id
                .ord_to_str(candidate.id_ord, &mut id)
                .unwrap_or(false)
            {
                id.clear();
            }
            ranked.push(Ranked {
                primary: candidate.primary,
                start: candidate.start,
                id,
                address: DocAddress::new(self.segment_ord, candidate.doc),
                distance_km: (!candidate.distance_km.is_nan()).then_some(candidate.distance_km),
            });
        }

        let [workshop, attendance, audience, language] = self.facets;
        Collected {
            total: self.total,
            facets: Facets {
                workshop: workshop.harvest(),
                attendance: attendance.harvest(),
                audience: audience.harvest(),
                language: language.harvest(),
            },
            ranked,
        }
    }
}
