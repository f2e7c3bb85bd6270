//! `web scan`: webroot files, access logs, and the join between them — the first compromise.
//!
//! First-compromise reconstruction (after lorg's session idea, never replaying anything):
//! 1. anchor on each malicious file: its URL path and its times (birth/modification);
//! 2. find requests to that path: the earliest one and the addresses that reached it;
//! 3. in those addresses' traffic, the request that created it: a POST within
//!    [`WebOptions::compromise_window_secs`] before the file's time (any address if none of
//!    theirs fits);
//! 4. the attacker's first request overall (often a scanner), to date the start.
//!
//! Logs are streamed once. What is kept is bounded: per client address a fixed-size record,
//! per anchor its 20 earliest hits, and POST requests only inside the anchors' time windows.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use ir110_model::{
    Category, Confidence, Event, Finding, Message, Problem, ProblemKind, Severity, SourceRef,
};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::access_log::{AccessLayout, HttpRequest, parse_combined, parse_w3c};
use crate::attack_patterns::{AttackKind, classify, percent_decode};
use crate::baseline::{Baseline, BaselineDiff, relative, sha256_file};
use crate::file_scan::{FileTimes, FileVerdict, Reason, scan_content};
use crate::rules::{FileClass, RuleSet};
use crate::{ANALYZER_ID, WebError};

/// Options of a web scan.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Extra rule folders (`*.toml`).
    pub rule_dirs: Vec<PathBuf>,
    /// The site's own domains (scripts may talk to them freely).
    pub site_domains: Vec<String>,
    /// Files larger than this are hashed but not scanned.
    pub max_scan_bytes: u64,
    /// Inactivity that ends an attacker session.
    pub session_gap_secs: i64,
    /// How long before a file's time the creating request may be.
    pub compromise_window_secs: i64,
    /// A code file modified this many days after the tree's third quartile is "recent".
    pub recent_days: i64,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            rule_dirs: Vec::new(),
            site_domains: Vec::new(),
            max_scan_bytes: 8 << 20,
            session_gap_secs: 1800,
            compromise_window_secs: 900,
            recent_days: 30,
        }
    }
}

/// A file to scan: where to read it, its path relative to the webroot, how to cite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebFile {
    /// Where to read it now.
    pub path: PathBuf,
    /// `/`-separated path relative to the webroot (its URL path without the leading `/`).
    pub rel: String,
    /// The path as the responder knows it.
    pub display: String,
    /// SHA-256 from an evidence manifest, when known.
    pub sha256: Option<String>,
}

/// A request, cited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRef {
    /// When.
    pub ts: DateTime<Utc>,
    /// Client.
    pub client: String,
    /// `METHOD target status`.
    pub request: String,
    /// The log line.
    pub source: SourceRef,
}

/// One attacking address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attacker {
    /// Client address.
    pub client: String,
    /// First request of any kind.
    pub first_seen: DateTime<Utc>,
    /// Last request.
    pub last_seen: DateTime<Utc>,
    /// Requests.
    pub requests: u64,
    /// Requests classified as attacks.
    pub attack_requests: u64,
    /// Attack requests answered 2xx.
    pub successful_attacks: u64,
    /// Counts by kind.
    pub kinds: BTreeMap<String, u64>,
    /// Sessions (separated by [`WebOptions::session_gap_secs`] of silence).
    pub sessions: u32,
    /// First user agents seen (at most 3).
    pub user_agents: Vec<String>,
    /// First request.
    pub first_request: RequestRef,
    /// First attack request.
    pub first_attack: Option<RequestRef>,
}

/// How a malicious file got there and was first used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstCompromise {
    /// The file (relative path).
    pub file: String,
    /// Its times.
    pub times: FileTimes,
    /// The request that most likely created it.
    pub creating_request: Option<RequestRef>,
    /// The first request that reached it.
    pub first_access: Option<RequestRef>,
    /// Addresses that reached it.
    pub clients: Vec<String>,
    /// The first request of the creating (or first accessing) address: where the attack began.
    pub attack_start: Option<RequestRef>,
}

/// What one access log gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogSummary {
    /// The log.
    pub source: SourceRef,
    /// `combined` or `w3c` (`None`: not an access log).
    pub format: Option<&'static str>,
    /// Lines.
    pub lines: u64,
    /// Requests parsed.
    pub requests: u64,
    /// Lines that could not be read.
    pub bad_lines: u64,
}

/// The result of a web scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebReport {
    /// Files scanned.
    pub files_scanned: u64,
    /// Flagged files.
    pub files: Vec<FileVerdict>,
    /// Differences from a baseline, when one was given.
    pub baseline: Option<BaselineDiff>,
    /// Access logs read.
    pub logs: Vec<LogSummary>,
    /// Attacking addresses, most active first.
    pub attackers: Vec<Attacker>,
    /// First compromise per malicious file reached from the web.
    pub first_compromises: Vec<FirstCompromise>,
    /// Findings (`web-compromise`).
    pub findings: Vec<Finding>,
    /// Timeline events.
    pub events: Vec<Event>,
    /// Problems.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    file: u32,
    line: u64,
}

#[derive(Debug, Clone)]
struct Hit {
    ts: DateTime<Utc>,
    client: String,
    request: String,
    loc: Loc,
}

#[derive(Debug, Clone)]
struct ClientState {
    first: Hit,
    last: DateTime<Utc>,
    requests: u64,
    attacks: u64,
    successful: u64,
    kinds: BTreeMap<AttackKind, u64>,
    sessions: u32,
    user_agents: Vec<String>,
    first_attack: Option<Hit>,
}

struct Anchor {
    rel: String,
    url: String,
    times: FileTimes,
    /// Earliest requests from the file's time on (minus the window).
    hits: Vec<Hit>,
    /// Earliest requests that were attacks themselves: used when the file's times are
    /// useless (later than every request, as after a copy that did not keep them).
    attack_hits: Vec<Hit>,
}

/// Keeps the 20 earliest hits.
fn keep_earliest(list: &mut Vec<Hit>, hit: Hit) {
    list.push(hit);
    if list.len() > 40 {
        list.sort_by_key(|x| x.ts);
        list.truncate(20);
    }
}

fn describe(r: &HttpRequest) -> String {
    let mut s = format!(
        "{} {}{}{} {}",
        r.method,
        r.path,
        if r.query.is_empty() { "" } else { "?" },
        r.query,
        r.status
    );
    s.truncate(240);
    s
}

/// The scan state: files first, then logs, then [`finish`](Self::finish).
pub struct WebScan {
    options: WebOptions,
    rules: RuleSet,
    verdicts: Vec<(FileVerdict, String, Option<String>)>,
    files_scanned: u64,
    all_times: Vec<(String, FileClass, FileTimes, String, Option<String>)>,
    baseline: Option<BaselineDiff>,
    anchors: Vec<Anchor>,
    log_sources: Vec<SourceRef>,
    logs: Vec<LogSummary>,
    clients: FxHashMap<String, ClientState>,
    window_posts: Vec<Hit>,
    log_shells: BTreeMap<String, Hit>,
    problems: Vec<Problem>,
}

impl std::fmt::Debug for WebScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebScan")
            .field("files_scanned", &self.files_scanned)
            .finish()
    }
}

/// Lists the regular files of a webroot (symlinks not followed).
pub fn webroot_files(root: &Path) -> Result<Vec<WebFile>, WebError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| WebError::Walk {
            path: root.to_owned(),
            detail: e.to_string(),
        })?;
        if entry.file_type().is_file() {
            out.push(WebFile {
                path: entry.path().to_owned(),
                rel: relative(root, entry.path()),
                display: entry.path().display().to_string(),
                sha256: None,
            });
        }
    }
    Ok(out)
}

impl WebScan {
    /// A scan with the built-in rules plus `options.rule_dirs`.
    pub fn new(options: WebOptions) -> Result<WebScan, WebError> {
        let mut rules = RuleSet::builtin()?;
        for dir in &options.rule_dirs {
            rules.add_dir(dir)?;
        }
        Ok(WebScan {
            options,
            rules,
            verdicts: Vec::new(),
            files_scanned: 0,
            all_times: Vec::new(),
            baseline: None,
            anchors: Vec::new(),
            log_sources: Vec::new(),
            logs: Vec::new(),
            clients: FxHashMap::default(),
            window_posts: Vec::new(),
            log_shells: BTreeMap::new(),
            problems: Vec::new(),
        })
    }

    /// Scans webroot files (read-only). Call before [`ingest_log`](Self::ingest_log) so that
    /// requests can be joined with malicious files.
    pub fn scan_files(&mut self, files: &[WebFile], baseline: Option<&Baseline>) {
        let mut now: BTreeMap<String, (String, Option<DateTime<Utc>>)> = BTreeMap::new();
        for f in files {
            let meta = match std::fs::symlink_metadata(&f.path) {
                Ok(m) => m,
                Err(e) => {
                    self.problems.push(Problem::new(
                        f.display.clone(),
                        ANALYZER_ID,
                        ProblemKind::Unreadable,
                        e.to_string(),
                    ));
                    continue;
                }
            };
            let times = FileTimes::of(&meta);
            let class = FileClass::of(Path::new(&f.rel));
            let (sha, size) = match sha256_file(&f.path) {
                Ok(v) => v,
                Err(e) => {
                    self.problems.push(Problem::new(
                        f.display.clone(),
                        ANALYZER_ID,
                        ProblemKind::Unreadable,
                        e.to_string(),
                    ));
                    continue;
                }
            };
            now.insert(f.rel.clone(), (sha.clone(), times.modified));
            self.all_times.push((
                f.rel.clone(),
                class,
                times,
                f.display.clone(),
                f.sha256.clone(),
            ));
            if class == FileClass::Other {
                continue;
            }
            if size > self.options.max_scan_bytes {
                self.problems.push(Problem::new(
                    f.display.clone(),
                    ANALYZER_ID,
                    ProblemKind::Partial,
                    format!(
                        "{size} bytes: hashed, not scanned (limit {})",
                        self.options.max_scan_bytes
                    ),
                ));
                continue;
            }
            let bytes = match std::fs::read(&f.path) {
                Ok(b) => b,
                Err(e) => {
                    self.problems.push(Problem::new(
                        f.display.clone(),
                        ANALYZER_ID,
                        ProblemKind::Unreadable,
                        e.to_string(),
                    ));
                    continue;
                }
            };
            self.files_scanned += 1;
            let (reasons, severity, domains) =
                scan_content(&f.rel, &bytes, &self.rules, &self.options.site_domains);
            if !reasons.is_empty() {
                self.verdicts.push((
                    FileVerdict {
                        path: f.rel.clone(),
                        severity,
                        reasons,
                        foreign_domains: domains,
                        sha256: f.sha256.clone().unwrap_or(sha),
                        size,
                        times,
                    },
                    f.display.clone(),
                    f.sha256.clone(),
                ));
            }
        }
        self.timestamp_heuristics();
        if let Some(b) = baseline {
            self.baseline = Some(b.compare(&now));
        }
        // Anchors: files bad enough to have been planted.
        for (v, _, _) in &self.verdicts {
            if v.severity >= Severity::High {
                self.anchors.push(Anchor {
                    rel: v.path.clone(),
                    url: format!("/{}", v.path.to_lowercase()),
                    times: v.times,
                    hits: Vec::new(),
                    attack_hits: Vec::new(),
                });
            }
        }
    }

    /// Recently changed code among old files, and ctime far after mtime (`touch -r`) in a
    /// tree where the two normally agree (an evidence copy resets every ctime: then skip).
    fn timestamp_heuristics(&mut self) {
        let code = |c: FileClass| {
            matches!(
                c,
                FileClass::Php | FileClass::Jsp | FileClass::Aspx | FileClass::Js | FileClass::Html
            )
        };
        let mut mtimes: Vec<DateTime<Utc>> = self
            .all_times
            .iter()
            .filter(|t| code(t.1))
            .filter_map(|t| t.2.modified)
            .collect();
        if mtimes.len() < 20 {
            return;
        }
        mtimes.sort();
        // The bulk of the tree: its third quartile, so that a handful of planted files (or
        // a quarter of the tree updated at once) does not move the reference.
        let p75 = mtimes[mtimes.len() * 3 / 4];
        let recent = p75 + Duration::days(self.options.recent_days);
        let agree = self
            .all_times
            .iter()
            .filter(|t| match (t.2.modified, t.2.changed) {
                (Some(m), Some(c)) => (c - m).num_seconds().abs() < 86_400,
                _ => false,
            })
            .count();
        let ctime_meaningful = agree * 10 >= self.all_times.len() * 8;
        let entries = self.all_times.clone();
        for (rel, class, times, display, sha) in entries {
            if !code(class) {
                continue;
            }
            let mut extra = Vec::new();
            if times.modified.is_some_and(|m| m > recent) {
                extra.push(Reason {
                    rule: "heuristic.recently-changed".into(),
                    kind: "timestamp".into(),
                    line: None,
                });
            }
            if ctime_meaningful
                && matches!((times.modified, times.changed), (Some(m), Some(c)) if c - m > Duration::days(1))
            {
                extra.push(Reason {
                    rule: "heuristic.mtime-older-than-ctime".into(),
                    kind: "timestamp".into(),
                    line: None,
                });
            }
            if extra.is_empty() {
                continue;
            }
            let sev = if extra
                .iter()
                .any(|r| r.rule == "heuristic.mtime-older-than-ctime")
            {
                Severity::Medium
            } else {
                Severity::Low
            };
            match self.verdicts.iter_mut().find(|v| v.0.path == rel) {
                Some(v) => {
                    v.0.reasons.extend(extra);
                    v.0.severity = v.0.severity.max(sev);
                }
                None => self.verdicts.push((
                    FileVerdict {
                        path: rel.clone(),
                        severity: sev,
                        reasons: extra,
                        foreign_domains: Vec::new(),
                        sha256: sha.clone().unwrap_or_default(),
                        size: 0,
                        times,
                    },
                    display,
                    sha,
                )),
            }
        }
    }

    /// Reads one access log (plain or gzip), read-only.
    pub fn ingest_log_path(
        &mut self,
        path: &Path,
        source: SourceRef,
    ) -> Result<LogSummary, WebError> {
        let io = |e| WebError::Io {
            path: path.to_owned(),
            source: e,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut reader = BufReader::with_capacity(1 << 18, file);
        let gz = reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        Ok(if gz {
            self.ingest_log(flate2::bufread::MultiGzDecoder::new(reader), source)
        } else {
            self.ingest_log(reader, source)
        })
    }

    /// Reads one access-log stream.
    pub fn ingest_log<R: Read>(&mut self, reader: R, source: SourceRef) -> LogSummary {
        let file = self.log_sources.len() as u32;
        self.log_sources.push(source.clone());
        let mut reader = BufReader::with_capacity(1 << 18, reader);
        let mut summary = LogSummary {
            source: source.clone(),
            format: None,
            lines: 0,
            requests: 0,
            bad_lines: 0,
        };
        let mut layout: Option<AccessLayout> = None;
        let mut first_bad = None;
        let windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = self
            .anchors
            .iter()
            .filter_map(|a| a.times.anchor())
            .map(|t| {
                (
                    t - Duration::seconds(self.options.compromise_window_secs),
                    t + Duration::seconds(60),
                )
            })
            .collect();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    self.problems.push(Problem::new(
                        source.path.clone(),
                        ANALYZER_ID,
                        ProblemKind::Truncated,
                        format!("read stopped after line {}: {e}", summary.lines),
                    ));
                    break;
                }
            }
            summary.lines += 1;
            let text = String::from_utf8_lossy(&buf);
            let line = text
                .trim_end_matches(['\n', '\r'])
                .trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            if let Some(fields) = line.strip_prefix("#Fields:") {
                layout = Some(AccessLayout::W3c(
                    fields.split_whitespace().map(str::to_owned).collect(),
                ));
                summary.format = Some("w3c");
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let req = match &layout {
                Some(AccessLayout::W3c(f)) => parse_w3c(line, f),
                _ => {
                    let r = parse_combined(line);
                    if r.is_some() && layout.is_none() {
                        layout = Some(AccessLayout::Combined);
                        summary.format = Some("combined");
                    }
                    r
                }
            };
            let Some(req) = req else {
                summary.bad_lines += 1;
                first_bad.get_or_insert(summary.lines);
                continue;
            };
            summary.requests += 1;
            self.observe(
                &req,
                Loc {
                    file,
                    line: summary.lines,
                },
                &windows,
            );
        }
        if summary.format.is_none() {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Unsupported,
                "not an Apache/nginx or IIS access log",
            ));
        } else if let Some(first) = first_bad {
            self.problems.push(Problem::new(
                source.path.clone(),
                ANALYZER_ID,
                ProblemKind::Corrupt,
                format!(
                    "{} of {} lines unreadable (first: line {first})",
                    summary.bad_lines, summary.lines
                ),
            ));
        }
        self.logs.push(summary.clone());
        summary
    }

    fn observe(&mut self, req: &HttpRequest, loc: Loc, windows: &[(DateTime<Utc>, DateTime<Utc>)]) {
        let kinds = classify(req);
        let hit = || Hit {
            ts: req.ts,
            client: req.client.clone(),
            request: describe(req),
            loc,
        };
        let gap = self.options.session_gap_secs;
        // Look up before inserting: cloning the key for every line costs more than the lookup.
        if !self.clients.contains_key(&req.client) {
            self.clients.insert(
                req.client.clone(),
                ClientState {
                    first: hit(),
                    last: req.ts,
                    requests: 0,
                    attacks: 0,
                    successful: 0,
                    kinds: BTreeMap::new(),
                    sessions: 1,
                    user_agents: Vec::new(),
                    first_attack: None,
                },
            );
        }
        let Some(state) = self.clients.get_mut(&req.client) else {
            return;
        };
        if (req.ts - state.last).num_seconds() > gap {
            state.sessions += 1;
        }
        if req.ts < state.first.ts {
            state.first = hit();
        }
        state.last = state.last.max(req.ts);
        state.requests += 1;
        if !kinds.is_empty() {
            state.attacks += 1;
            if (200..300).contains(&req.status) {
                state.successful += 1;
            }
            for k in &kinds {
                *state.kinds.entry(*k).or_default() += 1;
            }
            if state.first_attack.as_ref().is_none_or(|h| req.ts < h.ts) {
                state.first_attack = Some(hit());
            }
            if state.user_agents.len() < 3 && !state.user_agents.contains(&req.user_agent) {
                state.user_agents.push(req.user_agent.clone());
            }
        }
        // Shells seen from the log alone (no webroot): successful requests to shell-like paths.
        if kinds.contains(&AttackKind::WebshellAccess)
            && (200..300).contains(&req.status)
            && self.log_shells.len() < 1000
        {
            let key = req.path.to_lowercase();
            let replace = self.log_shells.get(&key).is_none_or(|h| req.ts < h.ts);
            if replace {
                self.log_shells.insert(key, hit());
            }
        }
        if !self.anchors.is_empty() {
            let path = percent_decode(&req.path).to_lowercase();
            let window = Duration::seconds(self.options.compromise_window_secs);
            for a in &mut self.anchors {
                // A modified (not created) file was reached before: count from its change.
                if path == a.url || (path.ends_with(&a.url) && path.len() > a.url.len()) {
                    if a.times.anchor().is_none_or(|t| req.ts >= t - window) {
                        keep_earliest(&mut a.hits, hit());
                    }
                    if !kinds.is_empty() {
                        keep_earliest(&mut a.attack_hits, hit());
                    }
                }
            }
            if req.method.eq_ignore_ascii_case("POST")
                && self.window_posts.len() < 10_000
                && windows.iter().any(|(a, b)| req.ts >= *a && req.ts <= *b)
            {
                self.window_posts.push(hit());
            }
        }
    }

    fn cite(&self, loc: Loc) -> Option<SourceRef> {
        let s = self.log_sources.get(loc.file as usize)?;
        Some(
            SourceRef::at(s.path.clone(), format!("line {}", loc.line))
                .with_sha256(s.sha256.clone()),
        )
    }

    fn request_ref(&self, h: &Hit) -> Option<RequestRef> {
        Some(RequestRef {
            ts: h.ts,
            client: h.client.clone(),
            request: h.request.clone(),
            source: self.cite(h.loc)?,
        })
    }

    /// Joins, ranks and draws the findings.
    pub fn finish(mut self) -> WebReport {
        let mut findings = Vec::new();
        let mut events = Vec::new();

        // First compromise per anchor.
        let mut compromises = Vec::new();
        let last_request = self.clients.values().map(|c| c.last).max();
        for a in &mut self.anchors {
            a.hits
                .sort_by(|x, y| x.ts.cmp(&y.ts).then(x.loc.line.cmp(&y.loc.line)));
            a.attack_hits
                .sort_by(|x, y| x.ts.cmp(&y.ts).then(x.loc.line.cmp(&y.loc.line)));
        }
        for a in &self.anchors {
            let times_usable = match (a.times.anchor(), last_request) {
                (Some(t), Some(last)) => t <= last,
                _ => false,
            };
            let hits = if times_usable {
                &a.hits
            } else {
                &a.attack_hits
            };
            let Some(first) = hits.first() else {
                continue;
            };
            let mut clients: Vec<String> = Vec::new();
            for h in hits {
                if !clients.contains(&h.client) {
                    clients.push(h.client.clone());
                }
            }
            let t = a
                .times
                .anchor()
                .filter(|_| times_usable)
                .unwrap_or(first.ts);
            let lo = t - Duration::seconds(self.options.compromise_window_secs);
            let hi = t + Duration::seconds(60);
            // The creating request comes before the file is reached and is not a request to
            // the file itself.
            let in_window = |h: &&Hit| {
                times_usable
                    && h.ts >= lo
                    && h.ts <= hi
                    && h.ts <= first.ts
                    && !h.request.to_lowercase().contains(&a.url)
            };
            let creating = self
                .window_posts
                .iter()
                .filter(in_window)
                .filter(|h| clients.contains(&h.client))
                .max_by_key(|h| (h.ts, h.loc.line))
                .or_else(|| {
                    self.window_posts
                        .iter()
                        .filter(in_window)
                        .max_by_key(|h| (h.ts, h.loc.line))
                });
            let attacker = creating.map_or(&first.client, |c| &c.client);
            let start = self.clients.get(attacker).map(|s| &s.first);
            compromises.push(FirstCompromise {
                file: a.rel.clone(),
                times: a.times,
                creating_request: creating.and_then(|h| self.request_ref(h)),
                first_access: self.request_ref(first),
                clients,
                attack_start: start.and_then(|h| self.request_ref(h)),
            });
        }
        compromises.sort_by(|a, b| {
            let key = |c: &FirstCompromise| {
                c.creating_request
                    .as_ref()
                    .or(c.first_access.as_ref())
                    .map(|r| r.ts)
            };
            key(a).cmp(&key(b)).then(a.file.cmp(&b.file))
        });
        // Shells known only from the log.
        for (path, h) in &self.log_shells {
            if compromises
                .iter()
                .any(|c| format!("/{}", c.file.to_lowercase()) == *path)
            {
                continue;
            }
            let start = self.clients.get(&h.client).map(|s| &s.first);
            compromises.push(FirstCompromise {
                file: path.trim_start_matches('/').to_owned(),
                times: FileTimes::default(),
                creating_request: None,
                first_access: self.request_ref(h),
                clients: vec![h.client.clone()],
                attack_start: start.and_then(|h| self.request_ref(h)),
            });
        }

        // Attackers.
        let mut attackers: Vec<Attacker> = self
            .clients
            .iter()
            .filter(|(_, s)| s.attacks > 0)
            .filter_map(|(c, s)| {
                Some(Attacker {
                    client: c.clone(),
                    first_seen: s.first.ts,
                    last_seen: s.last,
                    requests: s.requests,
                    attack_requests: s.attacks,
                    successful_attacks: s.successful,
                    kinds: s
                        .kinds
                        .iter()
                        .map(|(k, n)| (k.as_str().to_owned(), *n))
                        .collect(),
                    sessions: s.sessions,
                    user_agents: s.user_agents.clone(),
                    first_request: self.request_ref(&s.first)?,
                    first_attack: s.first_attack.as_ref().and_then(|h| self.request_ref(h)),
                })
            })
            .collect();
        attackers.sort_by(|a, b| {
            b.attack_requests
                .cmp(&a.attack_requests)
                .then(a.client.cmp(&b.client))
        });

        // Findings: files.
        self.verdicts.sort_by(|a, b| {
            b.0.severity
                .cmp(&a.0.severity)
                .then(a.0.path.cmp(&b.0.path))
        });
        for (v, display, sha) in &self.verdicts {
            let kinds: Vec<&str> = v.reasons.iter().map(|r| r.kind.as_str()).collect();
            let (rule, title) = if kinds.contains(&"skimmer") {
                ("web.skimmer", "web.skimmer.title")
            } else if kinds
                .iter()
                .any(|k| matches!(*k, "webshell" | "dropper" | "code-in-image" | "placement"))
            {
                ("web.webshell", "web.webshell.title")
            } else if kinds.contains(&"obfuscation") {
                ("web.obfuscated", "web.obfuscated.title")
            } else {
                (
                    "web.suspicious-timestamps",
                    "web.suspicious-timestamps.title",
                )
            };
            let rules: Vec<&str> = v.reasons.iter().map(|r| r.rule.as_str()).collect();
            let mut f = Finding::new(
                ANALYZER_ID,
                rule,
                v.severity,
                Category::WebCompromise,
                Message::new(title).arg("path", &v.path),
            )
            .key(&v.path)
            .summary(
                Message::new("web.file.summary")
                    .arg("rules", rules.join(", "))
                    .arg("sha256", &v.sha256),
            )
            .confidence(if v.severity >= Severity::Critical {
                Confidence::High
            } else if v.severity >= Severity::High {
                Confidence::Medium
            } else {
                Confidence::Low
            })
            .data("path", v.path.clone())
            .data("rules", rules.clone())
            .data("sha256", v.sha256.clone());
            if rule == "web.skimmer" {
                f = f
                    .attack("T1056.003")
                    .action(Message::new("web.action.stop-payments"))
                    .action(Message::new("web.action.appi-report"))
                    .data("foreign_domains", v.foreign_domains.clone());
            } else if rule == "web.webshell" {
                f = f
                    .attack("T1505.003")
                    .action(Message::new("web.action.isolate-site"));
            }
            f = f.action(Message::new("web.action.preserve"));
            if let Some(m) = v.times.modified {
                f = f.seen(m).data("modified", m.to_rfc3339());
            }
            for r in v.reasons.iter().take(4) {
                let src = match r.line {
                    Some(l) => SourceRef::at(display.clone(), format!("line {l}")),
                    None => SourceRef::file(display.clone()),
                }
                .with_sha256(sha.clone());
                if !f.evidence.contains(&src) {
                    f = f.evidence(src);
                }
            }
            findings.push(f);
        }

        // Findings: first compromise.
        for c in &compromises {
            let first_req = c.creating_request.as_ref().or(c.first_access.as_ref());
            let Some(first_req) = first_req else { continue };
            let mut f = Finding::new(
                ANALYZER_ID,
                "web.first-compromise",
                Severity::Critical,
                Category::WebCompromise,
                Message::new("web.first-compromise.title")
                    .arg("path", &c.file)
                    .arg("client", &first_req.client),
            )
            .key(&c.file)
            .summary(
                Message::new("web.first-compromise.summary")
                    .arg(
                        "created_by",
                        c.creating_request
                            .as_ref()
                            .map_or("?".to_owned(), |r| format!("{} {}", r.client, r.request)),
                    )
                    .arg(
                        "first_access",
                        c.first_access
                            .as_ref()
                            .map_or("?".to_owned(), |r| format!("{} {}", r.client, r.request)),
                    )
                    .arg("clients", c.clients.join(", ")),
            )
            .confidence(if c.creating_request.is_some() {
                Confidence::High
            } else {
                Confidence::Medium
            })
            .attack("T1190")
            .attack("T1505.003")
            .action(Message::new("web.action.block-clients").arg("clients", c.clients.join(", ")))
            .action(Message::new("web.action.fix-entry").arg("request", first_req.request.clone()))
            .data("file", c.file.clone())
            .data("clients", c.clients.clone());
            for r in [
                c.attack_start.as_ref(),
                c.creating_request.as_ref(),
                c.first_access.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                f = f.seen(r.ts);
                if !f.evidence.contains(&r.source) {
                    f = f.evidence(r.source.clone());
                }
            }
            if let Some(r) = &c.creating_request {
                f = f
                    .data("creating_request", r.request.clone())
                    .host(r.client.clone());
                events.push(
                    Event::new(
                        r.ts,
                        ANALYZER_ID,
                        "webshell-created",
                        r.source.clone(),
                        format!("{} {} -> {}", r.client, r.request, c.file),
                    )
                    .field("source.ip", r.client.clone())
                    .field("url.path", c.file.clone()),
                );
            }
            if let Some(r) = &c.first_access {
                events.push(
                    Event::new(
                        r.ts,
                        ANALYZER_ID,
                        "webshell-first-access",
                        r.source.clone(),
                        format!("{} {}", r.client, r.request),
                    )
                    .field("source.ip", r.client.clone())
                    .field("url.path", c.file.clone()),
                );
            }
            findings.push(f);
        }

        // Findings: attackers (busy or successful ones).
        let shell_users: Vec<&String> = compromises.iter().flat_map(|c| c.clients.iter()).collect();
        let used_shell = |a: &Attacker| {
            a.kinds.contains_key("webshell-access") || shell_users.contains(&&a.client)
        };
        for a in attackers
            .iter()
            .filter(|a| a.attack_requests >= 10 || used_shell(a))
            .take(20)
        {
            let kinds: Vec<String> = a.kinds.iter().map(|(k, n)| format!("{k}×{n}")).collect();
            let mut f = Finding::new(
                ANALYZER_ID,
                "web.attacker",
                if used_shell(a) {
                    Severity::High
                } else {
                    Severity::Medium
                },
                Category::WebCompromise,
                Message::new("web.attacker.title")
                    .arg("client", &a.client)
                    .arg("count", a.attack_requests),
            )
            .key(&a.client)
            .summary(
                Message::new("web.attacker.summary")
                    .arg("kinds", kinds.join(", "))
                    .arg("sessions", a.sessions)
                    .arg("successful", a.successful_attacks),
            )
            .confidence(Confidence::Medium)
            .attack("T1595")
            .seen(a.first_seen)
            .seen(a.last_seen)
            .data("client", a.client.clone())
            .data("kinds", serde_json::to_value(&a.kinds).unwrap_or_default())
            .evidence(a.first_request.source.clone());
            if let Some(fa) = &a.first_attack {
                if fa.source != a.first_request.source {
                    f = f.evidence(fa.source.clone());
                }
            }
            findings.push(f);
        }

        // Findings: baseline differences.
        if let Some(diff) = &self.baseline {
            let n = diff.added.len() + diff.changed.len() + diff.removed.len();
            if n > 0 {
                let mut f = Finding::new(
                    ANALYZER_ID,
                    "web.baseline-changed",
                    if diff
                        .added
                        .iter()
                        .chain(&diff.changed)
                        .any(|c| FileClass::of(Path::new(&c.path)) != FileClass::Other)
                    {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    Category::WebCompromise,
                    Message::new("web.baseline-changed.title")
                        .arg("added", diff.added.len())
                        .arg("changed", diff.changed.len())
                        .arg("removed", diff.removed.len()),
                )
                .confidence(Confidence::High)
                .data(
                    "added",
                    diff.added
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                )
                .data(
                    "changed",
                    diff.changed
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                )
                .data(
                    "removed",
                    diff.removed
                        .iter()
                        .map(|c| c.path.clone())
                        .collect::<Vec<_>>(),
                );
                for c in diff.added.iter().chain(&diff.changed) {
                    if let Some(m) = c.modified {
                        f = f.seen(m);
                    }
                }
                findings.push(f);
            }
        }

        WebReport {
            files_scanned: self.files_scanned,
            files: self.verdicts.into_iter().map(|v| v.0).collect(),
            baseline: self.baseline,
            logs: self.logs,
            attackers,
            first_compromises: compromises,
            findings,
            events,
            problems: self.problems,
        }
    }
}

/// `ir110 web scan`: scans `webroot` (if given), compares with `baseline` (if given), reads
/// the access logs, and joins them.
pub fn scan(
    webroot: Option<&Path>,
    baseline: Option<&Path>,
    access_logs: &[PathBuf],
    options: WebOptions,
) -> Result<WebReport, WebError> {
    let mut s = WebScan::new(options)?;
    let baseline = baseline.map(Baseline::read).transpose()?;
    if let Some(root) = webroot {
        let files = webroot_files(root)?;
        s.scan_files(&files, baseline.as_ref());
    }
    for log in access_logs {
        let display = log.display().to_string();
        if let Err(e) = s.ingest_log_path(log, SourceRef::file(display.clone())) {
            s.problems.push(Problem::new(
                display,
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            ));
        }
    }
    Ok(s.finish())
}
