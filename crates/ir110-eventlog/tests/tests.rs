//! Integration tests of ir110-eventlog: readers on real and damaged logs, the analyzer on the
//! demo incident, hunting.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failure is a test failure"
)]

use std::path::{Path, PathBuf};

use ir110_eventlog::{EventLogAnalyzer, ReadOptions, read_files, source_file};
use ir110_model::{AnalysisContext, Analyzer, Catalog, ProblemKind, Severity, SourceFile};

/// Collects everything an analyzer pushes.
/// Every test collects what analyzers push in memory.
type Collect = ir110_model::MemorySink;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The shared public data sets, or `None` (with a note) when they are not there.
fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is missing", p.display());
        None
    }
}

fn sources(paths: &[PathBuf]) -> Vec<SourceFile> {
    let (files, errors) = ir110_eventlog::discover(paths);
    assert!(errors.is_empty(), "{errors:?}");
    // Paths relative to the crate, so that snapshots do not depend on the checkout.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    files
        .iter()
        .map(|p| {
            let mut s = source_file(p).unwrap();
            if let Ok(rel) = p.strip_prefix(root) {
                s.display_path = rel.display().to_string();
            }
            s
        })
        .collect()
}

fn run(paths: &[PathBuf]) -> Collect {
    let sink = Collect::default();
    let analyzer = EventLogAnalyzer::default();
    let srcs = sources(paths);
    assert!(srcs.iter().all(|s| analyzer.accepts(s)));
    analyzer.analyze(&srcs, &AnalysisContext::default(), &sink);
    sink
}

#[test]
fn demo_incident_gives_each_finding() {
    let sink = run(&[data("jsonl/demo-incident.jsonl")]);
    assert!(sink.problems.lock().unwrap().is_empty());
    let findings = sink.findings.lock().unwrap();
    let rules: Vec<(&str, Severity)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("eventlog.brute-force-success", Severity::Critical),
            ("eventlog.external-logon", Severity::High),
            ("eventlog.log-cleared", Severity::High),
            ("eventlog.service-installed", Severity::High),
            ("eventlog.external-sources", Severity::Info),
            ("eventlog.lateral-movement", Severity::Info),
            ("eventlog.logon-summary", Severity::Info),
        ]
    );
    let brute = &findings[0];
    assert_eq!(brute.data["failures_before_success"], 40);
    assert_eq!(brute.data["success_logon_type"], "10");
    assert_eq!(brute.attack, vec!["T1110.001", "T1078"]);
    // The success is cited first, then the earliest failures.
    assert_eq!(
        brute.evidence[0].locator.as_deref(),
        Some("record 142"),
        "{:?}",
        brute.evidence
    );
    assert_eq!(brute.evidence.len(), 21);
    let service = &findings[3];
    assert_eq!(service.data["image_path"], "C:\\Users\\Public\\svchost.exe");
    assert_eq!(
        service.data["reasons"],
        serde_json::json!(["user-writable-folder"])
    );
    // Timeline: 1 + 40 + 1 logons, the service, the clearing; 4672 is not on it.
    let events = sink.events.lock().unwrap();
    assert_eq!(events.len(), 44);
    let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        vec!["log-cleared", "logon", "logon-failed", "service-installed"]
    );
    let fail = events.iter().find(|e| e.kind == "logon-failed").unwrap();
    assert_eq!(fail.fields["source.ip"], "203.0.113.50");
    assert_eq!(fail.fields["user.name"], "administrator");
    assert_eq!(fail.fields["event.code"], "4625");

    // Every message key used renders in both languages.
    let catalog =
        Catalog::from_sources(&[ir110_model::MESSAGES, ir110_eventlog::MESSAGES]).unwrap();
    for f in findings.iter() {
        let mut messages = vec![&f.title];
        messages.extend(f.summary.as_ref());
        messages.extend(f.actions.iter());
        for m in messages {
            assert!(catalog.contains(&m.key), "missing message {}", m.key);
        }
    }
    let redacted: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap();
            v["data"].as_object_mut().unwrap().remove("graph");
            v
        })
        .collect();
    // Sorted keys: serde_json's map order depends on features other crates enable.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("demo_incident_findings", redacted);
    });
}

#[test]
fn every_message_key_of_the_code_is_in_the_catalogue() {
    let catalog =
        Catalog::from_sources(&[ir110_model::MESSAGES, ir110_eventlog::MESSAGES]).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // Literal keys: "eventlog.x.y" and "hunt.x" used with Message::new.
        for piece in text.split("Message::new(\"").skip(1) {
            let key = &piece[..piece.find('"').unwrap()];
            if !catalog.contains(key) {
                missing.push(key.to_owned());
            }
        }
    }
    // Keys built with format!: every variant.
    for ind in [
        "encoded-command",
        "download-cradle",
        "amsi-bypass",
        "credential-theft",
        "offensive-framework",
        "defender-tampering",
        "log-clearing",
        "shadow-copy-deletion",
    ] {
        let key = format!("eventlog.ps-indicator.{ind}");
        if !catalog.contains(&key) {
            missing.push(key);
        }
    }
    for id in ["5001", "5010", "5012", "5013"] {
        let key = format!("eventlog.defender-tampering.{id}");
        if !catalog.contains(&key) {
            missing.push(key);
        }
    }
    for rule in ["brute-force", "password-spraying"] {
        for part in ["title", "summary"] {
            let key = format!("eventlog.{rule}.{part}");
            if !catalog.contains(&key) {
                missing.push(key);
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}

#[test]
fn other_json_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let zeek = dir.path().join("conn.log");
    std::fs::write(
        &zeek,
        "{\"ts\":1.0,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\"}\n{\"ts\":2.0,\"uid\":\"C2\"}\nnot json\n",
    )
    .unwrap();
    let sink = run(&[zeek]);
    assert!(sink.problems.lock().unwrap().is_empty());
    assert!(sink.events.lock().unwrap().is_empty());
    assert!(sink.findings.lock().unwrap().is_empty());
}

#[test]
fn json_document_shapes_and_broken_lines() {
    let dir = tempfile::tempdir().unwrap();
    let array = dir.path().join("export.json");
    std::fs::write(
        &array,
        r#"[
  {"System":{"Provider":{"Name":"Microsoft-Windows-Security-Auditing"},"EventID":{"Value":4625},
   "TimeCreated":{"SystemTime":1768006923.0},"EventRecordID":5,"Channel":"Security","Computer":"WS1"},
   "EventData":{"TargetUserName":"bob","IpAddress":"10.0.0.9","LogonType":3}},
  {"@timestamp":"2026-01-10T01:02:04Z","winlog":{"event_id":4625,"channel":"Security","computer_name":"WS1",
   "event_data":{"TargetUserName":"eve","IpAddress":"10.0.0.9","LogonType":"3"}}}
]"#,
    )
    .unwrap();
    let lines = dir.path().join("mixed.jsonl");
    let good = std::fs::read_to_string(data("jsonl/demo-incident.jsonl")).unwrap();
    let first = good.lines().next().unwrap();
    std::fs::write(
        &lines,
        format!("{first}\n{{\"Event\": broken\n{first}\n{{\"Event\":"),
    )
    .unwrap();
    let srcs = sources(&[array, lines]);
    let stats = read_files(&srcs, &ReadOptions::default(), &|_| {});
    assert_eq!((stats[0].records, stats[0].record_errors), (2, 0));
    assert_eq!((stats[1].records, stats[1].record_errors), (2, 2));
    assert!(stats[1].truncated);
    assert_eq!(stats[1].problem_kind(), Some(ProblemKind::Truncated));
}

/// Bytes of an EVTX file header and of a chunk.
const HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// Counts (records, record errors, chunk errors, problem) of reading `bytes` as an EVTX file.
fn read_evtx_bytes(bytes: &[u8]) -> (u64, u64, u64, Option<ProblemKind>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("damaged.evtx");
    std::fs::write(&p, bytes).unwrap();
    let srcs = sources(&[p]);
    let st = read_files(&srcs, &ReadOptions::default(), &|_| {}).remove(0);
    (
        st.records,
        st.record_errors,
        st.chunk_errors,
        st.problem_kind(),
    )
}

#[test]
fn real_evtx_samples_read_cleanly_with_exact_counts() {
    let Some(dir) = shared("evtx/EVTX-ATTACK-SAMPLES") else {
        return;
    };
    let srcs: Vec<SourceFile> = sources(&[dir])
        .into_iter()
        .filter(|s| s.kind == ir110_model::SourceKind::Evtx)
        .collect();
    assert_eq!(srcs.len(), 277);
    let stats = read_files(&srcs, &ReadOptions::default(), &|_| {});
    let records: u64 = stats.iter().map(|s| s.records).sum();
    let errors: u64 = stats.iter().map(|s| s.record_errors + s.chunk_errors).sum();
    assert_eq!((records, errors), (8255, 0));
    // Carving unallocated space finds stale records that a normal read does not show.
    let carving = ReadOptions {
        recover_records: true,
        ..ReadOptions::default()
    };
    let stats = read_files(&srcs, &carving, &|_| {});
    let records: u64 = stats.iter().map(|s| s.records).sum();
    let errors: u64 = stats.iter().map(|s| s.record_errors + s.chunk_errors).sum();
    let recovered: u64 = stats.iter().map(|s| s.recovered).sum();
    assert_eq!((records, errors, recovered), (9391, 0, 1136));
}

#[test]
fn damaged_evtx_yields_every_readable_record() {
    let Some(dir) = shared("evtx/EVTX-ATTACK-SAMPLES") else {
        return;
    };
    let path = dir.join("Lateral Movement/LM_5145_Remote_FileCopy.evtx");
    let clean = std::fs::read(&path).unwrap();
    let whole = read_evtx_bytes(&clean);

    // Cut in the middle of the second chunk: the first chunk is read, the rest is lost.
    let cut = read_evtx_bytes(&clean[..HEADER + CHUNK + CHUNK / 2]);
    // A chunk whose magic was overwritten (partially overwritten log).
    let mut bad_magic = clean.clone();
    bad_magic[HEADER + CHUNK..HEADER + CHUNK + 8].copy_from_slice(b"XXXXXXXX");
    let magic = read_evtx_bytes(&bad_magic);
    // Garbage in the middle of the first chunk's records.
    let mut garbled = clean.clone();
    for b in &mut garbled[HEADER + 8192..HEADER + 8192 + 512] {
        *b = 0xAA;
    }
    let garbage = read_evtx_bytes(&garbled);
    // Only the file header: nothing to read, no panic.
    let header_only = read_evtx_bytes(&clean[..HEADER]);
    // Not even a whole file header.
    let stub = read_evtx_bytes(&clean[..100]);
    assert_eq!(whole, (869, 0, 0, None));
    // 98 records of the first chunk; the cut chunk is named as truncation.
    assert_eq!(cut, (98, 0, 0, Some(ProblemKind::Truncated)));
    // The other 16 chunks are read; the overwritten one is counted.
    assert_eq!(magic, (770, 0, 1, Some(ProblemKind::Corrupt)));
    // Two records broken, the parser resynchronises on the next record.
    assert_eq!(garbage, (867, 2, 0, Some(ProblemKind::Corrupt)));
    assert_eq!(header_only, (0, 0, 0, Some(ProblemKind::Truncated)));
    assert_eq!(stub, (0, 0, 0, Some(ProblemKind::Unreadable)));
}

/// Reads a JSON-lines output file.
fn read_jsonl(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hunt_demo_incident_with_builtin_rules() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ir110_eventlog::HuntOptions {
        jsonl: Some(dir.path().join("d.jsonl")),
        timeline: Some(dir.path().join("t.csv")),
        ..Default::default()
    };
    let r = ir110_eventlog::hunt(&[data("jsonl/demo-incident.jsonl")], &opts, &|_| {}).unwrap();
    assert!(r.builtin_rules);
    assert_eq!((r.files, r.records, r.unreadable_records), (1, 45, 0));
    let by_rule: Vec<(String, u64)> = r
        .by_rule
        .iter()
        .map(|c| (c.title.clone(), c.count))
        .collect();
    let expect = |t: &str| (t.to_owned(), 1u64);
    assert_eq!(
        by_rule,
        vec![
            expect("New Service Installed"),
            expect("RDP Logon From A Public Address"),
            expect("Security Event Log Cleared"),
            expect("Suspicious Service Installed"),
        ]
    );
    // The 40 failures are reported through the brute-force correlation, not one by one.
    assert_eq!(r.correlations.len(), 1);
    assert_eq!(
        r.correlations[0].title,
        "Brute Force Logon Attempts From One Source"
    );
    assert_eq!(r.correlations[0].count, 40);
    assert_eq!(
        r.correlations[0].group,
        vec![("IpAddress".to_owned(), "203.0.113.50".to_owned())]
    );
    assert_eq!(r.by_host, vec![("FS01.corp.example".to_owned(), 4)]);
    let lines = read_jsonl(&dir.path().join("d.jsonl"));
    assert_eq!(lines.len() as u64, r.detections);
    for key in [
        "rule_id",
        "rule_title",
        "level",
        "timestamp",
        "computer",
        "channel",
        "event_id",
        "record_id",
        "file",
        "fields",
        "tags",
    ] {
        assert!(lines.iter().all(|l| l.get(key).is_some()), "{key}");
    }
    let times: Vec<&str> = lines
        .iter()
        .map(|l| l["timestamp"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "sorted by time");
    let csv = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, r.detections + 1);
    assert_eq!(r.findings.len(), 7);
    // A case keeps the analytics findings and one finding per rule that fired.
    assert_eq!(r.all_findings().len(), 11);
}

/// SigmaHQ's regression suite through this crate's reader: for every rule/EVTX pair, the rule
/// (found by its id among all SigmaHQ rules) must fire on the records [`read_files`] yields.
/// The same suite runs in `ir110-sigma` on the engine's own JSON records; this one checks that
/// `WinEvent` gives the engine the same fields, down to the number of hits.
#[test]
fn sigma_regression_pairs_fire_through_the_reader() {
    let Some(root) = shared("sigma") else {
        return;
    };
    let dirs: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let (rules, _) = ir110_sigma::RuleSet::load(&dirs, &Default::default());
    let (infos, _) = ir110_eventlog::discover(&[root.join("regression_data")]);
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut counts_differ = Vec::new();
    for info in infos.iter().filter(|p| p.ends_with("info.yml")) {
        let text = std::fs::read_to_string(info).unwrap();
        let mut rule_id = None;
        let mut evtx = None;
        let mut want: Option<u64> = None;
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            let t = line.trim();
            if rule_id.is_none()
                && let Some(id) = t.strip_prefix("- id:")
            {
                rule_id = Some(id.trim().to_owned());
            }
            if let Some(p) = t.strip_prefix("path:") {
                evtx = Some(root.join(p.trim()));
            }
            if let Some(n) = t.strip_prefix("match_count:") {
                want = n.trim().parse().ok();
            }
        }
        let (Some(rule_id), Some(evtx)) = (rule_id, evtx) else {
            continue;
        };
        let hits = std::sync::atomic::AtomicU64::new(0);
        read_files(&sources(&[evtx]), &ReadOptions::default(), &|b| {
            for e in &b.events {
                let n = rules
                    .matches(e)
                    .filter(|m| m.rule.id.as_deref() == Some(rule_id.as_str()))
                    .count() as u64;
                hits.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let hits = hits.into_inner();
        checked += 1;
        let name = info
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if hits == 0 {
            failures.push(name);
        } else if let Some(n) = want
            && n != hits
        {
            counts_differ.push(format!("{name}:{hits}/{n}"));
        }
    }
    assert_eq!(checked, 202);
    assert!(failures.is_empty(), "{failures:#?}");
    // Exactly the differences `ir110-sigma`'s own run of the suite explains (each extra hit is
    // a record that satisfies the rule as written).
    counts_differ.sort();
    assert_eq!(
        counts_differ,
        vec![
            "file_event_win_anydesk_artefact:3/1",
            "file_event_win_cred_dump_tools_dropped_files:3/1",
            "registry_set_change_security_zones:3/1",
            "registry_set_disable_administrative_share:2/1",
        ]
    );
}

#[test]
fn activity_spraying_and_lateral_movement() {
    let sink = run(&[data("jsonl/activity.jsonl")]);
    assert!(sink.problems.lock().unwrap().is_empty());
    let findings = sink.findings.lock().unwrap();
    let rules: Vec<(&str, Severity, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.rule.as_str(),
                f.severity,
                f.hosts.first().map_or("", String::as_str),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            (
                "eventlog.defender-detection",
                Severity::High,
                "WS01.corp.example"
            ),
            (
                "eventlog.defender-tampering",
                Severity::High,
                "WS01.corp.example"
            ),
            (
                "eventlog.external-logon",
                Severity::High,
                "WS01.corp.example"
            ),
            ("eventlog.log-cleared", Severity::High, "WS01.corp.example"),
            (
                "eventlog.powershell-suspicious",
                Severity::High,
                "WS01.corp.example"
            ),
            ("eventlog.task-created", Severity::High, "WS01.corp.example"),
            (
                "eventlog.lateral-movement",
                Severity::Medium,
                "APP01.corp.example"
            ),
            (
                "eventlog.password-spraying",
                Severity::Medium,
                "DC01.corp.example"
            ),
            ("eventlog.external-sources", Severity::Info, ""),
            ("eventlog.logon-summary", Severity::Info, ""),
        ]
    );
    let by_rule = |r: &str| findings.iter().find(|f| f.rule == r).unwrap();
    let spray = by_rule("eventlog.password-spraying");
    assert_eq!(spray.data["accounts_tried"], 15);
    assert_eq!(spray.data["failures"], 30);
    assert_eq!(spray.attack, vec!["T1110.003"]);
    let ps = by_rule("eventlog.powershell-suspicious");
    assert_eq!(ps.data["indicator"], "download-cradle");
    assert_eq!(ps.attack, vec!["T1059.001", "T1105"]);
    let task = by_rule("eventlog.task-created");
    assert_eq!(task.data["command"], "C:\\ProgramData\\u.exe -q");
    assert_eq!(task.data["count"], 2);
    assert_eq!(by_rule("eventlog.log-cleared").data["user"], "CORP\\suzuki");
    let lateral = by_rule("eventlog.lateral-movement");
    assert_eq!(
        lateral.data["spreading_accounts"],
        serde_json::json!(["CORP\\it-admin"])
    );
    let graph: ir110_eventlog::Graph =
        serde_json::from_value(lateral.data["graph"].clone()).unwrap();
    assert_eq!((graph.nodes.len(), graph.edges.len()), (6, 4));
    let svg = ir110_eventlog::lateral_movement_svg(&graph);
    assert_eq!(svg.matches("<circle").count(), 6);
    // Timeline: 1 suspicious script block of 2, 1 + 1 Defender, 2 task records, 1 clearing,
    // 30 failures, 3 logons, 1 RDP authentication.
    assert_eq!(sink.events.lock().unwrap().len(), 40);
}

/// Hits the peer comparison (`scripts/parity-hunt.sh`) found ir110 missing, on the real
/// samples with the real SigmaHQ rules: the trailing blank of `LogonProcessName` ("NtLmSsp ")
/// and the two "Eventlog Cleared" rules sharing the System channel's index bucket.
#[test]
fn peer_parity_hits_on_attack_samples() {
    let (Some(sigma), Some(evtx)) = (shared("sigma/rules"), shared("evtx/EVTX-ATTACK-SAMPLES"))
    else {
        return;
    };
    let rules = [
        sigma.join("windows/builtin/security/account_management/win_security_pass_the_hash_2.yml"),
        sigma.join("windows/builtin/system/microsoft_windows_eventlog"),
    ];
    let (rules, diags) = ir110_sigma::RuleSet::load(&rules, &Default::default());
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(rules.counts().rules, 3);
    let files = [
        "Lateral Movement/ImpersonateUser-via local Pass The Hash Sysmon and Security.evtx",
        "Privilege Escalation/privexchange_dirkjan.evtx",
        "Defense Evasion/DE_104_system_log_cleared.evtx",
        "Credential Access/Zerologon_CVE-2020-1472_DFIR_System_NetLogon_Error_EventID_5805.evtx",
    ]
    .map(|f| evtx.join(f));
    let hits = std::sync::Mutex::new(Vec::new());
    read_files(&sources(&files), &ReadOptions::default(), &|b| {
        for e in &b.events {
            for m in rules.matches(e) {
                let id = m.rule.id.clone().unwrap_or_default();
                hits.lock()
                    .unwrap()
                    .push((id[..8].to_owned(), e.record_id.unwrap_or(0)));
            }
        }
    });
    let mut hits = hits.into_inner().unwrap();
    hits.sort();
    let want: Vec<(String, u64)> = [
        // Important Windows Eventlog Cleared (System channel 104)
        ("100ef69e", 27_736),
        ("100ef69e", 63_220),
        // Pass the Hash Activity 2 (LogonProcessName "NtLmSsp ")
        ("8eef149c", 65_969),
        ("8eef149c", 321_446),
    ]
    .iter()
    .map(|(r, n)| ((*r).to_owned(), *n))
    .collect();
    assert_eq!(hits, want);
}
