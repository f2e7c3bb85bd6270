//! Report JSON and HTML: schema validity, snapshots, self-containment.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use chrono::{TimeZone, Utc};
use ir110_model::{
    Catalog, Category, Confidence, Event, Finding, Lang, Message, Problem, ProblemKind, Severity,
    SourceRef,
};
use ir110_report::{ActionItem, Report, ReportInput, html};
use ir110_triage::{Coverage, KindCount, Outcome};

fn catalog() -> Catalog {
    Catalog::from_sources(&[
        ir110_model::MESSAGES,
        ir110_report::MESSAGES,
        r#"
["t.enc"]
en = "{n} files encrypted in {dir}"
ja = "{dir} で {n} 件のファイルが暗号化"
["t.brute"]
en = "Brute force from {ip} then a successful logon"
ja = "{ip} からの総当たり攻撃の後にログオン成功"
["t.act"]
en = "Disconnect <FS01> from the network"
ja = "FS01 をネットワークから切り離す"
"#,
    ])
    .unwrap()
}

fn outcome() -> Outcome {
    let t = |h, m| Utc.with_ymd_and_hms(2026, 11, 20, h, m, 0).unwrap();
    let enc = Finding::new(
        "ransomware",
        "ransomware.encrypted",
        Severity::Critical,
        Category::Ransomware,
        Message::new("t.enc").arg("n", 2).arg("dir", "/share/経理"),
    )
    .key("/share/経理")
    .seen(t(3, 10))
    .seen(t(3, 40))
    .host("FS01")
    .attack("T1486")
    .action(Message::new("t.act"))
    .confidence(Confidence::High)
    .evidence(SourceRef::file("/share/経理/見積書.xlsx.locked").with_sha256(Some("a".repeat(64))))
    .evidence(SourceRef::file("/share/経理/請求書.pdf.locked"))
    .data("count", 2);
    let brute = Finding::new(
        "eventlog",
        "eventlog.brute-force-success",
        Severity::High,
        Category::InitialAccess,
        Message::new("t.brute").arg("ip", "203.0.113.50"),
    )
    .key("203.0.113.50")
    .seen(t(1, 0))
    .seen(t(1, 5))
    .host("FS01")
    .attack("T1110.001")
    .evidence(SourceRef::at("Security.jsonl", "record 42"));
    let events = vec![
        Event::new(
            t(1, 5),
            "eventlog",
            "logon",
            SourceRef::at("Security.jsonl", "record 42"),
            "4624 type 10 administrator from 203.0.113.50",
        )
        .host("FS01")
        .field("source.ip", "203.0.113.50"),
        Event::new(
            t(3, 10),
            "ransomware",
            "file-encrypted",
            SourceRef::file("/share/経理/見積書.xlsx.locked"),
            "<encrypted> & renamed",
        )
        .host("FS01"),
    ];
    let mut coverage = Coverage {
        files_total: 5,
        bytes_total: 1234,
        files_analysed: 3,
        ..Coverage::default()
    };
    coverage.by_kind.insert(
        "binary".into(),
        KindCount {
            files: 3,
            bytes: 1200,
        },
    );
    coverage
        .by_kind
        .insert("empty".into(), KindCount { files: 1, bytes: 0 });
    coverage.not_analysed = vec![
        Problem {
            path: "/share/empty.txt".into(),
            analyzer: None,
            kind: ProblemKind::Skipped,
            detail: "empty file (0 bytes): nothing to analyse".into(),
        },
        Problem::new(
            "/share/broken.evtx",
            "eventlog",
            ProblemKind::Corrupt,
            "chunk 3: bad checksum; 120 records read, 7 lost",
        ),
    ];
    Outcome {
        findings: vec![enc, brute],
        events,
        coverage,
        started_at: t(9, 0),
        finished_at: t(9, 1),
    }
}

fn report(lang: Lang, catalog: &Catalog) -> Report {
    Report::build(
        &outcome(),
        ReportInput {
            tool_version: "0.0.0-test",
            case: None,
            inputs: vec!["/share".into()],
            lang,
            catalog,
            immediate_actions: vec![ActionItem {
                text: "LAN ケーブルを抜く".into(),
                why: "拡散を止めるため".into(),
            }],
            generated_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 2, 0).unwrap(),
        },
    )
}

fn schema_validate(value: &serde_json::Value) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("report.schema.json", schema).unwrap();
    let idx = compiler
        .compile("report.schema.json", &mut schemas)
        .unwrap();
    if let Err(e) = schemas.validate(value, idx) {
        panic!("report.json does not match docs/report.schema.json:\n{e:#}");
    }
}

#[test]
fn json_matches_schema_and_snapshot() {
    let c = catalog();
    let r = report(Lang::En, &c);
    let value = serde_json::to_value(&r).unwrap();
    schema_validate(&value);
    assert_eq!(r.summary.findings_by_severity[&Severity::Critical], 1);
    assert_eq!(
        r.summary.first_activity,
        Some(Utc.with_ymd_and_hms(2026, 11, 20, 1, 0, 0).unwrap())
    );
    assert_eq!(r.hosts.len(), 1);
    assert_eq!(r.hosts[0].findings, 2);
    assert_eq!(r.hosts[0].events, 2);
    assert_eq!(r.files.len(), 3);
    // Sorted keys: serde_json's map order depends on features other crates enable.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("report_en", value);
    });
}

#[test]
fn japanese_texts_are_rendered() {
    let c = catalog();
    let r = report(Lang::Ja, &c);
    assert_eq!(
        r.findings[0].title_text,
        "/share/経理 で 2 件のファイルが暗号化"
    );
    assert_eq!(
        r.summary.headline,
        "緊急 1 件、高 1 件の検出があります。直ちに下記の初動対応を行ってください。"
    );
    schema_validate(&serde_json::to_value(&r).unwrap());
}

/// The HTML's structure (headings and section ids) without the volatile details.
fn skeleton(html: &str) -> String {
    let mut out = String::new();
    for line in html.split('<').skip(1) {
        let tag: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if matches!(tag.as_str(), "h1" | "h2" | "h3" | "section") {
            let text = line.split('>').nth(1).unwrap_or("");
            let id = line
                .split("id=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("");
            out.push_str(&format!("{tag}#{id} {text}\n"));
        }
    }
    out
}

#[test]
fn html_is_self_contained_and_escaped() {
    let c = catalog();
    for lang in [Lang::Ja, Lang::En] {
        let r = report(lang, &c);
        let page = html::render(&r, &c, chrono_tz::Asia::Tokyo);
        assert!(page.starts_with("<!DOCTYPE html>"));
        for external in ["src=", "href=\"http", "url(", "@import", "<script", "<link"] {
            assert!(!page.contains(external), "{lang}: HTML contains {external}");
        }
        assert!(page.contains("&lt;encrypted&gt; &amp; renamed"));
        assert!(
            page.contains("2026-11-20 10:05:00 JST"),
            "times shown in JST"
        );
        assert!(page.contains("<svg class=\"chart\""));
        insta::assert_snapshot!(format!("html_skeleton_{lang}"), skeleton(&page));
    }
}

#[test]
fn markdown_skeleton() {
    let c = catalog();
    let r = report(Lang::En, &c);
    let md = ir110_report::markdown::render(&r, &c, chrono_tz::Asia::Tokyo);
    insta::assert_snapshot!("markdown_en", md);
}
