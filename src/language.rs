//! Language detection for events whose feed declares no language, from their title and
//! description, with the `whatlang` crate. A declared language always wins; normalization
//! calls [`detect`] only when the event has none.

use whatlang::{Detector, Lang};

/// The languages detection may return, with their ISO 639-1 codes: those fresque sessions
/// are run in across Europe. Restricting the candidates makes short texts far more
/// reliable than choosing among every language whatlang knows (about 70).
const CANDIDATES: &[(Lang, &str)] = &[
    (Lang::Fra, "fr"),
    (Lang::Eng, "en"),
    (Lang::Deu, "de"),
    (Lang::Spa, "es"),
    (Lang::Ita, "it"),
    (Lang::Nld, "nl"),
    (Lang::Por, "pt"),
];

/// Texts shorter than this many letters are not guessed: a title alone such as "Fresque du
/// Climat" is mostly a family name and says little about the session's language.
const MIN_LETTERS: usize = 25;

/// Names of the candidate languages in French, English and the language itself, folded
/// (lower case, no accents), as calendars write them in `CATEGORIES`.
const NAMES: &[(&str, &str)] = &[
    ("francais", "fr"),
    ("french", "fr"),
    ("anglais", "en"),
    ("english", "en"),
    ("allemand", "de"),
    ("german", "de"),
    ("deutsch", "de"),
    ("espagnol", "es"),
    ("spanish", "es"),
    ("espanol", "es"),
    ("italien", "it"),
    ("italian", "it"),
    ("italiano", "it"),
    ("neerlandais", "nl"),
    ("dutch", "nl"),
    ("nederlands", "nl"),
    ("portugais", "pt"),
    ("portuguese", "pt"),
    ("portugues", "pt"),
];

/// Finds the ISO 639-1 code a free label names, such as `en`, `EN`, `English` or `Français`;
/// `None` for any other label. Only the candidate languages are recognised, so a
/// two-letter label such as `BD` or a family code is never taken for a language.
pub fn from_label(label: &str) -> Option<&'static str> {
    let folded = crate::normalize::fold(label.trim());
    CANDIDATES
        .iter()
        .map(|(_, code)| *code)
        .find(|code| *code == folded)
        .or_else(|| {
            NAMES
                .iter()
                .find(|(name, _)| *name == folded)
                .map(|(_, code)| *code)
        })
}

/// Detects the language of an event's title and description, as an ISO 639-1 code, or
/// `None` when the text is too short or the detector is not confident.
pub fn detect(title: &str, description: &str) -> Option<&'static str> {
    let text = prose(&format!("{title}\n{description}"));
    if text.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let detector = Detector::with_allowlist(CANDIDATES.iter().map(|(lang, _)| *lang).collect());
    let info = detector.detect(&text)?;
    if !info.is_reliable() {
        return None;
    }
    CANDIDATES
        .iter()
        .find(|(lang, _)| *lang == info.lang())
        .map(|(_, code)| *code)
}

/// Removes links, e-mail addresses and tokens without letters, which carry no language and
/// skew trigram statistics.
fn prose(text: &str) -> String {
    text.split_whitespace()
        .filter(|token| {
            let lower = token.to_ascii_lowercase();
            !lower.contains("http") && !lower.contains("www.") && !lower.contains('@')
        })
        .filter(|token| token.chars().any(char::is_alphabetic))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_description_is_french() {
        let found = detect(
            "Atelier du soir",
            "En trois heures, comprenez le fonctionnement du climat et les conséquences de son dérèglement, en petits groupes.",
        );

        assert_eq!(found, Some("fr"));
    }

    #[test]
    fn english_description_is_english() {
        let found = detect(
            "Climate Fresk in London",
            "In three hours, understand how the climate works and what its disruption means, in small groups.",
        );

        assert_eq!(found, Some("en"));
    }

    #[test]
    fn german_description_is_german() {
        let found = detect(
            "Klima-Puzzle in Zürich",
            "In drei Stunden verstehen Sie in kleinen Gruppen, wie das Klima funktioniert und was seine Veränderung bedeutet.",
        );

        assert_eq!(found, Some("de"));
    }

    #[test]
    fn spanish_description_is_spanish() {
        let found = detect(
            "Mural del Clima en Madrid",
            "En tres horas, comprenda cómo funciona el clima y las consecuencias de su alteración, en pequeños grupos.",
        );

        assert_eq!(found, Some("es"));
    }

    #[test]
    fn labels_name_languages() {
        assert_eq!(from_label("en"), Some("en"));
        assert_eq!(from_label(" Français "), Some("fr"));
        assert_eq!(from_label("ENGLISH"), Some("en"));
        assert_eq!(from_label("Formation"), None);
        assert_eq!(from_label("BD"), None);
    }

    #[test]
    fn short_title_is_not_guessed() {
        assert_eq!(detect("Fresque du Climat", ""), None);
    }

    #[test]
    fn links_do_not_count_as_text() {
        let found = detect(
            "Atelier",
            "https://billetterie.example.org/sessions/11402/inscription contact@example.org",
        );

        assert_eq!(found, None);
    }
}
