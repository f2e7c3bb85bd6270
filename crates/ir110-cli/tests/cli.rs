//! End-to-end tests of the `ir110` binary: every test runs the real binary against its own
//! temporary store and folders, and failures print the command, its stdout and stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary world for one test: a store URL and a scratch folder.
struct World {
    dir: tempfile::TempDir,
    db: String,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("store/ir110.db").display());
        World { dir, db }
    }

    /// A world whose store is PostgreSQL (a fresh schema) when the CI provides one.
    fn postgres() -> Option<World> {
        let url = std::env::var("IR110_TEST_POSTGRES_URL").ok()?;
        let schema = format!("cli_{}_{}", std::process::id(), rand_suffix());
        let sep = if url.contains('?') { '&' } else { '?' };
        let db = format!("{url}{sep}options=-c%20search_path%3D{schema}");
        let psql = Command::new("psql")
            .arg(&url)
            .arg("-c")
            .arg(format!("CREATE SCHEMA {schema}"))
            .output();
        match psql {
            Ok(o) if o.status.success() => {}
            other => panic!("cannot create schema {schema} with psql: {other:?}"),
        }
        Some(World {
            dir: tempfile::tempdir().unwrap(),
            db,
        })
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ir110"));
        cmd.args(args)
            .env("IR110_DB", &self.db)
            .env("USER", "tester")
            .env_remove("LANG")
            .env_remove("LC_ALL");
        cmd
    }

    /// Runs and asserts exit code 0.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        check(args, &out, 0);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and returns the raw output.
    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// The store's audit log, oldest first, after checking that its hash chain verifies and
    /// covers exactly these entries.
    fn audit(&self) -> Vec<(String, String)> {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = ir110_store::Store::open(&self.db).await.unwrap();
            let verdict = store.verify_audit().await.unwrap();
            let mut entries = store.list_audit(None, 1000).await.unwrap();
            store.close().await;
            entries.reverse();
            assert_eq!(verdict.first_broken, None, "the audit chain verifies");
            assert_eq!(verdict.entries as usize, entries.len());
            entries.into_iter().map(|e| (e.actor, e.action)).collect()
        })
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

fn check(args: &[&str], out: &Output, code: i32) {
    if out.status.code() != Some(code) {
        panic!(
            "`ir110 {}` exited with {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    p.exists().then_some(p)
}

#[test]
fn firstaid_all_symptoms_in_both_languages() {
    let w = World::new();
    for lang in ["ja", "en"] {
        let text = w.ok(&["--lang", lang, "firstaid", "--all"]);
        insta::assert_snapshot!(format!("firstaid_all_{lang}"), text);
        let list = w.ok(&["--lang", lang, "firstaid", "--list"]);
        assert_eq!(list.lines().count(), 9, "{list}");
    }
    let json: Value =
        serde_json::from_str(&w.ok(&["firstaid", "--symptom", "emotet", "--json", "--lang", "en"]))
            .unwrap();
    assert_eq!(json["symptom"], "emotet");
    let bad = w.run(&["firstaid", "--symptom", "flood"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("files-wont-open"),
        "lists the valid symptoms"
    );
}

fn case_round_trip(w: &World) {
    let created: Value = serde_json::from_str(&w.ok(&[
        "case",
        "new",
        "--client",
        "株式会社サンプル",
        "--type",
        "ransomware,leak",
        "--policy",
        "evidence-first",
        "--decided-by",
        "情報システム部 佐藤",
        "--nda-date",
        "2026-11-20",
        "--reference",
        "IR-2026-0042",
        "--json",
    ]))
    .unwrap();
    assert_eq!(created["reference"], "IR-2026-0042");
    assert_eq!(created["client_name"], "株式会社サンプル");
    assert_eq!(created["types"], serde_json::json!(["ransomware", "leak"]));
    assert_eq!(created["policy"]["policy"], "evidence-first");
    assert_eq!(created["policy"]["decided_by"], "情報システム部 佐藤");
    assert_eq!(created["nda_date"], "2026-11-20");
    assert_eq!(created["phase"], "intake");
    let id = created["id"].as_i64().unwrap().to_string();

    w.ok(&[
        "case",
        "phase",
        "IR-2026-0042",
        "first-aid",
        "--by",
        "responder-a",
    ]);
    w.ok(&[
        "case",
        "log",
        &id,
        "LAN ケーブルを抜いた (PC-03)",
        "--at",
        "2026-11-20T01:00:00Z",
    ]);
    w.ok(&[
        "case",
        "policy",
        &id,
        "recovery-first",
        "--decided-by",
        "社長",
    ]);
    let second: Value = serde_json::from_str(&w.ok(&[
        "case",
        "new",
        "--client",
        "株式会社サンプル",
        "--type",
        "emotet",
        "--json",
    ]))
    .unwrap();
    assert!(second["reference"].as_str().unwrap().starts_with("IR-"));

    let list: Value = serde_json::from_str(&w.ok(&["case", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let shown: Value = serde_json::from_str(&w.ok(&["case", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["case"]["phase"], "first-aid");
    assert_eq!(shown["case"]["policy"]["policy"], "recovery-first");
    let log: Vec<String> = shown["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(
        log[0], "LAN ケーブルを抜いた (PC-03)",
        "log is in time order"
    );
    assert!(log.iter().any(|a| a.contains("first-aid")), "{log:?}");
    let text = w.ok(&["--lang", "ja", "case", "show", "IR-2026-0042"]);
    assert!(text.contains("初動対応"), "{text}");
    assert!(text.contains("業務復旧優先"), "{text}");

    let missing = w.run(&["case", "show", "999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("ir110 case list"));
    // First-aid guidance and a collection noted on the case go on the chain too.
    w.ok(&[
        "firstaid",
        "--symptom",
        "ransomware",
        "--case",
        "IR-2026-0042",
    ]);
    let source = w.dir.path().join("pc03");
    let logs = source.join("Windows/System32/winevt/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("Security.evtx"), b"ElfFile\0 (not a real log)").unwrap();
    let key = w.dir.path().join("signing.key");
    w.ok(&["key", "gen", "--key", key.to_str().unwrap()]);
    w.ok(&[
        "collect",
        "--profile",
        "windows",
        "--key",
        key.to_str().unwrap(),
        "--source",
        source.to_str().unwrap(),
        "--out",
        w.dir.path().join("pkg").to_str().unwrap(),
        "--case",
        "IR-2026-0042",
        "--examiner",
        "tester",
    ]);
    let evidence: Value = serde_json::from_str(&w.ok(&["case", "show", &id, "--json"])).unwrap();
    assert_eq!(
        evidence["evidence"].as_array().unwrap().len(),
        1,
        "{evidence}"
    );
    // Every change made through the CLI is on the server's hash chain, by the local operator.
    let audit = w.audit();
    let actions: Vec<&str> = audit.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "case.create",
            "case.phase",
            "case.log",
            "case.policy",
            "case.create",
            "case.log",
            "evidence.add"
        ]
    );
    assert!(
        audit.iter().all(|(actor, _)| actor == "cli:tester"),
        "{audit:?}"
    );
}

#[test]
fn case_round_trip_sqlite() {
    case_round_trip(&World::new());
}

#[test]
fn case_round_trip_postgres() {
    match World::postgres() {
        Some(w) => case_round_trip(&w),
        None => eprintln!(
            "IR110_TEST_POSTGRES_URL is not set: skipping the PostgreSQL round trip (CI sets it)"
        ),
    }
}

/// Runs `ir110` as `nobody` when we are root, so that chmod 000 really makes a file unreadable.
fn unprivileged(w: &World, args: &[&str]) -> Output {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root {
        return w.run(args);
    }
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_ir110"))
        .args(args)
        .env("IR110_DB", &w.db)
        .env_remove("LANG");
    cmd.output()
        .expect("setpriv (util-linux) is needed to test unreadable files as root")
}

#[test]
fn triage_accounts_for_hostile_evidence() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let ev = w.path("evidence");
    std::fs::create_dir_all(ev.join("logs")).unwrap();
    // A truncated EVTX: the file header of a real log and nothing else.
    let mut evtx = b"ElfFile\0".to_vec();
    evtx.extend_from_slice(&[0u8; 120]);
    std::fs::write(ev.join("logs/Security.evtx"), evtx).unwrap();
    let junk: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8)
        .collect();
    std::fs::write(ev.join("junk.bin"), junk).unwrap();
    std::fs::write(ev.join("empty.txt"), b"").unwrap();
    std::fs::write(ev.join("secret.log"), b"password=hunter2\n").unwrap();
    std::fs::set_permissions(
        ev.join("secret.log"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::os::unix::fs::symlink("..", ev.join("logs/loop")).unwrap();
    // Let `nobody` walk the tree.
    for d in [w.dir.path(), &ev, &ev.join("logs")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let out_dir = w.path("out");
    let args = [
        "--lang",
        "en",
        "triage",
        ev.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--no-progress",
    ];
    let out = unprivileged(&w, &args);
    check(&args, &out, 0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    let problems: Vec<(String, String)> = report["coverage"]["not_analysed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let path = p["path"].as_str().unwrap();
            (
                path.rsplit('/').next().unwrap().to_owned(),
                p["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let kind_of = |name: &str| {
        problems
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k.as_str())
    };
    assert_eq!(kind_of("secret.log"), Some("unreadable"), "{problems:?}");
    assert_eq!(kind_of("loop"), Some("skipped"), "{problems:?}");
    assert_eq!(kind_of("empty.txt"), Some("skipped"), "{problems:?}");
    assert_eq!(
        kind_of("junk.bin"),
        Some("unsupported"),
        "junk cannot be judged: {problems:?}"
    );
    assert!(
        kind_of("Security.evtx").is_some(),
        "truncated EVTX is accounted for: {problems:?}"
    );
    assert_eq!(
        report["coverage"]["files_total"], 3,
        "secret.log could not even be opened"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not analysed"), "{stdout}");
}

#[test]
fn triage_fail_on_and_missing_path() {
    let w = World::new();
    let missing = w.run(&[
        "triage",
        "/nonexistent/evidence",
        "--out",
        w.path("o").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("check the path"));
}

fn schema() -> (boon::Schemas, boon::SchemaIndex) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("report.schema.json", schema).unwrap();
    let idx = compiler
        .compile("report.schema.json", &mut schemas)
        .unwrap();
    (schemas, idx)
}

#[test]
fn demo_end_to_end() {
    let w = World::new();
    let d = w.path("d");
    w.ok(&["--lang", "ja", "demo", d.to_str().unwrap()]);
    let text = std::fs::read_to_string(d.join("report.json")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    let (schemas, idx) = schema();
    if let Err(e) = schemas.validate(&report, idx) {
        panic!("report.json does not match docs/report.schema.json: {e:#}");
    }
    assert_eq!(report["tool"], "ir110");
    assert_eq!(report["case"]["client"], "株式会社サンプル商事（デモ）");
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    for external in ["src=", "href=\"http", "url(", "@import", "<script", "<link"] {
        assert!(
            !html.contains(external),
            "report.html must not load anything: found {external}"
        );
    }
    // Every landed analyzer finds its part of the story.
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for expected in [
        "eventlog.brute-force-success",
        "eventlog.external-logon",
        "eventlog.service-installed",
        "eventlog.log-cleared",
        "mail.account-abused",
        "mail.burst",
        "netflow.beacon",
        "ransomware.encrypted-files",
        "ransomware.ransom-note",
        "ransomware.family",
        "web.webshell",
        "web.skimmer",
        "web.first-compromise",
    ] {
        assert!(
            rules.contains(&expected),
            "demo triage misses {expected}: {rules:?}"
        );
    }
    let brute = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "eventlog.brute-force-success")
        .unwrap();
    assert_eq!(brute["severity"], "critical");
    assert!(
        brute["title_text"]
            .as_str()
            .unwrap()
            .contains("203.0.113.50")
    );
    // The case store holds the run: `ir110 report` rebuilds the same findings in English.
    let cases: Value = serde_json::from_str(&w.ok(&["case", "list", "--json"])).unwrap();
    let case_id = cases[0]["id"].as_i64().unwrap().to_string();
    let rebuilt_dir = w.path("rebuilt");
    w.ok(&[
        "--lang",
        "en",
        "report",
        "--case",
        &case_id,
        "--out",
        rebuilt_dir.to_str().unwrap(),
    ]);
    let rebuilt: Value =
        serde_json::from_str(&std::fs::read_to_string(rebuilt_dir.join("report.json")).unwrap())
            .unwrap();
    if let Err(e) = schemas.validate(&rebuilt, idx) {
        panic!("rebuilt report.json does not match the schema: {e:#}");
    }
    assert_eq!(rebuilt["lang"], "en");
    assert_eq!(
        rebuilt["summary"]["findings_total"],
        report["summary"]["findings_total"]
    );
    assert_eq!(
        rebuilt["summary"]["events_total"],
        report["summary"]["events_total"]
    );
    assert_eq!(rebuilt["coverage"], report["coverage"]);
    assert!(
        std::fs::read_to_string(rebuilt_dir.join("report.md"))
            .unwrap()
            .starts_with("# Incident triage report")
    );
    // Triage again over the same evidence (same host attribution as the demo run): findings
    // are updated, the timeline is not doubled.
    let again_dir = w.path("again");
    w.ok(&[
        "triage",
        d.join("evidence").to_str().unwrap(),
        "--case",
        &case_id,
        "--out",
        again_dir.to_str().unwrap(),
        "--host",
        "FS01",
    ]);
    let shown: Value = serde_json::from_str(&w.ok(&["case", "show", &case_id, "--json"])).unwrap();
    assert_eq!(shown["events"], report["summary"]["events_total"]);
    assert_eq!(
        shown["findings"].as_array().unwrap().len() as u64,
        report["summary"]["findings_total"].as_u64().unwrap()
    );
    assert_eq!(shown["runs"].as_array().unwrap().len(), 2);
    // Opening the case and both triage runs are on the audit chain, which still verifies.
    assert_eq!(
        w.audit(),
        [
            ("cli:tester".to_owned(), "case.create".to_owned()),
            ("cli:tester".to_owned(), "triage.run".to_owned()),
            ("cli:tester".to_owned(), "triage.run".to_owned())
        ]
    );
    // The demo is deterministic: a second run in the same folder gives the same evidence.
    let first = report["coverage"]["files_total"].clone();
    w.ok(&["demo", d.to_str().unwrap(), "--no-case"]);
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("report.json")).unwrap()).unwrap();
    assert_eq!(again["coverage"]["files_total"], first);
    // Refuses a foreign non-empty folder.
    std::fs::create_dir_all(w.path("foreign")).unwrap();
    std::fs::write(w.path("foreign/keep.txt"), b"x").unwrap();
    assert_eq!(
        w.run(&["demo", w.path("foreign").to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let _ = shared_data();
}

/// `ransomware identify` speaks both languages, decryptor conditions and status included, and
/// says when a candidate rests on weak evidence only (the demo's note name).
#[test]
fn ransomware_identify_in_both_languages() {
    let w = World::new();
    let d = w.path("d");
    w.ok(&["demo", "--no-case", d.to_str().unwrap()]);
    let share = d.join("evidence/FS01/share");
    for lang in ["ja", "en"] {
        let out = w.ok(&[
            "--lang",
            lang,
            "--no-progress",
            "ransomware",
            "identify",
            share.to_str().unwrap(),
        ]);
        insta::assert_snapshot!(format!("ransomware_identify_{lang}"), out);
    }
}
