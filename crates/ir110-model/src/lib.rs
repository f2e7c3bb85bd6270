//! The shared vocabulary of ir110.
//!
//! Every analyzer, the store, the reports and the server speak in these types. The crate does no
//! I/O: it defines data, the [`Analyzer`] contract that `ir110 triage` runs, and the message
//! [`Catalog`] through which every text a person reads is rendered in Japanese or English.
//!
//! The JSON form of these types is a public, versioned contract (see [`SCHEMA_VERSION`] and
//! `docs/schema.md`): other tools read `report.json` and the JSONL exports.
//!
//! ```
//! use ir110_model::{Finding, Severity, Category, Message};
//! let f = Finding::new("demo", "demo.example", Severity::High, Category::Ransomware,
//!     Message::new("demo.title").arg("count", 3));
//! assert_eq!(f.severity, Severity::High);
//! assert_eq!(serde_json::to_value(&f).unwrap()["category"], "ransomware");
//! ```

mod analyzer;
mod canonical_json;
mod case;
mod event;
mod finding;
pub mod line_blocks;
mod message;

pub use analyzer::{
    AnalysisContext, Analyzer, MemorySink, Problem, ProblemKind, Sink, SourceFile, SourceKind,
    TextFormat,
};
pub use canonical_json::canonical_json;
pub use case::{
    Case, CaseSummary, Client, EvidenceItem, Host, IncidentType, LogEntry, ParseEnumError, Phase,
    Policy, PolicyDecision,
};
pub use event::{Event, SourceRef};
pub use finding::{Category, Confidence, Finding, Severity};
pub use message::{Catalog, CatalogError, Lang, Message};

/// Version of the JSON form of the model (events, findings, reports). Bumped on any change that
/// a reader could notice: minor for additions, major for removals or changed meaning.
pub const SCHEMA_VERSION: &str = "1.0";

/// Message catalogue entries for the model's own keys (severities, categories, phases, …).
pub const MESSAGES: &str = include_str!("../messages.toml");
