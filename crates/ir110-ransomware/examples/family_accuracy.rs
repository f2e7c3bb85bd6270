//! Family identification accuracy on the ThreatLabz notes in `shared/data/ransomware`:
//! leave-one-note-out for families with at least two notes (the note's own signature removed
//! from the index), with ids, addresses and numbers perturbed.
//! `cargo run --release -p ir110-ransomware --example family_accuracy`

use std::path::PathBuf;

use ir110_ransomware::family::{FamilyIndex, encode_signature, minhash, normalise};

fn perturb(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|w| {
            if w.contains('@') {
                "victim-contact@example.invalid ".to_owned()
            } else if w.len() > 20 && w.chars().any(|c| c.is_ascii_digit()) {
                "0123456789ABCDEF0123456789ABCDEF ".to_owned()
            } else {
                w.chars()
                    .map(|c| if c.is_ascii_digit() { '7' } else { c })
                    .collect()
            }
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ransomware")
        });
    let families = ir110_ransomware::family_build::build(&root)?;
    let tz = root.join("threatlabz-ransomware-notes");
    let index = std::fs::read_to_string(tz.join("index.tsv"))?;
    let (mut n, mut top1, mut top3, mut unknown) = (0u32, 0u32, 0u32, 0u32);
    let (mut open_n, mut open_unknown) = (0u32, 0u32);
    let (mut known_n, mut known_top1) = (0u32, 0u32);
    let full = FamilyIndex::from_families(families.clone());
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(_), Some(rel)) = (cols.first(), cols.get(1)) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(tz.join("notes").join(rel)) else {
            continue;
        };
        let Some(text) = ir110_ransomware::notes::note_text(&bytes) else {
            continue;
        };
        if text.len() < 80 {
            continue;
        }
        let sig = encode_signature(&minhash(&normalise(&text)));
        let Some(owner) = families.iter().position(|f| f.notes.contains(&sig)) else {
            continue;
        };
        let truth = families[owner].name.clone();
        let mut reduced = families.clone();
        reduced[owner].notes.retain(|s| *s != sig);
        let in_db = !reduced[owner].notes.is_empty();
        let mut held_out = reduced.clone();
        // Open set: the whole family removed.
        held_out[owner].notes.clear();
        held_out[owner].note_names.clear();
        held_out[owner].extensions.clear();
        let name = rel.rsplit('/').next().unwrap_or(rel).to_owned();
        let note = vec![(name, perturb(&text).into_bytes())];
        let ext = Default::default();
        if in_db {
            let c = FamilyIndex::from_families(reduced).identify(&note, &ext, &[]);
            n += 1;
            if c.first().is_some_and(|c| c.family == truth) {
                top1 += 1;
            }
            if c.iter().any(|c| c.family == truth) {
                top3 += 1;
            }
            if c.is_empty() {
                unknown += 1;
            }
        }
        known_n += 1;
        if full
            .identify(&note, &ext, &[])
            .first()
            .is_some_and(|c| c.family == truth)
        {
            known_top1 += 1;
        }
        let c = FamilyIndex::from_families(held_out).identify(&note, &ext, &[]);
        open_n += 1;
        if c.first().is_none_or(|c| c.score < 1.0) {
            open_unknown += 1;
        }
    }
    println!("| test | notes | result |");
    println!("|---|---:|---|");
    println!(
        "| leave-one-note-out, perturbed (families with ≥ 2 notes) | {n} | top-1 {:.1} %, top-3 {:.1} %, unknown {:.1} % |",
        100.0 * f64::from(top1) / f64::from(n.max(1)),
        100.0 * f64::from(top3) / f64::from(n.max(1)),
        100.0 * f64::from(unknown) / f64::from(n.max(1))
    );
    println!(
        "| known note template, perturbed (ids, addresses, numbers changed) | {known_n} | top-1 {:.1} % |",
        100.0 * f64::from(known_top1) / f64::from(known_n.max(1))
    );
    println!(
        "| open set: note's family removed from the index | {open_n} | answered unknown or weak (< 1.0) {:.1} % |",
        100.0 * f64::from(open_unknown) / f64::from(open_n.max(1))
    );
    Ok(())
}
