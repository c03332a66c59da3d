#!/usr/bin/env bash
# Import figures: how long a commune's list holds the database, how long its rows take to be compared with
# the province's records, and what a police officer recording reports meanwhile sees. A fresh demo province
# (--scale 400), then two CSV lists imported with `haven import` as a commune officer while the server runs:
#   - VARIED rows (default 12,000) of names drawn from common Vietnamese surnames, middle and given names;
#   - SIMILAR rows (default 2,000) of one name and birth date, as a list copied row by row can be.
# For each: seconds until the rows are written and committed (the write that holds the database), seconds
# until every row is compared, the pairs proposed, and, for reports posted one after another through the
# API during the import, how many were written, how many refused with 503, and the slowest answer.
# Usage: bench/imports.sh [VARIED] [SIMILAR]. With HAVEN_BENCH_BIN=PATH that binary is measured instead of a
# fresh release build.
set -euo pipefail
cd "$(dirname "$0")/.."
varied=${1:-12000}
similar=${2:-2000}
bin=${HAVEN_BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/haven}
[ -n "${HAVEN_BENCH_BIN:-}" ] || cargo build --release -q
data=$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-imports-XXXXXX")
cleanup() { rm -rf "$data"; }
trap cleanup EXIT
export HAVEN_DEMO_PASSWORD='bench password 1'
HAVEN_LOG=warn "$bin" --data "$data/db" demo --scale 400 --load-only >/dev/null
python3 - "$data" "$varied" "$similar" <<'PY'
import random, sys
out, varied, similar = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7)
sur = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
mid = ["Thị", "Văn", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang"]
giv = ["Mai", "Hoa", "Lan", "Hùng", "Dũng", "Tuấn", "Hương", "Linh", "Trang", "Nam", "Phương", "Anh", "Thảo",
       "Long", "Hải", "Yến", "Nga", "Hạnh", "Sơn", "Tâm"]
with open(f"{out}/varied.csv", "w", encoding="utf-8") as f:
    f.write("Họ và tên,Ngày sinh,Giới tính,Vắng từ\n")
    for _ in range(varied):
        f.write(f"{random.choice(sur)} {random.choice(mid)} {random.choice(giv)},{random.randint(1, 28):02d}/"
                f"{random.randint(1, 12):02d}/{random.randint(1970, 2008)},{random.choice(['Nam', 'Nữ'])},"
                f"{random.randint(1, 12):02d}/2025\n")
with open(f"{out}/similar.csv", "w", encoding="utf-8") as f:
    f.write("Họ và tên,Ngày sinh,Giới tính,Vắng từ\n")
    for _ in range(similar):
        f.write("Nguyễn Thị Mai,12/03/1998,Nữ,05/2025\n")
PY
token=$(HAVEN_LOG=warn "$bin" --data "$data/db" user token police.officer --label bench)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HAVEN_LOG=warn "$bin" --data "$data/db" serve --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
echo "demo province at --scale 400; imports as pc-haichau.officer (haven import), reports as police.officer (API)"
for list in varied similar; do
    python3 - "$bin" "$data" "$list" "$port" "$token" <<'PY'
import json, os, sqlite3, subprocess, sys, threading, time, urllib.error, urllib.request
bin, data, name, port, token = sys.argv[1:6]
db = f"{data}/db/haven.db"
def pairs():
    with sqlite3.connect(db) as c:
        return c.execute("SELECT COUNT(*) FROM match_candidates").fetchone()[0]
before = pairs()
env = dict(os.environ, HAVEN_LOG="warn")
started = time.time()
p = subprocess.Popen([bin, "--data", f"{data}/db", "import", "--kind", "absentees", "--file", f"{data}/{name}.csv",
                      "--user", "pc-haichau.officer"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
committed = None
def watch():
    global committed
    seen = b""
    while True:
        ch = p.stderr.read(1)
        if not ch:
            return
        seen = (seen + ch)[-64:]
        if committed is None and b"Imported" in seen:
            committed = time.time() - started
threading.Thread(target=watch, daemon=True).start()
report = json.dumps({"kind": "denunciation", "channel": "hotline", "received_date": "01/03/2026",
                     "anonymous": True, "summary": "Người dân báo tin về một đường dây môi giới"}).encode()
written = refused = 0
slowest = 0.0
while p.poll() is None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/reports", data=report, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    t = time.time()
    try:
        urllib.request.urlopen(req).read()
        written += 1
    except urllib.error.HTTPError as e:
        if e.code != 503:
            print(f"a report beside the import answered {e.code}", file=sys.stderr)
            sys.exit(1)
        refused += 1
    slowest = max(slowest, time.time() - t)
total = time.time() - started
rows = sum(1 for _ in open(f"{data}/{name}.csv", encoding="utf-8")) - 1
print(f"{name}: {rows} rows written and committed at {committed or -1:.1f} s, all compared at {total:.1f} s "
      f"(exit {p.returncode}), {pairs() - before} pairs proposed; reports meanwhile: {written} written, "
      f"{refused} refused with 503, slowest answer {slowest:.2f} s")
PY
done
