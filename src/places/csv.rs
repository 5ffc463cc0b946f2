//! Reading of an operator-supplied places CSV.
//!
//! The header names the columns, in any order: `name`, `country`, `latitude`, `longitude`
//! are required, `admin`, `postal_code` and `population` optional. Fields follow RFC 4180
//! quoting (double quotes, `""` for a quote) but may not span lines.

use std::path::Path;

use super::PlacesError;
use super::query::as_postal_code;
use super::table::{NewEntry, Table, TableBuilder};

const REQUIRED: [&str; 4] = ["name", "country", "latitude", "longitude"];
const OPTIONAL: [&str; 3] = ["admin", "postal_code", "population"];

/// Column positions found in the header.
struct Columns {
    name: usize,
    country: usize,
    latitude: usize,
    longitude: usize,
    admin: Option<usize>,
    postal_code: Option<usize>,
    population: Option<usize>,
    count: usize,
}

/// Parses the CSV text read from `path` into a table.
///
/// # Errors
///
/// [`PlacesError::InvalidCsv`] with the 1-based line number for a bad header or row.
pub(super) fn parse(path: &Path, text: &str) -> Result<Table, PlacesError> {
    let invalid = |line: usize, message: String| PlacesError::InvalidCsv {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();

    let Some((_, header)) = lines.next() else {
        return Err(invalid(1, "missing header line".to_string()));
    };
    let header = split_fields(header).map_err(|message| invalid(1, message))?;
    let columns = Columns::from_header(&header).map_err(|message| invalid(1, message))?;

    let mut rows = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_fields(line).map_err(|message| invalid(index + 1, message))?;
        let row = Row::parse(&columns, &fields).map_err(|message| invalid(index + 1, message))?;
        rows.push(row);
    }

    let mut builder = TableBuilder::default();
    for row in &rows {
        let entry = builder.push(&row.entry());
        if let Some(code) = &row.postal_code {
            builder.push_postal_code(code, vec![entry]);
        }
    }
    Ok(builder.finish())
}

impl Columns {
    fn from_header(header: &[String]) -> Result<Columns, String> {
        let position = |name: &str| header.iter().position(|column| column.trim() == name);

        for column in header {
            let column = column.trim();
            if !REQUIRED.contains(&column) && !OPTIONAL.contains(&column) {
                return Err(format!(
                    "unknown column {column:?}; expected {} and optionally {}",
                    REQUIRED.join(", "),
                    OPTIONAL.join(", ")
                ));
            }
        }
        let required = |name: &str| position(name).ok_or(format!("missing column {name:?}"));

        Ok(Columns {
            name: required("name")?,
            country: required("country")?,
            latitude: required("latitude")?,
            longitude: required("longitude")?,
            admin: position("admin"),
            postal_code: position("postal_code"),
            population: position("population"),
            count: header.len(),
        })
    }
}

/// One validated CSV row.
struct Row {
    name: String,
    country: [u8; 2],
    admin: String,
    latitude: f32,
    longitude: f32,
    postal_code: Option<String>,
    population: Option<u32>,
}

impl Row {
    fn parse(columns: &Columns, fields: &[String]) -> Result<Row, String> {
        if fields.len() != columns.count {
            return Err(format!(
                "expected {} fields, found {}",
                columns.count,
                fields.len()
            ));
        }
        let field = |index: usize| fields[index].trim();
        let optional = |index: Option<usize>| index.map(field).filter(|value| !value.is_empty());

        let name = field(columns.name);
        if name.is_empty() {
            return Err("empty name".to_string());
        }
        let country = parse_country(field(columns.country))?;
        let latitude = parse_degrees("latitude", field(columns.latitude), 90.0)?;
        let longitude = parse_degrees("longitude", field(columns.longitude), 180.0)?;
        let postal_code = match optional(columns.postal_code) {
            Some(code) => Some(as_postal_code(code).ok_or(format!(
                "invalid postal_code {code:?}: expected a five-digit French postal code"
            ))?),
            None => None,
        };
        let population = match optional(columns.population) {
            Some(text) => Some(
                text.parse::<u32>()
                    .map_err(|_| format!("invalid population {text:?}: expected a whole number"))?,
            ),
            None => None,
        };

        Ok(Row {
            name: name.to_string(),
            country,
            admin: optional(columns.admin).unwrap_or_default().to_string(),
            latitude,
            longitude,
            postal_code,
            population,
        })
    }

    fn entry(&self) -> NewEntry<'_> {
        NewEntry {
            name: &self.name,
            aliases: Vec::new(),
            country: self.country,
            admin: &self.admin,
            latitude: self.latitude,
            longitude: self.longitude,
            population: self.population,
            borrowed_from: None,
        }
    }
}

fn parse_country(text: &str) -> Result<[u8; 2], String> {
    let upper = text.to_ascii_uppercase();
    match upper.as_bytes() {
        [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok([*a, *b]),
        _ => Err(format!(
            "invalid country {text:?}: expected an ISO 3166-1 alpha-2 code such as FR"
        )),
    }
}

fn parse_degrees(column: &str, text: &str, limit: f32) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(degrees) if degrees.is_finite() && degrees.abs() <= limit => Ok(degrees),
        _ => Err(format!(
            "invalid {column} {text:?}: expected decimal degrees between -{limit} and {limit}"
        )),
    }
}

/// Splits one CSV line into fields, unquoting quoted ones.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;

    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if in_quotes {
        return Err("unterminated quoted field (fields may not span lines)".to_string());
    }
    fields.push(field);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_fields_handles_quotes() {
        let fields = split_fields(r#"a,"b, c","d ""e""""#).expect("valid line");
        assert_eq!(fields, vec!["a", "b, c", r#"d "e""#]);
    }

    #[test]
    fn split_fields_rejects_open_quote() {
        assert!(split_fields(r#"a,"b"#).is_err());
    }

    #[test]
    fn parse_rejects_unknown_column() {
        let error = parse(
            Path::new("x.csv"),
            "name,country,latitude,longitude,postcode\n",
        )
        .expect_err("unknown column");
        assert!(error.to_string().contains("postcode"), "{error}");
    }

    #[test]
    fn parse_rejects_missing_column() {
        let error =
            parse(Path::new("x.csv"), "name,country,latitude\n").expect_err("missing column");
        assert!(error.to_string().contains("longitude"), "{error}");
    }
}
