//! A Sigma rule engine: parser, diagnostics, compiled matcher, correlations.
//!
//! `ir110-sigma` reads Sigma rules as they are published (SigmaHQ, and Hayabusa's conventions:
//! extra keys, its modifier aliases, multiple YAML documents), reports every problem as a
//! [`Diagnostic`] with a stable code and a location, and compiles each rule into a matcher tree
//! indexed by log source, so a record meets only the rules that can match it. It knows nothing
//! about EVTX: readers implement [`Record`] for their events.
//!
//! Specification: <https://github.com/SigmaHQ/sigma-specification> (v2: rules, modifiers,
//! correlation rules).
//!
//! ```
//! use ir110_sigma::{JsonRecord, LoadOptions, RuleSet};
//!
//! let rule = r#"
//! title: Whoami
//! id: 11111111-2222-3333-4444-555555555555
//! level: medium
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection:
//!         Image|endswith: '\whoami.exe'
//!     condition: selection
//! "#;
//! let (rules, diagnostics) = RuleSet::from_sources(&[("whoami.yml", rule)], &LoadOptions::default());
//! assert!(diagnostics.is_empty());
//!
//! let record = JsonRecord::new("windows")
//!     .with("Channel", "Microsoft-Windows-Sysmon/Operational")
//!     .with("EventID", 1)
//!     .with("Image", r"C:\Windows\System32\WHOAMI.EXE");
//! let hits: Vec<_> = rules.matches(&record).map(|m| m.rule.title.as_str()).collect();
//! assert_eq!(hits, ["Whoami"]);
//! ```

mod builtin;
mod condition;
mod correlation;
mod detection;
mod diagnostic;
mod error;
mod logsource;
mod matcher;
mod modifier;
mod record;
mod rule;
mod ruleset;
mod yaml;

pub use builtin::{BuiltinRule, builtin_rules};
pub use correlation::{Correlation, CorrelationMatch, Correlator};
pub use diagnostic::{Code, Diagnostic, DiagnosticSeverity, LoadCounts, Location};
pub use error::SigmaError;
pub use logsource::LogSource;
pub use record::{FieldValue, JsonRecord, Record};
pub use rule::{CorrelationKind, CountOp, Rule};
pub use ruleset::{LoadOptions, Matches, RuleMatch, RuleRef, RuleSet, check_rules};

/// Message catalogue entries for this crate's keys (`sigma.*`), in Japanese and English.
pub const MESSAGES: &str = include_str!("../messages.toml");
