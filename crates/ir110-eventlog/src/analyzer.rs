//! The `eventlog` triage analyzer: reads every accepted log, pushes IR-relevant records to the
//! timeline and draws the logon and activity findings across all files.

use std::sync::Mutex;

use ir110_model::{AnalysisContext, Analyzer, Finding, Problem, Sink, SourceFile, SourceKind};

use crate::activity_analytics::ActivityAnalytics;
use crate::logon_analytics::{LogonAnalytics, LogonThresholds};
use crate::timeline_events::timeline_event;
use crate::{ANALYZER_ID, ReadOptions, read_files};

/// The Windows event log analyzer.
///
/// Accepts every EVTX file and every JSON or JSON-lines file: deciding whether a JSON file holds
/// Windows events needs its content, and [`Analyzer::accepts`] must not do I/O. A JSON file that
/// turns out to hold no Windows event (a Zeek, mail or cloud export) is left alone: no event, no
/// finding and **no problem** is reported for it, because another analyzer may own it and
/// triage's coverage accounting would otherwise call it damaged. A JSON file that holds Windows
/// events and also broken lines gets a `Corrupt` problem with counts.
#[derive(Debug, Clone, Default)]
pub struct EventLogAnalyzer {
    /// How to read.
    pub read: ReadOptions,
    /// Thresholds of the logon analytics.
    pub thresholds: LogonThresholds,
}

/// Everything the analytics learned, with the file list the indices refer to.
#[derive(Debug, Default)]
pub struct Analytics {
    /// Logons, brute force, external sources, lateral movement.
    pub logons: LogonAnalytics,
    /// Services, tasks, cleared logs, Defender, PowerShell.
    pub activity: ActivityAnalytics,
}

impl Analytics {
    /// All findings, most severe first, then by rule and id.
    pub fn findings(&mut self, files: &[SourceFile]) -> Vec<Finding> {
        let mut out = self.logons.findings(files);
        out.extend(self.activity.findings(files));
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.rule.cmp(&b.rule))
                .then(a.id.cmp(&b.id))
        });
        out
    }
}

impl EventLogAnalyzer {
    /// Reads `sources`, pushes timeline events, problems and progress into `sink`, and returns
    /// the analytics (for callers that want the graph or the findings themselves).
    pub fn run(&self, sources: &[SourceFile], ctx: &AnalysisContext, sink: &dyn Sink) -> Analytics {
        // One accumulator per worker would avoid the lock, but a batch is a whole 64 KiB chunk:
        // the lock is taken a few thousand times per GiB, which costs nothing measurable.
        let analytics = Mutex::new(Analytics::default());
        let stats = read_files(sources, &self.read, &|batch| {
            sink.progress(batch.bytes);
            let Some(file) = sources.get(batch.file) else {
                return;
            };
            for e in &batch.events {
                if let Some(ev) = timeline_event(e, file, ctx.host.as_deref()) {
                    sink.event(ev);
                }
            }
            if let Ok(mut a) = analytics.lock() {
                for e in &batch.events {
                    a.logons.observe(batch.file, e);
                    a.activity.observe(batch.file, e);
                }
            }
        });
        for (file, st) in sources.iter().zip(&stats) {
            let is_json = matches!(file.kind, SourceKind::Json | SourceKind::JsonLines);
            // Not ours: valid or invalid JSON without a single Windows event.
            if is_json && st.records == 0 {
                continue;
            }
            if let Some(kind) = st.problem_kind() {
                sink.problem(Problem::new(
                    file.display_path.clone(),
                    ANALYZER_ID,
                    kind,
                    st.problem_detail(),
                ));
            }
        }
        analytics.into_inner().unwrap_or_default()
    }
}

impl Analyzer for EventLogAnalyzer {
    fn id(&self) -> &'static str {
        ANALYZER_ID
    }

    fn accepts(&self, source: &SourceFile) -> bool {
        matches!(
            source.kind,
            SourceKind::Evtx | SourceKind::JsonLines | SourceKind::Json
        )
    }

    fn analyze(&self, sources: &[SourceFile], ctx: &AnalysisContext, sink: &dyn Sink) {
        let mut analytics = self.run(sources, ctx, sink);
        for f in analytics.findings(sources) {
            sink.finding(f);
        }
    }
}
