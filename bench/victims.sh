#!/usr/bin/env bash
# Victim-case figures: a fresh data folder with CASES victim cases (default 100,000) and one case with 50 steps,
# 30 supports and 20 visits; the health department's "due this week" list timed in the store, then the big
# case's page and the victims list page under wrk with 16 connections. Usage: bench/victims.sh [CASES] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-100000}
secs=${2:-20}
bin=${CARGO_TARGET_DIR:-target}/release/haven
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q
data=$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-victims-XXXXXX")
trap 'rm -rf "$data"' EXIT
export HAVEN_DEMO_PASSWORD='bench password 1'
out=$(HAVEN_LOG=warn "$bin" --data "$data" bench victims --cases "$cases")
echo "$out"
page=$(echo "$out" | sed -n 's/.*20 visits: \(\/victims\/[^ ]*\).*/\1/p')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HAVEN_LOG=warn "$bin" --data "$data" serve --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
jar=$(mktemp)
csrf=$(curl -fs -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&username=health.officer&password=bench+password+1" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "haven_session" {print $7}' "$jar")
rm -f "$jar"
[ -n "$session" ] || { echo "log-in failed"; exit 1; }
curl -fs -o /dev/null -H "Cookie: haven_session=$session" "http://127.0.0.1:$port$page" || { echo "the case page did not load"; exit 1; }
wrk -t2 -c16 -d5s -H "Cookie: haven_session=$session" "http://127.0.0.1:$port$page" >/dev/null
echo "case page ($page: 50 steps, 30 supports, 20 visits), 16 connections, 2 threads, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: haven_session=$session" "http://127.0.0.1:$port$page" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "victims list page (/victims: awaiting verification, visits due this week, newest cases), 16 connections, ${secs}s"
wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: haven_session=$session" "http://127.0.0.1:$port/victims" | sed -n '/Latency Distribution/,/Requests\/sec/p'
