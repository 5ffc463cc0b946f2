//! iCalendar (RFC 5545) adapter: turns a calendar as real tools write it into [`Draft`]
//! events and per-event [`Rejection`]s.
//!
//! The module walks these steps:
//!
//! 1. read the bytes (lossy UTF-8, any line ending), unfold continuation lines and split each
//!    content line into name, parameters and value;
//! 2. nest the lines into components (`VCALENDAR`, `VTIMEZONE`, `VEVENT`, ...);
//! 3. build a zone table: IANA names through chrono-tz, common Windows names through a fixed
//!    table, anything else through the file's own `VTIMEZONE` observances;
//! 4. read each `VEVENT` into fields and times, then expand recurrences over a bounded window
//!    around `context.now`, applying `EXDATE`, `RDATE` and `RECURRENCE-ID` overrides.
//!
//! It leaves default zones, text and HTML cleaning, and place resolution to `normalize`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use rrule::{RRule, RRuleSet, Unvalidated};

use super::{AdapterError, Context, Parsed};
use crate::event::{Draft, Location, Rejection, Status, When};

/// Occurrences kept per recurring series. A daily series over a one-year horizon has 366;
/// more than this means a rule far denser than any workshop schedule (hourly or by minute).
const MAX_OCCURRENCES_PER_SERIES: usize = 1_000;

/// Rule instances a series may step through, including those before the window, before the
/// expansion stops. It bounds the work that an old daily rule or a `FREQ=SECONDLY` rule costs.
const MAX_RECURRENCE_STEPS: usize = 100_000;

/// Drafts kept per calendar. The whole world's future fresque sessions are tens of
/// thousands, so one calendar past this is broken or hostile, and the rest is dropped.
const MAX_EVENTS_PER_CALENDAR: usize = 50_000;

/// How far before `context.now` recurrence expansion starts, so that a session running at
/// fetch time is still listed.
const WINDOW_LOOKBACK: TimeDelta = TimeDelta::days(1);

/// Rule instances stepped through when looking up a `VTIMEZONE` observance onset. Yearly
/// rules are moved close to the looked-up year first, so a handful is enough.
const MAX_OBSERVANCE_STEPS: usize = 1_000;

/// Reads one calendar.
///
/// Non-recurring events are kept whatever their date (past events stay in the store for
/// history). Recurring series are expanded only over `context.now - 1 day` to
/// `context.now + context.horizon_days`.
///
/// # Errors
///
/// Returns [`AdapterError::WrongFormat`] when the bytes hold no `VCALENDAR`, or when a
/// calendar ends before its `END:VCALENDAR` line (a truncated download).
pub fn parse(bytes: &[u8], context: &Context) -> Result<Parsed, AdapterError> {
    let text = String::from_utf8_lossy(bytes);
    let lines = unfold(&text);
    let calendars = nest_components(lines.iter().filter_map(|line| parse_content_line(line)))?;

    let zones = ZoneTable::from_calendars(&calendars);
    let window = Window::around(context);
    let mut output = Output::default();
    for calendar in &calendars {
        read_calendar(calendar, &zones, &window, &mut output);
    }

    tracing::debug!(
        drafts = output.drafts.len(),
        rejections = output.rejections.len(),
        "parsed icalendar feed"
    );
    Ok(Parsed {
        drafts: output.drafts,
        rejections: output.rejections,
        next: None,
    })
}

// ---------------------------------------------------------------------------------------
// Content lines
// ---------------------------------------------------------------------------------------

/// One content line: `NAME;PARAM=value;PARAM="quoted":value`.
#[derive(Debug, Clone, PartialEq)]
struct Property {
    /// Upper case.
    name: String,
    /// Parameter names in upper case, values with their quotes removed.
    params: Vec<(String, String)>,
    /// The raw value, still escaped.
    value: String,
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        unescape_text(&self.value)
    }
}

/// Splits text into logical lines: CRLF, LF and lone CR all end a line, and a line starting
/// with a space or a TAB continues the previous one (RFC 5545 §3.1).
fn unfold(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<String> = Vec::new();

    for raw in text.split(['\n', '\r']) {
        if raw.is_empty() {
            continue;
        }
        if let Some(continuation) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(continuation);
            continue;
        }
        lines.push(raw.to_owned());
    }
    lines
}

/// Parses one unfolded line, or returns `None` for a line with no value (such as a bare
/// `ORGANIZER;CN=Name`).
///
/// Some writers quote a parameter so badly that the quote swallows the value
/// (`DTSTART;TZID="W. Europe Standard Time:20200609T090000"`); such a line is read again
/// with its quotes removed.
fn parse_content_line(line: &str) -> Option<Property> {
    parse_content_line_strict(line).or_else(|| {
        line.contains('"')
            .then(|| parse_content_line_strict(&line.replace('"', "")))
            .flatten()
    })
}

fn parse_content_line_strict(line: &str) -> Option<Property> {
    let name_end = line.find([';', ':'])?;
    let name = line[..name_end].trim().to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }

    let mut params = Vec::new();
    let mut rest = &line[name_end..];
    loop {
        if let Some(value) = rest.strip_prefix(':') {
            return Some(Property {
                name,
                params,
                value: value.to_owned(),
            });
        }

        // `rest` starts with ';': one parameter follows.
        let tail = &rest[1..];
        let name_end = tail.find(['=', ':', ';'])?;
        let param_name = tail[..name_end].trim().to_ascii_uppercase();
        if !tail[name_end..].starts_with('=') {
            // A parameter without a value, such as `;X-FLAG:`, is dropped.
            rest = &tail[name_end..];
            continue;
        }

        let (param_value, after) = parse_param_value(&tail[name_end + 1..])?;
        params.push((param_name, param_value));
        if after.is_empty() {
            return None;
        }
        rest = after;
    }
}

/// Reads a parameter value (comma-separated, each part possibly quoted) and returns it with
/// the text after it, which starts with `;` or `:` or is empty.
fn parse_param_value(mut text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    loop {
        if let Some(quoted) = text.strip_prefix('"') {
            let close = quoted.find('"')?;
            value.push_str(&quoted[..close]);
            text = &quoted[close + 1..];
        } else {
            let end = text.find([',', ';', ':']).unwrap_or(text.len());
            value.push_str(&text[..end]);
            text = &text[end..];
        }

        match text.strip_prefix(',') {
            Some(next) => {
                value.push(',');
                text = next;
            }
            None => return Some((value, text)),
        }
    }
}

/// Undoes TEXT escaping (RFC 5545 §3.3.11): `\n` and `\N` become a newline, `\,` `\;` `\\`
/// their character. `\"`, written by some tools, becomes a quote; any other backslash is
/// kept as it is.
fn unescape_text(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    let mut chars = value.chars();

    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => text.push('\n'),
            Some(escaped @ (',' | ';' | '\\' | '"')) => text.push(escaped),
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => text.push('\\'),
        }
    }
    text
}

/// Splits a multi-valued TEXT value on the commas that are not escaped, then unescapes each
/// part.
fn split_text_list(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars();

    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);

    parts.iter().map(|part| unescape_text(part)).collect()
}

// ---------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------

/// A `BEGIN:NAME` ... `END:NAME` block with its properties and nested blocks.
#[derive(Debug, Clone, Default)]
struct Component {
    /// Upper case.
    name: String,
    properties: Vec<Property>,
    children: Vec<Component>,
}

impl Component {
    fn named(name: &str) -> Self {
        Component {
            name: name.to_owned(),
            ..Component::default()
        }
    }

    fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    fn properties<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.properties.iter().filter(move |p| p.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Component> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Nests content lines into the top-level `VCALENDAR` components. Lines outside any
/// calendar, such as junk after `END:VCALENDAR`, are ignored, and so is an `END` that
/// matches no open component.
fn nest_components(
    properties: impl Iterator<Item = Property>,
) -> Result<Vec<Component>, AdapterError> {
    let mut calendars = Vec::new();
    let mut open: Vec<Component> = Vec::new();

    for property in properties {
        match property.name.as_str() {
            "BEGIN" => {
                let name = property.value.trim().to_ascii_uppercase();
                if open.is_empty() && name != "VCALENDAR" {
                    continue;
                }
                open.push(Component::named(&name));
            }
            "END" => {
                let name = property.value.trim().to_ascii_uppercase();
                let Some(depth) = open.iter().rposition(|c| c.name == name) else {
                    continue;
                };
                // Components left open inside the one that ends are closed with it.
                while open.len() > depth {
                    let Some(done) = open.pop() else { break };
                    match open.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => calendars.push(done),
                    }
                }
            }
            _ => {
                if let Some(current) = open.last_mut() {
                    current.properties.push(property);
                }
            }
        }
    }

    if !open.is_empty() {
        return Err(AdapterError::WrongFormat {
            expected: "iCalendar",
            detail: "the calendar ends before its END:VCALENDAR line (truncated download?)"
                .to_owned(),
        });
    }
    if calendars.is_empty() {
        return Err(AdapterError::WrongFormat {
            expected: "iCalendar",
            detail: "no BEGIN:VCALENDAR line found".to_owned(),
        });
    }
    Ok(calendars)
}

// ---------------------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------------------

/// Windows zone names (as Exchange and Outlook write them in `TZID`) mapped to the IANA zone
/// that CLDR's windowZones table gives for the territory "001".
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Canada Central Standard Time", "America/Regina"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Asia Standard Time", "Asia/Almaty"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
    ("Central Standard Time", "America/Chicago"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("China Standard Time", "Asia/Shanghai"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Eastern Standard Time", "America/New_York"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("FLE Standard Time", "Europe/Kyiv"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("Mountain Standard Time", "America/Denver"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("US Eastern Standard Time", "America/Indiana/Indianapolis"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("UTC", "Etc/UTC"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("West Asia Standard Time", "Asia/Tashkent"),
];

/// The anchor of a time value: a day, UTC, a named zone, a file's zone, or none.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeRef {
    /// `VALUE=DATE`: a whole day, no time zone.
    Date,
    /// A `Z` time.
    Utc,
    Iana(Tz),
    /// A zone known only from a `VTIMEZONE` of the file: an index into
    /// [`ZoneTable::custom`].
    Custom(usize),
    /// A wall-clock time: no zone given, or a zone that neither the tables nor the file
    /// resolve.
    Floating,
}

/// A date or date-time as written, before it is resolved to an instant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamp {
    /// Wall-clock time in `reference`; midnight for dates.
    local: NaiveDateTime,
    reference: TimeRef,
}

/// One `STANDARD` or `DAYLIGHT` block of a `VTIMEZONE`.
#[derive(Debug, Clone)]
struct Observance {
    /// First onset, in the local time in force before it.
    start: NaiveDateTime,
    /// Offset in force before the onset, in seconds east of UTC.
    offset_from: i32,
    /// Offset in force from the onset on, in seconds east of UTC.
    offset_to: i32,
    rdates: Vec<NaiveDateTime>,
    rule: Option<RuleText>,
}

/// Time zones a calendar may name, beyond the IANA and Windows names known to everyone.
#[derive(Debug, Default)]
struct ZoneTable {
    /// `VTIMEZONE`s whose `TZID` is neither an IANA nor a known Windows name, with that
    /// `TZID` trimmed.
    custom: Vec<(String, Vec<Observance>)>,
}

impl ZoneTable {
    fn from_calendars(calendars: &[Component]) -> Self {
        let mut table = ZoneTable::default();
        let vtimezones = calendars.iter().flat_map(|c| c.children("VTIMEZONE"));

        for vtimezone in vtimezones {
            let Some(tzid) = vtimezone.property("TZID").map(|p| p.value.trim()) else {
                continue;
            };
            if named_zone(tzid).is_some() || table.custom.iter().any(|(id, _)| id == tzid) {
                continue;
            }
            let observances: Vec<Observance> = vtimezone
                .children
                .iter()
                .filter(|c| c.name == "STANDARD" || c.name == "DAYLIGHT")
                .filter_map(read_observance)
                .collect();
            if !observances.is_empty() {
                table.custom.push((tzid.to_owned(), observances));
            }
        }
        table
    }

    /// Resolves a `TZID` parameter: IANA name, Windows name, then the file's `VTIMEZONE`s.
    /// An unknown zone becomes floating time, which normalization reads in the source's
    /// default zone, so the event is kept.
    fn lookup(&self, tzid: &str) -> TimeRef {
        let tzid = tzid.trim().trim_matches('"').trim();
        if let Some(tz) = named_zone(tzid) {
            return TimeRef::Iana(tz);
        }
        if let Some(index) = self.custom.iter().position(|(id, _)| id == tzid) {
            return TimeRef::Custom(index);
        }
        tracing::debug!(tzid, "unknown time zone, reading its times as floating");
        TimeRef::Floating
    }

    /// Resolves a stamp to what the [`Draft`] carries.
    fn resolve(&self, stamp: Stamp) -> When {
        match stamp.reference {
            TimeRef::Date => When::Date(stamp.local.date()),
            TimeRef::Floating => When::Local(stamp.local),
            TimeRef::Utc => When::Instant(Utc.from_utc_datetime(&stamp.local).fixed_offset()),
            TimeRef::Iana(tz) => When::Instant(resolve_in_zone(tz, stamp.local)),
            TimeRef::Custom(index) => {
                let seconds = offset_at(&self.custom[index].1, stamp.local);
                match FixedOffset::east_opt(seconds)
                    .and_then(|offset| offset.from_local_datetime(&stamp.local).single())
                {
                    Some(instant) => When::Instant(instant),
                    None => When::Local(stamp.local),
                }
            }
        }
    }
}

/// Finds a zone by IANA name (also at the end of a path such as
/// `/mozilla.org/20050126_1/Europe/Paris`) or by Windows name.
fn named_zone(name: &str) -> Option<Tz> {
    if let Ok(tz) = Tz::from_str(name) {
        return Some(tz);
    }
    let from_path = name
        .match_indices('/')
        .find_map(|(slash, _)| Tz::from_str(&name[slash + 1..]).ok());
    if from_path.is_some() {
        return from_path;
    }
    WINDOWS_ZONES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| Tz::from_str(iana).ok())
}

/// Reads a wall-clock time in an IANA zone. A time that falls twice (autumn) is the first
/// one; a time that does not exist (spring gap) is read with the offset in force before the
/// gap, as RFC 5545 §3.3.5 specifies.
fn resolve_in_zone(tz: Tz, local: NaiveDateTime) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => time.fixed_offset(),
        LocalResult::None => {
            let before_gap = tz
                .offset_from_utc_datetime(&(local - TimeDelta::days(1)))
                .fix();
            let utc = local - TimeDelta::seconds(i64::from(before_gap.local_minus_utc()));
            Utc.from_utc_datetime(&utc)
                .with_timezone(&tz)
                .fixed_offset()
        }
    }
}

fn read_observance(block: &Component) -> Option<Observance> {
    let start = parse_date_time(&block.property("DTSTART")?.value)?.0;
    let offset_from = parse_utc_offset(&block.property("TZOFFSETFROM")?.value)?;
    let offset_to = parse_utc_offset(&block.property("TZOFFSETTO")?.value)?;
    let rdates = block
        .properties("RDATE")
        .flat_map(|p| p.value.split(','))
        .filter_map(|value| parse_date_time(value).map(|(local, _)| local))
        .collect();
    let rule = block
        .property("RRULE")
        .and_then(|p| RuleText::parse(&p.value));

    Some(Observance {
        start,
        offset_from,
        offset_to,
        rdates,
        rule,
    })
}

/// Parses `+HHMM` or `+HHMMSS` into seconds east of UTC.
fn parse_utc_offset(value: &str) -> Option<i32> {
    let value = value.trim();
    let (sign, digits) = match value.as_bytes().first()? {
        b'+' => (1, &value[1..]),
        b'-' => (-1, &value[1..]),
        _ => (1, value),
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[0..2].parse().ok()?;
    let minutes: i32 = digits[2..4].parse().ok()?;
    let seconds: i32 = digits.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60 + seconds))
}

/// Computes the UTC offset, in seconds, that a `VTIMEZONE` puts in force at a local time:
/// the `TZOFFSETTO` of the observance with the latest onset at or before that time.
///
/// NOTE: onsets are compared with `local` as wall-clock times without applying
/// `TZOFFSETFROM`, so a time within the changeover hour may get the other offset.
fn offset_at(observances: &[Observance], local: NaiveDateTime) -> i32 {
    let latest = observances
        .iter()
        .filter_map(|o| latest_onset(o, local).map(|onset| (onset, o)))
        .max_by_key(|(onset, _)| *onset);
    if let Some((_, observance)) = latest {
        return observance.offset_to;
    }

    // Before every onset: the offset in force before the earliest one.
    observances
        .iter()
        .min_by_key(|o| o.start)
        .map_or(0, |o| o.offset_from)
}

fn latest_onset(observance: &Observance, local: NaiveDateTime) -> Option<NaiveDateTime> {
    let from_rule = observance
        .rule
        .as_ref()
        .and_then(|rule| rule.latest_instance(observance.start, local));

    std::iter::once(observance.start)
        .chain(observance.rdates.iter().copied())
        .chain(from_rule)
        .filter(|onset| *onset <= local)
        .max()
}

// ---------------------------------------------------------------------------------------
// Date and time values
// ---------------------------------------------------------------------------------------

/// Parses `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]` (seconds optional; dashes and colons of ISO
/// 8601 tolerated). Returns the wall-clock time (midnight for a date) and its kind.
fn parse_date_time(value: &str) -> Option<(NaiveDateTime, ValueKind)> {
    let cleaned: String = value
        .trim()
        .trim_matches('"')
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let (cleaned, utc) = match cleaned.strip_suffix(['Z', 'z']) {
        Some(rest) => (rest, true),
        None => (cleaned.as_str(), false),
    };
    let (date_part, time_part) = match cleaned.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (cleaned, None),
    };

    let date = parse_date_digits(date_part)?;
    let Some(time_part) = time_part else {
        // A date written with `Z` (seen in Google birthday RDATEs) is still a date.
        return Some((date.and_time(NaiveTime::MIN), ValueKind::Date));
    };
    let time = parse_time_digits(time_part)?;
    let kind = if utc {
        ValueKind::Utc
    } else {
        ValueKind::Local
    };
    Some((date.and_time(time), kind))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Date,
    Utc,
    Local,
}

fn parse_date_digits(digits: &str) -> Option<NaiveDate> {
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits[0..4].parse().ok()?,
        digits[4..6].parse().ok()?,
        digits[6..8].parse().ok()?,
    )
}

fn parse_time_digits(digits: &str) -> Option<NaiveTime> {
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds: u32 = digits.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    // A leap second (60) is read as 59 rather than rejecting the event.
    NaiveTime::from_hms_opt(
        digits[0..2].parse().ok()?,
        digits[2..4].parse().ok()?,
        seconds.min(59),
    )
}

/// Parses an RFC 5545 DURATION such as `PT3H`, `P1D`, `P1W` or `-PT15M`.
fn parse_duration(value: &str) -> Option<TimeDelta> {
    let value = value.trim();
    let (negative, value) = match value.as_bytes().first()? {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value),
    };
    let value = value.strip_prefix(['P', 'p'])?;

    let mut total = TimeDelta::zero();
    let mut number = String::new();
    let mut in_time = false;
    let mut any_part = false;
    for c in value.chars() {
        match c.to_ascii_uppercase() {
            digit @ '0'..='9' => number.push(digit),
            'T' if number.is_empty() => in_time = true,
            unit @ ('W' | 'D' | 'H' | 'M' | 'S') => {
                let amount: i64 = number.parse().ok()?;
                number.clear();
                let part = match (unit, in_time) {
                    ('W', false) => TimeDelta::try_weeks(amount)?,
                    ('D', false) => TimeDelta::try_days(amount)?,
                    ('H', true) => TimeDelta::try_hours(amount)?,
                    ('M', true) => TimeDelta::try_minutes(amount)?,
                    ('S', true) => TimeDelta::try_seconds(amount)?,
                    _ => return None,
                };
                total = total.checked_add(&part)?;
                any_part = true;
            }
            _ => return None,
        }
    }
    if !number.is_empty() || !any_part {
        return None;
    }
    Some(if negative { -total } else { total })
}

/// Failure to read a time property.
enum TimeError {
    Missing,
    Invalid(String),
}

/// Reads one date or date-time property (`DTSTART`, `DTEND`, `RECURRENCE-ID`).
fn read_stamp(property: &Property, zones: &ZoneTable) -> Result<Stamp, TimeError> {
    let mut stamps = read_stamps(property, zones)?;
    match stamps.len() {
        1 => Ok(stamps.remove(0)),
        _ => Err(TimeError::Invalid(property.value.clone())),
    }
}

/// Reads a possibly multi-valued date or date-time property (`RDATE`, `EXDATE`). A
/// `VALUE=PERIOD` value counts by its start.
fn read_stamps(property: &Property, zones: &ZoneTable) -> Result<Vec<Stamp>, TimeError> {
    let date_only = property
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    let zone = property.param("TZID").map(|tzid| zones.lookup(tzid));

    let mut stamps = Vec::new();
    for value in property.value.split(',').filter(|v| !v.trim().is_empty()) {
        let start = value.split('/').next().unwrap_or(value);
        let (local, kind) =
            parse_date_time(start).ok_or_else(|| TimeError::Invalid(value.trim().to_owned()))?;
        let reference = match kind {
            _ if date_only => TimeRef::Date,
            ValueKind::Date => TimeRef::Date,
            ValueKind::Utc => TimeRef::Utc,
            ValueKind::Local => zone.unwrap_or(TimeRef::Floating),
        };
        let local = if reference == TimeRef::Date {
            local.date().and_time(NaiveTime::MIN)
        } else {
            local
        };
        stamps.push(Stamp { local, reference });
    }
    if stamps.is_empty() {
        return Err(TimeError::Missing);
    }
    Ok(stamps)
}

/// Formats the id part that names one occurrence: `YYYYMMDDTHHMMSSZ` in UTC, `YYYYMMDD` for a date,
/// and `YYYYMMDDTHHMMSS` (no `Z`) for floating time, whose instant depends on the source's
/// default zone.
fn occurrence_key(when: &When) -> String {
    match when {
        When::Date(date) => date.format("%Y%m%d").to_string(),
        When::Instant(instant) => instant
            .with_timezone(&Utc)
            .format("%Y%m%dT%H%M%SZ")
            .to_string(),
        When::Local(local) => local.format("%Y%m%dT%H%M%S").to_string(),
    }
}

/// Places a time value on the UTC time line for comparisons. Dates and floating times are
/// read in the source's default zone.
fn approximate_utc(when: &When, default_zone: Tz) -> DateTime<Utc> {
    match when {
        When::Instant(instant) => instant.with_timezone(&Utc),
        When::Local(local) => resolve_in_zone(default_zone, *local).with_timezone(&Utc),
        When::Date(date) => {
            resolve_in_zone(default_zone, date.and_time(NaiveTime::MIN)).with_timezone(&Utc)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Recurrence rules
// ---------------------------------------------------------------------------------------

/// An `RRULE` value split into what the rrule crate expands and what this module applies
/// itself. `UNTIL` is applied here because rrule requires it in UTC while expansion runs in
/// wall-clock time (see [`Series::expand`]).
#[derive(Debug, Clone)]
struct RuleText {
    /// The rule without its `UNTIL` part.
    without_until: String,
    until: Option<String>,
    is_yearly: bool,
    has_count: bool,
    interval: i32,
}

impl RuleText {
    fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let value = value.strip_prefix("RRULE:").unwrap_or(value);
        let mut kept = Vec::new();
        let mut until = None;
        let mut is_yearly = false;
        let mut has_count = false;
        let mut interval = 1;

        for part in value.split(';').filter(|p| !p.trim().is_empty()) {
            let (key, item) = part.split_once('=')?;
            let key = key.trim().to_ascii_uppercase();
            match key.as_str() {
                "UNTIL" => {
                    until = Some(item.trim().to_owned());
                    continue;
                }
                "FREQ" => is_yearly = item.trim().eq_ignore_ascii_case("YEARLY"),
                "COUNT" => has_count = true,
                "INTERVAL" => interval = item.trim().parse().unwrap_or(1).max(1),
                _ => {}
            }
            kept.push(format!("{key}={}", item.trim().to_ascii_uppercase()));
        }

        Some(RuleText {
            without_until: kept.join(";"),
            until,
            is_yearly,
            has_count,
            interval,
        })
    }

    /// Builds the rrule iterator, running in wall-clock time: the start's local time is
    /// handed to rrule as if it were UTC, so every instance keeps its wall-clock time across
    /// daylight-saving changes, as RFC 5545 wants.
    fn instances(
        &self,
        start: NaiveDateTime,
    ) -> Result<impl Iterator<Item = NaiveDateTime>, String> {
        let rule: RRule<Unvalidated> = self
            .without_until
            .parse()
            .map_err(|error: rrule::RRuleError| error.to_string())?;
        let wall_start = rrule::Tz::UTC.from_utc_datetime(&start);
        let rule = rule
            .validate(wall_start)
            .map_err(|error| error.to_string())?;

        // `limit` makes rrule stop a rule that never produces an instance.
        let set = RRuleSet::new(wall_start).rrule(rule).limit();
        Ok(set.into_iter().map(|instance| instance.naive_utc()))
    }

    /// Finds the last instance at or before `local`, for `VTIMEZONE` observances.
    fn latest_instance(&self, start: NaiveDateTime, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let until = self
            .until
            .as_deref()
            .and_then(parse_date_time)
            .map(|(until, _)| until);

        // Yearly rules from 1601 are moved to a year near `local` so that the lookup takes a
        // few steps. Counted rules must start where they were written.
        let mut first = start;
        let years_ahead = local.year() - 1 - start.year();
        if self.is_yearly && !self.has_count && years_ahead > self.interval {
            let shift = years_ahead / self.interval * self.interval;
            first = start.with_year(start.year() + shift).unwrap_or(start);
        }

        let mut latest = None;
        for instance in self.instances(first).ok()?.take(MAX_OBSERVANCE_STEPS) {
            if instance > local || until.is_some_and(|until| instance > until) {
                break;
            }
            latest = Some(instance);
        }
        latest
    }
}

/// The expansion window, on the UTC time line.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    default_zone: Tz,
}

impl Window {
    fn around(context: &Context) -> Self {
        Window {
            start: context.now - WINDOW_LOOKBACK,
            end: context.now + TimeDelta::days(i64::from(context.horizon_days)),
            default_zone: context.default_time_zone,
        }
    }

    fn contains(&self, when: &When) -> bool {
        let instant = approximate_utc(when, self.default_zone);
        self.start <= instant && instant <= self.end
    }
}

/// Checks whether two time values name the same occurrence: the same key, or the same day when one
/// of them is a date (an `EXDATE;VALUE=DATE` on a timed series).
fn same_occurrence(a: (Stamp, &When), b: (Stamp, &When)) -> bool {
    if a.0.reference == TimeRef::Date || b.0.reference == TimeRef::Date {
        return a.0.local.date() == b.0.local.date();
    }
    occurrence_key(a.1) == occurrence_key(b.1)
}

/// Builds a key that is equal for two values that [`same_occurrence`] matches, when both are
/// dates or both are times.
fn dedupe_key(stamp: Stamp, when: &When) -> String {
    match stamp.reference {
        TimeRef::Date => format!("date {}", stamp.local.date()),
        _ => occurrence_key(when),
    }
}

/// The outcome of expanding one series.
#[derive(Debug, Default)]
struct Expansion {
    /// Occurrence starts in the window, sorted.
    starts: Vec<Stamp>,
    /// Reason the expansion stopped early, for a rejection.
    capped: Option<String>,
    /// The rule could not be read; only `DTSTART` and `RDATE` were used.
    invalid_rule: Option<String>,
}

/// A recurring event's schedule.
struct Series<'a> {
    start: Stamp,
    /// The `RRULE`, or `Err` with the reason when a part of it is not `KEY=VALUE`.
    rule: Option<Result<RuleText, String>>,
    rdates: Vec<Stamp>,
    exdates: Exclusions,
    zones: &'a ZoneTable,
}

/// `EXDATE` values indexed for lookup, with the matching rule of [`same_occurrence`]: a day
/// excludes every occurrence on it when either side is a date, otherwise the keys must be
/// equal.
#[derive(Debug, Default)]
struct Exclusions {
    /// Local days of every `EXDATE`, to match date occurrences.
    all_days: HashSet<NaiveDate>,
    /// Local days of the `EXDATE`s that are dates, to match timed occurrences.
    date_days: HashSet<NaiveDate>,
    /// Occurrence keys of the timed `EXDATE`s.
    timed_keys: HashSet<String>,
}

impl Exclusions {
    fn new(exdates: &[Stamp], zones: &ZoneTable) -> Self {
        let mut exclusions = Exclusions::default();
        for exdate in exdates {
            let day = exdate.local.date();
            exclusions.all_days.insert(day);
            if exdate.reference == TimeRef::Date {
                exclusions.date_days.insert(day);
            } else {
                exclusions
                    .timed_keys
                    .insert(occurrence_key(&zones.resolve(*exdate)));
            }
        }
        exclusions
    }

    fn contains(&self, stamp: Stamp, when: &When) -> bool {
        let day = stamp.local.date();
        if stamp.reference == TimeRef::Date {
            return self.all_days.contains(&day);
        }
        self.date_days.contains(&day) || self.timed_keys.contains(&occurrence_key(when))
    }
}

impl Series<'_> {
    /// Lists the occurrence starts inside the window: `DTSTART` (always an instance, RFC
    /// 5545 §3.8.5.3), the rule's instances up to `UNTIL`, and `RDATE`s, minus `EXDATE`s.
    fn expand(&self, window: &Window) -> Expansion {
        let mut expansion = Expansion::default();
        let mut candidates = vec![self.start];
        candidates.extend(self.rdates.iter().copied());

        match &self.rule {
            None => {}
            Some(Err(error)) => expansion.invalid_rule = Some(error.clone()),
            Some(Ok(rule)) => match rule.instances(self.start.local) {
                Ok(instances) => self.collect_rule_instances(
                    rule,
                    instances,
                    window,
                    &mut candidates,
                    &mut expansion,
                ),
                Err(error) => expansion.invalid_rule = Some(error),
            },
        }

        let mut kept: Vec<(Stamp, When)> = Vec::new();
        let mut seen = HashSet::new();
        for stamp in candidates {
            let when = self.zones.resolve(stamp);
            if !window.contains(&when) || self.exdates.contains(stamp, &when) {
                continue;
            }
            if seen.insert(dedupe_key(stamp, &when)) {
                kept.push((stamp, when));
            }
        }
        kept.sort_by_key(|(_, when)| approximate_utc(when, window.default_zone));

        if kept.len() > MAX_OCCURRENCES_PER_SERIES {
            expansion.capped.get_or_insert_with(|| {
                format!(
                    "{} occurrences in the window, kept the first {MAX_OCCURRENCES_PER_SERIES}",
                    kept.len()
                )
            });
            kept.truncate(MAX_OCCURRENCES_PER_SERIES);
        }
        expansion.starts = kept.into_iter().map(|(stamp, _)| stamp).collect();
        expansion
    }

    fn collect_rule_instances(
        &self,
        rule: &RuleText,
        instances: impl Iterator<Item = NaiveDateTime>,
        window: &Window,
        candidates: &mut Vec<Stamp>,
        expansion: &mut Expansion,
    ) {
        let until = rule.until.as_deref().map(|value| self.until_stamp(value));
        // Wall-clock and UTC times differ by less than a day, so this bound is safe.
        let wall_end = window.end.naive_utc() + TimeDelta::days(1);
        let wall_start = window.start.naive_utc() - TimeDelta::days(1);
        let mut in_window = 0;

        for (step, local) in instances.enumerate() {
            if step >= MAX_RECURRENCE_STEPS {
                expansion.capped = Some(format!(
                    "stopped after {MAX_RECURRENCE_STEPS} rule instances"
                ));
                break;
            }
            if local > wall_end {
                break;
            }
            let stamp = Stamp {
                local,
                reference: self.start.reference,
            };
            if let Some(Some(until)) = until
                && self.is_after_until(stamp, until)
            {
                break;
            }
            if local < wall_start {
                continue;
            }
            in_window += 1;
            if in_window > MAX_OCCURRENCES_PER_SERIES {
                expansion.capped = Some(format!(
                    "more than {MAX_OCCURRENCES_PER_SERIES} occurrences in the window"
                ));
                break;
            }
            candidates.push(stamp);
        }
    }

    /// Reads `UNTIL`: a `Z` time, a date, or a local time in the start's zone. An
    /// unreadable `UNTIL` is ignored (the window still bounds the series).
    fn until_stamp(&self, value: &str) -> Option<Stamp> {
        let (local, kind) = parse_date_time(value)?;
        let reference = match kind {
            ValueKind::Date => TimeRef::Date,
            ValueKind::Utc => TimeRef::Utc,
            ValueKind::Local => self.start.reference,
        };
        Some(Stamp { local, reference })
    }

    fn is_after_until(&self, stamp: Stamp, until: Stamp) -> bool {
        if until.reference == TimeRef::Date || stamp.reference == TimeRef::Date {
            return stamp.local.date() > until.local.date();
        }
        let instance = approximate_utc(&self.zones.resolve(stamp), Tz::UTC);
        let until = approximate_utc(&self.zones.resolve(until), Tz::UTC);
        instance > until
    }
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/// The fields and times of one `VEVENT`, read once and reused for each occurrence.
struct EventParts {
    /// `UID`, or an id derived from `SUMMARY` and `DTSTART` when there is none.
    id: String,
    /// All fields except the id and the times.
    fields: Draft,
    start: Stamp,
    end: Option<EndTime>,
}

#[derive(Debug, Clone, Copy)]
enum EndTime {
    At(Stamp),
    After(TimeDelta),
}

impl EventParts {
    /// Computes the end of an occurrence starting at `start`, keeping the master's length. The
    /// length is wall-clock time when `DTEND` shares the start's zone, so a 3-hour session
    /// stays 14:00-17:00 across a daylight-saving change.
    fn end_for(&self, start: Stamp, zones: &ZoneTable) -> Option<When> {
        let length = match self.end? {
            EndTime::After(length) => length,
            EndTime::At(end) if start == self.start => return Some(zones.resolve(end)),
            EndTime::At(end) if end.reference == self.start.reference => {
                end.local - self.start.local
            }
            EndTime::At(end) => {
                let exact = approximate_utc(&zones.resolve(end), Tz::UTC)
                    - approximate_utc(&zones.resolve(self.start), Tz::UTC);
                return Some(shift_when(zones.resolve(start), exact));
            }
        };
        let local = start.local.checked_add_signed(length)?;
        Some(zones.resolve(Stamp {
            local,
            reference: start.reference,
        }))
    }

    fn draft_at(&self, source_event_id: String, start: Stamp, zones: &ZoneTable) -> Draft {
        Draft {
            source_event_id,
            start: Some(zones.resolve(start)),
            end: self.end_for(start, zones),
            ..self.fields.clone()
        }
    }
}

fn shift_when(when: When, by: TimeDelta) -> When {
    match when {
        When::Instant(instant) => When::Instant(instant + by),
        When::Local(local) => When::Local(local + by),
        When::Date(date) => When::Date(date + TimeDelta::days(by.num_days())),
    }
}

/// Collected drafts and rejections, with the per-calendar cap and duplicate-id check.
#[derive(Default)]
struct Output {
    drafts: Vec<Draft>,
    rejections: Vec<Rejection>,
    ids: HashSet<String>,
    full: bool,
}

impl Output {
    fn push(&mut self, draft: Draft) {
        if self.drafts.len() >= MAX_EVENTS_PER_CALENDAR {
            if !self.full {
                self.full = true;
                self.reject(Rejection::new(
                    None,
                    "too_many_events",
                    format!("the calendar has more than {MAX_EVENTS_PER_CALENDAR} events; the rest were dropped"),
                ));
            }
            return;
        }
        if !self.ids.insert(draft.source_event_id.clone()) {
            self.reject(Rejection::new(
                Some(&draft.source_event_id),
                "duplicate_id",
                "another VEVENT with the same UID and start was kept before this one",
            ));
            return;
        }
        self.drafts.push(draft);
    }

    fn reject(&mut self, rejection: Rejection) {
        tracing::debug!(
            event_id = rejection.event_id.as_deref().unwrap_or(""),
            reason = %rejection.reason,
            detail = %rejection.detail,
            "rejected icalendar event"
        );
        self.rejections.push(rejection);
    }
}

/// Reads every `VEVENT` of one calendar: single events, recurring series with their
/// overrides, and overrides whose series is not in the file.
fn read_calendar(calendar: &Component, zones: &ZoneTable, window: &Window, output: &mut Output) {
    let calendar_zone = calendar
        .property("X-WR-TIMEZONE")
        .and_then(|p| named_zone(p.value.trim()));
    let events: Vec<&Component> = calendar.children("VEVENT").collect();

    let uid_of = |event: &Component| event.property("UID").map(|p| p.value.trim().to_owned());
    let is_override = |event: &Component| event.property("RECURRENCE-ID").is_some();
    let is_series =
        |event: &Component| event.property("RRULE").is_some() || event.property("RDATE").is_some();
    let series_uids: HashSet<String> = events
        .iter()
        .filter(|e| !is_override(e) && is_series(e))
        .filter_map(|e| uid_of(e))
        .collect();

    let mut overrides: HashMap<String, Vec<&Component>> = HashMap::new();
    for event in &events {
        if let Some(uid) =
            uid_of(event).filter(|uid| is_override(event) && series_uids.contains(uid))
        {
            overrides.entry(uid).or_default().push(event);
        }
    }

    let reader = EventReader {
        zones,
        window,
        calendar_zone,
    };
    for event in events {
        if output.full {
            break;
        }
        let uid = uid_of(event);
        let series_overrides = uid.as_ref().and_then(|uid| overrides.get(uid));
        match (is_override(event), is_series(event)) {
            (true, _) if uid.as_ref().is_some_and(|uid| series_uids.contains(uid)) => {}
            (true, _) => reader.read_orphan_override(event, output),
            (false, true) => reader.read_series(
                event,
                series_overrides.map_or(&[][..], Vec::as_slice),
                output,
            ),
            (false, false) => reader.read_single(event, output),
        }
    }
}

struct EventReader<'a> {
    zones: &'a ZoneTable,
    window: &'a Window,
    /// `X-WR-TIMEZONE`, the calendar's zone as Apple and Google write it.
    calendar_zone: Option<Tz>,
}

impl EventReader<'_> {
    fn read_single(&self, event: &Component, output: &mut Output) {
        match self.read_parts(event) {
            Ok(parts) => output.push(parts.draft_at(parts.id.clone(), parts.start, self.zones)),
            Err(rejection) => output.reject(rejection),
        }
    }

    /// Reads an override (`RECURRENCE-ID`) whose series is not in the file, as Google writes
    /// birthdays, into a single event named after its occurrence.
    fn read_orphan_override(&self, event: &Component, output: &mut Output) {
        let parts = match self.read_parts(event) {
            Ok(parts) => parts,
            Err(rejection) => return output.reject(rejection),
        };
        let Some(recurrence) = self.recurrence_id(event, &parts.id, output) else {
            return;
        };
        let id = format!(
            "{}/{}",
            parts.id,
            occurrence_key(&self.zones.resolve(recurrence))
        );
        output.push(parts.draft_at(id, parts.start, self.zones));
    }

    fn read_series(&self, master: &Component, overrides: &[&Component], output: &mut Output) {
        let parts = match self.read_parts(master) {
            Ok(parts) => parts,
            Err(rejection) => return output.reject(rejection),
        };
        let series = Series {
            start: parts.start,
            rule: master.property("RRULE").map(|p| {
                RuleText::parse(&p.value).ok_or_else(|| "a part is not KEY=VALUE".to_owned())
            }),
            rdates: self.read_stamp_list(master, "RDATE"),
            exdates: Exclusions::new(&self.read_stamp_list(master, "EXDATE"), self.zones),
            zones: self.zones,
        };
        let expansion = series.expand(self.window);
        self.note_expansion_problems(&parts.id, master, &expansion, output);

        let mut overrides = self.read_overrides(overrides, output);
        for start in expansion.starts {
            let when = self.zones.resolve(start);
            let id = format!("{}/{}", parts.id, occurrence_key(&when));
            let replacement = overrides
                .iter()
                .position(|(recurrence, _)| {
                    same_occurrence(
                        (*recurrence, &self.zones.resolve(*recurrence)),
                        (start, &when),
                    )
                })
                .map(|index| overrides.remove(index).1);
            match replacement {
                Some(replacement) => {
                    output.push(replacement.draft_at(id, replacement.start, self.zones))
                }
                None => output.push(parts.draft_at(id, start, self.zones)),
            }
        }

        // Overrides moved into the window from an occurrence outside it.
        for (recurrence, replacement) in overrides {
            let recurrence_when = self.zones.resolve(recurrence);
            let moved_in = self.window.contains(&self.zones.resolve(replacement.start));
            if moved_in && !series.exdates.contains(recurrence, &recurrence_when) {
                let id = format!("{}/{}", parts.id, occurrence_key(&recurrence_when));
                output.push(replacement.draft_at(id, replacement.start, self.zones));
            }
        }
    }

    fn read_overrides(
        &self,
        overrides: &[&Component],
        output: &mut Output,
    ) -> Vec<(Stamp, EventParts)> {
        let mut read = Vec::new();
        for event in overrides {
            match self.read_parts(event) {
                Ok(parts) => {
                    if let Some(recurrence) = self.recurrence_id(event, &parts.id, output) {
                        read.push((recurrence, parts));
                    }
                }
                Err(rejection) => output.reject(rejection),
            }
        }
        read
    }

    fn recurrence_id(&self, event: &Component, id: &str, output: &mut Output) -> Option<Stamp> {
        let property = event.property("RECURRENCE-ID")?;
        match read_stamp(property, self.zones) {
            Ok(stamp) => Some(stamp),
            Err(TimeError::Missing | TimeError::Invalid(_)) => {
                output.reject(Rejection::new(
                    Some(id),
                    "invalid_date",
                    format!(
                        "RECURRENCE-ID value {:?} is not a date or date-time",
                        property.value
                    ),
                ));
                None
            }
        }
    }

    fn read_stamp_list(&self, event: &Component, name: &str) -> Vec<Stamp> {
        event
            .properties(name)
            .filter_map(|property| read_stamps(property, self.zones).ok())
            .flatten()
            .collect()
    }

    fn note_expansion_problems(
        &self,
        id: &str,
        master: &Component,
        expansion: &Expansion,
        output: &mut Output,
    ) {
        if let Some(error) = &expansion.invalid_rule {
            let rule = master.property("RRULE").map_or("", |p| p.value.as_str());
            output.reject(Rejection::new(
                Some(id),
                "invalid_recurrence",
                format!("RRULE {rule:?} is invalid ({error}); kept only DTSTART and RDATE inside the window"),
            ));
        }
        if let Some(detail) = &expansion.capped {
            output.reject(Rejection::new(
                Some(id),
                "too_many_occurrences",
                detail.clone(),
            ));
        }
    }

    /// Reads the fields and times of one `VEVENT`, checking them in this order:
    /// `missing_start`, `invalid_date`, `missing_title`, `end_before_start`.
    fn read_parts(&self, event: &Component) -> Result<EventParts, Rejection> {
        let title = event
            .property("SUMMARY")
            .map(|p| p.text().trim().to_owned())
            .unwrap_or_default();
        let id = event_id(event, &title);
        let reject = |reason: &str, detail: String| Rejection::new(Some(&id), reason, detail);

        let start_property = event
            .property("DTSTART")
            .ok_or_else(|| reject("missing_start", "the VEVENT has no DTSTART".to_owned()))?;
        let start = read_stamp(start_property, self.zones).map_err(|error| match error {
            TimeError::Missing => reject("missing_start", "DTSTART is empty".to_owned()),
            TimeError::Invalid(value) => reject(
                "invalid_date",
                format!("DTSTART value {value:?} is not a date or date-time"),
            ),
        })?;
        let end = self
            .read_end(event)
            .map_err(|detail| reject("invalid_date", detail))?;

        if title.is_empty() {
            return Err(reject(
                "missing_title",
                "SUMMARY is missing or empty".to_owned(),
            ));
        }

        let mut fields = read_fields(event);
        fields.title = title;
        fields.time_zone = self.zone_name(start);
        let parts = EventParts {
            id: id.clone(),
            fields,
            start,
            end,
        };

        if let Some(end) = parts.end_for(start, self.zones) {
            let start_instant =
                approximate_utc(&self.zones.resolve(start), self.window.default_zone);
            let end_instant = approximate_utc(&end, self.window.default_zone);
            if end_instant < start_instant {
                return Err(reject(
                    "end_before_start",
                    format!(
                        "the end {end:?} is before the start {:?}",
                        self.zones.resolve(start)
                    ),
                ));
            }
        }
        Ok(parts)
    }

    /// Reads `DTEND`, else `DURATION`. A date without either lasts one day (RFC 5545
    /// §3.6.1); a date-time without either has no known end.
    fn read_end(&self, event: &Component) -> Result<Option<EndTime>, String> {
        if let Some(property) = event.property("DTEND") {
            return match read_stamp(property, self.zones) {
                Ok(stamp) => Ok(Some(EndTime::At(stamp))),
                Err(TimeError::Missing) => Ok(None),
                Err(TimeError::Invalid(value)) => {
                    Err(format!("DTEND value {value:?} is not a date or date-time"))
                }
            };
        }
        if let Some(property) = event.property("DURATION") {
            return parse_duration(&property.value)
                .map(|length| Some(EndTime::After(length)))
                .ok_or_else(|| format!("DURATION value {:?} is invalid", property.value));
        }
        let is_date = event
            .property("DTSTART")
            .and_then(|p| read_stamp(p, self.zones).ok())
            .is_some_and(|stamp| stamp.reference == TimeRef::Date);
        Ok(is_date.then_some(EndTime::After(TimeDelta::days(1))))
    }

    /// Picks the IANA name to record: the start's own zone, else the calendar's `X-WR-TIMEZONE`
    /// for UTC, floating and all-day times.
    fn zone_name(&self, start: Stamp) -> Option<String> {
        match start.reference {
            TimeRef::Iana(tz) => Some(tz.name().to_owned()),
            TimeRef::Custom(_) => None,
            TimeRef::Date | TimeRef::Utc | TimeRef::Floating => {
                self.calendar_zone.map(|tz| tz.name().to_owned())
            }
        }
    }
}

/// Builds the event's id: its `UID`, or for an event without one `nouid-` and a 64-bit
/// FNV-1a hash of `SUMMARY` and `DTSTART`, stable across runs and processes.
fn event_id(event: &Component, title: &str) -> String {
    if let Some(uid) = event
        .property("UID")
        .map(|p| p.value.trim())
        .filter(|uid| !uid.is_empty())
    {
        return uid.to_owned();
    }
    let start = event.property("DTSTART").map_or(String::new(), |p| {
        format!("{}:{}", p.param("TZID").unwrap_or(""), p.value.trim())
    });
    format!(
        "nouid-{:016x}",
        fnv1a_64(format!("{title}\u{1f}{start}").as_bytes())
    )
}

/// 64-bit FNV-1a (Fowler-Noll-Vo) hash.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

// ---------------------------------------------------------------------------------------
// Event fields
// ---------------------------------------------------------------------------------------

/// Hosts of ticketing services, preferred when a description contains several links.
const TICKETING_HOSTS: &[&str] = &[
    "billetweb.fr",
    "helloasso.com",
    "weezevent.com",
    "yurplan.com",
    "fresqueduclimat.org",
];

/// Reads the fields other than the title and the times.
fn read_fields(event: &Component) -> Draft {
    let plain = event
        .property("DESCRIPTION")
        .map(Property::text)
        .filter(|text| !text.trim().is_empty());
    let html = event
        .properties("X-ALT-DESC")
        .find(|p| {
            p.param("FMTTYPE")
                .is_some_and(|f| f.eq_ignore_ascii_case("text/html"))
        })
        .map(Property::text)
        .filter(|text| !text.trim().is_empty());
    let url = event
        .property("URL")
        .map(|p| unescape_text(p.value.trim()))
        .filter(|url| !url.is_empty());
    let tickets_url = url.clone().or_else(|| {
        let texts = [plain.as_deref(), html.as_deref()];
        pick_ticket_link(texts.iter().flatten().flat_map(|text| find_links(text)))
    });

    Draft {
        description: plain.or(html),
        url,
        tickets_url,
        location_text: event.property("LOCATION").and_then(location_line),
        location: read_coordinates(event)
            .map(|(latitude, longitude)| Location {
                latitude: Some(latitude),
                longitude: Some(longitude),
                ..Location::default()
            })
            .unwrap_or_default(),
        status: event
            .property("STATUS")
            .filter(|p| p.value.trim().eq_ignore_ascii_case("CANCELLED"))
            .map(|_| Status::Cancelled),
        categories: read_categories(event),
        updated_at: event
            .property("LAST-MODIFIED")
            .and_then(|p| parse_date_time(&p.value))
            .map(|(local, _)| Utc.from_utc_datetime(&local)),
        languages: read_languages(event),
        ..Draft::default()
    }
}

/// Turns `LOCATION` into one line: escaped newlines become ", " (a comma already ending a
/// line is not doubled).
fn location_line(property: &Property) -> Option<String> {
    let text = property.text();
    let line = text
        .lines()
        .map(|part| part.trim().trim_end_matches(',').trim_end())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (!line.is_empty()).then_some(line)
}

/// Reads `GEO` (`lat;lon`), else the `geo:` URI of `X-APPLE-STRUCTURED-LOCATION`.
fn read_coordinates(event: &Component) -> Option<(f64, f64)> {
    let from_geo = event.property("GEO").and_then(|p| {
        p.value
            .split_once([';', ','])
            .and_then(|(lat, lon)| checked_coordinates(lat, lon))
    });
    from_geo.or_else(|| {
        let uri = event
            .property("X-APPLE-STRUCTURED-LOCATION")?
            .value
            .trim()
            .to_owned();
        let body = uri
            .strip_prefix("geo:")
            .or_else(|| uri.strip_prefix("GEO:"))?;
        let body = body.split(';').next()?;
        let mut parts = body.split(',');
        checked_coordinates(parts.next()?, parts.next()?)
    })
}

/// Parses WGS 84 degrees, rejecting values out of range and the (0, 0) that some tools
/// write for "no position".
fn checked_coordinates(latitude: &str, longitude: &str) -> Option<(f64, f64)> {
    let latitude: f64 = latitude.trim().parse().ok()?;
    let longitude: f64 = longitude.trim().parse().ok()?;
    let in_range = (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude);
    let is_null_island = latitude == 0.0 && longitude == 0.0;
    (in_range && !is_null_island).then_some((latitude, longitude))
}

fn read_categories(event: &Component) -> Vec<String> {
    let mut categories: Vec<String> = Vec::new();
    for category in event
        .properties("CATEGORIES")
        .flat_map(|p| split_text_list(&p.value))
    {
        let category = category.trim();
        if !category.is_empty() && !categories.iter().any(|c| c == category) {
            categories.push(category.to_owned());
        }
    }
    categories
}

/// Reads the `LANGUAGE` parameter of `SUMMARY` and `DESCRIPTION` as ISO 639-1 codes
/// (`fr-FR` becomes `fr`).
fn read_languages(event: &Component) -> Vec<String> {
    let mut languages: Vec<String> = Vec::new();
    let tags = ["SUMMARY", "DESCRIPTION"]
        .into_iter()
        .filter_map(|name| event.property(name)?.param("LANGUAGE"));
    for tag in tags {
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let is_iso_639_1 = primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_lowercase());
        if is_iso_639_1 && !languages.contains(&primary) {
            languages.push(primary);
        }
    }
    languages
}

/// Finds the `http(s)` links of a text or HTML body, in order, with HTML entities decoded.
fn find_links(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut from = 0;

    while let Some(offset) = lower[from..].find("http") {
        let start = from + offset;
        from = start + 4;
        let rest = &lower[start..];
        if !(rest.starts_with("http://") || rest.starts_with("https://")) {
            continue;
        }
        let length = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(text.len() - start);
        let raw = text[start..start + length]
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}']);
        from = start + length.max(4);
        let decoded = html_escape::decode_html_entities(raw).into_owned();
        if url::Url::parse(&decoded).is_ok_and(|url| url.host_str().is_some()) {
            links.push(decoded);
        }
    }
    links
}

/// Picks the first link to a known ticketing service, else the first link.
fn pick_ticket_link(links: impl Iterator<Item = String>) -> Option<String> {
    let links: Vec<String> = links.collect();
    links
        .iter()
        .find(|link| is_ticketing_link(link))
        .or_else(|| links.first())
        .cloned()
}

fn is_ticketing_link(link: &str) -> bool {
    let Some(host) = url::Url::parse(link)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
    else {
        return false;
    };
    let is_eventbrite = host.split('.').any(|label| label == "eventbrite");
    is_eventbrite
        || TICKETING_HOSTS
            .iter()
            .any(|known| host == *known || host.ends_with(&format!(".{known}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            default_time_zone: chrono_tz::Europe::Paris,
            now: "2026-12-01T00:00:00Z".parse().expect("valid time"),
            horizon_days: 365,
        }
    }

    fn parse_text(text: &str) -> Parsed {
        parse(text.as_bytes(), &context()).expect("a readable calendar")
    }

    /// Wraps VEVENT lines (separated by `\n`) in a calendar.
    fn calendar_with_event(lines: &str) -> String {
        format!("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\n{lines}\nEND:VEVENT\nEND:VCALENDAR\n")
    }

    fn single(lines: &str) -> Draft {
        let parsed = parse_text(&calendar_with_event(lines));
        assert_eq!(parsed.drafts.len(), 1, "{:?}", parsed.rejections);
        parsed.drafts.into_iter().next().expect("one draft")
    }

    fn rejection_reasons(lines: &str) -> Vec<String> {
        let parsed = parse_text(&calendar_with_event(lines));
        parsed.rejections.into_iter().map(|r| r.reason).collect()
    }

    fn instant(text: &str) -> When {
        let time: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(text).expect("valid time");
        When::Instant(time)
    }

    fn date(year: i32, month: u32, day: u32) -> When {
        When::Date(NaiveDate::from_ymd_opt(year, month, day).expect("valid date"))
    }

    fn ids(parsed: &Parsed) -> Vec<&str> {
        parsed
            .drafts
            .iter()
            .map(|d| d.source_event_id.as_str())
            .collect()
    }

    const BASIC: &str = "UID:a\nSUMMARY:Fresque du Climat\nDTSTART:20270115T140000Z";

    // --- reading lines ---

    #[test]
    fn parse_invalid_utf8_read_lossily() {
        let mut bytes =
            b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Fresque \xe9t\xe9\n".to_vec();
        bytes.extend_from_slice(b"DTSTART:20270115T140000Z\nEND:VEVENT\nEND:VCALENDAR\n");
        let parsed = parse(&bytes, &context()).expect("lossy read");
        assert_eq!(parsed.drafts[0].title, "Fresque \u{fffd}t\u{fffd}");
    }

    #[test]
    fn parse_accepts_mixed_line_endings() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\nUID:a\r\nSUMMARY:Atelier\rDTSTART:20270115T140000Z\r\nEND:VEVENT\nEND:VCALENDAR";
        let parsed = parse_text(text);
        assert_eq!(parsed.drafts.len(), 1);
        assert_eq!(parsed.drafts[0].title, "Atelier");
    }

    #[test]
    fn unfold_joins_space_and_tab_continuations() {
        let draft = single("UID:a\nSUMMARY:Fresque \n du\n\t Climat\nDTSTART:20270115T140000Z");
        assert_eq!(draft.title, "Fresque du Climat");
    }

    #[test]
    fn content_line_reads_quoted_params() {
        let line = r#"DESCRIPTION;ALTREP="data:text/html,<b>a;b</b>";LANGUAGE=fr:texte"#;
        let property = parse_content_line(line).expect("a property");
        assert_eq!(property.param("ALTREP"), Some("data:text/html,<b>a;b</b>"));
        assert_eq!(property.param("LANGUAGE"), Some("fr"));
        assert_eq!(property.value, "texte");
    }

    #[test]
    fn content_line_recovers_swallowed_value() {
        let property =
            parse_content_line(r#"DTSTART;TZID="Romance Standard Time:20270115T140000""#)
                .expect("a property");
        assert_eq!(property.param("TZID"), Some("Romance Standard Time"));
        assert_eq!(property.value, "20270115T140000");
    }

    #[test]
    fn content_line_without_value_skipped() {
        assert_eq!(parse_content_line("ORGANIZER;CN=Sixt SE"), None);
    }

    #[test]
    fn unescape_text_handles_all_escapes() {
        assert_eq!(unescape_text(r"a\nb\Nc\,d\;e\\f"), "a\nb\nc,d;e\\f");
    }

    #[test]
    fn parse_ignores_junk_after_calendar() {
        let text = format!(
            "{}X-COMMENT:cached\nnot a content line\n",
            calendar_with_event(BASIC)
        );
        assert_eq!(parse_text(&text).drafts.len(), 1);
    }

    #[test]
    fn parse_without_vcalendar_is_wrong_format() {
        let result = parse(b"<html><body>Not found</body></html>", &context());
        assert!(matches!(result, Err(AdapterError::WrongFormat { .. })));
    }

    #[test]
    fn parse_truncated_calendar_is_wrong_format() {
        let text = format!("BEGIN:VCALENDAR\nBEGIN:VEVENT\n{BASIC}\nEND:VEVENT\n");
        let result = parse(text.as_bytes(), &context());
        assert!(matches!(result, Err(AdapterError::WrongFormat { .. })));
    }

    #[test]
    fn parse_ignores_valarm_inside_event() {
        let draft = single(&format!(
            "{BASIC}\nDESCRIPTION:Session\nBEGIN:VALARM\nACTION:DISPLAY\nDESCRIPTION:Reminder\nSUMMARY:Alarm\nEND:VALARM"
        ));
        assert_eq!(draft.description.as_deref(), Some("Session"));
        assert_eq!(draft.title, "Fresque du Climat");
    }

    #[test]
    fn parse_skips_todo_freebusy_journal() {
        let text = format!(
            "BEGIN:VCALENDAR\nBEGIN:VTODO\nUID:t\nSUMMARY:Todo\nDTSTART:20270115T140000Z\nEND:VTODO\n\
             BEGIN:VFREEBUSY\nUID:f\nDTSTART:20270115T140000Z\nEND:VFREEBUSY\n\
             BEGIN:VJOURNAL\nUID:j\nSUMMARY:Journal\nDTSTART:20270115T140000Z\nEND:VJOURNAL\n\
             BEGIN:VEVENT\n{BASIC}\nEND:VEVENT\nEND:VCALENDAR\n"
        );
        assert_eq!(ids(&parse_text(&text)), vec!["a"]);
    }

    // --- times ---

    #[test]
    fn date_value_becomes_date() {
        let draft = single("UID:a\nSUMMARY:S\nDTSTART;VALUE=DATE:20270115");
        assert_eq!(draft.start, Some(date(2027, 1, 15)));
        // A date without DTEND or DURATION lasts one day.
        assert_eq!(draft.end, Some(date(2027, 1, 16)));
    }

    #[test]
    fn utc_time_becomes_instant() {
        let draft = single(BASIC);
        assert_eq!(draft.start, Some(instant("2027-01-15T14:00:00Z")));
        assert_eq!(draft.end, None);
    }

    #[test]
    fn iana_tzid_resolves_with_zone_name() {
        let draft = single("UID:a\nSUMMARY:S\nDTSTART;TZID=Europe/Paris:20270615T140000");
        assert_eq!(draft.start, Some(instant("2027-06-15T14:00:00+02:00")));
        assert_eq!(draft.time_zone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn windows_tzid_resolves_to_iana() {
        let draft = single("UID:a\nSUMMARY:S\nDTSTART;TZID=Romance Standard Time:20270115T140000");
        assert_eq!(draft.start, Some(instant("2027-01-15T14:00:00+01:00")));
        assert_eq!(draft.time_zone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn windows_zone_table_names_known_zones() {
        for (windows, iana) in WINDOWS_ZONES {
            assert!(
                Tz::from_str(iana).is_ok(),
                "{windows} maps to unknown {iana}"
            );
        }
    }

    const NUMERIC_VTIMEZONE: &str = "BEGIN:VTIMEZONE\nTZID: 1\nBEGIN:STANDARD\nDTSTART:16010101T030000\n\
        TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\n\
        END:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n\
        RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\nEND:VTIMEZONE\n";

    fn with_numeric_zone(start: &str) -> Draft {
        let text = format!(
            "BEGIN:VCALENDAR\n{NUMERIC_VTIMEZONE}BEGIN:VEVENT\nUID:a\nSUMMARY:S\n\
             DTSTART;TZID= 1:{start}\nEND:VEVENT\nEND:VCALENDAR\n"
        );
        let parsed = parse_text(&text);
        parsed.drafts.into_iter().next().expect("one draft")
    }

    #[test]
    fn vtimezone_tzid_resolves_winter_offset() {
        let draft = with_numeric_zone("20270115T110000");
        assert_eq!(draft.start, Some(instant("2027-01-15T11:00:00+01:00")));
        assert_eq!(draft.time_zone, None);
    }

    #[test]
    fn vtimezone_tzid_resolves_summer_offset() {
        let draft = with_numeric_zone("20270615T110000");
        assert_eq!(draft.start, Some(instant("2027-06-15T11:00:00+02:00")));
    }

    #[test]
    fn vtimezone_tzid_switches_on_last_sunday() {
        // 2027-03-28 is the last Sunday of March: summer time from 02:00.
        let before = with_numeric_zone("20270327T120000");
        let after = with_numeric_zone("20270328T120000");
        assert_eq!(before.start, Some(instant("2027-03-27T12:00:00+01:00")));
        assert_eq!(after.start, Some(instant("2027-03-28T12:00:00+02:00")));
    }

    #[test]
    fn vtimezone_offset_with_seconds_read() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VTIMEZONE\nTZID:Old Paris\nBEGIN:STANDARD\n\
            DTSTART:18910315T000100\nTZOFFSETFROM:+000921\nTZOFFSETTO:+000921\nEND:STANDARD\nEND:VTIMEZONE\n\
            BEGIN:VEVENT\nUID:a\nSUMMARY:S\nDTSTART;TZID=Old Paris:19000101T120000\nEND:VEVENT\nEND:VCALENDAR\n";
        let draft = parse_text(text).drafts.remove(0);
        let offset = FixedOffset::east_opt(561).expect("valid offset");
        let local = NaiveDate::from_ymd_opt(1900, 1, 1).and_then(|d| d.and_hms_opt(12, 0, 0));
        let expected = local.and_then(|l| offset.from_local_datetime(&l).single());
        assert_eq!(draft.start, expected.map(When::Instant));
    }

    #[test]
    fn utc_offset_parses_seconds() {
        assert_eq!(parse_utc_offset("+000921"), Some(561));
        assert_eq!(parse_utc_offset("-0800"), Some(-28_800));
        assert_eq!(parse_utc_offset("+1"), None);
    }

    #[test]
    fn unknown_tzid_becomes_floating() {
        let draft = single("UID:a\nSUMMARY:S\nDTSTART;TZID=Somewhere/Else:20270115T140000");
        let local = NaiveDate::from_ymd_opt(2027, 1, 15).and_then(|d| d.and_hms_opt(14, 0, 0));
        assert_eq!(draft.start, local.map(When::Local));
        assert_eq!(draft.time_zone, None);
    }

    #[test]
    fn floating_time_becomes_local() {
        let draft = single("UID:a\nSUMMARY:S\nDTSTART:20270115T140000");
        let local = NaiveDate::from_ymd_opt(2027, 1, 15).and_then(|d| d.and_hms_opt(14, 0, 0));
        assert_eq!(draft.start, local.map(When::Local));
    }

    #[test]
    fn calendar_zone_names_floating_events() {
        let text = format!(
            "BEGIN:VCALENDAR\nX-WR-TIMEZONE:Europe/Zurich\nBEGIN:VEVENT\n{BASIC}\nEND:VEVENT\nEND:VCALENDAR\n"
        );
        let draft = parse_text(&text).drafts.remove(0);
        assert_eq!(draft.time_zone.as_deref(), Some("Europe/Zurich"));
    }

    #[test]
    fn duration_gives_missing_end() {
        let draft = single(&format!("{BASIC}\nDURATION:PT3H"));
        assert_eq!(draft.end, Some(instant("2027-01-15T17:00:00Z")));
    }

    #[test]
    fn duration_parses_all_units() {
        assert_eq!(parse_duration("P1W"), Some(TimeDelta::weeks(1)));
        assert_eq!(
            parse_duration("P1DT2H3M4S"),
            Some(TimeDelta::seconds(93_784))
        );
        assert_eq!(parse_duration("-PT15M"), Some(TimeDelta::minutes(-15)));
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("3H"), None);
    }

    #[test]
    fn spring_gap_time_uses_offset_before() {
        // 02:30 does not exist in Paris on 2027-03-28; read with +01:00 it is 03:30 +02:00.
        let draft = single("UID:a\nSUMMARY:S\nDTSTART;TZID=Europe/Paris:20270328T023000");
        assert_eq!(draft.start, Some(instant("2027-03-28T03:30:00+02:00")));
    }

    // --- recurrence ---

    fn series(rule_lines: &str) -> Parsed {
        parse_text(&calendar_with_event(&format!(
            "UID:s\nSUMMARY:Series\n{rule_lines}"
        )))
    }

    fn starts(parsed: &Parsed) -> Vec<When> {
        parsed.drafts.iter().filter_map(|d| d.start).collect()
    }

    #[test]
    fn daily_rule_with_interval_and_count() {
        let parsed = series("DTSTART:20261210T090000Z\nRRULE:FREQ=DAILY;INTERVAL=2;COUNT=3");
        assert_eq!(
            ids(&parsed),
            vec![
                "s/20261210T090000Z",
                "s/20261212T090000Z",
                "s/20261214T090000Z"
            ]
        );
    }

    #[test]
    fn weekly_rule_with_byday_and_until() {
        // Mondays and Wednesdays from Monday 2026-12-07 to UNTIL (inclusive) on 2026-12-16.
        let parsed = series(
            "DTSTART:20261207T090000Z\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261216T090000Z",
        );
        assert_eq!(parsed.drafts.len(), 4);
        assert_eq!(parsed.drafts[3].source_event_id, "s/20261216T090000Z");
    }

    #[test]
    fn monthly_rule_with_last_sunday() {
        let parsed = series("DTSTART;VALUE=DATE:20261227\nRRULE:FREQ=MONTHLY;BYDAY=-1SU;COUNT=3");
        assert_eq!(
            starts(&parsed),
            vec![date(2026, 12, 27), date(2027, 1, 31), date(2027, 2, 28)]
        );
    }

    #[test]
    fn monthly_rule_with_second_monday() {
        let parsed = series("DTSTART;VALUE=DATE:20261214\nRRULE:FREQ=MONTHLY;BYDAY=2MO;COUNT=2");
        assert_eq!(starts(&parsed), vec![date(2026, 12, 14), date(2027, 1, 11)]);
    }

    #[test]
    fn monthly_rule_with_month_day() {
        let parsed =
            series("DTSTART;VALUE=DATE:20261215\nRRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=4");
        assert_eq!(
            starts(&parsed),
            vec![
                date(2026, 12, 15),
                date(2026, 12, 30),
                date(2027, 1, 15),
                date(2027, 1, 30)
            ]
        );
    }

    #[test]
    fn yearly_rule_with_month_stays_in_window() {
        // Every June and December: the window (2026-11-30 to 2027-12-01) contains three.
        let parsed =
            series("DTSTART;VALUE=DATE:20250601\nRRULE:FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=1");
        assert_eq!(
            starts(&parsed),
            vec![date(2026, 12, 1), date(2027, 6, 1), date(2027, 12, 1)]
        );
    }

    #[test]
    fn rule_keeps_wall_clock_across_dst() {
        let parsed = series(
            "DTSTART;TZID=Europe/Paris:20270320T140000\nDTEND;TZID=Europe/Paris:20270320T170000\n\
             RRULE:FREQ=WEEKLY;COUNT=2",
        );
        assert_eq!(
            parsed.drafts[1].start,
            Some(instant("2027-03-27T14:00:00+01:00"))
        );
        assert_eq!(
            parsed.drafts[1].end,
            Some(instant("2027-03-27T17:00:00+01:00"))
        );
        let parsed = series(
            "DTSTART;TZID=Europe/Paris:20270321T140000\nDTEND;TZID=Europe/Paris:20270321T170000\n\
             RRULE:FREQ=WEEKLY;COUNT=2",
        );
        assert_eq!(
            parsed.drafts[1].start,
            Some(instant("2027-03-28T14:00:00+02:00"))
        );
        assert_eq!(
            parsed.drafts[1].end,
            Some(instant("2027-03-28T17:00:00+02:00"))
        );
    }

    #[test]
    fn rdate_adds_occurrences() {
        let parsed = series("DTSTART:20261210T090000Z\nRDATE:20261220T090000Z,20270105T100000Z");
        assert_eq!(
            ids(&parsed),
            vec![
                "s/20261210T090000Z",
                "s/20261220T090000Z",
                "s/20270105T100000Z"
            ]
        );
    }

    #[test]
    fn exdate_with_tzid_removes_occurrences() {
        let parsed = series(
            "DTSTART;TZID=Europe/Paris:20261210T090000\nRRULE:FREQ=DAILY;COUNT=4\n\
             EXDATE;TZID=Europe/Paris:20261211T090000,\n 20261212T090000",
        );
        assert_eq!(
            ids(&parsed),
            vec!["s/20261210T080000Z", "s/20261213T080000Z"]
        );
    }

    #[test]
    fn exdate_value_date_removes_day() {
        let parsed = series(
            "DTSTART:20261210T090000Z\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20261211",
        );
        assert_eq!(
            ids(&parsed),
            vec!["s/20261210T090000Z", "s/20261212T090000Z"]
        );
    }

    fn with_override(override_lines: &str) -> Parsed {
        let text = format!(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:s\nSUMMARY:Series\nDTSTART:20261210T090000Z\n\
             RRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\nBEGIN:VEVENT\nUID:s\n{override_lines}\nEND:VEVENT\n\
             END:VCALENDAR\n"
        );
        parse_text(&text)
    }

    #[test]
    fn recurrence_id_replaces_occurrence() {
        let parsed = with_override(
            "RECURRENCE-ID:20261211T090000Z\nSUMMARY:Moved\nDTSTART:20261211T150000Z",
        );
        assert_eq!(parsed.drafts.len(), 3);
        let moved = &parsed.drafts[1];
        assert_eq!(moved.source_event_id, "s/20261211T090000Z");
        assert_eq!(moved.title, "Moved");
        assert_eq!(moved.start, Some(instant("2026-12-11T15:00:00Z")));
    }

    #[test]
    fn cancelled_override_cancels_occurrence() {
        let parsed = with_override(
            "RECURRENCE-ID:20261211T090000Z\nSUMMARY:Series\nDTSTART:20261211T090000Z\nSTATUS:CANCELLED",
        );
        assert_eq!(parsed.drafts[1].status, Some(Status::Cancelled));
        assert_eq!(parsed.drafts[0].status, None);
    }

    #[test]
    fn expansion_stays_inside_window() {
        // Weekly from 2020: only instances from now - 1 day to now + 365 days are kept.
        let parsed = series("DTSTART:20200101T090000Z\nRRULE:FREQ=DAILY");
        assert_eq!(
            parsed.drafts.first().map(|d| d.source_event_id.as_str()),
            Some("s/20261130T090000Z")
        );
        assert_eq!(
            parsed.drafts.last().map(|d| d.source_event_id.as_str()),
            Some("s/20271130T090000Z")
        );
    }

    #[test]
    fn single_event_kept_outside_window() {
        let draft = single("UID:old\nSUMMARY:S\nDTSTART:20150101T090000Z");
        assert_eq!(draft.source_event_id, "old");
    }

    #[test]
    fn dense_series_capped_once() {
        let parsed = series("DTSTART:20261201T000000Z\nRRULE:FREQ=HOURLY");
        assert_eq!(parsed.drafts.len(), MAX_OCCURRENCES_PER_SERIES);
        let reasons: Vec<&str> = parsed
            .rejections
            .iter()
            .map(|r| r.reason.as_str())
            .collect();
        assert_eq!(reasons, vec!["too_many_occurrences"]);
    }

    #[test]
    fn old_secondly_series_stops_after_step_cap() {
        let parsed = series("DTSTART:20000101T000000Z\nRRULE:FREQ=SECONDLY");
        assert!(parsed.drafts.is_empty());
        assert_eq!(parsed.rejections[0].reason, "too_many_occurrences");
    }

    #[test]
    fn output_caps_events_per_calendar() {
        let mut output = Output::default();
        for index in 0..=MAX_EVENTS_PER_CALENDAR + 1 {
            output.push(Draft {
                source_event_id: index.to_string(),
                ..Draft::default()
            });
        }
        assert_eq!(output.drafts.len(), MAX_EVENTS_PER_CALENDAR);
        assert_eq!(output.rejections.len(), 1);
        assert_eq!(output.rejections[0].reason, "too_many_events");
    }

    #[test]
    fn invalid_rule_keeps_first_occurrence() {
        let parsed = series("DTSTART:20261210T090000Z\nRRULE:FREQ=SOMETIMES");
        assert_eq!(ids(&parsed), vec!["s/20261210T090000Z"]);
        assert_eq!(parsed.rejections[0].reason, "invalid_recurrence");
    }

    #[test]
    fn malformed_rule_part_rejected() {
        let parsed = series("DTSTART:20261210T090000Z\nRRULE:FREQ=DAILY;COUNT");
        assert_eq!(ids(&parsed), vec!["s/20261210T090000Z"]);
        assert_eq!(parsed.rejections[0].reason, "invalid_recurrence");
    }

    #[test]
    fn date_occurrence_id_uses_day() {
        let parsed = series("DTSTART;VALUE=DATE:20261210\nRRULE:FREQ=DAILY;COUNT=1");
        assert_eq!(ids(&parsed), vec!["s/20261210"]);
    }

    #[test]
    fn missing_uid_gets_stable_id() {
        let lines = "SUMMARY:Atelier\nDTSTART:20270115T140000Z";
        let first = single(lines).source_event_id;
        let second = single(lines).source_event_id;
        let other = single("SUMMARY:Atelier\nDTSTART:20270116T140000Z").source_event_id;
        assert_eq!(first, second);
        assert_ne!(first, other);
        assert!(first.starts_with("nouid-"));
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn duplicate_uid_rejected_once() {
        let text = format!(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\n{BASIC}\nEND:VEVENT\nBEGIN:VEVENT\n{BASIC}\nEND:VEVENT\nEND:VCALENDAR\n"
        );
        let parsed = parse_text(&text);
        assert_eq!(parsed.drafts.len(), 1);
        assert_eq!(parsed.rejections[0].reason, "duplicate_id");
    }

    // --- fields ---

    #[test]
    fn missing_or_empty_summary_rejected() {
        assert_eq!(
            rejection_reasons("UID:a\nDTSTART:20270115T140000Z"),
            vec!["missing_title"]
        );
        assert_eq!(
            rejection_reasons("UID:a\nSUMMARY: \nDTSTART:20270115T140000Z"),
            vec!["missing_title"]
        );
    }

    #[test]
    fn html_alt_description_used_when_alone() {
        let draft = single(&format!(
            "{BASIC}\nDESCRIPTION:\\n\nX-ALT-DESC;FMTTYPE=text/html:<p>Inscription</p>"
        ));
        assert_eq!(draft.description.as_deref(), Some("<p>Inscription</p>"));
    }

    #[test]
    fn plain_description_preferred_over_html() {
        let draft = single(&format!(
            "{BASIC}\nDESCRIPTION:Texte\\, simple\nX-ALT-DESC;FMTTYPE=text/html:<p>HTML</p>"
        ));
        assert_eq!(draft.description.as_deref(), Some("Texte, simple"));
    }

    #[test]
    fn url_property_is_tickets_url() {
        let draft = single(&format!(
            "{BASIC}\nURL:https://example.org/e/1\nDESCRIPTION:https://www.billetweb.fr/x"
        ));
        assert_eq!(draft.url.as_deref(), Some("https://example.org/e/1"));
        assert_eq!(
            draft.tickets_url.as_deref(),
            Some("https://example.org/e/1")
        );
    }

    #[test]
    fn tickets_url_prefers_ticketing_host() {
        let draft = single(&format!(
            "{BASIC}\nDESCRIPTION:Infos https://example.org/about. Billets : https://www.helloasso.com/e/7."
        ));
        assert_eq!(
            draft.tickets_url.as_deref(),
            Some("https://www.helloasso.com/e/7")
        );
    }

    #[test]
    fn tickets_url_found_in_html_href() {
        let draft = single(&format!(
            "{BASIC}\nX-ALT-DESC;FMTTYPE=text/html:<a href=\"https://www.eventbrite.fr/e/1?a=1&amp;b=2\">Billets</a>"
        ));
        assert_eq!(
            draft.tickets_url.as_deref(),
            Some("https://www.eventbrite.fr/e/1?a=1&b=2")
        );
    }

    #[test]
    fn tickets_url_falls_back_to_first_link() {
        let draft = single(&format!(
            "{BASIC}\nDESCRIPTION:Voir http://example.org/a et http://example.org/b"
        ));
        assert_eq!(draft.tickets_url.as_deref(), Some("http://example.org/a"));
    }

    #[test]
    fn location_newlines_become_commas() {
        let draft = single(&format!(
            "{BASIC}\nLOCATION:Maison des associations\\n12 rue Haute\\,\\n69001 Lyon"
        ));
        assert_eq!(
            draft.location_text.as_deref(),
            Some("Maison des associations, 12 rue Haute, 69001 Lyon")
        );
    }

    #[test]
    fn geo_sets_coordinates() {
        let draft = single(&format!("{BASIC}\nGEO:45.764;4.8357"));
        assert_eq!(draft.location.latitude, Some(45.764));
        assert_eq!(draft.location.longitude, Some(4.8357));
    }

    #[test]
    fn geo_out_of_range_ignored() {
        let draft = single(&format!("{BASIC}\nGEO:145.764;4.8357"));
        assert_eq!(draft.location.latitude, None);
    }

    #[test]
    fn apple_geo_used_without_geo() {
        let draft = single(&format!(
            "{BASIC}\nX-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-TITLE=Salle:geo:48.85,2.35"
        ));
        assert_eq!(draft.location.coordinates(), Some((48.85, 2.35)));
    }

    #[test]
    fn status_cancelled_only_maps() {
        let cancelled = single(&format!("{BASIC}\nSTATUS:CANCELLED"));
        let tentative = single(&format!("{BASIC}\nSTATUS:TENTATIVE"));
        let confirmed = single(&format!("{BASIC}\nSTATUS:CONFIRMED"));
        assert_eq!(cancelled.status, Some(Status::Cancelled));
        assert_eq!(tentative.status, None);
        assert_eq!(confirmed.status, None);
    }

    #[test]
    fn categories_split_and_merged() {
        let draft = single(&format!(
            "{BASIC}\nCATEGORIES:Climat,Formation\nCATEGORIES:Lyon\\, centre,Climat"
        ));
        assert_eq!(
            draft.categories,
            vec!["Climat", "Formation", "Lyon, centre"]
        );
    }

    #[test]
    fn last_modified_sets_updated_at() {
        let draft = single(&format!("{BASIC}\nLAST-MODIFIED:20261120T101500Z"));
        let expected: DateTime<Utc> = "2026-11-20T10:15:00Z".parse().expect("valid time");
        assert_eq!(draft.updated_at, Some(expected));
    }

    #[test]
    fn language_params_give_primary_subtags() {
        let draft = single(
            "UID:a\nSUMMARY;LANGUAGE=fr-FR:Atelier\nDESCRIPTION;LANGUAGE=EN:Workshop\nDTSTART:20270115T140000Z",
        );
        assert_eq!(draft.languages, vec!["fr", "en"]);
    }

    // --- rejections ---

    #[test]
    fn missing_dtstart_rejected() {
        assert_eq!(rejection_reasons("UID:a\nSUMMARY:S"), vec!["missing_start"]);
    }

    #[test]
    fn invalid_dtstart_rejected_with_value() {
        let parsed = parse_text(&calendar_with_event(
            "UID:a\nSUMMARY:S\nDTSTART:20271345T140000Z",
        ));
        assert_eq!(parsed.rejections[0].reason, "invalid_date");
        assert!(parsed.rejections[0].detail.contains("20271345T140000Z"));
        assert_eq!(parsed.rejections[0].event_id.as_deref(), Some("a"));
    }

    #[test]
    fn end_before_start_rejected() {
        assert_eq!(
            rejection_reasons(&format!("{BASIC}\nDTEND:20270115T130000Z")),
            vec!["end_before_start"]
        );
    }
}
