# Sourced by the crates' bench/throughput.sh. Times, on one log file: `wc -l`, an awk floor
# and an ir110 example binary with a warm page cache; the same file gzip-compressed (the form
# rotated logs have) against `zcat | wc -l`; and, when run as root, both with a cold cache.
# Three runs each, from /usr/bin/time; the figures go to BENCHMARKS.md by hand.
#
#   line_throughput FILE BIN FLOOR_NAME AWK_ARGS...   (awk gets AWK_ARGS then FILE)
line_throughput() {
  local file=$1 bin=$2 floor=$3 i
  shift 3
  ls -l "$file"
  cat "$file" > /dev/null  # warm the page cache for every contender
  for i in 1 2 3; do
    /usr/bin/time -f "wc -l: %e s wall, %U+%S s CPU, %M KiB max RSS" wc -l "$file"
  done
  for i in 1 2 3; do
    /usr/bin/time -f "awk $floor: %e s wall, %U+%S s CPU, %M KiB max RSS" awk "$@" "$file"
  done
  for i in 1 2 3; do
    /usr/bin/time -f "ir110: %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
  done
  local gz="$file.gz"
  [ -f "$gz" ] || gzip -c -6 "$file" > "$gz"
  ls -l "$gz"
  cat "$gz" > /dev/null
  for i in 1 2 3; do
    /usr/bin/time -f "zcat | wc -l: %e s wall, %U+%S s CPU (zcat + wc), %M KiB max RSS" sh -c "zcat '$gz' | wc -l"
    /usr/bin/time -f "ir110 (.gz): %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$gz"
  done
  if [ -w /proc/sys/vm/drop_caches ]; then
    for i in 1 2 3; do
      sync; echo 3 > /proc/sys/vm/drop_caches
      /usr/bin/time -f "wc -l (cold): %e s wall, %U+%S s CPU" wc -l "$file"
      sync; echo 3 > /proc/sys/vm/drop_caches
      /usr/bin/time -f "ir110 (cold): %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
    done
  else
    echo "cold-cache rows skipped: /proc/sys/vm/drop_caches is not writable (run as root)"
  fi
}
