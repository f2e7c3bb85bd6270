//! The `netflow` analyzer that `ir110 triage` runs.

use std::path::Path;

use ir110_model::{
    AnalysisContext, Analyzer, Event, Problem, ProblemKind, Sink, SourceFile, SourceKind,
    TextFormat,
};

use crate::ANALYZER_ID;
use crate::analysis::{NetAnalysis, NetOptions};

/// Beacon and exfiltration analysis of flow logs found in evidence.
#[derive(Debug, Clone, Default)]
pub struct NetAnalyzer {
    options: NetOptions,
}

impl NetAnalyzer {
    /// An analyzer with the given options.
    pub fn new(options: NetOptions) -> Self {
        NetAnalyzer { options }
    }
}

fn file_name(source: &SourceFile) -> String {
    Path::new(&source.display_path)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// File names that mark a flow log whose content alone is ambiguous (CSV, JSON, gzip).
fn flow_log_name(name: &str) -> bool {
    const MARKS: [&str; 9] = [
        "conn", "traffic", "forti", "panos", "pan-os", "paloalto", "squid", "netflow", "flow",
    ];
    MARKS.iter().any(|m| name.contains(m))
}

impl Analyzer for NetAnalyzer {
    fn id(&self) -> &'static str {
        ANALYZER_ID
    }

    fn accepts(&self, source: &SourceFile) -> bool {
        let name = file_name(source);
        match source.kind {
            // Zeek writes many logs with the same header; only conn.log holds flows.
            SourceKind::Text(TextFormat::ZeekTsv) => name.starts_with("conn"),
            SourceKind::JsonLines
            | SourceKind::Text(TextFormat::Csv)
            | SourceKind::Text(TextFormat::Syslog)
            | SourceKind::Gzip => flow_log_name(&name),
            // Squid's native log is not a web-server access log: it starts with an epoch.
            SourceKind::Text(TextFormat::Plain) => {
                flow_log_name(&name) || (name.starts_with("access") && name.contains("log"))
            }
            _ => false,
        }
    }

    fn analyze(&self, sources: &[SourceFile], _ctx: &AnalysisContext, sink: &dyn Sink) {
        let mut analysis = NetAnalysis::new(self.options.clone());
        for source in sources {
            let progress = |n: u64| sink.progress(n);
            if let Err(e) = analysis.ingest_path(&source.path, source.source_ref(), &progress) {
                analysis.problem(Problem::new(
                    source.display_path.clone(),
                    ANALYZER_ID,
                    ProblemKind::Unreadable,
                    e.to_string(),
                ));
            }
        }
        let report = analysis.finish();
        if report.pairs_pruned > 0 {
            if let Some(last) = sources.last() {
                sink.problem(Problem::new(
                    last.display_path.clone(),
                    ANALYZER_ID,
                    ProblemKind::Partial,
                    format!(
                        "{} rarely used connection pairs were dropped to bound memory",
                        report.pairs_pruned
                    ),
                ));
            }
        }
        for problem in report.problems {
            // `access*.log` in plain text is accepted in case it is Squid's; when it is not
            // (a web server's log for the web analyzer), that is no gap in coverage.
            let speculative = sources.iter().any(|s| {
                s.display_path == problem.path
                    && s.kind == SourceKind::Text(TextFormat::Plain)
                    && !flow_log_name(&file_name(s))
            });
            if speculative && problem.kind == ProblemKind::Unsupported {
                continue;
            }
            sink.problem(problem);
        }
        // Timeline: where each flagged channel starts and ends.
        for pair in report
            .beacons
            .iter()
            .filter(|p| p.scores.score >= self.options.finding_threshold)
            .take(self.options.max_findings)
        {
            for (at, kind, ev) in [
                (
                    pair.first_seen,
                    "c2-beacon-first-seen",
                    pair.evidence.first(),
                ),
                (pair.last_seen, "c2-beacon-last-seen", pair.evidence.last()),
            ] {
                let Some(source) = ev.cloned() else { continue };
                sink.event(
                    Event::new(
                        at,
                        ANALYZER_ID,
                        kind,
                        source,
                        format!(
                            "{} -> {}:{} (score {:.3})",
                            pair.src, pair.dst, pair.dst_port, pair.scores.score
                        ),
                    )
                    .host(pair.src.to_string())
                    .field("source.ip", pair.src.to_string())
                    .field("destination.address", pair.dst.clone())
                    .field("destination.port", pair.dst_port),
                );
            }
        }
        for finding in report.findings {
            sink.finding(finding);
        }
    }
}
