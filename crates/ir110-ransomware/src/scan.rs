//! Walking evidence and scanning every file, in parallel, with bounded reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ir110_model::Confidence;
use serde::{Deserialize, Serialize};

use crate::content::{Content, ReadPlan};
use crate::detect;
use crate::family::FamilyIndex;
use crate::names;
use crate::record::{FileRecord, Reason, Verdict};

/// How to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// What to read of each file.
    pub read_plan: ReadPlan,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Files.
    pub files: u64,
    /// Encrypted files.
    pub encrypted: u64,
    /// Ransom notes.
    pub notes: u64,
    /// Protected files.
    pub protected: u64,
    /// Unknown.
    pub unknown: u64,
    /// Errors.
    pub errors: u64,
    /// Intact.
    pub intact: u64,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        self.files += 1;
        match v {
            Verdict::Encrypted => self.encrypted += 1,
            Verdict::Note => self.notes += 1,
            Verdict::Protected => self.protected += 1,
            Verdict::Unknown => self.unknown += 1,
            Verdict::Error => self.errors += 1,
            Verdict::Intact => self.intact += 1,
        }
    }
}

/// A damaged file or note, kept for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Path.
    pub path: String,
    /// Encrypted or note.
    pub verdict: Verdict,
    /// Modification time.
    pub mtime: DateTime<Utc>,
}

/// What a scan found, over all files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// Totals.
    pub total: Counts,
    /// By last extension of the name as found (`locked`, `xlsx`, `(none)`).
    pub by_extension: BTreeMap<String, Counts>,
    /// By folder.
    pub by_folder: BTreeMap<String, Counts>,
    /// Appended extensions and how many files carry each (campaign candidates).
    pub appended_extensions: BTreeMap<String, u64>,
    /// Paths of ransom notes.
    pub notes: Vec<String>,
    /// Encrypted files and notes with their times (sorted by time).
    pub timeline: Vec<TimelineEntry>,
    /// Bytes in the files scanned.
    pub bytes_total: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Symlinks and special files not followed.
    pub skipped: u64,
}

impl ScanSummary {
    /// Adds a record.
    pub fn add(&mut self, r: &FileRecord) {
        self.total.add(r.verdict);
        let name = r.path.rsplit(['/', '\\']).next().unwrap_or(&r.path);
        let ext = names::analyse(name)
            .last_extension
            .unwrap_or_else(|| "(none)".to_owned());
        self.by_extension.entry(ext).or_default().add(r.verdict);
        self.by_folder
            .entry(folder_of(&r.path).to_owned())
            .or_default()
            .add(r.verdict);
        if let Some(a) = &r.appended_extension {
            if r.verdict == Verdict::Encrypted {
                *self
                    .appended_extensions
                    .entry(names::campaign_token(a))
                    .or_default() += 1;
            }
        }
        if r.verdict == Verdict::Note {
            self.notes.push(r.path.clone());
        }
        if let (Some(t), Verdict::Encrypted | Verdict::Note) = (r.mtime, r.verdict) {
            self.timeline.push(TimelineEntry {
                path: r.path.clone(),
                verdict: r.verdict,
                mtime: t,
            });
        }
        self.bytes_total += r.size;
        self.bytes_read += r.bytes_read;
    }

    /// Sorts lists so output is deterministic whatever the thread schedule.
    pub fn finish(&mut self) {
        self.notes.sort();
        self.timeline
            .sort_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.path.cmp(&b.path)));
    }
}

/// The folder part of a path (`.` for none).
pub fn folder_of(path: &str) -> &str {
    match path.rfind(['/', '\\']) {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// Scans one file. `display` is the path to report.
pub fn scan_file(
    path: &Path,
    display: &str,
    opts: &ScanOptions,
    index: &FamilyIndex,
) -> FileRecord {
    let meta = std::fs::symlink_metadata(path);
    let (size, mtime) = match &meta {
        Ok(m) => (m.len(), m.modified().ok().map(DateTime::<Utc>::from)),
        Err(_) => (0, None),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let info = names::analyse(&name);
    let mut record = FileRecord {
        path: display.to_owned(),
        size,
        verdict: Verdict::Error,
        mode: None,
        confidence: Confidence::High,
        reasons: Vec::new(),
        family_candidates: Vec::new(),
        mtime,
        format: None,
        appended_extension: info.appended.clone(),
        damaged: Vec::new(),
        damaged_fraction: None,
        bytes_read: 0,
    };
    let content = match meta.and_then(|_| Content::read(path, size, &opts.read_plan)) {
        Ok(c) => c,
        Err(e) => {
            record
                .reasons
                .push(Reason::new("unreadable").detail(e.to_string()));
            return record;
        }
    };
    let known_note = index.is_note_name(&name);
    let j = detect::judge(&name, &info, &content, known_note);
    record.size = content.size;
    record.verdict = j.verdict;
    record.mode = j.mode;
    record.confidence = j.confidence;
    record.reasons = j.reasons;
    record.format = j.format.map(|f| f.name().to_owned());
    record.damaged = j.damaged.iter().map(|&(s, e)| [s, e]).collect();
    record.damaged_fraction = j.fraction;
    record.bytes_read = content.bytes_read();
    record.family_candidates = index.file_candidates(&name, &info, j.verdict, &content);
    if j.verdict == Verdict::Encrypted {
        for (family, marker) in crate::family::markers(&content) {
            record
                .reasons
                .push(Reason::new("family-marker").detail(format!("{family}:{marker}")));
        }
    }
    record
}

/// Scans `paths` (files or folders, walked recursively without following symlinks), calling
/// `on_record` for every file as soon as it is judged (from several threads). Returns the
/// summary. Paths that cannot be read become `error` records; nothing stops the scan.
pub fn scan(
    paths: &[PathBuf],
    opts: &ScanOptions,
    on_record: &(dyn Fn(FileRecord) + Sync),
) -> ScanSummary {
    let index = FamilyIndex::builtin();
    let summary = Mutex::new(ScanSummary::default());
    let emit = |r: FileRecord| {
        if let Ok(mut s) = summary.lock() {
            s.add(&r);
        }
        on_record(r);
    };
    for root in paths {
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .standard_filters(false)
            .follow_links(false)
            .threads(opts.threads);
        builder.build_parallel().run(|| {
            let emit = &emit;
            let summary = &summary;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        let ft = e.file_type();
                        if ft.is_some_and(|t| t.is_file()) {
                            let display = e.path().to_string_lossy().into_owned();
                            emit(scan_file(e.path(), &display, opts, index));
                        } else if ft.is_some_and(|t| !t.is_dir()) {
                            if let Ok(mut s) = summary.lock() {
                                s.skipped += 1;
                            }
                        }
                    }
                    Err(err) => {
                        let path =
                            error_path(&err).unwrap_or_else(|| root.to_string_lossy().into_owned());
                        emit(error_record(&path, &err.to_string()));
                    }
                }
                ignore::WalkState::Continue
            })
        });
    }
    let mut s = summary.into_inner().unwrap_or_default();
    s.finish();
    s
}

fn error_path(err: &ignore::Error) -> Option<String> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.to_string_lossy().into_owned()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.to_string_lossy().into_owned()),
        _ => None,
    }
}

fn error_record(path: &str, detail: &str) -> FileRecord {
    FileRecord {
        path: path.to_owned(),
        size: 0,
        verdict: Verdict::Error,
        mode: None,
        confidence: Confidence::High,
        reasons: vec![Reason::new("unreadable").detail(detail)],
        family_candidates: Vec::new(),
        mtime: None,
        format: None,
        appended_extension: None,
        damaged: Vec::new(),
        damaged_fraction: None,
        bytes_read: 0,
    }
}
