//! Website-compromise analysis for ir110: "our website was defaced".
//!
//! Three sources, one question — who got in, when, and what did they leave:
//! - **Webroot files** ([`WebScan::scan_files`]): our own YARA rules run by `yara-x`
//!   ([`YaraRules`], `rules/*.yar`; user folders of `.yar`/`.yara` files, or the older TOML
//!   [`RuleSet`] format) for PHP/JSP/ASPX webshells, obfuscation, droppers,
//!   code hidden in images and JavaScript card skimmers (form grabbing sent to foreign
//!   domains — reportable under APPI since April 2024 even when the site stores no card data),
//!   plus heuristics: long base64 blobs, scripts in upload folders, recently changed code among
//!   old files, modification times older than status-change times.
//! - **Baselines** ([`build_baseline`], [`Baseline::compare`]): files added, changed and removed.
//! - **Access logs** (Apache/nginx combined, IIS W3C, gzip-rotated): attack requests
//!   ([`AttackKind`]), attacker addresses with sessions, and the **first compromise** — the
//!   request that created or first reached each malicious file, joined with its times.
//!
//! Findings are `web-compromise` and cite files and log lines. Nothing is written to the
//! webroot; files are opened read-only.
//!
//! ```no_run
//! use ir110_weblog::{WebOptions, scan};
//! use std::path::Path;
//! let report = scan(Some(Path::new("/srv/www")), None, &["/var/log/nginx/access.log".into()], WebOptions::default())?;
//! for c in &report.first_compromises {
//!     println!("{} created by {:?}", c.file, c.creating_request.as_ref().map(|r| &r.request));
//! }
//! # Ok::<(), ir110_weblog::WebError>(())
//! ```

mod access_log;
mod analyzer;
mod attack_patterns;
mod baseline;
mod demo;
mod file_scan;
mod line_blocks;
mod rules;
mod web_scan;
mod yara_rules;

use std::path::PathBuf;

pub use access_log::HttpRequest;
pub use analyzer::{WebAnalyzer, webroot_of};
pub use attack_patterns::{AttackKind, classify};
pub use baseline::{
    BASELINE_FORMAT, Baseline, BaselineDiff, BaselineEntry, FileChange, build_baseline,
};
pub use demo::{AttackTimeline, attack_access_log, clean_site, demo_files, planted_files};
pub use file_scan::{FileTimes, FileVerdict, Reason};
pub use rules::{FileClass, Rule, RuleSet};
pub use web_scan::{
    Attacker, FirstCompromise, LogSummary, RequestRef, WebFile, WebOptions, WebReport, WebScan,
    scan, webroot_files,
};
pub use yara_rules::{BUILTIN_YARA_RULES, RuleFileError, StringMatch, YaraRules};

/// The analyzer id used in findings, events and problems.
pub const ANALYZER_ID: &str = "weblog";

/// Message catalogue entries for this crate's keys (`web.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

/// Errors that stop a call; per-file trouble is a [`ir110_model::Problem`] in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The webroot could not be walked.
    #[error("cannot walk {path}: {detail}")]
    Walk {
        /// The root.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A rule file is invalid.
    #[error("invalid rule file {origin}: {detail}")]
    Rule {
        /// The file (or `builtin`).
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// A baseline manifest is invalid.
    #[error("invalid baseline {path}: {detail}")]
    Baseline {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}
