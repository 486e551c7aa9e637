#!/usr/bin/env bash
# Fuzzes baton's HTTP API from its own OpenAPI document with schemathesis: starts a
# fresh `baton serve` on a free port over a temporary store, points schemathesis at
# /openapi.json with the admin key, and runs every check (`--checks all`): responses
# conform to the documented schemas and status codes, and no operation accepts what
# its documented schema rejects (negative data rejection) or refuses what it allows
# (positive data acceptance). Exit status: schemathesis's.
#
#   scripts/fuzz-openapi.sh [--max-examples N] [--baton BIN] [-- SCHEMATHESIS ARGS...]
#
# Defaults: 25 examples per operation, the debug binary under $CARGO_TARGET_DIR
# (or ./target). schemathesis is installed (pinned) into a virtualenv at
# $BATON_FUZZ_VENV (default /var/tmp/baton-fuzz-venv) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
max_examples=25
baton="${CARGO_TARGET_DIR:-target}/debug/baton"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) max_examples="$2"; shift 2 ;;
    --baton) baton="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -x "$baton" ] || { echo "no baton binary at $baton (cargo build first, or --baton BIN)" >&2; exit 2; }

venv="${BATON_FUZZ_VENV:-/var/tmp/baton-fuzz-venv}"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
admin="fuzz-admin-key-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkfifo "$work/stdout"
BATON_ADMIN_KEY="$admin" RUST_LOG=warn "$baton" serve --listen 127.0.0.1:0 --data-dir "$work/data" \
  >"$work/stdout" 2>"$work/serve.log" &
server_pid=$!
exec 3<"$work/stdout"
read -r -t 60 first <&3 || { echo "baton serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
# Keep draining stdout so the server never blocks on a full pipe.
cat <&3 >/dev/null &
base="${first#listening on }"
echo "fuzzing $base (schemathesis $SCHEMATHESIS_VERSION, $max_examples examples per operation)"

# Something for the examples to find: conv-1 (the schema's example conversation id)
# with a message and an NLU reading, and agent ana.
seed() {
  curl -sf -X "$1" "$base$2" -H "Authorization: Bearer $admin" -H 'content-type: application/json' \
    -d "$3" >/dev/null
}
seed POST /v1/conversations/conv-1/events \
  '{"events": [{"id": "m1", "type": "customer_message", "text": "I was charged twice"},
               {"id": "n1", "type": "nlu", "intent": "billing.double_charge", "confidence": 0.64}]}'
seed PUT /v1/agents/ana '{"skills": {"billing": 3}, "capacity": 2}'

# Every check but `ignored_auth`: it calls every operation without a key and with
# made-up ones, which trips baton's failed-authentication limit (10 per address,
# docs/security.md) within seconds and turns every later answer into a 429. That every
# route refuses no key and a revoked key is the BOLA matrix's "no key" and "revoked
# key" columns, which crates/baton-server/tests/it/bola.rs calls route by route.
status=0
config="$PWD/scripts/schemathesis.toml"
# From the scratch directory, so its cache (.schemathesis/) stays out of the clone.
(cd "$work" && "$venv/bin/schemathesis" --config-file "$config" run "$base/openapi.json" \
  --checks all --exclude-checks ignored_auth \
  --header "Authorization: Bearer $admin" \
  --max-examples "$max_examples" \
  --seed 1 \
  --workers 1 \
  --no-color \
  --generation-database none \
  "${extra[@]}") || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- last lines of the server's log" >&2
  tail -n 20 "$work/serve.log" >&2
fi
exit "$status"
