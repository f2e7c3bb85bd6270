#!/usr/bin/env bash
# Postfix maillog throughput of `ir110 mail analyze`'s library path against `wc -l` on the
# same file (warm, .gz, cold: see scripts/line-throughput.sh).
# Usage: bash crates/ir110-mail/bench/throughput.sh [DAYS USERS]
# Writes a synthetic maillog under ${TMPDIR:-/tmp}; figures go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source scripts/line-throughput.sh
days=${1:-300}; users=${2:-120}
file="${TMPDIR:-/tmp}/ir110-bench-maillog"
cargo build --release -q -p ir110-mail --example mail_throughput
bin=target/release/examples/mail_throughput
[ -f "$file" ] || "$bin" generate "$days" "$users" "$file"
# A fairer floor than wc -l: log lines per Postfix queue id, in awk.
line_throughput "$file" "$bin" 'queue ids' '$6 ~ /^[0-9A-F]+:$/ {n[$6]++} END{print length(n)}'
