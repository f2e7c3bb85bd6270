//! Family identification from the open data in `shared/data/ransomware` (MISP galaxy,
//! Splunk lookups, ThreatLabz notes), compiled into a compact index committed as
//! `data/family-index.jsonl` (regenerated and checked by the `family_index` test; see
//! `examples/family_index.rs`). An installed binary needs no data files.
//!
//! Evidence, strongest first: a known file marker, a family name or a contact point (onion
//! address, Tox id, e-mail address) the note writes (only those no other family's notes
//! write), note text similarity (MinHash over character 5-grams of
//! normalised text, so ids, addresses and prices do not matter), an exact campaign extension,
//! the note file name. Generic extensions (`.locked`, `.enc`) are weak evidence.
//!
//! Precision comes before coverage: a wrong family means wrong decryptor advice. A note-text
//! match is confident only when it is close and clearly ahead of the second-best family
//! ([`TextRule`]); weak pieces of evidence never add up to a confident score (≥ 1.0), and below
//! `SHOWN` nothing is named ("unknown").

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
    /// Note texts: MinHash signature (hex, 8 digits per value), then `;` and the family names
    /// the note writes (`|`-separated mention keys) when it writes any.
    #[serde(rename = "m", default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Contact points the family's notes write ([`contact_points`]: `onion:<v3 or v2 label>`,
    /// `tox:<76 hex>`, `email:<address>`). Only those of exactly one family are evidence.
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
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

/// Scores below this are not shown: evidence too weak to name a family at all.
const SHOWN: f64 = 0.3;

/// The highest score a family gets without one piece of strong evidence (a marker, a campaign
/// extension only it uses, a confident note-text match): below the confident 1.0.
const WEAK_CEILING: f64 = 0.99;

/// Weight of a note file name the data lists for several families: names are shared across
/// families and reused by copycats, so such a name alone is never shown as a candidate.
const NOTE_NAME_WEIGHT: f64 = 0.25;

/// Weight of a note file name the data lists for one family only (LockBit 2.0's
/// `Restore-My-Files.txt`): shown alone, as a weak candidate, because it is the clue a
/// responder would follow first — and the per-file candidates of the note already name it.
const UNIQUE_NOTE_NAME_WEIGHT: f64 = 0.5;

/// Note file names too common to point at a family.
const COMMON_NOTE_NAMES: &[&str] = &[
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
];

/// Weight of a family name written in a note, when no other family's notes write it.
const MENTION_WEIGHT: f64 = 1.0;

/// Family names that are ordinary words (or places, people, crypto terms) a note of another
/// family, or any text, may write: weak evidence only.
const ORDINARY_NAMES: &[&str] = &[
    "alpha",
    "beast",
    "bert",
    "cactus",
    "chaos",
    "cuba",
    "embargo",
    "evolution",
    "hive",
    "interlock",
    "karma",
    "kyber",
    "lambda",
    "maze",
    "medusa",
    "nitrogen",
    "payload",
    "quantum",
    "ragnarok",
    "relic",
    "revenge",
    "royal",
    "scarecrow",
    "trinity",
    "underground",
    "valencia",
    "vortex",
    "warlock",
];

/// Weight of a contact point (onion address, Tox id, e-mail address) written in a note when
/// only one family's notes write it: the same leak site or chat portal serves all of a
/// family's (or affiliate's) victims, so it is as strong as the family's own name.
const CONTACT_WEIGHT: f64 = 1.0;

/// Weight of an ordinary-word family name written in a note.
const ORDINARY_MENTION_WEIGHT: f64 = 0.3;

/// When a note-text match is confident: the best family's similarity (estimated Jaccard of
/// character 5-grams, the maximum over that family's notes) must reach `min` and lead the
/// second-best family by `margin`, or reach `sure` (a known template with ids changed; two
/// families that share one template then both score high and the margin cannot separate them).
///
/// The values were chosen by `examples/family_accuracy.rs` on half of the families (split by a
/// hash of the name) and are reported there on the other half.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextRule {
    /// Minimum similarity of the best family.
    pub min: f64,
    /// Minimum lead over the second-best family.
    pub margin: f64,
    /// Similarity that is confident whatever the margin.
    pub sure: f64,
    /// Minimum similarity for a family to be listed at all (as a weak candidate).
    pub shown: f64,
}

impl TextRule {
    /// The rule the built-in index uses.
    pub const DEFAULT: TextRule = TextRule {
        min: 0.7,
        margin: 0.35,
        sure: 0.9,
        shown: 0.3,
    };

    /// Whether a best similarity `best` with the second-best family at `second` is confident.
    pub fn confident(&self, best: f64, second: f64) -> bool {
        best >= self.min && (best - second >= self.margin || best >= self.sure)
    }
}

impl Default for TextRule {
    fn default() -> Self {
        TextRule::DEFAULT
    }
}

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
    /// Family names that only their own family's notes mention (mention key → family).
    mentions: BTreeMap<String, usize>,
    /// Contact points only one family's notes write (contact point → family).
    contacts: BTreeMap<String, usize>,
    rule: TextRule,
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
        idx.mentions = distinctive_mentions(&families);
        idx.contacts = distinctive_contacts(&families);
        idx.families = families;
        idx
    }

    /// The same index with another note-text rule (for the accuracy benchmark).
    #[must_use]
    pub fn with_rule(mut self, rule: TextRule) -> FamilyIndex {
        self.rule = rule;
        self
    }

    /// Families ranked by note-text similarity to `text` (the best of each family's notes),
    /// strongest first; families without a similar note are left out.
    pub fn note_similarities(&self, text: &str) -> Vec<(usize, f64)> {
        let sig = minhash(&normalise(text));
        let mut ranked: Vec<(usize, f64)> = self
            .signatures
            .iter()
            .enumerate()
            .filter_map(|(i, sigs)| {
                sigs.iter()
                    .map(|s| similarity(s, &sig))
                    .max_by(f64::total_cmp)
                    .map(|m| (i, m))
            })
            .filter(|(_, m)| *m > 0.0)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }

    /// The contact points of `text` that only one family's notes write, with that family.
    pub fn contact_families(&self, text: &str) -> Vec<(String, usize)> {
        contact_points(text)
            .into_iter()
            .filter_map(|p| self.contacts.get(&p).map(|&i| (p, i)))
            .collect()
    }

    /// Number of contact points that are evidence (written by one family's notes only).
    pub fn distinctive_contact_count(&self) -> usize {
        self.contacts.len()
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
        if COMMON_NOTE_NAMES.contains(&lower.as_str()) {
            return false;
        }
        !self.note_name_families(name).is_empty()
    }

    /// Candidates suggested by one file (cheap: name, appended extension, markers, family names
    /// a note writes). Only evidence that points at few families: a note called `readme.txt`
    /// names no family (31 families use that name).
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
            if let Some(text) = crate::notes::note_text(content.head()) {
                let grams = mention_grams(&text);
                for (m, &i) in &self.mentions {
                    if grams.contains(m.as_str()) && !ORDINARY_NAMES.contains(&m.as_str()) {
                        *scores.entry(i).or_default() += 2.0;
                    }
                }
                for (_, i) in self.contact_families(&text) {
                    *scores.entry(i).or_default() += 2.0;
                }
            }
            let fams = self.note_name_families(name);
            if fams.len() <= 2 && !COMMON_NOTE_NAMES.contains(&name.to_lowercase().as_str()) {
                for i in fams {
                    *scores.entry(i).or_default() += 0.5;
                }
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
        // Families with evidence strong enough on its own for a confident answer.
        let mut strong: Vec<usize> = Vec::new();
        for token in extensions.keys() {
            if let [only] = self
                .by_extension
                .get(token)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                if !self.is_generic_extension(token) {
                    strong.push(*only);
                }
            }
        }
        for (name, bytes) in notes {
            let fams = self.note_name_families(name);
            let weight = match fams.as_slice() {
                [_] if !COMMON_NOTE_NAMES.contains(&name.to_lowercase().as_str()) => {
                    UNIQUE_NOTE_NAME_WEIGHT
                }
                _ => NOTE_NAME_WEIGHT,
            };
            for i in fams {
                add(i, weight, format!("note-name:{name}"));
            }
            let Some(text) = crate::notes::note_text(bytes) else {
                continue;
            };
            for (point, i) in self.contact_families(&text) {
                strong.push(i);
                add(i, CONTACT_WEIGHT, format!("contact:{}", shorten(&point)));
            }
            let grams = mention_grams(&text);
            for (name, &i) in &self.mentions {
                if grams.contains(name.as_str()) {
                    let weight = if ORDINARY_NAMES.contains(&name.as_str()) {
                        ORDINARY_MENTION_WEIGHT
                    } else {
                        strong.push(i);
                        MENTION_WEIGHT
                    };
                    add(i, weight, format!("note-mention:{name}"));
                }
            }
            let ranked = self.note_similarities(&text);
            let best = ranked.first().map_or(0.0, |r| r.1);
            let second = ranked.get(1).map_or(0.0, |r| r.1);
            let confident = self.rule.confident(best, second);
            for (rank, &(i, sim)) in ranked.iter().take(3).enumerate() {
                if sim < self.rule.shown {
                    break;
                }
                // A confident text match scores above 1.0; any other match is shown, weak.
                let score = if rank == 0 && confident {
                    strong.push(i);
                    1.0 + sim
                } else {
                    sim
                };
                add(i, score, format!("note-text:{sim:.2}"));
            }
        }
        let mut out: Vec<Candidate> = scores
            .into_iter()
            .map(|(i, (score, evidence))| Candidate {
                family: self.families[i].name.clone(),
                // Weak pieces of evidence (a shared note name, a generic extension, a note
                // that resembles several families) do not add up to a confident answer.
                score: if strong.contains(&i) {
                    score
                } else {
                    score.min(WEAK_CEILING)
                },
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
        out.retain(|c| c.score >= SHOWN);
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

/// A note as the index stores it: its signature, then `;` and the family names it mentions
/// (mention keys, `|`-separated) when there are any.
pub fn encode_note(text: &str, mentioned: &[&str]) -> String {
    let mut s = encode_signature(&minhash(&normalise(text)));
    if !mentioned.is_empty() {
        s.push(';');
        s.push_str(&mentioned.join("|"));
    }
    s
}

/// The family names a stored note mentions.
fn note_mentions(stored: &str) -> impl Iterator<Item = &str> {
    stored
        .split_once(';')
        .map(|(_, m)| m)
        .unwrap_or_default()
        .split('|')
        .filter(|m| !m.is_empty())
}

/// Words for name lookup: runs of letters and digits, cut where ASCII meets other scripts, so
/// that a Japanese note's `LockBitによって暗号化` yields the word `lockbit`.
fn name_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut ascii = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        if !word.is_empty() && (!c.is_alphanumeric() || c.is_ascii() != ascii) {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            ascii = c.is_ascii();
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// How a family name is looked for in a note: lower case, words joined by single spaces,
/// "ransomware" dropped; `None` when too short or without a letter to be told from ordinary
/// text.
pub fn mention_key(name: &str) -> Option<String> {
    let words: Vec<String> = name_words(name)
        .into_iter()
        .filter(|w| w != "ransomware")
        .collect();
    let key = words.join(" ");
    (key.chars().count() >= 4 && words.len() <= 3 && key.chars().any(char::is_alphabetic))
        .then_some(key)
}

/// The word sequences (one to three words, spaced and joined) of a note's text, to look up
/// mention keys: `Black Basta` matches both `black basta` and `blackbasta`.
pub fn mention_grams(text: &str) -> std::collections::HashSet<String> {
    let words = name_words(text);
    let mut out = std::collections::HashSet::new();
    for n in 1..=3 {
        for w in words.windows(n) {
            out.insert(w.join(" "));
            if n > 1 {
                out.insert(w.concat());
            }
        }
    }
    out
}

/// Names that are evidence when a note writes them: a name (or synonym) of exactly one
/// family, written in at least one of that family's notes and in no other family's notes (so
/// that words such as "payment" or "global", which are family names too, do not count).
fn distinctive_mentions(families: &[Family]) -> BTreeMap<String, usize> {
    let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in families.iter().enumerate() {
        for n in std::iter::once(&f.name).chain(&f.synonyms) {
            if let Some(k) = mention_key(n) {
                let o = owners.entry(k).or_default();
                if !o.contains(&i) {
                    o.push(i);
                }
            }
        }
    }
    let mut written: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in families.iter().enumerate() {
        for m in f.notes.iter().flat_map(|n| note_mentions(n)) {
            let w = written.entry(m).or_default();
            if !w.contains(&i) {
                w.push(i);
            }
        }
    }
    owners
        .into_iter()
        .filter_map(|(k, o)| match (o.as_slice(), written.get(k.as_str())) {
            ([only], Some(w)) if w.as_slice() == [*only] => Some((k, *only)),
            _ => None,
        })
        .collect()
}

/// E-mail domains of examples and of services a note may point at that are not the
/// attacker's contact (Tor Project, No More Ransom).
const NOT_CONTACT_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "example.invalid",
    "domain.com",
    "yourdomain.com",
    "company.com",
    "torproject.org",
    "nomoreransom.org",
];

/// Local parts of placeholder e-mail addresses (`your@email.com`, `name@domain`).
const PLACEHOLDER_LOCAL_PARTS: &[&str] = &[
    "your",
    "youremail",
    "yourmail",
    "email",
    "mail",
    "name",
    "user",
    "username",
    "example",
    "test",
    "xxx",
    "address",
    "mailbox",
];

/// The contact points a note writes, sorted and deduplicated: Tor onion labels (`onion:` and
/// the 56-character v3 or 16-character v2 base32 label), Tox ids (`tox:` and 76 hex digits,
/// upper case) and e-mail addresses (`email:` and the address, lower case; placeholders and
/// examples left out).
pub fn contact_points(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let is_token = |c: char| c.is_ascii_alphanumeric() || "._%+-@".contains(c);
    for token in text.split(|c: char| !is_token(c)) {
        let lower = token.to_ascii_lowercase();
        // Onion labels: the base32 run right before `.onion`.
        let mut from = 0;
        while let Some(p) = lower.get(from..).and_then(|r| r.find(".onion")) {
            let end = from + p;
            let label: String = lower[..end]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_lowercase() || ('2'..='7').contains(c))
                .collect::<Vec<char>>()
                .into_iter()
                .rev()
                .collect();
            let before = lower[..end - label.len()].chars().next_back();
            if matches!(label.len(), 16 | 56) && before.is_none_or(|c| !c.is_ascii_alphanumeric()) {
                out.push(format!("onion:{label}"));
            }
            from = end + ".onion".len();
        }
        // Tox ids: a run of exactly 76 hex digits.
        for run in token.split(|c: char| !c.is_ascii_alphanumeric()) {
            if run.len() == 76 && run.chars().all(|c| c.is_ascii_hexdigit()) {
                out.push(format!("tox:{}", run.to_ascii_uppercase()));
            }
        }
        if let Some(e) = email(&lower) {
            out.push(format!("email:{e}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The e-mail address in a token, unless it is a placeholder or example.
fn email(token: &str) -> Option<String> {
    let (local, domain) = token.split_once('@')?;
    let local = local.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let domain = domain.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    let (_, tld) = domain.rsplit_once('.')?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    let domain_ok = domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_lowercase());
    let placeholder = PLACEHOLDER_LOCAL_PARTS.contains(&local)
        || local.chars().all(|c| c == 'x' || c == '.')
        || NOT_CONTACT_DOMAINS.contains(&domain)
        || domain.starts_with("example.")
        || domain.ends_with(".example");
    (local_ok && domain_ok && !placeholder).then(|| format!("{local}@{domain}"))
}

/// A contact point short enough for an evidence string: long onion labels and Tox ids keep
/// their first 16 characters.
fn shorten(point: &str) -> String {
    let (kind, value) = point.split_once(':').unwrap_or(("", point));
    if value.len() > 24 && !value.contains('@') {
        format!("{kind}:{}…", value.get(..16).unwrap_or(value))
    } else {
        point.to_owned()
    }
}

/// Contact points that are evidence: written by exactly one family's notes. A point two
/// families share (a rebrand, an affiliate working for both) names neither.
fn distinctive_contacts(families: &[Family]) -> BTreeMap<String, usize> {
    let mut owners: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in families.iter().enumerate() {
        for c in &f.contacts {
            let o = owners.entry(c.as_str()).or_default();
            if !o.contains(&i) {
                o.push(i);
            }
        }
    }
    owners
        .into_iter()
        .filter_map(|(c, o)| match o.as_slice() {
            [only] => Some((c.to_owned(), *only)),
            _ => None,
        })
        .collect()
}

fn decode_signature(s: &str) -> Option<[u32; MINHASH_LEN]> {
    let s = s.split_once(';').map_or(s, |(sig, _)| sig);
    if s.len() != MINHASH_LEN * 8 {
        return None;
    }
    let mut out = [0u32; MINHASH_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u32::from_str_radix(s.get(i * 8..i * 8 + 8)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Family names that only their own notes write, in the built-in index.
    const MENTIONS_IN_BUILTIN: usize = 139;

    const BOILERPLATE: &str = "All your files have been encrypted! To decrypt your files you need to pay in bitcoin. \
        Contact us by e-mail. Do not rename encrypted files. Do not try to decrypt your data using third party \
        software, it may cause permanent data loss. Your personal ID: 1234567890ABCDEF";

    fn family(name: &str, notes: &[&str]) -> Family {
        Family {
            name: name.to_owned(),
            synonyms: Vec::new(),
            extensions: Vec::new(),
            note_names: Vec::new(),
            notes: notes
                .iter()
                .map(|t| {
                    let grams = mention_grams(t);
                    let mentioned: Vec<&str> = ["alpha", "beta", "gamma", "gammarebrand", "delta"]
                        .into_iter()
                        .filter(|n| grams.contains(*n))
                        .collect();
                    encode_note(t, &mentioned)
                })
                .collect(),
            contacts: notes.iter().flat_map(|t| contact_points(t)).collect(),
        }
    }

    fn note(text: &str) -> Vec<(String, Vec<u8>)> {
        vec![("README.txt".to_owned(), text.as_bytes().to_vec())]
    }

    /// Two families with their own wording, two that share one template (a rebrand).
    fn index() -> FamilyIndex {
        FamilyIndex::from_families(vec![
            family(
                "Alpha",
                &[
                    "Greetings from the alpha team. Your network perimeter was breached through the VPN gateway and \
                   every server, workstation and hypervisor has been locked by our alpha cryptor. Visit our \
                   negotiation portal within seven days or the exfiltrated archives go to the alpha blog.",
                ],
            ),
            family(
                "Beta",
                &[
                    "BETA SYNDICATE NOTICE. Dear management, the beta syndicate holds 2 terabytes of your \
                   accounting, payroll and customer records. The download link will be sent to journalists and \
                   regulators unless you open a support ticket in our helpdesk chat before the timer expires.",
                ],
            ),
            family(
                "Gamma",
                &[
                    "Hello friend. Everything here is now under gamma control: your backups are deleted, your shadow \
                   copies wiped, your domain controller is ours. Write to the gamma operator with the key below \
                   and receive a test decryption of three small files, free of charge, as proof.",
                ],
            ),
            family(
                "GammaRebrand",
                &[
                    "Hello friend. Everything here is now under gamma control: your backups are deleted, your shadow \
                   copies wiped, your domain controller is ours. Write to the gamma operator with the key below \
                   and receive a test decryption of two small files, free of charge, as proof.",
                ],
            ),
        ])
    }

    #[test]
    fn boilerplate_alone_is_unknown() {
        assert_eq!(
            index().identify(&note(BOILERPLATE), &BTreeMap::new(), &[]),
            vec![]
        );
        // Nor does the built-in index name a family for it.
        let builtin = FamilyIndex::builtin().identify(&note(BOILERPLATE), &BTreeMap::new(), &[]);
        assert!(builtin.iter().all(|c| c.score < 1.0), "{builtin:?}");
    }

    #[test]
    fn family_specific_note_resolves_by_text() {
        // The gamma-free wording of the alpha note, numbers and a word changed: no name in it.
        let text = "Greetings from the team. Your network perimeter was breached through the VPN gateway and \
                    every server, workstation and hypervisor has been locked by our cryptor. Visit our \
                    negotiation portal within 7 days or the exfiltrated archives go to the blog.";
        let c = index().identify(&note(text), &BTreeMap::new(), &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].family, "Alpha");
        assert!(c[0].score >= 1.0, "{c:?}");
        assert_eq!(c[0].evidence.len(), 1);
        assert!(c[0].evidence[0].starts_with("note-text:"), "{c:?}");
    }

    #[test]
    fn family_name_in_note_resolves_despite_boilerplate() {
        // The beta note with other numbers, diluted by the boilerplate every note has: the text
        // alone is a weak match; the family's own name, which no other family writes, is not.
        let text = format!(
            "BETA SYNDICATE NOTICE. Dear management, the beta syndicate holds 7 terabytes of your \
             accounting, payroll and customer records. The download link will be sent to journalists and \
             regulators unless you open a support ticket in our helpdesk chat before the timer expires. {BOILERPLATE}"
        );
        let c = index().identify(&note(&text), &BTreeMap::new(), &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].family, "Beta");
        assert!(c[0].score >= 1.0, "{c:?}");
        assert!(
            c[0].evidence.contains(&"note-mention:beta".to_owned()),
            "{c:?}"
        );
        let sim = index().note_similarities(&text);
        assert!(sim[0].1 < TextRule::DEFAULT.min, "{sim:?}");
        // "gamma" is written by two families' notes: not evidence.
        assert_eq!(
            index().mentions.keys().collect::<Vec<_>>(),
            vec!["alpha", "beta"]
        );
    }

    #[test]
    fn shared_template_is_not_confident_unless_near_exact() {
        // A third variant of the gamma template: both families match, neither leads enough.
        let text = "Hello friend. Everything here is now under gamma control: your backups are deleted, your \
                    shadow copies wiped. Write to the gamma operator with the key below and receive a test \
                    decryption of five small files as proof.";
        let c = index().identify(&note(text), &BTreeMap::new(), &[]);
        let names: Vec<&str> = c.iter().map(|c| c.family.as_str()).collect();
        assert_eq!(names.len(), 2, "{c:?}");
        assert!(names.contains(&"Gamma") && names.contains(&"GammaRebrand"));
        assert!(c.iter().all(|c| c.score < 1.0), "{c:?}");
    }

    #[test]
    fn weak_evidence_does_not_add_up_to_confident() {
        let mut fams = vec![family("Delta", &[])];
        fams[0].note_names = vec!["delta_readme.txt".to_owned()];
        fams[0].extensions = vec!["locked".to_owned()];
        let idx = FamilyIndex::from_families(fams);
        let ext: BTreeMap<String, u64> = [("locked".to_owned(), 500)].into();
        let notes = vec![(
            "delta_readme.txt".to_owned(),
            BOILERPLATE.as_bytes().to_vec(),
        )];
        // A note name only Delta uses (0.5) and a generic extension (0.1): shown, weak.
        let c = idx.identify(&notes, &ext, &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!((c[0].score - 0.6).abs() < 1e-9, "{c:?}");
        // The unique note name alone: shown, weak; the generic extension alone: not shown.
        let c = idx.identify(&notes, &BTreeMap::new(), &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!((c[0].score - 0.5).abs() < 1e-9, "{c:?}");
        assert_eq!(idx.identify(&[], &ext, &[]), vec![]);
    }

    #[test]
    fn shared_note_name_alone_names_nothing() {
        let mut fams = vec![family("Delta", &[]), family("Epsilon", &[])];
        fams[0].note_names = vec!["how_to_back_files.html".to_owned()];
        fams[1].note_names = vec!["how_to_back_files.html".to_owned()];
        let idx = FamilyIndex::from_families(fams);
        let notes = vec![(
            "HOW_TO_BACK_FILES.html".to_owned(),
            BOILERPLATE.as_bytes().to_vec(),
        )];
        assert_eq!(idx.identify(&notes, &BTreeMap::new(), &[]), vec![]);
    }

    #[test]
    fn per_file_candidates_of_notes() {
        let idx = index();
        let cands = |name: &str, text: &str| {
            idx.file_candidates(
                name,
                &names::analyse(name),
                Verdict::Note,
                &Content::whole(text.as_bytes().to_vec()),
            )
        };
        let beta = "The BETA syndicate has your data. Open a ticket in our helpdesk chat.";
        assert_eq!(cands("README.txt", beta), vec!["Beta".to_owned()]);
        assert_eq!(cands("README.txt", BOILERPLATE), Vec::<String>::new());
        // The gamma name is written by two families' notes.
        assert_eq!(
            cands("README.txt", "gamma control: write to the operator"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn builtin_index_names_written_names() {
        let idx = FamilyIndex::builtin();
        // Family names that are ordinary words are not evidence.
        for word in ["payment", "damage", "global", "unknown", "hacked"] {
            assert!(!idx.mentions.contains_key(word), "{word}");
        }
        let ordinary = idx
            .mentions
            .keys()
            .filter(|k| ORDINARY_NAMES.contains(&k.as_str()))
            .count();
        assert_eq!(ordinary, ORDINARY_NAMES.len());
        assert_eq!(
            idx.mentions.len(),
            MENTIONS_IN_BUILTIN,
            "{:?}",
            idx.mentions
                .iter()
                .map(|(k, i)| format!("{k}={}", idx.families[*i].name))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn names_written_in_japanese_notes() {
        let grams = mention_grams("あなたのファイルはAkiraによって暗号化されました。Black Basta");
        for g in [
            "akira",
            "black basta",
            "blackbasta",
            "によって暗号化されました",
        ] {
            assert!(grams.contains(g), "{g}: {grams:?}");
        }
        let text = "あなたの会社のネットワークはAkiraによって侵害されました。すべての重要なファイルは暗号化されています。";
        let c = FamilyIndex::builtin().identify(&note(text), &BTreeMap::new(), &[]);
        assert_eq!(c.first().map(|c| c.family.as_str()), Some("Akira"), "{c:?}");
        assert!(c[0].score >= 1.0, "{c:?}");
    }

    /// Contact points only one family's notes write, in the built-in index, and the families
    /// that have at least one.
    const CONTACTS_IN_BUILTIN: usize = 699;
    const FAMILIES_WITH_CONTACTS: usize = 256;

    const ONION_A: &str = "aaaabbbbccccddddeeeeffffgggghhhhiiiijjjjkkkkllllmmmm2345";
    const ONION_SHARED: &str = "zzzzyyyyxxxxwwwwvvvvuuuuttttssssrrrrqqqqppppoooonnnn7654";

    #[test]
    fn contact_points_of_a_note() {
        let tox = "0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789ABCDEF0123456789AB";
        let text = format!(
            "Visit http://{ONION_A}.onion/chat?id=1 or the old site abcdefghij234567.ONION.\n\
             Tox: {tox}. Mail Recovery.Team@Proton.me, (backup: rt2@onionmail.org).\n\
             Not contacts: your@email.com, name@example.com, xxxx@xxx.com, a 17-letter \
             abcdefghij2345672.onion, a 75-digit {}",
            &tox[..75]
        );
        assert_eq!(
            contact_points(&text),
            vec![
                "email:recovery.team@proton.me".to_owned(),
                "email:rt2@onionmail.org".to_owned(),
                format!("onion:{ONION_A}"),
                "onion:abcdefghij234567".to_owned(),
                format!("tox:{}", tox.to_ascii_uppercase()),
            ]
        );
        assert_eq!(
            shorten(&format!("onion:{ONION_A}")),
            "onion:aaaabbbbccccdddd…"
        );
        assert_eq!(
            shorten("email:rt2@onionmail.org"),
            "email:rt2@onionmail.org"
        );
    }

    #[test]
    fn real_onion_in_boilerplate_resolves_to_its_family() {
        // Akira's chat portal in a note whose text is boilerplate any family could send.
        let onion = "akiralkzxzq2dsrzsrvbr2xgbbu2wgsmxryd4csgfameg52n7efvr2id";
        let text = format!("{BOILERPLATE}\nOur site: http://{onion}.onion/");
        let c = FamilyIndex::builtin().identify(&note(&text), &BTreeMap::new(), &[]);
        let top: Vec<(&str, f64)> = c.iter().map(|c| (c.family.as_str(), c.score)).collect();
        // The boilerplate resembles a Razor note a little: listed below, weak.
        assert_eq!(top, vec![("Akira", 1.0), ("Razor", 0.5)], "{c:?}");
        assert_eq!(
            c[0].evidence,
            vec!["contact:onion:akiralkzxzq2dsrz…".to_owned()]
        );
        // The note's own per-file candidates name it too.
        let cands = FamilyIndex::builtin().file_candidates(
            "README.txt",
            &names::analyse("README.txt"),
            Verdict::Note,
            &Content::whole(text.into_bytes()),
        );
        assert_eq!(cands, vec!["Akira".to_owned()]);
    }

    #[test]
    fn builtin_contact_points() {
        let idx = FamilyIndex::builtin();
        assert_eq!(idx.distinctive_contact_count(), CONTACTS_IN_BUILTIN);
        let families: std::collections::BTreeSet<usize> = idx.contacts.values().copied().collect();
        assert_eq!(families.len(), FAMILIES_WITH_CONTACTS);
        // The TorBox mail service onion is written by three families' notes: not evidence.
        assert!(!idx.contacts.contains_key("onion:torbox3uiot6wchz"));
    }

    #[test]
    fn shared_contact_point_names_neither_family() {
        let delta = format!(
            "Delta crew. Your company servers are locked. Chat with us at http://{ONION_A}.onion or \
             http://{ONION_SHARED}.onion and write to delta.recovery@protonmail.com."
        );
        let epsilon = format!(
            "Epsilon here: the data of your firm was downloaded and will be published. Negotiate at \
             http://{ONION_SHARED}.onion before the deadline."
        );
        let idx = FamilyIndex::from_families(vec![
            family("Delta", &[&delta]),
            family("Epsilon", &[&epsilon]),
        ]);
        assert_eq!(
            idx.contacts.keys().collect::<Vec<_>>(),
            vec![
                "email:delta.recovery@protonmail.com",
                &format!("onion:{ONION_A}")
            ]
        );
        let shared = format!("{BOILERPLATE}\nhttp://{ONION_SHARED}.onion/");
        assert_eq!(idx.identify(&note(&shared), &BTreeMap::new(), &[]), vec![]);
        let own = format!("{BOILERPLATE}\nhttp://{ONION_A}.onion/");
        let c = idx.identify(&note(&own), &BTreeMap::new(), &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].family, "Delta");
        assert!((c[0].score - 1.0).abs() < 1e-9, "{c:?}");
    }

    #[test]
    fn email_domain_alone_is_not_evidence() {
        let delta = "Delta crew. Your company servers are locked. Write to crew.recovery@protonmail.com \
                     and attach two files for a free test decryption.";
        let idx = FamilyIndex::from_families(vec![family("Delta", &[delta])]);
        for other in [
            "another.victim.desk@protonmail.com",
            "protonmail.com",
            "@protonmail.com",
        ] {
            let text = format!("{BOILERPLATE} {other}");
            assert_eq!(
                idx.identify(&note(&text), &BTreeMap::new(), &[]),
                vec![],
                "{other}"
            );
        }
        let text = format!("{BOILERPLATE} Crew.Recovery@ProtonMail.com");
        let c = idx.identify(&note(&text), &BTreeMap::new(), &[]);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(
            c[0].evidence,
            vec!["contact:email:crew.recovery@protonmail.com".to_owned()]
        );
    }

    #[test]
    fn text_rule() {
        let r = TextRule::DEFAULT;
        assert!(r.confident(r.min + r.margin, r.margin.min(r.min) - r.margin));
        assert!(!r.confident(r.min - 0.01, 0.0));
        assert!(!r.confident(r.sure - 0.01, r.sure - 0.02));
        assert!(r.confident(r.sure, r.sure));
    }
}
