//! Measures the engine alone: records/s for a rule set over records parsed beforehand.
//!
//! ```text
//! cargo run --release -p ir110-sigma --example throughput -- RULES_DIR... -- EVTX_DIR_OR_FILE...
//! ```
//!
//! Records are parsed once (evtx crate → JSON → [`JsonRecord`]) and kept in memory; the timed
//! loop is only `RuleSet::matches` over every record, repeated until about 3 s have passed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ir110_sigma::{JsonRecord, LoadOptions, RuleSet};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let rule_dirs = &args[..split];
    let inputs: Vec<PathBuf> = args
        .get(split + 1..)
        .unwrap_or(&[])
        .iter()
        .map(PathBuf::from)
        .collect();

    let t = Instant::now();
    let (set, diags) = RuleSet::load(rule_dirs, &LoadOptions::default());
    let c = set.counts();
    println!(
        "rules: {} loaded ({} compiled variants), {} diagnostics, load {:?}",
        c.rules,
        set.compiled_len(),
        diags.len(),
        t.elapsed()
    );

    let t = Instant::now();
    let mut records = Vec::new();
    for input in &inputs {
        for entry in walkdir::WalkDir::new(input).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if entry.path().extension().is_none_or(|e| e != "evtx") {
                continue;
            }
            let Ok(mut parser) = evtx::EvtxParser::from_path(entry.path()) else {
                continue;
            };
            for rec in parser.records_json_value().flatten() {
                records.push(JsonRecord::from_event_json("windows", &rec.data));
            }
        }
    }
    println!("records: {} parsed in {:?}", records.len(), t.elapsed());
    if records.is_empty() {
        return;
    }

    let (mut cand, mut unf) = (0usize, 0usize);
    let mut worst: std::collections::BTreeMap<String, (usize, usize, usize)> = Default::default();
    for r in &records {
        let (c, u) = set.candidate_stats(r);
        cand += c;
        unf += u;
        let key = format!(
            "{:?}/{:?}",
            ir110_sigma::Record::field(r, "Channel"),
            ir110_sigma::Record::field(r, "EventID")
        );
        let e = worst.entry(key).or_default();
        e.0 += 1;
        e.1 += c;
        e.2 += u;
    }
    println!(
        "candidates per record: {:.1} (of which {:.1} without prefilter)",
        cand as f64 / records.len() as f64,
        unf as f64 / records.len() as f64
    );
    let mut w: Vec<_> = worst.into_iter().collect();
    w.sort_by_key(|(_, (_, c, _))| std::cmp::Reverse(*c));
    for (k, (n, c, u)) in w.iter().take(8) {
        println!(
            "  {k}: {n} records, {:.1} candidates, {:.1} unfiltered",
            *c as f64 / *n as f64,
            *u as f64 / *n as f64
        );
    }

    if std::env::var_os("SHOW_NO_CHANNEL").is_some() {
        let mut providers: std::collections::BTreeMap<String, usize> = Default::default();
        for r in &records {
            if !matches!(
                ir110_sigma::Record::field(r, "Channel"),
                Some(ir110_sigma::FieldValue::Str(_))
            ) {
                let p = format!("{:?}", ir110_sigma::Record::field(r, "Provider_Name"));
                *providers.entry(p).or_default() += 1;
            }
        }
        println!("records without a channel, by provider: {providers:?}");
    }
    if std::env::var_os("SHOW_UNFILTERED").is_some() {
        let mut seen = std::collections::BTreeSet::new();
        for r in &records {
            for t in set.unfiltered_titles(r) {
                seen.insert(t.to_owned());
            }
        }
        for t in seen {
            println!("unfiltered: {t}");
        }
    }

    let mut hits = 0usize;
    let mut passes = 0usize;
    let t = Instant::now();
    let budget = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    while t.elapsed() < Duration::from_secs(budget) {
        hits = 0;
        for r in &records {
            hits += set.matches(r).count();
        }
        passes += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = (records.len() * passes) as f64;
    println!(
        "matching: {hits} hits per pass, {passes} passes, {:.0} records/s ({:.2} µs/record)",
        n / secs,
        secs * 1e6 / n
    );
}
