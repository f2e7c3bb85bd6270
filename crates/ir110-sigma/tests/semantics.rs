//! Exact verdicts for every value modifier and condition construct.

use chrono::{DateTime, Utc};
use ir110_sigma::{Code, Correlator, JsonRecord, LoadOptions, RuleSet};
use serde_json::{Value, json};

/// A rule over any Windows record with the given `detection` body (indented 4 spaces).
fn rule_text(detection: &str) -> String {
    format!(
        "title: T\nid: 00000000-0000-0000-0000-000000000001\nlevel: high\nlogsource:\n    product: windows\ndetection:\n{detection}\n"
    )
}

fn load_with(detection: &str, opts: &LoadOptions) -> RuleSet {
    let text = rule_text(detection);
    let (set, diags) = RuleSet::from_sources(&[("t.yml", &text)], opts);
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:#?}\n{text}");
    assert_eq!(set.counts().rules, 1, "{diags:#?}");
    set
}

fn record(fields: &Value) -> JsonRecord {
    JsonRecord::from_flat("windows", fields.as_object().unwrap())
}

fn hit(detection: &str, fields: Value) -> bool {
    let set = load_with(detection, &LoadOptions::default());
    set.matches(&record(&fields)).count() == 1
}

/// `sel: {field: value}` + `condition: sel` shorthand.
fn sel(field_line: &str) -> String {
    format!("    sel:\n        {field_line}\n    condition: sel")
}

#[test]
fn plain_values_are_case_insensitive_equality() {
    let d = sel("Image: 'C:\\Windows\\cmd.exe'");
    assert!(hit(&d, json!({"Image": "c:\\windows\\CMD.EXE"})));
    assert!(!hit(&d, json!({"Image": "c:\\windows\\cmd.exe2"})));
    assert!(!hit(&d, json!({"Other": "c:\\windows\\cmd.exe"})));
}

#[test]
fn wildcards_and_escapes() {
    assert!(hit(&sel("F: 'a*c'"), json!({"F": "abbbc"})));
    assert!(hit(&sel("F: 'a?c'"), json!({"F": "abc"})));
    assert!(!hit(&sel("F: 'a?c'"), json!({"F": "ac"})));
    assert!(hit(&sel(r"F: 'a\*c'"), json!({"F": "a*c"})));
    assert!(!hit(&sel(r"F: 'a\*c'"), json!({"F": "abc"})));
    assert!(hit(&sel(r"F: 'a\?'"), json!({"F": "a?"})));
    assert!(hit(&sel(r"F: 'a\\*'"), json!({"F": "a\\xyz"})));
    assert!(hit(&sel(r"F: 'C:\Temp\x'"), json!({"F": "c:\\temp\\x"})));
}

#[test]
fn numbers_and_null() {
    assert!(hit(&sel("EventID: 4688"), json!({"EventID": 4688})));
    assert!(hit(&sel("EventID: 4688"), json!({"EventID": "4688"})));
    assert!(!hit(&sel("EventID: 4688"), json!({"EventID": 46880})));
    assert!(hit(&sel("F: null"), json!({"G": 1})));
    assert!(hit(&sel("F: null"), json!({"F": ""})));
    assert!(hit(&sel("F: null"), json!({"F": null})));
    assert!(!hit(&sel("F: null"), json!({"F": "x"})));
    assert!(hit(&sel("F: ''"), json!({"F": ""})));
    assert!(!hit(&sel("F: ''"), json!({"G": ""})));
}

#[test]
fn value_lists_are_or_and_maps_are_and() {
    let d = "    sel:\n        A: [x, y]\n        B: z\n    condition: sel";
    assert!(hit(d, json!({"A": "y", "B": "z"})));
    assert!(!hit(d, json!({"A": "y", "B": "w"})));
    assert!(!hit(d, json!({"A": "q", "B": "z"})));
    let list_of_maps = "    sel:\n        - A: x\n        - B: z\n    condition: sel";
    assert!(hit(list_of_maps, json!({"A": "x"})));
    assert!(hit(list_of_maps, json!({"B": "z"})));
    assert!(!hit(list_of_maps, json!({"A": "z"})));
}

#[test]
fn contains_startswith_endswith_all() {
    assert!(hit(&sel("F|contains: WHO"), json!({"F": "cmd /c whoami"})));
    assert!(!hit(&sel("F|contains: who"), json!({"F": "cmd"})));
    assert!(hit(&sel("F|startswith: cmd"), json!({"F": "CMD /c"})));
    assert!(!hit(&sel("F|startswith: cmd"), json!({"F": "x cmd"})));
    assert!(hit(&sel("F|endswith: '.EXE'"), json!({"F": "a.exe"})));
    assert!(!hit(&sel("F|endswith: '.exe'"), json!({"F": "a.exe x"})));
    // Trailing blanks of the value are optional (see `trailing_blanks_of_a_value_are_optional`).
    assert!(hit(&sel("F|endswith: '.exe'"), json!({"F": "a.exe "})));
    let all = sel("F|contains|all: [a1, b2]");
    assert!(hit(&all, json!({"F": "xx b2 yy a1"})));
    assert!(!hit(&all, json!({"F": "xx b2 yy"})));
    // Many values share one automaton; verdicts stay the same.
    let many = sel("F|contains: [a1, b2, c3, d4, e5, f6]");
    assert!(hit(&many, json!({"F": "..F6.."})));
    assert!(!hit(&many, json!({"F": "..f7.."})));
    // A wildcard inside a contains value still works.
    assert!(hit(&sel("F|contains: 'a*z'"), json!({"F": "xxAbbZxx"})));
}

#[test]
fn cased() {
    assert!(hit(&sel("F|cased: Foo"), json!({"F": "Foo"})));
    assert!(!hit(&sel("F|cased: Foo"), json!({"F": "foo"})));
    assert!(hit(&sel("F|contains|cased: Foo"), json!({"F": "xFoo"})));
    assert!(!hit(&sel("F|contains|cased: Foo"), json!({"F": "xfoo"})));
}

#[test]
fn regex_and_flags() {
    assert!(hit(&sel("F|re: '^a.c$'"), json!({"F": "abc"})));
    assert!(
        !hit(&sel("F|re: '^a.c$'"), json!({"F": "ABC"})),
        "re is case-sensitive"
    );
    assert!(hit(&sel("F|re|i: '^a.c$'"), json!({"F": "ABC"})));
    assert!(
        hit(&sel("F|re: 'b+'"), json!({"F": "abbbc"})),
        "re is a search, not anchored"
    );
    assert!(hit(&sel("F|re|m: '^b$'"), json!({"F": "a\nb\nc"})));
    assert!(!hit(&sel("F|re: '^b$'"), json!({"F": "a\nb\nc"})));
    assert!(hit(&sel("F|re|s: 'a.b'"), json!({"F": "a\nb"})));
    assert!(!hit(&sel("F|re: 'a.b'"), json!({"F": "a\nb"})));
}

#[test]
fn cidr_v4_v6() {
    let d = sel("IP|cidr: ['10.0.0.0/8', 'fe80::/10']");
    assert!(hit(&d, json!({"IP": "10.20.30.40"})));
    assert!(hit(&d, json!({"IP": "::ffff:10.0.0.1"})));
    assert!(hit(&d, json!({"IP": "fe80::1234"})));
    assert!(!hit(&d, json!({"IP": "192.168.1.1"})));
    assert!(!hit(&d, json!({"IP": "-"})));
}

#[test]
fn base64_and_offsets() {
    // base64("whoami") = d2hvYW1p
    assert!(hit(&sel("F|base64: whoami"), json!({"F": "d2hvYW1p"})));
    assert!(hit(
        &sel("F|base64|contains: whoami"),
        json!({"F": "xx d2hvYW1p yy"})
    ));
    let off = sel("F|base64offset|contains: /bin/bash");
    for encoded in ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"] {
        assert!(hit(&off, json!({"F": format!("echo {encoded}xx")})));
    }
    assert!(!hit(&off, json!({"F": "L2Jpbi9iYXN"})));
}

#[test]
fn utf16_encodings() {
    // "ab" as UTF-16LE is 61 00 62 00 → YQBiAA==; UTF-16BE 00 61 00 62 → AGEAYg==
    assert!(hit(&sel("F|utf16le|base64: ab"), json!({"F": "YQBiAA=="})));
    assert!(hit(&sel("F|wide|base64: ab"), json!({"F": "YQBiAA=="})));
    assert!(hit(&sel("F|utf16be|base64: ab"), json!({"F": "AGEAYg=="})));
    // utf16 = BOM FF FE + LE
    assert!(hit(&sel("F|utf16|base64: ab"), json!({"F": "//5hAGIA"})));
    // The common SigmaHQ form: wide + base64offset + contains.
    let d = sel("F|wide|base64offset|contains: 'ping'");
    assert!(hit(&d, json!({"F": "-enc cABpAG4AZwA="})));
}

#[test]
fn windash() {
    let d = sel("F|windash|contains: ' -exec '");
    for v in [
        " -exec ",
        " /exec ",
        " \u{2013}exec ",
        " \u{2014}exec ",
        " \u{2015}exec ",
    ] {
        assert!(hit(&d, json!({"F": format!("x{v}y")})), "{v}");
    }
    assert!(!hit(&d, json!({"F": "x +exec y"})));
}

#[test]
fn exists() {
    assert!(hit(&sel("F|exists: true"), json!({"F": ""})));
    assert!(!hit(&sel("F|exists: true"), json!({"G": 1})));
    assert!(hit(&sel("F|exists: false"), json!({"G": 1})));
    assert!(!hit(&sel("F|exists: false"), json!({"F": "x"})));
}

#[test]
fn numeric_comparisons() {
    assert!(hit(&sel("N|gt: 5"), json!({"N": 6})));
    assert!(!hit(&sel("N|gt: 5"), json!({"N": 5})));
    assert!(hit(&sel("N|gte: 5"), json!({"N": "5"})));
    assert!(hit(&sel("N|lt: 5"), json!({"N": 4.5})));
    assert!(!hit(&sel("N|lt: 5"), json!({"N": "x"})));
    assert!(hit(&sel("N|lte: 5"), json!({"N": 5})));
}

#[test]
fn fieldref() {
    let d = sel("A|fieldref: B");
    assert!(hit(&d, json!({"A": "Same", "B": "same"})));
    assert!(!hit(&d, json!({"A": "x", "B": "y"})));
    assert!(!hit(&d, json!({"A": "x"})));
    assert!(hit(
        &sel("A|fieldref|endswith: B"),
        json!({"A": "c:\\x\\y.exe", "B": "y.exe"})
    ));
    assert!(hit(
        &sel("A|fieldref|startswith: B"),
        json!({"A": "abc", "B": "ab"})
    ));
    assert!(hit(
        &sel("A|fieldref|contains: B"),
        json!({"A": "xaBcx", "B": "abc"})
    ));
    // Hayabusa's aliases.
    assert!(hit(&sel("A|equalsfield: B"), json!({"A": "v", "B": "v"})));
    assert!(hit(
        &sel("A|endswithfield: B"),
        json!({"A": "xv", "B": "v"})
    ));
}

#[test]
fn expand_with_and_without_placeholders() {
    let d = sel("Computer|expand: '%DC%'");
    let mut opts = LoadOptions::default();
    opts.placeholders
        .insert("DC".into(), vec!["DC01".into(), "DC02".into()]);
    let set = load_with(&d, &opts);
    assert_eq!(
        set.matches(&record(&json!({"Computer": "dc02"}))).count(),
        1
    );
    assert_eq!(
        set.matches(&record(&json!({"Computer": "dc03"}))).count(),
        0
    );
    let (set, diags) = RuleSet::from_sources(&[("t.yml", &rule_text(&d))], &LoadOptions::default());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::S011);
    assert_eq!(
        set.matches(&record(&json!({"Computer": "%DC%"}))).count(),
        0
    );
}

#[test]
fn keywords() {
    let d = "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa*'\n    condition: keywords";
    assert!(hit(d, json!({"A": "x", "B": "run MIMIKATZ now"})));
    assert!(hit(d, json!({"B": "sekurlsa::logonpasswords"})));
    assert!(!hit(d, json!({"B": "x sekurlsa"})));
    assert!(!hit(d, json!({"B": "nothing"})));
    let all = "    keywords:\n        '|all':\n            - 'alpha'\n            - 'beta'\n    condition: keywords";
    assert!(hit(all, json!({"A": "alpha", "B": "beta"})));
    assert!(!hit(all, json!({"A": "alpha"})));
}

#[test]
fn condition_grammar() {
    let base = "    sel_a:\n        A: 1\n    sel_b:\n        B: 1\n    filter:\n        C: 1\n";
    let c = |cond: &str, v: Value| hit(&format!("{base}    condition: {cond}"), v);
    assert!(c("sel_a and not filter", json!({"A": 1})));
    assert!(!c("sel_a and not filter", json!({"A": 1, "C": 1})));
    assert!(c("sel_a or sel_b", json!({"B": 1})));
    assert!(c("not sel_a", json!({"B": 1})));
    assert!(c("(sel_a or sel_b) and not filter", json!({"B": 1})));
    assert!(
        !c("sel_a or sel_b and filter", json!({"B": 1})),
        "and binds tighter"
    );
    assert!(c("sel_a or sel_b and filter", json!({"A": 1})));
    assert!(c("1 of sel_*", json!({"B": 1})));
    assert!(!c("all of sel_*", json!({"B": 1})));
    assert!(c("all of sel_*", json!({"A": 1, "B": 1})));
    assert!(c("all of them", json!({"A": 1, "B": 1, "C": 1})));
    assert!(!c("all of them", json!({"A": 1, "B": 1})));
    assert!(c("1 of them", json!({"C": 1})));
    assert!(c("any of sel_*", json!({"A": 1})));
    assert!(c("2 of them", json!({"A": 1, "C": 1})));
    assert!(!c("2 of them", json!({"A": 1})));
    assert!(c("not 1 of sel_*", json!({"C": 1})));
    assert!(
        c("NOT sel_a AND sel_b", json!({"B": 1})),
        "keywords are case-insensitive"
    );
    // `them` skips identifiers starting with `_`.
    let under = "    sel:\n        A: 1\n    _x:\n        B: 1\n    condition: all of them";
    assert!(hit(under, json!({"A": 1})));
    // A list of conditions is their OR.
    let list = format!("{base}    condition:\n        - sel_a\n        - sel_b");
    assert!(hit(&list, json!({"B": 1})));
}

fn diags_of(detection: &str) -> Vec<(Code, usize, usize)> {
    let (_, diags) =
        RuleSet::from_sources(&[("t.yml", &rule_text(detection))], &LoadOptions::default());
    diags
        .iter()
        .map(|d| {
            let l = d.location.unwrap_or_default();
            (d.code, l.line, l.column)
        })
        .collect()
}

#[test]
fn diagnostics_have_codes_and_locations() {
    // Line 7 is the first detection line.
    assert_eq!(
        diags_of("    sel:\n        A: 1\n    condition: sel and"),
        [(Code::S005, 9, 23)]
    );
    assert_eq!(
        diags_of("    sel:\n        A: 1\n    condition: sel or other"),
        [(Code::S006, 9, 23)]
    );
    assert_eq!(
        diags_of("    sel:\n        A|bogus: 1\n    condition: sel"),
        [(Code::S007, 8, 9)]
    );
    assert_eq!(
        diags_of("    sel:\n        A|re: '(('\n    condition: sel"),
        [(Code::S009, 8, 15)]
    );
    assert_eq!(
        diags_of("    sel:\n        A|cidr: '10.0.0.0/40'\n    condition: sel"),
        [(Code::S010, 8, 17)]
    );
    assert_eq!(
        diags_of("    sel:\n        A|exists: maybe\n    condition: sel"),
        [(Code::S008, 8, 19)]
    );
    assert_eq!(
        diags_of("    sel:\n        A|gt: x\n    condition: sel"),
        [(Code::S008, 8, 15)]
    );
    assert_eq!(
        diags_of("    sel:\n        A: 1\n    condition: sel | near other"),
        [(Code::S012, 9, 20)]
    );
    assert_eq!(diags_of("    sel:\n        A: 1"), [(Code::S004, 6, 1)]);
    assert_eq!(
        diags_of("    sel:\n        A: 1\n    unused:\n        B: 1\n    condition: sel"),
        [(Code::S019, 11, 16)]
    );
    let (_, d) = RuleSet::from_sources(&[("t.yml", "title: [unclosed\n")], &LoadOptions::default());
    assert_eq!(d[0].code, Code::S002);
    let (_, d) = RuleSet::from_sources(
        &[("t.yml", "title: x\nlevel: high\n")],
        &LoadOptions::default(),
    );
    assert_eq!(
        (
            d[0].code,
            d[0].location.unwrap().line,
            d[0].location.unwrap().column
        ),
        (Code::S004, 1, 1)
    );
    let (_, d) = RuleSet::from_sources(&[("t.yml", "- a\n- b\n")], &LoadOptions::default());
    assert_eq!(d[0].code, Code::S003);
}

#[test]
fn a_bad_rule_does_not_stop_the_others() {
    let good = rule_text("    sel:\n        A: 1\n    condition: sel");
    let (set, diags) = RuleSet::from_sources(
        &[
            (
                "bad.yml",
                "title: x\nlogsource: {}\ndetection: {condition: nope}\n",
            ),
            ("good.yml", &good),
        ],
        &LoadOptions::default(),
    );
    assert_eq!(set.counts().rules, 1);
    assert_eq!(set.counts().rejected, 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::S006);
}

#[test]
fn logsource_index_and_products() {
    let sysmon = "title: P\nlevel: low\nlogsource: {product: windows, category: process_creation}\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\n";
    let linux = "title: L\nlevel: low\nlogsource: {product: linux, category: process_creation}\ndetection:\n    sel:\n        Image|endswith: '/whoami'\n    condition: sel\n";
    let (set, diags) = RuleSet::from_sources(
        &[("p.yml", sysmon), ("l.yml", linux)],
        &LoadOptions::default(),
    );
    assert!(diags.is_empty());
    // Sysmon EventID 1 and Security 4688 (with Image → NewProcessName).
    assert_eq!(set.compiled_len(), 3);
    let s1 = record(
        &json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "C:\\x\\whoami.exe"}),
    );
    assert_eq!(set.matches(&s1).count(), 1);
    let s3 = record(
        &json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 3, "Image": "C:\\x\\whoami.exe"}),
    );
    assert_eq!(
        set.matches(&s3).count(),
        0,
        "wrong EventID for the category"
    );
    let sec = record(
        &json!({"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\x\\whoami.exe"}),
    );
    let m: Vec<_> = set.matches(&sec).collect();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].matched_fields(&sec), ["NewProcessName"]);
    let lower = record(
        &json!({"Channel": "security", "EventID": "4688", "NewProcessName": "C:\\x\\whoami.exe"}),
    );
    assert_eq!(
        set.matches(&lower).count(),
        1,
        "channel case does not matter"
    );
    let linux_rec = JsonRecord::new("linux").with("Image", "/usr/bin/whoami");
    let titles: Vec<_> = set
        .matches(&linux_rec)
        .map(|m| m.rule.title.clone())
        .collect();
    assert_eq!(titles, ["L"], "rules of another product never fire");
}

#[test]
fn min_level_filters() {
    let low = "title: Low\nlevel: low\nlogsource: {product: windows}\ndetection:\n    sel:\n        A: 1\n    condition: sel\n";
    let high = "title: High\nlevel: high\nlogsource: {product: windows}\ndetection:\n    sel:\n        A: 1\n    condition: sel\n";
    let opts = LoadOptions {
        min_level: Some(ir110_model::Severity::Medium),
        ..LoadOptions::default()
    };
    let (set, _) = RuleSet::from_sources(&[("a.yml", low), ("b.yml", high)], &opts);
    assert_eq!(set.counts().rules, 1);
    assert_eq!(set.counts().below_min_level, 1);
    assert_eq!(set.rules()[0].title, "High");
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const FAILED: &str = "title: Failed\nid: f\nname: failed_logon\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n    sel:\n        EventID: 4625\n    condition: sel\n";

fn correlate(corr: &str, events: &[(&str, &str, &str)]) -> Vec<(Vec<(String, String)>, usize)> {
    let (set, diags) = RuleSet::from_sources(
        &[("f.yml", FAILED), ("c.yml", corr)],
        &LoadOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(set.counts().correlations, 1);
    let mut c = Correlator::new(&set);
    for (t, ip, user) in events {
        let r = record(
            &json!({"Channel": "Security", "EventID": 4625, "IpAddress": ip, "TargetUserName": user}),
        );
        for m in set.matches(&r) {
            assert!(!m.report, "generate: false hides the base rule");
            c.observe(&m, at(t), &r);
        }
    }
    c.finish().into_iter().map(|m| (m.group, m.count)).collect()
}

#[test]
fn correlation_event_count() {
    let corr = "title: Brute\nlevel: high\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 5m\n    condition: {gte: 3}\n";
    let ev = [
        ("2024-01-01T00:00:00Z", "1.1.1.1", "a"),
        ("2024-01-01T00:01:00Z", "1.1.1.1", "a"),
        ("2024-01-01T00:02:00Z", "2.2.2.2", "a"),
        ("2024-01-01T00:04:00Z", "1.1.1.1", "a"),
        // Outside the first window: alone it is not enough.
        ("2024-01-01T00:20:00Z", "1.1.1.1", "a"),
    ];
    assert_eq!(
        correlate(corr, &ev),
        vec![(vec![("IpAddress".to_owned(), "1.1.1.1".to_owned())], 3)]
    );
}

#[test]
fn correlation_value_count_and_range() {
    let corr = "title: Spray\nlevel: high\ncorrelation:\n    type: value_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 1h\n    condition: {field: TargetUserName, range: '2..3'}\n";
    let ev = [
        ("2024-01-01T00:00:00Z", "1.1.1.1", "a"),
        ("2024-01-01T00:01:00Z", "1.1.1.1", "b"),
        ("2024-01-01T00:02:00Z", "1.1.1.1", "b"),
        ("2024-01-01T00:02:00Z", "2.2.2.2", "a"),
    ];
    assert_eq!(
        correlate(corr, &ev),
        vec![(vec![("IpAddress".to_owned(), "1.1.1.1".to_owned())], 2)]
    );
}

#[test]
fn correlation_temporal_and_ordered() {
    let success = "title: Success\nname: ok_logon\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n    sel:\n        EventID: 4624\n    condition: sel\n";
    for (kind, expect) in [("temporal", 2), ("temporal_ordered", 0)] {
        let corr = format!(
            "title: C\nlevel: high\ncorrelation:\n    type: {kind}\n    rules: [failed_logon, ok_logon]\n    group-by: [IpAddress]\n    timespan: 10m\n"
        );
        let (set, diags) = RuleSet::from_sources(
            &[("f.yml", FAILED), ("s.yml", success), ("c.yml", &corr)],
            &LoadOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:#?}");
        let mut c = Correlator::new(&set);
        // Success first, failure second: temporal fires, temporal_ordered does not.
        for (t, eid) in [
            ("2024-01-01T00:00:00Z", 4624),
            ("2024-01-01T00:05:00Z", 4625),
        ] {
            let r = record(&json!({"Channel": "Security", "EventID": eid, "IpAddress": "9.9.9.9"}));
            for m in set.matches(&r) {
                c.observe(&m, at(t), &r);
            }
        }
        let got: Vec<usize> = c.finish().iter().map(|m| m.count).collect();
        if expect == 0 {
            assert!(got.is_empty(), "{kind}: {got:?}");
        } else {
            assert_eq!(got, [expect], "{kind}");
        }
    }
}

#[test]
fn correlation_errors_are_diagnostics() {
    let bad = "title: C\ncorrelation:\n    type: event_count\n    rules: [nope]\n    timespan: 5m\n    condition: {gte: 3}\n";
    let (set, d) = RuleSet::from_sources(&[("c.yml", bad)], &LoadOptions::default());
    assert_eq!(set.counts().correlations, 0);
    assert_eq!(d.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::S016]);
    let bad_type = "title: C\ncorrelation:\n    type: sum\n    rules: [x]\n    timespan: 5m\n";
    let (_, d) = RuleSet::from_sources(&[("c.yml", bad_type)], &LoadOptions::default());
    assert_eq!(d.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::S015]);
}

#[test]
fn hayabusa_conventions() {
    // Hayabusa rules: `details`, `ruletype`, Channel in the detection, XML-path field names.
    let h = "author: x\ndate: 2022/01/01\ntitle: Hayabusa style\ndetails: 'User: %TargetUserName%'\nid: h1\nlevel: medium\nstatus: stable\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        Channel: Security\n        EventID: 4720\n        Event.EventData.TargetUserName|endswith: '$'\n    condition: selection\nruletype: Hayabusa\n";
    let (set, diags) = RuleSet::from_sources(&[("h.yml", h)], &LoadOptions::default());
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(
        set.rules()[0].details.as_deref(),
        Some("User: %TargetUserName%")
    );
    let r = record(&json!({"Channel": "Security", "EventID": 4720, "TargetUserName": "evil$"}));
    assert_eq!(set.matches(&r).count(), 1);
}

#[test]
fn catalogue_has_every_key() {
    let cat = ir110_model::Catalog::from_sources(&[ir110_model::MESSAGES, ir110_sigma::MESSAGES])
        .unwrap();
    for n in 1..=21 {
        let key = format!("sigma.diag.S{n:03}");
        assert!(cat.contains(&key), "{key}");
    }
    assert!(cat.contains("sigma.summary"));
}

#[test]
fn hayabusa_correlation_before_its_rule_in_one_file() {
    // Hayabusa's layout: the correlation document first, the base rule after it, null
    // `tags`/`falsepositives`, a scalar `references`, extra keys (`ruletype`, `sample-evtx`).
    let text = "title: PW Guessing\nid: c1\nstatus: test\nreferences: https://example.invalid/x\ntags:\n    - attack.t1110.003\ncorrelation:\n    type: event_count\n    rules:\n        - r1\n    group-by:\n        - IpAddress\n    timespan: 5m\n    condition:\n        gte: 2\nlevel: medium\nruletype: Hayabusa\n\n---\n\ntitle: Failed Logon - Incorrect Password\nid: r1\nstatus: test\ntags:\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        Channel: Security\n        EventID: 4625\n        SubStatus: \"0xc000006a\"\n    filter:\n       IpAddress: \"-\"\n    condition: selection and not filter\nfalsepositives:\nlevel: informational\nruletype: Hayabusa\n\nsample-evtx: |\n    <Event/>\n";
    let (set, diags) = RuleSet::from_sources(&[("h.yml", text)], &LoadOptions::default());
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!((set.counts().rules, set.counts().correlations), (1, 1));
    assert_eq!(
        set.correlations()[0].meta.references,
        ["https://example.invalid/x"]
    );
    let mut c = Correlator::new(&set);
    for (t, ip) in [
        ("2024-01-01T00:00:00Z", "10.0.0.9"),
        ("2024-01-01T00:01:00Z", "10.0.0.9"),
        ("2024-01-01T00:01:30Z", "-"),
    ] {
        let r = record(
            &json!({"Channel": "Security", "EventID": 4625, "SubStatus": "0xC000006A", "IpAddress": ip}),
        );
        for m in set.matches(&r) {
            assert!(c.wants(m.rule_ref));
            c.observe(&m, at(t), &r);
        }
    }
    let fired = c.finish();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rule_id.as_deref(), Some("c1"));
    assert_eq!(fired[0].count, 2);
}

#[test]
fn time_part_modifiers() {
    assert!(hit(
        &sel("UtcTime|hour: 3"),
        json!({"UtcTime": "2024-05-06 03:04:05.123"})
    ));
    assert!(!hit(
        &sel("UtcTime|hour: 3"),
        json!({"UtcTime": "2024-05-06 13:04:05.123"})
    ));
    assert!(hit(
        &sel("T|month: 5"),
        json!({"T": "2024-05-06T03:04:05Z"})
    ));
    assert!(hit(&sel("T|day: 6"), json!({"T": "2024-05-06T03:04:05Z"})));
    assert!(hit(
        &sel("T|minute: 4"),
        json!({"T": "2024-05-06T03:04:05Z"})
    ));
    assert_eq!(
        diags_of("    sel:\n        T|hour: x\n    condition: sel")[0].0,
        Code::S008
    );
}

#[test]
fn deprecated_count_aggregation_becomes_a_correlation() {
    // Hayabusa's `*_Cnt_Deprecated` form.
    let text = "title: Guessing\nid: agg1\nlevel: medium\nlogsource: {product: windows, service: security}\ndetection:\n    selection:\n        Channel: Security\n        EventID: 4625\n    timeframe: 5m\n    condition: selection | count(TargetUserName) by IpAddress > 1\n";
    let (set, diags) = RuleSet::from_sources(&[("a.yml", text)], &LoadOptions::default());
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::S021]
    );
    assert_eq!((set.counts().rules, set.counts().correlations), (1, 1));
    let mut c = Correlator::new(&set);
    for (t, user) in [
        ("2024-01-01T00:00:00Z", "a"),
        ("2024-01-01T00:01:00Z", "b"),
        ("2024-01-01T00:09:00Z", "c"),
    ] {
        let r = record(
            &json!({"Channel": "Security", "EventID": 4625, "IpAddress": "1.2.3.4", "TargetUserName": user}),
        );
        for m in set.matches(&r) {
            assert!(!m.report);
            c.observe(&m, at(t), &r);
        }
    }
    let fired = c.finish();
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].title.as_str(), fired[0].count), ("Guessing", 2));
}

#[test]
fn a_detection_naming_its_channel_is_indexed_by_it() {
    // Hayabusa's converted Sigma rules: category `network_connection` (Sysmon 3 in the mapping)
    // but the detection pins Security 5156 with native field names.
    let text = "title: SMTP\nid: h2\nlevel: medium\nlogsource: {category: network_connection, product: windows}\ndetection:\n    network_connection:\n        EventID: 5156\n        Channel: Security\n    selection:\n        DestPort: [25, 587]\n        Direction: '%%14593'\n    filter_clients:\n        Application|endswith: '\\outlook.exe'\n    condition: network_connection and (selection and not 1 of filter_*)\n";
    let (set, diags) = RuleSet::from_sources(&[("h.yml", text)], &LoadOptions::default());
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(set.compiled_len(), 1);
    let r = record(
        &json!({"Channel": "Security", "EventID": 5156, "DestPort": "587", "Direction": "%%14593", "Application": "\\device\\x\\evil.exe"}),
    );
    assert_eq!(set.matches(&r).count(), 1);
    let outlook = record(
        &json!({"Channel": "Security", "EventID": 5156, "DestPort": "587", "Direction": "%%14593", "Application": "\\device\\x\\OUTLOOK.EXE"}),
    );
    assert_eq!(set.matches(&outlook).count(), 0);
    let sysmon = record(
        &json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 5156, "DestPort": "587", "Direction": "%%14593"}),
    );
    assert_eq!(set.matches(&sysmon).count(), 0);
}

#[test]
fn trailing_blanks_of_a_value_are_optional() {
    // Windows logs `LogonProcessName` as "NtLmSsp " (trailing blank); SigmaHQ writes 'NtLmSsp'.
    let d = sel("LogonProcessName: 'NtLmSsp'");
    assert!(hit(&d, json!({"LogonProcessName": "NtLmSsp "})));
    assert!(hit(&d, json!({"LogonProcessName": "NtLmSsp"})));
    assert!(!hit(&d, json!({"LogonProcessName": " NtLmSsp"})));
    assert!(!hit(&d, json!({"LogonProcessName": "NtLmSsp x "})));
    // A rule that spells the blank out still matches the value as logged.
    assert!(hit(
        &sel("LogonProcessName: 'NtLmSsp '"),
        json!({"LogonProcessName": "NtLmSsp "})
    ));
    assert!(hit(
        &sel("F|endswith: 'ssp'"),
        json!({"F": "NtLmSsp\t\r\n"})
    ));
    assert!(hit(&sel("F|re: '^NtLmSsp$'"), json!({"F": "NtLmSsp "})));
    // Negated: the filter matches the blank-padded value too, so the rule does not fire.
    let not = "    sel:\n        EventID: 4624\n    filter:\n        LogonProcessName: 'NtLmSsp'\n    condition: sel and not filter";
    assert!(!hit(
        not,
        json!({"EventID": 4624, "LogonProcessName": "NtLmSsp "})
    ));
    assert!(hit(
        not,
        json!({"EventID": 4624, "LogonProcessName": "Kerberos"})
    ));
    // Keyword search sees the trimmed value as well.
    assert!(hit(
        "    keywords:\n        - 'NtLmSsp'\n    condition: keywords",
        json!({"X": "NtLmSsp "})
    ));
}

#[test]
fn channels_named_in_any_case_share_one_index_bucket() {
    // SigmaHQ's two "Eventlog Cleared" rules: one bound to the System channel by its log
    // source, one naming the channels in its detection. Both must meet a System record, whichever
    // spelling the index saw first (the second used to hide the first).
    let by_logsource = "title: A\nid: a\nlevel: high\nlogsource: {product: windows, service: system}\ndetection:\n    sel:\n        EventID: 104\n    condition: sel\n";
    let by_detection = "title: B\nid: b\nlevel: high\nlogsource: {product: windows, service: system}\ndetection:\n    sel:\n        EventID: 104\n        Channel: [Security, System]\n    condition: sel\n";
    let system = record(&json!({"Channel": "System", "EventID": 104}));
    let upper = record(&json!({"Channel": "SYSTEM", "EventID": 104}));
    for order in [[by_logsource, by_detection], [by_detection, by_logsource]] {
        let (set, diags) = RuleSet::from_sources(
            &[("1.yml", order[0]), ("2.yml", order[1])],
            &LoadOptions::default(),
        );
        assert!(diags.is_empty(), "{diags:#?}");
        let mut titles: Vec<_> = set.matches(&system).map(|m| m.rule.title.clone()).collect();
        titles.sort();
        assert_eq!(titles, ["A", "B"]);
        assert_eq!(set.matches(&upper).count(), 2);
        let other = record(&json!({"Channel": "Application", "EventID": 104}));
        assert_eq!(set.matches(&other).count(), 0);
    }
}
