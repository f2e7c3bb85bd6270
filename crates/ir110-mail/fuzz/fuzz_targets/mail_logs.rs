//! Any bytes as a mail log (Postfix, sendmail, Exchange): no panic, one file summary.
#![no_main]

use ir110_mail::{MailAnalysis, MailOptions};
use ir110_model::SourceRef;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut a = MailAnalysis::new(MailOptions { year: Some(2026), ..MailOptions::default() });
    a.ingest(data, SourceRef::file("fuzz.log"));
    assert_eq!(a.finish().files.len(), 1);
});
