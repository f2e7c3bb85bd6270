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
        MESSAGES,
    ])
}

/// Every analyzer `triage` runs, in a stable order.
pub fn all() -> Vec<Box<dyn Analyzer>> {
    vec![]
}
