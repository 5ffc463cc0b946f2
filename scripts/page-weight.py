#!/usr/bin/env python3
"""Measures what a participant downloads for the first page of results, against the
incumbent's approach of shipping every future event in one JSON array.

For each size, generates that many future sessions (the spread of benches/pipeline.rs:
15 cities weighted by population, the 43 catalog families, 10% online), writes them
 - as an OpenFresque feed, served by `multifresque serve` on a loopback port, whose search
   page near Lyon is then fetched with `curl --compressed`, with every asset it links;
 - as the incumbent's record array (one JSON object per session, its field names), whose
   size is measured raw and gzip-compressed (level 6, the usual server default).

Usage: scripts/page-weight.py [--binary PATH] [SIZE ...]   (default sizes: 2000 5000 20000)
"""

import argparse
import gzip
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
CITIES = [
    ("Paris", "75011", "75", 48.8566, 2.3522, 30),
    ("Lyon", "69003", "69", 45.7640, 4.8357, 12),
    ("Marseille", "13001", "13", 43.2965, 5.3698, 10),
    ("Toulouse", "31000", "31", 43.6047, 1.4442, 8),
    ("Nantes", "44000", "44", 47.2184, -1.5536, 7),
    ("Bordeaux", "33000", "33", 44.8378, -0.5792, 7),
    ("Lille", "59000", "59", 50.6292, 3.0573, 7),
    ("Grenoble", "38000", "38", 45.1885, 5.7245, 5),
    ("Rennes", "35000", "35", 48.1173, -1.6778, 5),
    ("Strasbourg", "67000", "67", 48.5734, 7.7521, 5),
    ("Montpellier", "34000", "34", 43.6108, 3.8767, 5),
    ("Villeurbanne", "69100", "69", 45.7719, 4.8902, 3),
    ("Saint-Étienne", "42000", "42", 45.4397, 4.3872, 3),
    ("Genève", "1205", "GE", 46.2044, 6.1432, 3),
    ("Bruxelles", "1000", None, 50.8503, 4.3517, 3),
]
TITLES = ["Atelier découverte", "Session ouverte à tous", "Formation à l'animation",
          "Atelier pour enfants", "Workshop in English", "Atelier en entreprise"]
DESCRIPTION = ("Trois heures pour comprendre les enjeux et passer à l'action, en groupe, "
               "avec un animateur formé.")
SEARCH = "/?near=Lyon&radius_km=25"


def catalog():
    rows = (REPOSITORY / "data" / "workshops.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(int(c[0]) if c[0] else None, c[1]) for c in (r.split("\t") for r in rows if r.strip())]


def sessions(size):
    families = catalog()
    weights = sum(c[5] for c in CITIES)
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    for i in range(size):
        pick = (i * 2_654_435_761) % 2**32 % weights
        for city in CITIES:
            if pick < city[5]:
                break
            pick -= city[5]
        legacy_id, code = families[i % len(families)]
        at = start + timedelta(minutes=(i * 7_919) % (365 * 24 * 60))
        jitter = ((i % 100) - 50) / 2_000
        yield i, city, legacy_id, code, at, i % 10 == 0, jitter


def openfresque_event(i, city, code, at, online, jitter):
    name, postal_code, _, lat, lon, _ = city
    event = {
        "id": f"e{i}", "workshop": code, "title": f"{TITLES[i % len(TITLES)]} – {code} à {name}",
        "description": DESCRIPTION, "start": at.isoformat(), "end": (at + timedelta(hours=3)).isoformat(),
        "time_zone": "Europe/Paris", "attendance": "online" if online else "in_person",
        "languages": ["en" if i % 7 == 0 else "fr"], "capacity": 14, "seats_left": i % 15,
        "tickets_url": f"https://tickets.example.org/e{i}",
    }
    if not online:
        event["location"] = {"name": "Maison des associations", "city": name,
                             "postal_code": postal_code, "latitude": lat + jitter,
                             "longitude": lon - jitter}
    return event


def incumbent_record(i, city, legacy_id, at, online, jitter):
    name, postal_code, department, lat, lon, _ = city
    title = f"{TITLES[i % len(TITLES)]} à {name}"
    return {
        "id": f"{legacy_id}-{i}", "workshop_type": legacy_id, "title": title,
        "description": DESCRIPTION, "start_date": at.isoformat(),
        "end_date": (at + timedelta(hours=3)).isoformat(), "online": online,
        "training": i % 6 == 2, "kids": i % 6 == 3, "sold_out": i % 15 == 0,
        "full_location": "" if online else f"Maison des associations, {postal_code} {name}",
        "location_name": "" if online else "Maison des associations",
        "address": "", "city": "" if online else name, "department": None if online else department,
        "zip_code": "" if online else postal_code, "country_code": "be" if name == "Bruxelles" else "ch" if name == "Genève" else "fr",
        "latitude": "" if online else f"{lat + jitter:.6f}", "longitude": "" if online else f"{lon - jitter:.6f}",
        "language_code": "en" if i % 7 == 0 else "fr",
        "source_link": f"https://tickets.example.org/e{i}", "tickets_link": f"https://tickets.example.org/e{i}",
        "scrape_date": datetime.now(timezone.utc).isoformat(),
    }


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def downloaded_bytes(url):
    """Bytes on the wire for one URL, as curl counts them with compression accepted."""
    result = subprocess.run(["curl", "-s", "--compressed", "-o", "/dev/null", "-w", "%{size_download}", url],
                            check=True, capture_output=True, text=True)
    return int(result.stdout)


def measure(binary, size, workdir):
    rows = list(sessions(size))
    events = [openfresque_event(i, city, code, at, online, jitter) for i, city, _, code, at, online, jitter in rows]
    pages = [events[k:k + 5_000] for k in range(0, len(events), 5_000)]
    for number, chunk in enumerate(pages, start=1):
        following = f"feed-{number + 1}.json" if number < len(pages) else None
        page = {"openfresque_feed": "1", "publisher": {"name": "Weight", "url": "https://example.org"},
                "generated_at": datetime.now(timezone.utc).isoformat(), "next": following, "events": chunk}
        (workdir / f"feed-{number}.json").write_text(json.dumps(page), encoding="utf-8")
    (workdir / "sources.toml").write_text(
        '[[source]]\nid = "weight"\nkind = "openfresque"\nurl = "feed-1.json"\nworkshop = "FresqueClimat"\n'
        'time_zone = "Europe/Paris"\ncountry = "FR"\nlanguage = "fr"\n', encoding="utf-8")
    incumbent = json.dumps([incumbent_record(i, city, legacy, at, online, jitter)
                            for i, city, legacy, _, at, online, jitter in rows], ensure_ascii=False).encode()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(workdir / "serve.log", "w") as log:
        server = subprocess.Popen([binary, "serve", "--port", str(port), "--sources", str(workdir / "sources.toml"),
                                   "--data-dir", str(workdir / "data")], stdout=log, stderr=log)
    try:
        for _ in range(600):
            try:
                health = subprocess.run(["curl", "-s", base + "/healthz"], capture_output=True, text=True).stdout
                if json.loads(health)["searchable_events"] >= size:
                    break
            except (ValueError, KeyError):
                pass
            time.sleep(0.2)
        html = subprocess.run(["curl", "-s", base + SEARCH], check=True, capture_output=True, text=True).stdout
        assets = sorted(set(a.replace("&amp;", "&") for a in re.findall(r'"(/static/[^"]+)"', html)))
        page = downloaded_bytes(base + SEARCH)
        sizes = {asset: downloaded_bytes(base + asset) for asset in assets}
    finally:
        server.terminate()
        server.wait()
    leaflet = sum(v for k, v in sizes.items() if "leaflet" in k)
    phone = page + sum(sizes.values()) - leaflet
    return {"size": size, "page": page, "phone": phone, "desktop": phone + leaflet,
            "incumbent_raw": len(incumbent), "incumbent_gzip": len(gzip.compress(incumbent, 6)),
            "assets": sizes}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "multifresque"))
    parser.add_argument("sizes", nargs="*", type=int, default=[2_000, 5_000, 20_000])
    arguments = parser.parse_args()

    print("| future sessions | multifresque: results page | + CSS, JS (phone) | + Leaflet (desktop) "
          "| incumbent: JSON array, raw | incumbent: gzip |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in arguments.sizes:
        with tempfile.TemporaryDirectory() as directory:
            r = measure(arguments.binary, size, Path(directory))
        kib = lambda n: f"{n / 1024:,.1f} KiB"
        print(f"| {size:,} | {kib(r['page'])} | {kib(r['phone'])} | {kib(r['desktop'])} "
              f"| {kib(r['incumbent_raw'])} | {kib(r['incumbent_gzip'])} |")
        sys.stdout.flush()
    print("\nassets of the last run (bytes on the wire):", json.dumps(r["assets"], indent=1))


if __name__ == "__main__":
    main()
