//! The `mail` analyzer that `ir110 triage` runs.

use std::path::Path;

use ir110_model::{
    AnalysisContext, Analyzer, Problem, ProblemKind, Sink, SourceFile, SourceKind, TextFormat,
};

use crate::ANALYZER_ID;
use crate::analysis::{MailAnalysis, MailOptions};

/// Mail-abuse analysis of MTA logs found in evidence.
#[derive(Debug, Clone, Default)]
pub struct MailAnalyzer {
    options: MailOptions,
}

impl MailAnalyzer {
    /// An analyzer with the given options.
    pub fn new(options: MailOptions) -> Self {
        MailAnalyzer { options }
    }
}

fn mail_log_name(name: &str) -> bool {
    ["mail", "maillog", "msgtrk", "postfix", "sendmail", "exim"]
        .iter()
        .any(|m| name.contains(m))
}

impl Analyzer for MailAnalyzer {
    fn id(&self) -> &'static str {
        ANALYZER_ID
    }

    fn accepts(&self, source: &SourceFile) -> bool {
        let name = Path::new(&source.display_path)
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match source.kind {
            // Syslog files hold every daemon's lines; mail ones are named for mail
            // (`maillog`, `mail.log`) — a general `syslog`/`messages` is read too.
            SourceKind::Text(TextFormat::Syslog) => {
                mail_log_name(&name) || name.starts_with("syslog") || name.starts_with("messages")
            }
            SourceKind::Text(TextFormat::W3c) | SourceKind::Text(TextFormat::Csv) => {
                name.starts_with("msgtrk") || mail_log_name(&name)
            }
            SourceKind::Gzip => mail_log_name(&name),
            _ => false,
        }
    }

    fn analyze(&self, sources: &[SourceFile], _ctx: &AnalysisContext, sink: &dyn Sink) {
        let mut analysis = MailAnalysis::new(self.options.clone());
        for source in sources {
            match analysis.ingest_path(&source.path, source.source_ref()) {
                Ok(_) => sink.progress(source.size),
                Err(e) => analysis.problem(Problem::new(
                    source.display_path.clone(),
                    ANALYZER_ID,
                    ProblemKind::Unreadable,
                    e.to_string(),
                )),
            }
        }
        let report = analysis.finish();
        for p in report.problems {
            // A general `syslog`/`messages` file without mail lines is simply not a mail log;
            // a file named for mail without any is worth reporting.
            let name = Path::new(&p.path)
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if p.kind == ProblemKind::Unsupported && !mail_log_name(&name) {
                continue;
            }
            sink.problem(p);
        }
        for e in report.events {
            sink.event(e);
        }
        for f in report.findings {
            sink.finding(f);
        }
    }
}
