//! Full accuracy benchmark: per-format × per-mode confusion of verdicts over the labelled
//! corpus. `cargo run --release -p ir110-ransomware --example accuracy [-- SEED PER_KIND]`.
//! Prints Markdown for BENCHMARKS.md; lists every miss on stderr.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeMap;

use corpus::Truth;
use ir110_ransomware::record::Verdict;
use ir110_samples::damage::Mode;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2026);
    let per_kind: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
    let benign = corpus::benign(per_kind, true, seed);
    let samples = corpus::build(&benign, seed);
    let results: Vec<(corpus::Sample, Verdict, Option<String>)> = std::thread::scope(|s| {
        let chunks: Vec<Vec<corpus::Sample>> = samples
            .chunks(samples.len().div_ceil(2).max(1))
            .map(<[_]>::to_vec)
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|smp| {
                            let j = ir110_ransomware::judge_bytes(&smp.name, smp.bytes.clone());
                            let mode = j.mode.map(|m| m.as_str().to_owned());
                            (smp, j.verdict, mode)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    // (format, truth label) -> verdict -> count
    let mut table: BTreeMap<(String, String), BTreeMap<Verdict, u64>> = BTreeMap::new();
    let mut by_mode: BTreeMap<String, BTreeMap<Verdict, u64>> = BTreeMap::new();
    let mut mode_ok: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (smp, verdict, mode) in &results {
        let label = match &smp.truth {
            Truth::Benign => "benign".to_owned(),
            Truth::Protected => "protected".to_owned(),
            Truth::Encrypted(m) => m.clone(),
        };
        *table
            .entry((smp.format.clone(), label.clone()))
            .or_default()
            .entry(*verdict)
            .or_default() += 1;
        *by_mode
            .entry(label.clone())
            .or_default()
            .entry(*verdict)
            .or_default() += 1;
        let expected = match &smp.truth {
            Truth::Benign => Verdict::Intact,
            Truth::Protected => Verdict::Protected,
            Truth::Encrypted(_) => Verdict::Encrypted,
        };
        if *verdict != expected {
            eprintln!(
                "MISS {label:<26} {:<10} got {:<9} {} ({} bytes)",
                smp.format,
                verdict.as_str(),
                smp.name,
                smp.bytes.len()
            );
        }
        if let (Truth::Encrypted(m), Verdict::Encrypted) = (&smp.truth, verdict) {
            // The mode the damage really has in a file of this size (a 4 KiB header of a 3 KiB
            // file is full encryption; every other 4 KiB stripe of a 6 KiB file is a header).
            let len = smp.bytes.len();
            let ranges = match m.as_str() {
                "header-4k" => Mode::Header(4096).ranges(len),
                "header-1m" => Mode::Header(1 << 20).ranges(len),
                "intermittent-every-other" => Mode::Intermittent {
                    stripe: 4096,
                    every: 8192,
                }
                .ranges(len),
                "intermittent-10pct-5" => Mode::Fraction {
                    percent: 10,
                    stripes: 5,
                }
                .ranges(len),
                _ => std::iter::once(0..len).collect(),
            };
            let covered: usize = ranges.iter().map(|r| r.len()).sum();
            let want = if covered * 10 >= len * 9 {
                "full"
            } else if ranges.len() == 1 {
                "header"
            } else {
                "intermittent"
            };
            let e = mode_ok.entry(m.clone()).or_default();
            e.1 += 1;
            if mode.as_deref() == Some(want) {
                e.0 += 1;
            } else {
                eprintln!(
                    "MODE {m:<26} {:<10} got {:<12} want {want:<12} {} ({} bytes)",
                    smp.format,
                    mode.as_deref().unwrap_or("-"),
                    smp.name,
                    smp.bytes.len()
                );
            }
        }
    }
    let verdicts = [
        Verdict::Encrypted,
        Verdict::Intact,
        Verdict::Protected,
        Verdict::Note,
        Verdict::Unknown,
        Verdict::Error,
    ];
    println!(
        "Corpus: seed {seed}, {per_kind} generated documents per kind, {} benign sources, {} files in all.\n",
        benign.len(),
        results.len()
    );
    println!("### By mode (all formats)\n");
    println!("| truth | files | encrypted | intact | protected | note | unknown | error | rate |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, counts) in &by_mode {
        let total: u64 = counts.values().sum();
        let good = match label.as_str() {
            "benign" => counts.get(&Verdict::Encrypted).copied().unwrap_or(0),
            "protected" => counts.get(&Verdict::Protected).copied().unwrap_or(0),
            _ => counts.get(&Verdict::Encrypted).copied().unwrap_or(0),
        };
        let what = match label.as_str() {
            "benign" => "FP",
            "protected" => "correct",
            _ => "recall",
        };
        let cells: Vec<String> = verdicts
            .iter()
            .map(|v| counts.get(v).copied().unwrap_or(0).to_string())
            .collect();
        println!(
            "| {label} | {total} | {} | {what} {:.2} % |",
            cells.join(" | "),
            100.0 * good as f64 / total.max(1) as f64
        );
    }
    println!("\n### Mode classification (encrypted files whose mode was named right)\n");
    println!("| truth | right / detected |");
    println!("|---|---:|");
    for (m, (ok, n)) in &mode_ok {
        println!("| {m} | {ok} / {n} |");
    }
    println!("\n### By format × mode\n");
    println!("| format | truth | files | encrypted | intact | protected | unknown | other |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for ((format, label), counts) in &table {
        let total: u64 = counts.values().sum();
        let g = |v: Verdict| counts.get(&v).copied().unwrap_or(0);
        let other = g(Verdict::Note) + g(Verdict::Error);
        println!(
            "| {format} | {label} | {total} | {} | {} | {} | {} | {other} |",
            g(Verdict::Encrypted),
            g(Verdict::Intact),
            g(Verdict::Protected),
            g(Verdict::Unknown)
        );
    }
}
