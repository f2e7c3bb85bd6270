//! `ir110 hunt` as a library call, for benchmarks before the CLI is built:
//! `cargo run --release -p ir110-eventlog --example hunt -- [--rules DIR]... [--timeline F] [--jsonl F] [--threads N] PATH...`
#![allow(missing_docs)]

fn main() -> anyhow::Result<()> {
    let mut opts = ir110_eventlog::HuntOptions::default();
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rules" => opts.rules.push(args.next().unwrap_or_default().into()),
            "--timeline" => opts.timeline = args.next().map(Into::into),
            "--jsonl" => opts.jsonl = args.next().map(Into::into),
            "--threads" => opts.read.threads = args.next().unwrap_or_default().parse()?,
            "--no-analytics" => opts.analytics = false,
            _ => paths.push(a.into()),
        }
    }
    let r = ir110_eventlog::hunt(&paths, &opts, &|_| {})?;
    println!(
        "hunt: {} files, {:.1} MiB, {} records, {} unreadable, {} detections, {} rules ({} rejected), {} findings in {:.2} s: {:.0} events/s, {:.1} MB/s",
        r.files,
        r.bytes as f64 / 1_048_576.0,
        r.records,
        r.unreadable_records,
        r.detections,
        r.rule_counts.rules,
        r.rule_counts.rejected,
        r.findings.len(),
        r.elapsed_secs,
        r.records as f64 / r.elapsed_secs,
        r.bytes as f64 / 1e6 / r.elapsed_secs
    );
    for rc in r.by_rule.iter().take(15) {
        println!("{:>7}  {:<13} {}", rc.count, rc.level, rc.title);
    }
    Ok(())
}
