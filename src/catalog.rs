//! The workshop catalog: the known fresque families with their stable codes, names and the
//! incumbent's integer ids. Feeds may name families the catalog does not know; those keep
//! their own code and are shown under it.

use std::collections::HashMap;

use serde::Serialize;

/// The catalog shipped with multifresque: code, names, legacy id and website per family.
const EMBEDDED_TSV: &str = include_str!("../data/workshops.tsv");

/// One workshop family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workshop {
    /// Stable code, such as `FresqueClimat`.
    pub code: String,
    pub name_fr: String,
    pub name_en: String,
    /// The incumbent's integer `workshop_type`, kept for compatibility with its consumers.
    pub legacy_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

/// All known families, looked up by code (case-insensitive) or legacy id.
#[derive(Debug, Clone)]
pub struct Catalog {
    workshops: Vec<Workshop>,
    by_key: HashMap<String, usize>,
}

impl Catalog {
    /// The catalog shipped in the binary.
    pub fn embedded() -> Catalog {
        // The embedded file is checked by a unit test, so parsing cannot fail at run time.
        Catalog::from_tsv(EMBEDDED_TSV).expect("embedded workshop catalog is valid")
    }

    /// Parses a tab-separated catalog with the header
    /// `legacy_id, code, name_fr, name_en, website`.
    ///
    /// # Errors
    ///
    /// Returns a message naming the line when a row has no code or a bad legacy id.
    pub fn from_tsv(text: &str) -> Result<Catalog, String> {
        let mut workshops = Vec::new();
        for (index, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let columns: Vec<&str> = line.split('\t').map(str::trim).collect();
            let column = |i: usize| columns.get(i).copied().unwrap_or("");
            let code = column(1);
            if code.is_empty() {
                return Err(format!("line {}: missing code", index + 1));
            }
            let legacy_id = match column(0) {
                "" => None,
                id => Some(
                    id.parse::<u32>()
                        .map_err(|_| format!("line {}: invalid legacy id {id:?}", index + 1))?,
                ),
            };
            let name_fr = non_empty(column(2)).unwrap_or(code).to_owned();
            let name_en = non_empty(column(3)).unwrap_or(&name_fr).to_owned();
            workshops.push(Workshop {
                code: code.to_owned(),
                name_fr,
                name_en,
                legacy_id,
                website: non_empty(column(4)).map(str::to_owned),
            });
        }
        Ok(Catalog::new(workshops))
    }

    fn new(workshops: Vec<Workshop>) -> Catalog {
        let mut by_key = HashMap::new();
        for (position, workshop) in workshops.iter().enumerate() {
            by_key.insert(workshop.code.to_lowercase(), position);
            if let Some(id) = workshop.legacy_id {
                by_key.insert(id.to_string(), position);
            }
        }
        Catalog { workshops, by_key }
    }

    pub fn all(&self) -> &[Workshop] {
        &self.workshops
    }

    /// Finds a family by code (any case) or by legacy integer id written as text.
    pub fn get(&self, code_or_legacy_id: &str) -> Option<&Workshop> {
        let key = code_or_legacy_id.trim().to_lowercase();
        self.by_key
            .get(&key)
            .map(|&position| &self.workshops[position])
    }

    /// Finds a family by the incumbent's integer id.
    pub fn by_legacy_id(&self, legacy_id: i64) -> Option<&Workshop> {
        self.get(&legacy_id.to_string())
    }

    /// The catalog code for a family name or code from a feed; an unknown value is kept as
    /// its own code, trimmed, so that no event is dropped for naming a new family.
    pub fn canonical_code(&self, value: &str) -> String {
        match self.get(value) {
            Some(workshop) => workshop.code.clone(),
            None => value.trim().to_owned(),
        }
    }

    /// The French and English names of a family for full-text search, or the code itself for
    /// an unknown family.
    pub fn search_names(&self, code: &str) -> String {
        match self.get(code) {
            Some(w) => format!("{} {} {}", w.name_fr, w.name_en, w.code),
            None => code.to_owned(),
        }
    }
}

fn non_empty(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_lists_every_family() {
        let catalog = Catalog::embedded();

        assert_eq!(catalog.all().len(), 43);
        let climate = catalog.get("FresqueClimat").unwrap();
        assert_eq!(climate.legacy_id, Some(200));
        assert_eq!(climate.name_fr, "Fresque du Climat");
        assert_eq!(climate.name_en, "Climate Fresk");
    }

    #[test]
    fn lookup_by_legacy_id_and_any_case() {
        let catalog = Catalog::embedded();

        assert_eq!(catalog.by_legacy_id(3).unwrap().code, "FresqueNumerique");
        assert_eq!(catalog.get("fresqueclimat").unwrap().code, "FresqueClimat");
        assert_eq!(catalog.get("  200 ").unwrap().code, "FresqueClimat");
    }

    #[test]
    fn family_without_english_name_falls_back_to_french() {
        let catalog = Catalog::embedded();

        let movement = catalog.get("FresqueDuMouvement").unwrap();
        assert_eq!(movement.name_en, "Fresque du Mouvement");
        assert_eq!(movement.website, None);
    }

    #[test]
    fn unknown_family_keeps_its_own_code() {
        let catalog = Catalog::embedded();

        assert_eq!(
            catalog.canonical_code(" FresqueDesMontagnes "),
            "FresqueDesMontagnes"
        );
        assert!(catalog.get("FresqueDesMontagnes").is_none());
    }
}
