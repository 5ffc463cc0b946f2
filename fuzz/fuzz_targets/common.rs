//! Shared by the adapter targets: parse one page, then normalize every draft as ingest
//! does, so a panic anywhere between feed bytes and a stored event is found.

use std::path::Path;
use std::sync::OnceLock;

use multifresque::adapter::{self, Context, Kind};
use multifresque::config::{Config, Source};
use multifresque::normalize::Normalizer;
use multifresque::{Catalog, Gazetteer};

struct Fixture {
    source: Source,
    catalog: Catalog,
    gazetteer: Gazetteer,
    context: Context,
}

/// Builds the fixture before fuzzing starts: loading the gazetteer under AddressSanitizer
/// takes seconds, which libFuzzer would otherwise report as a timeout of the first input.
pub fn init() {
    fixture();
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let text = "[[source]]\nid = \"fuzz\"\nkind = \"openfresque\"\nurl = \"feed.json\"\n\
                    workshop = \"FresqueClimat\"\ntime_zone = \"Europe/Paris\"\ncountry = \"FR\"\n\
                    language = \"fr\"\n";
        let config = Config::parse(text, Path::new(".")).expect("the fixture config is valid");
        Fixture {
            source: config.sources[0].clone(),
            catalog: Catalog::embedded(),
            gazetteer: Gazetteer::embedded(),
            // A fixed time, so a crash reproduces whatever the day.
            context: Context {
                default_time_zone: chrono_tz::Europe::Paris,
                now: "2026-12-01T00:00:00Z".parse().expect("valid instant"),
                horizon_days: 365,
            },
        }
    })
}

/// Parses `bytes` as a page of `kind` and normalizes what it yields.
pub fn ingest(kind: Kind, bytes: &[u8]) {
    let fixture = fixture();
    let Ok(parsed) = adapter::parse(kind, bytes, &fixture.context) else {
        return;
    };
    let normalizer = Normalizer {
        source: &fixture.source,
        catalog: &fixture.catalog,
        gazetteer: &fixture.gazetteer,
    };
    for draft in parsed.drafts {
        if let Ok(event) = normalizer.normalize(draft) {
            // The store and the index serialize every event; that must not fail either.
            serde_json::to_string(&event).expect("a normalized event serializes");
        }
    }
}
