//! Integration tests of the mail analyzer: hand-written logs of every format with exact
//! verdicts and findings, synthetic month-long logs, the analyzer contract and the demo.

use std::path::{Path, PathBuf};

use chrono::DateTime;
use ir110_mail::{
    AbuseSpec, MailAnalysis, MailAnalyzer, MailOptions, MailReport, MailSpec, MailVerdict,
    analyze_paths, demo_files, synthesize_maillog,
};
use ir110_model::{
    AnalysisContext, Analyzer, Catalog, Category, SourceFile, SourceKind, SourceRef,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn options() -> MailOptions {
    MailOptions {
        year: Some(2026),
        ..MailOptions::default()
    }
}

fn rules_of(report: &MailReport) -> Vec<(String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let who = f.data.get("account").or_else(|| f.data.get("address"));
            (
                f.rule.clone(),
                who.and_then(|v| v.as_str()).unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn clean_postfix_log_has_no_finding() {
    let r = analyze_paths(&[data("postfix-clean.maillog")], options());
    assert_eq!(r.verdict, MailVerdict::NoAbuseSeen);
    assert_eq!(r.messages, 45);
    assert_eq!(r.accounts.len(), 3);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!(r.files[0].format, Some("postfix"));
}

#[test]
fn postfix_account_abuse_is_an_account_sending() {
    let r = analyze_paths(&[data("postfix-account-abuse.maillog")], options());
    assert_eq!(r.verdict, MailVerdict::AccountAbused);
    assert_eq!(r.abused_accounts, ["keiri@example.co.jp"]);
    let k = "keiri@example.co.jp";
    assert_eq!(
        rules_of(&r),
        pairs(&[
            ("mail.account-abused", k),
            ("mail.burst", k),
            ("mail.unusual-client", k),
            ("mail.new-recipient-domains", k),
            ("mail.sender-mismatch", k),
        ])
    );
    let verdict = &r.findings[0];
    assert_eq!(verdict.severity, ir110_model::Severity::Critical);
    assert_eq!(verdict.category, Category::MailAbuse);
    // The first abusive submission: 02:00 JST on 16 January, from a Tor exit network.
    assert_eq!(
        verdict.first_seen.map(|t| t.to_rfc3339()),
        Some("2026-01-15T17:00:00+00:00".to_owned())
    );
    let first_line = verdict.evidence[0].locator.clone().unwrap_or_default();
    let n: usize = first_line.trim_start_matches("line ").parse().unwrap();
    let text = std::fs::read_to_string(data("postfix-account-abuse.maillog")).unwrap();
    let cited = text.lines().nth(n - 1).unwrap();
    assert!(
        cited.contains("sasl_username=keiri@example.co.jp") && cited.contains("185.220.101.34"),
        "{cited}"
    );
    let networks = r.findings[2].data["networks"].clone();
    assert_eq!(
        networks,
        serde_json::json!(["185.220.101.0/24", "185.220.102.0/24", "91.219.236.0/24"])
    );
    assert_eq!(r.events.len(), 4);
    let keiri = r.accounts.iter().find(|a| a.account == k).unwrap();
    let days: Vec<(&str, u64)> = keiri
        .daily
        .iter()
        .map(|d| (d.day.as_str(), d.recipients))
        .collect();
    assert_eq!(
        days,
        [("2026-01-13", 4), ("2026-01-14", 4), ("2026-01-15", 139)]
    );
}

#[test]
fn backscatter_means_spoofed_elsewhere() {
    let reported = "1768230000@WIN-NOTOURS".to_owned();
    let present = std::fs::read_to_string(data("postfix-backscatter.maillog"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.split("message-id=<")
                .nth(1)
                .map(|s| s.trim_end_matches('>').to_owned())
        })
        .unwrap();
    let opts = MailOptions {
        reported_message_ids: vec![reported.clone(), format!("<{present}>")],
        ..options()
    };
    let r = analyze_paths(&[data("postfix-backscatter.maillog")], opts);
    assert_eq!(r.verdict, MailVerdict::SpoofedElsewhere);
    assert!(r.abused_accounts.is_empty());
    assert_eq!(r.spoofed_addresses, ["info@example.co.jp"]);
    assert_eq!(
        rules_of(&r),
        pairs(&[
            ("mail.spoofed-elsewhere", "info@example.co.jp"),
            ("mail.reported-not-sent-by-us", ""),
        ])
    );
    assert_eq!(r.findings[0].data["bounces_received"], 24);
    let found: Vec<(bool, Option<&str>)> = r
        .reported
        .iter()
        .map(|m| (m.found, m.account.as_deref()))
        .collect();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&(false, None)));
    assert!(r.reported.iter().any(|m| m.found && m.evidence.is_some()));
}

#[test]
fn sendmail_and_exchange_abuse() {
    let r = analyze_paths(&[data("sendmail-abuse.maillog")], options());
    assert_eq!(r.files[0].format, Some("sendmail"));
    assert_eq!(r.verdict, MailVerdict::AccountAbused);
    assert_eq!(r.abused_accounts, ["tanaka"]);
    assert_eq!(
        rules_of(&r),
        pairs(&[
            ("mail.account-abused", "tanaka"),
            ("mail.burst", "tanaka"),
            ("mail.unusual-client", "tanaka"),
            ("mail.new-recipient-domains", "tanaka"),
        ])
    );
    let r = analyze_paths(&[data("MSGTRK2026011601-1.LOG")], options());
    assert_eq!(r.files[0].format, Some("exchange"));
    assert_eq!(r.messages, 58);
    let y = "yamada@example.co.jp";
    assert_eq!(r.abused_accounts, [y]);
    assert_eq!(
        rules_of(&r),
        pairs(&[
            ("mail.account-abused", y),
            ("mail.burst", y),
            ("mail.unusual-client", y),
            ("mail.new-recipient-domains", y),
        ])
    );
}

fn synth(abuse: Option<AbuseSpec>, backscatter: Option<(String, u32)>) -> MailReport {
    let spec = MailSpec {
        seed: 5,
        start: DateTime::from_timestamp(1_767_193_200, 0).unwrap_or_default(),
        days: 30,
        users: 15,
        abuse,
        backscatter,
    };
    let mut a = MailAnalysis::new(options());
    a.ingest(
        synthesize_maillog(&spec).as_bytes(),
        SourceRef::file("maillog"),
    );
    a.finish()
}

#[test]
fn thirty_benign_days_then_the_first_25_abusive_messages() {
    let clean = synth(None, None);
    assert_eq!(clean.messages, 2488);
    assert!(clean.findings.is_empty());
    let abused = synth(
        Some(AbuseSpec {
            account: "user03@example.co.jp".into(),
            day: 20,
            messages: 25,
            bounce_every: 0,
        }),
        None,
    );
    assert_eq!(abused.verdict, MailVerdict::AccountAbused);
    assert_eq!(abused.abused_accounts, ["user03@example.co.jp"]);
    let both = synth(
        Some(AbuseSpec {
            account: "user07@example.co.jp".into(),
            day: 3,
            messages: 300,
            bounce_every: 3,
        }),
        Some(("info@example.co.jp".into(), 40)),
    );
    assert_eq!(both.verdict, MailVerdict::Both);
    let rules: Vec<String> = rules_of(&both).into_iter().map(|r| r.0).collect();
    assert!(rules.contains(&"mail.bounce-storm".to_owned()), "{rules:?}");
}

/// Every test collects what analyzers push in memory.
type Collect = ir110_model::MemorySink;

#[test]
fn triage_finds_the_demo_burst() {
    let dir = tempfile::tempdir().unwrap();
    let mut sources = Vec::new();
    for (rel, bytes) in demo_files(1) {
        let path = dir.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        sources.push(SourceFile {
            path,
            display_path: rel,
            size: bytes.len() as u64,
            kind: SourceKind::sniff(&bytes[..bytes.len().min(65_536)]),
            modified: None,
            sha256: None,
        });
    }
    let analyzer = MailAnalyzer::new(options());
    assert!(sources.iter().all(|s| analyzer.accepts(s)), "{sources:?}");
    let sink = Collect::default();
    analyzer.analyze(&sources, &AnalysisContext::default(), &sink);
    let findings = sink.findings.into_inner().unwrap();
    assert_eq!(findings[0].rule, "mail.account-abused");
    assert_eq!(findings[0].data["account"], "user03@example.co.jp");
    assert_eq!(findings[0].evidence[0].path, "mail/maillog");
    assert!(sink.problems.into_inner().unwrap().is_empty());
}

#[test]
fn damaged_and_foreign_input() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("maillog");
    std::fs::write(&junk, b"\x00\xffjunk\nJan 1 not really\n").unwrap();
    let gz = dir.path().join("maillog.1.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff]).unwrap();
    let r = analyze_paths(&[junk, gz, dir.path().join("missing")], options());
    let kinds: Vec<ir110_model::ProblemKind> = r.problems.iter().map(|p| p.kind).collect();
    use ir110_model::ProblemKind::*;
    assert_eq!(kinds, [Unsupported, Truncated, Unsupported, Unreadable]);
    assert_eq!(r.verdict, MailVerdict::NoAbuseSeen);
}

#[test]
fn every_message_key_exists_in_both_languages() {
    let catalog = Catalog::from_sources(&[ir110_model::MESSAGES, ir110_mail::MESSAGES]).unwrap();
    let mut reports = vec![
        analyze_paths(&[data("postfix-account-abuse.maillog")], options()),
        analyze_paths(
            &[data("postfix-backscatter.maillog")],
            MailOptions {
                reported_message_ids: vec!["x@y".into()],
                ..options()
            },
        ),
    ];
    reports.push(synth(
        Some(AbuseSpec {
            account: "user07@example.co.jp".into(),
            day: 3,
            messages: 300,
            bounce_every: 3,
        }),
        None,
    ));
    let mut rules = std::collections::BTreeSet::new();
    for r in &reports {
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
    }
    assert_eq!(rules.len(), 8, "{rules:?}");
    for key in [
        "mail.cli.verdict",
        "mail.cli.accounts",
        "mail.cli.reported",
        "mail.cli.found",
        "mail.cli.not-found",
        "mail.verdict.account-abused",
        "mail.verdict.spoofed-elsewhere",
        "mail.verdict.both",
        "mail.verdict.no-abuse-seen",
    ] {
        assert!(catalog.contains(key), "{key}");
    }
}

/// Mutated and truncated logs of every layout: never a panic, always a report.
#[test]
fn mangled_input_never_panics() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in [
        "postfix-account-abuse.maillog",
        "sendmail-abuse.maillog",
        "MSGTRK2026011601-1.LOG",
    ] {
        let original = std::fs::read(data(name)).unwrap();
        for round in 0..30 {
            let mut bytes = original.clone();
            for _ in 0..(1 + round % 16) {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = (next() & 0xff) as u8;
            }
            bytes.truncate(bytes.len() - (next() % 500) as usize);
            let mut a = MailAnalysis::new(options());
            a.ingest(&bytes[..], SourceRef::file(name));
            let r = a.finish();
            assert_eq!(r.files.len(), 1);
        }
    }
}
