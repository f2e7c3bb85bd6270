//! The embedded rules load cleanly and fire on what they are for.

use ir110_sigma::{JsonRecord, LoadOptions, RuleSet, builtin_rules};

#[test]
fn builtin_rules_load_without_diagnostics() {
    let (set, diags) = RuleSet::builtin(&LoadOptions::default());
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(builtin_rules().len(), 7);
    assert_eq!(set.counts().rules, 15);
    assert_eq!(set.counts().correlations, 2);
    assert!(
        set.rules()
            .iter()
            .all(|r| r.id.is_some() && r.level.is_some())
    );
}

#[test]
fn log_clearing_fires() {
    let (set, _) = RuleSet::builtin(&LoadOptions::default());
    let r = JsonRecord::new("windows")
        .with("Channel", "Security")
        .with("EventID", 1102);
    let titles: Vec<&str> = set.matches(&r).map(|m| m.rule.title.as_str()).collect();
    assert_eq!(titles, ["Security Event Log Cleared"]);
}

/// A deterministic stand-in for the fuzz target (which needs nightly): every truncation and a
/// spread of byte substitutions of the embedded rules load without panicking, and whatever
/// loads evaluates against a record.
#[test]
fn damaged_rules_never_panic() {
    let record = JsonRecord::new("windows")
        .with("Channel", "Security")
        .with("EventID", 4625)
        .with("IpAddress", "10.0.0.1");
    let mut loads = 0;
    for r in builtin_rules() {
        let bytes = r.yaml.as_bytes();
        let mut variants: Vec<Vec<u8>> = (0..bytes.len())
            .step_by(5)
            .map(|n| bytes[..n].to_vec())
            .collect();
        for (i, sub) in (0..bytes.len()).step_by(11).zip(
            [b'(', b'|', b'*', b':', b'\\', b'-', b'\'', b'\n']
                .iter()
                .cycle(),
        ) {
            let mut v = bytes.to_vec();
            v[i] = *sub;
            variants.push(v);
        }
        for v in variants {
            let text = String::from_utf8_lossy(&v);
            let (set, _) = RuleSet::from_sources(&[("x.yml", &text)], &LoadOptions::default());
            for m in set.matches(&record) {
                let _ = m.matched_fields(&record);
            }
            loads += 1;
        }
    }
    assert!(loads > 1000, "{loads}");
}
