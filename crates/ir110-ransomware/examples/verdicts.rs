//! Dumps every decision in full, one line per file, so two builds can be compared with `diff`
//! (a speed change must leave every verdict, mode, reason, damage range and fraction as it was).
//! `cargo run --release -p ir110-ransomware --example verdicts -- corpus SEED PER_KIND`
//! (the accuracy corpus: every sample's full judgement, in corpus order)
//! `cargo run --release -p ir110-ransomware --example verdicts -- tree PATH...`
//! (a scan: every file record as JSON, sorted by path)
//! `cargo run --release -p ir110-ransomware --example verdicts -- write SEED PER_KIND DIR`
//! (writes the accuracy corpus to DIR/NN/NNNN/NAME, so a scan of it goes through the real I/O)

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::sync::Mutex;

use ir110_ransomware::scan::{ScanOptions, scan};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("corpus") => {
            let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2026);
            let per_kind: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
            let benign = corpus::benign(per_kind, true, seed);
            let samples = corpus::build(&benign, seed);
            for s in &samples {
                let j = ir110_ransomware::judge_bytes(&s.name, s.bytes.clone());
                println!("{}\t{}\t{j:?}", s.format, s.name);
            }
            eprintln!("{} samples", samples.len());
        }
        Some("write") => {
            let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2026);
            let per_kind: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
            let dir = PathBuf::from(
                args.get(3)
                    .cloned()
                    .unwrap_or_else(|| "/tmp/ir110-corpus".into()),
            );
            let benign = corpus::benign(per_kind, true, seed);
            let samples = corpus::build(&benign, seed);
            for (i, s) in samples.iter().enumerate() {
                let d = dir.join(format!("{:02}", i / 100)).join(format!("{i:04}"));
                if let Err(e) = std::fs::create_dir_all(&d)
                    .and_then(|()| std::fs::write(d.join(&s.name), &s.bytes))
                {
                    eprintln!("{}: {e}", d.display());
                }
            }
            eprintln!("{} files written", samples.len());
        }
        Some("tree") => {
            let paths: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
            let lines = Mutex::new(Vec::new());
            let summary = scan(&paths, &ScanOptions::default(), &|r| {
                let line = serde_json::to_string(&r).unwrap_or_default();
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                }
            });
            let mut lines = lines.into_inner().unwrap_or_default();
            lines.sort();
            for l in &lines {
                println!("{l}");
            }
            eprintln!("{:?}", summary.total);
        }
        _ => eprintln!("usage: verdicts corpus SEED PER_KIND | verdicts tree PATH..."),
    }
}
