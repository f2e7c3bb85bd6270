#!/usr/bin/env bash
# conn.log throughput of `ir110 net analyze`'s library path against `wc -l` on the same file
# (warm, .gz, cold: see scripts/line-throughput.sh).
# Usage: bash crates/ir110-netflow/bench/throughput.sh [DAYS HOSTS PAIRS]
# Writes a synthetic Zeek conn.log under ${TMPDIR:-/tmp}; figures go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source scripts/line-throughput.sh
days=${1:-120}; hosts=${2:-200}; pairs=${3:-20000}
file="${TMPDIR:-/tmp}/ir110-bench-conn.log"
cargo build --release -q -p ir110-netflow --example conn_throughput
bin=target/release/examples/conn_throughput
[ -f "$file" ] || "$bin" generate "$days" "$hosts" "$pairs" "$file"
# A fairer floor than wc -l: the simplest per-pair aggregation, in awk.
line_throughput "$file" "$bin" pairs -F'\t' '!/^#/{n[$3" "$5" "$6]++} END{print length(n)}'
