//! The analyzers `triage` runs and the message catalogue of every crate: the one place where
//! the capability crates are wired in.

use ir110_model::{Analyzer, Catalog, CatalogError};

/// Messages of the CLI itself.
const MESSAGES: &str = include_str!("../messages.toml");

/// Every crate's messages, merged.
pub fn catalog() -> Result<Catalog, CatalogError> {
    Catalog::from_sources(&[
        ir110_model::MESSAGES,
        ir110_report::MESSAGES,
        ir110_playbook::MESSAGES,
        ir110_evidence::MESSAGES,
        ir110_eventlog::MESSAGES,
        ir110_sigma::MESSAGES,
        ir110_mail::MESSAGES,
        ir110_netflow::MESSAGES,
        ir110_ransomware::MESSAGES,
        ir110_weblog::MESSAGES,
        ir110_server::MESSAGES,
        MESSAGES,
    ])
}

/// Every analyzer `triage` runs, in a stable order.
pub fn all() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(ir110_ransomware::RansomwareAnalyzer::new()),
        Box::new(ir110_eventlog::EventLogAnalyzer::default()),
        Box::new(ir110_mail::MailAnalyzer::new(
            ir110_mail::MailOptions::default(),
        )),
        Box::new(ir110_netflow::NetAnalyzer::new(
            ir110_netflow::NetOptions::default(),
        )),
        Box::new(ir110_weblog::WebAnalyzer::new(
            ir110_weblog::WebOptions::default(),
        )),
    ]
}
