#!/usr/bin/env bash
# Whole-process benchmark of `callflow synth` in release mode: one stack and 100 copies.
# Prints wall time (median of N runs) and peak RSS. Usage: scripts/bench-synth.sh [runs]
# CALLFLOW_BIN=path measures that binary instead of building one (to compare builds in one run).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
bin="${CALLFLOW_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet -p callflow-cli
  bin="${CARGO_TARGET_DIR:-target}/release/callflow"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 100 environments of the committed configuration under [[stack]].
body="$(grep -v -e '^stack_name' -e '^environment' callflow.toml | sed 's/^\[\([a-z_]*\)\]$/[stack.\1]/')"
for i in $(seq -w 0 99); do
  printf '[[stack]]\nstack_name = "callflow-%s"\nenvironment = "env%s"\n%s\n' "$i" "$i" "$body"
done > "$work/100.toml"

measure() { # label config
  local label="$1" config="$2" times=() rss=0
  for _ in $(seq "$runs"); do
    rm -rf "$work/out"
    local start end peak
    start=$(date +%s%N)
    peak=$( { /usr/bin/time -f '%M' "$bin" synth --config "$config" --out "$work/out" >/dev/null; } 2>&1 | tail -1)
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000 )))
    [ "$peak" -gt "$rss" ] && rss=$peak
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  awk -v l="$label" -v m="$median" -v r="$rss" -v n="$runs" \
    'BEGIN { printf "%-10s wall p50 %6.1f ms  peak RSS %5.1f MB  (%s runs)\n", l, m / 1000, r / 1024, n }'
}
measure "1 stack" callflow.toml
measure "100 stacks" "$work/100.toml"
