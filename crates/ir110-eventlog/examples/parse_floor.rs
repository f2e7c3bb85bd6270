//! The parse floor of the benchmark: the `evtx` crate alone, every record rendered (compact) and
//! parsed to `serde_json::Value`, files shared among N threads (default 2).
//!
//! `cargo run --release -p ir110-eventlog --example parse_floor -- [--threads N] DIR...`
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 2;
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        threads = args.get(i + 1).map_or(Ok(2), |n| n.parse())?;
        args.drain(i..=i + 1);
    }
    let paths: Vec<std::path::PathBuf> = args.into_iter().map(Into::into).collect();
    let (files, _) = ir110_eventlog::discover(&paths);
    let files: Vec<_> = files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        .collect();
    let bytes: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let next = AtomicUsize::new(0);
    let (ok, err) = (AtomicU64::new(0), AtomicU64::new(0));
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(p) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let Ok(parser) = evtx::EvtxParser::from_path(p) else {
                        err.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    // Compact JSON, one thread per parser: the cheapest way through the crate.
                    let mut parser = parser.with_configuration(
                        evtx::ParserSettings::new().indent(false).num_threads(1),
                    );
                    for r in parser.records_json_value() {
                        match r {
                            Ok(v) => {
                                std::hint::black_box(v);
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                err.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "floor: {} files, {:.1} MiB, {ok} records ({} errors) in {secs:.2} s: {:.0} events/s, {:.1} MB/s",
        files.len(),
        bytes as f64 / 1_048_576.0,
        err.load(Ordering::Relaxed),
        ok as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
