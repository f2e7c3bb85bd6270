//! EVTX and JSON event reading: any file content gives records and counted errors, never a
//! panic. The reader works on files, so the input is written to a temporary file first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = std::env::temp_dir().join(format!("ir110-fuzz-{}", std::process::id())).canonicalize().or_else(|_| {
        let d = std::env::temp_dir().join(format!("ir110-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).map(|()| d)
    }) else {
        return;
    };
    let path = dir.join("input.evtx");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(source) = ir110_eventlog::source_file(&path) else { return };
    let options = ir110_eventlog::ReadOptions::default();
    let _ = ir110_eventlog::read_files(&[source], &options, &|_batch| {});
});
