//! Loads rule directories and prints every diagnostic and the counts.
//!
//! `cargo run -p ir110-sigma --example check_rules -- DIR...`

use ir110_sigma::{LoadOptions, check_rules};

fn main() {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    let start = std::time::Instant::now();
    let (diags, counts) = check_rules(&dirs, &LoadOptions::default());
    for d in &diags {
        println!("{d}");
    }
    println!("{counts:?} in {:?}", start.elapsed());
}
