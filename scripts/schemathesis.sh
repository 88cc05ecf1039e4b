#!/usr/bin/env bash
# Property-based API testing of `callflow dev` against openapi/openapi.yaml with schemathesis.
#
# Usage: scripts/schemathesis.sh [VENV_DIR] [MAX_EXAMPLES] [MAX_SECONDS]
#   VENV_DIR      Python venv holding schemathesis (created and filled if missing);
#                 default: $CALLFLOW_VENV or /root/.cache/callflow-venv
#   MAX_EXAMPLES  test cases per operation and phase (default 50)
#   MAX_SECONDS   time budget of the whole run (default 300)
# Environment:
#   CALLFLOW_BIN  the callflow binary (default: target/debug/callflow, built if missing)
#
# Starts `callflow dev` on a free port with a temporary data dir, gets a token with
# `callflow token`, runs schemathesis with the checks "no 5xx" and response conformance
# (status code, content type, headers, body schema), prints the number of generated test
# cases, stops the server with Ctrl-C, and exits non-zero when schemathesis found failures.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${CALLFLOW_VENV:-/root/.cache/callflow-venv}}"
MAX_EXAMPLES="${2:-50}"
MAX_SECONDS="${3:-300}"
BIN="${CALLFLOW_BIN:-$ROOT/target/debug/callflow}"

if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  echo "installing schemathesis into $VENV" >&2
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet schemathesis
fi
"$VENV/bin/schemathesis" --version >&2

if [[ ! -x "$BIN" ]]; then
  echo "building callflow" >&2
  (cd "$ROOT" && cargo build -p callflow-cli)
fi

WORK="$(mktemp -d)"
DEV_PID=""
cleanup() {
  if [[ -n "$DEV_PID" ]] && kill -0 "$DEV_PID" 2>/dev/null; then
    kill -INT "$DEV_PID" 2>/dev/null || true
    wait "$DEV_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Throttling is raised so that the run exercises the handlers, not the token bucket.
"$BIN" dev --port 0 --data-dir "$WORK/data" --no-access-log \
  --throttle-burst 100000 --throttle-rate 100000 >"$WORK/dev.out" 2>"$WORK/dev.err" &
DEV_PID=$!

# Up to 10 minutes: in process mode `callflow dev` first rebuilds handler binaries older than
# their sources, and prints its URL only when they are ready.
URL=""
for _ in $(seq 1 6000); do
  URL="$(sed -n 's/^callflow dev listening on //p' "$WORK/dev.out" | head -n1)"
  [[ -n "$URL" ]] && break
  if ! kill -0 "$DEV_PID" 2>/dev/null; then
    echo "callflow dev exited:" >&2
    cat "$WORK/dev.err" >&2
    exit 2
  fi
  sleep 0.1
done
if [[ -z "$URL" ]]; then
  echo "callflow dev did not print its URL" >&2
  exit 2
fi
echo "callflow dev at $URL" >&2

TOKEN="$("$BIN" token --data-dir "$WORK/data" --scope events:read --scope events:write | tail -n1)"

set +e
"$VENV/bin/schemathesis" run "$ROOT/openapi/openapi.yaml" \
  --url "$URL" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_SECONDS" \
  --seed "${SCHEMATHESIS_SEED:-20261101}" \
  --no-color \
  --report ndjson --report-ndjson-path "$WORK/events.ndjson"
STATUS=$?
set -e

CASES="$("$VENV/bin/python" - "$WORK/events.ndjson" <<'PY'
import json, sys
cases = 0
for line in open(sys.argv[1], encoding="utf-8"):
    event = json.loads(line)
    for kind, body in event.items():
        if kind == "ScenarioFinished":
            recorder = body.get("recorder") or {}
            cases += len(recorder.get("cases") or {})
print(cases)
PY
)" || CASES="unknown"
echo "schemathesis: $CASES generated test cases, exit status $STATUS"
if grep -q '"level":"ERROR"' "$WORK/dev.err"; then
  echo "handler errors logged by callflow dev:" >&2
  grep '"level":"ERROR"' "$WORK/dev.err" | head -n 20 >&2
fi
exit "$STATUS"
