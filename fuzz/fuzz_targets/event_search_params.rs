//! Feeds arbitrary query strings to the search endpoint's parser and checks that whatever
//! it accepts stays within the documented limits.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use multifresque::Gazetteer;
use multifresque::http::params::{self, MAX_OFFSET, MAX_QUERY_CHARS, MAX_RADIUS_KM};
use multifresque::search::MAX_LIMIT;

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(Gazetteer::embedded)
}

// The gazetteer is loaded before fuzzing starts, so its seconds under AddressSanitizer are
// not taken for a timeout of the first input.
fuzz_target!(init: { gazetteer(); }, |bytes: &[u8]| {
    // axum hands the handler the raw query as a string; its bytes may be anything once
    // percent-decoded, which `parse_event_search` does itself.
    let Ok(raw) = std::str::from_utf8(bytes) else {
        return;
    };
    let now = "2026-12-01T00:00:00Z".parse().expect("valid instant");
    let Ok(search) = params::parse_event_search(raw, gazetteer(), now) else {
        return;
    };
    let query = search.query;
    assert!((1..=MAX_LIMIT).contains(&query.limit));
    assert!(query.offset <= MAX_OFFSET);
    assert!(
        query
            .text
            .as_ref()
            .is_none_or(|q| q.chars().count() <= MAX_QUERY_CHARS)
    );
    if let Some(geo) = query.geo {
        assert!(geo.latitude.abs() <= 90.0 && geo.longitude.abs() <= 180.0);
        assert!(
            geo.radius_km
                .is_none_or(|km| km > 0.0 && km <= MAX_RADIUS_KM)
        );
    }
    assert!(query.to.is_none_or(|to| to > query.from));
});
