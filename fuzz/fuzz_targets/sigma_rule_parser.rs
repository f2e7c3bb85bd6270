//! Sigma rule parser and compiler: any bytes must give rules and/or diagnostics, never a panic,
//! and whatever compiles must evaluate against a record without panicking.
#![no_main]

use ir110_sigma::{JsonRecord, LoadOptions, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (set, _diagnostics) = RuleSet::from_sources(&[("fuzz.yml", &text)], &LoadOptions::default());
    let record = JsonRecord::new("windows")
        .with("Channel", "Security")
        .with("EventID", 4688)
        .with("CommandLine", "cmd.exe /c whoami -all")
        .with("IpAddress", "10.1.2.3");
    for m in set.matches(&record) {
        let _ = m.matched_fields(&record);
    }
});
