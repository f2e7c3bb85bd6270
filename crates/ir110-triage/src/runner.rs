//! Running analyzers over discovered sources.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use ir110_model::{
    AnalysisContext, Analyzer, Event, Finding, Problem, ProblemKind, Sink, SourceFile, SourceKind,
};

use crate::{AnalyzerCoverage, Coverage, Discovery};

/// Progress of a run, reported to the caller's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes processed so far (as analyzers report them).
    pub bytes_done: u64,
    /// Bytes handed to analyzers in total (a file given to two analyzers counts twice).
    pub bytes_total: u64,
}

/// Options for [`run`].
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Facts passed to every analyzer.
    pub context: AnalysisContext,
    /// Called from analyzer threads as work advances; must be cheap.
    pub on_progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

/// Everything a triage run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, most severe first, then by first-seen time and id.
    pub findings: Vec<Finding>,
    /// Timeline events, in time order.
    pub events: Vec<Event>,
    /// What was and was not analysed.
    pub coverage: Coverage,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: DateTime<Utc>,
}

/// Collects what analyzers push. Events and findings are kept in memory: analyzers emit
/// IR-relevant events (not every log record), so the timeline stays proportionate.
struct Collector<'a> {
    events: Mutex<Vec<Event>>,
    findings: Mutex<Vec<Finding>>,
    problems: Mutex<Vec<Problem>>,
    bytes_done: AtomicU64,
    bytes_total: u64,
    on_progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking analyzer thread must not make the rest of the run lose its results.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sink for Collector<'_> {
    fn event(&self, event: Event) {
        lock(&self.events).push(event);
    }
    fn finding(&self, finding: Finding) {
        lock(&self.findings).push(finding);
    }
    fn problem(&self, problem: Problem) {
        lock(&self.problems).push(problem);
    }
    fn progress(&self, bytes: u64) {
        let done = self.bytes_done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(cb) = self.on_progress {
            cb(Progress {
                bytes_done: done,
                bytes_total: self.bytes_total,
            });
        }
    }
}

/// Runs every analyzer over the sources it accepts, in parallel, and accounts for coverage.
///
/// A panic inside one analyzer is caught and recorded as a problem for that analyzer's
/// sources; the other analyzers' results are kept.
pub fn run(discovery: Discovery, analyzers: &[&dyn Analyzer], options: &RunOptions<'_>) -> Outcome {
    let started_at = Utc::now();
    // `_packages` keeps extracted archives on disk until the analyzers are done.
    let Discovery {
        sources,
        problems,
        packages: _packages,
    } = discovery;
    let mut coverage = Coverage::default();
    let mut batches: Vec<Vec<SourceFile>> = vec![Vec::new(); analyzers.len()];
    let mut unclaimed = Vec::new();
    for source in &sources {
        coverage.count_source(source);
        let mut claimed = false;
        for (i, analyzer) in analyzers.iter().enumerate() {
            if analyzer.accepts(source) {
                batches[i].push(source.clone());
                claimed = true;
            }
        }
        if claimed {
            coverage.files_analysed += 1;
        }
        // An empty file holds nothing to analyse, even when an analyzer looks at its name or
        // times: say so, so that a truncated-to-zero file is never taken for a checked one.
        if !claimed || source.kind == SourceKind::Empty {
            unclaimed.push(unclaimed_problem(source));
        }
    }
    let bytes_total = batches.iter().flatten().map(|s| s.size).sum();
    let collector = Collector {
        events: Mutex::new(Vec::new()),
        findings: Mutex::new(Vec::new()),
        problems: Mutex::new(problems),
        bytes_done: AtomicU64::new(0),
        bytes_total,
        on_progress: options.on_progress,
    };
    rayon::scope(|scope| {
        for (analyzer, batch) in analyzers.iter().zip(&batches) {
            if batch.is_empty() {
                continue;
            }
            let collector = &collector;
            let context = &options.context;
            scope.spawn(move |_| {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    analyzer.analyze(batch, context, collector);
                }));
                if result.is_err() {
                    collector.problem(Problem::new(
                        format!("{} files", batch.len()),
                        analyzer.id(),
                        ProblemKind::Partial,
                        "the analyzer stopped unexpectedly (internal error); its results may be incomplete — please report this",
                    ));
                }
            });
        }
    });
    let Collector {
        events,
        findings,
        problems,
        ..
    } = collector;
    let mut problems = problems
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    problems.extend(unclaimed);
    let mut by_analyzer: BTreeMap<String, AnalyzerCoverage> = BTreeMap::new();
    for (analyzer, batch) in analyzers.iter().zip(&batches) {
        let entry = by_analyzer.entry(analyzer.id().to_owned()).or_default();
        entry.files += batch.len() as u64;
        entry.bytes += batch.iter().map(|s| s.size).sum::<u64>();
    }
    for p in &problems {
        if let Some(a) = p.analyzer.as_deref().and_then(|a| by_analyzer.get_mut(a)) {
            a.problems += 1;
        }
    }
    problems.sort();
    problems.dedup();
    coverage.by_analyzer = by_analyzer;
    coverage.not_analysed = problems;

    let mut findings = findings
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
    findings.dedup_by(|a, b| a.id == b.id);
    let mut events = events
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    events.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    Outcome {
        findings,
        events,
        coverage,
        started_at,
        finished_at: Utc::now(),
    }
}

fn unclaimed_problem(source: &SourceFile) -> Problem {
    let (kind, detail) = match source.kind {
        SourceKind::Empty => (
            ProblemKind::Skipped,
            "empty file (0 bytes): nothing to analyse".to_owned(),
        ),
        kind => (
            ProblemKind::Unsupported,
            format!(
                "content recognised as `{}`, which no installed analyzer reads",
                kind.name()
            ),
        ),
    };
    Problem {
        path: source.display_path.clone(),
        analyzer: None,
        kind,
        detail,
    }
}
