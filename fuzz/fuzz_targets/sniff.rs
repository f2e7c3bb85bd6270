//! Triage's content classification: any head of any file must classify without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ir110_model::SourceKind::sniff(data);
});
