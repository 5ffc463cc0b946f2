#!/usr/bin/env bash
# Benchmarks multifresque against its peers, pair by pair, in one run; prints Markdown tables.
#
#   scripts/bench.sh [SIZE ...]        default sizes: 10000 100000 1000000
#
# For each size: generate the data (`multifresque bench generate`), ingest it cold into
# multifresque, SQLite (FTS5 + R*Tree) and PostgreSQL (PostGIS + French full text), run the
# query mix in process on all three, then serve it and measure over loopback HTTP with wrk:
# multifresque against nginx serving a file of the same size, and the incumbent's
# download-everything approach against multifresque's API. See docs/benchmarks.md.
#
# Needs Debian's postgresql-15, postgresql-15-postgis-3, nginx-light and wrk; run as root
# (PostgreSQL runs as the postgres user). Everything listens on 127.0.0.1 or a Unix socket.
#
# Environment: DURATION (seconds of each wrk run, default 10), ENDURANCE (seconds at 256
# connections for the 100,000 size, default 60), WORK (scratch folder, default
# target/bench), RUNS (timed runs of each query in process, default 200; 50 at 1,000,000).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000 1000000)
duration=${DURATION:-10}
endurance=${ENDURANCE:-60}
work=$(realpath -m "${WORK:-target/bench}")
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
pg_port=5433
mf_port=18480
nginx_port=18481

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
[[ -n $pg_bin && -x $pg_bin/initdb ]] || missing+=(postgresql-15)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing+=(postgresql-15-postgis-3)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "error: missing packages; install them with: apt-get install ${missing[*]}" >&2
  exit 2
fi

mkdir -p "$work"
echo "building (release)..." >&2
cargo build --release --quiet
cargo bench --bench compare --no-run --quiet
multifresque=${CARGO_TARGET_DIR:-target}/release/multifresque
# A private folder for PostgreSQL's data and socket: the cluster trusts local connections,
# so no other user may reach it.
pg_dir=$(mktemp -d /tmp/multifresque-bench-pg.XXXXXX)
chown postgres "$pg_dir"
chmod 700 "$pg_dir"
compare() { cargo bench --quiet --bench compare -- "$@"; }

serve_pid=
cleanup() {
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null || true
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap cleanup EXIT

# PostgreSQL on a Unix socket only, tuned as for a dedicated small server. Parallel query is
# off: on 2 cores, its workers made single searches 2 to 3 times slower (EXPLAIN ANALYZE).
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w start -o \
  "-k $pg_dir -p $pg_port -c listen_addresses='' -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB -c synchronous_commit=off -c jit=off -c max_parallel_workers_per_gather=0" >/dev/null
runuser -u postgres -- "$pg_bin/createdb" -h "$pg_dir" -p "$pg_port" bench 2>/dev/null || true
postgres="host=$pg_dir port=$pg_port user=postgres dbname=bench"

# Prints "rps p50 p99 errors" from wrk's output with --latency.
wrk_summary() {
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    END { printf "%s %s %s %d\n", rps, p50, p99, errors }'
}
run_wrk() { # connections seconds url
  local threads=2
  [[ $1 -eq 1 ]] && threads=1
  wrk -t"$threads" -c"$1" -d"$2"s --latency --timeout 10s "$3" | wrk_summary
}
peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

echo "# multifresque benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "$(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(free -g | awk '/Mem:/ { print $2 }') GiB;" \
  "$(rustc --version | cut -d' ' -f1-2), $("$pg_bin/postgres" --version), PostGIS" \
  "$(runuser -u postgres -- "$pg_bin/psql" -h "$pg_dir" -p "$pg_port" -d bench -Atc "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'"), SQLite" \
  "$(grep -A1 '^name = "libsqlite3-sys"' Cargo.lock | awk -F'"' '/version/ { print "(libsqlite3-sys " $2 ")" }'), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)."

for size in "${sizes[@]}"; do
  data=$work/$size
  runs=${RUNS:-200}
  [[ $size -ge 1000000 ]] && runs=${RUNS:-50}
  echo
  echo "## $size sessions"
  echo
  "$multifresque" bench generate --events "$size" --out "$data" >&2
  chmod -R a+rX "$work"

  echo "### Cold ingest"
  echo
  compare ingest "$data" "$postgres"
  echo
  echo "### Query mix in process"
  echo
  compare query "$data" "$postgres" "$runs"

  # Serve the ingested data: the start-up fetch finds the feed unchanged.
  "$multifresque" serve --sources "$data/sources.toml" --data-dir "$data/multifresque-data" \
    --port "$mf_port" --rate-limit 0 --watch-seconds 0 2>"$work/serve-$size.log" &
  serve_pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$mf_port/healthz" >/dev/null && break
    sleep 0.2
  done

  # nginx serves the same bytes as multifresque's response, and the incumbent's file.
  query="api/v1/events?near=Lyon&radius_km=50"
  mkdir -p "$data/www"
  curl -sf "http://127.0.0.1:$mf_port/$query" -o "$data/www/same-size.json"
  ln -f "$data/incumbent.json" "$data/www/incumbent.json"
  chmod -R a+rX "$data/www"
  cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  types { application/json json; }
  gzip on;
  gzip_types application/json;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $data/www;
  }
}
CONF
  nginx -c "$work/nginx.conf"
  sleep 0.5

  echo
  echo "### The incumbent's approach: download everything, filter in the client"
  echo
  download_runs=10
  [[ $size -ge 1000000 ]] && download_runs=3
  compare download "$data" "http://127.0.0.1:$mf_port" "http://127.0.0.1:$nginx_port/incumbent.json" "$download_runs"

  echo
  echo "### HTTP on loopback, wrk, ${duration} s per run"
  echo
  echo "Response: \`GET /$query\`, $(stat -c %s "$data/www/same-size.json") bytes, uncompressed. nginx serves the same bytes from a file."
  echo
  echo "| connections | multifresque req/s | p50 | p99 | errors | nginx req/s | p50 | p99 | errors | multifresque / nginx |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for connections in 1 16 256; do
    read -r mf_rps mf_p50 mf_p99 mf_errors < <(run_wrk "$connections" "$duration" "http://127.0.0.1:$mf_port/$query")
    read -r ng_rps ng_p50 ng_p99 ng_errors < <(run_wrk "$connections" "$duration" "http://127.0.0.1:$nginx_port/same-size.json")
    share=$(awk -v a="$mf_rps" -v b="$ng_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
    echo "| $connections | $mf_rps | $mf_p50 | $mf_p99 | $mf_errors | $ng_rps | $ng_p50 | $ng_p99 | $ng_errors | $share |"
  done
  echo
  read -r mix_rps mix_p50 mix_p99 mix_errors < <(wrk -t2 -c16 -d"$duration"s --latency --timeout 10s \
    -s scripts/bench-mix.lua "http://127.0.0.1:$mf_port" | wrk_summary)
  echo "The whole query mix, cities and radii varied, 16 connections: $mix_rps req/s, p50 $mix_p50, p99 $mix_p99, $mix_errors errors."
  if [[ $size -eq 100000 && $endurance -gt 0 ]]; then
    read -r end_rps end_p50 end_p99 end_errors < <(run_wrk 256 "$endurance" "http://127.0.0.1:$mf_port/$query")
    echo
    echo "Endurance, 256 connections for $endurance s: $end_rps req/s, p50 $end_p50, p99 $end_p99, $end_errors errors."
  fi
  echo
  echo "Peak RSS of \`multifresque serve\` after the runs: $(peak_rss_mb "$serve_pid") MB."

  kill "$serve_pid"
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
  kill "$(cat "$work/nginx.pid")"
  rm -f "$work/nginx.pid"
  sleep 0.5
done
