#!/usr/bin/env bash
# Page latency under load, for every demo role and every kind of page it has: the demo at SCALE person
# records (default 1,000,000), each role logged in, its home page, every list its navigation offers and the
# first record of each list, each measured with wrk (64 connections, 2 threads) for SECONDS after a short
# warm-up. Prints a Markdown table (role, page, p50, p99, pages/s), the idle server's resident memory and
# the release binary's size.
#
#   bench/pages.sh [SCALE] [SECONDS]                 # SQLite, the data kept in HAVEN_BENCH_DATA
#   HAVEN_BENCH_POSTGRES=postgres://... bench/pages.sh [SCALE] [SECONDS]   # an empty PostgreSQL database
#
# HAVEN_BENCH_ROLES overrides the users measured; HAVEN_BENCH_BIN a binary to measure instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1000000}
secs=${2:-10}
roles=${HAVEN_BENCH_ROLES:-"police.officer health.officer health.head border.officer pc-tramy.officer procuracy.officer province.analyst"}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
bin=${HAVEN_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/haven}
[ -n "${HAVEN_BENCH_BIN:-}" ] || cargo build --release -q
data=${HAVEN_BENCH_DATA:-${TMPDIR:-/tmp}/haven-bench-$scale}
db_args=()
if [ -n "${HAVEN_BENCH_POSTGRES:-}" ]; then
    db_args=(--database "$HAVEN_BENCH_POSTGRES")
fi
export HAVEN_DEMO_PASSWORD='bench password 1'
if [ ! -f "$data/loaded" ]; then
    echo "loading the demo at $scale persons into ${HAVEN_BENCH_POSTGRES:+PostgreSQL, keys in }$data"
    /usr/bin/time -f "load: %e s, max RSS %M KiB" "$bin" --data "$data" "${db_args[@]}" demo --load-only --scale "$scale" >/dev/null
    touch "$data/loaded"
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HAVEN_LOG=warn "$bin" --data "$data" "${db_args[@]}" serve --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.1; done
sleep 1
echo "idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"

login() {
    local jar csrf
    jar=$(mktemp)
    csrf=$(curl -fs -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)
    curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&username=$1&password=bench+password+1" "$base/login"
    awk '$6 == "haven_session" {print $7}' "$jar"
    rm -f "$jar"
}

# p50, p99 and pages/s of one page, from wrk's latency distribution.
measure() {
    local session=$1 page=$2 out
    wrk -t2 -c64 -d2s -H "Cookie: haven_session=$session" "$base$page" >/dev/null
    out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: haven_session=$session" "$base$page")
    local p50 p99 rps non2xx
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "| $3 | \`$page\` | $p50 | $p99 | $rps |${non2xx:+ $non2xx not 200}"
}

echo "64 connections, 2 threads, ${secs}s a page, ${HAVEN_BENCH_POSTGRES:+PostgreSQL}${HAVEN_BENCH_POSTGRES:-SQLite}, scale $scale"
echo
echo "| User | Page | p50 | p99 | Pages/s |"
echo "|---|---|---|---|---|"
for role in $roles; do
    session=$(login "$role")
    [ -n "$session" ] || { echo "log-in of $role failed"; exit 1; }
    home=$(curl -fs -H "Cookie: haven_session=$session" "$base/")
    # The lists the role's navigation offers (the header's links), then the first record of each.
    lists=$(grep -o 'href="/[a-z-]*"' <<<"$home" | sed 's/href="\(.*\)"/\1/' \
        | grep -vxE '/|/logout|/account|/language|/login|/static' | sort -u)
    measure "$session" "/" "$role"
    for list in $lists; do
        measure "$session" "$list" "$role"
    done
    for list in $lists; do
        first=$(curl -fs -H "Cookie: haven_session=$session" "$base$list" \
            | grep -o "href=\"$list/[0-9a-z-]\{10,\}\"" | head -n 1 | sed 's/href="\(.*\)"/\1/' || true)
        [ -n "$first" ] && measure "$session" "$first" "$role ($list/ID)"
    done
done
echo
echo "idle RSS after load: $(sleep 2; awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
echo "release binary: $(stat -c %s "$bin") bytes"
