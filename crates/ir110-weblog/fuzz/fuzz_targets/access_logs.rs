//! Any bytes as an access log (combined or W3C): no panic, one log summary.
#![no_main]

use ir110_model::SourceRef;
use ir110_weblog::{WebOptions, WebScan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut s) = WebScan::new(WebOptions::default()) else {
        return;
    };
    s.ingest_log(data, SourceRef::file("fuzz.log"));
    assert_eq!(s.finish().logs.len(), 1);
});
