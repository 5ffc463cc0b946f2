//! Benchmark data: a synthetic but realistic set of sessions, written in every format the
//! benchmarks feed to multifresque and to its peers.
//!
//! [`generate`] draws N sessions from a seeded generator, so the same seed and size give
//! the same sessions on every machine (only the dates move with `now`). Families come from
//! the catalog, with La Fresque du Climat the most common as in the field. Places are big
//! cities weighted by population (three quarters of in-person sessions) and French towns
//! of the embedded gazetteer weighted by their number of postal codes (the rest). One
//! session in ten is online. Titles and descriptions are French or English, and starts
//! spread over the next twelve months at the local hours workshops keep.
//!
//! [`write`] saves them as OpenFresque feeds in pages, as the incumbent's array of records,
//! as CSV for the peer databases, and writes a sources file that reads the feeds.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::places::Gazetteer;

/// Big cities with their population (municipal figures, rounded), the country's weight in
/// the fresque world and the IANA zone. Population times weight sets each city's share.
const CITIES: &[(&str, &str, u32, f64, &str)] = &[
    ("Paris", "FR", 2_103_000, 1.0, "Europe/Paris"),
    ("Marseille", "FR", 873_000, 1.0, "Europe/Paris"),
    ("Lyon", "FR", 522_000, 1.0, "Europe/Paris"),
    ("Toulouse", "FR", 504_000, 1.0, "Europe/Paris"),
    ("Nice", "FR", 348_000, 1.0, "Europe/Paris"),
    ("Nantes", "FR", 320_000, 1.0, "Europe/Paris"),
    ("Montpellier", "FR", 302_000, 1.0, "Europe/Paris"),
    ("Strasbourg", "FR", 291_000, 1.0, "Europe/Paris"),
    ("Bordeaux", "FR", 261_000, 1.0, "Europe/Paris"),
    ("Lille", "FR", 236_000, 1.0, "Europe/Paris"),
    ("Rennes", "FR", 222_000, 1.0, "Europe/Paris"),
    ("Reims", "FR", 180_000, 1.0, "Europe/Paris"),
    ("Toulon", "FR", 180_000, 1.0, "Europe/Paris"),
    ("Saint-Étienne", "FR", 173_000, 1.0, "Europe/Paris"),
    ("Le Havre", "FR", 166_000, 1.0, "Europe/Paris"),
    ("Dijon", "FR", 160_000, 1.0, "Europe/Paris"),
    ("Grenoble", "FR", 157_000, 1.0, "Europe/Paris"),
    ("Angers", "FR", 157_000, 1.0, "Europe/Paris"),
    ("Villeurbanne", "FR", 157_000, 1.0, "Europe/Paris"),
    ("Nîmes", "FR", 149_000, 1.0, "Europe/Paris"),
    ("Clermont-Ferrand", "FR", 147_000, 1.0, "Europe/Paris"),
    ("Aix-en-Provence", "FR", 147_000, 1.0, "Europe/Paris"),
    ("Le Mans", "FR", 145_000, 1.0, "Europe/Paris"),
    ("Brest", "FR", 140_000, 1.0, "Europe/Paris"),
    ("Tours", "FR", 137_000, 1.0, "Europe/Paris"),
    ("Amiens", "FR", 134_000, 1.0, "Europe/Paris"),
    ("Annecy", "FR", 131_000, 1.0, "Europe/Paris"),
    ("Limoges", "FR", 130_000, 1.0, "Europe/Paris"),
    ("Metz", "FR", 120_000, 1.0, "Europe/Paris"),
    ("Besançon", "FR", 120_000, 1.0, "Europe/Paris"),
    ("Perpignan", "FR", 120_000, 1.0, "Europe/Paris"),
    ("Orléans", "FR", 117_000, 1.0, "Europe/Paris"),
    ("Rouen", "FR", 114_000, 1.0, "Europe/Paris"),
    ("Caen", "FR", 108_000, 1.0, "Europe/Paris"),
    ("Nancy", "FR", 105_000, 1.0, "Europe/Paris"),
    ("Poitiers", "FR", 89_000, 1.0, "Europe/Paris"),
    ("La Rochelle", "FR", 78_000, 1.0, "Europe/Paris"),
    ("Pau", "FR", 77_000, 1.0, "Europe/Paris"),
    ("Bruxelles", "BE", 1_220_000, 0.6, "Europe/Brussels"),
    ("Liège", "BE", 197_000, 0.6, "Europe/Brussels"),
    ("Namur", "BE", 112_000, 0.6, "Europe/Brussels"),
    ("Genève", "CH", 203_000, 0.6, "Europe/Zurich"),
    ("Lausanne", "CH", 140_000, 0.6, "Europe/Zurich"),
    ("Luxembourg", "LU", 128_000, 0.6, "Europe/Luxembourg"),
    ("Montréal", "CA", 1_760_000, 0.2, "America/Toronto"),
    ("Québec", "CA", 550_000, 0.2, "America/Toronto"),
    ("London", "GB", 8_800_000, 0.01, "Europe/London"),
    ("Berlin", "DE", 3_700_000, 0.01, "Europe/Berlin"),
    ("Madrid", "ES", 3_300_000, 0.01, "Europe/Madrid"),
    ("Amsterdam", "NL", 920_000, 0.02, "Europe/Amsterdam"),
];

/// Share of in-person sessions placed in the big cities above; the rest go to French towns.
const BIG_CITY_SHARE: f64 = 0.75;

/// Venues, streets, start times and texts the sessions are made of.
const VENUES: &[&str] = &[
    "Maison des associations",
    "Médiathèque centrale",
    "Tiers-lieu La Fabrique",
    "Salle municipale",
    "Café associatif Le Lien",
    "Espace de coworking",
    "Université, bâtiment B",
    "Maison de l'environnement",
];
const STREETS: &[&str] = &[
    "rue de la République",
    "avenue Jean Jaurès",
    "place de la Mairie",
    "boulevard Victor Hugo",
    "rue Pasteur",
    "quai des Arts",
];
const LOCAL_STARTS: &[(u32, u32)] = &[(9, 0), (9, 30), (14, 0), (18, 0), (18, 30), (19, 0)];
const DESCRIPTIONS_FR: &[&str] = &[
    "En trois heures et en petit groupe, reliez les cartes entre elles pour comprendre les causes et les conséquences, puis échangez sur les leviers d'action. Aucune connaissance préalable n'est nécessaire.",
    "Un atelier ludique et collaboratif, fondé sur les travaux scientifiques, animé par une personne formée. Venez comme vous êtes, nous fournissons le matériel.",
    "Comprendre les enjeux pour mieux agir : un atelier participatif suivi d'un temps d'échange convivial autour d'un café.",
    "Session ouverte à toutes et à tous, idéale pour découvrir l'atelier avant de l'animer à son tour dans son entreprise ou son association.",
];
const DESCRIPTIONS_EN: &[&str] = &[
    "In three hours and in a small group, link the cards together to understand causes and consequences, then discuss what each of us can do. No prior knowledge needed.",
    "A playful, collaborative workshop based on scientific reports, led by a trained facilitator. Come as you are: we bring the cards.",
    "Understand the stakes to act better: a participatory workshop followed by an informal discussion.",
];

/// One generated session, with what every output format needs.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub workshop: String,
    /// The family's French and English names, which text search matches.
    pub workshop_names: String,
    /// The incumbent's integer family id.
    pub legacy_id: Option<u32>,
    pub title: String,
    pub description: String,
    pub language: &'static str,
    pub start: DateTime<Tz>,
    pub end: DateTime<Tz>,
    pub audience: &'static str,
    /// `None` for an online session.
    pub place: Option<SessionPlace>,
    pub capacity: u32,
    pub seats_left: u32,
    /// Price in euros; 0 is free.
    pub price: u32,
}

/// The venue of an in-person session.
#[derive(Debug, Clone)]
pub struct SessionPlace {
    pub venue: &'static str,
    pub street: String,
    pub city: String,
    pub postal_code: Option<String>,
    pub admin: Option<String>,
    pub country: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// Summary of the files [`write`] produced.
#[derive(Debug)]
pub struct Written {
    pub sessions: usize,
    pub pages: usize,
    /// Sources file reading the feeds, for `multifresque fetch --sources`.
    pub sources: PathBuf,
    /// Bytes of each output.
    pub feed_bytes: u64,
    pub incumbent_bytes: u64,
    pub csv_bytes: u64,
}

/// A candidate place and its share of sessions.
struct Candidate {
    place: SessionPlace,
    zone: Tz,
    english_share: f64,
}

/// Generates `count` sessions from `seed`, starting from the day after `now`.
pub fn generate(
    count: usize,
    seed: u64,
    now: DateTime<Utc>,
    catalog: &Catalog,
    gazetteer: &Gazetteer,
) -> Vec<Session> {
    let mut random = SplitMix64(seed);
    let (cities, city_weights) = big_cities(gazetteer);
    let (towns, town_weights) = french_towns(gazetteer);
    let cities = Weighted::new(cities, &city_weights);
    let towns = Weighted::new(towns, &town_weights);

    // La Fresque du Climat runs most sessions; a few other big families follow.
    let families: Vec<_> = catalog.all().iter().collect();
    let family_weights: Vec<f64> = families
        .iter()
        .map(|family| match family.code.as_str() {
            "FresqueClimat" => 40.0,
            "FresqueBiodiversite" | "FresqueNumerique" => 8.0,
            "FresqueOceane" | "FresqueAlimentation" | "AtelierDuTurfu" => 3.0,
            _ => 1.0,
        })
        .collect();
    let families = Weighted::new(families, &family_weights);
    let paris: Tz = chrono_tz::Europe::Paris;
    let first_day = (now + Duration::days(1)).date_naive();
    let mut booked_slots = std::collections::HashSet::new();

    (0..count)
        .map(|i| {
            let family = *families.pick(&mut random);
            let online = random.chance(0.10);
            let candidate = if online {
                None
            } else if random.chance(BIG_CITY_SHARE) {
                Some(cities.pick(&mut random))
            } else {
                Some(towns.pick(&mut random))
            };
            let zone = candidate.map_or(paris, |c| c.zone);
            let english = random.chance(candidate.map_or(0.2, |c| c.english_share));
            let audience = match random.below(100) {
                0..=74 => "general_public",
                75..=86 => "training",
                87..=94 => "kids",
                _ => "companies",
            };

            let day = first_day + Duration::days(random.below(365) as i64);
            let (hour, minute) = LOCAL_STARTS[random.below(LOCAL_STARTS.len() as u64) as usize];
            let mut local =
                day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
            // Two sessions of one family at the same time in the same town read as one
            // session listed twice, which multifresque would reject: move to the next day.
            let town = candidate.map_or("", |c| c.place.city.as_str());
            while !booked_slots.insert((family.code.clone(), town.to_owned(), local)) {
                local += Duration::days(1);
            }
            // A start in a daylight-saving gap moves an hour on.
            let start = zone
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| {
                    zone.from_local_datetime(&(local + Duration::hours(1)))
                        .earliest()
                })
                .unwrap_or_else(|| zone.from_utc_datetime(&local));

            let place = candidate.map(|c| {
                let mut place = c.place.clone();
                // Spread venues over about 2 km around the town centre.
                place.latitude = round5(place.latitude + (random.unit() - 0.5) * 0.036);
                place.longitude = round5(place.longitude + (random.unit() - 0.5) * 0.05);
                place.venue = VENUES[random.below(VENUES.len() as u64) as usize];
                place.street = format!(
                    "{} {}",
                    1 + random.below(120),
                    STREETS[random.below(STREETS.len() as u64) as usize]
                );
                place
            });
            let city = place.as_ref().map_or("en ligne", |p| p.city.as_str());
            let (title, description) = if english {
                let name = &family.name_en;
                let title = match audience {
                    "training" => format!("{name} facilitator training – {city}"),
                    "kids" => format!("{name} for kids – {city}"),
                    "companies" => format!("{name} at work – {city}"),
                    _ => format!("{name} workshop – {city}"),
                };
                let text = DESCRIPTIONS_EN[random.below(DESCRIPTIONS_EN.len() as u64) as usize];
                (title, text.to_owned())
            } else {
                let name = &family.name_fr;
                let title = match audience {
                    "training" => format!("Formation à l'animation de la {name} – {city}"),
                    "kids" => format!("Atelier enfants : {name} – {city}"),
                    "companies" => format!("{name} en entreprise – {city}"),
                    _ => format!("Atelier {name} – {city}"),
                };
                let text = DESCRIPTIONS_FR[random.below(DESCRIPTIONS_FR.len() as u64) as usize];
                (title, text.to_owned())
            };
            let capacity = 8 + 2 * random.below(8) as u32;
            let seats_left = random.below(u64::from(capacity) + 1) as u32;
            let price = if random.chance(0.4) {
                0
            } else {
                5 * (2 + random.below(4) as u32)
            };

            Session {
                id: format!("bench-{i}"),
                workshop: family.code.clone(),
                workshop_names: format!("{} {}", family.name_fr, family.name_en),
                legacy_id: family.legacy_id,
                title,
                description,
                language: if english { "en" } else { "fr" },
                start,
                end: start + Duration::hours(3),
                audience,
                place,
                capacity,
                seats_left,
                price,
            }
        })
        .collect()
}

/// Sessions per generated source. A feed's pages together may not exceed
/// [`crate::scheduler::MAX_FEED_BYTES`], and the world's sessions come from many
/// publishers, so a big data set is split into several feeds.
pub const SESSIONS_PER_SOURCE: usize = 50_000;

/// Writes `sessions` into `directory`: `feed-NN/page-NNNNN.json` (OpenFresque v1 feeds of
/// at most [`SESSIONS_PER_SOURCE`] sessions, `page_size` a page, linked by `next`),
/// `incumbent.json` (the incumbent's array of records), `events.csv` (one row per session,
/// for the peers) and `sources.toml`, which reads every feed.
///
/// # Errors
///
/// Returns an error when a file cannot be written.
pub fn write(
    directory: &Path,
    sessions: &[Session],
    page_size: usize,
    catalog: &Catalog,
) -> std::io::Result<Written> {
    // Feeds left from a bigger earlier run would be read by nothing, but would confuse.
    for entry in fs::read_dir(directory)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() && is_feed_folder(name) {
            fs::remove_dir_all(&path)?;
        }
    }

    let families: Vec<&str> = catalog.all().iter().map(|w| w.code.as_str()).collect();
    let generated_at = Utc::now().to_rfc3339();
    let mut feed_bytes = 0;
    let mut pages_written = 0;
    let mut sources = format!(
        "# Generated by `multifresque bench generate`: {} sessions.\n",
        sessions.len()
    );
    for (feed_number, feed_sessions) in sessions.chunks(SESSIONS_PER_SOURCE).enumerate() {
        let folder = format!("feed-{:02}", feed_number + 1);
        fs::create_dir_all(directory.join(&folder))?;
        let pages: Vec<&[Session]> = feed_sessions.chunks(page_size.max(1)).collect();
        for (number, chunk) in pages.iter().enumerate() {
            let next = (number + 1 < pages.len()).then(|| page_name(number + 2));
            let page = json!({
                "openfresque_feed": "1",
                "publisher": {
                    "name": "multifresque benchmark",
                    "url": "https://multifresque.example.org/bench",
                    "workshops": families,
                },
                "generated_at": generated_at,
                "next": next,
                "events": chunk.iter().map(openfresque_event).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec(&page)?;
            feed_bytes += bytes.len() as u64;
            fs::write(directory.join(&folder).join(page_name(number + 1)), bytes)?;
        }
        pages_written += pages.len();
        let _ = write!(
            sources,
            "\n[[source]]\nid = \"bench-{:02}\"\nname = \"Benchmark feed {}\"\nkind = \"openfresque\"\nurl = \"{folder}/{}\"\ntime_zone = \"Europe/Paris\"\n",
            feed_number + 1,
            feed_number + 1,
            page_name(1)
        );
    }
    let sources_path = directory.join("sources.toml");
    fs::write(&sources_path, sources)?;

    let incumbent = directory.join("incumbent.json");
    let mut out = BufWriter::new(File::create(&incumbent)?);
    serde_json::to_writer(
        &mut out,
        &sessions.iter().map(incumbent_record).collect::<Vec<_>>(),
    )?;
    out.flush()?;
    drop(out);

    let csv = directory.join("events.csv");
    let mut out = BufWriter::new(File::create(&csv)?);
    writeln!(
        out,
        "id,workshop,workshop_names,title,description,language,start,end,attendance,audience,city,postal_code,country,latitude,longitude"
    )?;
    let mut row = String::new();
    for session in sessions {
        row.clear();
        csv_row(&mut row, session);
        out.write_all(row.as_bytes())?;
    }
    out.flush()?;
    drop(out);

    Ok(Written {
        sessions: sessions.len(),
        pages: pages_written,
        sources: sources_path,
        feed_bytes,
        incumbent_bytes: fs::metadata(&incumbent)?.len(),
        csv_bytes: fs::metadata(&csv)?.len(),
    })
}

/// Checks whether a folder name is one this generator writes (`feed-01`, `feed-120`), so
/// that a re-run replaces those and nothing else.
fn is_feed_folder(name: &str) -> bool {
    name.strip_prefix("feed-")
        .is_some_and(|number| number.len() >= 2 && number.bytes().all(|b| b.is_ascii_digit()))
}

fn page_name(number: usize) -> String {
    format!("page-{number:05}.json")
}

fn openfresque_event(session: &Session) -> Value {
    let mut event = json!({
        "id": session.id,
        "workshop": session.workshop,
        "title": session.title,
        "description": session.description,
        "url": format!("https://billetterie.example.org/sessions/{}", session.id),
        "tickets_url": format!("https://billetterie.example.org/sessions/{}/inscription", session.id),
        "start": session.start.to_rfc3339(),
        "end": session.end.to_rfc3339(),
        "time_zone": session.start.timezone().name(),
        "attendance": if session.place.is_some() { "in_person" } else { "online" },
        "audience": session.audience,
        "languages": [session.language],
        "capacity": session.capacity,
        "seats_left": session.seats_left,
        "status": if session.seats_left == 0 { "sold_out" } else { "scheduled" },
        "price": if session.price == 0 {
            json!({"free": true})
        } else {
            json!({"free": false, "min": session.price, "max": session.price, "currency": "EUR"})
        },
    });
    if let Some(place) = &session.place {
        event["location"] = json!({
            "name": place.venue,
            "street": place.street,
            "postal_code": place.postal_code,
            "city": place.city,
            "country": place.country,
            "latitude": place.latitude,
            "longitude": place.longitude,
        });
    }
    event
}

/// Builds a record of the incumbent's export: flat, with string coordinates and boolean
/// flags.
fn incumbent_record(session: &Session) -> Value {
    let place = session.place.as_ref();
    let full_location = place.map_or_else(String::new, |p| {
        format!(
            "{}, {}, {} {}",
            p.venue,
            p.street,
            p.postal_code.as_deref().unwrap_or_default(),
            p.city
        )
    });
    json!({
        "id": session.id,
        "workshop_type": session.legacy_id,
        "title": session.title,
        "start_date": session.start.to_rfc3339(),
        "end_date": session.end.to_rfc3339(),
        "full_location": full_location,
        "location_name": place.map(|p| p.venue),
        "address": place.map(|p| &p.street),
        "city": place.map(|p| &p.city),
        "department": place.and_then(|p| p.admin.as_deref()),
        "zip_code": place.and_then(|p| p.postal_code.as_deref()),
        "country_code": place.map(|p| p.country.to_lowercase()),
        "latitude": place.map(|p| p.latitude.to_string()),
        "longitude": place.map(|p| p.longitude.to_string()),
        "language_code": session.language,
        "online": place.is_none(),
        "training": session.audience == "training",
        "sold_out": session.seats_left == 0,
        "kids": session.audience == "kids",
        "source_link": format!("https://billetterie.example.org/sessions/{}", session.id),
        "tickets_link": format!("https://billetterie.example.org/sessions/{}/inscription", session.id),
        "description": session.description,
    })
}

fn csv_row(row: &mut String, session: &Session) {
    let place = session.place.as_ref();
    let fields = [
        session.id.clone(),
        session.workshop.clone(),
        session.workshop_names.clone(),
        session.title.clone(),
        session.description.clone(),
        session.language.to_owned(),
        session.start.with_timezone(&Utc).to_rfc3339(),
        session.end.with_timezone(&Utc).to_rfc3339(),
        if place.is_some() {
            "in_person"
        } else {
            "online"
        }
        .to_owned(),
        session.audience.to_owned(),
        place.map(|p| p.city.clone()).unwrap_or_default(),
        place
            .and_then(|p| p.postal_code.clone())
            .unwrap_or_default(),
        place.map(|p| p.country.clone()).unwrap_or_default(),
        place.map(|p| p.latitude.to_string()).unwrap_or_default(),
        place.map(|p| p.longitude.to_string()).unwrap_or_default(),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            row.push(',');
        }
        if field.contains([',', '"', '\n']) {
            let _ = write!(row, "\"{}\"", field.replace('"', "\"\""));
        } else {
            row.push_str(field);
        }
    }
    row.push('\n');
}

/// Resolves the big cities through the gazetteer and returns them with their weights.
fn big_cities(gazetteer: &Gazetteer) -> (Vec<Candidate>, Vec<f64>) {
    CITIES
        .iter()
        .filter_map(|&(name, country, population, weight, zone)| {
            let place = gazetteer.resolve(&format!("{name}, {country}"))?;
            let zone: Tz = zone.parse().ok()?;
            let english_share = if matches!(country, "FR" | "BE" | "CH" | "LU" | "CA") {
                0.1
            } else {
                0.8
            };
            let candidate = Candidate {
                place: SessionPlace {
                    venue: VENUES[0],
                    street: String::new(),
                    city: name.to_owned(),
                    postal_code: place.postal_code,
                    admin: place.admin,
                    country: country.to_owned(),
                    latitude: place.latitude,
                    longitude: place.longitude,
                },
                zone,
                english_share,
            };
            Some((candidate, f64::from(population) * weight))
        })
        .unzip()
}

/// Lists the French towns of the gazetteer, weighted by their number of postal codes.
fn french_towns(gazetteer: &Gazetteer) -> (Vec<Candidate>, Vec<f64>) {
    gazetteer
        .listed_places("FR")
        .into_iter()
        .map(|(place, postal_count)| {
            let candidate = Candidate {
                place: SessionPlace {
                    venue: VENUES[0],
                    street: String::new(),
                    city: place.name,
                    postal_code: place.postal_code,
                    admin: place.admin,
                    country: "FR".to_owned(),
                    latitude: place.latitude,
                    longitude: place.longitude,
                },
                zone: chrono_tz::Europe::Paris,
                english_share: 0.05,
            };
            (candidate, f64::from(postal_count.max(1)))
        })
        .unzip()
}

fn round5(degrees: f64) -> f64 {
    (degrees * 1e5).round() / 1e5
}

/// Items picked at random in proportion to their weights.
struct Weighted<T> {
    items: Vec<T>,
    /// Running totals of the weights.
    cumulative: Vec<f64>,
}

impl<T> Weighted<T> {
    fn new(items: Vec<T>, weights: &[f64]) -> Self {
        let cumulative = weights
            .iter()
            .scan(0.0, |total, weight| {
                *total += weight;
                Some(*total)
            })
            .collect();
        Weighted { items, cumulative }
    }

    fn pick(&self, random: &mut SplitMix64) -> &T {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = random.unit() * total;
        let index = self.cumulative.partition_point(|&sum| sum <= target);
        &self.items[index.min(self.items.len() - 1)]
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, bound).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(count: usize) -> Vec<Session> {
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        generate(count, 7, now, &Catalog::embedded(), &Gazetteer::embedded())
    }

    #[test]
    fn generate_is_deterministic_per_seed() {
        let first = sessions(200);
        let second = sessions(200);
        let titles = |s: &[Session]| s.iter().map(|s| s.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles(&first), titles(&second));
    }

    #[test]
    fn generate_mix_matches_field_shares() {
        let sessions = sessions(10_000);
        let share = |test: &dyn Fn(&Session) -> bool| {
            sessions.iter().filter(|s| test(s)).count() as f64 / sessions.len() as f64
        };
        let online = share(&|s| s.place.is_none());
        assert!((0.08..0.12).contains(&online), "online share {online}");
        let climate = share(&|s| s.workshop == "FresqueClimat");
        assert!(climate > 0.3, "climate share {climate}");
        let paris = share(&|s| s.place.as_ref().is_some_and(|p| p.city == "Paris"));
        assert!(paris > 0.1, "Paris share {paris}");
        let english = share(&|s| s.language == "en");
        assert!((0.05..0.25).contains(&english), "English share {english}");
        let first = sessions.iter().map(|s| s.start).min().unwrap();
        let last = sessions.iter().map(|s| s.start).max().unwrap();
        assert!(last - first > Duration::days(350));
    }

    #[test]
    fn write_replaces_only_its_own_feed_folders() {
        let directory = tempfile::tempdir().unwrap();
        let mine = directory.path().join("feed-backup");
        fs::create_dir_all(&mine).unwrap();
        fs::write(mine.join("notes.txt"), "keep").unwrap();
        let stale = directory.path().join("feed-07");
        fs::create_dir_all(&stale).unwrap();

        write(directory.path(), &sessions(3), 2, &Catalog::embedded()).unwrap();

        assert!(
            mine.join("notes.txt").exists(),
            "a folder of the user's is kept"
        );
        assert!(
            !stale.exists(),
            "a feed folder of an earlier run is replaced"
        );
        assert!(directory.path().join("feed-01/page-00002.json").exists());
    }

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        let mut session = sessions(1).remove(0);
        session.title = "Atelier \"découverte\", Lyon".to_owned();
        let mut row = String::new();
        csv_row(&mut row, &session);
        assert!(
            row.contains("\"Atelier \"\"découverte\"\", Lyon\""),
            "{row}"
        );
    }
}
