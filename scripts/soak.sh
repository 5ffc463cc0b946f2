#!/usr/bin/env bash
# Soak test: serves generated feeds from a local server, runs `multifresque serve` over
# them with every source refreshed each minute, and loads the API with wrk for a fixed
# time, all on 127.0.0.1. Reports errors, latency percentiles and the server's memory
# over time, then stops everything it started.
#
#   scripts/soak.sh                 # 10 minutes, 4 sources of 2,500 events
#   SOAK_SECONDS=60 scripts/soak.sh # a quick check
#
# Needs wrk (apt-get install wrk), python3 and curl. Writes its files to
# $SOAK_DIR (default: a new temporary directory) and prints a Markdown summary.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TOTAL=${SOAK_SECONDS:-600}
SOURCES=${SOAK_SOURCES:-4}
EVENTS=${SOAK_EVENTS:-2500}
CONNECTIONS=${SOAK_CONNECTIONS:-32}
SAMPLE_EVERY=${SOAK_SAMPLE_SECONDS:-10}
DIR=${SOAK_DIR:-$(mktemp -d -t multifresque-soak.XXXXXX)}
mkdir -p "$DIR/feeds"

command -v wrk >/dev/null || { echo "soak: wrk is missing: apt-get install wrk" >&2; exit 2; }

echo "== building the release binary"
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/multifresque

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
FEED_PORT=$(free_port)
API_PORT=$(free_port)

# Writes every feed for one generation: each generation withdraws and adds 5% of the
# events and retitles a tenth, so each refresh stores and re-indexes something.
cat > "$DIR/generate.py" <<'PY'
import datetime, json, os, sys
out, sources, events, generation = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cities = [("Lyon", 45.764, 4.836), ("Paris", 48.857, 2.352), ("Marseille", 43.296, 5.370),
          ("Lille", 50.629, 3.057), ("Nantes", 47.218, -1.554), ("Toulouse", 43.605, 1.444),
          ("Bordeaux", 44.838, -0.579), ("Strasbourg", 48.573, 7.752), ("Grenoble", 45.188, 5.724)]
families = ["FresqueClimat", "FresqueNumerique", "FresqueBiodiversite", "FresqueOceane"]
start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=2)
turnover = events // 20
for s in range(sources):
    first = generation * turnover
    items = []
    for n in range(first, first + events):
        city, lat, lon = cities[n % len(cities)]
        begins = start + datetime.timedelta(hours=n % 4000)
        edition = generation if n % 10 == 0 else 0
        items.append({
            "id": f"e{n}", "workshop": families[n % len(families)],
            "title": f"Atelier {families[n % len(families)]} à {city} n°{n} (version {edition})",
            "description": "Trois heures pour comprendre et agir, en équipe, avec un animateur formé.",
            "start": begins.isoformat(), "end": (begins + datetime.timedelta(hours=3)).isoformat(),
            "time_zone": "Europe/Paris", "attendance": "online" if n % 13 == 0 else "in_person",
            "languages": ["fr"],
            "location": {"city": city, "country": "FR", "latitude": lat + (n % 50) / 1000, "longitude": lon},
        })
    page = {"openfresque_feed": "1", "generated_at": start.isoformat(), "next": None,
            "publisher": {"name": f"Soak {s}", "url": "https://example.org", "workshops": families},
            "events": items}
    tmp = os.path.join(out, f"source-{s}.json.tmp")
    with open(tmp, "w") as f:
        json.dump(page, f, ensure_ascii=False)
    os.replace(tmp, os.path.join(out, f"source-{s}.json"))
PY

: > "$DIR/sources.toml"
for ((s = 0; s < SOURCES; s++)); do
  cat >> "$DIR/sources.toml" <<TOML
[[source]]
id = "soak-$s"
kind = "openfresque"
url = "http://127.0.0.1:$FEED_PORT/source-$s.json"
workshop = "FresqueClimat"
schedule = "* * * * *"
time_zone = "Europe/Paris"
country = "FR"
language = "fr"

TOML
done
python3 "$DIR/generate.py" "$DIR/feeds" "$SOURCES" "$EVENTS" 0

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

python3 -m http.server "$FEED_PORT" --bind 127.0.0.1 --directory "$DIR/feeds" \
  >"$DIR/feeds.log" 2>&1 &
PIDS+=($!)

echo "== serving $((SOURCES * EVENTS)) events from $SOURCES sources on 127.0.0.1:$API_PORT"
# Rate limiting is off: every request comes from 127.0.0.1 and would share one quota.
"$BIN" serve --port "$API_PORT" --rate-limit 0 --sources "$DIR/sources.toml" \
  --data-dir "$DIR/data" 2>"$DIR/server.log" &
SERVER=$!
PIDS+=("$SERVER")

for _ in $(seq 1 600); do
  found=$(curl -sf "127.0.0.1:$API_PORT/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["searchable_events"])' 2>/dev/null || echo 0)
  [ "$found" -ge $((SOURCES * EVENTS * 9 / 10)) ] && break
  sleep 1
done
echo "== $found searchable events; loading for $SECONDS_TOTAL s with $CONNECTIONS connections"

# Every minute, half a minute after the scheduled fetches, the feeds change.
(
  generation=1
  sleep 30
  while true; do
    python3 "$DIR/generate.py" "$DIR/feeds" "$SOURCES" "$EVENTS" "$generation"
    generation=$((generation + 1))
    sleep 60
  done
) &
PIDS+=($!)

# Memory and index state every SAMPLE_EVERY seconds.
(
  echo "elapsed_s,rss_kib,searchable_events,index_generation"
  started=$(date +%s)
  while kill -0 "$SERVER" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status" 2>/dev/null || echo 0)
    health=$(curl -sf "127.0.0.1:$API_PORT/healthz" | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["searchable_events"], h["index_generation"], sep=",")' 2>/dev/null || echo ",")
    echo "$(($(date +%s) - started)),$rss,$health"
    sleep "$SAMPLE_EVERY"
  done
) >"$DIR/memory.csv" &
PIDS+=($!)

cat > "$DIR/requests.lua" <<'LUA'
-- Cycles through a mix of what the search page, the widget and other services ask.
local paths = {
  "/api/v1/events",
  "/api/v1/events?near=Lyon&radius_km=30",
  "/api/v1/events?near=69003&radius_km=10&workshop=FresqueNumerique",
  "/api/v1/events?near=Paris&sort=distance&limit=50",
  "/api/v1/events?q=climat&sort=relevance",
  "/api/v1/events?q=atelier%20equipe&near=Marseille",
  "/api/v1/events?lat=45.19&lon=5.72&radius_km=100&attendance=in_person",
  "/api/v1/events?include_online=true&near=Nantes",
  "/api/v1/events?lang=fr&offset=500&limit=100",
  "/api/v1/events?from=2030-01-01",
  "/api/v1/events/soak-0~e300",
  "/api/v1/places?q=saint-e",
  "/api/v1/places?q=69",
  "/api/v1/workshops",
  "/healthz",
}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
LUA

wrk --threads 2 --connections "$CONNECTIONS" --duration "${SECONDS_TOTAL}s" --timeout 10s \
  --latency --script "$DIR/requests.lua" "http://127.0.0.1:$API_PORT" | tee "$DIR/wrk.txt"

echo "== stopping the server with SIGTERM"
kill -TERM "$SERVER"
wait "$SERVER" && server_exit=0 || server_exit=$?

python3 - "$DIR" "$server_exit" <<'PY'
import csv, re, sys
d, server_exit = sys.argv[1], sys.argv[2]
wrk = open(f"{d}/wrk.txt").read()
log = open(f"{d}/server.log").read()
def grab(pattern, default="0"):
    m = re.search(pattern, wrk, re.M)
    return m.group(1) if m else default
rows = [r for r in csv.DictReader(open(f"{d}/memory.csv")) if r["rss_kib"] not in ("", "0")]
rss = [int(r["rss_kib"]) / 1024 for r in rows]
# The first minute contains start-up and the first index build, so drift is measured after it.
warm = [int(r["rss_kib"]) / 1024 for r in rows if int(r["elapsed_s"]) >= 60] or rss
requests = grab(r"(\d+) requests in")
duration = grab(r"requests in ([\d.]+\w+)")
rate = grab(r"Requests/sec:\s+([\d.]+)")
non_2xx = grab(r"Non-2xx or 3xx responses: (\d+)")
socket_errors = grab(r"Socket errors: (.*)", "none")
p50, p90, p99 = (grab(rf"^\s+{p}%\s+(\S+)") for p in (50, 90, 99))
stored, failed = log.count("feed stored"), log.count("fetch failed")
print()
print("| measure | value |")
print("|---|---|")
print(f"| requests | {requests} in {duration} |")
print(f"| requests per second | {rate} |")
print(f"| non-2xx answers | {non_2xx} |")
print(f"| socket errors | {socket_errors} |")
print(f"| latency p50 / p90 / p99 | {p50} / {p90} / {p99} |")
print(f"| feeds stored / failed | {stored} / {failed} |")
print(f"| memory (RSS) after 1 min / at end / max | {warm[0]:.0f} / {warm[-1]:.0f} / {max(rss):.0f} MiB |")
print(f"| memory drift after warm-up | {warm[-1] - warm[0]:+.0f} MiB |")
print(f"| server exit after SIGTERM | {server_exit} |")
print(f"\nfiles: {d}")
PY
