#!/usr/bin/env bash
# Event-log hunting benchmark (BENCHMARKS.md, "## Event-log hunting").
#
# Builds ~1 GB of EVTX by copying ../shared/data/evtx N times into a scratch folder, then
# measures, in the same run:
#   1. the parse floor: the evtx crate alone, records rendered to serde_json::Value, 2 threads;
#   2. `hunt` with every SigmaHQ rule (rules/, rules-emerging-threats/, rules-threat-hunting/),
#      timeline sorted and written as CSV, built-in analytics on;
# with /usr/bin/time -v for wall time and peak RSS. Not a test: run it by hand.
#
# usage: scripts/bench-hunt.sh [COPIES (default 50)] [SCRATCH (default /tmp/ir110-bench)]
set -euo pipefail
copies=${1:-50}
scratch=${2:-/tmp/ir110-bench}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$repo/../shared/data" && pwd)
sigma="$shared/sigma"

if [ ! -d "$scratch/evtx" ] || [ "$(ls "$scratch/evtx" | wc -l)" -ne "$copies" ]; then
  rm -rf "$scratch/evtx"
  mkdir -p "$scratch/evtx"
  for i in $(seq -w 1 "$copies"); do
    cp -r "$shared/evtx/EVTX-ATTACK-SAMPLES" "$scratch/evtx/copy$i"
  done
fi
du -sh "$scratch/evtx"
find "$scratch/evtx" -name '*.evtx' | wc -l

cd "$repo"
cargo build --release -p ir110-eventlog --example parse_floor --example hunt
bin="$repo/target/release/examples"

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" 2> "$scratch/$name.time" | tail -n 20
  grep -E "Elapsed \(wall|Maximum resident|Percent of CPU" "$scratch/$name.time"
}

echo "== parse floor (evtx -> serde_json::Value, 2 threads)"
measure floor "$bin/parse_floor" --threads 2 "$scratch/evtx"
echo "== hunt, all SigmaHQ rules, CSV timeline, 2 threads"
measure hunt "$bin/hunt" --threads 2 \
  --rules "$sigma/rules" --rules "$sigma/rules-emerging-threats" --rules "$sigma/rules-threat-hunting" \
  --timeline "$scratch/timeline.csv" --jsonl "$scratch/detections.jsonl" "$scratch/evtx"
wc -l "$scratch/timeline.csv" "$scratch/detections.jsonl"
