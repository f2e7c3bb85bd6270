//! The `weblog` analyzer that `ir110 triage` runs.
//!
//! Triage hands over single files. Access logs (text or gzip) are read as logs; script and
//! page files are grouped by the webroot they belong to (the folder above `wp-content`,
//! `wp-includes` or `wp-admin`, or a `public_html`/`htdocs`/`www`/`wwwroot` folder, else their
//! own folder) and scanned as one tree, so that times can be compared within a site.

use std::collections::BTreeMap;
use std::path::Path;

use ir110_model::{
    AnalysisContext, Analyzer, Problem, ProblemKind, Sink, SourceFile, SourceKind, TextFormat,
};

use crate::ANALYZER_ID;
use crate::rules::FileClass;
use crate::web_scan::{WebFile, WebOptions, WebScan};

/// Website-compromise analysis of access logs and webroot files found in evidence.
#[derive(Debug, Clone, Default)]
pub struct WebAnalyzer {
    options: WebOptions,
}

impl WebAnalyzer {
    /// An analyzer with the given options.
    pub fn new(options: WebOptions) -> Self {
        WebAnalyzer { options }
    }
}

fn name_of(source: &SourceFile) -> String {
    Path::new(&source.display_path)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

fn is_log(source: &SourceFile) -> bool {
    match source.kind {
        SourceKind::Text(TextFormat::AccessLog) => true,
        // Virtual-host-prefixed combined lines (`www.example.jp:443 1.2.3.4 - - [...`) do not
        // sniff as access logs; their names usually say what they are.
        SourceKind::Text(TextFormat::Plain) => {
            let n = name_of(source);
            n.contains("access") && n.contains("log")
        }
        // IIS logs (`u_ex260120.log`); Exchange tracking logs are W3C too but not ours.
        SourceKind::Text(TextFormat::W3c) => !name_of(source).starts_with("msgtrk"),
        SourceKind::Gzip => {
            let n = name_of(source);
            n.contains("access") || n.starts_with("u_ex") || n.starts_with("ssl_request")
        }
        _ => false,
    }
}

/// Whether a path lies in something that looks like a website.
fn in_webroot(display: &str) -> bool {
    let p = format!("/{}/", display.replace('\\', "/").to_ascii_lowercase());
    [
        "/wp-content/",
        "/wp-includes/",
        "/public_html/",
        "/htdocs/",
        "/httpdocs/",
        "/www/",
        "/wwwroot/",
        "/inetpub/",
        "/html/",
        "/webroot/",
        "/site/",
        "/sites/",
        "/web/",
    ]
    .iter()
    .any(|m| p.contains(m))
}

/// The webroot of a file, from its `/`-separated display path, and the path below it.
pub fn webroot_of(display: &str) -> (String, String) {
    let norm = display.replace('\\', "/");
    let parts: Vec<&str> = norm.split('/').collect();
    let marker = parts
        .iter()
        .position(|p| matches!(*p, "wp-content" | "wp-includes" | "wp-admin"))
        .or_else(|| {
            parts
                .iter()
                .rposition(|p| {
                    matches!(
                        p.to_ascii_lowercase().as_str(),
                        "public_html"
                            | "htdocs"
                            | "httpdocs"
                            | "www"
                            | "wwwroot"
                            | "html"
                            | "webroot"
                    )
                })
                .map(|i| i + 1)
        })
        .unwrap_or(parts.len().saturating_sub(1));
    (parts[..marker].join("/"), parts[marker..].join("/"))
}

impl Analyzer for WebAnalyzer {
    fn id(&self) -> &'static str {
        ANALYZER_ID
    }

    fn accepts(&self, source: &SourceFile) -> bool {
        if is_log(source) {
            return true;
        }
        if matches!(source.kind, SourceKind::Empty) {
            return false;
        }
        match FileClass::of(Path::new(&source.display_path)) {
            FileClass::Other => false,
            // Server-side scripts are web code wherever they are.
            FileClass::Php | FileClass::Jsp | FileClass::Aspx => true,
            // Scripts, pages and images only inside a recognisable webroot: desktop
            // applications and photo folders are not websites.
            FileClass::Js | FileClass::Html | FileClass::Image => in_webroot(&source.display_path),
        }
    }

    fn analyze(&self, sources: &[SourceFile], _ctx: &AnalysisContext, sink: &dyn Sink) {
        let mut scan = match WebScan::new(self.options.clone()) {
            Ok(s) => s,
            Err(e) => {
                for s in sources {
                    sink.problem(Problem::new(
                        s.display_path.clone(),
                        ANALYZER_ID,
                        ProblemKind::Unsupported,
                        e.to_string(),
                    ));
                }
                return;
            }
        };
        let mut roots: BTreeMap<String, Vec<WebFile>> = BTreeMap::new();
        let mut logs = Vec::new();
        for s in sources {
            if is_log(s) {
                logs.push(s);
                continue;
            }
            let (root, rel) = webroot_of(&s.display_path);
            roots.entry(root).or_default().push(WebFile {
                path: s.path.clone(),
                rel,
                display: s.display_path.clone(),
                sha256: s.sha256.clone(),
            });
        }
        for files in roots.values() {
            scan.scan_files(files, None);
            sink.progress(files.len() as u64);
        }
        for log in logs {
            if let Err(e) = scan.ingest_log_path(&log.path, log.source_ref()) {
                sink.problem(Problem::new(
                    log.display_path.clone(),
                    ANALYZER_ID,
                    ProblemKind::Unreadable,
                    e.to_string(),
                ));
            }
            sink.progress(log.size);
        }
        let report = scan.finish();
        for p in report.problems {
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
