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
