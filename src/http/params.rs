//! Query-string parsing for the search endpoint: every parameter is checked, and a bad one
//! becomes an [`ApiError`] naming it and the accepted values.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::error::ApiError;
use crate::event::{Attendance, Audience};
use crate::places::{Gazetteer, Place};
use crate::search::{DEFAULT_LIMIT, DEFAULT_RADIUS_KM, GeoFilter, MAX_LIMIT, SearchQuery, Sort};

/// Parameters `GET /api/v1/events` accepts.
pub const EVENT_PARAMETERS: &[&str] = &[
    "q",
    "near",
    "lat",
    "lon",
    "radius_km",
    "include_online",
    "workshop",
    "attendance",
    "audience",
    "lang",
    "country",
    "from",
    "to",
    "sort",
    "limit",
    "offset",
];

/// Longest accepted free text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Deepest accepted paging offset; past it, narrow the search instead.
pub const MAX_OFFSET: usize = 10_000;
/// Largest accepted radius, in kilometres: half the Earth's circumference.
pub const MAX_RADIUS_KM: f64 = 20_000.0;
/// Most values accepted for one repeatable parameter.
const MAX_VALUES: usize = 50;

/// A validated search and the place it was resolved around.
#[derive(Debug)]
pub struct EventSearch {
    pub query: SearchQuery,
    pub place: Option<Place>,
}

/// Parses the query string of `GET /api/v1/events`.
///
/// # Errors
///
/// Returns the first invalid parameter as a 400 [`ApiError`].
pub fn parse_event_search(
    raw: &str,
    gazetteer: &Gazetteer,
    now: DateTime<Utc>,
) -> Result<EventSearch, ApiError> {
    let pairs = pairs(raw, EVENT_PARAMETERS)?;
    let single = |name: &str| single(&pairs, name);
    let many = |name: &str| many(&pairs, name);

    let text = single("q")?
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if let Some(text) = &text
        && text.chars().count() > MAX_QUERY_CHARS
    {
        return Err(ApiError::invalid(
            "q",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
            &[],
        ));
    }

    let (geo_center, place) =
        geo_center(single("near")?, single("lat")?, single("lon")?, gazetteer)?;
    let radius_text = single("radius_km")?;
    if radius_text.is_some() && geo_center.is_none() {
        return Err(ApiError::invalid(
            "radius_km",
            "radius_km needs a place: give near, or lat and lon".to_owned(),
            &[],
        ));
    }
    let radius_km = radius(radius_text)?;
    let geo = geo_center.map(|(latitude, longitude)| GeoFilter {
        latitude,
        longitude,
        radius_km,
    });

    let workshops = many("workshop")?;
    for code in &workshops {
        if code.is_empty()
            || code.len() > 64
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ApiError::invalid(
                "workshop",
                format!("invalid workshop code {code:?}"),
                &["a code from GET /api/v1/workshops, such as FresqueClimat"],
            ));
        }
    }
    let attendance = single("attendance")?
        .map(|value| {
            Attendance::parse(value).ok_or_else(|| {
                ApiError::invalid(
                    "attendance",
                    format!("unknown attendance {value:?}"),
                    &Attendance::ALL.map(Attendance::as_str),
                )
            })
        })
        .transpose()?;
    let audience = single("audience")?
        .map(|value| {
            Audience::parse(value).ok_or_else(|| {
                ApiError::invalid(
                    "audience",
                    format!("unknown audience {value:?}"),
                    &Audience::ALL.map(Audience::as_str),
                )
            })
        })
        .transpose()?;
    let languages = many("lang")?
        .into_iter()
        .map(|code| {
            let lower = code.to_ascii_lowercase();
            if lower.len() == 2 && lower.chars().all(|c| c.is_ascii_lowercase()) {
                Ok(lower)
            } else {
                Err(ApiError::invalid(
                    "lang",
                    format!("invalid language {code:?}"),
                    &["an ISO 639-1 code such as fr, en, de, es"],
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let country = single("country")?
        .map(|code| {
            if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
                Ok(code.to_ascii_uppercase())
            } else {
                Err(ApiError::invalid(
                    "country",
                    format!("invalid country {code:?}"),
                    &["an ISO 3166-1 alpha-2 code such as FR, BE, CH"],
                ))
            }
        })
        .transpose()?;

    let from = single("from")?
        .map(|v| date_time("from", v))
        .transpose()?
        .unwrap_or(now);
    let to = single("to")?.map(|v| date_time("to", v)).transpose()?;
    if let Some(to) = to
        && to <= from
    {
        return Err(ApiError::invalid(
            "to",
            format!(
                "to ({}) must be after from ({})",
                to.to_rfc3339(),
                from.to_rfc3339()
            ),
            &[],
        ));
    }

    let sort = match single("sort")? {
        None => Sort::Date,
        Some(value) => Sort::parse(value).ok_or_else(|| {
            ApiError::invalid(
                "sort",
                format!("unknown sort {value:?}"),
                &Sort::ALL.map(Sort::as_str),
            )
        })?,
    };
    if sort == Sort::Distance && geo.is_none() {
        return Err(ApiError::invalid(
            "sort",
            "sort=distance needs a place: give near, or lat and lon".to_owned(),
            &["date", "relevance"],
        ));
    }
    if sort == Sort::Relevance && text.is_none() {
        return Err(ApiError::invalid(
            "sort",
            "sort=relevance needs text: give q".to_owned(),
            &["date", "distance"],
        ));
    }
    let limit = integer("limit", single("limit")?, 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let offset = integer("offset", single("offset")?, 0, MAX_OFFSET)?.unwrap_or(0);
    let include_online = boolean("include_online", single("include_online")?)?.unwrap_or(false);

    Ok(EventSearch {
        query: SearchQuery {
            text,
            geo,
            include_online,
            workshops,
            attendance,
            audience,
            languages,
            country,
            from,
            to,
            sort,
            offset,
            limit,
        },
        place,
    })
}

/// Decodes a query string, rejecting parameters the endpoint does not know.
///
/// # Errors
///
/// Returns a 400 [`ApiError`] naming the unknown parameter and listing the accepted ones.
pub fn pairs(raw: &str, accepted: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    use unicode_normalization::UnicodeNormalization;

    // Composed (NFC) values, so that "e" plus a combining accent matches "é".
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.nfc().collect()))
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !accepted.contains(&name.as_str()))
    {
        return Err(ApiError::invalid(
            name,
            format!("unknown parameter {name:?}"),
            accepted,
        ));
    }
    Ok(pairs)
}

/// The value of a parameter that may appear once; empty counts as absent.
pub fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = pairs
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty());
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::invalid(
            name,
            format!("{name} may be given only once"),
            &[],
        ));
    }
    Ok(first)
}

/// The values of a repeatable parameter, also split on commas.
fn many(pairs: &[(String, String)], name: &str) -> Result<Vec<String>, ApiError> {
    let values: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if values.len() > MAX_VALUES {
        return Err(ApiError::invalid(
            name,
            format!("{name} has more than {MAX_VALUES} values"),
            &[],
        ));
    }
    Ok(values)
}

/// Latitude and longitude in degrees.
type Center = (f64, f64);

fn geo_center(
    near: Option<&str>,
    lat: Option<&str>,
    lon: Option<&str>,
    gazetteer: &Gazetteer,
) -> Result<(Option<Center>, Option<Place>), ApiError> {
    match (near, lat, lon) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ApiError::invalid(
            "near",
            "give either near or lat and lon, not both".to_owned(),
            &[],
        )),
        (Some(near), None, None) => {
            if near.chars().count() > MAX_QUERY_CHARS {
                return Err(ApiError::invalid(
                    "near",
                    format!("near is longer than {MAX_QUERY_CHARS} characters"),
                    &[],
                ));
            }
            let place = gazetteer.resolve(near).ok_or_else(|| {
                ApiError::invalid("near", format!("unknown place {near:?}"), &["a city name such as Lyon, or a French postal code such as 69003; GET /api/v1/places?q= suggests names"])
                    .with_code("unknown_place")
            })?;
            Ok((Some((place.latitude, place.longitude)), Some(place)))
        }
        (None, Some(lat), Some(lon)) => Ok((
            Some((
                coordinate("lat", lat, 90.0)?,
                coordinate("lon", lon, 180.0)?,
            )),
            None,
        )),
        (None, Some(_), None) => Err(ApiError::invalid(
            "lon",
            "lat needs lon".to_owned(),
            &["a longitude in degrees, -180 to 180"],
        )),
        (None, None, Some(_)) => Err(ApiError::invalid(
            "lat",
            "lon needs lat".to_owned(),
            &["a latitude in degrees, -90 to 90"],
        )),
        (None, None, None) => Ok((None, None)),
    }
}

fn coordinate(name: &str, value: &str, bound: f64) -> Result<f64, ApiError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= bound)
        .ok_or_else(|| {
            // An unencoded + in a query string decodes to a space.
            let hint = if value.contains(' ') {
                " (write + as %2B in a URL)"
            } else {
                ""
            };
            ApiError::invalid(
                name,
                format!("invalid {name} {value:?}{hint}"),
                &[&format!("a number of degrees from -{bound} to {bound}")],
            )
        })
}

fn radius(value: Option<&str>) -> Result<Option<f64>, ApiError> {
    match value {
        None => Ok(Some(DEFAULT_RADIUS_KM)),
        Some("unlimited") => Ok(None),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|km| km.is_finite() && *km > 0.0 && *km <= MAX_RADIUS_KM)
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    "radius_km",
                    format!("invalid radius_km {text:?}"),
                    &[
                        &format!("a number of kilometres above 0 and up to {MAX_RADIUS_KM}"),
                        "unlimited",
                    ],
                )
            }),
    }
}

fn integer(
    name: &str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> Result<Option<usize>, ApiError> {
    value
        .map(|text| {
            text.parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!("invalid {name} {text:?}"),
                        &[&format!("an integer from {min} to {max}")],
                    )
                })
        })
        .transpose()
}

fn boolean(name: &str, value: Option<&str>) -> Result<Option<bool>, ApiError> {
    value
        .map(|text| match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ApiError::invalid(
                name,
                format!("invalid {name} {text:?}"),
                &["true", "false"],
            )),
        })
        .transpose()
}

/// An RFC 3339 date-time, or a date alone meaning its first instant in UTC.
pub fn date_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| Utc.from_utc_datetime(&midnight))
        .ok_or_else(|| {
            // An unencoded + in a query string decodes to a space.
            let hint = if value.contains(' ') {
                " (write + as %2B in a URL)"
            } else {
                ""
            };
            ApiError::invalid(
                name,
                format!("invalid {name} {value:?}{hint}"),
                &[
                    "a date such as 2027-03-14",
                    "an RFC 3339 date-time such as 2027-03-14T18:00:00+01:00",
                ],
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    fn parse(raw: &str) -> Result<EventSearch, ApiError> {
        parse_event_search(raw, &Gazetteer::embedded(), now())
    }

    #[test]
    fn defaults_start_now_sorted_by_date() {
        let search = parse("").unwrap();

        assert_eq!(search.query.from, now());
        assert_eq!(search.query.sort, Sort::Date);
        assert_eq!(search.query.limit, DEFAULT_LIMIT);
        assert_eq!(search.query.geo, None);
    }

    #[test]
    fn repeatable_and_comma_separated_values() {
        let search =
            parse("workshop=FresqueClimat&workshop=FresqueNumerique,2tonnes&lang=FR,en").unwrap();

        assert_eq!(
            search.query.workshops,
            vec!["FresqueClimat", "FresqueNumerique", "2tonnes"]
        );
        assert_eq!(search.query.languages, vec!["fr", "en"]);
    }

    #[test]
    fn coordinates_with_radius() {
        let search = parse("lat=45.76&lon=4.83&radius_km=30&sort=distance").unwrap();

        assert_eq!(
            search.query.geo,
            Some(GeoFilter {
                latitude: 45.76,
                longitude: 4.83,
                radius_km: Some(30.0)
            })
        );
        assert_eq!(
            parse("lat=45.76&lon=4.83&radius_km=unlimited")
                .unwrap()
                .query
                .geo
                .unwrap()
                .radius_km,
            None
        );
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let cases = [
            ("radius_km=-5&lat=1&lon=1", "radius_km"),
            ("radius_km=abc", "radius_km"),
            ("lat=91&lon=0", "lat"),
            ("lat=45", "lon"),
            ("lon=4", "lat"),
            ("attendance=hybrid", "attendance"),
            ("audience=everyone", "audience"),
            ("sort=price", "sort"),
            ("sort=distance", "sort"),
            ("sort=relevance", "sort"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("offset=10001", "offset"),
            ("from=tomorrow", "from"),
            ("from=2027-01-02&to=2027-01-01", "to"),
            ("lang=french", "lang"),
            ("country=France", "country"),
            ("workshop=%3Cscript%3E", "workshop"),
            ("colour=red", "colour"),
            ("q=a&q=b", "q"),
            ("include_online=maybe", "include_online"),
            ("radius_km=10", "radius_km"),
        ];

        for (raw, parameter) in cases {
            let error = parse(raw).unwrap_err();
            assert_eq!(error.parameter.as_deref(), Some(parameter), "{raw}");
        }
    }

    #[test]
    fn unencoded_plus_in_date_gets_a_hint() {
        let error = parse("from=2027-03-14T18:00:00+01:00").unwrap_err();

        assert!(
            error.message.contains("write + as %2B"),
            "{}",
            error.message
        );
    }

    #[test]
    fn decomposed_accent_in_text_is_composed() {
        let search = parse("q=nume%CC%81rique&include_online=TRUE").unwrap();

        assert_eq!(search.query.text.as_deref(), Some("numérique"));
        assert!(search.query.include_online);
    }

    #[test]
    fn long_text_is_rejected() {
        let error = parse(&format!("q={}", "a".repeat(MAX_QUERY_CHARS + 1))).unwrap_err();

        assert_eq!(error.parameter.as_deref(), Some("q"));
    }

    #[test]
    fn unknown_parameter_lists_accepted_ones() {
        let error = parse("radius=10").unwrap_err();

        assert!(error.accepted.contains(&"radius_km".to_owned()));
    }

    #[test]
    fn date_alone_means_midnight_utc() {
        let search = parse("from=2027-03-01&to=2027-04-01").unwrap();

        assert_eq!(search.query.from.to_rfc3339(), "2027-03-01T00:00:00+00:00");
        assert_eq!(
            search.query.to.unwrap().to_rfc3339(),
            "2027-04-01T00:00:00+00:00"
        );
    }
}
