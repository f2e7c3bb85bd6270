//! `identify`: family candidates with evidence, decryptor facts, and links for a person to
//! confirm. Everything happens locally; nothing is uploaded.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::decryptors::{self, DecryptorFact};
use crate::family::FamilyIndex;
use crate::names;
use crate::record::{FileRecord, Verdict};
use crate::scan::{ScanOptions, ScanSummary, scan};

/// One candidate family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentifiedFamily {
    /// Family name.
    pub family: String,
    /// Score (≥ 1.0 is a confident match).
    pub score: f64,
    /// Evidence (`extension:wiz`, `note-name:info.txt`, `note-text:0.82`, `marker:djvu-guid`).
    pub evidence: Vec<String>,
    /// What is known about decryptors for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryptor: Option<DecryptorFact>,
}

impl IdentifiedFamily {
    /// Whether one piece of evidence is strong enough to name the family (score ≥ 1.0); below
    /// that the candidate is shown as weak ("possibly X").
    pub fn is_confident(&self) -> bool {
        self.score >= 1.0
    }
}

/// A link for human confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Service.
    pub name: String,
    /// URL.
    pub url: String,
}

/// The answer of `identify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identification {
    /// Up to three candidates, strongest first. Empty means "unknown".
    pub candidates: Vec<IdentifiedFamily>,
    /// Ransom notes found.
    pub notes: Vec<String>,
    /// Campaign extensions on encrypted files, with counts.
    pub extensions: BTreeMap<String, u64>,
    /// Markers found in encrypted files (`STOP:djvu-guid`).
    pub markers: Vec<String>,
    /// Where to confirm (ID Ransomware, No More Ransom). Upload only what your NDA allows.
    pub links: Vec<Link>,
    /// Encrypted files seen.
    pub encrypted_files: u64,
}

const MARKERS: &[(&str, &str)] = &[
    ("STOP Ransomware", "djvu-guid"),
    ("WannaCry", "wanacry-header"),
];

/// Identifies from scan records; note files are read again (they are small).
pub fn from_records(records: &[FileRecord], summary: &ScanSummary) -> Identification {
    let index = FamilyIndex::builtin();
    let mut notes: Vec<(String, Vec<u8>)> = Vec::new();
    let mut markers: Vec<(&'static str, &'static str)> = Vec::new();
    let mut marker_names: Vec<String> = Vec::new();
    let mut encrypted = 0;
    for r in records {
        match r.verdict {
            Verdict::Note => {
                let name = r
                    .path
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(&r.path)
                    .to_owned();
                let bytes = std::fs::read(&r.path).unwrap_or_default();
                notes.push((name, bytes));
            }
            Verdict::Encrypted => {
                encrypted += 1;
                for reason in r.reasons.iter().filter(|x| x.code == "family-marker") {
                    if let Some(m) = MARKERS
                        .iter()
                        .find(|(f, id)| reason.detail.as_deref() == Some(&format!("{f}:{id}")))
                    {
                        if !markers.contains(m) {
                            markers.push(*m);
                            marker_names.push(format!("{}:{}", m.0, m.1));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // Identical notes in many folders are one piece of evidence.
    notes.sort();
    notes.dedup_by(|a, b| a.1 == b.1);
    let extensions: BTreeMap<String, u64> = summary
        .appended_extensions
        .iter()
        .filter(|(_, n)| **n >= 1)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let candidates = index
        .identify(&notes, &extensions, &markers)
        .into_iter()
        .map(|c| IdentifiedFamily {
            decryptor: decryptors::lookup(&c.family).cloned(),
            family: c.family,
            score: c.score,
            evidence: c.evidence,
        })
        .collect();
    Identification {
        candidates,
        notes: summary.notes.clone(),
        extensions,
        markers: marker_names,
        links: decryptors::CONFIRM_LINKS
            .iter()
            .map(|(n, u)| Link {
                name: (*n).to_owned(),
                url: (*u).to_owned(),
            })
            .collect(),
        encrypted_files: encrypted,
    }
}

/// Scans `paths` and identifies the family.
pub fn identify(paths: &[PathBuf], opts: &ScanOptions) -> Identification {
    let records = Mutex::new(Vec::new());
    let summary = scan(paths, opts, &|r| {
        if matches!(r.verdict, Verdict::Note | Verdict::Encrypted) {
            if let Ok(mut v) = records.lock() {
                v.push(r);
            }
        }
    });
    let mut records = records.into_inner().unwrap_or_default();
    records.sort_by(|a, b| a.path.cmp(&b.path));
    from_records(&records, &summary)
}

/// The campaign token of a record's appended extension.
pub fn campaign_token(r: &FileRecord) -> Option<String> {
    r.appended_extension.as_deref().map(names::campaign_token)
}
