#!/usr/bin/env python3
"""Compare `ir110 hunt --jsonl` detections with a peer's, keyed by (Sigma rule id, file, record).

Usage:
  parity_compare.py --ir110 IR110.jsonl --peer PEER.jsonl --data DIR --rules DIR [--rules DIR]...
                    [--peer-name NAME] [--peer-failed TSV] [--records RECORDS.jsonl]
                    [--details OUT.tsv]

Peer formats read (one JSON object per line, or a JSON array):
  - Chainsaw 2.x `--json`/`--jsonl`: rule from `id` (or `name` resolved through the rules' titles),
    file from `document.path`, record from `document.data.Event.System.EventRecordID`;
  - flat objects with `id`/`rule_id`, `file`, `record_id` (the reduced Chainsaw build used for
    BENCHMARKS.md, or a Zircolite-style SQLite run).

Every (rule, file, record) the peer reports and ir110 does not is "only-peer"; the reverse is
"only-ir110". Each is given a cause where one can be derived from the rule and the record:

  only-peer:
    non-windows-rule     the rule's logsource.product is not windows (e.g. a Linux rule that
                         the peer ran on Windows events)
    logsource-mismatch   the record's channel/EventID is not one the rule's logsource names (the
                         peer does not filter by logsource)
    excluded-by-ir110?   anything else: listed per rule for a person to decide
  only-ir110 (the first that applies; those marked * need --peer-mapping, a Chainsaw mapping):
    peer-rule-not-loaded      the peer failed to load the rule (--peer-failed lists them; for
                              the SQLite peer also "sql: no such column": a query naming a field
                              no record has is rejected whole)
    ir110-process-creation-on-4688
                              a process_creation rule on a Security 4688 record: ir110 maps the
                              category onto 4688 too (NewProcessName as Image, …); peers read
                              process_creation as Sysmon 1 only
    ir110-empty-is-null       the rule tests `field: null`, which ir110 also grants to an empty
                              value (Sysmon writes StartModule as "")
  * peer-excluded             the mapping's `exclusions` name the rule's title
  * peer-provider-name        the rule tests Provider_Name, which the mapping sends to
                              Event.EventData.Provider_Name (the provider is in System)
  * peer-unmapped-field       a selection uses a field the mapping does not resolve
  * peer-all-of-list          `all of X*` where an X* identifier is a list of maps: Chainsaw's
                              conversion ANDs the list's alternatives instead of ORing them
  * peer-inner-wildcard       a contains/startswith/endswith value with `*`/`?` inside, which
                              Chainsaw's conversion keeps as literal characters
  * peer-escapes              a value with Sigma escapes (`\\\\` for one backslash, `\\*`, `\\?`),
                              which Chainsaw matches literally
  * peer-bool-as-string       a value 'true'/'false': the evtx crate renders Sysmon booleans
                              (Initiated) as JSON booleans, which Chainsaw's string test misses
  * peer-int-vs-string        an integer in the rule (DestPort: 3389) against a value the log
                              holds as text ("3389"): tau-engine compares types strictly
  * peer-not-on-absent-field  a filter tests a field the mapping cannot resolve: tau-engine
                              evaluates `not X` as false when X's field is missing, so the rule
                              never fires
    peer-not-on-absent-field  (also without a mapping, from --records) a filter tests a field
                              the record lacks: tau-engine's `not` of a missing field is false
    to-check                  listed per rule for a person to decide

`--records` (JSON lines with file, record_id, channel, event_id, as written by
`examples/records.rs` of ir110-eventlog) gives the record's channel and EventID for the
logsource check; without it, only non-windows-rule is derived.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys

try:
    import yaml  # type: ignore
except ImportError:  # the script still compares; causes need the rules' logsource
    yaml = None

# Sigma logsource → (channels, EventIDs) as Windows writes them; a record outside these cannot be
# what the rule describes. Categories are Sysmon's unless noted (the SigmaHQ taxonomy).
SYSMON = "Microsoft-Windows-Sysmon/Operational"
CATEGORY = {
    "process_creation": ({SYSMON: {1}, "Security": {4688}}),
    "network_connection": ({SYSMON: {3}}),
    "sysmon_status": ({SYSMON: {4, 16}}),
    "process_termination": ({SYSMON: {5}}),
    "driver_load": ({SYSMON: {6}}),
    "image_load": ({SYSMON: {7}}),
    "create_remote_thread": ({SYSMON: {8}}),
    "raw_access_thread": ({SYSMON: {9}}),
    "raw_access_read": ({SYSMON: {9}}),
    "process_access": ({SYSMON: {10}}),
    "file_event": ({SYSMON: {11}}),
    "file_creation": ({SYSMON: {11}}),
    "registry_add": ({SYSMON: {12}}),
    "registry_delete": ({SYSMON: {12}}),
    "registry_set": ({SYSMON: {13}}),
    "registry_rename": ({SYSMON: {14}}),
    "registry_event": ({SYSMON: {12, 13, 14}}),
    "create_stream_hash": ({SYSMON: {15}}),
    "pipe_created": ({SYSMON: {17, 18}}),
    "wmi_event": ({SYSMON: {19, 20, 21}}),
    "dns_query": ({SYSMON: {22}}),
    "file_delete": ({SYSMON: {23, 26}}),
    "clipboard_capture": ({SYSMON: {24}}),
    "process_tampering": ({SYSMON: {25}}),
    "file_block_executable": ({SYSMON: {27}}),
    "file_block_shredding": ({SYSMON: {28}}),
    "file_executable_detected": ({SYSMON: {29}}),
    "sysmon_error": ({SYSMON: {255}}),
    "ps_module": ({"Microsoft-Windows-PowerShell/Operational": {4103}, "PowerShellCore/Operational": {4103}}),
    "ps_script": ({"Microsoft-Windows-PowerShell/Operational": {4104}, "PowerShellCore/Operational": {4104}}),
    "ps_classic_start": ({"Windows PowerShell": {400}}),
    "ps_classic_provider_start": ({"Windows PowerShell": {600}}),
    "ps_classic_script": ({"Windows PowerShell": {800}}),
}
SERVICE = {
    "security": "Security",
    "system": "System",
    "application": "Application",
    "sysmon": SYSMON,
    "powershell": "Microsoft-Windows-PowerShell/Operational",
    "powershell-classic": "Windows PowerShell",
    "taskscheduler": "Microsoft-Windows-TaskScheduler/Operational",
    "wmi": "Microsoft-Windows-WMI-Activity/Operational",
    "windefend": "Microsoft-Windows-Windows Defender/Operational",
    "terminalservices-localsessionmanager": "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    "dns-server": "DNS Server",
    "bits-client": "Microsoft-Windows-Bits-Client/Operational",
    "codeintegrity-operational": "Microsoft-Windows-CodeIntegrity/Operational",
    "firewall-as": "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
    "driver-framework": "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
    "ntlm": "Microsoft-Windows-NTLM/Operational",
    "smbclient-security": "Microsoft-Windows-SmbClient/Security",
    "applocker": None,  # several channels
    "msexchange-management": "MSExchange Management",
    "printservice-admin": "Microsoft-Windows-PrintService/Admin",
    "printservice-operational": "Microsoft-Windows-PrintService/Operational",
    "openssh": "OpenSSH/Operational",
    "vhdmp": "Microsoft-Windows-VHDMP/Operational",
    "appmodel-runtime": "Microsoft-Windows-AppModel-Runtime/Admin",
    "capi2": "Microsoft-Windows-CAPI2/Operational",
    "certificateservicesclient-lifecycle-system": "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    "lsa-server": "Microsoft-Windows-LSA/Operational",
    "dhcp": "Microsoft-Windows-DHCP-Server/Operational",
    "diagnosis-scripted": "Microsoft-Windows-Diagnosis-Scripted/Operational",
    "shell-core": "Microsoft-Windows-Shell-Core/Operational",
    "security-mitigations": None,
    "kernel-shimengine": None,
}


def load_rules(dirs):
    """Rule id → {title, path, product, category, service}; also title → [ids]."""
    rules, by_title = {}, collections.defaultdict(list)
    for d in dirs:
        for root, _, files in os.walk(d):
            for name in files:
                if not name.endswith((".yml", ".yaml")):
                    continue
                path = os.path.join(root, name)
                meta = read_rule_meta(path)
                if meta and meta.get("id"):
                    rules[meta["id"]] = meta
                    by_title[meta.get("title", "")].append(meta["id"])
    return rules, by_title


def read_rule_meta(path):
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return None
    doc = None
    if yaml is not None:
        try:
            doc = next(iter(yaml.safe_load_all(text)), None)
        except yaml.YAMLError:
            doc = None
    if not isinstance(doc, dict):
        return None
    ls = doc.get("logsource") or {}
    return {
        "id": str(doc.get("id", "")),
        "title": str(doc.get("title", "")),
        "path": path,
        "product": str(ls.get("product", "") or ""),
        "category": str(ls.get("category", "") or ""),
        "service": str(ls.get("service", "") or ""),
        "detection": doc.get("detection") or {},
    }


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        head = f.read(1)
        f.seek(0)
        if head == "[":
            yield from json.load(f)
            return
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def dig(obj, *keys):
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def norm_file(path, data_dir):
    path = os.path.realpath(path)
    rel = os.path.relpath(path, data_dir)
    return rel if not rel.startswith("..") else path


def peer_keys(path, data_dir, by_title):
    keys, unresolved = set(), collections.Counter()
    for obj in read_jsonl(path):
        rid = obj.get("id") or obj.get("rule_id")
        if not rid:
            ids = by_title.get(obj.get("name") or obj.get("title") or "", [])
            if len(ids) != 1:
                unresolved[obj.get("name") or obj.get("title")] += 1
                continue
            rid = ids[0]
        docs = []
        if "document" in obj:
            docs = [obj["document"]]
        elif "documents" in obj:
            docs = obj["documents"]
        if docs:
            for d in docs:
                rec = dig(d, "data", "Event", "System", "EventRecordID")
                keys.add((rid, norm_file(d.get("path", ""), data_dir), int(rec or 0)))
        else:
            keys.add((rid, norm_file(obj.get("file", ""), data_dir), int(obj.get("record_id") or 0)))
    return keys, unresolved


def ir110_keys(path, data_dir):
    keys = set()
    for obj in read_jsonl(path):
        if not obj.get("rule_id"):
            continue
        keys.add((obj["rule_id"], norm_file(obj.get("file", ""), data_dir), int(obj.get("record_id") or 0)))
    return keys


def logsource_admits(meta, channel, event_id):
    """True/False when the logsource says whether (channel, EventID) can be the rule's; None if
    this script does not know the logsource."""
    cat, svc = meta.get("category"), meta.get("service")
    if cat:
        allowed = CATEGORY.get(cat)
        if allowed is None:
            return None
        if svc and SERVICE.get(svc) and cat not in CATEGORY:
            return channel == SERVICE[svc]
        return event_id in allowed.get(channel, set())
    if svc:
        ch = SERVICE.get(svc)
        if ch is None:
            return None
        return channel == ch
    return None


def load_mapping(path):
    """Chainsaw mapping: Sigma field → document path, and the excluded rule titles."""
    if yaml is None:
        return None
    m = yaml.safe_load(open(path, encoding="utf-8"))
    fields = {}
    for g in m.get("groups", []):
        for f in g.get("fields", []):
            src = f.get("from") or f.get("name") or f.get("to")
            fields[src] = f.get("to") or src
    return fields, set(m.get("exclusions") or [])


def identifiers(det):
    return {k: v for k, v in det.items() if k not in ("condition", "timeframe")}


def detection_fields(det):
    out = set()

    def walk(v):
        if isinstance(v, dict):
            for k in v:
                name = str(k).split("|")[0]
                if name:
                    out.add(name)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for v in identifiers(det).values():
        walk(v)
    return out


def all_of_list(det):
    cond = det.get("condition")
    conds = cond if isinstance(cond, list) else [cond]
    for c in conds:
        for prefix in re.findall(r"all of (\S+?)\*", str(c)):
            for k, v in identifiers(det).items():
                if k.startswith(prefix) and isinstance(v, list) and len(v) > 1 and all(isinstance(x, dict) for x in v):
                    return True
    return False


def inner_wildcard(det):
    def vals(v):
        if isinstance(v, list):
            for x in v:
                yield from vals(x)
        elif isinstance(v, str):
            yield v

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                mods = str(k).split("|")[1:]
                if {"contains", "startswith", "endswith"} & set(mods) and "re" not in mods:
                    for s in vals(x):
                        if re.search(r"(?<!\\)[*?]", s.strip("*")):
                            return True
        elif isinstance(v, list):
            return any(walk(x) for x in v)
        return False

    return any(walk(v) for v in identifiers(det).values())


SYSTEM_FIELDS = {"EventID", "Channel", "Provider_Name", "Computer", "EventRecordID", "Level", "Keywords"}


def absent_in_record(det, rec):
    """A filter on a field this record does not have: Sigma reads the filter as false (so
    `not filter` holds and the rule fires); tau-engine (Chainsaw) makes `not` of a missing
    field false, and the rule never fires."""
    if not rec or len(rec) < 3 or not rec[2]:
        return None
    filters = {k: v for k, v in identifiers(det).items() if k not in selections(det)}
    missing = sorted(f for f in detection_fields(filters) if f not in rec[2] and f not in SYSTEM_FIELDS)
    return ("peer-not-on-absent-field: " + ", ".join(missing)) if missing else None


def selections(det):
    """The identifiers that can make a rule fire (filters only take hits away)."""
    return {k: v for k, v in identifiers(det).items() if not str(k).startswith("filter")}


def int_values(det):
    """An integer compared with a field other than EventID (Windows renders most numbers of
    Security events as text: DestPort "3389")."""

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if str(k).split("|")[0] != "EventID" and any(isinstance(y, int) and not isinstance(y, bool) for y in values(x)):
                    return True
        elif isinstance(v, list):
            return any(walk(x) for x in v)
        return False

    return any(walk(v) for v in selections(det).values())


def values(v):
    """Every scalar value of a detection identifier (maps, lists of maps, lists)."""
    if isinstance(v, dict):
        for x in v.values():
            yield from values(x)
    elif isinstance(v, list):
        for x in v:
            yield from values(x)
    else:
        yield v


def has_null(det):
    """A `field: null` test in a selection (not in a filter, which only removes hits)."""
    return any(
        x is None
        for k, v in identifiers(det).items()
        if not str(k).startswith("filter")
        for x in values(v)
    )


def escapes(det):
    """Sigma escapes in a value: `\\\\` (one backslash), `\\*`, `\\?` (literal wildcards)."""
    return any(
        isinstance(x, str) and re.search(r"\\\\|\\\*|\\\?", x)
        for v in identifiers(det).values()
        for x in values(v)
    )


def bool_strings(det):
    return any(
        isinstance(x, str) and x.lower() in ("true", "false")
        for v in identifiers(det).values()
        for x in values(v)
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ir110", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--peer-name", default="peer")
    ap.add_argument("--data", required=True)
    ap.add_argument("--rules", action="append", required=True)
    ap.add_argument("--peer-failed", help="TSV: rule path <TAB> reason, rules the peer did not load")
    ap.add_argument("--records", help="JSON lines: file, record_id, channel, event_id")
    ap.add_argument("--peer-mapping", help="the Chainsaw mapping file the peer ran with")
    ap.add_argument("--details", help="write every difference as TSV here")
    a = ap.parse_args()

    data_dir = os.path.realpath(a.data)
    rules, by_title = load_rules(a.rules)
    peer, unresolved = peer_keys(a.peer, data_dir, by_title)
    ours = ir110_keys(a.ir110, data_dir)
    # Only rules from the given directories take part (ir110 may have been run with more).
    peer = {k for k in peer if k[0] in rules}
    ours = {k for k in ours if k[0] in rules}

    failed = {}
    if a.peer_failed:
        for line in open(a.peer_failed, encoding="utf-8"):
            p, _, why = line.rstrip("\n").partition("\t")
            failed[os.path.realpath(p)] = why
    records = {}
    if a.records:
        for obj in read_jsonl(a.records):
            records[(norm_file(obj["file"], data_dir), int(obj["record_id"]))] = (
                obj.get("channel"),
                obj.get("event_id"),
                set(obj.get("fields") or []),
            )

    shared = peer & ours
    only_peer = sorted(peer - ours)
    only_ours = sorted(ours - peer)
    name = a.peer_name
    print(f"{name} hits: {len(peer)}   ir110 hits: {len(ours)}   shared: {len(shared)}")
    print(f"only {name}: {len(only_peer)}   only ir110: {len(only_ours)}")
    if unresolved:
        print(f"{name} hits whose rule could not be identified: {sum(unresolved.values())}")

    def cause_peer(k):
        meta = rules[k[0]]
        if meta["product"] and meta["product"] != "windows":
            return "non-windows-rule"
        rec = records.get((k[1], k[2]))
        if rec:
            ok = logsource_admits(meta, rec[0], rec[1])
            if ok is False:
                return "logsource-mismatch"
        return "to-check"

    mapping = load_mapping(a.peer_mapping) if a.peer_mapping else None

    def cause_ours(k):
        meta = rules[k[0]]
        det = meta["detection"]
        if os.path.realpath(meta["path"]) in failed:
            return "peer-rule-not-loaded: " + failed[os.path.realpath(meta["path"])].split(":")[0]
        rec = records.get((k[1], k[2]))
        if rec and rec[0] == "Security" and rec[1] == 4688 and meta["category"] == "process_creation":
            return "ir110-process-creation-on-4688"
        if has_null(det):
            return "ir110-empty-is-null"
        if mapping is None:
            return absent_in_record(det, rec) or "to-check"
        fields_to, exclusions = mapping
        if meta["title"] in exclusions:
            return "peer-excluded"
        used = detection_fields(selections(det))
        if "Provider_Name" in used and "EventData" in fields_to.get("Provider_Name", ""):
            return "peer-provider-name"
        unmapped = sorted(f for f in used if f not in fields_to)
        if unmapped:
            return "peer-unmapped-field: " + ", ".join(unmapped)
        if all_of_list(det):
            return "peer-all-of-list"
        if inner_wildcard(det):
            return "peer-inner-wildcard"
        if escapes(det):
            return "peer-escapes"
        if bool_strings(det):
            return "peer-bool-as-string"
        filters = {k: v for k, v in identifiers(det).items() if k not in selections(det)}
        absent = [
            f
            for f in detection_fields(filters)
            if f not in fields_to or (f == "Provider_Name" and "EventData" in fields_to[f])
        ]
        if absent:
            return "peer-not-on-absent-field: " + ", ".join(sorted(absent))
        in_record = absent_in_record(det, rec)
        if in_record:
            return in_record
        if int_values(det):
            return "peer-int-vs-string"
        return "to-check"

    details = []
    for title, diff, cause in ((f"only {name}", only_peer, cause_peer), ("only ir110", only_ours, cause_ours)):
        by_cause = collections.Counter()
        by_rule = collections.defaultdict(collections.Counter)
        for k in diff:
            c = cause(k)
            by_cause[c] += 1
            by_rule[c][k[0]] += 1
            details.append((title, c, k[0], rules[k[0]]["title"], k[1], k[2]))
        print(f"\n{title} by cause:")
        for c, n in by_cause.most_common():
            print(f"  {n:6}  {c}  ({len(by_rule[c])} rules)")
            if c == "to-check" or len(by_rule[c]) <= 5:
                for rid, m in by_rule[c].most_common():
                    print(f"          {m:6}  {rid}  {rules[rid]['title']}")
    if a.details:
        with open(a.details, "w", encoding="utf-8") as f:
            f.write("side\tcause\trule_id\ttitle\tfile\trecord_id\n")
            for row in details:
                f.write("\t".join(str(x) for x in row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
