#!/usr/bin/env bash
# Postfix maillog throughput of `ir110 mail analyze`'s library path against `wc -l` on the
# same file. Usage: bash crates/ir110-mail/bench/throughput.sh [DAYS USERS]
# Writes a synthetic maillog under ${TMPDIR:-/tmp}; figures go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
days=${1:-300}; users=${2:-120}
file="${TMPDIR:-/tmp}/ir110-bench-maillog"
cargo build --release -q -p ir110-mail --example mail_throughput
bin=target/release/examples/mail_throughput
[ -f "$file" ] || "$bin" generate "$days" "$users" "$file"
ls -l "$file"
cat "$file" > /dev/null  # warm the page cache for every contender
for i in 1 2 3; do
  /usr/bin/time -f "wc -l: %e s wall, %U+%S s CPU, %M KiB max RSS" wc -l "$file"
done
# A fairer floor than wc -l: log lines per Postfix queue id, in awk.
for i in 1 2 3; do
  /usr/bin/time -f "awk queue ids: %e s wall, %U+%S s CPU, %M KiB max RSS" awk '$6 ~ /^[0-9A-F]+:$/ {n[$6]++} END{print length(n)}' "$file"
done
for i in 1 2 3; do
  /usr/bin/time -f "ir110: %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
done
