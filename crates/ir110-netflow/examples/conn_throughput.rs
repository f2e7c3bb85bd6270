//! Throughput of the conn.log path, for BENCHMARKS.md (run by `bench/throughput.sh`).
//!
//! `conn_throughput generate DAYS HOSTS PAIRS FILE` writes a synthetic Zeek conn.log;
//! `conn_throughput FILE…` analyses files and prints lines, bytes, seconds and rates; with
//! `CONN_REPORT_JSON=OUT` set it also writes the whole report as JSON to OUT, so that two
//! builds can be compared byte for byte on a large file (`CONN_TOP=N` ranks N pairs).

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use ir110_netflow::{BeaconSpec, NetOptions, TrafficSpec, analyze_paths, synthesize_conn_log};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("generate") {
        let num = |i: usize| -> Result<u32, Box<dyn Error>> {
            Ok(args.get(i).ok_or("missing argument")?.parse()?)
        };
        let spec = TrafficSpec {
            seed: 42,
            start: 1_735_657_200,
            days: num(1)?,
            hosts: num(2)?,
            normal_pairs: num(3)?,
            pollers: 2,
            beacons: vec![BeaconSpec {
                src: "10.1.0.9".parse()?,
                dst: "203.0.113.9".parse()?,
                port: 443,
                period_secs: 600.0,
                jitter: 0.3,
                start_day: 0,
                days: num(1)?,
                bytes_out: 900,
            }],
        };
        std::fs::write(
            args.get(4).ok_or("missing FILE")?,
            synthesize_conn_log(&spec),
        )?;
        return Ok(());
    }
    let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    let start = Instant::now();
    let mut options = NetOptions::default();
    // CONN_TOP=N ranks N pairs instead of 100 (to compare whole reports).
    if let Some(top) = std::env::var_os("CONN_TOP") {
        options.top = top.to_str().ok_or("CONN_TOP")?.parse()?;
    }
    let report = analyze_paths(&paths, options, None, &|_| {})?;
    let secs = start.elapsed().as_secs_f64();
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    let bytes: u64 = report.files.iter().map(|f| f.bytes).sum();
    if let Some(out) = std::env::var_os("CONN_REPORT_JSON") {
        std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
    }
    println!(
        "lines={lines} bytes={bytes} secs={secs:.3} lines_per_sec={:.0} mb_per_sec={:.1} pairs={} top={}",
        lines as f64 / secs,
        bytes as f64 / secs / 1e6,
        report.pairs_seen,
        report.beacons.first().map_or(String::new(), |p| format!(
            "{}->{}:{}",
            p.src, p.dst, p.dst_port
        )),
    );
    Ok(())
}
