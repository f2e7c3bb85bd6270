#!/usr/bin/env bash
# conn.log throughput of `ir110 net analyze`'s library path against `wc -l` on the same file.
# Usage: bash crates/ir110-netflow/bench/throughput.sh [DAYS HOSTS PAIRS]
# Writes a synthetic Zeek conn.log under ${TMPDIR:-/tmp}; figures go to BENCHMARKS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
days=${1:-120}; hosts=${2:-200}; pairs=${3:-20000}
file="${TMPDIR:-/tmp}/ir110-bench-conn.log"
cargo build --release -q -p ir110-netflow --example conn_throughput
bin=target/release/examples/conn_throughput
[ -f "$file" ] || "$bin" generate "$days" "$hosts" "$pairs" "$file"
ls -l "$file"
cat "$file" > /dev/null  # warm the page cache for both contenders
for i in 1 2 3; do
  /usr/bin/time -f "wc -l: %e s wall, %U+%S s CPU, %M KiB max RSS" wc -l "$file"
done
# A fairer floor than wc -l: the simplest per-pair aggregation, in awk.
for i in 1 2 3; do
  /usr/bin/time -f "awk pairs: %e s wall, %U+%S s CPU, %M KiB max RSS" awk -F'\t' '!/^#/{n[$3" "$5" "$6]++} END{print length(n)}' "$file"
done
for i in 1 2 3; do
  /usr/bin/time -f "ir110: %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
done
# Rotated logs are usually gzip-compressed: the same file as .gz against `zcat | wc -l`.
gz="$file.gz"
[ -f "$gz" ] || gzip -c -6 "$file" > "$gz"
ls -l "$gz"
cat "$gz" > /dev/null
for i in 1 2 3; do
  /usr/bin/time -f "zcat | wc -l: %e s wall, %U+%S s CPU (zcat + wc), %M KiB max RSS" sh -c "zcat '$gz' | wc -l"
  /usr/bin/time -f "ir110 (.gz): %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$gz"
done
# Cold page cache (root only): each run after dropping the caches.
if [ -w /proc/sys/vm/drop_caches ]; then
  for i in 1 2 3; do
    sync; echo 3 > /proc/sys/vm/drop_caches
    /usr/bin/time -f "wc -l (cold): %e s wall, %U+%S s CPU" wc -l "$file"
    sync; echo 3 > /proc/sys/vm/drop_caches
    /usr/bin/time -f "ir110 (cold): %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
  done
fi
