#!/usr/bin/env bash
# The plan's figures: the demo at 100 times its default size (200,000 person records, 20,000 reports, 2,500
# victim cases, 6,000 absentees, this year's plan with its prevention activities and courses) in a fresh SQLite
# data folder; then, logged in as the province's analyst, the plan dashboard for the year and the annual report
# (printable page and XLSX) and publishing the public statistics, timed with curl, each several times.
# Usage: bench/plan.sh [SCALE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-200000}
runs=${2:-15}
bin=${CARGO_TARGET_DIR:-target}/release/haven
cargo build --release -q
data=${HAVEN_BENCH_DATA:-${TMPDIR:-/tmp}/haven-bench-plan-$scale}
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
jar=$(mktemp)
trap 'kill $pid 2>/dev/null || true; rm -f "$jar"' EXIT
base="http://127.0.0.1:$port"
csrf=$(curl -fs -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&username=province.analyst&password=bench+password+1" "$base/login"
plan=$(curl -fs -b "$jar" "$base/plans" | sed -n 's/.*href="\/plans\/\([0-9a-f-]*\)".*/\1/p' | head -n 1)
[ -n "$plan" ] || { echo "no plan found"; exit 1; }
year=$(date +%Y)
# Median and maximum of RUNS timings (seconds from curl, printed in ms).
stats() { sort -n | awk '{ a[NR] = $1 * 1000 } END { printf "median %.0f ms, max %.0f ms over %d runs", a[int((NR + 1) / 2)], a[NR], NR }'; }
curl -fs -b "$jar" -o /dev/null "$base/plans/$plan"
echo "plan dashboard for the year ($scale persons, SQLite): $(for _ in $(seq "$runs"); do curl -fs -b "$jar" -o /dev/null -w '%{time_total}\n' "$base/plans/$plan"; done | stats) (target: under 300 ms)"
echo "annual report, printable page: $(for _ in $(seq "$runs"); do curl -fs -b "$jar" -o /dev/null -w '%{time_total}\n' "$base/plans/$plan/report?period=$year"; done | stats) (target: under 2 s)"
csrf=$(curl -fs -b "$jar" "$base/plans/$plan/report?period=$year" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
out=$(mktemp)
echo "annual report, XLSX: $(for _ in $(seq "$runs"); do curl -fs -b "$jar" -o "$out" -w '%{time_total}\n' -d "csrf=$csrf&period=$year" "$base/plans/$plan/report.xlsx"; done | stats), $(stat -c %s "$out") bytes (target: under 2 s)"
rm -f "$out"
# Publishing the year's public statistics: the tables counted from the records, released, checked by the exact
# attacker and stored; then the public page as anyone reads it.
csrf=$(curl -fs -b "$jar" "$base/statistics" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
echo "public statistics, publish the year: $(for _ in $(seq 5); do curl -fs -b "$jar" -o /dev/null -w '%{time_total}\n' -d "csrf=$csrf&year=$year" "$base/statistics/publish"; done | stats)"
echo "public statistics page: $(for _ in $(seq "$runs"); do curl -fs -o /dev/null -w '%{time_total}\n' "$base/statistics?year=$year"; done | stats)"
echo "server RSS after: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
