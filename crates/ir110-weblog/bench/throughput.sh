#!/usr/bin/env bash
# Access-log throughput of `ir110 web scan --access-log` against `wc -l` on the same file
# (warm, .gz, cold: see scripts/line-throughput.sh).
# Usage: bash crates/ir110-weblog/bench/throughput.sh [COPIES]
# Writes a synthetic combined-format log under ${TMPDIR:-/tmp}; figures go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source scripts/line-throughput.sh
copies=${1:-400}
file="${TMPDIR:-/tmp}/ir110-bench-access.log"
cargo build --release -q -p ir110-weblog --example access_throughput
bin=target/release/examples/access_throughput
[ -f "$file" ] || "$bin" generate "$copies" "$file"
# A fairer floor than wc -l: requests per client address, in awk.
line_throughput "$file" "$bin" clients '{n[$1]++} END{print length(n)}'
