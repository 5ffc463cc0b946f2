#!/usr/bin/env bash
# Fuzzes the feed adapters and the search query-string parser with cargo-fuzz (libFuzzer),
# each target for a bounded time, then prints a Markdown table of what ran.
#
#   scripts/fuzz.sh                          # every target, 300 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh adapter_ics
#
# Targets: adapter_openfresque, adapter_ics, adapter_tuf, adapter_jsonld and
# event_search_params (see fuzz/fuzz_targets/). Corpora grow in fuzz/corpus/TARGET, seeded
# from examples/feeds/; crashes land in fuzz/artifacts/TARGET/. Copy each crash into
# tests/fuzz-regressions/TARGET/ so `cargo test --test fuzz_regressions` replays it forever.
#
# cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=address and others).
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, so no nightly is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-300}
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(adapter_openfresque adapter_ics adapter_tuf adapter_jsonld event_search_params)
fi
export RUSTC_BOOTSTRAP=1
# The fuzz crate has its own target directory: its flags differ from the main build's.
unset CARGO_TARGET_DIR

if ! command -v cargo-fuzz >/dev/null; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

seed() {
  local target=$1 dir=fuzz/corpus/$1
  mkdir -p "$dir"
  case $target in
    adapter_openfresque)
      cp examples/feeds/fresque-du-climat-*.json examples/feeds/collectif-fresques-lyon.json "$dir/" ;;
    adapter_tuf) cp examples/feeds/trouver-une-fresque-export.json "$dir/" ;;
    adapter_jsonld)
      cp examples/feeds/*.html "$dir/"
      if [ -d ../shared/data/real-feeds/jsonld ]; then cp ../shared/data/real-feeds/jsonld/* "$dir/" 2>/dev/null || true; fi ;;
    adapter_ics)
      cp examples/feeds/*.ics "$dir/"
      if [ -d ../shared/data/real-feeds/ics ]; then cp ../shared/data/real-feeds/ics/*.ics "$dir/" 2>/dev/null || true; fi ;;
    event_search_params)
      local n=0
      for query in "near=Lyon&radius_km=30&limit=3" "near=69003&radius_km=10&workshop=FresqueNumerique&limit=1" \
        "q=climat&sort=relevance" "lat=45.76&lon=4.83&radius_km=unlimited&sort=distance" \
        "workshop=FresqueClimat,FresqueNumerique&lang=fr,en&country=FR&audience=kids&attendance=online" \
        "from=2027-03-14&to=2027-03-15T18:00:00%2B01:00&offset=20&limit=100&include_online=true"; do
        printf '%s' "$query" > "$dir/seed-$n"
        n=$((n + 1))
      done ;;
  esac
}

options() {
  case $1 in
    adapter_ics) echo "-dict=fuzz/dict/ics.dict -max_len=65536" ;;
    event_search_params) echo "-dict=fuzz/dict/event_search_params.dict -max_len=2048" ;;
    *) echo "-dict=fuzz/dict/json.dict -max_len=65536" ;;
  esac
}

echo "== building the fuzz targets"
cargo fuzz build -O

SUMMARY=()
for target in "${TARGETS[@]}"; do
  seed "$target"
  log=fuzz/artifacts/$target.log
  mkdir -p "fuzz/artifacts/$target"
  echo "== fuzzing $target for $SECONDS_PER_TARGET s"
  # shellcheck disable=SC2046
  if cargo fuzz run -O "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 $(options "$target") \
      >"$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log)"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  crashes=$(find "fuzz/artifacts/$target" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)
  SUMMARY+=("| \`$target\` | $SECONDS_PER_TARGET | ${runs:-?} | ${speed:-?} | $corpus | $crashes | $result |")
done

echo
echo "| target | seconds | inputs run | inputs/s | corpus files | crash files | result |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${SUMMARY[@]}"
