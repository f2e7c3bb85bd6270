#!/usr/bin/env bash
# Hit-by-hit parity of `ir110 hunt` with a peer Sigma engine on EVTX-ATTACK-SAMPLES.
#
#   scripts/parity-hunt.sh PEER [OUT_DIR]
#
# PEER is either
#   - a Chainsaw 2.x binary: run as `PEER hunt DATA -s RULES --mapping MAPPING --jsonl -o FILE`
#     (MAPPING: $CHAINSAW_MAPPING, default mappings/sigma-event-logs-all.yml beside the binary's
#     source tree, i.e. $(dirname PEER)/../../mappings/…), or
#   - a file of peer detections already produced (JSON lines or a JSON array: Chainsaw's
#     `--json`/`--jsonl` output, or flat {rule_id|id, file, record_id} objects such as the
#     Zircolite-style pySigma/SQLite run described in BENCHMARKS.md).
# Nothing is downloaded: without a peer the script says so and exits 0.
#
# Environment: DATA (default ../shared/data/evtx/EVTX-ATTACK-SAMPLES), RULES (default
# ../shared/data/sigma/rules; several directories separated by ':'), PEER_NAME (default: the binary's or file's name), PEER_FAILED
# (TSV of rules the peer did not load: path<TAB>reason), IR110 (an ir110 binary; default: build
# the `hunt` example of ir110-eventlog, the library code behind `ir110 hunt`).
set -euo pipefail
cd "$(dirname "$0")/.."

PEER="${1:-}"
OUT="${2:-target/parity}"
DATA="${DATA:-../shared/data/evtx/EVTX-ATTACK-SAMPLES}"
RULES="${RULES:-../shared/data/sigma/rules}"

if [[ -z "$PEER" || ! -e "$PEER" ]]; then
  echo "parity-hunt: no peer given or '$PEER' does not exist; skipping (nothing is downloaded)." >&2
  echo "usage: $0 PEER_BINARY_OR_OUTPUT [OUT_DIR]" >&2
  exit 0
fi
IFS=: read -r -a RULE_DIRS <<< "$RULES"
for d in "$DATA" "${RULE_DIRS[@]}"; do
  if [[ ! -d "$d" ]]; then
    echo "parity-hunt: $d missing; skipping." >&2
    exit 0
  fi
done
# Absolute paths: the outputs name files as they were given, and the comparison resolves them.
DATA="$(cd "$DATA" && pwd)"
peer_rules=(); ir_rules=(); cmp_rules=()
for d in "${RULE_DIRS[@]}"; do
  peer_rules+=(-s "$d"); ir_rules+=(--rules "$d"); cmp_rules+=(--rules "$d")
done
mkdir -p "$OUT"
PEER_NAME="${PEER_NAME:-$(basename "$PEER" | sed 's/\..*//')}"

# The peer's detections.
if [[ -x "$PEER" && ! -d "$PEER" && "$(head -c 4 "$PEER" | od -An -c | tr -d ' ')" == "177ELF" ]]; then
  MAPPING="${CHAINSAW_MAPPING:-$(dirname "$PEER")/../../mappings/sigma-event-logs-all.yml}"
  [[ -f "$MAPPING" ]] || { echo "parity-hunt: Chainsaw mapping $MAPPING not found (set CHAINSAW_MAPPING)" >&2; exit 1; }
  PEER_OUT="$OUT/$PEER_NAME.jsonl"
  echo "== $PEER_NAME hunt" >&2
  /usr/bin/time -f "%e s wall, %M KiB peak" \
    "$PEER" hunt "$DATA" "${peer_rules[@]}" --mapping "$MAPPING" --jsonl -o "$PEER_OUT" --skip-errors -q
else
  PEER_OUT="$PEER"
fi

# ir110's detections (all levels, rules only: the analytics are not Sigma hits).
IR_OUT="$OUT/ir110.jsonl"
echo "== ir110 hunt" >&2
if [[ -n "${IR110:-}" ]]; then
  "$IR110" hunt "$DATA" "${ir_rules[@]}" --min-level informational --no-analytics --jsonl "$IR_OUT" >/dev/null
else
  cargo build --release -q -p ir110-eventlog --example hunt --example records
  target/release/examples/hunt "${ir_rules[@]}" --no-analytics --jsonl "$IR_OUT" "$DATA" > "$OUT/ir110-summary.txt"
  head -1 "$OUT/ir110-summary.txt"
fi
target/release/examples/records "$DATA" > "$OUT/records.jsonl" 2>/dev/null ||
  cargo run --release -q -p ir110-eventlog --example records -- "$DATA" > "$OUT/records.jsonl"

args=(--ir110 "$IR_OUT" --peer "$PEER_OUT" --peer-name "$PEER_NAME" --data "$DATA" "${cmp_rules[@]}"
      --records "$OUT/records.jsonl" --details "$OUT/$PEER_NAME-details.tsv")
[[ -n "${PEER_FAILED:-}" ]] && args+=(--peer-failed "$PEER_FAILED")
[[ -n "${CHAINSAW_MAPPING:-${MAPPING:-}}" ]] && args+=(--peer-mapping "${CHAINSAW_MAPPING:-$MAPPING}")
python3 scripts/parity_compare.py "${args[@]}"
