//! The query string of the pages: the search API's parameters, parsed by the same function,
//! plus page-only ones (`hl` for the interface language, colours for the widget).
//!
//! Two readings differ from the API, because a form is filled by people:
//! - `to` given as a bare date includes that day (the API's `to` excludes it);
//! - `attendance=online` around a place also lists online sessions, which have no position
//!   and would otherwise never match a radius;
//! - a sort the other fields do not allow (`distance` without a place, `relevance` without
//!   text) falls back to date, because a form lets people combine fields freely.

use chrono::{DateTime, NaiveDate, Utc};
use url::form_urlencoded;

use crate::http::ApiError;
use crate::http::params::{EventSearch, parse_event_search};
use crate::places::Gazetteer;

/// A page request's parameters, to put back into the form and links.
pub struct PageQuery {
    /// The search parameters as given, without page-only ones and empty values.
    pub pairs: Vec<(String, String)>,
    /// Page-only parameters as given.
    pub extras: Vec<(String, String)>,
}

impl PageQuery {
    /// Splits off the `page_only` parameters and parses the rest as an API search.
    ///
    /// # Returns
    ///
    /// The parameters, and the search or its first invalid parameter.
    pub fn parse(
        raw: &str,
        page_only: &[&str],
        gazetteer: &Gazetteer,
        now: DateTime<Utc>,
    ) -> (PageQuery, Result<EventSearch, ApiError>) {
        let (extras, pairs): (Vec<_>, Vec<_>) = form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .filter(|(_, value)| !value.trim().is_empty())
            .partition(|(name, _)| page_only.contains(&name.as_str()));

        let api_query = api_query_string(&pairs);
        let search = parse_event_search(&api_query, gazetteer, now);
        (PageQuery { pairs, extras }, search)
    }

    /// The first value of a search parameter, as given.
    pub fn value(&self, name: &str) -> Option<&str> {
        first(&self.pairs, name)
    }

    /// Every value of a repeatable search parameter, commas split.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The first value of a page-only parameter.
    pub fn extra(&self, name: &str) -> Option<&str> {
        first(&self.extras, name)
    }

    /// A query string with the same search, `changes` applied: a `None` value removes the
    /// parameter. Page-only parameters are kept unless changed.
    pub fn with(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        let changed = |name: &str| changes.iter().any(|(n, _)| *n == name);
        for (name, value) in self.pairs.iter().chain(&self.extras) {
            if !changed(name) {
                serializer.append_pair(name, value);
            }
        }
        for (name, value) in changes {
            if let Some(value) = value {
                serializer.append_pair(name, value);
            }
        }
        serializer.finish()
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim())
}

/// The query string handed to the API parser, with the two page readings applied.
fn api_query_string(pairs: &[(String, String)]) -> String {
    let has = |name: &str| pairs.iter().any(|(n, _)| n == name);
    let located = has("near") || has("lat") || has("lon");
    let online_only = pairs
        .iter()
        .any(|(n, v)| n == "attendance" && v.trim() == "online");

    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        let value = match (name.as_str(), value.trim()) {
            ("to", day) => inclusive_end_date(day).unwrap_or_else(|| value.clone()),
            ("sort", "distance") if !located => continue,
            ("sort", "relevance") if !has("q") => continue,
            _ => value.clone(),
        };
        serializer.append_pair(name, &value);
    }
    if located && online_only && !has("include_online") {
        serializer.append_pair("include_online", "true");
    }
    serializer.finish()
}

/// The day after a bare `YYYY-MM-DD` date, so that the date itself is included.
fn inclusive_end_date(value: &str) -> Option<String> {
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(day.succ_opt()?.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Attendance;
    use crate::search::Sort;

    fn now() -> DateTime<Utc> {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    fn parse(raw: &str) -> PageQuery {
        PageQuery::parse(raw, &["hl"], &Gazetteer::embedded(), now()).0
    }

    fn search(raw: &str) -> Result<EventSearch, ApiError> {
        PageQuery::parse(raw, &["hl"], &Gazetteer::embedded(), now()).1
    }

    #[test]
    fn page_parameters_are_split_off() {
        let page = parse("near=Lyon&hl=en&q=&radius_km=25");

        assert_eq!(page.extra("hl"), Some("en"));
        assert_eq!(page.value("near"), Some("Lyon"));
        assert_eq!(page.value("q"), None);
        let search = search("near=Lyon&hl=en&q=&radius_km=25").unwrap();
        assert_eq!(search.query.geo.unwrap().radius_km, Some(25.0));
    }

    #[test]
    fn bare_end_date_includes_its_day() {
        let search = search("to=2027-03-14").unwrap();

        assert_eq!(
            search.query.to.unwrap().to_rfc3339(),
            "2027-03-15T00:00:00+00:00"
        );
    }

    #[test]
    fn online_around_a_place_lists_online_sessions() {
        let search = search("near=Lyon&attendance=online").unwrap();

        assert!(search.query.include_online);
        assert_eq!(search.query.attendance, Some(Attendance::Online));
    }

    #[test]
    fn unknown_parameter_is_reported() {
        let error = search("colour=red").unwrap_err();

        assert_eq!(error.parameter.as_deref(), Some("colour"));
    }

    #[test]
    fn impossible_sort_falls_back_to_date() {
        assert_eq!(search("sort=distance").unwrap().query.sort, Sort::Date);
        assert_eq!(search("sort=relevance").unwrap().query.sort, Sort::Date);
        assert_eq!(
            search("near=Lyon&sort=distance").unwrap().query.sort,
            Sort::Distance
        );
    }

    #[test]
    fn with_replaces_and_removes() {
        let page = parse("near=Lyon&offset=20&hl=de");

        assert_eq!(
            page.with(&[("offset", Some("40"))]),
            "near=Lyon&hl=de&offset=40"
        );
        assert_eq!(page.with(&[("hl", None)]), "near=Lyon&offset=20");
    }
}
