//! `hunt`: Sigma rules over Windows event logs, a time-sorted timeline in bounded memory, and
//! summaries by rule, level and host.
//!
//! One pass over the logs: the readers parse chunks on every core ([`read_files`]); on the same
//! worker thread each record meets only the rules indexed under its channel and EventID
//! (`ir110-sigma`), and feeds the built-in analytics. Each detection is serialized once, as the
//! JSON line of the output contract, and handed to an [`ExternalSorter`]; at the end the sorted
//! lines are written as JSON lines and/or CSV.
//!
//! # Output contract
//!
//! One JSON object per detection ([`Detection`]) with at least `rule_id`, `rule_title`,
//! `level` (Sigma's words: `informational` … `critical`), `timestamp` (UTC, RFC 3339),
//! `computer`, `channel`, `event_id`, `record_id`, `file`, `fields` (the event's data) and
//! `tags`. Lines are sorted by time, then file, then record, then rule.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use ir110_model::{
    Category, Confidence, Finding, Message, Problem, ProblemKind, Severity, SourceFile, SourceKind,
    SourceRef,
};
use ir110_sigma::{Correlator, Diagnostic, LoadCounts, LoadOptions, RuleSet};
use serde::{Deserialize, Serialize};

use crate::analyzer::Analytics;
use crate::timeline::ExternalSorter;
use crate::{ANALYZER_ID, EventlogError, FileStats, ReadOptions, WinEvent, read_files};

/// What to hunt with and where to write.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// Sigma rule files or directories; empty: ir110's built-in rules.
    pub rules: Vec<PathBuf>,
    /// Rules below this level are not loaded.
    pub min_level: Option<Severity>,
    /// How to read the logs.
    pub read: ReadOptions,
    /// Write detections as JSON lines, sorted by time.
    pub jsonl: Option<PathBuf>,
    /// Write the timeline: CSV when the name ends in `.csv`, JSON lines otherwise.
    pub timeline: Option<PathBuf>,
    /// Bytes of detections held in memory before sorted runs spill to temporary files.
    pub sort_memory: usize,
    /// Also run the built-in IR analytics (logons, brute force, services, …) in the same pass.
    pub analytics: bool,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            rules: Vec::new(),
            min_level: None,
            read: ReadOptions::default(),
            jsonl: None,
            timeline: None,
            sort_memory: 64 << 20,
            analytics: true,
        }
    }
}

/// One rule matching one record: a line of the JSON-lines output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The rule's Sigma `id`.
    pub rule_id: Option<String>,
    /// The rule's title.
    pub rule_title: String,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    pub level: String,
    /// When the event happened (UTC, RFC 3339).
    pub timestamp: String,
    /// `System/Computer`.
    pub computer: String,
    /// `System/Channel`.
    pub channel: String,
    /// `System/EventID`.
    pub event_id: u32,
    /// `System/EventRecordID`.
    pub record_id: Option<u64>,
    /// Path of the log the event was read from.
    pub file: String,
    /// The event's data (`EventData`/`UserData`, flattened).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The rule's fields whose tests passed.
    pub matched_fields: Vec<String>,
    /// The rule's tags (`attack.t1059.001`, …).
    pub tags: Vec<String>,
    /// ATT&CK technique ids from the tags.
    pub attack: Vec<String>,
    /// The rule file.
    pub rule_path: String,
    /// The record was carved from unallocated space (`--recover-records`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

/// Detections of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    /// The rule's id.
    pub rule_id: Option<String>,
    /// The rule's title.
    pub title: String,
    /// The rule's level.
    pub level: String,
    /// Detections.
    pub count: u64,
    /// ATT&CK technique ids of the rule.
    pub attack: Vec<String>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// The earliest detections (up to 20), as citations.
    pub evidence: Vec<SourceRef>,
    /// First detection (RFC 3339).
    pub first_seen: Option<DateTime<Utc>>,
    /// Last detection (RFC 3339).
    pub last_seen: Option<DateTime<Utc>>,
}

impl RuleCount {
    /// The detections of this rule as one [`Finding`] (for a case store and reports): severity
    /// from the rule's level, category from its ATT&CK tactic tags.
    pub fn to_finding(&self) -> Finding {
        let severity = self.level.parse::<Severity>().unwrap_or(Severity::Info);
        let key = self.rule_id.clone().unwrap_or_else(|| self.title.clone());
        let mut f = Finding::new(
            ANALYZER_ID,
            "eventlog.sigma",
            severity,
            category_of(&self.tags),
            Message::new("hunt.rule-detections.title")
                .arg("title", &self.title)
                .arg("count", self.count),
        )
        .key(&key)
        .confidence(Confidence::Medium)
        .data("rule_id", self.rule_id.clone())
        .data("rule_title", self.title.as_str())
        .data("count", self.count)
        .data("tags", self.tags.clone());
        for a in &self.attack {
            f = f.attack(a);
        }
        for t in self.first_seen.into_iter().chain(self.last_seen) {
            f.observe(t);
        }
        for e in &self.evidence {
            f = f.evidence(e.clone());
        }
        f
    }
}

/// The category of a Sigma rule from its first ATT&CK tactic tag.
fn category_of(tags: &[String]) -> Category {
    for t in tags {
        let tactic = t.to_ascii_lowercase().replace('-', "_");
        let c = match tactic.as_str() {
            "attack.initial_access" => Category::InitialAccess,
            "attack.execution" => Category::Execution,
            "attack.persistence" => Category::Persistence,
            "attack.privilege_escalation" => Category::PrivilegeEscalation,
            "attack.defense_evasion" => Category::DefenseEvasion,
            "attack.credential_access" => Category::CredentialAccess,
            "attack.discovery" => Category::Discovery,
            "attack.lateral_movement" => Category::LateralMovement,
            "attack.command_and_control" => Category::C2,
            "attack.exfiltration" => Category::Exfiltration,
            _ => continue,
        };
        return c;
    }
    Category::Other
}

/// A correlation rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationHit {
    /// The correlation's id.
    pub rule_id: Option<String>,
    /// The correlation's title.
    pub title: String,
    /// The correlation's level.
    pub level: String,
    /// Group-by values.
    pub group: Vec<(String, String)>,
    /// First event of the window (RFC 3339).
    pub first: String,
    /// Last event of the window (RFC 3339).
    pub last: String,
    /// Events, distinct values or distinct rules in the window.
    pub count: usize,
}

/// What a hunt found, and how the run went.
#[derive(Debug, Serialize)]
pub struct HuntReport {
    /// Event-log files read.
    pub files: usize,
    /// Bytes of those files.
    pub bytes: u64,
    /// Records read.
    pub records: u64,
    /// Records and chunks that could not be read (damage), summed over files.
    pub unreadable_records: u64,
    /// Detections (rule × record).
    pub detections: u64,
    /// Detections per rule, most first.
    pub by_rule: Vec<RuleCount>,
    /// Detections per level.
    pub by_level: BTreeMap<String, u64>,
    /// Detections per computer, most first.
    pub by_host: Vec<(String, u64)>,
    /// Correlation rules that fired.
    pub correlations: Vec<CorrelationHit>,
    /// Whether the built-in rules were used (no rule path given).
    pub builtin_rules: bool,
    /// What the rule load read and loaded.
    pub rule_counts: LoadCounts,
    /// Rule problems (errors and warnings).
    pub rule_diagnostics: Vec<Diagnostic>,
    /// Files not read in full, and paths that are not event logs.
    pub problems: Vec<Problem>,
    /// Built-in analytics findings (when enabled).
    pub findings: Vec<Finding>,
    /// Wall time of the read-and-match pass, in seconds.
    pub elapsed_secs: f64,
}

impl HuntReport {
    /// The analytics findings plus one finding per rule that fired, most severe first: what a
    /// case store or a report keeps of a hunt.
    pub fn all_findings(&self) -> Vec<Finding> {
        let mut out = self.findings.clone();
        out.extend(self.by_rule.iter().map(RuleCount::to_finding));
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.rule.cmp(&b.rule))
                .then(a.id.cmp(&b.id))
        });
        out
    }
}

/// Sigma's level words.
fn level_word(s: Severity) -> &'static str {
    match s {
        Severity::Info => "informational",
        other => other.as_str(),
    }
}

/// Loads the rules: the given paths, or the built-in rules when none are given.
pub fn load_rules(
    paths: &[PathBuf],
    min_level: Option<Severity>,
) -> Result<(RuleSet, Vec<Diagnostic>), EventlogError> {
    let opts = LoadOptions {
        min_level,
        ..LoadOptions::default()
    };
    if paths.is_empty() {
        return Ok(RuleSet::builtin(&opts));
    }
    for p in paths {
        std::fs::metadata(p).map_err(|e| EventlogError::io(p, e))?;
    }
    Ok(RuleSet::load(paths, &opts))
}

/// Hunts through `paths` (files or directories of EVTX/JSON logs) with the rules of `options`.
///
/// `progress` is called with bytes read as the run goes. Damaged logs are read as far as they
/// go and listed in [`HuntReport::problems`]. Errors are returned only for what stops the run:
/// a rule path that does not exist, an output that cannot be written.
pub fn hunt(
    paths: &[PathBuf],
    options: &HuntOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<HuntReport, EventlogError> {
    let (rules, diagnostics) = load_rules(&options.rules, options.min_level)?;
    let (sources, mut problems) = event_sources(paths);
    let bytes = sources.iter().map(|s| s.size).sum();
    let start = Instant::now();

    let sorter = Mutex::new(ExternalSorter::new(options.sort_memory));
    let counts: Mutex<Counts> = Mutex::new(Counts::default());
    let correlator = Mutex::new(Correlator::new(&rules));
    let analytics = Mutex::new(Analytics::default());
    let sort_error: Mutex<Option<EventlogError>> = Mutex::new(None);
    let has_correlations = !rules.correlations().is_empty();

    let stats = read_files(&sources, &options.read, &|batch| {
        progress(batch.bytes);
        let Some(file) = sources.get(batch.file) else {
            return;
        };
        let mut lines = Vec::new();
        let mut local = Counts::default();
        for e in &batch.events {
            for m in rules.matches(e) {
                if has_correlations && let Ok(mut c) = correlator.lock() {
                    c.observe(&m, e.timestamp, e);
                }
                if !m.report {
                    continue;
                }
                let d = detection(e, file, &m, batch.file);
                local.add(&m, e, file, &d.1);
                match serde_json::to_string(&d.1) {
                    Ok(line) => lines.push((d.0, line)),
                    Err(err) => {
                        if let Ok(mut slot) = sort_error.lock() {
                            slot.get_or_insert(err.into());
                        }
                    }
                }
            }
        }
        if options.analytics
            && let Ok(mut a) = analytics.lock()
        {
            for e in &batch.events {
                a.logons.observe(batch.file, e);
                a.activity.observe(batch.file, e);
            }
        }
        if let Ok(mut c) = counts.lock() {
            c.merge(local);
        }
        if !lines.is_empty()
            && let Ok(mut s) = sorter.lock()
        {
            for (k, l) in lines {
                if let Err(err) = s.push(k, l)
                    && let Ok(mut slot) = sort_error.lock()
                {
                    slot.get_or_insert(err);
                }
            }
        }
    });
    let elapsed_secs = start.elapsed().as_secs_f64();
    if let Some(err) = sort_error.into_inner().ok().flatten() {
        return Err(err);
    }

    for (file, st) in sources.iter().zip(&stats) {
        let is_json = matches!(file.kind, SourceKind::Json | SourceKind::JsonLines);
        if is_json && st.records == 0 && st.unreadable.is_none() {
            problems.push(Problem::new(
                file.display_path.clone(),
                ANALYZER_ID,
                ProblemKind::Unsupported,
                "no Windows event in this JSON file",
            ));
        } else if let Some(kind) = st.problem_kind() {
            problems.push(Problem::new(
                file.display_path.clone(),
                ANALYZER_ID,
                kind,
                st.problem_detail(),
            ));
        }
    }

    let sorter = sorter.into_inner().unwrap_or_else(|p| p.into_inner());
    write_outputs(sorter, options)?;

    let counts = counts.into_inner().unwrap_or_default();
    let correlations = correlator
        .into_inner()
        .map(|c| c.finish())
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let level = rules
                .correlations()
                .get(c.correlation)
                .map_or("informational", |r| level_word(r.meta.severity()));
            CorrelationHit {
                rule_id: c.rule_id,
                title: c.title,
                level: level.to_owned(),
                group: c.group,
                first: c.first.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                last: c.last.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                count: c.count,
            }
        })
        .collect();
    let findings = if options.analytics {
        analytics
            .into_inner()
            .map(|mut a| a.findings(&sources))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(HuntReport {
        files: sources.len(),
        bytes,
        records: stats.iter().map(|s| s.records).sum(),
        unreadable_records: stats
            .iter()
            .map(|s: &FileStats| s.record_errors + s.chunk_errors)
            .sum(),
        detections: counts.total,
        by_rule: counts.by_rule(),
        by_host: counts.by_host(),
        by_level: counts.by_level,
        correlations,
        builtin_rules: options.rules.is_empty(),
        rule_counts: rules.counts(),
        rule_diagnostics: diagnostics,
        problems,
        findings,
        elapsed_secs,
    })
}

/// The sort key and the detection of rule match `m` on `e`.
fn detection(
    e: &WinEvent,
    file: &SourceFile,
    m: &ir110_sigma::RuleMatch<'_>,
    file_index: usize,
) -> (String, Detection) {
    let rule = m.rule;
    let nanos = e.timestamp.timestamp_nanos_opt().unwrap_or(i64::MIN);
    // Offset so that the key of any time is a non-negative, fixed-width number.
    let shifted = (i128::from(nanos) - i128::from(i64::MIN)) as u128;
    let key = format!(
        "{shifted:020}{file_index:08}{:020}{:08}",
        e.record_id.unwrap_or(e.line.unwrap_or(0)),
        m.rule_ref.index()
    );
    let d = Detection {
        rule_id: rule.id.clone(),
        rule_title: rule.title.clone(),
        level: level_word(rule.severity()).to_owned(),
        timestamp: e.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        computer: e.computer.clone(),
        channel: e.channel.clone(),
        event_id: e.event_id,
        record_id: e.record_id,
        file: file.display_path.clone(),
        fields: e.data_json(),
        matched_fields: m.matched_fields(e).into_iter().map(str::to_owned).collect(),
        tags: rule.tags.clone(),
        attack: rule.attack_ids(),
        rule_path: rule.path.display().to_string(),
        recovered: e.recovered,
    };
    (key, d)
}

/// Citations kept per rule.
const MAX_RULE_EVIDENCE: usize = 20;

/// Detection counts.
#[derive(Debug, Default)]
struct Counts {
    total: u64,
    rules: HashMap<usize, RuleCount>,
    by_level: BTreeMap<String, u64>,
    hosts: HashMap<String, u64>,
}

impl Counts {
    fn add(
        &mut self,
        m: &ir110_sigma::RuleMatch<'_>,
        e: &WinEvent,
        file: &SourceFile,
        d: &Detection,
    ) {
        self.total += 1;
        let r = self
            .rules
            .entry(m.rule_ref.index())
            .or_insert_with(|| RuleCount {
                rule_id: d.rule_id.clone(),
                title: d.rule_title.clone(),
                level: d.level.clone(),
                count: 0,
                attack: d.attack.clone(),
                tags: d.tags.clone(),
                evidence: Vec::new(),
                first_seen: None,
                last_seen: None,
            });
        r.count += 1;
        let t = e.timestamp;
        r.first_seen = Some(r.first_seen.map_or(t, |f| f.min(t)));
        r.last_seen = Some(r.last_seen.map_or(t, |l| l.max(t)));
        if r.evidence.len() < MAX_RULE_EVIDENCE {
            r.evidence.push(file.source_at(e.locator()));
        }
        *self.by_level.entry(d.level.clone()).or_default() += 1;
        *self.hosts.entry(d.computer.clone()).or_default() += 1;
    }

    fn merge(&mut self, other: Counts) {
        self.total += other.total;
        for (k, r) in other.rules {
            match self.rules.get_mut(&k) {
                Some(mine) => {
                    mine.count += r.count;
                    for t in r.first_seen.into_iter().chain(r.last_seen) {
                        mine.first_seen = Some(mine.first_seen.map_or(t, |f| f.min(t)));
                        mine.last_seen = Some(mine.last_seen.map_or(t, |l| l.max(t)));
                    }
                    let room = MAX_RULE_EVIDENCE.saturating_sub(mine.evidence.len());
                    mine.evidence.extend(r.evidence.into_iter().take(room));
                }
                None => {
                    self.rules.insert(k, r);
                }
            }
        }
        for (k, n) in other.by_level {
            *self.by_level.entry(k).or_default() += n;
        }
        for (k, n) in other.hosts {
            *self.hosts.entry(k).or_default() += n;
        }
    }

    fn by_rule(&self) -> Vec<RuleCount> {
        let mut v: Vec<RuleCount> = self.rules.values().cloned().collect();
        v.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.title.cmp(&b.title))
                .then(a.rule_id.cmp(&b.rule_id))
        });
        v
    }

    fn by_host(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.hosts.iter().map(|(k, n)| (k.clone(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// Event-log files under `paths`, and problems for what is not one.
fn event_sources(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<Problem>) {
    let (files, errors) = crate::discover(paths);
    let mut problems: Vec<Problem> = errors
        .into_iter()
        .map(|(p, e)| {
            Problem::new(
                p.display().to_string(),
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            )
        })
        .collect();
    let mut sources = Vec::new();
    for p in files {
        match crate::source_file(&p) {
            Ok(s)
                if matches!(
                    s.kind,
                    SourceKind::Evtx | SourceKind::Json | SourceKind::JsonLines
                ) =>
            {
                sources.push(s);
            }
            Ok(s) => problems.push(Problem::new(
                s.display_path,
                ANALYZER_ID,
                ProblemKind::Unsupported,
                format!("not an event log ({})", s.kind.name()),
            )),
            Err(e) => problems.push(Problem::new(
                p.display().to_string(),
                ANALYZER_ID,
                ProblemKind::Unreadable,
                e.to_string(),
            )),
        }
    }
    (sources, problems)
}

/// CSV columns of the timeline.
const CSV_HEADER: &str =
    "timestamp,computer,channel,event_id,record_id,level,rule_title,rule_id,tags,file,details";

fn write_outputs(sorter: ExternalSorter, options: &HuntOptions) -> Result<(), EventlogError> {
    let open = |p: &Path| -> Result<BufWriter<std::fs::File>, EventlogError> {
        std::fs::File::create(p)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| EventlogError::io(p, e))
    };
    let mut jsonl = match &options.jsonl {
        Some(p) => Some((open(p)?, p.clone())),
        None => None,
    };
    let mut timeline_csv = None;
    let mut timeline_jsonl = None;
    if let Some(p) = &options.timeline {
        let csv = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let mut w = open(p)?;
        if csv {
            writeln!(w, "{CSV_HEADER}").map_err(|e| EventlogError::io(p, e))?;
            timeline_csv = Some((w, p.clone()));
        } else {
            timeline_jsonl = Some((w, p.clone()));
        }
    }
    if jsonl.is_none() && timeline_csv.is_none() && timeline_jsonl.is_none() {
        return Ok(());
    }
    sorter.drain(&mut |line| {
        for (w, p) in [jsonl.as_mut(), timeline_jsonl.as_mut()]
            .into_iter()
            .flatten()
        {
            w.write_all(line.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| EventlogError::io(&*p, e))?;
        }
        if let Some((w, p)) = timeline_csv.as_mut() {
            let d: Detection = serde_json::from_str(line)?;
            writeln!(w, "{}", csv_row(&d)).map_err(|e| EventlogError::io(&*p, e))?;
        }
        Ok(())
    })?;
    for (mut w, p) in [jsonl, timeline_jsonl, timeline_csv].into_iter().flatten() {
        w.flush().map_err(|e| EventlogError::io(p, e))?;
    }
    Ok(())
}

/// One CSV row (RFC 4180 quoting).
fn csv_row(d: &Detection) -> String {
    let details: Vec<String> = d
        .fields
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}: {s}"),
            other => format!("{k}: {other}"),
        })
        .collect();
    let cells = [
        d.timestamp.clone(),
        d.computer.clone(),
        d.channel.clone(),
        d.event_id.to_string(),
        d.record_id.map(|r| r.to_string()).unwrap_or_default(),
        d.level.clone(),
        d.rule_title.clone(),
        d.rule_id.clone().unwrap_or_default(),
        d.tags.join(" "),
        d.file.clone(),
        details.join(" ¦ "),
    ];
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
