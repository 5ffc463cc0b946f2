//! Lenient readers for JSON feed fields, shared by the JSON adapters. Each returns the
//! field's value, `None` when it is absent or null, or a message naming the bad value.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::event::{Rejection, When};

pub type Object = Map<String, Value>;

/// Longest text kept from one field, in bytes; longer values are cut at a character
/// boundary so one oversized field cannot bloat the store and the index.
pub const MAX_TEXT_BYTES: usize = 20_000;

/// The parts every JSON entry needs whatever its format: the object itself, its id and its
/// title. `noun` names an entry in messages ("event", "record").
///
/// # Errors
///
/// Returns the [`Rejection`] for an entry that is not an object or lacks an id or a title.
pub fn entry_head<'a>(
    entry: &'a Value,
    noun: &str,
) -> Result<(&'a Object, String, String), Rejection> {
    let Value::Object(fields) = entry else {
        return Err(Rejection::new(
            None,
            "not_an_object",
            format!("{noun} must be an object, found {}", kind(entry)),
        ));
    };
    let Some(id) = text(fields, "id").ok().flatten() else {
        return Err(Rejection::new(
            None,
            "missing_id",
            "`id` is missing or empty",
        ));
    };
    match text(fields, "title") {
        Ok(Some(title)) => Ok((fields, id, title)),
        Ok(None) => Err(Rejection::new(
            Some(&id),
            "missing_title",
            "`title` is missing or empty",
        )),
        Err(detail) => Err(Rejection::new(Some(&id), "invalid_field", detail)),
    }
}

pub fn text(object: &Object, key: &str) -> Result<Option<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(non_empty(truncate(s.trim()))),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("`{key}` must be a string, found {}", kind(other))),
    }
}

pub fn boolean(object: &Object, key: &str) -> Result<Option<bool>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(format!("`{key}` must be true or false, found {other}")),
    }
}

/// A count such as capacity: a non-negative integer, possibly written as a string.
pub fn count(object: &Object, key: &str) -> Result<Option<u32>, String> {
    let invalid = |value: &Value| format!("`{key}` must be a non-negative integer, found {value}");
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(value)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(value @ Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid(value)),
        Some(other) => Err(invalid(other)),
    }
}

/// A coordinate or amount: a finite number, possibly written as a string (empty means none).
pub fn number(object: &Object, key: &str) -> Result<Option<f64>, String> {
    let invalid = |value: &Value| format!("`{key}` must be a number, found {value}");
    let parsed = match object.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(value @ Value::Number(n)) => n.as_f64().ok_or_else(|| invalid(value))?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(value @ Value::String(s)) => s
            .trim()
            .replace(',', ".")
            .parse::<f64>()
            .map_err(|_| invalid(value))?,
        Some(other) => return Err(invalid(other)),
    };
    if parsed.is_finite() {
        Ok(Some(parsed))
    } else {
        Err(format!("`{key}` must be a finite number, found {parsed}"))
    }
}

pub fn object<'a>(object: &'a Object, key: &str) -> Result<Option<&'a Object>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(format!("`{key}` must be an object, found {}", kind(other))),
    }
}

/// A list of strings; a single string counts as a list of one.
pub fn strings(object: &Object, key: &str) -> Result<Vec<String>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(non_empty(s.trim()).into_iter().collect()),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|item| !item.is_null())
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_owned()),
                other => Err(format!("`{key}` must list strings, found {other}")),
            })
            .collect(),
        Some(other) => Err(format!(
            "`{key}` must be a list of strings, found {}",
            kind(other)
        )),
    }
}

/// A date-time: RFC 3339 with offset, a local time without offset, or a date alone.
pub fn when(object: &Object, key: &str) -> Result<Option<When>, String> {
    let Some(value) = text(object, key)? else {
        return Ok(None);
    };
    parse_when(&value)
        .map(Some)
        .ok_or_else(|| format!("`{key}` is not a date-time: {value:?} (expected RFC 3339 such as 2027-03-14T18:30:00+01:00)"))
}

pub fn instant(object: &Object, key: &str) -> Result<Option<DateTime<Utc>>, String> {
    match when(object, key)? {
        None => Ok(None),
        Some(When::Instant(at)) => Ok(Some(at.with_timezone(&Utc))),
        Some(_) => Err(format!("`{key}` must carry a UTC offset")),
    }
}

pub fn parse_when(value: &str) -> Option<When> {
    let value = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(When::Instant(at));
    }
    // ISO 8601 variants seen in exports: a space instead of T, an offset without colon.
    for format in [
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M%:z",
    ] {
        if let Ok(at) = DateTime::parse_from_str(value, format) {
            return Some(When::Instant(at));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(value, format) {
            return Some(When::Local(local));
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .map(When::Date)
}

fn truncate(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object_of(value: Value) -> Object {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn parse_when_reads_each_form() {
        assert!(matches!(
            parse_when("2027-03-14T18:30:00+01:00"),
            Some(When::Instant(_))
        ));
        assert!(matches!(
            parse_when("2027-03-14T18:30:00Z"),
            Some(When::Instant(_))
        ));
        assert!(matches!(
            parse_when("2027-03-14T18:30:00-0400"),
            Some(When::Instant(_))
        ));
        assert!(matches!(
            parse_when("2027-03-14T18:30:00"),
            Some(When::Local(_))
        ));
        assert!(matches!(parse_when("2027-03-14"), Some(When::Date(_))));
        assert_eq!(parse_when("demain"), None);
        assert_eq!(parse_when(""), None);
    }

    #[test]
    fn number_accepts_strings_and_rejects_nan() {
        let fields = object_of(json!({"a": "45.76", "b": "", "c": "NaN", "d": 4.8, "e": "x"}));

        assert_eq!(number(&fields, "a"), Ok(Some(45.76)));
        assert_eq!(number(&fields, "b"), Ok(None));
        assert!(number(&fields, "c").is_err());
        assert_eq!(number(&fields, "d"), Ok(Some(4.8)));
        assert!(number(&fields, "e").is_err());
    }

    #[test]
    fn count_rejects_negative() {
        let fields = object_of(json!({"a": -3, "b": "12", "c": 1.5}));

        assert!(count(&fields, "a").is_err());
        assert_eq!(count(&fields, "b"), Ok(Some(12)));
        assert!(count(&fields, "c").is_err());
    }

    #[test]
    fn text_cuts_oversized_values() {
        let fields = object_of(json!({"title": "é".repeat(MAX_TEXT_BYTES)}));

        let title = text(&fields, "title").unwrap().unwrap();
        assert!(title.len() <= MAX_TEXT_BYTES);
    }
}
