//! Writes one JSON line per record read (file, record_id, channel, provider, event_id,
//! fields: the names of its EventData/UserData values) to
//! stdout: `cargo run --release --example records -- DIR > records.jsonl`. Used by
//! `scripts/parity_compare.py` to tell why a peer fired a rule on a record ir110 did not.
#![allow(missing_docs)]

use std::io::Write;
use std::sync::Mutex;

fn main() -> anyhow::Result<()> {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let (files, _) = ir110_eventlog::discover(&paths);
    let sources: Vec<_> = files
        .iter()
        .filter_map(|p| ir110_eventlog::source_file(p).ok())
        .collect();
    let out = Mutex::new(std::io::BufWriter::new(std::io::stdout()));
    ir110_eventlog::read_files(&sources, &Default::default(), &|b| {
        let file = &sources[b.file].display_path;
        let mut text = String::new();
        for e in &b.events {
            let line = serde_json::json!({
                "file": file,
                "record_id": e.record_id,
                "channel": e.channel,
                "provider": e.provider,
                "event_id": e.event_id,
                "fields": e.data.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            });
            text.push_str(&line.to_string());
            text.push('\n');
        }
        if let Ok(mut o) = out.lock() {
            // A closed stdout (e.g. `| head`) ends the listing; nothing else to report.
            let _ = o.write_all(text.as_bytes());
        }
    });
    let mut o = out
        .lock()
        .map_err(|_| anyhow::anyhow!("stdout lock poisoned"))?;
    o.flush()?;
    Ok(())
}
