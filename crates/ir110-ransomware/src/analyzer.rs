//! The `ransomware` analyzer that `ir110 triage` runs: every file except event logs is judged;
//! damaged files and notes become timeline events; folders, notes, family and onset become
//! findings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ir110_model::{
    AnalysisContext, Analyzer, Category, Confidence, Event, Finding, Message, Problem, ProblemKind,
    Severity, Sink, SourceFile, SourceKind, SourceRef,
};
use rayon::prelude::*;

use crate::family::FamilyIndex;
use crate::identify;
use crate::record::{FileRecord, Verdict};
use crate::scan::{ScanOptions, ScanSummary, TimelineEntry, folder_of, scan_file};
use crate::timeline;

/// The analyzer id.
pub const ID: &str = "ransomware";

/// Evidence references kept per finding (the full list is in the scan records).
const MAX_EVIDENCE: usize = 20;

/// The ransomware analyzer.
#[derive(Debug, Default)]
pub struct RansomwareAnalyzer {
    /// Scan options.
    pub options: ScanOptions,
}

impl RansomwareAnalyzer {
    /// An analyzer with default options.
    pub fn new() -> Self {
        Self::default()
    }
}

fn event_fields(r: &FileRecord) -> Vec<(&'static str, serde_json::Value)> {
    let mut f = vec![
        ("file.path", serde_json::Value::from(r.path.clone())),
        ("file.size", serde_json::Value::from(r.size)),
        ("event.category", serde_json::Value::from("file")),
    ];
    if let Some(m) = r.mode {
        f.push(("ransomware.mode", m.as_str().into()));
    }
    if let Some(x) = r.damaged_fraction {
        f.push(("ransomware.damaged_fraction", x.into()));
    }
    if let Some(a) = &r.appended_extension {
        f.push(("ransomware.appended_extension", a.clone().into()));
    }
    if !r.family_candidates.is_empty() {
        f.push((
            "ransomware.family_candidates",
            r.family_candidates.clone().into(),
        ));
    }
    f
}

impl Analyzer for RansomwareAnalyzer {
    fn id(&self) -> &'static str {
        ID
    }

    fn accepts(&self, source: &SourceFile) -> bool {
        source.kind != SourceKind::Evtx
    }

    fn analyze(&self, sources: &[SourceFile], ctx: &AnalysisContext, sink: &dyn Sink) {
        let index = FamilyIndex::builtin();
        let mut results: Vec<(&SourceFile, FileRecord)> = sources
            .par_iter()
            .map(|s| {
                let mut r = scan_file(&s.path, &s.display_path, &self.options, index);
                if r.mtime.is_none() {
                    r.mtime = s.modified;
                }
                sink.progress(s.size);
                (s, r)
            })
            .collect();
        results.sort_by(|a, b| a.1.path.cmp(&b.1.path));
        let mut summary = ScanSummary::default();
        for (_, r) in &results {
            summary.add(r);
            if r.verdict == Verdict::Error {
                let detail = r
                    .reasons
                    .first()
                    .and_then(|x| x.detail.clone())
                    .unwrap_or_default();
                sink.problem(Problem::new(&r.path, ID, ProblemKind::Unreadable, detail));
            } else if r.verdict == Verdict::Unknown {
                // Coverage must show what could not be judged: an unrecognised file may be an
                // encrypted one whose damage no validator can prove.
                let why = r
                    .reasons
                    .first()
                    .and_then(|x| x.detail.clone())
                    .unwrap_or_else(|| "no format validator applies".to_owned());
                sink.problem(Problem::new(
                    &r.path,
                    ID,
                    ProblemKind::Unsupported,
                    format!("cannot tell whether this file is damaged: {why}"),
                ));
            }
        }
        summary.finish();
        let refs: BTreeMap<String, SourceRef> = results
            .iter()
            .map(|(s, r)| (r.path.clone(), s.source_ref()))
            .collect();
        let records: Vec<FileRecord> = results.into_iter().map(|(_, r)| r).collect();
        let source_ref = |p: &str| refs.get(p).cloned().unwrap_or_else(|| SourceRef::file(p));
        for e in events(&records, ctx.host.as_deref(), &source_ref) {
            sink.event(e);
        }
        for f in findings(&records, &summary, ctx, &source_ref) {
            sink.finding(f);
        }
    }
}

/// Timeline events for scan records: `file-encrypted` and `ransom-note`, at the file's
/// modification time (records without one give no event).
pub fn events(
    records: &[FileRecord],
    host: Option<&str>,
    source_ref: &dyn Fn(&str) -> SourceRef,
) -> Vec<Event> {
    let mut out = Vec::new();
    for r in records {
        let kind = match r.verdict {
            Verdict::Encrypted => "file-encrypted",
            Verdict::Note => "ransom-note",
            _ => continue,
        };
        let Some(t) = r.mtime else { continue };
        let msg = if r.verdict == Verdict::Encrypted {
            format!(
                "encrypted ({}): {}",
                r.mode.map_or("?", |m| m.as_str()),
                r.path
            )
        } else {
            format!("ransom note: {}", r.path)
        };
        let mut e = Event::new(t, ID, kind, source_ref(&r.path), msg);
        for (k, v) in event_fields(r) {
            e = e.field(k, v);
        }
        if let Some(h) = host {
            e = e.host(h);
        }
        out.push(e);
    }
    out
}

fn with_hosts(mut f: Finding, ctx: &AnalysisContext) -> Finding {
    if let Some(h) = &ctx.host {
        f = f.host(h.clone());
    }
    f
}

/// The cross-file findings of a scan (also used by `ir110 ransomware scan --case`).
pub fn findings(
    records: &[FileRecord],
    summary: &ScanSummary,
    ctx: &AnalysisContext,
    source_ref: &dyn Fn(&str) -> SourceRef,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let notes_found = records.iter().any(|r| r.verdict == Verdict::Note);
    let id = (summary.total.encrypted > 0 || notes_found)
        .then(|| identify::from_records(records, summary));
    let host_of = |_: &str| ctx.host.clone();
    let tl = timeline::build(&summary.timeline, &host_of);
    if let Some(f) = impact_summary(records, &tl, id.as_ref(), source_ref) {
        out.push(with_hosts(f, ctx));
    }
    // Ransom notes.
    let notes: Vec<&FileRecord> = records
        .iter()
        .filter(|r| r.verdict == Verdict::Note)
        .collect();
    if !notes.is_empty() {
        let mut names: Vec<&str> = notes
            .iter()
            .map(|r| r.path.rsplit(['/', '\\']).next().unwrap_or(&r.path))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut f = Finding::new(
            ID,
            "ransomware.ransom-note",
            Severity::Critical,
            Category::Ransomware,
            Message::new("ransomware.note.title").arg("count", notes.len()),
        )
        .key(&names.join("|"))
        .summary(
            Message::new("ransomware.note.summary")
                .arg("count", notes.len())
                .arg("names", names.join(", ")),
        )
        .attack("T1486")
        .confidence(Confidence::High)
        .action(Message::new("ransomware.action.no-contact"))
        .action(Message::new("ransomware.action.preserve"))
        .data("count", notes.len())
        .data("names", names.clone());
        for r in &notes {
            if let Some(t) = r.mtime {
                f.observe(t);
            }
        }
        for r in notes.iter().take(MAX_EVIDENCE) {
            f = f.evidence(source_ref(&r.path));
        }
        out.push(with_hosts(f, ctx));
    }
    // Family and decryptors.
    if let Some(id) = &id {
        let names: Vec<String> = id.candidates.iter().map(|c| c.family.clone()).collect();
        let (title, confidence) = match id.candidates.first() {
            Some(c) if c.is_confident() => (
                Message::new("ransomware.family.title").arg("family", &c.family),
                Confidence::Medium,
            ),
            Some(c) => (
                Message::new("ransomware.family.title-weak").arg("family", &c.family),
                Confidence::Low,
            ),
            None => (Message::new("ransomware.family.unknown"), Confidence::Low),
        };
        let mut f = Finding::new(
            ID,
            "ransomware.family",
            Severity::High,
            Category::Ransomware,
            title,
        )
        .key("family")
        .summary(Message::new("ransomware.family.summary").arg(
            "candidates",
            if names.is_empty() {
                "-".to_owned()
            } else {
                names.join(", ")
            },
        ))
        .attack("T1486")
        .confidence(confidence)
        .action(Message::new("ransomware.action.confirm-family"))
        .data(
            "candidates",
            serde_json::to_value(&id.candidates).unwrap_or_default(),
        )
        .data("links", serde_json::to_value(&id.links).unwrap_or_default());
        if id.candidates.iter().any(|c| {
            c.decryptor
                .as_ref()
                .is_some_and(|d| d.status != crate::decryptors::Status::No)
        }) {
            f = f.action(Message::new("ransomware.action.try-decryptor"));
        }
        for p in id.notes.iter().take(3) {
            f = f.evidence(source_ref(p));
        }
        out.push(with_hosts(f, ctx));
    }
    // Onset and patient zero.
    if let Some(first) = &tl.first {
        let mut f = Finding::new(
            ID,
            "ransomware.onset",
            Severity::High,
            Category::Ransomware,
            Message::new("ransomware.onset.title")
                .arg("time", first.first.to_rfc3339())
                .arg("folder", &first.place),
        )
        .key("onset")
        .summary(
            Message::new("ransomware.onset.summary")
                .arg("first", first.first.to_rfc3339())
                .arg("last", first.last.to_rfc3339())
                .arg("count", first.files)
                .arg(
                    "rate",
                    tl.rate_per_minute
                        .map_or("-".to_owned(), |r| format!("{r:.1}")),
                )
                .arg("path", &first.first_path)
                .arg(
                    "note",
                    tl.first_note
                        .as_ref()
                        .map_or("-".to_owned(), |(p, t)| format!("{p} ({})", t.to_rfc3339())),
                ),
        )
        .attack("T1486")
        .confidence(Confidence::Medium)
        .action(Message::new("ransomware.action.patient-zero"))
        .evidence(source_ref(&first.first_path))
        .data("timeline", serde_json::to_value(&tl).unwrap_or_default());
        f.observe(first.first);
        f.observe(first.last);
        if let Some((p, t)) = &tl.first_note {
            f.observe(*t);
            f = f.evidence(source_ref(p));
        }
        out.push(with_hosts(f, ctx));
    }
    out
}

/// Folders named in the summary text (all of them are in the finding's data).
const SUMMARY_FOLDERS: usize = 5;

fn counts_text(counts: &BTreeMap<String, u64>, limit: usize) -> String {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut parts: Vec<String> = v
        .iter()
        .take(limit)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if v.len() > limit {
        parts.push(format!("… (+{})", v.len() - limit));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One case-level finding for all encrypted files: how many, by mode, by extension, in which
/// folders (all of them in `data.folders`, earliest damage first), first and last damage,
/// patient-zero folder and host, family candidates. Evidence: the first damaged file of each
/// folder, earliest first. A share with hundreds of damaged folders gives one critical
/// finding, not hundreds.
fn impact_summary(
    records: &[FileRecord],
    tl: &timeline::Timeline,
    id: Option<&identify::Identification>,
    source_ref: &dyn Fn(&str) -> SourceRef,
) -> Option<Finding> {
    let encrypted: Vec<&FileRecord> = records
        .iter()
        .filter(|r| r.verdict == Verdict::Encrypted)
        .collect();
    if encrypted.is_empty() {
        return None;
    }
    let mut modes: BTreeMap<String, u64> = BTreeMap::new();
    let mut original: BTreeMap<String, u64> = BTreeMap::new();
    let mut appended: BTreeMap<String, u64> = BTreeMap::new();
    #[derive(Default)]
    struct Folder<'a> {
        files: u64,
        high: u64,
        modes: BTreeMap<&'static str, u64>,
        first: Option<(DateTime<Utc>, &'a str)>,
        last: Option<DateTime<Utc>>,
        first_listed: Option<&'a str>,
    }
    let mut folders: BTreeMap<&str, Folder> = BTreeMap::new();
    let mut high = 0usize;
    for r in &encrypted {
        let mode = r.mode.map_or("unknown", |m| m.as_str());
        *modes.entry(mode.to_owned()).or_default() += 1;
        let name = r.path.rsplit(['/', '\\']).next().unwrap_or(&r.path);
        let info = crate::names::analyse(name);
        let ext = info
            .inner_extension
            .or(info.last_extension)
            .unwrap_or_else(|| "(none)".to_owned());
        *original.entry(ext).or_default() += 1;
        if let Some(t) = identify::campaign_token(r) {
            *appended.entry(t).or_default() += 1;
        }
        if r.confidence == Confidence::High {
            high += 1;
        }
        let f = folders.entry(folder_of(&r.path)).or_default();
        f.files += 1;
        f.high += u64::from(r.confidence == Confidence::High);
        *f.modes.entry(mode).or_default() += 1;
        f.first_listed.get_or_insert(&r.path);
        if let Some(t) = r.mtime {
            if f.first
                .is_none_or(|(ft, fp)| (t, r.path.as_str()) < (ft, fp))
            {
                f.first = Some((t, &r.path));
            }
            f.last = Some(f.last.map_or(t, |l| l.max(t)));
        }
    }
    // Earliest damage first; folders without times after, by name.
    let mut order: Vec<(&str, &Folder)> = folders.iter().map(|(k, v)| (*k, v)).collect();
    order.sort_by(|a, b| match (a.1.first, b.1.first) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.0.cmp(b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(b.0),
    });
    let by_count = {
        let mut v: Vec<(&str, u64)> = order.iter().map(|(k, f)| (*k, f.files)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut parts: Vec<String> = v
            .iter()
            .take(SUMMARY_FOLDERS)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        if v.len() > SUMMARY_FOLDERS {
            parts.push(format!("… (+{})", v.len() - SUMMARY_FOLDERS));
        }
        parts.join(", ")
    };
    let families: Vec<String> = id
        .map(|i| i.candidates.iter().map(|c| c.family.clone()).collect())
        .unwrap_or_default();
    let time = |t: Option<DateTime<Utc>>| t.map_or("-".to_owned(), |t| t.to_rfc3339());
    let first = tl.first.as_ref();
    let patient_zero_host = tl.hosts.first().map(|s| s.place.clone());
    let mut f = Finding::new(
        ID,
        "ransomware.encrypted-files",
        Severity::Critical,
        Category::Ransomware,
        Message::new("ransomware.impact.title")
            .arg("count", encrypted.len())
            .arg("folders", order.len()),
    )
    .key("case")
    .summary(
        Message::new("ransomware.impact.summary")
            .arg("count", encrypted.len())
            .arg("folders", order.len())
            .arg("modes", counts_text(&modes, 3))
            .arg("extensions", counts_text(&original, 6))
            .arg("appended", counts_text(&appended, 3))
            .arg("first", time(first.map(|s| s.first)))
            .arg("last", time(first.map(|s| s.last)))
            .arg("place", first.map_or("-".to_owned(), |s| s.place.clone()))
            .arg(
                "host",
                patient_zero_host.clone().unwrap_or_else(|| "-".to_owned()),
            )
            .arg("top", by_count)
            .arg(
                "families",
                if families.is_empty() {
                    "-".to_owned()
                } else {
                    families.join(", ")
                },
            ),
    )
    .attack("T1486")
    .confidence(if high * 2 >= encrypted.len() {
        Confidence::High
    } else {
        Confidence::Medium
    })
    .action(Message::new("ransomware.action.isolate"))
    .action(Message::new("ransomware.action.preserve"))
    .action(Message::new("ransomware.action.identify"))
    .data("count", encrypted.len())
    .data("folder_count", order.len())
    .data("modes", serde_json::to_value(&modes).unwrap_or_default())
    .data(
        "extensions",
        serde_json::to_value(&original).unwrap_or_default(),
    )
    .data(
        "appended_extensions",
        serde_json::to_value(&appended).unwrap_or_default(),
    )
    .data("first_damage", time(first.map(|s| s.first)))
    .data("last_damage", time(first.map(|s| s.last)))
    .data(
        "patient_zero",
        serde_json::json!({
            "folder": first.map(|s| s.place.clone()),
            "host": patient_zero_host,
            "path": first.map(|s| s.first_path.clone()),
        }),
    )
    .data("family_candidates", families)
    .data(
        "folders",
        order
            .iter()
            .map(|(folder, x)| {
                serde_json::json!({
                    "folder": folder,
                    "count": x.files,
                    "high_confidence": x.high,
                    "modes": x.modes,
                    "first": x.first.map(|(t, _)| t.to_rfc3339()),
                    "last": x.last.map(|t| t.to_rfc3339()),
                    "first_path": x.first.map(|(_, p)| p).or(x.first_listed),
                })
            })
            .collect::<Vec<_>>(),
    );
    for r in &encrypted {
        if let Some(t) = r.mtime {
            f.observe(t);
        }
    }
    for (_, x) in order.iter().take(MAX_EVIDENCE) {
        if let Some(p) = x.first.map(|(_, p)| p).or(x.first_listed) {
            f = f.evidence(source_ref(p));
        }
    }
    Some(f)
}

/// Onset time of a set of timeline entries (for callers that only need the time).
pub fn onset(entries: &[TimelineEntry]) -> Option<DateTime<Utc>> {
    entries
        .iter()
        .filter(|e| e.verdict == Verdict::Encrypted)
        .map(|e| e.mtime)
        .min()
}
