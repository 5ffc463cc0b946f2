#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: starts multifresque over the bundled example feeds
# on a free loopback port, photographs the search page and the widget in headless
# Chromium, then stops the server. Needs Debian's chromium and `npm ci` in tests/browser.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet
binary="${CARGO_TARGET_DIR:-target}/debug/multifresque"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 100); do
  events=$(curl -s "http://127.0.0.1:$port/healthz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["searchable_events"])' 2>/dev/null || echo 0)
  [ "$events" -gt 0 ] && break
  sleep 0.2
done
sleep 1 # let the other sources finish their first fetch

mkdir -p docs/screenshots
node tests/browser/screenshots.mjs "http://127.0.0.1:$port" docs/screenshots
