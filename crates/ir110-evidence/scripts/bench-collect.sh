#!/usr/bin/env bash
# Evidence collection benchmark: `ir110` collection (listing + copy + SHA-256 + journal + signed
# manifest) of a ~2 GB tree of mixed files, against `tar -cf - … | sha256sum` of the same tree.
# Both run with a warm page cache; the tree lives in /tmp and is deleted at the end.
#   usage: crates/ir110-evidence/scripts/bench-collect.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${1:-3}
WORK=$(mktemp -d /tmp/ir110-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/src

echo "== building the tree in $SRC"
python3 - "$SRC" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(110)
line = lambda i: f"Nov 26 01:{i % 60:02d}:{i % 59:02d} web-01 sshd[{1000 + i % 9000}]: Accepted password for user{i % 97} from 203.0.113.{i % 255} port {40000 + i % 20000} ssh2\n"
def text(n):
    out, i = [], 0
    size = 0
    while size < n:
        l = line(rnd.randrange(10**6)); out.append(l); size += len(l)
    return "".join(out).encode()[:n]
def put(rel, data):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
for rel in ["etc/passwd", "etc/group", "etc/hostname"]:
    put(rel, b"bench\n")
block = text(1 << 20)
for i in range(4000):                       # small logs, 1-32 KiB
    n = rnd.randrange(1024, 32768)
    put(f"var/log/small/{i // 500:02d}/app-{i:05d}.log", block[:n] if i % 2 else os.urandom(n))
for i in range(300):                        # medium files, 0.5-3.5 MiB
    n = rnd.randrange(1 << 19, 7 << 19)
    put(f"var/log/medium/m-{i:04d}.log", (block * 4)[:n] if i % 2 else os.urandom(n))
for i in range(6):                          # large files, 200 MiB
    p = os.path.join(root, f"var/log/large/l-{i}.log")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        for _ in range(200):
            f.write(block if i % 2 else os.urandom(1 << 20))
PY
du -sb "$SRC" | awk '{printf "tree: %.2f GB, ", $1/1e9}'; find "$SRC" -type f | wc -l | awk '{print $1 " files"}'

echo "== building the benchmark binary (release)"
cargo bench -p ir110-evidence --bench collect --no-run 2>&1 | tail -1
BIN=$(ls -t target/release/deps/collect-* | grep -v '\.d$' | head -1)

tar -cf - -C "$SRC" . > /dev/null            # warm the page cache for both
TIMEFORMAT=%R
for run in $(seq 1 "$RUNS"); do
    sync
    t_tar=$( { time (tar -cf - -C "$SRC" . | sha256sum > /dev/null) ; } 2>&1 )
    rm -rf "$WORK/pkg"; sync
    t_ir=$( { time ("$BIN" "$SRC" "$WORK/pkg" > "$WORK/ir110.out") ; } 2>&1 )
    echo "run $run: tar|sha256sum ${t_tar}s   ir110 collect ${t_ir}s   ratio $(python3 -c "print(f'{$t_ir/$t_tar:.2f}')")   ($(cat "$WORK/ir110.out"))"
done
