//! Integration tests of the network analyzer: synthetic long-period traffic with injected
//! beacons, hand-written samples of every supported layout, the analyzer contract and the demo.

#[path = "support/mmdb_writer.rs"]
mod mmdb_writer;

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use ir110_model::{
    AnalysisContext, Analyzer, Catalog, Category, Finding, SourceFile, SourceKind, SourceRef,
};
use ir110_netflow::{
    BeaconSpec, LogFormat, NetAnalysis, NetAnalyzer, NetOptions, NetReport, TrafficSpec,
    analyze_paths, demo_files, synthesize_conn_log,
};

fn ip(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// 13 months of a 150-seat office: 3,000 normal pairs, 3 update services polled by half the PCs, 5 beacons.
fn year_spec() -> TrafficSpec {
    let beacon = |d: u8, port, period_secs, jitter, start_day, days| BeaconSpec {
        src: ip(10, 1, 0, d),
        dst: ip(203, 0, 113, d),
        port,
        period_secs,
        jitter,
        start_day,
        days,
        bytes_out: 700,
    };
    TrafficSpec {
        seed: 7,
        start: 1_735_657_200, // 2025-01-01 00:00 JST
        days: 396,
        hosts: 150,
        normal_pairs: 3000,
        pollers: 3,
        beacons: vec![
            // The acceptance case: every 6 hours, ±30 %, for 13 months.
            beacon(11, 443, 6.0 * 3600.0, 0.3, 0, 396),
            beacon(12, 8443, 24.0 * 3600.0, 0.3, 0, 396),
            beacon(13, 443, 3600.0, 0.1, 100, 60),
            beacon(14, 80, 300.0, 0.3, 200, 3),
            beacon(15, 443, 60.0, 0.2, 300, 1),
        ],
    }
}

/// A small year with one long-lived beacon (the full acceptance set is tested once).
fn small_year() -> TrafficSpec {
    TrafficSpec {
        hosts: 20,
        normal_pairs: 200,
        pollers: 0,
        beacons: year_spec().beacons.into_iter().take(1).collect(),
        ..year_spec()
    }
}

fn analyze_text(text: &str, name: &str, options: NetOptions) -> NetReport {
    let mut a = NetAnalysis::new(options);
    a.ingest(text.as_bytes(), SourceRef::file(name), &|_| {});
    a.finish()
}

fn rank_of(report: &NetReport, dst: &str) -> Option<usize> {
    report.beacons.iter().find(|p| p.dst == dst).map(|p| p.rank)
}

#[test]
fn injected_beacons_rank_in_top_ten_over_thirteen_months() {
    let log = synthesize_conn_log(&year_spec());
    let report = analyze_text(&log, "conn.log", NetOptions::default());
    assert_eq!(report.files[0].format, Some(LogFormat::ZeekTsv));
    assert_eq!(report.files[0].records, 474_881);
    assert_eq!(report.files[0].bad_lines, 0);
    assert_eq!(report.pairs_seen, 3126);
    // The year-long 6-hourly beacon with ±30 % jitter ranks first; every beacon is in the top
    // five, above the update services that half the PCs poll on a fixed schedule.
    let ranks: Vec<Option<usize>> = [11, 12, 13, 15, 14]
        .iter()
        .map(|d| rank_of(&report, &format!("203.0.113.{d}")))
        .collect();
    assert_eq!(ranks, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    let top = &report.beacons[0];
    assert_eq!(top.connections, 1582);
    // 396 days from midnight JST touch 14 UTC calendar months.
    assert_eq!(top.scores.active_months, 14);
    assert!((top.scores.median_interval_secs - 6.0 * 3600.0).abs() < 0.1 * 6.0 * 3600.0);

    let c2: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.category == Category::C2)
        .collect();
    let dsts: Vec<&str> = c2
        .iter()
        .map(|f| f.data["dst"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        dsts,
        [
            "203.0.113.11",
            "203.0.113.12",
            "203.0.113.13",
            "203.0.113.15",
            "203.0.113.14"
        ]
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.category != Category::Exfiltration)
    );
    let first = c2[0];
    assert_eq!(first.rule, "netflow.beacon");
    assert_eq!(first.severity, ir110_model::Severity::High);
    assert_eq!(first.hosts, ["10.1.0.11"]);
    assert_eq!(first.evidence.len(), 2);
    assert!(
        first.evidence[0]
            .locator
            .as_deref()
            .is_some_and(|l| l.starts_with("line "))
    );
}

#[test]
fn a_year_long_channel_outranks_the_same_beacon_for_a_month() {
    let beacon = |d: u8, days| BeaconSpec {
        src: ip(10, 1, 0, d),
        dst: ip(203, 0, 113, d),
        port: 443,
        period_secs: 6.0 * 3600.0,
        jitter: 0.3,
        start_day: 0,
        days,
        bytes_out: 700,
    };
    let spec = TrafficSpec {
        seed: 3,
        start: 1_735_657_200,
        days: 396,
        hosts: 20,
        normal_pairs: 200,
        pollers: 0,
        beacons: vec![beacon(1, 30), beacon(2, 396)],
    };
    let report = analyze_text(
        &synthesize_conn_log(&spec),
        "conn.log",
        NetOptions::default(),
    );
    let (month, year) = (
        report
            .beacons
            .iter()
            .find(|p| p.dst == "203.0.113.1")
            .map(|p| p.scores.score),
        report
            .beacons
            .iter()
            .find(|p| p.dst == "203.0.113.2")
            .map(|p| p.scores.score),
    );
    assert_eq!(rank_of(&report, "203.0.113.2"), Some(1));
    assert!(year > month, "year {year:?} month {month:?}");
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// File, mapping, layout, records, bad lines, beacon destination.
type Case = (
    &'static str,
    Option<&'static str>,
    LogFormat,
    u64,
    u64,
    &'static str,
);

/// Every layout holds the same 12-connection beacon 10.0.5.20 → 198.51.100.66:443 (or
/// update-check.example.net via the proxy), 6 browsing connections, records that are not
/// outbound flows, and one damaged line.
#[test]
fn every_layout_is_read_with_exact_counts() {
    let cases: [Case; 6] = [
        (
            "zeek-conn.json.log",
            None,
            LogFormat::ZeekJson,
            20,
            1,
            "198.51.100.66",
        ),
        (
            "fortigate-traffic.log",
            None,
            LogFormat::FortiGate,
            18,
            1,
            "198.51.100.66",
        ),
        (
            "panos-traffic.csv",
            None,
            LogFormat::PanOs,
            18,
            1,
            "198.51.100.66",
        ),
        (
            "squid-access.log",
            None,
            LogFormat::Squid,
            18,
            1,
            "update-check.example.net",
        ),
        (
            "netflow-export.csv",
            None,
            LogFormat::MappedCsv,
            18,
            0,
            "198.51.100.66",
        ),
        (
            "flows-mapped.csv",
            Some("ts=When,src=From,dst=To,dport=Svc,out=Up,in=Down"),
            LogFormat::MappedCsv,
            18,
            0,
            "198.51.100.66",
        ),
    ];
    for (name, mapping, format, records, bad, dst) in cases {
        let options = NetOptions {
            mapping: mapping.map(|m| m.parse().unwrap()),
            ..NetOptions::default()
        };
        let report = analyze_paths(&[data(name)], options, None, &|_| {}).unwrap();
        let file = &report.files[0];
        assert_eq!(file.format, Some(format), "{name}");
        assert_eq!((file.records, file.bad_lines), (records, bad), "{name}");
        assert_eq!(report.problems.len(), usize::from(bad > 0), "{name}");
        assert_eq!(
            report.beacons.len(),
            1,
            "{name}: only the beacon has enough connections"
        );
        let p = &report.beacons[0];
        assert_eq!(
            (p.src.to_string().as_str(), p.dst.as_str(), p.dst_port),
            ("10.0.5.20", dst, 443),
            "{name}"
        );
        assert_eq!(p.connections, 12, "{name}");
        assert_eq!(p.first_seen.timestamp(), 1_767_225_600, "{name}");
        // 12 connections are too few for a finding on their own.
        assert!(report.findings.is_empty(), "{name}");
    }
    // Device-logged countries are kept.
    let forti = analyze_paths(
        &[data("fortigate-traffic.log")],
        NetOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    assert_eq!(
        forti.beacons[0].country.as_deref(),
        Some("Russian Federation")
    );
    let pan = analyze_paths(
        &[data("panos-traffic.csv")],
        NetOptions::default(),
        None,
        &|_| {},
    )
    .unwrap();
    assert_eq!(pan.beacons[0].country.as_deref(), Some("NL"));
}

#[test]
fn large_uploads_and_unusual_days_are_exfiltration() {
    let spec = TrafficSpec {
        seed: 11,
        start: 1_767_193_200,
        days: 30,
        hosts: 10,
        normal_pairs: 150,
        pollers: 0,
        beacons: Vec::new(),
    };
    let mut log = synthesize_conn_log(&spec);
    log.truncate(log.rfind("#close").unwrap_or(log.len()));
    // Day 20: 10.1.0.5 uploads 3 × 700 MiB to a storage service.
    for i in 0..3u64 {
        log.push_str(&format!(
            "{}.0\tCx{i}\t10.1.0.5\t5100{i}\t198.51.100.200\t443\ttcp\tssl\t620.0\t{}\t52000\tSF\tT\tF\t0\tShADadFf\t1\t1\t1\t1\t-\n",
            1_767_193_200 + 20 * 86_400 + 3600 + i as i64 * 700,
            700u64 << 20
        ));
    }
    let report = analyze_text(&log, "conn.log", NetOptions::default());
    let exfil: Vec<(&str, &str)> = report
        .findings
        .iter()
        .filter(|f| f.category == Category::Exfiltration)
        .map(|f| (f.rule.as_str(), f.hosts[0].as_str()))
        .collect();
    assert_eq!(
        exfil,
        [
            ("netflow.large-upload", "10.1.0.5"),
            ("netflow.unusual-outbound-day", "10.1.0.5")
        ]
    );
    let day = report.transfers.iter().find(|t| t.day.is_some()).unwrap();
    assert_eq!(day.day.as_deref(), Some("2026-01-20"));
    assert!(
        day.evidence[0]
            .locator
            .as_deref()
            .is_some_and(|l| l.starts_with("line "))
    );
}

#[test]
fn damaged_input_is_a_problem_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("conn.log");
    std::fs::write(&junk, b"\x00\x01binary junk\nmore\n").unwrap();
    let gz = dir.path().join("conn.log.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff]).unwrap();
    let missing = dir.path().join("missing.log");
    let report = analyze_paths(&[junk, gz, missing], NetOptions::default(), None, &|_| {}).unwrap();
    let kinds: Vec<ir110_model::ProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        [
            ir110_model::ProblemKind::Unsupported,
            ir110_model::ProblemKind::Unsupported,
            ir110_model::ProblemKind::Unreadable
        ]
    );
    assert!(matches!(
        ir110_netflow::GeoIp::open(Path::new("/nonexistent/db.mmdb")),
        Err(ir110_netflow::NetError::GeoIp { .. })
    ));
}

/// Every test collects what analyzers push in memory.
type Collect = ir110_model::MemorySink;

#[test]
fn triage_finds_the_demo_beacon() {
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
    let analyzer = NetAnalyzer::default();
    assert!(sources.iter().all(|s| analyzer.accepts(s)));
    let sink = Collect::default();
    analyzer.analyze(&sources, &AnalysisContext::default(), &sink);
    let findings = sink.findings.into_inner().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].category, Category::C2);
    assert_eq!(findings[0].data["dst"], "203.0.113.77");
    assert_eq!(findings[0].hosts, ["10.1.0.23"]);
    assert_eq!(findings[0].evidence[0].path, "network/conn.log");
    assert!(sink.problems.into_inner().unwrap().is_empty());
    assert_eq!(sink.events.into_inner().unwrap().len(), 2);
    // Not for us: an access log, a Zeek dns.log.
    let other = |name: &str, kind| SourceFile {
        path: name.into(),
        display_path: name.into(),
        size: 1,
        kind,
        modified: None,
        sha256: None,
    };
    assert!(!analyzer.accepts(&other(
        "dns.log",
        SourceKind::Text(ir110_model::TextFormat::ZeekTsv)
    )));
    assert!(!analyzer.accepts(&other(
        "access.log",
        SourceKind::Text(ir110_model::TextFormat::AccessLog)
    )));
}

#[test]
fn every_message_key_exists_in_both_languages() {
    let catalog = Catalog::from_sources(&[ir110_model::MESSAGES, ir110_netflow::MESSAGES]).unwrap();
    // A small year with one long-lived beacon (the full acceptance set is tested above).
    let small = TrafficSpec {
        hosts: 20,
        normal_pairs: 200,
        pollers: 0,
        beacons: year_spec().beacons.into_iter().take(1).collect(),
        ..year_spec()
    };
    let mut report = analyze_text(
        &synthesize_conn_log(&small),
        "conn.log",
        NetOptions::default(),
    );
    let mut extra = {
        let mut l = synthesize_conn_log(&TrafficSpec {
            seed: 1,
            start: 1_767_193_200,
            days: 5,
            hosts: 3,
            normal_pairs: 5,
            pollers: 0,
            beacons: vec![],
        });
        l.push_str(&format!("{}.0\tCx\t10.1.0.1\t5100\t198.51.100.200\t443\ttcp\tssl\t620.0\t{}\t1\tSF\tT\tF\t0\tS\t1\t1\t1\t1\t-\n", 1_767_193_200 + 86_400 * 6, 3u64 << 30));
        analyze_text(&l, "conn.log", NetOptions::default())
    };
    report.findings.append(&mut extra.findings);
    let rules: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules.len(), 3, "{rules:?}");
    for f in &report.findings {
        let messages = std::iter::once(&f.title)
            .chain(f.summary.iter())
            .chain(f.actions.iter());
        for m in messages {
            assert!(catalog.contains(&m.key), "{}", m.key);
            for lang in [ir110_model::Lang::Ja, ir110_model::Lang::En] {
                let text = catalog.render(m, lang);
                assert!(!text.contains('{'), "{} unrendered: {text}", m.key);
            }
        }
        assert!(catalog.contains(&format!("category.{}", f.category)));
    }
    for key in [
        "netflow.cli.reading",
        "netflow.cli.records",
        "netflow.cli.ranking",
        "netflow.cli.period",
        "netflow.cli.days-months",
        "netflow.cli.no-findings",
    ] {
        assert!(catalog.contains(key), "{key}");
    }
}

#[test]
fn user_supplied_geoip_database_names_countries() {
    let db =
        mmdb_writer::country_db(&[([198, 51, 100, 0], 24, "RU"), ([203, 0, 113, 0], 24, "JP")]);
    let geo = ir110_netflow::GeoIp::from_bytes(db.clone()).unwrap();
    assert_eq!(geo.description(), "ir110-Test-Country (2026-01-01)");
    assert_eq!(geo.country(ip(198, 51, 100, 66)).as_deref(), Some("RU"));
    assert_eq!(geo.country(ip(203, 0, 113, 1)).as_deref(), Some("JP"));
    assert_eq!(geo.country(ip(8, 8, 8, 8)), None);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("country.mmdb");
    std::fs::write(&path, &db).unwrap();
    let report = analyze_paths(
        &[data("zeek-conn.json.log")],
        NetOptions::default(),
        Some(&path),
        &|_| {},
    )
    .unwrap();
    assert_eq!(
        report.geoip.as_deref(),
        Some("ir110-Test-Country (2026-01-01)")
    );
    assert_eq!(report.beacons[0].country.as_deref(), Some("RU"));
    // The year-long beacon's finding says the destination is abroad.
    let mut a = NetAnalysis::new(NetOptions::default()).with_geoip(geo);
    let log = synthesize_conn_log(&small_year());
    a.ingest(log.as_bytes(), SourceRef::file("conn.log"), &|_| {});
    let r = a.finish();
    let first = &r.findings[0];
    assert_eq!(first.data["country"], "JP");
    assert_eq!(first.data["foreign"], false);
    assert!(matches!(
        ir110_netflow::GeoIp::from_bytes(b"not a database".to_vec()),
        Err(ir110_netflow::NetError::GeoIp { .. })
    ));
}

/// Mutated and truncated lines of every layout: never a panic, always a report.
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
        "zeek-conn.json.log",
        "fortigate-traffic.log",
        "panos-traffic.csv",
        "squid-access.log",
        "netflow-export.csv",
    ] {
        let original = std::fs::read(data(name)).unwrap();
        for round in 0..40 {
            let mut bytes = original.clone();
            for _ in 0..(1 + round % 8) {
                let i = (next() % bytes.len() as u64) as usize;
                bytes[i] = (next() & 0xff) as u8;
            }
            bytes.truncate(bytes.len() - (next() % 200) as usize);
            let mut a = NetAnalysis::new(NetOptions::default());
            a.ingest(&bytes[..], SourceRef::file(name), &|_| {});
            let r = a.finish();
            assert_eq!(r.files.len(), 1);
        }
    }
}
