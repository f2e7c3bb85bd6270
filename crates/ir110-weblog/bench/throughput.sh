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
