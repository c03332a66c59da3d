#!/usr/bin/env bash
# Name search figures: a fresh data folder with PERSONS person records (default 1,000,000; two in five held by
# the border guards) written through the store's commands, then POST /api/v1/persons/search as the border
# guards' officer under wrk with 16 connections, cycling through about PERSONS/1000 names typed as lists and
# families type them (capitals without diacritics, given name first, with the year or the date); three in five
# are names of other agencies' records, for which the searcher finds at most its own namesakes. Every search is
# audited (a write), as in production.
# Usage: bench/names.sh [PERSONS] [SECONDS]. With HAVEN_BENCH_DATA=DIR the data folder is kept there and, once
# filled, reused by the next run (the fill takes about twenty minutes at a million persons). With
# HAVEN_BENCH_BIN=PATH that binary is measured instead of a fresh release build (to compare two commits on
# the same data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-1000000}
secs=${2:-30}
bin=${HAVEN_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/haven}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
[ -n "${HAVEN_BENCH_BIN:-}" ] || cargo build --release -q
export HAVEN_DEMO_PASSWORD='bench password 1'
if [ -n "${HAVEN_BENCH_DATA:-}" ]; then
  data=$HAVEN_BENCH_DATA
  mkdir -p "$data"
  cleanup() { :; }
else
  data=$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-names-XXXXXX")
  cleanup() { rm -rf "$data"; }
fi
trap cleanup EXIT
[ -f "$data/queries.txt" ] || HAVEN_LOG=warn "$bin" --data "$data" bench names --persons "$persons" --queries "$data/queries.txt"
token=$(HAVEN_LOG=warn "$bin" --data "$data" user token border.officer --label bench)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HAVEN_LOG=warn "$bin" --data "$data" serve --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
cat > "$data/search.lua" <<LUA
local queries = {}
for line in io.lines("$data/queries.txt") do if #line > 0 then queries[#queries + 1] = line end end
local n = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local q = queries[(n % #queries) + 1]
  return wrk.format(nil, "/api/v1/persons/search", nil, '{"query": "' .. q .. '", "purpose": "case_work"}')
end
LUA
# One search by hand: it must answer.
first=$(head -n 1 "$data/queries.txt")
curl -fs -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"query\": \"$first\", \"purpose\": \"case_work\"}" "http://127.0.0.1:$port/api/v1/persons/search" \
  || { echo "the search did not answer"; exit 1; }
wrk -t2 -c16 -d5s -s "$data/search.lua" "http://127.0.0.1:$port" >/dev/null
echo "name search over $persons persons, as the border guards' officer, 16 connections, 2 threads, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -s "$data/search.lua" "http://127.0.0.1:$port" | sed -n '/Latency Distribution/,/Requests\/sec/p'
# How many of the first 300 searches found at least one record the searcher may open.
python3 - "$data/queries.txt" "$port" "$token" <<'PY'
import json, sys, urllib.request
path, port, token = sys.argv[1], sys.argv[2], sys.argv[3]
found = empty = 0
for q in open(path, encoding="utf-8").read().split("\n")[:300]:
    if not q:
        continue
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/persons/search",
        data=json.dumps({"query": q, "purpose": "case_work"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    items = json.load(urllib.request.urlopen(req))["items"]
    found, empty = found + bool(items), empty + (not items)
print(f"of {found + empty} searches: {found} found at least one record the border guards hold, {empty} none")
PY
