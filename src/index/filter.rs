//! The filters of a search, checked per document in the collector against the decoded
//! columns: date range, workshops, attendance, audience, languages, country and the
//! geographic circle (a bounding box first, then the exact haversine distance).
//!
//! They run in the collector rather than as tantivy range and term queries because a
//! plain-vector check costs a few nanoseconds per document, while the date and bounding-box
//! range queries alone took about 1 ms at 100,000 documents (the ignored test
//! `search_latency_at_100k_events`, release build, on a shared 2-core machine).

use std::f64::consts::FRAC_PI_2;

use tantivy::DocId;

use super::columns::{Keyword, NO_VALUE, SegmentColumns};
use crate::event::Attendance;
use crate::search::{SearchQuery, distance_km};

/// Earth radius of the haversine distance in `search::distance_km`, in kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Relative widening of the bounding box, so that rounding never drops an event that the
/// exact distance check would keep.
const BOX_MARGIN: f64 = 1e-6;

/// The filters of one search, independent of any segment.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Inclusive lower bound of the start, UTC seconds.
    from: i64,
    /// Exclusive upper bound of the start, UTC seconds.
    to: Option<i64>,
    workshops: Vec<String>,
    attendance: Option<Attendance>,
    audience: Option<String>,
    /// Lower-case ISO 639-1 codes.
    languages: Vec<String>,
    /// Upper-case ISO 3166-1 alpha-2 code.
    country: Option<String>,
    geo: Option<Circle>,
}

/// The geographic part of a search.
#[derive(Debug, Clone, Copy)]
struct Circle {
    center: (f64, f64),
    /// Kilometres; `None` for an unlimited radius.
    radius_km: Option<f64>,
    bounds: BoundingBox,
    include_online: bool,
}

impl Filter {
    pub fn new(query: &SearchQuery) -> Filter {
        let geo = query.geo.map(|geo| Circle {
            center: (geo.latitude, geo.longitude),
            radius_km: geo.radius_km.filter(|radius| radius.is_finite()),
            bounds: BoundingBox::around(geo.latitude, geo.longitude, geo.radius_km),
            include_online: query.include_online,
        });
        Filter {
            from: query.from.timestamp(),
            to: query.to.map(|to| to.timestamp()),
            workshops: query.workshops.clone(),
            attendance: query.attendance,
            audience: query.audience.map(|audience| audience.as_str().to_owned()),
            languages: query
                .languages
                .iter()
                .map(|code| code.to_ascii_lowercase())
                .collect(),
            country: query.country.as_ref().map(|code| code.to_ascii_uppercase()),
            geo,
        }
    }

    /// Resolves the requested values to the ordinals of one segment.
    pub fn for_segment(&self, columns: &SegmentColumns) -> SegmentFilter {
        let mut impossible = false;
        let mut required = |keyword: &Keyword, value: Option<&str>| {
            let value = value?;
            let ordinal = keyword.ordinal_of(value);
            impossible |= ordinal.is_none();
            ordinal
        };
        let attendance = required(&columns.attendance, self.attendance.map(Attendance::as_str));
        let audience = required(&columns.audience, self.audience.as_deref());
        let country = required(&columns.country, self.country.as_deref());

        let workshops = (!self.workshops.is_empty())
            .then(|| allowed_ordinals(&columns.workshop.terms, &self.workshops));
        let languages = (!self.languages.is_empty())
            .then(|| allowed_ordinals(&columns.languages.terms, &self.languages));

        SegmentFilter {
            filter: self.clone(),
            impossible,
            attendance,
            audience,
            country,
            workshops,
            languages,
            online: columns
                .attendance
                .ordinal_of(Attendance::Online.as_str())
                .unwrap_or(NO_VALUE),
        }
    }
}

/// Flags each term of a segment that is among the `requested` values.
fn allowed_ordinals(terms: &[String], requested: &[String]) -> Vec<bool> {
    terms.iter().map(|term| requested.contains(term)).collect()
}

/// A [`Filter`] with its values resolved to the ordinals of one segment.
pub struct SegmentFilter {
    filter: Filter,
    /// A required value does not occur in this segment, so no document matches.
    impossible: bool,
    attendance: Option<u32>,
    audience: Option<u32>,
    country: Option<u32>,
    /// Per workshop ordinal, whether it is requested; `None` when all are.
    workshops: Option<Vec<bool>>,
    /// Per language ordinal, whether it is requested; `None` when all are.
    languages: Option<Vec<bool>>,
    /// Ordinal of `online` in the attendance column, [`NO_VALUE`] when absent.
    online: u32,
}

/// Whether a document passed the filters, and its distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Rejected,
    Accepted(Distance),
}

/// The distance of an accepted document to the searched place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// No geo filter, or an online event without position.
    Absent,
    /// Kilometres, computed by the radius check.
    Known(f64),
    /// The document has a position but an unlimited radius needed no distance; the
    /// collector computes it only for documents that can reach the page.
    Deferred,
}

impl SegmentFilter {
    /// Checks one document, cheapest tests first.
    pub fn check(&self, columns: &SegmentColumns, doc: DocId) -> Verdict {
        if !self.passes_fields(columns, doc) {
            return Verdict::Rejected;
        }
        match &self.filter.geo {
            None => Verdict::Accepted(Distance::Absent),
            Some(circle) => self.check_circle(circle, columns, doc as usize),
        }
    }

    fn check_circle(&self, circle: &Circle, columns: &SegmentColumns, index: usize) -> Verdict {
        let latitude = columns.latitude[index];
        let longitude = columns.longitude[index];

        // A missing position is NaN, which no box contains. Most documents of a small circle
        // fail here, so this is the only test most of them pay.
        if !circle.bounds.contains(latitude, longitude) {
            // Events without position match only as online events, when those are requested.
            let unlocated = latitude.is_nan() | longitude.is_nan();
            let online = columns.attendance.ords[index] == self.online;
            return if unlocated & online & circle.include_online {
                Verdict::Accepted(Distance::Absent)
            } else {
                Verdict::Rejected
            };
        }

        let Some(radius) = circle.radius_km else {
            return Verdict::Accepted(Distance::Deferred);
        };
        let distance = distance_km(circle.center, (latitude, longitude));
        if distance <= radius {
            Verdict::Accepted(Distance::Known(distance))
        } else {
            Verdict::Rejected
        }
    }

    /// Checks every filter but the circle. A column is read only when its filter is set:
    /// the branches on the filter are the same for every document, so they are predicted,
    /// while the reads of unused columns cost memory bandwidth on every document.
    fn passes_fields(&self, columns: &SegmentColumns, doc: DocId) -> bool {
        let index = doc as usize;
        let start = columns.start[index];
        // Non-short-circuit `&` keeps the tests on values branch-free: documents come in no
        // useful order, so branches on their values are mispredicted often.
        let mut passes = !self.impossible
            & (start >= self.filter.from)
            & self.filter.to.is_none_or(|to| start < to);
        if let Some(attendance) = self.attendance {
            passes &= columns.attendance.ords[index] == attendance;
        }
        if let Some(audience) = self.audience {
            passes &= columns.audience.ords[index] == audience;
        }
        if let Some(country) = self.country {
            passes &= columns.country.ords[index] == country;
        }
        if let Some(workshops) = &self.workshops {
            passes &= matches_any(workshops, &[columns.workshop.ords[index]]);
        }
        if !passes {
            return false;
        }

        // An event that declares no language matches every language filter.
        match &self.languages {
            Some(allowed) => {
                let languages = columns.languages.ords_of(doc);
                languages.is_empty() || matches_any(allowed, languages)
            }
            None => true,
        }
    }

    /// Returns the distance of a document with a position to the searched place, in
    /// kilometres.
    pub fn distance(&self, columns: &SegmentColumns, doc: DocId) -> f64 {
        let Some(circle) = &self.filter.geo else {
            return f64::NAN;
        };
        let position = (
            columns.latitude[doc as usize],
            columns.longitude[doc as usize],
        );
        distance_km(circle.center, position)
    }

    /// Returns a lower bound of [`SegmentFilter::distance`] that needs no trigonometry: a
    /// great circle is never shorter than the latitude difference along a meridian.
    pub fn distance_lower_bound(&self, columns: &SegmentColumns, doc: DocId) -> f64 {
        let Some(circle) = &self.filter.geo else {
            return 0.0;
        };
        let latitude_difference = (columns.latitude[doc as usize] - circle.center.0).abs();
        // The factor below 1 absorbs rounding, so the bound never exceeds the distance.
        latitude_difference.to_radians() * EARTH_RADIUS_KM * (1.0 - BOX_MARGIN)
    }
}

fn matches_any(allowed: &[bool], ordinals: &[u32]) -> bool {
    ordinals
        .iter()
        .any(|&ordinal| allowed.get(ordinal as usize).copied().unwrap_or(false))
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
    /// Computes the box of the circle of `radius_km` around a point; an unlimited or
    /// infinite radius covers the whole globe and a negative one behaves as zero.
    pub fn around(latitude: f64, longitude: f64, radius_km: Option<f64>) -> BoundingBox {
        let whole_globe = BoundingBox {
            min_latitude: -90.0,
            max_latitude: 90.0,
            longitudes: Longitudes::All,
        };
        let Some(radius_km) = radius_km.filter(|radius| radius.is_finite()) else {
            return whole_globe;
        };

        // Angular radius in radians.
        let angle = radius_km.max(0.0) / EARTH_RADIUS_KM * (1.0 + BOX_MARGIN) + BOX_MARGIN;
        let latitude = latitude.to_radians();
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
        let west = longitude - offset;
        let east = longitude + offset;
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

    /// Whether a point lies in the box; branch-free on the coordinates, for the same
    /// reason as [`SegmentFilter::check`].
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        let latitude_inside = (latitude >= self.min_latitude) & (latitude <= self.max_latitude);
        let longitude_inside = match self.longitudes {
            Longitudes::All => true,
            Longitudes::Range(west, east) => (longitude >= west) & (longitude <= east),
            Longitudes::AcrossAntimeridian { west, east } => {
                (longitude >= west) | (longitude <= east)
            }
        };
        latitude_inside & longitude_inside
    }
}
