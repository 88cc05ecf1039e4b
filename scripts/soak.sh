#!/usr/bin/env bash
# Soak `callflow dev` on a fresh data dir: starts the server on a free loopback port with
# throttling and the usage plan lifted and no access log, drives it with `callflow soak` (which samples the
# server's RSS every 5 s and audits every acknowledged write), then stops it with SIGINT.
#
# usage: scripts/soak.sh [CALLFLOW_BIN] [RATE] [CONCURRENCY] [DURATION] [extra soak args...]
#   CALLFLOW_BIN defaults to target/release/callflow (build: cargo build --release -p callflow-cli)
#   e.g. scripts/soak.sh target/release/callflow 400 32 5m
# CALLFLOW_DEV_ARGS: more arguments for `callflow dev`, e.g. "--embedded-fsync per-object" to
#   compare the store's flush modes, or "--lambda in-process".
# SOAK_PERF=SECONDS: record `perf` (all CPUs, call graphs) for that long once the soak is
#   under way and print where the time went by command, by binary and the top kernel symbols.
# Before the soak it times creating 1,000 small files where the store will write (printed as
#   "file system: ... per create"): the store creates about four files per event, and a file
#   system slow to allocate inodes (a full, much-churned ext4 measured 594 µs per create, tmpfs
#   17 µs) shows in the write tail, so the figures carry their file system's state.
# Exit status: that of `callflow soak` (0 consistent, 1 audit failed, 2 error).
set -euo pipefail

bin="${1:-${CARGO_TARGET_DIR:-target}/release/callflow}"
rate="${2:-300}"
concurrency="${3:-16}"
duration="${4:-60s}"
shift $(( $# < 4 ? $# : 4 ))

work="$(mktemp -d)"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -INT "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# File creation where the store writes: 1,000 creates of a small file (bash redirections, no
# processes), then their removal.
probe="$work/create-probe"
mkdir -p "$probe"
payload="$(printf 'x%.0s' {1..300})"
probe_start=$EPOCHREALTIME
for ((i = 0; i < 1000; i++)); do printf '%s' "$payload" >"$probe/f$i"; done
probe_end=$EPOCHREALTIME
rm -rf "$probe"
probe_us=$(( (10#${probe_end/./} - 10#${probe_start/./}) / 1000 ))

"$bin" dev --port 0 --data-dir "$work/data" --no-access-log \
  --throttle-rate 1000000 --throttle-burst 1000000 \
  --usage-rate 1000000 --usage-burst 1000000 --usage-quota 1000000000 ${CALLFLOW_DEV_ARGS:-} >"$work/dev.out" 2>"$work/dev.err" &
server_pid=$!

url=""
# Process mode builds stale handler binaries before it listens: allow minutes, not seconds.
for _ in $(seq 1 12000); do
  url="$(sed -n 's/^callflow dev listening on \(http:[^ ]*\).*/\1/p' "$work/dev.out" | head -n1)"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/dev.err" >&2; exit 2; }
  sleep 0.05
done
[ -n "$url" ] || { echo "callflow dev did not print its URL" >&2; exit 2; }

echo "== soak: $bin at $url, rate $rate/s, concurrency $concurrency, $duration"
echo "file system: ${probe_us} µs per create of a 300-byte file under $work"
status=0
perf_pid=""
if [ -n "${SOAK_PERF:-}" ]; then
  ( sleep 10; perf record -a -g -o "$work/perf.data" -- sleep "$SOAK_PERF" >/dev/null 2>&1 ) &
  perf_pid=$!
fi
"$bin" soak --url "$url" --token-command "$bin token --data-dir $work/data" \
  --rate "$rate" --concurrency "$concurrency" --duration "$duration" \
  --server-pid "$server_pid" "$@" || status=$?
echo "stored objects: $(find "$work/data/s3/buckets" -type f ! -name bucket.json | wc -l)"
if [ -n "$perf_pid" ]; then
  wait "$perf_pid" || true
  echo "== perf: CPU time by command"
  perf report -i "$work/perf.data" --no-children --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -12 || true
  echo "== perf: by binary"
  perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12 || true
  echo "== perf: top symbols (kernel symbols named; stripped release binaries show addresses)"
  perf report -i "$work/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25 || true
fi
exit "$status"
