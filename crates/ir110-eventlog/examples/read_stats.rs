//! Reads event logs and prints per-file counts: `cargo run --release --example read_stats -- DIR`.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};

fn main() -> anyhow::Result<()> {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let (files, _) = ir110_eventlog::discover(&paths);
    let sources: Vec<_> = files
        .iter()
        .filter_map(|p| ir110_eventlog::source_file(p).ok())
        .collect();
    let count = AtomicU64::new(0);
    let start = std::time::Instant::now();
    let stats = ir110_eventlog::read_files(&sources, &Default::default(), &|b| {
        count.fetch_add(b.events.len() as u64, Ordering::Relaxed);
    });
    let secs = start.elapsed().as_secs_f64();
    for (s, st) in sources.iter().zip(&stats) {
        if st.problem_kind().is_some() {
            println!(
                "{}\t{:?}\t{}",
                s.display_path,
                st.problem_kind(),
                st.problem_detail()
            );
        }
    }
    let n = count.load(Ordering::Relaxed);
    println!("{n} events in {secs:.2}s = {:.0}/s", n as f64 / secs);
    Ok(())
}
