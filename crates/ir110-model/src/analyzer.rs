//! The analyzer contract that `ir110 triage` runs, and content-based source classification.
//!
//! Triage walks the evidence, classifies every file by its *content* ([`SourceKind::sniff`]),
//! asks every registered [`Analyzer`] whether it [`accepts`](Analyzer::accepts) each file, then
//! hands each analyzer the batch it accepted. Analyzers push what they find into a [`Sink`]:
//! timeline [`Event`]s, [`Finding`]s, and a [`Problem`] for every file or part of a file they
//! could not read. Triage turns problems and unclaimed files into the report's coverage section,
//! so nothing is dropped silently.
//!
//! Contract for implementors:
//! - Open sources read-only; never write next to them or change their timestamps.
//! - Stream: memory must not grow with the size of a file (a 50 GB log is normal).
//! - A bad file is a [`Problem`], never a panic and never an early return for the whole batch.
//! - Analyzers run concurrently with each other; an analyzer may use rayon inside `analyze`.
//! - Cite evidence with [`SourceFile::source_ref`] so findings name the original path and hash.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Event, Finding, SourceRef};

/// Text log layouts recognised from a file's first lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TextFormat {
    /// BSD (RFC 3164) or RFC 5424 syslog lines.
    Syslog,
    /// Apache/nginx common or combined access log.
    AccessLog,
    /// W3C extended log (IIS, Exchange message tracking): `#Fields:` header.
    W3c,
    /// Zeek TSV log: `#separator` header.
    ZeekTsv,
    /// Comma-separated values with a header line.
    Csv,
    /// Any other readable text.
    Plain,
}

/// What a file holds, judged from its content rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "format")]
#[non_exhaustive]
pub enum SourceKind {
    /// Windows XML event log (`ElfFile\0` magic).
    Evtx,
    /// One JSON object per line (evtx_dump, Velociraptor, Winlogbeat, Zeek JSON).
    JsonLines,
    /// A single JSON document.
    Json,
    /// A text log of a known or unknown layout.
    Text(TextFormat),
    /// A gzip stream (rotated logs are often gzipped).
    Gzip,
    /// Anything else: documents, images, executables, encrypted data.
    Binary,
    /// A zero-byte file.
    Empty,
}

impl SourceKind {
    /// A stable short name for reports: `evtx`, `jsonl`, `text/syslog`, …
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Evtx => "evtx",
            SourceKind::JsonLines => "jsonl",
            SourceKind::Json => "json",
            SourceKind::Text(TextFormat::Syslog) => "text/syslog",
            SourceKind::Text(TextFormat::AccessLog) => "text/access-log",
            SourceKind::Text(TextFormat::W3c) => "text/w3c",
            SourceKind::Text(TextFormat::ZeekTsv) => "text/zeek",
            SourceKind::Text(TextFormat::Csv) => "text/csv",
            SourceKind::Text(TextFormat::Plain) => "text",
            SourceKind::Gzip => "gzip",
            SourceKind::Binary => "binary",
            SourceKind::Empty => "empty",
        }
    }

    /// Classifies a file from its first bytes (triage passes up to 64 KiB).
    ///
    /// Only the content counts: a renamed `.evtx` is still found, and `report.xlsx.locked` is
    /// binary whatever its name says. A file is text when its head is valid UTF-8 (a cut last
    /// character is tolerated) or UTF-16 with a BOM, and has no NUL bytes.
    pub fn sniff(head: &[u8]) -> SourceKind {
        if head.is_empty() {
            return SourceKind::Empty;
        }
        if head.starts_with(b"ElfFile\0") {
            return SourceKind::Evtx;
        }
        if head.starts_with(&[0x1f, 0x8b]) {
            return SourceKind::Gzip;
        }
        let Some(text) = as_text(head) else {
            return SourceKind::Binary;
        };
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim().is_empty());
        let Some(first) = lines.next() else {
            return SourceKind::Text(TextFormat::Plain);
        };
        let first_trim = first.trim_start();
        if first_trim.starts_with('{') {
            // JSON lines when the first line alone is a complete object.
            if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(first_trim)
                .is_ok()
            {
                return SourceKind::JsonLines;
            }
            return SourceKind::Json;
        }
        if first_trim.starts_with('[') && !is_bracketed_log_line(first_trim) {
            return SourceKind::Json;
        }
        if first.starts_with("#separator") {
            return SourceKind::Text(TextFormat::ZeekTsv);
        }
        if first.starts_with("#Software:")
            || first.starts_with("#Version:")
            || first.starts_with("#Fields:")
        {
            return SourceKind::Text(TextFormat::W3c);
        }
        let sample: Vec<&str> = std::iter::once(first).chain(lines.take(9)).collect();
        let majority = |pred: fn(&str) -> bool| {
            let hits = sample.iter().filter(|l| pred(l)).count();
            hits * 2 > sample.len()
        };
        if majority(is_access_log_line) {
            return SourceKind::Text(TextFormat::AccessLog);
        }
        if majority(is_syslog_line) {
            return SourceKind::Text(TextFormat::Syslog);
        }
        if is_csv(&sample) {
            return SourceKind::Text(TextFormat::Csv);
        }
        SourceKind::Text(TextFormat::Plain)
    }
}

/// The head as text, if it is text. A UTF-8 sequence cut at the end of the head is tolerated.
fn as_text(head: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        let le = head[0] == 0xff;
        let units: Vec<u16> = head[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect();
        return (!text.contains('\0')).then_some(std::borrow::Cow::Owned(text));
    }
    if head.contains(&0) {
        return None;
    }
    match std::str::from_utf8(head) {
        Ok(s) => Some(std::borrow::Cow::Borrowed(s)),
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()])
                .ok()
                .map(std::borrow::Cow::Borrowed)
        }
        Err(_) => legacy_japanese_text(head),
    }
}

/// Shift_JIS and EUC-JP logs are common in Japanese shops: accept bytes that are mostly
/// printable ASCII plus high bytes, with no control characters other than whitespace.
fn legacy_japanese_text(head: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x1b))
        .count();
    let high = head.iter().filter(|&&b| b >= 0x80).count();
    if controls == 0 && high * 2 < head.len() {
        Some(String::from_utf8_lossy(head))
    } else {
        None
    }
}

/// `[2026-01-01 …] message` is a log line, not a JSON array.
fn is_bracketed_log_line(line: &str) -> bool {
    line[1..].starts_with(|c: char| c.is_ascii_digit())
        && !line.ends_with(']')
        && !line.ends_with(',')
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `host ident user [10/Oct/2000:13:55:36 -0700] "GET …`
fn is_access_log_line(line: &str) -> bool {
    let Some(open) = line.find(" [") else {
        return false;
    };
    if line[..open].split(' ').count() != 3 {
        return false;
    }
    let rest = &line[open + 2..];
    let Some(close) = rest.find(']') else {
        return false;
    };
    let stamp = &rest[..close];
    let month_ok = stamp.get(3..6).is_some_and(|m| MONTHS.contains(&m));
    month_ok && stamp.as_bytes().get(2) == Some(&b'/') && rest[close..].starts_with("] \"")
}

/// `Mmm dd hh:mm:ss host prog[pid]: msg`, `<13>Mmm dd …` or `<13>1 2026-…` (RFC 5424), or an
/// ISO-timestamped syslog line as rsyslog writes with high-precision time.
fn is_syslog_line(line: &str) -> bool {
    let mut l = line;
    if let Some(rest) = l.strip_prefix('<') {
        let Some(end) = rest.find('>') else {
            return false;
        };
        if !rest[..end].bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        l = &rest[end + 1..];
        if l.starts_with("1 ") {
            return true;
        }
    }
    let b = l.as_bytes();
    let bsd = l.get(..3).is_some_and(|m| MONTHS.contains(&m))
        && b.get(3) == Some(&b' ')
        && b.get(9) == Some(&b':')
        && b.get(12) == Some(&b':');
    let iso = b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b'T'
        && l[19..]
            .split(' ')
            .nth(2)
            .is_some_and(|prog| prog.ends_with(':'));
    bsd || iso
}

/// At least two lines, all with the same number (≥ 2) of commas outside quotes.
fn is_csv(sample: &[&str]) -> bool {
    fn fields(line: &str) -> usize {
        let mut quoted = false;
        let mut n = 1;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => n += 1,
                _ => {}
            }
        }
        n
    }
    // The last sampled line may be cut by the head limit: ignore it.
    let lines = if sample.len() > 2 {
        &sample[..sample.len() - 1]
    } else {
        sample
    };
    let n = fields(lines[0]);
    lines.len() >= 2 && n >= 3 && lines.iter().all(|l| fields(l) == n)
}

/// A file given to analyzers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// Where to read it now (a path on this machine, opened read-only).
    pub path: PathBuf,
    /// The path as the responder knows it: the original path for files inside an evidence
    /// package, the given path otherwise. Use this in events, findings and problems.
    pub display_path: String,
    /// Size in bytes.
    pub size: u64,
    /// What the content is.
    pub kind: SourceKind,
    /// Last modification time, as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// SHA-256 from an evidence manifest, when the file came from a package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl SourceFile {
    /// A reference to the whole file, for citing it.
    pub fn source_ref(&self) -> SourceRef {
        SourceRef::file(self.display_path.clone()).with_sha256(self.sha256.clone())
    }

    /// A reference to a place inside the file.
    pub fn source_at(&self, locator: impl Into<String>) -> SourceRef {
        SourceRef::at(self.display_path.clone(), locator).with_sha256(self.sha256.clone())
    }
}

/// Why something was not (fully) analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// Could not be opened or read (permissions, I/O error).
    Unreadable,
    /// Ends early: part of the content is missing.
    Truncated,
    /// Structure damaged: some records could not be parsed.
    Corrupt,
    /// No analyzer handles this kind of content.
    Unsupported,
    /// Deliberately not followed: symlink loop, symlink out of the tree, device, socket.
    Skipped,
    /// Read only in part on purpose (sampling a huge file); results may be incomplete.
    Partial,
}

impl ProblemKind {
    /// The stable name used in JSON and message keys.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::Truncated => "truncated",
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::Skipped => "skipped",
            ProblemKind::Partial => "partial",
        }
    }
}

/// A file, or part of one, that was not analysed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Problem {
    /// The file, as the responder knows it.
    pub path: String,
    /// The analyzer that hit it; `None` for discovery problems (walk, open, classify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyzer: Option<String>,
    /// Why.
    pub kind: ProblemKind,
    /// Details for the responder (OS error, offset, record number, counts).
    pub detail: String,
}

impl Problem {
    /// A problem seen by an analyzer.
    pub fn new(
        path: impl Into<String>,
        analyzer: &str,
        kind: ProblemKind,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            path: path.into(),
            analyzer: Some(analyzer.to_owned()),
            kind,
            detail: detail.into(),
        }
    }
}

/// Where analyzers put what they find. Implementations are thread-safe: analyzers may push
/// from several threads at once. Pushing never fails from the analyzer's point of view; the
/// sink records its own failures.
pub trait Sink: Sync {
    /// A timeline event.
    fn event(&self, event: Event);
    /// A finding.
    fn finding(&self, finding: Finding);
    /// A file or part of one that could not be analysed.
    fn problem(&self, problem: Problem);
    /// `bytes` more of the input were processed (drives the progress bar).
    fn progress(&self, _bytes: u64) {}
}

/// A sink that keeps everything in memory, in arrival order: for tests, examples and small
/// callers that want the results as values.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Events pushed.
    pub events: std::sync::Mutex<Vec<Event>>,
    /// Findings pushed.
    pub findings: std::sync::Mutex<Vec<Finding>>,
    /// Problems pushed.
    pub problems: std::sync::Mutex<Vec<Problem>>,
}

impl Sink for MemorySink {
    fn event(&self, event: Event) {
        // A poisoned lock still holds every earlier item: keep pushing rather than lose them.
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
    }
    fn finding(&self, finding: Finding) {
        self.findings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(finding);
    }
    fn problem(&self, problem: Problem) {
        self.problems
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(problem);
    }
}

/// Facts about the run that analyzers may use.
#[derive(Debug, Clone, Default)]
pub struct AnalysisContext {
    /// The case reference, when triage runs for a case.
    pub case_reference: Option<String>,
    /// Host name for sources that do not name one (from an evidence package, or `--host`).
    pub host: Option<String>,
}

/// One family of analysis (ransomware damage, Windows event logs, web logs, …).
pub trait Analyzer: Send + Sync {
    /// A stable short name (`ransomware`, `eventlog`); used in findings, events and coverage.
    fn id(&self) -> &'static str;

    /// Whether this analyzer wants `source`. Cheap: decide from `kind`, size and name only.
    fn accepts(&self, source: &SourceFile) -> bool;

    /// Analyses every accepted source, pushing results into `sink`. Cross-file conclusions (a
    /// brute force spread over several logs, encryption per folder) are drawn here too.
    fn analyze(&self, sources: &[SourceFile], ctx: &AnalysisContext, sink: &dyn Sink);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_content_not_names() {
        assert_eq!(SourceKind::sniff(b""), SourceKind::Empty);
        assert_eq!(SourceKind::sniff(b"ElfFile\0\0\0"), SourceKind::Evtx);
        assert_eq!(SourceKind::sniff(&[0x1f, 0x8b, 8, 0]), SourceKind::Gzip);
        assert_eq!(
            SourceKind::sniff(b"PK\x03\x04\x14\0\0\0"),
            SourceKind::Binary
        );
        assert_eq!(
            SourceKind::sniff(b"{\"EventID\":4625}\n{\"EventID\":4624}\n"),
            SourceKind::JsonLines
        );
        assert_eq!(SourceKind::sniff(b"{\n  \"a\": 1\n}\n"), SourceKind::Json);
        assert_eq!(SourceKind::sniff(b"[1, 2]"), SourceKind::Json);
    }

    #[test]
    fn sniffs_text_logs() {
        let access = b"203.0.113.9 - - [10/Oct/2026:13:55:36 +0900] \"GET / HTTP/1.1\" 200 2326 \"-\" \"curl\"\n";
        assert_eq!(
            SourceKind::sniff(access),
            SourceKind::Text(TextFormat::AccessLog)
        );
        let syslog = b"Oct 11 22:14:15 mail postfix/smtpd[123]: connect from x\nOct 11 22:14:16 mail postfix/smtpd[123]: disconnect\n";
        assert_eq!(
            SourceKind::sniff(syslog),
            SourceKind::Text(TextFormat::Syslog)
        );
        assert_eq!(
            SourceKind::sniff(b"<34>1 2026-10-11T22:14:15.003Z host app - - - msg\n"),
            SourceKind::Text(TextFormat::Syslog)
        );
        assert_eq!(
            SourceKind::sniff(b"#Software: Microsoft Internet Information Services 10.0\n"),
            SourceKind::Text(TextFormat::W3c)
        );
        assert_eq!(
            SourceKind::sniff(b"#separator \\x09\n"),
            SourceKind::Text(TextFormat::ZeekTsv)
        );
        assert_eq!(
            SourceKind::sniff(b"a,b,c\n1,2,3\n4,5,6\n"),
            SourceKind::Text(TextFormat::Csv)
        );
        assert_eq!(
            SourceKind::sniff("身代金を支払え\nYour files are encrypted\n".as_bytes()),
            SourceKind::Text(TextFormat::Plain)
        );
        assert_eq!(
            SourceKind::sniff(b"[2026-01-01 00:00:00] started\n"),
            SourceKind::Text(TextFormat::Plain)
        );
    }

    #[test]
    fn cut_utf8_and_utf16_are_text() {
        let mut s = "ランサムウェア".as_bytes().to_vec();
        s.pop();
        assert_eq!(SourceKind::sniff(&s), SourceKind::Text(TextFormat::Plain));
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("hello\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            SourceKind::sniff(&utf16),
            SourceKind::Text(TextFormat::Plain)
        );
        // Random binary junk.
        let junk: Vec<u8> = (0..512u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(SourceKind::sniff(&junk), SourceKind::Binary);
    }
}
