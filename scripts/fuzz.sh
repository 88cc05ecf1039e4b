#!/usr/bin/env bash
# Bounded fuzzing of Callflow's hostile-input boundaries with cargo-fuzz (libFuzzer + ASan).
#
# Usage: scripts/fuzz.sh [TARGET...]        (default: every target in fuzz/Cargo.toml)
# Environment:
#   FUZZ_SECONDS       seconds per target (default 20; the "longer runs" use 60 or more)
#   FUZZ_BUILD_BUDGET  seconds the build may take before the step is skipped (default 0:
#                      no limit). A cold build compiles aws-sdk-s3 and the handlers with
#                      sanitizer instrumentation (~20 min on 2 busy cores); CI should cache
#                      target/fuzz (and ~/.cargo/bin/cargo-fuzz), after which it takes seconds.
#   FUZZ_JOBS          libFuzzer -fork workers (default 0 = no fork mode)
# Needs: cargo-fuzz 0.13 (installed with `cargo install --locked` when missing; when it
# cannot be installed the step is SKIPPED with exit 0 and says so). The stable toolchain
# needs RUSTC_BOOTSTRAP=1 for the sanitizer flags cargo-fuzz passes; this script sets it.
# Corpora grow in fuzz/corpus/<target> (git-ignored), seeded from fuzz/seeds/<target>.
# Output: one line per target: executions, seconds, executions/s, corpus size, result.
# Exit status: 0 when no target crashed (or the step was skipped), 1 when one did; the
# crashing input is in fuzz/artifacts/<target>/ and `cargo fuzz run <target> <file>` replays it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/fuzz"
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
seconds="${FUZZ_SECONDS:-20}"
build_budget="${FUZZ_BUILD_BUDGET:-0}"
jobs="${FUZZ_JOBS:-0}"
export RUSTC_BOOTSTRAP=1

skip() {
  echo "fuzz: SKIPPED: $*"
  exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz not found; installing cargo-fuzz 0.13.2"
  cargo install --locked cargo-fuzz --version 0.13.2 >/dev/null 2>&1 \
    || skip "cargo-fuzz could not be installed (no registry access?)"
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd "$fuzz_dir" && cargo fuzz list --fuzz-dir "$fuzz_dir")
fi

build=(cargo fuzz build --fuzz-dir "$fuzz_dir" --target-dir "$target_dir")
started=$(date +%s)
budget=()
[ "$build_budget" -gt 0 ] && budget=(timeout "$build_budget")
set +e
(cd "$fuzz_dir" && "${budget[@]}" "${build[@]}")
status=$?
set -e
if [ "$status" -eq 124 ] && [ "$build_budget" -gt 0 ]; then
  skip "building the fuzz targets took longer than ${build_budget}s (cold cache?)"
elif [ "$status" -ne 0 ]; then
  echo "fuzz: build failed (exit $status)" >&2
  exit 2
fi
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - started))s"

failed=0
for target in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus/$target"
  seeds="$fuzz_dir/seeds/$target"
  log="$target_dir/fuzz-$target.log"
  mkdir -p "$corpus" "$seeds"
  flags=(-max_total_time="$seconds" -print_final_stats=1)
  [ "$jobs" -gt 0 ] && flags+=(-fork="$jobs" -ignore_crashes=0)
  t0=$(date +%s)
  set +e
  (cd "$fuzz_dir" && cargo fuzz run --fuzz-dir "$fuzz_dir" --target-dir "$target_dir" \
    "$target" "$corpus" "$seeds" -- "${flags[@]}") >"$log" 2>&1
  status=$?
  set -e
  elapsed=$(($(date +%s) - t0))
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tr -d '#' | tail -1 || true)
  runs=${runs:-0}
  files=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="CRASH (exit $status; see $log and fuzz/artifacts/$target/)"
    failed=1
    grep -m3 -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | sed 's/^/    /' || true
  fi
  printf 'fuzz: %-20s %12s execs %4ss %10s execs/s corpus %5s  %s\n' \
    "$target" "$runs" "$elapsed" "$((runs / (elapsed > 0 ? elapsed : 1)))" "$files" "$result"
done
exit "$failed"
