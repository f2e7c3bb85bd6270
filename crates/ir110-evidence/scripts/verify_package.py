#!/usr/bin/env python3
"""Verify an ir110 evidence package directory without ir110 (needs: pip install cryptography)."""
import hashlib, json, os, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

pkg = sys.argv[1]
p = lambda *a: os.path.join(pkg, *a)
sha = lambda b: hashlib.sha256(b).hexdigest()
bad = []

manifest_bytes = open(p("manifest.json"), "rb").read()          # exact bytes, never re-serialised
key = load_pem_public_key(open(p("signer.pub"), "rb").read())
try:
    key.verify(open(p("manifest.sig"), "rb").read(), manifest_bytes)
except Exception:
    bad.append("manifest.json: signature does not verify")
m = json.loads(manifest_bytes)
print("signer fingerprint:", sha(bytes.fromhex(m["signer"]["public_key"])))

items = [(f["path"], f["stored"], f["sha256"]) for f in m["files"] if f.get("stored") and f.get("sha256")]
items += [(f["path"], f["path"], f["sha256"]) for f in m["package_files"]]
for original, stored, expected in items:
    h = hashlib.sha256()
    with open(p(*stored.split("/")), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != expected:
        bad.append(f"{original}: expected {expected}, actual {h.hexdigest()}")

prev = sha(manifest_bytes)                                       # entry 1 chains to the manifest
lines = open(p("custody.jsonl"), "rb").read().decode("utf-8").split("\n")
for n, line in enumerate([l for l in lines if l], start=1):
    e = json.loads(line)
    if e["seq"] != n: bad.append(f"custody entry {n}: seq {e['seq']}")
    if e["prev"] != prev: bad.append(f"custody entry {n}: chain broken (previous entry or manifest changed)")
    i = line.rindex(',"sig":"')
    body = (line[:i] + "}").encode("utf-8")                       # the line without its signature
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(e["key"])).verify(bytes.fromhex(e["sig"]), body)
    except Exception:
        bad.append(f"custody entry {n}: signature does not verify")
    prev = sha(line.encode("utf-8"))

print(f"{len(items)} files checked;", "OK" if not bad else "FAILED:\n  " + "\n  ".join(bad))
sys.exit(1 if bad else 0)
