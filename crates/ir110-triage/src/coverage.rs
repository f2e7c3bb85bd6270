//! The account of what was and was not analysed.

use std::collections::BTreeMap;

use ir110_model::{Problem, ProblemKind, SourceFile};
use serde::{Deserialize, Serialize};

/// Files and bytes of one content kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    /// Number of files.
    pub files: u64,
    /// Total bytes.
    pub bytes: u64,
}

/// What one analyzer was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyzerCoverage {
    /// Files handed to it.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Problems it reported.
    pub problems: u64,
}

/// Every input file accounted for: analysed by whom, or not analysed and why.
///
/// Invariant: every regular file found appears in `by_kind`; every path that was found but not
/// analysed (or analysed only in part) appears in `not_analysed` with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Regular files found.
    pub files_total: u64,
    /// Their total size.
    pub bytes_total: u64,
    /// Files handed to at least one analyzer.
    pub files_analysed: u64,
    /// Files by content kind (`evtx`, `jsonl`, `text/syslog`, `binary`, …).
    pub by_kind: BTreeMap<String, KindCount>,
    /// Per analyzer.
    pub by_analyzer: BTreeMap<String, AnalyzerCoverage>,
    /// Paths not analysed, or analysed only in part, with the reason (sorted by path).
    pub not_analysed: Vec<Problem>,
}

impl Coverage {
    pub(crate) fn count_source(&mut self, source: &SourceFile) {
        self.files_total += 1;
        self.bytes_total += source.size;
        let entry = self
            .by_kind
            .entry(source.kind.name().to_owned())
            .or_default();
        entry.files += 1;
        entry.bytes += source.size;
    }

    /// Problems counted by kind, for the summary line ("not analysed: 3 files — 1 unreadable, …").
    pub fn problem_counts(&self) -> BTreeMap<ProblemKind, u64> {
        let mut counts = BTreeMap::new();
        for p in &self.not_analysed {
            *counts.entry(p.kind).or_insert(0) += 1;
        }
        counts
    }
}
