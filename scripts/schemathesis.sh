#!/usr/bin/env bash
# Checks the served OpenAPI document and fuzzes the API with schemathesis.
#
# Builds the debug binary, starts `multifresque serve` on a free loopback port over the
# bundled sources.toml and a temporary data directory, waits until the example events are
# indexed, validates /api/openapi.json with openapi-spec-validator, then runs schemathesis
# against it. Exits non-zero on any schemathesis failure (a 5xx answer included).
#
# The Python tools go into a virtual environment, by default target/schemathesis-venv.
# Environment: MULTIFRESQUE_VENV (venv path), SCHEMATHESIS_EXAMPLES (examples per
# operation, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VALIDATOR_VERSION=0.9.0
target_dir=${CARGO_TARGET_DIR:-target}
venv=${MULTIFRESQUE_VENV:-$target_dir/schemathesis-venv}
examples=${SCHEMATHESIS_EXAMPLES:-60}

if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
fi

cargo build --quiet --locked --bin multifresque
data=$(mktemp -d)
log=$(mktemp)
cleanup() {
    if [ -n "${server:-}" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$data" "$log"
}
trap cleanup EXIT

# Rate limiting is off (--rate-limit 0): every request comes from one address, and 429s
# would hide the answers under test.
env -u MULTIFRESQUE_ADMIN_TOKEN RUST_LOG=multifresque=info \
    "$target_dir/debug/multifresque" --log-format json serve --port 0 --bind 127.0.0.1 \
    --rate-limit 0 --sources sources.toml --data-dir "$data" 2>"$log" &
server=$!

# The "serving" log line carries the port that the server picked.
address=""
for _ in $(seq 1 300); do
    address=$(grep -m1 '"serving"' "$log" | sed -E 's/.*"address":"([^"]+)".*/\1/' || true)
    [ -n "$address" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log"; echo "multifresque exited early" >&2; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { cat "$log"; echo "multifresque did not start" >&2; exit 1; }
base="http://$address"
for _ in $(seq 1 300); do
    events=$(curl -sf "$base/healthz" | sed -E 's/.*"searchable_events":([0-9]+).*/\1/' || echo 0)
    [ "${events:-0}" -gt 50 ] && break
    sleep 0.1
done
echo "multifresque serves $events events at $base"

schema=$(mktemp --suffix=.json)
curl -sf "$base/api/openapi.json" -o "$schema"
"$venv/bin/openapi-spec-validator" "$schema"
rm -f "$schema"

# positive_data_acceptance is left out because a schema cannot say that `near` must name a
# known place or that `to` must follow `from`, so some schema-valid values rightly get a 400.
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --max-examples "$examples" \
    --seed 4 \
    --workers 2 \
    --phases examples,coverage,fuzzing \
    --suppress-health-check too_slow,filter_too_much \
    --warnings off
