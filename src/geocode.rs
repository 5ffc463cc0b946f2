//! The optional HTTP geocoder: places events at their street address with a Nominatim,
//! Photon or Addok (French Base Adresse Nationale) service that the operator configures in
//! the `[geocoder]` table of `sources.toml`.
//!
//! It runs after normalization, which has already placed each event at its town's centre
//! with the embedded gazetteer. It sends queries only for events whose feed gave no coordinates
//! and that have a street, or that the gazetteer could not place. Each query is sent once:
//! responses, "nothing found" included, are cached in the store. Requests are rate limited
//! across all sources with governor. When the service fails, events keep the gazetteer's
//! position and the rest of the run asks nothing more; no event is ever dropped here.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;

use crate::config::{GeocoderConfig, GeocoderKind};
use crate::event::{Attendance, Event, Location};
use crate::store::{CachedGeocode, Store};

/// `location.geocoded` of an event placed at its address by the HTTP geocoder.
pub const GEOCODED_ADDRESS: &str = "geocoder";
/// `location.geocoded` of an event placed at its town's centre by the HTTP geocoder, when
/// the gazetteer did not know the town.
pub const GEOCODED_CITY: &str = "geocoder_city";

/// How long the geocoder is left alone after it failed, so a service that is down costs
/// one timeout per run, not one per address.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// Cached "nothing found" responses older than this are requested again, because the geocoder's
/// data may have gained the address since.
const NOT_FOUND_TTL: chrono::Duration = chrono::Duration::days(30);

/// Largest accepted response body: one result is a few kilobytes.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Lowest Addok score accepted; below it the best match is usually another street.
const MIN_ADDOK_SCORE: f64 = 0.5;

/// Why a lookup failed. Failures are not cached: the address is asked again later.
#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    #[error("geocoder request failed: {0}")]
    Request(String),
    #[error("geocoder answered HTTP status {0}")]
    Status(u16),
    #[error("geocoder answer is invalid: {0}")]
    InvalidAnswer(String),
    #[error("environment variable {0} for a geocoder header is not set")]
    MissingSecret(String),
    #[error("cannot read or write the geocoder cache: {0}")]
    Cache(String),
}

/// How precisely a geocoder placed an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// A house number, a street or a building.
    Address,
    /// A town, a district or a locality.
    City,
}

impl Precision {
    fn as_str(self) -> &'static str {
        match self {
            Precision::Address => "address",
            Precision::City => "city",
        }
    }

    fn parse(text: &str) -> Option<Precision> {
        match text {
            "address" => Some(Precision::Address),
            "city" => Some(Precision::City),
            _ => None,
        }
    }
}

/// A position found for an address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub latitude: f64,
    pub longitude: f64,
    pub precision: Precision,
}

/// What placing one source's events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placed {
    /// Events that needed a lookup.
    pub candidates: usize,
    /// Lookups served from the cache.
    pub cached: usize,
    /// Requests sent to the geocoder.
    pub requested: usize,
    /// Events moved to their address.
    pub at_address: usize,
    /// Events placed at a town centre the gazetteer did not know.
    pub at_city: usize,
    /// Events not looked up because the geocoder failed or the run's lookups ran out. A
    /// later run requests them.
    pub pending: usize,
}

/// The HTTP geocoder client, its rate limiter and its cache. Shared by every source run.
pub struct Geocoder {
    config: GeocoderConfig,
    client: reqwest::Client,
    limiter: DefaultDirectRateLimiter,
    store: Arc<Store>,
    /// Cache key of this service: its kind and URL, so answers of another service are not
    /// reused.
    provider: String,
    paused_until: Mutex<Option<Instant>>,
}

impl Geocoder {
    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`GeocodeError::Request`] when the HTTP client cannot start.
    pub fn new(config: GeocoderConfig, store: Arc<Store>) -> Result<Geocoder, GeocodeError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "multifresque/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/openfresque/multifresque)"
            ))
            .timeout(config.timeout)
            .build()
            .map_err(|error| GeocodeError::Request(error.to_string()))?;
        let limiter = RateLimiter::direct(quota(config.requests_per_second));
        Ok(Geocoder {
            provider: format!("{}:{}", config.kind.as_str(), config.url),
            config,
            client,
            limiter,
            store,
            paused_until: Mutex::new(None),
        })
    }

    /// Places the events of one source run that need it, in place. Events the geocoder
    /// cannot place keep the gazetteer's position, or none.
    pub async fn place(&self, source: &str, events: &mut [Event]) -> Placed {
        let mut placed = Placed::default();
        for event in events.iter_mut() {
            let Some(query) = Query::for_event(event, self.config.kind) else {
                continue;
            };
            placed.candidates += 1;
            let found = match self.cached(&query).await {
                Some(answer) => {
                    placed.cached += 1;
                    answer
                }
                None if self.is_paused() || placed.requested >= self.config.max_lookups_per_run => {
                    placed.pending += 1;
                    continue;
                }
                None => {
                    placed.requested += 1;
                    match self.ask(&query).await {
                        Ok(found) => found,
                        Err(error) => {
                            tracing::warn!(source, %error, "geocoder failed; keeping gazetteer positions");
                            self.pause();
                            placed.pending += 1;
                            continue;
                        }
                    }
                }
            };
            match apply(&mut event.location, found) {
                Some(Precision::Address) => placed.at_address += 1,
                Some(Precision::City) => placed.at_city += 1,
                None => {}
            }
        }
        placed
    }

    /// The cached answer for a query, `None` when it must be asked. A cache that cannot be
    /// read is logged and treated as a miss.
    async fn cached(&self, query: &Query) -> Option<Option<Found>> {
        let store = self.store.clone();
        let (provider, key) = (self.provider.clone(), query.cache_key());
        let cached = tokio::task::spawn_blocking(move || store.cached_geocode(&provider, &key))
            .await
            .map_err(|error| error.to_string())
            .and_then(|result| result.map_err(|error| error.to_string()));
        let cached = match cached {
            Ok(cached) => cached?,
            Err(error) => {
                tracing::warn!(%error, "cannot read the geocoder cache");
                return None;
            }
        };
        match (
            cached.position,
            cached.precision.as_deref().and_then(Precision::parse),
        ) {
            (Some((latitude, longitude)), Some(precision)) => Some(Some(Found {
                latitude,
                longitude,
                precision,
            })),
            _ if Utc::now() - cached.fetched_at < NOT_FOUND_TTL => Some(None),
            _ => None,
        }
    }

    /// Asks the geocoder, waiting for the rate limiter, and caches the answer.
    async fn ask(&self, query: &Query) -> Result<Option<Found>, GeocodeError> {
        self.limiter.until_ready().await;
        let started = Instant::now();
        let found = self.request(query).await?;
        tracing::debug!(
            query = %query.text,
            found = found.is_some(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "geocoder answered"
        );

        let answer = CachedGeocode {
            position: found.map(|f| (f.latitude, f.longitude)),
            precision: found.map(|f| f.precision.as_str().to_owned()),
            fetched_at: Utc::now(),
        };
        let store = self.store.clone();
        let (provider, key) = (self.provider.clone(), query.cache_key());
        tokio::task::spawn_blocking(move || store.cache_geocode(&provider, &key, &answer))
            .await
            .map_err(|error| GeocodeError::Cache(error.to_string()))?
            .map_err(|error| GeocodeError::Cache(error.to_string()))?;
        Ok(found)
    }

    async fn request(&self, query: &Query) -> Result<Option<Found>, GeocodeError> {
        let mut url = self.config.url.clone();
        let path = format!(
            "{}{}",
            url.path().trim_end_matches('/'),
            match self.config.kind {
                GeocoderKind::Nominatim => "/search",
                GeocoderKind::Photon => "/api",
                GeocoderKind::Addok => "/search/",
            }
        );
        url.set_path(&path);
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("q", &query.text)
                .append_pair("limit", "1");
            if self.config.kind == GeocoderKind::Nominatim {
                pairs.append_pair("format", "jsonv2");
                if let Some(country) = &query.country {
                    pairs.append_pair("countrycodes", &country.to_ascii_lowercase());
                }
            }
        }

        let mut request = self.client.get(url);
        for header in &self.config.headers {
            let value = std::env::var(&header.env)
                .map_err(|_| GeocodeError::MissingSecret(header.env.clone()))?;
            request = request.header(&header.name, format!("{}{value}", header.prefix));
        }
        let response = request
            .send()
            .await
            .map_err(|error| GeocodeError::Request(error.to_string()))?;
        if !response.status().is_success() {
            return Err(GeocodeError::Status(response.status().as_u16()));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|error| GeocodeError::Request(error.to_string()))?;
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(GeocodeError::InvalidAnswer(format!(
                "response body larger than {MAX_ANSWER_BYTES} bytes"
            )));
        }
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|error| GeocodeError::InvalidAnswer(error.to_string()))?;
        parse_answer(self.config.kind, &body)
    }

    fn is_paused(&self) -> bool {
        let paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        paused.is_some_and(|until| Instant::now() < until)
    }

    fn pause(&self) {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now() + PAUSE_AFTER_FAILURE);
    }
}

/// Builds a quota of `per_second` requests, one at a time (no burst).
fn quota(per_second: f64) -> Quota {
    let period = Duration::from_secs_f64(1.0 / per_second.clamp(0.001, 1000.0));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN)
}

/// Puts the answer on the location when it is better than what the gazetteer found, and
/// returns the precision used.
fn apply(location: &mut Location, found: Option<Found>) -> Option<Precision> {
    let found = found?;
    let use_it = match found.precision {
        Precision::Address => true,
        // A town centre from the geocoder only fills a gap the gazetteer left.
        Precision::City => location.coordinates().is_none(),
    };
    if !use_it {
        return None;
    }
    location.latitude = Some(found.latitude);
    location.longitude = Some(found.longitude);
    location.geocoded = Some(
        match found.precision {
            Precision::Address => GEOCODED_ADDRESS,
            Precision::City => GEOCODED_CITY,
        }
        .to_owned(),
    );
    Some(found.precision)
}

/// One address to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `street, postal code town`, cleaned.
    pub text: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

impl Query {
    /// The query for an event, or `None` when it needs no lookup: online, placed by its
    /// feed or already by a geocoder, or with no address better than what the gazetteer
    /// found. Addok only covers French addresses.
    pub fn for_event(event: &Event, kind: GeocoderKind) -> Option<Query> {
        let location = &event.location;
        if event.attendance == Attendance::Online
            || !matches!(location.geocoded.as_deref(), None | Some("gazetteer"))
        {
            return None;
        }
        let street = location
            .street
            .as_deref()
            .map(clean)
            .filter(|s| !s.is_empty());
        let town = [
            location.postal_code.as_deref(),
            location.city.as_deref().map(strip_cedex),
        ]
        .into_iter()
        .flatten()
        .map(clean)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let worth_asking = street.is_some() || location.coordinates().is_none();
        if town.is_empty() || !worth_asking {
            return None;
        }
        if kind == GeocoderKind::Addok
            && location
                .country
                .as_deref()
                .is_some_and(|country| country != "FR")
        {
            return None;
        }
        let text = match street {
            Some(street) => format!("{street}, {town}"),
            None => town,
        };
        Some(Query {
            text,
            country: location.country.clone(),
        })
    }

    fn cache_key(&self) -> String {
        format!(
            "{}|{}",
            self.country.as_deref().unwrap_or(""),
            crate::normalize::fold(&self.text)
        )
    }
}

/// An address part without parenthesised notes ("(2e étage)", "(salle B)"), which geocoders do
/// not index and which make them miss, and with single spaces.
fn clean(part: &str) -> String {
    let mut text = String::with_capacity(part.len());
    let mut depth = 0_u32;
    for c in part.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Strips a "CEDEX" suffix from a town ("Lyon Cedex 03"), which names a mail sorting office.
fn strip_cedex(city: &str) -> &str {
    let lower = city.to_ascii_lowercase();
    match lower.find(" cedex") {
        Some(at) => city[..at].trim_end(),
        None => city,
    }
}

/// Reads the best match of a geocoder's answer.
///
/// # Errors
///
/// [`GeocodeError::InvalidAnswer`] when the answer does not have the kind's shape.
pub fn parse_answer(kind: GeocoderKind, body: &Value) -> Result<Option<Found>, GeocodeError> {
    let invalid = |detail: &str| GeocodeError::InvalidAnswer(detail.to_owned());
    match kind {
        GeocoderKind::Nominatim => {
            let results = body.as_array().ok_or_else(|| invalid("not a JSON array"))?;
            let Some(first) = results.first() else {
                return Ok(None);
            };
            let coordinate = |name: &str| {
                first
                    .get(name)
                    .and_then(|v| {
                        v.as_str()
                            .and_then(|s| s.parse::<f64>().ok())
                            .or(v.as_f64())
                    })
                    .ok_or_else(|| invalid("a result has no numeric lat or lon"))
            };
            let (latitude, longitude) = (coordinate("lat")?, coordinate("lon")?);
            // Nominatim's search rank: 26 and above are streets, house numbers and
            // buildings; 12 to 25 are towns, suburbs and neighbourhoods.
            let rank = first.get("place_rank").and_then(Value::as_u64).unwrap_or(0);
            let precision = match rank {
                26.. => Precision::Address,
                12..=25 => Precision::City,
                _ => return Ok(None),
            };
            Ok(checked(latitude, longitude, precision))
        }
        GeocoderKind::Photon | GeocoderKind::Addok => {
            let features = body
                .get("features")
                .and_then(Value::as_array)
                .ok_or_else(|| invalid("not a GeoJSON FeatureCollection"))?;
            let Some(first) = features.first() else {
                return Ok(None);
            };
            let point = first
                .pointer("/geometry/coordinates")
                .and_then(Value::as_array)
                .filter(|point| point.len() >= 2)
                .ok_or_else(|| invalid("a feature has no point coordinates"))?;
            let (Some(longitude), Some(latitude)) = (point[0].as_f64(), point[1].as_f64()) else {
                return Err(invalid("a feature has non-numeric coordinates"));
            };
            let properties = first.get("properties").unwrap_or(&Value::Null);
            if kind == GeocoderKind::Addok
                && properties
                    .get("score")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0)
                    < MIN_ADDOK_SCORE
            {
                return Ok(None);
            }
            let precision = match properties.get("type").and_then(Value::as_str) {
                Some("house" | "housenumber" | "street") => Precision::Address,
                Some("city" | "district" | "locality" | "municipality") => Precision::City,
                _ => return Ok(None),
            };
            Ok(checked(latitude, longitude, precision))
        }
    }
}

fn checked(latitude: f64, longitude: f64, precision: Precision) -> Option<Found> {
    let valid = latitude.is_finite()
        && longitude.is_finite()
        && (-90.0..=90.0).contains(&latitude)
        && (-180.0..=180.0).contains(&longitude);
    valid.then_some(Found {
        latitude,
        longitude,
        precision,
    })
}

#[cfg(test)]
mod tests;
