//! CPU time of the per-file decision alone (no I/O), by extension, over the files of a tree
//! read into memory first (profiling aid for the speed benchmark).
//! `cargo run --release -p ir110-ransomware --example judge_cost -- DIR [REPEAT]`

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use ir110_ransomware::content::Content;
use ir110_ransomware::family::FamilyIndex;
use ir110_ransomware::{detect, names};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "/tmp/ir110-speed/small".into()),
    );
    let repeat: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let mut files: Vec<(String, String, Content)> = Vec::new();
    for e in ignore::WalkBuilder::new(&root)
        .standard_filters(false)
        .build()
        .flatten()
    {
        if e.file_type().is_some_and(|t| t.is_file()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let ext = name.rsplit_once('.').map_or("", |(_, x)| x).to_owned();
            if let Ok(b) = std::fs::read(e.path()) {
                files.push((name, ext, Content::whole(b)));
            }
        }
    }
    let index = FamilyIndex::builtin();
    let mut by_ext: BTreeMap<String, (u64, u64, f64)> = BTreeMap::new();
    let total = Instant::now();
    for _ in 0..repeat {
        for (name, ext, c) in &files {
            let t = Instant::now();
            let info = names::analyse(name);
            let j = detect::judge(name, &info, c, index.is_note_name(name));
            let _ = index.file_candidates(name, &info, j.verdict, c);
            let e = by_ext.entry(ext.clone()).or_default();
            e.0 += 1;
            e.1 += c.size;
            e.2 += t.elapsed().as_secs_f64();
        }
    }
    let all = total.elapsed().as_secs_f64() / f64::from(repeat);
    for (ext, (n, bytes, secs)) in &by_ext {
        println!(
            "{ext:<6} {:>6} files {:>8.1} µs/file {:>8.1} MB/s {:>5.1} % of time",
            n / u64::from(repeat),
            secs / *n as f64 * 1e6,
            *bytes as f64 / secs / 1e6,
            100.0 * secs / f64::from(repeat) / all
        );
    }
    println!(
        "all    {:>6} files {:>8.1} µs/file  {:.3} s CPU per pass",
        files.len(),
        all / files.len() as f64 * 1e6,
        all
    );
}
