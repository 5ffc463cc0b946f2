use serde_json::json;

use super::*;
use crate::event::{Audience, Status};

fn event(location: Location) -> Event {
    Event {
        id: "s~1".to_owned(),
        workshop: "FresqueClimat".to_owned(),
        title: "Atelier".to_owned(),
        description: String::new(),
        url: None,
        tickets_url: None,
        start: "2027-03-14T18:30:00+01:00".parse().unwrap(),
        end: None,
        time_zone: "Europe/Paris".to_owned(),
        attendance: Attendance::InPerson,
        audience: Audience::GeneralPublic,
        languages: Vec::new(),
        location,
        capacity: None,
        seats_left: None,
        status: Status::Scheduled,
        price: None,
        updated_at: None,
        source: "s".to_owned(),
        source_event_id: "1".to_owned(),
        links: Vec::new(),
    }
}

fn address(street: &str, postal_code: &str, city: &str) -> Location {
    Location {
        name: Some("Maison des Associations".to_owned()),
        street: Some(street.to_owned()),
        postal_code: Some(postal_code.to_owned()),
        city: Some(city.to_owned()),
        country: Some("FR".to_owned()),
        latitude: Some(45.76),
        longitude: Some(4.84),
        geocoded: Some("gazetteer".to_owned()),
        ..Location::default()
    }
}

#[test]
fn query_drops_notes_venue_and_cedex() {
    let located = event(address(
        "12 rue  Victor Hugo (2e étage, salle B)",
        "69002",
        "Lyon Cedex 02",
    ));

    let query = Query::for_event(&located, GeocoderKind::Nominatim).unwrap();

    assert_eq!(query.text, "12 rue Victor Hugo, 69002 Lyon");
    assert_eq!(query.country.as_deref(), Some("FR"));
}

#[test]
fn feed_coordinates_are_not_asked() {
    let mut location = address("12 rue Victor Hugo", "69002", "Lyon");
    location.geocoded = Some("feed".to_owned());

    assert_eq!(
        Query::for_event(&event(location), GeocoderKind::Photon),
        None
    );
}

#[test]
fn town_only_is_asked_when_gazetteer_failed() {
    let mut location = address("", "97133", "Gustavia");
    location.street = None;

    assert_eq!(
        Query::for_event(&event(location.clone()), GeocoderKind::Nominatim),
        None,
        "the gazetteer's town centre is as good as the geocoder's"
    );

    location.latitude = None;
    location.longitude = None;
    location.geocoded = None;
    let query = Query::for_event(&event(location), GeocoderKind::Nominatim).unwrap();
    assert_eq!(query.text, "97133 Gustavia");
}

#[test]
fn addok_skips_foreign_addresses() {
    let mut location = address("Rue du Rhône 1", "1204", "Genève");
    location.country = Some("CH".to_owned());

    assert_eq!(
        Query::for_event(&event(location.clone()), GeocoderKind::Addok),
        None
    );
    assert!(Query::for_event(&event(location), GeocoderKind::Photon).is_some());
}

#[test]
fn nominatim_answer_ranks_precision() {
    let street =
        json!([{"lat": "45.7597", "lon": "4.8422", "place_rank": 30, "addresstype": "building"}]);
    let town =
        json!([{"lat": "45.7578", "lon": "4.8320", "place_rank": 16, "addresstype": "city"}]);
    let country = json!([{"lat": "46.6", "lon": "1.88", "place_rank": 4}]);

    let found = parse_answer(GeocoderKind::Nominatim, &street)
        .unwrap()
        .unwrap();
    assert_eq!((found.latitude, found.longitude), (45.7597, 4.8422));
    assert_eq!(found.precision, Precision::Address);
    assert_eq!(
        parse_answer(GeocoderKind::Nominatim, &town)
            .unwrap()
            .unwrap()
            .precision,
        Precision::City
    );
    assert_eq!(
        parse_answer(GeocoderKind::Nominatim, &country).unwrap(),
        None
    );
    assert_eq!(
        parse_answer(GeocoderKind::Nominatim, &json!([])).unwrap(),
        None
    );
    assert!(parse_answer(GeocoderKind::Nominatim, &json!({"error": "x"})).is_err());
}

#[test]
fn photon_and_addok_answers_are_geojson() {
    let photon = json!({"type": "FeatureCollection", "features": [
        {"geometry": {"type": "Point", "coordinates": [4.8422, 45.7597]},
         "properties": {"type": "house", "name": "12"}}]});
    let addok = json!({"type": "FeatureCollection", "features": [
        {"geometry": {"type": "Point", "coordinates": [4.8422, 45.7597]},
         "properties": {"type": "housenumber", "score": 0.93}}]});
    let weak = json!({"type": "FeatureCollection", "features": [
        {"geometry": {"type": "Point", "coordinates": [4.8422, 45.7597]},
         "properties": {"type": "street", "score": 0.31}}]});

    let found = parse_answer(GeocoderKind::Photon, &photon)
        .unwrap()
        .unwrap();
    assert_eq!((found.latitude, found.longitude), (45.7597, 4.8422));
    assert_eq!(found.precision, Precision::Address);
    assert!(parse_answer(GeocoderKind::Addok, &addok).unwrap().is_some());
    assert_eq!(parse_answer(GeocoderKind::Addok, &weak).unwrap(), None);
}

#[test]
fn city_answer_never_replaces_gazetteer() {
    let mut location = address("12 rue Victor Hugo", "69002", "Lyon");
    let town = Found {
        latitude: 45.0,
        longitude: 4.0,
        precision: Precision::City,
    };

    assert_eq!(apply(&mut location, Some(town)), None);
    assert_eq!(location.geocoded.as_deref(), Some("gazetteer"));

    location.latitude = None;
    location.longitude = None;
    assert_eq!(apply(&mut location, Some(town)), Some(Precision::City));
    assert_eq!(location.geocoded.as_deref(), Some(GEOCODED_CITY));
}
