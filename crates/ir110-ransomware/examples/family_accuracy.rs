//! Family identification accuracy on the ThreatLabz notes in `shared/data/ransomware`, with
//! ids, addresses and numbers perturbed:
//! - leave-one-note-out for families with at least two notes (the note removed from the index);
//! - known template (the note itself in the index);
//! - open set (the note's whole family removed: every named family is wrong).
//!
//! A "confident" answer is a top candidate with score ≥ 1.0; "weak" is a top candidate below 1.0;
//! "unknown" is no candidate. The note-text rule (`TextRule`) is chosen here on the families of
//! split A (a hash of the family name) and reported on split B, which took no part in choosing it.
//! `cargo run --release -p ir110-ransomware --example family_accuracy [SHARED_RANSOMWARE_DIR]`

use std::path::PathBuf;

use ir110_ransomware::family::{FamilyIndex, TextRule, encode_signature, minhash, normalise};

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

/// A text that writes the stored contact point `c` (`onion:label`, `tox:HEX`, `email:a@b`).
fn contact_text(c: &str) -> String {
    match c.split_once(':') {
        Some(("onion", label)) => format!("{label}.onion"),
        Some((_, value)) => value.to_owned(),
        None => String::new(),
    }
}

/// Split of a family: 0 (A, chooses the rule) or 1 (B, reports it).
fn split(name: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    usize::from(h >> 63 == 1)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Test {
    LeaveOneOut,
    Known,
    Open,
}

/// One query: the test, the split, the truth, the text-only ranking (best and second family),
/// and the full answer of `identify` with the default rule.
struct Query {
    test: Test,
    split: usize,
    truth: String,
    best: Option<(String, f64)>,
    second: f64,
    answer: Vec<ir110_ransomware::family::Candidate>,
    /// The top answer is confident and wrong, but the same note text (similarity ≥ 0.8) is
    /// filed under the named family too (a rebrand or a copied template: no text can tell).
    shared: bool,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: u32,
    right: u32,
    wrong: u32,
    shared: u32,
    weak: u32,
    unknown: u32,
    top1: u32,
    top3: u32,
}

impl Tally {
    fn pct(&self, x: u32) -> f64 {
        100.0 * f64::from(x) / f64::from(self.n.max(1))
    }
}

/// Text-only decision with `rule` (what the grid search varies).
fn text_tally(qs: &[&Query], rule: &TextRule) -> Tally {
    let mut t = Tally::default();
    for q in qs {
        t.n += 1;
        match &q.best {
            Some((family, sim)) if rule.confident(*sim, q.second) => {
                if *family == q.truth {
                    t.right += 1;
                } else {
                    t.wrong += 1;
                }
            }
            _ => t.unknown += 1,
        }
    }
    t
}

/// The full answers (default rule).
fn answer_tally(qs: &[&Query]) -> Tally {
    let mut t = Tally::default();
    for q in qs {
        t.n += 1;
        match q.answer.first() {
            None => t.unknown += 1,
            Some(c) if c.score < 1.0 => t.weak += 1,
            Some(c) if c.family == q.truth => t.right += 1,
            Some(_) => {
                t.wrong += 1;
                t.shared += u32::from(q.shared);
            }
        }
        if q.answer.first().is_some_and(|c| c.family == q.truth) {
            t.top1 += 1;
        }
        if q.answer.iter().any(|c| c.family == q.truth) {
            t.top3 += 1;
        }
    }
    t
}

fn select(qs: &[Query], test: Test, split: Option<usize>) -> Vec<&Query> {
    qs.iter()
        .filter(|q| q.test == test && split.is_none_or(|s| q.split == s))
        .collect()
}

/// Grid search on split A: maximise confident-right minus `cost` times confident-wrong
/// (leave-one-out and open set, in percent) while known templates stay ≥ 99 % right.
fn choose(qs: &[Query], cost: f64) -> Option<(TextRule, f64)> {
    let loo = select(qs, Test::LeaveOneOut, Some(0));
    let known = select(qs, Test::Known, Some(0));
    let open = select(qs, Test::Open, Some(0));
    let mut best: Option<(TextRule, f64)> = None;
    for min in (5..=80).step_by(5) {
        for margin in (0..=40).step_by(5) {
            for sure in (50..=105).step_by(5) {
                let rule = TextRule {
                    min: f64::from(min) / 100.0,
                    margin: f64::from(margin) / 100.0,
                    sure: f64::from(sure) / 100.0,
                    shown: TextRule::DEFAULT.shown,
                };
                let k = text_tally(&known, &rule);
                if k.pct(k.right) < 99.0 {
                    continue;
                }
                let l = text_tally(&loo, &rule);
                let o = text_tally(&open, &rule);
                let u = l.pct(l.right) - cost * (l.pct(l.wrong) + o.pct(o.wrong));
                if best.as_ref().is_none_or(|b| u > b.1 + 1e-9) {
                    best = Some((rule, u));
                }
            }
        }
    }
    best
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
    let full = FamilyIndex::from_families(families.clone());
    let mut queries: Vec<Query> = Vec::new();
    // Notes that write a contact point only their family writes, and how many of those keep
    // one after perturbation (which replaces e-mail addresses and long ids).
    let (mut with_contact, mut contact_kept) = (0u32, 0u32);
    // Unperturbed notes whose contact points name another family: in the full index, and
    // with the note's own family removed (open set).
    let (mut contact_wrong, mut contact_open_wrong) = (0u32, 0u32);
    let ext = Default::default();
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
        let stored = |s: &String| s.split(';').next() == Some(sig.as_str());
        let Some(owner) = families.iter().position(|f| f.notes.iter().any(stored)) else {
            continue;
        };
        let truth = families[owner].name.clone();
        let mut reduced = families.clone();
        reduced[owner].notes.retain(|s| !stored(s));
        let in_db = !reduced[owner].notes.is_empty();
        let mut held_out = reduced.clone();
        held_out[owner].notes.clear();
        held_out[owner].note_names.clear();
        held_out[owner].extensions.clear();
        held_out[owner].contacts.clear();
        let name = rel.rsplit('/').next().unwrap_or(rel).to_owned();
        let perturbed = perturb(&text);
        let own = full.contact_families(&text);
        if !own.is_empty() {
            with_contact += 1;
            if own.iter().any(|&(_, i)| families[i].name != truth) {
                contact_wrong += 1;
            }
            if !full.contact_families(&perturbed).is_empty() {
                contact_kept += 1;
            }
        }
        // Unperturbed, with the note's family removed: a point it shared with one other
        // family (a rebrand) is now that family's alone.
        let open = FamilyIndex::from_families(held_out.clone());
        if !open.contact_families(&text).is_empty() {
            contact_open_wrong += 1;
        }
        let note = vec![(name, perturbed.clone().into_bytes())];
        let own_text = full.note_similarities(&text);
        let mut run = |test: Test, idx: &FamilyIndex| {
            let ranked = idx.note_similarities(&perturbed);
            let answer = idx.identify(&note, &ext, &[]);
            let shared = answer.first().is_some_and(|c| {
                c.score >= 1.0
                    && c.family != truth
                    && own_text
                        .iter()
                        .any(|&(i, s)| s >= 0.8 && full.families()[i].name == c.family)
            });
            queries.push(Query {
                test,
                split: split(&truth),
                truth: truth.clone(),
                best: ranked
                    .first()
                    .map(|&(i, s)| (idx.families()[i].name.clone(), s)),
                second: ranked.get(1).map_or(0.0, |r| r.1),
                answer,
                shared,
            });
        };
        if in_db {
            run(Test::LeaveOneOut, &FamilyIndex::from_families(reduced));
        }
        run(Test::Known, &full);
        run(Test::Open, &FamilyIndex::from_families(held_out));
    }
    let gained = families
        .iter()
        .enumerate()
        .filter(|&(i, f)| {
            f.contacts.iter().any(|c| {
                full.contact_families(&contact_text(c))
                    .iter()
                    .any(|&(_, j)| j == i)
            })
        })
        .count();
    println!(
        "contact points: {} distinctive, {gained} families with at least one; {with_contact} notes write one ({contact_wrong} of them one of another family), {contact_kept} still do after perturbation; unperturbed open set: {contact_open_wrong} notes name a wrong family by a contact point\n",
        full.distinctive_contact_count()
    );
    // How the choice moves with the cost of a wrong answer (3 is the one used).
    for cost in [1.0, 2.0, 5.0] {
        if let Some((r, _)) = choose(&queries, cost) {
            let l = text_tally(&select(&queries, Test::LeaveOneOut, Some(1)), &r);
            let o = text_tally(&select(&queries, Test::Open, Some(1)), &r);
            println!(
                "cost {cost}: min {:.2}, margin {:.2}, sure {:.2} -> split B, text only: LOO right {:.1} %, wrong {:.1} %; open wrong {:.1} %",
                r.min,
                r.margin,
                r.sure,
                l.pct(l.right),
                l.pct(l.wrong),
                o.pct(o.wrong)
            );
        }
    }
    match choose(&queries, 3.0) {
        Some((rule, u)) => println!(
            "rule chosen on split A: min {:.2}, margin {:.2}, sure {:.2} (utility {u:.1}); built-in: min {:.2}, margin {:.2}, sure {:.2}{}\n",
            rule.min,
            rule.margin,
            rule.sure,
            TextRule::DEFAULT.min,
            TextRule::DEFAULT.margin,
            TextRule::DEFAULT.sure,
            if rule == TextRule::DEFAULT {
                ""
            } else {
                " (DIFFERENT: update TextRule::DEFAULT)"
            }
        ),
        None => println!("no rule keeps known templates ≥ 99 % on split A\n"),
    }
    println!(
        "| test | split | notes | confident right | confident WRONG | of which same note filed under both | weak (< 1.0) | unknown | top-1 | top-3 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (test, label) in [
        (
            Test::LeaveOneOut,
            "leave-one-note-out (families with ≥ 2 notes)",
        ),
        (Test::Known, "known template"),
        (Test::Open, "open set (family removed; every name is wrong)"),
    ] {
        for (sp, sl) in [
            (Some(0), "A (tuning)"),
            (Some(1), "B (held out)"),
            (None, "all"),
        ] {
            let t = answer_tally(&select(&queries, test, sp));
            println!(
                "| {label} | {sl} | {} | {:.1} % | {:.1} % | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
                t.n,
                t.pct(t.right),
                t.pct(t.wrong),
                t.shared,
                t.pct(t.weak),
                t.pct(t.unknown),
                t.pct(t.top1),
                t.pct(t.top3)
            );
        }
    }
    if std::env::var_os("FAMILY_ACCURACY_WRONG").is_some() {
        println!("\nconfident wrong answers:");
        for q in &queries {
            if let Some(c) = q.answer.first() {
                if c.score >= 1.0 && c.family != q.truth {
                    let test = match q.test {
                        Test::LeaveOneOut => "loo",
                        Test::Known => "known",
                        Test::Open => "open",
                    };
                    println!(
                        "  {test}: {} -> {} ({:.2}, {:?})",
                        q.truth, c.family, c.score, c.evidence
                    );
                }
            }
        }
    }
    Ok(())
}
