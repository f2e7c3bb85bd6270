//! Patient zero and the encryption timeline: when damage started and ended per folder and
//! host, how fast it went, and the first ransom note.
//!
//! File modification times are what a scan of a share has. Ransomware rewrites (or replaces)
//! each file, so the earliest mtime among damaged files is the onset, and the folder (or host)
//! holding it is the patient-zero candidate. Times can be skewed or forged: findings say so.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::record::Verdict;
use crate::scan::{TimelineEntry, folder_of};

/// First and last damage in one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Folder or host.
    pub place: String,
    /// Encrypted files.
    pub files: u64,
    /// Earliest damage.
    pub first: DateTime<Utc>,
    /// Latest damage.
    pub last: DateTime<Utc>,
    /// The first damaged file.
    pub first_path: String,
}

/// The encryption timeline of a scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Earliest damaged file overall.
    pub first: Option<Span>,
    /// Per folder, earliest first.
    pub folders: Vec<Span>,
    /// Per host (when hosts are known), earliest first.
    pub hosts: Vec<Span>,
    /// First ransom note (path, time).
    pub first_note: Option<(String, DateTime<Utc>)>,
    /// Encrypted files per minute over the whole span.
    pub rate_per_minute: Option<f64>,
    /// Encrypted files per minute, minute by minute (start of minute, count).
    pub per_minute: Vec<(DateTime<Utc>, u64)>,
}

fn spans(entries: &[(&str, &TimelineEntry)]) -> Vec<Span> {
    let mut by: BTreeMap<&str, Span> = BTreeMap::new();
    for (place, e) in entries {
        by.entry(place)
            .and_modify(|s| {
                s.files += 1;
                if e.mtime < s.first {
                    s.first = e.mtime;
                    s.first_path = e.path.clone();
                }
                s.last = s.last.max(e.mtime);
            })
            .or_insert_with(|| Span {
                place: (*place).to_owned(),
                files: 1,
                first: e.mtime,
                last: e.mtime,
                first_path: e.path.clone(),
            });
    }
    let mut v: Vec<Span> = by.into_values().collect();
    v.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.place.cmp(&b.place)));
    v
}

/// Builds the timeline from a scan's damaged files and notes; `host_of` names the host of a
/// path when known.
pub fn build(entries: &[TimelineEntry], host_of: &dyn Fn(&str) -> Option<String>) -> Timeline {
    let encrypted: Vec<&TimelineEntry> = entries
        .iter()
        .filter(|e| e.verdict == Verdict::Encrypted)
        .collect();
    let by_folder: Vec<(&str, &TimelineEntry)> =
        encrypted.iter().map(|e| (folder_of(&e.path), *e)).collect();
    let hosts_owned: Vec<(String, &TimelineEntry)> = encrypted
        .iter()
        .filter_map(|e| host_of(&e.path).map(|h| (h, *e)))
        .collect();
    let by_host: Vec<(&str, &TimelineEntry)> =
        hosts_owned.iter().map(|(h, e)| (h.as_str(), *e)).collect();
    let first = encrypted
        .iter()
        .min_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.path.cmp(&b.path)))
        .map(|e| {
            let last = encrypted.iter().map(|x| x.mtime).max().unwrap_or(e.mtime);
            Span {
                place: folder_of(&e.path).to_owned(),
                files: encrypted.len() as u64,
                first: e.mtime,
                last,
                first_path: e.path.clone(),
            }
        });
    let first_note = entries
        .iter()
        .filter(|e| e.verdict == Verdict::Note)
        .min_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.path.cmp(&b.path)))
        .map(|e| (e.path.clone(), e.mtime));
    let rate_per_minute = first.as_ref().and_then(|s| {
        let minutes = (s.last - s.first).num_seconds() as f64 / 60.0;
        (minutes > 0.0).then(|| s.files as f64 / minutes)
    });
    let mut per_minute: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
    for e in &encrypted {
        let t = e.mtime
            - Duration::seconds(i64::from(e.mtime.timestamp().rem_euclid(60) as i32))
            - Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&e.mtime)));
        *per_minute.entry(t).or_default() += 1;
    }
    Timeline {
        first,
        folders: spans(&by_folder),
        hosts: spans(&by_host),
        first_note,
        rate_per_minute,
        per_minute: per_minute.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: u32, sec: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 4, 1, 2, min, sec)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn onset_rate_and_first_note() {
        let e = |p: &str, v, t| TimelineEntry {
            path: p.into(),
            verdict: v,
            mtime: t,
        };
        let entries = vec![
            e("/s/経理/a.xlsx.x", Verdict::Encrypted, at(10, 30)),
            e("/s/経理/b.xlsx.x", Verdict::Encrypted, at(10, 50)),
            e("/s/営業/c.docx.x", Verdict::Encrypted, at(5, 0)),
            e("/s/営業/d.docx.x", Verdict::Encrypted, at(15, 0)),
            e("/s/営業/README.txt", Verdict::Note, at(4, 59)),
        ];
        let t = build(&entries, &|_| None);
        let first = t.first.clone().unwrap_or_else(|| panic!("first"));
        assert_eq!(first.first_path, "/s/営業/c.docx.x");
        assert_eq!(first.files, 4);
        assert_eq!(t.folders.len(), 2);
        assert_eq!(t.folders[0].place, "/s/営業");
        assert_eq!(
            t.first_note,
            Some(("/s/営業/README.txt".to_owned(), at(4, 59)))
        );
        assert_eq!(t.rate_per_minute, Some(0.4));
        assert_eq!(t.per_minute.len(), 3);
    }
}
