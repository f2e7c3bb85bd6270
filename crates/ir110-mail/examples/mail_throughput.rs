//! Throughput of `ir110 mail analyze`'s library path, for BENCHMARKS.md (run by
//! `bench/throughput.sh`).
//!
//! `mail_throughput generate DAYS USERS FILE` writes a synthetic Postfix maillog (one abused
//! account on day 20); `mail_throughput FILE…` analyses files and prints lines, bytes,
//! seconds, rates and the verdict.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use chrono::DateTime;
use ir110_mail::{AbuseSpec, MailOptions, MailSpec, analyze_paths, synthesize_maillog};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate") {
        let num = |i: usize| -> Result<u32, Box<dyn Error>> {
            Ok(args.get(i).ok_or("missing argument")?.parse()?)
        };
        let spec = MailSpec {
            seed: 42,
            // 2026-01-01 00:00 JST.
            start: DateTime::from_timestamp(1_767_193_200, 0).ok_or("start")?,
            days: num(1)?,
            users: num(2)?,
            abuse: Some(AbuseSpec {
                account: "user03@example.co.jp".to_owned(),
                day: 20,
                messages: 2000,
                bounce_every: 5,
            }),
            backscatter: None,
        };
        std::fs::write(
            args.get(3).ok_or("missing FILE")?,
            synthesize_maillog(&spec),
        )?;
        return Ok(());
    }
    let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let start = Instant::now();
    let report = analyze_paths(
        &paths,
        MailOptions {
            year: Some(2026),
            ..MailOptions::default()
        },
    );
    let secs = start.elapsed().as_secs_f64();
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    println!(
        "lines={lines} bytes={bytes} secs={secs:.3} lines_per_sec={:.0} mb_per_sec={:.1} messages={} verdict={:?} abused={:?}",
        lines as f64 / secs,
        bytes as f64 / secs / 1e6,
        report.messages,
        report.verdict,
        report.abused_accounts,
    );
    Ok(())
}
