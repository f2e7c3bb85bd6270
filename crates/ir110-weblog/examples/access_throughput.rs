//! Throughput of the access-log path, for BENCHMARKS.md (run by `bench/throughput.sh`).
//!
//! `access_throughput generate COPIES FILE` writes COPIES demo shop logs (different seeds)
//! one after another; `access_throughput FILE…` reads them and prints lines, bytes, seconds
//! and rates (`access_throughput --json OUT FILE…` also writes the whole report as JSON).

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use ir110_weblog::{AttackTimeline, WebOptions, attack_access_log, scan};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate") {
        let copies: u64 = args.get(1).ok_or("missing COPIES")?.parse()?;
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(args.get(2).ok_or("missing FILE")?)?);
        let base = AttackTimeline::demo();
        for seed in 0..copies {
            let shift = chrono::Duration::days(5 * seed as i64);
            let t = AttackTimeline {
                scan_start: base.scan_start + shift,
                upload: base.upload + shift,
                second_stage: base.second_stage + shift,
                reuse: base.reuse + shift,
            };
            out.write_all(attack_access_log(seed + 1, &t).as_bytes())?;
        }
        return Ok(());
    }
    // `--json OUT` (first): also write the whole report, to compare builds.
    let (json, args) = match args.first().map(String::as_str) {
        Some("--json") => (
            Some(PathBuf::from(args.get(1).ok_or("missing OUT")?)),
            &args[2..],
        ),
        _ => (None, &args[..]),
    };
    let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let start = Instant::now();
    let report = scan(None, None, &paths, WebOptions::default())?;
    let secs = start.elapsed().as_secs_f64();
    let lines: u64 = report.logs.iter().map(|l| l.lines).sum();
    println!(
        "lines={lines} bytes={bytes} secs={secs:.3} lines_per_sec={:.0} mb_per_sec={:.1} attackers={} first_compromises={}",
        lines as f64 / secs,
        bytes as f64 / secs / 1e6,
        report.attackers.len(),
        report.first_compromises.len()
    );
    if let Some(out) = json {
        std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}
