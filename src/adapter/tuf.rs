//! Trouver une Fresque export adapter: the incumbent's JSON array of flat records, one per
//! session, with an integer `workshop_type`, boolean audience flags and string coordinates.

use serde_json::Value;

use super::json::{self, Object};
use super::{AdapterError, Context, Parsed};
use crate::event::{Attendance, Audience, Draft, Location, Rejection, Status};

/// Reads the whole export.
///
/// # Errors
///
/// Returns [`AdapterError`] when the bytes are not a JSON array.
pub fn parse(bytes: &[u8], _context: &Context) -> Result<Parsed, AdapterError> {
    let document: Value = serde_json::from_slice(bytes)?;
    let Value::Array(records) = document else {
        return Err(AdapterError::WrongFormat {
            expected: "Trouver une Fresque",
            detail: format!(
                "the document is {}, not an array of records",
                json::kind(&document)
            ),
        });
    };

    let mut parsed = Parsed::default();
    for record in &records {
        match read_record(record) {
            Ok(draft) => parsed.drafts.push(draft),
            Err(rejection) => parsed.rejections.push(rejection),
        }
    }
    Ok(parsed)
}

fn read_record(record: &Value) -> Result<Draft, Rejection> {
    let (fields, source_event_id, title) = json::entry_head(record, "a record")?;
    let reject =
        |reason: &str, detail: String| Rejection::new(Some(&source_event_id), reason, detail);
    let invalid = |detail: String| reject("invalid_field", detail);

    let Some(start) = json::when(fields, "start_date").map_err(|d| reject("invalid_start", d))?
    else {
        return Err(reject(
            "missing_start",
            "`start_date` is missing".to_owned(),
        ));
    };
    let flag = |key: &str| json::boolean(fields, key).map(|b| b.unwrap_or(false));
    let online = flag("online").map_err(invalid)?;
    let training = flag("training").map_err(invalid)?;
    let kids = flag("kids").map_err(invalid)?;
    let sold_out = flag("sold_out").map_err(invalid)?;

    Ok(Draft {
        source_event_id: source_event_id.clone(),
        workshop: json::text(fields, "workshop_type").map_err(invalid)?,
        title,
        description: json::text(fields, "description").map_err(invalid)?,
        url: json::text(fields, "source_link").map_err(invalid)?,
        tickets_url: json::text(fields, "tickets_link").map_err(invalid)?,
        start: Some(start),
        end: json::when(fields, "end_date").map_err(|d| reject("invalid_end", d))?,
        attendance: Some(if online {
            Attendance::Online
        } else {
            Attendance::InPerson
        }),
        audience: Some(if training {
            Audience::Training
        } else if kids {
            Audience::Kids
        } else {
            Audience::GeneralPublic
        }),
        languages: json::text(fields, "language_code")
            .map_err(invalid)?
            .into_iter()
            .collect(),
        location: if online {
            Location::default()
        } else {
            read_location(fields).map_err(invalid)?
        },
        status: sold_out.then_some(Status::SoldOut),
        ..Draft::default()
    })
}

fn read_location(fields: &Object) -> Result<Location, String> {
    Ok(Location {
        name: json::text(fields, "location_name")?,
        street: json::text(fields, "address")?,
        postal_code: json::text(fields, "zip_code")?,
        city: json::text(fields, "city")?,
        // The department code (such as `69` or `2A`) is the region the incumbent records.
        region: json::text(fields, "department")?,
        country: json::text(fields, "country_code")?,
        latitude: json::number(fields, "latitude")?,
        longitude: json::number(fields, "longitude")?,
        geocoded: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        Context {
            default_time_zone: chrono_tz::Europe::Paris,
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
            horizon_days: 365,
        }
    }

    fn record() -> Value {
        json!({
            "id": "200-12345", "workshop_type": 200, "title": "Atelier Fresque du Climat",
            "description": "Un atelier", "start_date": "2027-02-03T18:30:00+01:00",
            "end_date": "2027-02-03T21:30:00+01:00", "online": false, "training": false,
            "kids": true, "sold_out": true, "full_location": "MJC, 3 rue X, 69003 Lyon",
            "location_name": "MJC", "address": "3 rue X", "city": "Lyon", "department": "69",
            "zip_code": "69003", "country_code": "fr", "latitude": "45.76", "longitude": "4.85",
            "language_code": "fr", "source_link": "https://example.org/e",
            "tickets_link": "https://example.org/t", "scrape_date": "2026-11-30T10:00:00+01:00"
        })
    }

    #[test]
    fn record_fields_map_to_draft() {
        let bytes = serde_json::to_vec(&json!([record()])).unwrap();

        let parsed = parse(&bytes, &context()).unwrap();
        let draft = &parsed.drafts[0];

        assert_eq!(draft.workshop.as_deref(), Some("200"));
        assert_eq!(draft.audience, Some(Audience::Kids));
        assert_eq!(draft.status, Some(Status::SoldOut));
        assert_eq!(draft.location.latitude, Some(45.76));
        assert_eq!(draft.location.country.as_deref(), Some("fr"));
        assert_eq!(draft.languages, vec!["fr".to_owned()]);
        assert_eq!(draft.tickets_url.as_deref(), Some("https://example.org/t"));
    }

    #[test]
    fn online_record_has_no_location() {
        let mut online = record();
        online["online"] = json!(true);
        online["latitude"] = json!("");
        online["longitude"] = json!("");
        let bytes = serde_json::to_vec(&json!([online])).unwrap();

        let parsed = parse(&bytes, &context()).unwrap();

        assert_eq!(parsed.drafts[0].attendance, Some(Attendance::Online));
        assert!(parsed.drafts[0].location.is_empty());
    }

    #[test]
    fn bad_coordinates_reject_the_record_only() {
        let mut bad = record();
        bad["latitude"] = json!("quarante-cinq");
        let bytes = serde_json::to_vec(&json!([bad, record()])).unwrap();

        let parsed = parse(&bytes, &context()).unwrap();

        assert_eq!(parsed.drafts.len(), 1);
        assert_eq!(parsed.rejections[0].reason, "invalid_field");
        assert!(parsed.rejections[0].detail.contains("latitude"));
    }

    #[test]
    fn object_instead_of_array_is_wrong_format() {
        assert!(matches!(
            parse(b"{}", &context()),
            Err(AdapterError::WrongFormat { .. })
        ));
    }
}
