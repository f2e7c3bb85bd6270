#!/usr/bin/env bash
# Access-log throughput of `ir110 web scan --access-log` against `wc -l` on the same file.
# Usage: bash crates/ir110-weblog/bench/throughput.sh [COPIES]
# Writes a synthetic combined-format log under ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/../../.."
copies=${1:-400}
file="${TMPDIR:-/tmp}/ir110-bench-access.log"
cargo build --release -q -p ir110-weblog --example access_throughput
bin=target/release/examples/access_throughput
[ -f "$file" ] || "$bin" generate "$copies" "$file"
ls -l "$file"
cat "$file" > /dev/null
for i in 1 2 3; do
  /usr/bin/time -f "wc -l: %e s wall, %U+%S s CPU, %M KiB max RSS" wc -l "$file"
done
# A fairer floor than wc -l: requests per client address, in awk.
for i in 1 2 3; do
  /usr/bin/time -f "awk clients: %e s wall, %U+%S s CPU, %M KiB max RSS" awk '{n[$1]++} END{print length(n)}' "$file"
done
for i in 1 2 3; do
  /usr/bin/time -f "ir110: %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
done
