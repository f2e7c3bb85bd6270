//! Any bytes as a flow log (every layout is tried by detection): no panic, one file summary.
#![no_main]

use ir110_model::SourceRef;
use ir110_netflow::{NetAnalysis, NetOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut a = NetAnalysis::new(NetOptions::default());
    a.ingest(data, SourceRef::file("fuzz.log"), &|_| {});
    assert_eq!(a.finish().files.len(), 1);
});
