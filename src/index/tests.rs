use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use tempfile::TempDir;

use super::*;
use crate::event::{Attendance, Audience, Location, Status};
use crate::search::{GeoFilter, Sort};

const LYON: (f64, f64) = (45.7640, 4.8357);

/// Searches start at this instant; events before it are past.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

struct Spec {
    id: &'static str,
    workshop: &'static str,
    title: &'static str,
    /// Day of March 2030, or a negative number of days before `now` for past events.
    day: i64,
    city: Option<(&'static str, f64, f64)>,
}

fn spec(
    id: &'static str,
    workshop: &'static str,
    title: &'static str,
    day: i64,
    city: Option<(&'static str, f64, f64)>,
) -> Spec {
    Spec {
        id,
        workshop,
        title,
        day,
        city,
    }
}

fn build(spec: Spec) -> Event {
    let start = if spec.day > 0 {
        Utc.with_ymd_and_hms(2030, 3, spec.day as u32, 17, 0, 0)
            .unwrap()
    } else {
        now() + chrono::Duration::days(spec.day)
    };
    let location = match spec.city {
        Some((city, latitude, longitude)) => Location {
            city: Some(city.to_owned()),
            country: Some("FR".to_owned()),
            latitude: Some(latitude),
            longitude: Some(longitude),
            ..Location::default()
        },
        None => Location::default(),
    };
    Event {
        id: format!("alpha~{}", spec.id),
        workshop: spec.workshop.to_owned(),
        title: spec.title.to_owned(),
        description: "Trois heures pour comprendre et agir.".to_owned(),
        url: None,
        tickets_url: None,
        start: start.fixed_offset(),
        end: None,
        time_zone: "Europe/Paris".to_owned(),
        attendance: if spec.city.is_some() {
            Attendance::InPerson
        } else {
            Attendance::Online
        },
        audience: Audience::GeneralPublic,
        languages: vec!["fr".to_owned()],
        location,
        capacity: None,
        seats_left: None,
        status: Status::Scheduled,
        price: None,
        updated_at: None,
        source: "alpha".to_owned(),
        source_event_id: spec.id.to_owned(),
        links: Vec::new(),
    }
}

/// About twenty events around Lyon, in Paris, online and far away. Titles avoid family
/// names so that text tests show which field matched.
fn events() -> Vec<Event> {
    let lyon = Some(("Lyon", 45.7640, 4.8357));
    let villeurbanne = Some(("Villeurbanne", 45.7719, 4.8902));
    let bron = Some(("Bron", 45.7386, 4.9131));
    let grenoble = Some(("Grenoble", 45.1885, 5.7245));
    let saint_etienne = Some(("Saint-Étienne", 45.4397, 4.3872));
    let paris = Some(("Paris", 48.8566, 2.3522));

    let mut events: Vec<Event> = [
        spec("lyon-climate", "FresqueClimat", "Atelier du soir", 1, lyon),
        spec(
            "villeurbanne-tie-b",
            "FresqueOceane",
            "Atelier en soirée",
            1,
            villeurbanne,
        ),
        spec(
            "villeurbanne-tie-a",
            "FresqueOceane",
            "Atelier en soirée",
            1,
            villeurbanne,
        ),
        spec(
            "villeurbanne-biodiversity",
            "FresqueBiodiversite",
            "Atelier",
            2,
            villeurbanne,
        ),
        spec("grenoble-climate", "FresqueClimat", "Atelier", 3, grenoble),
        spec(
            "paris-digital",
            "FresqueNumerique",
            "Fresque du Numérique à Paris",
            4,
            paris,
        ),
        spec(
            "online-climate",
            "FresqueClimat",
            "Atelier en ligne",
            5,
            None,
        ),
        spec("lyon-past", "FresqueClimat", "Atelier passé", -30, lyon),
        spec("lyon-kids", "FresqueOceane", "Atelier enfants", 6, lyon),
        spec(
            "lyon-training",
            "FresqueClimat",
            "Formation animateurs",
            7,
            lyon,
        ),
        spec("lyon-cancelled", "FresqueClimat", "Atelier annulé", 8, lyon),
        spec(
            "villeurbanne-english",
            "FresqueBiodiversite",
            "Workshop",
            9,
            villeurbanne,
        ),
        spec("bron-mixed", "FresqueOceane", "Atelier hybride", 10, bron),
        spec(
            "saint-etienne",
            "FresqueClimat",
            "Atelier",
            11,
            saint_etienne,
        ),
        spec(
            "online-digital",
            "FresqueNumerique",
            "Session en visio",
            12,
            None,
        ),
        spec(
            "online-past",
            "FresqueClimat",
            "Atelier passé en ligne",
            -10,
            None,
        ),
        spec(
            "geneva",
            "FresqueClimat",
            "Atelier",
            13,
            Some(("Genève", 46.2044, 6.1432)),
        ),
        spec(
            "fiji-east",
            "FresqueOceane",
            "Atelier",
            14,
            Some(("Taveuni", -16.5, -179.9)),
        ),
        spec(
            "fiji-west",
            "FresqueOceane",
            "Atelier",
            15,
            Some(("Labasa", -16.5, 179.5)),
        ),
        spec(
            "arctic",
            "FresqueClimat",
            "Atelier polaire",
            16,
            Some(("Pôle", 89.5, 170.0)),
        ),
    ]
    .into_iter()
    .map(build)
    .collect();

    for event in &mut events {
        match event.source_event_id.as_str() {
            "paris-digital" => event.description = "Sobriété numérique et données.".to_owned(),
            "online-climate" => event.languages = vec!["en".to_owned()],
            "lyon-kids" => {
                event.audience = Audience::Kids;
                event.languages.clear();
            }
            "lyon-training" => {
                event.audience = Audience::Training;
                event.languages = vec!["de".to_owned()];
            }
            "lyon-cancelled" => event.status = Status::Cancelled,
            "villeurbanne-english" => event.languages = vec!["en".to_owned()],
            "bron-mixed" => event.attendance = Attendance::Mixed,
            "geneva" => event.location.country = Some("CH".to_owned()),
            _ => {}
        }
    }
    events
}

fn open(dir: &Path) -> (Index, OpenState) {
    Index::open(dir, Arc::new(Catalog::embedded())).unwrap()
}

fn indexed() -> (TempDir, Index) {
    let dir = TempDir::new().unwrap();
    let (index, _) = open(dir.path());
    index.rebuild(events(), 1).unwrap();
    (dir, index)
}

fn query() -> SearchQuery {
    SearchQuery {
        limit: 100,
        ..SearchQuery::upcoming(now())
    }
}

fn near(latitude: f64, longitude: f64, radius_km: Option<f64>) -> SearchQuery {
    SearchQuery {
        geo: Some(GeoFilter {
            latitude,
            longitude,
            radius_km,
        }),
        ..query()
    }
}

fn with_text(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.to_owned()),
        ..query()
    }
}

/// Ids of the page, without the source prefix, in result order.
fn ids(results: &SearchResults) -> Vec<&str> {
    results
        .events
        .iter()
        .map(|hit| hit.event.id.trim_start_matches("alpha~"))
        .collect()
}

fn id_set(results: &SearchResults) -> BTreeSet<&str> {
    ids(results).into_iter().collect()
}

fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
    ids.iter().copied().collect()
}

#[test]
fn search_near_lyon_excludes_far_cities() {
    let (_dir, index) = indexed();

    let results = index.search(&near(LYON.0, LYON.1, Some(30.0))).unwrap();

    assert_eq!(
        ids(&results),
        [
            "lyon-climate",
            "villeurbanne-tie-a",
            "villeurbanne-tie-b",
            "villeurbanne-biodiversity",
            "lyon-kids",
            "lyon-training",
            "villeurbanne-english",
            "bron-mixed",
        ]
    );
    for hit in &results.events {
        let distance = hit.distance_km.unwrap();
        assert!(distance <= 30.0, "{} at {distance} km", hit.event.id);
    }
}

#[test]
fn search_near_lyon_reports_rounded_distance() {
    let (_dir, index) = indexed();

    let results = index.search(&near(LYON.0, LYON.1, Some(30.0))).unwrap();

    let villeurbanne = &results.events[1];
    assert_eq!(villeurbanne.distance_km, Some(4.3));
    assert_eq!(results.events[0].distance_km, Some(0.0));
}

#[test]
fn sort_by_distance_nearest_first() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        sort: Sort::Distance,
        ..near(LYON.0, LYON.1, Some(60.0))
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        ids(&results),
        [
            "lyon-climate",
            "lyon-kids",
            "lyon-training",
            "villeurbanne-tie-a",
            "villeurbanne-tie-b",
            "villeurbanne-biodiversity",
            "villeurbanne-english",
            "bron-mixed",
            "saint-etienne",
        ]
    );
    let distances: Vec<f64> = results
        .events
        .iter()
        .map(|hit| hit.distance_km.unwrap())
        .collect();
    assert!(distances.is_sorted(), "{distances:?}");
}

#[test]
fn sort_by_distance_without_place_uses_date() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        sort: Sort::Distance,
        limit: 3,
        ..query()
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        ids(&results),
        ["lyon-climate", "villeurbanne-tie-a", "villeurbanne-tie-b"]
    );
}

#[test]
fn include_online_lists_online_after_located() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        sort: Sort::Distance,
        include_online: true,
        ..near(LYON.0, LYON.1, Some(5.0))
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        ids(&results),
        [
            "lyon-climate",
            "lyon-kids",
            "lyon-training",
            "villeurbanne-tie-a",
            "villeurbanne-tie-b",
            "villeurbanne-biodiversity",
            "villeurbanne-english",
            "online-climate",
            "online-digital",
        ]
    );
    assert_eq!(results.events[8].distance_km, None);
}

#[test]
fn geo_search_without_online_skips_unlocated() {
    let (_dir, index) = indexed();

    let results = index.search(&near(LYON.0, LYON.1, None)).unwrap();

    assert_eq!(results.total, 15);
    assert!(results.events.iter().all(|hit| hit.distance_km.is_some()));
}

#[test]
fn unlimited_radius_matches_every_located_event() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        sort: Sort::Distance,
        ..near(LYON.0, LYON.1, None)
    };

    let results = index.search(&request).unwrap();

    assert_eq!(results.total, 15);
    assert_eq!(ids(&results).last(), Some(&"fiji-east"));
}

#[test]
fn geo_search_across_antimeridian() {
    let (_dir, index) = indexed();

    let results = index.search(&near(-16.5, 179.9, Some(50.0))).unwrap();

    assert_eq!(id_set(&results), set(&["fiji-east", "fiji-west"]));
}

#[test]
fn geo_search_around_north_pole() {
    let (_dir, index) = indexed();

    let results = index.search(&near(89.9, 0.0, Some(100.0))).unwrap();

    assert_eq!(ids(&results), ["arctic"]);
}

#[test]
fn bounding_box_splits_at_antimeridian() {
    let bounds = filter::BoundingBox::around(0.0, 179.9, Some(100.0));

    let filter::Longitudes::AcrossAntimeridian { west, east } = bounds.longitudes else {
        panic!("expected a split box, got {bounds:?}");
    };
    assert!((west - 179.0).abs() < 0.01, "west {west}");
    assert!((east + 179.2).abs() < 0.01, "east {east}");
}

#[test]
fn bounding_box_covers_all_longitudes_near_pole() {
    let bounds = filter::BoundingBox::around(-89.5, 10.0, Some(100.0));

    assert_eq!(bounds.longitudes, filter::Longitudes::All);
    assert_eq!(bounds.min_latitude, -90.0);
}

#[test]
fn text_without_accent_finds_accented_title() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("numerique")).unwrap();

    assert_eq!(id_set(&results), set(&["paris-digital", "online-digital"]));
}

#[test]
fn text_matches_family_name() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("climat")).unwrap();

    assert_eq!(
        id_set(&results),
        set(&[
            "lyon-climate",
            "grenoble-climate",
            "online-climate",
            "lyon-training",
            "saint-etienne",
            "geneva",
            "arctic",
        ])
    );
}

#[test]
fn text_matches_english_family_name() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("Ocean collage")).unwrap();

    assert_eq!(results.total, 6);
}

#[test]
fn text_requires_every_word() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("climat grenoble")).unwrap();

    assert_eq!(ids(&results), ["grenoble-climate"]);
}

#[test]
fn text_matches_place_and_stems() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("ENFANT")).unwrap();

    assert_eq!(ids(&results), ["lyon-kids"]);
}

#[test]
fn hostile_text_never_errors() {
    let (_dir, index) = indexed();
    let hostile = [
        "\"(",
        "AND",
        "OR NOT",
        "title:x",
        "*",
        "~2",
        "\"unbalanced",
        "a AND (b OR",
        "[1 TO 2]",
        "\\",
        "^3",
        "+-!",
        "",
        "   ",
        "{}",
        "climat~",
        "title:climat",
        "\u{0}",
        "😀 climat",
    ];

    for text in hostile {
        let result = index.search(&with_text(text));
        assert!(result.is_ok(), "{text:?}: {result:?}");
    }
}

#[test]
fn operator_words_are_plain_words() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("title:climat")).unwrap();

    // "title" must match like any word, and no event contains it.
    assert_eq!(results.total, 0);
}

#[test]
fn text_without_words_matches_everything() {
    let (_dir, index) = indexed();

    let results = index.search(&with_text("*")).unwrap();

    assert_eq!(results.total, index.search(&query()).unwrap().total);
}

#[test]
fn relevance_ranks_title_match_first() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        sort: Sort::Relevance,
        ..with_text("numérique")
    };

    let results = index.search(&request).unwrap();

    assert_eq!(ids(&results), ["paris-digital", "online-digital"]);
}

#[test]
fn default_search_lists_upcoming_by_date() {
    let (_dir, index) = indexed();

    let results = index.search(&query()).unwrap();

    assert_eq!(results.total, 17);
    assert!(!ids(&results).contains(&"lyon-past"));
    assert!(!ids(&results).contains(&"lyon-cancelled"));
    assert_eq!(ids(&results).last(), Some(&"arctic"));
}

#[test]
fn date_range_excludes_end() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        from: Utc.with_ymd_and_hms(2030, 3, 2, 17, 0, 0).unwrap(),
        to: Some(Utc.with_ymd_and_hms(2030, 3, 4, 17, 0, 0).unwrap()),
        ..query()
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        ids(&results),
        ["villeurbanne-biodiversity", "grenoble-climate"]
    );
}

#[test]
fn filters_by_workshops_attendance_audience_country() {
    let (_dir, index) = indexed();
    let cases: [(SearchQuery, &[&str]); 5] = [
        (
            SearchQuery {
                workshops: vec![
                    "FresqueNumerique".to_owned(),
                    "FresqueBiodiversite".to_owned(),
                ],
                ..query()
            },
            &[
                "villeurbanne-biodiversity",
                "paris-digital",
                "villeurbanne-english",
                "online-digital",
            ],
        ),
        (
            SearchQuery {
                attendance: Some(Attendance::Mixed),
                ..query()
            },
            &["bron-mixed"],
        ),
        (
            SearchQuery {
                audience: Some(Audience::Kids),
                ..query()
            },
            &["lyon-kids"],
        ),
        (
            SearchQuery {
                country: Some("ch".to_owned()),
                ..query()
            },
            &["geneva"],
        ),
        (
            SearchQuery {
                audience: Some(Audience::Training),
                workshops: vec!["FresqueClimat".to_owned()],
                ..query()
            },
            &["lyon-training"],
        ),
    ];

    for (request, expected) in cases {
        let results = index.search(&request).unwrap();
        assert_eq!(ids(&results), expected, "{request:?}");
    }
}

#[test]
fn language_filter_keeps_events_without_language() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        languages: vec!["en".to_owned()],
        ..query()
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        ids(&results),
        ["online-climate", "lyon-kids", "villeurbanne-english"]
    );
}

#[test]
fn facets_count_all_matches() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        limit: 1,
        ..near(LYON.0, LYON.1, Some(30.0))
    };

    let results = index.search(&request).unwrap();

    let facets = &results.facets;
    assert_eq!(results.total, 8);
    assert_eq!(results.events.len(), 1);
    assert_eq!(facets.workshop.get("FresqueOceane"), Some(&4));
    assert_eq!(facets.workshop.get("FresqueClimat"), Some(&2));
    assert_eq!(facets.workshop.get("FresqueBiodiversite"), Some(&2));
    assert_eq!(facets.attendance.get("in_person"), Some(&7));
    assert_eq!(facets.attendance.get("mixed"), Some(&1));
    assert_eq!(facets.audience.get("general_public"), Some(&6));
    assert_eq!(facets.audience.get("kids"), Some(&1));
    assert_eq!(facets.audience.get("training"), Some(&1));
    assert_eq!(facets.language.get("fr"), Some(&5));
    assert_eq!(facets.language.get("en"), Some(&1));
    assert_eq!(facets.language.get("de"), Some(&1));
}

#[test]
fn paging_splits_sorted_results() {
    let (_dir, index) = indexed();
    let all = index.search(&query()).unwrap();
    let mut paged = Vec::new();

    for offset in (0..20).step_by(7) {
        let page = SearchQuery {
            offset,
            limit: 7,
            ..query()
        };
        let results = index.search(&page).unwrap();
        assert_eq!(results.total, 17);
        paged.extend(ids(&results).into_iter().map(str::to_owned));
    }

    assert_eq!(paged, ids(&all));
}

#[test]
fn paging_past_the_end_is_empty() {
    let (_dir, index) = indexed();
    let request = SearchQuery {
        offset: 500,
        ..query()
    };

    let results = index.search(&request).unwrap();

    assert_eq!(results.total, 17);
    assert!(results.events.is_empty());
}

#[test]
fn search_returns_whole_event() {
    let (_dir, index) = indexed();
    let expected = events().into_iter().find(|e| e.id == "alpha~paris-digital");

    let results = index.search(&with_text("paris")).unwrap();

    assert_eq!(
        results.events.first().map(|hit| &hit.event),
        expected.as_ref()
    );
}

#[test]
fn replace_source_keeps_other_sources() {
    let (_dir, index) = indexed();
    let mut beta = build(spec("beta-lyon", "FresqueClimat", "Atelier", 20, None));
    beta.id = "beta~lyon".to_owned();
    beta.source = "beta".to_owned();
    index.replace_source("beta", &[beta], 2).unwrap();

    let remaining = events().into_iter().take(2).collect::<Vec<_>>();
    index.replace_source("alpha", &remaining, 3).unwrap();

    let results = index.search(&query()).unwrap();
    assert_eq!(
        results
            .events
            .iter()
            .map(|hit| hit.event.id.as_str())
            .collect::<Vec<_>>(),
        [
            "alpha~lyon-climate",
            "alpha~villeurbanne-tie-b",
            "beta~lyon"
        ]
    );
    assert_eq!(index.generation(), Some(3));
}

#[test]
fn date_ties_across_segments_sort_by_id() {
    let (_dir, index) = indexed();
    let mut early = build(spec("x", "FresqueClimat", "Atelier", 1, None));
    early.id = "aaa~x".to_owned();
    early.source = "aaa".to_owned();
    index.replace_source("aaa", &[early], 2).unwrap();
    let request = SearchQuery {
        limit: 3,
        ..query()
    };

    let results = index.search(&request).unwrap();

    assert_eq!(
        results
            .events
            .iter()
            .map(|hit| hit.event.id.as_str())
            .collect::<Vec<_>>(),
        ["aaa~x", "alpha~lyon-climate", "alpha~villeurbanne-tie-a"]
    );
}

#[test]
fn replace_source_skips_other_source_events() {
    let (_dir, index) = indexed();
    let events = events();

    index.replace_source("beta", &events, 2).unwrap();

    assert_eq!(index.num_docs(), 19);
}

#[test]
fn rebuild_replaces_everything() {
    let (_dir, index) = indexed();

    let count = index.rebuild(events().into_iter().take(3), 7).unwrap();

    assert_eq!(count, 3);
    assert_eq!(index.num_docs(), 3);
    assert_eq!(index.generation(), Some(7));
}

#[test]
fn rebuild_skips_cancelled_events() {
    let dir = TempDir::new().unwrap();
    let (index, _) = open(dir.path());

    let count = index.rebuild(events(), 1).unwrap();

    assert_eq!(count, 19);
}

#[test]
fn open_new_directory_creates_index() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("missing").join("index");

    let (index, state) = open(&path);

    assert!(matches!(state, OpenState::Created { .. }));
    assert_eq!(index.generation(), None);
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn reopen_keeps_documents_and_generation() {
    let (dir, index) = indexed();
    drop(index);

    let (index, state) = open(dir.path());

    assert_eq!(state, OpenState::Ready);
    assert_eq!(index.num_docs(), 19);
    assert_eq!(index.generation(), Some(1));
    assert_eq!(index.search(&with_text("grenoble")).unwrap().total, 1);
}

#[test]
fn reopen_new_index_is_ready() {
    let dir = TempDir::new().unwrap();
    drop(open(dir.path()));

    let (_index, state) = open(dir.path());

    assert_eq!(state, OpenState::Ready);
}

#[test]
fn open_while_locked_fails() {
    let (dir, _index) = indexed();

    let result = Index::open(dir.path(), Arc::new(Catalog::embedded()));

    assert!(
        matches!(result, Err(IndexError::Locked { .. })),
        "{:?}",
        result.err()
    );
}

#[test]
fn read_only_open_beside_writer_searches() {
    let (dir, _writer) = indexed();

    let reader = Index::open_read_only(dir.path(), Arc::new(Catalog::embedded())).unwrap();

    assert_eq!(reader.num_docs(), 19);
    assert_eq!(reader.search(&with_text("grenoble")).unwrap().total, 1);
    assert!(matches!(
        reader.rebuild(Vec::new(), 2),
        Err(IndexError::ReadOnly)
    ));
}

#[test]
fn read_only_open_of_empty_directory_fails() {
    let dir = TempDir::new().unwrap();

    let result = Index::open_read_only(dir.path(), Arc::new(Catalog::embedded()));

    assert!(
        matches!(result, Err(IndexError::Unusable { .. })),
        "{:?}",
        result.err()
    );
}

#[test]
fn corrupt_meta_recreates_index() {
    let (dir, index) = indexed();
    drop(index);
    std::fs::write(dir.path().join("meta.json"), "{\"segments\": [trunc").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an index file").unwrap();

    let (index, state) = open(dir.path());

    assert!(matches!(state, OpenState::Created { .. }), "{state:?}");
    assert_eq!(index.num_docs(), 0);
    assert_eq!(index.generation(), None);
    assert!(dir.path().join("notes.txt").exists());
}

#[test]
fn missing_segment_files_recreate_index() {
    let (dir, index) = indexed();
    drop(index);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "idx") {
            std::fs::remove_file(path).unwrap();
        }
    }

    let (index, state) = open(dir.path());

    assert!(matches!(state, OpenState::Created { .. }), "{state:?}");
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn garbage_directory_is_recreated() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("meta.json"), [0xff, 0x00, 0x13]).unwrap();
    std::fs::write(dir.path().join(".managed.json"), "garbage").unwrap();

    let (index, state) = open(dir.path());

    assert!(matches!(state, OpenState::Created { .. }), "{state:?}");
    index.rebuild(events(), 4).unwrap();
    assert_eq!(index.num_docs(), 19);
}

#[test]
fn other_schema_version_recreates_index() {
    let (dir, index) = indexed();
    {
        let mut writer = index.lock_writer().unwrap();
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(r#"{"schema_version":0,"generation":1}"#);
        prepared.commit().unwrap();
    }
    drop(index);

    let (index, state) = open(dir.path());

    let OpenState::Created { reason } = state else {
        panic!("expected recreation, got {state:?}");
    };
    assert!(reason.contains("schema version 0"), "{reason}");
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}

    assert_send_sync::<Index>();
}

/// Times typical searches over 100,000 synthetic events. Run it in release mode:
/// `cargo test --release --lib index::tests::search_latency -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark, slow in debug builds"]
fn search_latency_at_100k_events() {
    let dir = TempDir::new().unwrap();
    let (index, _) = open(dir.path());
    let workshops = [
        "FresqueClimat",
        "FresqueOceane",
        "FresqueNumerique",
        "FresqueBiodiversite",
    ];
    let template = build(spec("template", "FresqueClimat", "Atelier", 1, None));
    // A linear congruential generator keeps the data identical between runs.
    let mut state: u64 = 42;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let events: Vec<Event> = (0..100_000)
        .map(|i| {
            let mut event = template.clone();
            event.id = format!("alpha~{i:06}");
            event.workshop = workshops[i % workshops.len()].to_owned();
            event.title = format!("Atelier numéro {}", i % 1000);
            event.start =
                (now() + chrono::Duration::minutes((next() * 525_600.0) as i64)).fixed_offset();
            if i % 10 != 0 {
                event.attendance = Attendance::InPerson;
                event.location.latitude = Some(43.0 + next() * 6.0);
                event.location.longitude = Some(-1.0 + next() * 8.0);
                event.location.city = Some(format!("Ville {}", i % 5000));
            }
            event
        })
        .collect();
    let started = std::time::Instant::now();
    index.rebuild(events, 1).unwrap();
    println!(
        "rebuild: {:?}, segments: {}",
        started.elapsed(),
        index.reader.searcher().segment_readers().len()
    );

    let cases = [
        ("upcoming", query()),
        ("near lyon 50 km", near(LYON.0, LYON.1, Some(50.0))),
        (
            "near lyon 50 km by distance",
            SearchQuery {
                sort: Sort::Distance,
                include_online: true,
                ..near(LYON.0, LYON.1, Some(50.0))
            },
        ),
        (
            "unlimited by distance",
            SearchQuery {
                sort: Sort::Distance,
                ..near(LYON.0, LYON.1, None)
            },
        ),
        ("text", with_text("atelier numero")),
        (
            "text by relevance",
            SearchQuery {
                sort: Sort::Relevance,
                ..with_text("numérique")
            },
        ),
        (
            "workshop and language",
            SearchQuery {
                workshops: vec!["FresqueOceane".to_owned()],
                languages: vec!["fr".to_owned()],
                ..query()
            },
        ),
    ];
    for (name, mut request) in cases {
        request.limit = 20;
        let mut times: Vec<std::time::Duration> = (0..200)
            .map(|_| {
                let started = std::time::Instant::now();
                let results = index.search(&request).unwrap();
                std::hint::black_box(results);
                started.elapsed()
            })
            .collect();
        times.sort();
        let total = index.search(&request).unwrap().total;
        println!(
            "{name:32} total {total:6}  p50 {:?}  p99 {:?}",
            times[100], times[197]
        );
    }
}

#[test]
fn word_too_long_to_index_matches_nothing() {
    let (_dir, index) = indexed();

    let results = index
        .search(&with_text(&format!("climat {}", "z".repeat(50))))
        .unwrap();

    assert_eq!(results.total, 0);
}
