#!/usr/bin/env bash
# Webroot scan with the built-in YARA rules: yara-x (through ir110) against classic YARA
# (`yara`, Debian package) and, when installed, the yara-x CLI (`yr`), on the same rules and
# the same tree. Median of three runs each; wall and CPU seconds from /usr/bin/time.
# Usage: bash crates/ir110-weblog/bench/yara_compare.sh [COPIES]
set -euo pipefail
cd "$(dirname "$0")/../../.."
copies=${1:-400}
dir="${TMPDIR:-/tmp}/ir110-bench-webroot-$copies"
cargo build --release -q -p ir110-weblog --example webroot_scan
bin=target/release/examples/webroot_scan
[ -d "$dir" ] || "$bin" generate "$copies" "$dir"
echo "tree: $(find "$dir" -type f | wc -l) files, $(du -sb "$dir" | cut -f1) bytes"
rules=$(mktemp -d)
cat crates/ir110-weblog/rules/*.yar > "$rules/all.yar"
find "$dir" -type f -exec cat {} + > /dev/null  # warm the page cache
run() {  # label, command…
  for i in 1 2 3; do
    /usr/bin/time -f "$1: %e s wall, %U+%S s CPU, %M KiB max RSS" "${@:2}" > /dev/null
  done
}
threads=$(nproc)
run "ir110 yara-x rules only" "$bin" yara "$dir"
run "ir110 web scan (files)" "$bin" scan "$dir"
if command -v yara > /dev/null; then
  yara --version
  run "yara -r -p $threads" yara -r -p "$threads" "$rules/all.yar" "$dir"
fi
if command -v yr > /dev/null; then
  yr --version
  run "yr scan" yr scan -p "$threads" "$rules/all.yar" "$dir"
fi
rm -r "$rules"
