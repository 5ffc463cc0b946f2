//! Compact in-memory place tables: one per source (the embedded file, an operator CSV).
//!
//! Names live in one text arena and entries are 32 bytes, so the 191,000 embedded places
//! take about 14 MB (an estimate from the field and text sizes). Folded names sit in a
//! sorted key list searched by binary search, and postal codes in a sorted list.

use std::fmt;

use super::query::fold;

/// Sentinel for an absent index in the `u32` fields of [`Entry`].
const NONE: u32 = u32::MAX;

/// One place.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// Start of the name in the text arena. The admin code follows the name there.
    text_start: u32,
    name_len: u16,
    admin_len: u8,
    country: [u8; 2],
    /// Degrees as `f32`, about 1 m of resolution, enough for a town centre.
    latitude: f32,
    longitude: f32,
    /// Population, 0 when unknown.
    population: u32,
    /// Entry whose position this one borrows, or [`NONE`] for a place with its own position.
    borrowed_from: u32,
    /// Smallest postal code listing this entry, as an index into the postal codes, or [`NONE`].
    postal_code: u32,
    /// Number of postal codes listing this entry, saturating at 255.
    postal_count: u8,
}

/// A folded name (or alias) pointing at an entry.
#[derive(Debug, Clone, Copy)]
struct Key {
    start: u32,
    len: u32,
    entry: u32,
}

/// A postal code and the range of `postal_entries` that lists its entries, best first.
#[derive(Debug, Clone, Copy)]
struct PostalCode {
    first: u32,
    count: u32,
}

/// One place before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NewEntry<'a> {
    pub name: &'a str,
    pub aliases: Vec<&'a str>,
    pub country: [u8; 2],
    pub admin: &'a str,
    pub latitude: f32,
    pub longitude: f32,
    pub population: Option<u32>,
    pub borrowed_from: Option<u32>,
}

/// A table of places with its name and postal code indexes.
#[derive(Default)]
pub(super) struct Table {
    text: String,
    entries: Vec<Entry>,
    key_text: String,
    keys: Vec<Key>,
    /// Five ASCII digits per code, in ascending order.
    postal_text: String,
    postal_codes: Vec<PostalCode>,
    postal_entries: Vec<u32>,
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("entries", &self.entries.len())
            .field("keys", &self.keys.len())
            .field("postal_codes", &self.postal_codes.len())
            .finish()
    }
}

/// Builds a table: entries first, then postal codes, then [`TableBuilder::finish`].
#[derive(Default)]
pub(super) struct TableBuilder {
    table: Table,
    postal: Vec<(String, Vec<u32>)>,
}

impl TableBuilder {
    /// Adds a place and returns its index. Names longer than 65,535 bytes and admin codes
    /// longer than 255 bytes are cut at a character boundary.
    pub(super) fn push(&mut self, new: &NewEntry<'_>) -> u32 {
        let table = &mut self.table;
        let index = table.entries.len() as u32;
        let name = truncate(new.name, u16::MAX as usize);
        let admin = truncate(new.admin, u8::MAX as usize);

        let text_start = table.text.len() as u32;
        table.text.push_str(name);
        table.text.push_str(admin);
        table.entries.push(Entry {
            text_start,
            name_len: name.len() as u16,
            admin_len: admin.len() as u8,
            country: new.country,
            latitude: new.latitude,
            longitude: new.longitude,
            population: new.population.unwrap_or(0),
            borrowed_from: new.borrowed_from.unwrap_or(NONE),
            postal_code: NONE,
            postal_count: 0,
        });

        let mut folded_names: Vec<String> = Vec::with_capacity(1 + new.aliases.len());
        for text in std::iter::once(&new.name).chain(&new.aliases) {
            let folded = fold(text);
            if !folded.is_empty() && !folded_names.contains(&folded) {
                folded_names.push(folded);
            }
        }
        for folded in folded_names {
            table.keys.push(Key {
                start: table.key_text.len() as u32,
                len: folded.len() as u32,
                entry: index,
            });
            table.key_text.push_str(&folded);
        }
        index
    }

    /// Number of entries pushed so far.
    pub(super) fn len(&self) -> usize {
        self.table.entries.len()
    }

    /// Lists entries under a five-digit postal code, best first. Entries given for the same
    /// code in several calls are appended in call order.
    pub(super) fn push_postal_code(&mut self, code: &str, entries: Vec<u32>) {
        self.postal.push((code.to_string(), entries));
    }

    /// Sorts the indexes and links each entry to its smallest postal code.
    pub(super) fn finish(mut self) -> Table {
        self.postal.sort_by(|a, b| a.0.cmp(&b.0));
        let mut table = self.table;

        for (code, entries) in self.postal {
            let same_as_last = table.postal_text.len() >= 5
                && table.postal_text[table.postal_text.len() - 5..] == code;
            if !same_as_last {
                table.postal_text.push_str(&code);
                table.postal_codes.push(PostalCode {
                    first: table.postal_entries.len() as u32,
                    count: 0,
                });
            }
            let code_index = (table.postal_codes.len() - 1) as u32;
            for entry in entries {
                let Some(stored) = table.entries.get_mut(entry as usize) else {
                    continue;
                };
                if stored.postal_code == NONE {
                    stored.postal_code = code_index;
                }
                stored.postal_count = stored.postal_count.saturating_add(1);
                table.postal_entries.push(entry);
                if let Some(last) = table.postal_codes.last_mut() {
                    last.count += 1;
                }
            }
        }

        let key_text = &table.key_text;
        table.keys.sort_unstable_by(|a, b| {
            key_str(key_text, a)
                .cmp(key_str(key_text, b))
                .then(a.entry.cmp(&b.entry))
        });

        // Growth by doubling can leave up to half of each buffer unused.
        table.text.shrink_to_fit();
        table.entries.shrink_to_fit();
        table.key_text.shrink_to_fit();
        table.keys.shrink_to_fit();
        table.postal_entries.shrink_to_fit();
        table
    }
}

fn truncate(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn key_str<'a>(key_text: &'a str, key: &Key) -> &'a str {
    &key_text[key.start as usize..(key.start + key.len) as usize]
}

impl Table {
    /// Number of places.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Number of postal codes.
    pub(super) fn postal_code_count(&self) -> usize {
        self.postal_codes.len()
    }

    pub(super) fn name(&self, entry: u32) -> &str {
        let entry = &self.entries[entry as usize];
        let start = entry.text_start as usize;
        &self.text[start..start + entry.name_len as usize]
    }

    pub(super) fn admin(&self, entry: u32) -> &str {
        let entry = &self.entries[entry as usize];
        let start = entry.text_start as usize + entry.name_len as usize;
        &self.text[start..start + entry.admin_len as usize]
    }

    /// Country code as text; an invalid stored code reads as empty.
    pub(super) fn country(&self, entry: u32) -> &str {
        std::str::from_utf8(&self.entries[entry as usize].country).unwrap_or_default()
    }

    /// (latitude, longitude) in degrees.
    pub(super) fn position(&self, entry: u32) -> (f32, f32) {
        let entry = &self.entries[entry as usize];
        (entry.latitude, entry.longitude)
    }

    pub(super) fn population(&self, entry: u32) -> Option<u32> {
        let population = self.entries[entry as usize].population;
        (population > 0).then_some(population)
    }

    pub(super) fn borrowed_from(&self, entry: u32) -> Option<u32> {
        let borrowed = self.entries[entry as usize].borrowed_from;
        (borrowed != NONE).then_some(borrowed)
    }

    /// The smallest postal code listing the entry.
    pub(super) fn postal_code(&self, entry: u32) -> Option<&str> {
        let index = self.entries[entry as usize].postal_code;
        (index != NONE).then(|| self.postal_code_text(index as usize))
    }

    pub(super) fn postal_count(&self, entry: u32) -> u8 {
        self.entries[entry as usize].postal_count
    }

    fn postal_code_text(&self, index: usize) -> &str {
        &self.postal_text[index * 5..index * 5 + 5]
    }

    /// Entries whose folded name or alias equals `folded`.
    pub(super) fn exact<'a>(&'a self, folded: &'a str) -> impl Iterator<Item = u32> + 'a {
        self.prefixed(folded)
            .filter(move |(_, key)| *key == folded)
            .map(|(entry, _)| entry)
    }

    /// Entries whose folded name or alias starts with `prefix`, with that folded name. An
    /// entry appears once per matching name.
    pub(super) fn prefixed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (u32, &'a str)> + 'a {
        let start = self
            .keys
            .partition_point(|key| key_str(&self.key_text, key) < prefix);
        self.keys[start..]
            .iter()
            .map(|key| (key.entry, key_str(&self.key_text, key)))
            .take_while(move |(_, key)| key.starts_with(prefix))
    }

    /// Entries listed under a postal code, best first; empty for an unknown code.
    pub(super) fn postal_entries(&self, code: &str) -> &[u32] {
        let found = self.postal_search(code);
        match found {
            Ok(index) => {
                let range = self.postal_codes[index];
                let first = range.first as usize;
                &self.postal_entries[first..first + range.count as usize]
            }
            Err(_) => &[],
        }
    }

    /// Postal codes starting with `prefix`, in ascending order, each with its best entry.
    pub(super) fn postal_prefixed<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let start = match self.postal_search(prefix) {
            Ok(index) | Err(index) => index,
        };
        (start..self.postal_codes.len())
            .map(|index| (self.postal_code_text(index), self.postal_codes[index]))
            .take_while(move |(code, _)| code.starts_with(prefix))
            .filter(|(_, range)| range.count > 0)
            .map(|(code, range)| (code, self.postal_entries[range.first as usize]))
    }

    fn postal_search(&self, code: &str) -> Result<usize, usize> {
        let mut low = 0;
        let mut high = self.postal_codes.len();
        while low < high {
            let middle = (low + high) / 2;
            match self.postal_code_text(middle).cmp(code) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Ok(middle),
            }
        }
        Err(low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &'static str) -> NewEntry<'static> {
        NewEntry {
            name,
            aliases: Vec::new(),
            country: *b"FR",
            admin: "69",
            latitude: 45.0,
            longitude: 4.0,
            population: None,
            borrowed_from: None,
        }
    }

    #[test]
    fn entry_takes_32_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn table_finds_exact_and_prefixed_names() {
        let mut builder = TableBuilder::default();
        builder.push(&entry("Lyon"));
        builder.push(&entry("Lyons-la-Forêt"));
        let table = builder.finish();

        assert_eq!(table.exact("lyon").collect::<Vec<_>>(), vec![0]);
        assert_eq!(table.prefixed("lyon").count(), 2);
    }

    #[test]
    fn table_links_smallest_postal_code() {
        let mut builder = TableBuilder::default();
        builder.push(&entry("Lyon"));
        builder.push_postal_code("69009", vec![0]);
        builder.push_postal_code("69001", vec![0]);
        let table = builder.finish();

        assert_eq!(table.postal_code(0), Some("69001"));
        assert_eq!(table.postal_count(0), 2);
        assert_eq!(table.postal_entries("69009"), &[0]);
        assert!(table.postal_entries("69002").is_empty());
    }

    #[test]
    fn table_merges_repeated_postal_codes() {
        let mut builder = TableBuilder::default();
        builder.push(&entry("Lyon"));
        builder.push(&entry("Villeurbanne"));
        builder.push_postal_code("69100", vec![1]);
        builder.push_postal_code("69100", vec![0]);
        let table = builder.finish();

        assert_eq!(table.postal_entries("69100"), &[1, 0]);
        assert_eq!(table.postal_code_count(), 1);
    }
}
