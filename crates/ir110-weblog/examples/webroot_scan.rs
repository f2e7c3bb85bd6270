//! Webroot scan timing, for BENCHMARKS.md (run by `bench/yara_compare.sh`).
//!
//! - `webroot_scan generate COPIES DIR`: writes COPIES copies of the demo WordPress-like shop
//!   (`site-N/`), every tenth with the planted webshells and skimmer;
//! - `webroot_scan yara DIR…`: the built-in YARA rules only, through yara-x (compiled once,
//!   one scanner per thread) over every file — the same work as `yara -r`;
//! - `webroot_scan scan DIR`: the whole `ir110 web scan` file pass (hashing, YARA, heuristics).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ir110_weblog::{WebOptions, YaraRules, clean_site, demo_files, scan, webroot_files};
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let copies: u64 = args.get(1).ok_or("missing COPIES")?.parse()?;
            let dir = PathBuf::from(args.get(2).ok_or("missing DIR")?);
            for n in 0..copies {
                let files = if n % 10 == 0 {
                    demo_files(n)
                } else {
                    clean_site()
                };
                for (rel, bytes) in files {
                    let p = dir.join(format!("site-{n}")).join(rel);
                    if let Some(parent) = p.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(p, bytes)?;
                }
            }
        }
        Some("yara") => {
            let start = Instant::now();
            // As `ir110_weblog::scan` does: compile while walking.
            let ((rules, compiled), walked) = rayon::join(
                || (YaraRules::load(&[]), start.elapsed().as_secs_f64()),
                || -> Result<Vec<PathBuf>, ir110_weblog::WebError> {
                    let mut files = Vec::new();
                    for d in &args[1..] {
                        files.extend(webroot_files(Path::new(d))?.into_iter().map(|f| f.path));
                    }
                    Ok(files)
                },
            );
            let files = walked?;
            let matched: usize = files
                .par_iter()
                .map_init(
                    || rules.scanner_for_bench(),
                    |s, p| {
                        std::fs::read(p)
                            .ok()
                            .and_then(|b| s.scan(&b).ok().map(|r| r.matching_rules().len()))
                            .unwrap_or(0)
                    },
                )
                .sum();
            println!(
                "files={} rules={} matches={matched} compile_secs={compiled:.3} total_secs={:.3}",
                files.len(),
                rules.len(),
                start.elapsed().as_secs_f64()
            );
        }
        Some("scan") => {
            let dir = PathBuf::from(args.get(1).ok_or("missing DIR")?);
            let start = Instant::now();
            let report = scan(Some(&dir), None, &[], WebOptions::default())?;
            println!(
                "scanned={} flagged={} total_secs={:.3}",
                report.files_scanned,
                report.files.len(),
                start.elapsed().as_secs_f64()
            );
        }
        _ => return Err("usage: webroot_scan generate COPIES DIR | yara DIR… | scan DIR".into()),
    }
    Ok(())
}
