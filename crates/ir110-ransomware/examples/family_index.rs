//! Regenerates `data/family-index.jsonl` from `../shared/data/ransomware`:
//! `cargo run -p ir110-ransomware --example family_index [SHARED_RANSOMWARE_DIR]`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| here.join("../../../shared/data/ransomware"));
    let families = ir110_ransomware::family_build::build(&root)?;
    let text = ir110_ransomware::family_build::render(&families);
    std::fs::write(here.join("data/family-index.jsonl"), &text)?;
    println!("{} families, {} bytes", families.len(), text.len());
    Ok(())
}
