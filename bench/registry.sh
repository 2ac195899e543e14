#!/usr/bin/env bash
# Load test of the registry server: public registry reads, authenticated reads and
# classification, with wrk (Debian package `wrk`), plus the wall time of `aigov classify` with
# hyperfine (Debian package `hyperfine`). Prints requests/s and latency percentiles.
#
#   bench/registry.sh            # 30 s per scenario, 2 wrk threads, 32 connections
#   DURATION=10s CONNS=64 bench/registry.sh
#
# Results and the machine they were measured on go in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}

for tool in wrk hyperfine; do
  command -v "$tool" >/dev/null || { echo "install $tool first: apt-get install -y $tool" >&2; exit 2; }
done

cargo build --release -p aigov >/dev/null
BIN=target/release/aigov
DATA=$(mktemp -d)
LOG=$DATA/serve.log
"$BIN" serve --demo --listen 127.0.0.1:$PORT --data-dir "$DATA/data" >"$LOG" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q "demo data seeded" "$LOG" 2>/dev/null && break; sleep 0.1; done
TOKEN=$(sed -n 's/.*admin token (valid until the next start): //p' "$LOG")
BASE=http://127.0.0.1:$PORT
ID=$(curl -s -H "authorization: Bearer $TOKEN" "$BASE/v1/systems?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
FILING=$(curl -s "$BASE/v1/public/systems?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["filing_number"])')

LUA=$DATA/classify.lua
python3 - "$LUA" <<'PY'
import json, sys, tomllib
facts = tomllib.load(open("examples/systems/public-chatbot.toml", "rb"))
body = json.dumps(facts).replace("\\", "\\\\").replace('"', '\\"')
open(sys.argv[1], "w").write(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = "{body}"\n')
PY

run() {
  echo "== $1"
  shift
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
}
run "public registry: one system by filing number" "$BASE/v1/public/systems/$FILING"
run "public registry: search" "$BASE/v1/public/systems?q=chat"
run "authenticated read: one system" -H "authorization: Bearer $TOKEN" "$BASE/v1/systems/$ID"
run "classification (POST /v1/classify, public chatbot facts)" -s "$LUA" "$BASE/v1/classify"

echo "== aigov classify (offline, wall time)"
hyperfine --warmup 3 --runs 30 -N "$BIN classify examples/systems/public-chatbot.toml --as-of 2026-11-28" 2>/dev/null | grep -E "Time|Range"
