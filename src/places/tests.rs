//! Tests of the gazetteer against the embedded data and small operator CSV files.

use std::io::Write;
use std::time::{Duration, Instant};

use super::*;
use crate::search::distance_km;

/// Lyon's centre (place Bellecour area), degrees.
const LYON_CENTRE: (f64, f64) = (45.764, 4.836);

fn gazetteer() -> Gazetteer {
    Gazetteer::embedded()
}

fn resolved(query: &str) -> Place {
    gazetteer()
        .resolve(query)
        .unwrap_or_else(|| panic!("{query:?} should resolve"))
}

fn position(place: &Place) -> (f64, f64) {
    (place.latitude, place.longitude)
}

fn csv_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(text.as_bytes()).expect("write CSV");
    file
}

#[test]
fn embedded_gazetteer_loads() {
    let table = embedded::load(embedded::PLACES_TSV_GZ).expect("valid embedded file");
    assert!(table.len() > 170_000, "{} places", table.len());
    assert!(
        table.postal_code_count() > 5_000,
        "{} postal codes",
        table.postal_code_count()
    );
}

#[test]
fn resolve_lyon_in_france() {
    let place = resolved("Lyon");
    assert_eq!(place.name, "Lyon");
    assert_eq!(place.country, "FR");
    assert_eq!(place.admin.as_deref(), Some("69"));
    assert!(distance_km(position(&place), LYON_CENTRE) < 5.0);
}

#[test]
fn resolve_ignores_case() {
    assert_eq!(resolved("lyon"), resolved("Lyon"));
    assert_eq!(resolved("LYON"), resolved("Lyon"));
}

#[test]
fn resolve_paris_prefers_france() {
    let place = resolved("Paris");
    assert_eq!(place.country, "FR");
    assert_eq!(place.admin.as_deref(), Some("75"));
}

#[test]
fn resolve_main_french_cities() {
    for (query, admin) in [
        ("Marseille", "13"),
        ("Villeurbanne", "69"),
        ("Grenoble", "38"),
    ] {
        let place = resolved(query);
        assert_eq!(place.name, query);
        assert_eq!(place.country, "FR", "{query}");
        assert_eq!(place.admin.as_deref(), Some(admin), "{query}");
        assert_eq!(place.precision, Precision::Listed, "{query}");
    }
}

#[test]
fn resolve_saint_etienne_variants() {
    let expected = resolved("Saint-Étienne");
    assert_eq!(expected.admin.as_deref(), Some("42"));
    for query in [
        "saint etienne",
        "St Etienne",
        "st-étienne",
        "SAINT-ETIENNE",
        "Saint Étienne",
        "  saint-etienne  ",
    ] {
        assert_eq!(resolved(query), expected, "{query}");
    }
}

#[test]
fn resolve_geneve_with_or_without_accent() {
    let place = resolved("Genève");
    assert_eq!(place.country, "CH");
    assert_eq!(resolved("Geneve"), place);
    assert_eq!(resolved("Geneva"), place);
}

#[test]
fn resolve_bruxelles_in_belgium() {
    let place = resolved("Bruxelles");
    assert_eq!(place.country, "BE");
    assert_eq!(place.name, "Bruxelles");
}

#[test]
fn resolve_narrows_by_country() {
    assert_eq!(resolved("Paris, France").country, "FR");
    assert_eq!(resolved("Paris, FR").country, "FR");
    assert_eq!(resolved("Paris, CA").country, "CA");
    assert_eq!(resolved("London").country, "GB");
    assert_eq!(resolved("London, CA").country, "CA");
    assert_eq!(resolved("Paris,").country, "FR");
}

#[test]
fn resolve_narrows_by_admin_code() {
    assert_eq!(resolved("Saint-Denis, 974").country, "RE");
    assert_eq!(resolved("Saint-Denis, 93").admin.as_deref(), Some("93"));
    assert_eq!(resolved("Paris, TX").country, "US");
}

#[test]
fn resolve_unknown_qualifier_is_none() {
    assert_eq!(gazetteer().resolve("Paris, Atlantis"), None);
}

#[test]
fn resolve_postal_code_69003_near_lyon() {
    let place = resolved("69003");
    assert_eq!(place.postal_code.as_deref(), Some("69003"));
    assert_eq!(place.name, "Lyon 3e Arrondissement");
    assert!(distance_km(position(&place), LYON_CENTRE) < 5.0);
}

#[test]
fn resolve_postal_codes_of_arrondissements() {
    for code in [
        "69001", "69009", "75001", "75011", "75020", "13001", "13016",
    ] {
        let place = resolved(code);
        let city = place.name.split(' ').next().unwrap_or_default();
        assert!(
            ["Paris", "Lyon", "Marseille"].contains(&city),
            "{code}: {place:?}"
        );
        assert_eq!(place.precision, Precision::Listed, "{code}");
    }
    assert_eq!(resolved("75011").name, "Paris 11e Arrondissement");
    assert_eq!(resolved("13016").name, "Marseille 16e Arrondissement");
}

#[test]
fn resolve_overseas_postal_code() {
    let place = resolved("97400");
    assert_eq!(place.name, "Saint-Denis");
    assert_eq!(place.country, "RE");
    assert_eq!(place.admin.as_deref(), Some("974"));
}

#[test]
fn resolve_unknown_postal_code_is_none() {
    assert_eq!(gazetteer().resolve("99999"), None);
    assert_eq!(gazetteer().resolve("00000"), None);
}

#[test]
fn resolve_empty_queries_are_none() {
    for query in ["", " ", "\t\n", ",", " , ", "-", "'"] {
        assert_eq!(gazetteer().resolve(query), None, "{query:?}");
    }
}

#[test]
fn resolve_long_queries_fast() {
    let gazetteer = gazetteer();
    for query in [
        "a".repeat(10_000),
        "Lyon ".repeat(2_000),
        "é".repeat(5_000),
        "6".repeat(10_000),
        format!("Lyon,{}", ",".repeat(9_995)),
    ] {
        let started = Instant::now();
        assert_eq!(gazetteer.resolve(&query), None);
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(gazetteer.autocomplete(&query, 10).is_empty());
    }
}

#[test]
fn resolve_commune_missing_from_geonames_is_approximate() {
    let place = gazetteer()
        .geocode(Some("Lecci"), Some("20000"), Some("FR"))
        .expect("Lecci under 20000");
    assert_eq!(place.name, "Lecci");
    assert_eq!(place.precision, Precision::Approximate);
    assert_eq!(place.position_of.as_deref(), Some("Ajaccio"));
}

#[test]
fn geocode_prefers_postal_code() {
    let place = gazetteer()
        .geocode(Some("Lyon"), Some("69003"), Some("FR"))
        .expect("a place");
    assert_eq!(place.postal_code.as_deref(), Some("69003"));
    assert!(distance_km(position(&place), LYON_CENTRE) < 5.0);
}

#[test]
fn geocode_skips_postal_code_of_other_country() {
    let place = gazetteer()
        .geocode(Some("Genève"), Some("69003"), Some("CH"))
        .expect("a place");
    assert_eq!(place.name, "Genève");
}

#[test]
fn geocode_city_within_country() {
    let place = gazetteer()
        .geocode(Some("Paris"), None, Some("us"))
        .expect("a place");
    assert_eq!(place.country, "US");
}

#[test]
fn geocode_city_anywhere_as_fallback() {
    let place = gazetteer()
        .geocode(Some("Geneva"), Some("1204"), Some("FR"))
        .expect("a place");
    assert_eq!(place.country, "CH");
}

#[test]
fn geocode_ignores_cedex() {
    let place = gazetteer()
        .geocode(Some("LYON CEDEX 03"), Some("69441"), Some("FR"))
        .expect("a place");
    assert_eq!(place.name, "Lyon");
}

#[test]
fn geocode_without_inputs_is_none() {
    assert_eq!(gazetteer().geocode(None, None, None), None);
    assert_eq!(
        gazetteer().geocode(Some(" "), Some("abc"), Some("FR")),
        None
    );
}

#[test]
fn autocomplete_lyo_starts_with_lyon() {
    let places = gazetteer().autocomplete("lyo", 10);
    assert_eq!(
        places.first().map(|place| place.name.as_str()),
        Some("Lyon")
    );
    assert_eq!(places.len(), 10);
    for place in &places {
        assert!(fold(&place.name).starts_with("lyo"), "{place:?}");
    }
}

#[test]
fn autocomplete_saint_e_offers_saint_etienne() {
    let places = gazetteer().autocomplete("saint-e", 10);
    assert_eq!(
        places.first().map(|place| place.name.as_str()),
        Some("Saint-Étienne")
    );
    for place in &places {
        assert!(fold(&place.name).starts_with("saint e"), "{place:?}");
    }
}

#[test]
fn autocomplete_postal_prefix_690() {
    // 690xx codes are the nine arrondissements of Lyon.
    let places = gazetteer().autocomplete("690", 20);
    let codes: Vec<&str> = places
        .iter()
        .filter_map(|place| place.postal_code.as_deref())
        .collect();
    assert_eq!(
        codes,
        [
            "69001", "69002", "69003", "69004", "69005", "69006", "69007", "69008", "69009"
        ]
    );
    assert!(places.iter().all(|place| place.name.starts_with("Lyon ")));
}

#[test]
fn autocomplete_has_no_duplicates() {
    for prefix in ["par", "mar", "lyon", "saint", "b", "69"] {
        let places = gazetteer().autocomplete(prefix, 50);
        let mut seen = HashSet::new();
        for place in &places {
            let identity = (
                &place.name,
                &place.country,
                &place.admin,
                &place.postal_code,
            );
            assert!(seen.insert(identity), "{prefix}: {place:?} twice");
        }
    }
}

#[test]
fn autocomplete_respects_limit() {
    assert_eq!(gazetteer().autocomplete("s", 7).len(), 7);
    assert!(gazetteer().autocomplete("lyon", 0).is_empty());
}

#[test]
fn autocomplete_empty_prefix_is_empty() {
    assert!(gazetteer().autocomplete("", 10).is_empty());
    assert!(gazetteer().autocomplete(" - ", 10).is_empty());
}

#[test]
fn autocomplete_st_offers_strasbourg() {
    let names: Vec<String> = gazetteer()
        .autocomplete("St", 200)
        .into_iter()
        .map(|place| place.name)
        .collect();
    assert!(names.iter().any(|name| name == "Strasbourg"), "{names:?}");
    assert!(
        names.iter().any(|name| name.starts_with("Saint-")),
        "{names:?}"
    );
}

#[test]
fn autocomplete_is_fast() {
    let gazetteer = gazetteer();
    let started = Instant::now();
    for prefix in ["lyo", "saint-e", "par", "gre", "bor", "690"] {
        gazetteer.autocomplete(prefix, 10);
    }
    // Generous for unoptimized test builds; release builds take well under 1 ms a call.
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn csv_place_is_found() {
    let file = csv_file(
        "name,country,latitude,longitude,admin,postal_code,population\n\
         Hameau-des-Fresques,FR,45.5,4.5,69,69999,120\n",
    );
    let gazetteer = gazetteer().with_csv(file.path()).expect("valid CSV");

    let place = gazetteer.resolve("hameau des fresques").expect("CSV place");
    assert_eq!(place.population, Some(120));
    assert_eq!(place.admin.as_deref(), Some("69"));
    assert_eq!(gazetteer.resolve("69999"), Some(place));
    assert!(gazetteer.resolve("Lyon").is_some());
}

#[test]
fn csv_place_wins_tie() {
    let file = csv_file("country,name,longitude,latitude\nFR,Lyon,4.5,45.5\n");
    let gazetteer = gazetteer().with_csv(file.path()).expect("valid CSV");

    let place = gazetteer.resolve("Lyon").expect("Lyon");
    assert_eq!(position(&place), (45.5, 4.5));
    let lyons = gazetteer.autocomplete("lyon", 50);
    assert_eq!(lyons.iter().filter(|place| place.name == "Lyon").count(), 1);
}

#[test]
fn csv_bad_row_reports_line() {
    let file = csv_file(
        "name,country,latitude,longitude\n\
         Good,FR,45.0,4.0\n\
         \n\
         Bad,FR,north,4.0\n",
    );
    let error = gazetteer().with_csv(file.path()).expect_err("bad latitude");

    assert!(
        matches!(error, PlacesError::InvalidCsv { line: 4, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("latitude"), "{error}");
}

#[test]
fn csv_rejects_out_of_range_latitude() {
    let file = csv_file("name,country,latitude,longitude\nFar,FR,91,4\n");
    let error = gazetteer()
        .with_csv(file.path())
        .expect_err("latitude > 90");
    assert!(
        matches!(error, PlacesError::InvalidCsv { line: 2, .. }),
        "{error}"
    );
}

#[test]
fn csv_missing_file_is_read_error() {
    let error = gazetteer()
        .with_csv("/nonexistent/places.csv")
        .expect_err("missing file");
    assert!(matches!(error, PlacesError::Read { .. }), "{error}");
}

#[test]
fn place_serializes_precision() {
    let json = serde_json::to_value(resolved("Lyon")).expect("serializable");
    assert_eq!(json["precision"], "listed");
    assert_eq!(json["latitude"], 45.74906);
}

/// Prints load and lookup times; run with
/// `cargo test --release --lib places::tests::timings -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, meaningful only in release builds"]
fn timings() {
    let started = Instant::now();
    let table = embedded::load(embedded::PLACES_TSV_GZ).expect("valid embedded file");
    println!("load: {:?} for {} places", started.elapsed(), table.len());

    let gazetteer = gazetteer();
    let calls = 100;
    for prefix in ["lyo", "saint-e", "par", "690", "st", "s"] {
        let started = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(gazetteer.autocomplete(prefix, 10));
        }
        println!(
            "autocomplete {prefix:?}: {:?} a call",
            started.elapsed() / calls
        );
    }
    for query in ["Lyon", "saint etienne", "69003", "Paris, France"] {
        let started = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(gazetteer.resolve(query));
        }
        println!("resolve {query:?}: {:?} a call", started.elapsed() / calls);
    }
}

#[test]
fn geocode_prefers_arrondissement_of_named_city() {
    let place = Gazetteer::embedded()
        .geocode(Some("Lyon"), Some("69007"), Some("FR"))
        .unwrap();

    assert!(place.name.starts_with("Lyon 7"), "{place:?}");
}
