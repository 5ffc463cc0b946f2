//! The search collector: one pass over the documents matching the text that applies the
//! filters, counts facets and keeps the best `offset + limit` documents in sort order.
//!
//! It reads the decoded columns of [`ColumnCache`] only. Stored documents are fetched
//! afterwards, for the page alone.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::columns::{ColumnCache, SegmentColumns};
use super::filter::{Distance, Filter, SegmentFilter, Verdict};
use crate::search::{Facets, Sort};

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
    pub filter: Filter,
    pub cache: Arc<ColumnCache>,
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

/// The result of one collector pass.
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
        let columns = self.cache.get(segment)?;
        let filter = self.filter.for_segment(&columns);
        Ok(SegmentSearch {
            segment_ord,
            order: self.order,
            window: self.window,
            filter,
            workshop_counts: vec![0; columns.workshop.terms.len()],
            attendance_counts: vec![0; columns.attendance.terms.len()],
            audience_counts: vec![0; columns.audience.terms.len()],
            language_counts: vec![0; columns.languages.terms.len()],
            columns,
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
    id_ord: u32,
    doc: DocId,
    distance: Distance,
}

impl Candidate {
    fn cmp_key(&self, other: &Candidate) -> Ordering {
        self.primary
            .total_cmp(&other.primary)
            .then(self.start.cmp(&other.start))
            .then(self.id_ord.cmp(&other.id_ord))
    }
}

/// The per-segment half of [`SearchCollector`].
pub struct SegmentSearch {
    segment_ord: SegmentOrdinal,
    order: Order,
    window: usize,
    columns: Arc<SegmentColumns>,
    filter: SegmentFilter,
    /// Matching documents per term ordinal of each facet column.
    workshop_counts: Vec<u64>,
    attendance_counts: Vec<u64>,
    audience_counts: Vec<u64>,
    language_counts: Vec<u64>,
    total: usize,
    candidates: Vec<Candidate>,
    /// The last candidate kept by the latest pruning: anything sorting after it cannot
    /// reach the window.
    worst_kept: Option<Candidate>,
}

impl SegmentSearch {
    fn count_facets(&mut self, doc: DocId) {
        let columns = &self.columns;
        let index = doc as usize;
        increment(&mut self.workshop_counts, columns.workshop.ords[index]);
        increment(&mut self.attendance_counts, columns.attendance.ords[index]);
        increment(&mut self.audience_counts, columns.audience.ords[index]);
        for &ordinal in columns.languages.ords_of(doc) {
            increment(&mut self.language_counts, ordinal);
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

fn increment(counts: &mut [u64], ordinal: u32) {
    if let Some(count) = counts.get_mut(ordinal as usize) {
        *count += 1;
    }
}

/// Maps per-ordinal counts to their terms, leaving out zero counts.
fn named_counts(counts: &[u64], terms: &[String]) -> BTreeMap<String, u64> {
    counts
        .iter()
        .zip(terms)
        .filter(|(count, _)| **count > 0)
        .map(|(count, term)| (term.clone(), *count))
        .collect()
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Verdict::Accepted(mut distance) = self.filter.check(&self.columns, doc) else {
            return;
        };

        self.total += 1;
        self.count_facets(doc);
        if self.window == 0 {
            return;
        }

        let primary = match (self.order, distance) {
            (Order::Date, _) => 0.0,
            (Order::Relevance, _) => -f64::from(score),
            (Order::Distance, Distance::Known(km)) => km,
            // Documents without position (online events) sort after every located one.
            (Order::Distance, Distance::Absent) => f64::INFINITY,
            (Order::Distance, Distance::Deferred) => {
                if let Some(worst) = &self.worst_kept
                    && self.filter.distance_lower_bound(&self.columns, doc) > worst.primary
                {
                    return;
                }
                let km = self.filter.distance(&self.columns, doc);
                distance = Distance::Known(km);
                km
            }
        };
        let candidate = Candidate {
            primary,
            start: self.columns.start[doc as usize],
            id_ord: self.columns.id_ords[doc as usize],
            doc,
            distance,
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

        let columns = &self.columns;
        let ranked = self
            .candidates
            .iter()
            .map(|candidate| Ranked {
                primary: candidate.primary,
                start: candidate.start,
                id: columns.ids.get(candidate.id_ord).to_owned(),
                address: DocAddress::new(self.segment_ord, candidate.doc),
                distance_km: match candidate.distance {
                    Distance::Absent => None,
                    Distance::Known(km) => Some(km),
                    Distance::Deferred => Some(self.filter.distance(columns, candidate.doc)),
                },
            })
            .collect();

        Collected {
            total: self.total,
            facets: Facets {
                workshop: named_counts(&self.workshop_counts, &columns.workshop.terms),
                attendance: named_counts(&self.attendance_counts, &columns.attendance.terms),
                audience: named_counts(&self.audience_counts, &columns.audience.terms),
                language: named_counts(&self.language_counts, &columns.languages.terms),
            },
            ranked,
        }
    }
}
