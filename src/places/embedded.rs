//! Decoding of the embedded gazetteer file `data/places.tsv.gz`.
//!
//! `scripts/build-gazetteer.py` documents the format: `#` comment lines, `P` records (name,
//! country, admin, latitude, longitude, `|`-separated aliases, index of the place whose
//! position is borrowed) and `C` records (postal code, comma-separated place indexes).

use std::io::Read;

use flate2::read::GzDecoder;

use super::table::{NewEntry, Table, TableBuilder};

/// The gzip'd gazetteer built into the binary, about 2.7 MB.
pub(super) static PLACES_TSV_GZ: &[u8] = include_bytes!("../../data/places.tsv.gz");

/// Decompresses and parses the gzip'd gazetteer.
///
/// # Errors
///
/// Returns a message naming the line when the file is not gzip, not UTF-8 or a record is
/// malformed.
pub(super) fn load(gzipped: &[u8]) -> Result<Table, String> {
    let mut text = String::new();
    GzDecoder::new(gzipped)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot decompress the embedded gazetteer: {error}"))?;

    let mut builder = TableBuilder::default();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let fields: Vec<&str> = line.split('\t').collect();
        let parsed = match fields.first() {
            Some(&"P") => parse_place(&fields, &mut builder),
            Some(&"C") => parse_postal_code(&fields, &mut builder),
            _ if line.is_empty() || line.starts_with('#') => Ok(()),
            _ => Err("unknown record kind".to_string()),
        };
        parsed.map_err(|message| format!("embedded gazetteer line {line_number}: {message}"))?;
    }
    Ok(builder.finish())
}

fn parse_place(fields: &[&str], builder: &mut TableBuilder) -> Result<(), String> {
    let [
        _,
        name,
        country,
        admin,
        latitude,
        longitude,
        aliases,
        borrowed,
    ] = fields
    else {
        return Err(format!("expected 8 fields, found {}", fields.len()));
    };

    let country: [u8; 2] = country
        .as_bytes()
        .try_into()
        .map_err(|_| format!("invalid country code {country:?}"))?;
    let latitude: f32 = latitude
        .parse()
        .map_err(|_| format!("invalid latitude {latitude:?}"))?;
    let longitude: f32 = longitude
        .parse()
        .map_err(|_| format!("invalid longitude {longitude:?}"))?;
    let borrowed_from = match *borrowed {
        "" => None,
        index => Some(parse_index(index, builder.len())?),
    };

    builder.push(&NewEntry {
        name,
        aliases: aliases
            .split('|')
            .filter(|alias| !alias.is_empty())
            .collect(),
        country,
        admin,
        latitude,
        longitude,
        population: None,
        borrowed_from,
    });
    Ok(())
}

fn parse_postal_code(fields: &[&str], builder: &mut TableBuilder) -> Result<(), String> {
    let [_, code, indexes] = fields else {
        return Err(format!("expected 3 fields, found {}", fields.len()));
    };
    if code.len() != 5 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid postal code {code:?}"));
    }

    let entries = indexes
        .split(',')
        .map(|index| parse_index(index, builder.len()))
        .collect::<Result<Vec<u32>, String>>()?;
    builder.push_postal_code(code, entries);
    Ok(())
}

/// Parses a place index, which must point at a place already read.
fn parse_index(text: &str, places_read: usize) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(index) if (index as usize) < places_read => Ok(index),
        _ => Err(format!("invalid place index {text:?}")),
    }
}
