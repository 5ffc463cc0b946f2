//! Interface languages of the pages and the widget: French first, then English, German and
//! Spanish. Holds every participant-facing string, the choice of language from the `hl`
//! parameter or `Accept-Language`, and the formatting of dates and numbers per language.

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use chrono_tz::Tz;

use crate::event::{Attendance, Audience, Status};

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
    De,
    Es,
}

impl Lang {
    /// Every interface language, French first because it is the default.
    pub const ALL: [Lang; 4] = [Lang::Fr, Lang::En, Lang::De, Lang::Es];

    /// Returns the ISO 639-1 code, as used in `hl=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Es => "es",
        }
    }

    /// Returns the language's own name, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Es => "Español",
        }
    }

    /// Parses an ISO 639-1 code, ignoring case and any region subtag (`en-GB`).
    pub fn parse(value: &str) -> Option<Lang> {
        let primary = value.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// Picks the supported language the browser prefers most, or French.
    ///
    /// Reads the `Accept-Language` weights (`fr-CH, en;q=0.8`); a language range with
    /// `q=0` is refused, and ties keep the header's order.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::Fr;
        };
        let mut best: Option<(Lang, f32)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let Some(lang) = Lang::parse(tag) else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(_, top)| weight > top) {
                best = Some((lang, weight));
            }
        }
        best.map_or(Lang::Fr, |(lang, _)| lang)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
            Lang::De => &DE,
            Lang::Es => &ES,
        }
    }
}

/// Every fixed string of the interface in one language.
pub struct Texts {
    pub site_tagline: &'static str,
    pub search_title: &'static str,
    pub search_intro: &'static str,
    pub skip_to_content: &'static str,
    /// The colon between a label and its value, with the spaces the language puts around it.
    pub colon: &'static str,
    pub interface_language: &'static str,
    pub near_label: &'static str,
    pub near_placeholder: &'static str,
    pub near_hint: &'static str,
    pub radius_label: &'static str,
    pub radius_unlimited: &'static str,
    pub text_label: &'static str,
    pub text_placeholder: &'static str,
    pub workshop_label: &'static str,
    pub workshop_all: &'static str,
    pub workshop_chosen: &'static str,
    pub attendance_label: &'static str,
    pub any: &'static str,
    pub include_online: &'static str,
    pub audience_label: &'static str,
    pub language_label: &'static str,
    pub language_any: &'static str,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub sort_label: &'static str,
    pub sort_date: &'static str,
    pub sort_distance: &'static str,
    pub sort_relevance: &'static str,
    pub more_filters: &'static str,
    pub submit: &'static str,
    pub reset: &'static str,
    pub results_heading: &'static str,
    pub no_results_hint: &'static str,
    pub around: &'static str,
    pub approximate_position: &'static str,
    pub online: &'static str,
    pub sold_out: &'static str,
    pub postponed: &'static str,
    pub cancelled: &'static str,
    pub book: &'static str,
    pub organizer_page: &'static str,
    pub previous_page: &'static str,
    pub next_page: &'static str,
    pub pages_label: &'static str,
    pub show_map: &'static str,
    pub show_list: &'static str,
    pub map_label: &'static str,
    pub map_unavailable: &'static str,
    pub invalid_filter: &'static str,
    pub unknown_place: &'static str,
    pub back_to_search: &'static str,
    pub when: &'static str,
    pub where_: &'static str,
    pub family: &'static str,
    pub audience: &'static str,
    pub languages: &'static str,
    pub price: &'static str,
    pub free: &'static str,
    pub seats: &'static str,
    pub add_to_calendar: &'static str,
    pub open_street_map: &'static str,
    pub description: &'static str,
    pub withdrawn_notice: &'static str,
    pub cancelled_notice: &'static str,
    pub postponed_notice: &'static str,
    pub past_notice: &'static str,
    pub event_not_found: &'static str,
    pub event_not_found_hint: &'static str,
    pub page_not_found: &'static str,
    pub widget_title: &'static str,
    pub widget_more: &'static str,
    pub widget_none: &'static str,
    pub footer_places: &'static str,
    pub footer_map: &'static str,
    pub footer_software: &'static str,
    pub time_zone: &'static str,
    weekdays: [&'static str; 7],
    months: [&'static str; 12],
    date_pattern: DatePattern,
    decimal_comma: bool,
    counts: Counts,
    /// In person, online, mixed: in the order of [`Attendance::ALL`].
    attendance_names: [&'static str; 3],
    /// In the order of [`Audience::ALL`].
    audience_names: [&'static str; 4],
    /// The event languages offered in the search form: code and name.
    language_names: &'static [(&'static str, &'static str)],
}

/// The order of weekday, day, month and year in a language.
#[derive(Clone, Copy)]
enum DatePattern {
    /// "mardi 15 décembre 2026", "Tuesday 15 December 2026".
    DayMonthYear,
    /// "Dienstag, 15. Dezember 2026".
    German,
    /// "martes, 15 de diciembre de 2026".
    Spanish,
}

/// Singular and plural forms of the counted phrases.
struct Counts {
    results_none: &'static str,
    result_one: &'static str,
    results_many: &'static str,
    seat_one: &'static str,
    seats_many: &'static str,
    results_range: &'static str,
    distance: &'static str,
}

impl Texts {
    /// "12 ateliers", "1 atelier", "Aucun atelier".
    pub fn result_count(&self, total: usize) -> String {
        match total {
            0 => self.counts.results_none.to_owned(),
            1 => self.counts.result_one.to_owned(),
            n => self
                .counts
                .results_many
                .replace("{n}", &self.integer(n as u64)),
        }
    }

    /// "4 places restantes", "1 place restante".
    pub fn seats_left(&self, seats: u32) -> String {
        if seats == 1 {
            self.counts.seat_one.to_owned()
        } else {
            self.counts
                .seats_many
                .replace("{n}", &self.integer(u64::from(seats)))
        }
    }

    /// "Résultats 21 à 40 sur 57".
    pub fn results_range(&self, first: usize, last: usize, total: usize) -> String {
        self.counts
            .results_range
            .replace("{a}", &self.integer(first as u64))
            .replace("{b}", &self.integer(last as u64))
            .replace("{n}", &self.integer(total as u64))
    }

    /// "à 3,5 km", "3.5 km away".
    pub fn distance(&self, km: f64) -> String {
        self.counts.distance.replace("{d}", &self.decimal(km))
    }

    /// Formats a number with one decimal at most and the language's decimal mark.
    pub fn decimal(&self, value: f64) -> String {
        let text = if value >= 100.0 || value.fract() == 0.0 {
            format!("{value:.0}")
        } else {
            format!("{value:.1}")
        };
        if self.decimal_comma {
            text.replace('.', ",")
        } else {
            text
        }
    }

    /// Formats an integer without digit grouping, because counts here stay small.
    pub fn integer(&self, value: u64) -> String {
        value.to_string()
    }

    /// Formats the long date of an instant in its own offset: "mardi 15 décembre 2026".
    pub fn long_date(&self, at: &DateTime<FixedOffset>) -> String {
        let weekday = self.weekdays[at.weekday().num_days_from_monday() as usize];
        let month = self.months[at.month0() as usize];
        let (day, year) = (at.day(), at.year());
        match self.date_pattern {
            DatePattern::DayMonthYear => format!("{weekday} {day} {month} {year}"),
            DatePattern::German => format!("{weekday}, {day}. {month} {year}"),
            DatePattern::Spanish => format!("{weekday}, {day} de {month} de {year}"),
        }
    }

    /// Date and times of a session in its own zone: "mardi 15 décembre 2026, 18:30 – 21:30
    /// (CET)". An end on another day is written in full.
    pub fn session_time(
        &self,
        start: &DateTime<FixedOffset>,
        end: Option<&DateTime<FixedOffset>>,
        zone: &str,
    ) -> String {
        let zone: Option<Tz> = zone.parse().ok();
        let local = |at: &DateTime<FixedOffset>| match zone {
            Some(tz) => at.with_timezone(&tz).fixed_offset(),
            None => *at,
        };
        let start = local(start);
        let abbreviation = match zone {
            Some(tz) => start.with_timezone(&tz).format("%Z").to_string(),
            None => start.format("%:z").to_string(),
        };

        let mut text = format!("{}, {}", self.long_date(&start), clock(&start));
        if let Some(end) = end.map(local) {
            if end.date_naive() == start.date_naive() {
                text.push_str(&format!(" – {}", clock(&end)));
            } else {
                text.push_str(&format!(" – {}, {}", self.long_date(&end), clock(&end)));
            }
        }
        text.push_str(&format!(" ({abbreviation})"));
        text
    }

    pub fn attendance(&self, attendance: Attendance) -> &'static str {
        match attendance {
            Attendance::InPerson => self.attendance_names[0],
            Attendance::Online => self.attendance_names[1],
            Attendance::Mixed => self.attendance_names[2],
        }
    }

    pub fn audience_name(&self, audience: Audience) -> &'static str {
        match audience {
            Audience::GeneralPublic => self.audience_names[0],
            Audience::Training => self.audience_names[1],
            Audience::Kids => self.audience_names[2],
            Audience::Companies => self.audience_names[3],
        }
    }

    /// Returns a short label for a status other than scheduled.
    pub fn status(&self, status: Status) -> Option<&'static str> {
        match status {
            Status::Scheduled => None,
            Status::Cancelled => Some(self.cancelled),
            Status::Postponed => Some(self.postponed),
            Status::SoldOut => Some(self.sold_out),
        }
    }

    /// Returns the name of an event language in this interface language, or its code when
    /// unknown.
    pub fn language_name<'a>(&self, code: &'a str) -> &'a str {
        match self.language_names.iter().find(|(known, _)| *known == code) {
            Some((_, name)) => name,
            None => code,
        }
    }

    /// Returns the event languages offered in the search form, with their names.
    pub fn event_languages(&self) -> &'static [(&'static str, &'static str)] {
        self.language_names
    }
}

/// `14:05` on a 24-hour clock, which all four languages read.
fn clock(at: &DateTime<FixedOffset>) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

pub static FR: Texts = Texts {
    site_tagline: "Trouvez votre prochaine fresque",
    search_title: "Trouver une fresque près de chez vous",
    search_intro: "Ateliers collaboratifs de 3 heures sur le climat, la biodiversité, le numérique et plus, réunis depuis les agendas de chaque association.",
    skip_to_content: "Aller au contenu",
    colon: " : ",
    interface_language: "Langue",
    near_label: "Ville ou code postal",
    near_placeholder: "Lyon, 69003…",
    near_hint: "Laissez vide pour chercher partout.",
    radius_label: "Rayon",
    radius_unlimited: "Sans limite",
    text_label: "Mots-clés",
    text_placeholder: "climat, enfants, Villeurbanne…",
    workshop_label: "Ateliers",
    workshop_all: "Tous les ateliers",
    workshop_chosen: "ateliers choisis",
    attendance_label: "Format",
    any: "Tous",
    include_online: "Inclure les ateliers en ligne",
    audience_label: "Public",
    language_label: "Langue de l'atelier",
    language_any: "Toutes",
    from_label: "Du",
    to_label: "Au",
    sort_label: "Trier par",
    sort_date: "Date",
    sort_distance: "Distance",
    sort_relevance: "Pertinence",
    more_filters: "Plus de filtres",
    submit: "Rechercher",
    reset: "Effacer les filtres",
    results_heading: "Résultats",
    no_results_hint: "Essayez un rayon plus grand, d'autres dates ou moins de filtres.",
    around: "autour de",
    approximate_position: "position approchée, celle de",
    online: "En ligne",
    sold_out: "Complet",
    postponed: "Reporté",
    cancelled: "Annulé",
    book: "Réserver",
    organizer_page: "Page de l'organisateur",
    previous_page: "Page précédente",
    next_page: "Page suivante",
    pages_label: "Pages de résultats",
    show_map: "Voir la carte",
    show_list: "Masquer la carte",
    map_label: "Carte des résultats",
    map_unavailable: "La carte ne peut pas s'afficher ; la liste reste complète.",
    invalid_filter: "Un filtre n'est pas valide :",
    unknown_place: "Ce lieu est introuvable. Essayez le nom d'une commune ou un code postal.",
    back_to_search: "Retour à la recherche",
    when: "Quand",
    where_: "Où",
    family: "Atelier",
    audience: "Public",
    languages: "Langues",
    price: "Prix",
    free: "Gratuit",
    seats: "Places au total",
    add_to_calendar: "Ajouter à mon agenda (.ics)",
    open_street_map: "Voir sur OpenStreetMap",
    description: "Description",
    withdrawn_notice: "Cette session n'est plus annoncée par son organisateur.",
    cancelled_notice: "Cette session est annulée.",
    postponed_notice: "Cette session est reportée : vérifiez la nouvelle date auprès de l'organisateur.",
    past_notice: "Cette session a déjà eu lieu.",
    event_not_found: "Session introuvable",
    event_not_found_hint: "Aucune session ne porte cet identifiant. Elle a peut-être été retirée il y a longtemps.",
    page_not_found: "Page introuvable",
    widget_title: "Prochaines fresques",
    widget_more: "Voir toutes les sessions",
    widget_none: "Aucune session à venir pour le moment.",
    footer_places: "Lieux : GeoNames (CC BY 4.0).",
    footer_map: "Carte : © contributeurs OpenStreetMap, Leaflet.",
    footer_software: "multifresque, logiciel libre sous licence AGPL-3.0-or-later.",
    time_zone: "fuseau",
    weekdays: [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ],
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    date_pattern: DatePattern::DayMonthYear,
    decimal_comma: true,
    counts: Counts {
        results_none: "Aucune session trouvée",
        result_one: "1 session trouvée",
        results_many: "{n} sessions trouvées",
        seat_one: "1 place restante",
        seats_many: "{n} places restantes",
        results_range: "Sessions {a} à {b} sur {n}",
        distance: "à {d} km",
    },
    attendance_names: ["En présentiel", "En ligne", "Hybride"],
    audience_names: [
        "Atelier grand public",
        "Formation d'animateur·ice",
        "Enfants",
        "Entreprises",
    ],
    language_names: &[
        ("fr", "français"),
        ("en", "anglais"),
        ("de", "allemand"),
        ("es", "espagnol"),
    ],
};

pub static EN: Texts = Texts {
    site_tagline: "Find your next fresque",
    search_title: "Find a fresque workshop near you",
    search_intro: "Three-hour collaborative workshops on climate, biodiversity, digital technology and more, gathered from each organisation's calendar.",
    skip_to_content: "Skip to content",
    colon: ": ",
    interface_language: "Language",
    near_label: "City or postal code",
    near_placeholder: "Lyon, 69003…",
    near_hint: "Leave empty to search everywhere.",
    radius_label: "Radius",
    radius_unlimited: "Unlimited",
    text_label: "Keywords",
    text_placeholder: "climate, kids, Villeurbanne…",
    workshop_label: "Workshops",
    workshop_all: "All workshops",
    workshop_chosen: "workshops chosen",
    attendance_label: "Format",
    any: "Any",
    include_online: "Include online workshops",
    audience_label: "Audience",
    language_label: "Workshop language",
    language_any: "Any",
    from_label: "From",
    to_label: "To",
    sort_label: "Sort by",
    sort_date: "Date",
    sort_distance: "Distance",
    sort_relevance: "Relevance",
    more_filters: "More filters",
    submit: "Search",
    reset: "Clear filters",
    results_heading: "Results",
    no_results_hint: "Try a larger radius, other dates or fewer filters.",
    around: "around",
    approximate_position: "approximate position, that of",
    online: "Online",
    sold_out: "Sold out",
    postponed: "Postponed",
    cancelled: "Cancelled",
    book: "Book",
    organizer_page: "Organiser's page",
    previous_page: "Previous page",
    next_page: "Next page",
    pages_label: "Result pages",
    show_map: "Show map",
    show_list: "Hide map",
    map_label: "Map of the results",
    map_unavailable: "The map cannot be shown; the list is complete.",
    invalid_filter: "A filter is not valid:",
    unknown_place: "This place was not found. Try a town name or a postal code.",
    back_to_search: "Back to search",
    when: "When",
    where_: "Where",
    family: "Workshop",
    audience: "Audience",
    languages: "Languages",
    price: "Price",
    free: "Free",
    seats: "Capacity",
    add_to_calendar: "Add to my calendar (.ics)",
    open_street_map: "View on OpenStreetMap",
    description: "Description",
    withdrawn_notice: "This session is no longer listed by its organiser.",
    cancelled_notice: "This session is cancelled.",
    postponed_notice: "This session is postponed: check the new date with the organiser.",
    past_notice: "This session has already taken place.",
    event_not_found: "Session not found",
    event_not_found_hint: "No session has this identifier. It may have been withdrawn long ago.",
    page_not_found: "Page not found",
    widget_title: "Next fresque workshops",
    widget_more: "See all sessions",
    widget_none: "No upcoming session for now.",
    footer_places: "Places: GeoNames (CC BY 4.0).",
    footer_map: "Map: © OpenStreetMap contributors, Leaflet.",
    footer_software: "multifresque, free software under AGPL-3.0-or-later.",
    time_zone: "time zone",
    weekdays: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    date_pattern: DatePattern::DayMonthYear,
    decimal_comma: false,
    counts: Counts {
        results_none: "No session found",
        result_one: "1 session found",
        results_many: "{n} sessions found",
        seat_one: "1 seat left",
        seats_many: "{n} seats left",
        results_range: "Sessions {a} to {b} of {n}",
        distance: "{d} km away",
    },
    attendance_names: ["In person", "Online", "Hybrid"],
    audience_names: [
        "Public workshop",
        "Facilitator training",
        "Kids",
        "Companies",
    ],
    language_names: &[
        ("fr", "French"),
        ("en", "English"),
        ("de", "German"),
        ("es", "Spanish"),
    ],
};

pub static DE: Texts = Texts {
    site_tagline: "Finde deine nächste Fresque",
    search_title: "Eine Fresque in deiner Nähe finden",
    search_intro: "Dreistündige kollaborative Workshops zu Klima, Biodiversität, Digitalem und mehr, gesammelt aus den Kalendern der einzelnen Vereine.",
    skip_to_content: "Zum Inhalt springen",
    colon: ": ",
    interface_language: "Sprache",
    near_label: "Ort oder Postleitzahl",
    near_placeholder: "Lyon, 69003…",
    near_hint: "Leer lassen, um überall zu suchen.",
    radius_label: "Umkreis",
    radius_unlimited: "Unbegrenzt",
    text_label: "Suchbegriffe",
    text_placeholder: "Klima, Kinder, Villeurbanne…",
    workshop_label: "Workshops",
    workshop_all: "Alle Workshops",
    workshop_chosen: "Workshops gewählt",
    attendance_label: "Format",
    any: "Alle",
    include_online: "Online-Workshops einschließen",
    audience_label: "Zielgruppe",
    language_label: "Sprache des Workshops",
    language_any: "Alle",
    from_label: "Von",
    to_label: "Bis",
    sort_label: "Sortieren nach",
    sort_date: "Datum",
    sort_distance: "Entfernung",
    sort_relevance: "Relevanz",
    more_filters: "Weitere Filter",
    submit: "Suchen",
    reset: "Filter zurücksetzen",
    results_heading: "Ergebnisse",
    no_results_hint: "Versuche einen größeren Umkreis, andere Daten oder weniger Filter.",
    around: "rund um",
    approximate_position: "ungefähre Position, die von",
    online: "Online",
    sold_out: "Ausgebucht",
    postponed: "Verschoben",
    cancelled: "Abgesagt",
    book: "Buchen",
    organizer_page: "Seite des Veranstalters",
    previous_page: "Vorherige Seite",
    next_page: "Nächste Seite",
    pages_label: "Ergebnisseiten",
    show_map: "Karte zeigen",
    show_list: "Karte ausblenden",
    map_label: "Karte der Ergebnisse",
    map_unavailable: "Die Karte kann nicht angezeigt werden; die Liste ist vollständig.",
    invalid_filter: "Ein Filter ist ungültig:",
    unknown_place: "Dieser Ort wurde nicht gefunden. Versuche einen Ortsnamen oder eine Postleitzahl.",
    back_to_search: "Zurück zur Suche",
    when: "Wann",
    where_: "Wo",
    family: "Workshop",
    audience: "Zielgruppe",
    languages: "Sprachen",
    price: "Preis",
    free: "Kostenlos",
    seats: "Plätze insgesamt",
    add_to_calendar: "Zu meinem Kalender hinzufügen (.ics)",
    open_street_map: "Auf OpenStreetMap ansehen",
    description: "Beschreibung",
    withdrawn_notice: "Dieser Termin wird vom Veranstalter nicht mehr angeboten.",
    cancelled_notice: "Dieser Termin ist abgesagt.",
    postponed_notice: "Dieser Termin ist verschoben: Bitte das neue Datum beim Veranstalter prüfen.",
    past_notice: "Dieser Termin hat bereits stattgefunden.",
    event_not_found: "Termin nicht gefunden",
    event_not_found_hint: "Kein Termin trägt diese Kennung. Er wurde vielleicht vor langer Zeit entfernt.",
    page_not_found: "Seite nicht gefunden",
    widget_title: "Nächste Fresque-Workshops",
    widget_more: "Alle Termine ansehen",
    widget_none: "Derzeit keine kommenden Termine.",
    footer_places: "Orte: GeoNames (CC BY 4.0).",
    footer_map: "Karte: © OpenStreetMap-Mitwirkende, Leaflet.",
    footer_software: "multifresque, freie Software unter AGPL-3.0-or-later.",
    time_zone: "Zeitzone",
    weekdays: [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ],
    months: [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    date_pattern: DatePattern::German,
    decimal_comma: true,
    counts: Counts {
        results_none: "Kein Termin gefunden",
        result_one: "1 Termin gefunden",
        results_many: "{n} Termine gefunden",
        seat_one: "1 Platz frei",
        seats_many: "{n} Plätze frei",
        results_range: "Termine {a} bis {b} von {n}",
        distance: "{d} km entfernt",
    },
    attendance_names: ["Vor Ort", "Online", "Hybrid"],
    audience_names: [
        "Öffentlicher Workshop",
        "Moderationsausbildung",
        "Kinder",
        "Unternehmen",
    ],
    language_names: &[
        ("fr", "Französisch"),
        ("en", "Englisch"),
        ("de", "Deutsch"),
        ("es", "Spanisch"),
    ],
};

pub static ES: Texts = Texts {
    site_tagline: "Encuentra tu próxima fresque",
    search_title: "Encontrar una fresque cerca de ti",
    search_intro: "Talleres colaborativos de tres horas sobre el clima, la biodiversidad, lo digital y más, reunidos desde la agenda de cada asociación.",
    skip_to_content: "Ir al contenido",
    colon: ": ",
    interface_language: "Idioma",
    near_label: "Ciudad o código postal",
    near_placeholder: "Lyon, 69003…",
    near_hint: "Déjalo vacío para buscar en todas partes.",
    radius_label: "Radio",
    radius_unlimited: "Sin límite",
    text_label: "Palabras clave",
    text_placeholder: "clima, niños, Villeurbanne…",
    workshop_label: "Talleres",
    workshop_all: "Todos los talleres",
    workshop_chosen: "talleres elegidos",
    attendance_label: "Formato",
    any: "Todos",
    include_online: "Incluir los talleres en línea",
    audience_label: "Público",
    language_label: "Idioma del taller",
    language_any: "Todos",
    from_label: "Desde",
    to_label: "Hasta",
    sort_label: "Ordenar por",
    sort_date: "Fecha",
    sort_distance: "Distancia",
    sort_relevance: "Relevancia",
    more_filters: "Más filtros",
    submit: "Buscar",
    reset: "Borrar los filtros",
    results_heading: "Resultados",
    no_results_hint: "Prueba un radio mayor, otras fechas o menos filtros.",
    around: "alrededor de",
    approximate_position: "posición aproximada, la de",
    online: "En línea",
    sold_out: "Completo",
    postponed: "Aplazado",
    cancelled: "Cancelado",
    book: "Reservar",
    organizer_page: "Página del organizador",
    previous_page: "Página anterior",
    next_page: "Página siguiente",
    pages_label: "Páginas de resultados",
    show_map: "Ver el mapa",
    show_list: "Ocultar el mapa",
    map_label: "Mapa de los resultados",
    map_unavailable: "El mapa no se puede mostrar; la lista está completa.",
    invalid_filter: "Un filtro no es válido:",
    unknown_place: "No se encontró este lugar. Prueba con el nombre de un municipio o un código postal.",
    back_to_search: "Volver a la búsqueda",
    when: "Cuándo",
    where_: "Dónde",
    family: "Taller",
    audience: "Público",
    languages: "Idiomas",
    price: "Precio",
    free: "Gratis",
    seats: "Plazas en total",
    add_to_calendar: "Añadir a mi calendario (.ics)",
    open_street_map: "Ver en OpenStreetMap",
    description: "Descripción",
    withdrawn_notice: "El organizador ya no anuncia esta sesión.",
    cancelled_notice: "Esta sesión está cancelada.",
    postponed_notice: "Esta sesión está aplazada: consulta la nueva fecha con el organizador.",
    past_notice: "Esta sesión ya tuvo lugar.",
    event_not_found: "Sesión no encontrada",
    event_not_found_hint: "Ninguna sesión tiene este identificador. Quizá se retiró hace tiempo.",
    page_not_found: "Página no encontrada",
    widget_title: "Próximas fresques",
    widget_more: "Ver todas las sesiones",
    widget_none: "No hay sesiones próximas por ahora.",
    footer_places: "Lugares: GeoNames (CC BY 4.0).",
    footer_map: "Mapa: © colaboradores de OpenStreetMap, Leaflet.",
    footer_software: "multifresque, software libre bajo AGPL-3.0-or-later.",
    time_zone: "zona horaria",
    weekdays: [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ],
    months: [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    date_pattern: DatePattern::Spanish,
    decimal_comma: true,
    counts: Counts {
        results_none: "No se encontró ninguna sesión",
        result_one: "1 sesión encontrada",
        results_many: "{n} sesiones encontradas",
        seat_one: "Queda 1 plaza",
        seats_many: "Quedan {n} plazas",
        results_range: "Sesiones {a} a {b} de {n}",
        distance: "a {d} km",
    },
    attendance_names: ["Presencial", "En línea", "Híbrido"],
    audience_names: [
        "Taller para el público",
        "Formación de facilitadores",
        "Niños",
        "Empresas",
    ],
    language_names: &[
        ("fr", "francés"),
        ("en", "inglés"),
        ("de", "alemán"),
        ("es", "español"),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_prefers_highest_weight() {
        assert_eq!(Lang::negotiate(Some("de-CH, en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(Some("it, es;q=0.5, en;q=0.7")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en;q=0, es;q=0.1")), Lang::Es);
    }

    #[test]
    fn negotiate_defaults_to_french() {
        assert_eq!(Lang::negotiate(None), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("it, pt-BR")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("")), Lang::Fr);
        assert_eq!(Lang::negotiate(Some("*")), Lang::Fr);
    }

    #[test]
    fn session_time_uses_the_event_zone() {
        let start = DateTime::parse_from_rfc3339("2026-12-15T17:30:00Z").unwrap();
        let end = DateTime::parse_from_rfc3339("2026-12-15T20:30:00Z").unwrap();

        assert_eq!(
            FR.session_time(&start, Some(&end), "Europe/Paris"),
            "mardi 15 décembre 2026, 18:30 – 21:30 (CET)"
        );
        assert_eq!(
            DE.session_time(&start, None, "Europe/London"),
            "Dienstag, 15. Dezember 2026, 17:30 (GMT)"
        );
        assert_eq!(
            ES.session_time(&start, Some(&end), "America/Montreal"),
            "martes, 15 de diciembre de 2026, 12:30 – 15:30 (EST)"
        );
    }

    #[test]
    fn session_time_with_next_day_end() {
        let start = DateTime::parse_from_rfc3339("2027-06-05T20:00:00+02:00").unwrap();
        let end = DateTime::parse_from_rfc3339("2027-06-06T01:00:00+02:00").unwrap();

        assert_eq!(
            EN.session_time(&start, Some(&end), "Europe/Paris"),
            "Saturday 5 June 2027, 20:00 – Sunday 6 June 2027, 01:00 (CEST)"
        );
    }

    #[test]
    fn counts_and_distances_follow_the_language() {
        assert_eq!(FR.result_count(0), "Aucune session trouvée");
        assert_eq!(FR.result_count(1), "1 session trouvée");
        assert_eq!(FR.result_count(12), "12 sessions trouvées");
        assert_eq!(FR.distance(3.5), "à 3,5 km");
        assert_eq!(EN.distance(3.5), "3.5 km away");
        assert_eq!(FR.distance(120.4), "à 120 km");
        assert_eq!(FR.seats_left(1), "1 place restante");
        assert_eq!(ES.seats_left(4), "Quedan 4 plazas");
    }
}
