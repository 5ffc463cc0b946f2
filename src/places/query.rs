//! Text folding and query parsing shared by the place tables and the gazetteer.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Maximum query length in bytes. The longest embedded place name is 97 bytes, so longer
/// input is rejected before folding to keep pathological queries cheap.
pub(super) const MAX_QUERY_BYTES: usize = 200;

/// Country codes of the French overseas departments and collectivities, which GeoNames lists
/// as countries of their own but whose postal codes and departments are French.
const FRENCH_OVERSEAS: [&str; 11] = [
    "GP", "MQ", "GF", "RE", "PM", "YT", "BL", "MF", "WF", "PF", "NC",
];

/// French-speaking neighbours preferred after France when a name is ambiguous.
const FRENCH_SPEAKING: [&str; 4] = ["BE", "CH", "LU", "MC"];

/// Other European countries where fresques are held, preferred next: "London" is the
/// English capital before London, Ontario.
const EUROPE: [&str; 8] = ["GB", "IE", "DE", "AT", "NL", "IT", "ES", "PT"];

/// Country names accepted after a comma ("Paris, France"), folded, in French, English and
/// the local language for the countries feeds mention most.
const COUNTRY_NAMES: [(&str, &str); 44] = [
    ("france", "FR"),
    ("belgique", "BE"),
    ("belgium", "BE"),
    ("belgie", "BE"),
    ("suisse", "CH"),
    ("switzerland", "CH"),
    ("schweiz", "CH"),
    ("svizzera", "CH"),
    ("luxembourg", "LU"),
    ("monaco", "MC"),
    ("canada", "CA"),
    ("allemagne", "DE"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("espagne", "ES"),
    ("spain", "ES"),
    ("espana", "ES"),
    ("italie", "IT"),
    ("italy", "IT"),
    ("italia", "IT"),
    ("royaume uni", "GB"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("angleterre", "GB"),
    ("england", "GB"),
    ("pays bas", "NL"),
    ("netherlands", "NL"),
    ("nederland", "NL"),
    ("portugal", "PT"),
    ("autriche", "AT"),
    ("austria", "AT"),
    ("irlande", "IE"),
    ("ireland", "IE"),
    ("etats unis", "US"),
    ("united states", "US"),
    ("usa", "US"),
    ("reunion", "RE"),
    ("la reunion", "RE"),
    ("guadeloupe", "GP"),
    ("martinique", "MQ"),
    ("guyane", "GF"),
    ("mayotte", "YT"),
    ("nouvelle caledonie", "NC"),
    ("polynesie francaise", "PF"),
];

/// Folds text for matching: lower case, accents removed, any run of punctuation or spaces
/// as one space, and `st`/`ste` expanded to `saint`/`sainte`. Ordinals such as `03`, `3e`,
/// `3ème` or `1er` become plain numbers and a following `arrondissement` is dropped, so
/// "Lyon 03", "Lyon 3e" and "Lyon 3e Arrondissement" fold alike.
pub(super) fn fold(text: &str) -> String {
    let mut folder = Folder::with_capacity(text.len());
    if text.is_ascii() {
        // Fast path for most names: no decomposition needed.
        for c in text.chars() {
            folder.push(c.to_ascii_lowercase());
        }
    } else {
        for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
            match c {
                'œ' | 'Œ' => folder.push_str("oe"),
                'æ' | 'Æ' => folder.push_str("ae"),
                'ß' => folder.push_str("ss"),
                c => c.to_lowercase().for_each(|c| folder.push(c)),
            }
        }
    }
    folder.finish()
}

/// Builds a folded string word by word.
struct Folder {
    folded: String,
    word: String,
    previous_is_number: bool,
}

impl Folder {
    fn with_capacity(capacity: usize) -> Folder {
        Folder {
            folded: String::with_capacity(capacity),
            word: String::new(),
            previous_is_number: false,
        }
    }

    /// Adds a lower-case character: letters and digits extend the word, anything else ends it.
    fn push(&mut self, c: char) {
        if c.is_alphanumeric() {
            self.word.push(c);
        } else {
            self.end_word();
        }
    }

    fn push_str(&mut self, letters: &str) {
        self.word.push_str(letters);
    }

    fn end_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let number = ordinal_number(&word);
        let skipped = self.previous_is_number && (word == "arrondissement" || word == "arr");
        if !skipped {
            let normalized = match (word.as_str(), number) {
                (_, Some(number)) => number,
                ("st", None) => "saint",
                ("ste", None) => "sainte",
                (word, None) => word,
            };
            if !self.folded.is_empty() {
                self.folded.push(' ');
            }
            self.folded.push_str(normalized);
            self.previous_is_number = number.is_some();
        }
        self.word = word;
        self.word.clear();
    }

    fn finish(mut self) -> String {
        self.end_word();
        self.folded
    }
}

/// Returns the digits of a number or ordinal word without leading zeros (`03` and `3eme`
/// give `3`).
fn ordinal_number(word: &str) -> Option<&str> {
    let digits_end = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let (digits, suffix) = word.split_at(digits_end);
    if digits.is_empty() || !matches!(suffix, "" | "e" | "er" | "ere" | "eme" | "ieme") {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed })
}

/// Returns the query as a French postal code when it is exactly five digits, spaces ignored
/// (`69003`, `69 003`).
pub(super) fn as_postal_code(query: &str) -> Option<String> {
    let code: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    let is_code = code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit());
    is_code.then_some(code)
}

/// A country code from a code or a name (`fr`, `FR`, `France`, `Suisse`), upper case.
pub(super) fn country_code(text: &str) -> Option<String> {
    let folded = fold(text);
    if let Some((_, code)) = COUNTRY_NAMES.iter().find(|(name, _)| *name == folded) {
        return Some((*code).to_string());
    }
    let is_code = folded.len() == 2 && folded.bytes().all(|b| b.is_ascii_lowercase());
    is_code.then(|| folded.to_ascii_uppercase())
}

/// Whether two country codes belong together for matching: equal, or both French (France
/// and its overseas departments and collectivities).
pub(super) fn same_country(a: &str, b: &str) -> bool {
    a == b || (is_french(a) && is_french(b))
}

fn is_french(country: &str) -> bool {
    country == "FR" || FRENCH_OVERSEAS.contains(&country)
}

/// Preference of a country when a name is ambiguous, lowest first: France, its overseas
/// departments, the French-speaking neighbours, other European countries, Canada, then the
/// rest of the world.
pub(super) fn country_tier(country: &str) -> u8 {
    if country == "FR" {
        0
    } else if FRENCH_OVERSEAS.contains(&country) {
        1
    } else if FRENCH_SPEAKING.contains(&country) {
        2
    } else if EUROPE.contains(&country) {
        3
    } else if country == "CA" {
        4
    } else {
        5
    }
}

/// What a trailing ", something" narrows a name to: a country, or an admin code such as a
/// French department (`69`, `2A`, `974`), a Swiss canton (`GE`) or a US state (`TX`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Qualifier {
    country: Option<String>,
    admin: String,
}

impl Qualifier {
    /// Parses the text after the last comma; `None` when it is empty.
    pub(super) fn parse(text: &str) -> Option<Qualifier> {
        let admin = fold(text);
        if admin.is_empty() {
            return None;
        }
        Some(Qualifier {
            country: country_code(text),
            admin,
        })
    }

    /// Whether a place with this country and admin code satisfies the qualifier.
    pub(super) fn matches(&self, country: &str, admin: &str) -> bool {
        let country_matches = self
            .country
            .as_deref()
            .is_some_and(|wanted| same_country(wanted, country));
        country_matches || (!admin.is_empty() && fold(admin) == self.admin)
    }
}

/// Splits "name, qualifier" at the last comma. A query without a comma has no qualifier.
pub(super) fn split_qualifier(query: &str) -> (&str, Option<&str>) {
    match query.rsplit_once(',') {
        Some((name, qualifier)) => (name.trim(), Some(qualifier.trim())),
        None => (query.trim(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_accents_and_case() {
        assert_eq!(fold("Saint-Étienne"), "saint etienne");
    }

    #[test]
    fn fold_expands_saint_abbreviations() {
        assert_eq!(fold("St Etienne"), "saint etienne");
        assert_eq!(fold("Ste-Foy-lès-Lyon"), "sainte foy les lyon");
    }

    #[test]
    fn fold_turns_apostrophes_into_spaces() {
        assert_eq!(fold("L'Haÿ-les-Roses"), "l hay les roses");
    }

    #[test]
    fn fold_normalizes_arrondissement_ordinals() {
        assert_eq!(fold("Lyon 03"), "lyon 3");
        assert_eq!(fold("Lyon 3e Arrondissement"), "lyon 3");
        assert_eq!(fold("Marseille 1er"), "marseille 1");
        assert_eq!(fold("Paris 11ème"), "paris 11");
    }

    #[test]
    fn fold_expands_ligatures() {
        assert_eq!(fold("Cœuvres"), "coeuvres");
    }

    #[test]
    fn postal_code_accepts_five_digits() {
        assert_eq!(as_postal_code("69 003"), Some("69003".to_string()));
        assert_eq!(as_postal_code("6900"), None);
        assert_eq!(as_postal_code("69a03"), None);
    }

    #[test]
    fn country_code_from_names_and_codes() {
        assert_eq!(country_code("France"), Some("FR".to_string()));
        assert_eq!(country_code("suisse"), Some("CH".to_string()));
        assert_eq!(country_code("be"), Some("BE".to_string()));
        assert_eq!(country_code("Narnia"), None);
    }

    #[test]
    fn qualifier_matches_department_code() {
        let qualifier = Qualifier::parse("2A").expect("non-empty qualifier");
        assert!(qualifier.matches("FR", "2A"));
        assert!(!qualifier.matches("FR", "2B"));
    }

    #[test]
    fn qualifier_france_covers_overseas() {
        let qualifier = Qualifier::parse("France").expect("non-empty qualifier");
        assert!(qualifier.matches("RE", "974"));
    }
}
