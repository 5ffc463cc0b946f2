//! Translation of a [`SearchQuery`] into a tantivy query: the user's words, the filters and
//! the bounding box of the geographic circle. The exact distance check is left to the
//! collector.
//!
//! User text never reaches tantivy's query parser: it is split by the index analyzer and
//! each resulting term is matched literally, so operators, field prefixes, wildcards and
//! unbalanced quotes are plain words.

use std::f64::consts::FRAC_PI_2;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, ExistsQuery, Occur, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::schema::{Fields, NO_LANGUAGE};
use crate::event::Attendance;
use crate::search::{GeoFilter, SearchQuery};

/// Query words beyond this count are ignored, which bounds the cost of a pasted paragraph.
const MAX_QUERY_WORDS: usize = 16;

/// Earth radius of the haversine distance in `search::distance_km`, in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Relative widening of the bounding box, so that rounding never drops an event that the
/// exact distance check would keep.
const BOX_MARGIN: f64 = 1e-6;

/// The tantivy query for one search.
pub struct Plan {
    pub query: Box<dyn Query>,
    /// Whether the text produced at least one word, so a relevance sort is meaningful.
    pub has_text: bool,
}

/// Builds the query: every analyzed word must match one of the text fields, and every
/// filter must hold. Filters score zero so that a relevance sort ranks by BM25 alone.
pub fn build(query: &SearchQuery, fields: &Fields, analyzer: &mut TextAnalyzer) -> Plan {
    let words = analyze(query.text.as_deref().unwrap_or(""), analyzer);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();

    for word in &words {
        clauses.push((Occur::Must, word_query(fields, word)));
    }
    for filter in filters(query, fields) {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
    }

    let query: Box<dyn Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    Plan {
        query,
        has_text: !words.is_empty(),
    }
}

/// Splits text into distinct index terms, at most [`MAX_QUERY_WORDS`] of them.
fn analyze(text: &str, analyzer: &mut TextAnalyzer) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let word = &stream.token().text;
        if words.len() == MAX_QUERY_WORDS {
            tracing::debug!(
                max = MAX_QUERY_WORDS,
                "query words beyond the maximum ignored"
            );
            break;
        }
        if !words.contains(word) {
            words.push(word.clone());
        }
    }
    words
}

/// Matches one term in any full-text field, scored by BM25.
fn word_query(fields: &Fields, word: &str) -> Box<dyn Query> {
    let alternatives: Vec<Box<dyn Query>> = fields
        .text_fields()
        .into_iter()
        .map(|field| {
            let term = Term::from_field_text(field, word);
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>
        })
        .collect();
    Box::new(BooleanQuery::union(alternatives))
}

/// The filter queries: date range, workshops, attendance, audience, languages, country and
/// the geographic bounding box.
fn filters(query: &SearchQuery, fields: &Fields) -> Vec<Box<dyn Query>> {
    let mut filters: Vec<Box<dyn Query>> = Vec::new();

    let to = match query.to {
        Some(to) => Bound::Excluded(Term::from_field_i64(fields.start, to.timestamp())),
        None => Bound::Unbounded,
    };
    filters.push(Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_i64(fields.start, query.from.timestamp())),
        to,
    )));

    if !query.workshops.is_empty() {
        let terms = query
            .workshops
            .iter()
            .map(|code| Term::from_field_text(fields.workshop, code));
        filters.push(Box::new(TermSetQuery::new(terms)));
    }
    if let Some(attendance) = query.attendance {
        filters.push(keyword(fields.attendance, attendance.as_str()));
    }
    if let Some(audience) = query.audience {
        filters.push(keyword(fields.audience, audience.as_str()));
    }
    if !query.languages.is_empty() {
        let terms = query
            .languages
            .iter()
            .map(|code| code.to_ascii_lowercase())
            .chain([NO_LANGUAGE.to_owned()])
            .map(|code| Term::from_field_text(fields.language_match, &code));
        filters.push(Box::new(TermSetQuery::new(terms)));
    }
    if let Some(country) = &query.country {
        filters.push(keyword(fields.country, &country.to_ascii_uppercase()));
    }
    if let Some(geo) = &query.geo {
        filters.push(geo_filter(fields, geo, query.include_online));
    }

    filters
}

fn keyword(field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// Events with a position inside the circle's bounding box, plus online events without a
/// position when `include_online` is set.
fn geo_filter(fields: &Fields, geo: &GeoFilter, include_online: bool) -> Box<dyn Query> {
    let located = located_filter(fields, geo);
    if !include_online {
        return located;
    }

    let online_without_position = BooleanQuery::new(vec![
        (
            Occur::Must,
            keyword(fields.attendance, Attendance::Online.as_str()),
        ),
        (
            Occur::MustNot,
            Box::new(ExistsQuery::new("latitude".to_owned(), false)),
        ),
    ]);
    Box::new(BooleanQuery::union(vec![
        located,
        Box::new(online_without_position),
    ]))
}

fn located_filter(fields: &Fields, geo: &GeoFilter) -> Box<dyn Query> {
    let bounds = BoundingBox::around(geo);

    // A latitude range alone also requires a position, since both coordinates are indexed
    // together or not at all.
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        f64_range(fields.latitude, bounds.min_latitude, bounds.max_latitude),
    )];
    match bounds.longitudes {
        Longitudes::All => {}
        Longitudes::Range(min, max) => {
            clauses.push((Occur::Must, f64_range(fields.longitude, min, max)));
        }
        Longitudes::AcrossAntimeridian { west, east } => {
            let either_side = BooleanQuery::union(vec![
                f64_range(fields.longitude, west, 180.0),
                f64_range(fields.longitude, -180.0, east),
            ]);
            clauses.push((Occur::Must, Box::new(either_side)));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

fn f64_range(field: tantivy::schema::Field, min: f64, max: f64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(Term::from_field_f64(field, min)),
        Bound::Included(Term::from_field_f64(field, max)),
    ))
}

/// The longitudes a bounding box covers, in degrees within [-180, 180].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Longitudes {
    /// The circle contains a pole, or the radius is unlimited.
    All,
    Range(f64, f64),
    /// The circle crosses the antimeridian: longitudes from `west` to 180 and from -180 to
    /// `east`.
    AcrossAntimeridian {
        west: f64,
        east: f64,
    },
}

/// The smallest latitude and longitude box containing a circle on the sphere, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_latitude: f64,
    pub max_latitude: f64,
    pub longitudes: Longitudes,
}

impl BoundingBox {
    /// Computes the box of `geo`; an unlimited radius covers the whole globe.
    pub fn around(geo: &GeoFilter) -> BoundingBox {
        let whole_globe = BoundingBox {
            min_latitude: -90.0,
            max_latitude: 90.0,
            longitudes: Longitudes::All,
        };
        let Some(radius_km) = geo.radius_km.filter(|radius| radius.is_finite()) else {
            return whole_globe;
        };

        // Angular radius in radians; a negative radius behaves as zero.
        let angle = radius_km.max(0.0) / EARTH_RADIUS_KM * (1.0 + BOX_MARGIN) + BOX_MARGIN;
        let latitude = geo.latitude.to_radians();
        let min_latitude = latitude - angle;
        let max_latitude = latitude + angle;

        // A circle reaching a pole spans every longitude.
        if min_latitude <= -FRAC_PI_2 || max_latitude >= FRAC_PI_2 {
            return BoundingBox {
                min_latitude: min_latitude.max(-FRAC_PI_2).to_degrees(),
                max_latitude: max_latitude.min(FRAC_PI_2).to_degrees(),
                longitudes: Longitudes::All,
            };
        }

        // The widest longitude offset of a circle not containing a pole (the meridians
        // tangent to it); the ratio is below 1 because the pole is outside the circle.
        let offset = (angle.sin() / latitude.cos()).asin().to_degrees();
        let west = geo.longitude - offset;
        let east = geo.longitude + offset;
        let longitudes = if west < -180.0 {
            Longitudes::AcrossAntimeridian {
                west: west + 360.0,
                east,
            }
        } else if east > 180.0 {
            Longitudes::AcrossAntimeridian {
                west,
                east: east - 360.0,
            }
        } else {
            Longitudes::Range(west, east)
        };
        BoundingBox {
            min_latitude: min_latitude.to_degrees(),
            max_latitude: max_latitude.to_degrees(),
            longitudes,
        }
    }
}
