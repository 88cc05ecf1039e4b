#!/usr/bin/env bash
# Whole-process benchmark of `callflow synth` in release mode: one stack and 100 copies.
# Prints wall time (median, min, p90 of N runs) and peak RSS.
#
# Usage: scripts/bench-synth.sh [--against-cdktf] [runs]
# CALLFLOW_BIN=path measures that binary instead of building the installed form with
# scripts/build-cli.sh. BASELINE_BIN=path also runs that binary (an earlier build),
# interleaved run by run with callflow, and prints its figures as a multiple of callflow's:
# before and after a change in one run.
# --against-cdktf also runs the cdktf 0.21.0 peer in bench/cdktf-peer (installed with `npm ci`
#   when its node_modules is missing) in both of its modes, typed (@cdktf/provider-aws classes)
#   and generic (TerraformResource subclasses), interleaved with callflow run by run so machine
#   load hits all alike; checks first that the peer declares the same stacks (same addresses,
#   variables, locals, outputs; for one stack also the same bodies); then prints the ratio
#   cdktf/callflow per case. CDKTF_RUNS=n runs the peer fewer times than callflow (it is slow at
#   100 stacks); the table says how many runs each figure is from.
set -euo pipefail
cd "$(dirname "$0")/.."
against_cdktf=0
if [ "${1:-}" = "--against-cdktf" ]; then
  against_cdktf=1
  shift
fi
runs="${1:-20}"
cdktf_runs="${CDKTF_RUNS:-$runs}"
[ "$cdktf_runs" -gt "$runs" ] && cdktf_runs=$runs
bin="${CALLFLOW_BIN:-}"
baseline_bin="${BASELINE_BIN:-}"
if [ -z "$bin" ]; then
  # The executable as installed: statically linked on Linux/glibc (scripts/build-cli.sh).
  scripts/build-cli.sh --profile release
  bin="${CARGO_TARGET_DIR:-target}/static/callflow"
fi
peer=bench/cdktf-peer
if [ "$against_cdktf" = 1 ] && [ ! -d "$peer/node_modules" ]; then
  (cd "$peer" && npm ci --prefer-offline --no-audit --no-fund)
fi
# Outputs go to a tmpfs when there is one (BENCH_TMPDIR overrides): both tools write the same
# files, and on a virtual disk with `discard` the previous run's deletions make the next
# run's mkdir/creat cost milliseconds, which would measure the disk, not the tools.
bench_tmp="${BENCH_TMPDIR:-}"
if [ -z "$bench_tmp" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then bench_tmp=/dev/shm; fi
work="$(mktemp -d ${bench_tmp:+-p "$bench_tmp"})"
echo "outputs under $work"
trap 'rm -rf "$work"' EXIT

# 100 environments of the committed configuration under [[stack]]: its tables ([jwt]) and their
# arrays of tables ([[usage_plan.tiers]]) move under the stack; [[providers]] stays global.
body="$(grep -v -e '^stack_name' -e '^environment' callflow.toml |
  sed -e 's/^\[\([a-z_]*\)\]$/[stack.\1]/' -e 's/^\[\[\([a-z_]*\.[a-z_.]*\)\]\]$/[[stack.\1]]/')"
for i in $(seq -w 0 99); do
  printf '[[stack]]\nstack_name = "callflow-%s"\nenvironment = "env%s"\n%s\n' "$i" "$i" "$body"
done > "$work/100.toml"

# The command of a tool for a case, into cmd: tool ∈ callflow, cdktf-typed, cdktf-generic;
# stacks ∈ 1, 100.
command_of() { # tool stacks out
  local tool="$1" stacks="$2" out="$3" config=callflow.toml
  [ "$stacks" = 100 ] && config="$work/100.toml"
  case "$tool" in
    callflow) cmd=("$bin" synth --config "$config" --out "$out") ;;
    baseline) cmd=("$baseline_bin" synth --config "$config" --out "$out") ;;
    cdktf-typed) cmd=(node "$peer/main.js" --stacks "$stacks" --out "$out") ;;
    cdktf-generic) cmd=(node "$peer/main.js" --generic --stacks "$stacks" --out "$out") ;;
  esac
}

declare -A times rss
run_once() { # tool stacks: one timed run, appended to times[tool stacks], max into rss[...]
  local key="$1 $2" start end peak
  rm -rf "$work/out"
  command_of "$1" "$2" "$work/out"
  # Wall time of the process alone: the shell's clock around a direct fork+exec (no
  # `date`, `time` or subshell processes in the interval, which cost milliseconds, more
  # than a one-stack synth itself).
  start=$EPOCHREALTIME
  "${cmd[@]}" >/dev/null
  end=$EPOCHREALTIME
  times[$key]="${times[$key]:-} $(( 10#${end/./} - 10#${start/./} ))"
  # Peak RSS from one more, untimed run under /usr/bin/time (once per case).
  if [ -z "${rss[$key]:-}" ]; then
    rm -rf "$work/out"
    peak=$( { /usr/bin/time -f '%M' "${cmd[@]}" >/dev/null; } 2>&1 | tail -1)
    rss[$key]=$peak
  fi
  return 0
}

stats() { # tool stacks → "count p50 min p90 rss" (µs, KB)
  local key="$1 $2"
  # shellcheck disable=SC2086
  printf '%s\n' ${times[$key]} | sort -n | awk -v r="${rss[$key]}" '
    { v[NR] = $1 }
    END { p50 = int((NR + 1) / 2); p90 = int(NR * 0.9 + 0.999999); if (p90 < 1) p90 = 1
          print NR, v[p50], v[1], v[p90], r }'
}

tools=(callflow)
[ -n "$baseline_bin" ] && tools+=(baseline)
if [ "$against_cdktf" = 1 ]; then
  tools+=(cdktf-typed cdktf-generic)
  for stacks in 1 100; do
    flags=()
    [ "$stacks" = 1 ] && flags=(--bodies)
    command_of callflow "$stacks" "$work/ref"
    "${cmd[@]}" >/dev/null
    for tool in cdktf-typed cdktf-generic; do
      command_of "$tool" "$stacks" "$work/peer"
      "${cmd[@]}"
      printf '%-13s %3s stack(s): ' "$tool" "$stacks"
      node "$peer/check.js" "$work/ref" "$work/peer" "${flags[@]}"
      rm -rf "$work/peer"
    done
    rm -rf "$work/ref"
  done
fi

for stacks in 1 100; do
  for i in $(seq "$runs"); do
    for tool in "${tools[@]}"; do
      case "$tool" in
        callflow | baseline) run_once "$tool" "$stacks" ;;
        *) [ "$i" -le "$cdktf_runs" ] && run_once "$tool" "$stacks" ;;
      esac
    done
  done
done

if [ "$against_cdktf" = 0 ]; then
  for stacks in 1 100; do
    read -r _ base_p50 _ _ _ <<<"$(stats callflow "$stacks")"
    for tool in "${tools[@]}"; do
      read -r n p50 min p90 peak <<<"$(stats "$tool" "$stacks")"
      label="$stacks stack"; [ "$stacks" = 100 ] && label="100 stacks"
      awk -v l="$label" -v t="$tool" -v m="$p50" -v lo="$min" -v hi="$p90" -v r="$peak" -v n="$n" \
        -v bm="$base_p50" 'BEGIN {
          printf "%-10s %-8s wall p50 %6.1f ms  min %6.1f  p90 %6.1f  peak RSS %5.1f MB  (%s runs)",
                 l, t, m / 1000, lo / 1000, hi / 1000, r / 1024, n
          if (t != "callflow") printf "  %.2fx callflow", m / bm
          printf "\n" }'
    done
  done
  exit 0
fi

echo
echo "whole process, wall ms (p50 / min / p90) and peak RSS; ratios cdktf/callflow of p50 wall and peak RSS"
echo "cdktf peer: cdktf $(node -p "require('./$peer/node_modules/cdktf/package.json').version"), @cdktf/provider-aws $(node -p "require('./$peer/node_modules/@cdktf/provider-aws/package.json').version"), node $(node --version); callflow: $bin"
printf '%-10s %-14s %4s %10s %10s %10s %9s %9s %9s\n' case tool runs "p50 ms" "min ms" "p90 ms" "RSS MB" "x wall" "x RSS"
for stacks in 1 100; do
  label="$stacks stack"; [ "$stacks" = 100 ] && label="100 stacks"
  read -r _ base_p50 _ _ base_rss <<<"$(stats callflow "$stacks")"
  for tool in "${tools[@]}"; do
    read -r n p50 min p90 peak <<<"$(stats "$tool" "$stacks")"
    awk -v l="$label" -v t="$tool" -v n="$n" -v m="$p50" -v lo="$min" -v hi="$p90" -v r="$peak" \
      -v bm="$base_p50" -v br="$base_rss" -v self="$([ "$tool" = callflow ] && echo 1 || echo 0)" 'BEGIN {
        printf "%-10s %-14s %4d %10.1f %10.1f %10.1f %9.1f", l, t, n, m / 1000, lo / 1000, hi / 1000, r / 1024
        if (self) { printf "\n"; exit }
        x = m / bm; printf (x < 100 ? " %8.1fx" : " %8.0fx"), x; printf " %8.1fx\n", r / br }'
  done
done
[ "$cdktf_runs" -lt "$runs" ] && echo "(cdktf peer: $cdktf_runs runs per case, callflow: $runs — CDKTF_RUNS)"
exit 0
