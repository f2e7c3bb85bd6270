//! Collection throughput: `cargo bench -p ir110-evidence --bench collect -- SOURCE OUT`.
//!
//! Runs one full collection (listing, copy + SHA-256, journal, manifest, signature) of SOURCE
//! into OUT with the Linux profile and prints the wall time and throughput. Driven by
//! `scripts/bench-collect.sh`, which builds a ~2 GB tree and compares with
//! `tar -cf - … | sha256sum`.

// A benchmark driver: failing loudly is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ir110_evidence::{CaseMeta, CollectOptions, ProfileChoice, SigningKey, collect};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [source, out] = args.as_slice() else {
        eprintln!("usage: cargo bench -p ir110-evidence --bench collect -- SOURCE OUT");
        return;
    };
    let key = SigningKey::from_bytes(&[1u8; 32]);
    let meta = CaseMeta {
        case: "BENCH".to_owned(),
        examiner: "bench".to_owned(),
        ..CaseMeta::default()
    };
    let mut options = CollectOptions::new(source, out, meta, &key);
    options.profile = ProfileChoice::Builtin("linux".to_owned());
    let start = Instant::now();
    let summary = collect(&options).expect("collection");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "collect: {} files, {} bytes copied, {} entries listed in {secs:.2} s ({:.0} MB/s)",
        summary.counts.copied,
        summary.counts.bytes,
        summary.counts.listed,
        summary.counts.bytes as f64 / secs / 1e6
    );
}
