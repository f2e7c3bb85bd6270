//! `verify-restore`: is a restored copy or backup clean, and which damaged files came back?

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::names;
use crate::record::{FileRecord, Verdict};
use crate::scan::{ScanOptions, ScanSummary, scan};

/// The result of checking a restore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// Scan summary of the restored tree.
    pub summary: ScanSummary,
    /// Damaged files and ransom notes still present in the restore.
    pub remaining: Vec<FileRecord>,
    /// With `--against`: damaged files of the earlier scan now present and intact.
    pub recovered: Vec<String>,
    /// With `--against`: damaged files of the earlier scan not found in the restore.
    pub missing: Vec<String>,
    /// With `--against`: found, but still damaged.
    pub still_damaged: Vec<String>,
    /// No damaged file and no note remains (and, with `--against`, nothing is missing).
    pub clean: bool,
}

/// Reads a scan JSONL file (`ir110 ransomware scan --jsonl`).
pub fn read_records(path: &Path) -> Result<Vec<FileRecord>, Error> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        // Summary lines (objects without a verdict) are allowed in the file and skipped.
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|source| Error::Record {
                path: path.display().to_string(),
                line: i + 1,
                source,
            })?;
        if value.get("verdict").is_none() {
            continue;
        }
        out.push(
            serde_json::from_value(value).map_err(|source| Error::Record {
                path: path.display().to_string(),
                line: i + 1,
                source,
            })?,
        );
    }
    Ok(out)
}

/// Path components, with the appended extension removed from the file name.
fn original_components(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path
        .split(['/', '\\'])
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(last) = parts.last_mut() {
        let info = names::analyse(last);
        if let Some(a) = info.appended {
            let cut = last.len() - a.len() - 1;
            last.truncate(cut);
        }
    }
    parts
}

/// Scans `path`; with `against`, matches the damaged files of an earlier scan to the restore by
/// their original names and the longest common folder suffix.
pub fn verify_restore(
    path: &Path,
    against: Option<&Path>,
    opts: &ScanOptions,
) -> Result<RestoreReport, Error> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(Error::NotFound(path.display().to_string()));
    }
    let earlier = against.map(read_records).transpose()?;
    let all = Mutex::new(Vec::new());
    let summary = scan(&[PathBuf::from(path)], opts, &|r| {
        if let Ok(mut v) = all.lock() {
            v.push(r);
        }
    });
    let mut records = all.into_inner().unwrap_or_default();
    records.sort_by(|a, b| a.path.cmp(&b.path));
    let remaining: Vec<FileRecord> = records
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Encrypted | Verdict::Note))
        .cloned()
        .collect();
    let (mut recovered, mut missing, mut still_damaged) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(earlier) = &earlier {
        // Index the restore by file name.
        let mut by_name: BTreeMap<String, Vec<(Vec<String>, Verdict)>> = BTreeMap::new();
        for r in &records {
            let comps = original_components(&r.path);
            if let Some(name) = comps.last() {
                by_name
                    .entry(name.clone())
                    .or_default()
                    .push((comps.clone(), r.verdict));
            }
        }
        let mut seen = BTreeSet::new();
        for e in earlier.iter().filter(|r| r.verdict == Verdict::Encrypted) {
            if !seen.insert(e.path.clone()) {
                continue;
            }
            let comps = original_components(&e.path);
            let Some(name) = comps.last() else { continue };
            let best = by_name.get(name).and_then(|cands| {
                cands.iter().max_by_key(|(c, _)| {
                    c.iter()
                        .rev()
                        .zip(comps.iter().rev())
                        .take_while(|(a, b)| a == b)
                        .count()
                })
            });
            match best {
                Some((_, Verdict::Intact | Verdict::Protected)) => recovered.push(e.path.clone()),
                Some(_) => still_damaged.push(e.path.clone()),
                None => missing.push(e.path.clone()),
            }
        }
    }
    let clean = remaining.is_empty() && missing.is_empty() && still_damaged.is_empty();
    Ok(RestoreReport {
        summary,
        remaining,
        recovered,
        missing,
        still_damaged,
        clean,
    })
}
