#!/usr/bin/env bash
# Page latency under load: the demo at SCALE person records (default 1,000,000), a logged-in case officer, and
# wrk with 64 connections on the page that lists the agency's records. Also reports the idle server's
# resident memory and the release binary's size. Usage: bench/pages.sh [SCALE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1000000}
secs=${2:-30}
bin=${CARGO_TARGET_DIR:-target}/release/haven
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release -q
data=${HAVEN_BENCH_DATA:-${TMPDIR:-/tmp}/haven-bench-$scale}
export HAVEN_DEMO_PASSWORD='bench password 1'
if [ ! -f "$data/haven.db" ]; then
    echo "loading the demo at $scale persons into $data"
    /usr/bin/time -f "load: %e s, max RSS %M KiB" "$bin" --data "$data" demo --load-only --scale "$scale" >/dev/null
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HAVEN_LOG=warn "$bin" --data "$data" serve --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
sleep 1
echo "idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
jar=$(mktemp)
csrf=$(curl -fs -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&username=police.officer&password=bench+password+1" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "haven_session" {print $7}' "$jar")
rm -f "$jar"
[ -n "$session" ] || { echo "log-in failed"; exit 1; }
# Warm up first: each of the server's SQLite connections fills its own page cache on first use.
wrk -t2 -c64 -d5s -H "Cookie: haven_session=$session" "http://127.0.0.1:$port/persons" >/dev/null
echo "page: /persons (first 50 of the police's records), 64 connections, 2 threads, ${secs}s"
wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: haven_session=$session" "http://127.0.0.1:$port/persons" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "home page: / (counts and work lists), 64 connections, 2 threads, 10s"
wrk -t2 -c64 -d10s --latency -H "Cookie: haven_session=$session" "http://127.0.0.1:$port/" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "idle RSS after load: $(sleep 2; awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
echo "release binary: $(stat -c %s "$bin") bytes"
