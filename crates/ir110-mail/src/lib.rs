//! Mail-abuse analysis for ir110: "Emotet is sending mail from our addresses".
//!
//! Reads Postfix and sendmail syslog (joining each message's lines by queue id) and Exchange
//! message-tracking logs, streams them in bounded memory, and follows every sending account:
//! volume per hour, bursts, new recipient domains, SASL logins from new networks, bounce
//! storms and mismatched envelope/header senders.
//!
//! The first thing a responder needs is the [`MailVerdict`]: **an account of ours is being
//! used to send** (reset it, check its PC — JPCERT/CC EmoCheck — hold the queue) versus **our
//! addresses are only spoofed elsewhere** (the mail never passed our server; we only see
//! bounces for it — publish SPF/DKIM/DMARC, warn correspondents). Findings are `mail-abuse`
//! and cite log lines.
//!
//! ```no_run
//! use ir110_mail::{MailOptions, analyze_paths};
//! let report = analyze_paths(&["/var/log/maillog".into()], MailOptions::default());
//! println!("{:?}: {:?}", report.verdict, report.abused_accounts);
//! ```

mod analysis;
mod analyzer;
mod block_parse;
mod demo;
mod exchange;
mod mta_event;
mod queue_join;
mod syslog_line;

use std::path::PathBuf;

pub use analysis::{
    AccountSummary, DailyVolume, FileSummary, MailAnalysis, MailOptions, MailReport, MailVerdict,
    ReportedMessage, analyze_paths,
};
pub use analyzer::MailAnalyzer;
pub use demo::{AbuseSpec, MailSpec, demo_files, synthesize_maillog};
pub use mta_event::{RecipientStatus, domain_of};
pub use queue_join::{MailMessage, Recipient};

/// The analyzer id used in findings, events and problems.
pub const ANALYZER_ID: &str = "mail";

/// Message catalogue entries for this crate's keys (`mail.*`).
pub const MESSAGES: &str = include_str!("../messages.toml");

/// Errors that stop a call; per-file trouble is a [`ir110_model::Problem`] in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}
