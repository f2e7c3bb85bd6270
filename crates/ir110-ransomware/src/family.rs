//! Family identification from the open data in `shared/data/ransomware` (MISP galaxy,
//! Splunk lookups, ThreatLabz notes), compiled into a compact index committed as
//! `data/family-index.jsonl` (regenerated and checked by the `family_index` test; see
//! `examples/family_index.rs`). An installed binary needs no data files.
//!
//! Evidence, strongest first: a known file marker, note text similarity (MinHash over
//! character 5-grams of normalised text, so ids, addresses and prices do not matter), an
//! exact campaign extension, the note file name. Generic extensions (`.locked`, `.enc`) are
//! weak evidence. Below a threshold the answer is "unknown" rather than a wrong family.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::names::{self, NameInfo};
use crate::record::Verdict;

/// Number of MinHash values per note.
pub const MINHASH_LEN: usize = 64;

/// One family in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    /// Canonical name (the MISP galaxy value where there is one).
    #[serde(rename = "n")]
    pub name: String,
    /// Other names.
    #[serde(rename = "s", default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// Campaign extensions (lower-case, no dot).
    #[serde(rename = "e", default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Note file names (lower-case; `*` stands for a variable part).
    #[serde(rename = "f", default, skip_serializing_if = "Vec::is_empty")]
    pub note_names: Vec<String>,
    /// MinHash signatures of note texts (hex, 8 digits per value).
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The committed index.
pub const INDEX_DATA: &str = include_str!("../data/family-index.jsonl");

/// Extensions too common across families (or too generic) to name one.
const GENERIC_EXTENSIONS: &[&str] = &[
    "locked",
    "lock",
    "enc",
    "encrypted",
    "encrypt",
    "crypt",
    "crypted",
    "crypto",
    "cry",
    "aes",
    "rsa",
    "ransom",
    "pay",
    "xxx",
    "zzz",
    "fucked",
    "fuck",
    "hacked",
    "encoded",
    "locky",
    "crypz",
    "wallet",
    "id",
    "bit",
    "exx",
];

/// A family candidate with the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Family name.
    pub family: String,
    /// Score (higher is stronger; ≥ 1.0 is a confident match).
    pub score: f64,
    /// Evidence: `extension:wiz`, `note-name:info.txt`, `note-text:0.82`, `marker:djvu-guid`.
    pub evidence: Vec<String>,
}

/// The compiled family index.
#[derive(Debug, Default)]
pub struct FamilyIndex {
    families: Vec<Family>,
    signatures: Vec<Vec<[u32; MINHASH_LEN]>>,
    by_extension: HashMap<String, Vec<usize>>,
    by_note_name: HashMap<String, Vec<usize>>,
    note_patterns: Vec<(String, String, usize)>,
}

static BUILTIN: LazyLock<FamilyIndex> = LazyLock::new(|| FamilyIndex::parse(INDEX_DATA));

impl FamilyIndex {
    /// The index compiled into the binary.
    pub fn builtin() -> &'static FamilyIndex {
        &BUILTIN
    }

    /// Parses index lines (JSON objects, `#` comments); bad lines are skipped.
    pub fn parse(data: &str) -> FamilyIndex {
        let families: Vec<Family> = data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Self::from_families(families)
    }

    /// Builds the lookup tables.
    pub fn from_families(families: Vec<Family>) -> FamilyIndex {
        let mut idx = FamilyIndex::default();
        for (i, f) in families.iter().enumerate() {
            for e in &f.extensions {
                idx.by_extension.entry(e.clone()).or_default().push(i);
            }
            for n in &f.note_names {
                match n.split_once('*') {
                    Some((pre, rest)) => {
                        let suf = rest.rsplit('*').next().unwrap_or(rest);
                        idx.note_patterns.push((pre.to_owned(), suf.to_owned(), i));
                    }
                    None => idx.by_note_name.entry(n.clone()).or_default().push(i),
                }
            }
            idx.signatures
                .push(f.notes.iter().filter_map(|h| decode_signature(h)).collect());
        }
        idx.families = families;
        idx
    }

    /// Families in the index.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Whether an extension is generic (weak evidence).
    pub fn is_generic_extension(&self, ext: &str) -> bool {
        GENERIC_EXTENSIONS.contains(&ext)
            || self.by_extension.get(ext).is_some_and(|v| v.len() >= 4)
    }

    fn note_name_families(&self, name: &str) -> Vec<usize> {
        let lower = name.to_lowercase();
        let mut out = self.by_note_name.get(&lower).cloned().unwrap_or_default();
        for (pre, suf, i) in &self.note_patterns {
            if lower.len() >= pre.len() + suf.len()
                && lower.starts_with(pre.as_str())
                && lower.ends_with(suf.as_str())
                && !(pre.is_empty() && suf.len() < 5)
            {
                out.push(*i);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the data lists `name` as a ransom-note file name.
    pub fn is_note_name(&self, name: &str) -> bool {
        let lower = name.to_lowercase();
        // Very common names are not evidence by themselves.
        if [
            "readme.txt",
            "readme.html",
            "readme.md",
            "read_me.txt",
            "info.txt",
            "message.txt",
            "note.txt",
            "1.jpg",
            "1.bmp",
            "motd.txt",
        ]
        .contains(&lower.as_str())
        {
            return false;
        }
        !self.note_name_families(name).is_empty()
    }

    /// Candidates suggested by one file (cheap: name, appended extension, markers).
    pub fn file_candidates(
        &self,
        name: &str,
        info: &NameInfo,
        verdict: Verdict,
        content: &Content,
    ) -> Vec<String> {
        let mut scores: BTreeMap<usize, f64> = BTreeMap::new();
        let mut named: Vec<String> = Vec::new();
        if verdict == Verdict::Encrypted {
            if let Some(a) = &info.appended {
                let token = names::campaign_token(a);
                if !self.is_generic_extension(&token) {
                    for &i in self.by_extension.get(&token).into_iter().flatten() {
                        *scores.entry(i).or_default() += 1.0;
                    }
                }
            }
            named.extend(
                markers(content)
                    .into_iter()
                    .map(|(family, _)| family.to_owned()),
            );
        }
        if verdict == Verdict::Note {
            for i in self.note_name_families(name) {
                *scores.entry(i).or_default() += 0.5;
            }
        }
        let mut ranked: Vec<(usize, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, _) in ranked.into_iter().take(3) {
            named.push(self.families[i].name.clone());
        }
        named.dedup();
        named.truncate(3);
        named
    }

    /// Ranks families given the evidence of a whole scan: note files (name and bytes),
    /// campaign extensions with counts, and markers found in encrypted files.
    pub fn identify(
        &self,
        notes: &[(String, Vec<u8>)],
        extensions: &BTreeMap<String, u64>,
        found_markers: &[(&'static str, &'static str)],
    ) -> Vec<Candidate> {
        let mut scores: BTreeMap<usize, (f64, Vec<String>)> = BTreeMap::new();
        let mut add = |i: usize, s: f64, ev: String| {
            let e = scores.entry(i).or_default();
            e.0 += s;
            if !e.1.contains(&ev) {
                e.1.push(ev);
            }
        };
        for token in extensions.keys() {
            let generic = self.is_generic_extension(token);
            let fams = self.by_extension.get(token).cloned().unwrap_or_default();
            let weight = if generic {
                0.1
            } else {
                1.0 / (fams.len() as f64).max(1.0)
            };
            for i in fams {
                add(i, weight, format!("extension:{token}"));
            }
        }
        for (name, bytes) in notes {
            for i in self.note_name_families(name) {
                add(i, 0.4, format!("note-name:{name}"));
            }
            let Some(text) = crate::notes::note_text(bytes) else {
                continue;
            };
            let sig = minhash(&normalise(&text));
            let mut best: Vec<(usize, f64)> = self
                .signatures
                .iter()
                .enumerate()
                .filter_map(|(i, sigs)| {
                    sigs.iter()
                        .map(|s| similarity(s, &sig))
                        .max_by(f64::total_cmp)
                        .map(|m| (i, m))
                })
                .filter(|(_, m)| *m >= 0.12)
                .collect();
            best.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (i, sim) in best.into_iter().take(5) {
                add(i, 2.0 * sim, format!("note-text:{sim:.2}"));
            }
        }
        let mut out: Vec<Candidate> = scores
            .into_iter()
            .map(|(i, (score, evidence))| Candidate {
                family: self.families[i].name.clone(),
                score,
                evidence,
            })
            .collect();
        for (family, marker) in found_markers {
            match out
                .iter_mut()
                .find(|c| c.family.eq_ignore_ascii_case(family))
            {
                Some(c) => {
                    c.score += 3.0;
                    c.evidence.push(format!("marker:{marker}"));
                }
                None => out.push(Candidate {
                    family: (*family).to_owned(),
                    score: 3.0,
                    evidence: vec![format!("marker:{marker}")],
                }),
            }
        }
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.family.cmp(&b.family))
        });
        out.retain(|c| c.score >= 0.5);
        out.truncate(3);
        out
    }
}

/// Known byte markers that families leave in encrypted files: (family, marker id).
pub fn markers(content: &Content) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let (_, tail) = content.tail();
    if tail.ends_with(b"{36A698B9-D67C-4E07-BE82-0EC5B14B4DF5}") {
        out.push(("STOP Ransomware", "djvu-guid"));
    }
    if content.head().starts_with(b"WANACRY!") {
        out.push(("WannaCry", "wanacry-header"));
    }
    out
}

/// Normalises note text for similarity: lower case, variable parts (ids, addresses, URLs,
/// numbers) replaced by placeholders, whitespace collapsed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        let w = word.to_lowercase();
        let variable = w.contains('@')
            || w.contains("http")
            || w.contains(".onion")
            || w.contains("://")
            || w.len() >= 12
                && w.chars().filter(char::is_ascii_digit).count() >= 2
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_{}[]().:/".contains(c));
        if variable {
            out.push_str("<v> ");
            continue;
        }
        let w: String = w
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        out.push_str(&w);
        out.push(' ');
    }
    out
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// MinHash signature of character 5-gram shingles.
pub fn minhash(normalised: &str) -> [u32; MINHASH_LEN] {
    let chars: Vec<char> = normalised.chars().collect();
    let mut sig = [u32::MAX; MINHASH_LEN];
    if chars.len() < 5 {
        return sig;
    }
    for w in chars.windows(5) {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for c in w {
            h = (h ^ u64::from(*c as u32)).wrapping_mul(0x0100_0000_01b3);
        }
        for (i, s) in sig.iter_mut().enumerate() {
            let v = mix(h ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) as u32;
            if v < *s {
                *s = v;
            }
        }
    }
    sig
}

/// Estimated Jaccard similarity of two signatures.
pub fn similarity(a: &[u32; MINHASH_LEN], b: &[u32; MINHASH_LEN]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / MINHASH_LEN as f64
}

/// Hex form of a signature.
pub fn encode_signature(sig: &[u32; MINHASH_LEN]) -> String {
    sig.iter().map(|v| format!("{v:08x}")).collect()
}

fn decode_signature(s: &str) -> Option<[u32; MINHASH_LEN]> {
    if s.len() != MINHASH_LEN * 8 {
        return None;
    }
    let mut out = [0u32; MINHASH_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u32::from_str_radix(s.get(i * 8..i * 8 + 8)?, 16).ok()?;
    }
    Some(out)
}
