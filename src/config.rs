//! `sources.toml`: the operator's list of feeds and global settings, parsed and validated
//! into [`Config`]. Validation reports every problem at once, each with the fix.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::adapter::Kind;
use crate::catalog::Catalog;

/// Days ahead over which recurring calendar events are expanded, by default.
pub const DEFAULT_HORIZON_DAYS: u32 = 365;
/// URL query parameters whose value is most likely a secret.
const SECRET_PARAMETERS: &[&str] = &[
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
    "passwd",
    "auth",
    "signature",
    "sig",
];

/// Longest expansion horizon for recurring events: ten years.
pub const MAX_HORIZON_DAYS: u32 = 3650;

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub sources: Vec<Source>,
    /// The optional HTTP geocoder, from the `[geocoder]` table; `None` keeps the embedded
    /// gazetteer alone.
    pub geocoder: Option<GeocoderConfig>,
    /// Doubtful but accepted entries, such as a secret-looking URL parameter or a family
    /// code the catalog does not know.
    pub warnings: Vec<Problem>,
}

/// Global settings, from the `[settings]` table.
#[derive(Debug, Clone)]
pub struct Settings {
    pub horizon_days: u32,
    /// An operator's CSV gazetteer merged over the embedded one.
    pub gazetteer_csv: Option<PathBuf>,
}

/// Where a feed is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(url::Url),
    /// A local file, resolved against the directory of `sources.toml`.
    File(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Url(url) => write!(f, "{url}"),
            Location::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A request header whose value is read from the environment when the source is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFromEnv {
    pub name: String,
    pub env: String,
    /// Text put before the variable's value, such as `Bearer `.
    pub prefix: String,
}

/// One feed.
#[derive(Debug, Clone)]
pub struct Source {
    /// Stable id, `[a-z0-9-]`, prefix of its events' ids.
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub location: Location,
    /// Family code for events that name none.
    pub workshop: Option<String>,
    pub schedule: cron::Schedule,
    /// The schedule as written, for display.
    pub schedule_text: String,
    pub time_zone: Tz,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// ISO 639-1, lower case.
    pub language: Option<String>,
    pub enabled: bool,
    pub headers: Vec<HeaderFromEnv>,
    /// Rank of this source's fields when its events are merged with the same session from
    /// other sources: higher wins. Defaults to [`default_priority`].
    pub priority: i32,
}

/// Default merge priority of a source: a family's own OpenFresque feed first (40), then
/// other OpenFresque feeds such as a local group's (30), calendars and schema.org agenda
/// pages (20), and last the incumbent's export (10), which is a scraped copy of the other
/// sources.
pub fn default_priority(kind: Kind, has_default_workshop: bool) -> i32 {
    match kind {
        Kind::Openfresque if has_default_workshop => 40,
        Kind::Openfresque => 30,
        Kind::Ics | Kind::Jsonld => 20,
        Kind::Tuf => 10,
    }
}

/// The protocol an HTTP geocoder speaks. All three take the address as one `q` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeocoderKind {
    /// Nominatim's `/search?format=jsonv2` (OpenStreetMap).
    Nominatim,
    /// Photon's `/api` (OpenStreetMap, GeoJSON responses).
    Photon,
    /// Addok's `/search/`, the engine of the French Base Adresse Nationale (France only).
    Addok,
}

impl GeocoderKind {
    pub const ALL: [GeocoderKind; 3] = [
        GeocoderKind::Nominatim,
        GeocoderKind::Photon,
        GeocoderKind::Addok,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GeocoderKind::Nominatim => "nominatim",
            GeocoderKind::Photon => "photon",
            GeocoderKind::Addok => "addok",
        }
    }
}

/// The `[geocoder]` table: an HTTP geocoder that the operator runs or may use.
#[derive(Debug, Clone, PartialEq)]
pub struct GeocoderConfig {
    pub kind: GeocoderKind,
    /// Base URL; the kind's path (`/search`, `/api`, `/search/`) is appended to it.
    pub url: url::Url,
    /// Requests per second, across all sources; may be below 1 (0.5 is one every 2 s).
    pub requests_per_second: f64,
    /// Whole-request timeout.
    pub timeout: std::time::Duration,
    /// Most addresses asked in one run of one source; the rest wait for the next run.
    pub max_lookups_per_run: usize,
    pub headers: Vec<HeaderFromEnv>,
}

/// Default geocoder rate: the public Nominatim instance allows one request per second.
pub const DEFAULT_GEOCODER_RATE: f64 = 1.0;
/// Default most addresses asked per run: at one request per second, about 3 minutes.
pub const DEFAULT_GEOCODER_LOOKUPS_PER_RUN: usize = 200;

/// One problem found in a sources file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Why a sources file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is invalid:\n{}", problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    source: Vec<toml::Spanned<RawSource>>,
    geocoder: Option<toml::Spanned<RawGeocoder>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeocoder {
    kind: Option<String>,
    url: Option<String>,
    requests_per_second: Option<f64>,
    timeout_seconds: Option<f64>,
    max_lookups_per_run: Option<usize>,
    enabled: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, RawHeader>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    horizon_days: Option<u32>,
    gazetteer_csv: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    url: Option<String>,
    workshop: Option<String>,
    schedule: Option<String>,
    time_zone: Option<String>,
    country: Option<String>,
    language: Option<String>,
    enabled: Option<bool>,
    priority: Option<i32>,
    #[serde(default)]
    headers: BTreeMap<String, RawHeader>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawHeader {
    FromEnv {
        env: String,
        #[serde(default)]
        prefix: String,
    },
    /// A literal value: refused, because secrets must not be written in the file.
    Clear(#[allow(dead_code)] String),
    Other(serde::de::IgnoredAny),
}

impl Config {
    /// Reads and validates a sources file.
    ///
    /// # Errors
    ///
    /// Returns [`ConfigError::Invalid`] listing every problem with its line and fix.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base).map_err(|problems| ConfigError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }

    /// Parses and validates the text of a sources file; relative paths resolve against `base`.
    ///
    /// # Errors
    ///
    /// Returns every problem found, each with its line when known.
    pub fn parse(text: &str, base: &Path) -> Result<Config, Vec<Problem>> {
        let raw: RawFile = toml::from_str(text).map_err(|error| {
            vec![Problem {
                line: error.span().map(|span| line_of(text, span.start)),
                message: error.message().trim().to_owned(),
            }]
        })?;

        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut seen_urls: HashMap<String, String> = HashMap::new();
        let mut sources = Vec::new();
        for spanned in raw.source {
            let line = line_of(text, spanned.span().start);
            let mut report = |message: String| {
                problems.push(Problem {
                    line: Some(line),
                    message,
                })
            };
            let raw_source = spanned.into_inner();
            if let Some(id) = &raw_source.id
                && !seen_ids.insert(id.trim().to_owned())
            {
                report(format!(
                    "duplicate source id {id:?}: give each [[source]] its own id"
                ));
            }
            if let Some(source) = validate_source(raw_source, base, &mut report) {
                let mut warn = |message: String| {
                    warnings.push(Problem {
                        line: Some(line),
                        message,
                    })
                };
                check_source(&source, &mut seen_urls, &mut warn);
                sources.push(source);
            }
        }

        let horizon_days = raw.settings.horizon_days.unwrap_or(DEFAULT_HORIZON_DAYS);
        if !(1..=MAX_HORIZON_DAYS).contains(&horizon_days) {
            problems.push(Problem {
                line: settings_line(text),
                message: format!(
                    "[settings] horizon_days = {horizon_days} is out of range: use 1 to {MAX_HORIZON_DAYS} days, such as {DEFAULT_HORIZON_DAYS}"
                ),
            });
        }

        let geocoder = raw.geocoder.and_then(|spanned| {
            let line = line_of(text, spanned.span().start);
            validate_geocoder(spanned.into_inner(), &mut |message| {
                problems.push(Problem {
                    line: Some(line),
                    message,
                })
            })
        });

        let settings = Settings {
            horizon_days,
            gazetteer_csv: raw.settings.gazetteer_csv.map(|p| base.join(p)),
        };
        if problems.is_empty() {
            Ok(Config {
                settings,
                sources,
                geocoder,
                warnings,
            })
        } else {
            Err(problems)
        }
    }

    pub fn enabled_sources(&self) -> impl Iterator<Item = &Source> {
        self.sources.iter().filter(|source| source.enabled)
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|source| source.id == id)
    }
}

fn validate_source(raw: RawSource, base: &Path, report: &mut impl FnMut(String)) -> Option<Source> {
    let id = required(
        raw.id,
        "id",
        "a stable id such as \"fresque-du-climat\"",
        report,
    )?;
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        report(format!(
            "invalid source id {id:?}: use 1 to 64 characters among a-z, 0-9 and -"
        ));
        return None;
    }
    let kind_text = required(
        raw.kind,
        "kind",
        &format!("one of {}", kind_names()),
        report,
    )?;
    let url = required(raw.url, "url", "an https:// URL or a local path", report)?;

    let kind = Kind::ALL.into_iter().find(|k| k.as_str() == kind_text);
    if kind.is_none() {
        report(format!(
            "source {id:?}: unknown kind {kind_text:?}: use one of {}",
            kind_names()
        ));
    }
    let location = parse_location(&url, base).map_err(|m| report(format!("source {id:?}: {m}")));
    if let Ok(Location::Url(url)) = &location
        && url.password().is_some()
    {
        report(format!(
            "source {id:?}: the URL contains a password in clear: remove it and send it with headers = {{ Authorization = {{ env = \"VARIABLE\", prefix = \"Basic \" }} }}"
        ));
    }
    let schedule_text = raw.schedule.unwrap_or_else(|| "0 * * * *".to_owned());
    let schedule =
        parse_schedule(&schedule_text).map_err(|m| report(format!("source {id:?}: {m}")));
    let zone_text = raw.time_zone.unwrap_or_else(|| "Europe/Paris".to_owned());
    let time_zone = Tz::from_str(&zone_text).map_err(|_| {
        report(format!(
            "source {id:?}: unknown time zone {zone_text:?}: use an IANA name such as \"Europe/Paris\""
        ))
    });
    let country = match raw.country {
        Some(code) if is_alpha(&code, 2) => Some(code.to_ascii_uppercase()),
        Some(code) => {
            report(format!(
                "source {id:?}: invalid country {code:?}: use an ISO 3166-1 alpha-2 code such as \"FR\""
            ));
            None
        }
        None => None,
    };
    let language = match raw.language {
        Some(code) if is_alpha(&code, 2) => Some(code.to_ascii_lowercase()),
        Some(code) => {
            report(format!(
                "source {id:?}: invalid language {code:?}: use an ISO 639-1 code such as \"fr\""
            ));
            None
        }
        None => None,
    };
    let headers = headers_from_env(raw.headers, &format!("source {id:?}"), report);
    let has_workshop = raw
        .workshop
        .as_deref()
        .is_some_and(|w| !w.trim().is_empty());

    let kind = kind?;
    Some(Source {
        priority: raw
            .priority
            .unwrap_or_else(|| default_priority(kind, has_workshop)),
        name: raw.name.unwrap_or_else(|| id.clone()),
        kind,
        location: location.ok()?,
        workshop: raw.workshop.filter(|w| !w.trim().is_empty()),
        schedule: schedule.ok()?,
        schedule_text,
        time_zone: time_zone.ok()?,
        country,
        language,
        enabled: raw.enabled.unwrap_or(true),
        headers,
        id,
    })
}

/// Request headers whose values come from environment variables; a value written in clear
/// is a problem, because secrets must not be written in the file.
fn headers_from_env(
    raw: BTreeMap<String, RawHeader>,
    owner: &str,
    report: &mut impl FnMut(String),
) -> Vec<HeaderFromEnv> {
    let mut headers = Vec::new();
    for (name, header) in raw {
        match header {
            RawHeader::FromEnv { env, .. } if !is_env_name(&env) => report(format!(
                "{owner}: header {name:?} has env = {:?}, which is not an environment variable name: write the variable's name (such as \"FEED_TOKEN\") and put the secret in that variable",
                redact(&env)
            )),
            RawHeader::FromEnv { env, prefix } => headers.push(HeaderFromEnv { name, env, prefix }),
            RawHeader::Clear(_) => report(format!(
                "{owner}: header {name:?} is written in clear: write {name} = {{ env = \"VARIABLE\" }} and set the secret in that environment variable"
            )),
            RawHeader::Other(_) => report(format!(
                "{owner}: header {name:?} must be {{ env = \"VARIABLE\" }} with an optional prefix = \"Bearer \""
            )),
        }
    }
    headers
}

/// Validates the `[geocoder]` table; `None` when it is disabled or invalid (the problems
/// are reported).
fn validate_geocoder(raw: RawGeocoder, report: &mut impl FnMut(String)) -> Option<GeocoderConfig> {
    let kind_text = raw.kind.unwrap_or_default();
    let kind = GeocoderKind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind_text.trim());
    if kind.is_none() {
        report(format!(
            "geocoder: unknown or missing kind {kind_text:?}: use one of nominatim, photon, addok"
        ));
    }
    let url = match raw.url.as_deref().map(str::trim) {
        Some(text) if text.starts_with("https://") || text.starts_with("http://") => {
            url::Url::parse(text)
                .map_err(|error| report(format!("geocoder: invalid url {text:?}: {error}")))
                .ok()
        }
        Some(text) => {
            report(format!(
                "geocoder: invalid url {text:?}: use the base URL of the service, such as \"http://127.0.0.1:8080\""
            ));
            None
        }
        None => {
            report(
                "geocoder is missing `url`: add url = \"http://127.0.0.1:8080\", the base URL of the service"
                    .to_owned(),
            );
            None
        }
    };
    let requests_per_second = raw.requests_per_second.unwrap_or(DEFAULT_GEOCODER_RATE);
    if !(requests_per_second.is_finite()
        && requests_per_second > 0.0
        && requests_per_second <= 1000.0)
    {
        report(format!(
            "geocoder: invalid requests_per_second {requests_per_second}: use a number above 0 and up to 1000, such as 1"
        ));
    }
    let timeout_seconds = raw.timeout_seconds.unwrap_or(10.0);
    if !(timeout_seconds.is_finite() && timeout_seconds > 0.0 && timeout_seconds <= 300.0) {
        report(format!(
            "geocoder: invalid timeout_seconds {timeout_seconds}: use a number of seconds above 0 and up to 300"
        ));
    }
    let headers = headers_from_env(raw.headers, "geocoder", report);

    if !raw.enabled.unwrap_or(true) {
        return None;
    }
    Some(GeocoderConfig {
        kind: kind?,
        url: url?,
        requests_per_second,
        timeout: std::time::Duration::from_secs_f64(timeout_seconds.clamp(0.001, 300.0)),
        max_lookups_per_run: raw
            .max_lookups_per_run
            .unwrap_or(DEFAULT_GEOCODER_LOOKUPS_PER_RUN),
        headers,
    })
}

fn required(
    value: Option<String>,
    field: &str,
    example: &str,
    report: &mut impl FnMut(String),
) -> Option<String> {
    match value {
        Some(value) if !value.trim().is_empty() => Some(value.trim().to_owned()),
        _ => {
            report(format!(
                "source is missing `{field}`: add {field} = {example}"
            ));
            None
        }
    }
}

fn parse_location(text: &str, base: &Path) -> Result<Location, String> {
    if text.starts_with("https://") || text.starts_with("http://") {
        return url::Url::parse(text)
            .map(Location::Url)
            .map_err(|error| format!("invalid URL {text:?}: {error}"));
    }
    if text.contains("://") {
        return Err(format!(
            "unsupported URL scheme in {text:?}: use https://, http:// or a local path"
        ));
    }
    Ok(Location::File(base.join(text)))
}

/// Parses a cron expression of 5 fields (minute first) or 6-7 fields (seconds first).
///
/// # Errors
///
/// Returns a message naming the expression and the expected form.
pub fn parse_schedule(text: &str) -> Result<cron::Schedule, String> {
    let fields = text.split_whitespace().count();
    let expression = if fields == 5 {
        format!("0 {text}")
    } else {
        text.to_owned()
    };
    let schedule = cron::Schedule::from_str(&expression).map_err(|error| {
        format!(
            "invalid cron schedule {text:?} ({error}): use 5 fields, minute hour day month weekday, such as \"*/30 * * * *\""
        )
    })?;
    if schedule.upcoming(chrono::Utc).next().is_none() {
        return Err(format!(
            "cron schedule {text:?} never runs (no such date): use 5 fields, minute hour day month weekday, such as \"*/30 * * * *\""
        ));
    }
    Ok(schedule)
}

/// The kinds as a list for messages: `openfresque, ics, tuf, jsonld`.
fn kind_names() -> String {
    Kind::ALL.map(Kind::as_str).join(", ")
}

/// A location for display: file paths as they are, URLs without their password and with the
/// values of secret-looking query parameters replaced by `***`.
pub fn display_location(location: &Location) -> String {
    let Location::Url(url) = location else {
        return location.to_string();
    };
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    let has_secret = url
        .query_pairs()
        .any(|(name, _)| SECRET_PARAMETERS.contains(&name.to_ascii_lowercase().as_str()));
    if has_secret {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let secret = SECRET_PARAMETERS.contains(&name.to_ascii_lowercase().as_str());
                let value = if secret {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Checks that pass or fail nothing but deserve the operator's attention.
fn check_source(
    source: &Source,
    seen_urls: &mut HashMap<String, String>,
    warn: &mut impl FnMut(String),
) {
    let id = &source.id;
    match &source.location {
        Location::Url(url) => {
            for (name, _) in url.query_pairs() {
                if SECRET_PARAMETERS.contains(&name.to_ascii_lowercase().as_str()) {
                    warn(format!(
                        "source {id:?}: the URL parameter {name:?} looks like a secret written in clear: if the feed accepts it, send it as a header whose value comes from an environment variable"
                    ));
                }
            }
        }
        Location::File(path) => {
            if !path.exists() {
                warn(format!(
                    "source {id:?}: file {} does not exist yet: fetches fail until it does",
                    path.display()
                ));
            }
        }
    }
    if let Some(other) = seen_urls.insert(source.location.to_string(), id.clone()) {
        warn(format!(
            "source {id:?} reads the same feed as source {other:?}: each event would be listed twice"
        ));
    }
    if let Some(code) = &source.workshop
        && Catalog::embedded().get(code).is_none()
    {
        warn(format!(
            "source {id:?}: workshop {code:?} is not in the catalog (GET /api/v1/workshops lists the codes): its events are listed under this code as written"
        ));
    }
    let mut upcoming = source.schedule.upcoming(chrono::Utc);
    if let (Some(first), Some(second)) = (upcoming.next(), upcoming.next())
        && second - first < chrono::Duration::minutes(1)
    {
        warn(format!(
            "source {id:?}: schedule {:?} runs more than once a minute: most feeds change a few times a day, so every 15 or 30 minutes is plenty",
            source.schedule_text
        ));
    }
}

/// Whether `name` can be an environment variable name: letters, digits and `_`, not
/// starting with a digit.
fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value shown in an error without revealing it when it may be a secret.
fn redact(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    format!("{shown}…")
}

/// The line of the `[settings]` table, if the file has one.
fn settings_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.trim() == "[settings]")
        .map(|index| index + 1)
}

fn is_alpha(code: &str, length: usize) -> bool {
    code.len() == length && code.chars().all(|c| c.is_ascii_alphabetic())
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let before = &text.as_bytes()[..offset.min(text.len())];
    before.iter().filter(|&&byte| byte == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
[settings]
horizon_days = 90

[[source]]
id = "climat"
name = "Fresque du Climat"
kind = "openfresque"
url = "examples/feeds/climat.json"
workshop = "FresqueClimat"
schedule = "*/30 * * * *"
time_zone = "Europe/Paris"
country = "fr"
language = "FR"

[[source]]
id = "remote"
kind = "ics"
url = "https://example.org/agenda.ics"
enabled = false
headers = { Authorization = { env = "AGENDA_TOKEN", prefix = "Bearer " } }
"#;

    #[test]
    fn valid_file_parses_every_field() {
        let config = Config::parse(VALID, Path::new("/etc/mf")).unwrap();

        assert_eq!(config.settings.horizon_days, 90);
        assert_eq!(config.sources.len(), 2);
        let climat = &config.sources[0];
        assert_eq!(climat.kind, Kind::Openfresque);
        assert_eq!(
            climat.location,
            Location::File(PathBuf::from("/etc/mf/examples/feeds/climat.json"))
        );
        assert_eq!(climat.country.as_deref(), Some("FR"));
        assert_eq!(climat.language.as_deref(), Some("fr"));
        assert_eq!(climat.time_zone, chrono_tz::Europe::Paris);
        let remote = &config.sources[1];
        assert!(!remote.enabled);
        assert_eq!(remote.headers[0].env, "AGENDA_TOKEN");
        assert_eq!(config.enabled_sources().count(), 1);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = r#"[[source]]
id = "a"
kind = "rss"
url = "x.json"

[[source]]
id = "b"
kind = "ics"
url = "b.ics"
schedule = "every hour"
time_zone = "Europe/Lyon"

[[source]]
id = "a"
kind = "tuf"
url = "a.json"
headers = { "X-Key" = "s3cret" }

[[source]]
id = "c"
kind = "ics"
"#;
        let problems = Config::parse(text, Path::new(".")).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();

        assert!(
            messages[0].starts_with("line 1: source \"a\": unknown kind \"rss\""),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 6:") && m.contains("invalid cron schedule"))
        );
        assert!(
            messages.iter().any(
                |m| m.starts_with("line 6:") && m.contains("unknown time zone \"Europe/Lyon\"")
            )
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 13:") && m.contains("written in clear"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 13:") && m.contains("duplicate source id \"a\""))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 19:") && m.contains("missing `url`"))
        );
    }

    #[test]
    fn unknown_key_is_a_problem() {
        let problems =
            Config::parse("[[source]]\nid = \"a\"\nkinds = \"ics\"\n", Path::new(".")).unwrap_err();

        assert_eq!(problems[0].line, Some(3));
        assert!(
            problems[0].message.contains("unknown field `kinds`"),
            "{problems:?}"
        );
    }

    #[test]
    fn horizon_out_of_range_is_a_problem() {
        let problems =
            Config::parse("[settings]\nhorizon_days = 100000000\n", Path::new(".")).unwrap_err();

        assert!(
            problems[0]
                .message
                .contains("horizon_days = 100000000 is out of range"),
            "{problems:?}"
        );
    }

    #[test]
    fn schedule_accepts_five_and_six_fields() {
        assert!(parse_schedule("*/30 * * * *").is_ok());
        assert!(parse_schedule("0 */30 * * * *").is_ok());
        assert!(parse_schedule("61 * * * *").is_err());
    }

    #[test]
    fn unsupported_url_scheme_is_rejected() {
        let text = "[[source]]\nid = \"a\"\nkind = \"ics\"\nurl = \"ftp://example.org/a.ics\"\n";
        let problems = Config::parse(text, Path::new(".")).unwrap_err();

        assert!(problems[0].message.contains("unsupported URL scheme"));
    }

    #[test]
    fn priority_defaults_by_kind() {
        let config = Config::parse(VALID, Path::new(".")).unwrap();
        let text = "[[source]]\nid = \"x\"\nkind = \"tuf\"\nurl = \"x.json\"\n\n[[source]]\nid = \"y\"\nkind = \"ics\"\nurl = \"y.ics\"\npriority = 99\n";
        let other = Config::parse(text, Path::new(".")).unwrap();

        assert_eq!(config.sources[0].priority, 40, "a family's own feed");
        assert_eq!(config.sources[1].priority, 20, "a calendar");
        assert_eq!(other.sources[0].priority, 10, "the incumbent's export");
        assert_eq!(other.sources[1].priority, 99, "set in the file");
    }

    #[test]
    fn geocoder_table_parses() {
        let text = "[geocoder]\nkind = \"photon\"\nurl = \"http://127.0.0.1:2322\"\nrequests_per_second = 0.5\ntimeout_seconds = 3\nheaders = { X-Key = { env = \"GEOCODER_KEY\" } }\n";

        let geocoder = Config::parse(text, Path::new("."))
            .unwrap()
            .geocoder
            .unwrap();

        assert_eq!(geocoder.kind, GeocoderKind::Photon);
        assert_eq!(geocoder.url.as_str(), "http://127.0.0.1:2322/");
        assert_eq!(geocoder.requests_per_second, 0.5);
        assert_eq!(geocoder.timeout, std::time::Duration::from_secs(3));
        assert_eq!(
            geocoder.max_lookups_per_run,
            DEFAULT_GEOCODER_LOOKUPS_PER_RUN
        );
        assert_eq!(geocoder.headers[0].env, "GEOCODER_KEY");
    }

    #[test]
    fn geocoder_problems_are_reported() {
        let text = "\n[geocoder]\nkind = \"google\"\nurl = \"geo.example.org\"\nrequests_per_second = 0\nheaders = { X-Key = \"s3cret\" }\n";

        let problems = Config::parse(text, Path::new(".")).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();

        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages.iter().all(|m| m.starts_with("line 2: geocoder")),
            "{messages:?}"
        );
        assert!(messages[0].contains("unknown or missing kind \"google\""));
        assert!(messages.iter().any(|m| m.contains("invalid url")));
        assert!(messages.iter().any(|m| m.contains("requests_per_second")));
        assert!(messages.iter().any(|m| m.contains("written in clear")));
    }

    #[test]
    fn disabled_geocoder_is_none() {
        let text =
            "[geocoder]\nkind = \"addok\"\nurl = \"https://addok.example.org\"\nenabled = false\n";

        assert_eq!(Config::parse(text, Path::new(".")).unwrap().geocoder, None);
    }

    #[test]
    fn doubtful_entries_are_warnings() {
        let text = r#"[[source]]
id = "a"
kind = "ics"
url = "https://example.org/agenda.ics?token=abc&lang=fr"
workshop = "FresqueInconnue"
schedule = "* * * * * *"

[[source]]
id = "b"
kind = "ics"
url = "https://example.org/agenda.ics?token=abc&lang=fr"
"#;
        let config = Config::parse(text, Path::new(".")).unwrap();
        let warnings: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();

        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("line 1:") && w.contains("\"token\" looks like a secret")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("\"FresqueInconnue\" is not in the catalog")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("more than once a minute")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("line 8:") && w.contains("same feed as source \"a\"")),
            "{warnings:?}"
        );
    }

    #[test]
    fn secrets_in_clear_are_problems() {
        let text = r#"[[source]]
id = "a"
kind = "ics"
url = "https://user:hunter2@example.org/a.ics"
headers = { Authorization = { env = "Bearer 0123456789abcdef" } }
"#;
        let problems = Config::parse(text, Path::new(".")).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();

        assert!(
            messages.iter().any(|m| m.contains("password in clear")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("not an environment variable name")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .all(|m| !m.contains("hunter2") && !m.contains("0123456789")),
            "{messages:?}"
        );
    }

    #[test]
    fn impossible_schedule_and_horizon_are_problems() {
        let text = "[settings]\nhorizon_days = 0\n\n[[source]]\nid = \"a\"\nkind = \"ics\"\nurl = \"a.ics\"\nschedule = \"0 0 31 2 *\"\n";
        let problems = Config::parse(text, Path::new(".")).unwrap_err();
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();

        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 4:") && m.contains("never runs")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("line 1:") && m.contains("horizon_days = 0")),
            "{messages:?}"
        );
    }

    #[test]
    fn displayed_location_hides_secrets() {
        let location =
            Location::Url(url::Url::parse("https://u:pw@example.org/f?token=abc&lang=fr").unwrap());

        assert_eq!(
            display_location(&location),
            "https://u:***@example.org/f?token=***&lang=fr"
        );
    }
}
