#!/usr/bin/env bash
# `make fuzz`: builds the cargo fuzz targets of harness/fuzz and runs each for FUZZ_SECONDS,
# starting from its committed seeds and what earlier runs added to harness/fuzz/corpus/TARGET.
# Prints each target's executions; exits non-zero when one finds a crash, a hang (-timeout) or
# an OOM (-rss_limit_mb), whose input libFuzzer keeps in harness/fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-scenario diagnose http}"
# Apart from the workspace's target/: the fuzz build's flags (sanitizer, coverage) differ.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-fuzz}"
fuzz=(cargo +nightly fuzz)
if ! "${fuzz[@]}" --version >/dev/null 2>&1; then
  echo "make fuzz needs a nightly toolchain and cargo-fuzz:" >&2
  echo "  rustup toolchain install nightly && cargo install cargo-fuzz" >&2
  exit 2
fi

# Seeds per target (read, never written: new inputs go to the first directory, the corpus).
seeds() {
  case "$1" in
    scenario) echo "scenarios tests/broken" ;;
    diagnose) echo "tests/diagnose harness/fuzz/seeds/diagnose" ;;
    http) echo "harness/fuzz/seeds/http" ;;
  esac
}

"${fuzz[@]}" build --fuzz-dir harness/fuzz
mkdir -p harness/fuzz/logs
status=0
report=()
for t in $targets; do
  corpus="harness/fuzz/corpus/$t"
  log="harness/fuzz/logs/$t.log"
  mkdir -p "$corpus"
  dict=()
  [ -f "harness/fuzz/dicts/$t.dict" ] && dict=("-dict=harness/fuzz/dicts/$t.dict")
  echo "fuzz: $t for ${seconds} s (log: $log)"
  # shellcheck disable=SC2046 # the seed directories are words
  if "${fuzz[@]}" run --fuzz-dir harness/fuzz "$t" "$corpus" $(seeds "$t") -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    >"$log" 2>&1; then
    verdict="no crash"
  else
    status=1
    found=$(grep -m1 -oE 'Test unit written to \S+' "$log" | sed 's/Test unit written to //' || true)
    verdict="FAILED${found:+: $found}"
    grep -m1 -E '^==[0-9]+== ?ERROR|panicked at|^thread .* panicked' "$log" || tail -n 20 "$log"
  fi
  runs=$(grep -m1 -oE 'number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  rate=$(grep -m1 -oE 'average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  report+=("$(printf '%-9s %12s executions %7s exec/s   %s' "$t" "$runs" "$rate" "$verdict")")
done
echo
printf '%s\n' "${report[@]}"
exit "$status"
