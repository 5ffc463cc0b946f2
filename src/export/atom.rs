//! Atom (RFC 4287) output: one entry per session, for feed readers and automations that
//! watch a search.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::event::{Attendance, Event};

/// The title and links of an Atom document.
pub struct FeedInfo<'a> {
    pub title: &'a str,
    /// Absolute URL of this Atom document, also its id.
    pub self_url: &'a str,
    /// Absolute URL of the same search as JSON.
    pub alternate_url: &'a str,
    /// Absolute base URL of the service, for the entries' ids.
    pub base_url: &'a str,
    pub updated: DateTime<Utc>,
}

/// Writes the whole feed.
pub fn feed(info: &FeedInfo<'_>, events: &[Event]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\">\n");
    let _ = writeln!(out, "  <title>{}</title>", xml(info.title));
    let _ = writeln!(out, "  <id>{}</id>", xml(info.self_url));
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml(info.self_url)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>",
        xml(info.alternate_url)
    );
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339(info.updated));
    let _ = writeln!(out, "  <author><name>multifresque</name></author>");
    let _ = writeln!(
        out,
        "  <generator version=\"{}\">multifresque</generator>",
        env!("CARGO_PKG_VERSION")
    );
    for event in events {
        entry(&mut out, info, event);
    }
    out.push_str("</feed>\n");
    out
}

fn entry(out: &mut String, info: &FeedInfo<'_>, event: &Event) {
    let updated = event.updated_at.unwrap_or(info.updated);
    let when = event.start.format("%d/%m/%Y %H:%M");
    let place = match event.attendance {
        Attendance::Online => "en ligne".to_owned(),
        _ => event.location.city.clone().unwrap_or_default(),
    };
    let title = if place.is_empty() {
        format!("{when} – {}", event.title)
    } else {
        format!("{when} – {} ({place})", event.title)
    };
    out.push_str("  <entry>\n");
    let _ = writeln!(out, "    <title>{}</title>", xml(&title));
    let _ = writeln!(
        out,
        "    <id>{}/api/v1/events/{}</id>",
        xml(info.base_url),
        xml(&event.id)
    );
    if let Some(link) = event.tickets_url.as_ref().or(event.url.as_ref()) {
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            xml(link)
        );
    }
    let _ = writeln!(
        out,
        "    <link rel=\"related\" type=\"application/json\" href=\"{}/api/v1/events/{}\"/>",
        xml(info.base_url),
        xml(&event.id)
    );
    let _ = writeln!(out, "    <updated>{}</updated>", rfc3339(updated));
    let _ = writeln!(out, "    <category term=\"{}\"/>", xml(&event.workshop));
    let _ = writeln!(
        out,
        "    <summary type=\"text\">{}</summary>",
        xml(&summary(event))
    );
    out.push_str("  </entry>\n");
}

fn summary(event: &Event) -> String {
    let mut text = format!(
        "{} (fuseau {})",
        event.start.to_rfc3339_opts(SecondsFormat::Secs, false),
        event.time_zone
    );
    let location = &event.location;
    let place: Vec<&str> = [
        location.name.as_deref(),
        location.street.as_deref(),
        location.city.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !place.is_empty() {
        let _ = write!(text, ". {}", place.join(", "));
    }
    if !event.description.is_empty() {
        let _ = write!(text, ". {}", event.description);
    }
    text
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_escaped() {
        assert_eq!(
            xml("<img src=x onerror=\"a\">&\u{1}"),
            "&lt;img src=x onerror=&quot;a&quot;&gt;&amp;"
        );
    }
}
