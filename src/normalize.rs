//! Normalization: one [`Draft`] from an adapter becomes one [`Event`] in the shared schema,
//! or a [`Rejection`] saying why not. This step applies the source's defaults, resolves time
//! zones to instants, cleans HTML out of text, infers attendance and audience from words
//! (whole words only, never substrings), and places events that have an address but no
//! coordinates with the gazetteer.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::catalog::Catalog;
use crate::config::Source;
use crate::event::{Attendance, Audience, Draft, Event, Location, Rejection, Status, When};
use crate::places::Gazetteer;

/// Earliest and latest accepted start years. Dates outside are typing or export errors
/// (year 0, 9999) that would otherwise sort first or last forever.
const YEAR_RANGE: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Longest accepted session, in hours: one day, plus the hour a day gains when clocks go
/// back (an all-day calendar event then lasts 25 hours). Fresque sessions last hours and
/// trainings a day; anything longer is a festival or programme listing, not a session.
const MAX_DURATION_HOURS: i64 = 25;

/// What normalization needs besides the draft.
pub struct Normalizer<'a> {
    pub source: &'a Source,
    pub catalog: &'a Catalog,
    pub gazetteer: &'a Gazetteer,
}

impl Normalizer<'_> {
    /// Turns one draft into an event.
    ///
    /// # Errors
    ///
    /// Returns a [`Rejection`] naming the field when the draft cannot become a valid event.
    pub fn normalize(&self, draft: Draft) -> Result<Event, Rejection> {
        let id = draft.source_event_id.trim().to_owned();
        let reject = |reason: &str, detail: String| Rejection::new(Some(&id), reason, detail);
        if id.is_empty() {
            return Err(Rejection::new(None, "missing_id", "the event has no id"));
        }

        let title = collapse_whitespace(&clean_text(&draft.title));
        if title.is_empty() {
            return Err(reject(
                "missing_title",
                "the title is empty once HTML is removed".to_owned(),
            ));
        }
        let description = clean_text(draft.description.as_deref().unwrap_or(""));
        let workshop = self.workshop(&draft, &title).ok_or_else(|| {
            reject(
                "missing_workshop",
                "the event names no workshop family and its source has no default `workshop`"
                    .to_owned(),
            )
        })?;
        if !is_family_code(&workshop) {
            return Err(reject(
                "invalid_workshop",
                format!("invalid workshop code {workshop:?}: use up to 64 letters, digits, - or _"),
            ));
        }

        let (mut location, online_by_location) = self.location(&draft);
        let zone = match draft.time_zone.as_deref() {
            Some(name) => name.parse::<Tz>().map_err(|_| {
                reject(
                    "invalid_time_zone",
                    format!(
                        "unknown time zone {name:?}: use an IANA name such as \"Europe/Paris\""
                    ),
                )
            })?,
            None => self.default_zone(&location),
        };
        let (start, end) = resolve_times(draft.start, draft.end, zone)
            .map_err(|(reason, detail)| reject(reason, detail))?;

        let attendance = draft
            .attendance
            .unwrap_or_else(|| infer_attendance(&location, online_by_location, &title));
        if attendance == Attendance::Online {
            location.latitude = None;
            location.longitude = None;
            location.geocoded = None;
        }
        let audience = draft
            .audience
            .unwrap_or_else(|| infer_audience(&title, &draft.categories));
        let status = match draft.status.unwrap_or_default() {
            Status::Scheduled if draft.seats_left == Some(0) => Status::SoldOut,
            status => status,
        };
        let languages = self.languages(&draft, &title, &description);
        let url = draft.url.and_then(web_link);
        let tickets_url = draft.tickets_url.and_then(web_link).or_else(|| url.clone());

        Ok(Event {
            id: event_id(&self.source.id, &id),
            workshop,
            title,
            description,
            url,
            tickets_url,
            start,
            end,
            time_zone: zone.name().to_owned(),
            attendance,
            audience,
            languages,
            location,
            capacity: draft.capacity,
            seats_left: draft.seats_left,
            status,
            price: draft.price,
            updated_at: draft.updated_at,
            source: self.source.id.clone(),
            source_event_id: id,
            links: Vec::new(),
        })
    }

    /// The zone for times a feed gives without one: the source's, unless the event's postal
    /// code is in a French overseas department or the event is in another country whose
    /// main zone is known (a Swiss session in a French export).
    fn default_zone(&self, location: &Location) -> Tz {
        let country = location.country.as_deref();
        if let Some(zone) = location.postal_code.as_deref().and_then(overseas_zone)
            && matches!(country, None | Some("FR"))
        {
            return zone;
        }
        match country {
            Some(country) if Some(country) != self.source.country.as_deref() => {
                country_zone(country).unwrap_or(self.source.time_zone)
            }
            _ => self.source.time_zone,
        }
    }

    /// The family: the feed's own value, a category naming a family, a family named in the
    /// title, then the source's default.
    fn workshop(&self, draft: &Draft, title: &str) -> Option<String> {
        if let Some(code) = draft.workshop.as_deref().filter(|c| !c.trim().is_empty()) {
            return Some(self.catalog.canonical_code(code));
        }
        let named = |text: &str| {
            let text_words = words(text);
            self.catalog
                .all()
                .iter()
                .find(|w| {
                    contains_phrase(&text_words, &words(&w.name_fr))
                        || self
                            .catalog
                            .get(text)
                            .is_some_and(|found| found.code == w.code)
                })
                .map(|w| w.code.clone())
        };
        draft
            .categories
            .iter()
            .find_map(|category| named(category))
            .or_else(|| named(title))
            .or_else(|| {
                self.source
                    .workshop
                    .as_deref()
                    .map(|code| self.catalog.canonical_code(code))
            })
    }

    /// The languages the event declares (its feed's field, else categories that name a
    /// language); else the one detected from its text; else the source's default language.
    fn languages(&self, draft: &Draft, title: &str, description: &str) -> Vec<String> {
        let mut languages: Vec<String> = draft
            .languages
            .iter()
            .filter_map(|tag| {
                let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
                (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_lowercase()))
                    .then_some(primary)
            })
            .collect();
        if languages.is_empty() {
            languages = draft
                .categories
                .iter()
                .filter_map(|category| crate::language::from_label(category))
                .map(str::to_owned)
                .collect();
        }
        languages.dedup();
        if languages.is_empty() {
            match crate::language::detect(title, description) {
                Some(detected) => languages.push(detected.to_owned()),
                None => languages.extend(self.source.language.clone()),
            }
        }
        languages
    }

    /// The cleaned location, and whether its text pointed to a video call.
    fn location(&self, draft: &Draft) -> (Location, bool) {
        let mut location = draft.location.clone();
        let mut online = false;
        if let Some(text) = draft.location_text.as_deref() {
            if is_video_call(text) {
                online = true;
            } else {
                fill_from_text(&mut location, text);
            }
        }

        for field in [
            &mut location.name,
            &mut location.street,
            &mut location.city,
            &mut location.region,
            &mut location.postal_code,
        ] {
            *field = field
                .take()
                .map(|v| collapse_whitespace(&clean_text(&v)))
                .filter(|v| !v.is_empty());
        }
        location.country = location
            .country
            .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
            .map(|c| c.to_ascii_uppercase());
        let has_place = location.city.is_some()
            || location.postal_code.is_some()
            || location.street.is_some()
            || location.name.is_some();
        if location.country.is_none() && has_place {
            location.country.clone_from(&self.source.country);
        }

        match location.coordinates() {
            Some((lat, lon)) if valid_coordinates(lat, lon) => {
                location.geocoded = Some("feed".to_owned())
            }
            _ => {
                location.latitude = None;
                location.longitude = None;
                location.geocoded = None;
                if !online {
                    self.geocode(&mut location);
                }
            }
        }
        (location, online)
    }

    fn geocode(&self, location: &mut Location) {
        if location.city.is_none() && location.postal_code.is_none() {
            return;
        }
        if let Some(place) = self.gazetteer.geocode(
            location.city.as_deref(),
            location.postal_code.as_deref(),
            location.country.as_deref(),
        ) {
            location.latitude = Some(place.latitude);
            location.longitude = Some(place.longitude);
            location.geocoded = Some("gazetteer".to_owned());
            if location.country.is_none() {
                location.country = Some(place.country);
            }
        }
    }
}

/// The global id of an event: `{source}~{publisher id}` when the publisher's id is short and
/// URL-safe, else `{source}~h{hash}` with a stable 64-bit FNV-1a hash of it. `~` counts as
/// safe, so an event read from another multifresque keeps that instance's id readable:
/// `primary~fresque-du-climat~fdc-1`.
pub fn event_id(source_id: &str, source_event_id: &str) -> String {
    let safe = source_event_id.len() <= 80
        && source_event_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
    if safe {
        format!("{source_id}~{source_event_id}")
    } else {
        format!("{source_id}~h{:016x}", fnv1a(source_event_id.as_bytes()))
    }
}

/// 64-bit FNV-1a: stable across processes and versions, unlike the standard library's hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

type TimeError = (&'static str, String);

fn resolve_times(
    start: Option<When>,
    end: Option<When>,
    zone: Tz,
) -> Result<(DateTime<FixedOffset>, Option<DateTime<FixedOffset>>), TimeError> {
    let start_when = start.ok_or(("missing_start", "the event has no start".to_owned()))?;
    let start = resolve(start_when, zone).ok_or((
        "invalid_start",
        format!("start {start_when} does not exist in {zone}"),
    ))?;
    if !YEAR_RANGE.contains(&start.year_in(zone)) {
        return Err((
            "date_out_of_range",
            format!(
                "start {} is outside the years {}-{}",
                start.with_timezone(&Utc).to_rfc3339(),
                YEAR_RANGE.start(),
                YEAR_RANGE.end()
            ),
        ));
    }

    let end = match end {
        Some(When::Date(day))
            if matches!(start_when, When::Date(_)) && day > start.date_naive() =>
        {
            // iCalendar all-day ends are exclusive dates, so the day itself is the end.
            resolve(When::Date(day), zone)
        }
        Some(When::Date(day)) => resolve(When::Date(day + Duration::days(1)), zone),
        Some(when) => resolve(when, zone),
        None if matches!(start_when, When::Date(_)) => Some(start + Duration::days(1)),
        None => None,
    };
    if let Some(end) = end {
        if end < start {
            return Err((
                "end_before_start",
                format!(
                    "end {} is before start {}",
                    end.to_rfc3339(),
                    start.to_rfc3339()
                ),
            ));
        }
        if end - start > Duration::hours(MAX_DURATION_HOURS) {
            return Err((
                "too_long",
                format!(
                    "the event lasts more than {MAX_DURATION_HOURS} hours ({} to {}): a festival or programme listing, not a session",
                    start.to_rfc3339(),
                    end.to_rfc3339()
                ),
            ));
        }
    }
    Ok((start, end))
}

trait YearIn {
    fn year_in(&self, zone: Tz) -> i32;
}

impl YearIn for DateTime<FixedOffset> {
    fn year_in(&self, zone: Tz) -> i32 {
        use chrono::Datelike;
        self.with_timezone(&zone).year()
    }
}

/// The instant of a feed time, with the offset in force in `zone` at that instant.
fn resolve(when: When, zone: Tz) -> Option<DateTime<FixedOffset>> {
    let utc: DateTime<Utc> = match when {
        When::Instant(at) => at.with_timezone(&Utc),
        When::Local(local) => local_to_utc(local, zone)?,
        When::Date(day) => local_to_utc(day.and_hms_opt(0, 0, 0)?, zone)?,
    };
    Some(utc.with_timezone(&zone).fixed_offset())
}

fn local_to_utc(local: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        // The hour repeated when clocks go back: the first one is what people mean.
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        // A time skipped when clocks go forward: move it by the hour that was skipped.
        LocalResult::None => zone
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|at| at.with_timezone(&Utc)),
    }
}

/// Plain text from HTML or text: tags removed (script and style with their content), block
/// ends turned into line breaks, entities decoded, blank runs collapsed.
pub fn clean_html(input: &str) -> String {
    let mut text = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let after = &rest[open..];
        rest = after;
        let starts_tag = after[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if !starts_tag {
            // Not a tag: "a < b" in plain text.
            text.push('<');
            rest = &after[1..];
            continue;
        }
        let Some(close) = after.find('>') else {
            // No tag can close any more, so the rest is text (this keeps the scan linear).
            break;
        };
        let tag = after[1..close].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        rest = &after[close + 1..];
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            let end_tag = format!("</{name}");
            rest = rest
                .to_ascii_lowercase()
                .find(&end_tag)
                .map_or("", |at| &rest[at..]);
            continue;
        }
        if matches!(
            name.as_str(),
            "br" | "p"
                | "div"
                | "li"
                | "tr"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "ul"
                | "ol"
                | "table"
        ) {
            text.push('\n');
        }
    }
    text.push_str(rest);

    let decoded = html_escape::decode_html_entities(&text);
    let mut lines: Vec<String> = decoded.lines().map(collapse_whitespace).collect();
    lines.dedup_by(|a, b| a.is_empty() && b.is_empty());
    lines.join("\n").trim().to_owned()
}

/// Plain text for storage and display: HTML removed, Unicode composed (NFC, so that "é"
/// written as "e" plus an accent matches "é"), and control and bidirectional formatting
/// characters dropped so that no feed can rewrite a terminal or reorder a page's text.
pub fn clean_text(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;

    let text = clean_html(input);
    // Most text is composed already: the quick check spares decomposing and recomposing it.
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        return text.chars().filter(|&c| !is_hidden_control(c)).collect();
    }
    text.nfc().filter(|&c| !is_hidden_control(c)).collect()
}

fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_family_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The zone of French overseas departments and collectivities, from their postal codes
/// (971 to 976, 977 and 978).
fn overseas_zone(postal_code: &str) -> Option<Tz> {
    use chrono_tz::{America, Indian};

    if postal_code.len() != 5 || !postal_code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(match &postal_code[..3] {
        "971" | "977" | "978" => America::Guadeloupe,
        "972" => America::Martinique,
        "973" => America::Cayenne,
        "974" => Indian::Reunion,
        "975" => America::Miquelon,
        "976" => Indian::Mayotte,
        _ => return None,
    })
}

/// The main zone of a country (mainland Spain and Portugal), for events whose feed names no
/// zone.
fn country_zone(country: &str) -> Option<Tz> {
    use chrono_tz::Europe;

    Some(match country {
        "FR" => Europe::Paris,
        "BE" => Europe::Brussels,
        "CH" => Europe::Zurich,
        "LU" => Europe::Luxembourg,
        "MC" => Europe::Monaco,
        "GB" => Europe::London,
        "IE" => Europe::Dublin,
        "DE" => Europe::Berlin,
        "AT" => Europe::Vienna,
        "NL" => Europe::Amsterdam,
        "IT" => Europe::Rome,
        "ES" => Europe::Madrid,
        "PT" => Europe::Lisbon,
        _ => return None,
    })
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower-case words without accents, split on anything that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Lower case with accents removed, for matching.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;

    // ASCII has no accents to remove and lower-cases byte for byte.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }

    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn contains_phrase(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|window| window == phrase)
}

fn contains_any(text_words: &[String], phrases: &[Vec<String>]) -> bool {
    phrases
        .iter()
        .any(|phrase| contains_phrase(text_words, phrase))
}

/// Splits fixed phrases into [`words`]. The inference runs for every event, and splitting
/// its phrases again on each call took more time than matching them.
fn phrase_words(phrases: &[&str]) -> Vec<Vec<String>> {
    phrases.iter().map(|phrase| words(phrase)).collect()
}

static TRAINING_PHRASES: LazyLock<Vec<Vec<String>>> =
    LazyLock::new(|| phrase_words(TRAINING_WORDS));
static KIDS_PHRASES: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrase_words(KIDS_WORDS));
static ONLINE_PHRASES: LazyLock<Vec<Vec<String>>> = LazyLock::new(|| phrase_words(ONLINE_WORDS));

/// Words that mark a facilitator training session.
const TRAINING_WORDS: &[&str] = &[
    "formation",
    "formations",
    "training",
    "animateur",
    "animateurs",
    "animatrice",
    "animatrices",
    "animateur ice",
    "facilitateur",
    "facilitatrice",
    "facilitator",
    "facilitators",
    "ausbildung",
    "formacion",
];
/// Words that mark a session for children.
const KIDS_WORDS: &[&str] = &[
    "enfant",
    "enfants",
    "kids",
    "junior",
    "juniors",
    "kinder",
    "ninos",
    "jeunes publics",
];
/// Words in a location or title that mean a session happens online.
const ONLINE_WORDS: &[&str] = &[
    "en ligne",
    "online",
    "distanciel",
    "a distance",
    "visio",
    "visioconference",
    "webinaire",
    "zoom",
];
/// Hosts of video-call services whose links in a location mean the session is online.
const VIDEO_HOSTS: &[&str] = &[
    "meet.google.com",
    "zoom.us",
    "teams.microsoft.com",
    "teams.live.com",
    "meet.jit.si",
    "whereby.com",
    "webex.com",
    "gotomeeting.com",
    "bigbluebutton",
];

fn infer_audience(title: &str, categories: &[String]) -> Audience {
    let mut text = title.to_owned();
    for category in categories {
        text.push(' ');
        text.push_str(category);
    }
    let words = words(&text);
    if contains_any(&words, &TRAINING_PHRASES) {
        Audience::Training
    } else if contains_any(&words, &KIDS_PHRASES) {
        Audience::Kids
    } else {
        Audience::GeneralPublic
    }
}

fn infer_attendance(location: &Location, online_by_location: bool, title: &str) -> Attendance {
    let has_place =
        location.city.is_some() || location.street.is_some() || location.coordinates().is_some();
    match (
        online_by_location || contains_any(&words(title), &ONLINE_PHRASES),
        has_place,
    ) {
        (true, true) => Attendance::Mixed,
        (true, false) => Attendance::Online,
        (false, _) => Attendance::InPerson,
    }
}

/// Whether a location line is, or contains, a video-call link or says "online".
pub fn is_video_call(text: &str) -> bool {
    let lower = text.to_lowercase();
    let link = lower.split_whitespace().find_map(|token| {
        let start = token.find("http://").or_else(|| token.find("https://"))?;
        url::Url::parse(token[start..].trim_end_matches([',', ';', ')', '>'])).ok()
    });
    if let Some(link) = link {
        let host = link.host_str().unwrap_or("");
        let known = VIDEO_HOSTS.iter().any(|video| {
            host == *video || host.ends_with(&format!(".{video}")) || host.contains(video)
        });
        // A location that is nothing but a link is a meeting link whatever its host.
        return known || host.starts_with("visio") || lower.trim().starts_with("http");
    }
    let words = words(text);
    contains_any(&words, &ONLINE_PHRASES) && words.len() <= 4
}

/// Splits a free-text location such as "MJC Monplaisir, 25 avenue des Frères Lumière, 69008
/// Lyon, France" into fields the feed left empty.
fn fill_from_text(location: &mut Location, text: &str) {
    let parts: Vec<&str> = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let mut rest = Vec::new();
    for part in &parts {
        let words: Vec<&str> = part.split_whitespace().collect();
        let postal = words
            .iter()
            .position(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit()));
        match postal {
            Some(at) if location.postal_code.is_none() => {
                location.postal_code = Some(words[at].to_owned());
                let city = words[at + 1..].join(" ");
                if !city.is_empty() && location.city.is_none() {
                    location.city = Some(city);
                }
                let before = words[..at].join(" ");
                if !before.is_empty() {
                    rest.push(before);
                }
            }
            _ => rest.push((*part).to_owned()),
        }
    }
    if let Some(last) = rest.last()
        && country_code(last).is_some()
        && location.country.is_none()
    {
        location.country = country_code(last).map(str::to_owned);
        rest.pop();
    }
    match rest.len() {
        0 => {}
        1 if location.city.is_none() && location.postal_code.is_none() => {
            location.city = rest.pop()
        }
        _ => {
            if location.name.is_none() {
                location.name = Some(rest.remove(0));
            }
            if location.street.is_none() && !rest.is_empty() {
                location.street = Some(rest.join(", "));
            }
        }
    }
}

fn country_code(name: &str) -> Option<&'static str> {
    match fold(name.trim()).as_str() {
        "france" => Some("FR"),
        "belgique" | "belgium" | "belgie" => Some("BE"),
        "suisse" | "switzerland" | "schweiz" | "svizzera" => Some("CH"),
        "luxembourg" => Some("LU"),
        "canada" => Some("CA"),
        "allemagne" | "germany" | "deutschland" => Some("DE"),
        "espagne" | "spain" | "espana" => Some("ES"),
        "royaume uni" | "royaume-uni" | "united kingdom" | "uk" => Some("GB"),
        _ => None,
    }
}

fn valid_coordinates(latitude: f64, longitude: f64) -> bool {
    latitude.is_finite()
        && longitude.is_finite()
        && (-90.0..=90.0).contains(&latitude)
        && (-180.0..=180.0).contains(&longitude)
        // (0, 0) is in the Gulf of Guinea: in practice it means "unknown".
        && !(latitude == 0.0 && longitude == 0.0)
}

/// Keeps only http and https links, so no `javascript:` or `data:` URL reaches a page.
fn web_link(link: String) -> Option<String> {
    let parsed = url::Url::parse(link.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

#[cfg(test)]
mod tests;
