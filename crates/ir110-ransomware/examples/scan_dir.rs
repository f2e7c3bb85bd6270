//! Prints one line per file: verdict, mode, format, reasons, path.
//! `cargo run -p ir110-ransomware --example scan_dir -- PATH...`

use std::path::PathBuf;

use ir110_ransomware::scan::{ScanOptions, scan};

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let summary = scan(&paths, &ScanOptions::default(), &|r| {
        let reasons: Vec<String> = r
            .reasons
            .iter()
            .map(|x| match (&x.offset, &x.detail) {
                (Some(o), _) => format!("{}@{o}", x.code),
                (None, Some(d)) => format!("{}={d}", x.code),
                _ => x.code.clone(),
            })
            .collect();
        println!(
            "{:<9} {:<12} {:<8} {:<40} {}",
            r.verdict.as_str(),
            r.mode.map_or("-", |m| m.as_str()),
            r.format.as_deref().unwrap_or("-"),
            reasons.join(","),
            r.path
        );
    });
    eprintln!("{:?}", summary.total);
}
