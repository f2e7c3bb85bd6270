# Sourced by the crates' bench/throughput.sh. Times, on one log file: `wc -l`, an awk floor
# and an ir110 example binary with a warm page cache; the same file gzip-compressed (the form
# rotated logs have) against `zcat | wc -l`; and, when run as root, both with a cold cache,
# first as the page cache leaves it and then on a disk throttled to the read rates in
# IR110_DISK_MBPS (default "150 500": a USB 3 hard disk, a SATA SSD — the disks evidence and
# client log exports usually arrive on; cgroup v1 blkio throttle, so root only).
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
    throttled_rows "$file" "$bin"
  else
    echo "cold-cache rows skipped: /proc/sys/vm/drop_caches is not writable (run as root)"
  fi
}

# Cold runs of `wc -l` and BIN on FILE inside a blkio cgroup whose reads from FILE's disk are
# capped at each rate in IR110_DISK_MBPS (MB/s).
throttled_rows() {
  local file=$1 bin=$2 cg=/sys/fs/cgroup/blkio/ir110-bench-disk dev mbps i
  if [ ! -d /sys/fs/cgroup/blkio ] || ! mkdir -p "$cg" 2>/dev/null; then
    echo "throttled-disk rows skipped: no writable cgroup v1 blkio hierarchy"
    return 0
  fi
  dev=$(stat -c '%Hd:%Ld' "$file")
  # The throttle applies to whole disks: use the partition's parent when FILE is on one.
  if [ -e "/sys/dev/block/$dev/partition" ]; then
    dev=$(cat "$(readlink -f "/sys/dev/block/$dev/..")/dev")
  fi
  for mbps in ${IR110_DISK_MBPS:-150 500}; do
    echo "$dev $((mbps * 1000000))" > "$cg/blkio.throttle.read_bps_device"
    for i in 1 2 3; do
      sync; echo 3 > /proc/sys/vm/drop_caches
      sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
        /usr/bin/time -f "wc -l (disk $mbps MB/s): %e s wall, %U+%S s CPU" wc -l "$file"
      sync; echo 3 > /proc/sys/vm/drop_caches
      sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
        /usr/bin/time -f "ir110 (disk $mbps MB/s): %e s wall, %U+%S s CPU, %M KiB max RSS" "$bin" "$file"
    done
  done
  echo "$dev 0" > "$cg/blkio.throttle.read_bps_device"
}
